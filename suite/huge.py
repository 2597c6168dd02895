"""Arrays past 2**31 and 2**32 elements, where 32-bit index arithmetic wraps (opt-in: --huge).

A kernel that computes a flat index ``row * K + j`` in a 32-bit integer is right
on every array the other properties draw and silently wrong past element 2**31
(pytorch/pytorch#84144, #111484; microsoft/onnxruntime#32299). This module runs
an op once on an (R, K) array of moderate logits whose R * K passes a boundary,
with K = 50257 (GPT-2's vocabulary: odd, so each boundary falls inside a row),
and checks

* against the oracle, only the rows that hold elements boundary - 1 and
  boundary (the row that straddles it and its neighbours) and the last row,
  where a wrapped index reads or writes the wrong memory;
* cheaply, every row, in chunks of ``CHUNK_ELEMENTS``: finite, and for
  softmax a row sum (accumulated in float64) within 1 +- the sum of that row's
  componentwise bounds (suite/bounds.py, from the regenerated input: bounds run
  at tens of millions of elements per second, so every row gets its own);
  log-probabilities <= their allowance. A kernel that never writes the rows past
  a boundary fails here.

The input is generated block by block from ``seed`` and regenerated for the
oracle's rows, so only the native input and output are held. What that needs is
estimated (``memory_needed``) and compared with MemAvailable (and, on CUDA, the
device's free memory); a boundary that does not fit is skipped with a one-line
reason. ``boundaries`` and ``classes`` are parameters so that the same code is
tested at 2**20 (tests/test_huge.py).
"""
from __future__ import annotations

import numpy as np
from hypothesis.errors import Unsatisfiable

from suite import backends
from suite import dtypes as dt
from suite.assertions import assert_true, assert_within
from suite.cases import Case
from suite.ops import LOG_PROBABILITIES, OPS, PROBABILITIES

BOUNDARIES = (2**31, 2**32)
CLASSES = 50257
CHUNK_ELEMENTS = 1 << 24
TEMPERATURE = 0.75
# Temporaries of the op per element, in units of max(itemsize, 4) bytes, are the backend record's
# (suite/backends/): numpy-reference keeps a float32 working copy, x - a, exp(x - a), a copy of it
# and the quotient (5); torch (2) and XLA (3) fuse more.
GIB = 2**30


def shape_for(boundary: int, classes: int = CLASSES) -> tuple[int, int]:
    """The smallest (R, K) holding element ``boundary`` (0-based) with a row after it."""
    return boundary // classes + 2, classes


def checked_rows(boundary: int, shape: tuple[int, int]) -> list[int]:
    rows, k = shape
    straddle = boundary // k  # holds element `boundary`; element boundary - 1 is in it or the row before
    return sorted({r for r in (straddle - 1, straddle, straddle + 1, rows - 1) if 0 <= r < rows})


def memory_needed(backend: str, device: str, op: str, dtype: str, shape: tuple[int, int]) -> dict[str, int]:
    """Bytes of host (and device) memory the run needs, estimated from the sizes it holds."""
    elements = shape[0] * shape[1]
    itemsize = dt.numpy_dtype(dtype).itemsize
    data = elements * itemsize
    out = shape[0] * itemsize if OPS[op].reduces else data
    work = elements * max(itemsize, 4) * backends.get(backend).temporaries
    chunk = 8 * CHUNK_ELEMENTS * 8  # the float64 chunks of the cheap checks and the oracle's rows
    if device == "cpu":
        return {"host": 2 * data + out + work + chunk}  # the NumPy input and its native copy, the output, temporaries
    return {"host": data + 2 * out + chunk, "device": data + out + work}


def memory_available(adapter) -> dict[str, int]:
    free = {"host": _mem_available()}
    device_memory = backends.get(adapter.backend).free_device_memory
    if adapter.device != "cpu" and device_memory is not None:
        free["device"] = device_memory(adapter.device)
    return free


def _mem_available() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import os

    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def shortage(needed: dict[str, int], free: dict[str, int]) -> str | None:
    short = [f"{where} memory: {needed[where] / GIB:.1f} GiB needed, {free.get(where, 0) / GIB:.1f} GiB available" for where in needed if needed[where] > free.get(where, 0)]
    return "; ".join(short) or None


