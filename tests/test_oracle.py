"""The oracle against mpmath at 60 significant digits.

Where every expected value comes from (SciPy's habit):
  * ``mp_*`` below evaluate the textbook definitions (no shift, no log1p) in
    mpmath with mp.dps = 60 on the exact binary values of the inputs (each input
    element is converted from its float64 value, which is exact for every dtype).
    60 digits is far more than enough: the largest cancellation exercised is in
    LSE near 0 (|x| <= 1e3 cancelling to ~1e-17, 20 digits lost).
  * The literal constants in ``test_known_values`` were produced once with
    mpmath 1.3 at mp.dps = 60 by the expression written beside each, and are
    quoted to 40 digits.
Tolerances: the oracle claims a relative error of a few units of 2**-64
(suite/oracle.py); the tests allow 2**-58 relative (2**-5 ULP of float64), and
for LSE an absolute 2**-58 (|a| + log n), the size of its unavoidable
cancellation error.
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from suite import dtypes as dt
from suite import oracle

mpmath.mp.dps = 60
REL = 2.0**-58
# float16, bfloat16 and float32 inputs are evaluated in float64 (suite/oracle.py): a few units of
# 2**-53 relative, i.e. below 2**-25 ULP of float32.
REL_NARROW = 2.0**-49


# ... and values below 2**-1000 (far below float32's smallest subnormal, 2**-149) may be
# float64 subnormals or 0: they round to 0 in every narrow dtype.
TINY_NARROW = 2.0**-1000


def tolerance(dtype: str) -> float:
    return REL if dtype == "float64" else REL_NARROW


def floor(dtype: str) -> float:
    return 0.0 if dtype == "float64" else TINY_NARROW

pytestmark = pytest.mark.skipif(not oracle.EXTENDED, reason="the float64 oracle needs a 64-bit long double")


def mp(v) -> mpmath.mpf:
    """The exact mpmath value of a float of any width (long double via its integer significand)."""
    w = np.longdouble(v)
    if not np.isfinite(w) or w == 0:
        return mpmath.mpf(float(w))
    m, e = np.frexp(w)
    return mpmath.ldexp(mpmath.mpf(int(np.ldexp(m, 64))), int(e) - 64)


def mp_lse(row) -> mpmath.mpf:
    finite = [mp(v) for v in row if not math.isinf(float(v))]
    return mpmath.log(mpmath.fsum(mpmath.exp(v) for v in finite)) if finite else -mpmath.inf


def mp_softmax(row) -> list:
    y = mp_lse(row)
    return [mpmath.mpf(0) if math.isinf(float(v)) else mpmath.exp(mp(v) - y) for v in row]


def mp_log_softmax(row) -> list:
    y = mp_lse(row)
    return [-mpmath.inf if math.isinf(float(v)) else mp(v) - y for v in row]


def close(got, expected, rel=REL, absolute=0.0) -> bool:
    got = np.longdouble(got)
    if got == 0 and abs(expected) < mpmath.mpf("1e-4940"):
        return True  # below long double's range (and every output dtype's): 0 is the right answer
    if expected == 0:
        return got == 0 or abs(mp(got)) <= absolute
    if mpmath.isinf(expected):
        return bool(np.isinf(got)) and (got > 0) == (expected > 0)
    return abs(mp(got) - expected) <= rel * abs(expected) + absolute


def rows(dtype: str, seed: int):
    """Rows of many kinds: moderate, wide spread, offset, masked, tiny entries, length 1."""
    rng = np.random.default_rng(seed)
    top = min(dt.largest(dtype) / 4, 1e4)
    out = [
        rng.uniform(-10, 10, 7),
        rng.uniform(-60, 60, 33),
        1000.0 + rng.integers(-8, 8, 5) * 0.5,
        np.array([top, top * 0.999, -top, 0.0]),
        np.array([0.0, -30.0, -60.0, -700.0]),
        np.array([-np.inf, 2.0, -np.inf, 1.5]),
        np.array([3.25]),
        rng.standard_normal(64) * 3,
    ]
    return [np.asarray(r, dtype=np.float64).astype(dt.numpy_dtype(dtype)) for r in out]


@pytest.mark.parametrize("dtype", dt.FLOAT_DTYPES)
def test_softmax_and_log_softmax_match_mpmath(dtype):
    for row in rows(dtype, 1):
        s = oracle.softmax(row)
        ls = oracle.log_softmax(row)
        for got, want in zip(s, mp_softmax(row)):
            assert close(got, want, rel=tolerance(dtype), absolute=floor(dtype)), (row, got, want)
        for got, want in zip(ls, mp_log_softmax(row)):
            assert close(got, want, rel=tolerance(dtype)), (row, got, want)


@pytest.mark.parametrize("dtype", dt.FLOAT_DTYPES)
def test_logsumexp_and_cross_entropy_match_mpmath(dtype):
    for row in rows(dtype, 2):
        want = mp_lse(row)
        finite = np.abs(row[np.isfinite(row)].astype(np.float64))
        rel = tolerance(dtype)
        slack = rel * (float(finite.max()) + math.log(row.size))
        assert close(oracle.logsumexp(row), want, rel=rel, absolute=slack), (row, want)
        target = int(np.argmax(np.isfinite(row)))
        ce = oracle.cross_entropy(row[None, :], np.array([target]))[0]
        assert close(ce, want - mp(row[target]), rel=rel, absolute=slack), (row, ce)


def test_lse_cancellation_near_zero():
    # log(exp(x) + exp(x)) with x = fl64(-log 2): exactly log 2 + x, which is 2.3e-17.
    x = np.array([-0.6931471805599453, -0.6931471805599453])
    want = mpmath.log(2) + mp(x[0])
    assert close(oracle.logsumexp(x), want)  # relative: the oracle redoes cancelling rows in mpmath
    # the same row inside a batch, along a non-last axis, beside an ordinary row
    batch = np.array([x, [1.0, 2.0]]).T.astype(np.float32).astype(np.float64)
    got = oracle.logsumexp(batch, axis=0)
    assert close(got[0], mp_lse(batch[:, 0])) and close(got[1], mp_lse(batch[:, 1]), rel=REL_NARROW)


def test_known_values():
    # mpmath: exp(-999) / (1 + exp(-999) + exp(-2000))
    assert close(oracle.softmax(np.array([1000.0, 1.0, -1000.0]))[1], mpmath.mpf("1.379788683321369680316912252639891796774e-434"))
    # mpmath: -log1p(exp(-50)); log(1 + s) would give 0 here
    assert close(oracle.log_softmax(np.array([0.0, -50.0]))[0], mpmath.mpf("-1.928749847963917783017156812728211532955e-22"))
    # mpmath: log(2 exp(-0.6931471805599453))
    assert close(oracle.logsumexp(np.array([-0.6931471805599453] * 2)), mpmath.mpf("2.319046813846299615494855463875478650412e-17"))
    # mpmath: log(exp(3) + exp(1) + exp(0.5)) - 0.5
    assert close(oracle.cross_entropy(np.array([[3.0, 1.0, 0.5]]), np.array([2]))[0], mpmath.mpf("2.69673409691961707263065135371491293349"))
    # mpmath: log(exp(10000) + exp(9999.5)), float32 inputs (both exact in float32)
    assert close(oracle.logsumexp(np.array([1e4, 9999.5], dtype=np.float32)), mpmath.mpf("10000.47407698418010668087299735508117075"), rel=REL_NARROW)
    # mpmath: exp(-740) / (1 + exp(-740)): subnormal in float64, normal in the oracle's long double
    assert close(oracle.softmax(np.array([0.0, -740.0]))[1], mpmath.mpf("4.188739880048048939457540001583652882413e-322"))


def test_float64_shift_is_exact():
    # x - a is not exact in float64 here (x = 1e-300, a = 700.1); the oracle keeps the low part.
    # mpmath: exp(1e-300 - 700.1) / (1 + exp(1e-300 - 700.1)) = exp(-700.1) to 60 digits.
    x = np.array([700.1, 1e-300, 700.1 - 3.3])
    for got, want in zip(oracle.softmax(x), mp_softmax(x)):
        assert close(got, want)


def test_contract_conventions():
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [np.nan, 1.0], [0.0, 0.0]])
    lse = oracle.logsumexp(x)
    assert np.isneginf(lse[0]) and np.isposinf(lse[1]) and np.isnan(lse[2]) and close(lse[3], mpmath.log(2))
    s = oracle.softmax(x)
    assert np.all(np.isnan(s[0])) and np.isnan(s[1, 0]) and np.all(np.isnan(s[2]))
    assert np.all(np.isnan(oracle.log_softmax(x)[0]))
    empty = np.zeros((3, 0))
    assert np.all(np.isneginf(oracle.logsumexp(empty))) and oracle.softmax(empty).shape == (3, 0)


def test_axis_and_wide_input():
    rng = np.random.default_rng(3)
    x = rng.uniform(-20, 20, (4, 5, 6))
    for axis in (0, 1, -1):
        moved = np.moveaxis(oracle.softmax(np.moveaxis(x, axis, -1)), -1, axis)
        assert np.array_equal(oracle.softmax(x, axis=axis), moved)
    # long double input (the temperature quotient) goes through the same formulas
    wide = x.astype(np.longdouble) / np.longdouble(3)
    assert np.allclose(oracle.softmax(wide).astype(np.float64), oracle.softmax(x / 3), rtol=1e-14, atol=0)


# --- kernel scale: rows of 262144 logits, which the oracle processes in column blocks ---------

KERNEL_N = 262144


def mp_lse_counted(row) -> mpmath.mpf:
    """mp_lse of a long row whose finite values repeat: one exp per distinct value, times its count."""
    values, counts = np.unique(row[np.isfinite(row)].astype(np.float64), return_counts=True)
    return mpmath.log(mpmath.fsum(int(c) * mpmath.exp(mp(v)) for v, c in zip(values, counts)))


def kernel_row(dtype: str) -> tuple[np.ndarray, list[int]]:
    """262144 logits in [-40, 10) on a grid of 1/64 (so that values repeat), a unique maximum in
    the seventh block, masked entries, and entries whose distance to the maximum is not exact in
    float64 (tiny magnitudes): the indices of those special entries come with the row."""
    rng = np.random.default_rng(12)
    x = rng.integers(-40 * 64, 10 * 64, KERNEL_N) / 64.0
    special = {200_000: 12.0, 5: -np.inf, 6: -np.inf, 140_001: -np.inf, 100: 1e-30, 150_000: -3e-25, 262_143: 2.0**-60}
    for index, value in special.items():
        x[index] = value
    return np.asarray(x, dtype=np.float64).astype(dt.numpy_dtype(dtype)), sorted(special)


@pytest.mark.parametrize("dtype", dt.FLOAT_DTYPES)
def test_kernel_scale_row_matches_mpmath(dtype):
    row, special = kernel_row(dtype)
    lse = mp_lse_counted(row)
    rel = tolerance(dtype)
    slack = rel * (12 + math.log(KERNEL_N))
    assert close(oracle.logsumexp(row), lse, rel=rel, absolute=slack)
    assert close(oracle.logsumexp(row[None, :])[0], lse, rel=rel, absolute=slack)
    assert close(oracle.cross_entropy(row[None, :], np.array([100]))[0], lse - mp(row[100]), rel=rel, absolute=slack)
    s, ls = oracle.softmax(row), oracle.log_softmax(row)
    sample = sorted(set(np.random.default_rng(13).integers(0, KERNEL_N, 300).tolist()) | set(special))
    for j in sample:
        v = row[j]
        want_s = mpmath.mpf(0) if np.isneginf(v) else mpmath.exp(mp(v) - lse)
        want_ls = -mpmath.inf if np.isneginf(v) else mp(v) - lse
        assert close(s[j], want_s, rel=rel, absolute=floor(dtype)), (j, v, s[j], want_s)
        assert close(ls[j], want_ls, rel=rel), (j, v, ls[j], want_ls)


@pytest.mark.parametrize("dtype", dt.FLOAT_DTYPES)
def test_kernel_scale_log_softmax_at_argmax_with_tiny_s(dtype):
    # max 0 in the last block, every other logit <= -60: s = sum_{j != k} exp(x_j) < 2**-60,
    # where log(1 + s) would be exactly 0 and only log1p of the sum without the argmax is right
    x = -60.0 - np.random.default_rng(14).integers(0, 40 * 64, KERNEL_N) / 64.0
    x[KERNEL_N - 3] = 0.0
    row = x.astype(dt.numpy_dtype(dtype))
    lse = mp_lse_counted(row)
    assert 0 < lse < mpmath.mpf(2) ** -60
    got = oracle.log_softmax(row)[KERNEL_N - 3]
    assert close(got, -lse, rel=tolerance(dtype)), (got, -lse)
    assert close(oracle.softmax(row)[KERNEL_N - 3], mpmath.exp(-lse), rel=tolerance(dtype))


def test_batch_of_short_rows_across_blocks():
    # 70 rows of 1000: the oracle takes 32 rows per block, so rows 33 and 69 lie in later blocks;
    # special rows inside a block leave their neighbours alone
    x = np.random.default_rng(15).uniform(-30, 30, (70, 1000)).astype(np.float32)
    x[40, 3], x[41, :], x[42, 7], x[43, 500] = np.nan, -np.inf, np.inf, -np.inf
    s, ls, lse = oracle.softmax(x), oracle.log_softmax(x), oracle.logsumexp(x)
    for i in (0, 33, 43, 69):
        want = mp_lse(x[i])
        assert close(lse[i], want, rel=REL_NARROW, absolute=REL_NARROW * 40)
        for j in (0, 499, 500, 999):
            want_s = mpmath.mpf(0) if np.isneginf(x[i, j]) else mpmath.exp(mp(x[i, j]) - want)
            assert close(s[i, j], want_s, rel=REL_NARROW, absolute=TINY_NARROW)
            assert close(ls[i, j], -mpmath.inf if np.isneginf(x[i, j]) else mp(x[i, j]) - want, rel=REL_NARROW)
    assert np.all(np.isnan(s[40])) and np.all(np.isnan(s[41])) and np.isnan(s[42, 7]) and np.isnan(lse[40])
    assert np.isneginf(lse[41]) and np.isposinf(lse[42]) and np.all(np.isnan(ls[41]))
    alone = oracle.softmax(x[39:45].copy())
    assert np.array_equal(alone, s[39:45], equal_nan=True)


# --- row_statistics ---------------------------------------------------------------------------


def mp_mean_gap(row) -> mpmath.mpf:
    finite = [mp(v) for v in row if np.isfinite(v)]
    a, lse = max(finite), mp_lse([v for v in row if np.isfinite(v)])
    return mpmath.fsum(mpmath.exp(v - lse) * (a - v) for v in finite)


@pytest.mark.parametrize("dtype", dt.FLOAT_DTYPES)
def test_row_statistics_match_mpmath(dtype):
    for row in rows(dtype, 4):
        st = oracle.row_statistics(row)
        finite = row[np.isfinite(row)]
        lse = mp_lse(finite)
        assert st.row_max.shape == st.log_sum.shape == st.mean_gap.shape == (1,) and st.weights.shape == row.shape
        assert st.weights.dtype == np.float64
        assert st.row_max[0] == float(finite.astype(np.float64).max())
        assert close(st.log_sum[0], lse - mp(finite.max()), rel=2.0**-48, absolute=2.0**-50)
        assert close(st.mean_gap[0], mp_mean_gap(row), rel=2.0**-40, absolute=2.0**-1000)
        for got, want in zip(st.weights, mp_softmax(row)):
            assert close(got, want, rel=2.0**-48, absolute=2.0**-1000), (row, got, want)
        if dtype != "float64":
            assert np.array_equal(st.weights, oracle.softmax(row))


def test_row_statistics_leave_non_finite_entries_out_and_keep_dims():
    x = np.array([[np.nan, 1.0, 2.0], [np.inf, 0.0, 0.0], [-np.inf, -np.inf, -np.inf], [0.0, 0.0, -np.inf]])
    st = oracle.row_statistics(x)
    assert st.row_max.shape == (4, 1)
    # the first two rows are their finite entries; the third has none; the fourth is ordinary
    assert np.allclose(st.weights[0], [0, 1 / (1 + math.e), math.e / (1 + math.e)], rtol=1e-15, atol=0)
    assert np.array_equal(st.weights[1], [0, 0.5, 0.5]) and np.array_equal(st.weights[2], [0, 0, 0])
    assert np.array_equal(st.weights[3], [0.5, 0.5, 0])
    assert np.array_equal(st.row_max[:, 0], [2.0, 0.0, -np.inf, 0.0])
    assert np.isclose(st.log_sum[0, 0], math.log1p(math.exp(-1)), rtol=1e-15) and st.log_sum[1, 0] == math.log(2)
    assert np.isneginf(st.log_sum[2, 0]) and st.mean_gap[2, 0] == 0 and st.mean_gap[3, 0] == 0
    assert np.isclose(st.mean_gap[0, 0], 1 / (1 + math.e), rtol=1e-15)
    wide = np.random.default_rng(16).uniform(-5, 5, (3, 4, 5))
    st1 = oracle.row_statistics(wide, axis=1)
    assert st1.row_max.shape == (3, 1, 5) and st1.weights.shape == (3, 4, 5)
    moved = oracle.row_statistics(np.moveaxis(wide, 1, -1))
    assert np.array_equal(np.moveaxis(st1.weights, 1, -1), moved.weights)
    assert np.array_equal(np.moveaxis(st1.mean_gap, 1, -1), moved.mean_gap)


def test_row_statistics_at_kernel_scale():
    row, _ = kernel_row("float32")
    st = oracle.row_statistics(row[None, :])
    assert np.array_equal(st.weights[0], oracle.softmax(row))
    values, counts = np.unique(row[np.isfinite(row)].astype(np.float64), return_counts=True)
    lse = mp_lse_counted(row)
    gap = mpmath.fsum(int(c) * mpmath.exp(mp(v) - lse) * (12 - mp(v)) for v, c in zip(values, counts))
    assert close(st.mean_gap[0, 0], gap, rel=2.0**-36) and close(st.log_sum[0, 0], lse - 12, rel=2.0**-48)


def test_narrow_shift_keeps_low_part():
    # float32 logits 100 and t = 0.45 * 2**-46 (rounded to float32): t - 100 is not exact in
    # float64 (ulp 2**-46 there), and dropping its low part would make softmax_1 wrong by
    # about 2**-47 relative, four times REL_NARROW
    # about 2**-47 relative, four times REL_NARROW. The same with 2**-24 (1 + 2**-23), 2**-30.6
    # times the maximum: just past the 2**-28 within which the oracle skips TwoSum.
    for row in ([100.0, 0.45 * 2.0**-46, 99.5], [100.0, 2.0**-24 * (1 + 2.0**-23), 99.5]):
        row = np.array(row, dtype=np.float32)
        for got, want in zip(oracle.softmax(row), mp_softmax(row)):
            assert close(got, want, rel=REL_NARROW), (got, want)
        for got, want in zip(oracle.log_softmax(row), mp_log_softmax(row)):
            assert close(got, want, rel=REL_NARROW), (got, want)
