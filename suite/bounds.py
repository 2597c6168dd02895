"""Componentwise error bounds from first-order rounding error analysis.

Notation, per row along the softmax axis: n entries, unit roundoff u of the
output dtype, a = max_j x_j, d = a - min_j x_j over the finite entries,
S = sum_j exp(x_j - a) in [1, n], s = softmax(x), xbar = sum_j s_j |x_j|.

Two sources of error are admitted, and the bound is twice their first-order sum
(twice, as in Blanchard, Higham & Higham, IMA J. Numer. Anal. 41(4), 2021,
so that exp/log implementations that are faithful rather than correctly rounded
and different summation orders are not rejected):

1. The shifted algorithm (sec. 3 and 4 of the paper). x_j - a costs |x_j - a| u,
   exp a further u, the sum S a relative (n - 1) u plus the weighted term errors
   sum_j e^{x_j - a} |x_j - a| u / S <= min(d, (n - 1)/e) u (t e^{-t} <= 1/e), the
   division or the final subtraction u each. Keeping the weights instead of
   bounding |x_j - a| by d is what turns the paper's [n + 2 + 2d] u (Thm 4.3)
   into the sharper terms below; for d -> 0 they coincide.
2. Conditioning. An algorithm that is backward stable with respect to relative
   perturbations u|x_j| of the inputs (cross-entropy as LSE(x) - x_t, log-softmax
   as x - LSE(x), temperature softmax of the rounded x / T) is correct too: its
   error is the condition number times u. (The unshifted division-free softmax
   exp(x - LSE(x)) is not: the error u|LSE| it makes is not a perturbation of x,
   and its rows stop summing to 1; see implementations/broken/division_free_unshifted.py.) For softmax, sum_j |ds_i/dx_j| |x_j| = s_i ((1 - 2 s_i)|x_i| + xbar);
   for log-softmax and cross-entropy, |x_i| + xbar; for LSE, xbar. This is why a
   correct float32 softmax of logits near 1e4 has relative errors near 1e4 u in
   its small entries: the problem is ill conditioned there, the code is fine.

The conditioning terms are first order, valid while delta = u max|x_j| is
small. Beyond delta > 1/8 (float32 logits above 2e6, bfloat16 above 32) the
rigorous mean-value forms take over: softmax is 1/2-Lipschitz in the infinity
norm (the rows of its Jacobian diag(s) - s s^T have absolute sum
2 s_i (1 - s_i) <= 1/2), so |ds_i| <= u max|x| / 2 for every entry, and
LSE is 1-Lipschitz, so xbar is replaced by max|x_j|.

Results below the smallest normal number may additionally be flushed or
rounded to the subnormal grid: an absolute allowance of one smallest normal
covers both.

The accuracy module grades implementations against much tighter, measured
thresholds; these bounds only decide what is certainly wrong.
"""
from __future__ import annotations

import numpy as np

from suite import dtypes as dt
from suite import oracle

SAFETY = 2.0


def _row_stats(x: np.ndarray, axis: int):
    """n, a, d, log S, s and xbar per row, keepdims, in long double; masked entries have s = 0."""
    w = np.asarray(x).astype(oracle.WIDE)
    n = w.shape[axis]
    finite = np.isfinite(w)
    with np.errstate(all="ignore"):
        a = np.max(np.where(finite, w, -np.inf), axis=axis, keepdims=True, initial=-np.inf)
        lo = np.min(np.where(finite, w, np.inf), axis=axis, keepdims=True, initial=np.inf)
        d = np.where(np.isfinite(a) & np.isfinite(lo), a - lo, 0)
        s = np.where(finite, _softmax64(np.where(finite | np.isneginf(w), w, 0), axis), 0)
        xbar = np.sum(s * np.where(finite, np.abs(w), 0), axis=axis, keepdims=True)
        log_sum = np.log(np.sum(np.where(finite, np.exp(w - np.where(np.isfinite(a), a, 0)), 0), axis=axis, keepdims=True))
        largest_abs = np.max(np.where(finite, np.abs(w), 0), axis=axis, keepdims=True, initial=0)
    summation = n + np.minimum(d, max(n - 1, 0) / np.e)
    return w, n, np.where(np.isfinite(a), a, 0), d, log_sum, s, xbar, summation, largest_abs


def _softmax64(w: np.ndarray, axis: int) -> np.ndarray:
    """softmax in float64: the bounds need the weights s_j to a few digits, not to the oracle's 2**-64."""
    v = np.asarray(w).astype(np.float64)
    with np.errstate(all="ignore"):
        top = np.max(v, axis=axis, keepdims=True, initial=-np.inf)
        e = np.exp(v - np.where(np.isfinite(top), top, 0))
        return e / np.sum(e, axis=axis, keepdims=True)


