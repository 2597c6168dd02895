"""TensorFlow, eager, on the CPU: tf.nn.softmax, log_softmax, tf.math.reduce_logsumexp,
tf.nn.sparse_softmax_cross_entropy_with_logits and tf.random.stateless_categorical.

NumPy in, NumPy out, under ``tf.device("/CPU:0")``: each op makes a tensor of the caller's array with ``tf.constant`` (bfloat16
arrays are ml_dtypes.bfloat16, which TensorFlow reads and ``.numpy()`` returns), calls the
documented function in the caller's dtype, and returns ``.numpy()`` (a NumPy scalar for a 0-d
result, which the suite accepts):

    softmax              tf.nn.softmax(x, axis=axis)
    log_softmax          tf.nn.log_softmax(x, axis=axis)
    logsumexp            tf.math.reduce_logsumexp(x, axis=axis)
    cross_entropy        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
                         (labels int32 or int64, as given)
    temperature_softmax  tf.nn.softmax(x / temperature, axis=axis)
    gumbel_max           tf.random.stateless_categorical(logits[None, :], num_samples, seed=[seed, 0])[0]

TensorFlow has no Gumbel-softmax in its core (it lives in TensorFlow Probability), so the adapter
has none. ``import tensorflow`` takes seconds: it happens on the first op call, in the worker
process, never when the suite lists its built-ins (the availability check only looks for the
package).
Nothing here works around what TensorFlow returns.
"""
from __future__ import annotations

import functools

from suite.adapter import extra_missing, installed_version, numpy_adapter

DTYPES = ("float16", "bfloat16", "float32", "float64")


def unavailable_reason() -> str | None:
    return extra_missing("tensorflow", "tensorflow")


@functools.cache
def _tf():
    import tensorflow as tf

    return tf


def _on_cpu(fn):
    """Run ``fn`` under ``tf.device("/CPU:0")``: the CPU even where a GPU build of TensorFlow sees a GPU."""

    @functools.wraps(fn)
    def on_cpu(*args, **kwargs):
        with _tf().device("/CPU:0"):
            return fn(_tf(), *args, **kwargs)

    return on_cpu


@_on_cpu
def softmax(tf, x, axis=-1):
    return tf.nn.softmax(tf.constant(x), axis=axis).numpy()


@_on_cpu
def log_softmax(tf, x, axis=-1):
    return tf.nn.log_softmax(tf.constant(x), axis=axis).numpy()


@_on_cpu
def logsumexp(tf, x, axis=-1):
    return tf.math.reduce_logsumexp(tf.constant(x), axis=axis).numpy()


@_on_cpu
def cross_entropy(tf, logits, targets):
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant(targets), logits=tf.constant(logits)).numpy()


@_on_cpu
def temperature_softmax(tf, x, temperature, axis=-1):
    return tf.nn.softmax(tf.constant(x) / temperature, axis=axis).numpy()


@_on_cpu
def gumbel_max(tf, logits, num_samples, seed):
    """One batch row of logits, ``num_samples`` draws, the stateless seed pair [seed, 0] (int64)."""
    seed_pair = tf.constant([int(seed), 0], dtype=tf.int64)
    return tf.random.stateless_categorical(tf.constant(logits)[None, :], int(num_samples), seed=seed_pair)[0].numpy()


def versions() -> dict[str, str]:
    return {"tensorflow": _tf().__version__}


def _description() -> str:
    return f"TensorFlow {installed_version('tensorflow-cpu', 'tensorflow')}eager on the CPU"


ADAPTER = numpy_adapter(
    "tensorflow",
    {
        "softmax": softmax,
        "log_softmax": log_softmax,
        "logsumexp": logsumexp,
        "cross_entropy": cross_entropy,
        "temperature_softmax": temperature_softmax,
        "gumbel_max": gumbel_max,
    },
    DTYPES,
    description=_description(),
    versions=versions,
    unavailable_reason=unavailable_reason,
    own_worker=True,
)
