"""A jax.custom_vjp softmax whose backward drops the coupling term (JAX twin of grad_missing_term).

What is wrong: the forward is jax.nn.softmax; the custom backward returns s * g
instead of s * (g - sum(s * g)), the diagonal of the Jacobian only. Seen in:
hand-written custom_vjp rules for fused attention kernels, and the same mistake
in from-scratch frameworks (eriklindernoren/ML-From-Scratch#71,
pocketpy/cTensor#31). Must be caught by: grad_closed_form and
grad_finite_differences (reverse mode: JAX cannot run a custom_vjp function in
forward mode, so the suite checks it in reverse mode only).
"""
import functools

import jax

ZOO = [
    {
        "function": "softmax",
        "op": "softmax",
        "backend": "jax",
        "dtypes": ["float64"],
        "caught_by": ["grad_closed_form", "grad_finite_differences"],
    },
]


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _softmax(x, axis):
    return jax.nn.softmax(x, axis=axis)


def _forward(x, axis):
    s = jax.nn.softmax(x, axis=axis)
    return s, s


def _backward(axis, s, g):
    return (s * g,)  # should be s * (g - jnp.sum(s * g, axis=axis, keepdims=True))


_softmax.defvjp(_forward, _backward)


def softmax(x, axis=-1):
    return _softmax(x, axis)

