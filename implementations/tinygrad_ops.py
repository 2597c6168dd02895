"""tinygrad on its CPU device: ``Tensor`` methods, as its documentation calls them.

NumPy in, NumPy out, on the device ``"CPU"`` (named in every ``Tensor(x, device="CPU")`` and,
for the sampler's random numbers, which tinygrad draws on the default device, under
``Context(DEV="CPU")``), so a machine with a GPU never runs them there. Each op makes a tensor
of the caller's array, calls the documented method in the caller's dtype and returns
``.numpy()`` (a NumPy scalar for a 0-d result, which the suite accepts):

    softmax              Tensor(x).softmax(axis)
    log_softmax          Tensor(x).log_softmax(axis)
    logsumexp            Tensor(x).logsumexp(axis)
    cross_entropy        Tensor(logits).sparse_categorical_crossentropy(Tensor(targets), reduction="none")
                         (ignore_index=-1 and label_smoothing=0.0, its defaults: no label is ignored;
                         targets int32 or int64, as given)
    temperature_softmax  (Tensor(x) / temperature).softmax(axis)
    gumbel_max           Tensor.manual_seed(seed); Tensor(logits).softmax(-1).multinomial(num_samples,
                         replacement=True): tinygrad's sampler takes probabilities, so it is fed
                         tinygrad's own softmax of the logits (the README's route for such samplers)

dtypes: float16, float32 and float64. bfloat16 is left out: tinygrad's CPU kernels for it need a
clang that converts to and from ``__bf16`` on x86-64, and Debian 12's clang 14 and 15 reject them (clang 14: "__bf16 is not supported on this target"; clang 15: "cannot type-cast to
__bf16", e.g. softmax of a (1, 64) row), so on such a machine every bfloat16 certification is a
compile error, not a measurement of tinygrad. (NumPy has no bfloat16: tinygrad's documented route
is ``Tensor(x, dtype=dtypes.bfloat16)``, which copies the array as float32 and casts it on the
device, and ``.numpy()`` of a bfloat16 tensor returns float32; ``_tensor`` and ``_numpy`` below
take that route, exactly, for a toolchain that can build the kernels.) tinygrad has no
Gumbel-softmax, so the adapter has none.

The CPU device compiles every kernel with the C compiler ``clang`` (or ``$CC``) and needs it even
to start: without one the adapter is unavailable, with that reason. Every new shape is a compile
(about a second here), hence ``examples_scale`` below 1, as for JAX. ``import tinygrad``
happens on the first op call, never when the suite lists its built-ins.
Nothing here works around what tinygrad returns.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess

import numpy as np

from suite.adapter import extra_missing, installed_version, numpy_adapter

DTYPES = ("float16", "float32", "float64")
DEVICE = "CPU"


def _compiler() -> str:
    """The C compiler tinygrad's CPU device runs: ``$CC``, else ``clang``."""
    return os.environ.get("CC", "clang")


def unavailable_reason() -> str | None:
    missing = extra_missing("tinygrad", "tinygrad")
    if missing:
        return missing
    if shutil.which(_compiler()) is None:
        return f"tinygrad's CPU device needs a C compiler ({_compiler()}): not found on PATH"
    return None


@functools.cache
def _tg():
    import tinygrad

    return tinygrad


def _on_cpu(fn):
    """Run ``fn`` with tinygrad's default device set to the CPU (where ``Tensor.rand`` draws)."""

    @functools.wraps(fn)
    def on_cpu(*args, **kwargs):
        tg = _tg()
        with tg.Context(DEV=DEVICE):
            return fn(tg, *args, **kwargs)

    return on_cpu


def _tensor(tg, x: np.ndarray):
    if x.dtype.name == "bfloat16":
        return tg.Tensor(x, device=DEVICE, dtype=tg.dtypes.bfloat16)
    return tg.Tensor(x, device=DEVICE)


def _numpy(t, like: np.ndarray):
    out = t.numpy()
    if like.dtype.name == "bfloat16":  # .numpy() gives float32 for bfloat16 (NumPy has none): exact
        return out.astype(like.dtype)
    return out


@_on_cpu
def softmax(tg, x, axis=-1):
    return _numpy(_tensor(tg, x).softmax(axis), x)


@_on_cpu
def log_softmax(tg, x, axis=-1):
    return _numpy(_tensor(tg, x).log_softmax(axis), x)


@_on_cpu
def logsumexp(tg, x, axis=-1):
    return _numpy(_tensor(tg, x).logsumexp(axis), x)


@_on_cpu
def cross_entropy(tg, logits, targets):
    loss = _tensor(tg, logits).sparse_categorical_crossentropy(tg.Tensor(targets, device=DEVICE), reduction="none")
    return _numpy(loss, logits)


@_on_cpu
def temperature_softmax(tg, x, temperature, axis=-1):
    return _numpy((_tensor(tg, x) / temperature).softmax(axis), x)


@_on_cpu
def gumbel_max(tg, logits, num_samples, seed):
    """``num_samples`` draws (int32) of tinygrad's multinomial, with replacement, from its softmax of one row of logits."""
    tg.Tensor.manual_seed(int(seed))
    return _tensor(tg, logits).softmax(-1).multinomial(int(num_samples), replacement=True).numpy()


@functools.cache
def _clang_version() -> str:
    try:
        out = subprocess.run([_compiler(), "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    first = out.splitlines()[0] if out else "unknown"
    return first.split(" version ")[-1].split()[0] if " version " in first else first


def versions() -> dict[str, str]:
    from importlib import metadata

    return {"tinygrad": metadata.version("tinygrad"), _compiler(): _clang_version()}


def _description() -> str:
    return f"tinygrad {installed_version('tinygrad')}on its CPU device (kernels compiled by clang)"


ADAPTER = numpy_adapter(
    "tinygrad",
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
    examples_scale=0.2,  # every new shape is a clang compile (about 1 s): 5 examples per property in ci, its floor
)
