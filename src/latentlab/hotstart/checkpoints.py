"""Checkpoints of a fitted signature model, and pooling batch checkpoints into a master.

A :class:`Checkpoint` holds what a later λ-only fit needs: the signature logits
φ, the association ψ, the genetic effects γ, the scalar κ, the prevalence logit
μ, the λ reference trajectories r_k(t), the signature labels and the covariate
standardisation used in training (so that new G is standardised the same way,
never re-standardised). Optional per-person λ can ride along.

Saving and loading live in :mod:`~latentlab.hotstart.checkpoint_io` (re-exported
here): ``.npz`` or ``.pt`` files with a format tag, the package version and a
SHA-256 content hash, which detects corruption but not deliberate tampering (an
optional keyed HMAC does that).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from latentlab import __version__
from latentlab._validation import check_array, check_integer

__all__ = [
    "Checkpoint",
    "checkpoint_from_fit",
    "covariate_standardisation",
    "save_checkpoint",
    "load_checkpoint",
    "pool_checkpoints",
]

_ARRAYS = ("phi", "psi", "gamma", "prevalence_logit", "reference_logit",
           "covariate_mean", "covariate_scale")


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """Parameters of a fitted signature model, with the metadata needed to reuse them.

    Attributes
    ----------
    phi : ndarray of shape (K+1, D, T)
        Signature logits (healthy signature last).
    psi : ndarray of shape (K+1, D)
    gamma : ndarray of shape (P, K)
        Genetic effects on λ of the K disease signatures, in units of
        standardised G (the healthy signature has none).
    kappa : float
    prevalence_logit : ndarray of shape (D, T)
        μ, the training cohort's smoothed at-risk prevalence logit.
    reference_logit : ndarray of shape (K, T)
        r_k(t), the λ prior mean of the disease signatures before genetics.
    covariate_mean, covariate_scale : ndarray of shape (P,)
        Training standardisation: G_std = (G − mean) / scale.
    signature_labels : tuple of str, length K+1
    lam : ndarray of shape (N, K+1, T), optional
        Fitted per-person λ (batch checkpoints only).
    healthy_mean : float
        λ prior mean of the healthy signature (index K; −5 in the reference).
    metadata : dict
        JSON-serialisable extras (e.g. which batches were pooled).
    version : str
        Package version that wrote the checkpoint.
    """

    phi: np.ndarray
    psi: np.ndarray
    gamma: np.ndarray
    kappa: float
    prevalence_logit: np.ndarray
    reference_logit: np.ndarray
    covariate_mean: np.ndarray
    covariate_scale: np.ndarray
    signature_labels: tuple[str, ...]
    lam: np.ndarray | None = None
    healthy_mean: float = -5.0
    metadata: dict[str, Any] = field(default_factory=dict)
    version: str = __version__

    def __post_init__(self) -> None:
        phi = check_array(self.phi, "phi", ndim=3)
        n_sig, n_dis, n_times = phi.shape
        object.__setattr__(self, "phi", phi)
        expected = {
            "psi": (n_sig, n_dis),
            "gamma": (None, n_sig - 1),
            "prevalence_logit": (n_dis, n_times),
            "reference_logit": (n_sig - 1, n_times),
        }
        for name, shape in expected.items():
            object.__setattr__(self, name, check_array(getattr(self, name), name, shape=shape))
        n_cov = self.gamma.shape[0]
        for name in ("covariate_mean", "covariate_scale"):
            object.__setattr__(self, name, check_array(getattr(self, name), name, shape=(n_cov,)))
        if np.any(self.covariate_scale <= 0):
            raise ValueError("covariate_scale must be > 0 for every covariate")
        kappa = float(self.kappa)
        if not np.isfinite(kappa) or kappa <= 0:
            raise ValueError(f"kappa must be a finite positive number, got {self.kappa}")
        object.__setattr__(self, "kappa", kappa)
        object.__setattr__(self, "healthy_mean", float(self.healthy_mean))
        labels = tuple(str(label) for label in self.signature_labels)
        if len(labels) != n_sig:
            raise ValueError(
                f"signature_labels must have one label per signature ({n_sig}), got {len(labels)}"
            )
        object.__setattr__(self, "signature_labels", labels)
        if self.lam is not None:
            lam = check_array(self.lam, "lam", shape=(None, n_sig, n_times))
            object.__setattr__(self, "lam", lam)
        json.dumps(self.metadata)  # must be JSON-serialisable
        object.__setattr__(self, "metadata", dict(self.metadata))

    @property
    def shape(self) -> dict[str, int]:
        """The model dimensions: signatures (K+1), diseases D, times T, covariates P."""
        n_sig, n_dis, n_times = self.phi.shape
        return {"n_signatures": n_sig, "n_diseases": n_dis, "n_times": n_times,
                "n_covariates": self.gamma.shape[0]}

    def content_hash(self) -> str:
        """SHA-256 over every array (dtype, shape, bytes) and every metadata field."""
        digest = hashlib.sha256()
        for name, array in sorted(self._arrays().items()):
            array = np.ascontiguousarray(array, dtype=np.float64)
            digest.update(f"{name}|{array.shape}|".encode())
            digest.update(array.tobytes())
        digest.update(json.dumps(self._meta(), sort_keys=True).encode())
        return digest.hexdigest()

    def standardise(self, covariates) -> np.ndarray:
        """Standardise new covariates with the TRAINING mean and scale (never re-fitted)."""
        G = check_array(covariates, "covariates", ndim=2)
        if G.shape[1] != self.gamma.shape[0]:
            raise ValueError(
                f"covariates must have {self.gamma.shape[0]} columns (as in training), got {G.shape[1]}"
            )
        return (G - self.covariate_mean) / self.covariate_scale

    def check_compatible(self, *, n_diseases: int | None = None, n_times: int | None = None,
                         n_covariates: int | None = None, n_signatures: int | None = None) -> None:
        """Raise ``ValueError`` naming every dimension that differs from the data's.

        A dimension that is not a positive integer raises ``TypeError``/``ValueError``.
        """
        wanted = {"n_diseases": n_diseases, "n_times": n_times,
                  "n_covariates": n_covariates, "n_signatures": n_signatures}
        wanted = {k: None if v is None else check_integer(v, k, minimum=1) for k, v in wanted.items()}
        have = self.shape
        bad = [f"{k}: checkpoint has {have[k]}, data has {v}" for k, v in wanted.items()
               if v is not None and have[k] != v]
        if bad:
            raise ValueError("checkpoint does not match the data (" + "; ".join(bad) + ")")

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        arrays["kappa"] = np.array(self.kappa)
        arrays["healthy_mean"] = np.array(self.healthy_mean)
        if self.lam is not None:
            arrays["lam"] = self.lam
        return arrays

    def _meta(self) -> dict[str, Any]:
        return {"signature_labels": list(self.signature_labels), "metadata": self.metadata,
                "version": self.version}

    def replace(self, **changes) -> "Checkpoint":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def pool_checkpoints(checkpoints: Sequence[Checkpoint], *, leave_out: int | None = None) -> Checkpoint:
    """Pool batch checkpoints into a master: mean φ logits, mean γ, mean κ.

    ψ, μ and r are averaged as well (identical across batches when, as in the
    reference, clustering and prevalence are computed once for all batches; in
    prediction ψ only enters a constant term). Per-person λ is dropped.

    Parameters
    ----------
    checkpoints : sequence of Checkpoint
        Batch checkpoints with the same shapes, signature labels and covariate
        standardisation (pooling is meaningless otherwise).
    leave_out : int, optional
        Index of a batch to exclude (leave-one-batch-out master for that batch).

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart import Checkpoint, pool_checkpoints
    >>> def ckpt(value):
    ...     return Checkpoint(phi=np.full((2, 1, 1), value), psi=np.zeros((2, 1)),
    ...         gamma=np.zeros((1, 1)), kappa=value, prevalence_logit=np.zeros((1, 1)),
    ...         reference_logit=np.zeros((1, 1)), covariate_mean=np.zeros(1),
    ...         covariate_scale=np.ones(1), signature_labels=("s0", "healthy"))
    >>> master = pool_checkpoints([ckpt(1.0), ckpt(2.0), ckpt(4.0)], leave_out=2)
    >>> master.kappa, float(master.phi[0, 0, 0]), master.metadata["pooled_batches"]
    (1.5, 1.5, [0, 1])
    """
    checkpoints = list(checkpoints)
    if not checkpoints or not all(isinstance(c, Checkpoint) for c in checkpoints):
        raise TypeError("checkpoints must be a non-empty sequence of Checkpoint objects")
    keep = list(range(len(checkpoints)))
    if leave_out is not None:
        leave_out = check_integer(leave_out, "leave_out", minimum=0, maximum=len(checkpoints) - 1)
        keep.remove(leave_out)
        if not keep:
            raise ValueError("leave_out removes the only checkpoint; pass at least two")
    chosen = [checkpoints[i] for i in keep]
    first = chosen[0]
    for i, other in zip(keep[1:], chosen[1:]):
        if other.shape != first.shape:
            raise ValueError(f"checkpoint {i} has shape {other.shape}, checkpoint {keep[0]} has {first.shape}")
        if other.signature_labels != first.signature_labels:
            raise ValueError(f"checkpoint {i} has different signature labels; pool only batches "
                             "initialised from the same shared clustering")
        if not (np.allclose(other.covariate_mean, first.covariate_mean)
                and np.allclose(other.covariate_scale, first.covariate_scale)):
            raise ValueError(f"checkpoint {i} used a different covariate standardisation; "
                             "standardise G once for all batches before fitting them")

    def mean(name):
        # x0 + mean(x_i − x0): exact (bit-identical) when every batch holds the same values
        base = np.asarray(getattr(first, name), dtype=np.float64)
        return base + np.mean([np.asarray(getattr(c, name)) - base for c in chosen], axis=0)

    return Checkpoint(
        phi=mean("phi"), psi=mean("psi"), gamma=mean("gamma"), kappa=float(mean("kappa")),
        prevalence_logit=mean("prevalence_logit"), reference_logit=mean("reference_logit"),
        covariate_mean=first.covariate_mean, covariate_scale=first.covariate_scale,
        signature_labels=first.signature_labels, lam=None, healthy_mean=first.healthy_mean,
        metadata={**first.metadata, "pooled_batches": keep},
    )


def covariate_standardisation(covariates) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations of training covariates (scale 1 for a constant column).

    Compute these ONCE on the training cohort, fit every batch on
    ``(G − mean) / scale`` and store them in the checkpoint; new people are then
    standardised with the same numbers (:meth:`Checkpoint.standardise`).

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart import covariate_standardisation
    >>> mean, scale = covariate_standardisation(np.array([[1.0, 5.0], [3.0, 5.0]]))
    >>> mean.tolist(), scale.tolist()
    ([2.0, 5.0], [1.0, 1.0])
    """
    G = check_array(covariates, "covariates", ndim=2)
    if G.shape[0] < 2:
        raise ValueError(f"covariates must have at least 2 rows to estimate a scale, got {G.shape[0]}")
    mean, scale = G.mean(axis=0), G.std(axis=0)
    return mean, np.where(scale > 0, scale, 1.0)


