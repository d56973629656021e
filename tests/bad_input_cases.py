"""The table of should-refuse inputs behind tests/test_bad_input_battery.py (issue 17).

Each :class:`Case` names a public callable, the argument at fault (a regex the
message must contain) and a thunk that calls it with a bad value. Run this file
to print the outcome counts: clear / unclear / silent / dependency crash.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch

import latentlab

#: Analysis subpackages whose ``__all__`` the battery covers.
MODULES = (
    "latentlab",
    "latentlab.alignment",
    "latentlab.curves",
    "latentlab.datasets",
    "latentlab.hotstart",
    "latentlab.lymph",
    "latentlab.mcmc",
    "latentlab.mixing",
    "latentlab.mixture",
    "latentlab.model_checks",
    "latentlab.mofa",
    "latentlab.nn",
    "latentlab.optim",
    "latentlab.plotting",
    "latentlab.signatures",
    "latentlab.sweep",
)
#: Modules that are the book's build and teaching tooling (page execution, HTML and
#: prose checks, claims, student editions, exercise feedback) or private helpers
#: whose checks have their own tests: they never receive an analyst's data.
EXEMPT_MODULES = (
    "latentlab.book_tools",
    "latentlab.claims",
    "latentlab.commonmark",
    "latentlab.editions",
    "latentlab.exercises",
    "latentlab.htmlcheck",
    "latentlab.prosecheck",
    "latentlab._timings",
    "latentlab._solutions",
    "latentlab._validation",
    "latentlab._scalars",
    "latentlab._formatting",
    "latentlab._divergence",
    "latentlab.pagecheck",
    "latentlab._lse",
    "latentlab._answers",
    "latentlab._book_index",
    "latentlab._editions_cli",
    "latentlab._parallel_build",
    "latentlab._results",  # private; its bad input is tested in tests/test_results_files.py
)
_RESULT = "a frozen result container that fitters return; users read it, never build it from data"
_NOARG = "takes no arguments"
#: Public callables without cases, each with the reason.
EXEMPT_NAMES = {
    **{
        f"latentlab.{n}": _RESULT
        for n in (
            "alignment.RigidTransform",
            "curves.LocalPrincipalCurve",
            "curves.CurveProjection",
            "datasets.MultiOmicsData",
            "datasets.LymphCohort",
            "hotstart.LambdaFit",
            "hotstart.AucResult",
            "hotstart.CalibrationResult",
            "hotstart.WindowOutcome",
            "hotstart.JaccardResult",
            "mcmc.AIPResult",
            "mcmc.ChainResult",
            "mcmc.MarginalChains",
            "mcmc.HMCResult",
            "mcmc.MixtureHMC",
            "model_checks.KChoice",
            "mcmc.Summary",
            "mixture.EMResult",
            "mofa.MOFAResult",
            "mofa.SimulatedMOFA",
            "nn.GradCheckResult",
            "optim.TrainResult",
            "signatures.FitResult",
            "signatures.InitialState",
            "signatures.ObjectiveTerms",
            "sweep.F1OverTime",
            "sweep.ModelChoice",
            "lymph.HMMData",
        )
    },
    **{
        f"latentlab.nn.{n}": _NOARG
        for n in (
            "Sigmoid",
            "Tanh",
            "ReLU",
            "Softmax",
            "Identity",
            "Loss",
            "MSELoss",
            "BCEWithLogitsLoss",
            "CrossEntropyLoss",
        )
    },
    "latentlab.optim.Schedule": "abstract base class; its subclasses have cases",
    "latentlab.optim.Optimizer": "abstract base class; SGD, Momentum, Adam have cases",
    "latentlab.plotting.set_style": "style setter for the book's figures, no user data",
    "latentlab.plotting.new_figure": "thin wrapper of matplotlib.pyplot.subplots (its own errors)",
    "latentlab.signatures.gpu_results": "reads the repository's benchmark file; no user data",
    "latentlab.signatures.kernel_status": _NOARG,
}


#: Cases that still fail, each with the reason (the battery marks them xfail, strict).
KNOWN: dict[str, str] = {}


@dataclass(frozen=True)
class Case:
    name: str  # qualified public name, e.g. "latentlab.mixing.forward"
    label: str
    arg: str  # regex the message must contain (the argument's name)
    call: Callable[[], object]


def public_callables() -> list[str]:
    """Every callable in the ``__all__`` of MODULES, except exception and warning classes."""
    names = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if not callable(value) or (
                inspect.isclass(value) and issubclass(value, BaseException)
            ):
                continue
            names.append(f"{module_name}.{name}")
    return names


_PACKAGE = Path(latentlab.__file__).resolve().parent


def classify(case: Case) -> tuple[str, str]:
    """``("clear" | "unclear" | "silent" | "dependency" | "crash", detail)``."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            case.call()
        except (ValueError, TypeError) as exc:
            where = Path(traceback.extract_tb(exc.__traceback__)[-1].filename).resolve()
            text = f"{type(exc).__name__}: {exc}"
            if _PACKAGE not in where.parents:
                return "dependency", f"{text} (raised in {where.name})"
            if not re.search(case.arg, str(exc)):
                return "unclear", f"{text} (does not name {case.arg!r})"
            return "clear", text
        except Exception as exc:  # noqa: BLE001 - anything else is a crash
            return "crash", f"{type(exc).__name__}: {exc}"
    return "silent", "accepted without an error"


# ---------------------------------------------------------------- shared inputs
@functools.cache
def sim():
    from latentlab.datasets.signatures_sim import simulate_signatures

    return simulate_signatures(
        n_individuals=30, n_diseases=5, n_times=8, n_signatures=2, rng=0
    )


@functools.cache
def ckpt():
    from latentlab.hotstart import Checkpoint

    phi = np.stack([np.full((3, 6), -1.0), np.full((3, 6), -6.0)])
    return Checkpoint(
        phi=phi,
        psi=np.zeros((2, 3)),
        gamma=np.zeros((1, 1)),
        kappa=1.0,
        prevalence_logit=np.zeros((3, 6)),
        reference_logit=np.zeros((1, 6)),
        covariate_mean=np.zeros(1),
        covariate_scale=np.ones(1),
        signature_labels=("s0", "healthy"),
    )


def ckpt_fields(**changes):
    c = ckpt()
    fields = dict(
        phi=c.phi,
        psi=c.psi,
        gamma=c.gamma,
        kappa=c.kappa,
        prevalence_logit=c.prevalence_logit,
        reference_logit=c.reference_logit,
        covariate_mean=c.covariate_mean,
        covariate_scale=c.covariate_scale,
        signature_labels=c.signature_labels,
    )
    fields.update(changes)
    return fields


@functools.cache
def small_data():
    from latentlab.signatures import SurvivalData

    rng = np.random.default_rng(0)
    return SurvivalData(
        E=rng.integers(1, 6, size=(8, 3)),
        event=rng.random((8, 3)) < 0.5,
        G=rng.normal(size=(8, 1)),
        n_times=6,
    )


@functools.cache
def mix():
    from latentlab.mixture import BernoulliComponent, simulate_mixture

    comp = BernoulliComponent(3)
    X, z, _ = simulate_mixture(
        comp,
        [[0.9, 0.9, 0.1], [0.1, 0.1, 0.9]],
        [[0.7, 0.2], [0.3, 0.8]],
        [20, 20],
        rng=0,
    )
    return comp, X, np.array([0] * 20 + [1] * 20)


@functools.cache
def views():
    rng = np.random.default_rng(0)
    return [rng.normal(size=(20, 6)), rng.normal(size=(20, 4))]


@functools.cache
def net():
    from latentlab.nn import MLP

    return MLP([3, 4, 1], rng=0)


def XY():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 3))
    return X, (X[:, 0] > 0).astype(float)


@functools.cache
def helix():
    from latentlab.sweep import noisy_helix

    return noisy_helix(120, rng=0)[1]


@functools.cache
def tables():
    from latentlab.sweep import simulate_instance_pair

    return simulate_instance_pair(0.5, n_embryos=4, n_frames=8, rng=0)


@functools.cache
def hmm():
    from latentlab.lymph import LymphHMMComponent

    return LymphHMMComponent()


R = np.random.default_rng(1)
P3 = R.normal(size=(10, 3))
NANP = P3.copy()
NANP[0, 0] = np.nan
CHAIN = R.normal(size=(50, 6, 2))
CASES: list[Case] = []


def case(name: str, label: str, arg: str, call: Callable[[], object]) -> None:
    CASES.append(Case(f"latentlab.{name}", label, arg, call))


def mod(name):
    return importlib.import_module(f"latentlab.{name}")


# ---------------------------------------------------------------- alignment
A = mod("alignment")
for fn in ("kabsch", "horn_quaternion", "align", "aligned_rmse", "aligned_rmsd"):
    f = getattr(A, fn)
    case(f"alignment.{fn}", "complex P", "P", lambda f=f: f(P3 + 1j, P3))
    case(f"alignment.{fn}", "mismatched shapes", "P|Q", lambda f=f: f(P3, P3[:5]))
    case(f"alignment.{fn}", "NaN", "P", lambda f=f: f(NANP, P3))
    case(
        f"alignment.{fn}",
        "empty",
        "P|Q",
        lambda f=f: f(np.zeros((0, 3)), np.zeros((0, 3))),
    )
case(
    "alignment.align",
    "unknown method",
    "method",
    lambda: A.align(P3, P3, method="nope"),
)
for fn in ("coordinate_rmse", "point_rmsd"):
    f = getattr(A, fn)
    case(f"alignment.{fn}", "mismatched shapes", "A|B", lambda f=f: f(P3, P3[:5]))
    case(f"alignment.{fn}", "complex", "A", lambda f=f: f(P3 + 1j, P3))
    case(f"alignment.{fn}", "NaN", "A", lambda f=f: f(NANP, P3))

