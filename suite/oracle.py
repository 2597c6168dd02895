"""Reference values for the deterministic ops, in higher precision than the output.

Inputs are the rounded arrays the implementation received; every float16,
bfloat16, float32 and float64 value is exact in NumPy's long double (x87
80-bit extended on x86-64 Linux: 64 significand bits). The oracle evaluates the
shifted formulas there, so its own error is about n * 2**-64 relative: below
every output dtype's unit roundoff by a factor of 2**11 or more.

Conventions (the mathematical limits, which the contract follows):
  all -inf row:    softmax NaN, log_softmax NaN, logsumexp -inf
  +inf entry:      logsumexp +inf; softmax/log_softmax NaN (inf/inf)
  NaN entry:       the whole row NaN
"""
from __future__ import annotations

import numpy as np

WIDE = np.longdouble


def _terms(x: np.ndarray, axis: int):
    w = np.asarray(x).astype(WIDE)
    with np.errstate(all="ignore"):
        row_max = np.max(w, axis=axis, keepdims=True, initial=-np.inf)
        a = np.where(np.isfinite(row_max), row_max, 0).astype(WIDE)
        shifted = w - a
        e = np.exp(shifted)
        total = np.sum(e, axis=axis, keepdims=True)
    return w, a, shifted, e, total


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    _, _, _, e, total = _terms(x, axis)
    with np.errstate(all="ignore"):
        return e / total


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    _, _, shifted, _, total = _terms(x, axis)
    with np.errstate(all="ignore"):
        return shifted - np.log(total)


def logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    _, a, _, _, total = _terms(x, axis)
    with np.errstate(all="ignore"):
        return np.squeeze(a + np.log(total), axis=axis)


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    w, a, _, _, total = _terms(logits, -1)
    target_logit = np.take_along_axis(w, np.asarray(targets)[:, None], axis=-1)
    with np.errstate(all="ignore"):
        return ((a - target_logit) + np.log(total))[:, 0]


def temperature_softmax(x: np.ndarray, temperature: float, axis: int = -1) -> np.ndarray:
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
