"""The JAX backend: ``jax.Array`` on the CPU.

Autodiff: ``jax.vjp``; finite differences are ``jax.test_util.check_grads`` to order 2 in
forward and reverse mode (reverse only for a ``custom_vjp`` target, which JAX cannot
differentiate in forward mode by design). A result exists only after
``block_until_ready()``: JAX dispatches asynchronously. Every new input shape is an XLA
compilation, so the properties draw shapes from a small menu here. Arrays have no
strides: the layouts properties do not apply.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from suite.backends import Backend, Conversions, identity, native_rest, shorten
from suite.ops import DETERMINISTIC_OPS


def _jax():
    import jax

    return jax


def _from_numpy(a: np.ndarray):
    # device_put, not jnp.asarray: asarray stages a conversion that JAX compiles once per new
    # shape (about 10 ms each, hundreds per certification); device_put copies the buffer as is.
    return _jax().device_put(a)


def _to_numpy(a) -> np.ndarray:
    if not isinstance(a, _jax().Array):
        raise TypeError(f"expected jax.Array, got {type(a).__name__}")
    return np.asarray(a)


def conversions(device: str) -> Conversions:
    return Conversions(
        from_numpy=_from_numpy,
        to_numpy=_to_numpy,
        is_native=lambda a: isinstance(a, _jax().Array),
        native_type="jax.Array",
    )


def vjp(adapter, op, args, kwargs, cotangent, view, disconnected):
    import jax

    from suite.runner import ImplementationRaised

    fn = adapter.ops[op]
    primal = adapter.from_numpy(np.asarray(args[0]))
    rest = native_rest(adapter, args)
    if view is identity and op in _JITTABLE_OPS:
        # One compiled function per (op, shapes) for the whole VJP, as in a jitted training
        # step; compiling forward and pullback separately for every drawn shape costs
        # several times more. Code that cannot be traced with its array arguments abstract
        # falls back to the plain jax.vjp below.
        try:
            jitted = _jitted_vjp(fn, tuple(sorted(kwargs.items())))
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                _, grad = jitted(primal, np.asarray(cotangent), *rest)
            return _jax_grad_to_numpy(grad, args, op, disconnected)
        except Exception:
            pass

    def f(x):
        return fn(view(x), *rest, **kwargs)

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out, pullback = jax.vjp(f, primal)
    except Exception as exc:
        raise ImplementationRaised(f"forward (under jax.vjp) raised {type(exc).__name__}: {exc}".strip()) from None
    if not isinstance(out, jax.Array):
        raise ImplementationRaised(f"returned {type(out).__name__}, expected jax.Array")
    ct = jax.device_put(np.asarray(cotangent).astype(out.dtype).reshape(out.shape))
    try:
        (grad,) = pullback(ct)
    except Exception as exc:
        raise ImplementationRaised(f"backward raised {type(exc).__name__}: {exc}".strip()) from None
    return _jax_grad_to_numpy(grad, args, op, disconnected)


# Ops whose non-differentiated arguments are arrays or numbers that may be traced (not a
# sampler's num_samples, which fixes a shape).
_JITTABLE_OPS = DETERMINISTIC_OPS


@functools.lru_cache(maxsize=256)
def _jitted_vjp(fn, kwargs_items):
    import jax

    kwargs = dict(kwargs_items)

    def run(x, g, *rest):
        out, pullback = jax.vjp(lambda x: fn(x, *rest, **kwargs), x)
        (grad,) = pullback(g.astype(out.dtype).reshape(out.shape))
        return jax.numpy.zeros((), out.dtype), grad

    return jax.jit(run)


def _jax_grad_to_numpy(grad, args, op, disconnected) -> np.ndarray:
    import jax

    from suite.runner import ImplementationRaised

    grad = np.asarray(grad)
    if grad.dtype == jax.dtypes.float0:  # integer-valued or disconnected
        if disconnected == "zeros":
            return np.zeros(np.shape(args[0]), dtype=np.asarray(args[0]).dtype)
        raise ImplementationRaised(f"the backward of {op} returned no gradient for x")
    return grad


def finite_differences(adapter, op, args, kwargs, atol, step):
    import jax
    from jax.test_util import check_grads

    fn = adapter.ops[op]
    primal = adapter.from_numpy(np.asarray(args[0], dtype=np.float64))
    rest = native_rest(adapter, args)

    def f(x):
        return fn(x, *rest, **kwargs)

    # check_grads scales atol by the size of the compared array; pass the per-entry value.
    # rtol=0 would fall back to JAX's default, so pass a negligible one.
    modes = ("fwd", "rev")
    try:
        jax.jvp(f, (primal,), (jax.numpy.ones_like(primal),))
    except TypeError as exc:
        if "custom_vjp" not in str(exc):
            return f"jax.jvp raised TypeError: {shorten(exc)}"
        modes = ("rev",)  # a custom_vjp function has no forward mode, by JAX's design
    except Exception as exc:
        return f"jax.jvp raised {type(exc).__name__}: {shorten(exc)}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check_grads(f, (primal,), order=2, modes=modes, atol=atol, rtol=1e-12, eps=step)
    except AssertionError as exc:
        return f"jax.test_util.check_grads(order=2, modes={modes}, eps={step}, atol={atol:.3g}) disagrees with finite differences: {shorten(exc, 600)}"
    except Exception as exc:
        return f"jax.test_util.check_grads raised {type(exc).__name__}: {shorten(exc)}"
    return None


BACKEND = Backend(
    name="jax",
    conversions=conversions,
    glue={"cpu": "implementations.jax_jit"},
    baselines={"cpu": "jax"},
    vjp=vjp,
    finite_differences=finite_differences,
    waiter=lambda device: lambda out: out.block_until_ready(),
    compiles_per_shape=True,
    temporaries=3,
)