# ---------------------------------------------------------------- curves
C = mod("curves")
case(
    "curves.fit_local_principal_curve",
    "bandwidth <= 0",
    "bandwidth",
    lambda: C.fit_local_principal_curve(helix(), 0),
)
case(
    "curves.fit_local_principal_curve",
    "NaN",
    "X",
    lambda: C.fit_local_principal_curve(NANP, 0.5),
)
case(
    "curves.fit_local_principal_curve",
    "complex",
    "X",
    lambda: C.fit_local_principal_curve(helix() + 1j, 0.5),
)
case(
    "curves.fit_local_principal_curve",
    "unknown mode",
    "mode",
    lambda: C.fit_local_principal_curve(helix(), 0.5, mode="nope"),
)
case(
    "curves.fit_local_principal_curve",
    "1-D X",
    "X",
    lambda: C.fit_local_principal_curve(np.arange(5.0), 0.5),
)
case(
    "curves.default_max_iter",
    "step <= 0",
    "step",
    lambda: C.default_max_iter(helix(), -1.0),
)
case("curves.default_max_iter", "NaN X", "X", lambda: C.default_max_iter(NANP, 0.1))
case(
    "curves.project_onto_curve",
    "dimension mismatch",
    "X|curve",
    lambda: C.project_onto_curve(P3, np.zeros((5, 2))),
)
case(
    "curves.project_onto_curve",
    "chunk_size 0",
    "chunk_size",
    lambda: C.project_onto_curve(P3, P3, chunk_size=0),
)
case("curves.project_onto_curve", "NaN X", "X", lambda: C.project_onto_curve(NANP, P3))
case(
    "curves.resample_equal_arclength",
    "n_points 1",
    "n_points",
    lambda: C.resample_equal_arclength(P3, 1),
)
case(
    "curves.resample_equal_arclength",
    "unknown spline",
    "spline",
    lambda: C.resample_equal_arclength(P3, 10, spline="nope"),
)
case(
    "curves.resample_equal_arclength",
    "NaN curve",
    "curve",
    lambda: C.resample_equal_arclength(NANP, 10),
)
case("curves.curve_length", "NaN curve", "curve", lambda: C.curve_length(NANP))
case(
    "curves.curve_length", "1-D curve", "curve", lambda: C.curve_length(np.arange(4.0))
)
case("curves.curve_length", "complex", "curve", lambda: C.curve_length(P3 + 1j))
case(
    "curves.fit_measures",
    "dimension mismatch",
    "X|curve",
    lambda: C.fit_measures(P3, np.zeros((5, 2))),
)
case("curves.fit_measures", "tau <= 0", "tau", lambda: C.fit_measures(P3, P3, tau=-1.0))

# ---------------------------------------------------------------- datasets
D = mod("datasets")
case(
    "datasets.load_breast_tcga",
    "unknown split",
    "split",
    lambda: D.load_breast_tcga("nope"),
)
case(
    "datasets.load_breast_tcga", "split not str", "split", lambda: D.load_breast_tcga(3)
)
case(
    "datasets.load_isb_multisite",
    "negative min_subgroup_size",
    "min_subgroup_size",
    lambda: D.load_isb_multisite(min_subgroup_size=-1),
)
case(
    "datasets.load_usz_oropharynx",
    "negative min_subgroup_size",
    "min_subgroup_size",
    lambda: D.load_usz_oropharynx(min_subgroup_size=-1),
)
case(
    "datasets.read_lydata",
    "unknown side",
    "side",
    lambda: D.read_lydata("x.csv", side="left"),
)
case("datasets.read_lydata", "source not a path", "source", lambda: D.read_lydata(3.5))

# ---------------------------------------------------------------- hotstart
H = mod("hotstart")
Checkpoint = H.Checkpoint
case(
    "hotstart.Checkpoint",
    "complex phi",
    "phi",
    lambda: Checkpoint(**ckpt_fields(phi=ckpt().phi + 1j)),
)
case(
    "hotstart.Checkpoint",
    "kappa <= 0",
    "kappa",
    lambda: Checkpoint(**ckpt_fields(kappa=0.0)),
)
case(
    "hotstart.Checkpoint",
    "psi shape",
    "psi",
    lambda: Checkpoint(**ckpt_fields(psi=np.zeros((3, 3)))),
)
case(
    "hotstart.Checkpoint",
    "labels count",
    "signature_labels",
    lambda: Checkpoint(**ckpt_fields(signature_labels=("a",))),
)
case(
    "hotstart.Checkpoint",
    "scale <= 0",
    "covariate_scale",
    lambda: Checkpoint(**ckpt_fields(covariate_scale=np.zeros(1))),
)
case(
    "hotstart.checkpoint_from_fit",
    "not a fit",
    "fit",
    lambda: H.checkpoint_from_fit(3, covariate_mean=[0.0], covariate_scale=[1.0]),
)
case(
    "hotstart.covariate_standardisation",
    "one row",
    "covariates",
    lambda: H.covariate_standardisation([[1.0, 2.0]]),
)
case(
    "hotstart.covariate_standardisation",
    "complex",
    "covariates",
    lambda: H.covariate_standardisation(P3 + 1j),
)
case(
    "hotstart.save_checkpoint",
    "not a checkpoint",
    "checkpoint",
    lambda: H.save_checkpoint({}, "x.npz"),
)
case(
    "hotstart.save_checkpoint",
    "bad suffix",
    "path",
    lambda: H.save_checkpoint(ckpt(), "x.txt"),
)
case(
    "hotstart.load_checkpoint",
    "n_diseases as str",
    "n_diseases",
    lambda: H.load_checkpoint("x.npz", n_diseases="6"),
)
case(
    "hotstart.load_checkpoint",
    "bad fmt",
    "fmt",
    lambda: H.load_checkpoint("x.npz", fmt="pickle"),
)
case(
    "hotstart.pool_checkpoints", "empty", "checkpoints", lambda: H.pool_checkpoints([])
)
case(
    "hotstart.pool_checkpoints",
    "leave_out out of range",
    "leave_out",
    lambda: H.pool_checkpoints([ckpt(), ckpt()], leave_out=5),
)
FSP = H.FixedSignaturePredictor
case(
    "hotstart.FixedSignaturePredictor",
    "learning_rate <= 0",
    "learning_rate",
    lambda: FSP(ckpt(), learning_rate=0),
)
case(
    "hotstart.FixedSignaturePredictor",
    "unknown init",
    "init",
    lambda: FSP(ckpt(), init="warm"),
)
case(
    "hotstart.FixedSignaturePredictor",
    "int dtype",
    "dtype",
    lambda: FSP(ckpt(), dtype=torch.int32),
)
case(
    "hotstart.FixedSignaturePredictor",
    "not a checkpoint",
    "checkpoint",
    lambda: FSP({}),
)
case(
    "hotstart.FixedSignaturePredictor",
    "unknown extrapolation",
    "extrapolation",
    lambda: FSP(ckpt(), extrapolation="linear"),
)
case(
    "hotstart.fit_lambda",
    "data of other D",
    "n_diseases",
    lambda: H.fit_lambda(ckpt(), sim().data, n_epochs=1),
)
case(
    "hotstart.fit_lambda",
    "enrollment 0",
    "enrollment",
    lambda: H.fit_lambda(ckpt(), small_data(), enrollment=0, n_epochs=1),
)
case(
    "hotstart.fit_lambda",
    "n_epochs 0",
    "n_epochs",
    lambda: H.fit_lambda(ckpt(), small_data(), n_epochs=0),
)
case(
    "hotstart.epochs_to_threshold",
    "NaN threshold",
    "threshold",
    lambda: H.epochs_to_threshold([1.0, 2.0], np.nan),
)
case(
    "hotstart.epochs_to_threshold",
    "2-D history",
    "history",
    lambda: H.epochs_to_threshold(np.ones((2, 2)), 1.0),
)
case(
    "hotstart.predict_hazards",
    "lam shape",
    "lam",
    lambda: H.predict_hazards(ckpt(), np.zeros((4, 3, 6))),
)
case(
    "hotstart.predict_hazards",
    "NaN lam",
    "lam",
    lambda: H.predict_hazards(ckpt(), np.full((4, 2, 6), np.nan)),
)
case(
    "hotstart.auc_with_ci",
    "one class",
    "outcome",
    lambda: H.auc_with_ci(np.zeros(10), np.arange(10.0)),
)
case(
    "hotstart.auc_with_ci",
    "complex score",
    "score",
    lambda: H.auc_with_ci(np.arange(10) % 2, np.arange(10) + 1j),
)
case(
    "hotstart.auc_with_ci",
    "length mismatch",
    "outcome|score",
    lambda: H.auc_with_ci(np.arange(10) % 2, np.ones(9)),
)
case(
    "hotstart.auc_with_ci",
    "level 1.5",
    "level",
    lambda: H.auc_with_ci(np.arange(10) % 2, np.arange(10.0), level=1.5),
)
case(
    "hotstart.binned_calibration",
    "n_bins 0",
    "n_bins",
    lambda: H.binned_calibration(
        np.linspace(0.1, 0.9, 10), np.arange(10) % 2, n_bins=0
    ),
)
case(
    "hotstart.binned_calibration",
    "predicted > 1",
    "predicted",
    lambda: H.binned_calibration(np.linspace(0.1, 1.9, 10), np.arange(10) % 2),
)
case(
    "hotstart.binned_calibration",
    "length mismatch",
    "predicted|outcome",
    lambda: H.binned_calibration(np.linspace(0.1, 0.9, 10), np.arange(9) % 2),
)
case("hotstart.RiskWindow", "negative start", "start", lambda: H.RiskWindow(-1, 5))
case("hotstart.RiskWindow", "horizon 0", "horizon", lambda: H.RiskWindow(1, 0))
HZ = np.full((4, 3, 6), 0.01)
case(
    "hotstart.disease_group",
    "index out of range",
    "diseases",
    lambda: H.disease_group([5], 3),
)
case("hotstart.disease_group", "empty", "diseases", lambda: H.disease_group([], 3))
case(
    "hotstart.yearly_group_risk",
    "t out of range",
    "t",
    lambda: H.yearly_group_risk(HZ, [0], 9),
)
case(
    "hotstart.yearly_group_risk",
    "hazards > 1",
    "hazards",
    lambda: H.yearly_group_risk(HZ + 2, [0], 1),
)
case(
    "hotstart.static_risk",
    "window too long",
    "window",
    lambda: H.static_risk(HZ, [0], H.RiskWindow(4, 5)),
)
case(
    "hotstart.static_risk",
    "window not a RiskWindow",
    "window",
    lambda: H.static_risk(HZ, [0], (1, 2)),
)
case(
    "hotstart.dynamic_risk",
    "NaN hazards",
    "hazards",
    lambda: H.dynamic_risk(np.full((4, 3, 6), np.nan), [0], H.RiskWindow(1, 2)),
)
case(
    "hotstart.dynamic_risk",
    "diseases out of range",
    "diseases",
    lambda: H.dynamic_risk(HZ, [7], H.RiskWindow(1, 2)),
)
case(
    "hotstart.window_outcomes",
    "shape mismatch",
    "event_times|events",
    lambda: H.window_outcomes(
        np.zeros((4, 3), int), np.zeros((4, 2), bool), [0], H.RiskWindow(1, 2)
    ),
)
case(
    "hotstart.window_outcomes",
    "float event times",
    "event_times",
    lambda: H.window_outcomes(
        np.full((4, 3), 1.5), np.zeros((4, 3), bool), [0], H.RiskWindow(1, 2)
    ),
)
case(
    "hotstart.forward_nll",
    "start out of range",
    "start",
    lambda: H.forward_nll(HZ, np.zeros((4, 3), int), np.zeros((4, 3), bool), 9),
)
case(
    "hotstart.forward_nll",
    "hazards shape",
    "hazards",
    lambda: H.forward_nll(
        np.full((4, 6), 0.1), np.zeros((4, 3), int), np.zeros((4, 3), bool), 1
    ),
)
case(
    "hotstart.anchor_offsets",
    "shape mismatch",
    "prevalence_logit",
    lambda: H.anchor_offsets(ckpt().phi, np.zeros((4, 6))),
)
case(
    "hotstart.anchor_offsets",
    "complex phi",
    "phi",
    lambda: H.anchor_offsets(ckpt().phi + 1j, np.zeros((3, 6))),
)
case(
    "hotstart.reanchor",
    "shape mismatch",
    "prevalence_logit_target",
    lambda: H.reanchor(ckpt().phi, np.zeros((3, 6)), np.zeros((3, 5))),
)
case(
    "hotstart.reanchor",
    "NaN",
    "prevalence_logit_source",
    lambda: H.reanchor(ckpt().phi, np.full((3, 6), np.nan), np.zeros((3, 6))),
)
case(
    "hotstart.offset_recovery",
    "offsets shape",
    "true_offsets",
    lambda: H.offset_recovery(ckpt().phi, np.zeros((3, 6)), np.zeros(7)),
)
case(
    "hotstart.modified_jaccard",
    "index beyond n_diseases",
    "sets_a|n_diseases",
    lambda: H.modified_jaccard([[0, 9]], [[0]], n_diseases=3),
)
case(
    "hotstart.modified_jaccard",
    "empty",
    "sets_a",
    lambda: H.modified_jaccard([], [[0]]),
)
case(
    "hotstart.signature_disease_sets",
    "1-D psi",
    "psi",
    lambda: H.signature_disease_sets(np.zeros(3)),
)
case(
    "hotstart.signature_disease_sets",
    "NaN min_psi",
    "min_psi",
    lambda: H.signature_disease_sets(ckpt().psi, min_psi=np.nan),
)
case(
    "hotstart.offset_disease_sets",
    "shape mismatch",
    "prevalence_logit",
    lambda: H.offset_disease_sets(ckpt().phi, np.zeros((2, 6))),
)

