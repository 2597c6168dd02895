"""glibc malloc tuned so that a fresh large output reuses pages already touched (the "warm" path).

A large output is normally a fresh mmap whose pages fault in on first write: for
a memory-bound op that costs as much as the op. Serving large blocks from the
heap (no mmap: M_MMAP_MAX = 0, since M_MMAP_THRESHOLD cannot go above 32 MiB)
and never trimming it (M_TRIM_THRESHOLD large) makes each call reuse the pages
the previous call freed. Process-wide; :func:`restore_allocator` undoes it for
in-process runs. Used by ``python -m suite.speed`` and the asv benchmarks.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_MMAP_MAX = -1, -3, -4  # glibc's <malloc.h>
GLIBC_DEFAULT_THRESHOLD, GLIBC_DEFAULT_MMAP_MAX = 128 * 1024, 65536
TUNED = "glibc mallopt(M_MMAP_MAX=0, M_TRIM_THRESHOLD=2**31-1)"


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return libc


def tune_allocator() -> str:
    """Tune glibc malloc as described above; return what was done. RuntimeError where it cannot be."""
    libc = _libc()
    if libc is None:
        raise RuntimeError("needs glibc's mallopt (Linux)")
    if not (libc.mallopt(M_MMAP_MAX, 0) and libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1)):
        raise RuntimeError("glibc's mallopt refused to keep large blocks in the heap")
    return TUNED


def restore_allocator() -> None:
    """glibc's defaults again."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, GLIBC_DEFAULT_THRESHOLD)
        libc.mallopt(M_MMAP_MAX, GLIBC_DEFAULT_MMAP_MAX)
        libc.mallopt(M_TRIM_THRESHOLD, GLIBC_DEFAULT_THRESHOLD)
