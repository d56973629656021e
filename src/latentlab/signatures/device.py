"""Device handling of the signature model: checking ``device=`` and sizing chunks.

Every tensor of a fit lives on one device, chosen once by :func:`resolve_device`
(``None`` means "where the inputs are", which for numpy inputs is the CPU).
The fused likelihood processes individuals in chunks; :func:`auto_chunk_size`
picks the chunk of the person-major kernel from the device: a few dozen people on
a CPU (the chunk's work buffers then stay in cache), thousands on a GPU (sized
from its free memory). On a CPU, :func:`~latentlab.signatures.signature_nll` uses
the age-major kernel by default instead, in blocks of
``latentlab.signatures._kernel.CPU_BLOCK`` (512) people; this chunk size then only
applies when that layout is switched off.
"""

from __future__ import annotations

import numbers

import torch

from latentlab._results import read_results

__all__ = [
    "resolve_device",
    "auto_chunk_size",
    "gpu_results",
    "CPU_CHUNK",
    "GPU_CHUNK_MAX",
]

#: Individuals per chunk of the person-major kernel on a CPU: three (T, 64, D)
#: float32 buffers at T = 52, D = 348 take 14 MB, which stays in the last-level
#: cache (the default age-major CPU kernel uses its own blocks of 512).
CPU_CHUNK = 64
#: Largest chunk on a GPU (beyond it the kernels are already saturated).
GPU_CHUNK_MAX = 8192
#: Fraction of the GPU's free memory the chunk buffers may take.
GPU_MEMORY_FRACTION = 0.25


def resolve_device(device, default: torch.device | None = None) -> torch.device:
    """Check a ``device`` argument and return it as a :class:`torch.device`.

    Parameters
    ----------
    device : str, torch.device or None
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, a :class:`torch.device`, or None
        for ``default`` (the CPU if that is None too).
    default : torch.device, optional
        The device used when ``device`` is None (e.g. that of the inputs).

    Raises
    ------
    TypeError
        If ``device`` is neither a string, a :class:`torch.device` nor None.
    ValueError
        If the string is not a device torch knows, or names a CUDA device
        that this machine does not have.

    Examples
    --------
    >>> from latentlab.signatures.device import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device(None)
    device(type='cpu')
    """
    if device is None:
        return torch.device("cpu") if default is None else torch.device(default)
    if not isinstance(device, (str, torch.device)):
        raise TypeError(
            f"device must be a str, a torch.device or None, got {type(device).__name__}"
        )
    try:
        resolved = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(
            f"device must name a torch device such as 'cpu' or 'cuda:0', got {device!r}"
        ) from exc
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} asks for CUDA, but no CUDA GPU is available"
            )
        index = 0 if resolved.index is None else resolved.index
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r}: this machine has {torch.cuda.device_count()} CUDA "
                f"device(s), indices 0 … {torch.cuda.device_count() - 1}"
            )
    elif resolved.type != "cpu":
        raise ValueError(f"device must be a CPU or CUDA device, got {device!r}")
    return resolved


def auto_chunk_size(
    n_individuals: int,
    n_diseases: int,
    n_times: int,
    dtype: torch.dtype,
    device: torch.device,
) -> int:
    """Individuals per likelihood chunk for this device.

    On a CPU: :data:`CPU_CHUNK`. On a GPU: as many as fit in a quarter of
    the free memory with three (T, chunk, D) work buffers, at most
    :data:`GPU_CHUNK_MAX` and never more than ``n_individuals``.

    Examples
    --------
    >>> import torch
    >>> from latentlab.signatures.device import auto_chunk_size
    >>> auto_chunk_size(10_000, 348, 52, torch.float32, torch.device("cpu"))
    64
    """
    for name, value in (("n_individuals", n_individuals), ("n_diseases", n_diseases), ("n_times", n_times)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise TypeError(f"{name} must be a non-negative integer, got {value!r}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    n_individuals = max(int(n_individuals), 1)
    if torch.device(device).type != "cuda":
        return min(CPU_CHUNK, n_individuals)
    free, _ = torch.cuda.mem_get_info(device)
    itemsize = torch.empty((), dtype=dtype, device="meta").element_size()
    per_person = 3 * n_times * n_diseases * itemsize
    fits = int(GPU_MEMORY_FRACTION * free // max(per_person, 1))
    return max(1, min(GPU_CHUNK_MAX, n_individuals, max(fits, 64)))


def gpu_results(path=None) -> dict | None:
    """The GPU benchmark's results, or None where it has not been run on a GPU yet.

    Reads ``benchmarks/results/signatures_gpu.json`` (written by
    ``benchmarks/signatures_gpu.py`` on a machine with a CUDA GPU). A book page
    quotes its numbers from here, never typed.

    Parameters
    ----------
    path : str or Path, optional
        The JSON file; default: ``benchmarks/results/signatures_gpu.json`` of
        the repository this package lives in.

    Returns
    -------
    dict or None
        The parsed file (keys ``device``, ``runs``, …; each run has ``n_individuals``,
        ``fit_s``, ``peak_gpu_gib`` …), or None when the file does not exist or
        holds no measured run.

    Examples
    --------
    >>> from latentlab.signatures import gpu_results
    >>> gpu_results("no/such/file.json") is None
    True
    """
    return read_results(path, "signatures_gpu.json", lambda payload: bool(payload.get("runs")))


def kernel_status() -> str:
    """Which CPU steps the float32 signature likelihood runs, and why.

    The per-age loop, θ = softmax(λ), the write-back of ∂/∂λ and the λ prior run
    as compiled C (``signatures/_native.c``, built with the machine's C compiler
    on first use and cached in ``$LATENTLAB_CACHE`` or ``~/.cache/latentlab``)
    where that works, else as torch operations with the same results to float32
    round-off. ``LATENTLAB_NATIVE=0`` switches the C parts off. float64 fits and
    GPUs always use torch operations.

    Returns
    -------
    str
        "compiled loop and λ prior in use (…)" or the reason torch operations are
        used (no C compiler, no ``sgemm_`` in torch's CPU library, switched off,
        the compiler failed).

    Examples
    --------
    >>> from latentlab.signatures import kernel_status
    >>> kernel_status().startswith(("compiled", "no C", "switched", "not", "torch", "the"))
    True
    """
    from latentlab.signatures import _native

    return _native.status()
