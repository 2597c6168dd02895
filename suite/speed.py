"""Side-by-side speed of softmax contenders on one shape, against a copy of the same bytes.

    python -m suite.speed [--shape 1024x32768] [--dtype float32] [--threads 2] [--op softmax]

For each contender and path the table gives the best-of-N time, the bytes the op
must move (:func:`suite.bandwidth.bytes_moved`) per second at that time, and
that as a fraction of the yardstick: a copy of the same bytes on buffers
allocated as the contender's output is, timed in the same rounds (copy,
contender, copy, contender, ...), the best of each. This is the speed section's
own path (:func:`suite.speed_section.measure_row`, which calls
:func:`suite.timing.measure_against_copy`), with ``--repeats`` rounds of one call
each; a fraction above 1.05 is printed with its reason, or marked suspect.

Two paths (suite/timing.py):

* cold: a fresh output every call, as a user calls it; a large output is a fresh
  mmap whose pages fault in on first write, and that cost is counted (the
  copy's output is fresh too).
* warm: no page faults on the output. numba-fused writes into a pre-touched
  array passed as ``out=`` (the copy into one pre-touched output); torch runs
  under :func:`suite.allocator.tune_allocator` (each call reuses the pages the
  previous call freed, and so does the copy's fresh output, in the same heap).
  The NumPy reference can take neither, and its row says so.
"""
from __future__ import annotations

import argparse

from suite import speed_section
from suite.bandwidth import bytes_moved, parse_shape

OPS = ("softmax", "log_softmax", "logsumexp")
PATHS = ("cold", "warm")


def _set_threads(threads: int) -> None:
    """numba's and torch's thread pools to ``threads`` (the NumPy reference runs on one)."""
    try:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass


def _compiled_adapter(op: str):
    """torch.compile of torch's op on the CPU, as an adapter (compiled once, in the warm-up call)."""
    import torch

    from implementations import torch_cpu
    from suite.adapter import backend_adapter

    fn = torch.compile(getattr(torch_cpu, op))
    return backend_adapter("torch", "cpu", "torch.compile", {op: fn}, torch_cpu.DTYPES, description="torch.compile of torch eager")


def contenders(op: str) -> list[tuple[str, object]]:
    """(name, adapter or the exception that stops it) per contender."""
    from suite.adapter import builtin

    found = []
    for name, builtin_name in (("numba-fused", "numba-fused"), ("torch eager", "torch-cpu"), ("torch.compile", None), ("numpy-reference", "numpy-reference")):
        try:
            adapter = _compiled_adapter(op) if builtin_name is None else builtin(builtin_name)
            reason = adapter.unavailable_reason()
            if reason:
                raise RuntimeError(reason)
            found.append((name, adapter))
        except Exception as exc:  # noqa: BLE001 - a contender that cannot run is a row, not a crash
            found.append((name, exc))
    return found


def _why(exc: Exception) -> str:
    why = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
    if isinstance(exc, ImportError) and exc.name:
        from suite.extras import install_hint

        why += f" ({install_hint(exc.name)})"
    return why


def measure(shape: tuple[int, int], dtype: str, threads: int, op: str = "softmax", repeats: int = 10) -> list[tuple[str, dict]]:
    """(contender, speed-section row) per contender and path; every cold row before any warm one."""
    _set_threads(threads)
    text = "x".join(map(str, shape))
    found = contenders(op)
    rows = []
    for path in PATHS:
        for name, adapter in found:
            if isinstance(adapter, Exception):
                rows.append((name, {"shape": text, "path": path, "error": _why(adapter)}))
                continue
            try:
                row = speed_section.measure_row(adapter, None, op, dtype, text, path, plan=(repeats, 1, 0.0))
            except Exception as exc:  # noqa: BLE001
                row = {"shape": text, "path": path, "error": _why(exc)}
            rows.append((name, row))
    return rows


def _note(row: dict) -> str:
    parts = [f"warm by {row['warm_by']}"] if row.get("warm_by") else []
    for key in ("copy_note", "note", "error"):
        if row.get(key):
            parts.append(row[key])
    return "; ".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m suite.speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", default="1024x32768", help="logits shape RxC, rows along the last axis (default 1024x32768)")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--threads", type=int, default=2, help="threads for numba and torch (default 2)")
    parser.add_argument("--op", default="softmax", choices=OPS)
    parser.add_argument("--repeats", type=int, default=10, help="rounds of one copy and one call; the best of each counts (default 10)")
    args = parser.parse_args(argv)
    shape = parse_shape(args.shape)
    if len(shape) != 2:
        parser.error(f"--shape must be RxC, not {args.shape}")
    rows = measure(shape, args.dtype, args.threads, args.op, args.repeats)
    print(f"{args.op} on {args.shape} {args.dtype}, {args.threads} threads, best of {args.repeats} rounds, each a copy "
          f"of the same bytes and a call; {bytes_moved(args.op, shape, args.dtype) / 1e6:.0f} MB moved per call")
    print(f"{'contender':<16} {'path':<5} {'ms':>9} {'GB/s':>7} {'copy GB/s':>10} {'of copy':>8}  note")
    for name, row in rows:
        if "best_s" not in row:
            print(f"{name:<16} {row['path']:<5} {'-':>9} {'-':>7} {'-':>10} {'-':>8}  {_note(row)}")
            continue
        flag = "?" if row.get("copy_suspect") else " "
        print(f"{name:<16} {row['path']:<5} {row['best_s'] * 1e3:9.2f} {row['bytes'] / row['best_s'] / 1e9:7.2f} "
              f"{row['copy_gbps']:10.2f} {row['copy_fraction']:7.2f}{flag}  {_note(row)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
