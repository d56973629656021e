"""Benchmark: fitting the signature model at the reference's batch size.

Runs each configuration in its own subprocess (so peak RSS is per run) and
writes ``benchmarks/results/signatures_fit.json`` and ``.md``.

* ``ours``: :func:`latentlab.signatures.fit_signatures` (chunked fused
  likelihood with analytic gradients, float32 likelihood, float64 GP algebra,
  E/event instead of dense masks).
* ``previous``: the same fit with an earlier kernel swapped in (``--previous
  PATH``): an earlier ``likelihood.py``, or a folder holding ``likelihood.py``,
  ``_kernel.py``, ``_ages.py`` (where that commit has one) and ``objective.py``
  of an earlier commit, which then replace the whole objective; it runs at that
  kernel's default chunk size (64 for the person-major kernels, the age-major
  kernel's own blocks where the folder has ``_ages.py``). It runs in the same
  invocation as ``ours``, so both see the same machine load.
* ``torch steps`` (``--torch-steps``): ours with ``LATENTLAB_NATIVE=0``, i.e. the
  kernel's per-age loop, θ, the write-back and the λ prior as torch operations
  instead of the compiled C parts (``signatures/_native.c``).
* ``straightforward``: the same objective written the obvious way: π by one
  einsum over the whole batch, dense N×D×T float32 at-risk mask and outcome
  array, autograd for everything. Timed for a few epochs and extrapolated to
  the full epoch count (stated in the results).

Usage::

    python benchmarks/signatures_fit.py            # reference + small size
    python benchmarks/signatures_fit.py --quick    # small size only
    mkdir -p /tmp/prev && for f in likelihood.py _kernel.py _ages.py objective.py; do
        git show 4e0ebf0:src/latentlab/signatures/$f > /tmp/prev/$f; done
    python benchmarks/signatures_fit.py --skip-small --skip-one-thread \
        --skip-straightforward --epochs 200 --previous-epochs 10 --previous /tmp/prev \
        --data-cache /tmp/sim.pkl --profile --profile-epochs 3

The reference implementation reports ~8–10 min and ~8 GB per 10k batch on its
authors' CPU; our target is ≤ 3 min and ≤ 2 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

REFERENCE = dict(n_individuals=10_000, n_diseases=348, n_times=52, n_signatures=20, n_covariates=47)
SMALL = dict(n_individuals=1_000, n_diseases=50, n_times=52, n_signatures=5, n_covariates=10)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _swap_likelihood(path: str):
    """Make the fit use an earlier version of the likelihood (and objective).

    ``path`` is either an earlier ``likelihood.py`` (its kernel must match the
    current ``_kernel.py``) or a directory holding ``likelihood.py``,
    ``_kernel.py`` and, optionally, ``objective.py`` of an earlier commit; with
    ``objective.py`` the fit also uses that objective and the plain (unfused) Adam
    of that commit, so the row is the earlier fit as a whole.
    """
    import importlib.util

    import torch

    import latentlab.signatures as package
    import latentlab.signatures.fit as fit
    import latentlab.signatures.objective as objective

    def load(name: str, file: Path):
        spec = importlib.util.spec_from_file_location(name, file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
        return module

    folder = Path(path)
    if not folder.is_dir():
        module = load("previous_likelihood", folder)
        objective.signature_nll = module.signature_nll
        return module
    current = package._kernel, package._ages
    package._kernel = load("previous_kernel", folder / "_kernel.py")
    try:  # the earlier likelihood imports the earlier kernels
        if _has_ages(folder):
            package._ages = load("previous_ages", folder / "_ages.py")
        module = load("previous_likelihood", folder / "likelihood.py")
    finally:
        package._kernel, package._ages = current
    objective.signature_nll = module.signature_nll
    if (folder / "objective.py").is_file():
        old = load("previous_objective", folder / "objective.py")
        old.signature_nll = module.signature_nll
        old.ModelPriors = objective.ModelPriors
        fit.map_objective = old.map_objective
        if _has_ages(folder):  # that fit already used the fused Adam
            return module
        adam = torch.optim.Adam

        class PlainAdam(adam):  # the earlier fit's Adam (no fused kernel)
            def __init__(self, params, **kwargs):
                kwargs.pop("fused", None)
                super().__init__(params, **kwargs)

        fit.torch.optim.Adam = PlainAdam
    return module


def _has_ages(previous: str | Path | None) -> bool:
    """Whether ``previous`` is a folder of the age-major CPU kernel (``_ages.py``):
    its fit runs at its default block size and with the fused Adam."""
    return previous is not None and (Path(previous) / "_ages.py").is_file()


def _previous_chunk(previous: str | None) -> int | None:
    """Chunk size of the previous fit: its default (None) for an age-major kernel,
    else 64, the default of the person-major kernels on a CPU."""
    return None if _has_ages(previous) else 64


def _data(size: dict, cache: str | None):
    """Simulated data (cached in ``cache`` when given, so children share it)."""
    import pickle

    from latentlab.datasets.signatures_sim import simulate_signatures

    if cache and Path(cache).is_file():
        with open(cache, "rb") as handle:
            stored_size, data = pickle.load(handle)
        if stored_size == size:
            return data
    data = simulate_signatures(**size, rng=0, baseline_range=(0.0002, 0.002)).data
    if cache:
        with open(cache, "wb") as handle:
            pickle.dump((size, data), handle)
    return data


def run_child(kind: str, size: dict, n_epochs: int, threads: int, previous: str | None = None,
              cache: str | None = None) -> dict:
    """Inside the subprocess: simulate, fit, report timings and peak RSS."""
    if kind == "torch steps":  # ours with the C parts switched off (before latentlab loads)
        os.environ["LATENTLAB_NATIVE"] = "0"
    import numpy as np
    import torch

    from latentlab.datasets.signatures_sim import simulate_signatures
    from latentlab.signatures import _native
    from latentlab.signatures import (
        GaussianProcessPrior,
        fit_signatures,
        initialize,
        lambda_prior_mean,
    )

    torch.set_num_threads(threads)
    start = time.perf_counter()
    data = _data(size, cache)
    simulate_s = time.perf_counter() - start
    rss_after_data = _peak_rss_mb()
    K = size["n_signatures"]
    if kind in ("ours", "previous", "torch steps"):
        chunk = None
        if kind == "previous":
            _swap_likelihood(previous)
            chunk = _previous_chunk(previous)  # the previous fit's default on a CPU
        start = time.perf_counter()
        init = initialize(data, K, rng=0)
        init_s = time.perf_counter() - start
        load_start = os.getloadavg()[0]
        start, cpu = time.perf_counter(), time.process_time()
        fit = fit_signatures(data, K, n_epochs=n_epochs, init=init, tol=None, verbose=False, num_threads=threads,
                             chunk_size=chunk)
        fit_s, fit_cpu_s = time.perf_counter() - start, time.process_time() - cpu
        return dict(kind=kind, **size, n_epochs=n_epochs, threads=threads, simulate_s=simulate_s, init_s=init_s,
                    load_start=load_start, load_end=os.getloadavg()[0],
                    fit_s=fit_s * 200 / fit.n_iter, fit_cpu_s=fit_cpu_s * 200 / fit.n_iter, measured_fit_s=fit_s,
                    seconds_per_epoch=fit_s / fit.n_iter, epochs_per_s=fit.n_iter / fit_s,
                    measured_epochs=fit.n_iter, extrapolated=fit.n_iter != 200, final_loss=fit.history[-1],
                    peak_rss_mb=_peak_rss_mb(), rss_after_data_mb=rss_after_data, n_events=data.n_events,
                    kernel=_native.status())

    # the straightforward version: dense arrays and autograd everywhere
    init = initialize(data, K, rng=0)
    N, D, T = data.n_individuals, data.n_diseases, data.n_times
    Y = torch.tensor(data.to_dense(), dtype=torch.float32)
    at_risk = torch.tensor(data.at_risk(), dtype=torch.float32)
    lam = torch.tensor(init.lam, dtype=torch.float32, requires_grad=True)
    phi = torch.tensor(init.phi, dtype=torch.float32, requires_grad=True)
    psi = torch.tensor(init.psi, dtype=torch.float32, requires_grad=True)
    gamma = torch.tensor(init.gamma, dtype=torch.float32, requires_grad=True)
    kappa = torch.tensor(1.0, requires_grad=True)
    G = torch.tensor(np.array(data.G), dtype=torch.float32)
    mu = torch.tensor(init.mu, dtype=torch.float32)
    reference = torch.tensor(init.reference, dtype=torch.float32)
    lam_prior, phi_prior = GaussianProcessPrior(T, T / 4), GaussianProcessPrior(T, T / 3)
    optimizer = torch.optim.Adam([
        {"params": [lam], "lr": 0.1}, {"params": [phi], "lr": 0.01}, {"params": [psi], "lr": 0.01},
        {"params": [gamma], "lr": 0.1}, {"params": [kappa], "lr": 0.1}])
    times, cpu = [], time.process_time()
    for _ in range(n_epochs):
        t0 = time.perf_counter()
        optimizer.zero_grad()
        theta = torch.softmax(lam, dim=1)
        pi = kappa * torch.einsum("nkt,kdt->ndt", theta, torch.sigmoid(phi))
        pi = pi.clamp(1e-6, 1 - 1e-6)
        nll = -(at_risk * (Y * torch.log(pi) + (1 - Y) * torch.log(1 - pi))).sum()
        q_lam = lam_prior.quadratic_form_torch(lam - lambda_prior_mean(G, gamma, reference))
        q_phi = phi_prior.quadratic_form_torch(phi - mu.unsqueeze(0) - psi.unsqueeze(2))
        loss = nll / N + 1e-4 * (q_lam / N + q_phi / D)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - t0)
    per_epoch = sum(times[1:]) / max(len(times) - 1, 1) if len(times) > 1 else times[0]
    cpu_per_epoch = (time.process_time() - cpu) / len(times)
    return dict(kind=kind, **size, n_epochs=200, threads=threads, simulate_s=simulate_s,
                seconds_per_epoch=per_epoch, epochs_per_s=1 / per_epoch, fit_s=200 * per_epoch,
                fit_cpu_s=200 * cpu_per_epoch,
                measured_epochs=n_epochs, extrapolated=True, peak_rss_mb=_peak_rss_mb(),
                rss_after_data_mb=rss_after_data, n_events=data.n_events)


#: Profile parts: (module, function, what it is). Each runs inside the worker threads,
#: so its time is summed over the threads (thread-seconds).
PARTS = [
    ("latentlab.signatures._native", "block_ages",
     ("per-age loop in C: three products per age, one pass over the cells (clamp, "
      "cells after E, running product, 1/w), events, softmax backward")),
    ("latentlab.signatures._native", "block_theta",
     "θ = softmax(λ) per block, with the bounds on π of the clamp check (C)"),
    ("latentlab.signatures._native", "block_grad_lam", "∂/∂λ back to λ's layout (C)"),
    ("latentlab.signatures._ages", "_clamp_ages", "clamp check: the ages where it may bind"),
    ("latentlab.signatures._native_prior", "prior_rows", "λ prior, float64 (C)"),
    ("latentlab.signatures._ages", "_torch_ages", "per-age loop as torch operations (fallback)"),
    ("latentlab.signatures._ages", "_theta", "θ = softmax(λ) per block (torch, fallback)"),
]


def run_profile(size: dict, n_epochs: int, threads: int, cache: str | None = None) -> dict:
    """Where the time of a fit epoch goes: thread-seconds per epoch of each part of
    :data:`PARTS` (timed around each call, summed over the worker threads), the
    epoch's wall time, and the three products per age alone (torch.mm on one
    thread, the same shapes and ages as the fit's blocks): their floor."""
    import importlib
    import threading

    import torch

    import latentlab.signatures.fit as fit_module
    from latentlab.signatures import _ages, _native, fit_signatures, initialize

    torch.set_num_threads(threads)
    data = _data(size, cache)
    init = initialize(data, size["n_signatures"], rng=0)
    spent: dict[str, float] = {}
    lock = threading.Lock()
    for module_name, name, label in PARTS:
        module = importlib.import_module(module_name)
        original = getattr(module, name)

        def timed(*args, _original=original, _label=label, **kwargs):
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                with lock:
                    spent[_label] = spent.get(_label, 0.0) + time.perf_counter() - start

        setattr(module, name, timed)
    original_loop, wall = fit_module.adam_loop, []

    def loop(objective, *args, **kwargs):  # epoch 1 (the plan, first-call buffers) left out
        calls = [0]

        def counted():
            calls[0] += 1
            if calls[0] == 2:
                spent.clear()
                wall.append(time.perf_counter())
            return objective()

        result = original_loop(counted, *args, **kwargs)
        wall.append(time.perf_counter())
        return result

    fit_module.adam_loop = loop
    try:
        fit_signatures(data, size["n_signatures"], init=init, n_epochs=n_epochs + 1, tol=None,
                       verbose=False, num_threads=threads)
    finally:
        fit_module.adam_loop = original_loop
    epoch_s = (wall[1] - wall[0]) / n_epochs
    parts = {label: seconds / n_epochs for label, seconds in spent.items()}
    # the products alone: the fit's block shapes at their ages, one thread
    E, event = torch.as_tensor(data.E), torch.as_tensor(data.event)
    blocks = _ages.plan(E, event, 512, size["n_times"])
    D, K1 = size["n_diseases"], size["n_signatures"] + 1
    torch.set_num_threads(1)
    aug, s_t, g_s = torch.rand(D, K1 + 1), torch.rand(K1, D), torch.zeros(K1, D)
    theta, grad = torch.rand(K1 + 1, 512), torch.empty(K1, 512)
    w = torch.empty(D, 512)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for block in blocks:
            n = block.stop - block.start
            for _ in range(block.T_c):
                torch.mm(aug, theta[:, :n], out=w[:, :n])
                torch.mm(s_t, w[:, :n], out=grad[:, :n])
                g_s.addmm_(theta[:K1, :n], w[:, :n].t())
        best = min(best, time.perf_counter() - start)
    return dict(kind="profile", **size, epochs=n_epochs, threads=threads, load=os.getloadavg()[0],
                epoch_s=epoch_s, parts=parts, products_one_thread_s=best,
                kernel=_native.status())


