# SPDX-License-Identifier: Apache-2.0
"""select_recompute, the pipeline searches and the schedule simulator, checked independently:
brute force on small instances, plans recomputed (memory, times), the simulator's timeline checked
against the schedule's dependencies and against the closed forms."""

import itertools

import numpy as np
import pytest

import fulcrum


def random_options(rng, n, k=3):
    out = []
    for _ in range(n):
        full = int(rng.integers(10, 100))
        opts = [(full, 0.0)]
        for _ in range(k - 1):
            opts.append((int(rng.integers(0, full)), float(rng.random() * 5)))
        out.append(opts)
    return out


# ---- select_recompute ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_select_recompute_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    layers = random_options(rng, n)
    least = sum(min(m for m, _ in layer) for layer in layers)
    most = sum(max(m for m, _ in layer) for layer in layers)
    budget = int(rng.integers(least, most + 1))
    best = min(
        sum(layers[l][c][1] for l, c in enumerate(choice))
        for choice in itertools.product(*[range(len(x)) for x in layers])
        if sum(layers[l][c][0] for l, c in enumerate(choice)) <= budget
    )
    for algorithm in fulcrum.RECOMPUTE_ALGORITHMS:
        r = fulcrum.select_recompute(layers, budget, algorithm=algorithm)
        assert len(r.choice) == n
        mem = sum(layers[l][int(c)][0] for l, c in enumerate(r.choice))
        tim = 0.0
        for l, c in enumerate(r.choice):
            tim += layers[l][int(c)][1]
        assert mem == r.memory <= budget  # the budget holds; memory recomputed
        assert r.time == pytest.approx(tim)
        assert r.lower_bound <= best + 1e-9
        if algorithm != "greedy":
            assert r.time == pytest.approx(best) and r.proven_optimal
        else:
            assert r.time >= best - 1e-9


def test_select_recompute_errors():
    with pytest.raises(fulcrum.Infeasible, match="budget"):
        fulcrum.select_recompute([[(10, 0.0), (5, 1.0)]], 4)
    with pytest.raises(fulcrum.InvalidInput, match="time"):
        fulcrum.select_recompute([[(10, 0.0), (5, -1.0)]], 40)
    with pytest.raises(fulcrum.InvalidInput):
        fulcrum.select_recompute([[(10, 0.0)], []], 40)
    with pytest.raises(fulcrum.InvalidInput, match=r"recompute_options\[0\]\[1\]"):
        fulcrum.select_recompute([[(10, 0.0), (5,)]], 40)
    with pytest.raises(fulcrum.InvalidInput, match="memory"):
        fulcrum.select_recompute([[(-10, 0.0)]], 40)
    with pytest.raises(fulcrum.InvalidInput, match="algorithm"):
        fulcrum.select_recompute([[(10, 0.0)]], 40, algorithm="magic")


# ---- simulate_schedule ---------------------------------------------------------------------------


def check_timeline(s, forward, backward, m, v, p2p):
    q_count = len(forward)
    devices = q_count // v
    t = s.timeline
    ops = {}
    for d, fw, mb, q, a, b in zip(t["device"], t["forward"], t["micro_batch"], t["virtual_stage"], t["start"], t["end"]):
        key = (bool(fw), int(mb), int(q))
        assert key not in ops  # every operation exactly once
        ops[key] = (int(d), float(a), float(b))
        assert int(q) % devices == int(d)  # virtual stage q runs on device q mod devices
        dur = forward[q] if fw else backward[q]
        assert b - a == pytest.approx(dur)
    assert len(ops) == 2 * m * q_count
    for (fw, mb, q), (d, a, b) in ops.items():
        if fw and q > 0:
            assert a >= ops[(True, mb, q - 1)][2] + p2p - 1e-9
        if not fw:
            assert a >= ops[(True, mb, q)][2] - 1e-9
            if q + 1 < q_count:
                assert a >= ops[(False, mb, q + 1)][2] + p2p - 1e-9
    busy = np.zeros(devices)
    for d in range(devices):
        mine = sorted((a, b) for (_, _, _), (dd, a, b) in ops.items() if dd == d)
        for (a0, b0), (a1, b1) in zip(mine, mine[1:]):
            assert a1 >= b0 - 1e-9  # a device runs one operation at a time
        busy[d] = sum(b - a for a, b in mine)
    end = max(b for _, _, b in ops.values())
    assert s.iteration_time == pytest.approx(end)
    assert np.allclose(s.busy_time, busy)
    assert s.bubble_fraction == pytest.approx(1 - busy.sum() / (devices * end))
    # peak in flight recomputed: activations held = forwards done minus backwards done, per device
    for d in range(devices):
        events = []
        for (fw, mb, q), (dd, a, b) in ops.items():
            if dd == d:
                events.append((b, 0, 1) if fw else (b, 1, -1))  # a backward frees at its end
        held, peak = 0, 0
        for _, _, delta in sorted(events):
            held += delta
            peak = max(peak, held)
        assert s.peak_in_flight[d] == peak


