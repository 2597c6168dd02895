"""Error bounds from rounding error analysis: what a correct implementation may be off by.

Derivations in docs/error-analysis.md (sec. 2); the reference is Blanchard,
Higham & Higham, "Accurate computation of the log-sum-exp and softmax
functions", IMA J. Numer. Anal. 41(4), 2021.

Notation, per row along the class axis: n finite entries, a = max_j x_j,
gaps g_j = a - x_j >= 0, S = sum_j exp(-g_j) in [1, n], L = log S,
s = softmax(x), w = sum_j s_j g_j (the mean gap under s; w <= min(d, log n)).

**Two precisions.** u_p is the unit roundoff of the output dtype; u_w that of
the working precision: float32 (2**-24) for float16 and bfloat16 outputs, the
convention of every major framework (PyTorch's accumulate type, XLA's and
oneDNN's reductions), and u_p itself for float32 and float64. The model is the
shifted algorithm carried out in u_w on the exact input (the input is exact:
no condition number of the input enters), then rounded to the output dtype
faithfully: for 16-bit outputs one more ULP of the output.

**What certified means.** The error is within a tolerance that every sound
design meets; the allowance is the largest of theirs. Sound designs are: any
summation order (sequential, pairwise, blocked, online: the sum is charged its
recursive worst case, n - 1 roundings, for any order), a division or a
multiplication by a rounded reciprocal, a streaming log-add-exp for logsumexp,
and for 16-bit outputs float32 reductions whose elementwise intermediates are
rounded to the output dtype (h = u_p), each charged at its own magnitude:

  shift      z_j = fl16(x_j - a)      h g_j absolute in the exponent: relative h g_j in exp(z_j)
  exponential e_j = fl16(exp(z_j))    relative h; below r_min absolute min(h r_min, e_j)
  sum        S = fl16(sum_j e_j)      relative h (the float32 sum's result stored, as jnp.sum gives)
  log S      L = fl16(log S)          absolute h L
  1/S        r = fl16(1 / S)          relative h
  LSE        fl16(a + L), for LSE(x) - x_t   absolute h |LSE| (at most L: a is representable)

(a conversion to 16 bits rounds to nearest, so these terms carry no SAFETY).
Per entry of softmax, N_i = gamma(h (g_i + 1)) for the stored numerator, D =
(1 + sum_j s_j N_j + sum_{e_j < r_min} min(h r_min, 2 e_j) / S)(1 + h) - 1 for
the stored denominator, and H_i = (1 + N_i)(1 + h) / (1 - D) - 1 (the reciprocal's
h); the log domain gets -log(1 - D) + h (L - log(1 - D)) for log S, plus h g_i
(log_softmax's shift) or h g_t (cross-entropy's gap). None of these grows with
n: a sum accumulated in 16 bits (error up to (n - 1) h) is outside the model
and rejected on long rows. docs/error-analysis.md sec. 2.6 derives them.

Per output, with c the count of roundings the analysis charges (all exact
bounds on a rounded operation except exp of a perturbed argument), the
allowance is one ULP of a 16-bit output at |y| (the final rounding) plus
SAFETY * gamma(c u_w) |y|, gamma(t) = t / (1 - t) (Higham's gamma_n, so the
bound is rigorous at every order where c u_w < 1), where c is

  softmax      g_i + n + w + 3                       (relative to s_i; times (1 + H_i) for 16-bit outputs)
  log_softmax  g_i + n + w + L + |y_i| + 1           (absolute; plus the 16-bit log S and h g_i)
  logsumexp    n + w + L + |y| + 1                   (absolute; plus the 16-bit log S)
  cross_entropy n + w + L + g_t + |c| + 1            (absolute; plus min((2u_w + h)|LSE|, L) for LSE(x) - x_t)

and for logsumexp at least the streaming log-add-exp's 2 gamma((n - 1) u_w)(|y| + 2):
step k rounds at |y_k|, and reaches y damped by e^(y_k - y), |y_k| e^(y_k - y) <= |y| + 1/e.

SAFETY = 2 admits faithful rather than correctly rounded exp and log, and
other summation orders (online rescaling, blocks); the sum itself is charged
its recursive worst case, n - 1 roundings, which pairwise or blocked sums only
improve on. Nothing grows with |x|: the allowances stay inside the output's
range at every magnitude (a float32 or float64 probability is allowed at most
about 1% of itself, a float16 one 8%, a bfloat16 one 75% at gaps near 104,
where its stored shift is off by h g_i).

Outputs in the subnormal range may be flushed to zero (a reported behaviour,
``subnormal_outputs``) or rounded to the subnormal grid: an entry whose exact
value or allowed range reaches below the smallest normal number r_min gets
s_i plus one subnormal spacing more (flushing loses s_i, the subnormal grid
half a spacing), never a whole r_min.

temperature_softmax rounds the quotient z = x / T before the softmax: to
nearest for a division, within about 2u_p for x * fl(1/T), exactly when T is a
power of two. That is a perturbation of the input, not of the algorithm, and
its effect is taken exactly rather than to first order: softmax is increasing
in z_i and decreasing in every other z_j, so over the box |dz_j| <= r_j its
extremes are s_i^hi = softmax at (z_i + r_i, z_j - r_j) and s_i^lo at
(z_i - r_i, z_j + r_j). The allowance is max(s_i^hi - s_i, s_i - s_i^lo) plus
softmax's own allowance at s_i^hi; it never reaches 1.

Bounds are float64 arrays (the allowances need a few digits, not the oracle's
2**-64); infinite allowances (an infinite exact value) become 0, so such
outputs must be exactly right.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from suite import dtypes as dt

SAFETY = 2.0
# Working precision of 16-bit outputs: float32, whose unit roundoff this is.
FLOAT32_U = 2.0**-24
# x * fl(1/T) is within (2 + u) u |z| of z = x / T: 2.25 u_p covers it and a division.
QUOTIENT_ROUNDINGS = 2.25


def working_unit_roundoff(dtype: str) -> float:
    """u_w: float32's unit roundoff for float16 and bfloat16 outputs, the output's own otherwise."""
    return min(dt.unit_roundoff(dtype), FLOAT32_U)


def rounds_to_output(dtype: str) -> bool:
    """True where the working precision is wider than the output (16-bit outputs)."""
    return working_unit_roundoff(dtype) < dt.unit_roundoff(dtype)


def output_ulp(dtype: str, magnitude: np.ndarray) -> np.ndarray:
    """One ULP of the output dtype at |magnitude| (its subnormal spacing below the normal range):
    the error of rounding a working-precision result to a 16-bit output *faithfully* (the stored
    16-bit intermediates are charged apart, at their own magnitudes). Exactly 0 for float32 and
    float64 outputs, whose last rounding the working-precision terms count."""
    m = np.abs(np.asarray(magnitude, dtype=np.float64))
    if not rounds_to_output(dtype):
        return np.zeros_like(m)
    with np.errstate(all="ignore"):
        _, exponent = np.frexp(np.where(np.isfinite(m), m, 0.0))
        spacing = np.ldexp(1.0, exponent - dt.significand_bits(dtype))
    return np.maximum(spacing, dt.smallest_subnormal(dtype))


@dataclass(frozen=True)
class RowTerms:
    """Per-row quantities of the shifted algorithm (keepdims along the class axis), float64.

    Masked (-inf), +inf and NaN entries are left out of a, g, s and w: they enter the
    sums exactly (exp(-inf) = 0) or make the exact value non-finite, where the bound
    does not apply."""

    n: np.ndarray  # finite entries per row
    a: np.ndarray  # max over finite entries (0 if none)
    gap: np.ndarray  # a - x_j at finite entries, 0 elsewhere
    s: np.ndarray  # softmax weights at finite entries, 0 elsewhere (NaN rows: NaN)
    w: np.ndarray  # sum_j s_j g_j
    log_sum: np.ndarray  # L = log sum_j exp(-g_j)
    spread: np.ndarray  # d = a - min_j x_j over finite entries
    axis: int = -1  # the class axis the per-row quantities were reduced over


def row_terms(x: np.ndarray, axis: int = -1) -> RowTerms:
    v = np.array(x, dtype=np.float64, copy=True)
    if np.isfinite(v).all():
        return _finite_row_terms(v, axis)
    finite = np.isfinite(v)
    with np.errstate(all="ignore"):
        top = np.max(np.where(finite, v, -np.inf), axis=axis, keepdims=True, initial=-np.inf)
        a = np.where(np.isfinite(top), top, 0.0)
        gap = np.where(finite, a - v, 0.0)
        e = np.where(finite, np.exp(-gap), 0.0)
        total = np.sum(e, axis=axis, keepdims=True)
        s = e / np.where(total > 0, total, 1.0)
        # s_j = 0 where the gap overflowed to inf: such entries add nothing to the mean gap
        w = np.sum(np.where(e > 0, s * gap, 0.0), axis=axis, keepdims=True)
        log_sum = np.log(np.where(total > 0, total, 1.0))
        n = np.sum(finite, axis=axis, keepdims=True).astype(np.float64)
        spread = np.max(gap, axis=axis, keepdims=True, initial=0.0)
    nan_rows = np.any(np.isnan(v), axis=axis, keepdims=True)
    if np.any(nan_rows):
        s = np.where(nan_rows, np.nan, s)
    return RowTerms(n, a, gap, s, w, log_sum, spread, axis)


def _finite_row_terms(v: np.ndarray, axis: int) -> RowTerms:
    """row_terms of an all-finite float64 array, in place and in few passes (kernel-scale rows)."""
    if v.shape[axis] == 0:
        zeros = np.zeros(v.shape[:axis % v.ndim] + (1,) + v.shape[axis % v.ndim + 1 :])
        return RowTerms(zeros, zeros, v, v, zeros, np.zeros_like(zeros), zeros, axis)
    with np.errstate(over="ignore", invalid="ignore"):
        a = np.max(v, axis=axis, keepdims=True)
        d = np.subtract(v, a, out=v)  # x_j - a <= 0 (may overflow to -inf: then exp gives 0)
        e = np.exp(d)
        total = np.sum(e, axis=axis, keepdims=True)
        s = np.divide(e, total, out=e)
        gap = np.negative(d, out=d)
        # s_j = 0 where the gap overflowed to inf: such entries add nothing to the mean gap
        product = np.multiply(s, gap, out=np.empty_like(s))
        if np.isinf(gap).any():
            product[s == 0] = 0.0
        w = np.sum(product, axis=axis, keepdims=True)
        spread = np.max(gap, axis=axis, keepdims=True)
    n = np.full_like(a, v.shape[axis])
    return RowTerms(n, a, gap, s, w, np.log(total), spread, axis)


def gamma(count, u: float) -> np.ndarray:
    """Higham's gamma: count * u / (1 - count * u), inf once count * u >= 1 (no bound left)."""
    t = np.asarray(count, dtype=np.float64) * u
    with np.errstate(all="ignore"):
        return np.where(t < 1, t / (1 - t), np.inf)


