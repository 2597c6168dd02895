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
