"""Pooling batch checkpoints into a master, respecting the model's exact symmetries.

The hazard of the reference model is π = κ Σ_k θ_k σ(φ_k). Chapter 1 showed two
exact symmetries of it: κ → cκ with σ(φ) → σ(φ)/c, and θ → θB⁻¹ with
σ(φ) → Bσ(φ). Two batch fits can therefore describe the *same* hazards with very
different κ and φ, and averaging κ and the φ logits separately (the reference's
pool, :func:`~latentlab.hotstart.pool_checkpoints`) averages numbers that are not
comparable. Pools that respect the symmetries:

* ``"probability"``: pool the signature risks κ_b σ(φ_b) on the probability
  scale (the invariant quantity) and store them with κ = 1;
* ``"aligned"``: first match each batch's signatures to the first batch's
  (Hungarian matching of φ − μ profiles), then pool on the probability scale;
* ``"reference"``: mean φ logits and mean κ, for comparison;
* batches fitted with κ fixed to 1 (the reference's newer pipeline) are pooled
  with ``"reference"`` too, and then κ carries no ambiguity.

Examples
--------
>>> import numpy as np
>>> from latentlab.hotstart import Checkpoint
>>> from latentlab.hotstart.pooling import pool
>>> def ckpt(kappa, risk):
...     phi = np.log(risk / kappa / (1 - risk / kappa))
...     return Checkpoint(phi=np.full((2, 1, 1), phi), psi=np.zeros((2, 1)),
...         gamma=np.zeros((1, 1)), kappa=kappa, prevalence_logit=np.zeros((1, 1)),
...         reference_logit=np.zeros((1, 1)), covariate_mean=np.zeros(1),
...         covariate_scale=np.ones(1), signature_labels=("s0", "healthy"))
>>> batches = [ckpt(0.1, 0.01), ckpt(10.0, 0.01)]   # the same hazards, κ apart 100-fold
>>> pooled = pool(batches, "probability")
>>> round(pooled.kappa * float(1 / (1 + np.exp(-pooled.phi[0, 0, 0]))), 6)
0.01
>>> ref = pool(batches, "reference")
>>> round(ref.kappa * float(1 / (1 + np.exp(-ref.phi[0, 0, 0]))), 4)   # not 0.01
0.0527
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
from scipy.special import expit, logit

from latentlab.hotstart.checkpoints import Checkpoint, pool_checkpoints
from latentlab.signatures.evaluation import match_signatures

__all__ = ["STRATEGIES", "signature_risk", "align_to", "pool"]

Strategy = Literal["reference", "probability", "aligned"]
STRATEGIES: tuple[str, ...] = ("reference", "probability", "aligned")


def signature_risk(checkpoint: Checkpoint) -> np.ndarray:
    """κσ(φ), shape (K+1, D, T): the signature risks, invariant under the κ symmetry."""
    if not isinstance(checkpoint, Checkpoint):
        raise TypeError(
            f"checkpoint must be a Checkpoint; got {type(checkpoint).__name__}"
        )
    return checkpoint.kappa * expit(checkpoint.phi)


def align_to(checkpoint: Checkpoint, target: Checkpoint) -> Checkpoint:
    """``checkpoint`` with its disease signatures permuted to match ``target``'s.

    Matching is Hungarian on the time-averaged offsets φ − μ (healthy stays
    last), as in :func:`latentlab.signatures.match_signatures`. φ, ψ and γ are
    permuted together; κ and the labels are kept.
    """
    for name, value in (("checkpoint", checkpoint), ("target", target)):
        if not isinstance(value, Checkpoint):
            raise TypeError(f"{name} must be a Checkpoint; got {type(value).__name__}")
    if checkpoint.shape != target.shape:
        raise ValueError(
            f"checkpoint has shape {checkpoint.shape}, target has {target.shape}"
        )
    order = match_signatures(
        checkpoint.phi - checkpoint.prevalence_logit[None],
        target.phi - target.prevalence_logit[None],
    )
    K = checkpoint.phi.shape[0] - 1
    return checkpoint.replace(
        phi=checkpoint.phi[order],
        psi=checkpoint.psi[order],
        gamma=checkpoint.gamma[:, order[:K]],
        reference_logit=checkpoint.reference_logit[order[:K]],
        metadata={**checkpoint.metadata, "aligned_order": order.tolist()},
    )


def pool(
    checkpoints: Sequence[Checkpoint],
    strategy: Strategy = "probability",
    *,
    leave_out: int | None = None,
) -> Checkpoint:
    """Pool batch checkpoints into a master with one of :data:`STRATEGIES`.

    Parameters
    ----------
    checkpoints : sequence of Checkpoint
        Batch checkpoints with equal shapes and covariate standardisation.
    strategy : {"reference", "probability", "aligned"}
        See the module docstring.
    leave_out : int, optional
        Index of a batch to exclude (leave-one-batch-out master).

    Returns
    -------
    Checkpoint
        The master; for the probability pools κ = 1 and σ(φ) is the mean of the
        batches' κ_b σ(φ_b). ``metadata["pooling"]`` names the strategy.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}; got {strategy!r}")
    checkpoints = list(checkpoints)
    # shape, label and standardisation checks (and leave_out) live in pool_checkpoints
    base = pool_checkpoints(checkpoints, leave_out=leave_out)
    if strategy == "reference":
        return base.replace(metadata={**base.metadata, "pooling": strategy})
    kept = list(base.metadata["pooled_batches"])
    chosen = [checkpoints[i] for i in kept]
    if strategy == "aligned":
        chosen = [chosen[0]] + [align_to(c, chosen[0]) for c in chosen[1:]]
        base = pool_checkpoints(chosen)
    risk = np.mean([signature_risk(c) for c in chosen], axis=0)
    if np.any(risk >= 1):
        raise ValueError(
            "a pooled signature risk κσ(φ) reaches 1; the batches are not usable"
        )
    return base.replace(
        phi=logit(risk),
        kappa=1.0,
        metadata={**base.metadata, "pooling": strategy, "pooled_batches": kept},
    )