def spawn(kind: str, size: dict, n_epochs: int, threads: int, previous: str | None = None,
          cache: str | None = None) -> dict:
    """Run one configuration in a fresh interpreter and parse its JSON line."""
    command = [sys.executable, __file__, "--child", kind, "--size", json.dumps(size), "--epochs", str(n_epochs),
               "--threads", str(threads)] + (["--previous", previous] if previous else []) + (
                   ["--data-cache", cache] if cache else [])
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return dict(kind=kind, **size, error=done.stderr[-2000:], wall_s=time.perf_counter() - start)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = time.perf_counter() - start
    return result


def write_results(rows: list[dict], note: str, profile: dict | None = None) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = dict(benchmark="signatures_fit", machine=dict(platform=platform.platform(), cpus=2), note=note,
                   runs=rows, profile=profile)
    (RESULTS / "signatures_fit.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = ["# Signature-model fit: time and memory", "", note, "",
             "| version | N | D | T | K+1 | P | epochs (measured) | threads | s/epoch | fit time (200 epochs) "
             "| CPU time | peak RSS | load (start → end) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['kind']} | {r['n_individuals']} | {r['n_diseases']} | … | … | … | failed "
                         "| | | | | | |")
            continue
        total = f"{r['fit_s']:.0f} s" + (" (extrapolated)" if r["extrapolated"] else "")
        load = f"{r['load_start']:.1f} → {r['load_end']:.1f}" if "load_start" in r else ""
        lines.append(
            f"| {r['kind']} | {r['n_individuals']:,} | {r['n_diseases']} | {r['n_times']} | {r['n_signatures'] + 1} | "
            f"{r['n_covariates']} | {r['n_epochs'] if not r['extrapolated'] else 200} ({r['measured_epochs']}) | "
            f"{r['threads']} | {r['seconds_per_epoch']:.2f} | {total} | {r['fit_cpu_s'] / 60:.1f} min | "
            f"{r['peak_rss_mb'] / 1024:.2f} GB | {load} |")
    ok = [r for r in rows if "error" not in r]
    for naive in (r for r in ok if r["kind"] in ("straightforward", "previous", "torch steps")):
        for ours in (r for r in ok if r["kind"] == "ours" and r["n_individuals"] == naive["n_individuals"]
                     and r["threads"] == naive["threads"]):
            lines.append("")
            lines.append(f"At N = {ours['n_individuals']:,} with {ours['threads']} thread(s): {naive['kind']} / ours = "
                         f"{naive['seconds_per_epoch'] / ours['seconds_per_epoch']:.1f}× wall time per epoch, "
                         f"{naive['fit_cpu_s'] / ours['fit_cpu_s']:.1f}× CPU time, "
                         f"{naive['peak_rss_mb'] / ours['peak_rss_mb']:.2f}× peak RSS.")
    for ours in (r for r in ok if r["kind"] == "ours" and r["n_individuals"] == 10_000 and r["threads"] == 2):
        met = ours["fit_s"] <= 90 and ours["peak_rss_mb"] / 1024 <= 1.5
        lines += ["", f"Target of issue 16 (≤ 90 s for 200 epochs and ≤ 1.5 GB at N = 10,000 on 2 threads): "
                  f"{'met' if met else 'NOT met'} in this run ({ours['fit_s']:.0f} s, "
                  f"{ours['peak_rss_mb'] / 1024:.2f} GB, load {ours['load_start']:.1f} → {ours['load_end']:.1f})."]
    if profile and "parts" in profile:
        threads = profile["threads"]
        budget = threads * profile["epoch_s"]
        rest = budget - sum(profile["parts"].values())
        lines += ["", "## Where the time goes", "",
                  f"One fit epoch at N = {profile['n_individuals']:,} on {threads} threads "
                  f"(mean of {profile['epochs']} epochs after the first, load {profile['load']:.1f}; "
                  f"kernel: {profile['kernel']}): {profile['epoch_s']:.3f} s of wall time, "
                  f"{budget:.3f} thread-seconds. Each part is timed around its calls inside the "
                  "worker threads and summed over them.", "",
                  "| part | thread-seconds per epoch | share |", "|---|---|---|"]
        for label, seconds in sorted(profile["parts"].items(), key=lambda kv: -kv[1]):
            lines.append(f"| {label} | {seconds:.3f} | {seconds / budget:.0%} |")
        lines.append(f"| rest: Adam step, GP prior on φ, autograd, snapshot, Python, threads "
                     f"waiting at the join | {rest:.3f} | {rest / budget:.0%} |")
        lines += ["", f"The three products per age alone (torch.mm, the fit's block shapes and "
                  f"ages, one thread, best of 3): {profile['products_one_thread_s']:.3f} s per epoch, "
                  f"{profile['products_one_thread_s'] / threads:.3f} s of wall time on {threads} "
                  "threads if they split perfectly."]
    (RESULTS / "signatures_fit.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child")
    parser.add_argument("--size")
    parser.add_argument("--epochs", type=int, default=200,
                        help="epochs of the reference-size fits (fewer: times are extrapolated to 200)")
    parser.add_argument("--threads", type=int, default=2,
                        help="torch threads for the reference-size runs (ours also runs with 1 thread)")
    parser.add_argument("--quick", action="store_true", help="small size only")
    parser.add_argument("--naive-epochs", type=int, default=3, help="epochs timed for the straightforward version")
    parser.add_argument("--previous", help="path of an earlier likelihood.py to time side by side")
    parser.add_argument("--profile", action="store_true",
                        help="also time the parts of fit epochs (at --threads)")
    parser.add_argument("--profile-epochs", type=int, default=3)
    parser.add_argument("--previous-epochs", type=int, help="epochs of the previous fit (default: --epochs)")
    parser.add_argument("--torch-steps", action="store_true",
                        help="also fit with the C parts switched off (LATENTLAB_NATIVE=0)")
    parser.add_argument("--data-cache", help="pickle of the simulated data shared by the runs (made if missing)")
    parser.add_argument("--results", help="folder for the results (default: benchmarks/results)")
    parser.add_argument("--skip-small", action="store_true", help="no runs at the small size")
    parser.add_argument("--skip-one-thread", action="store_true", help="reference size with --threads only")
    parser.add_argument("--skip-straightforward", action="store_true",
                        help="no straightforward run at the reference size")
    args = parser.parse_args()
    if args.child == "profile":
        print(json.dumps(run_profile(json.loads(args.size), args.epochs, args.threads, args.data_cache)))
        return
    if args.child:
        print(json.dumps(run_child(args.child, json.loads(args.size), args.epochs, args.threads, args.previous,
                                   args.data_cache)))
        return
    global RESULTS
    if args.results:
        RESULTS = Path(args.results)
    cache = args.data_cache
    load_before = os.getloadavg()[0]

    def note() -> str:
        return (f"Measured on a 2-core VM shared with other work: 1-minute load average {load_before:.1f} "
                f"before and {os.getloadavg()[0]:.1f} after the runs (each run's load at its start and end "
                "is in the table). Simulated data (latentlab.datasets.signatures_sim). Runs with fewer "
                "epochs than 200 are extrapolated to 200 (s/epoch × 200). The straightforward version is "
                "timed for a few epochs (first epoch excluded). Peak RSS is the subprocess's maximum "
                "resident set (simulation or loading of the data and initialisation included)."
                + (" The simulated data were made once and loaded by every run." if cache else ""))

    rows: list[dict] = []
    profile = None

    def add(row: dict) -> None:  # results are written after every run, so a cut-short run keeps its rows
        rows.append(row)
        write_results(rows, note(), profile)

    if not args.skip_small:
        add(spawn("ours", SMALL, 200, 1))
        add(spawn("straightforward", SMALL, args.naive_epochs + 1, 1))
    if not args.quick:
        for threads in sorted({args.threads} | (set() if args.skip_one_thread else {1}), reverse=True):
            if args.previous:
                add(spawn("previous", REFERENCE, args.previous_epochs or args.epochs, threads, args.previous, cache))
            add(spawn("ours", REFERENCE, args.epochs, threads, cache=cache))
            if args.torch_steps:
                add(spawn("torch steps", REFERENCE, args.epochs, threads, cache=cache))
    if args.profile:
        profile = spawn("profile", REFERENCE, args.profile_epochs, args.threads, cache=cache)
        write_results(rows, note(), profile)
    if not args.quick and not args.skip_straightforward:
        add(spawn("straightforward", REFERENCE, args.naive_epochs + 1, args.threads, cache=cache))
    print((RESULTS / "signatures_fit.md").read_text())


if __name__ == "__main__":
    main()
