"""Hot start at biobank scale: cold versus hot fits, and λ-only prediction for 10,000 people (chapter 2).

Sizes follow the reference (UK Biobank): D = 348 diseases, T = 52 ages, K = 20
disease signatures + 1 healthy, prediction batches of N = 10,000 people.

1. A master is pooled from cold fits of ``n_train_batches`` training batches
   (``train_size`` people each; chapter 1's trainer, float32 likelihood).
2. A held-out batch of ``held_size`` (10,000) people is fitted cold (full model,
   ``cold_epochs``) and hot (λ only from the master, ``hot_epochs``) on its
   follow-up before enrollment. Threshold = the lowest loss the hot fit
   reaches; we report the epochs and seconds each fit needs to reach it.
3. Prediction = the hot λ-only fit on those 10,000 people (float64 and
   float32), timed in full; the cold fit gets the reference's 200 epochs.

Reference numbers (reported by the authors, not measured here): ~8–10 min of
training (200 epochs) and ~8 min of prediction per 10k batch on CPU.
Target: prediction <= 2 min per 10k people on 2 cores.

Run: ``.venv/bin/python benchmarks/hotstart.py`` (about 10 minutes on an idle
2-core machine; set OMP_NUM_THREADS=2 to use both cores); ``--small`` for a smoke run. Writes
``benchmarks/results/hotstart.json`` and ``benchmarks/results/hotstart.md``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # 2 threads on a loaded 2-core machine oversubscribe badly

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from latentlab.datasets.signatures_sim import simulate_signatures  # noqa: E402
from latentlab.hotstart import FixedSignaturePredictor, epochs_to_threshold, pool_checkpoints  # noqa: E402
from latentlab.hotstart.experiments import fit_cold, standardised, train_batch_checkpoints  # noqa: E402

RESULTS = Path(__file__).parent / "results"
warnings.filterwarnings("ignore", message=".*clamp binds.*|.*exceeded 1.*|.*not writable.*")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="tiny sizes for a smoke run")
    args = parser.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    if args.small:
        cfg = dict(D=40, T=20, K=4, P=5, train_size=200, n_train_batches=2, held_size=1000,
                   train_epochs=20, cold_epochs=30, hot_epochs=10)
    else:
        cfg = dict(D=348, T=52, K=20, P=10, train_size=5000, n_train_batches=2, held_size=10_000,
                   train_epochs=60, cold_epochs=200, hot_epochs=30)
    D, T, K = cfg["D"], cfg["T"], cfg["K"]
    n_total = cfg["train_size"] * cfg["n_train_batches"] + cfg["held_size"]
    began = time.perf_counter()
    sim = simulate_signatures(n_total, D, T, K, cfg["P"], rng=0, censoring_fraction=0.2)
    index = np.arange(n_total)
    n_train = cfg["train_size"] * cfg["n_train_batches"]
    train_idx = np.split(index[:n_train], cfg["n_train_batches"])
    held_idx = index[n_train:]
    simulate_s = time.perf_counter() - began
    enrollment = T // 3

    began = time.perf_counter()
    training = train_batch_checkpoints([sim.data.subset(i) for i in train_idx], K,
                                       n_epochs=cfg["train_epochs"], rng=0)
    train_s = time.perf_counter() - began
    master = pool_checkpoints(training.checkpoints)

    # The held-out batch of 10,000 people: hot (λ only, the prediction itself) versus cold (full model).
    held = sim.data.subset(held_idx)
    began = time.perf_counter()
    hot = FixedSignaturePredictor(master, n_epochs=cfg["hot_epochs"], learning_rate=0.03, chunk_size=256).fit(
        held, enrollment=enrollment, rng=1)
    hot_s = time.perf_counter() - began
    began = time.perf_counter()
    FixedSignaturePredictor(master, n_epochs=cfg["hot_epochs"], learning_rate=0.03, chunk_size=256,
                            dtype=torch.float32).fit(held, enrollment=enrollment, rng=1)
    hot32_s = time.perf_counter() - began
    began = time.perf_counter()
    cold = fit_cold(standardised(held, master.covariate_mean, master.covariate_scale).capped(enrollment - 1), K,
                    clusters=training.clusters, psi=training.psi, n_epochs=cfg["cold_epochs"], rng=1)
    cold_s = time.perf_counter() - began
    threshold = min(hot.history)
    hot_epochs = epochs_to_threshold(hot.history, threshold)
    cold_epochs = epochs_to_threshold(cold.history, threshold)
    held_result = {
        "n_individuals": int(held.n_individuals), "threshold": threshold,
        "hot_epochs_to_threshold": hot_epochs, "cold_epochs_to_threshold": cold_epochs,
        "cold_budget_epochs": cfg["cold_epochs"], "hot_budget_epochs": cfg["hot_epochs"],
        "hot_seconds": hot_s, "cold_seconds": cold_s,
        "hot_seconds_per_epoch": hot_s / hot.n_iter, "cold_seconds_per_epoch": cold_s / cold.n_iter,
        "hot_seconds_to_threshold": hot_s * hot_epochs / hot.n_iter,
        "cold_seconds_to_threshold": None if cold_epochs is None else cold_s * cold_epochs / cold.n_iter,
        "hot_final": hot.history[-1], "cold_final": cold.history[-1], "cold_best": min(cold.history),
    }
    scale = 10_000 / held.n_individuals
    result = {
        "config": cfg,
        "note": f"measured on an otherwise idle 2-core machine with {torch.get_num_threads()} torch thread(s)",
        "machine": {"python": platform.python_version(), "torch": torch.__version__,
                    "threads": torch.get_num_threads()},
        "simulate_seconds": simulate_s,
        "train_master_seconds": train_s,
        "train_master_seconds_per_batch": list(training.wall_times),
        "pooled_kappa": master.kappa,
        "held_out": held_result,
        "prediction_10k": {
            "n_individuals": int(held.n_individuals), "epochs": hot.n_iter,
            "seconds_per_10k": hot_s * scale, "float32_seconds_per_10k": hot32_s * scale,
            "target_seconds_per_10k": 120.0, "reference_seconds_per_10k": 480.0,
        },
        "peak_rss_mb": peak_rss_mb(),
    }
    RESULTS.mkdir(exist_ok=True)
    name = "hotstart_small" if args.small else "hotstart"
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(result))
    print(markdown(result))
    return result


def markdown(r: dict) -> str:
    c, h, p = r["config"], r["held_out"], r["prediction_10k"]
    cold_ep = h["cold_epochs_to_threshold"]
    cold_txt = f"{cold_ep}" if cold_ep is not None else f"not within {h['cold_budget_epochs']}"
    cold_sec = f"{h['cold_seconds_to_threshold']:.1f}" if h["cold_seconds_to_threshold"] is not None else "—"
    return f"""# Hot start benchmark (chapter 2)

