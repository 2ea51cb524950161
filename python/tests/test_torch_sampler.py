# SPDX-License-Identifier: Apache-2.0
"""fulcrum.torch.BalancedBatchSampler: one sampler per simulated rank, checked independently."""

import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader, Dataset  # noqa: E402

import fulcrum  # noqa: E402
from fulcrum.torch import BalancedBatchSampler, PackedCollator  # noqa: E402


def lengths_of(n, seed=0, hi=900):
    return np.random.default_rng(seed).integers(1, hi, size=n)


def samplers(lengths, world, **kw):
    return [BalancedBatchSampler(lengths, num_replicas=world, rank=r, **kw) for r in range(world)]


def check_epoch(lengths, world, max_tokens=None, m=1, drop_last=False, pad_empty=True, **kw):
    """Independent checks of one epoch; returns the per-rank batch lists."""
    ss = samplers(lengths, world, max_tokens=max_tokens, micro_batches_per_step=m, drop_last=drop_last,
                  pad_empty=pad_empty, **kw)
    per_rank = [list(s) for s in ss]
    counts = {len(b) for b in per_rank}
    assert len(counts) == 1, "every rank runs the same number of micro-batches"
    assert all(len(s) == len(per_rank[0]) for s in ss)
    nb = counts.pop()
    assert nb % m == 0
    steps = nb // m
    seen = Counter(i for b in per_rank for batch in b for i in batch)
    n = len(lengths)
    assert all(0 <= i < n for i in seen)
    if max_tokens is not None:
        for b in per_rank:
            for batch in b:
                assert sum(int(lengths[i]) for i in batch) <= max_tokens or len(batch) == 1
    if not drop_last:
        assert set(seen) == set(range(n)), "every sample at least once"
        extra = [i for i, c in seen.items() if c > 1]
        if not pad_empty:
            assert not extra, "exactly once"
        else:  # repeats only fill otherwise empty micro-batches of the last step: one sample each
            last = [batch for b in per_rank for batch in b[(steps - 1) * m :]]
            assert sum(c - 1 for c in seen.values()) <= sum(1 for batch in last if len(batch) == 1)
            assert all(len(batch) > 0 for b in per_rank for batch in b)
    else:
        assert all(c == 1 for c in seen.values())
        assert all(len(batch) > 0 for b in per_rank for batch in b)
    return per_rank, steps


