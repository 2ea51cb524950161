# SPDX-License-Identifier: Apache-2.0
"""verl's own sequence-length balancing tests, adapted to call fulcrum (issue 18).

Upstream (Apache License 2.0, Copyright 2024-2025 Bytedance Ltd. and/or its affiliates):
- https://github.com/volcengine/verl/blob/b178a3cd56f58b2d502255daba591e92833930a7/tests/utils/test_seqlen_balancing.py
  (main, last changed in d6bc62964d06588b0728122a1d2414b098165295): test_seqlen_balancing,
  test_dynamic_batch, test_seqlen_balancing_distributed_params (its micro-batch count rules, without
  NCCL: the ranks are simulated in this process), test_group_balanced_partitions,
  test_group_balanced_partitions_single_sample_groups, test_group_balanced_partitions_equal_size.
  Not adapted: test_dataproto_split_uneven (DataProto.split, no balancing in it).
- https://github.com/volcengine/verl/blob/368b1151e51e189463cbceebffbe8f95baae6e8e/tests/verl/utils/test_seqlen_balancing.py
  (a pull-request commit, 2025-05-04): test_get_seqlen_balanced_partitions_equal_size / _unequal_size
  / _assertions.
- The code under test there, verl/utils/seqlen_balancing.py at b178a3cd: rearrange_micro_batches,
  get_reverse_idx, get_group_balanced_partitions, calculate_workload and karmarkar_karp.
  `verl_karmarkar_karp` below is a compact port of that karmarkar_karp (same set order, same merge,
  same tie-breaks), used only to measure verl's balance on the same cases: fulcrum must be at least as
  balanced. verl itself is never imported (CI has numpy, pytest, hypothesis and torch only).

Where fulcrum differs by contract the test says so: verl asserts n >= k and, with equal_size, that k
divides n; fulcrum.balance returns k parts (empty ones when n < k) and equal_counts gives every part
floor(n/k) or ceil(n/k) items.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest

import fulcrum


# ---- verl's helpers, as small pure functions -------------------------------------------------------
def calculate_workload(seqlens):
    """verl's calculate_workload: 24576 * L + L^2 (a 7B model's dense FLOPs, relative)."""
    s = np.asarray(seqlens, dtype=np.int64)
    return 24576 * s + s * s


def ceildiv(a: int, b: int) -> int:
    return -(a // -b)


def roundup_divisible(a: int, b: int) -> int:
    return ((a + b - 1) // b) * b


def get_reverse_idx(idx_map):
    reverse = list(idx_map)
    for i, idx in enumerate(idx_map):
        reverse[idx] = i
    return reverse


def verl_karmarkar_karp(seqlen_list, k, equal_size):
    """verl's karmarkar_karp (largest differencing method), ported: partitions of indices."""

    class Set:
        __slots__ = ("sum", "items")

        def __init__(self):
            self.sum, self.items = 0, []

        def __lt__(self, other):
            if self.sum != other.sum:
                return self.sum < other.sum
            if len(self.items) != len(other.items):
                return len(self.items) < len(other.items)
            return self.items < other.items

    class State:
        def __init__(self, items):
            self.sets = [Set() for _ in range(k)]
            for i, (idx, v) in enumerate(items):
                self.sets[i].items.append((idx, v))
                self.sets[i].sum += v
            self.sets.sort(reverse=True)

        def merge(self, other):
            for i in range(k):
                self.sets[i].items.extend(other.sets[k - 1 - i].items)
                self.sets[i].sum += other.sets[k - 1 - i].sum
            self.sets.sort(reverse=True)

        @property
        def spread(self):
            return self.sets[0].sum - self.sets[-1].sum

        def __lt__(self, other):
            if self.spread != other.spread:
                return self.spread > other.spread
            return self.sets[0] > other.sets[0]

    ordered = sorted((v, i) for i, v in enumerate(seqlen_list))
    heap = []
    if equal_size:
        assert len(seqlen_list) % k == 0
        for off in range(0, len(ordered), k):
            heapq.heappush(heap, State([(i, v) for v, i in ordered[off : off + k]]))
    else:
        for v, i in ordered:
            heapq.heappush(heap, State([(i, v)]))
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        a.merge(b)
        heapq.heappush(heap, a)
    return [sorted(idx for idx, _ in s.items) for s in heap[0].sets]


def makespan(parts, weights):
    w = np.asarray(weights, dtype=np.int64)
    return max(int(w[np.asarray(p, dtype=np.int64)].sum()) if len(p) else 0 for p in parts)


def fulcrum_partitions(seqlen_list, k, equal_size):
    """fulcrum's answer to get_seqlen_balanced_partitions: k lists of sorted indices."""
    plan = fulcrum.balance(np.asarray(seqlen_list, dtype=np.int64), k, equal_counts=equal_size)
    return [sorted(p.tolist()) for p in plan.parts]