def _finite_or_zero(bound: np.ndarray) -> np.ndarray:
    return np.where(np.isinf(bound), 0.0, bound)


def _absolute(t: RowTerms, dtype: str, *rounded: np.ndarray) -> np.ndarray:
    """SAFETY times the absolute error of a log-domain result: log S_hat is off by
    gamma(n + w + 1) (the sum's relative error, log(1 + delta) <= delta), plus u_w times the
    magnitudes that the exact roundings of the shift, log, subtraction or addition scale
    (each scaled by u before adding, so that magnitudes near float64's r_max do not overflow)."""
    u = working_unit_roundoff(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        return SAFETY * (gamma(t.n + t.w + 1, u) + sum(u * r for r in rounded))


def _subnormal_allowance(s: np.ndarray, allowed: np.ndarray, dtype: str) -> np.ndarray:
    """Flushed to zero (error s_i) or rounded on the subnormal grid (error <= one spacing), where the
    exact value or the bottom of its allowed range, s_i - allowed_i, reaches below the smallest
    normal number r_min."""
    tiny = dt.smallest_normal(dtype)
    with np.errstate(invalid="ignore"):
        reaches = np.subtract(s, allowed) < tiny
    # s_i + one subnormal spacing covers both, and the exact values below float64's own range
    # (a float64 softmax entry of 1e-617, which this float64 s_i holds as 0)
    return np.where(reaches, s + dt.smallest_subnormal(dtype), 0.0)


# ---------------------------------------------------------------------------
# 16-bit intermediates (docs/error-analysis.md, sec. 2.6). A 16-bit output may come from a design
# that rounds its elementwise intermediates to the output dtype (unit roundoff h = u_p), each
# charged at its own magnitude: the shift z_j = x_j - a (absolute h g_j in the exponent, a
# relative h g_j in exp(z_j)), the exponential e_j (relative h, or below the normal range r_min at
# most min(h r_min, e_j) absolute), log S (absolute h L), 1/S (relative h). Reductions stay in
# float32; a conversion to 16 bits rounds to nearest (IEEE 754), so these terms carry no SAFETY.
# ---------------------------------------------------------------------------

# exp(-104) is below half of float32's smallest subnormal: no larger gap reaches a float32 sum
# (a faithful exp may return 2**-149 there, nothing a sum S >= 1 notices)
LARGEST_FLOAT32_GAP = 104.0


def sixteen_bit_roundoff(dtype: str) -> float:
    """h: the unit roundoff of a 16-bit output, to which a sound design may round its elementwise
    intermediates; 0 for float32 and float64 outputs, whose intermediates u_w already counts."""
    return dt.unit_roundoff(dtype) if rounds_to_output(dtype) else 0.0


def _stored_term_error(t: RowTerms, dtype: str) -> np.ndarray:
    """N_j = gamma(h (g_j + 1)): the relative error of exp(fl16(x_j - a)) stored in 16 bits, the
    shift's h g_j in the exponent (e^t - 1 <= t / (1 - t)) and the store's h (gaps capped at 104,
    past which the float32 exponential is 0). Past r_min the store is absolute: _stored_sum_error."""
    return gamma(np.minimum(t.gap, LARGEST_FLOAT32_GAP) + 1, sixteen_bit_roundoff(dtype))


def _stored_sum_error(t: RowTerms, dtype: str) -> np.ndarray:
    """D >= |S_stored - S| / S for S summed in float32 from 16-bit exponentials and itself stored in
    16 bits, the float32 sum's own error aside (keepdims): (1 + sum_j s_j N_j + sum_{e_j < r_min}
    min(h r_min, 2 e_j) / S)(1 + h) - 1. Below the normal range a stored e_j is off by at most half a
    subnormal spacing, h r_min, and by at most e_j itself where it rounds to 0; 2 e_j covers the
    shift's perturbation of e_j (at most e^(h 104) <= 1.5). The last h is S written in the 16-bit
    dtype (a float32 reduction whose result has the input's dtype, as jnp.sum gives)."""
    h = sixteen_bit_roundoff(dtype)
    tiny = dt.smallest_normal(dtype)
    with np.errstate(all="ignore"):
        total = np.exp(t.log_sum)  # S >= 1
        live = t.s > 0
        relative = np.sum(np.where(live, t.s * _stored_term_error(t, dtype), 0.0), axis=t.axis, keepdims=True)
        below = live & (t.s * total < tiny)
        absolute = np.sum(np.where(below, np.minimum(h * tiny / total, 2 * t.s), 0.0), axis=t.axis, keepdims=True)
    return (1 + relative + absolute) * (1 + h) - 1


def _sixteen_bit_softmax(t: RowTerms, dtype: str) -> np.ndarray:
    """H_i = (1 + N_i)(1 + h) / (1 - D) - 1 relative to s_i: the stored numerator (N_i), 1/S rounded
    to 16 bits (h; a float32 division is counted in u_w), the stored denominator (D)."""
    h = sixteen_bit_roundoff(dtype)
    with np.errstate(all="ignore"):
        d = _stored_sum_error(t, dtype)
        return np.where(d < 1, (1 + _stored_term_error(t, dtype)) * (1 + h) / (1 - d) - 1, np.inf)


def _sixteen_bit_log_sum(t: RowTerms, dtype: str) -> np.ndarray:
    """-log(1 - D) + h (L - log(1 - D)): the absolute error of log S_stored rounded to 16 bits, the
    float32 parts aside (keepdims): log(1 + D) <= -log(1 - D), and the store of log S at its own
    magnitude, L plus that error. 0 for float32 and float64 outputs."""
    if not rounds_to_output(dtype):
        return np.zeros_like(t.log_sum)
    h = sixteen_bit_roundoff(dtype)
    with np.errstate(all="ignore"):
        d = _stored_sum_error(t, dtype)
        perturbed = np.where(d < 1, -np.log1p(-np.minimum(d, 1)), np.inf)
    return perturbed + h * (t.log_sum + perturbed)


# exp(-746) is 0 in float64: no entry with s_j > 0 has a larger gap
LARGEST_LIVE_GAP = 746.0


def _softmax_from_terms(t: RowTerms, dtype: str, magnitude: np.ndarray | None = None) -> np.ndarray:
    """(1 + 2 gamma((g_i + n + w + 3) u_w))(1 + H_i) - 1 relative to s_i, one ULP of a 16-bit output,
    and the subnormal allowance; H_i (0 for float32 and float64) is the 16-bit intermediates' share
    (``_sixteen_bit_softmax``).

    gamma(c u) <= c u / (1 - c_max u) for every c <= c_max, so one factor per row, taken at the
    largest count of an entry that can have s_i > 0, keeps the bound rigorous at every order."""
    s = t.s if magnitude is None else magnitude
    u = working_unit_roundoff(dtype)
    row = t.n + t.w + 3
    with np.errstate(all="ignore"):
        largest = (np.minimum(t.spread, LARGEST_LIVE_GAP) + row) * u
        scale = np.where(largest < 1, SAFETY * u / (1 - largest), np.inf)
        # gaps past exp's range (s_i = 0, or an overflowed inf) count as the largest live gap
        relative = np.minimum(t.gap, LARGEST_LIVE_GAP)
        relative += row
        relative *= scale
        if rounds_to_output(dtype):
            sixteen = _sixteen_bit_softmax(t, dtype)
            relative += sixteen * (1 + relative)
        own = np.multiply(s, relative)
        if not np.all(np.isfinite(scale)):
            # rows with no bound left (n u_w >= 1): entries with s_i = 0 still get 0, not 0 * inf
            own = np.where(s > 0, own, np.where(np.isnan(s), np.nan, 0.0))
        if rounds_to_output(dtype):
            own += np.where(s > 0, output_ulp(dtype, s + own), 0.0)
        own += _subnormal_allowance(s, own, dtype)
    return own


def softmax(x: np.ndarray, dtype: str, axis: int = -1) -> np.ndarray:
    """Bound on |softmax_hat_i - softmax_i|, same shape as x."""
    return _softmax_from_terms(row_terms(x, axis), dtype)


def log_softmax(x: np.ndarray, dtype: str, axis: int = -1) -> np.ndarray:
    """Bound on |log_softmax_hat_i - log_softmax_i|, same shape as x: the shifted algorithm in u_w,
    and for 16-bit outputs the stored log S and exponentials (_sixteen_bit_log_sum) and the shift
    fl16(x_i - a) at its own magnitude, h g_i."""
    t = row_terms(x, axis)
    y = t.gap + t.log_sum  # |log_softmax_i| = g_i + L, no cancellation
    with np.errstate(invalid="ignore", over="ignore"):
        working = _absolute(t, dtype, t.gap, t.log_sum, y)
        if rounds_to_output(dtype):  # (a float64 gap may overflow to inf, and 0 * inf is NaN)
            working = working + _sixteen_bit_log_sum(t, dtype) + sixteen_bit_roundoff(dtype) * t.gap
        bound = working + output_ulp(dtype, y + working)
    return _finite_or_zero(np.where(np.isfinite(np.asarray(x, dtype=np.float64)) | np.isnan(t.s), bound, 0.0))


def streaming_logsumexp(t: RowTerms, dtype: str) -> np.ndarray:
    """2 gamma((n - 1) u_w) (|y| + 2): a streaming log-add-exp, y_k = max(y_{k-1}, x_k) +
    log1p(exp(-|y_{k-1} - x_k|)), in any order (np.logaddexp.reduce). Step k rounds at its own
    magnitude, u(|y_k| + 1.26) (the sum u|y_k|, log1p u log 2, exp of the rounded difference
    0.57 u), and the step's error reaches y damped by dy/dy_k = e^(y_k - y) <= 1, where
    |y_k| e^(y_k - y) <= |y| + 1/e: at most (n - 1)(|y| + 1.63) u (keepdims)."""
    u = working_unit_roundoff(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(t.n > 1, SAFETY * gamma(np.maximum(t.n - 1, 0), u) * (np.abs(t.a + t.log_sum) + 2), 0.0)


def logsumexp(x: np.ndarray, dtype: str, axis: int = -1) -> np.ndarray:
    """Bound on |LSE_hat - LSE|, shape of x without axis: the larger of the shifted algorithm's
    (in u_w; for 16-bit outputs with its stored intermediates) and a streaming log-add-exp's."""
    t = row_terms(x, axis)
    y = np.abs(t.a + t.log_sum)
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = _absolute(t, dtype, t.log_sum, y) + _sixteen_bit_log_sum(t, dtype)
        working = np.maximum(shifted, streaming_logsumexp(t, dtype))
        bound = working + output_ulp(dtype, y + working)
    return np.squeeze(bound, axis=axis)


def cross_entropy(logits: np.ndarray, targets: np.ndarray, dtype: str, **options) -> np.ndarray:
    """Bound on |CE_hat - CE|: the plain form's per row (below), or under options
    :func:`cross_entropy_with_options`'s."""
    from suite import oracle

    if oracle.options_in_use(options):
        return cross_entropy_with_options(logits, targets, dtype, **options)
    return _plain_cross_entropy(logits, targets, dtype)


def _plain_cross_entropy(logits: np.ndarray, targets: np.ndarray, dtype: str) -> np.ndarray:
    """Bound on |CE_hat - CE| per row, shape (N,). Admits (a - x_t) + L and LSE(x) - x_t, and for
    16-bit outputs the stored intermediates: a - x_t (h g_t), log S and the exponentials, LSE (h|LSE|)."""
    t = row_terms(logits, -1)
    target_gap = np.take_along_axis(t.gap, np.asarray(targets)[:, None].astype(np.intp), axis=-1)
    target_logit = np.take_along_axis(np.asarray(logits, dtype=np.float64), np.asarray(targets)[:, None].astype(np.intp), axis=-1)
    lse = np.abs(t.a + t.log_sum)
    loss = target_gap + t.log_sum
    # LSE(x) - x_t rounds LSE = a + L, an error of at most u|LSE| and, a being representable, at
    # most L itself: the admission never exceeds the loss it can lose entirely (docs sec. 2.4)
    u = working_unit_roundoff(dtype)
    h = sixteen_bit_roundoff(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        log_sum = _sixteen_bit_log_sum(t, dtype)
        lse_rounding = np.minimum((SAFETY * u + h) * lse, t.log_sum + SAFETY * gamma(t.n + t.w + 1, u) + log_sum)
        working = _absolute(t, dtype, t.log_sum, target_gap, loss) + log_sum + lse_rounding
        if h:  # (a float64 gap may overflow to inf, and 0 * inf is NaN)
            working = working + h * target_gap
        bound = working + output_ulp(dtype, loss + working)
    # a masked target has an infinite loss: it must come back exactly inf
    return np.where(np.isfinite(target_logit), bound, 0.0)[:, 0]


# ---------------------------------------------------------------------------
# cross_entropy's options (docs/error-analysis.md sec. 2.9; definitions in suite/oracle.py). Each
# option's allowance is derived from the plain bounds above, evaluated at the soft-capped logits x':
# B_r the plain cross-entropy bound, B^L_r logsumexp's, B^ls_rj log_softmax's. u_p is the output's
# unit roundoff (the 16-bit designs round their elementwise intermediates to it), u_w the working
# precision's (the sums'), N the rows, K the classes.
# ---------------------------------------------------------------------------


def softcap_radius(logits: np.ndarray, softcap: float, dtype: str) -> np.ndarray:
    """r_j >= |x'_hat_j - x'_j| for x' = c tanh(x / c) (float64, shape of the logits): the quotient
    x / c rounded (u|x / c|, which tanh damps by sech^2, times c), tanh evaluated in the working
    precision either accurately (relative u_w) or through exp as 1 - 2 / (e^{2y} + 1) or
    2 sigmoid(2y) - 1 (absolute: 4 u_w), each result and the product c t stored at precision u_p
    (a 16-bit design rounds them to the output dtype):

        r_j = SAFETY [(u_p + u_w)(|x_j| sech^2((1 - 2u_p)|x_j| / c) + 3 |x'_j|) + 4 c u_w]"""
    u, uw, c = dt.unit_roundoff(dtype), working_unit_roundoff(dtype), float(softcap)
    x = np.asarray(logits, dtype=np.float64)
    with np.errstate(all="ignore"):
        y = np.abs(x) / c * (1 - 2 * u)
        damped = np.abs(x) * 4 * np.exp(-2 * y) / (1 + np.exp(-2 * y)) ** 2  # |x| sech^2(y), 0 past exp's range
        damped = np.where(np.isfinite(damped), damped, 0.0)
        capped = c * np.tanh(x / c)
        return SAFETY * ((u + uw) * (damped + 3 * np.abs(capped)) + 4 * c * uw)


@dataclass(frozen=True)
class CrossEntropyAllowance:
    """The per-row parts of the options' allowance (float64, (N,)), 0 at ignored rows: ``ce`` for
    ce_r and ``zl`` for z_r (the final sum ce_r + z_r and any 16-bit store of it aside), with the
    oracle's terms ``exact`` they are measured on and R_r, the row's largest softcap radius."""

    exact: object  # suite.oracle.CrossEntropyTerms
    ce: np.ndarray
    zl: np.ndarray
    radius: np.ndarray


def cross_entropy_allowance(logits, targets, dtype: str, **options) -> CrossEntropyAllowance:
    """The allowance of each row's ce_r and z_r (docs/error-analysis.md sec. 2.7):

      nll      (1 - e) w_t B_r                      the plain loss at x', scaled
      smooth   (e / K) max(A_r, C_r)                the sum S_r = sum_j w_j (LSE - x'_j), either as
               A_r = sum_j w_j B^ls_rj + SAFETY (gamma(K + 1, u_w) + 2u_p) S_r
                                                    (-sum_j w_j log_softmax_j: torch), or as
               C_r = W B^L_r + SAFETY (gamma(K + 2, u_w) + 2u_p)(W |LSE| + sum_j w_j |x'_j|)
                                                    (W LSE - sum_j w_j x'_j: Liger-Kernel; its
                                                    cancellation costs K u |x'| where logits sit
                                                    on an offset), W = sum_j w_j
      softcap  2 R_r ((1 - e) w_t + (e / K) W)       LSE and every x'_j move by at most R_r = max_j r_j
      combine  SAFETY (gamma(c, u_p)|nll part| + gamma(3, u_p)|smooth part|)   the factors present
                                                    and their products, each rounded once: c counts
                                                    w_t (1) and 1 - e with its product (2); e / K, its
                                                    product and the parts' sum (3, with smoothing)
      z-loss   z (B^L + R)(2|LSE| + B^L + R) + SAFETY gamma(3, u_p) z LSE^2
                                                    |LSE^2 - LSE_hat^2| = |d| |2 LSE + d|; z rounded, two products
    """
    from suite import oracle

    t = oracle.cross_entropy_terms(logits, targets, **options)
    x = np.asarray(t.capped, dtype=np.float64)
    n, k = x.shape
    u, uw = dt.unit_roundoff(dtype), working_unit_roundoff(dtype)
    w = np.asarray(t.weight, dtype=np.float64)
    wt = w[t.targets]
    eps, z = float(t.eps), float(t.z)
    lse = np.asarray(t.lse, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        radius = np.max(softcap_radius(logits, t.softcap, dtype), axis=-1, initial=0.0) if t.softcap is not None else np.zeros(n)
        b_lse = logsumexp(x, dtype)
        nll_part = (1 - eps) * wt * np.asarray(t.nll, dtype=np.float64)
        ce = (1 - eps) * wt * _plain_cross_entropy(x, t.targets, dtype) + 2 * radius * (1 - eps) * wt
        if eps:
            big_w = float(np.sum(w))
            smooth = np.asarray(t.smooth, dtype=np.float64)
            by_log_softmax = np.sum(w * log_softmax(x, dtype), axis=-1) + SAFETY * (gamma(k + 1, uw) + 2 * u) * smooth
            magnitude = big_w * np.abs(lse) + np.sum(w * np.abs(x), axis=-1)
            by_lse = big_w * b_lse + SAFETY * (gamma(k + 2, uw) + 2 * u) * magnitude
            smooth_part = eps / k * smooth
            ce = ce + eps / k * (np.maximum(by_log_softmax, by_lse) + 2 * radius * big_w)
        else:
            smooth_part = 0.0
        # the roundings of the factors and products present: w_t (1), 1 - e and its product (2);
        # e / K, its product and the sum of the two parts (3)
        nll_roundings = (1 if t.weighted else 0) + (2 if eps else 0)
        ce = ce + SAFETY * (gamma(nll_roundings, u) * np.abs(nll_part) + gamma(3 if eps else 0, u) * np.abs(smooth_part))
        if z:
            d = b_lse + radius
            zl = z * d * (2 * np.abs(lse) + d) + SAFETY * gamma(3, u) * z * lse * lse
        else:
            zl = np.zeros(n)
    kept = t.kept
    return CrossEntropyAllowance(t, np.where(kept, ce, 0.0), np.where(kept, zl, 0.0), np.where(kept, radius, 0.0))


def cross_entropy_with_options(logits, targets, dtype: str, **options) -> np.ndarray:
    """Bound on the options' loss, shape (N,) for reduction "none" and () for "mean" and "sum"
    (docs/error-analysis.md sec. 2.9): per row the parts of :func:`cross_entropy_allowance`, the
    sum ce_r + z_r (u_p, with a z-loss) and one ULP of a 16-bit output; an ignored row is exactly 0.
    The sum over N rows is charged its recursive worst case, SAFETY gamma(N, u_w) sum_r |l_r| (any
    order), each row stored first (one 16-bit ULP). The mean divides the ce sum by D (a sum of N
    nonnegative weights: relative delta = SAFETY (gamma(N, u_w) + u_p)) and the z sum by M (a count):
    |C_hat / D_hat - C / D| <= (E_C + |C| delta) / (D (1 - delta)); the divisions and the final
    sum cost SAFETY gamma(1 or 2, u_p) of their magnitudes, and one 16-bit ULP the result."""
    a = cross_entropy_allowance(logits, targets, dtype, **options)
    t = a.exact
    u, uw = dt.unit_roundoff(dtype), working_unit_roundoff(dtype)
    ce, zl = np.asarray(t.ce, dtype=np.float64), np.asarray(t.zl, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        added = SAFETY * u if t.z else 0.0  # the sum ce_r + z_r, where there is one
        if t.reduction == "none":
            loss = ce + zl
            working = a.ce + a.zl + added * np.abs(loss)
            return np.where(t.kept, working + output_ulp(dtype, np.abs(loss) + working), 0.0)
        n = len(ce)
        stored = lambda part, allowed: allowed + output_ulp(dtype, np.abs(part) + allowed)  # noqa: E731
        if t.reduction == "sum":
            rows = ce + zl
            total = float(np.sum(rows))
            working = float(np.sum(stored(rows, a.ce + a.zl + added * np.abs(rows))))
            working += SAFETY * gamma(n, uw) * float(np.sum(np.abs(rows)))
            return np.asarray(working + output_ulp(dtype, abs(total) + working))
        d, m = (float(v) for v in t.denominators)
        delta = SAFETY * (gamma(n, uw) + u)

        def mean_part(part, allowed, denominator):
            if not np.any(part) and not np.any(allowed):
                return 0.0, 0.0
            s = float(np.sum(part))
            e = float(np.sum(stored(part, allowed))) + SAFETY * gamma(n, uw) * float(np.sum(np.abs(part)))
            return s / denominator, (e + abs(s) * delta) / (denominator * (1 - delta))

        c_mean, c_error = mean_part(ce, a.ce, d)
        z_mean, z_error = mean_part(zl, a.zl, m)
        # the division of each part, and their sum where there are two
        working = c_error + z_error + SAFETY * (gamma(2 if t.z else 1, u)) * (abs(c_mean) + abs(z_mean))
        value = abs(c_mean + z_mean)
        bound = working + output_ulp(dtype, value + working)
        return np.asarray(bound if np.isfinite(bound) else 0.0)


def quotient_radius(x: np.ndarray, temperature: float, dtype: str) -> np.ndarray:
    """r_j: how far the rounded quotient fl(x_j / T) may lie from x_j / T (0 for T a power of two)."""
    z = np.asarray(x, dtype=np.float64) / float(temperature)
    mantissa, _ = np.frexp(float(temperature))
    if mantissa == 0.5:  # dividing by a power of two is exact (barring underflow, which softmax ignores)
        return np.zeros_like(z)
    u = dt.unit_roundoff(dtype)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(z), (QUOTIENT_ROUNDINGS * u + 2.0**-53) * np.abs(z), 0.0)


def softmax_envelope(z: np.ndarray, radius: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """(s^lo, s^hi): the exact extremes of softmax_i over the box |dz_j| <= r_j (float64)."""
    z = np.asarray(z, dtype=np.float64)
    finite = np.isfinite(z)
    with np.errstate(all="ignore"):
        lo_z, hi_z = z - radius, z + radius
        top = np.max(np.where(finite, hi_z, -np.inf), axis=axis, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(top), top, 0.0)
        e_lo = np.where(finite, np.exp(lo_z - m), 0.0)
        e_hi = np.where(finite, np.exp(hi_z - m), 0.0)
        rest_lo, rest_hi = _sum_of_the_others(e_lo, axis), _sum_of_the_others(e_hi, axis)
        s_hi = np.where(finite, e_hi / (e_hi + rest_lo), 0.0)
        s_lo = np.where(finite, e_lo / (e_lo + rest_hi), 0.0)
    return np.nan_to_num(s_lo, nan=0.0), np.nan_to_num(s_hi, nan=1.0)


def _sum_of_the_others(e: np.ndarray, axis: int) -> np.ndarray:
    """sum_{j != i} e_j for every i (e >= 0). total - e_i loses every digit where e_i dominates the
    row (1 + 7e-38 - 1 = 0), so the largest entry's is summed afresh with itself left out; for
    every other entry total - e_i keeps its relative accuracy (the largest entry stays in it)."""
    rest = np.maximum(np.sum(e, axis=axis, keepdims=True) - e, 0.0)
    if e.shape[axis] == 0:
        return rest
    top = np.expand_dims(np.argmax(e, axis=axis), axis)
    others = e.copy()
    np.put_along_axis(others, top, 0.0, axis=axis)
    np.put_along_axis(rest, top, np.sum(others, axis=axis, keepdims=True), axis=axis)
    return rest


def temperature_softmax(x: np.ndarray, temperature: float, dtype: str, axis: int = -1) -> np.ndarray:
    """Bound on |softmax_hat(x / T)_i - softmax(x / T)_i|: the rounding of x / T taken exactly
    (the envelope of the box), then softmax's own error at the envelope's top."""
    with np.errstate(all="ignore"):
        z = np.asarray(x, dtype=np.float64) / float(temperature)
    t = row_terms(z, axis)
    s_lo, s_hi = softmax_envelope(z, quotient_radius(x, temperature, dtype), axis)
    with np.errstate(invalid="ignore"):
        perturbation = np.maximum(s_hi - t.s, t.s - s_lo)
        bound = np.maximum(perturbation, 0) + _softmax_from_terms(t, dtype, magnitude=np.maximum(s_hi, t.s))
        # a probability is never further than max(s, 1 - s) from any point of [0, 1]
        return np.minimum(bound, np.maximum(t.s, 1 - t.s))


# ---------------------------------------------------------------------------
# Normwise bounds of the shifted algorithm (docs/error-analysis.md, sec. 2).
#
# What ``normwise_bound`` requires: the same model, measured in the infinity norm
# of each row, where the gap terms are damped (s_j g_j <= ||s||_inf / e):
#   softmax       ||s_hat - s||_inf <= (u_p + 2 gamma([n + 2 + min(d, 1/e) + w] u_w)) ||s||_inf
#                 (Thm 4.3's [n + 2 + 2d] u with the weights kept; equal as d -> 0)
#   log_softmax   |y_hat_i - y_i| <= u_p |y_i| + 2 [gamma(n + w + 1) + (L + g_i + |y_i|) u_w]
#   logsumexp     |y_hat - y|     <= u_p |y| + 2 [gamma(n + w + 1) + (L + |y|) u_w]   (eq. 4.8 plus u|y|)
#   cross_entropy |c_hat - c|     <= u_p |c| + 2 [gamma(n + w + 1) + (L + g_t + |c|) u_w] + min(2 u_w |LSE|, L + ...)
# (the log-domain bounds are the componentwise ones above: no conditioning term in either)
# plus, for softmax, one subnormal allowance for a flushed or gradually underflowing entry.
# ---------------------------------------------------------------------------


def normwise_softmax_constant(x: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """The row constant c with ||s_hat - s|| / ||s|| <= 2 c u (units of u_w), and Thm 4.3's n + 2 + 2d."""
    t = row_terms(x, axis)
    sharp = t.n + 2 + np.minimum(t.spread, 1 / np.e) + t.w
    paper = t.n + 2 + 2 * t.spread
    return np.squeeze(sharp, axis=axis), np.squeeze(paper, axis=axis)


def normwise_softmax(x: np.ndarray, dtype: str, axis: int = -1) -> np.ndarray:
    """Allowed |s_hat_i - s_i|: the row's normwise bound times ||s||_inf, broadcast to x's shape; for
    16-bit outputs plus the row's largest s_j H_j (1 + relative), the 16-bit intermediates' share of
    the componentwise bound, which bounds theirs in the infinity norm."""
    t = row_terms(x, axis)
    with np.errstate(invalid="ignore"):
        norm = np.max(np.where(np.isnan(t.s), 0, t.s), axis=axis, keepdims=True, initial=0)
        constant = t.n + 2 + np.minimum(t.spread, 1 / np.e) + t.w
        relative = SAFETY * gamma(constant, working_unit_roundoff(dtype))
        row = relative * norm
        if rounds_to_output(dtype):
            share = np.where(t.s > 0, t.s * _sixteen_bit_softmax(t, dtype), 0.0)
            row = row + np.max(share, axis=axis, keepdims=True, initial=0) * (1 + relative)
        row = row + output_ulp(dtype, norm + row)
        entry = np.broadcast_to(row, np.shape(x)) + _subnormal_allowance(t.s, t.s * relative, dtype)
    return entry


# Log-domain outputs carry no gap-damping to exploit: their normwise and componentwise bounds coincide.
normwise_log_softmax = log_softmax
normwise_logsumexp = logsumexp
normwise_cross_entropy = cross_entropy
