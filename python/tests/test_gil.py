# SPDX-License-Identifier: Apache-2.0
"""The GIL is released during every solve: while one thread runs a solve, another keeps running
Python (its longest pause stays far below the solve's duration), and two solves run from two
threads at once give the results they give alone."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fulcrum

RNG = np.random.default_rng(12)
N = 400_000
SIZES = RNG.integers(1, 4000, size=N).astype(np.uint64)
COSTS = RNG.random(N) * 100


def _layout_input():
    p = fulcrum.pack(SIZES[:4000], 16384)
    return p.bins, SIZES[:4000]


def _batcher_run():
    b = fulcrum.StreamBatcher(16384, ranks=8, buffer=4096)
    b.push_many(np.arange(N // 2, dtype=np.uint64), SIZES[: N // 2])
    return b


def _batcher_2d_run():
    b = fulcrum.StreamBatcher((16, 16384), ranks=8, buffer=4096)
    sizes = np.stack([SIZES[: N // 4] % 5, SIZES[: N // 4]], axis=1)
    b.push_many(np.arange(N // 4, dtype=np.uint64), sizes)
    return b


def _multimodal():
    n = 4000
    text = SIZES[:n] // 2
    images = [[int(SIZES[i] % 3) * 64 + 1] for i in range(n)]
    packs = fulcrum.pack(text + 200, 16384).bins
    return fulcrum.multimodal_layout(packs, text, images, pad_multiple=64)


_LAYERS = 8000
_OPTS = [[(100, 0.0), (40, 0.3 + (i % 7) * 0.01), (0, 1.0 + (i % 5) * 0.1)] for i in range(_LAYERS)]
_F = COSTS[:64] / 50 + 0.5
_G = COSTS[:400] / 50 + 0.5

SOLVES = {
    "pack": lambda: fulcrum.pack(np.tile(SIZES, 5), 16384, algorithm="first_fit"),
    "pack_2d": lambda: fulcrum.pack(np.stack([SIZES[:100_000], SIZES[:100_000][::-1]], axis=1), [16384, 16384]),
    "pack_for_ranks": lambda: fulcrum.pack_for_ranks(SIZES, 16384, 8, passes=16),
    "balance": lambda: fulcrum.balance(COSTS, 64, algorithm="local_search"),
    "balance_two_level": lambda: fulcrum.balance_two_level(COSTS, 16, 8, algorithm="greedy"),
    "post_balance": lambda: fulcrum.post_balance(COSTS[:30_000], np.arange(30_000) % 64, 64),
    "partition_stages": lambda: fulcrum.partition_stages(COSTS, 64, algorithm="exact_bisection"),
    "packed_layout": lambda: fulcrum.packed_layout(*_layout_input(), pad_multiple=64),
    "stream_push_many": _batcher_run,
    "stream_2d_push_many": _batcher_2d_run,
    "pack_for_ranks_2d": lambda: fulcrum.pack_for_ranks(
        np.stack([SIZES[:150_000] % 5, SIZES[:150_000]], axis=1), [16, 16384], 8, passes=16
    ),
    "epoch_plan": lambda: fulcrum.EpochPlanner(SIZES, 16384, 8).plan(3),
    "multimodal_layout": _multimodal,
    "select_recompute": lambda: fulcrum.select_recompute(_OPTS, 100 * _LAYERS // 2),
    "simulate_schedule": lambda: fulcrum.simulate_schedule(_F, 2 * _F, 8_000, timeline=True),
    "joint_partition_recompute": lambda: fulcrum.joint_partition_recompute(
        _G, 2 * _G, np.full(400, 10), np.full(400, 100), [[(100, 0.0), (30, 0.2), (0, 0.9)]] * 400, 16, 32,
        device_memory=40000,
    ),
}


def _longest_pause_during(fn):
    """(solve seconds, longest gap between two iterations of a Python loop run meanwhile)."""
    span = {}

    def worker():
        span["start"] = time.perf_counter()
        fn()
        span["end"] = time.perf_counter()

    t = threading.Thread(target=worker)
    ticks = []
    t.start()
    while t.is_alive():
        ticks.append(time.perf_counter())
    t.join()
    inside = [x for x in ticks if span["start"] <= x <= span["end"]]
    edges = [span["start"], *inside, span["end"]]
    return span["end"] - span["start"], max(b - a for a, b in zip(edges, edges[1:]))


@pytest.mark.parametrize("name", sorted(SOLVES))
def test_gil_released_during_solve(name):
    fn = SOLVES[name]
    for _ in range(3):  # the machine may be loaded: a few tries before concluding
        duration, pause = _longest_pause_during(fn)
        if duration < 0.05:
            pytest.skip(f"{name} took {duration:.3f} s: too fast to tell")
        if pause < 0.5 * duration:
            return
    pytest.fail(f"{name}: Python paused {pause:.3f} s of a {duration:.3f} s solve: the GIL was held")


def test_the_check_catches_a_call_that_holds_the_gil():
    import re

    # a backtracking regex runs in C holding the GIL throughout: the check must see the pause
    duration, pause = _longest_pause_during(lambda: re.match(r"(a+)+b", "a" * 22))
    assert duration > 0.05 and pause > 0.5 * duration


def _summary(r):
    for attr in ("bins", "parts", "micro_batches", "plan", "boundaries"):
        if hasattr(r, attr):
            v = getattr(r, attr)
            if isinstance(v, fulcrum.Partition):
                v = v.parts
            return v.to_list() if isinstance(v, fulcrum.Groups) else np.asarray(v).tolist()
    return repr(r)


@pytest.mark.parametrize("names", [("balance_two_level", "post_balance"), ("pack", "partition_stages")])
def test_two_solves_from_two_threads_agree(names):
    alone = [_summary(SOLVES[n]()) for n in names]
    with ThreadPoolExecutor(2) as ex:
        together = list(ex.map(lambda n: _summary(SOLVES[n]()), names))
    assert together == alone


def test_balance_reuses_its_per_thread_workspace_without_changing_plans():
    # balance() keeps one workspace and result per thread (balance/balance.hpp, "Per-step use"):
    # calls of different shapes, repeated and interleaved, and calls from other threads, must give
    # the plans that a first call of each shape gave.
    rng = np.random.default_rng(5)
    shapes = [(rng.integers(1, 5000, size=n).astype(np.int64), k, eq)
              for n, k, eq in [(3000, 64, True), (17, 4, False), (600, 7, True), (1, 1, False), (2500, 16, False)]]

    def solve(i):
        v, k, eq = shapes[i]
        p = fulcrum.balance(v, k, equal_counts=eq, cost="attention", a=1.0, b=1.0 / 4096, c=0.0)
        return (p.parts.offsets.tolist(), p.parts.indices.tolist(), np.asarray(p.loads).tolist(), p.makespan)

    first = [solve(i) for i in range(len(shapes))]
    for i in [4, 0, 3, 1, 2, 0, 0, 4]:
        assert solve(i) == first[i]
    with ThreadPoolExecutor(2) as ex:
        again = list(ex.map(solve, [i % len(shapes) for i in range(10)]))
    assert again == [first[i % len(shapes)] for i in range(10)]
