"""Pure NumPy reference: the readable, stable implementation.

Algorithm (Blanchard, Higham & Higham 2021, sec. 3, the shifted log-sum-exp with
log1p): per row, a = max(x) at index k, s = sum_{i != k} exp(x_i - a). Then
logsumexp = a + log1p(s), log_softmax = (x - a) - log1p(s), softmax =
exp(x - a) / (1 + s). Excluding the maximum from s and using log1p keeps
log_softmax accurate at the argmax, where log(1 + s) would round s away.

float16 and bfloat16 are computed in float32 and rounded once at the end, as
the frameworks do; float32 and float64 are computed in their own precision.
"""
from __future__ import annotations

import numpy as np

from suite.adapter import numpy_adapter
from suite.ops import CROSS_ENTROPY_OPTIONS

DTYPES = ("float16", "bfloat16", "float32", "float64")


def _working(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32) if x.dtype.itemsize == 2 else x


def _shifted_terms(w: np.ndarray, axis: int):
    """Per row: the shift a, x - a, exp(x - a), log(sum exp(x - a)) and sum exp(x - a).

    a is the row maximum where it is finite and 0 otherwise, so that all -inf,
    +inf and NaN rows flow through exp/log to the mathematically right answer
    (-inf, +inf, NaN) instead of meeting inf - inf. Where a is finite the sum is
    1 + s, with s summed over every entry but one argmax, and its log is log1p(s).
    """
    row_max = np.max(w, axis=axis, keepdims=True, initial=-np.inf)
    finite = np.isfinite(row_max)
    a = np.where(finite, row_max, 0).astype(w.dtype)
    shifted = w - a
    e = np.exp(shifted)
    others = e.copy()
    if w.shape[axis] > 0:
        np.put_along_axis(others, np.expand_dims(np.argmax(w, axis=axis), axis), 0, axis=axis)
    s = np.sum(others, axis=axis, keepdims=True)
    total = np.sum(e, axis=axis, keepdims=True)
    log_total = np.where(finite, np.log1p(s), np.log(total))
    denominator = np.where(finite, 1 + s, total)
    return a, shifted, e, log_total, denominator


def softmax(x, axis=-1):
    w = _working(x)
    with np.errstate(all="ignore"):
        _, _, e, _, denominator = _shifted_terms(w, axis)
        return (e / denominator).astype(x.dtype)


def log_softmax(x, axis=-1):
    w = _working(x)
    with np.errstate(all="ignore"):
        _, shifted, _, log_total, _ = _shifted_terms(w, axis)
        return (shifted - log_total).astype(x.dtype)


def logsumexp(x, axis=-1):
    w = _working(x)
    with np.errstate(all="ignore"):
        a, _, _, log_total, _ = _shifted_terms(w, axis)
        return np.squeeze(a + log_total, axis=axis).astype(x.dtype)


def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0, weight=None, reduction="none", z_loss=0.0, softcap=None):
    """Per row LSE(x) - x[t] = (a - x[t]) + log1p(s); with the options of the contract
    (suite/oracle.py has their definitions), in the working precision: soft-capping c tanh(x / c)
    first; smoothing's sum as -sum_j w_j log_softmax_j; the mean over the rows not ignored."""
    w = _working(logits)
    with np.errstate(all="ignore"):
        if softcap is not None:
            c = w.dtype.type(softcap)
            w = c * np.tanh(w / c)
        a, shifted, _, log_total, _ = _shifted_terms(w, -1)
        t = np.asarray(targets).astype(np.int64)
        kept = t != ignore_index
        safe = np.where(kept, t, 0)
        target_logit = np.take_along_axis(w, safe[:, None], axis=-1)
        nll = ((a - target_logit) + log_total)[:, 0]
        if (kept.all() and not label_smoothing and weight is None and reduction == "none" and not z_loss):
            return nll.astype(logits.dtype)  # the plain form
        k = w.shape[-1]
        weights = np.ones(k, dtype=w.dtype) if weight is None else _working(np.asarray(weight))
        wt = weights[safe]
        eps = w.dtype.type(label_smoothing)
        ce = (1 - eps) * wt * nll
        if label_smoothing:
            ce = ce + eps / k * -np.sum(weights * (shifted - log_total), axis=-1)
        lse = (a + log_total)[:, 0]
        zl = w.dtype.type(z_loss) * lse * lse
        ce, zl = np.where(kept, ce, 0), np.where(kept, zl, 0)
        if reduction == "none":
            return (ce + zl).astype(logits.dtype)
        if reduction == "sum":
            return np.asarray(np.sum(ce + zl)).astype(logits.dtype)
        mean = np.sum(ce) / np.sum(np.where(kept, wt, 0))
        if z_loss:
            mean = mean + np.sum(zl) / w.dtype.type(np.count_nonzero(kept))
        return np.asarray(mean).astype(logits.dtype)


