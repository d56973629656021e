"""The compiled per-age loop of the CPU kernel (private; see ``_native.c``).

On first use the C file beside this module is compiled with the system's C
compiler (``$CC``, else ``cc`` or ``gcc``) into a cache folder
(``$LATENTLAB_CACHE``, else ``$XDG_CACHE_HOME/latentlab`` or
``~/.cache/latentlab``, else a temporary folder) and loaded with ctypes; its
matrix products call the Fortran ``sgemm_`` of the BLAS inside torch (MKL on
x86 Linux builds). Where there is no compiler, no such symbol, or the
library's check product disagrees with torch's, :func:`library` returns None
and :mod:`._ages` runs the same steps as torch operations; :func:`status`
says which and why. ``LATENTLAB_NATIVE=0`` switches the compiled loop off.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import torch

from latentlab.signatures._workers import thread_cached as _thread_cached

SOURCE = Path(__file__).with_name("_native.c")
FLAGS = ["-O3", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math"]
_LOCK = threading.Lock()
_STATE: dict = {}  # "lib": the loaded library or None, "status": why


def _cache_dir() -> Path:
    base = os.environ.get("LATENTLAB_CACHE")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "latentlab"


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _cpu_signature() -> bytes:
    """What -march=native depends on: the CPU's model and feature flags (Linux), else
    what platform reports; a library built for another CPU is never reused."""
    wanted = {"model name", "flags", "Features", "CPU part"}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            lines = [line for line in handle if line.split(":")[0].strip() in wanted]
    except OSError:
        lines = []
    seen = dict.fromkeys(lines)  # the first processor's lines, in order
    return "".join(list(seen)[: len(wanted)]).encode() or platform.processor().encode()


def _compile(compiler: str, defines: tuple = ()) -> Path:
    """The shared library for this source, compiler and machine (built once);
    ``defines``: macros for variants (tests)."""
    source = SOURCE.read_bytes()
    key = hashlib.sha256(
        source + compiler.encode() + platform.machine().encode() + _cpu_signature()
        + sys.platform.encode() + " ".join(defines).encode()
    ).hexdigest()[:16]
    suffix = ".dll" if sys.platform == "win32" else ".so"
    for folder in (_cache_dir(), Path(tempfile.gettempdir()) / "latentlab"):
        target = folder / f"signatures-{key}{suffix}"
        if target.is_file():
            return target
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        partial = folder / f".{target.name}.{os.getpid()}.{threading.get_ident()}"
        for extra in (["-march=native"], []):  # some compilers lack -march=native
            command = [compiler, *FLAGS, *extra, *(f"-D{d}" for d in defines),
                       str(SOURCE), "-o", str(partial)]
            command.append("-lm")
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode == 0:
                os.replace(partial, target)
                return target
        partial.unlink(missing_ok=True)
        raise OSError(f"{Path(compiler).name} failed: {done.stderr.strip()[:300]}")
    raise OSError(f"no writable cache folder (tried {_cache_dir()} and the temp folder)")


def _symbol(name: str) -> int | None:
    """Address of a BLAS routine (``sgemm_``) inside torch's CPU library, or None."""
    folder = Path(torch.__file__).parent / "lib"
    for library_name in ("libtorch_cpu.so", "libtorch_cpu.dylib", "torch_cpu.dll"):
        if (folder / library_name).is_file():
            try:
                symbol = getattr(ctypes.CDLL(str(folder / library_name)), name)
            except (OSError, AttributeError):
                return None
            return ctypes.cast(symbol, ctypes.c_void_p).value
    return None


def _sgemm() -> int | None:
    return _symbol("sgemm_")