# ---------------------------------------------------------------- lymph
L = mod("lymph")
case(
    "lymph.LymphHMMComponent", "t_max 0", "t_max", lambda: L.LymphHMMComponent(t_max=0)
)
case(
    "lymph.LymphHMMComponent",
    "early_p > 1",
    "early_p",
    lambda: L.LymphHMMComponent(early_p=1.5),
)
case("lymph.early_late", "unknown stage", "t_stage", lambda: L.early_late(["T9"]))
case("lymph.early_late", "empty", "t_stage", lambda: L.early_late([]))
TH = np.full((2, 10), 0.3)
case(
    "lymph.predicted_involvement",
    "thetas shape",
    "thetas",
    lambda: L.predicted_involvement(
        hmm(), np.full((2, 3), 0.3), [[0.5], [0.5]], [0], [0]
    ),
)
case(
    "lymph.predicted_involvement_draws",
    "thetas 2-D",
    "thetas",
    lambda: L.predicted_involvement_draws(hmm(), TH, [[[0.5], [0.5]]], [0], [0]),
)
case(
    "lymph.predicted_involvement_draws",
    "weights not summing to 1",
    "weights",
    lambda: L.predicted_involvement_draws(hmm(), TH[None], [[[0.9], [0.9]]], [0], [0]),
)
case(
    "lymph.predicted_involvement",
    "weights not summing to 1",
    "weights",
    lambda: L.predicted_involvement(hmm(), TH, [[0.9], [0.9]], [0], [0]),
)
case(
    "lymph.observed_prevalence",
    "index out of range",
    "subgroup_index",
    lambda: L.observed_prevalence(np.ones((3, 5)), [0, 1, 5], 2),
)
case(
    "lymph.observed_prevalence",
    "length mismatch",
    "X|subgroup_index",
    lambda: L.observed_prevalence(np.ones((3, 5)), [0, 1], 2),
)
case(
    "lymph.posterior_involvement",
    "thetas > 1",
    "thetas",
    lambda: L.posterior_involvement(hmm(), TH + 1, [0.5, 0.5], np.ones((2, 5)), [0, 1]),
)
case(
    "lymph.posterior_involvement",
    "stage length",
    "stage",
    lambda: L.posterior_involvement(hmm(), TH, [0.5, 0.5], np.ones((2, 5)), [0]),
)
case(
    "lymph.subgroup_posterior",
    "prior not summing to 1",
    "prior",
    lambda: L.subgroup_posterior(
        hmm(), TH, [[0.5, 0.5], [0.5, 0.5]], np.ones((2, 5)), [0, 1], prior=[0.9, 0.9]
    ),
)
case(
    "lymph.subgroup_posterior",
    "X columns",
    "X",
    lambda: L.subgroup_posterior(
        hmm(), TH, [[0.5, 0.5], [0.5, 0.5]], np.ones((2, 4)), [0, 1]
    ),
)

# ---------------------------------------------------------------- mcmc
M = mod("mcmc")
case(
    "mcmc.aip_sample",
    "K > patients",
    "n_components",
    lambda: M.aip_sample(*mix(), 500, n_rounds=2),
)
case(
    "mcmc.aip_sample",
    "unknown mode",
    "mode",
    lambda: M.aip_sample(*mix(), 2, mode="nope"),
)
case(
    "mcmc.aip_sample",
    "init_thetas shape",
    "init_thetas",
    lambda: M.aip_sample(*mix(), 2, n_rounds=2, init_thetas=np.full((3, 3), 0.5)),
)
case(
    "mcmc.aip_sample",
    "subgroups length",
    "subgroups",
    lambda: M.aip_sample(mix()[0], mix()[1], [0, 1], 2, n_rounds=2),
)
case(
    "mcmc.aip_sample",
    "temperatures <= 0",
    "temperatures",
    lambda: M.aip_sample(*mix(), 2, n_rounds=2, temperatures=[1.0, 0.0]),
)
case("mcmc.linear_schedule", "n_rounds 0", "n_rounds", lambda: M.linear_schedule(0))
case(
    "mcmc.linear_schedule", "float n_rounds", "n_rounds", lambda: M.linear_schedule(2.5)
)
case(
    "mcmc.relabel_samples",
    "reference shape",
    "reference",
    lambda: M.relabel_samples(
        np.zeros((4, 2, 3)), np.zeros((4, 2, 1)), np.zeros((3, 3))
    ),
)
case(
    "mcmc.relabel_samples",
    "length mismatch",
    "params_samples|weight_samples",
    lambda: M.relabel_samples(
        np.zeros((4, 2, 3)), np.zeros((5, 2, 1)), np.zeros((2, 3))
    ),
)
for fn in ("autocorr_time", "effective_sample_size", "split_rhat"):
    f = getattr(M, fn)
    case(f"mcmc.{fn}", "2-D chain", "chain", lambda f=f: f(np.zeros((50, 3))))
    case(f"mcmc.{fn}", "NaN chain", "chain", lambda f=f: f(np.full((50, 4, 1), np.nan)))
    case(f"mcmc.{fn}", "burn beyond chain", "burn", lambda f=f: f(CHAIN, burn=100))
case("mcmc.split_rhat", "one step", "chain", lambda: M.split_rhat(CHAIN[:1]))
case(
    "mcmc.run_emcee",
    "n_steps 0",
    "n_steps",
    lambda: M.run_emcee(lambda x: 0.0, np.zeros(2), 0),
)
case(
    "mcmc.run_emcee",
    "NaN start",
    "start",
    lambda: M.run_emcee(lambda x: 0.0, np.array([np.nan, 0.0]), 5),
)
case(
    "mcmc.run_emcee",
    "log_prob not callable",
    "log_prob",
    lambda: M.run_emcee(3, np.zeros(2), 5),
)
case(
    "mcmc.gibbs_latent",
    "uniforms length",
    "uniforms",
    lambda: M.gibbs_latent(np.zeros((3, 2)), uniforms=np.array([0.5])),
)
case(
    "mcmc.gibbs_latent",
    "NaN",
    "log_joint_values",
    lambda: M.gibbs_latent(np.full((3, 2), np.nan)),
)
case(
    "mcmc.gibbs_latent",
    "temperature 0",
    "temperature",
    lambda: M.gibbs_latent(np.zeros((3, 2)), temperature=0),
)
case(
    "mcmc.log_joint",
    "weights shape",
    "weights",
    lambda: M.log_joint(np.zeros((3, 2)), np.full((3, 1), 0.3), [0, 0, 0]),
)
case(
    "mcmc.log_joint",
    "index out of range",
    "subgroup_index",
    lambda: M.log_joint(np.zeros((3, 2)), np.full((2, 1), 0.5), [0, 0, 4]),
)
case(
    "mcmc.mh_swap_sampler",
    "three components",
    "components|log_joint_values",
    lambda: M.mh_swap_sampler(np.zeros(3, int), np.zeros((3, 3))),
)
case(
    "mcmc.mh_swap_sampler",
    "z out of range",
    "z",
    lambda: M.mh_swap_sampler(np.array([0, 2, 1]), np.zeros((3, 2))),
)
case(
    "mcmc.ConditionalTarget",
    "latent length",
    "latent",
    lambda: M.ConditionalTarget(mix()[0], mix()[1], mix()[2], 2, np.zeros(5, int)),
)
case(
    "mcmc.ConditionalTarget",
    "alpha <= 0",
    "alpha",
    lambda: M.ConditionalTarget(
        mix()[0], mix()[1], mix()[2], 2, np.zeros(40, int), alpha=0
    ),
)
case(
    "mcmc.MarginalTarget",
    "weights not simplex",
    "weights",
    lambda: M.MarginalTarget(mix()[0], mix()[1], np.full((2, 2), 0.9), mix()[2]),
)
case(
    "mcmc.MarginalTarget",
    "prior <= 0",
    "prior",
    lambda: M.MarginalTarget(
        mix()[0], mix()[1], np.full((2, 2), 0.5), mix()[2], prior=(0.0, 1.0)
    ),
)
case(
    "mcmc.alr_from_simplex",
    "not a simplex",
    "weights",
    lambda: M.alr_from_simplex(np.array([[0.9], [0.9]])),
)
case(
    "mcmc.alr_from_simplex",
    "NaN",
    "weights",
    lambda: M.alr_from_simplex(np.array([[np.nan], [0.5]])),
)
case(
    "mcmc.log_beta_prior",
    "complex theta",
    "theta",
    lambda: M.log_beta_prior(np.array([0.5 + 1j])),
)
case(
    "mcmc.log_beta_prior",
    "a <= 0",
    "a",
    lambda: M.log_beta_prior(np.array([0.5]), a=-1),
)
case(
    "mcmc.simplex_from_alr",
    "NaN",
    "u",
    lambda: M.simplex_from_alr(np.array([[np.nan]])),
)
case(
    "mcmc.simplex_from_alr",
    "complex",
    "u",
    lambda: M.simplex_from_alr(np.array([[1j]])),
)
case(
    "mcmc.ensemble_diagnostics",
    "2-D chains",
    "chains",
    lambda: M.ensemble_diagnostics(np.zeros((50, 3))),
)
case(
    "mcmc.ensemble_diagnostics",
    "burn negative",
    "burn",
    lambda: M.ensemble_diagnostics(CHAIN, burn=-1),
)
case("mcmc.ess", "NaN draws", "draws", lambda: M.ess(np.full((4, 50), np.nan)))
case("mcmc.ess", "too few draws", "draws", lambda: M.ess(np.zeros((4, 1))))
case("mcmc.rhat", "NaN draws", "draws", lambda: M.rhat(np.full((4, 50), np.nan)))
case("mcmc.rhat", "one draw", "draws", lambda: M.rhat(np.zeros((4, 1))))
case(
    "mcmc.summarize",
    "prob > 1",
    "prob",
    lambda: M.summarize(R.normal(size=(4, 50)), prob=1.5),
)
case("mcmc.summarize", "NaN", "draws", lambda: M.summarize(np.full((4, 50), np.nan)))

