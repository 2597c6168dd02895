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

    axis_static = functools.partial(jax.jit, static_argnames=("axis",))
    return {
        "softmax": axis_static(jax.nn.softmax),
        "log_softmax": axis_static(jax.nn.log_softmax),
        "logsumexp": axis_static(jax.nn.logsumexp),
        "cross_entropy": jax.jit(cross_entropy),
        "divide": jax.jit(jax.numpy.divide),
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
    # Divide, then softmax, as two jitted calls: fused into one jit, XLA on the CPU
    # returns NaN for logits near r_max (see implementations/broken/jax_fused_temperature.py).
    return _jitted()["softmax"](_jitted()["divide"](x, temperature), axis=axis)


# --- samplers -------------------------------------------------------------
# jax.random.key(seed) from the contract's int seed; num_samples and hard are static.
# 16-bit logits are sampled in float32 (jax.random.gumbel in bfloat16 has 7 random
# mantissa bits: 127 noise values, truncated at 4.85, and frequent ties).


@functools.cache
def _samplers():
    jax = _jax()
    jnp = jax.numpy

    def work_dtype(x):
        return jnp.float64 if x.dtype == jnp.float64 else jnp.float32

    def gumbel_max(logits, seed, num_samples):
        key = jax.random.key(seed)
        return jax.random.categorical(key, logits.astype(work_dtype(logits)), shape=(num_samples,))

    def gumbel_softmax(logits, tau, seed, num_samples, hard):
        key = jax.random.key(seed)
        work = logits.astype(work_dtype(logits))
        noise = jax.random.gumbel(key, (num_samples,) + work.shape, work.dtype)
        soft = jax.nn.softmax((work + noise) / tau, axis=-1)
        if hard:
            one_hot = jax.nn.one_hot(jnp.argmax(soft, axis=-1), work.shape[-1], dtype=soft.dtype)
            soft = one_hot - jax.lax.stop_gradient(soft) + soft  # straight-through
        return soft.astype(logits.dtype)

    return {
        "gumbel_max": jax.jit(gumbel_max, static_argnames=("num_samples",)),
        "gumbel_softmax": jax.jit(gumbel_softmax, static_argnames=("num_samples", "hard")),
    }


def gumbel_max(logits, num_samples, seed):
    return _samplers()["gumbel_max"](logits, int(seed), num_samples=int(num_samples))


def gumbel_softmax(logits, tau, num_samples, seed, hard=False):
    return _samplers()["gumbel_softmax"](logits, tau, int(seed), num_samples=int(num_samples), hard=bool(hard))


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
        "gumbel_max": gumbel_max,
        "gumbel_softmax": gumbel_softmax,
    },
    from_numpy=_from_numpy,
    to_numpy=_to_numpy,
    is_native=lambda a: isinstance(a, _jax().Array),
    native_type="jax.Array",
    unavailable_reason=_unavailable,
    description="JAX, jax.jit of jax.nn",
    origin="builtin('jax')",
    versions=lambda: {"jax": _jax().__version__},
    examples_scale=0.3,  # every new shape is an XLA compile
)
