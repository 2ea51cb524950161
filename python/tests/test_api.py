# SPDX-License-Identifier: Apache-2.0
"""Unit tests of the fulcrum Python package: results are checked independently in Python."""

import pickle

import numpy as np
import pytest

import fulcrum


def check_exactly_once(groups, n):
    """Every item 0..n-1 appears in exactly one group."""
    seen = np.concatenate([np.asarray(g, dtype=np.int64) for g in groups]) if len(groups) else np.zeros(0, np.int64)
    assert len(seen) == n
    assert np.array_equal(np.sort(seen), np.arange(n))


def w1_like(n, seed=1):
    rng = np.random.default_rng(seed)
    return rng.integers(1, 4000, size=n) + (rng.random(n) < 0.1) * rng.integers(1000, 12000, size=n)


# ---- pack ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", fulcrum.PACK_ALGORITHMS)
def test_pack_every_algorithm(algorithm):
    sizes = w1_like(300 if algorithm != "exact" else 40)
    cap = 16384
    r = fulcrum.pack(sizes, cap, algorithm=algorithm, max_nodes=200000)
    check_exactly_once(r.bins, len(sizes))
    loads = np.array([int(sizes[b].sum()) for b in r.bins], dtype=np.uint64)
    assert np.array_equal(loads, r.loads)
    assert (loads <= cap).all()
    assert r.used_bins == len(r.bins) >= r.lower_bound >= -(-int(sizes.sum()) // cap)
    assert r.proven_optimal == (r.used_bins == r.lower_bound) or algorithm == "exact"
    assert r.gap >= 0
    if algorithm != "automatic":
        assert r.algorithm == algorithm
    for b in r.bins:  # increasing index order within a bin
        assert np.all(np.diff(b.astype(np.int64)) > 0)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int32, np.int64, np.float32, np.float64])
def test_pack_any_dtype_same_result(dtype):
    sizes = np.array([5, 3, 7, 1, 2, 6, 4, 4, 8, 2, 0, 9], dtype=np.int64)
    ref = fulcrum.pack(sizes, 10)
    r = fulcrum.pack(sizes.astype(dtype), 10)
    assert r.bins == ref.bins and np.array_equal(r.loads, ref.loads) and r.lower_bound == ref.lower_bound
    assert fulcrum.pack(sizes.tolist(), 10).bins == ref.bins  # Python sequence
    assert fulcrum.pack(tuple(sizes.tolist()), 10).bins == ref.bins


def test_pack_non_contiguous_input():
    sizes = (np.arange(40, dtype=np.int64) % 9 + 1)[::2]
    assert not sizes.flags.c_contiguous
    assert fulcrum.pack(sizes, 10).bins == fulcrum.pack(np.ascontiguousarray(sizes), 10).bins


def test_pack_empty():
    r = fulcrum.pack([], 10)
    assert len(r.bins) == 0 and r.lower_bound == 0 and r.proven_optimal


def test_pack_oversize_policies():
    sizes = [3, 15, 4]
    with pytest.raises(fulcrum.Infeasible, match=r"15") as e:
        fulcrum.pack(sizes, 10)
    assert isinstance(e.value, RuntimeError)
    r = fulcrum.pack(sizes, 10, oversize="own_bin")
    check_exactly_once(r.bins, 3)
    assert r.bins[-1].tolist() == [1] and int(r.loads[-1]) == 15
    r = fulcrum.pack(sizes, 10, oversize="truncate")
    check_exactly_once(r.bins, 3)
    assert (r.loads <= 10).all()


def test_pack_multi_constraint():
    rng = np.random.default_rng(3)
    sizes = np.stack([rng.integers(0, 5, 200), rng.integers(1, 3000, 200)], axis=1)
    cap = [8, 8192]
    r = fulcrum.pack(sizes, cap)
    check_exactly_once(r.bins, 200)
    assert r.loads.shape == (len(r.bins), 2)
    for b, load in zip(r.bins, r.loads):
        assert np.array_equal(sizes[b].sum(axis=0), load)
        assert (load <= cap).all()
    with pytest.raises(ValueError, match="capacity"):
        fulcrum.pack(sizes, [8])


@pytest.mark.parametrize(
    "sizes, capacity, field",
    [
        ([1, -2, 3], 10, r"sizes\[1\] = -2"),
        ([1.0, 2.5], 10, r"sizes\[1\] = 2.5"),
        ([1.0, float("nan")], 10, r"sizes\[1\].*NaN"),
        ([1, 2], 0, r"capacity"),
        ([1, 2], -5, r"capacity"),
        (["a", "b"], 10, r"sizes"),
        ([True, False], 10, r"sizes"),
        ([[1, 2], [3, 4]], 10, r"capacity"),
    ],
)
def test_pack_bad_input_names_field(sizes, capacity, field):
    with pytest.raises(ValueError, match=field):
        fulcrum.pack(sizes, capacity)


