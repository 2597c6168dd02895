"""SciPy: scipy.special.softmax, log_softmax and logsumexp.

SciPy has no cross-entropy or temperature softmax; both are composed here from
its logsumexp and softmax, the way a SciPy user would write them. SciPy does
not know bfloat16, so that dtype is not claimed.
"""
from __future__ import annotations

import numpy as np
import scipy
import scipy.special

from suite.adapter import Adapter


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


def _to_numpy(a):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected numpy.ndarray, got {type(a).__name__}")
    return a


ADAPTER = Adapter(
    name="scipy",
    backend="numpy",
    device="cpu",
    dtypes=("float16", "float32", "float64"),
    differentiable=False,
    ops={
        "softmax": softmax,
        "log_softmax": log_softmax,
        "logsumexp": logsumexp,
        "cross_entropy": cross_entropy,
        "temperature_softmax": temperature_softmax,
    },
    from_numpy=lambda a: np.array(a, copy=True),
    to_numpy=_to_numpy,
    is_native=lambda a: isinstance(a, np.ndarray),
    native_type="numpy.ndarray",
    description="scipy.special",
    origin="builtin('scipy')",
    versions=lambda: {"scipy": scipy.__version__, "numpy": np.__version__},
)