def check_partitions(parts, n, k, equal_size):
    """verl's _check_and_sort_partitions plus the equal-size check, done independently."""
    assert len(parts) == k
    seen = [i for p in parts for i in p]
    assert sorted(seen) == list(range(n)), "every index exactly once"
    for p in parts:
        assert len(p) > 0, "no empty partition"
        if equal_size:
            assert len(p) * k == n


# ---- from tests/verl/utils/test_seqlen_balancing.py @ 368b1151 ----------------------------------------
def test_get_seqlen_balanced_partitions_equal_size():
    seqlen_list = [10, 20, 70, 80, 100, 120]
    k_partitions = 3
    partitions = fulcrum_partitions(seqlen_list, k_partitions, equal_size=True)

    assert len(partitions) == k_partitions
    all_indices = set()
    partition_sums = []
    for p in partitions:
        assert len(p) == len(seqlen_list) // k_partitions  # equal size
        all_indices.update(p)
        partition_sums.append(sum(seqlen_list[i] for i in p))
    assert all_indices == set(range(len(seqlen_list)))
    assert max(partition_sums) - min(partition_sums) <= max(seqlen_list)
    assert max(partition_sums) <= makespan(verl_karmarkar_karp(seqlen_list, k_partitions, True), seqlen_list)
    assert max(partition_sums) == 150  # the optimum: 80 and 70 cannot both pair below it


def test_get_seqlen_balanced_partitions_unequal_size():
    seqlen_list = [5, 10, 15, 20, 25, 100]
    k_partitions = 2
    partitions = fulcrum_partitions(seqlen_list, k_partitions, equal_size=False)

    assert len(partitions) == k_partitions
    all_indices = set()
    partition_sums = []
    for p in partitions:
        assert len(p) > 0
        all_indices.update(p)
        partition_sums.append(sum(seqlen_list[i] for i in p))
    assert all_indices == set(range(len(seqlen_list)))
    assert max(partition_sums) - min(partition_sums) <= max(seqlen_list)
    assert max(partition_sums) <= makespan(verl_karmarkar_karp(seqlen_list, k_partitions, False), seqlen_list)
    assert max(partition_sums) == 100  # the largest item alone


def test_get_seqlen_balanced_partitions_assertions():
    # verl raises AssertionError for n < k; fulcrum gives k parts, n of them with one item.
    plan = fulcrum.balance([1, 2], 3)
    assert len(plan.parts) == 3
    assert sorted(len(p) for p in plan.parts) == [0, 1, 1]
    assert plan.makespan == 2
    # verl raises for equal_size with k not dividing n; fulcrum's equal_counts gives floor/ceil counts.
    plan = fulcrum.balance([1, 2, 3], 2, equal_counts=True)
    assert sorted(len(p) for p in plan.parts) == [1, 2]
    assert plan.makespan == 3
    # what both refuse: no parts
    with pytest.raises(fulcrum.InvalidInput, match="k"):
        fulcrum.balance([1, 2], 0)


# ---- from tests/utils/test_seqlen_balancing.py @ b178a3cd ---------------------------------------------
try:
    import torch
except ImportError:  # the tensor round trips need torch; the rest does not
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def create_random_mask(input_ids, max_ratio_of_valid_token, max_ratio_of_left_padding, min_ratio_of_valid_token=0, rng=None):
    """verl.utils.model.create_random_mask (left padding, valid tokens, right padding), seeded."""
    rng = rng or np.random.default_rng(0)
    batch_size, sequence_length = input_ids.shape
    max_valid = int(sequence_length * max_ratio_of_valid_token)
    min_valid = max(1, int(sequence_length * min_ratio_of_valid_token))
    max_left = int(sequence_length * max_ratio_of_left_padding)
    assert max_valid + max_left <= sequence_length
    masks = torch.ones_like(input_ids, dtype=torch.int64)
    for i in range(batch_size):
        left = int(rng.integers(0, max_left + 1))
        valid = int(rng.integers(min_valid, max_valid + 1))
        masks[i, :left] = 0
        masks[i, left + valid :] = 0
    return masks


