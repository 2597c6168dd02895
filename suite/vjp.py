"""Closed-form vector-Jacobian products in long double, and their error bounds.

For a cotangent g (of the output's shape), per row along the softmax axis with
s = softmax(x) from :mod:`suite.oracle`:

  softmax          grad_i = s_i (g_i - c),          c = sum_j s_j g_j
  log_softmax      grad_i = g_i - s_i G,            G = sum_j g_j
  logsumexp        grad_i = g s_i                   (g one number per row)
  cross_entropy    grad_i = g_r (s_i - [i = t_r])
  temperature      grad = (1/T) * softmax's grad at z = x / T

Error bound (first-order, like :mod:`suite.bounds`, with u the unit roundoff
of the output dtype and SAFETY = 2 as there). Every backward pass of these ops
needs s, and obtains it one of three ways: from the forward softmax (torch's
softmax backward, JAX's custom JVP), as exp(log_softmax) (torch's log_softmax
and cross-entropy backward), or as exp(x - LSE) (torch's logsumexp backward).
The error of the s it uses is therefore at most

  E_i = max( B_i,  s_i expm1(L_i + u),  s_i expm1(M + u (|x_i - LSE| + 1)) )

with B, L, M the forward bounds of softmax, log_softmax and logsumexp (expm1
rather than its first-order term, so the bound stays rigorous when the forward
is so ill conditioned that L is not small). Propagating E and the backward's
own roundings (a sum of n products costs (n + 1) u times the sum of the
absolute terms; a subtraction and a product u each, on their absolute
operands) gives, to first order (softmax keeps one second-order term, E_i times
the error of c, which matters where s_i = 0 but E_i is not small),

  softmax       E_i (|g_i| + |c| + sum_j E_j |g_j|) + s_i sum_j E_j |g_j|
                  + u s_i ((n + 1) sum_j s_j |g_j| + 2 (|g_i| + |c|))
  log_softmax   E_i |G| + (n + 1) u s_i sum_j |g_j| + 2 u (|g_i| + s_i |G|)
  logsumexp     |g| (E_i + 2 u s_i)
  cross_entropy |g_r| (E_i + 2 u (s_i + [i = t_r]))
  temperature   (bound of softmax's at z = x / T + 2 u |grad_z|) / T

each times SAFETY, plus an absolute smallest_normal * (1 + sum_j |g_j|) for
results flushed to zero or rounded to the subnormal grid. A backward that
works in a wider type (float32 for float16 inputs) and rounds once meets the
bound a fortiori. Like the forward bounds these only decide what is certainly
wrong: dropping the -s_i c term of softmax's backward errs by s_i |c|, far
beyond them except where s_i c itself is below rounding level.

Finite differences (float64). A central difference with step h of a function
computed with absolute error <= eps_f errs by at most h^2/6 |f'''| + eps_f / h,
plus the rounding of x + h (u |x| / h times |f'|). Derivatives of order k <= 4 of
LSE are cumulants of a distribution on the rows' one-hot vectors, bounded by
2^k k! <= 384 per unit of direction, times T^-k for a temperature. Checks that
compare directional derivatives along random normal directions sum n of them
with weights of size <= 4 each, hence

  atol = SAFETY * 16 n (384 h^2 / min(T, 1)^4 + (eps_f + u (1 + max|x|)) / h)

with eps_f the larger of the forward bound and the VJP bound for a cotangent of
4s: about 1e-5 for the small float64 inputs used, while a wrong backward errs
by 1e-2 or more.
"""
from __future__ import annotations

import numpy as np

from suite import bounds, oracle
from suite import dtypes as dt

SAFETY = bounds.SAFETY
WIDE = oracle.WIDE


def _wide(a) -> np.ndarray:
    return np.asarray(a).astype(WIDE)


def _expand(g: np.ndarray, axis: int) -> np.ndarray:
    return np.expand_dims(_wide(g), axis)


