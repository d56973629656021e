"""Cross-cohort signature transfer by re-anchoring, and modified-Jaccard signature matching.

**Re-anchoring is OUR extension**, not part of the reference system. The
reference (Aladynoulli) fitted each biobank independently and compared the
signatures afterwards with a modified Jaccard index; no code of it transfers
signatures between cohorts. Here the signature logits of a source cohort A are
split into the cohort's prevalence anchor and an offset,

    φ^A_kdt = μ^A_d(t) + Δ_kdt,

and the offsets Δ are moved onto the target cohort's own at-risk prevalence:

    φ^B_kdt = μ^B_d(t) + Δ_kdt.

Only λ is then fitted on B (:func:`latentlab.hotstart.fit_lambda`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import numpy.typing as npt

from latentlab._validation import check_array, check_integer, check_real

__all__ = [
    "anchor_offsets",
    "reanchor",
    "offset_recovery",
    "signature_disease_sets",
    "offset_disease_sets",
    "JaccardResult",
    "modified_jaccard",
]


def _check_phi_mu(phi, mu, phi_name: str, mu_name: str):
    phi = check_array(phi, phi_name, ndim=3)
    mu = check_array(mu, mu_name, shape=phi.shape[1:])
    return phi, mu


def anchor_offsets(phi: npt.ArrayLike, prevalence_logit: npt.ArrayLike) -> np.ndarray:
    """Offsets Δ_kdt = φ_kdt − μ_d(t) of signature logits from their prevalence anchor.

    Our extension (see the module docstring).

    Parameters
    ----------
    phi : array of shape (n_signatures, n_diseases, n_times)
    prevalence_logit : array of shape (n_diseases, n_times)
        μ, the cohort's smoothed at-risk prevalence logit.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart import anchor_offsets
    >>> anchor_offsets(np.full((2, 1, 1), -3.0), np.full((1, 1), -4.0)).ravel().tolist()
    [1.0, 1.0]
    """
    phi, mu = _check_phi_mu(phi, prevalence_logit, "phi", "prevalence_logit")
    return phi - mu[None]


def reanchor(
    phi_source: npt.ArrayLike,
    prevalence_logit_source: npt.ArrayLike,
    prevalence_logit_target: npt.ArrayLike,
) -> np.ndarray:
    """Move source signature logits onto a target cohort's prevalence: φ^B = μ^B + (φ^A − μ^A).

    Our extension (see the module docstring): the reference system does not
    transfer signatures between cohorts.

    Parameters
    ----------
    phi_source : array of shape (n_signatures, n_diseases, n_times)
        Trained (or pooled) φ of cohort A.
    prevalence_logit_source : array of shape (n_diseases, n_times)
        μ^A, the prevalence logit φ^A was anchored on.
    prevalence_logit_target : array of shape (n_diseases, n_times)
        μ^B, the target cohort's at-risk prevalence logit.

    Returns
    -------
    ndarray of shape (n_signatures, n_diseases, n_times)

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart import reanchor
    >>> phi_a = np.array([[[-2.0]], [[-6.0]]]); mu_a = np.array([[-4.0]]); mu_b = np.array([[-3.0]])
    >>> reanchor(phi_a, mu_a, mu_b).ravel().tolist()
    [-1.0, -5.0]
    """
    phi_source, _ = _check_phi_mu(phi_source, prevalence_logit_source, "phi_source",
                                  "prevalence_logit_source")
    delta = anchor_offsets(phi_source, prevalence_logit_source)
    mu_b = check_array(prevalence_logit_target, "prevalence_logit_target", shape=delta.shape[1:])
    return mu_b[None] + delta


def offset_recovery(phi: npt.ArrayLike, prevalence_logit: npt.ArrayLike, true_offsets: npt.ArrayLike) -> float:
    """Correlation of fitted offsets Δ = φ − μ with planted ones, after matching signature labels.

    Disease signatures are matched to the truth with
    :func:`latentlab.signatures.match_signatures` (Hungarian, on time-averaged
    profiles); the healthy row is left out. Used to score re-anchoring (our
    extension) against an independent fit.
    """
    from latentlab.signatures.evaluation import match_signatures

    delta = anchor_offsets(phi, prevalence_logit)
    truth = check_array(true_offsets, "true_offsets", shape=delta.shape)
    order = match_signatures(delta, truth)
    return float(np.corrcoef(delta[order][:-1].ravel(), truth[:-1].ravel())[0, 1])


def signature_disease_sets(
    psi: npt.ArrayLike, *, healthy: bool = True, min_psi: float | None = None
) -> list[np.ndarray]:
    """Assign each disease to the signature with the largest ψ_kd; return each signature's set.

    Parameters
    ----------
    psi : array of shape (n_signatures, n_diseases)
        Signature–disease association (or φ averaged over time).
    healthy : bool
        The last row is the healthy signature: it takes part in no set and no
        argmax.
    min_psi : float, optional
        Leave a disease unassigned if its largest ψ is below this value.

    Returns
    -------
    list of int arrays
        ``sets[k]`` lists the diseases of signature k (healthy excluded).

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart import signature_disease_sets
    >>> psi = np.array([[1.0, -2, 1], [-2, 1, -2], [-5, -5, -5]])
    >>> [s.tolist() for s in signature_disease_sets(psi)]
    [[0, 2], [1]]
    """
    psi = check_array(psi, "psi", ndim=2)
    rows = psi[:-1] if healthy else psi
    if rows.shape[0] == 0:
        raise ValueError("psi must have at least one disease signature (besides the healthy row)")
    best = np.argmax(rows, axis=0)
    assigned = np.ones(psi.shape[1], bool)
    if min_psi is not None:
        min_psi = check_real(min_psi, "min_psi")
        assigned = rows.max(axis=0) >= min_psi
    return [np.flatnonzero((best == k) & assigned) for k in range(rows.shape[0])]


def offset_disease_sets(phi: npt.ArrayLike, prevalence_logit: npt.ArrayLike) -> list[np.ndarray]:
    """Disease sets of each signature from its time-averaged offsets Δ̄_kd = mean_t (φ_kdt − μ_d(t)).

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart import offset_disease_sets
    >>> phi = np.zeros((3, 2, 4)); phi[0, 0] = 2.0; phi[1, 1] = 2.0; phi[2] = -5.0
    >>> [s.tolist() for s in offset_disease_sets(phi, np.zeros((2, 4)))]
    [[0], [1]]
    """
    return signature_disease_sets(anchor_offsets(phi, prevalence_logit).mean(axis=2))


@dataclass(frozen=True)
class JaccardResult:
    """Modified Jaccard overlaps of the signatures of cohort A with those of cohort B.

    Attributes
    ----------
    scores : ndarray of shape (n_signatures_a,)
        J_k = |D^A_k ∩ D^B_{k*}| / |D^A_k|; NaN where D^A_k is empty.
    best_match : ndarray of int, shape (n_signatures_a,)
        k*, the B signature with the largest overlap (−1 where D^A_k is empty).
    """

    scores: np.ndarray
    best_match: np.ndarray

    @property
    def median(self) -> float:
        """Median J over signatures with a non-empty disease set."""
        return float(np.nanmedian(self.scores))


def modified_jaccard(
    sets_a: Sequence[npt.ArrayLike], sets_b: Sequence[npt.ArrayLike], *, n_diseases: int | None = None
) -> JaccardResult:
    """Modified Jaccard index of each A signature with its best-overlapping B signature.

    J_k = |D^A_k ∩ D^B_{k*}| / |D^A_k| with k* = argmax_j |D^A_k ∩ D^B_j|, the
    measure the reference used to compare biobanks (it is asymmetric: it asks
    how much of each A signature is found in one B signature).

    Parameters
    ----------
    sets_a, sets_b : sequences of int arrays
        Disease indices of each signature (e.g. from :func:`signature_disease_sets`).
    n_diseases : int, optional
        If given, every index must lie in 0 … n_diseases−1.

    Examples
    --------
    >>> from latentlab.hotstart import modified_jaccard
    >>> res = modified_jaccard([[0, 1, 2, 3], [4, 5]], [[5, 4], [0, 1, 2]])
    >>> res.scores.tolist(), res.best_match.tolist()
    ([0.75, 1.0], [1, 0])
    """
    if len(sets_a) == 0 or len(sets_b) == 0:
        raise ValueError("sets_a and sets_b must each hold at least one signature")
    if n_diseases is not None:
        check_integer(n_diseases, "n_diseases", minimum=1)

    def as_set(values, name):
        index = check_array(values, name, ndim=1, dtype=int) if len(values) else np.zeros(0, int)
        if n_diseases is not None and index.size and (index.min() < 0 or index.max() >= n_diseases):
            raise ValueError(f"{name} holds disease indices outside 0..{n_diseases - 1}")
        return set(index.tolist())

    a_sets = [as_set(s, f"sets_a[{k}]") for k, s in enumerate(sets_a)]
    b_sets = [as_set(s, f"sets_b[{j}]") for j, s in enumerate(sets_b)]
    scores = np.full(len(a_sets), np.nan)
    best = np.full(len(a_sets), -1, dtype=int)
    for k, a in enumerate(a_sets):
        if not a:
            continue
        overlaps = [len(a & b) for b in b_sets]
        best[k] = int(np.argmax(overlaps))
        scores[k] = overlaps[best[k]] / len(a)
    return JaccardResult(scores=scores, best_match=best)