def rearrange_micro_batches(batch, max_token_len, min_num_micro_batch=None, num_batches_divided_by=None,
                            dp_counts=None, use_dynamic_bsz_balance=True):
    """verl's rearrange_micro_batches with fulcrum.balance in place of its Karmarkar-Karp.

    The micro-batch count follows verl: min(n, ceil(tokens / max_token_len)), at least
    min_num_micro_batch, the maximum over the DP group's counts (dp_counts: the other ranks' counts,
    standing in for the all_reduce), rounded up to num_batches_divided_by. Returns the micro-batches,
    the index lists and the workloads.
    """
    seq_len_effective = batch["attention_mask"].sum(dim=1)
    assert max_token_len >= batch["attention_mask"].shape[-1]
    total = int(seq_len_effective.sum().item())
    num = min(len(seq_len_effective), ceildiv(total, max_token_len))
    if min_num_micro_batch is not None:
        num = max(min_num_micro_batch, num)
    if dp_counts is not None:
        num = max([num] + list(dp_counts))
    if num_batches_divided_by is not None:
        num = roundup_divisible(num, num_batches_divided_by)
    assert num <= len(seq_len_effective)
    workloads = calculate_workload(seq_len_effective.numpy())
    plan = fulcrum.balance(workloads, num)
    idx = [sorted(p.tolist()) for p in plan.parts]
    if use_dynamic_bsz_balance:  # verl's order: heaviest first, then smaller ones at both ends
        idx.sort(key=lambda p: (int(workloads[p].sum()), p[0] if p else 0), reverse=True)
        idx = idx[::2][::-1] + idx[1::2]
    micro = [{key: value[torch.tensor(p, dtype=torch.long)] for key, value in batch.items()} for p in idx]
    return micro, idx, workloads


def _batch(rows=20, seed=0):
    gen = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(low=0, high=10, size=(rows, 100), generator=gen)
    attention_mask = create_random_mask(input_ids, max_ratio_of_left_padding=0.1, max_ratio_of_valid_token=0.9,
                                        min_ratio_of_valid_token=0.5, rng=np.random.default_rng(seed))
    return {"input_ids": input_ids, "attention_mask": attention_mask}


@needs_torch
@pytest.mark.parametrize("seed", range(5))
def test_seqlen_balancing(seed):
    batch = _batch(seed=seed)
    micro_batches, micro_bsz_idx_lst, workloads = rearrange_micro_batches(batch, max_token_len=300)
    new = {key: torch.cat([mb[key] for mb in micro_batches]) for key in batch}
    micro_bsz_idx = [i for idx in micro_bsz_idx_lst for i in idx]
    reverse_idx_map = torch.tensor(get_reverse_idx(micro_bsz_idx))
    for key in batch:
        torch.testing.assert_close(new[key][reverse_idx_map], batch[key])
    # fulcrum's micro-batches are at least as balanced as verl's Karmarkar-Karp on the same workloads
    k = len(micro_bsz_idx_lst)
    check_partitions(micro_bsz_idx_lst, len(workloads), k, equal_size=False)
    assert makespan(micro_bsz_idx_lst, workloads) <= makespan(verl_karmarkar_karp(workloads.tolist(), k, False), workloads)


@needs_torch
@pytest.mark.parametrize("seed", range(5))
def test_dynamic_batch(seed):
    batch = _batch(seed=seed + 100)
    micro_batches, batch_idx_list, _ = rearrange_micro_batches(batch, max_token_len=300)
    input_ids = torch.cat([mb["input_ids"] for mb in micro_batches], dim=0)
    # verl's restore_dynamic_batch
    indices = [i for idx in batch_idx_list for i in idx]
    assert len(indices) == input_ids.shape[0]
    restored = input_ids[torch.tensor(get_reverse_idx(indices), dtype=torch.long)]
    torch.testing.assert_close(restored, batch["input_ids"])


@needs_torch
@pytest.mark.parametrize("use_same_dp,min_mb", [(False, 4), (True, None)])
def test_seqlen_balancing_distributed_params(use_same_dp, min_mb):
    """verl's _worker on world_size 2: rank r has 20 + 5r rows (seed 42 + r); the all_gather of the
    local counts is done here directly."""
    world_size, max_token_len = 2, 300
    batches = [_batch(rows=20 + rank * 5, seed=42 + rank) for rank in range(world_size)]
    locals_ = []
    for b in batches:
        seq_len_effective = b["attention_mask"].sum(dim=1)
        total = int(seq_len_effective.sum().item())
        locals_.append(min(len(seq_len_effective), ceildiv(total, max_token_len)))
    for rank, batch in enumerate(batches):
        micros, idx_lst, _ = rearrange_micro_batches(batch, max_token_len=max_token_len, min_num_micro_batch=min_mb,
                                                     dp_counts=locals_ if use_same_dp else None)
        local = locals_[rank]
        if min_mb is not None:
            assert len(micros) == max(local, min_mb)
        if use_same_dp:
            assert len(micros) == max(locals_)
        else:  # as upstream: without the DP sync the natural count (here above min_mb anyway)
            assert len(micros) == local
        flat = {key: torch.cat([m[key] for m in micros], dim=0) for key in batch}
        inv = torch.tensor(get_reverse_idx([i for sub in idx_lst for i in sub]))
        for key in batch:
            torch.testing.assert_close(flat[key][inv], batch[key])
        check_partitions(idx_lst, len(batch["input_ids"]), len(micros), equal_size=False)


