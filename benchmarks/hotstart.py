"""Hot start (chapter 2): is the master calibrated, and what does a hot start buy?

1. **Pooling and calibration.** Cohort A (simulated, 4 batches) is fitted cold per
   batch, with κ learned and with κ fixed to 1 (the reference's newer pipeline).
   Each pooling strategy of :mod:`latentlab.hotstart.pooling` (and the
   recalibrated probability pool) gives a master; the held-out batch is predicted
   with the λ-only fit and compared with the simulator's **true** hazards over the
   10 years after enrollment: predicted/true ratio overall and per disease group
   with at least 20 diagnoses in the window (target [0.8, 1.25]).
2. **Hot versus cold, honestly.** For several seeds the held-out batch is fitted
   hot (λ only) and cold (the whole model on these people alone) on its follow-up
   before enrollment, each with a ladder of fixed epoch budgets, then to
   convergence under ONE rule for both (mean relative change of the objective per
   epoch over 10 epochs at most ``--rtol`` on 3 consecutive epochs,
   :func:`latentlab.signatures.fit.relative_change_met`; generous caps), then for
   twice the epochs the rule needed (does prediction quality still move?). Every
   fit is scored on the follow-up after enrollment (forward NLL per person,
   10-year AUC of the group, predicted/true hazard ratio, and the rank
   correlation of the predicted with the true group risk among the people the
   AUC scores) against its wall time.

The biobank-scale prediction timing (λ-only fit of 10,000 people, D = 348) was
measured by this script's version at commit f9b6726 (about 10 minutes idle); that
result is carried over in the JSON file (``prediction_10k_run``) and not remeasured.

Run: ``.venv/bin/python benchmarks/hotstart.py`` (``--small`` for a smoke run).
Writes ``benchmarks/results/hotstart.json`` and ``benchmarks/results/hotstart.md``.
The tighter rule: ``--rtol 1e-6 --caps 8000 8000 --name hotstart_rtol1e-6``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from latentlab.datasets.signatures_sim import simulate_two_cohorts  # noqa: E402
from latentlab.hotstart import FixedSignaturePredictor, predict_hazards  # noqa: E402
from latentlab.hotstart.calibration import (
    at_risk_window,
    hazard_ratio,
    recalibrate,
)  # noqa: E402
from latentlab.hotstart.comparison import carry_forward, mean_half_width  # noqa: E402
from latentlab.hotstart.experiments import (  # noqa: E402
    fit_cold,
    score_prediction,
    standardised,
    train_batch_checkpoints,
)
from latentlab.hotstart.pooling import STRATEGIES, pool  # noqa: E402

RESULTS = Path(__file__).parent / "results"
warnings.filterwarnings(
    "ignore", message=".*clamp binds.*|.*exceeded 1.*|.*not writable.*"
)

SIZES = {
    "small": dict(
        n_per_batch=100,
        D=12,
        T=24,
        K=3,
        P=5,
        train_epochs=40,
        hot_epochs=15,
        seeds=[0, 1],
        hot_ladder=[1, 5, 25, 100],
        cold_ladder=[25, 100, 300],
        hot_cap=3000,
        cold_cap=4000,
    ),
    "full": dict(
        n_per_batch=200,
        D=24,
        T=36,
        K=4,
        P=10,
        train_epochs=80,
        hot_epochs=25,
        seeds=[0, 1, 2],
        hot_ladder=[1, 5, 25, 100, 300],
        cold_ladder=[25, 100, 300, 1000],
        hot_cap=4000,
        cold_cap=6000,
    ),
}


def calibration_table(cohort, cfg, enrollment, horizon):
    """Predicted/true hazard ratio of every master on the held-out batch."""
    held, truth = cohort.batch(3), cohort.batch_truth(3).pi()
    at_risk = at_risk_window(held.E, cfg["T"], enrollment, enrollment + horizon)
    new = held.event & (held.E >= enrollment) & (held.E < enrollment + horizon)
    groups = {k: np.flatnonzero(cohort.truth.clusters == k) for k in range(cfg["K"])}
    batches = [cohort.batch(b) for b in range(3)]
    rows, seconds = {}, {}
    for learn in (True, False):
        began = time.perf_counter()
        training = train_batch_checkpoints(
            batches, cfg["K"], n_epochs=cfg["train_epochs"], rng=0, learn_kappa=learn
        )
        seconds["kappa learned" if learn else "kappa = 1"] = time.perf_counter() - began
        masters = {name: pool(training.checkpoints, name) for name in STRATEGIES}
        masters["probability + recalibrated"] = recalibrate(
            masters["probability"],
            batches,
            enrollment=enrollment,
            horizon=horizon,
            clusters=training.clusters,
            predictor=FixedSignaturePredictor(
                masters["probability"], n_epochs=cfg["hot_epochs"], learning_rate=0.03
            ),
        )
        for name, master in masters.items():
            fit = FixedSignaturePredictor(
                master, n_epochs=cfg["hot_epochs"], learning_rate=0.03
            ).fit(held, enrollment=enrollment, rng=0)
            hazards = predict_hazards(master, fit.lam)
            row = {"overall": hazard_ratio(hazards, truth, at_risk)}
            for k, d in groups.items():
                if new[:, d].sum() >= 20:
                    row[f"group {k}"] = hazard_ratio(hazards, truth, at_risk, d)
            label = f"{name} ({'κ learned' if learn else 'κ = 1'})"
            rows[label] = row
        if learn:
            chapter = (masters["probability + recalibrated"], training)
    events = {f"group {k}": int(new[:, d].sum()) for k, d in groups.items()}
    return rows, events, seconds, chapter


def hot_cold_ladder(cohort, cfg, master, training, enrollment, horizon, rtol):
    """Prediction quality after enrollment against wall time, hot and cold.

    Per seed and kind: the fixed budgets of the ladder (no stopping rule), the
    fit to convergence under the relative rule ``rtol`` (budget ``"rule"``; cap
    ``hot_cap`` / ``cold_cap``), and a fit of twice the epochs the rule needed
    (budget ``"2x rule"``, no rule).
    """
    from scipy.stats import spearmanr

    from latentlab.hotstart import RiskWindow, dynamic_risk, window_outcomes

    held, truth = cohort.batch(3), cohort.batch_truth(3).pi()
    at_risk = at_risk_window(held.E, cfg["T"], enrollment, enrollment + horizon)
    group = np.flatnonzero(cohort.truth.clusters == 0).tolist()
    scaled = standardised(held, master.covariate_mean, master.covariate_scale)
    window = RiskWindow(enrollment, horizon)
    scored = window_outcomes(held.E, held.event, group, window).evaluable
    true_risk = dynamic_risk(truth, group, window)[scored]

    def fit_once(kind, seed, n_epochs, rule):
        began = time.perf_counter()
        if kind == "hot":
            fit = FixedSignaturePredictor(
                master, n_epochs=n_epochs, learning_rate=0.03, tol=rule
            ).fit(held, enrollment=enrollment, rng=seed)
            hazards = predict_hazards(master, fit.lam)
        else:
            fit = fit_cold(
                scaled.capped(enrollment - 1),
                cfg["K"],
                clusters=training.clusters,
                psi=training.psi,
                n_epochs=n_epochs,
                rng=seed,
                tol=None,
                rtol=rule,
            )
            hazards = carry_forward(fit.pi(eps=1e-8), enrollment)
        seconds = time.perf_counter() - began
        score = score_prediction(
            hazards,
            held,
            enrollment=enrollment,
            diseases=group,
            horizon=horizon,
            n_boot=0,
        )
        risk = dynamic_risk(hazards, group, window)[scored]
        return fit, dict(
            kind=kind,
            seed=seed,
            epochs=fit.n_iter,
            converged=bool(fit.converged),
            seconds=seconds,
            forward_nll=score.forward_nll,
            auc=score.auc.auc,
            hazard_ratio=hazard_ratio(hazards, truth, at_risk),
            rank_corr_true=float(spearmanr(risk, true_risk)[0]),
            final_loss=float(fit.history[-1]),
        )

    points = []
    for seed in cfg["seeds"]:
        for kind in ("hot", "cold"):
            for budget in cfg[f"{kind}_ladder"]:
                _, row = fit_once(kind, seed, budget, None)
                points.append(dict(row, budget=budget))
            fit, row = fit_once(kind, seed, cfg[f"{kind}_cap"], rtol)
            points.append(dict(row, budget="rule"))
            _, row = fit_once(kind, seed, 2 * fit.n_iter, None)
            points.append(dict(row, budget="2x rule"))
    return points


def summarise(points):
    """Mean and 95 % t-interval over seeds, per kind and budget."""

    out = []
    for kind in ("hot", "cold"):
        budgets = []
        for p in points:
            if p["kind"] == kind and p["budget"] not in budgets:
                budgets.append(p["budget"])
        for budget in budgets:
            sel = [p for p in points if p["kind"] == kind and p["budget"] == budget]
            row = {
                "kind": kind,
                "budget": budget,
                "converged": sum(p["converged"] for p in sel),
                "n": len(sel),
            }
            for key in (
                "seconds",
                "forward_nll",
                "auc",
                "hazard_ratio",
                "epochs",
                "rank_corr_true",
            ):
                row[key], row[f"{key}_half"] = mean_half_width([p[key] for p in sel])
            out.append(row)
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--small", action="store_true", help="tiny sizes for a smoke run"
    )
    parser.add_argument(
        "--rtol",
        type=float,
        default=1e-5,
        help="the relative stopping rule of both fits (mean change per epoch)",
    )
    parser.add_argument(
        "--caps",
        type=int,
        nargs=2,
        metavar=("HOT", "COLD"),
        help="epoch caps of the fits to the rule (default: the size's)",
    )
    parser.add_argument(
        "--name",
        help="results file name without extension (default hotstart[_small])",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cfg = dict(SIZES["small" if args.small else "full"])
    if args.caps:
        cfg["hot_cap"], cfg["cold_cap"] = args.caps
    began = time.perf_counter()
    cohort, _ = simulate_two_cohorts(
        (4 * cfg["n_per_batch"], 2 * cfg["n_per_batch"]),
        cfg["D"],
        cfg["T"],
        cfg["K"],
        cfg["P"],
        rng=0,
        n_batches=4,
        prevalence_shift=0.7,
    )
    enrollment, horizon = cfg["T"] // 3, 10
    rows, events, train_seconds, (master, training) = calibration_table(
        cohort, cfg, enrollment, horizon
    )
    points = hot_cold_ladder(
        cohort, cfg, master, training, enrollment, horizon, args.rtol
    )
    load = os.getloadavg()
    name = args.name or ("hotstart_small" if args.small else "hotstart")
    previous = RESULTS / f"{name}.json"
    kept = {}
    if previous.is_file():
        old = json.loads(previous.read_text())
        kept = old.get("prediction_10k_run") or (
            {
                "config": old.get("config"),
                "note": old.get("note"),
                "prediction_10k": old["prediction_10k"],
            }
            if "prediction_10k" in old
            else {}
        )
    result = {
        "config": cfg,
        "enrollment": enrollment,
        "horizon": horizon,
        "machine": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "load_average_at_end": [round(x, 2) for x in load],
        },
        "calibration": {
            "hazard_ratio": rows,
            "window_events": events,
            "train_seconds": train_seconds,
            "target": [0.8, 1.25],
        },
        "hot_vs_cold": {
            "rule": {"rtol": args.rtol, "window": 10, "patience": 3},
            "points": points,
            "summary": summarise(points),
            "twice_minus_rule": twice_minus_rule(points),
        },
        "total_seconds": time.perf_counter() - began,
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
        "prediction_10k_run": kept,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(result))
    print(markdown(result))
    return result


def twice_minus_rule(points):
    """Per kind: change of each score from the rule's stop to twice its epochs."""

    out = {}
    for kind in ("hot", "cold"):
        at = {p["seed"]: p for p in points if p["kind"] == kind}
        stop = {
            p["seed"]: p for p in points if p["kind"] == kind and p["budget"] == "rule"
        }
        twice = {
            p["seed"]: p
            for p in points
            if p["kind"] == kind and p["budget"] == "2x rule"
        }
        row = {}
        for key in ("forward_nll", "auc", "hazard_ratio", "rank_corr_true"):
            x = np.array([twice[s][key] - stop[s][key] for s in sorted(at)])
            row[key], row[f"{key}_half"] = mean_half_width(x)
            row[f"{key}_max_abs"] = float(np.abs(x).max())
        out[kind] = row
    return out


