"""JAX's public API as documented, jitted as its users jit it; no workaround.

softmax, log_softmax, logsumexp: ``jax.jit`` of ``jax.nn``. temperature_softmax:
one ``jax.jit`` of ``jax.nn.softmax(x / t)``. gumbel_max:
``jax.random.categorical(jax.random.key(seed), logits, shape=(n,))`` on the logits
as given, in their dtype. gumbel_softmax: JAX has no public one; it is the common
recipe of JAX users, ``jax.nn.softmax((logits + jax.random.gumbel(key, (n, K),
logits.dtype)) / tau)``, straight-through one-hot for hard=True, in the logits'
dtype. JAX has no cross-entropy in its core; it is composed from logsumexp and a
gather, as optax does. float64 needs jax_enable_x64, which this adapter turns on
when it first runs (it is a process-wide JAX setting).

The matrix certifies libraries as their users call them, so what this column
shows is JAX's: XLA's fused softmax(x / t) returns NaN near r_max on the CPU, and
16-bit logits get 16-bit Gumbel noise (tests/test_battery.py LIBRARY_FINDINGS).
The suite's workarounds for both are a separate reference, "jax-workarounds"
(implementations/jax_reference.py).
"""
from __future__ import annotations

import functools
import importlib.util

from suite import backends
from suite.adapter import backend_adapter

DTYPES = ("float16", "bfloat16", "float32", "float64")


@functools.cache
def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def from_numpy(a):
    """The JAX backend's conversion, once float64 is on: an adapter first used through its
    conversion (grad_cross_backend compares another backend's gradients with it) would
    otherwise get a float64 array as float32, and a jitted VJP traced before the switch."""
    _jax()
    return backends.get("jax").conversions("cpu").from_numpy(a)


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
    # One jit of jax.nn.softmax(x / t), as users write it (XLA fuses the division into softmax).
    return _jitted()["temperature_softmax"](x, temperature, axis=axis)


# --- samplers -------------------------------------------------------------
# jax.random.key(seed) from the contract's int seed; num_samples and hard are static.
# The logits are used as given, in their dtype: for float16/bfloat16 logits JAX draws
# the Gumbel noise in that dtype (no float32 upcast here; "jax-workarounds" has one).


@functools.cache
def _samplers(upcast: bool = False):
    """The jitted samplers; ``upcast`` (jax-workarounds only) draws 16-bit logits' noise in float32."""
    jax = _jax()
    jnp = jax.numpy

    def work(logits):
        if not upcast or logits.dtype == jnp.float64:
            return logits
        return logits.astype(jnp.float32)

    def gumbel_max(logits, seed, num_samples):
        return jax.random.categorical(jax.random.key(seed), work(logits), shape=(num_samples,))

    def gumbel_softmax(logits, tau, seed, num_samples, hard):
        w = work(logits)
        noise = jax.random.gumbel(jax.random.key(seed), (num_samples,) + w.shape, dtype=w.dtype)
        soft = jax.nn.softmax((w + noise) / tau, axis=-1)
        if hard:
            one_hot = jax.nn.one_hot(jnp.argmax(soft, axis=-1), w.shape[-1], dtype=soft.dtype)
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


def _unavailable() -> str | None:
    if importlib.util.find_spec("jax") is None:
        return "jax is not installed (pip install 'softmax-suite[jax]')"
    return None


ADAPTER = backend_adapter(
    "jax",
    "cpu",
    "jax",
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
    unavailable_reason=_unavailable,
    description="JAX's public API as documented: jax.jit of jax.nn, jax.nn.softmax(x / t) in one jit, jax.random.categorical on the logits in their dtype; no workaround",
    versions=lambda: {"jax": _jax().__version__},
    from_numpy=from_numpy,
    examples_scale=0.3,  # every new shape is an XLA compile
)
