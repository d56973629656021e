"""Cold-start initialisation of the signature model (section 2 of the design note).

1. μ: smoothed at-risk prevalence logits (:func:`prevalence_logit`).
2. Spectral clustering of diseases on the phi coefficients of their
   "ever diagnosed" indicators (affinity (r + 1)/2).
3. ψ: +1 (±0.1) on the signature's own cluster, −2 (±0.01) elsewhere, −5 for
   the healthy row.
4. φ = μ + ψ + s·GP draw.
5. γ: least squares of each person's mean x over a cluster on G.
6. λ = r_k + G γ_k + s·GP draw (healthy: −5 + s·GP draw).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import logit
from sklearn.cluster import SpectralClustering

from latentlab._validation import as_generator, check_array, check_in_range, check_integer, check_positive
from latentlab.signatures.data import SurvivalData, check_survival_data
from latentlab.signatures.gp import GaussianProcessPrior
from latentlab.signatures.objective import HEALTHY_MEAN
from latentlab.signatures.prevalence import prevalence_logit
from latentlab.signatures.smoothing import lowess

__all__ = [
    "InitialState",
    "disease_correlation",
    "cluster_diseases",
    "reference_trajectories",
    "initial_psi",
    "initial_gamma",
    "initialize",
]


@dataclass(frozen=True)
class InitialState:
    """Starting values (numpy, float64) of a signature-model fit.

    Attributes
    ----------
    mu : (D, T) prevalence logits.   reference : (K, T) r_k(t).
    clusters : (D,) initial cluster label of each disease.
    psi : (K+1, D).   gamma : (P, K).   lam : (N, K+1, T).   phi : (K+1, D, T).
    kappa : float (1.0).
    """

    mu: npt.NDArray[np.float64]
    reference: npt.NDArray[np.float64]
    clusters: npt.NDArray[np.int64]
    psi: npt.NDArray[np.float64]
    gamma: npt.NDArray[np.float64]
    lam: npt.NDArray[np.float64]
    phi: npt.NDArray[np.float64]
    kappa: float = 1.0


def disease_correlation(data: SurvivalData) -> npt.NDArray[np.float64]:
    """Pearson (phi) correlation between diseases' "ever diagnosed" indicators, D×D.

    Diseases never (or always) diagnosed get correlation 0 with the others.
    """
    check_survival_data(data)
    X = data.event.astype(np.float64)
    X = X - X.mean(axis=0)
    norms = np.sqrt((X**2).sum(axis=0))
    safe = np.where(norms > 0, norms, 1.0)
    r = (X.T @ X) / np.outer(safe, safe)
    r[norms == 0, :] = 0.0
    r[:, norms == 0] = 0.0
    np.fill_diagonal(r, 1.0)
    return np.clip(r, -1.0, 1.0)


def cluster_diseases(data: SurvivalData, n_clusters: int, *, rng=None, n_init: int = 10) -> npt.NDArray[np.int64]:
    """Spectral clustering of diseases (scikit-learn, k-means labels, seeded).

    Examples
    --------
    >>> from latentlab.datasets.signatures_sim import simulate_signatures
    >>> from latentlab.signatures import cluster_diseases
    >>> sim = simulate_signatures(n_individuals=300, n_diseases=8, n_times=20, n_signatures=2, rng=0)
    >>> cluster_diseases(sim.data, 2, rng=0).shape
    (8,)
    """
    check_survival_data(data)
    n_clusters = check_integer(n_clusters, "n_clusters", minimum=1, maximum=data.n_diseases)
    if n_clusters == 1:
        return np.zeros(data.n_diseases, dtype=np.int64)
    affinity = (disease_correlation(data) + 1.0) / 2.0
    seed = int(as_generator(rng).integers(2**31 - 1))
    model = SpectralClustering(
        n_clusters=n_clusters, affinity="precomputed", assign_labels="kmeans", n_init=n_init, random_state=seed
    )
    return model.fit_predict(affinity).astype(np.int64)


def reference_trajectories(data: SurvivalData, clusters, n_signatures: int, *, flat: bool = False,
                           frac: float = 0.3, iterations: int = 3) -> npt.NDArray[np.float64]:
    """r_k(t): LOWESS-smoothed logit of the share of diagnoses at age t in cluster k, (K, T).

    Ages without diagnoses get equal shares. Shares are renormalised and
    multiplied by 0.99 before the logit, as in the reference. ``flat=True``
    returns zeros.
    """
    check_survival_data(data)
    K = check_integer(n_signatures, "n_signatures", minimum=1)
    clusters = check_array(clusters, "clusters", shape=(data.n_diseases,), dtype=int)
    check_in_range(clusters, "clusters", 0, K - 1)
    if flat:
        return np.zeros((K, data.n_times))
    counts = np.zeros((K, data.n_times))
    i, d = np.nonzero(data.event)
    np.add.at(counts, (clusters[d], data.E[i, d]), 1.0)
    totals = counts.sum(axis=0, keepdims=True)
    share = np.where(totals > 0, counts / np.where(totals > 0, totals, 1.0), 1.0 / K)
    share = np.clip(share / share.sum(axis=0, keepdims=True) * 0.99, 1e-8, 1 - 1e-8)
    raw = logit(share)
    return np.stack([lowess(row, frac=frac, iterations=iterations) for row in raw])


def initial_psi(clusters, n_signatures: int, *, rng=None, inside: float = 1.0, outside: float = -2.0) -> npt.NDArray[np.float64]:
    """ψ (K+1, D): ``inside`` ± 0.1 on the own cluster, ``outside`` ± 0.01 elsewhere, −5 ± 0.01 healthy."""
    K = check_integer(n_signatures, "n_signatures", minimum=1)
    clusters = check_array(clusters, "clusters", ndim=1, dtype=int)
    check_in_range(clusters, "clusters", 0, K - 1)
    generator = as_generator(rng)
    D = clusters.size
    member = clusters[None, :] == np.arange(K)[:, None]
    psi = np.where(member, inside + 0.1 * generator.standard_normal((K, D)),
                   outside + 0.01 * generator.standard_normal((K, D)))
    healthy = HEALTHY_MEAN + 0.01 * generator.standard_normal((1, D))
    return np.vstack([psi, healthy])


def initial_gamma(data: SurvivalData, clusters, n_signatures: int, *, floor: float = 1e-6) -> npt.NDArray[np.float64]:
    """γ (P, K): least squares of each person's centred mean x over cluster k on (centred) G.

    x_id = logit(clamp(mean_t Y_idt)), i.e. logit(1/T) for a diagnosis and
    logit(floor) otherwise. G is used as given (pass z-scored covariates).
    ``floor`` is 1e−6 as in the reference (the model's clamp of π); a smaller
    floor widens the gap between diagnosed and undiagnosed people and so
    scales the starting γ up (1e−8 gives a γ about 1.5 times larger).
    """
    check_survival_data(data)
    K = check_integer(n_signatures, "n_signatures", minimum=1)
    clusters = check_array(clusters, "clusters", shape=(data.n_diseases,), dtype=int)
    check_in_range(clusters, "clusters", 0, K - 1)
    if not 0 < check_positive(floor, "floor") < 0.5:
        raise ValueError(f"floor must lie in (0, 0.5), got {floor}")
    if data.n_covariates == 0:
        return np.zeros((0, K))
    x = np.where(data.event, logit(1.0 / data.n_times), logit(floor))
    member = (clusters[:, None] == np.arange(K)[None, :]).astype(float)
    sizes = np.maximum(member.sum(axis=0), 1.0)
    targets = (x @ member) / sizes  # (N, K)
    targets -= targets.mean(axis=0)
    G = data.G - data.G.mean(axis=0)
    gamma, *_ = np.linalg.lstsq(G, targets, rcond=None)
    return gamma


def initialize(
    data: SurvivalData,
    n_signatures: int,
    *,
    rng=None,
    noise_scale: float = 0.1,
    clusters=None,
    psi=None,
    flat_reference: bool = False,
    smoothing_sigma: float | None = 5.0,
    lambda_length_scale: float | None = None,
    phi_length_scale: float | None = None,
) -> InitialState:
    """Cold-start initial state of a fit (one call, batched GP draws).

    Parameters
    ----------
    data : SurvivalData
    n_signatures : int
        K ≥ 1 disease signatures (a healthy signature is added at index K).
    rng : None, int or Generator
    noise_scale : float
        s, the scale of the GP noise on λ and φ (0.1 in the reference).
    clusters, psi : optional
        Shared cluster labels (D,) or ψ (K+1, D) from a pooled clustering, so
        that batches share signature labels.
    flat_reference : bool
        r_k = 0 instead of the LOWESS references.
    lambda_length_scale, phi_length_scale : float, optional
        Default T/4 and T/3.

    Raises
    ------
    ValueError
        If K < 1 or the shared clusters/ψ have the wrong shape.
    """
    if isinstance(n_signatures, (int, np.integer)) and not isinstance(n_signatures, bool) and n_signatures < 1:
        raise ValueError(f"n_signatures (K) must be >= 1, got {n_signatures}")
    K = check_integer(n_signatures, "n_signatures", minimum=1)
    noise_scale = check_positive(noise_scale, "noise_scale", strict=False)
    generator = as_generator(rng)
    T = data.n_times
    mu = prevalence_logit(data, smoothing_sigma=smoothing_sigma)
    if clusters is None:
        clusters = cluster_diseases(data, min(K, data.n_diseases), rng=generator)
    clusters = check_array(clusters, "clusters", shape=(data.n_diseases,), dtype=int)
    if psi is None:
        psi = initial_psi(clusters, K, rng=generator)
    psi = check_array(psi, "psi", shape=(K + 1, data.n_diseases))
    reference = reference_trajectories(data, clusters, K, flat=flat_reference)
    gamma = initial_gamma(data, clusters, K)
    lam_prior = GaussianProcessPrior(T, lambda_length_scale or T / 4)
    phi_prior = GaussianProcessPrior(T, phi_length_scale or T / 3)
    lam_mean = np.concatenate(
        [reference[None] + (data.G @ gamma)[:, :, None], np.full((data.n_individuals, 1, T), HEALTHY_MEAN)], axis=1
    )
    lam = lam_mean + noise_scale * lam_prior.draw((data.n_individuals, K + 1), rng=generator)
    phi = mu[None] + psi[:, :, None] + noise_scale * phi_prior.draw((K + 1, data.n_diseases), rng=generator)
    return InitialState(mu=mu, reference=reference, clusters=clusters, psi=psi, gamma=gamma, lam=lam, phi=phi)

