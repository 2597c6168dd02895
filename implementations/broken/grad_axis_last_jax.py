"""A jax.custom_vjp softmax whose forward honours axis but whose backward reduces over the last axis.

What is wrong: the custom backward s * (g - sum(s * g)) takes the sum along
axis -1, as in the attention code it was written for, instead of along the
softmax axis. With axis = -1 it is exact; with axis = 0 on a (3, 8) input it
couples entries of the wrong rows: each gradient is off by s_ij times the
difference of two unrelated sums. The forward is jax.nn.softmax(x, axis).
Seen in: custom backward kernels that hard-code the reduction dimension
(flagos-ai/Torch-FL#171, softmax backward kernels with a fixed inner dimension;
ROCm/rocm-libraries#11387, softmax geometry derived for one layout only).
Must be caught by: grad_layouts (an axis other than the last) and
grad_closed_form (its draws include every axis).
"""
import functools

import jax
import jax.numpy as jnp

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "jax", "dtypes": ["float32"], "caught_by": ["grad_layouts", "grad_closed_form"]},
]


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _softmax(x, axis):
    return jax.nn.softmax(x, axis=axis)


def _forward(x, axis):
    s = jax.nn.softmax(x, axis=axis)
    return s, s


def _backward(axis, s, g):
    return (s * (g - jnp.sum(s * g, axis=-1, keepdims=True)),)  # should be axis=axis


_softmax.defvjp(_forward, _backward)


def softmax(x, axis=-1):
    return _softmax(x, axis)
