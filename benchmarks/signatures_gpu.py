"""Benchmark: the whole signature-model fit on one CUDA GPU (issue 18).

On a machine with a CUDA GPU: full fits (200 epochs, D = 348, T = 52,
K = 20 + 1, P = 47) at N = 10,000, 100,000 and 400,000 with
``fit_signatures(..., device="cuda")``: wall time, peak GPU memory, and at
N = 10,000 the agreement with the CPU (the first epochs fitted on both, and the
NLL of the GPU's fitted parameters evaluated on both devices), plus the CPU's
seconds per epoch with 2 threads for the per-person-epoch speed ratio.
Writes ``benchmarks/results/signatures_gpu.json`` and ``.md``, which the book
reads through :func:`latentlab.signatures.gpu_results`.

On a CPU-only machine it prints that no GPU is present and exits 0, writing
nothing.

Data: one simulated cohort of 10,000 (``simulate_signatures``, seed 0) and its
cold start (``initialize``), tiled to the larger N (the cost of an epoch does
not depend on which people are in the cohort; simulating 400,000 people
densely would need 58 GB). The tiling is stated in the results.

Usage::

    python benchmarks/signatures_gpu.py                    # 10k, 100k, 400k
    python benchmarks/signatures_gpu.py --sizes 10000 --epochs 20
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHAPE = dict(n_diseases=348, n_times=52, n_signatures=20, n_covariates=47)
BATCH = 10_000


def _tiled(sim_data, init, n):
    """The 10k cohort and its start repeated to n people."""
    import numpy as np

    from latentlab.signatures import SurvivalData

    reps = -(-n // BATCH)
    data = SurvivalData(
        E=np.tile(sim_data.E, (reps, 1))[:n],
        event=np.tile(sim_data.event, (reps, 1))[:n],
        G=np.tile(sim_data.G, (reps, 1))[:n],
        n_times=sim_data.n_times,
    )
    return data, replace(init, lam=np.tile(init.lam, (reps, 1, 1))[:n])


def _sync(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _gpu_fit(data, init, epochs, device):
    import torch

    from latentlab.signatures import fit_signatures

    _sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    fit = fit_signatures(
        data,
        SHAPE["n_signatures"],
        init=init,
        n_epochs=epochs,
        tol=None,
        verbose=False,
        device=device,
    )
    _sync(device)
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else 0
    return fit, seconds, peak / 2**30


def _nll(fit, data, device):
    import torch

    from latentlab.signatures import signature_nll

    lam = torch.tensor(fit.lam, dtype=torch.float32, device=device)
    phi = torch.tensor(fit.phi, dtype=torch.float32, device=device)
    return float(signature_nll(lam, phi, fit.kappa, data.E, data.event))


def run(sizes, epochs, check_epochs, device, on_row=None) -> dict:
    import torch

    from latentlab.datasets.signatures_sim import simulate_signatures
    from latentlab.signatures import fit_signatures, initialize

    sim = simulate_signatures(
        n_individuals=BATCH, **SHAPE, rng=0, baseline_range=(0.0002, 0.002)
    )
    init = initialize(sim.data, SHAPE["n_signatures"], rng=0)
    # CPU reference at 10k, 2 threads: the losses of the first epochs (agreement) and
    # the marginal seconds per epoch (a 1-epoch fit's set-up subtracted: speed)
    def cpu_fit(epochs):
        start = time.perf_counter()
        fit = fit_signatures(
            sim.data,
            SHAPE["n_signatures"],
            init=init,
            n_epochs=epochs,
            tol=None,
            verbose=False,
            device="cpu",
            num_threads=2,
        )
        return fit, time.perf_counter() - start

    cpu_fit(1)  # warm-up: thread pool, GP precision cache
    _, one_epoch_s = cpu_fit(1)
    cpu, cpu_s = cpu_fit(check_epochs + 1)
    cpu_s_per_epoch = (cpu_s - one_epoch_s) / check_epochs
    short, _, _ = _gpu_fit(sim.data, init, check_epochs, device)
    history_rel = max(abs(a - b) / abs(b) for a, b in zip(short.history, cpu.history))
    runs = []
    for n in sizes:
        data, start_state = (
            _tiled(sim.data, init, n) if n != BATCH else (sim.data, init)
        )
        fit, seconds, peak = _gpu_fit(data, start_state, epochs, device)
        row = dict(
            n_individuals=n,
            **SHAPE,
            epochs=epochs,
            fit_s=seconds,
            s_per_epoch=seconds / epochs,
            peak_gpu_gib=peak,
            final_loss=fit.history[-1],
            tiled=n != BATCH,
            speedup_per_person_epoch=cpu_s_per_epoch / BATCH / (seconds / epochs / n),
        )
        if n == BATCH:
            nll_gpu, nll_cpu = _nll(fit, data, device), _nll(fit, data, "cpu")
            row.update(
                nll_gpu=nll_gpu,
                nll_cpu=nll_cpu,
                nll_rel_diff=abs(nll_gpu - nll_cpu) / abs(nll_cpu),
            )
        runs.append(row)
        print(f"N = {n:,}: {seconds:.1f} s, peak {peak:.2f} GiB", flush=True)
        del data, start_state, fit
        if device.type == "cuda":
            torch.cuda.empty_cache()
        if on_row is not None:
            on_row(_payload(device, check_epochs, cpu_s_per_epoch, history_rel, runs))
    return _payload(device, check_epochs, cpu_s_per_epoch, history_rel, runs)


def _payload(device, check_epochs, cpu_s_per_epoch, history_rel, runs) -> dict:
    import torch

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    return dict(
        benchmark="signatures_gpu",
        device=name,
        torch=torch.__version__,
        platform=platform.platform(),
        cpu_check=dict(
            n_individuals=BATCH,
            epochs=check_epochs,
            threads=2,
            s_per_epoch=cpu_s_per_epoch,
            max_rel_history_diff=history_rel,
        ),
        note=(
            "Data: one simulated cohort of 10,000 tiled to the larger N; "
            "fit_signatures defaults (float32 likelihood, float64 GP algebra, chunk "
            "size from free GPU memory). Peak GPU memory is "
            "torch.cuda.max_memory_allocated. GPU fit times include the fit's "
            "set-up; the CPU's seconds per epoch are marginal (a 1-epoch fit "
            "subtracted), so the speed ratio is conservative."
        ),
        runs=runs,
    )


def chunk_sweep(device, n=400_000, chunks=(1024, 2048, 4096, 8192, 16384)) -> list:
    """Seconds per forward + backward of ``signature_nll`` at N = n for each chunk.

    Random λ, φ (logits − 3), ages and 2 % events made on the GPU; the last of
    four repetitions is timed.
    """
    import torch

    from latentlab.signatures import signature_nll

    K, D, T = SHAPE["n_signatures"] + 1, SHAPE["n_diseases"], SHAPE["n_times"]
    g = torch.Generator(device=device).manual_seed(0)
    lam = torch.randn(n, K, T, generator=g, device=device).requires_grad_()
    phi = (torch.randn(K, D, T, generator=g, device=device) - 3).requires_grad_()
    E = torch.randint(0, T, (n, D), generator=g, device=device)
    event = torch.rand(n, D, generator=g, device=device) < 0.02
    rows = []
    for chunk in chunks:
        torch.cuda.reset_peak_memory_stats(device)
        for _ in range(4):
            _sync(device)
            start = time.perf_counter()
            signature_nll(lam, phi, 1.0, E, event, chunk_size=chunk).backward()
            lam.grad = phi.grad = None
            _sync(device)
            seconds = time.perf_counter() - start
        peak = torch.cuda.max_memory_allocated(device) / 2**30
        rows.append(dict(chunk=chunk, s=seconds, peak_gib=peak))
        print(rows[-1], flush=True)
    return rows


def write(payload: dict, results: Path) -> None:
    results.mkdir(parents=True, exist_ok=True)
    (results / "signatures_gpu.json").write_text(json.dumps(payload, indent=2) + "\n")
    check = payload["cpu_check"]
    lines = [
        "# Signature-model fit on one GPU",
        "",
        f"Device: {payload['device']} (torch {payload['torch']}).",
        *([f"Measured: {payload['measured']}."] if payload.get("measured") else []),
        payload["note"],
        "",
        "| N | D | T | K+1 | epochs | fit time | s/epoch | peak GPU memory "
        "| per-person-epoch speed vs CPU (2 threads) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in payload["runs"]:
        lines.append(
            f"| {r['n_individuals']:,} | {r['n_diseases']} | {r['n_times']} "
            f"| {r['n_signatures'] + 1} | {r['epochs']} | {r['fit_s']:.1f} s "
            f"| {r['s_per_epoch']:.3f} | {r['peak_gpu_gib']:.2f} GiB | "
            f"{r['speedup_per_person_epoch']:.0f}× |"
        )
    lines += [
        "",
        f"CPU reference: {check['s_per_epoch']:.2f} s/epoch at "
        f"N = {check['n_individuals']:,} with {check['threads']} threads; over the "
        f"first {check['epochs']} epochs the GPU and CPU objectives "
        f"differ by at most {check['max_rel_history_diff']:.1e} (relative).",
    ]
    for r in payload["runs"]:
        if "nll_rel_diff" in r:
            lines.append(
                f"NLL of the GPU fit at N = {r['n_individuals']:,}: "
                f"{r['nll_gpu']:.6g} on the GPU, {r['nll_cpu']:.6g} on the CPU "
                f"(relative difference {r['nll_rel_diff']:.1e})."
            )
    sweep = payload.get("chunk_sweep")
    if sweep:
        lines += [
            "",
            f"Forward + backward of the likelihood alone at N = {sweep['n']:,} "
            "(random parameters) by chunk size:",
            "",
            "| chunk | s | peak GPU memory |",
            "|---|---|---|",
        ]
        lines += [
            f"| {r['chunk']:,} | {r['s']:.3f} | {r['peak_gib']:.2f} GiB |"
            for r in sweep["rows"]
        ]
    (results / "signatures_gpu.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000, 400_000]
    )
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument(
        "--check-epochs", type=int, default=10, help="epochs fitted on both CPU and GPU"
    )
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument(
        "--device",
        default="cuda",
        help="'cuda' (default); 'cpu' only to dry-run the script itself",
    )
    args = parser.parse_args(argv)
    import torch

    if args.device == "cpu":
        payload = run(sorted(set(args.sizes)), args.epochs, args.check_epochs,
                      torch.device("cpu"))
        write(payload, args.results)
        print((args.results / "signatures_gpu.md").read_text())
        return 0
    if not torch.cuda.is_available():
        print(
            "signatures_gpu: no CUDA GPU is present on this machine; nothing measured "
            "(the GPU numbers are still to be measured)."
        )
        return 0
    device = torch.device("cuda")
    payload = run(
        sorted(set(args.sizes)),
        args.epochs,
        args.check_epochs,
        device,
        on_row=lambda partial: write(partial, args.results),
    )
    payload["chunk_sweep"] = dict(n=400_000, rows=chunk_sweep(device))
    write(payload, args.results)
    print((args.results / "signatures_gpu.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
