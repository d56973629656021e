"""At-risk prevalence of each disease by age, and its smoothed logit μ_d(t)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.ndimage import gaussian_filter1d
from scipy.special import logit

from latentlab._validation import check_positive
from latentlab.signatures.data import SurvivalData, check_survival_data

__all__ = ["at_risk_counts", "at_risk_prevalence", "prevalence_logit"]


def at_risk_counts(data: SurvivalData) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Events and number at risk per disease and age, without a dense N×D×T array.

    Returns
    -------
    events : ndarray of shape (D, T)
        Number of diagnoses of disease d at age t.
    at_risk : ndarray of shape (D, T)
        Number of people with ``E[i, d] ≥ t`` (still at risk at age t).
    """
    check_survival_data(data)
    D, T = data.n_diseases, data.n_times
    d_index = np.broadcast_to(np.arange(D), data.E.shape)
    events = np.zeros((D, T), dtype=np.int64)
    np.add.at(events, (d_index[data.event], data.E[data.event]), 1)
    last = np.zeros((D, T), dtype=np.int64)  # people whose last at-risk age is t
    np.add.at(last, (d_index.ravel(), data.E.ravel()), 1)
    at_risk = np.cumsum(last[:, ::-1], axis=1)[:, ::-1]
    return events, at_risk


def at_risk_prevalence(data: SurvivalData) -> npt.NDArray[np.float64]:
    """Raw at-risk prevalence p_dt = events at t / number at risk at t.

    Ages with nobody at risk get 0. People leave the risk set after their
    event or censoring age.

    Examples
    --------
    >>> from latentlab.signatures import SurvivalData, at_risk_prevalence
    >>> data = SurvivalData(E=[[0], [1], [2]], event=[[1], [1], [0]], G=np.zeros((3, 0)), n_times=3)
    >>> at_risk_prevalence(data).round(3).tolist()
    [[0.333, 0.5, 0.0]]
    """
    events, at_risk = at_risk_counts(data)
    return np.divide(events, at_risk, out=np.zeros(events.shape), where=at_risk > 0)


def prevalence_logit(
    data: SurvivalData, *, smoothing_sigma: float | None = 5.0, floor: float = 1e-8
) -> npt.NDArray[np.float64]:
    """μ_d(t): the logit of at-risk prevalence, Gaussian-smoothed along age.

    Parameters
    ----------
    data : SurvivalData
    smoothing_sigma : float or None
        Standard deviation (in age steps) of the Gaussian filter applied to
        the logit (5 in the reference); None for no smoothing.
    floor : float
        Prevalences are clipped to ``[floor, 1 − floor]`` before the logit.

    Returns
    -------
    ndarray of shape (D, T)

    Examples
    --------
    >>> from latentlab.signatures import SurvivalData, prevalence_logit
    >>> data = SurvivalData(E=[[1], [1]], event=[[1], [0]], G=np.zeros((2, 0)), n_times=2)
    >>> prevalence_logit(data, smoothing_sigma=None).round(2).tolist()
    [[-18.42, 0.0]]
    """
    check_survival_data(data)
    if smoothing_sigma is not None:
        check_positive(smoothing_sigma, "smoothing_sigma", strict=False)
    if not 0 < check_positive(floor, "floor") < 0.5:
        raise ValueError(f"floor must lie in (0, 0.5), got {floor}")
    floor = check_positive(floor, "floor")
    p = np.clip(at_risk_prevalence(data), floor, 1 - floor)
    mu = logit(p)
    if smoothing_sigma is not None:
        sigma = check_positive(smoothing_sigma, "smoothing_sigma")
        mu = gaussian_filter1d(mu, sigma=sigma, axis=1, mode="nearest")
    return mu