@pytest.mark.parametrize("schedule", ["gpipe", "one_f_one_b"])
@pytest.mark.parametrize("p,m", [(1, 1), (4, 8), (4, 3), (6, 12)])
def test_schedule_closed_forms_and_timeline(schedule, p, m):
    f, b = 1.5, 3.0
    s = fulcrum.simulate_schedule([f] * p, [b] * p, m, schedule=schedule, timeline=True)
    assert s.iteration_time == pytest.approx((m + p - 1) * (f + b))
    check_timeline(s, [f] * p, [b] * p, m, 1, 0.0)
    if schedule == "gpipe":
        assert s.peak_in_flight.tolist() == [m] * p
    else:
        assert s.peak_in_flight.tolist() == [min(m, p - d) for d in range(p)]


def test_schedule_interleaved_closed_form():
    p, v, m = 4, 2, 8
    f, b = 2.0, 4.0  # per device; each chunk f / v, b / v
    s = fulcrum.simulate_schedule([f / v] * (p * v), [b / v] * (p * v), m, schedule="interleaved_1f1b",
                                  virtual_stages=v, timeline=True)
    assert s.iteration_time == pytest.approx((m + (p - 1) / v) * (f + b))
    check_timeline(s, [f / v] * (p * v), [b / v] * (p * v), m, v, 0.0)


def test_schedule_heterogeneous_with_transfers_and_memory():
    rng = np.random.default_rng(3)
    fw = rng.random(5) + 0.5
    bw = 2 * rng.random(5) + 1
    s = fulcrum.simulate_schedule(fw, bw, 7, p2p_time=0.25, activation_memory=[10.0] * 5, timeline=True)
    check_timeline(s, fw, bw, 7, 1, 0.25)
    assert np.allclose(s.peak_activation_memory, 10.0 * s.peak_in_flight)
    assert s.iteration_time >= 7 * (fw + bw).max()


def test_schedule_errors():
    with pytest.raises(fulcrum.InvalidInput, match="backward"):
        fulcrum.simulate_schedule([1, 2], [1], 2)
    with pytest.raises(fulcrum.InvalidInput, match="micro_batches"):
        fulcrum.simulate_schedule([1, 2], [1, 2], 0)
    with pytest.raises(fulcrum.InvalidInput, match="virtual_stages"):
        fulcrum.simulate_schedule([1, 2], [1, 2], 2, virtual_stages=2)
    with pytest.raises(fulcrum.InvalidInput, match="schedule"):
        fulcrum.simulate_schedule([1, 2], [1, 2], 2, schedule="zb")


# ---- joint pipeline + recompute ------------------------------------------------------------------


