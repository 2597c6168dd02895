"""MLX on the CPU: mx.softmax, mlx.nn.log_softmax, mx.logsumexp, mlx.nn.losses.cross_entropy and
mx.random.categorical.

NumPy in, NumPy out, on the CPU: the first op call sets ``mx.set_default_device(mx.cpu)``, the
documented way to pin the device (``mlx.nn``'s functions take no ``stream``; on a CPU-only build it
is the default anyway). Each op makes an array of the caller's with
``mx.array(x, dtype=...)`` in the caller's dtype (the dtype is given because ``mx.array`` of a
float64 NumPy array is float32 by default; bfloat16 arrays are ml_dtypes.bfloat16, which
``mx.array`` reads bit for bit), calls the documented function with its defaults, and returns
``np.array`` of the result (a 0-d array for a 0-d result). A bfloat16 result goes through
``.astype(mx.float32)`` and back to ml_dtypes.bfloat16, since MLX's bfloat16 has no NumPy buffer
format; both casts are exact, so the caller gets MLX's bfloat16 bits:

    softmax              mx.softmax(x, axis=axis)                 (precise=False, its default)
    log_softmax          mlx.nn.log_softmax(x, axis=axis)
    logsumexp            mx.logsumexp(x, axis=axis)
    cross_entropy        mlx.nn.losses.cross_entropy(logits, targets, reduction="none")
                         (targets int32 or int64, as given)
    temperature_softmax  mx.softmax(x / temperature, axis=axis)
    gumbel_max           mx.random.categorical(logits, num_samples=num_samples, key=mx.random.key(seed))
                         (on the logits themselves, unnormalised, as its docs say; uint32 samples)

dtypes: float16, bfloat16, float32 and float64 (MLX runs float64 on the CPU only, which is where
this adapter runs). MLX has no Gumbel-softmax (``mx.random.gumbel`` is the noise alone), so the
adapter has none. ``import mlx`` happens on the first op call, in the worker process, never when
the suite lists its built-ins (the availability check only looks for the package).
Nothing here works around what MLX returns: ``mlx.nn.log_softmax`` (a shapeless ``mx.compile``)
crashes the process on an input of two or more dimensions whose reduced axis has length 1 (the
suite's workers report it as the crash it is), and after a 2-D call it returns a (2, 1) array of
NaN for a (2, 0) input; ``mx.array`` refuses a NumPy array with negative strides (ValueError).
"""
from __future__ import annotations

import functools

import numpy as np

from suite.adapter import extra_missing, installed_version, numpy_adapter

DTYPES = ("float16", "bfloat16", "float32", "float64")


def unavailable_reason() -> str | None:
    return extra_missing("mlx", "mlx")


@functools.cache
def _mlx():
    import mlx.core as mx
    import mlx.nn as nn

    mx.set_default_device(mx.cpu)
    return mx, nn


def _on_cpu(fn):
    """Call ``fn(mx, nn, ...)`` once MLX is imported with the CPU as its default device."""

    @functools.wraps(fn)
    def on_cpu(*args, **kwargs):
        mx, nn = _mlx()
        return fn(mx, nn, *args, **kwargs)

    return on_cpu


def _array(mx, x: np.ndarray):
    """``x`` as an MLX array of the same dtype (int32 and int64 targets keep theirs)."""
    return mx.array(x, dtype=getattr(mx, np.dtype(x.dtype).name))


def _numpy(mx, a) -> np.ndarray:
    if a.dtype == mx.bfloat16:
        import ml_dtypes

        return np.array(a.astype(mx.float32)).astype(ml_dtypes.bfloat16)
    return np.array(a)


@_on_cpu
def softmax(mx, nn, x, axis=-1):
    return _numpy(mx, mx.softmax(_array(mx, x), axis=int(axis)))


@_on_cpu
def log_softmax(mx, nn, x, axis=-1):
    return _numpy(mx, nn.log_softmax(_array(mx, x), axis=int(axis)))


@_on_cpu
def logsumexp(mx, nn, x, axis=-1):
    return _numpy(mx, mx.logsumexp(_array(mx, x), axis=int(axis)))


@_on_cpu
def cross_entropy(mx, nn, logits, targets):
    return _numpy(mx, nn.losses.cross_entropy(_array(mx, logits), _array(mx, targets), reduction="none"))


@_on_cpu
def temperature_softmax(mx, nn, x, temperature, axis=-1):
    return _numpy(mx, mx.softmax(_array(mx, x) / temperature, axis=int(axis)))


@_on_cpu
def gumbel_max(mx, nn, logits, num_samples, seed):
    """``num_samples`` draws from the (K,) logits with the key of ``seed``."""
    samples = mx.random.categorical(_array(mx, logits), num_samples=int(num_samples), key=mx.random.key(int(seed)))
    return np.array(samples)


def versions() -> dict[str, str]:
    return {"mlx": _mlx()[0].__version__}


def _description() -> str:
    return f"MLX {installed_version('mlx')}on the CPU"


ADAPTER = numpy_adapter(
    "mlx",
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
