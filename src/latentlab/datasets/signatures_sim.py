"""Seeded simulator of the disease-signature survival model, with known truth.

Generative model (healthy signature at index K):

* diseases are split into K contiguous blocks (clusters); ψ_kd ≈ ``psi_inside``
  on the signature's own block and ``psi_outside`` elsewhere; healthy row −5;
* μ_d(t) = b_d + a_d t/T: a rare baseline rising with age;
* φ_kdt = μ_d(t) + ψ_kd + ``phi_noise`` × GP draw (ℓ = T/3);
* γ (P×K) ~ N(0, ``gamma_scale``²/P); G (N×P) z-scored normals;
* λ_ik(t) = r_k(t) + G_i γ_k + GP draw (ℓ = T/4); healthy λ = −5 + GP draw;
* π = κ Σ_k softmax(λ)_k σ(φ_k); the first event is drawn from the discrete
  survival process, then optional censoring.

:func:`simulate_two_cohorts` draws two cohorts that share Δ = φ − μ (and ψ, γ,
r, κ) but whose prevalences differ by a per-disease logit shift (chapter 2's
cross-cohort re-anchoring; an extension of ours, not of the reference).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from latentlab._validation import as_generator, check_integer, check_in_range, check_positive
from latentlab.signatures.data import SurvivalData
from latentlab.signatures.gp import GaussianProcessPrior

__all__ = ["SignatureTruth", "SimulatedCohort", "simulate_signatures", "simulate_two_cohorts"]


@dataclass(frozen=True)
class SignatureTruth:
    """The true parameters of a simulated cohort (healthy signature at index K).

    Attributes
    ----------
    phi : (K+1, D, T)   psi : (K+1, D)   gamma : (P, K)   lam : (N, K+1, T)
    kappa : float       mu : (D, T)      reference : (K, T)
    clusters : (D,) true disease block of each disease.
    """

    phi: npt.NDArray[np.float64]
    psi: npt.NDArray[np.float64]
    gamma: npt.NDArray[np.float64]
    lam: npt.NDArray[np.float64]
    kappa: float
    mu: npt.NDArray[np.float64]
    reference: npt.NDArray[np.float64]
    clusters: npt.NDArray[np.int64]

    @property
    def delta(self) -> npt.NDArray[np.float64]:
        """Δ = φ − μ, shape (K+1, D, T): what cross-cohort re-anchoring transfers."""
        return self.phi - self.mu[None]

    def theta(self) -> npt.NDArray[np.float64]:
        """softmax(λ) over signatures, (N, K+1, T)."""
        weights = np.exp(self.lam - self.lam.max(axis=1, keepdims=True))
        return weights / weights.sum(axis=1, keepdims=True)

    def pi(self, individuals=slice(None)) -> npt.NDArray[np.float64]:
        """True hazards π (n, D, T) for the selected individuals (small data only)."""
        return _hazards(self.lam[individuals], self.phi, self.kappa)


@dataclass(frozen=True)
class SimulatedCohort:
    """A simulated cohort: the data, the truth and (optionally) batch index arrays."""

    data: SurvivalData
    truth: SignatureTruth
    batches: tuple[npt.NDArray[np.int64], ...]

    @property
    def n_batches(self) -> int:
        return len(self.batches)

    def batch(self, index: int) -> SurvivalData:
        """The data of batch ``index`` (people in ``batches[index]``)."""
        return self.data.subset(self.batches[index])

    def batch_truth(self, index: int) -> SignatureTruth:
        """The truth restricted to batch ``index`` (λ of its people; the rest shared)."""
        rows = self.batches[index]
        t = self.truth
        return SignatureTruth(t.phi, t.psi, t.gamma, t.lam[rows], t.kappa, t.mu, t.reference, t.clusters)


def _hazards(lam: np.ndarray, phi: np.ndarray, kappa: float) -> np.ndarray:
    theta = torch.softmax(torch.as_tensor(lam), dim=1)
    mix = torch.einsum("nkt,kdt->ndt", theta, torch.sigmoid(torch.as_tensor(phi)))
    return np.clip(kappa * mix.numpy(), 0.0, 1.0)


def _draw_events(lam, phi, kappa, censor, generator, chunk=1000):
    """First events of the discrete survival process, chunked over individuals."""
    N, T = lam.shape[0], lam.shape[2]
    D = phi.shape[1]
    E = np.empty((N, D), dtype=np.int64)
    event = np.empty((N, D), dtype=bool)
    for start in range(0, N, chunk):
        stop = min(start + chunk, N)
        pi = _hazards(lam[start:stop], phi, kappa)
        log_survival = np.cumsum(np.log1p(-np.minimum(pi, 1 - 1e-12)), axis=2)
        log_u = np.log(generator.uniform(size=(stop - start, D, 1)))
        happened = log_survival < log_u  # survival has dropped below u by age t
        has = happened.any(axis=2)
        first = np.where(has, happened.argmax(axis=2), T - 1)
        cap = censor[start:stop, None]
        E[start:stop] = np.minimum(first, cap)
        event[start:stop] = has & (first <= cap)
    return E, event


def _truth(generator, N, D, T, K, P, kappa, psi_inside, psi_outside, gamma_scale, phi_noise,
           baseline_range, age_slope_range, healthy_mean):
    clusters = (np.arange(D) * K // D).astype(np.int64)
    member = clusters[None, :] == np.arange(K)[:, None]
    psi = np.where(member, psi_inside + 0.25 * generator.standard_normal((K, D)),
                   psi_outside + 0.25 * generator.standard_normal((K, D)))
    psi = np.vstack([psi, np.full((1, D), healthy_mean)])
    lo, hi = np.log(baseline_range[0] / (1 - baseline_range[0])), np.log(baseline_range[1] / (1 - baseline_range[1]))
    base = generator.uniform(lo, hi, size=D)
    slope = generator.uniform(*age_slope_range, size=D)
    mu = base[:, None] + slope[:, None] * (np.arange(T)[None, :] / T)
    phi_gp, lam_gp = GaussianProcessPrior(T, T / 3), GaussianProcessPrior(T, T / 4)
    phi = mu[None] + psi[:, :, None] + phi_noise * phi_gp.draw((K + 1, D), rng=generator)
    gamma = gamma_scale / np.sqrt(max(P, 1)) * generator.standard_normal((P, K))
    reference = 0.5 * lam_gp.draw(K, rng=generator)
    return clusters, psi, mu, phi, gamma, reference, lam_gp


def _individuals(generator, N, T, K, P, gamma, reference, lam_gp, healthy_mean, censoring_fraction):
    G = generator.standard_normal((N, P))
    if N > 1 and P:
        G = (G - G.mean(axis=0)) / G.std(axis=0)
    lam = np.concatenate([reference[None] + (G @ gamma)[:, :, None], np.full((N, 1, T), healthy_mean)], axis=1)
    lam = lam + lam_gp.draw((N, K + 1), rng=generator)
    censored = generator.uniform(size=N) < censoring_fraction
    censor = np.where(censored, generator.integers(T // 2, T, size=N), T - 1)
    return G, lam, censor


def simulate_signatures(
    n_individuals: int = 1000,
    n_diseases: int = 50,
    n_times: int = 52,
    n_signatures: int = 5,
    n_covariates: int = 10,
    *,
    rng=None,
    n_batches: int = 1,
    kappa: float = 1.0,
    psi_inside: float = 2.0,
    psi_outside: float = -1.0,
    gamma_scale: float = 1.0,
    phi_noise: float = 0.3,
    baseline_range: tuple[float, float] = (0.001, 0.004),
    age_slope_range: tuple[float, float] = (1.0, 2.5),
    healthy_mean: float = -5.0,
    censoring_fraction: float = 0.2,
) -> SimulatedCohort:
    """Simulate a cohort from the signature model with known truth.

    Parameters
    ----------
    n_individuals, n_diseases, n_times, n_signatures, n_covariates : int
        N, D, T, K (disease signatures; a healthy one is added) and P.
    rng : None, int or Generator
    n_batches : int
        Split the people into this many contiguous, near-equal batches.
    kappa : float
        True κ.
    psi_inside, psi_outside : float
        Mean ψ on a signature's own disease block and elsewhere (sd 0.25).
    gamma_scale : float
        sd of G γ_k (γ entries have sd gamma_scale/√P).
    phi_noise : float
        Amplitude of the GP deviation of φ from μ + ψ.
    baseline_range, age_slope_range : tuple of float
        Range of the yearly baseline prevalence at t = 0 and of the logit rise over the grid.
    healthy_mean : float
        Mean λ of the healthy signature.
    censoring_fraction : float
        Share of people censored at a uniform age in [T/2, T − 1].

    Returns
    -------
    SimulatedCohort

    Examples
    --------
    >>> from latentlab.datasets.signatures_sim import simulate_signatures
    >>> sim = simulate_signatures(n_individuals=50, n_diseases=6, n_times=10, n_signatures=2,
    ...                           n_covariates=3, n_batches=2, rng=0)
    >>> sim.data.E.shape, sim.truth.phi.shape, sim.truth.gamma.shape, [len(b) for b in sim.batches]
    ((50, 6), (3, 6, 10), (3, 2), [25, 25])
    """
    N = check_integer(n_individuals, "n_individuals", minimum=1)
    D = check_integer(n_diseases, "n_diseases", minimum=1)
    T = check_integer(n_times, "n_times", minimum=2)
    K = check_integer(n_signatures, "n_signatures", minimum=1)
    P = check_integer(n_covariates, "n_covariates", minimum=0)
    n_batches = check_integer(n_batches, "n_batches", minimum=1, maximum=N)
    kappa = check_positive(kappa, "kappa")
    check_in_range(censoring_fraction, "censoring_fraction", 0.0, 1.0)
    generator = as_generator(rng)
    clusters, psi, mu, phi, gamma, reference, lam_gp = _truth(
        generator, N, D, T, K, P, kappa, psi_inside, psi_outside, gamma_scale, phi_noise,
        baseline_range, age_slope_range, healthy_mean)
    G, lam, censor = _individuals(generator, N, T, K, P, gamma, reference, lam_gp, healthy_mean, censoring_fraction)
    E, event = _draw_events(lam, phi, kappa, censor, generator)
    truth = SignatureTruth(phi=phi, psi=psi, gamma=gamma, lam=lam, kappa=kappa, mu=mu,
                           reference=reference, clusters=clusters)
    batches = tuple(np.array_split(np.arange(N), n_batches))
    return SimulatedCohort(SurvivalData(E=E, event=event, G=G, n_times=T), truth, batches)


def simulate_two_cohorts(
    n_individuals: int | tuple[int, int] = 1000,
    n_diseases: int = 50,
    n_times: int = 52,
    n_signatures: int = 5,
    n_covariates: int = 10,
    *,
    rng=None,
    prevalence_shift: float = 0.5,
    shift_sd: float = 0.5,
    n_batches: int = 1,
    **kwargs,
) -> tuple[SimulatedCohort, SimulatedCohort]:
    """Two cohorts sharing Δ = φ − μ, ψ, γ, r and κ, with shifted prevalence in the second.

    The second cohort's prevalence logits are μ_B = μ_A + c_d with
    c_d ~ N(``prevalence_shift``, ``shift_sd``²) per disease, and φ_B = μ_B + Δ.
    People (G, λ, events) are drawn independently. Other keyword arguments go
    to the same generative model as :func:`simulate_signatures`.

    Examples
    --------
    >>> from latentlab.datasets.signatures_sim import simulate_two_cohorts
    >>> a, b = simulate_two_cohorts(40, 6, 10, 2, 3, rng=1)
    >>> bool(np.allclose(a.truth.delta, b.truth.delta)), bool(np.allclose(a.truth.mu, b.truth.mu))
    (True, False)
    """
    sizes = (n_individuals, n_individuals) if np.isscalar(n_individuals) else tuple(n_individuals)
    N_a, N_b = (check_integer(s, "n_individuals", minimum=1) for s in sizes)
    generator = as_generator(rng)
    cohort_a = simulate_signatures(N_a, n_diseases, n_times, n_signatures, n_covariates, rng=generator,
                                   n_batches=n_batches, **kwargs)
    t = cohort_a.truth
    shift = prevalence_shift + shift_sd * generator.standard_normal(n_diseases)
    mu_b = t.mu + shift[:, None]
    phi_b = mu_b[None] + t.delta
    T, K = n_times, n_signatures
    lam_gp = GaussianProcessPrior(T, T / 4)
    healthy_mean = kwargs.get("healthy_mean", -5.0)
    G, lam, censor = _individuals(generator, N_b, T, K, n_covariates, t.gamma, t.reference, lam_gp, healthy_mean,
                                  kwargs.get("censoring_fraction", 0.2))
    E, event = _draw_events(lam, phi_b, t.kappa, censor, generator)
    truth_b = SignatureTruth(phi=phi_b, psi=t.psi, gamma=t.gamma, lam=lam, kappa=t.kappa, mu=mu_b,
                             reference=t.reference, clusters=t.clusters)
    cohort_b = SimulatedCohort(SurvivalData(E=E, event=event, G=G, n_times=T), truth_b,
                               tuple(np.array_split(np.arange(N_b), n_batches)))
    return cohort_a, cohort_b
