"""Tasks of the CPU kernel's worker threads (signatures/_workers.py): guided cuts
and threads that take them in turn, with results that do not depend on which
thread ran which task."""

from __future__ import annotations

import random
import threading
import time
from typing import NamedTuple

import numpy as np
import pytest
import torch

from latentlab.signatures import _ages, _kernel, _workers, signature_nll

CPU = torch.device("cpu")


class Chunk(NamedTuple):
    start: int
    stop: int
    T_c: int


def _chunks(sizes, ages):
    chunks, start = [], 0
    for size, T_c in zip(sizes, ages):
        chunks.append(Chunk(start, start + size, T_c))
        start += size
    return chunks


@pytest.fixture
def two_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(previous)


def _work(chunk, extra=0):
    return (chunk.T_c + _workers.BLOCK_EXTRA_AGES + extra) * (chunk.stop - chunk.start)


@pytest.mark.parametrize("extra", [0, 7])
def test_guided_tasks_cover_the_chunks_and_shrink(two_threads, extra):
    chunks = _chunks([512] * 19 + [272], [52] * 16 + [50, 44, 37, 30])
    tasks = _workers.guided(chunks, CPU, extra=extra)
    assert [i for task in tasks for i in task] == list(range(len(chunks)))
    assert all(len(task) >= 1 for task in tasks)
    left = sum(_work(c, extra) for c in chunks)
    for task in tasks[:-1]:  # each closes once it holds 1/(2 × 2) of the work left
        done = sum(_work(chunks[i], extra) for i in task)
        assert done >= left / 4
        assert done - _work(chunks[task[-1]], extra) < left / 4  # and not later
        left -= done
    assert len(tasks[0]) > len(tasks[-1]) == 1
    assert len(tasks) == 9  # 5, 4, 3, 2, 2, 1, 1, 1, 1 blocks


def test_guided_is_one_task_on_one_thread_or_a_gpu(two_threads):
    chunks = _chunks([10] * 6, [5] * 6)
    assert _workers.guided(chunks, torch.device("cuda")) == [range(6)]
    assert _workers.guided([], CPU) == []
    torch.set_num_threads(1)
    assert _workers.guided(chunks, CPU) == [range(6)]


def test_run_tasks_in_order_on_several_threads(two_threads):
    started, names = [], set()

    def fn(task):
        started.append(task[0])
        names.add(threading.current_thread().name)
        time.sleep(0.02 if task[0] % 3 == 0 else 0.005)
        return task[0] * 10

    tasks = [range(i, i + 1) for i in range(8)]
    assert _workers.run_tasks(fn, tasks) == [0, 10, 20, 30, 40, 50, 60, 70]
    assert started == list(range(8))  # taken in order under a lock
    assert len(names) == 2 and all(n.startswith("latentlab-nll") for n in names)
    assert torch.get_num_threads() == 2  # the caller's setting is restored


def test_run_tasks_inline_on_one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        names = []
        out = _workers.run_tasks(
            lambda t: names.append(threading.current_thread().name) or len(t),
            [range(3), range(2)],
        )
    finally:
        torch.set_num_threads(previous)
    assert out == [3, 2] and set(names) == {threading.current_thread().name}


def test_run_tasks_raises_a_task_error(two_threads):
    def fn(task):
        if task[0] == 2:
            raise ValueError("task 2 failed")
        return task[0]

    with pytest.raises(ValueError, match="task 2 failed"):
        _workers.run_tasks(fn, [range(i, i + 1) for i in range(5)])


def test_same_bits_whichever_thread_runs_a_task(two_threads, monkeypatch):
    """Random delays change which thread takes which task; loss and gradients of
    the age-major kernel keep every bit."""
    monkeypatch.setattr(_kernel, "CPU_LAYOUT", "ages")
    generator = np.random.default_rng(5)
    N, D, K1, T = 60, 7, 4, 12
    E = generator.integers(0, T, size=(N, D))
    event = generator.uniform(size=(N, D)) < 0.3
    lam = generator.normal(size=(N, K1, T))
    phi = generator.normal(-1.0, 1.0, size=(K1, D, T))
    original = _ages.block_terms
    delays = random.Random(0)

    def slow(*args, **kwargs):
        time.sleep(delays.choice([0.0, 0.0, 0.004, 0.01]))
        return original(*args, **kwargs)

    def run():
        lam_t = torch.tensor(lam, dtype=torch.float32, requires_grad=True)
        phi_t = torch.tensor(phi, dtype=torch.float32, requires_grad=True)
        loss = signature_nll(lam_t, phi_t, 0.7, E, event, chunk_size=4)
        loss.backward()
        return float(loss.detach()), lam_t.grad, phi_t.grad

    first = run()
    monkeypatch.setattr(_ages, "block_terms", slow)
    for _ in range(3):
        again = run()
        assert again[0] == first[0]
        assert torch.equal(again[1], first[1]) and torch.equal(again[2], first[2])