def _pm(row, key, digits, kind="f"):
    half = row[f"{key}_half"]
    text = f"{row[key]:.{digits}{kind}}"
    return text if not np.isfinite(half) else f"{text} ± {half:.{digits}{kind}}"


def markdown(r: dict) -> str:
    c, cal = r["config"], r["calibration"]
    rule = r["hot_vs_cold"]["rule"]
    columns = sorted(
        {k for row in cal["hazard_ratio"].values() for k in row},
        key=lambda k: (k != "overall", k),
    )
    lines = [
        "# Hot start benchmark (chapter 2)",
        "",
        f"Cohort A simulated with {4 * c['n_per_batch']} people in 4 batches, D = {c['D']}, "
        f"T = {c['T']}, K = {c['K']} + 1 healthy; batch fits of {c['train_epochs']} epochs; "
        f"enrollment t_e = {r['enrollment']}, window {r['horizon']} years. "
        f"Commit {r['commit']}; load average at the end "
        f"{r['machine']['load_average_at_end']} (a shared 2-core machine: seconds are "
        "comparable only within this run).",
        "",
        "## Predicted / true hazard after enrollment, held-out batch",
        "",
        "Target: [0.8, 1.25] overall and per disease group with ≥ 20 diagnoses in the "
        f"window (diagnoses per group: {cal['window_events']}).",
        "",
        "| master | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for name, row in cal["hazard_ratio"].items():
        lines.append(
            f"| {name} | "
            + " | ".join(f"{row[k]:.2f}" if k in row else "—" for k in columns)
            + " |"
        )
    lines += [
        "",
        "## Hot versus cold: prediction quality after enrollment against wall time",
        "",
        f"Mean ± 95 % t-interval over {len(c['seeds'])} seeds. Fixed epoch budgets "
        "(no stopping rule), then budget `rule`: both fits to convergence under one "
        f"rule (mean relative change of the objective per epoch over 10 epochs at most "
        f"{rule['rtol']:g} on 3 consecutive epochs; caps {c['hot_cap']} hot, "
        f"{c['cold_cap']} cold), then `2x rule`: twice the epochs the rule needed. "
        "Cold = the whole model fitted to the held-out people alone, hazards carried "
        "forward from the last seen age (it has no information after t_e). Rank "
        "correlation: Spearman's ρ of the predicted with the true 10-year group risk "
        "among the people the AUC scores.",
        "",
        "| fit | epoch budget | epochs | converged | seconds | forward NLL / person "
        "| 10-year AUC | rank corr. with true risk | predicted / true hazard |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in r["hot_vs_cold"]["summary"]:
        converged = (
            f"{row['converged']} of {row['n']}" if row["budget"] == "rule" else "—"
        )
        lines.append(
            f"| {row['kind']} | {row['budget']} | {row['epochs']:.0f} | {converged} | "
            f"{_pm(row, 'seconds', 2)} | {_pm(row, 'forward_nll', 3)} | "
            f"{_pm(row, 'auc', 3)} | {_pm(row, 'rank_corr_true', 2)} | "
            f"{_pm(row, 'hazard_ratio', 2, 'g')} |"
        )
    lines += [
        "",
        "Change from the rule's stop to twice its epochs (mean ± 95 % t-interval; "
        "largest absolute change over seeds):",
        "",
        "| fit | forward NLL / person | 10-year AUC | rank corr. | predicted / true |",
        "|---|---|---|---|---|",
    ]
    for kind, row in r["hot_vs_cold"]["twice_minus_rule"].items():
        cells = [
            f"{_pm(row, key, 3)} (max {row[key + '_max_abs']:.3g})"
            for key in ("forward_nll", "auc", "rank_corr_true", "hazard_ratio")
        ]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    kept = r.get("prediction_10k_run") or {}
    if kept.get("prediction_10k"):
        p = kept["prediction_10k"]
        lines += [
            "",
            "## Prediction speed per 10,000 people (earlier run, kept)",
            "",
            f"From this script at commit f9b6726 ({kept.get('note')}): λ-only fit of "
            f"10,000 people at D = 348, T = 52, K = 20 + 1, {p['epochs']} epochs: "
            f"{p['seconds_per_10k']:.1f} s (float64), {p['float32_seconds_per_10k']:.1f} s "
            f"(float32); target {p['target_seconds_per_10k']:.0f} s; reference ~"
            f"{p['reference_seconds_per_10k']:.0f} s (reported by its authors).",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