case(
    "mcmc.marginal_chains",
    "init_thetas shape",
    "init_thetas",
    lambda: M.marginal_chains(
        *mix(), np.full((2, 5), 0.5), np.full((2, 2), 0.5), n_iter=2
    ),
)
case(
    "mcmc.marginal_chains",
    "n_chains 0",
    "n_chains",
    lambda: M.marginal_chains(
        *mix(), np.full((2, 3), 0.5), np.full((2, 2), 0.5), n_chains=0, n_iter=2
    ),
)
case(
    "mcmc.marginal_chains",
    "init_weights not simplex",
    "init_weights",
    lambda: M.marginal_chains(
        *mix(), np.full((2, 3), 0.5), np.full((2, 2), 0.9), n_iter=2
    ),
)

case("mcmc.hmc", "not callable", "log_density", lambda: M.hmc(3.0, np.zeros((2, 2)), 5))
case(
    "mcmc.hmc",
    "start 1-D",
    "start",
    lambda: M.hmc(lambda y: (-(y**2).sum(1), -2 * y), np.zeros(2), 5),
)
case(
    "mcmc.hmc",
    "target_accept 1.5",
    "target_accept",
    lambda: M.hmc(lambda y: (-(y**2).sum(1), -2 * y), np.zeros((2, 2)), 5,
                  target_accept=1.5),
)
case(
    "mcmc.hmc",
    "start outside the support",
    "start",
    lambda: M.hmc(lambda y: (np.full(len(y), -np.inf), 0 * y), np.zeros((2, 2)), 5),
)
case(
    "mcmc.mixture_hmc",
    "not a lymph component",
    "component",
    lambda: M.mixture_hmc(*mix(), np.full((2, 3), 0.5), np.full((2, 2), 0.5)),
)
case(
    "mcmc.mixture_hmc",
    "init_thetas shape",
    "init_thetas",
    lambda: M.mixture_hmc(hmm(), np.zeros((2, 5)), [0, 1], np.full((2, 3), 0.5),
                          np.full((2, 2), 0.5), n_iter=2),
)
case(
    "mcmc.mixture_hmc",
    "init_weights not simplex",
    "init_weights",
    lambda: M.mixture_hmc(hmm(), np.zeros((2, 5)), [0, 1], np.full((2, 10), 0.5),
                          np.full((2, 2), 0.9), n_iter=2),
)
case(
    "mcmc.describe_interval",
    "not a Summary",
    "summary",
    lambda: M.describe_interval((0.1, 0.9), 0),
)
case(
    "mcmc.describe_interval",
    "index out of range",
    "j",
    lambda: M.describe_interval(M.summarize(R.normal(size=(4, 50, 2))), 5),
)

# ---------------------------------------------------------------- model_checks
K_ = mod("model_checks")
case("model_checks.one_se_choice", "not a dict", "heldout",
     lambda: K_.one_se_choice([[-1.0, -2.0]]))
case("model_checks.one_se_choice", "unequal lengths", "heldout",
     lambda: K_.one_se_choice({1: np.zeros(3), 2: np.zeros(4)}))
case("model_checks.one_se_choice", "NaN", "heldout",
     lambda: K_.one_se_choice({1: np.array([0.0, np.nan]), 2: np.zeros(2)}))
case(
    "model_checks.stratified_folds",
    "n_folds 1",
    "n_folds",
    lambda: K_.stratified_folds(np.arange(20) % 2, 1),
)
case(
    "model_checks.stratified_folds",
    "negative index",
    "subgroup_index",
    lambda: K_.stratified_folds(-np.ones(20, int), 2),
)
case(
    "model_checks.heldout_logliks",
    "folds length",
    "folds",
    lambda: K_.heldout_logliks(*mix(), 2, np.zeros(5, int)),
)
case(
    "model_checks.heldout_logliks",
    "K > patients",
    "n_components",
    lambda: K_.heldout_logliks(*mix(), 500, np.arange(40) % 2),
)
case(
    "model_checks.information_criteria",
    "NaN loglik",
    "loglik",
    lambda: K_.information_criteria(np.nan, 3, 10),
)
case(
    "model_checks.information_criteria",
    "n_obs 0",
    "n_obs",
    lambda: K_.information_criteria(-5.0, 3, 0),
)
case(
    "model_checks.n_free_parameters",
    "n_components 0",
    "n_components",
    lambda: K_.n_free_parameters(mix()[0], 0, 2),
)
case(
    "model_checks.n_free_parameters",
    "n_subgroups 0",
    "n_subgroups",
    lambda: K_.n_free_parameters(mix()[0], 2, 0),
)
case(
    "model_checks.replicated_prevalence",
    "weight_draws not simplex",
    "weight_draws",
    lambda: K_.replicated_prevalence(
        hmm(),
        np.full((3, 2, 10), 0.5),
        np.full((3, 2, 2), 0.9),
        np.ones((4, 5)),
        [0, 1, 0, 1],
        np.zeros(4, int),
        2,
    ),
)
case(
    "model_checks.replicated_prevalence",
    "draw counts differ",
    "theta_draws|weight_draws",
    lambda: K_.replicated_prevalence(
        hmm(),
        np.full((3, 2, 10), 0.5),
        np.full((4, 2, 2), 0.5),
        np.ones((4, 5)),
        [0, 1, 0, 1],
        np.zeros(4, int),
        2,
    ),
)

# ---------------------------------------------------------------- mixing
X = mod("mixing")
LAM, PHI = R.normal(size=(4, 3)), R.normal(size=(3, 5))
case("mixing.forward", "eps 2", "eps", lambda: X.forward(3, LAM, PHI, eps=2))
case("mixing.forward", "unknown stage", "stage", lambda: X.forward(5, LAM, PHI))
case("mixing.forward", "K mismatch", "phi", lambda: X.forward(1, LAM, PHI[:2]))
case("mixing.forward", "complex lam", "lam", lambda: X.forward(1, LAM + 1j, PHI))
case("mixing.forward", "kappa <= 0", "kappa", lambda: X.forward(3, LAM, PHI, kappa=-1))
case(
    "mixing.forward_torch",
    "unknown stage",
    "stage",
    lambda: X.forward_torch(7, torch.zeros(4, 3), torch.zeros(3, 5)),
)
case("mixing.forward_torch", "numpy input", "lam", lambda: X.forward_torch(1, LAM, PHI))
case(
    "mixing.outer_sigmoid_pi",
    "mu shape",
    "mu",
    lambda: X.outer_sigmoid_pi(LAM, PHI, np.zeros(4)),
)
case(
    "mixing.outer_sigmoid_pi",
    "NaN lam",
    "lam",
    lambda: X.outer_sigmoid_pi(np.full((4, 3), np.nan), PHI, np.zeros(5)),
)
case(
    "mixing.add_healthy_signature",
    "psi shape",
    "psi",
    lambda: X.add_healthy_signature(LAM, PHI[:2]),
)
case(
    "mixing.add_healthy_signature",
    "NaN healthy_psi",
    "healthy_psi",
    lambda: X.add_healthy_signature(LAM, PHI, healthy_psi=np.nan),
)
case(
    "mixing.gradient_wrt_lambda",
    "unknown stage",
    "stage",
    lambda: X.gradient_wrt_lambda(0, LAM, PHI),
)
case(
    "mixing.gradient_wrt_lambda",
    "stage 4 without mu",
    "mu",
    lambda: X.gradient_wrt_lambda(4, LAM, PHI),
)
case(
    "mixing.rescaling_path",
    "NaN scales",
    "scales",
    lambda: X.rescaling_path(1, LAM, PHI, [1.0, np.nan]),
)
case(
    "mixing.rescaling_path",
    "2-D scales",
    "scales",
    lambda: X.rescaling_path(1, LAM, PHI, np.ones((2, 2))),
)
case(
    "mixing.softmax_scale_path",
    "NaN scales",
    "scales",
    lambda: X.softmax_scale_path(LAM, [np.nan]),
)
case(
    "mixing.softmax_scale_path",
    "complex lam",
    "lam",
    lambda: X.softmax_scale_path(LAM + 1j, [1.0]),
)
case(
    "mixing.mixture_bounds",
    "kappa <= 0",
    "kappa",
    lambda: X.mixture_bounds(PHI, kappa=0),
)
case("mixing.mixture_bounds", "1-D phi", "phi", lambda: X.mixture_bounds(np.zeros(3)))
case("mixing.log_odds", "K mismatch", "phi", lambda: X.log_odds(1, LAM, PHI[:1]))
case("mixing.log_odds", "unknown stage", "stage", lambda: X.log_odds("3", LAM, PHI))
case(
    "mixing.separation",
    "lam_b shape",
    "lam_b",
    lambda: X.separation(1, LAM[0], np.zeros(2), PHI),
)
case(
    "mixing.separation",
    "NaN lam_a",
    "lam_a",
    lambda: X.separation(1, np.full(3, np.nan), LAM[0], PHI),
)
case("mixing.rescale_kappa", "c <= 0", "c", lambda: X.rescale_kappa(1.0, PHI, 0.0))
case(
    "mixing.rescale_kappa",
    "kappa NaN",
    "kappa",
    lambda: X.rescale_kappa(np.nan, PHI, 0.5),
)
case(
    "mixing.near_identity_stochastic",
    "epsilon > 1",
    "epsilon",
    lambda: X.near_identity_stochastic(3, 1.5),
)
case(
    "mixing.near_identity_stochastic",
    "n_signatures 0",
    "n_signatures",
    lambda: X.near_identity_stochastic(0, 0.1),
)
case(
    "mixing.mix_signatures",
    "B not square",
    "B",
    lambda: X.mix_signatures(2, LAM, PHI, np.eye(3)[:2]),
)
case(
    "mixing.mix_signatures",
    "unknown stage",
    "stage",
    lambda: X.mix_signatures(9, LAM, PHI, np.eye(3)),
)