def checkpoint_from_fit(
    fit,
    *,
    covariate_mean,
    covariate_scale,
    signature_labels: Sequence[str] | None = None,
    keep_lambda: bool = False,
    metadata: dict[str, Any] | None = None,
) -> Checkpoint:
    """Build a :class:`Checkpoint` from a :class:`~latentlab.signatures.FitResult`.

    Parameters
    ----------
    fit : FitResult
        A fitted signature model (``phi``, ``psi``, ``gamma``, ``kappa``, ``mu``,
        ``reference``, ``lam``).
    covariate_mean, covariate_scale : array of shape (P,)
        The standardisation applied to G before the fit.
    signature_labels : sequence of str, optional
        Default ``("sig0", …, "sig{K−1}", "healthy")``.
    keep_lambda : bool
        Store the per-person λ as well (batch checkpoints).
    metadata : dict, optional
    """
    missing = [a for a in ("phi", "psi", "gamma", "kappa", "mu", "reference", "lam") if not hasattr(fit, a)]
    if missing:
        raise TypeError(f"fit must be a FitResult (with phi, psi, gamma, kappa, mu, reference, lam), "
                        f"got {type(fit).__name__} without {missing}")
    K = int(fit.phi.shape[0] - 1)
    labels = tuple(signature_labels) if signature_labels is not None else tuple(f"sig{k}" for k in range(K)) + ("healthy",)
    return Checkpoint(
        phi=fit.phi, psi=fit.psi, gamma=fit.gamma, kappa=fit.kappa, prevalence_logit=fit.mu,
        reference_logit=fit.reference, covariate_mean=covariate_mean, covariate_scale=covariate_scale,
        signature_labels=labels, lam=fit.lam if keep_lambda else None,
        metadata={"parameterization": getattr(fit, "parameterization", "centered"),
                  "n_iter": int(getattr(fit, "n_iter", 0)), **(metadata or {})},
    )


# saving and loading, re-exported for ``from latentlab.hotstart.checkpoints import ...``
from latentlab.hotstart.checkpoint_io import load_checkpoint, save_checkpoint  # noqa: E402
