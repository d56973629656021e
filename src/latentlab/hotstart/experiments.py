"""The chapter's experiments as functions: batch training, cold versus hot, scoring, rolling refits.

Pages call these; each returns a frozen dataclass of plain numbers and arrays.
Every fit here uses the library's own pieces: the cold fit is
:func:`latentlab.signatures.fit_signatures` (section-2 initialisation with
cluster labels shared across batches), the hot fit is
:class:`~latentlab.hotstart.FixedSignaturePredictor`.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from latentlab._validation import as_generator, check_integer
from latentlab.hotstart.checkpoints import Checkpoint, checkpoint_from_fit, covariate_standardisation
from latentlab.hotstart.metrics import AucResult, auc_with_ci
from latentlab.hotstart.predict import FixedSignaturePredictor, epochs_to_threshold, predict_hazards
from latentlab.hotstart.risk import RiskWindow, dynamic_risk, forward_nll, static_risk, window_outcomes, yearly_group_risk
from latentlab.signatures.data import SurvivalData
from latentlab.signatures.fit import FitResult, fit_signatures
from latentlab.signatures.init import cluster_diseases, initial_psi, initialize

__all__ = [
    "stack_data",
    "standardised",
    "BatchTraining",
    "train_batch_checkpoints",
    "fit_cold",
    "PredictionScore",
    "score_prediction",
    "ColdHotRun",
    "cold_vs_hot",
    "RollingRisk",
    "rolling_risks",
    "redraw_after",
]


def stack_data(batches: Sequence[SurvivalData]) -> SurvivalData:
    """Concatenate the people of several batches into one :class:`SurvivalData`."""
    batches = list(batches)
    if not batches:
        raise ValueError("batches must hold at least one SurvivalData")
    return SurvivalData(
        E=np.concatenate([b.E for b in batches]), event=np.concatenate([b.event for b in batches]),
        G=np.concatenate([b.G for b in batches]), n_times=batches[0].n_times,
    )


def standardised(data: SurvivalData, mean: np.ndarray, scale: np.ndarray) -> SurvivalData:
    """The same people with covariates standardised by the given (training) mean and scale."""
    return SurvivalData(E=data.E, event=data.event, G=(data.G - mean) / scale, n_times=data.n_times)


@dataclass(frozen=True)
class BatchTraining:
    """Cold fits of training batches with shared labels, as checkpoints."""

    checkpoints: tuple[Checkpoint, ...]
    clusters: np.ndarray
    psi: np.ndarray
    covariate_mean: np.ndarray
    covariate_scale: np.ndarray
    wall_times: tuple[float, ...]


def fit_cold(data: SurvivalData, n_signatures: int, *, clusters, psi, n_epochs: int, rng=None,
             learn_kappa: bool = True, tol: float | None = None,
             lr_multipliers: dict[str, float] | None = None,
             rtol: float | None = None) -> FitResult:
    """Section-2 cold fit of one batch (standardised G) with shared clusters and ψ; clamp warnings muted.

    ``learn_kappa=False`` keeps κ at 1 (the reference's newer pipeline); ``tol``
    stops at convergence (|ΔL| < tol), ``rtol`` by the relative rule of
    :func:`~latentlab.signatures.fit.relative_change_met` (window 10, patience
    3), ``None`` for both runs all ``n_epochs``; ``lr_multipliers`` overrides
    the per-parameter learning-rate multipliers.
    """
    init = initialize(data, n_signatures, rng=rng, clusters=clusters, psi=psi)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*clamp binds.*")
        warnings.filterwarnings("ignore", message=".*not writable.*")
        return fit_signatures(data, n_signatures, init=init, n_epochs=n_epochs, tol=tol, verbose=False,
                              learn_kappa=learn_kappa, lr_multipliers=lr_multipliers, rtol=rtol)


def train_batch_checkpoints(
    batches: Sequence[SurvivalData], n_signatures: int, *, n_epochs: int = 200, rng=None,
    learn_kappa: bool = True, tol: float | None = None,
    lr_multipliers: dict[str, float] | None = None,
) -> BatchTraining:
    """Fit every training batch cold and return one checkpoint per batch.

    As in the reference pipeline, G is standardised once over all training
    batches and diseases are clustered once on all training people, so every
    batch starts from the same ψ and the signatures share labels (which is what
    makes pooling meaningful). ``learn_kappa=False`` fixes κ = 1 in every batch.
    """
    K = check_integer(n_signatures, "n_signatures", minimum=1)
    generator = as_generator(rng)
    batches = list(batches)
    mean, scale = covariate_standardisation(np.concatenate([b.G for b in batches]))
    scaled = [standardised(b, mean, scale) for b in batches]
    clusters = cluster_diseases(stack_data(scaled), K, rng=generator)
    psi = initial_psi(clusters, K, rng=generator)
    checkpoints, times = [], []
    for index, batch in enumerate(scaled):
        began = time.perf_counter()
        fit = fit_cold(batch, K, clusters=clusters, psi=psi, n_epochs=n_epochs, rng=generator,
                       learn_kappa=learn_kappa, tol=tol, lr_multipliers=lr_multipliers)
        times.append(time.perf_counter() - began)
        checkpoints.append(checkpoint_from_fit(fit, covariate_mean=mean, covariate_scale=scale,
                                               metadata={"batch": index}))
    return BatchTraining(tuple(checkpoints), clusters, psi, mean, scale, tuple(times))


@dataclass(frozen=True)
class PredictionScore:
    """How well hazards predict a disease group after enrollment."""

    auc: AucResult
    forward_nll: float
    n_evaluable: int


def score_prediction(
    hazards: np.ndarray, data: SurvivalData, *, enrollment: int, diseases: Sequence[int], horizon: int,
    kind: str = "dynamic", n_boot: int = 100, rng=None,
) -> PredictionScore:
    """AUC of the k-year group risk over [enrollment, enrollment + horizon) and the forward NLL.

    Prevalent and censored people are excluded from the AUC (one window for
    the risk and the outcome). ``forward_nll`` is the mean per-person NLL of
    all follow-up from ``enrollment`` on.
    """
    window = RiskWindow(enrollment, horizon)
    risk = {"dynamic": dynamic_risk, "static": static_risk}.get(kind)
    if risk is None:
        raise ValueError(f"kind must be 'dynamic' or 'static', got {kind!r}")
    outcome = window_outcomes(data.E, data.event, diseases, window, n_times=data.n_times)
    auc = auc_with_ci(outcome.event, risk(hazards, diseases, window), mask=outcome.evaluable, n_boot=n_boot, rng=rng)
    nll = float(forward_nll(hazards, data.E, data.event, enrollment).mean())
    return PredictionScore(auc=auc, forward_nll=nll, n_evaluable=int(outcome.evaluable.sum()))


@dataclass(frozen=True)
class ColdHotRun:
    """One seed of the cold-versus-hot comparison on a held-out batch.

    ``threshold`` is the lowest objective the hot fit reached within its budget
    and ``hot_epochs`` the epoch it got there; ``cold_epochs`` is how many epochs
    the cold fit needed to reach the same value (None if it never did). The
    times are wall-clock seconds to reach it. ``*_forward_nll`` score the
    follow-up after enrollment, which neither fit saw.
    """

    seed: int
    cold_history: tuple[float, ...]
    hot_history: tuple[float, ...]
    threshold: float
    cold_epochs: int | None
    hot_epochs: int
    cold_seconds: float | None
    hot_seconds: float
    cold_auc: float
    hot_auc: float
    cold_forward_nll: float
    hot_forward_nll: float


def cold_vs_hot(
    master: Checkpoint, data: SurvivalData, n_signatures: int, *, clusters, psi, enrollment: int,
    diseases: Sequence[int], horizon: int, n_epochs_cold: int, n_epochs_hot: int, seeds: Sequence[int],
    learning_rate_hot: float = 0.03,
) -> list[ColdHotRun]:
    """Fit a held-out batch (RAW G) cold and hot on its follow-up before ``enrollment``, per seed.

    The hot fit uses ``learning_rate_hot`` (0.03: the reference's 0.1 first throws a
    good start away, see the chapter); the cold fit uses the reference's 0.1.
    """
    scaled = standardised(data, master.covariate_mean, master.covariate_scale)
    runs = []
    for seed in seeds:
        began = time.perf_counter()
        cold = fit_cold(scaled.capped(enrollment - 1), n_signatures, clusters=clusters, psi=psi,
                        n_epochs=n_epochs_cold, rng=seed)
        cold_time = time.perf_counter() - began
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*clamp binds.*")
            warnings.filterwarnings("ignore", message=".*exceeded 1.*")
            hot = FixedSignaturePredictor(master, n_epochs=n_epochs_hot, learning_rate=learning_rate_hot).fit(
                data, enrollment=enrollment, rng=seed)
        threshold = min(hot.history)
        cold_epochs = epochs_to_threshold(cold.history, threshold)
        hot_epochs = epochs_to_threshold(hot.history, threshold)
        cold_score = score_prediction(cold.pi(eps=1e-8), data, enrollment=enrollment, diseases=diseases,
                                      horizon=horizon, n_boot=0)
        hot_score = score_prediction(predict_hazards(master, hot.lam), data, enrollment=enrollment,
                                     diseases=diseases, horizon=horizon, n_boot=0)
        runs.append(ColdHotRun(
            seed=int(seed), cold_history=cold.history, hot_history=hot.history, threshold=threshold,
            cold_epochs=cold_epochs, hot_epochs=hot_epochs,
            cold_seconds=None if cold_epochs is None else cold_time * cold_epochs / cold.n_iter,
            hot_seconds=hot.wall_time * hot_epochs / hot.n_iter, cold_auc=cold_score.auc.auc,
            hot_auc=hot_score.auc.auc, cold_forward_nll=cold_score.forward_nll, hot_forward_nll=hot_score.forward_nll,
        ))
    return runs


@dataclass(frozen=True)
class RollingRisk:
    """Rolling 1-year risks: refit o sees follow-up before enrollment + o and predicts that year.

    Attributes
    ----------
    offsets : ndarray of int
    risk, outcome, evaluable : ndarray of shape (N, n_offsets)
    auc : ndarray of shape (n_offsets,)
        NaN where the year has no event among evaluable people.
    """

    offsets: np.ndarray
    risk: np.ndarray
    outcome: np.ndarray
    evaluable: np.ndarray
    auc: np.ndarray


def rolling_risks(
    predictor: FixedSignaturePredictor, data: SurvivalData, *, enrollment: int, offsets: Sequence[int],
    diseases: Sequence[int], rng=None,
) -> RollingRisk:
    """Refit λ at each offset o (follow-up cut at enrollment + o − 1) and take the 1-year risk of year enrollment + o."""
    offsets = np.asarray([check_integer(int(o), "offsets", minimum=0) for o in offsets])
    if enrollment + offsets.max() >= data.n_times:
        raise ValueError(f"enrollment + max(offsets) must be < n_times = {data.n_times}")
    seed = int(as_generator(rng).integers(2**31 - 1))
    risks, outcomes, masks, aucs = [], [], [], []
    for offset in offsets:
        start = enrollment + int(offset)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*exceeded 1.*")
            fit = predictor.fit(data, enrollment=start, rng=seed)
        hazards = predict_hazards(predictor.checkpoint, fit.lam)
        risks.append(yearly_group_risk(hazards, diseases, start))
        out = window_outcomes(data.E, data.event, diseases, RiskWindow(start, 1))
        outcomes.append(out.event)
        masks.append(out.evaluable)
        y = out.event[out.evaluable]
        aucs.append(auc_with_ci(y, risks[-1][out.evaluable], n_boot=0).auc if 0 < y.sum() < y.size else np.nan)
    return RollingRisk(offsets, np.stack(risks, 1), np.stack(outcomes, 1), np.stack(masks, 1), np.array(aucs))


def redraw_after(data: SurvivalData, start: int, rng=None) -> SurvivalData:
    """The same people with every follow-up from age ``start`` on replaced at random.

    Pairs still at risk at ``start`` get a new event-or-censoring age uniform in
    [start, T−1] and a random event flag; earlier follow-up is untouched. Used
    to show that predictions from enrollment ``start`` ignore later data.
    """
    generator = as_generator(rng)
    start = check_integer(start, "start", minimum=0, maximum=data.n_times - 1)
    later = data.E >= start
    E = np.where(later, generator.integers(start, data.n_times, size=data.E.shape), data.E)
    event = np.where(later, generator.random(data.E.shape) < 0.5, data.event)
    return SurvivalData(E=E, event=event, G=data.G, n_times=data.n_times)