# ---------------------------------------------------------------- mixture
Y = mod("mixture")
case(
    "mixture.BernoulliComponent",
    "n_features 0",
    "n_features",
    lambda: Y.BernoulliComponent(0),
)
case(
    "mixture.BernoulliComponent",
    "names count",
    "feature_names",
    lambda: Y.BernoulliComponent(3, ["a"]),
)
case("mixture.encode_subgroups", "empty", "subgroups", lambda: Y.encode_subgroups([]))
case(
    "mixture.encode_subgroups",
    "unknown label",
    "subgroups",
    lambda: Y.encode_subgroups(["a", "z"], labels=["a"]),
)
LL = np.log(np.full((4, 2), 0.5))
case(
    "mixture.e_step",
    "weights shape",
    "weights",
    lambda: Y.e_step(LL, np.full((3, 1), 0.3), np.zeros(4, int)),
)
case(
    "mixture.e_step",
    "index length",
    "subgroup_index",
    lambda: Y.e_step(LL, np.full((2, 1), 0.5), np.zeros(3, int)),
)
case(
    "mixture.m_step_weights",
    "responsibilities rows not summing to 1",
    "responsibilities",
    lambda: Y.m_step_weights(np.full((4, 2), 0.9), np.zeros(4, int), 1),
)
case(
    "mixture.m_step_weights",
    "n_subgroups 0",
    "n_subgroups",
    lambda: Y.m_step_weights(np.full((4, 2), 0.5), np.zeros(4, int), 0),
)
case(
    "mixture.m_step_components",
    "thetas shape",
    "thetas",
    lambda: Y.m_step_components(
        mix()[0], mix()[1], np.full((40, 2), 0.5), np.full((2, 5), 0.5)
    ),
)
case(
    "mixture.m_step_components",
    "responsibilities length",
    "responsibilities",
    lambda: Y.m_step_components(
        mix()[0], mix()[1], np.full((3, 2), 0.5), np.full((2, 3), 0.5)
    ),
)
case(
    "mixture.incomplete_loglik",
    "weights not simplex",
    "weights",
    lambda: Y.incomplete_loglik(LL, np.full((2, 1), 0.9), np.zeros(4, int)),
)
case(
    "mixture.incomplete_loglik",
    "NaN log_lik",
    "log_lik",
    lambda: Y.incomplete_loglik(
        np.full((4, 2), np.nan), np.full((2, 1), 0.5), np.zeros(4, int)
    ),
)
case(
    "mixture.complete_loglik",
    "responsibilities shape",
    "responsibilities",
    lambda: Y.complete_loglik(
        LL, np.full((2, 1), 0.5), np.zeros(4, int), np.full((3, 2), 0.5)
    ),
)
case(
    "mixture.entropy",
    "negative",
    "responsibilities",
    lambda: Y.entropy(np.array([[-0.5, 1.5]])),
)
case(
    "mixture.entropy",
    "1-D",
    "responsibilities",
    lambda: Y.entropy(np.array([0.5, 0.5])),
)
case("mixture.fit_em", "K > patients", "n_components", lambda: Y.fit_em(*mix(), 500))
case(
    "mixture.fit_em",
    "unknown sort_by",
    "sort_by",
    lambda: Y.fit_em(*mix(), 2, sort_by="nope"),
)
case(
    "mixture.fit_em",
    "init_thetas shape",
    "init_thetas",
    lambda: Y.fit_em(*mix(), 2, init_thetas=np.full((3, 3), 0.5)),
)
case("mixture.fit_em", "tol negative", "tol", lambda: Y.fit_em(*mix(), 2, tol=-1))
case(
    "mixture.fit_em",
    "X columns",
    "X",
    lambda: Y.fit_em(mix()[0], np.ones((40, 2)), mix()[2], 2),
)
case(
    "mixture.align_components",
    "shape mismatch",
    "thetas|reference",
    lambda: Y.align_components(np.zeros((2, 3)), np.zeros((2, 4))),
)
case(
    "mixture.align_components",
    "NaN",
    "thetas",
    lambda: Y.align_components(np.full((2, 3), np.nan), np.zeros((2, 3))),
)
case(
    "mixture.simulate_mixture",
    "weights not simplex",
    "weights",
    lambda: Y.simulate_mixture(mix()[0], np.full((2, 3), 0.5), [[0.9], [0.9]], [5]),
)
case(
    "mixture.simulate_mixture",
    "negative sizes",
    "subgroup_sizes",
    lambda: Y.simulate_mixture(mix()[0], np.full((2, 3), 0.5), [[0.5], [0.5]], [-5]),
)
case(
    "mixture.simulate_mixture",
    "thetas > 1",
    "thetas",
    lambda: Y.simulate_mixture(mix()[0], np.full((2, 3), 1.5), [[0.5], [0.5]], [5]),
)

# ---------------------------------------------------------------- mofa
O = mod("mofa")
case(
    "mofa.MOFA",
    "n_factors 0",
    "n_factors",
    lambda: O.MOFA(0, verbose=False).fit(views()),
)
case(
    "mofa.MOFA",
    "unknown init",
    "init",
    lambda: O.MOFA(2, init="svd", verbose=False).fit(views()),
)
case(
    "mofa.MOFA",
    "SVI learning_rate 2",
    "learning_rate",
    lambda: O.MOFA(2, stochastic=True, learning_rate=2.0, verbose=False).fit(views()),
)
case(
    "mofa.fit_mofa",
    "constant view",
    "view",
    lambda: O.fit_mofa([np.ones((20, 4)), views()[1]], 2, verbose=False),
)
case(
    "mofa.fit_mofa",
    "single sample",
    "view",
    lambda: O.fit_mofa([views()[0][:1]], 2, verbose=False),
)
case(
    "mofa.fit_mofa",
    "(30, 0) view",
    "view",
    lambda: O.fit_mofa([np.zeros((30, 0))], 2, verbose=False),
)
case(
    "mofa.fit_mofa",
    "complex view",
    "view",
    lambda: O.fit_mofa([views()[0] + 1j], 2, verbose=False),
)
case(
    "mofa.fit_mofa",
    "unknown likelihood",
    "likelihood",
    lambda: O.fit_mofa(views(), 2, likelihoods=["gaussian", "normal"], verbose=False),
)
case(
    "mofa.simulate_mofa",
    "missing_fraction 1.5",
    "missing_fraction",
    lambda: O.simulate_mofa(20, (5, 5), missing_fraction=1.5),
)
case(
    "mofa.simulate_mofa", "n_samples 0", "n_samples", lambda: O.simulate_mofa(0, (5, 5))
)
case(
    "mofa.variance_explained",
    "factor count mismatch",
    "weights|factors",
    lambda: O.variance_explained(
        views(), np.zeros((20, 2)), [np.zeros((6, 3)), np.zeros((4, 3))]
    ),
)
case(
    "mofa.variance_explained",
    "views/weights count",
    "weights",
    lambda: O.variance_explained(views(), np.zeros((20, 2)), [np.zeros((6, 2))]),
)
case(
    "mofa.factor_activity",
    "threshold > 1",
    "threshold",
    lambda: O.factor_activity(np.full((2, 3), 0.5), threshold=2),
)
case(
    "mofa.factor_activity",
    "probability > 1",
    "slab_probability",
    lambda: O.factor_activity(np.full((2, 3), 1.5)),
)
case(
    "mofa.enrichment_test",
    "n_top 0",
    "n_top",
    lambda: O.enrichment_test(np.zeros(10), np.arange(10) < 3, 0),
)
case(
    "mofa.enrichment_test",
    "length mismatch",
    "weights|in_set",
    lambda: O.enrichment_test(np.zeros(10), np.arange(9) < 3, 2),
)
case(
    "mofa.factor_recovery",
    "NaN",
    "true_factors",
    lambda: O.factor_recovery(np.full((10, 2), np.nan), np.zeros((10, 2))),
)
case(
    "mofa.factor_recovery",
    "row mismatch",
    "true_factors|inferred",
    lambda: O.factor_recovery(np.zeros((10, 2)), np.zeros((9, 2))),
)
case(
    "mofa.match_factors",
    "row mismatch",
    "reference|other",
    lambda: O.match_factors(np.zeros((10, 2)), np.zeros((9, 2))),
)
case(
    "mofa.match_factors",
    "NaN",
    "reference",
    lambda: O.match_factors(np.full((10, 2), np.nan), np.ones((10, 2))),
)
case(
    "mofa.label_association",
    "labels length",
    "labels",
    lambda: O.label_association(np.zeros((10, 2)), ["a"] * 9),
)
case(
    "mofa.label_association",
    "one label",
    "labels",
    lambda: O.label_association(R.normal(size=(10, 2)), ["a"] * 10),
)
case(
    "mofa.restart_reproducibility",
    "one set",
    "factor_sets",
    lambda: O.restart_reproducibility([np.zeros((10, 2))]),
)
case(
    "mofa.restart_reproducibility",
    "row mismatch",
    "factor_sets",
    lambda: O.restart_reproducibility([np.zeros((10, 2)), np.zeros((9, 2))]),
)
case(
    "mofa.cv_reconstruction_error",
    "n_folds 1",
    "n_folds",
    lambda: O.cv_reconstruction_error(views(), [2], n_folds=1, verbose=False),
)
case(
    "mofa.cv_reconstruction_error",
    "n_factors 0",
    "n_factors",
    lambda: O.cv_reconstruction_error(views(), [0], verbose=False),
)
case(
    "mofa.fit_restarts",
    "n_restarts 0",
    "n_restarts",
    lambda: O.fit_restarts(views(), 2, 0, verbose=False),
)
case(
    "mofa.fit_restarts",
    "n_factors 0",
    "n_factors",
    lambda: O.fit_restarts(views(), 0, 2, verbose=False),
)
case("mofa.benchmark_results", "path 3", "path", lambda: O.benchmark_results(3))
case("mofa.regime_table", "list of results", "results", lambda: O.regime_table([{}]))
case("mofa.regime_table", "no regimes", "results", lambda: O.regime_table({"K": 10}))
case(
    "mofa.name_rows",
    "dict for table",
    "table",
    lambda: O.name_rows({"regime": ["a"], "system": ["b"], "speedup": [5.0]}),
)
case("mofa.summary_sentence", "dict for table", "table",
     lambda: O.summary_sentence({"regime": ["a"]}))
case("mofa.summary_sentence", "table without the columns", "table",
     lambda: O.summary_sentence(pd.DataFrame({"regime": ["a"]})))
case(
    "mofa.name_rows",
    "unknown value column",
    "value",
    lambda: O.name_rows(pd.DataFrame({"regime": ["a"], "system": ["b"]}), "speed"),
)

# ---------------------------------------------------------------- nn
N = mod("nn")
case("nn.Dense", "int32 dtype", "dtype", lambda: N.Dense(3, 2, dtype=np.int32))
case("nn.Dense", "n_in 0", "n_in", lambda: N.Dense(0, 2))
case("nn.Dense", "unknown init", "init", lambda: N.Dense(3, 2, init="zeros"))
case("nn.init_weights", "gain <= 0", "gain", lambda: N.init_weights(3, 2, gain=0))
case(
    "nn.init_weights",
    "float16 dtype",
    "dtype",
    lambda: N.init_weights(3, 2, dtype=np.float16),
)
case(
    "nn.get_activation", "unknown name", "activation", lambda: N.get_activation("swish")
)
case("nn.get_activation", "not a name", "activation", lambda: N.get_activation(3))
for fn in ("sigmoid", "softmax", "log_softmax"):
    f = getattr(N, fn)
    case(f"nn.{fn}", "complex", "z", lambda f=f: f(np.array([[1j, 0.0]])))
    case(f"nn.{fn}", "NaN", "z", lambda f=f: f(np.array([[np.nan, 0.0]])))
