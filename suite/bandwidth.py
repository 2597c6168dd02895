"""The memory-bandwidth limit that softmax-family timings are measured against.

softmax is memory-bound: a row op must read its input once and write its
output once, and nothing can beat the time a plain copy of the same bytes
takes. :func:`copy_bandwidth` measures that copy on this machine, now (the
machines are shared, so a fraction is only meaningful against a copy measured
in the same run); :func:`bytes_moved` says how many bytes an op must move.
"""
from __future__ import annotations

import time

import numpy as np

from suite import dtypes as dt
from suite.ops import OPS

# 256 MiB per buffer: far beyond any last-level cache, so the copy streams from memory.
COPY_BYTES = 1 << 28


def copy_bandwidth(nbytes: int = COPY_BYTES, repeats: int = 5) -> float:
    """Bytes per second of ``np.copyto`` between two pre-touched buffers of ``nbytes``,
    counting the read and the write (2 * nbytes per copy); the best of ``repeats``."""
    src = np.ones(nbytes // 8, dtype=np.float64)
    dst = np.zeros_like(src)  # np.zeros_like touches no page; the first copy below does
    np.copyto(dst, src)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return 2 * src.nbytes / best


def parse_shape(shape: str) -> tuple[int, ...]:
    """ "1024x32768" -> (1024, 32768)."""
    return tuple(int(n) for n in shape.split("x"))


def bytes_moved(op: str, shape: tuple[int, ...], dtype: str, num_samples: int = 1) -> int:
    """The bytes ``op`` must move on logits of ``shape`` (rows along the last axis): the
    input read once, plus the output written once."""
    if op not in OPS:
        raise ValueError(f"no byte count for op {op!r}")
    size = int(np.prod(shape))
    return OPS[op].bytes_moved(size, size // shape[-1] if shape else 1, np.dtype(dt.numpy_dtype(dtype)).itemsize, num_samples)
