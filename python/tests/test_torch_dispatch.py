# SPDX-License-Identifier: Apache-2.0
"""fulcrum.torch.dispatch in a real 4-process gloo group (subprocesses, a free port, timeouts)."""

import itertools
import json
import multiprocessing
import socket
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.distributed as dist  # noqa: E402

import fulcrum  # noqa: E402
import fulcrum.torch as ft  # noqa: E402

import _torch_dispatch_worker as worker  # noqa: E402  (python/tests is on sys.path under pytest)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gloo_run(tmp_path_factory):
    if not dist.is_available() or not dist.is_gloo_available():
        pytest.skip("torch.distributed with gloo is not available")
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs the fork start method")
    world, tmp, port = 4, tmp_path_factory.mktemp("gloo"), free_port()
    # fork: the children start with torch and fulcrum already imported (no CUDA is initialised here);
    # every child has a 60 s collective timeout and the parent kills what is left after 120 s.
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=worker.run, args=(r, world, port, str(tmp / f"{r}.json"))) for r in range(world)]
    for p in procs:
        p.start()
    deadline = time.monotonic() + 120
    try:
        for p in procs:
            p.join(max(1.0, deadline - time.monotonic()))
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()
    for r, p in enumerate(procs):
        assert p.exitcode == 0, f"rank {r} exited with {p.exitcode}"
    return [json.loads((tmp / f"{r}.json").read_text()) for r in range(world)]


def test_every_sample_exactly_once_with_its_content(gloo_run):
    world = len(gloo_run)
    lengths = [L for rep in gloo_run for L in rep["local_lengths"]]
    offsets = np.concatenate([[0], np.cumsum([len(rep["local_lengths"]) for rep in gloo_run])])
    seen = []
    for rep in gloo_run:
        assert rep["ids"] == sorted(rep["ids"])
        for g, (src, i), (value, n, uniform) in zip(rep["ids"], rep["sources"], rep["received"]):
            assert offsets[src] + i == g
            assert value == 1000 * src + i and uniform  # the owner's sample, whole
            assert n == lengths[g]
            assert rep["assignment"][g] == rep["rank"]
        seen += rep["ids"]
    assert sorted(seen) == list(range(len(lengths)))
    # every rank computed the same plan, and the same again on a second call
    assert all(rep["assignment"] == gloo_run[0]["assignment"] for rep in gloo_run)
    assert all(rep["same_again"] for rep in gloo_run)
    # the loads are the attention costs of what each rank received, and balanced like fulcrum.balance
    cost = lambda L: L + L * L / 4096.0  # noqa: E731
    got = [sum(cost(lengths[g]) for g in rep["ids"]) for rep in gloo_run]
    assert np.allclose(got, gloo_run[0]["loads"])
    plan = fulcrum.balance(lengths, world, cost="attention")
    assert max(got) == pytest.approx(plan.makespan)
    before = [sum(cost(L) for L in rep["local_lengths"]) for rep in gloo_run]
    assert max(got) < max(before)


def test_sampler_defaults_from_the_group(gloo_run):
    world = len(gloo_run)
    assert [rep["sampler"]["rank"] for rep in gloo_run] == list(range(world))
    assert all(rep["sampler"]["num_replicas"] == world for rep in gloo_run)
    batches = [rep["sampler"]["batches"] for rep in gloo_run]
    assert len({len(b) for b in batches}) == 1
    seen = [i for b in batches for mb in b for i in mb]
    assert sorted(set(seen)) == list(range(200))
    assert len(seen) - 200 <= world - 1  # DistributedSampler-style repeats fill empty last micro-batches


def test_plain_dispatch_and_kept_tokens(gloo_run):
    lengths = np.array([L for rep in gloo_run for L in rep["local_lengths"]])
    owner = np.repeat(np.arange(len(gloo_run)), [len(rep["local_lengths"]) for rep in gloo_run])
    assert sorted(g for rep in gloo_run for g in rep["plain_ids"]) == list(range(len(lengths)))
    assert all(rep["plain_ok"] for rep in gloo_run)
    assert all(rep["plain_assignment"] == gloo_run[0]["plain_assignment"] for rep in gloo_run)
    # keep_local moves no more tokens than part p -> rank p (for the same plan)
    kept = int(lengths[np.array(gloo_run[0]["assignment"]) == owner].sum())
    plan = fulcrum.balance(lengths, len(gloo_run), cost="attention")
    identity = int(lengths[plan.parts.assignment(len(lengths)) == owner].sum())
    assert kept >= identity


def test_bad_input_raises_on_every_rank(gloo_run):
    for rep in gloo_run:
        assert len(rep["errors"]) == 2, rep["errors"]
        assert "rank 2: samples[" in rep["errors"][0] and "at least one dimension" in rep["errors"][0]
        assert "rank 0:" in rep["errors"][1] and "results for" in rep["errors"][1]


def test_owner_matching_against_identity_and_brute_force():
    rng = np.random.default_rng(4)
    for world in (1, 2, 3, 4, 5, 6, 16):
        for _ in range(5):
            n = 6 * world
            lengths = rng.integers(1, 100, size=n)
            owner = rng.integers(0, world, size=n)
            assign = rng.integers(0, world, size=n)
            parts = [np.flatnonzero(assign == p) for p in range(world)]
            w = np.zeros((world, world), dtype=np.int64)  # tokens + 1 per sample of part p on rank r
            for i in range(n):
                w[assign[i], owner[i]] += lengths[i] + 1
            to_rank = ft._owner_matching(parts, owner, lengths, world)
            assert sorted(to_rank) == list(range(world))
            kept = sum(int(w[p, to_rank[p]]) for p in range(world))
            assert kept >= int(np.trace(w))
            if world <= 6:
                best = max(sum(int(w[p, q[p]]) for p in range(world)) for q in itertools.permutations(range(world)))
                assert 2 * kept >= best  # at least half the optimum (greedy's guarantee), usually equal


def test_return_to_owner(gloo_run):
    assert all(rep["back_ok"] for rep in gloo_run)


def test_gloo_list_all_to_all_support_is_recorded(gloo_run):
    # informational: the module relies on all_to_all_single only; print what gloo said about the list form
    print("gloo list all_to_all:", gloo_run[0]["list_all_to_all"])


def test_owner_matching_keeps_tokens_in_place():
    lengths = np.array([10, 10, 5, 5, 1, 1])
    owner = np.array([0, 0, 1, 1, 2, 2])
    parts = [np.array([4, 5]), np.array([0, 1]), np.array([2, 3])]  # part p's items live on rank p+1 mod 3
    assert ft._owner_matching(parts, owner, lengths, 3) == [2, 0, 1]


def test_dispatch_needs_an_initialised_group():
    if dist.is_initialized():
        pytest.skip("a process group is initialised in this process")
    with pytest.raises(fulcrum.InvalidInput, match="not initialised"):
        ft.dispatch([torch.zeros(3)])
