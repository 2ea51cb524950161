# SPDX-License-Identifier: Apache-2.0
"""Inputs: cost callables (evaluated once per item, vectorised when they take arrays), DLPack
producers (a torch CPU tensor, read in place without fulcrum importing torch), non-contiguous and
other-dtype numpy arrays."""

import numpy as np
import pytest

import fulcrum


def lengths(n=800, seed=0):
    return np.random.default_rng(seed).integers(1, 8192, size=n)


# ---- cost callables ------------------------------------------------------------------------------


def test_vectorised_cost_is_called_once_with_the_array():
    values = lengths()
    calls = []

    def f(L):
        calls.append(L)
        return 2.0 * L + L.astype(np.float64) ** 2 / 8192.0

    r = fulcrum.balance(values, 16, cost=f)
    assert len(calls) == 1 and isinstance(calls[0], np.ndarray) and calls[0].shape == values.shape
    want = 2.0 * values + values.astype(np.float64) ** 2 / 8192.0
    ref = fulcrum.balance(want, 16)
    assert r.parts == ref.parts and np.array_equal(r.loads, ref.loads)
    # the balanced costs are the callable's: loads recomputed from the plan
    for g, load in zip(r.parts, r.loads):
        assert load == pytest.approx(want[g].sum(), rel=1e-12)


def test_scalar_cost_falls_back_to_once_per_item():
    import math

    values = lengths(300, 1)
    seen = []

    def f(L):
        seen.append(L)
        return math.sqrt(L) * 10.0  # math.sqrt rejects arrays: the per-item path

    r = fulcrum.balance(values, 8, cost=f)
    per_item = [x for x in seen if not isinstance(x, np.ndarray)]
    assert per_item == values.tolist()  # exactly once per item, in order
    assert all(isinstance(x, int) for x in per_item)
    want = np.array([math.sqrt(v) * 10.0 for v in values.tolist()])
    ref = fulcrum.balance(want, 8)
    assert r.parts == ref.parts and np.array_equal(r.loads, ref.loads)


def test_cost_vectorized_flag():
    values = lengths(200, 2)
    seen = []
    r = fulcrum.balance(values, 4, cost=lambda L: seen.append(L) or float(L), vectorized=False)
    assert len(seen) == len(values) and not any(isinstance(x, np.ndarray) for x in seen)
    assert r.parts == fulcrum.balance(values, 4).parts
    with pytest.raises(TypeError):
        fulcrum.balance(values, 4, cost=lambda L: int(L), vectorized=True)  # int(array) raises
    with pytest.raises(fulcrum.InvalidInput, match="cost"):
        fulcrum.balance(values, 4, cost=lambda L: L[:3], vectorized=True)  # wrong shape


def test_cost_callable_bad_values_name_the_item():
    with pytest.raises(fulcrum.InvalidInput, match=r"cost\[1\]"):
        fulcrum.balance([1, 2, 3], 2, cost=lambda L: 1.0 - L)
    with pytest.raises(fulcrum.InvalidInput, match="cost"):
        fulcrum.balance([1, 2, 3], 2, cost=lambda L: float("nan") * L)
    with pytest.raises(fulcrum.InvalidInput, match="cost"):
        fulcrum.balance([1, 2, 3], 2, cost=lambda L: "heavy", vectorized=False)


def test_cost_callable_with_options_and_every_algorithm():
    values = lengths(120, 3)
    f = lambda L: np.log1p(L)  # noqa: E731
    for algorithm in fulcrum.BALANCE_ALGORITHMS:
        r = fulcrum.balance(values, 6, cost=f, algorithm=algorithm, equal_counts=True, max_nodes=10000)
        assert sorted(int(i) for g in r.parts for i in g) == list(range(len(values)))
        counts = r.parts.sizes()
        assert counts.max() - counts.min() <= 1
        assert r.makespan >= r.lower_bound * (1 - 1e-12)


# ---- DLPack producers and numpy layouts ----------------------------------------------------------


def test_torch_tensor_input_read_in_place():
    torch = pytest.importorskip("torch")
    values = lengths(1000, 4)
    t = torch.from_numpy(values.astype(np.int64))
    arr = fulcrum._numeric(t, "test", "values")
    assert arr.dtype == np.int64 and np.shares_memory(arr, t.numpy())  # zero-copy: dtype already matches
    ref = fulcrum.balance(values, 8)
    assert fulcrum.balance(t, 8).parts == ref.parts
    assert fulcrum.pack(t, 8192).bins == fulcrum.pack(values, 8192).bins
    assert fulcrum.balance_two_level(t, 4, 2).micro_batches == fulcrum.balance_two_level(values, 4, 2).micro_batches
    # other dtypes: converted once
    t32 = torch.from_numpy(values.astype(np.int32))
    assert fulcrum.balance(t32, 8).parts == ref.parts
    tf = torch.from_numpy(values.astype(np.float64))
    assert np.shares_memory(fulcrum._numeric(tf, "test", "values"), tf.numpy())
    assert fulcrum.balance(tf, 8).parts == ref.parts
    # a non-contiguous tensor (a strided view) is copied once, with the same result
    tt = torch.from_numpy(np.repeat(values, 2).astype(np.int64))[::2]
    assert not tt.is_contiguous()
    assert fulcrum.balance(tt, 8).parts == ref.parts
    # post_balance takes tensors too
    cur = torch.arange(1000) % 8
    r = fulcrum.post_balance(tf, cur, 8)
    assert r.plan.makespan <= r.target_makespan


def test_torch_tensor_requiring_grad_is_a_clear_error():
    torch = pytest.importorskip("torch")
    t = torch.ones(10, requires_grad=True)
    with pytest.raises(fulcrum.InvalidInput, match="values.*detach"):
        fulcrum.balance(t, 2)


def test_dlpack_without_torch_import():
    # any __dlpack__ producer works; fulcrum itself never imports torch
    class Producer:
        def __init__(self, a):
            self.a = a

        def __dlpack__(self, **kwargs):
            return self.a.__dlpack__(**kwargs)

        def __dlpack_device__(self):
            return self.a.__dlpack_device__()

    values = lengths(500, 5).astype(np.uint64)
    p = Producer(values)
    arr = fulcrum._numeric(p, "test", "sizes")
    assert np.shares_memory(arr, values)
    assert fulcrum.pack(p, 8192).bins == fulcrum.pack(values, 8192).bins
    src = open(fulcrum.__file__).read()
    assert "import torch" not in src  # the package never imports torch


@pytest.mark.parametrize("dtype", [np.uint16, np.int32, np.float32, np.int8])
def test_numpy_non_contiguous_other_dtype(dtype):
    base = lengths(2000, 6) % 120 + 1
    values = base[:1000]
    strided = np.repeat(base[:1000], 3).astype(dtype)[::3]
    assert not strided.flags.c_contiguous
    ref = fulcrum.balance(values, 8)
    assert fulcrum.balance(strided, 8).parts == ref.parts
    assert fulcrum.balance_two_level(strided, 4, 2).micro_batches == fulcrum.balance_two_level(values, 4, 2).micro_batches
    assert fulcrum.pack(strided, 256).bins == fulcrum.pack(values, 256).bins
    # a Fortran-ordered 2-D array for the multi-constraint pack
    two = np.asfortranarray(np.stack([values, values[::-1]], axis=1).astype(dtype))
    assert fulcrum.pack(two, [256, 256]).bins == fulcrum.pack(np.ascontiguousarray(two, dtype=np.int64), [256, 256]).bins
