"""A crash shrunk to a minimal crashing input, by re-running candidates in fresh workers.

Hypothesis cannot shrink a failure that kills its process, so when the
implementation crashes (a segfault, an abort) the parent takes the call that was
running (the worker records it before every call) and shrinks it itself: each
candidate, a smaller or simpler version of that call, runs once in a worker
(``{"cmd": "call"}``); one that crashes again replaces the call, and the worker
it killed is replaced by a fresh one. Candidates, in order, for the first array
argument (and the rows of a cross-entropy's targets with it):

* every axis cut to its first half, then to length 1;
* all values set to 0 (a crash that depends on the shape alone).

It stops when no candidate crashes, after ``MAX_RUNS`` runs or ``BUDGET_S``
seconds. The crash's *signature* is what the other properties then avoid (see
``suite.runner.Context.call``): an input with the minimal one's length along the
reduced axis, the usual shape of a kernel's dispatch bug, and its rank and dtype,
each widened where a few more runs show the crash does not depend on it
(:func:`generalise`): the minimal input in every other dtype, and with one axis of
length 1 more or fewer. MLX's ``nn.log_softmax`` crashes on every input of two or
more dimensions whose reduced axis has length 1, in every dtype: its signature
says exactly that, so the other properties stop meeting it.
"""
from __future__ import annotations

import base64
import io
import time
from typing import Callable

import numpy as np

MAX_RUNS = 40
BUDGET_S = 90.0


def encode(args) -> str:
    """The call's arguments (arrays and scalars) as a base64 .npz; scalars as 0-d arrays. A
    bfloat16 array (ml_dtypes, which .npz cannot name) travels as its uint16 bits, tagged."""
    arrays = {}
    for i, a in enumerate(args):
        a = np.asarray(a)
        if a.dtype.name == "bfloat16":
            arrays[f"arg{i}"], arrays[f"bfloat16_{i}"] = a.view(np.uint16), np.array(True)
        else:
            arrays[f"arg{i}"] = a
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode(blob: str) -> list:
    from suite.dtypes import numpy_dtype

    with np.load(io.BytesIO(base64.b64decode(blob)), allow_pickle=False) as f:
        count = sum(1 for name in f.files if name.startswith("arg"))
        values = [f[f"arg{i}"].view(numpy_dtype("bfloat16")) if f"bfloat16_{i}" in f.files else f[f"arg{i}"] for i in range(count)]
    return [v.item() if v.ndim == 0 and v.dtype.kind in "iuf" and i > 0 else v for i, v in enumerate(values)]


def _cut(args: list, axis: int, length: int, op: str) -> list:
    x = args[0]
    index = [slice(None)] * x.ndim
    index[axis] = slice(0, length)
    out = [np.ascontiguousarray(x[tuple(index)])] + list(args[1:])
    from suite.ops import OPS

    if "targets" in OPS[op].inputs and len(out) > 1 and isinstance(out[1], np.ndarray):
        targets = out[1][:length] if axis == 0 else out[1]
        out[1] = np.minimum(targets, out[0].shape[-1] - 1).astype(out[1].dtype)  # ids stay below K
    return out