def _beyond_first_order(largest_abs, u: float):
    return SAFETY * u * largest_abs > 0.125


def _conditioning_mean(xbar, largest_abs, u: float):
    """xbar while the first-order expansion holds, max|x_j| (the Lipschitz form) beyond it."""
    return np.where(_beyond_first_order(largest_abs, u), largest_abs, xbar)


def softmax(x: np.ndarray, dtype: str, axis: int = -1) -> np.ndarray:
    """Bound on |softmax_hat_i - softmax_i|, same shape as x."""
    u = dt.unit_roundoff(dtype)
    w, n, a, _, _, s, xbar, summation, largest_abs = _row_stats(x, axis)
    with np.errstate(all="ignore"):
        shifted = np.where(np.isfinite(w), np.abs(w - a), 0)
        absolute = np.where(np.isfinite(w), np.abs(w), 0)
        # sum_j |ds_i/dx_j| |x_j| = s_i [(1 - s_i)|x_i| + sum_{j != i} s_j |x_j|] = s_i [(1 - 2 s_i)|x_i| + xbar]
        conditioning = np.maximum((1 - 2 * s) * absolute + xbar, 0)
        beyond = _beyond_first_order(largest_abs, u)
        first_order = s * (summation + 3 + shifted + np.where(beyond, 0, conditioning)) * u
        lipschitz = np.where(beyond, u * largest_abs / 2, 0)
    return SAFETY * (first_order + lipschitz) + dt.smallest_normal(dtype)


def log_softmax(x: np.ndarray, dtype: str, axis: int = -1) -> np.ndarray:
    """Bound on |log_softmax_hat_i - log_softmax_i|, same shape as x."""
    u = dt.unit_roundoff(dtype)
    w, n, a, _, log_sum, _, xbar, summation, largest_abs = _row_stats(x, axis)
    xbar = _conditioning_mean(xbar, largest_abs, u)
    with np.errstate(all="ignore"):
        shifted = np.where(np.isfinite(w), np.abs(w - a), 0)
        absolute = np.where(np.isfinite(w), np.abs(w), 0)
        return SAFETY * u * (2 * shifted + absolute + xbar + 2 * log_sum + summation + 2)


def logsumexp(x: np.ndarray, dtype: str, axis: int = -1) -> np.ndarray:
    """Bound on |LSE_hat - LSE|, shape of x without axis."""
    u = dt.unit_roundoff(dtype)
    _, n, a, _, log_sum, _, xbar, summation, largest_abs = _row_stats(x, axis)
    xbar = _conditioning_mean(xbar, largest_abs, u)
    with np.errstate(all="ignore"):
        y = np.abs(a + log_sum)
        bound = SAFETY * u * (y + xbar + log_sum + summation + 2)
    return np.squeeze(bound, axis=axis)


def cross_entropy(logits: np.ndarray, targets: np.ndarray, dtype: str) -> np.ndarray:
    """Bound on |CE_hat - CE| per row, shape (N,)."""
    u = dt.unit_roundoff(dtype)
    w, n, a, _, log_sum, _, xbar, summation, largest_abs = _row_stats(logits, -1)
    xbar = _conditioning_mean(xbar, largest_abs, u)
    target_logit = np.take_along_axis(w, np.asarray(targets)[:, None], axis=-1)
    with np.errstate(all="ignore"):
        loss = np.abs((a - target_logit) + log_sum)
        bound = SAFETY * u * (loss + 2 * np.abs(a - target_logit) + np.abs(target_logit) + xbar + 2 * log_sum + summation + 2)
    return bound[:, 0]


def temperature_softmax(x: np.ndarray, temperature: float, dtype: str, axis: int = -1) -> np.ndarray:
    """softmax's bound on z = x / T: rounding x / T is a relative input perturbation."""
    with np.errstate(all="ignore"):
        z = np.asarray(x).astype(oracle.WIDE) / oracle.WIDE(temperature)
    return softmax(z, dtype, axis)


def evaluate(op: str, *args, dtype: str, **kwargs) -> np.ndarray:
    return {
        "softmax": softmax,
        "log_softmax": log_softmax,
        "logsumexp": logsumexp,
        "cross_entropy": cross_entropy,
        "temperature_softmax": temperature_softmax,
    }[op](*args, dtype=dtype, **kwargs)