case("nn.get_loss", "unknown name", "loss", lambda: N.get_loss("hinge"))
case("nn.get_loss", "not a name", "loss", lambda: N.get_loss(1.0))
case("nn.Sequential", "not a layer", "layers", lambda: N.Sequential([3]))
case("nn.Sequential", "empty", "layers", lambda: N.Sequential([]))
case("nn.MLP", "one size", "sizes", lambda: N.MLP([3]))
case(
    "nn.MLP",
    "unknown activation",
    "activation",
    lambda: N.MLP([3, 2], activation="swish"),
)
case("nn.MLP", "zero width", "sizes|n_out|n_in", lambda: N.MLP([3, 0, 1]))
case(
    "nn.loss_and_gradients",
    "X columns",
    "X",
    lambda: N.loss_and_gradients(net(), N.MSELoss(), np.zeros((5, 2)), np.zeros(5)),
)
case(
    "nn.loss_and_gradients",
    "y length",
    "y|X|target",
    lambda: N.loss_and_gradients(net(), N.MSELoss(), np.zeros((5, 3)), np.zeros(4)),
)
case(
    "nn.layer_gradient_norms", "not a model", "model", lambda: N.layer_gradient_norms(3)
)
case(
    "nn.gradcheck",
    "step <= 0",
    "step",
    lambda: N.gradcheck(net(), N.MSELoss(), np.zeros((5, 3)), np.zeros(5), step=0),
)
case(
    "nn.gradcheck",
    "NaN X",
    "X",
    lambda: N.gradcheck(net(), N.MSELoss(), np.full((5, 3), np.nan), np.zeros(5)),
)
case(
    "nn.numerical_gradient",
    "step <= 0",
    "step",
    lambda: N.numerical_gradient(lambda: 0.0, np.zeros(3), step=-1),
)
case(
    "nn.numerical_gradient",
    "not callable",
    "function",
    lambda: N.numerical_gradient(3, np.zeros(3)),
)
case("nn.Autoencoder", "n_latent 0", "n_latent", lambda: N.Autoencoder(4, 0))
case(
    "nn.Autoencoder",
    "unknown activation",
    "activation",
    lambda: N.Autoencoder(4, 2, activation="swish"),
)
case(
    "nn.input_gradients",
    "complex X",
    "X",
    lambda: N.input_gradients(net(), N.MSELoss(), np.zeros((5, 3)) + 1j, np.zeros(5)),
)
case(
    "nn.input_gradients",
    "y length",
    "y|X|target",
    lambda: N.input_gradients(net(), N.MSELoss(), np.zeros((5, 3)), np.zeros(2)),
)
case(
    "nn.gradient_importance",
    "X columns",
    "X",
    lambda: N.gradient_importance(net(), N.MSELoss(), np.zeros((5, 4)), np.zeros(5)),
)
case(
    "nn.gradient_importance",
    "NaN X",
    "X",
    lambda: N.gradient_importance(
        net(), N.MSELoss(), np.full((5, 3), np.nan), np.zeros(5)
    ),
)

# ---------------------------------------------------------------- optim
Q = mod("optim")
PARAMS = ([np.zeros(3)], [np.zeros(3)])
case("optim.SGD", "lr <= 0", "lr", lambda: Q.SGD(*PARAMS, lr=0))
case(
    "optim.SGD",
    "weight_decay < 0",
    "weight_decay",
    lambda: Q.SGD(*PARAMS, lr=0.1, weight_decay=-1),
)
case(
    "optim.SGD",
    "length mismatch",
    "parameters|gradients",
    lambda: Q.SGD([np.zeros(3)], [], lr=0.1),
)
case(
    "optim.Momentum",
    "momentum >= 1",
    "momentum",
    lambda: Q.Momentum(*PARAMS, lr=0.1, momentum=1.5),
)
case("optim.Momentum", "lr NaN", "lr", lambda: Q.Momentum(*PARAMS, lr=np.nan))
case(
    "optim.Adam",
    "betas out of range",
    "betas",
    lambda: Q.Adam(*PARAMS, betas=(1.5, 0.9)),
)
case("optim.Adam", "eps <= 0", "eps", lambda: Q.Adam(*PARAMS, eps=0))
case(
    "optim.AdamW",
    "decoupled_decay < 0",
    "decoupled_decay",
    lambda: Q.AdamW(*PARAMS, decoupled_decay=-1),
)
case("optim.AdamW", "lr complex", "lr", lambda: Q.AdamW(*PARAMS, lr=1j))
case(
    "optim.clip_grad_norm",
    "max_norm <= 0",
    "max_norm",
    lambda: Q.clip_grad_norm([np.ones(3)], 0),
)
case(
    "optim.clip_grad_norm",
    "NaN gradient",
    "gradients",
    lambda: Q.clip_grad_norm([np.full(3, np.nan)], 1.0),
)
case(
    "optim.penalty",
    "weight_decay < 0",
    "weight_decay",
    lambda: Q.penalty([np.ones(3)], weight_decay=-1),
)
case("optim.penalty", "l1 NaN", "l1", lambda: Q.penalty([np.ones(3)], l1=np.nan))
case(
    "optim.StepLR",
    "step_size 0",
    "step_size",
    lambda: Q.StepLR(Q.SGD(*PARAMS, lr=0.1), 0),
)
case("optim.StepLR", "not an optimizer", "optimizer", lambda: Q.StepLR(3, 2))
case(
    "optim.make_schedule",
    "unknown name",
    "name",
    lambda: Q.make_schedule("linear", Q.SGD([], [], lr=0.1)),
)
case(
    "optim.make_schedule",
    "not an optimizer",
    "optimizer",
    lambda: Q.make_schedule("constant", 3),
)
case(
    "optim.ExponentialLR",
    "gamma <= 0",
    "gamma",
    lambda: Q.ExponentialLR(Q.SGD(*PARAMS, lr=0.1), 0),
)
case(
    "optim.ExponentialLR",
    "gamma NaN",
    "gamma",
    lambda: Q.ExponentialLR(Q.SGD(*PARAMS, lr=0.1), np.nan),
)
case(
    "optim.CosineAnnealingLR",
    "t_max 0",
    "t_max",
    lambda: Q.CosineAnnealingLR(Q.SGD(*PARAMS, lr=0.1), 0),
)
case(
    "optim.CosineAnnealingLR",
    "eta_min < 0",
    "eta_min",
    lambda: Q.CosineAnnealingLR(Q.SGD(*PARAMS, lr=0.1), 5, eta_min=-1),
)
case(
    "optim.ReduceLROnPlateau",
    "factor >= 1",
    "factor",
    lambda: Q.ReduceLROnPlateau(Q.SGD(*PARAMS, lr=0.1), factor=2),
)
case(
    "optim.ReduceLROnPlateau",
    "patience < 0",
    "patience",
    lambda: Q.ReduceLROnPlateau(Q.SGD(*PARAMS, lr=0.1), patience=-1),
)
case(
    "optim.make_optimizer",
    "unknown name",
    "optimizer",
    lambda: Q.make_optimizer("rmsprop", net(), lr=0.1),
)
case(
    "optim.make_optimizer",
    "lr <= 0",
    "lr",
    lambda: Q.make_optimizer("sgd", net(), lr=-1),
)
case(
    "optim.train",
    "X_val without y_val",
    "y_val",
    lambda: Q.train(net(), "mse", *XY(), X_val=XY()[0], verbose=False),
)
case(
    "optim.train",
    "complex X",
    "X",
    lambda: Q.train(net(), "mse", XY()[0] + 1j, XY()[1], verbose=False),
)
case(
    "optim.train",
    "unknown loss",
    "loss",
    lambda: Q.train(net(), "hinge", *XY(), verbose=False),
)
case(
    "optim.train",
    "epochs 0",
    "epochs",
    lambda: Q.train(net(), "mse", *XY(), epochs=0, verbose=False),
)
case(
    "optim.train",
    "batch_size 0",
    "batch_size",
    lambda: Q.train(net(), "mse", *XY(), batch_size=0, verbose=False),
)
case(
    "optim.train",
    "empty X",
    "X",
    lambda: Q.train(net(), "mse", np.zeros((0, 3)), np.zeros(0), verbose=False),
)

# ---------------------------------------------------------------- plotting
G = mod("plotting")


@functools.cache
def ax():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots()[1]


case("plotting.colors", "n negative", "n", lambda: G.colors(-1))
case("plotting.colors", "float n", "n", lambda: G.colors(2.5))
case(
    "plotting.plot_curves",
    "x length",
    "x",
    lambda: G.plot_curves(ax(), {"a": [1.0, 2.0]}, x=[1.0]),
)
case("plotting.plot_curves", "empty curves", "curves", lambda: G.plot_curves(ax(), {}))
case(
    "plotting.plot_heatmap",
    "1-D matrix",
    "matrix",
    lambda: G.plot_heatmap(ax(), np.zeros(3)),
)
case(
    "plotting.plot_heatmap",
    "row_labels count",
    "row_labels",
    lambda: G.plot_heatmap(ax(), np.zeros((2, 2)), row_labels=["a"]),
)
case(
    "plotting.plot_scatter_by_label",
    "labels length",
    "labels",
    lambda: G.plot_scatter_by_label(ax(), np.zeros((3, 2)), ["a"]),
)
case(
    "plotting.plot_scatter_by_label",
    "points 1-D",
    "points",
    lambda: G.plot_scatter_by_label(ax(), np.zeros(3), ["a"] * 3),
)

# ---------------------------------------------------------------- signatures
S = mod("signatures")
case(
    "signatures.SurvivalData",
    "float E",
    "E",
    lambda: S.SurvivalData(E=[[1.5]], event=[[True]], G=[[0.0]], n_times=3),
)
case(
    "signatures.SurvivalData",
    "E beyond n_times",
    "E",
    lambda: S.SurvivalData(E=[[5]], event=[[True]], G=[[0.0]], n_times=3),
)
case(
    "signatures.SurvivalData",
    "complex G",
    "G",
    lambda: S.SurvivalData(E=[[1]], event=[[True]], G=[[1j]], n_times=3),
)
case(
    "signatures.SurvivalData",
    "event shape",
    "event",
    lambda: S.SurvivalData(E=[[1]], event=[[1, 0]], G=[[0.0]], n_times=3),
)
case(
    "signatures.resolve_device",
    "unknown device",
    "device",
    lambda: S.resolve_device("tpu9"),
)
case(
    "signatures.resolve_device", "not a device", "device", lambda: S.resolve_device(3.5)
)
case(
    "signatures.auto_chunk_size",
    "negative n_individuals",
    "n_individuals",
    lambda: S.auto_chunk_size(-1, 3, 5, torch.float32, torch.device("cpu")),
)
case(
    "signatures.auto_chunk_size",
    "int dtype",
    "dtype",
    lambda: S.auto_chunk_size(10, 3, 5, torch.int32, torch.device("cpu")),
)
for fn in ("at_risk_counts", "at_risk_prevalence", "disease_correlation"):
    f = getattr(S, fn)
    case(
        f"signatures.{fn}", "not SurvivalData", "data", lambda f=f: f(np.zeros((3, 3)))
    )
