"""Error measures: componentwise error in ULPs of the output dtype, normwise error per row.

Componentwise: ``ulp_error(got, exact, dtype)`` is |got - exact| / ulp(exact),
where ulp(t) is the spacing of the dtype's numbers at |t|: 2**(e - p + 1) for
2**e <= |t| < 2**(e + 1) and p significand bits (the "Goldberg" ULP, which
makes a correctly rounded result at most 0.5 ULP from the exact value), and the
subnormal spacing 2**(emin - p + 1) below the smallest normal number, so that
a result on the subnormal grid is judged on that grid and not in "relative"
units it cannot reach. Exact values at or beyond the overflow threshold are
taken to be the infinity they round to.

Special values: equal results (the same infinity, or NaN against NaN) have
error 0; any other pairing with a non-finite value is infinitely wrong.

Normwise: ``normwise_error(got, exact, axis)`` is the relative error in the
infinity norm of each row, ||got - exact||_inf / ||exact||_inf, the measure of
Blanchard, Higham & Higham (2021), Thm 4.3 for softmax.
"""
from __future__ import annotations

import numpy as np

from suite import dtypes as dt
from suite.oracle import WIDE


def saturate(exact: np.ndarray, dtype: str) -> np.ndarray:
    """exact in long double, with values that round past r_max replaced by +-inf."""
    e = np.asarray(exact).astype(WIDE)
    top = WIDE(dt.overflow_threshold(dtype))
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(e) >= top, np.sign(e) * WIDE(np.inf), e)


def ulp(exact: np.ndarray, dtype: str) -> np.ndarray:
    """The spacing of ``dtype`` at |exact| (subnormal spacing below the smallest normal,
    the spacing at r_max beyond it), in long double."""
    p = dt.significand_bits(dtype)
    e = np.abs(np.asarray(exact).astype(WIDE))
    top = WIDE(dt.largest(dtype))
    with np.errstate(all="ignore"):
        clipped = np.where(np.isfinite(e), np.minimum(e, top), top)
        _, exponent = np.frexp(clipped)  # clipped = m 2**exponent, m in [0.5, 1)
        spacing = np.ldexp(WIDE(1), (exponent - p).astype(np.int32))
    tiny = clipped < WIDE(dt.smallest_normal(dtype))
    return np.where(tiny, WIDE(dt.smallest_subnormal(dtype)), spacing)


def ulp_error(got: np.ndarray, exact: np.ndarray, dtype: str) -> np.ndarray:
    """|got - exact| in ULPs of ``dtype`` at exact, elementwise (float64 array)."""
    g = np.asarray(got).astype(WIDE)
    e = saturate(exact, dtype)
    with np.errstate(all="ignore"):
        err = np.abs(g - e) / ulp(e, dtype)
        same = (g == e) | (np.isnan(g) & np.isnan(e))
        err = np.where(same, 0, np.where(np.isfinite(g) & np.isfinite(e), err, np.inf))
    return err.astype(np.float64)


def normal_outputs(exact: np.ndarray, dtype: str) -> np.ndarray:
    """Mask of outputs whose exact value rounds to a finite normal number of ``dtype`` (0 excluded)."""
    e = np.abs(saturate(exact, dtype))
    with np.errstate(invalid="ignore"):
        return np.isfinite(e) & (e >= WIDE(dt.smallest_normal(dtype)))


def subnormal_outputs(exact: np.ndarray, dtype: str) -> np.ndarray:
    """Mask of outputs whose exact value lies strictly between 0 and the smallest normal number."""
    e = np.abs(np.asarray(exact).astype(WIDE))
    with np.errstate(invalid="ignore"):
        return (e > 0) & (e < WIDE(dt.smallest_normal(dtype)))


def row_abs_error(got: np.ndarray, exact: np.ndarray, axis: int) -> np.ndarray:
    """max_i |got_i - exact_i| per row (0 where equal, inf where one side is non-finite)."""
    g = np.asarray(got).astype(WIDE)
    e = np.asarray(exact).astype(WIDE)
    with np.errstate(all="ignore"):
        diff = np.abs(g - e)
        same = (g == e) | (np.isnan(g) & np.isnan(e))
        diff = np.where(same, 0, np.where(np.isnan(diff), np.inf, diff))
    return np.max(diff, axis=axis, initial=0)


def normwise_error(got: np.ndarray, exact: np.ndarray, axis: int = -1) -> np.ndarray:
    """||got - exact||_inf / ||exact||_inf for each row along ``axis`` (float64 array)."""
    e = np.asarray(exact).astype(WIDE)
    with np.errstate(all="ignore"):
        norm = np.max(np.where(np.isnan(e), 0, np.abs(e)), axis=axis, initial=0)
        return (row_abs_error(got, exact, axis) / norm).astype(np.float64)


def round_to_dtype(exact: np.ndarray, dtype: str) -> np.ndarray:
    """exact (long double) rounded to nearest in ``dtype``, without double rounding.

    The cast through float64 may land one step off near a midpoint; the nearest of
    that candidate and its two neighbours is the correctly rounded value (ties,
    measure-zero for an oracle value, go to the candidate)."""
    e = saturate(exact, dtype)
    np_dtype = dt.numpy_dtype(dtype)
    with np.errstate(all="ignore"):
        c = e.astype(np.float64).astype(np_dtype)
        lo = np.nextafter(c, np.array(-np.inf, dtype=np_dtype))
        hi = np.nextafter(c, np.array(np.inf, dtype=np_dtype))
        best = c
        for cand in (lo, hi):
            closer = np.abs(cand.astype(WIDE) - e) < np.abs(best.astype(WIDE) - e)
            best = np.where(closer, cand, best)
    return np.where(np.isfinite(e), best, e.astype(np_dtype)).astype(np_dtype)