# ----------------------------------------------------------------------------- closed forms
# Each takes the op's inputs, then the cotangent g (and each bound then the dtype), then the
# op's keywords: the uniform calls suite/ops.py's records make.


def softmax(x, g, axis: int = -1) -> np.ndarray:
    s = oracle.softmax(x, axis=axis)
    g = _wide(g)
    with np.errstate(all="ignore"):
        c = np.sum(s * g, axis=axis, keepdims=True)
        return s * (g - c)


def log_softmax(x, g, axis: int = -1) -> np.ndarray:
    s = oracle.softmax(x, axis=axis)
    g = _wide(g)
    with np.errstate(all="ignore"):
        return g - s * np.sum(g, axis=axis, keepdims=True)


def logsumexp(x, g, axis: int = -1) -> np.ndarray:
    return _expand(g, axis) * oracle.softmax(x, axis=axis)


def cross_entropy(logits, targets, g) -> np.ndarray:
    s = oracle.softmax(logits, axis=-1)
    onehot = _onehot(targets, s.shape)
    return _expand(g, -1) * (s - onehot)


def temperature_softmax(x, temperature, g, axis: int = -1) -> np.ndarray:
    z = _wide(x) / WIDE(temperature)
    return softmax(z, g, axis) / WIDE(temperature)


def _onehot(targets, shape) -> np.ndarray:
    onehot = np.zeros(shape, dtype=WIDE)
    np.put_along_axis(onehot, np.asarray(targets)[:, None], 1, axis=-1)
    return onehot


# ----------------------------------------------------------------------------- bounds


def probability_error(x, dtype: str, axis: int = -1, forward=None) -> np.ndarray:
    """E_i: a bound on the error of the s_i a backward pass uses, whichever way it got it.

    ``forward``: the forward pass's own bound where it is not softmax's on x (temperature
    softmax, whose rounded quotient x / T is an input perturbation softmax's bound omits)."""
    u = WIDE(dt.unit_roundoff(dtype))
    w = _wide(x)
    s = oracle.softmax(w, axis=axis)
    b_softmax = bounds.softmax(x, dtype, axis) if forward is None else np.maximum(bounds.softmax(x, dtype, axis), forward)
    b_log = bounds.log_softmax(x, dtype, axis)
    b_lse = np.expand_dims(bounds.logsumexp(x, dtype, axis), axis)
    lse = np.expand_dims(oracle.logsumexp(w, axis=axis), axis)
    with np.errstate(all="ignore"):
        via_log = np.where(s > 0, s * np.expm1(b_log + u), 0)
        via_lse = np.where(s > 0, s * np.expm1(b_lse + u * (np.abs(w - lse) + 1)), 0)
        e = np.maximum(np.maximum(b_softmax, via_log), via_lse)
    return np.where(np.isnan(e), np.inf, e)


