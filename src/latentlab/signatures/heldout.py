"""Chapter 1's held-out study: simulate a cohort, fit it cold with a cut, score the held-out years.

:func:`heldout_study` runs one seed end to end and returns plain numbers
(recovery of φ, γ, their contrasts and θ after matching; κ; the held-out AUC
of the fit and of the true parameters; the loss trajectory and whether the fit
met a relative convergence rule). :func:`seed_spread` words a column over seeds.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from latentlab._validation import check_integer, check_positive
from latentlab.claims import interval, num
from latentlab.datasets.signatures_sim import simulate_signatures
from latentlab.signatures.evaluation import (
    frozen_theta_risk,
    match_signatures,
    matched_correlation,
    mean_disease_auc,
    signature_contrasts,
    window_outcomes,
)
from latentlab.signatures.fit import fit_signatures, relative_change
from latentlab.signatures.init import initialize

__all__ = ["heldout_study", "seed_spread"]


def heldout_study(
    seed: int, *, n_individuals: int, n_diseases: int, n_times: int, n_signatures: int,
    n_covariates: int, horizon: int, n_epochs: int, min_events: int,
    test_share: float = 0.3, rtol: float = 1e-4,
) -> dict:
    """Simulate, fit with a held-out cut, and score the held-out years, for one seed.

    A share ``test_share`` of the people lose their follow-up after age index
    ``cut = n_times − horizon − 2``; the fit sees only their earlier years.
    Each of them is then scored for a diagnosis in the next ``horizon`` years
    with θ frozen at their last seen age. The fit stops when the relative rule
    of :func:`~latentlab.signatures.fit.relative_change_met` holds (mean
    relative change per epoch over ten epochs ≤ ``rtol`` on 3 consecutive
    epochs) or after ``n_epochs``; ``converged`` says which.

    Returns a dict: the simulation, fit, matching order, cut and test indices,
    and scalars (epochs, losses, correlations, κ, AUCs, convergence).

    Examples
    --------
    >>> from latentlab.signatures.heldout import heldout_study
    >>> r = heldout_study(0, n_individuals=60, n_diseases=6, n_times=14,
    ...                   n_signatures=2, n_covariates=2, horizon=4, n_epochs=15,
    ...                   min_events=1)
    >>> r["epochs"], r["last_loss"] < r["first_loss"], -1 <= r["phi_corr"] <= 1
    (15, True, True)
    """
    n_epochs = check_integer(n_epochs, "n_epochs", minimum=11)
    horizon = check_integer(horizon, "horizon", minimum=1, maximum=n_times - 3)
    test_share = check_positive(test_share, "test_share")
    sim = simulate_signatures(n_individuals, n_diseases, n_times, n_signatures,
                              n_covariates, rng=seed)
    split = np.random.default_rng(seed + 100)
    cut = n_times - horizon - 2
    is_test = split.uniform(size=n_individuals) < test_share
    train = sim.data.capped(np.where(is_test, cut - 1, n_times - 1))
    fit = fit_signatures(train, n_signatures, n_epochs=n_epochs, verbose=False, tol=None,
                         rtol=rtol, init=initialize(train, n_signatures, rng=seed))
    order = match_signatures(fit.phi, sim.truth.phi)
    test = np.flatnonzero(is_test)
    outcome, eligible = window_outcomes(sim.data.subset(test), cut, cut + horizon)
    score = frozen_theta_risk(fit.theta()[test, :, cut - 1], fit.phi, fit.kappa,
                              cut, cut + horizon)
    oracle = frozen_theta_risk(sim.truth.theta()[test, :, cut - 1], sim.truth.phi,
                               sim.truth.kappa, cut, cut + horizon)
    true_theta = sim.truth.theta()[:, :, :cut]
    fitted_theta = fit.theta()[:, order, :cut]
    history = np.asarray(fit.history)
    change = relative_change(history)
    return dict(
        sim=sim, fit=fit, order=order, cut=cut, test=test,
        converged=bool(fit.converged), epochs=fit.n_iter, relative_change=change,
        first_loss=float(history[0]), last_loss=float(history[-1]),
        drop_per_epoch=float(history[-11] - history[-1]) / 10,
        phi_corr=matched_correlation(fit.phi[order], sim.truth.phi),
        gamma_corr=matched_correlation(fit.gamma[:, order[:-1]], sim.truth.gamma),
        contrast_corr=matched_correlation(
            signature_contrasts(fit.gamma[:, order[:-1]]),
            signature_contrasts(sim.truth.gamma)),
        theta_corr=np.corrcoef(fitted_theta.ravel(), true_theta.ravel())[0, 1],
        kappa=fit.kappa, kappa_true=sim.truth.kappa,
        events=sim.data.event.sum(axis=1).mean(),
        auc=mean_disease_auc(score, outcome, eligible, min_events=min_events),
        auc_oracle=mean_disease_auc(oracle, outcome, eligible, min_events=min_events),
    )


def seed_spread(values: Sequence[float], digits: int = 3) -> str:
    """``"mean (range [lo, hi] over n seeds)"`` of one column of per-seed results.

    Examples
    --------
    >>> from latentlab.signatures.heldout import seed_spread
    >>> seed_spread([0.5, 0.7], 2)
    '0.60 (range [0.50, 0.70] over 2 seeds)'
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"values must be a non-empty 1-D sequence, got shape {x.shape}")
    return (f"{num(x.mean(), digits)} (range "
            f"{interval(x.min(), x.max(), digits)} over {x.size} seeds)")