# ---------------------------------------------------------------------------
# Normwise bounds of the shifted algorithm (docs/error-analysis.md, sec. 2).
#
# These admit the shifted algorithm (and the unshifted and division-free forms,
# which the paper shows to be of the same accuracy) but, unlike the bounds
# above, no conditioning term u |x_j|: they are what certification requires.
# Per row, with w = sum_j s_j |x_j - a| <= min(d, (n - 1)/e) and L = log S:
#   softmax       ||s_hat - s||_inf <= 2 [n + 2 + min(d, 1/e) + w] u ||s||_inf
#                 (Thm 4.3's [n + 2 + 2d] u, with the weights kept; equal as d -> 0)
#   log_softmax   |y_hat_i - y_i| <= 2 [n + w + L + |x_i - a| + |y_i|] u
#   logsumexp     |y_hat - y|     <= 2 [n + w + L + |y|] u     (eq. 4.8 plus u|y|)
#   cross_entropy |c_hat - c|     <= 2 [n + w + L + max(a - x_t, |LSE|) + |c|] u
# plus, for softmax, one smallest normal number for a flushed or gradually
# underflowing entry.
# ---------------------------------------------------------------------------


def _shifted_row_terms(x: np.ndarray, axis: int):
    """w, n, a, d, L (keepdims) and |x_j - a| for the normwise bounds."""
    w, n, a, d, log_sum, s, _, _, _ = _row_stats(x, axis)
    with np.errstate(all="ignore"):
        gap = np.where(np.isfinite(w), np.abs(w - a), 0)
        weighted = np.sum(s * gap, axis=axis, keepdims=True)
    return w, n, a, d, log_sum, gap, weighted


def normwise_softmax(x: np.ndarray, dtype: str, axis: int = -1) -> np.ndarray:
    """Allowed |s_hat_i - s_i|: the row's normwise bound times ||s||_inf, broadcast to x's shape."""
    u = dt.unit_roundoff(dtype)
    _, n, _, d, _, _, weighted = _shifted_row_terms(x, axis)
    s = _softmax64(x, axis)
    with np.errstate(all="ignore"):
        norm = np.max(np.where(np.isnan(s), 0, s), axis=axis, keepdims=True, initial=0)
        constant = n + 2 + np.minimum(d, 1 / np.e) + weighted
        row = SAFETY * constant * u * norm + dt.smallest_normal(dtype)
    return np.broadcast_to(row, np.shape(x)).astype(oracle.WIDE)


def normwise_softmax_constant(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """The row constant c with ||s_hat - s|| / ||s|| <= 2 c u (units of u), and Thm 4.3's n + 2 + 2d."""
    _, n, _, d, _, _, weighted = _shifted_row_terms(x, axis)
    with np.errstate(all="ignore"):
        sharp = n + 2 + np.minimum(d, 1 / np.e) + weighted
        paper = n + 2 + 2 * d
    return np.squeeze(sharp, axis=axis), np.squeeze(paper, axis=axis)


def normwise_log_softmax(x: np.ndarray, dtype: str, axis: int = -1) -> np.ndarray:
    u = dt.unit_roundoff(dtype)
    w, n, _, _, log_sum, gap, weighted = _shifted_row_terms(x, axis)
    with np.errstate(all="ignore"):
        y = gap + log_sum  # |log_softmax_j| = (a - x_j) + L: no cancellation
        return SAFETY * u * (n + weighted + log_sum + gap + y)


def normwise_logsumexp(x: np.ndarray, dtype: str, axis: int = -1) -> np.ndarray:
    u = dt.unit_roundoff(dtype)
    _, n, a, _, log_sum, _, weighted = _shifted_row_terms(x, axis)
    with np.errstate(all="ignore"):
        y = np.abs(a + log_sum)
        return np.squeeze(SAFETY * u * (n + weighted + log_sum + y), axis=axis)


def normwise_cross_entropy(logits: np.ndarray, targets: np.ndarray, dtype: str) -> np.ndarray:
    u = dt.unit_roundoff(dtype)
    w, n, a, _, log_sum, _, weighted = _shifted_row_terms(logits, -1)
    target_logit = np.take_along_axis(w, np.asarray(targets)[:, None], axis=-1)
    with np.errstate(all="ignore"):
        gap = a - target_logit
        lse = np.abs(a + log_sum)
        loss = np.abs(gap + log_sum)
        return (SAFETY * u * (n + weighted + log_sum + np.maximum(gap, lse) + loss))[:, 0]


def normwise(op: str, *args, dtype: str, **kwargs) -> np.ndarray:
    """Allowed absolute error per output element under the shifted-algorithm bounds."""
    return {
        "softmax": normwise_softmax,
        "log_softmax": normwise_log_softmax,
        "logsumexp": normwise_logsumexp,
        "cross_entropy": normwise_cross_entropy,
    }[op](*args, dtype=dtype, **kwargs)