case(
    "signatures.prevalence_logit",
    "not SurvivalData",
    "data",
    lambda: S.prevalence_logit(np.zeros((3, 3))),
)
case(
    "signatures.prevalence_logit",
    "floor <= 0",
    "floor",
    lambda: S.prevalence_logit(sim().data, floor=0),
)
case(
    "signatures.prevalence_logit",
    "negative sigma",
    "smoothing_sigma",
    lambda: S.prevalence_logit(sim().data, smoothing_sigma=-1),
)
case(
    "signatures.squared_exponential_kernel",
    "length_scale <= 0",
    "length_scale",
    lambda: S.squared_exponential_kernel(5, 0),
)
case(
    "signatures.squared_exponential_kernel",
    "n_times 0",
    "n_times",
    lambda: S.squared_exponential_kernel(0, 1.0),
)
case(
    "signatures.GaussianProcessPrior",
    "jitter < 0",
    "jitter",
    lambda: S.GaussianProcessPrior(5, 1.0, jitter=-1),
)
case(
    "signatures.GaussianProcessPrior",
    "length_scale NaN",
    "length_scale",
    lambda: S.GaussianProcessPrior(5, np.nan),
)
case("signatures.lowess", "frac > 1", "frac", lambda: S.lowess(np.arange(10.0), frac=2))
case(
    "signatures.lowess",
    "x length",
    "x",
    lambda: S.lowess(np.arange(10.0), x=np.arange(9.0)),
)
case("signatures.lowess", "NaN y", "y", lambda: S.lowess(np.array([1.0, np.nan, 2.0])))
case(
    "signatures.cluster_diseases",
    "K > D",
    "n_clusters",
    lambda: S.cluster_diseases(sim().data, 10),
)
case(
    "signatures.cluster_diseases",
    "not SurvivalData",
    "data",
    lambda: S.cluster_diseases(np.zeros((3, 3)), 2),
)
case(
    "signatures.reference_trajectories",
    "clusters length",
    "clusters",
    lambda: S.reference_trajectories(sim().data, [0, 1], 2),
)
case(
    "signatures.reference_trajectories",
    "clusters out of range",
    "clusters",
    lambda: S.reference_trajectories(sim().data, [0, 1, 2, 5, 0], 2),
)
case(
    "signatures.initial_psi",
    "cluster -1",
    "clusters",
    lambda: S.initial_psi([0, 1, -1], 2),
)
case(
    "signatures.initial_psi",
    "cluster >= K",
    "clusters",
    lambda: S.initial_psi([0, 1, 2], 2),
)
case(
    "signatures.initial_gamma",
    "clusters length",
    "clusters",
    lambda: S.initial_gamma(sim().data, [0, 1], 2),
)
case(
    "signatures.initial_gamma",
    "floor <= 0",
    "floor",
    lambda: S.initial_gamma(sim().data, [0, 1, 0, 1, 0], 2, floor=-1),
)
case(
    "signatures.initialize",
    "noise_scale < 0",
    "noise_scale",
    lambda: S.initialize(sim().data, 2, noise_scale=-1),
)
case(
    "signatures.initialize",
    "psi shape",
    "psi",
    lambda: S.initialize(sim().data, 2, psi=np.zeros((2, 2))),
)
case(
    "signatures.as_survival_tensors",
    "shape mismatch",
    "E|event",
    lambda: S.as_survival_tensors(np.zeros((3, 2), int), np.zeros((3, 3), bool)),
)
case(
    "signatures.as_survival_tensors",
    "negative E",
    "E",
    lambda: S.as_survival_tensors(-np.ones((3, 2), int), np.zeros((3, 2), bool)),
)
PI = torch.full((3, 2, 4), 0.1)
E32, EV32 = torch.ones((3, 2), dtype=torch.long), torch.zeros((3, 2), dtype=torch.bool)
case(
    "signatures.survival_nll_from_pi",
    "unknown reduction",
    "reduction",
    lambda: S.survival_nll_from_pi(PI, E32, EV32, reduction="max"),
)
case(
    "signatures.survival_nll_from_pi",
    "eps 0.7",
    "eps",
    lambda: S.survival_nll_from_pi(PI, E32, EV32, eps=0.7),
)
case(
    "signatures.survival_nll_from_pi",
    "E shape",
    "E|pi",
    lambda: S.survival_nll_from_pi(PI, E32[:2], EV32[:2]),
)
LAMT, PHIT = torch.zeros((3, 2, 4)), torch.zeros((2, 2, 4))
case(
    "signatures.signature_nll",
    "chunk_size 0",
    "chunk_size",
    lambda: S.signature_nll(LAMT, PHIT, 1.0, E32, EV32, chunk_size=0),
)
case(
    "signatures.signature_nll",
    "eps 0.7",
    "eps",
    lambda: S.signature_nll(LAMT, PHIT, 1.0, E32, EV32, eps=0.7),
)
case(
    "signatures.signature_nll",
    "phi shape",
    "phi",
    lambda: S.signature_nll(LAMT, PHIT[:1], 1.0, E32, EV32),
)
case(
    "signatures.signature_pi",
    "kappa <= 0",
    "kappa",
    lambda: S.signature_pi(np.zeros((3, 2, 4)), np.zeros((2, 2, 4)), -1.0),
)
case(
    "signatures.signature_pi",
    "complex lam",
    "lam",
    lambda: S.signature_pi(np.zeros((3, 2, 4)) + 1j, np.zeros((2, 2, 4)), 1.0),
)
case(
    "signatures.ModelPriors",
    "prior_weight < 0",
    "prior_weight",
    lambda: S.ModelPriors(
        torch.zeros(2, 4),
        torch.zeros(1, 4),
        torch.zeros(3, 1),
        S.GaussianProcessPrior(4, 1.0),
        S.GaussianProcessPrior(4, 1.0),
        prior_weight=-1,
    ),
)
case(
    "signatures.ModelPriors",
    "reference length",
    "reference",
    lambda: S.ModelPriors(
        torch.zeros(2, 4),
        torch.zeros(1, 5),
        torch.zeros(3, 1),
        S.GaussianProcessPrior(4, 1.0),
        S.GaussianProcessPrior(4, 1.0),
    ),
)
case(
    "signatures.lambda_prior_mean",
    "gamma shape",
    "gamma",
    lambda: S.lambda_prior_mean(
        torch.zeros(3, 2), torch.zeros(3, 1), torch.zeros(1, 4)
    ),
)
case(
    "signatures.lambda_prior_mean",
    "numpy G",
    "G",
    lambda: S.lambda_prior_mean(np.zeros((3, 2)), torch.zeros(2, 1), torch.zeros(1, 4)),
)
case(
    "signatures.phi_prior_mean",
    "psi shape",
    "psi",
    lambda: S.phi_prior_mean(torch.zeros(3, 4), torch.zeros(2, 5)),
)
case(
    "signatures.phi_prior_mean",
    "numpy mu",
    "mu",
    lambda: S.phi_prior_mean(np.zeros((3, 4)), torch.zeros(2, 3)),
)
case(
    "signatures.signature_parameters",
    "unknown parameterization",
    "parameterization",
    lambda: S.signature_parameters({}, None, "both"),
)
case(
    "signatures.signature_parameters",
    "missing parameters",
    "params",
    lambda: S.signature_parameters({"psi": torch.zeros(2, 3)}, None, "centered"),
)
case(
    "signatures.signature_parameters",
    "priors not ModelPriors",
    "priors",
    lambda: S.signature_parameters(
        {k: torch.zeros(2, 3) for k in ("lam", "phi", "psi", "gamma")}, None
    ),
)
case(
    "signatures.map_objective",
    "unknown parameterization",
    "parameterization",
    lambda: S.map_objective({}, E32, EV32, None, parameterization="both"),
)
case(
    "signatures.map_objective",
    "priors not ModelPriors",
    "priors",
    lambda: S.map_objective(
        {k: torch.zeros(2, 3) for k in ("lam", "phi", "psi", "gamma")}, E32, EV32, None
    ),
)
case(
    "signatures.adam_param_groups",
    "learning_rate <= 0",
    "learning_rate",
    lambda: S.adam_param_groups({"lam": torch.zeros(2)}, -1.0),
)
case(
    "signatures.adam_param_groups",
    "multiplier <= 0",
    "multipliers",
    lambda: S.adam_param_groups({"lam": torch.zeros(2)}, 0.1, {"lam": -1.0}),
)
case(
    "signatures.adam_loop",
    "n_epochs 0",
    "n_epochs",
    lambda: S.adam_loop(
        lambda: torch.zeros(()),
        torch.optim.Adam([torch.zeros(1, requires_grad=True)]),
        0,
    ),
)
case(
    "signatures.adam_loop",
    "not an optimizer",
    "optimizer",
    lambda: S.adam_loop(lambda: torch.zeros(()), 3, 5),
)
FS = S.fit_signatures
case(
    "signatures.fit_signatures",
    "negative multiplier",
    "lr_multipliers",
    lambda: FS(sim().data, 2, lr_multipliers={"lam": -1}),
)
case(
    "signatures.fit_signatures",
    "unknown multiplier key",
    "lr_multipliers",
    lambda: FS(sim().data, 2, lr_multipliers={"lamb": 1}),
)
case("signatures.fit_signatures", "K > D", "n_signatures", lambda: FS(sim().data, 10))
case(
    "signatures.fit_signatures",
    "chunk_size 0",
    "chunk_size",
    lambda: FS(sim().data, 2, chunk_size=0),
)
case(
    "signatures.fit_signatures",
    "int dtype",
    "dtype",
    lambda: FS(sim().data, 2, dtype=torch.int32),
)
case(
    "signatures.fit_signatures",
    "float16 dtype",
    "dtype",
    lambda: FS(sim().data, 2, dtype=torch.float16),
)
case("signatures.fit_signatures", "eps 0.7", "eps", lambda: FS(sim().data, 2, eps=0.7))
case(
    "signatures.fit_signatures",
    "learning_rate NaN",
    "learning_rate",
    lambda: FS(sim().data, 2, learning_rate=np.nan),
)
case(
    "signatures.match_signatures",
    "shape mismatch",
    "estimated_phi|true_phi",
    lambda: S.match_signatures(np.zeros((3, 4, 5)), np.zeros((3, 4, 6))),
)
case(
    "signatures.match_signatures",
    "NaN",
    "estimated_phi",
    lambda: S.match_signatures(np.full((3, 4, 5), np.nan), np.zeros((3, 4, 5))),
)
case(
    "signatures.matched_correlation",
    "shape mismatch",
    "estimated|truth",
    lambda: S.matched_correlation(np.zeros(5), np.zeros(4)),
)
case(
    "signatures.matched_correlation",
    "NaN",
    "estimated",
    lambda: S.matched_correlation(np.full(5, np.nan), np.arange(5.0)),
)
case(
    "signatures.event_auc",
    "length mismatch",
    "scores|outcomes",
    lambda: S.event_auc(np.zeros(5), np.zeros(4)),
)
case(
    "signatures.event_auc",
    "complex scores",
    "scores",
    lambda: S.event_auc(np.zeros(4) + 1j, [0, 1, 0, 1]),
)
case(
    "signatures.window_outcomes",
    "stop <= start",
    "stop",
    lambda: S.window_outcomes(sim().data, 4, 2),
)
case(
    "signatures.window_outcomes",
    "not SurvivalData",
    "data",
    lambda: S.window_outcomes(np.zeros((2, 2)), 0, 1),
)
case(
    "signatures.frozen_theta_risk",
    "theta rows not summing to 1",
    "theta_at",
    lambda: S.frozen_theta_risk(np.full((3, 3), 0.5), np.zeros((3, 4, 5)), 1.0, 0, 2),
)
case(
    "signatures.frozen_theta_risk",
    "stop beyond T",
    "stop",
    lambda: S.frozen_theta_risk(np.full((3, 3), 1 / 3), np.zeros((3, 4, 5)), 1.0, 0, 9),
)
case(
    "signatures.mean_disease_auc",
    "shape mismatch",
    "scores|outcome|eligible",
    lambda: S.mean_disease_auc(
        np.zeros((4, 3)), np.zeros((4, 2), bool), np.ones((4, 3), bool)
    ),
)
case(
    "signatures.mean_disease_auc",
    "min_events 0",
    "min_events",
    lambda: S.mean_disease_auc(
        np.zeros((4, 3)), np.zeros((4, 3), bool), np.ones((4, 3), bool), min_events=0
    ),
)
case(
    "signatures.signature_contrasts",
    "1-D gamma",
    "gamma",
    lambda: S.signature_contrasts(np.zeros(3)),
)
case(
    "signatures.signature_contrasts",
    "NaN",
    "gamma",
    lambda: S.signature_contrasts(np.full((2, 3), np.nan)),
)

