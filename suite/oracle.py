"""Reference values for the deterministic ops, in higher precision than the output.

Inputs are the rounded arrays the implementation received; every float16,
bfloat16, float32 and float64 value is exact in float64 and in NumPy's long
double (x87 80-bit extended on x86-64 Linux: 64 significand bits, u_w = 2**-64).

Algorithm (the shifted log-sum-exp with log1p of Blanchard, Higham & Higham,
IMA J. Numer. Anal. 41(4), 2021, sec. 3, evaluated in extended precision with
the few steps that extended precision alone would get wrong made exact):

1. a = max_j x_j, k = its index. d_j = x_j - a is formed in float64 as an
   unevaluated sum hi_j + lo_j (TwoSum, exact), then carried into long double
   as D_j + r_j (Fast2Sum, exact to 2**-128 |d_j|). Rounding d_j itself to
   long double would cost 2**-64 |d_j| relative in exp(d_j), i.e. up to 2**-51
   for |d_j| near 11000: too much for float64 outputs.
2. e_j = exp(D_j) (1 + r_j): relative error about 2 u_w.
3. s = sum_{j != k} e_j (pairwise summation of a contiguous row: relative
   error <= (8 + log2 n) u_w), and log S = log1p(s), so that log_softmax at the
   argmax, -log1p(s), is accurate even when s < 2**-64.
4. softmax_j = e_j / (1 + s); log_softmax_j = (D_j - log S) + r_j (no
   cancellation: D_j <= 0 <= log S); LSE = a + log S; cross-entropy
   (a - x_t) + log S, with a - x_t again formed exactly.

The oracle's own relative error is therefore a few units of 2**-64 (times
log2 n): below 2**-8 ULP of float64. For float16, bfloat16 and float32 inputs
the same steps run in float64 instead (TwoSum still keeping x_j - a exact),
four times faster, with a relative error of a few units of 2**-53: below
2**-26 ULP of float32. Results are long double for float64 inputs and float64
otherwise. The one
exception is cancellation in LSE = a + log S when a < 0 and LSE is near 0: the
absolute error would be about 2**-63 (|a| + log S), so rows where |LSE| <
2**-6 (|a| + log S) are recomputed with mpmath at 40 digits (rare: the row's
maximum must be negative and almost cancel log S). tests/test_oracle.py checks
all of this against mpmath at 60 digits.

The method needs a 64-bit long double. Where long double is plain double
(MSVC, macOS on arm64) ``EXTENDED`` is False, the float64 oracle is only as
good as a careful float64 evaluation, and tests/test_oracle.py says so by
failing its precision test rather than silently passing.

Conventions (the mathematical limits, which the contract follows):
  all -inf row:    softmax NaN, log_softmax NaN, logsumexp -inf
  +inf entry:      logsumexp +inf; softmax/log_softmax NaN (inf/inf)
  NaN entry:       the whole row NaN
  empty axis:      logsumexp -inf (log of the empty sum); softmax and
                   log_softmax an empty array
"""
from __future__ import annotations

import numpy as np

WIDE = np.longdouble
EXTENDED = np.finfo(WIDE).nmant >= 63


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """hi + lo = a + b exactly (Knuth's TwoSum), lo = 0 where the sum is not finite."""
    with np.errstate(all="ignore"):
        hi = a + b
        bb = hi - a
        lo = (a - (hi - bb)) + (b - bb)
    return hi, np.where(np.isfinite(hi), lo, 0.0)


