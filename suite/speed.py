"""Side-by-side speed of softmax contenders on one shape, against the copy bandwidth.

    python -m suite.speed [--shape 1024x32768] [--dtype float32] [--threads 2] [--op softmax]

For each contender and path the table gives the best-of-N time, the bytes the op
must move (:func:`suite.bandwidth.bytes_moved`) per second, and that as a fraction
of the copy bandwidth measured in this process just before the contender ran
(the machines are shared: only a same-run ratio means anything).

Two paths:

* cold: a fresh output every call, as a user calls it; a large output is a fresh
  mmap whose pages fault in on first write, and that cost is counted.
* warm: no page faults on the output. numba-fused writes into a pre-touched
  array passed as ``out=``; the others cannot take one, so they run after
  :func:`suite.allocator.tune_allocator` (each call reuses the pages the previous
  call freed).

The cold rows all run before the allocator is tuned (it cannot be untuned).
"""
from __future__ import annotations

import argparse
import time
from typing import Callable

import numpy as np

from suite import dtypes as dt
from suite.allocator import tune_allocator
from suite.bandwidth import bytes_moved, copy_bandwidth, parse_shape

OPS = ("softmax", "log_softmax", "logsumexp")

def best_time(fn: Callable[[], object], repeats: int = 10, warmup: int = 1) -> float:
    """The fastest of ``repeats`` timed calls of ``fn()``, in seconds, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _contenders(op: str, threads: int):
    """(name, cold callable factory, warm callable factory or None, note) per contender; a factory
    takes x (NumPy) and returns a zero-argument callable, or raises with the reason it cannot."""
    from implementations import numba_fused, numpy_reference

    def fused(op):
        reason = numba_fused.ADAPTER.unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        import numba

        numba.set_num_threads(threads)
        return getattr(numba_fused, op)

    def fused_cold(x):
        fn = fused(op)
        return lambda: fn(x)

    def fused_warm(x):
        fn = fused(op)
        out = np.ones(x.shape[:-1] if op == "logsumexp" else x.shape, dtype=x.dtype)  # pre-touched
        return lambda: fn(x, out=out)

    def torch_fn(x):
        import torch

        torch.set_num_threads(threads)
        t = torch.from_numpy(x)
        return torch, t, {
            "softmax": lambda v: torch.softmax(v, dim=-1),
            "log_softmax": lambda v: torch.log_softmax(v, dim=-1),
            "logsumexp": lambda v: torch.logsumexp(v, dim=-1),
        }[op]

    def eager(x):
        _, t, f = torch_fn(x)
        return lambda: f(t)

    compiled_cache = {}

    def compiled(x):
        torch, t, f = torch_fn(x)
        if "fn" not in compiled_cache:
            fn = torch.compile(f)
            fn(t)  # compile now, not inside the timing
            compiled_cache["fn"] = fn
        fn = compiled_cache["fn"]
        return lambda: fn(t)

    def reference(x):
        fn = getattr(numpy_reference, op)
        return lambda: fn(x)

    return [
        ("numba-fused", fused_cold, fused_warm, "warm: pre-touched out="),
        ("torch eager", eager, eager, "warm: tuned allocator"),
        ("torch.compile", compiled, compiled, "warm: tuned allocator"),
        ("numpy-reference", reference, reference, "warm: tuned allocator (1 thread)"),
    ]


def measure(shape: tuple[int, ...], dtype: str, threads: int, op: str = "softmax", repeats: int = 10):
    """Rows of (contender, path, seconds or None, GB/s, copy GB/s, fraction, note)."""
    x = np.random.default_rng(0).standard_normal(shape).astype(dt.numpy_dtype(dtype))
    moved = bytes_moved(op, shape, dtype)
    contenders = _contenders(op, threads)
    rows = []
    allocator = None
    for path in ("cold", "warm"):
        if path == "warm":
            try:
                allocator = tune_allocator()
            except RuntimeError as exc:
                allocator = f"allocator not tuned ({exc})"
        for name, cold, warm, note in contenders:
            factory = cold if path == "cold" else warm
            try:
                fn = factory(x)
            except Exception as exc:  # noqa: BLE001 - a contender that cannot run is a row, not a crash
                why = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
                if isinstance(exc, ImportError):
                    from suite.extras import install_hint

                    why += f" ({install_hint(exc.name)})"
                rows.append((name, path, None, None, None, None, why))
                continue
            copy = copy_bandwidth()
            seconds = best_time(fn, repeats)
            rows.append((name, path, seconds, moved / seconds, copy, moved / seconds / copy, note if path == "warm" else ""))
    return rows, allocator


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m suite.speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", default="1024x32768", help="logits shape, rows along the last axis (default 1024x32768)")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--threads", type=int, default=2, help="threads for numba and torch (default 2)")
    parser.add_argument("--op", default="softmax", choices=OPS)
    parser.add_argument("--repeats", type=int, default=10, help="timed calls per measurement; the best counts (default 10)")
    args = parser.parse_args(argv)
    shape = parse_shape(args.shape)
    rows, allocator = measure(shape, args.dtype, args.threads, args.op, args.repeats)
    print(f"{args.op} on {args.shape} {args.dtype}, {args.threads} threads, best of {args.repeats}; "
          f"{bytes_moved(args.op, shape, args.dtype) / 1e6:.0f} MB moved per call")
    print(f"warm path: {allocator}")
    print(f"{'contender':<16} {'path':<5} {'ms':>9} {'GB/s':>7} {'copy GB/s':>10} {'of copy':>8}  note")
    for name, path, seconds, rate, copy, fraction, note in rows:
        if seconds is None:
            print(f"{name:<16} {path:<5} {'-':>9} {'-':>7} {'-':>10} {'-':>8}  {note}")
        else:
            print(f"{name:<16} {path:<5} {seconds * 1e3:9.2f} {rate / 1e9:7.2f} {copy / 1e9:10.2f} {fraction:8.2f}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
