# SPDX-License-Identifier: Apache-2.0
"""Multi-dimensional pack_for_ranks, the epoch planner and the 2-D streaming batcher, checked by
independent checkers written here: every item exactly once, every cap held in every dimension,
loads recomputed, the steps x ranks shape, determinism, pickling."""

import pickle

import numpy as np
import pytest

import fulcrum


def vlm_sizes(n, seed):
    """(images, tokens) per sample: a few images each, text plus 256 tokens per image."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 5, size=n)
    tokens = rng.integers(16, 3000, size=n) + 256 * images
    return np.stack([images, tokens], axis=1)


def check_rank_packing(r, sizes, capacity, ranks):
    sizes = np.asarray(sizes)
    if sizes.ndim == 1:
        sizes = sizes.reshape(-1, 1)
    n, dims = sizes.shape
    assert r.ranks == ranks and len(r.bins) == r.steps * ranks
    flat = sorted(int(i) for g in r.bins for i in g)
    assert flat == list(range(n))  # every item exactly once
    loads = np.asarray(r.loads).reshape(len(r.bins), dims)
    for b, g in enumerate(r.bins):
        want = sizes[np.asarray(g, dtype=np.int64)].sum(axis=0) if len(g) else np.zeros(dims)
        assert np.array_equal(loads[b], want)  # loads recomputed
        assert np.all(want <= np.asarray(capacity))  # every cap held in every dimension
        if len(g) == 0:
            assert b // ranks == r.steps - 1  # empty bins only in the last step
    used = sum(1 for g in r.bins if len(g))
    assert r.used_bins == used and r.lower_bound <= used
    assert r.dims == dims and len(r.dist_per_dim) == dims


@pytest.mark.parametrize("seed", range(3))
def test_pack_for_ranks_two_dimensions(seed):
    sizes = vlm_sizes(700, seed)
    cap = [12, 16384]
    r = fulcrum.pack_for_ranks(sizes, cap, 8, seed=seed)
    check_rank_packing(r, sizes, cap, 8)
    again = fulcrum.pack_for_ranks(sizes, cap, 8, seed=seed)
    assert again.bins == r.bins  # deterministic


def test_pack_for_ranks_one_column_matrix_equals_1d():
    sizes = vlm_sizes(500, 4)[:, 1]
    a = fulcrum.pack_for_ranks(sizes, 16384, 4)
    b = fulcrum.pack_for_ranks(sizes.reshape(-1, 1), [16384], 4)
    assert a.bins == b.bins and np.array_equal(a.loads, b.loads.reshape(-1))


@pytest.mark.parametrize("dims", [3, 4])
def test_pack_for_ranks_three_and_four_dimensions(dims):
    rng = np.random.default_rng(dims)
    sizes = rng.integers(0, 50, size=(300, dims))
    cap = [200] * dims
    check_rank_packing(fulcrum.pack_for_ranks(sizes, cap, 3), sizes, cap, 3)


@pytest.mark.parametrize(
    "sizes,capacity,field",
    [
        ([[1, 2], [3, 4]], 10, "capacity"),
        ([[1, 2], [3, 4]], [10], "capacity"),
        ([[1, -2], [3, 4]], [10, 10], "sizes"),
        ([[1, 2], [3, 4]], [10, 0], "capacity"),
        (np.ones((3, 5)), [9] * 5, "sizes.shape"),
    ],
)
def test_pack_for_ranks_multi_bad_input(sizes, capacity, field):
    with pytest.raises(fulcrum.InvalidInput, match=field):
        fulcrum.pack_for_ranks(sizes, capacity, 2)


# ---- epoch planner ---------------------------------------------------------------------------


def test_epoch_planner_plans_check_and_differ_by_epoch():
    sizes = vlm_sizes(1500, 7)[:, 1]
    p = fulcrum.EpochPlanner(sizes, 16384, 8)
    plans = [p.plan(e) for e in range(3)]
    for r in plans:
        check_rank_packing(r, sizes, [16384], 8)
        assert r.used_bins <= 1.05 * r.lower_bound + 8
    assert plans[0].bins != plans[1].bins  # different epochs, different packs
    assert p.plan(1).bins == plans[1].bins  # a function of the epoch
    q = fulcrum.EpochPlanner(sizes, 16384, 8)
    assert q.plan(2).bins == plans[2].bins  # every rank derives it alone
    assert p.lower_bound <= plans[0].used_bins and len(p) == 1500


def test_epoch_planner_rank_plan_is_the_plans_column():
    sizes = vlm_sizes(800, 8)[:, 1]
    p = fulcrum.EpochPlanner(sizes, 8192, 4, seed=5)
    full = p.plan(3)
    for rank in range(4):
        for first in (0, 2, full.steps, full.steps + 3):
            s = p.rank_plan(3, rank, first)
            assert (s.epoch, s.rank, s.first_step, s.steps) == (3, rank, first, full.steps)
            want = [full.micro_batch(step, rank).tolist() for step in range(first, full.steps)]
            assert s.micro_batches.to_list() == want


def test_epoch_planner_two_dimensions_and_pickle():
    sizes = vlm_sizes(900, 9)
    cap = (10, 16384)
    p = fulcrum.EpochPlanner(sizes, cap, 6, repack_rounds=10)
    r = p.plan(0)
    check_rank_packing(r, sizes, cap, 6)
    q = pickle.loads(pickle.dumps(p))
    assert q.plan(0).bins == r.bins and q.plan(4).bins == p.plan(4).bins
    p1 = fulcrum.EpochPlanner(sizes[:, 1], 16384, 2)
    assert pickle.loads(pickle.dumps(p1)).plan(1).bins == p1.plan(1).bins


def test_epoch_planner_bad_input_names_field():
    with pytest.raises(fulcrum.InvalidInput, match="ranks"):
        fulcrum.EpochPlanner([1, 2, 3], 10, 0)
    with pytest.raises(fulcrum.InvalidInput, match="full_slack"):
        fulcrum.EpochPlanner([1, 2, 3], 10, 1, full_slack=1.5)
    with pytest.raises(fulcrum.InvalidInput, match="sizes"):
        fulcrum.EpochPlanner([1, -2, 3], 10, 1)
    with pytest.raises(fulcrum.Infeasible):
        fulcrum.EpochPlanner([1, 20, 3], 10, 1)
    p = fulcrum.EpochPlanner([1, 2, 3], 10, 2)
    with pytest.raises(fulcrum.InvalidInput, match="rank"):
        p.rank_plan(0, 2)
    with pytest.raises(fulcrum.InvalidInput, match="epoch"):
        p.plan(-1)


# ---- 2-D streaming batcher -------------------------------------------------------------------


def drain(b):
    return [s for s in b]


def check_stream(steps, sizes_by_id, caps, ranks, pushed_ids):
    seen = []
    for s in steps:
        assert s.ranks == ranks
        for r, g in enumerate(s.micro_batches):
            ids = [int(i) for i in g]
            seen += ids
            load = np.sum([sizes_by_id[i] for i in ids], axis=0) if ids else np.zeros(len(caps))
            assert np.array_equal(s.loads[r], load)
            assert np.all(load <= np.asarray(s.caps)) and np.all(np.asarray(s.caps) <= np.asarray(caps))
    assert sorted(seen) == sorted(pushed_ids)  # every pushed item exactly once


def test_stream_two_dimensions_exactly_once_caps_and_pickle():
    sizes = vlm_sizes(3000, 10)
    caps = (12, 16384)
    b = fulcrum.StreamBatcher(caps, ranks=4, buffer=512)
    steps = []
    for i in range(1500):
        b.push(i, tuple(sizes[i]))
        steps += drain(b)
    b2 = pickle.loads(pickle.dumps(b))  # resumes identically
    tail1, tail2 = [], []
    for bb, tail in ((b, tail1), (b2, tail2)):
        bb.push_many(np.arange(1500, 3000), sizes[1500:])
        bb.finish()
        tail += drain(bb)
    assert [s.micro_batches.to_list() for s in tail1] == [s.micro_batches.to_list() for s in tail2]
    assert [s.loads.tolist() for s in tail1] == [s.loads.tolist() for s in tail2]
    check_stream(steps + tail1, {i: sizes[i] for i in range(3000)}, caps, 4, list(range(3000)))
    assert steps[0].loads.shape == (4, 2) and steps[0].caps.tolist() == list(caps)
    st = b.stats()
    assert st["pushed"] == st["emitted"] == 3000


def test_stream_two_dimensions_push_many_matches_push():
    sizes = vlm_sizes(1000, 11)
    a = fulcrum.StreamBatcher([12, 8192], ranks=2, buffer=256, seed=3)
    b = fulcrum.StreamBatcher([12, 8192], ranks=2, buffer=256, seed=3)
    for i in range(1000):
        a.push(i, sizes[i])
    b.push_many(np.arange(1000), sizes)
    a.finish()
    b.finish()
    assert [s.micro_batches.to_list() for s in drain(a)] == [s.micro_batches.to_list() for s in drain(b)]


@pytest.mark.parametrize("dims", [3, 4])
def test_stream_three_and_four_dimensions(dims):
    rng = np.random.default_rng(dims)
    sizes = rng.integers(0, 60, size=(1200, dims))
    caps = tuple([200] * dims)
    b = fulcrum.StreamBatcher(caps, ranks=3, buffer=300)
    b.push_many(np.arange(600), sizes[:600])
    steps = drain(b)
    b2 = pickle.loads(pickle.dumps(b))
    for i in range(600, 1200):
        b.push(i, sizes[i])
        b2.push(i, tuple(int(x) for x in sizes[i]))
    b.finish()
    b2.finish()
    tail, tail2 = drain(b), drain(b2)
    assert [s.micro_batches.to_list() for s in tail] == [s.micro_batches.to_list() for s in tail2]
    check_stream(steps + tail, {i: sizes[i] for i in range(1200)}, caps, 3, list(range(1200)))
    assert tail[0].loads.shape == (3, dims)


def test_stream_two_dimensions_errors():
    b = fulcrum.StreamBatcher((4, 100), ranks=1, buffer=8)
    with pytest.raises(fulcrum.InvalidInput, match="size"):
        b.push(0, 5)
    with pytest.raises(fulcrum.InvalidInput, match="size"):
        b.push(0, (1, -5))
    with pytest.raises(fulcrum.Infeasible):
        b.push(0, (5, 10))
    with pytest.raises(fulcrum.InvalidInput, match="sizes"):
        b.push_many([0, 1], [[1, 2], [3, -4]])
    with pytest.raises(fulcrum.InvalidInput, match="capacity"):
        fulcrum.StreamBatcher((1, 2, 3, 4, 5), ranks=1)
    with pytest.raises(fulcrum.InvalidInput, match="caps"):
        fulcrum.StreamBatcher((0, 100), ranks=1)