def _load(defines: tuple = ()):
    if os.environ.get("LATENTLAB_NATIVE", "1") == "0":
        return None, "switched off (LATENTLAB_NATIVE=0)"
    gemm = _sgemm()
    if gemm is None:
        return None, "torch's CPU library has no sgemm_ (torch operations used)"
    compiler = _compiler()
    if compiler is None:
        return None, "no C compiler found (torch operations used)"
    try:
        lib = ctypes.CDLL(str(_compile(compiler, defines)))
    except OSError as error:
        return None, f"not compiled: {error} (torch operations used)"
    P, I64, I, F = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int, ctypes.c_float
    lib.latentlab_mm.argtypes = [P, I64, I64, I64, P, P, P]
    lib.latentlab_mm.restype = None
    lib.block_ages.argtypes = (
        [P] + [I64] * 6 + [P] * 11 + [P, I, F, F, I, P, P, I] + [P] * 4
    )
    lib.block_ages.restype = None
    D64 = ctypes.c_double
    lib.prior_rows.argtypes = (
        [P, I64, P] + [I64] * 3 + [P] * 3 + [D64] + [P] * 5 + [D64, D64, I, I64]
    )
    lib.prior_rows.restype = D64
    lib.block_theta.argtypes = [P, P] + [I64] * 4 + [P] * 6
    lib.block_theta.restype = None
    lib.block_grad_lam.argtypes = [P, P] + [I64] * 5 + [P, P]
    lib.block_grad_lam.restype = None
    # check the BLAS found against torch on a product with every dimension > 1
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(5, 3, generator=gen, device="cpu")
    b = torch.rand(3, 4, generator=gen, device="cpu")
    c = torch.full((5, 4), float("nan"), device="cpu")
    lib.latentlab_mm(gemm, 5, 4, 3, a.data_ptr(), b.data_ptr(), c.data_ptr())
    if not torch.allclose(c, a @ b, rtol=1e-5, atol=1e-6):
        return None, "the sgemm_ found disagrees with torch (torch operations used)"
    lib.dgemm = _symbol("dgemm_")
    if lib.dgemm is not None and not _dgemm_agrees(lib):
        lib.dgemm = None  # the λ prior then stays with torch
    lib.gemm = gemm
    prior = "and λ prior " if lib.dgemm is not None else ""
    return lib, (
        f"compiled loop {prior}in use ({Path(compiler).name}, torch's BLAS)"
    )


def _dgemm_agrees(lib) -> bool:
    """The compiled λ prior on a small problem against torch in float64."""
    gen = torch.Generator().manual_seed(1)
    m, K, K1, T = 3, 2, 3, 5

    def rand(*shape, dtype=torch.float64):
        return torch.rand(*shape, generator=gen, dtype=dtype, device="cpu")

    lam, reference, offsets = rand(m, K1, T, dtype=torch.float32), rand(K, T), rand(m, K)
    ages = torch.arange(T, dtype=torch.float64, device="cpu")
    kernel = torch.exp(-0.5 * (ages[:, None] - ages[None, :]) ** 2)
    precision = torch.linalg.inv(kernel + torch.eye(T, dtype=torch.float64, device="cpu"))
    delta = lam.double()
    delta[:, :K] -= reference + offsets.unsqueeze(2)
    delta[:, K:] -= 0.5
    solved = delta @ precision
    work = torch.empty((4 * m * K1 * T,), dtype=torch.float64, device="cpu")
    sums = torch.empty((m, K), dtype=torch.float64, device="cpu")
    grad = torch.empty((m, K1, T), dtype=torch.float32, device="cpu")
    from latentlab.signatures._native_prior import halves, prior_rows

    value = prior_rows(lib, lam, reference, offsets, 0.5, halves(precision), work,
                       sums, grad, 2.0, None, group=2)
    return (
        abs(value - float((delta * solved).sum())) <= 1e-9 * abs(value)
        and torch.allclose(sums, solved[:, :K].sum(2), rtol=1e-12)
        and torch.allclose(grad, (2 * solved).float(), rtol=1e-6)
    )


def library():
    """The loaded library (with its ``gemm`` address), or None; loads once."""
    with _LOCK:
        if "lib" not in _STATE:
            _STATE["lib"], _STATE["status"] = _load()
        return _STATE["lib"]


def status() -> str:
    """Whether the compiled per-age loop is in use, and if not, why."""
    library()
    return _STATE["status"]


def reset() -> None:
    """Forget the loaded state (tests: the next call loads again)."""
    with _LOCK:
        _STATE.clear()


def _address(tensor: torch.Tensor | None):
    return None if tensor is None else tensor.data_ptr()


