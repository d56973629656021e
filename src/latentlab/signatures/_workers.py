"""Worker threads and reused work memory of the signature kernels (private).

On a CPU with several torch threads the chunks are split into as many
contiguous parts of about equal work, each run by its own Python thread with
one torch thread (torch releases the GIL inside its kernels): no thread barrier
per operation, and each part's buffers stay in its core's cache. The parts are
fixed and summed in order, so results do not depend on thread scheduling.
Where the cost of a part varies from run to run (two threads slowing each other
on a shared machine), :func:`guided` cuts smaller and smaller tasks that the
threads take in turn (:func:`run_tasks`): which thread runs a task then varies,
but the tasks and their order of summation do not.

A thread keeps its large work buffers between calls (:func:`thread_cached`), and
the λ-gradient array of a fit is recycled from epoch to epoch
(:func:`recycled_empty`): fresh arrays of this size page-fault in every time.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import torch

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_LOCAL = threading.local()  # per-thread CPU work buffers


def thread_cached(slot: str, key: tuple, make):
    """This thread's object in ``slot``, remade by ``make()`` when ``key`` changes.

    The old object is dropped before the new one is made, so two sets of large
    work buffers are never alive at once.
    """
    cached = getattr(_LOCAL, slot, None)
    if cached is None or cached[0] != key:
        setattr(_LOCAL, slot, None)
        setattr(_LOCAL, slot, (key, make()))
    return getattr(_LOCAL, slot)[1]


_SPARE: dict = {}  # slot -> (weakref to the owner tensor, storage): see recycled_empty


def recycled_empty(shape: tuple, like: torch.Tensor, slot: str) -> torch.Tensor:
    """``torch.empty(shape)`` like ``like``, on the storage of this slot's last result
    once nothing refers to that any more (CPU; elsewhere a new tensor).

    A gradient of λ is as large as λ and is freed by ``zero_grad`` every epoch;
    a fresh one page-faults its whole size in again. The storage is kept while
    ``like`` (the parameter) lives and is reused only when no tensor holds it.
    """
    device = like.device
    if device.type != "cpu":
        return torch.empty(shape, dtype=like.dtype, device=device)
    entry = _SPARE.get(slot)
    count = getattr(torch._C, "_storage_Use_Count", None)
    if entry is not None and entry[0]() is like and count is not None:
        storage = entry[1]
        size = math.prod(shape) * like.element_size()
        if count(storage._cdata) == 1 and storage.nbytes() == size:
            empty = torch.empty((0,), dtype=like.dtype, device=device)
            return empty.set_(storage, 0, shape)
    _SPARE.pop(slot, None)
    result = torch.empty(shape, dtype=like.dtype, device=device)
    _SPARE[slot] = (weakref.ref(like, lambda _: _SPARE.pop(slot, None)),
                    result.untyped_storage())
    return result


def _pool(n_workers: int) -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL._max_workers < n_workers:
            _POOL = ThreadPoolExecutor(
                max_workers=n_workers, thread_name_prefix="latentlab-nll"
            )
        return _POOL


#: Work per person of a CPU block outside its ages (θ, the write-back of ∂/∂λ), in
#: ages of the per-age loop: measured 0.07 thread-seconds against 0.62 for the
#: 501,000 person-ages of the 10,000-person benchmark (about 6 ages a person).
BLOCK_EXTRA_AGES = 6


def _workers_and_work(chunks: list, device: torch.device, extra: int):
    """(threads to use, the work of each chunk): one thread on a GPU or for one
    chunk; on a CPU the torch threads, at most one per chunk (work only then)."""
    workers = (
        1 if device.type != "cpu" else max(1, min(torch.get_num_threads(), len(chunks)))
    )
    if workers == 1:
        return 1, None
    return workers, [(c.T_c + BLOCK_EXTRA_AGES + extra) * (c.stop - c.start)
                     for c in chunks]


def split(chunks: list, device: torch.device, extra: int = 0) -> list[range]:
    """Contiguous parts of about equal work (Σ (T_c + BLOCK_EXTRA_AGES + extra) × n
    over ``chunks``, anything with ``T_c``, ``start`` and ``stop``): one per torch
    thread on a CPU, one on a GPU."""
    n_chunks = len(chunks)
    workers, work = _workers_and_work(chunks, device, extra)
    if workers == 1:
        return [range(n_chunks)]
    total, running, bounds = sum(work), 0, [0]
    for index, size in enumerate(work):
        running += size
        if len(bounds) < workers and running >= total * len(bounds) / workers:
            bounds.append(index + 1)
    bounds.append(n_chunks)
    return [range(a, b) for a, b in pairwise(bounds) if b > a]


def guided(chunks: list, device: torch.device, extra: int = 0) -> list[range]:
    """Contiguous tasks over ``chunks`` (work as in :func:`split`), each about
    1 / (2 × threads) of the work still left and at least one chunk, so that the
    last tasks are small and the threads of :func:`run_tasks` finish together.
    Depends only on the chunks and the number of torch threads (one task on a GPU).
    """
    n_chunks = len(chunks)
    workers, work = _workers_and_work(chunks, device, extra)
    if workers == 1:
        return [range(n_chunks)] if n_chunks else []
    left, running, bounds = sum(work), 0, [0]
    for index, size in enumerate(work):
        running += size
        if running >= left / (2 * workers):
            bounds.append(index + 1)
            left, running = left - running, 0
    if bounds[-1] != n_chunks:
        bounds.append(n_chunks)
    return [range(a, b) for a, b in pairwise(bounds)]


def run_tasks(fn: Callable[[range], object], tasks: list[range]) -> list:
    """fn over the tasks, results in task order: inline for one task or one torch
    thread, else min(threads, tasks) Python threads (1 torch thread each) that
    take the next task as they finish one."""
    workers = min(torch.get_num_threads(), len(tasks))
    if workers <= 1:
        return [fn(task) for task in tasks]
    threads = torch.get_num_threads()
    results: list = [None] * len(tasks)
    taken = iter(range(len(tasks)))
    lock = threading.Lock()

    def worker(_):
        torch.set_num_threads(1)  # this worker's OpenMP/MKL setting only
        with torch.no_grad():  # grad mode is per thread; the kernel never needs it
            while True:
                with lock:
                    index = next(taken, None)
                if index is None:
                    return
                results[index] = fn(tasks[index])

    try:
        list(_pool(workers).map(worker, range(workers)))
    finally:
        torch.set_num_threads(threads)
    return results


def run_parts(fn: Callable[[range], object], parts: list[range]) -> list:
    """fn over the parts: inline for one, else a Python thread (1 torch thread) each."""
    if len(parts) == 1:
        return [fn(parts[0])]
    threads = torch.get_num_threads()

    def single(part):
        torch.set_num_threads(1)  # this worker's OpenMP/MKL setting only
        with torch.no_grad():  # grad mode is per thread; the kernel never needs it
            return fn(part)

    try:
        return list(_pool(len(parts)).map(single, parts))
    finally:
        torch.set_num_threads(threads)
