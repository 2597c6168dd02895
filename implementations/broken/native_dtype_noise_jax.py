"""JAX Gumbel samplers that draw their noise in the logits' 16-bit dtype.

What is wrong: jax.random.categorical(key, logits) and jax.random.gumbel(key,
shape, dtype=logits.dtype) called directly on bfloat16 logits make the Gumbel
noise in bfloat16: the uniform behind it has 7 random mantissa bits, so the
noise takes 127 distinct values, none above 4.85 (a Gumbel exceeds 4.85 with
probability 0.8%), and the sum logits + G is rounded to 8 bits. Low-probability
categories, which win only through a large noise value, are drawn at about half
their rate: on the battery's peaked logits p = 1e-244 in bfloat16. float32
logits are sampled correctly. Seen in: this suite's battery on jax 0.10
(docs/samplers.md, "A bias found on the way"); jax-ml/jax#30879 (categorical
gives different results for bfloat16 and float32 logits); jax-ml/jax#26974
(coarse uniforms near 0 break the Gumbel tail); vllm-project/vllm#34854 (Gumbel
noise moved to float32). This is what the built-in "jax" runs (JAX as its users
call it), so the matrix's jax column shows it; the "jax-workarounds" reference
samples 16-bit logits in float32.
Must be caught by: gumbel_max_distribution and gumbel_softmax_argmax_distribution
(bfloat16).
"""
import functools

import jax

ZOO = [
    {"function": "gumbel_max", "op": "gumbel_max", "backend": "jax", "dtypes": ["bfloat16"], "caught_by": ["gumbel_max_distribution"]},
    {
        "function": "gumbel_softmax",
        "op": "gumbel_softmax",
        "backend": "jax",
        "dtypes": ["bfloat16"],
        "caught_by": ["gumbel_softmax_argmax_distribution"],
    },
]


@functools.partial(jax.jit, static_argnums=(1,))
def _categorical(logits, num_samples, seed):
    return jax.random.categorical(jax.random.key(seed), logits, shape=(num_samples,))  # noise in logits.dtype


@functools.partial(jax.jit, static_argnums=(2, 4))
def _soft(logits, tau, num_samples, seed, hard):
    g = jax.random.gumbel(jax.random.key(seed), (num_samples,) + logits.shape, dtype=logits.dtype)  # should be float32
    y = jax.nn.softmax((logits + g) / tau, axis=-1)
    if hard:
        one_hot = jax.nn.one_hot(y.argmax(axis=-1), logits.shape[-1], dtype=y.dtype)
        y = one_hot - jax.lax.stop_gradient(y) + y
    return y


def gumbel_max(logits, num_samples, seed):
    return _categorical(logits, int(num_samples), int(seed))


def gumbel_softmax(logits, tau, num_samples, seed, hard=False):
    return _soft(logits, tau, int(num_samples), int(seed), bool(hard))
