# SPDX-License-Identifier: Apache-2.0
"""The Python package gives exactly what the C++ API gives for the same input (python/tests/driver.cpp)."""

import subprocess

import numpy as np
import pytest

import fulcrum


def run_driver(exe, args, values, *more):
    stdin = "".join(f"{len(v)} " + " ".join(str(x) for x in v) + "\n" for v in (values, *more))
    out = subprocess.run([str(exe), *map(str, args)], input=stdin, capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def groups_lines(groups):
    return ["".join(f" {int(i)}" for i in g) for g in groups]


def data(n, seed):
    rng = np.random.default_rng(seed)
    return (rng.integers(1, 4000, size=n) + (rng.random(n) < 0.1) * rng.integers(1000, 12000, size=n)).astype(np.uint64)


@pytest.mark.parametrize("algorithm", ["automatic", "first_fit", "best_fit_decreasing", "histogram", "next_fit"])
def test_pack_matches_cpp(cpp_driver, algorithm):
    sizes = data(2000, 1)
    lines = run_driver(cpp_driver, ["pack", algorithm, 16384], sizes.tolist())
    r = fulcrum.pack(sizes, 16384, algorithm=algorithm)
    assert lines[0] == f"bins {len(r.bins)}"
    assert lines[1:-1] == groups_lines(r.bins)
    assert lines[-1] == f"lower_bound {r.lower_bound}"


@pytest.mark.parametrize("algorithm", ["automatic", "greedy", "karmarkar_karp", "multifit", "local_search"])
@pytest.mark.parametrize("cost", ["identity", "attention"])
def test_balance_matches_cpp_bit_for_bit(cpp_driver, algorithm, cost):
    values = data(3000, 2)
    k = 32
    lines = run_driver(cpp_driver, ["balance", algorithm, k, cost], values.tolist())
    r = fulcrum.balance(values, k, algorithm=algorithm, cost=cost)
    assert lines[0] == f"parts {k}"
    assert lines[1 : 1 + k] == groups_lines(r.parts)
    assert [float.fromhex(x) for x in lines[1 + k : 1 + 2 * k]] == r.loads.tolist()
    assert float.fromhex(lines[-2].split()[1]) == r.makespan
    assert float.fromhex(lines[-1].split()[1]) == r.lower_bound


def test_pack_for_ranks_matches_cpp(cpp_driver):
    sizes = data(1500, 3)
    lines = run_driver(cpp_driver, ["ranks", 16384, 8, 77], sizes.tolist())
    r = fulcrum.pack_for_ranks(sizes, 16384, 8, seed=77)
    assert lines[0] == f"steps {r.steps}"
    assert lines[1:] == groups_lines(r.bins)


def test_partition_stages_matches_cpp(cpp_driver):
    costs = np.random.default_rng(4).random(97) * 100
    # repr() round-trips doubles exactly, and the driver reads them with operator>> (strtod)
    lines = run_driver(cpp_driver, ["stages", 8], [repr(float(c)) for c in costs])
    r = fulcrum.partition_stages(costs, 8)
    assert lines[0] == "".join(f" {int(b)}" for b in r.boundaries)
    assert float.fromhex(lines[1].split()[1]) == r.bottleneck


@pytest.mark.parametrize("algorithm", ["automatic", "greedy", "karmarkar_karp"])
def test_balance_two_level_matches_cpp_bit_for_bit(cpp_driver, algorithm):
    values = data(1200, 5)
    ranks, m = 8, 4
    lines = run_driver(cpp_driver, ["two_level", algorithm, ranks, m], values.tolist())
    r = fulcrum.balance_two_level(values, ranks, m, algorithm=algorithm)
    assert lines[0] == f"grid {r.steps} {r.ranks}" == f"grid {m} {ranks}"
    g = ranks * m
    assert lines[1 : 1 + g] == groups_lines(r.micro_batches)
    assert [float.fromhex(x) for x in lines[1 + g : 1 + 2 * g]] == r.micro_batch_loads.ravel().tolist()
    assert float.fromhex(lines[-1].split()[1]) == r.lockstep_time


@pytest.mark.parametrize("tolerance", [0.0, 0.01, 0.1])
def test_post_balance_matches_cpp_bit_for_bit(cpp_driver, tolerance):
    rng = np.random.default_rng(6)
    n, ranks = 900, 16
    costs = rng.random(n) * 100 + (rng.random(n) < 0.05) * 900
    current = rng.integers(0, ranks, size=n)
    current[: n // 3] = 0  # a hot rank
    nbytes = rng.integers(1, 1 << 20, size=n)
    lines = run_driver(
        cpp_driver,
        ["post_balance", ranks, 4, repr(tolerance)],
        [repr(float(c)) for c in costs],
        current.tolist(),
        nbytes.tolist(),
    )
    r = fulcrum.post_balance(costs, current, ranks, bytes=nbytes, ranks_per_node=4, tolerance=tolerance)
    assert lines[:ranks] == groups_lines(r.plan.parts)
    assert [float.fromhex(x) for x in lines[ranks : 2 * ranks]] == r.plan.loads.tolist()
    assert lines[-2] == f"moved {r.bytes_moved_inter_node} {r.bytes_moved_intra_node} {r.samples_moved}"
    assert float.fromhex(lines[-1].split()[1]) == r.target_makespan


@pytest.mark.parametrize("epoch", [0, 7])
def test_epoch_plan_matches_cpp(cpp_driver, epoch):
    sizes = data(1500, 8)
    lines = run_driver(cpp_driver, ["epoch", 16384, 8, 99, epoch], sizes.tolist())
    r = fulcrum.EpochPlanner(sizes, 16384, 8, seed=99).plan(epoch)
    assert lines[0] == f"steps {r.steps}"
    assert lines[1:] == groups_lines(r.bins)
