"""SciPy: scipy.special.softmax, log_softmax and logsumexp.

SciPy has no cross-entropy or temperature softmax; both are composed here from
its logsumexp and softmax, the way a SciPy user would write them. SciPy does
not know bfloat16, so that dtype is not claimed.
"""
from __future__ import annotations

import numpy as np
import scipy
import scipy.special

from suite.adapter import numpy_adapter


def softmax(x, axis=-1):
    return scipy.special.softmax(x, axis=axis).astype(x.dtype, copy=False)


def log_softmax(x, axis=-1):
    return scipy.special.log_softmax(x, axis=axis).astype(x.dtype, copy=False)


def logsumexp(x, axis=-1):
    return np.asarray(scipy.special.logsumexp(x, axis=axis)).astype(x.dtype, copy=False)


def cross_entropy(logits, targets):
    target_logit = np.take_along_axis(logits, np.asarray(targets)[:, None], axis=-1)[:, 0]
    return (scipy.special.logsumexp(logits, axis=-1) - target_logit).astype(logits.dtype, copy=False)


def temperature_softmax(x, temperature, axis=-1):
    return softmax(x / x.dtype.type(temperature), axis=axis)


ADAPTER = numpy_adapter(
    "scipy",
    {
        "softmax": softmax,
        "log_softmax": log_softmax,
        "logsumexp": logsumexp,
        "cross_entropy": cross_entropy,
        "temperature_softmax": temperature_softmax,
    },
    ("float16", "float32", "float64"),
    description="scipy.special",
    versions=lambda: {"scipy": scipy.__version__, "numpy": np.__version__},
)