def test_pack_bad_algorithm():
    with pytest.raises(ValueError, match="algorithm"):
        fulcrum.pack([1, 2], 10, algorithm="magic")
    with pytest.raises(fulcrum.InvalidInput, match="oversize"):
        fulcrum.pack([1, 2], 10, oversize="ignore")


# ---- pack_for_ranks ---------------------------------------------------------------------------


def test_pack_for_ranks_grid():
    sizes = w1_like(1000, seed=7)
    cap, ranks = 16384, 8
    r = fulcrum.pack_for_ranks(sizes, cap, ranks)
    assert len(r.bins) == r.steps * r.ranks and r.ranks == ranks
    check_exactly_once(r.bins, len(sizes))
    loads = np.array([int(sizes[b].sum()) for b in r.bins], dtype=np.uint64)
    assert np.array_equal(loads, r.loads) and (loads <= cap).all()
    nonempty = [len(b) > 0 for b in r.bins]
    assert r.used_bins == sum(nonempty) >= r.lower_bound
    for s in range(r.steps - 1):  # empty bins only in the last step
        assert all(len(r.micro_batch(s, q)) > 0 for q in range(ranks))
    assert [b.tolist() for b in r.rank_batches(3)] == [r.micro_batch(s, 3).tolist() for s in range(r.steps)]
    again = fulcrum.pack_for_ranks(sizes, cap, ranks)
    assert again.bins == r.bins
    other = fulcrum.pack_for_ranks(sizes, cap, ranks, seed=5)
    assert sorted(map(tuple, other.bins.to_list())) != [] and other.used_bins == r.used_bins
    with pytest.raises(ValueError, match="ranks"):
        fulcrum.pack_for_ranks(sizes, cap, 0)
    with pytest.raises(fulcrum.Infeasible):
        fulcrum.pack_for_ranks([1, 20000], cap, 2)


# ---- balance ----------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", fulcrum.BALANCE_ALGORITHMS)
def test_balance_every_algorithm(algorithm):
    values = w1_like(200 if algorithm != "complete" else 24, seed=11)
    k = 8
    r = fulcrum.balance(values, k, algorithm=algorithm, max_nodes=100000)
    assert len(r.parts) == k
    check_exactly_once(r.parts, len(values))
    loads = np.array([float(np.sum(values[p].astype(np.float64))) for p in r.parts])
    assert np.allclose(loads, r.loads, rtol=0, atol=0)
    assert r.makespan == r.loads.max()
    assert r.lower_bound <= r.makespan
    assert r.lower_bound >= values.sum() / k - 1e-9 and r.lower_bound >= values.max()
    assert r.gap >= 0


def test_balance_loads_in_part_order():
    values = np.array([0.1, 0.2, 0.3, 1e16, 1.0, 7.5])
    r = fulcrum.balance(values, 2)
    for p, load in zip(r.parts, r.loads):
        s = 0.0
        for i in p:  # index-order sum, as the C++ library adds
            s += float(values[i])
        assert s == load


def test_balance_attention_cost():
    lengths = w1_like(500, seed=5)
    r = fulcrum.balance(lengths, 16, cost="attention")
    costs = lengths.astype(np.float64) + (lengths.astype(np.float64) / 4096.0) * lengths.astype(np.float64)
    for p, load in zip(r.parts, r.loads):
        assert np.isclose(costs[p].sum(), load, rtol=1e-12)
    lin = fulcrum.balance(lengths, 16, cost="linear", a=2.0, b=1.0)
    assert np.isclose(lin.loads.sum(), 2.0 * lengths.sum() + len(lengths), rtol=1e-12)


def test_balance_equal_counts_and_capacity():
    values = w1_like(103, seed=2)
    r = fulcrum.balance(values, 10, equal_counts=True)
    sizes = r.parts.sizes()
    assert sizes.min() >= 10 and sizes.max() <= 11
    cap = float(values.sum()) / 10 * 1.2
    r = fulcrum.balance(values, 10, part_capacity=cap)
    assert r.makespan <= cap
    with pytest.raises(fulcrum.Infeasible):
        fulcrum.balance([10, 10, 10], 2, part_capacity=15)