def block_ages(lib, buffers, theta_all, f, block, flags, eps: float, levels: int,
               clamp: bool, count_high: bool, grad_s):
    """The per-age loop of :func:`._ages.block_terms` in C: NLL of the block
    (float64 0-d) and the count at the upper clamp (or None); ∂/∂θ after the
    softmax backward in the θ-gradient buffer and ∂/∂(κσ(φ)) added to
    ``grad_s`` where it is given."""
    T_c, n = block.T_c, block.stop - block.start
    w, product, _, grad_theta = buffers.view(n)
    K1, T, D = theta_all.shape[0] - 1, theta_all.shape[1], w.shape[0]
    want, cpu = grad_s is not None, w.device
    flag_t = None
    if flags is not None:
        flag_t = torch.tensor(flags, dtype=torch.uint8, device=cpu)
    # eps and 1 − eps rounded to float32, as torch's clamp of a float32 tensor
    bounds = torch.tensor([eps, 1 - eps], dtype=torch.float32, device=cpu).tolist()
    events = torch.zeros((), dtype=torch.float64, device=cpu)
    n_high = torch.zeros((), dtype=torch.int64, device=cpu)
    total = torch.zeros((), dtype=torch.float64, device=cpu)
    ev_p = torch.empty((max(1, block.ev_cell.numel()),), dtype=w.dtype, device=cpu)
    group = 2**levels
    for t0 in range(0, T_c, group):  # Σ log w: log of the running product per group
        lib.block_ages(
            lib.gemm, t0, min(T_c, t0 + group), T, D, n, K1, f.aug.data_ptr(),
            theta_all.data_ptr(), w.data_ptr(), product.data_ptr(),
            block.exit_age.data_ptr(), block.ev_cell.data_ptr(),
            block.ev_bounds_t.data_ptr(),
            block.ev_theta.data_ptr(), block.ev_s.data_ptr(), f.flat.data_ptr(),
            ev_p.data_ptr(), _address(flag_t),
            int(clamp), bounds[0], bounds[1], int(count_high), n_high.data_ptr(),
            events.data_ptr(), int(want), _address(f.by_age if want else None),
            _address(grad_theta if want else None), _address(grad_s),
            buffers.scratch.data_ptr(),
        )
        torch.log(product, out=product)
        total -= product.sum(dtype=torch.float64)
    return total + events, n_high if count_high else None


#: People per group of the C transpositions (as PEOPLE in ``_native.c``).
PEOPLE = 16


def _local(size: int) -> torch.Tensor:
    """This thread's (PEOPLE × size) float32 transposition array."""
    return _thread_cached("native local", (size,), lambda: torch.empty(
        (PEOPLE * size,), dtype=torch.float32, device="cpu"))


def _rows(block):
    """(index tensor or None, first position) of a block's people for the C side."""
    rows = block.rows
    return (None, rows.start) if isinstance(rows, slice) else (rows, 0)


def block_theta(lib, lam, block, theta_all, low=None, high=None):
    """θ = softmax(λ) of the block's people into θ's (K1 + 1, T, n) buffer in C
    (exp within 1.4 ulp); returns the (K1, T, n) part and, per age, the least
    Σ_k θ_k low_k and the largest Σ_k θ_k high_k over the people (None where
    low or high, (K1, T, 1) float32, is None); or None where λ is not a
    contiguous float32 array (the caller then uses torch)."""
    K1, T, n = theta_all.shape[0] - 1, theta_all.shape[1], theta_all.shape[2]
    if not (lam.dtype == torch.float32 and lam.is_contiguous()) or T > 4096:
        return None
    rows, start = _rows(block)
    bounds = [None if x is None else torch.empty((T,), dtype=torch.float32,
                                                 device="cpu") for x in (low, high)]
    lib.block_theta(lam.data_ptr(), _address(rows), start, n, K1, T,
                    theta_all.data_ptr(), _local(K1 * T).data_ptr(),
                    _address(low), _address(high), *map(_address, bounds))
    return theta_all[:K1], bounds[0], bounds[1]


def block_grad_lam(lib, grad_theta, block, grad_lam) -> bool:
    """∂/∂λ of the block's people from ∂/∂θ (K1, T, n) into their rows of
    ``grad_lam`` (N, K1, T), zeros at ages ≥ T_c, in C; False where
    ``grad_lam`` is not a contiguous float32 array (the caller then uses torch)."""
    if not (grad_lam.dtype == torch.float32 and grad_lam.is_contiguous()):
        return False
    K1, T, n = grad_theta.shape
    rows, start = _rows(block)
    lib.block_grad_lam(grad_theta.data_ptr(), _address(rows), start, n, K1, T,
                       block.T_c, grad_lam.data_ptr(), _local(K1 * T).data_ptr())
    return True