def candidates(args: list, op: str):
    """Smaller or simpler versions of a call, most promising first."""
    x = args[0]
    if not isinstance(x, np.ndarray):
        return
    for axis in range(x.ndim):
        n = x.shape[axis]
        for length in dict.fromkeys((n // 2, 1)):
            if 1 <= length < n:
                yield _cut(args, axis, length, op)
    if x.size and np.any(x != 0):
        yield [np.zeros_like(x)] + list(args[1:])


def shrink(crashes: Callable[[list], bool], args: list, op: str) -> tuple[list, int]:
    """The smallest call that still crashes (greedy over :func:`candidates`), and the runs it took."""
    runs, start = 0, time.monotonic()
    improved = True
    while improved:
        improved = False
        for candidate in candidates(args, op):
            if runs >= MAX_RUNS or time.monotonic() - start > BUDGET_S:
                return args, runs
            runs += 1
            if crashes(candidate):
                args, improved = candidate, True
                break
    return args, runs


def _reduced_axis(x: np.ndarray, kwargs: dict) -> int:
    """The axis the op reduces: its ``axis`` argument, else the last (cross_entropy, the samplers)."""
    axis = int(kwargs.get("axis", -1))
    return axis % x.ndim if x.ndim else 0


def signature(args: list, kwargs: dict | None = None) -> dict:
    """What the other properties avoid: the crashing input's length along the reduced axis, its
    rank (a range, once widened) and its dtype (None once widened: every dtype)."""
    x = args[0]
    length = int(x.shape[_reduced_axis(x, kwargs or {})]) if x.ndim else 0
    return {"min_ndim": int(x.ndim), "max_ndim": int(x.ndim), "axis_length": length, "dtype": str(x.dtype)}


def _with_x(args: list, x: np.ndarray) -> list:
    return [x] + list(args[1:])


def _moved_axis(kwargs: dict, by: int) -> dict:
    """``kwargs`` for the input with ``by`` leading axes added (or dropped): a non-negative axis moves with them."""
    axis = kwargs.get("axis")
    return dict(kwargs, axis=int(axis) + by) if axis is not None and int(axis) >= 0 else kwargs


def generalise(crashes: Callable[[list, dict], bool], args: list, kwargs: dict, dtypes) -> tuple[dict, int]:
    """The minimal crash's signature, widened by a few runs: to every dtype if the minimal input
    crashes in each of ``dtypes``; to higher ranks if it crashes with a leading axis of length 1
    added; to lower ranks, one at a time, while it crashes with a leading axis of length 1 dropped.
    Returns the signature and the runs it took."""
    from suite.dtypes import FLOAT_DTYPES, numpy_dtype

    runs = 0

    def run(candidate_x, candidate_kwargs) -> bool:
        nonlocal runs
        runs += 1
        return crashes(_with_x(args, candidate_x), candidate_kwargs)

    x = args[0]
    sig = signature(args, kwargs)
    others = [d for d in dtypes if d != str(x.dtype)]
    if others and str(x.dtype) in FLOAT_DTYPES and all(run(x.astype(numpy_dtype(d)), kwargs) for d in others):
        sig["dtype"] = None
    if run(x[None], _moved_axis(kwargs, 1)):
        sig["max_ndim"] = None
    while x.ndim >= 2 and x.shape[0] == 1 and _reduced_axis(x, kwargs) != 0:
        lower = _moved_axis(kwargs, -1)
        if not run(x[0], lower):
            break
        x, kwargs = x[0], lower
        sig["min_ndim"] = int(x.ndim)
    return sig, runs


def describe(sig: dict) -> str:
    """The signature in words, for the crashed property's message."""
    low, high = sig["min_ndim"], sig["max_ndim"]
    rank = f"rank {low}" if low == high else (f"rank {low} or more" if high is None else f"rank {low} to {high}")
    dtype = "any dtype" if sig["dtype"] is None else sig["dtype"]
    return f"inputs of {rank} with {sig['axis_length']} entries along the reduced axis, {dtype}"


def matches(signatures: list[dict], args, kwargs: dict | None = None) -> bool:
    """Whether a call's first array argument has one of the crash signatures."""
    x = next((a for a in args if isinstance(a, np.ndarray)), None)
    if x is None:
        return False
    length = int(x.shape[_reduced_axis(x, kwargs or {})]) if x.ndim else 0
    return any(
        s["min_ndim"] <= x.ndim
        and (s["max_ndim"] is None or x.ndim <= s["max_ndim"])
        and length == s["axis_length"]
        and (s["dtype"] is None or str(x.dtype) == s["dtype"])
        for s in signatures
    )
