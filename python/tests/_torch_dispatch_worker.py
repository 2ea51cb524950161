# SPDX-License-Identifier: Apache-2.0
"""One rank of test_torch_dispatch.py's gloo run: run(rank, world, port, out_json) in a forked child
(or ``python _torch_dispatch_worker.py RANK WORLD PORT OUT.json``).

Rank r holds samples whose values encode (owner, local index), dispatches them, checks nothing in
place (the parent checks), sends back a per-sample result and writes what it saw as JSON.
"""

import datetime
import json
import os
import sys

import numpy as np
import torch
import torch.distributed as dist

import fulcrum.torch as ft


def local_samples(rank, world, seed=7):
    rng = np.random.default_rng(seed + rank)
    n = [5, 0, 9, 3][rank % 4] if world == 4 else 4
    lengths = rng.integers(1, 60, size=n) * (1 + 3 * (rank == 0))  # rank 0 holds the long ones
    return [torch.full((int(L), 2), 1000 * rank + i, dtype=torch.int64) for i, L in enumerate(lengths)]


def run(rank, world, port, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world, timeout=datetime.timedelta(seconds=60))
    mine = local_samples(rank, world)
    # gloo and the list all_to_all: record whether it is supported (the module uses all_to_all_single)
    try:
        o = [torch.zeros(1) for _ in range(world)]
        dist.all_to_all(o, [torch.ones(1) for _ in range(world)])
        list_a2a = "supported"
    except Exception as e:  # noqa: BLE001
        list_a2a = f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"
    d = ft.dispatch(mine, cost="attention")
    results = [t[:, 0].float() * 0.5 for t in d.samples]  # a result per sample, another dtype and shape
    back = d.return_to_owner(results)
    again = ft.dispatch(mine, cost="attention")  # deterministic: the same plan
    report = {
        "rank": rank,
        "local_lengths": [int(t.shape[0]) for t in mine],
        "ids": d.ids,
        "sources": [list(s) for s in d.sources],
        "received": [[int(t[0, 0]), int(t.shape[0]), bool((t == t[0, 0]).all())] for t in d.samples],
        "assignment": d.assignment.tolist(),
        "loads": d.loads.tolist(),
        "back_ok": len(back) == len(mine)
        and all(torch.equal(b, m[:, 0].float() * 0.5) for b, m in zip(back, mine)),
        "same_again": again.ids == d.ids and np.array_equal(again.assignment, d.assignment),
        "list_all_to_all": list_a2a,
    }
    # no part-to-rank matching, and a callable cost: the same exactly-once contract
    plain = ft.dispatch(mine, keep_local=False, cost=lambda L: L.astype(float) ** 1.5)
    report["plain_ids"] = plain.ids
    report["plain_assignment"] = plain.assignment.tolist()
    report["plain_ok"] = all(
        int(t[0, 0]) == 1000 * src + i and t.shape[0] == plain.lengths[g]
        for t, (src, i), g in zip(plain.samples, plain.sources, plain.ids)
    )
    # bad input on one rank is raised on every rank (nobody is left waiting in a collective)
    errors = []
    try:
        ft.dispatch(mine + ([torch.tensor(1.0)] if rank == 2 else []))
    except ft.InvalidInput as e:
        errors.append(str(e))
    try:
        d.return_to_owner(results[:-1] if rank == 0 and results else results)
    except ft.InvalidInput as e:
        errors.append(str(e))
    report["errors"] = errors
    # the sampler takes num_replicas and rank from the initialised group
    sampler = ft.BalancedBatchSampler(np.random.default_rng(0).integers(1, 300, size=200), max_tokens=500, seed=3)
    report["sampler"] = {"num_replicas": sampler.num_replicas, "rank": sampler.rank, "batches": list(sampler)}
    with open(out, "w") as f:
        json.dump(report, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    run(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