def _to_wide(hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(D, r) in long double with D + r = hi + lo to 2**-128 relative, |r| <= u_w |D|."""
    h = hi.astype(WIDE)
    l = lo.astype(WIDE)
    with np.errstate(all="ignore"):
        big = h + l
        r = (h - big) + l
    return big, np.where(np.isfinite(big), r, 0)


def _rows(x: np.ndarray, axis: int) -> np.ndarray:
    """x with ``axis`` moved last and contiguous, so the row sums are pairwise."""
    return np.ascontiguousarray(np.moveaxis(np.asarray(x), axis, -1))


class _Shifted:
    """Per-row quantities of the shifted algorithm, rows along the last axis."""

    def __init__(self, x: np.ndarray):
        x = np.asarray(x)
        self.wide_input = x.dtype == WIDE and WIDE != np.float64
        n = x.shape[-1]
        with np.errstate(all="ignore"):
            if self.wide_input:
                w = x
                row_max = np.max(w, axis=-1, keepdims=True, initial=-np.inf)
                a = np.where(np.isfinite(row_max), row_max, 0).astype(WIDE)
                d, r = w - a, np.zeros_like(w)
            else:
                w = x.astype(np.float64)
                row_max = np.max(w, axis=-1, keepdims=True, initial=-np.inf)
                a = np.where(np.isfinite(row_max), row_max, 0.0)
                hi, lo = _two_sum(w, -a)
                # float16, bfloat16 and float32 outputs: float64 is 2**29 times finer than their
                # ULP, and 4 times faster than long double; float64 outputs need long double.
                d, r = (hi, lo) if x.dtype.itemsize <= 4 else _to_wide(hi, lo)
            e = np.exp(d) * (1 + r)
            e = np.where(np.isnan(d), np.nan, e)
            total = np.sum(e, axis=-1, keepdims=True)
            finite_row = np.isfinite(row_max) & ~np.any(np.isnan(w), axis=-1, keepdims=True)
            if n > 0:
                others = e.copy()
                k = np.argmax(np.where(np.isnan(w), -np.inf, w), axis=-1)[..., None]
                np.put_along_axis(others, k, 0, axis=-1)
                s = np.sum(others, axis=-1, keepdims=True)
            else:
                s = np.zeros(x.shape[:-1] + (1,), dtype=e.dtype)
            self.log_total = np.where(finite_row, np.log1p(s), np.log(total))
            self.total = np.where(finite_row, 1 + s, total)
        self.w, self.a, self.d, self.r, self.e = w, a, d, r, e


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    t = _Shifted(_rows(x, axis))
    with np.errstate(all="ignore"):
        return np.moveaxis(t.e / t.total, -1, axis)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    t = _Shifted(_rows(x, axis))
    with np.errstate(all="ignore"):
        return np.moveaxis((t.d - t.log_total) + t.r, -1, axis)


CANCELLATION = 2.0**-6


def logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    rows = _rows(x, axis)
    t = _Shifted(rows)
    with np.errstate(all="ignore"):
        a = t.a.astype(WIDE)
        y = (a + t.log_total)[..., 0]
        cancels = np.isfinite(y) & (np.abs(y) < CANCELLATION * (np.abs(a) + t.log_total)[..., 0])
    if np.any(cancels) and not t.wide_input:
        # a < 0 < log S nearly cancel: the long double sum has an absolute error of about
        # 2**-64 (|a| + log S), large relative to |y|. Such rows are rare; mpmath redoes them.
        y = np.array(y, copy=True)
        flat_rows = rows.reshape(-1, rows.shape[-1])
        flat_y = y.reshape(-1)
        for i in np.flatnonzero(cancels.reshape(-1)):
            flat_y[i] = _mp_logsumexp(flat_rows[i])
    return y


def _mp_logsumexp(row: np.ndarray) -> WIDE:
    """log sum exp(row) to 40 digits with mpmath, rounded to long double."""
    import mpmath

    with mpmath.workdps(40):
        terms = [mpmath.exp(mpmath.mpf(float(v))) for v in row.astype(np.float64) if not np.isneginf(v)]
        return WIDE(mpmath.nstr(mpmath.log(mpmath.fsum(terms)), 30, strip_zeros=False))


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    t = _Shifted(_rows(logits, -1))
    target_logit = np.take_along_axis(t.w, np.asarray(targets)[:, None], axis=-1)
    with np.errstate(all="ignore"):
        if t.wide_input:
            gap, gap_lo = t.a - target_logit, 0
        else:
            gap, gap_lo = _to_wide(*_two_sum(t.a, -target_logit))
        return ((gap + t.log_total) + gap_lo)[:, 0]


def temperature_softmax(x: np.ndarray, temperature: float, axis: int = -1) -> np.ndarray:
    """softmax of the exact quotient x / T, carried in long double (the quotient is the input
    of the mathematical function; rounding it is the implementation's error)."""
    with np.errstate(all="ignore"):
        return softmax(np.asarray(x).astype(WIDE) / WIDE(temperature), axis=axis)


def evaluate(op: str, *args, **kwargs) -> np.ndarray:
    return {
        "softmax": softmax,
        "log_softmax": log_softmax,
        "logsumexp": logsumexp,
        "cross_entropy": cross_entropy,
        "temperature_softmax": temperature_softmax,
    }[op](*args, **kwargs)
