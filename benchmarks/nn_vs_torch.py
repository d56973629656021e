"""Our numpy MLP (latentlab.nn + latentlab.optim) against the same torch MLP on CPU (chapter 5).

Same architecture, same initial weights (copied), same mini-batch order, plain
SGD with cross-entropy from logits; we time whole epochs and compare the
per-epoch training-loss curves. Both sides use one thread (numpy's BLAS via
OMP/OPENBLAS/MKL_NUM_THREADS=1 set before numpy is imported, torch via
``torch.set_num_threads(1)``), in float64 and in float32.

Sizes: "large" = 64-256-256-10 ReLU, 10 000 samples, batch 128 (the issue's
set-up); "small" = 10-32-2 tanh, 1 000 samples, batch 32 (where Python overhead
dominates). Target: ours within 2x of torch per epoch, with the same loss curve.

Run: ``.venv/bin/python benchmarks/nn_vs_torch.py`` (about a minute).
Writes ``benchmarks/results/nn_vs_torch.json`` and ``benchmarks/results/nn_vs_torch.md``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from latentlab.nn import MLP  # noqa: E402
from latentlab.nn.torch_check import to_torch  # noqa: E402
from latentlab.optim import SGD, train  # noqa: E402

RESULTS = Path(__file__).parent / "results"
SIZES = {
    "large": dict(sizes=[64, 256, 256, 10], activation="relu", n=10_000, batch=128, epochs=5, lr=0.05),
    "small": dict(sizes=[10, 32, 2], activation="tanh", n=1_000, batch=32, epochs=5, lr=0.05),
}
DTYPES = {"float64": (np.float64, torch.float64), "float32": (np.float32, torch.float32)}


def make_data(sizes, n, seed=0):
    """Inputs N(0, 1) and labels from a random two-layer teacher network."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, sizes[0]))
    teacher = np.tanh(X @ rng.standard_normal((sizes[0], 32))) @ rng.standard_normal((32, sizes[-1]))
    return X, teacher.argmax(axis=1)


def run_ours(config, X, y, np_dtype, seed):
    net = MLP(config["sizes"], activation=config["activation"], rng=seed, dtype=np_dtype)
    initial = [p.copy() for p in net.parameters()]
    optimizer = SGD(net.parameters(), net.gradients(), lr=config["lr"])
    started = time.perf_counter()
    result = train(net, "cross_entropy", X.astype(np_dtype), y, optimizer=optimizer, epochs=config["epochs"],
                   batch_size=config["batch"], rng=seed, verbose=False)
    seconds = time.perf_counter() - started
    return initial, net, seconds / config["epochs"], result.history


def run_torch(config, X, y, net_for_weights, torch_dtype, seed):
    twin = to_torch(net_for_weights, dtype=torch_dtype)
    optimizer = torch.optim.SGD(twin.parameters(), lr=config["lr"])
    X_t, y_t = torch.tensor(X, dtype=torch_dtype), torch.tensor(y)
    order_rng = np.random.default_rng(seed)  # the same permutations as latentlab.optim.train
    n, batch = len(y), config["batch"]
    history = []
    started = time.perf_counter()
    for _ in range(config["epochs"]):
        order = torch.from_numpy(order_rng.permutation(n))
        total = 0.0
        for start in range(0, n, batch):
            rows = order[start:start + batch]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(twin(X_t[rows]), y_t[rows])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        history.append(total / n)
    seconds = time.perf_counter() - started
    return seconds / config["epochs"], history


def main() -> dict:
    torch.set_num_threads(1)
    rows = []
    for size, config in SIZES.items():
        X, y = make_data(config["sizes"], config["n"])
        for dtype_name, (np_dtype, torch_dtype) in DTYPES.items():
            initial, _, ours_epoch, ours_history = run_ours(config, X, y, np_dtype, seed=1)
            fresh = MLP(config["sizes"], activation=config["activation"], rng=1, dtype=np_dtype)
            for p, value in zip(fresh.parameters(), initial):
                p[...] = value
            torch_epoch, torch_history = run_torch(config, X, y, fresh, torch_dtype, seed=1)
            difference = float(np.max(np.abs(np.array(ours_history) - np.array(torch_history))
                                      / np.abs(np.array(torch_history))))
            rows.append({
                "size": size, "architecture": "-".join(map(str, config["sizes"])),
                "activation": config["activation"], "n_samples": config["n"], "batch_size": config["batch"],
                "epochs": config["epochs"], "dtype": dtype_name,
                "ours_seconds_per_epoch": round(ours_epoch, 5), "torch_seconds_per_epoch": round(torch_epoch, 5),
                "ratio_ours_over_torch": round(ours_epoch / torch_epoch, 3),
                "within_2x": bool(ours_epoch <= 2 * torch_epoch),
                "loss_curve_max_relative_difference": difference,
                "ours_loss_curve": [round(v, 6) for v in ours_history],
                "torch_loss_curve": [round(v, 6) for v in torch_history],
            })
            print(f"{size:5s} {dtype_name}: ours {ours_epoch:.4f} s/epoch, torch {torch_epoch:.4f} s/epoch, "
                  f"ratio {ours_epoch / torch_epoch:.2f}, loss-curve difference {difference:.1e}")
    report = {
        "benchmark": "nn_vs_torch",
        "note": (f"measured on a 2-core machine (1-minute load average {os.getloadavg()[0]:.1f} at the end); "
                 "one thread per framework; ratios are more stable than absolute times"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "numpy": np.__version__, "torch": torch.__version__, "cpu_count": os.cpu_count()},
        "results": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "nn_vs_torch.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# latentlab.nn vs torch: time per epoch (CPU, one thread)",
        "",
        f"{report['note']}.",
        "",
        "| size | architecture | n | batch | dtype | ours s/epoch | torch s/epoch | ours/torch | within 2x | loss-curve max rel. diff |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['size']} | {r['architecture']} {r['activation']} | {r['n_samples']} | {r['batch_size']} | "
                     f"{r['dtype']} | {r['ours_seconds_per_epoch']:.4f} | {r['torch_seconds_per_epoch']:.4f} | "
                     f"{r['ratio_ours_over_torch']:.2f} | {'yes' if r['within_2x'] else 'no'} | "
                     f"{r['loss_curve_max_relative_difference']:.1e} |")
    lines += ["", f"numpy {np.__version__}, torch {torch.__version__}, {platform.platform()}.", ""]
    (RESULTS / "nn_vs_torch.md").write_text("\n".join(lines), encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
