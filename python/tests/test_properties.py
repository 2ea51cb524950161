# SPDX-License-Identifier: Apache-2.0
"""Property tests (hypothesis): invariants of pack, balance and pack_for_ranks on random inputs."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import fulcrum

sizes_st = st.lists(st.integers(min_value=0, max_value=1000), min_size=0, max_size=120)


def placed_once(groups, n):
    flat = [int(i) for g in groups for i in g]
    return sorted(flat) == list(range(n))


@settings(max_examples=60, deadline=None)
@given(sizes=sizes_st, cap=st.integers(min_value=1, max_value=3000), alg=st.sampled_from(fulcrum.PACK_ALGORITHMS[:-1]))
def test_pack_properties(sizes, cap, alg):
    r = fulcrum.pack(sizes, cap, algorithm=alg, oversize="own_bin")
    assert placed_once(r.bins, len(sizes))
    for b, load in zip(r.bins, r.loads):
        total = sum(sizes[i] for i in b)
        assert total == int(load)
        assert total <= cap or len(b) == 1
    assert r.lower_bound <= len(r.bins)
    assert r.proven_optimal == (len(r.bins) == r.lower_bound)
    again = fulcrum.pack(np.array(sizes, dtype=np.uint32), cap, algorithm=alg, oversize="own_bin")
    assert again.bins == r.bins


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(min_value=0, max_value=10**6), min_size=0, max_size=80),
    k=st.integers(min_value=1, max_value=12),
    alg=st.sampled_from(["automatic", "greedy", "karmarkar_karp", "multifit", "local_search"]),
    equal=st.booleans(),
)
def test_balance_properties(values, k, alg, equal):
    r = fulcrum.balance(values, k, algorithm=alg, equal_counts=equal)
    assert len(r.parts) == k and placed_once(r.parts, len(values))
    for p, load in zip(r.parts, r.loads):
        s = 0.0
        for i in p:
            s += float(values[i])
        assert s == load
    assert r.makespan == (max(r.loads) if k else 0)
    assert r.lower_bound <= r.makespan
    if values:
        assert r.makespan >= max(values) and r.lower_bound >= max(values)
    if equal:
        sizes = r.parts.sizes()
        assert sizes.max() - sizes.min() <= 1
    if alg == "greedy" and not equal:  # list scheduling: makespan <= mean + largest item
        assert r.makespan <= sum(values) / k + max(values, default=0) + 1e-6


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(min_value=1, max_value=500), min_size=0, max_size=150),
       ranks=st.integers(min_value=1, max_value=6), seed=st.integers(min_value=0, max_value=2**32))
def test_pack_for_ranks_properties(sizes, ranks, seed):
    cap = 600
    r = fulcrum.pack_for_ranks(sizes, cap, ranks, seed=seed)
    assert len(r.bins) == r.steps * ranks
    assert placed_once(r.bins, len(sizes))
    for b, load in zip(r.bins, r.loads):
        assert sum(sizes[i] for i in b) == int(load) <= cap
    for s in range(max(r.steps - 1, 0)):
        assert all(len(r.micro_batch(s, q)) for q in range(ranks))


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(st.integers(min_value=0, max_value=10**5), min_size=0, max_size=80),
    ranks=st.integers(min_value=1, max_value=6),
    m=st.integers(min_value=1, max_value=4),
    equal=st.booleans(),
)
def test_two_level_properties(values, ranks, m, equal):
    from test_balance_levels import check_two_level

    r = fulcrum.balance_two_level(values, ranks, m, equal_counts=equal)
    check_two_level(r, np.array(values, dtype=np.int64), ranks, m, equal_counts=equal)


@settings(max_examples=50, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.floats(min_value=0, max_value=1e4), st.integers(0, 7), st.integers(1, 10**6)), max_size=100
    ),
    per_node=st.integers(min_value=1, max_value=8),
    tolerance=st.sampled_from([0.0, 0.01, 0.25]),
)
def test_post_balance_properties(data, per_node, tolerance):
    from test_balance_levels import check_post_balance

    costs = np.array([c for c, _, _ in data], dtype=np.float64)
    current = np.array([r for _, r, _ in data], dtype=np.int64)
    nbytes = np.array([b for _, _, b in data], dtype=np.int64)
    r = fulcrum.post_balance(costs, current, 8, bytes=nbytes, ranks_per_node=per_node, tolerance=tolerance)
    check_post_balance(r, costs, current, nbytes, 8, per_node)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 900)), min_size=0, max_size=80),
    ranks=st.integers(min_value=1, max_value=5),
    epoch=st.integers(min_value=0, max_value=3),
)
def test_epoch_plan_properties(rows, ranks, epoch):
    from test_runtime import check_rank_packing

    sizes = np.array(rows, dtype=np.int64).reshape(-1, 2)
    r = fulcrum.EpochPlanner(sizes, (6, 1000), ranks, repack_rounds=5).plan(epoch)
    check_rank_packing(r, sizes, [6, 1000], ranks)