def model(rng, n):
    fw = rng.random(n) + 0.5
    bw = 2 * fw
    params = rng.integers(5, 20, size=n)
    act = rng.integers(10, 100, size=n)
    opts = [[(int(a), 0.0), (int(a) // 3, float(f) * 0.3), (0, float(f))] for a, f in zip(act, fw)]
    return fw, bw, params, act, opts


def check_pipeline_plan(plan, fw, bw, params, opts, p, m, device_memory):
    n = len(fw)
    bnd = plan.boundaries.tolist()
    assert bnd[0] == 0 and bnd[-1] == n and all(x < y for x, y in zip(bnd, bnd[1:])) and len(bnd) == p + 1
    for s in range(p):
        i, j = bnd[s], bnd[s + 1]
        chosen = [opts[l][int(plan.recompute_choice[l])] for l in range(i, j)]
        rec = sum(t for _, t in chosen)
        k = min(m, p - s)
        mem = int(params[i:j].sum()) + k * sum(mm for mm, _ in chosen)
        assert plan.stage_memory[s] == mem <= device_memory  # memory recomputed, cap held
        assert plan.stage_forward[s] == pytest.approx(fw[i:j].sum())
        assert plan.stage_recompute[s] == pytest.approx(rec)
        assert plan.stage_backward[s] == pytest.approx(bw[i:j].sum() + rec)
    ref = fulcrum.simulate_schedule(plan.stage_forward, plan.stage_backward, m)
    assert plan.iteration_time == pytest.approx(ref.iteration_time)
    assert plan.lower_bound <= plan.iteration_time * (1 + 1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_joint_partition_recompute_beats_every_split(seed):
    rng = np.random.default_rng(seed)
    n, p, m = 7, 3, 6
    fw, bw, params, act, opts = model(rng, n)
    device_memory = int(params.sum() // p + 2.0 * act.mean() * n / p)
    plan = fulcrum.joint_partition_recompute(fw, bw, params, act, opts, p, m, device_memory=device_memory)
    check_pipeline_plan(plan, fw, bw, params, opts, p, m, device_memory)
    assert plan.proven_optimal
    # no split with its least recompute is faster (every split priced by evaluate_pipeline)
    for cut in itertools.combinations(range(1, n), p - 1):
        bnd = [0, *cut, n]
        try:
            e = fulcrum.evaluate_pipeline(fw, bw, params, act, opts, bnd, m, device_memory=device_memory)
        except fulcrum.Infeasible:
            continue
        check_pipeline_plan(e, fw, bw, params, opts, p, m, device_memory)
        assert plan.iteration_time <= e.iteration_time * (1 + 1e-9)
    s = fulcrum.search_partition(fw, bw, params, act, opts, p, m, device_memory=device_memory,
                                 bottleneck_tolerance=1.0)
    check_pipeline_plan(s, fw, bw, params, opts, p, m, device_memory)
    assert plan.iteration_time <= s.iteration_time * (1 + 1e-9)


def test_joint_without_recompute_options():
    rng = np.random.default_rng(5)
    fw, bw, params, act, _ = model(rng, 10)
    plan = fulcrum.joint_partition_recompute(fw, bw, params, act, None, 4, 8)
    assert plan.recompute_choice.tolist() == [0] * 10 and np.all(plan.stage_recompute == 0)
    assert plan.stages == 4


def test_joint_errors():
    rng = np.random.default_rng(6)
    fw, bw, params, act, opts = model(rng, 5)
    with pytest.raises(fulcrum.Infeasible, match="device_memory"):
        fulcrum.joint_partition_recompute(fw, bw, params, act, opts, 2, 4, device_memory=1)
    with pytest.raises(fulcrum.InvalidInput, match="backward"):
        fulcrum.joint_partition_recompute(fw, bw[:3], params, act, opts, 2, 4)
    with pytest.raises(fulcrum.InvalidInput, match="stages"):
        fulcrum.joint_partition_recompute(fw, bw, params, act, opts, 9, 4)
    with pytest.raises(fulcrum.InvalidInput, match="recompute_options"):
        fulcrum.joint_partition_recompute(fw, bw, params, act, opts[:2], 2, 4)
    with pytest.raises(fulcrum.InvalidInput, match="parameter_memory"):
        fulcrum.joint_partition_recompute(fw, bw, -params, act, opts, 2, 4)


@pytest.mark.parametrize(
    "call,field",
    [
        (lambda: fulcrum.select_recompute([[(1, 0.0)]], 2**70), "memory_budget"),
        (lambda: fulcrum.select_recompute([[(1, "slow")]], 5), r"recompute_options\[0\]\[0\].time"),
        (lambda: fulcrum.simulate_schedule([1, 2], [1, 2], 2, p2p_time="x"), "p2p_time"),
        (lambda: fulcrum.simulate_schedule([1, 2], [1, 2], 2, p2p_time=-1), "p2p_time"),
        (lambda: fulcrum.joint_partition_recompute([1.0], [1.0], [1], [1], None, 1, 1, device_memory=2**65), "device_memory"),
        (lambda: fulcrum.search_partition([1.0], [1.0], [1], [1], None, 1, 1, bottleneck_tolerance="x"), "bottleneck_tolerance"),
        (lambda: fulcrum.post_balance([1.0], [0], 1, tolerance="x"), "tolerance"),
        (lambda: fulcrum.balance_two_level([1, 2], 1, 1, part_capacity="x"), "part_capacity"),
        (lambda: fulcrum.EpochPlanner([1, 2], 5, 1, full_slack="x"), "full_slack"),
    ],
)
def test_scalar_options_bad_input_names_field(call, field):
    with pytest.raises(fulcrum.InvalidInput, match=field):
        call()
