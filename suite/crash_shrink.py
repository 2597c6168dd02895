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
``suite.runner.Context.call``): an input of the same rank, last-axis length and
dtype as the minimal one, the usual shape of a kernel's dispatch bug.
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
    """The call's arguments (arrays and scalars) as a base64 .npz; scalars as 0-d arrays."""
    buffer = io.BytesIO()
    np.savez(buffer, **{f"arg{i}": np.asarray(a) if not isinstance(a, np.ndarray) else a for i, a in enumerate(args)})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode(blob: str) -> list:
    with np.load(io.BytesIO(base64.b64decode(blob)), allow_pickle=False) as f:
        values = [f[f"arg{i}"] for i in range(len(f.files))]
    return [v.item() if v.ndim == 0 and v.dtype.kind in "iuf" and i > 0 else v for i, v in enumerate(values)]


def _cut(args: list, axis: int, length: int, op: str) -> list:
    x = args[0]
    index = [slice(None)] * x.ndim
    index[axis] = slice(0, length)
    out = [np.ascontiguousarray(x[tuple(index)])] + list(args[1:])
    if op == "cross_entropy" and len(out) > 1 and isinstance(out[1], np.ndarray):
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


def signature(args: list) -> dict:
    """What the other properties avoid: rank, last-axis length and dtype of the crashing input."""
    x = args[0]
    return {"ndim": int(x.ndim), "last": int(x.shape[-1]) if x.ndim else 0, "dtype": str(x.dtype)}


def matches(signatures: list[dict], args) -> bool:
    """Whether a call's first array argument has one of the crash signatures."""
    x = next((a for a in args if isinstance(a, np.ndarray)), None)
    if x is None:
        return False
    return any(x.ndim == s["ndim"] and (x.shape[-1] if x.ndim else 0) == s["last"] and str(x.dtype) == s["dtype"] for s in signatures)
