"""Gradients through the backend's own autodiff: vector-Jacobian products and finite-difference checks.

The gradient of a target always comes from its framework's own autodiff, so hand-written
``torch.autograd.Function`` or ``jax.custom_vjp`` backward passes are exercised exactly as a
user's training loop would exercise them. The glue itself is in each backend's record
(suite/backends/torch.py, suite/backends/jax.py); this module is what the properties call.

The differentiated input is always the first argument (``x`` or ``logits``);
the others (axis, targets, temperature, sampler arguments) are held fixed.
``view`` lets a property hand the op a non-contiguous or transposed view of a
leaf: it is applied to the native leaf inside the differentiated function, and
the gradient returned is with respect to the leaf (the caller applies the same
``view`` to the NumPy gradient to read the part the op saw).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from suite import backends
from suite.adapter import Adapter

# Central-difference step for the float64 finite-difference checks.
FD_STEP = 1e-6


def _record(ctx, args, kwargs) -> None:
    """Let run_property's repro line rebuild the forward call that was differentiated."""
    if ctx is not None:
        ctx._record["call"] = (tuple(args), dict(kwargs))


def _glue(adapter: Adapter) -> backends.Backend:
    backend = backends.get(adapter.backend)
    if not backend.differentiable:
        raise ValueError(f"adapter {adapter.name!r} has backend {adapter.backend!r}, which has no autodiff")
    return backend


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
    _record(ctx, args, kwargs)
    # array keywords (cross_entropy's class weights) go to the op as native arrays
    native = {k: adapter.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return _glue(adapter).vjp(adapter, op, args, native, cotangent, view or backends.identity, disconnected)


def finite_difference_check(
    adapter: Adapter, op: str, args: Sequence[Any], kwargs: dict | None, atol: float, step: float = FD_STEP
) -> str | None:
    """Check first and second derivatives of op w.r.t. args[0] against central differences in float64.

    Returns None when they agree within ``atol`` (absolute, per compared
    entry), else a one-paragraph description of the disagreement.
    """
    return _glue(adapter).finite_differences(adapter, op, args, dict(kwargs or {}), atol, step)


def is_differentiable(adapter: Adapter) -> bool:
    return adapter.differentiable and backends.get(adapter.backend).differentiable
