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


def _compile(compiler: str) -> Path:
    """The shared library for this source, compiler and machine (built once)."""
    source = SOURCE.read_bytes()
    key = hashlib.sha256(
        source + compiler.encode() + platform.machine().encode()
        + platform.processor().encode() + sys.platform.encode()
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
            command = [compiler, *FLAGS, *extra, str(SOURCE), "-o", str(partial)]
            command.append("-lm")
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode == 0:
                os.replace(partial, target)
                return target
        partial.unlink(missing_ok=True)
        raise OSError(f"{Path(compiler).name} failed: {done.stderr.strip()[:300]}")
    raise OSError(f"no writable cache folder (tried {_cache_dir()} and the temp folder)")


def _sgemm() -> int | None:
    """Address of the Fortran sgemm_ inside torch's CPU library, or None."""
    folder = Path(torch.__file__).parent / "lib"
    for name in ("libtorch_cpu.so", "libtorch_cpu.dylib", "torch_cpu.dll"):
        if (folder / name).is_file():
            try:
                symbol = ctypes.CDLL(str(folder / name)).sgemm_
            except (OSError, AttributeError):
                return None
            return ctypes.cast(symbol, ctypes.c_void_p).value
    return None


def _load():
    if os.environ.get("LATENTLAB_NATIVE", "1") == "0":
        return None, "switched off (LATENTLAB_NATIVE=0)"
    gemm = _sgemm()
    if gemm is None:
        return None, "torch's CPU library has no sgemm_ (torch operations used)"
    compiler = _compiler()
    if compiler is None:
        return None, "no C compiler found (torch operations used)"
    try:
        lib = ctypes.CDLL(str(_compile(compiler)))
    except OSError as error:
        return None, f"not compiled: {error} (torch operations used)"
    P, I64, I, F = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int, ctypes.c_float
    lib.latentlab_mm.argtypes = [P, I64, I64, I64, P, P, P]
    lib.latentlab_mm.restype = None
    lib.block_ages.argtypes = (
        [P] + [I64] * 6 + [P] * 8 + [P, I, F, F, I, P, P, I] + [P] * 4
    )
    lib.block_ages.restype = None
    # check the BLAS found against torch on a product with every dimension > 1
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(5, 3, generator=gen, device="cpu")
    b = torch.rand(3, 4, generator=gen, device="cpu")
    c = torch.full((5, 4), float("nan"), device="cpu")
    lib.latentlab_mm(gemm, 5, 4, 3, a.data_ptr(), b.data_ptr(), c.data_ptr())
    if not torch.allclose(c, a @ b, rtol=1e-5, atol=1e-6):
        return None, "the sgemm_ found disagrees with torch (torch operations used)"
    lib.gemm = gemm
    return lib, f"compiled loop in use ({Path(compiler).name}, torch's sgemm_)"


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
    group = 2**levels
    for t0 in range(0, T_c, group):  # Σ log w: log of the running product per group
        lib.block_ages(
            lib.gemm, t0, min(T_c, t0 + group), T, D, n, K1, f.aug.data_ptr(),
            theta_all.data_ptr(), w.data_ptr(), product.data_ptr(),
            block.after.data_ptr(), block.after_counts_t.data_ptr(),
            block.ev_cell.data_ptr(), block.ev_bounds_t.data_ptr(), _address(flag_t),
            int(clamp), bounds[0], bounds[1], int(count_high), n_high.data_ptr(),
            events.data_ptr(), int(want), _address(f.by_age if want else None),
            _address(grad_theta if want else None), _address(grad_s),
            buffers.scratch.data_ptr(),
        )
        torch.log(product, out=product)
        total -= product.sum(dtype=torch.float64)
    return total + events, n_high if count_high else None
