"""Saving and loading :class:`~latentlab.hotstart.Checkpoint` files.

Files are ``.npz`` (NumPy, ``allow_pickle=False``) or ``.pt`` (torch,
``weights_only=True``): loading never executes code from the file. Each file
holds a JSON header and the arrays. The header records

* ``format``: ``"latentlab-checkpoint-<n>"``; a file without it, with another
  name, or with a format version newer than this package reads is refused;
* ``version``: the package version that wrote it; a newer major version (for
  0.x: a newer minor version) or a string that is not a version is refused;
* ``content_hash``: SHA-256 over every array and metadata field.

What the hash promises: the SHA-256 detects **accidental corruption** (a
truncated copy, flipped bits, a hand edit that forgot the hash). It does not
prove **authenticity**: anyone who can write the file can also recompute an
unkeyed hash. Pass ``key`` to :func:`save_checkpoint` and :func:`load_checkpoint`
to add and require an HMAC-SHA256 tag keyed by a secret; only holders of the key
can then produce a file that loads.

Writes are atomic: the file is written to a temporary name in the same folder
and moved into place with :func:`os.replace`, so a crash never leaves a
half-written checkpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from packaging.version import InvalidVersion, Version

from latentlab import __version__
from latentlab._validation import check_integer
from latentlab.hotstart.checkpoints import _ARRAYS, Checkpoint

__all__ = ["FORMAT", "FORMAT_VERSION", "save_checkpoint", "load_checkpoint"]

#: Name and version of the on-disk layout this package writes and reads.
FORMAT, FORMAT_VERSION = "latentlab-checkpoint", 1
_HEADER_KEYS = {"format", "version", "content_hash", "signature_labels", "metadata"}
_ARRAY_KEYS = set(_ARRAYS) | {"kappa", "healthy_mean"}


def _format_for(path: Path, fmt: str | None) -> str:
    if fmt is None:
        fmt = {".npz": "npz", ".pt": "torch", ".pth": "torch"}.get(path.suffix)
        if fmt is None:
            raise ValueError(
                f"path must end in .npz, .pt or .pth (or pass fmt), got {path.name!r}"
            )
    if fmt not in ("npz", "torch"):
        raise ValueError(f"fmt must be 'npz' or 'torch', got {fmt!r}")
    return fmt


def _check_key(key) -> bytes | None:
    if key is None:
        return None
    if isinstance(key, str):
        key = key.encode()
    if not isinstance(key, (bytes, bytearray)) or len(key) == 0:
        raise TypeError(f"key must be non-empty bytes or str, got {type(key).__name__}")
    return bytes(key)


def _tag(key: bytes, content_hash: str) -> str:
    return hmac.new(
        key, f"{FORMAT}-{FORMAT_VERSION}|{content_hash}".encode(), hashlib.sha256
    ).hexdigest()


def save_checkpoint(
    checkpoint: Checkpoint,
    path: str | os.PathLike,
    *,
    fmt: str | None = None,
    key: bytes | str | None = None,
) -> str:
    """Write a checkpoint atomically (temporary file + ``os.replace``); return its content hash.

    Parameters
    ----------
    checkpoint : Checkpoint
    path : path ending in ``.npz`` (NumPy) or ``.pt``/``.pth`` (torch)
    fmt : {"npz", "torch"}, optional
        Overrides the suffix.
    key : bytes or str, optional
        Secret for an HMAC-SHA256 tag (authenticity; see the module notes).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from latentlab.hotstart import Checkpoint, save_checkpoint, load_checkpoint
    >>> ckpt = Checkpoint(phi=np.zeros((2, 3, 4)), psi=np.zeros((2, 3)), gamma=np.zeros((1, 1)),
    ...     kappa=1.0, prevalence_logit=np.zeros((3, 4)), reference_logit=np.zeros((1, 4)),
    ...     covariate_mean=np.zeros(1), covariate_scale=np.ones(1), signature_labels=("s0", "healthy"))
    >>> path = os.path.join(tempfile.mkdtemp(), "master.npz")
    >>> digest = save_checkpoint(ckpt, path, key=b"lab secret")
    >>> load_checkpoint(path, n_diseases=3, n_times=4, key=b"lab secret").content_hash() == digest
    True
    """
    if not isinstance(checkpoint, Checkpoint):
        raise TypeError(
            f"checkpoint must be a Checkpoint, got {type(checkpoint).__name__}"
        )
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    key = _check_key(key)
    path = Path(path)
    fmt = _format_for(path, fmt)
    digest = checkpoint.content_hash()
    fields = {
        **checkpoint._meta(),
        "content_hash": digest,
        "format": f"{FORMAT}-{FORMAT_VERSION}",
    }
    if key is not None:
        fields["hmac_sha256"] = _tag(key, digest)
    header = json.dumps(fields)
    arrays = checkpoint._arrays()
    handle, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            if fmt == "npz":
                np.savez(stream, __header__=np.array(header), **arrays)
            else:
                import torch

                payload = {
                    "header": header,
                    "arrays": {
                        k: torch.from_numpy(np.array(v)) for k, v in arrays.items()
                    },
                }
                torch.save(payload, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.remove(tmp_name)
        raise
    return digest


def _read(path: Path, fmt: str) -> tuple[dict, dict[str, np.ndarray]]:
    if fmt == "npz":
        with np.load(path, allow_pickle=False) as archive:
            header = json.loads(str(archive["__header__"]))
            arrays = {
                k: np.array(archive[k]) for k in archive.files if k != "__header__"
            }
    else:
        import torch

        payload = torch.load(path, map_location="cpu", weights_only=True)
        header = json.loads(payload["header"])
        arrays = {k: v.numpy() for k, v in payload["arrays"].items()}
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    return header, arrays


def _release(version: Version) -> tuple[int, ...]:
    """The part of a version that must not be newer than ours (major; major.minor for 0.x)."""
    return (version.major,) if version.major > 0 else (0, version.minor)


def _check_header(where: str, header: dict, arrays: dict) -> None:
    fmt = header.get("format")
    if fmt is None:
        raise ValueError(
            f"{where} has no 'format' field; expected '{FORMAT}-{FORMAT_VERSION}' "
            "(not a latentlab checkpoint, or written by an unreleased version)"
        )
    prefix = f"{FORMAT}-"
    number = (
        fmt[len(prefix) :] if isinstance(fmt, str) and fmt.startswith(prefix) else ""
    )
    if not number.isdigit():
        raise ValueError(
            f"{where} has unknown format {fmt!r}; expected '{FORMAT}-{FORMAT_VERSION}'"
        )
    if int(number) > FORMAT_VERSION:
        raise ValueError(
            f"{where} has format version {number}, newer than this latentlab reads "
            f"({FORMAT_VERSION}); upgrade latentlab"
        )
    try:
        written = Version(str(header.get("version")))
    except InvalidVersion:
        raise ValueError(
            f"{where} records version {header.get('version')!r}, which is not a "
            "latentlab version"
        ) from None
    if _release(written) > _release(Version(__version__)):
        raise ValueError(
            f"{where} was written by latentlab {written}, newer than this one "
            f"({__version__}); upgrade latentlab to read it"
        )
    missing = sorted((_HEADER_KEYS - set(header)) | (_ARRAY_KEYS - set(arrays)))
    unknown = sorted(
        (set(header) - _HEADER_KEYS - {"hmac_sha256"})
        | (set(arrays) - _ARRAY_KEYS - {"lam"})
    )
    if missing or unknown:
        parts = ([f"missing key(s) {missing}"] if missing else []) + (
            [f"unknown key(s) {unknown}"] if unknown else []
        )
        raise ValueError(
            f"{where} has " + " and ".join(parts) + " (renamed or edited by hand?)"
        )


def load_checkpoint(
    path: str | os.PathLike,
    *,
    fmt: str | None = None,
    n_diseases: int | None = None,
    n_times: int | None = None,
    n_covariates: int | None = None,
    n_signatures: int | None = None,
    data=None,
    key: bytes | str | None = None,
) -> Checkpoint:
    """Read a checkpoint, check its format, version, keys and content hash, then its shapes.

    Pass the dimensions to check (``n_diseases`` D, ``n_times`` T,
    ``n_covariates`` P, ``n_signatures`` K+1), or ``data`` (a
    :class:`~latentlab.signatures.SurvivalData`): then D, T and P are always
    taken from it and checked (a dimension passed as well must agree with it).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    TypeError
        If a dimension is not an integer, ``data`` is not a SurvivalData, or
        ``key`` is not bytes/str.
    ValueError
        If the file is unreadable; has no, an unknown or a newer ``format``; was
        written by a newer latentlab; has missing or unknown keys (named); fails
        its content-hash check (corrupted); fails the HMAC check when ``key`` is
        given; or a dimension (D, T, P, K+1) differs from the checkpoint's.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    key = _check_key(key)
    wanted = {
        "n_diseases": n_diseases,
        "n_times": n_times,
        "n_covariates": n_covariates,
        "n_signatures": n_signatures,
    }
    wanted = {
        k: None if v is None else check_integer(v, k, minimum=1)
        for k, v in wanted.items()
    }
    if data is not None:
        from latentlab.signatures.data import SurvivalData

        if not isinstance(data, SurvivalData):
            raise TypeError(f"data must be a SurvivalData, got {type(data).__name__}")
        for name in ("n_diseases", "n_times", "n_covariates"):
            given = getattr(data, name)
            if wanted[name] is not None and wanted[name] != given:
                raise ValueError(
                    f"{name}={wanted[name]} disagrees with data, which has {given}"
                )
            wanted[name] = given
    path = Path(path)
    fmt = _format_for(path, fmt)
    where = f"checkpoint file {str(path)!r}"
    if not path.exists():
        raise FileNotFoundError(f"{where} does not exist")
    try:
        header, arrays = _read(path, fmt)
    except Exception as exc:  # a truncated zip, bad JSON, a pickle payload ...
        raise ValueError(f"{where} is unreadable or corrupted: {exc}") from exc
    _check_header(where, header, arrays)
    try:
        checkpoint = Checkpoint(
            **{name: arrays[name] for name in _ARRAYS},
            kappa=float(arrays["kappa"]),
            healthy_mean=float(arrays["healthy_mean"]),
            lam=arrays.get("lam"),
            signature_labels=tuple(header["signature_labels"]),
            metadata=header["metadata"],
            version=header["version"],
        )
    except (
        TypeError,
        ValueError,
    ) as exc:  # wrong shapes or values inside a well-formed file
        raise ValueError(f"{where} holds invalid values: {exc}") from exc
    if checkpoint.content_hash() != header["content_hash"]:
        raise ValueError(
            f"{where} failed its content-hash check (corrupted or edited); "
            "re-create it with save_checkpoint"
        )
    if key is not None:
        tag = header.get("hmac_sha256")
        if not isinstance(tag, str):
            raise ValueError(
                f"{where} carries no HMAC tag, but key was given; it was saved without "
                "a key, so its authenticity cannot be checked"
            )
        if not hmac.compare_digest(tag, _tag(key, header["content_hash"])):
            raise ValueError(
                f"{where} failed its HMAC check: written with another key, or altered"
            )
    checkpoint.check_compatible(**wanted)
    return checkpoint