def rows_of(seed: int, shape: tuple[int, int], dtype: str, start: int, stop: int) -> np.ndarray:
    """Rows start..stop of the input: moderate logits, normal(0, 3), generated in blocks of rows."""
    k = shape[1]
    per_block = max(1, CHUNK_ELEMENTS // k)
    np_dtype = dt.numpy_dtype(dtype)
    parts = []
    for block in range(start // per_block, (stop - 1) // per_block + 1):
        lo = block * per_block
        hi = min(lo + per_block, shape[0])
        values = np.random.default_rng([seed, block]).standard_normal((hi - lo, k), dtype=np.float32) * 3
        parts.append(values[max(start, lo) - lo : min(stop, hi) - lo].astype(np_dtype))
    return np.concatenate(parts)


def targets_of(seed: int, shape: tuple[int, int]) -> np.ndarray:
    return np.random.default_rng([seed, -1 % 2**32]).integers(0, shape[1], size=shape[0])


def _case(op: str, x: np.ndarray, targets: np.ndarray | None) -> Case:
    return Case(op, x, -1, targets, TEMPERATURE)


def check(ctx, boundaries=BOUNDARIES, classes: int = CLASSES, seed: int = 0, free: dict[str, int] | None = None) -> None:
    """Run ctx's op past each boundary that fits in memory; raise Unsatisfiable if none does."""
    adapter, op, dtype = ctx.adapter, ctx.op, ctx.dtype
    free = free if free is not None else memory_available(adapter)
    reasons = []
    for boundary in boundaries:
        shape = shape_for(boundary, classes)
        short = shortage(memory_needed(adapter.backend, adapter.device, op, dtype, shape), free)
        if short:
            reasons.append(f"{shape[0]} x {shape[1]} {dtype} (past element 2**{boundary.bit_length() - 1}): {short}")
            continue
        _check_boundary(ctx, boundary, shape, seed)
        ctx.note_stat("largest_boundary_checked", boundary)
    if len(reasons) == len(boundaries):
        raise Unsatisfiable("not enough memory for huge arrays: " + "; ".join(reasons))


def _check_boundary(ctx, boundary: int, shape: tuple[int, int], seed: int) -> None:
    adapter, op, dtype = ctx.adapter, ctx.op, ctx.dtype
    x = np.empty(shape, dtype=dt.numpy_dtype(dtype))
    step = max(1, CHUNK_ELEMENTS // shape[1])
    for start in range(0, shape[0], step):
        x[start : start + step] = rows_of(seed, shape, dtype, start, min(start + step, shape[0]))
    targets = targets_of(seed, shape) if "targets" in OPS[op].inputs else None
    args, kwargs = _case(op, x, targets).args()
    ctx._record["draws"].update({"shape": repr(shape), "boundary": f"2**{boundary.bit_length() - 1}", "seed": repr(seed)})
    native = [adapter.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
    del x, args
    try:
        result = adapter.ops[op](*native, **kwargs)
        del native
        out = adapter.to_numpy(result)
        del result
    except Exception as exc:
        ctx.fail(f"raised {type(exc).__name__} on a {shape[0]} x {shape[1]} {dtype} input: {exc}")
    expected_shape = OPS[op].output_shape(shape)
    if out.shape != expected_shape:
        ctx.fail(f"out.shape={out.shape}, but should be {expected_shape}", expected_shape, out.shape)
    rows = checked_rows(boundary, shape)
    for r in rows:
        case = _case(op, rows_of(seed, shape, dtype, r, r + 1), None if targets is None else targets[r : r + 1])
        assert_within(ctx, out[r : r + 1], case.exact(), case.bound(dtype), f"{op}(x) at row {r} of {shape[0]} x {shape[1]} (element 2**{boundary.bit_length() - 1} is in row {boundary // shape[1]})")
    step = max(1, CHUNK_ELEMENTS // shape[1])
    for start in range(0, shape[0], step):
        chunk = out[start : start + step].astype(np.float64)
        where = f"[{op}(x) rows {start}..{start + len(chunk) - 1} of {shape[0]} x {shape[1]}]"
        assert_true(ctx, np.isfinite(chunk), chunk, f"not finite {where}")
        traits = OPS[op].traits
        if traits & {PROBABILITIES, LOG_PROBABILITIES}:
            # each row's own allowance, from its regenerated input (sums_to_one's bound: rigorous per row)
            case = _case(op, rows_of(seed, shape, dtype, start, start + len(chunk)), None)
            bound = case.bound(dtype)
        if PROBABILITIES in traits:
            total = np.sum(chunk, axis=-1)
            allowed = np.sum(bound, axis=-1)
            assert_true(ctx, np.abs(total - 1) <= allowed, total, f"row sum off 1 by more than its allowance {where}")
        if LOG_PROBABILITIES in traits:
            assert_true(ctx, chunk <= bound, chunk, f"log-probability above its allowance {where}")
