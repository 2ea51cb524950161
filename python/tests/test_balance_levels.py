# SPDX-License-Identifier: Apache-2.0
"""balance_two_level and post_balance, checked by independent checkers written here in Python:
every item exactly once, caps held, loads / lockstep time / bytes moved recomputed from the plan,
bounds below brute-force optima on small cases."""

import itertools

import numpy as np
import pytest

import fulcrum


def costs_of(values, cost="identity"):
    v = np.asarray(values, dtype=np.float64)
    if cost == "attention":
        return v + v * v / 4096.0
    return v


def check_two_level(r, values, ranks, m, cost="identity", part_capacity=None, equal_counts=False):
    c = costs_of(values, cost)
    n = len(c)
    assert (r.steps, r.ranks) == (m, ranks)
    assert len(r.micro_batches) == m * ranks
    assert r.micro_batch_loads.shape == (m, ranks)
    # every item exactly once over the grid
    flat = np.concatenate([np.asarray(g, dtype=np.int64) for g in r.micro_batches] + [np.zeros(0, np.int64)])
    assert sorted(flat.tolist()) == list(range(n))
    # the grid refines the rank partition: rank r's micro-batches hold exactly its items
    assert len(r.rank_partition.parts) == ranks
    for rank in range(ranks):
        mine = sorted(int(i) for j in range(m) for i in r.at(j, rank))
        assert mine == sorted(r.rank_partition.parts[rank].tolist())
        assert r.micro_batch(rank, 0).tolist() == r.at(0, rank).tolist()
    # loads recomputed, in the group's item order
    for j in range(m):
        for rank in range(ranks):
            want = 0.0
            for i in r.at(j, rank):
                want += c[int(i)]
            assert r.micro_batch_loads[j, rank] == pytest.approx(want, rel=1e-12, abs=1e-9)
    # heaviest first within a rank
    for rank in range(ranks):
        col = r.micro_batch_loads[:, rank]
        assert all(col[j] >= col[j + 1] for j in range(m - 1))
    assert r.micro_batch_makespan == pytest.approx(r.micro_batch_loads.max(initial=0.0))
    assert r.lockstep_time == pytest.approx(r.micro_batch_loads.max(axis=1).sum() if m and ranks else 0.0)
    rank_loads = r.micro_batch_loads.sum(axis=0)
    assert np.allclose(np.sort(rank_loads), np.sort(r.rank_partition.loads))
    assert r.lower_bound <= r.rank_partition.makespan * (1 + 1e-12)
    assert r.micro_batch_lower_bound <= r.micro_batch_makespan * (1 + 1e-12)
    assert r.lockstep_time >= r.rank_partition.makespan * (1 - 1e-12)
    if part_capacity is not None:
        assert r.micro_batch_loads.max(initial=0.0) <= part_capacity * (1 + 1e-12)
    if equal_counts:
        rank_counts = [sum(len(r.at(j, rank)) for j in range(m)) for rank in range(ranks)]
        assert max(rank_counts) - min(rank_counts) <= 1
        mb_counts = [len(g) for g in r.micro_batches]
        assert max(mb_counts) - min(mb_counts) <= 1


@pytest.mark.parametrize("algorithm", fulcrum.BALANCE_ALGORITHMS)
def test_two_level_every_algorithm(algorithm):
    rng = np.random.default_rng(11)
    values = rng.integers(1, 5000, size=300)
    r = fulcrum.balance_two_level(values, 6, 4, algorithm=algorithm, max_nodes=20000)
    check_two_level(r, values, 6, 4)