@pytest.mark.parametrize(
    "values, k, field",
    [
        ([1, 2, 3], 0, "k"),
        ([1.0, -2.0], 2, r"cost\[1\] = -2"),
        ([1.0, float("inf")], 2, r"cost\[1\]"),
        ([1.0, float("nan")], 2, r"cost\[1\]"),
        ([1, 2], -1, "k"),
        ([1, 2], 2.5, "k"),
    ],
)
def test_balance_bad_input(values, k, field):
    with pytest.raises(ValueError, match=field):
        fulcrum.balance(values, k)


def test_balance_bad_options():
    with pytest.raises(ValueError, match="part_capacity"):
        fulcrum.balance([1, 2], 2, part_capacity=-1.0)
    with pytest.raises(ValueError, match="cost"):
        fulcrum.balance([1, 2], 2, cost="quadratic")


def test_gil_released_solves_in_threads_agree():
    from concurrent.futures import ThreadPoolExecutor

    values = w1_like(20000, seed=9)
    ref = fulcrum.balance(values, 64)
    with ThreadPoolExecutor(4) as ex:
        results = list(ex.map(lambda _: fulcrum.balance(values, 64), range(4)))
    for r in results:
        assert r.parts == ref.parts and np.array_equal(r.loads, ref.loads)


# ---- partition_stages ----------------------------------------------------------------------------


def test_partition_stages_optimal_against_brute_force():
    rng = np.random.default_rng(4)
    costs = rng.integers(1, 100, 12).astype(np.float64)
    r = fulcrum.partition_stages(costs, 4)
    assert r.stages == 4 and r.boundaries[0] == 0 and r.boundaries[-1] == 12
    assert np.all(np.diff(r.boundaries.astype(np.int64)) > 0)
    stage = [costs[r.boundaries[s] : r.boundaries[s + 1]].sum() for s in range(4)]
    assert np.allclose(stage, r.stage_costs) and max(stage) == r.bottleneck
    import itertools

    best = min(
        max(costs[a:b].sum() for a, b in zip((0,) + cut, cut + (12,)))
        for cut in itertools.combinations(range(1, 12), 3)
    )
    assert r.bottleneck == best and r.proven_optimal
    for alg in fulcrum.STAGE_ALGORITHMS:
        assert fulcrum.partition_stages(costs, 4, algorithm=alg).bottleneck == best


def test_partition_stages_errors():
    with pytest.raises(ValueError, match="stages"):
        fulcrum.partition_stages([1, 2, 3], 4)
    with pytest.raises(ValueError, match=r"layer_costs\[1\]"):
        fulcrum.partition_stages([1.0, -1.0, 3.0], 2)
    with pytest.raises(fulcrum.Infeasible):
        fulcrum.partition_stages([1, 1, 1, 1], 2, layer_memory=[10, 10, 10, 10], stage_memory_cap=[15, 15])


# ---- streaming batcher ---------------------------------------------------------------------------


def run_stream(b, ids, sizes, split=None):
    steps = []
    for n, (i, s) in enumerate(zip(ids, sizes)):
        b.push(int(i), int(s))
        steps.extend(b)
    b.finish()
    steps.extend(b)
    return steps


def step_key(s):
    return (s.index, s.micro_batches.to_list(), s.loads.tolist(), s.cap)


def test_streaming_exactly_once_and_caps():
    sizes = w1_like(3000, seed=21)
    ids = np.arange(1000, 4000)
    b = fulcrum.StreamBatcher(16384, ranks=4, buffer=512)
    steps = run_stream(b, ids, sizes)
    seen = np.concatenate([np.concatenate([mb for mb in s.micro_batches]) for s in steps])
    assert np.array_equal(np.sort(seen), ids)
    by_id = dict(zip(ids.tolist(), sizes.tolist()))
    for s in steps:
        assert s.ranks == 4
        for r, mb in enumerate(s.micro_batches):
            load = sum(by_id[int(i)] for i in mb)
            assert load == int(s.loads[r]) and load <= 16384
    st = b.stats()
    assert st["pushed"] == st["emitted"] == 3000 and st["steps"] == len(steps)


def test_streaming_pickle_round_trip_gives_identical_steps():
    sizes = w1_like(2500, seed=22)
    ids = np.arange(2500)
    ref = fulcrum.StreamBatcher(16384, ranks=4, buffer=256, warmup_steps=5)
    ref_steps = run_stream(ref, ids, sizes)

    b = fulcrum.StreamBatcher(16384, ranks=4, buffer=256, warmup_steps=5)
    steps = []
    cut = 1234
    for i in range(cut):
        b.push(int(ids[i]), int(sizes[i]))
        if i % 3 == 0:  # leave some steps pending inside the state
            steps.extend(b)
    b2 = pickle.loads(pickle.dumps(b))
    assert b2.state() == b.state()
    steps.extend(run_stream(b2, ids[cut:], sizes[cut:]))
    assert [step_key(s) for s in steps] == [step_key(s) for s in ref_steps]

    # restore() from bytes, and a state written under other options is refused
    again = fulcrum.StreamBatcher.restore(b.state(), **b.options)
    assert again.state() == b.state()
    opts = b.options
    opts["seed"] = 99
    with pytest.raises(ValueError, match="options_fingerprint"):
        fulcrum.StreamBatcher.restore(b.state(), **opts)
    with pytest.raises(ValueError, match="checksum|truncated"):
        fulcrum.StreamBatcher.restore(b.state()[:-3], **b.options)