D = {c['D']}, T = {c['T']}, K = {c['K']} + 1 healthy; master pooled from {c['n_train_batches']} cold-fitted
batches of {c['train_size']} people ({c['train_epochs']} epochs each, {r['train_master_seconds']:.0f} s in all,
pooled κ = {r['pooled_kappa']:.2f}); {r['note']}.

## Held-out batch of {h['n_individuals']} people: cold versus hot

Threshold: the lowest loss the hot fit reaches in its {h['hot_budget_epochs']} epochs.

| fit | epochs to threshold ({h['threshold']:.3f}) | seconds to threshold | seconds / epoch | total seconds | final loss |
|---|---|---|---|---|---|
| hot (λ only, lr 0.03) | {h['hot_epochs_to_threshold']} | {h['hot_seconds_to_threshold']:.1f} | {h['hot_seconds_per_epoch']:.3f} | {h['hot_seconds']:.1f} | {h['hot_final']:.3f} |
| cold (full model, lr 0.1) | {cold_txt} | {cold_sec} | {h['cold_seconds_per_epoch']:.3f} | {h['cold_seconds']:.1f} | {h['cold_final']:.3f} (best {h['cold_best']:.3f}) |

## Prediction (the hot λ-only fit) per 10,000 people, {p['epochs']} epochs

| | seconds per 10k people |
|---|---|
| ours, float64 | {p['seconds_per_10k']:.1f} |
| ours, float32 | {p['float32_seconds_per_10k']:.1f} |
| target | {p['target_seconds_per_10k']:.0f} |
| reference (reported by the authors, 200 epochs) | ~{p['reference_seconds_per_10k']:.0f} |

Peak RSS of the whole run (simulation of {c['train_size'] * c['n_train_batches'] + c['held_size']} people included): {r['peak_rss_mb']:.0f} MB.
"""


if __name__ == "__main__":
    main()
