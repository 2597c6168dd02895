"""Backend glue for gradients: vector-Jacobian products and finite-difference checks.

Keyed by ``adapter.backend``: the gradient of a target always comes from its
framework's own autodiff, so hand-written ``torch.autograd.Function`` or
``jax.custom_vjp`` backward passes are exercised exactly as a user's training
loop would exercise them.

  torch  the float input becomes a leaf with ``requires_grad``; the VJP is
         ``torch.autograd.grad(out, leaf, grad_outputs=cotangent)``; finite
         differences are ``torch.autograd.gradcheck`` and ``gradgradcheck``.
  jax    ``jax.vjp``; finite differences are ``jax.test_util.check_grads`` to
         order 2 in forward and reverse mode (reverse only for a ``custom_vjp``
         target, which JAX cannot differentiate in forward mode by design).

The differentiated input is always the first argument (``x`` or ``logits``);
the others (axis, targets, temperature, sampler arguments) are held fixed.
``view`` lets a property hand the op a non-contiguous or transposed view of a
leaf: it is applied to the native leaf inside the differentiated function, and
the gradient returned is with respect to the leaf (the caller applies the same
``view`` to the NumPy gradient to read the part the op saw).
"""
from __future__ import annotations

import functools
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from suite.adapter import Adapter
from suite.runner import ImplementationRaised

DIFFERENTIABLE_BACKENDS = ("torch", "jax")

# Central-difference step for the float64 finite-difference checks.
FD_STEP = 1e-6


def _identity(a):
    return a


def _record(ctx, args, kwargs) -> None:
    """Let run_property's repro line rebuild the forward call that was differentiated."""
    if ctx is not None:
        ctx._record["call"] = (tuple(args), dict(kwargs))


def vjp(
    adapter: Adapter,
    op: str,
    args: Sequence[Any],
    kwargs: dict | None,
    cotangent: np.ndarray,
    view: Callable[[Any], Any] | None = None,
    ctx=None,
    disconnected: str = "raise",
) -> np.ndarray:
    """cotangent^T J, the gradient of <cotangent, op(*args, **kwargs)> w.r.t. args[0], as NumPy.

    ``args`` are NumPy arrays or Python scalars. The cotangent is cast to the
    output's dtype. ``disconnected="zeros"`` returns zeros when the output does
    not depend on the input at all (a straight-through estimator done wrong);
    ``"raise"`` reports it as the implementation's failure.
    """
    kwargs = dict(kwargs or {})
    view = view or _identity
    _record(ctx, args, kwargs)
    backend = adapter.backend
    if backend == "torch":
        return _torch_vjp(adapter, op, args, kwargs, cotangent, view, disconnected)
    if backend == "jax":
        return _jax_vjp(adapter, op, args, kwargs, cotangent, view, disconnected)
    raise ValueError(f"adapter {adapter.name!r} has backend {backend!r}, which has no autodiff")


def _torch_vjp(adapter, op, args, kwargs, cotangent, view, disconnected):
    import torch

    fn = adapter.ops[op]
    leaf = adapter.from_numpy(np.asarray(args[0])).detach().requires_grad_(True)
    rest = [adapter.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args[1:]]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = fn(view(leaf), *rest, **kwargs)
    except Exception as exc:
        raise ImplementationRaised(f"forward raised {type(exc).__name__}: {exc}".strip()) from None
    if not isinstance(out, torch.Tensor):
        raise ImplementationRaised(f"returned {type(out).__name__}, expected torch.Tensor")
    if not out.requires_grad:
        if disconnected == "zeros":
            return np.zeros(leaf.shape, dtype=np.asarray(args[0]).dtype)
        raise ImplementationRaised(f"the output of {op} does not require grad: no gradient flows back to x")
    ct = adapter.from_numpy(np.asarray(cotangent)).to(dtype=out.dtype, device=out.device).reshape(out.shape)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (grad,) = torch.autograd.grad(out, leaf, grad_outputs=ct, allow_unused=True)
    except Exception as exc:
        raise ImplementationRaised(f"backward raised {type(exc).__name__}: {exc}".strip()) from None
    if grad is None:
        if disconnected == "zeros":
            return np.zeros(leaf.shape, dtype=np.asarray(args[0]).dtype)
        raise ImplementationRaised(f"the backward of {op} returned no gradient for x")
    return adapter.to_numpy(grad)


