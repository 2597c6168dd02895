"""Temperature softmax as one jitted JAX function: jax.jit(lambda x, t: jax.nn.softmax(x / t)).

What is wrong: with jax/jaxlib 0.10.2 on the CPU, XLA fuses the division into
the max-reduction and the exp(x - max) of softmax, and the fused kernel returns
NaN for logits near r_max, e.g. 64 copies of 3.3688e38 in float32 with
t = 1.984375, where x / t = 1.70e38 is finite and the exact answer is uniform
1/64. Eager JAX, and the same two steps jitted separately, return 1/64.
This is what the built-in "jax" runs (JAX as its users call it), so the matrix's
jax column shows it; the "jax-workarounds" reference divides in a jit of its own.
Seen in: this suite's battery (definition, temperature_softmax, jax, float32 and
float64, regime 'extreme'), 2026-11-21.
Must be caught by: definition and finite_outputs (temperature_softmax, --backend jax).
"""
import functools

ZOO = [
    {
        "function": "temperature_softmax",
        "op": "temperature_softmax",
        "backend": "jax",
        "dtypes": ["float32"],
        "caught_by": ["definition", "finite_outputs"],
    },
]


@functools.cache
def _fused():
    import jax

    return jax.jit(lambda x, t: jax.nn.softmax(x / t, axis=-1))


def temperature_softmax(x, temperature, axis=-1):
    if axis not in (-1, x.ndim - 1):
        import jax.numpy as jnp

        return jnp.moveaxis(_fused()(jnp.moveaxis(x, axis, -1), temperature), -1, axis)
    return _fused()(x, temperature)