@pytest.mark.parametrize("world,m", [(1, 1), (2, 1), (4, 1), (3, 2), (8, 1), (4, 4)])
def test_epoch_exactly_once_equal_counts_caps(world, m):
    L = lengths_of(700, seed=world * 10 + m)
    per_rank, steps = check_epoch(L, world, max_tokens=2048, m=m, pad_empty=False)
    # steps close to the fewest possible
    assert steps * world * m >= -(-int(L.sum()) // 2048)


@pytest.mark.parametrize("world,m", [(2, 1), (4, 1), (3, 2), (8, 2)])
def test_per_step_balance_bound(world, m):
    """Documented bound: in every step but the last, the heaviest and lightest rank differ by at most
    M x the longest sample of the step; the actual spread is reported much smaller."""
    L = lengths_of(2000, seed=world + m, hi=1500)
    per_rank, steps = check_epoch(L, world, max_tokens=4096, m=m, pad_empty=False)
    spreads, means = [], []
    for s in range(steps - 1):
        loads = [sum(int(L[i]) for batch in per_rank[r][s * m : (s + 1) * m] for i in batch) for r in range(world)]
        longest = max(int(L[i]) for r in range(world) for batch in per_rank[r][s * m : (s + 1) * m] for i in batch)
        assert max(loads) - min(loads) <= m * longest, (s, loads, longest)
        spreads.append(max(loads) - min(loads))
        means.append(np.mean(loads))
    # and far better than the bound on average: under 2 % of the step's mean rank load
    assert np.mean(spreads) <= 0.02 * np.mean(means)


def test_drop_last_and_empty_micro_batches():
    L = np.array([100] * 3)  # 3 samples, 4 ranks: the one step has an empty micro-batch
    per_rank, steps = check_epoch(L, 4, max_tokens=300, pad_empty=False)
    assert steps == 1 and [len(b[0]) for b in per_rank].count(0) == 1
    per_rank, _ = check_epoch(L, 4, max_tokens=300, pad_empty=True)
    assert all(len(b[0]) >= 1 for b in per_rank)
    per_rank, _ = check_epoch(L, 4, max_tokens=300, drop_last=True)
    assert all(len(b) == 0 for b in per_rank)  # the only step had an empty micro-batch
    L = lengths_of(50, seed=3)
    check_epoch(L, 4, max_tokens=1000, drop_last=True)


def test_batch_size_mode():
    L = lengths_of(203, seed=5)
    world, bs, m = 4, 8, 2
    ss = samplers(L, world, batch_size=bs, micro_batches_per_step=m, cost="attention")
    per_rank = [list(s) for s in ss]
    assert len({len(b) for b in per_rank}) == 1
    assert len(per_rank[0]) == m * -(-203 // (bs * world))
    seen = Counter(i for b in per_rank for batch in b for i in batch)
    assert set(seen) == set(range(203))
    for s in range(len(per_rank[0]) // m - 1):  # full steps: bs * world samples, balanced by cost
        step = [i for r in range(world) for batch in per_rank[r][s * m : (s + 1) * m] for i in batch]
        assert len(step) == bs * world and len(set(step)) == len(step)
        cost = lambda i: L[i] + L[i] ** 2 / 4096.0  # noqa: E731
        mb = [sum(cost(i) for i in per_rank[r][j]) for r in range(world) for j in range(s * m, (s + 1) * m)]
        plan = fulcrum.balance(L[step], world * m, cost="attention")
        assert max(mb) == pytest.approx(plan.makespan)
    ss = samplers(L, world, batch_size=bs, drop_last=True)
    per_rank = [list(s) for s in ss]
    assert len(per_rank[0]) == 203 // (bs * world)
    assert all(c == 1 for c in Counter(i for b in per_rank for batch in b for i in batch).values())


def test_set_epoch_reshuffles_deterministically():
    L = lengths_of(500, seed=11)
    a, b = samplers(L, 4, max_tokens=2048, seed=3), samplers(L, 4, max_tokens=2048, seed=3)
    e0 = [list(s) for s in a]
    assert e0 == [list(s) for s in b]
    for s in a:
        s.set_epoch(1)
    e1 = [list(s) for s in a]
    assert e1 != e0
    for s in b:
        s.set_epoch(1)
    assert [list(s) for s in b] == e1
    for s in a:
        s.set_epoch(0)
    assert [list(s) for s in a] == e0
    c = samplers(L, 4, max_tokens=2048, seed=4)
    assert [list(s) for s in c] != e0
    # shuffle=False: the same plan every epoch
    d = BalancedBatchSampler(L, num_replicas=4, rank=1, max_tokens=2048, shuffle=False)
    first = list(d)
    d.set_epoch(5)
    assert list(d) == first


@pytest.mark.parametrize("k", [0, 1, 5])
def test_resume_yields_exactly_the_rest(k):
    L = lengths_of(400, seed=2)
    s = BalancedBatchSampler(L, num_replicas=4, rank=2, max_tokens=1024, seed=9)
    s.set_epoch(3)
    full = list(s)
    it = iter(s)
    taken = [next(it) for _ in range(k)]
    assert taken == full[:k]
    state = s.state_dict()
    assert state["epoch"] == 3 and state["batches"] == k
    fresh = BalancedBatchSampler(L, num_replicas=4, rank=2, max_tokens=1024, seed=9)
    fresh.load_state_dict(state)
    assert list(fresh) == full[k:]
    assert list(fresh) == full  # the next pass is a whole epoch again
    # an explicit consumed count (a DataLoader with workers runs ahead of the training loop)
    fresh.load_state_dict(s.state_dict(batches_consumed=2))
    assert list(fresh) == full[2:]
    with pytest.raises(fulcrum.InvalidInput, match="seed = 9 in the state, 1 in this sampler"):
        BalancedBatchSampler(L, num_replicas=4, rank=2, max_tokens=1024, seed=1).load_state_dict(state)
    with pytest.raises(fulcrum.InvalidInput, match="max_tokens"):
        BalancedBatchSampler(L, num_replicas=4, rank=2, max_tokens=2048, seed=9).load_state_dict(state)
    with pytest.raises(fulcrum.InvalidInput, match="lengths_crc32"):
        BalancedBatchSampler(L + 1, num_replicas=4, rank=2, max_tokens=1024, seed=9).load_state_dict(state)
    # another rank of the same run may load it (the rank is not part of the state's identity)
    other = BalancedBatchSampler(L, num_replicas=4, rank=0, max_tokens=1024, seed=9)
    other.load_state_dict(state)
    assert len(list(other)) == len(full) - k


def test_lengths_as_tensor_list_or_dataset_agree():
    L = lengths_of(150, seed=8)
    kw = dict(max_tokens=1500, num_replicas=3, rank=1, seed=2)
    ref = list(BalancedBatchSampler(L, **kw))
    assert list(BalancedBatchSampler(torch.from_numpy(L), **kw)) == ref
    assert list(BalancedBatchSampler(L.tolist(), **kw)) == ref
    assert list(BalancedBatchSampler(dataset=[torch.zeros(int(n)) for n in L], length_fn=len, **kw)) == ref


def test_bad_input_names_the_field():
    with pytest.raises(fulcrum.InvalidInput, match="num_replicas and rank"):
        BalancedBatchSampler([1, 2], max_tokens=10)
    with pytest.raises(fulcrum.InvalidInput, match=r"rank = 4"):
        BalancedBatchSampler([1, 2], max_tokens=10, num_replicas=4, rank=4)
    with pytest.raises(fulcrum.InvalidInput, match=r"lengths\[1\] = -2"):
        BalancedBatchSampler([1, -2], max_tokens=10, num_replicas=1, rank=0)
    with pytest.raises(fulcrum.InvalidInput, match="exactly one of max_tokens and batch_size"):
        BalancedBatchSampler([1, 2], num_replicas=1, rank=0)
    with pytest.raises(fulcrum.InvalidInput, match="max_tokens = 0"):
        BalancedBatchSampler([1, 2], max_tokens=0, num_replicas=1, rank=0)
    with pytest.raises(fulcrum.Infeasible):
        list(BalancedBatchSampler([1, 20], max_tokens=10, num_replicas=1, rank=0))
    s = BalancedBatchSampler([1, 20], max_tokens=10, num_replicas=1, rank=0, oversize="own_bin")
    assert sorted(i for b in s for i in b) == [0, 1]


@settings(max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 300), min_size=0, max_size=120),
    world=st.integers(1, 6),
    m=st.integers(1, 3),
    cap=st.integers(300, 1200),
    drop_last=st.booleans(),
    pad_empty=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_property_any_input(lengths, world, m, cap, drop_last, pad_empty, seed):
    L = np.array(lengths, dtype=np.int64)
    check_epoch(L, world, max_tokens=cap, m=m, drop_last=drop_last, pad_empty=pad_empty, seed=seed)


@settings(max_examples=25, deadline=None)
@given(lengths=st.lists(st.integers(1, 200), min_size=1, max_size=80), k=st.integers(0, 40), seed=st.integers(0, 99))
def test_property_resume(lengths, k, seed):
    s = BalancedBatchSampler(lengths, num_replicas=3, rank=1, max_tokens=400, seed=seed)
    full = list(s)
    k = min(k, len(full))
    s2 = BalancedBatchSampler(lengths, num_replicas=3, rank=1, max_tokens=400, seed=seed)
    s2.load_state_dict({"epoch": 0, "batches": k})
    assert list(s2) == full[k:]


class TokenDataset(Dataset):
    """Map-style dataset of variable-length token tensors (module level: picklable for workers)."""

    def __init__(self, lengths):
        self.lengths = lengths

    def __len__(self):
        return len(self.lengths)

    def __getitem__(self, i):
        n = int(self.lengths[i])
        return {"input_ids": torch.arange(n) + 10 * i, "labels": torch.full((n,), i), "index": i}


def test_dataloader_with_two_workers():
    L = lengths_of(300, seed=21, hi=200)
    ds = TokenDataset(L)
    world, cap = 2, 1024
    collate = PackedCollator(pad_multiple=8)
    seen = []
    for r in range(world):
        s = BalancedBatchSampler(dataset=ds, length_fn=lambda x: len(x["input_ids"]), max_tokens=cap,
                                 num_replicas=world, rank=r, seed=1)
        expected = list(s)
        loader = DataLoader(ds, batch_sampler=s, num_workers=2, collate_fn=collate)
        assert len(loader) == len(expected)
        got = 0
        for batch, ids in zip(loader, expected):
            got += 1
            n = int(L[ids].sum())
            assert batch["input_ids"].shape == (1, -(-n // 8) * 8)
            assert int(batch["cu_seqlens"][-1]) == batch["input_ids"].shape[1]
            assert n <= cap
            # labels carry the sample index: the batch is exactly the sampler's micro-batch, in order
            lab = batch["labels"][0, :n]
            assert torch.equal(lab, torch.cat([torch.full((int(L[i]),), i) for i in ids]))
            seen += ids
        assert got == len(expected)
    assert sorted(seen) == list(range(len(L)))


def test_import_fulcrum_does_not_import_torch():
    code = "import sys, fulcrum; assert 'torch' not in sys.modules, 'torch imported'; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
