# SPDX-License-Identifier: Apache-2.0
"""fulcrum.torch.PackedCollator against an independent plain-Python reference."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import fulcrum  # noqa: E402
from fulcrum.torch import PackedCollator, packed_collate  # noqa: E402


def reference(samples, pad_multiple=1, pad_id=0, label_pad_id=-100, labels_from_input_ids=False):
    """Token lists in, the packed row out: written from the flash-attn varlen conventions."""
    ids, pos, cu, labels = [], [], [0], []
    has_labels = any(isinstance(s, dict) and "labels" in s for s in samples)
    for s in samples:
        toks = list(s["input_ids"]) if isinstance(s, dict) else list(s)
        ids += toks
        pos += list(range(len(toks)))
        cu.append(cu[-1] + len(toks))
        if has_labels:
            labels += list(s["labels"])
        elif labels_from_input_ids:
            labels += [label_pad_id] + toks[1:] if toks else []
    pad = (-len(ids)) % pad_multiple
    if pad:
        ids += [pad_id] * pad
        pos += list(range(pad))
        cu.append(cu[-1] + pad)
        labels += [label_pad_id] * pad
    max_seqlen = max((b - a for a, b in zip(cu, cu[1:])), default=0)
    out = {"input_ids": [ids], "position_ids": [pos], "cu_seqlens": cu, "max_seqlen": max_seqlen}
    if has_labels or labels_from_input_ids:
        out["labels"] = [labels]
    return out


def assert_matches(got, want, n_samples):
    assert got["input_ids"].dtype == torch.int64 and got["position_ids"].dtype == torch.int64
    assert got["cu_seqlens"].dtype == torch.int32
    for key in ("input_ids", "position_ids", "cu_seqlens"):
        assert got[key].tolist() == want[key], key
    assert got["max_seqlen"] == want["max_seqlen"]
    assert ("labels" in got) == ("labels" in want)
    if "labels" in want:
        assert got["labels"].tolist() == want["labels"]
    assert len(got["seq_lens"]) == n_samples


def test_small_examples():
    got = packed_collate([torch.tensor([5, 6, 7]), [8, 9]])
    assert got["input_ids"].tolist() == [[5, 6, 7, 8, 9]]
    assert got["position_ids"].tolist() == [[0, 1, 2, 0, 1]]
    assert got["cu_seqlens"].tolist() == [0, 3, 5]
    assert got["max_seqlen"] == 3 and "labels" not in got
    samples = [{"input_ids": [1, 2, 3], "labels": [4, 5, 6]}, {"input_ids": [7, 8], "labels": [9, 10]}]
    got = PackedCollator(pad_multiple=4, pad_id=-1)(samples)
    assert got["input_ids"].tolist() == [[1, 2, 3, 7, 8, -1, -1, -1]]
    assert got["labels"].tolist() == [[4, 5, 6, 9, 10, -100, -100, -100]]
    assert got["cu_seqlens"].tolist() == [0, 3, 5, 8]
    assert got["position_ids"].tolist() == [[0, 1, 2, 0, 1, 0, 1, 2]]
    empty = packed_collate([])
    assert empty["input_ids"].shape == (1, 0) and empty["cu_seqlens"].tolist() == [0] and empty["max_seqlen"] == 0


def test_bad_input():
    with pytest.raises(fulcrum.InvalidInput, match=r"samples\[1\] labels"):
        packed_collate([{"input_ids": [1], "labels": [1]}, {"input_ids": [1, 2], "labels": [1]}])
    with pytest.raises(fulcrum.InvalidInput, match=r"samples\[0\] has no input_ids"):
        packed_collate([{"tokens": [1]}])
    with pytest.raises(fulcrum.InvalidInput, match="pad_multiple = 0"):
        PackedCollator(pad_multiple=0)


token_lists = st.lists(st.lists(st.integers(0, 50000), min_size=0, max_size=40), min_size=0, max_size=12)


@settings(max_examples=80, deadline=None)
@given(samples=token_lists, pad_multiple=st.sampled_from([1, 2, 8, 64]), with_labels=st.booleans(),
       from_ids=st.booleans())
def test_matches_reference(samples, pad_multiple, with_labels, from_ids):
    if with_labels:
        data = [{"input_ids": torch.tensor(s, dtype=torch.int32), "labels": [x + 1 for x in s]} for s in samples]
        ref_in = [{"input_ids": s, "labels": [x + 1 for x in s]} for s in samples]
    else:
        data = [np.array(s, dtype=np.int64) for s in samples]
        ref_in = samples
    collate = PackedCollator(pad_multiple=pad_multiple, labels_from_input_ids=from_ids)
    got = collate(data)
    want = reference(ref_in, pad_multiple=pad_multiple, labels_from_input_ids=from_ids)
    assert_matches(got, want, len(samples))
