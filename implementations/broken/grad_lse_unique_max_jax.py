"""A jax.custom_vjp logsumexp whose backward assumes the maximum is unique.

What is wrong: the gradient of LSE is g * softmax(x). The custom backward
recomputes softmax with the normaliser of the log1p formulation of LSE,
1 + sum of exp(x_j - max) over the entries *below* the maximum, which counts
the maximum once. With t tied maxima the true normaliser is t + (the rest), so
every entry's gradient is too large: for x = [2, 2, 0] each maximum gets
g / (1 + e^-2) = 0.88 g instead of g / (2 + e^-2) = 0.47 g, and the row's
gradient sums to 1.9 g instead of g. Rows with a unique maximum are exact. The
forward is jax.nn.logsumexp. Seen in: LSE kernels that implement "j != argmax"
as the mask x_j < max (the log1p algorithm of Blanchard, Higham & Higham 2021
excludes exactly one index); the same overcount at ties in max's gradient,
Theano/Theano#4568 (grad of max([1, 1]) = [1, 1], outside the subdifferential)
and microsoft/onnxruntime#7217 (one full gradient per tied maximum made fp16
training diverge); pytorch/pytorch#56734, tensorflow/tensorflow#51681 and
jax-ml/jax#13600 on how tied maxima share a gradient.
Must be caught by: grad_ties (tied logits and identical rows), and
grad_closed_form (its draws include the ties regime).
"""
import functools

import jax
import jax.numpy as jnp

ZOO = [
    {"function": "logsumexp", "op": "logsumexp", "backend": "jax", "dtypes": ["float32"], "caught_by": ["grad_ties", "grad_closed_form"]},
]


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _logsumexp(x, axis):
    return jax.nn.logsumexp(x, axis=axis)


def _forward(x, axis):
    return jax.nn.logsumexp(x, axis=axis), x


def _backward(axis, x, g):
    m = jnp.max(x, axis=axis, keepdims=True)
    e = jnp.exp(x - m)
    below = jnp.sum(jnp.where(x < m, e, 0), axis=axis, keepdims=True)
    s = e / (1 + below)  # should be e / sum(e): every tied maximum contributes 1
    return (jnp.expand_dims(g, axis) * s,)


_logsumexp.defvjp(_forward, _backward)


def logsumexp(x, axis=-1):
    return _logsumexp(x, axis)