def get_group_balanced_partitions(seqlen_list, uid_list, k_partitions):
    """verl's get_group_balanced_partitions with fulcrum.balance(equal_counts=True) on the groups."""
    assert len(seqlen_list) == len(uid_list)
    groups, current_uid = [], object()
    for i, uid in enumerate(uid_list):  # contiguous samples with the same uid form a group
        if uid != current_uid:
            groups.append([])
            current_uid = uid
        groups[-1].append(i)
    assert len(groups) >= k_partitions
    group_workloads = [int(calculate_workload([seqlen_list[i] for i in g]).sum()) for g in groups]
    group_parts = fulcrum_partitions(group_workloads, k_partitions, equal_size=True)
    check_partitions(group_parts, len(groups), k_partitions, equal_size=len(groups) % k_partitions == 0)
    assert makespan(group_parts, group_workloads) <= makespan(
        verl_karmarkar_karp(group_workloads, k_partitions, True), group_workloads)
    return [sorted(i for g in part for i in groups[g]) for part in group_parts]


def test_group_balanced_partitions():
    """Group-level balancing keeps same-uid samples together."""
    seqlen_list = [100] * 4 + [200] * 4 + [150] * 4 + [50] * 4
    uid_list = [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4
    partitions = get_group_balanced_partitions(seqlen_list, uid_list, k_partitions=2)
    assert len(partitions) == 2
    all_indices = set()
    for partition in partitions:
        all_indices.update(partition)
    assert all_indices == set(range(16))
    for partition in partitions:
        for uid in set(uid_list[i] for i in partition):
            uid_indices = [i for i, u in enumerate(uid_list) if u == uid]
            assert all(i in partition for i in uid_indices), f"uid {uid} samples split across partitions"


def test_group_balanced_partitions_single_sample_groups():
    seqlen_list = [100, 200, 150, 50, 300, 250]
    uid_list = [0, 1, 2, 3, 4, 5]
    partitions = get_group_balanced_partitions(seqlen_list, uid_list, k_partitions=2)
    assert len(partitions) == 2
    all_indices = set()
    for partition in partitions:
        all_indices.update(partition)
    assert all_indices == set(range(6))


def test_group_balanced_partitions_equal_size():
    seqlen_list = [100, 100, 200, 200, 150, 150, 50, 50, 300, 300, 250, 250, 180, 180, 120, 120]
    uid_list = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]
    partitions = get_group_balanced_partitions(seqlen_list, uid_list, k_partitions=4)
    assert len(partitions) == 4
    all_indices = set()
    for partition in partitions:
        all_indices.update(partition)
    assert all_indices == set(range(16))
    for partition in partitions:
        assert len(partition) == 4  # 2 groups of 2 samples each
        for uid in set(uid_list[i] for i in partition):
            uid_indices = [i for i, u in enumerate(uid_list) if u == uid]
            assert all(i in partition for i in uid_indices)


# ---- beyond upstream: the same comparison on seeded random instances --------------------------------
def _random_instances(equal, count=200, seed=18):
    rng = np.random.default_rng(seed + int(equal))
    for _ in range(count):
        k = int(rng.integers(1, 9))
        n = k * int(rng.integers(1, 13)) if equal else int(rng.integers(k, 97))
        yield k, rng.integers(1, 8193, size=n).tolist()


@pytest.mark.parametrize("equal", [True, False])
def test_random_instances_vs_verl(equal):
    """fulcrum's automatic (LPT, local search and, up to 16384 items, its own Karmarkar-Karp; the best
    kept) is not at least as balanced as verl's Karmarkar-Karp on every instance: on these 200 seeded
    instances per mode it is strictly better on 108 (equal sizes) / 103 (unequal) and worse on 2 / 6,
    by at most 1.2e-4 / 4e-5 of the makespan. The test holds those figures with a small margin."""
    better, worse, worst = 0, 0, 1.0
    for k, seqlens in _random_instances(equal):
        parts = fulcrum_partitions(seqlens, k, equal)
        check_partitions(parts, len(seqlens), k, equal)
        ours, theirs = makespan(parts, seqlens), makespan(verl_karmarkar_karp(seqlens, k, equal), seqlens)
        assert ours >= max(math.ceil(sum(seqlens) / k), max(seqlens))
        better += ours < theirs
        worse += ours > theirs
        worst = max(worst, ours / theirs)
    assert worse <= 8 and worst < 1 + 2e-4, (worse, worst)
    assert better >= 100, better