cross_entropy.supports = frozenset(CROSS_ENTROPY_OPTIONS)  # read by certify path/to/file.py:cross_entropy too


def temperature_softmax(x, temperature, axis=-1):
    w = _working(x)
    with np.errstate(all="ignore"):
        return softmax(w / w.dtype.type(temperature), axis=axis).astype(x.dtype)


# --- samplers -------------------------------------------------------------
# Gumbel-max: argmax_i (x_i + G_i) with G_i iid standard Gumbel is distributed as
# softmax(x). The noise is drawn in float64 from numpy.random.default_rng(seed) as
# G = -log(E), E ~ Exp(1) (exactly Gumbel; numpy's Generator.gumbel gives the same
# law but is several times slower), whatever the logits' dtype, and the argmax is
# taken in float64, so low-precision logits do not quantize the noise into ties.
# Draws are made in chunks of at most _CHUNK elements from one generator.
_CHUNK = 1 << 22


def _gumbel_rows(rng, n: int, k: int) -> np.ndarray:
    return -np.log(rng.standard_exponential((n, k)))


def _chunks(num_samples: int, k: int):
    rows = max(1, _CHUNK // max(k, 1))
    for start in range(0, num_samples, rows):
        yield start, min(num_samples, start + rows)


def gumbel_max(logits, num_samples, seed):
    x = np.asarray(logits).astype(np.float64)
    rng = np.random.default_rng(int(seed))
    out = np.empty(int(num_samples), dtype=np.int64)
    with np.errstate(all="ignore"):
        for a, b in _chunks(int(num_samples), x.shape[-1]):
            out[a:b] = np.argmax(x + _gumbel_rows(rng, b - a, x.shape[-1]), axis=-1)
    return out


def gumbel_softmax(logits, tau, num_samples, seed, hard=False):
    """softmax((x + G) / tau) per sample, G iid Gumbel, computed in float64 and rounded once;
    hard=True: the one-hot of each soft sample's argmax (no gradient in NumPy)."""
    x = np.asarray(logits).astype(np.float64)
    rng = np.random.default_rng(int(seed))
    k = x.shape[-1]
    out = np.empty((int(num_samples), k), dtype=logits.dtype)
    with np.errstate(all="ignore"):
        for a, b in _chunks(int(num_samples), k):
            z = (x + _gumbel_rows(rng, b - a, k)) / float(tau)
            z -= np.max(z, axis=-1, keepdims=True)
            y = np.exp(z)
            y /= np.sum(y, axis=-1, keepdims=True)
            if hard:
                y = np.eye(k, dtype=np.float64)[np.argmax(y, axis=-1)]
            out[a:b] = y.astype(logits.dtype)
    return out


ADAPTER = numpy_adapter(
    "numpy-reference",
    {
        "softmax": softmax,
        "log_softmax": log_softmax,
        "logsumexp": logsumexp,
        "cross_entropy": cross_entropy,
        "temperature_softmax": temperature_softmax,
        "gumbel_max": gumbel_max,
        "gumbel_softmax": gumbel_softmax,
    },
    DTYPES,
    options={"cross_entropy": cross_entropy.supports},
    description="pure NumPy, shifted log-sum-exp with log1p (this project)",
    versions=lambda: {"numpy": np.__version__},
)
