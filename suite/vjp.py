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


def cross_entropy(logits, targets, g, **options) -> np.ndarray:
    if oracle.options_in_use(options):
        return _options_gradient(logits, targets, g, **options)[0]
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


def cross_entropy_bound(logits, targets, g, dtype: str, **options) -> np.ndarray:
    if oracle.options_in_use(options):
        return _options_gradient_bound(logits, targets, g, dtype, **options)
    u = WIDE(dt.unit_roundoff(dtype))
    s = oracle.softmax(logits, axis=-1)
    e = probability_error(logits, dtype, -1)
    gw = np.abs(_expand(g, -1))
    with np.errstate(all="ignore"):
        return SAFETY * _times(gw, e + 2 * u * (s + _onehot(targets, s.shape))) + _tiny(g, -1, dtype, True)


# ----------------------------------------------------------------------------- cross_entropy's options
# With the definitions of suite/oracle.py, s = softmax(x'), W = sum_j w_j, and per kept row r the
# cotangents g^c_r of ce_r and g^z_r of z_r (g_r for "none"; the scalar g for "sum"; g / D and g / M
# for "mean"), the gradient w.r.t. the logits is
#
#   grad_rj = (alpha_r s_rj - beta_rj) sech^2(x_rj / c)
#   alpha_r = g^c_r ((1 - e) w_t + (e / K) W) + 2 z g^z_r LSE_r,   beta_rj = g^c_r ((1 - e) w_t [j = t_r] + (e / K) w_j)
#
# (sech^2 = 1 without a cap), and 0 at ignored rows.


def _options_gradient(logits, targets, g, **options):
    """(grad, terms, alpha, beta, s, sech2, (g^c, g^z)) in long double."""
    t = oracle.cross_entropy_terms(logits, targets, **options)
    n, k = t.capped.shape
    s = oracle.softmax(t.capped, axis=-1).astype(WIDE)
    g = _wide(g)
    with np.errstate(all="ignore"):
        if t.reduction == "none":
            gc = gz = g.reshape(-1)
        elif t.reduction == "sum":
            gc = gz = np.full(n, g.reshape(()), dtype=WIDE)
        else:
            d, m = t.denominators
            gc, gz = np.full(n, g.reshape(()) / d, dtype=WIDE), np.full(n, g.reshape(()) / m, dtype=WIDE)
        wt, big_w = t.target_weight, np.sum(t.weight)
        alpha = gc * ((1 - t.eps) * wt + t.eps / WIDE(k) * big_w) + 2 * t.z * gz * t.lse
        beta = gc[:, None] * (t.eps / WIDE(k) * t.weight[None, :] + (1 - t.eps) * wt[:, None] * _onehot(t.targets, (n, k)))
        if t.softcap is not None:
            sech2 = 1 / np.cosh(np.asarray(logits).astype(WIDE) / WIDE(t.softcap)) ** 2
        else:
            sech2 = np.ones((n, k), dtype=WIDE)
        grad = np.where(t.kept[:, None], (alpha[:, None] * s - beta) * sech2, WIDE(0))
    return grad, t, alpha, beta, s, sech2, (gc, gz)


def _options_gradient_bound(logits, targets, g, dtype: str, **options) -> np.ndarray:
    """Allowed |grad_hat - grad| under the options, first order like the bounds above (docs/gradients.md):

      (|alpha| E'_j + dalpha s_j + dbeta_j + SAFETY gamma(4, u)(|alpha| s_j + |beta_j|)) (sech^2_j + dsech_j)
        + |alpha s_j - beta_j| dsech_j + SAFETY u |grad_j| + smallest_normal (1 + |alpha| + |beta_j|)

    E'_j = E_j(x') + s_j expm1(2R): the error of the s a backward uses (probability_error at x')
    and the softcap's perturbation of x' (each s_j moves by at most a factor e^{+-2R});
    dalpha = |g^c|((1 - e) w_t + (e/K) W)(delta + gamma(K, u)) + 2 z |g^z| (B^L + R), with delta the
    mean's relative error of D (0 for "none" and "sum"; W a sum of K weights), dbeta_j = |beta_j| delta;
    dsech_j = 2 r_j / c + SAFETY u (2 |x_j / c| sech^2_j + 10): sech^2 as 1 - tanh^2 or
    1 - (x'/c)^2 from an x' off by r_j, or from the rounded quotient. Ignored rows: exactly 0."""
    grad, t, alpha, beta, s, sech2, (gc, gz) = _options_gradient(logits, targets, g, **options)
    n, k = t.capped.shape
    u = WIDE(dt.unit_roundoff(dtype))
    x64 = np.asarray(t.capped, dtype=np.float64)
    with np.errstate(all="ignore"):
        if t.softcap is not None:
            r = _wide(bounds.softcap_radius(logits, t.softcap, dtype))
            radius = np.max(r, axis=-1)
            y = np.abs(np.asarray(logits).astype(WIDE) / WIDE(t.softcap))
            dsech = 2 * r / WIDE(t.softcap) + SAFETY * u * (2 * y * sech2 + 10)
        else:
            radius, dsech = np.zeros(n, dtype=WIDE), np.zeros((n, k), dtype=WIDE)
        e = probability_error(x64, dtype, -1) + s * np.expm1(2 * radius)[:, None]
        delta = WIDE(0)
        if t.reduction == "mean":
            delta = WIDE(SAFETY) * WIDE(bounds.gamma(n, float(bounds.working_unit_roundoff(dtype))) + float(u))
        wt, big_w = t.target_weight, np.sum(t.weight)
        b_lse = _wide(bounds.logsumexp(x64, dtype))
        d_alpha = np.abs(gc) * ((1 - t.eps) * wt + t.eps / WIDE(k) * big_w) * (delta + WIDE(bounds.gamma(k, float(u)))) \
            + 2 * t.z * np.abs(gz) * (b_lse + radius)
        a = np.abs(alpha)[:, None]
        inner = _times(a, e) + _times(d_alpha[:, None], s) + np.abs(beta) * delta \
            + WIDE(SAFETY) * WIDE(bounds.gamma(4, float(u))) * (a * s + np.abs(beta))
        bound = WIDE(SAFETY) * inner * (sech2 + dsech) + np.abs(a * s - beta) * dsech + WIDE(SAFETY) * u * np.abs(grad)
        bound = bound + WIDE(dt.smallest_normal(dtype)) * (1 + a + np.abs(beta))
    return np.where(t.kept[:, None], bound, WIDE(0))


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