# ---------------------------------------------------------------- sweep
W = mod("sweep")
ROWS = np.arange(40)
case(
    "sweep.embryo_grouped_split",
    "test_size 1.5",
    "test_size",
    lambda: W.embryo_grouped_split(ROWS % 8, test_size=1.5),
)
case(
    "sweep.embryo_grouped_split",
    "one group",
    "groups",
    lambda: W.embryo_grouped_split(np.zeros(10)),
)
case(
    "sweep.f1_over_time",
    "one class",
    "labels",
    lambda: W.f1_over_time(P3, np.zeros(10), np.arange(10.0), np.arange(10)),
)
case(
    "sweep.f1_over_time",
    "length mismatch",
    "labels|features",
    lambda: W.f1_over_time(P3, np.arange(9) % 2, np.arange(10.0), np.arange(10)),
)
CURVES = {
    "a": np.cumsum(R.normal(size=(20, 3)), 0),
    "b": np.cumsum(R.normal(size=(20, 3)), 0),
}
case(
    "sweep.dispersion_profile",
    "length mismatch",
    "curves",
    lambda: W.dispersion_profile({"a": np.zeros((20, 3)), "b": np.zeros((19, 3))}),
)
case("sweep.dispersion_profile", "empty", "curves", lambda: W.dispersion_profile({}))
case("sweep.dispersion_summary", "n 0", "n", lambda: W.dispersion_summary(CURVES, n=0))
case(
    "sweep.dispersion_summary",
    "NaN curve",
    "curves",
    lambda: W.dispersion_summary({"a": np.full((20, 3), np.nan), "b": CURVES["b"]}),
)
case(
    "sweep.joint_aligned_rmse",
    "no shared names",
    "curves_all|curves_hld",
    lambda: W.joint_aligned_rmse(CURVES, {"z": CURVES["a"]}),
)
case(
    "sweep.joint_aligned_rmse",
    "complex",
    "curves_all",
    lambda: W.joint_aligned_rmse({k: v + 1j for k, v in CURVES.items()}, CURVES),
)
case(
    "sweep.rmse_by_perturbation",
    "unknown method",
    "method",
    lambda: W.rmse_by_perturbation(CURVES, CURVES, method="nope"),
)
case(
    "sweep.rmse_by_perturbation",
    "shape mismatch",
    "curves_all|curves_hld",
    lambda: W.rmse_by_perturbation(CURVES, {"a": CURVES["a"][:5], "b": CURVES["b"]}),
)
case(
    "sweep.segment_colinearity",
    "unknown variant",
    "variant",
    lambda: W.segment_colinearity(CURVES["a"], CURVES["b"], variant="x"),
)
case(
    "sweep.segment_colinearity",
    "n_segments 0",
    "n_segments",
    lambda: W.segment_colinearity(CURVES["a"], CURVES["b"], n_segments=0),
)
case(
    "sweep.segment_covariance",
    "dimension mismatch",
    "a|b",
    lambda: W.segment_covariance(CURVES["a"], CURVES["b"][:, :2]),
)
case(
    "sweep.segment_covariance",
    "NaN",
    "a",
    lambda: W.segment_covariance(np.full((20, 3), np.nan), CURVES["b"]),
)
case(
    "sweep.within_colinearity",
    "one curve",
    "curves",
    lambda: W.within_colinearity({"a": CURVES["a"]}),
)
case(
    "sweep.within_colinearity",
    "n_segments 0",
    "n_segments",
    lambda: W.within_colinearity(CURVES, n_segments=0),
)
case("sweep.noisy_helix", "noise < 0", "noise", lambda: W.noisy_helix(50, noise=-1))
case("sweep.noisy_helix", "n_points 0", "n_points", lambda: W.noisy_helix(0))
case(
    "sweep.simulate_instance_pair",
    "prettiness NaN",
    "prettiness",
    lambda: W.simulate_instance_pair(np.nan),
)
case(
    "sweep.simulate_instance_pair",
    "n_embryos 0",
    "n_embryos",
    lambda: W.simulate_instance_pair(0.5, n_embryos=0),
)
case("sweep.simulate_sweep", "n_models 0", "n_models", lambda: W.simulate_sweep(0))
case(
    "sweep.simulate_sweep",
    "reflect_fraction 2",
    "reflect_fraction",
    lambda: W.simulate_sweep(2, reflect_fraction=2.0),
)
case(
    "sweep.simulate_trajectories",
    "n_frames 0",
    "n_frames",
    lambda: W.simulate_trajectories(n_frames=0),
)
case(
    "sweep.simulate_trajectories",
    "noise < 0",
    "noise",
    lambda: W.simulate_trajectories(noise=-1),
)
case(
    "sweep.classify_tranche",
    "length mismatch",
    "f1|rmse",
    lambda: W.classify_tranche([0.5, 0.9], [1.0]),
)
case("sweep.classify_tranche", "f1 > 1", "f1", lambda: W.classify_tranche([1.5], [1.0]))
case(
    "sweep.driver_analysis",
    "unknown metric",
    "metric|column",
    lambda: W.driver_analysis(tables()[0], ["phenotype"], "nope"),
)
case(
    "sweep.driver_analysis",
    "not a DataFrame",
    "table",
    lambda: W.driver_analysis(np.zeros((3, 3)), ["a"], "b"),
)
case(
    "sweep.spearman_text",
    "not a DataFrame",
    "result",
    lambda: W.spearman_text({"spearman": 0.5}, "beta"),
)
case(
    "sweep.spearman_text",
    "unknown parameter",
    "parameter",
    lambda: W.spearman_text(
        pd.DataFrame({"spearman": [0.5], "spearman_low": [0.1], "spearman_high": [0.8]},
                     index=["beta"]),
        "gamma",
    ),
)
case(
    "sweep.evaluate_model",
    "not a DataFrame",
    "table_all",
    lambda: W.evaluate_model(np.zeros((3, 3)), tables()[1]),
)
case(
    "sweep.evaluate_model",
    "bandwidth <= 0",
    "bandwidth",
    lambda: W.evaluate_model(*tables(), bandwidth=0),
)
case(
    "sweep.evaluate_sweep", "n_jobs 0", "n_jobs", lambda: W.evaluate_sweep([], n_jobs=0)
)
case(
    "sweep.evaluate_sweep",
    "models not triples",
    "models",
    lambda: W.evaluate_sweep([3]),
)
case(
    "sweep.instance_pca",
    "n_components 0",
    "n_components",
    lambda: W.instance_pca(tables()[0], 0),
)
case(
    "sweep.instance_pca",
    "missing columns",
    "table",
    lambda: W.instance_pca(tables()[0][["embryo_id"]]),
)
case(
    "sweep.pareto_front",
    "length mismatch",
    "f1|rmse",
    lambda: W.pareto_front([0.5, 0.9], [1.0]),
)
case(
    "sweep.pareto_front",
    "2-D",
    "f1|rmse",
    lambda: W.pareto_front(np.zeros((2, 2)), np.zeros((2, 2))),
)
case(
    "sweep.run_sweep",
    "not a DataFrame",
    "table",
    lambda: W.run_sweep(np.zeros((3, 3)), []),
)
case(
    "sweep.run_sweep",
    "table without observation columns",
    "table",
    lambda: W.run_sweep(tables()[0], [], held_out=("nope",)),
)
case(
    "sweep.spline_curves",
    "bandwidth <= 0",
    "bandwidth",
    lambda: W.spline_curves(tables()[0], bandwidth=-1),
)
case(
    "sweep.spline_curves",
    "n_points 1",
    "n_points",
    lambda: W.spline_curves(tables()[0], n_points=1),
)
case(
    "sweep.select_model",
    "not a DataFrame",
    "table",
    lambda: W.select_model(np.zeros((3, 3))),
)
case(
    "sweep.select_model",
    "table without metric columns",
    "table",
    lambda: W.select_model(tables()[0]),
)
case(
    "sweep.trend_from_interval",
    "low > high",
    "low|high",
    lambda: W.trend_from_interval(1.0, 0.0),
)
case(
    "sweep.trend_from_interval",
    "not numbers",
    "low|high",
    lambda: W.trend_from_interval("a", 1.0),
)


def summary() -> dict[str, list[tuple[Case, str]]]:
    results: dict[str, list] = {}
    for c in CASES:
        outcome, detail = classify(c)
        results.setdefault(outcome, []).append((c, detail))
    return results


if __name__ == "__main__":
    results = summary()
    total = sum(len(v) for v in results.values())
    print({k: len(v) for k, v in results.items()}, "of", total)
    for outcome in ("unclear", "silent", "dependency", "crash"):
        for c, detail in results.get(outcome, []):
            print(f"{outcome:10s} {c.name} [{c.label}] {detail[:160]}")