def _jax_vjp(adapter, op, args, kwargs, cotangent, view, disconnected):
    import jax

    fn = adapter.ops[op]
    primal = adapter.from_numpy(np.asarray(args[0]))
    rest = [adapter.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args[1:]]
    if view is _identity and op in _JITTABLE_OPS:
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
    ct = jax.numpy.asarray(np.asarray(cotangent)).astype(out.dtype).reshape(out.shape)
    try:
        (grad,) = pullback(ct)
    except Exception as exc:
        raise ImplementationRaised(f"backward raised {type(exc).__name__}: {exc}".strip()) from None
    return _jax_grad_to_numpy(grad, args, op, disconnected)


# Ops whose non-differentiated arguments are arrays or numbers that may be traced.
_JITTABLE_OPS = ("softmax", "log_softmax", "logsumexp", "cross_entropy", "temperature_softmax")


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

    grad = np.asarray(grad)
    if grad.dtype == jax.dtypes.float0:  # integer-valued or disconnected
        if disconnected == "zeros":
            return np.zeros(np.shape(args[0]), dtype=np.asarray(args[0]).dtype)
        raise ImplementationRaised(f"the backward of {op} returned no gradient for x")
    return grad


def finite_difference_check(
    adapter: Adapter, op: str, args: Sequence[Any], kwargs: dict | None, atol: float, step: float = FD_STEP
) -> str | None:
    """Check first and second derivatives of op w.r.t. args[0] against central differences in float64.

    Returns None when they agree within ``atol`` (absolute, per compared
    entry), else a one-paragraph description of the disagreement.
    """
    kwargs = dict(kwargs or {})
    if adapter.backend == "torch":
        return _torch_fd(adapter, op, args, kwargs, atol, step)
    if adapter.backend == "jax":
        return _jax_fd(adapter, op, args, kwargs, atol, step)
    raise ValueError(f"adapter {adapter.name!r} has backend {adapter.backend!r}, which has no autodiff")


def _shorten(text: str, limit: int = 1500) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + " ..."


def _first_paragraph(exc) -> str:
    return _shorten(str(exc).strip().split("\n\n")[0], 400)


def _torch_fd(adapter, op, args, kwargs, atol, step, fast=True):
    import torch

    fn = adapter.ops[op]
    leaf = adapter.from_numpy(np.asarray(args[0], dtype=np.float64)).detach().requires_grad_(True)
    rest = [adapter.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args[1:]]

    def f(x):
        return fn(x, *rest, **kwargs)

    for name, check in (("gradcheck", torch.autograd.gradcheck), ("gradgradcheck", torch.autograd.gradgradcheck)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check(f, (leaf,), eps=step, atol=atol, rtol=0.0, raise_exception=True, fast_mode=fast)
        except Exception as exc:
            if type(exc).__name__ == "GradcheckError":
                return f"torch.autograd.{name}(eps={step}, atol={atol:.3g}, fast_mode={fast}) disagrees with finite differences: {_first_paragraph(exc)}"
            return f"torch.autograd.{name} raised {type(exc).__name__}: {_shorten(exc)}"
    return None


def _jax_fd(adapter, op, args, kwargs, atol, step):
    import jax
    from jax.test_util import check_grads

    fn = adapter.ops[op]
    primal = adapter.from_numpy(np.asarray(args[0], dtype=np.float64))
    rest = [adapter.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args[1:]]

    def f(x):
        return fn(x, *rest, **kwargs)

    # check_grads scales atol by the size of the compared array; pass the per-entry value.
    # rtol=0 would fall back to JAX's default, so pass a negligible one.
    modes = ("fwd", "rev")
    try:
        jax.jvp(f, (primal,), (jax.numpy.ones_like(primal),))
    except TypeError as exc:
        if "custom_vjp" not in str(exc):
            return f"jax.jvp raised TypeError: {_shorten(exc)}"
        modes = ("rev",)  # a custom_vjp function has no forward mode, by JAX's design
    except Exception as exc:
        return f"jax.jvp raised {type(exc).__name__}: {_shorten(exc)}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check_grads(f, (primal,), order=2, modes=modes, atol=atol, rtol=1e-12, eps=step)
    except AssertionError as exc:
        return f"jax.test_util.check_grads(order=2, modes={modes}, eps={step}, atol={atol:.3g}) disagrees with finite differences: {_shorten(exc, 600)}"
    except Exception as exc:
        return f"jax.test_util.check_grads raised {type(exc).__name__}: {_shorten(exc)}"
    return None


def is_differentiable(adapter: Adapter) -> bool:
    return adapter.differentiable and adapter.backend in DIFFERENTIABLE_BACKENDS

