"""JAX, jitted: jax.nn.softmax, log_softmax, logsumexp.

JAX has no cross-entropy in its core; it is composed from logsumexp and a
gather, as optax does. float64 needs jax_enable_x64, which this adapter turns on
when it first runs (it is a process-wide JAX setting).
"""
from __future__ import annotations

import functools
import importlib.util

import numpy as np

from suite.adapter import Adapter

DTYPES = ("float16", "bfloat16", "float32", "float64")


@functools.cache
def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


@functools.cache
def _jitted():
    jax = _jax()
    jnp = jax.numpy

    def cross_entropy(logits, targets):
        target_logit = jnp.take_along_axis(logits, targets[:, None], axis=-1)[:, 0]
        return jax.nn.logsumexp(logits, axis=-1) - target_logit

    def temperature_softmax(x, temperature, axis=-1):
        return jax.nn.softmax(x / temperature, axis=axis)

    axis_static = functools.partial(jax.jit, static_argnames=("axis",))
    return {
        "softmax": axis_static(jax.nn.softmax),
        "log_softmax": axis_static(jax.nn.log_softmax),
        "logsumexp": axis_static(jax.nn.logsumexp),
        "cross_entropy": jax.jit(cross_entropy),
        "temperature_softmax": axis_static(temperature_softmax),
    }


def softmax(x, axis=-1):
    return _jitted()["softmax"](x, axis=axis)


def log_softmax(x, axis=-1):
    return _jitted()["log_softmax"](x, axis=axis)


def logsumexp(x, axis=-1):
    return _jitted()["logsumexp"](x, axis=axis)


def cross_entropy(logits, targets):
    return _jitted()["cross_entropy"](logits, targets)


def temperature_softmax(x, temperature, axis=-1):
    return _jitted()["temperature_softmax"](x, temperature, axis=axis)


def _from_numpy(a: np.ndarray):
    return _jax().numpy.asarray(a)


def _to_numpy(a) -> np.ndarray:
    if not isinstance(a, _jax().Array):
        raise TypeError(f"expected jax.Array, got {type(a).__name__}")
    return np.asarray(a)


def _unavailable() -> str | None:
    if importlib.util.find_spec("jax") is None:
        return "jax is not installed (pip install 'softmax-suite[jax]')"
    return None


ADAPTER = Adapter(
    name="jax",
    backend="jax",
    device="cpu",
    dtypes=DTYPES,
    differentiable=True,
    ops={
        "softmax": softmax,
        "log_softmax": log_softmax,
        "logsumexp": logsumexp,
        "cross_entropy": cross_entropy,
        "temperature_softmax": temperature_softmax,
    },
    from_numpy=_from_numpy,
    to_numpy=_to_numpy,
    is_native=lambda a: isinstance(a, _jax().Array),
    native_type="jax.Array",
    unavailable_reason=_unavailable,
    description="JAX, jax.jit of jax.nn",
    origin="builtin('jax')",
    versions=lambda: {"jax": _jax().__version__},
)
