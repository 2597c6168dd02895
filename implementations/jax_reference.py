"""JAX with this suite's workarounds ("jax-workarounds"): a reference, not JAX as its users call it.

The built-in "jax" (implementations/jax_jit.py) runs JAX's public API as documented,
so that the matrix certifies the library its users call. This adapter keeps the two
workarounds the suite once applied there, as a clearly named reference of what the
same library can do when its two known faults are avoided:

* temperature_softmax divides by the temperature in a jit of its own, then calls the
  jitted softmax: fused into one jit, ``jax.nn.softmax(x / t)`` returns NaN for
  logits near r_max on the CPU (XLA fuses the division into the max-reduction and
  exp(x - max); implementations/broken/jax_fused_temperature.py,
  tests/test_found_bugs.py).
* gumbel_max and gumbel_softmax sample float16 and bfloat16 logits in float32 and
  round the result once: ``jax.random.categorical`` and ``jax.random.gumbel`` on
  16-bit logits draw their Gumbel noise in that dtype (bfloat16: 7 random mantissa
  bits, 127 noise values, none above 4.85), which draws low-probability categories
  at about half their rate (jax-ml/jax#30879; docs/samplers.md, "A bias found on
  the way").

softmax, log_softmax, logsumexp and cross_entropy need no workaround: this reference
does not provide them (they are "jax"'s).
"""
from __future__ import annotations

import functools

from implementations import jax_jit
from suite.adapter import backend_adapter

DTYPES = jax_jit.DTYPES


@functools.cache
def _divide():
    return jax_jit._jax().jit(jax_jit._jax().numpy.divide)


def temperature_softmax(x, temperature, axis=-1):
    # Divide, then softmax, as two jitted calls: fused into one jit, XLA on the CPU
    # returns NaN for logits near r_max (see implementations/broken/jax_fused_temperature.py).
    return jax_jit.softmax(_divide()(x, temperature), axis=axis)


# --- samplers -------------------------------------------------------------
# jax.random.key(seed) from the contract's int seed; num_samples and hard are static.
# 16-bit logits are sampled in float32 (jax.random.gumbel in bfloat16 has 7 random
# mantissa bits: 127 noise values, truncated at 4.85, and frequent ties).


def gumbel_max(logits, num_samples, seed):
    return jax_jit._samplers(upcast=True)["gumbel_max"](logits, int(seed), num_samples=int(num_samples))


def gumbel_softmax(logits, tau, num_samples, seed, hard=False):
    return jax_jit._samplers(upcast=True)["gumbel_softmax"](logits, tau, int(seed), num_samples=int(num_samples), hard=bool(hard))


ADAPTER = backend_adapter(
    "jax",
    "cpu",
    "jax-workarounds",
    {  # only the ops it works around: the others would be "jax" again, certified twice
        "temperature_softmax": temperature_softmax,
        "gumbel_max": gumbel_max,
        "gumbel_softmax": gumbel_softmax,
    },
    DTYPES,
    unavailable_reason=jax_jit._unavailable,
    description=(
        "JAX with this suite's workarounds: temperature divided in its own jit (XLA's fused softmax(x/t) "
        "returns NaN near r_max), 16-bit logits sampled in float32 (jax.random.categorical is biased on bfloat16)"
    ),
    versions=jax_jit.ADAPTER.versions,
    from_numpy=jax_jit.from_numpy,
    examples_scale=jax_jit.ADAPTER.examples_scale,
)
