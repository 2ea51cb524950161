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


# ---- multimodal (text + image) layout ---------------------------------------------------------


def expected_multimodal(groups, text, images, placement, positions=None, pad_multiple=1, fixed_length=0):
    """Reference: per document its tokens as (kind, offset) in placement order, then padding."""
    T, I, P = fulcrum.PackedLayout.TEXT, fulcrum.PackedLayout.IMAGE, fulcrum.PackedLayout.PADDING
    kinds, item, off, pos, doc, cu, seq_off = [], [], [], [], [], [], [0]
    for g in groups:
        row = [0]
        start = len(kinds)
        for d, i in enumerate(g):
            toks = []
            text_runs = [(T, o) for o in range(int(text[i]))]
            img_runs, base = [], 0
            for n in images[i]:
                img_runs.append([(I, base + o) for o in range(int(n))])
                base += int(n)
            if placement == "before_text":
                toks = [t for r in img_runs for t in r] + text_runs
            elif placement == "after_text":
                toks = text_runs + [t for r in img_runs for t in r]
            else:
                done = 0
                for j, r in enumerate(img_runs):
                    toks += text_runs[done : positions[i][j]]
                    done = positions[i][j]
                    toks += r
                toks += text_runs[done:]
            for p, (k, o) in enumerate(toks):
                kinds.append(k)
                item.append(i)
                off.append(o)
                pos.append(p)
                doc.append(d)
            row.append(row[-1] + len(toks))
        length = len(kinds) - start
        target = fixed_length if fixed_length else -(-length // pad_multiple) * pad_multiple
        pad = target - length
        if pad:
            row.append(row[-1] + pad)
            kinds += [P] * pad
            item += [fulcrum.PackedLayout.padding_item] * pad
            off += [0] * pad
            pos += range(pad)
            doc += [-1] * pad
        cu += row
        seq_off.append(seq_off[-1] + target)
    return kinds, item, off, pos, doc, cu, seq_off


def random_vlm(rng, n):
    text = rng.integers(0, 40, size=n)
    images = [rng.integers(1, 12, size=int(rng.integers(0, 4))).tolist() for _ in range(n)]
    positions = [sorted(rng.integers(0, int(text[i]) + 1, size=len(images[i])).tolist()) for i in range(n)]
    return text, images, positions


@pytest.mark.parametrize("placement", fulcrum.IMAGE_PLACEMENTS)
@pytest.mark.parametrize("seed", range(4))
def test_multimodal_layout_against_reference(placement, seed):
    rng = np.random.default_rng(seed)
    n = 40
    text, images, positions = random_vlm(rng, n)
    sizes = text + np.array([sum(im) for im in images])
    packs = fulcrum.pack(sizes, 200).bins
    pad = int(rng.choice([1, 8]))
    lay = fulcrum.multimodal_layout(packs, text, images, placement=placement, image_positions=positions, pad_multiple=pad)
    kinds, item, off, pos, doc, cu, seq_off = expected_multimodal(packs, text, images, placement, positions, pad)
    assert lay.kinds.tolist() == kinds
    assert lay.source_item.tolist() == item
    content = np.asarray(kinds) != fulcrum.PackedLayout.PADDING  # padding's source_offset is unspecified
    assert lay.source_offset[content].tolist() == np.asarray(off)[content].tolist()
    assert lay.position_ids.tolist() == pos
    assert lay.document_ids.tolist() == doc
    assert lay.cu_seqlens.tolist() == cu
    assert lay.sequence_offsets.tolist() == seq_off
    # every text and image token of every item exactly once
    got = sorted(zip(lay.kinds.tolist(), lay.source_item.tolist(), lay.source_offset.tolist()))
    want = sorted([(0, i, o) for i in range(n) for o in range(int(text[i]))]
                  + [(1, i, o) for i in range(n) for o in range(sum(images[i]))])
    assert [g for g in got if g[0] != 2] == want
    assert lay.content_tokens == int(sizes.sum())


def test_multimodal_layout_text_only_equals_packed_layout():
    rng = np.random.default_rng(9)
    text = rng.integers(1, 50, size=30)
    packs = fulcrum.pack(text, 128).bins
    a = fulcrum.multimodal_layout(packs, text, [[] for _ in range(30)], pad_multiple=16)
    b = fulcrum.packed_layout(packs, text, pad_multiple=16)
    for f in ("cu_seqlens", "position_ids", "document_ids", "source_item", "source_offset", "sequence_offsets"):
        assert np.array_equal(getattr(a, f), getattr(b, f))


def test_multimodal_layout_fixed_shape():
    text = [10, 5, 7]
    images = [[16], [], [8, 8]]
    lay = fulcrum.multimodal_layout([[0, 1], [2]], text, images, fixed_length=64, fixed_sequences=4)
    assert lay.sequences == 4 and lay.tokens == 256
    assert int((lay.kinds == fulcrum.PackedLayout.IMAGE).sum()) == 32
    assert lay.efficiency == pytest.approx(54 / 256)


def test_multimodal_layout_errors():
    with pytest.raises(fulcrum.InvalidInput, match="images"):
        fulcrum.multimodal_layout([[0]], [3, 4], [[1]])
    with pytest.raises(fulcrum.InvalidInput, match="image_positions"):
        fulcrum.multimodal_layout([[0]], [3], [[2]], placement="at_offsets", image_positions=[[5]])
    with pytest.raises(fulcrum.InvalidInput, match="image_positions"):
        fulcrum.multimodal_layout([[0]], [3], [[2, 2]], placement="at_offsets", image_positions=[[2, 1]])
    with pytest.raises(fulcrum.InvalidInput, match="image_positions"):
        fulcrum.multimodal_layout([[0]], [3], [[2]], placement="at_offsets")
    with pytest.raises(fulcrum.InvalidInput, match="placement"):
        fulcrum.multimodal_layout([[0]], [3], [[2]], placement="middle")
    with pytest.raises(fulcrum.InvalidInput, match="text_tokens"):
        fulcrum.multimodal_layout([[0]], [-3], [[2]])
    with pytest.raises(fulcrum.Infeasible):
        fulcrum.multimodal_layout([[0]], [30], [[40]], fixed_length=64)