def test_streaming_push_many_matches_push():
    sizes = w1_like(2000, seed=23)
    ids = np.arange(2000, dtype=np.uint64)
    a = fulcrum.StreamBatcher(16384, ranks=2, buffer=300)
    ref = run_stream(a, ids, sizes)
    b = fulcrum.StreamBatcher(16384, ranks=2, buffer=300)
    b.push_many(ids, sizes)
    b.finish()
    assert [step_key(s) for s in b] == [step_key(s) for s in ref]


def test_streaming_drop_last_and_costs():
    b = fulcrum.StreamBatcher(100, ranks=4, buffer=16, drop_last=True)
    for i in range(50):
        b.push(i, 60)
    b.finish()
    steps = list(b)
    emitted = sum(len(s.micro_batches.indices) for s in steps)
    assert emitted + len(b.dropped()) == 50 and all(len(mb) > 0 for s in steps for mb in s.micro_batches)
    c = fulcrum.StreamBatcher(1000, ranks=2, buffer=8)
    for i in range(20):
        c.push(i, 100 + i, cost=float(i))
    c.finish()
    steps = list(c)
    assert all(len(s.costs) == 2 for s in steps)
    with pytest.raises(ValueError):
        c.push(100, 5)  # after finish


def test_streaming_errors():
    with pytest.raises(ValueError, match="caps|capacity"):
        fulcrum.StreamBatcher(0, ranks=2)
    with pytest.raises(ValueError, match="ranks"):
        fulcrum.StreamBatcher(100, ranks=0)
    b = fulcrum.StreamBatcher(100, ranks=1, buffer=4)
    with pytest.raises(fulcrum.Infeasible, match="7"):
        b.push(7, 500)
    with pytest.raises(ValueError, match="size"):
        b.push(1, -3)


def test_stream_contract_names():
    assert fulcrum.StreamingBatcher is fulcrum.StreamBatcher
    b = fulcrum.StreamBatcher(100, ranks=2, buffer=4)
    for i in range(9):
        b.push(i, 30)
    b.flush()
    got = []
    while b.ready():
        got.append(b.pop())
    assert b.pop() is None and sum(len(s.micro_batches.indices) for s in got) == 9


def test_version_and_docs():
    from importlib.metadata import version

    assert fulcrum.__version__.count(".") == 2
    assert version("fulcrum") == fulcrum.__version__  # python/pyproject.toml agrees with include/fulcrum/version.hpp
    assert "balance" in fulcrum.balance.__doc__.lower() and "lower_bound" in fulcrum.Partition.__doc__


def test_stream_batcher_shared_by_threads_keeps_exactly_once():
    import threading

    b = fulcrum.StreamBatcher(16384, ranks=4, buffer=128)
    sizes = w1_like(4000, seed=31)
    got, lock = [], threading.Lock()

    def worker(lo, hi):
        for i in range(lo, hi):
            b.push(i, int(sizes[i]))
            for s in b:
                with lock:
                    got.append(s)

    threads = [threading.Thread(target=worker, args=(t * 1000, (t + 1) * 1000)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    b.finish()
    got.extend(b)
    ids = np.concatenate([s.micro_batches.indices for s in got])
    assert np.array_equal(np.sort(ids), np.arange(4000))
    assert sorted(s.index for s in got) == list(range(len(got)))


def test_groups_behaves_like_a_list_of_arrays():
    r = fulcrum.pack([5, 3, 7, 1, 2, 6], 10, algorithm="first_fit")
    g = r.bins
    as_list = g.to_list()
    assert len(g) == len(as_list) and [x.tolist() for x in g] == as_list
    assert g[-1].tolist() == as_list[-1] and [x.tolist() for x in g[1:]] == as_list[1:]
    assert g[0].dtype == np.uint32 and g.offsets.dtype == np.uint64
    assert g.sizes().tolist() == [len(x) for x in as_list]
    owner = g.assignment(6)
    for b, items in enumerate(as_list):
        assert all(owner[i] == b for i in items)
    with pytest.raises(IndexError):
        g[len(g)]