def _times(a, b):
    """a * b for nonnegative bounds, with 0 * inf = 0: an exactly zero factor contributes nothing."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=WIDE), np.asarray(b, dtype=WIDE))
    with np.errstate(all="ignore"):
        return np.where((a == 0) | (b == 0), WIDE(0), a * b)


def _tiny(g, axis: int, dtype: str, reduced: bool) -> np.ndarray:
    total = np.abs(_wide(g)) if reduced else np.sum(np.abs(_wide(g)), axis=axis, keepdims=True)
    if reduced:
        total = np.expand_dims(total, axis)
    return WIDE(dt.smallest_normal(dtype)) * (1 + total)


def softmax_bound(x, g, dtype: str, axis: int = -1, forward=None) -> np.ndarray:
    u = WIDE(dt.unit_roundoff(dtype))
    n = np.shape(x)[axis]
    s = oracle.softmax(x, axis=axis)
    e = probability_error(x, dtype, axis, forward)
    g = _wide(g)
    with np.errstate(all="ignore"):
        c = np.abs(np.sum(s * g, axis=axis, keepdims=True))
        weighted = np.sum(s * np.abs(g), axis=axis, keepdims=True)
        # |s_hat_i c_hat - s_i c| <= E_i (|c| + |c_hat - c|) + s_i |c_hat - c|, |c_hat - c| <= sum_j E_j |g_j|:
        # the E_i |c_hat - c| term is second order, but not negligible where E is not small
        # (x / T rounded into ties), and s_i = 0 must not hide it.
        c_error = np.sum(_times(e, np.abs(g)), axis=axis, keepdims=True)
        propagated = _times(e, np.abs(g) + c + c_error) + _times(s, c_error)
        rounding = u * s * ((n + 1) * weighted + 2 * (np.abs(g) + c))
        return SAFETY * (propagated + rounding) + _tiny(g, axis, dtype, False)


def log_softmax_bound(x, g, dtype: str, axis: int = -1) -> np.ndarray:
    u = WIDE(dt.unit_roundoff(dtype))
    n = np.shape(x)[axis]
    s = oracle.softmax(x, axis=axis)
    e = probability_error(x, dtype, axis)
    g = _wide(g)
    with np.errstate(all="ignore"):
        big_g = np.abs(np.sum(g, axis=axis, keepdims=True))
        total = np.sum(np.abs(g), axis=axis, keepdims=True)
        b = _times(e, big_g) + (n + 1) * u * s * total + 2 * u * (np.abs(g) + s * big_g)
        return SAFETY * b + _tiny(g, axis, dtype, False)


def logsumexp_bound(x, g, dtype: str, axis: int = -1) -> np.ndarray:
    u = WIDE(dt.unit_roundoff(dtype))
    s = oracle.softmax(x, axis=axis)
    e = probability_error(x, dtype, axis)
    gw = np.abs(_expand(g, axis))
    with np.errstate(all="ignore"):
        return SAFETY * _times(gw, e + 2 * u * s) + _tiny(g, axis, dtype, True)


def cross_entropy_bound(logits, targets, g, dtype: str) -> np.ndarray:
    u = WIDE(dt.unit_roundoff(dtype))
    s = oracle.softmax(logits, axis=-1)
    e = probability_error(logits, dtype, -1)
    gw = np.abs(_expand(g, -1))
    with np.errstate(all="ignore"):
        return SAFETY * _times(gw, e + 2 * u * (s + _onehot(targets, s.shape))) + _tiny(g, -1, dtype, True)


def temperature_softmax_bound(x, temperature, g, dtype: str, axis: int = -1) -> np.ndarray:
    u = WIDE(dt.unit_roundoff(dtype))
    with np.errstate(all="ignore"):
        z = _wide(x) / WIDE(temperature)
        grad_z = softmax(z, g, axis)
        forward = bounds.temperature_softmax(x, temperature, dtype, axis)
        return (softmax_bound(z, g, dtype, axis, forward) + SAFETY * 2 * u * np.abs(grad_z)) / WIDE(temperature) + _tiny(g, axis, dtype, False)


def finite_difference_atol(op, *args, step: float, **kwargs) -> float:
    """The absolute tolerance for float64 finite-difference checks (see the module docstring);
    ``op`` is the op's record (suite.ops.Op)."""
    x = np.asarray(args[0], dtype=np.float64)
    u = dt.unit_roundoff("float64")
    temperature = float(args[op.inputs.index("temperature")]) if "temperature" in op.inputs else 1.0
    forward = op.bound(*args, dtype="float64", **kwargs)
    out_shape = np.shape(forward)
    fours = np.full(out_shape, 4.0)
    backward = op.vjp_bound(*args, fours, "float64", **kwargs)
    eps_f = float(max(np.max(forward, initial=0), np.max(backward, initial=0)))
    largest = float(np.max(np.abs(x[np.isfinite(x)]), initial=0))
    n = x.size
    truncation = 384 * step**2 / min(temperature, 1.0) ** 4
    rounding = (eps_f + u * (1 + largest)) / step
    return SAFETY * 16 * n * (truncation + rounding)