@pytest.mark.parametrize("seed", range(4))
def test_two_level_costs_caps_and_counts(seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(1, 8000, size=int(rng.integers(20, 400)))
    r = fulcrum.balance_two_level(values, 4, 3, cost="attention", equal_counts=True)
    check_two_level(r, values, 4, 3, cost="attention", equal_counts=True)
    c = costs_of(values)
    cap = max(float(c.max()) * 1.5, float(c.sum()) / 32 * 1.3)
    r = fulcrum.balance_two_level(values, 4, 8, part_capacity=cap)
    check_two_level(r, values, 4, 8, part_capacity=cap)


def test_two_level_bottom_up_under_a_tight_capacity():
    # 8 items of 5 and 8 of 3 onto 2 ranks x 4 micro-batches under capacity 8: only 5+3 pairs fit
    values = [5] * 8 + [3] * 8
    r = fulcrum.balance_two_level(values, 2, 4, part_capacity=8)
    check_two_level(r, values, 2, 4, part_capacity=8)
    assert r.micro_batch_makespan == 8


def test_two_level_rank_level_against_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(15):
        n, ranks, m = int(rng.integers(1, 8)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
        values = rng.integers(1, 50, size=n)
        best = min(
            max(sum(int(values[i]) for i in range(n) if a[i] == rk) for rk in range(ranks))
            for a in itertools.product(range(ranks), repeat=n)
        )
        r = fulcrum.balance_two_level(values, ranks, m, algorithm="complete")
        check_two_level(r, values, ranks, m)
        assert r.rank_partition.makespan == best
        assert r.lower_bound <= best


def test_two_level_cost_callable_equals_cost_array():
    values = np.random.default_rng(9).integers(1, 9000, size=500)
    f = lambda L: 3.0 * L + 17.0  # noqa: E731
    r = fulcrum.balance_two_level(values, 4, 2, cost=f)
    r2 = fulcrum.balance_two_level(3.0 * values.astype(np.float64) + 17.0, 4, 2)
    assert r.micro_batches == r2.micro_batches
    assert np.array_equal(r.micro_batch_loads, r2.micro_batch_loads)


@pytest.mark.parametrize(
    "kwargs,field",
    [
        (dict(values=[1, 2], ranks=0, micro_batches=2), "ranks"),
        (dict(values=[1, 2], ranks=2, micro_batches=0), "micro_batches"),
        (dict(values=[1, -2], ranks=2, micro_batches=1), r"cost\[1\] = -2"),
        (dict(values=[1, 2], ranks=-1, micro_batches=1), "ranks"),
        (dict(values=[1, 2], ranks=2, micro_batches=1, algorithm="nope"), "algorithm"),
    ],
)
def test_two_level_bad_input_names_field(kwargs, field):
    with pytest.raises(fulcrum.InvalidInput, match=field):
        fulcrum.balance_two_level(**kwargs)


def test_two_level_infeasible_capacity():
    with pytest.raises(fulcrum.Infeasible):
        fulcrum.balance_two_level([10, 10, 10], 1, 2, part_capacity=15)


# ---- post_balance ----------------------------------------------------------------------------


def check_post_balance(r, costs, current, nbytes, ranks, per_node):
    n = len(costs)
    assert len(r.plan.parts) == ranks
    flat = sorted(int(i) for g in r.plan.parts for i in g)
    assert flat == list(range(n))  # every sample exactly once
    new = r.new_rank(n)
    loads = np.zeros(ranks)
    for i in range(n):
        loads[new[i]] += costs[i]
    assert np.allclose(loads, r.plan.loads, rtol=1e-12, atol=1e-9)
    assert r.plan.makespan == pytest.approx(loads.max(initial=0.0))
    assert r.plan.makespan <= r.target_makespan * (1 + 1e-12)  # the cap holds
    inter = sum(int(nbytes[i]) for i in range(n) if new[i] // per_node != current[i] // per_node)
    intra = sum(int(nbytes[i]) for i in range(n) if new[i] != current[i] and new[i] // per_node == current[i] // per_node)
    assert (r.bytes_moved_inter_node, r.bytes_moved_intra_node) == (inter, intra)
    assert r.samples_moved == int(np.sum(new != np.asarray(current)))
    assert r.bytes_moved == inter + intra
    # the cap is the reference re-dispatch (never below the balancing lower bound)
    assert r.target_makespan >= max(costs.sum() / ranks, costs.max(initial=0.0)) * (1 - 1e-12)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("tolerance", [0.0, 0.02])
def test_post_balance_exactly_once_cap_and_bytes(seed, tolerance):
    rng = np.random.default_rng(seed)
    n, ranks, per_node = int(rng.integers(30, 600)), int(rng.integers(2, 24)), int(rng.integers(1, 9))
    costs = rng.random(n) * 100
    current = rng.integers(0, ranks, size=n)
    current[: n // 4] = int(rng.integers(0, ranks))  # a hot rank
    nbytes = rng.integers(1, 10**6, size=n)
    r = fulcrum.post_balance(costs, current, ranks, bytes=nbytes, ranks_per_node=per_node, tolerance=tolerance)
    check_post_balance(r, costs, current, nbytes, ranks, per_node)


def test_post_balance_moves_less_than_a_redispatch():
    rng = np.random.default_rng(1)
    n, ranks = 2000, 32
    costs = rng.random(n) * 10 + 1
    current = rng.integers(0, ranks, size=n)
    r = fulcrum.post_balance(costs, current, ranks)
    check_post_balance(r, costs, current, np.ones(n, dtype=np.int64), ranks, 8)
    fresh = fulcrum.balance(costs, ranks, algorithm="greedy").parts.assignment(n)
    assert r.samples_moved < int(np.sum(fresh != current))


def test_post_balance_balanced_input_stays_put():
    current = np.arange(64) % 8
    r = fulcrum.post_balance(np.ones(64), current, 8, ranks_per_node=4)
    check_post_balance(r, np.ones(64), current, np.ones(64, dtype=np.int64), 8, 4)
    assert r.samples_moved == 0 and r.bytes_moved == 0


@pytest.mark.parametrize(
    "kwargs,field",
    [
        (dict(costs=[1.0, 2.0], current_rank=[0, 1], ranks=0), "ranks"),
        (dict(costs=[1.0, 2.0], current_rank=[0, 2], ranks=2), "current_rank"),
        (dict(costs=[1.0, 2.0], current_rank=[0, -1], ranks=2), "current_rank"),
        (dict(costs=[1.0, 2.0], current_rank=[0], ranks=2), "current_rank"),
        (dict(costs=[1.0, -2.0], current_rank=[0, 1], ranks=2), "cost"),
        (dict(costs=[1.0, 2.0], current_rank=[0, 1], ranks=2, bytes=[1, -1]), "bytes"),
        (dict(costs=[1.0, 2.0], current_rank=[0, 1], ranks=2, bytes=[1]), "bytes"),
        (dict(costs=[1.0, 2.0], current_rank=[0, 1], ranks=2, ranks_per_node=0), "ranks_per_node"),
        (dict(costs=[1.0, 2.0], current_rank=[0, 1], ranks=2, tolerance=-1.0), "tolerance"),
        (dict(costs=[1.0, 2.0], current_rank=[0, 1], ranks=2, tolerance=float("nan")), "tolerance"),
    ],
)
def test_post_balance_bad_input_names_field(kwargs, field):
    with pytest.raises(fulcrum.InvalidInput, match=field):
        fulcrum.post_balance(**kwargs)
