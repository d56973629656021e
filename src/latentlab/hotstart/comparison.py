"""Hot start versus cold fit, compared on predictions after enrollment.

Both fits see the same thing, the held-out people's follow-up before the
enrollment age t_e, and both run until their objective stops changing by the
same relative rule (:func:`~latentlab.signatures.fit.relative_change_met`) or a
stated epoch cap. They are then scored on the follow-up from t_e on, which
neither saw: the forward negative log-likelihood per person, the k-year AUC of
a disease group, and (in a simulation) the ratio of predicted to true hazards.

* **hot**: φ, γ, κ frozen at a master checkpoint; only λ is fitted.
* **cold**: the best a user without a master can do: fit the whole model to
  these people alone. It cannot know how risk changes with age after t_e (no
  one in the batch has follow-up there, so its prevalence anchor μ has no data
  there); each person's hazards are carried forward from their last seen age.

Wall times are the fits' own seconds, measured in the same process.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy.stats import t as student

from latentlab._results import read_results
from latentlab.claims import num
from latentlab.hotstart.calibration import at_risk_window, hazard_ratio
from latentlab.hotstart.checkpoints import Checkpoint
from latentlab.hotstart.experiments import fit_cold, score_prediction, standardised
from latentlab.hotstart.predict import FixedSignaturePredictor, predict_hazards
from latentlab.signatures.data import SurvivalData

__all__ = [
    "FitQuality", "benchmark_results", "carry_forward", "hot_and_cold", "mean_half_width",
    "summary_text", "intervals_apart",
]


@dataclass(frozen=True)
class FitQuality:
    """One fit's predictions after enrollment.

    Attributes
    ----------
    kind : {"hot", "cold"}
    seed : int
    seconds : float
        Wall time of the fit.
    epochs : int
    converged : bool
    forward_nll : float
        Mean NLL per person of the follow-up from enrollment on.
    auc : float
        AUC of the dynamic k-year risk of the disease group.
    hazard_ratio : float or None
        Σ predicted / Σ true hazards over the window (needs the true hazards).
    """

    kind: str
    seed: int
    seconds: float
    epochs: int
    converged: bool
    forward_nll: float
    auc: float
    hazard_ratio: float | None


def benchmark_results(path: str | Path | None = None, *, name: str = "hotstart") -> dict | None:
    """The hot-start benchmark's results (``benchmarks/results/<name>.json``), or None.

    Written by ``benchmarks/hotstart.py``; a book page quotes the multi-seed
    hot-versus-cold comparison from here (``["hot_vs_cold"]``: ``rule``,
    ``points``, ``summary``, ``twice_minus_rule``), never typed. ``name``
    picks a run (``"hotstart_rtol1e-6"``: the tighter rule) when ``path`` is
    not given.

    Examples
    --------
    >>> from latentlab.hotstart.comparison import benchmark_results
    >>> benchmark_results("no/such/file.json") is None
    True
    """
    if path is None and (not isinstance(name, str) or not name or "/" in name):
        raise ValueError(f"name must be a file name without folders, got {name!r}")
    return read_results(path, f"{name}.json", lambda payload: "hot_vs_cold" in payload)


def carry_forward(hazards: np.ndarray, enrollment: int) -> np.ndarray:
    """Hazards with every age from ``enrollment`` on set to the age before it.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart.comparison import carry_forward
    >>> carry_forward(np.arange(4.0).reshape(1, 1, 4), 2).tolist()
    [[[0.0, 1.0, 1.0, 1.0]]]
    """
    hazards = np.array(hazards, dtype=float, copy=True)
    if not 1 <= enrollment <= hazards.shape[-1]:
        raise ValueError(
            f"enrollment must lie in [1, {hazards.shape[-1]}]; got {enrollment}"
        )
    hazards[..., enrollment:] = hazards[..., enrollment - 1 : enrollment]
    return hazards


def hot_and_cold(
    master: Checkpoint,
    data: SurvivalData,
    n_signatures: int,
    *,
    clusters,
    psi,
    enrollment: int,
    diseases: Sequence[int],
    horizon: int,
    seeds: Sequence[int],
    max_epochs_hot: int = 4000,
    max_epochs_cold: int = 6000,
    rtol: float = 1e-5,
    true_hazards: np.ndarray | None = None,
) -> list[FitQuality]:
    """Fit ``data`` (raw G) hot and cold before ``enrollment`` per seed; score after it.

    Both fits stop by one rule: the mean relative change of their objective
    per epoch over 10 epochs is at most ``rtol`` on 3 consecutive epochs
    (:func:`~latentlab.signatures.fit.relative_change_met`); either may stop
    at its epoch cap instead, which ``converged`` records.
    """
    scaled = standardised(data, master.covariate_mean, master.covariate_scale)
    window = at_risk_window(data.E, data.n_times, enrollment, enrollment + horizon)
    rows = []
    for seed in seeds:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*exceeded 1.*")
            hot = FixedSignaturePredictor(
                master, n_epochs=max_epochs_hot, learning_rate=0.03, tol=rtol
            ).fit(data, enrollment=enrollment, rng=seed)
        began = time.perf_counter()
        cold = fit_cold(
            scaled.capped(enrollment - 1),
            n_signatures,
            clusters=clusters,
            psi=psi,
            n_epochs=max_epochs_cold,
            rng=seed,
            tol=None,
            rtol=rtol,
        )
        cold_seconds = time.perf_counter() - began
        for kind, hazards, seconds, fit in (
            ("hot", predict_hazards(master, hot.lam), hot.wall_time, hot),
            ("cold", carry_forward(cold.pi(eps=1e-8), enrollment), cold_seconds, cold),
        ):
            score = score_prediction(
                hazards,
                data,
                enrollment=enrollment,
                diseases=diseases,
                horizon=horizon,
                n_boot=0,
            )
            ratio = (
                None
                if true_hazards is None
                else hazard_ratio(hazards, true_hazards, window)
            )
            rows.append(
                FitQuality(
                    kind=kind,
                    seed=int(seed),
                    seconds=float(seconds),
                    epochs=int(fit.n_iter),
                    converged=bool(fit.converged),
                    forward_nll=float(score.forward_nll),
                    auc=float(score.auc.auc),
                    hazard_ratio=ratio,
                )
            )
    return rows


def mean_half_width(values: Sequence[float]) -> tuple[float, float]:
    """Mean and half-width of the 95 % Student-t interval over seeds.

    The half-width is NaN for a single value (no spread to estimate).

    Examples
    --------
    >>> from latentlab.hotstart.comparison import mean_half_width
    >>> mean, half = mean_half_width([1.0, 2.0, 3.0])
    >>> mean, round(half, 3)
    (2.0, 2.484)
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"values must be a non-empty 1-D sequence, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("values must be finite")
    if x.size == 1:
        return float(x[0]), float("nan")
    half = student.ppf(0.975, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return float(x.mean()), float(half)


def _summary_value(row, column: str) -> tuple[float, float]:
    if not isinstance(column, str):
        raise TypeError(f"column must be a str, got {type(column).__name__}")
    for key in (column, column + "_half"):
        if key not in row:
            raise ValueError(f"row has no {key!r} (a summary row holds a mean and its "
                             "'_half' interval half-width)")
    return float(row[column]), float(row[column + "_half"])


def summary_text(row, column: str, digits: int = 3) -> str:
    """'mean ± half-width' of one column of a benchmark summary row.

    ``row`` maps ``column`` to a mean over seeds and ``column + "_half"`` to
    the half-width of its 95 % interval (:func:`mean_half_width`); numbers are
    written by :func:`latentlab.claims.num` (``digits`` significant digits for
    the mean, one for the half-width).

    Examples
    --------
    >>> from latentlab.hotstart.comparison import summary_text
    >>> summary_text({"auc": 0.6614, "auc_half": 0.0031}, "auc")
    '0.661 ± 0.003'
    """
    mean, half = _summary_value(row, column)
    if not np.isfinite(half):
        return num(mean, digits)
    return f"{num(mean, digits)} ± {num(half, 1)}"


def intervals_apart(a, b, column: str) -> bool:
    """Whether the 95 % intervals of one column in two summary rows do not overlap.

    Examples
    --------
    >>> from latentlab.hotstart.comparison import intervals_apart
    >>> hot = {"auc": 0.66, "auc_half": 0.01}
    >>> intervals_apart(hot, {"auc": 0.36, "auc_half": 0.03}, "auc")
    True
    >>> intervals_apart(hot, {"auc": 0.65, "auc_half": 0.03}, "auc")
    False
    """
    mean_a, half_a = _summary_value(a, column)
    mean_b, half_b = _summary_value(b, column)
    return bool(abs(mean_a - mean_b) > half_a + half_b)

