"""The fused Numba reference: exact special values, the out= path, its vectorised exp.

The full battery runs over it as a built-in (tests/test_battery.py); these are
the fast, exact checks of what its scalar path for special rows must give.
"""
from __future__ import annotations

import numpy as np
import pytest

from implementations import numba_fused, numpy_reference

reason = numba_fused.ADAPTER.unavailable_reason()
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")

INF, NAN = np.inf, np.nan
DTYPES = (np.float32, np.float64)

# One row of each kind the fast path declines or must treat exactly, beside an ordinary row.
SPECIAL_ROWS = [
    [1.0, -INF, 3.0, -INF],  # masked entries: exactly 0 / -inf
    [-INF, -INF, -INF, -INF],  # fully masked
    [INF, 1.0, 2.0, -INF],  # +inf entry
    [NAN, 1.0, 2.0, 3.0],  # NaN
    [2.0, 2.0, -INF, 2.0],  # ties at the maximum
    [0.0, -90.0, -104.0, -1000.0],  # float32 subnormal and underflowing exp
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["softmax", "log_softmax", "logsumexp"])
def test_special_rows_match_the_reference(op, dtype):
    x = np.array(SPECIAL_ROWS + [[1.0, 2.0, 3.0, 4.0]], dtype=dtype)
    with np.errstate(all="ignore"):
        expected = getattr(numpy_reference, op)(x)
    got = getattr(numba_fused, op)(x)
    assert got.dtype == x.dtype and got.shape == expected.shape
    # NaN, +-inf and exact zeros in the same places; finite values within a few ULPs.
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(got) * np.sign(got), np.isinf(expected) * np.sign(expected))
    np.testing.assert_array_equal(got == 0, expected == 0)
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=8 * np.finfo(dtype).eps, atol=np.finfo(dtype).tiny)


@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_entries_exact_and_rows_independent(dtype):
    x = np.array([[0.5, -INF, 1.5], [-INF, -INF, -INF], [1.0, 2.0, 3.0]], dtype=dtype)
    s = numba_fused.softmax(x)
    assert s[0, 1] == 0 and np.isneginf(numba_fused.log_softmax(x)[0, 1])
    assert np.isnan(s[1]).all()  # 0 / 0, as numpy_reference
    np.testing.assert_allclose(s[2], numpy_reference.softmax(x[2:])[0], rtol=4 * np.finfo(dtype).eps)
    lse = numba_fused.logsumexp(x)
    assert np.isneginf(lse[1]) and np.isfinite(lse[[0, 2]]).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_axes_shapes_and_empty_axis(dtype):
    x = np.random.default_rng(0).standard_normal((3, 5, 4)).astype(dtype)
    for axis in (0, 1, -1):
        np.testing.assert_allclose(numba_fused.softmax(x, axis), numpy_reference.softmax(x, axis), rtol=8 * np.finfo(dtype).eps)
        np.testing.assert_allclose(numba_fused.logsumexp(x, axis), numpy_reference.logsumexp(x, axis), rtol=8 * np.finfo(dtype).eps)
    np.testing.assert_allclose(numba_fused.log_softmax(x[0, 0]), numpy_reference.log_softmax(x[0, 0]), rtol=8 * np.finfo(dtype).eps)
    empty = np.zeros((2, 0), dtype=dtype)
    assert numba_fused.softmax(empty).shape == (2, 0)
    assert np.isneginf(numba_fused.logsumexp(empty)).all()


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "logsumexp"])
def test_out_is_written_in_place(op):
    x = np.random.default_rng(1).standard_normal((4, 33)).astype(np.float32)
    out = np.full(x.shape[:-1] if op == "logsumexp" else x.shape, 7.0, dtype=np.float32)
    got = getattr(numba_fused, op)(x, out=out)
    assert got is out
    np.testing.assert_allclose(out, getattr(numpy_reference, op)(x), rtol=1e-6)
    # Along a non-last axis the result is still written into the given array.
    expected_t = getattr(numpy_reference, op)(x.T, axis=0)
    out_t = np.full(expected_t.shape, 7.0, dtype=np.float32)
    assert getattr(numba_fused, op)(np.ascontiguousarray(x.T), axis=0, out=out_t) is out_t
    np.testing.assert_allclose(out_t, expected_t, rtol=1e-6)
    with pytest.raises(ValueError):
        getattr(numba_fused, op)(x, out=np.empty((1, 1), dtype=np.float32))


def test_cross_entropy_and_unsupported_dtype():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, -INF, 1.0], [-INF, -INF, -INF]], dtype=np.float64)
    targets = np.array([2, 1, 0])
    got = numba_fused.cross_entropy(logits, targets)
    with np.errstate(all="ignore"):
        expected = numpy_reference.cross_entropy(logits, targets)
    np.testing.assert_allclose(got[0], expected[0], rtol=4e-16)
    assert np.isposinf(got[1]) and np.isnan(got[2])  # a masked target costs inf; an all -inf row is NaN
    with pytest.raises(TypeError):
        numba_fused.softmax(np.zeros(3, dtype=np.float16))


@pytest.mark.parametrize("dtype", DTYPES)
def test_vectorised_exp_is_accurate(dtype):
    """The kernel's own exp, seen through softmax of [0, t] = exp(t) / (1 + exp(t)), against long
    double, for t from 0 down past underflow: within 4 ULPs wherever the result is normal."""
    t = -np.linspace(0, 120 if dtype == np.float32 else 760, 20001)
    x = np.stack([np.zeros_like(t), t], axis=1).astype(dtype)
    got = numba_fused.softmax(x)[:, 1].astype(np.longdouble)
    tt = x[:, 1].astype(np.longdouble)
    exact = np.exp(tt) / (1 + np.exp(tt))
    tiny = np.finfo(dtype).tiny
    ulps = np.abs(got - exact) / np.maximum(np.abs(exact) * np.finfo(dtype).eps, tiny * np.finfo(dtype).eps)
    assert np.max(ulps[exact > tiny]) <= 4
