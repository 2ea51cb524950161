# SPDX-License-Identifier: Apache-2.0
"""fulcrum.packed_layout: every field recomputed independently from the groups and sizes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fulcrum


def expected_layout(groups, sizes, pad_multiple=1, fixed_length=0, fixed_sequences=0):
    """A plain-Python reference: per sequence its documents in order, then one padding segment."""
    seqs = [list(g) for g in groups]
    while fixed_sequences and len(seqs) < fixed_sequences:
        seqs.append([])
    cu, cu_off, seq_off, pos, doc, item, off = [], [0], [0], [], [], [], []
    for g in seqs:
        length = sum(int(sizes[i]) for i in g)
        target = fixed_length if fixed_length else -(-length // pad_multiple) * pad_multiple
        row = [0]
        for d, i in enumerate(g):
            n = int(sizes[i])
            row.append(row[-1] + n)
            pos += range(n)
            doc += [d] * n
            item += [i] * n
            off += range(n)
        pad = target - length
        if pad:
            row.append(row[-1] + pad)
            pos += range(pad)
            doc += [-1] * pad
            item += [fulcrum.PackedLayout.padding_item] * pad
            off += [0] * pad
        cu += row
        cu_off.append(len(cu))
        seq_off.append(seq_off[-1] + target)
    return cu, cu_off, seq_off, pos, doc, item, off


def check(layout, groups, sizes, **opts):
    cu, cu_off, seq_off, pos, doc, item, off = expected_layout(groups, sizes, **opts)
    assert layout.cu_seqlens.dtype == np.int32
    assert layout.cu_seqlens.tolist() == cu
    assert layout.cu_seqlens_offsets.tolist() == cu_off
    assert layout.sequence_offsets.tolist() == seq_off
    assert layout.position_ids.tolist() == pos
    assert layout.document_ids.tolist() == doc
    assert layout.source_item.tolist() == item
    # the gather map of content tokens: token source_offset of its item, each exactly once
    content = [(i, o) for i, o in zip(layout.source_item.tolist(), layout.source_offset.tolist())
               if i != fulcrum.PackedLayout.padding_item]
    assert sorted(content) == sorted((i, o) for g in groups for i in g for o in range(int(sizes[i])))
    assert layout.content_tokens == sum(int(sizes[i]) for g in groups for i in g)
    assert layout.content_tokens + layout.padding_tokens == layout.tokens
    for s in range(layout.sequences):
        row = np.asarray(cu[cu_off[s]:cu_off[s + 1]])
        assert layout.max_seqlen[s] == (np.diff(row).max() if len(row) > 1 else 0)
        assert np.array_equal(layout.sequence_cu_seqlens(s), row)
    # the whole batch as one row: every sequence's segments shifted by its start
    batch = [0]
    for s in range(layout.sequences):
        row = cu[cu_off[s]:cu_off[s + 1]]
        batch += [seq_off[s] + x for x in row[1:]]
    assert layout.batch_cu_seqlens.tolist() == batch


def test_layout_of_a_packing_is_exact():
    sizes = np.random.default_rng(3).integers(1, 3000, size=400)
    packing = fulcrum.pack(sizes, 8192)
    layout = fulcrum.packed_layout(packing.bins, sizes, pad_multiple=128)
    check(layout, packing.bins.to_list(), sizes, pad_multiple=128)
    assert all(int(layout.sequence_offsets[s + 1] - layout.sequence_offsets[s]) % 128 == 0
               for s in range(layout.sequences))


def test_fixed_shape_batch():
    sizes = [5, 3, 7, 1]
    groups = [[2, 0], [1, 3]]
    layout = fulcrum.packed_layout(groups, sizes, pad_multiple=4, fixed_length=16, fixed_sequences=3)
    check(layout, groups, sizes, pad_multiple=4, fixed_length=16, fixed_sequences=3)
    assert layout.sequences == 3 and layout.tokens == 48 and layout.padding_tokens == 48 - 16


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=30), st.integers(1, 16), st.randoms(use_true_random=False))
def test_random_groupings(sizes, pad_multiple, rnd):
    order = list(range(len(sizes)))
    rnd.shuffle(order)
    cuts = sorted(rnd.sample(range(len(order) + 1), min(3, len(order) + 1)))
    groups = [order[a:b] for a, b in zip([0] + cuts, cuts + [len(order)])]
    layout = fulcrum.packed_layout(groups, sizes, pad_multiple=pad_multiple)
    check(layout, groups, sizes, pad_multiple=pad_multiple)


def test_bad_input_names_the_field():
    with pytest.raises(fulcrum.InvalidInput, match="pad_multiple"):
        fulcrum.packed_layout([[0]], [3], pad_multiple=0)
    with pytest.raises(fulcrum.InvalidInput):
        fulcrum.packed_layout([[0, 0]], [3])  # an item twice
    with pytest.raises(fulcrum.InvalidInput):
        fulcrum.packed_layout([[5]], [3])  # index out of range
    with pytest.raises(fulcrum.InvalidInput, match="sizes"):
        fulcrum.packed_layout([[0]], [-1])
    with pytest.raises(fulcrum.Infeasible):
        fulcrum.packed_layout([[0]], [9], fixed_length=8)
