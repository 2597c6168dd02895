"""The speed section of a certificate: "is it right" answered, now "how fast".

Run by the worker (``{"cmd": "speed"}``) after every property of a certification
has finished, in the same kind of isolated child, one certification at a time
(so that no property runs beside the clock). A crash or hang while timing is
recorded in the section; the verdict was decided before and is never lost.

For each dtype and each shape (:data:`SHAPES`, plus the user's pinned sizes) and
each path (cold: a fresh output per call; warm: a pre-touched output, see
suite/timing.py), it reports

* the median and the spread (25th and 75th percentiles) of repeated calls, each
  synchronised (``block_until_ready`` for JAX; CUDA events on CUDA);
* GB/s of the bytes the op must move (suite.bandwidth.bytes_moved: the input
  read once, the output written once) at the median;
* the fastest call as a fraction of the fastest yardstick copy, a copy of the
  same bytes on buffers allocated as the op's output is, timed in the same
  rounds (suite.timing.measure_against_copy, also the path of ``python -m
  suite.speed``; on CUDA a device-to-device copy timed with events): only a
  same-run ratio means anything on a shared machine, and a fraction above 1.05
  comes with its reason or is marked suspect;
* the speed relative to the backend's own baseline, timed in the same rounds,
  interleaved with the target: ``baseline median / target median``, so 2.0 is
  twice as fast as the baseline. The baselines: numpy-reference for a NumPy
  target, torch eager (torch-cpu, torch-cuda) for torch, ``jax.nn`` under jit for
  JAX. A built-in that is its own baseline has no ratio.

``SOFTMAX_SUITE_BENCH_SMOKE=1`` shrinks every shape to at most 8 x 64 (the
suite's own tests use it; the asv benchmarks read the same variable).
"""
from __future__ import annotations

import statistics
import sys
from typing import Callable

import numpy as np

from suite import sizes, timing
from suite.adapter import Adapter

SHAPES = ("4096x1024", "32x50257", "1024x32768")
PATHS = ("cold", "warm")
PINNED_ROWS = 32  # a pinned class count K is timed at 32 x K (32 rows of a vocabulary, as in 32x50257)
PINNED_CLASSES = 1024  # a pinned row count R is timed at R x 1024
MAX_ELEMENTS = 1 << 28  # a pinned shape past this (1 GiB of float32) is not timed: named, with the reason
ROUNDS = 3  # target and baseline alternate this many times, so both see the same machine load
# Seconds of calls per round (at least one call): a 5 ms call still gets ten samples a round, and
# a section takes about two thirds of the time 0.1 s rounds cost (0.68, six sections side by side).
ROUND_BUDGET_S = 0.05
SLOW_CALL_S = 0.5
SMOKE_ENV = timing.SMOKE_ENV

# Speed across sizes (:func:`measure_sizes`): the kernel-scale menus of suite.sizes, where the bugs
# sit (past 65536 classes, a vocabulary not divisible by the block, past a grid limit), timed on the
# cold path in one dtype. Classes from 32 to 262145 at a fixed element budget (rows = budget // K,
# at least one), so that every shape allocates the same bytes and a drop is the kernel's; rows from
# 1 to 65537 of SIZES_ROW_CLASSES classes each (at most the same budget).
SIZES_ELEMENTS = 1 << 21  # 8 MiB of float32 per input: past the L2 caches, timed in a few ms
SIZES_CLASSES = tuple(k for k in sizes.KERNEL_CLASSES if k >= 32)
SIZES_ROW_CLASSES = 32
SIZES_ROWS = (1, 8, 64, 512) + sizes.KERNEL_ROWS
# Per size, SIZES_ROUNDS rounds of the copy and the call, each more calls while within
# SIZES_ROUND_BUDGET_S: a multi-threaded call on a shared machine loses a thread to another process
# for a scheduler slice (a few ms) now and then, so a sub-millisecond call needs dozens of samples
# for its best one to be the kernel's. A candidate cliff is timed again, at both sizes, with
# SIZES_CONFIRM (rounds, runs, budget), before it is named.
SIZES_ROUNDS = 3
SIZES_ROUND_BUDGET_S = 0.005
SIZES_CONFIRM = (5, 1, 0.05)
SIZES_SMOKE_ENTRIES = 3  # smoke mode: the first entries of each menu (a test of the code path)
CLIFF_DROP = 2.0  # a cliff: GB/s falls by this factor or more from one size of a menu to the next
TIMING_MARK = "softmax-suite speed: timing"


def shapes_for(classes=(), rows=()) -> list[str]:
    """The fixed shapes, then one per pinned size: R x K for every pinned pair, 32 x K for a
    pinned class count alone, R x 1024 for a pinned row count alone."""
    pinned = [(r, k) for r in rows for k in classes] or [(PINNED_ROWS, k) for k in classes] or [(r, PINNED_CLASSES) for r in rows]
    return list(dict.fromkeys(list(SHAPES) + [f"{r}x{k}" for r, k in pinned]))


def baseline_name(backend: str, device: str) -> str | None:
    return timing.BASELINES.get((backend, device))


def _summary(times: list[float], nbytes: int) -> dict:
    q1, median, q3 = np.percentile(times, [25, 50, 75]).tolist()
    return {"median_s": median, "spread_s": [q1, q3], "runs": len(times), "gbps": nbytes / median / 1e9}


def schedule(target: timing.Call) -> tuple[int, int, float]:
    """(rounds, runs, budget) for :func:`suite.timing.measure_against_copy`: each round at least
    one call of the copy, the target and the baseline, more while within ROUND_BUDGET_S, so a fast
    call gets dozens of samples and a slow one (ROUND_BUDGET_S or more) one per round, ROUNDS in
    all. A call slower than SLOW_CALL_S (its warm-up showed it) is timed once more, and its
    baseline and copy once: at that length one call's noise is small beside its time, and timing
    stays within --timeout (numpy's float16 softmax of 1024x32768 takes 3.5 s a call; smoke mode:
    one round of three)."""
    if timing.smoke():
        return 1, 3, 0.0
    if target.first_s > SLOW_CALL_S:
        return 1, 1, 0.0
    return ROUNDS, 1, ROUND_BUDGET_S


def measure_row(adapter: Adapter, baseline: Adapter | None, op: str, dtype: str, shape: str, path: str,
                *, plan: tuple[int, int, float] | None = None) -> dict:
    """One (shape, path) row of the section; a path the adapter cannot take is a row with a note.
    The target, its baseline and the yardstick copy are timed in interleaved rounds
    (:func:`suite.timing.measure_against_copy`), by :func:`schedule` unless ``plan`` says
    (rounds, runs, budget)."""
    row = {"shape": shape, "path": path}
    real = timing.real_shape(shape)
    if real[0] * real[1] > MAX_ELEMENTS:
        return {**row, "note": f"not timed: {shape} has more than 2**28 elements"}
    if path == "warm" and timing.warm_kind(adapter, op) is None:
        return {**row, "note": timing.no_warm_reason(adapter, op)}
    target = timing.prepare_call(adapter, op, real, dtype, path)
    other = None
    try:
        if baseline is not None and (path == "cold" or timing.warm_kind(baseline, op) is not None):
            other = timing.prepare_call(baseline, op, real, dtype, path)
        rounds, runs, budget = plan or schedule(target)
        timed = timing.measure_against_copy(target, [other] if other is not None else [], rounds=rounds, runs=runs,
                                            budget=budget, clock=timing.clock_for(adapter))
    finally:
        for call in (target, other):
            if call is not None:
                call.close()
    ours = timed.pop("samples")
    theirs = timed.pop("others")
    row.update(_summary(ours, target.nbytes), bytes=target.nbytes, best_s=min(ours), **timed)
    row["warm_by"] = target.warm_by or ""
    if theirs:
        row["baseline_median_s"] = statistics.median(theirs[0])
        row["vs_baseline"] = row["baseline_median_s"] / row["median_s"]
    elif baseline is not None:
        row["note"] = f"no baseline ratio: {timing.no_warm_reason(baseline, op)}"
    return row


def announce_on_stderr(shape: str, path: str) -> None:
    """What the worker prints before each row, so that the parent can name it if the process dies."""
    print(f"{TIMING_MARK} {shape} {path}", file=sys.stderr, flush=True)


def measure(adapter: Adapter, op: str, dtype: str, shapes: list[str], baseline: Adapter | None,
            *, announce: Callable[[str, str], None] | None = None) -> dict:
    """The section for one dtype: a row per (shape, path). A call that raises becomes the row's
    error (the other rows still run); a crash of the process is recorded by the parent."""
    rows = []
    for shape in shapes:
        for path in PATHS:
            if announce is not None:
                announce(shape, path)
            try:
                rows.append(measure_row(adapter, baseline, op, dtype, shape, path))
            except Exception as exc:  # noqa: BLE001 - a failure while timing is a row, never a lost verdict
                rows.append({"shape": shape, "path": path, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"})
    section = {"rows": rows, "baseline": baseline.name if baseline is not None else None, "clock": "CUDA events" if adapter.device == "cuda" else "perf_counter"}
    if timing.smoke():
        section["note"] = f"{SMOKE_ENV}=1: every shape shrunk to at most 8x64 (a test of the code path, not a measurement)"
    return section


def last_timed(stderr: str) -> str:
    """The "shape path" the worker was timing when it died, from its stderr ("" if none)."""
    lines = [line for line in stderr.splitlines() if line.startswith(TIMING_MARK)]
    return lines[-1][len(TIMING_MARK):].strip() if lines else ""


def describe(row: dict) -> str:
    """ "1024x32768 cold: 12.3 GB/s, 0.61 of copy, 1.05x the baseline" (or the row's note or error)."""
    if "gbps" not in row:
        return f"{row['shape']} {row['path']}: {row.get('error') or row.get('note', '')}"
    text = f"{row['shape']} {row['path']}: {row['gbps']:.3g} GB/s, {row['copy_fraction']:.2f} of copy"
    if "vs_baseline" in row:
        text += f", {row['vs_baseline']:.2f}x the baseline"
    if row.get("copy_note"):
        text += f" ({row['copy_note']})"
    return text


def headline(entry: dict) -> str:
    """One line for a dtype's section: its error, or the largest fixed shape's cold row (or, for
    the sizes section, its cliffs)."""
    if "menus" in entry:
        return sizes_headline(entry)
    if "error" in entry:
        return entry["error"]
    rows = [r for r in entry.get("rows", []) if r["path"] == "cold"]
    timed = [r for r in rows if "gbps" in r] or rows
    return describe(max(timed, key=lambda r: r.get("bytes", 0))) if timed else ""


# --- speed across sizes ---------------------------------------------------------------------------


def size_menus() -> dict[str, list[tuple[int, str]]]:
    """Menu name -> (size, shape "RxC") along it: "classes" at SIZES_ELEMENTS elements, "rows" of
    SIZES_ROW_CLASSES classes; in smoke mode the first SIZES_SMOKE_ENTRIES of each."""
    menus = {
        "classes": [(k, f"{max(1, SIZES_ELEMENTS // k)}x{k}") for k in SIZES_CLASSES],
        "rows": [(r, f"{r}x{SIZES_ROW_CLASSES}") for r in SIZES_ROWS],
    }
    if timing.smoke():
        menus = {name: entries[:SIZES_SMOKE_ENTRIES] for name, entries in menus.items()}
    return menus


def sizes_path(adapter: Adapter, op: str) -> str:
    """The path the sizes are timed on: warm where the adapter can take it, so that the output's
    page faults (which come and go with glibc's dynamic mmap threshold, a function of what the
    process freed before) do not show as the kernel's cliffs; cold otherwise."""
    return "warm" if timing.warm_kind(adapter, op) is not None else "cold"


def _size_point(adapter: Adapter, op: str, dtype: str, size: int, shape: str, path: str,
                plan: tuple[int, int, float] | None = None) -> dict:
    """One size of a menu: GB/s at the best call of ``plan`` (default SIZES_ROUNDS rounds of the
    copy and the call, SIZES_ROUND_BUDGET_S each; one call a round in smoke mode)."""
    point = {"size": size, "shape": shape}
    plan = plan or (SIZES_ROUNDS, 1, 0.0 if timing.smoke() else SIZES_ROUND_BUDGET_S)
    try:
        row = measure_row(adapter, None, op, dtype, shape, path, plan=plan)
    except Exception as exc:  # noqa: BLE001 - a size that raises is a point with its error; the menu goes on
        return {**point, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"}
    if "best_s" not in row:
        return {**point, "error": row.get("note", "not timed")}
    point.update(best_s=row["best_s"], bytes=row["bytes"], gbps=row["bytes"] / row["best_s"] / 1e9,
                 copy_gbps=row["copy_gbps"], copy_fraction=row["copy_fraction"])
    for key in ("copy_note", "copy_suspect"):
        if key in row:
            point[key] = row[key]
    return point


def find_cliffs(menus: dict[str, list[dict]]) -> list[dict]:
    """Every drop of CLIFF_DROP or more in GB/s from one timed size of a menu to the next timed one."""
    cliffs = []
    for menu, points in menus.items():
        timed = [p for p in points if "gbps" in p]
        for before, after in zip(timed, timed[1:]):
            if after["gbps"] * CLIFF_DROP <= before["gbps"]:
                cliffs.append({"menu": menu, "from": before["size"], "to": after["size"], "from_shape": before["shape"],
                               "to_shape": after["shape"], "from_gbps": before["gbps"], "to_gbps": after["gbps"],
                               "drop": before["gbps"] / after["gbps"]})
    return cliffs


def _confirmed(adapter: Adapter, op: str, dtype: str, path: str, cliff: dict) -> bool:
    """Whether a candidate cliff holds when its two sizes are timed against each other, in
    SIZES_CONFIRM rounds interleaved (before, after, before, ...), so that both see the same
    machine load: on a shared machine a stretch of sizes timed while another process held a core
    reads slow together, and a drop between two sizes timed seconds apart can be the load's. The
    cliff's figures become those of this timing."""
    rounds, runs, budget = (1, 1, 0.0) if timing.smoke() else SIZES_CONFIRM
    calls = []
    try:
        for shape in (cliff["from_shape"], cliff["to_shape"]):
            calls.append(timing.prepare_call(adapter, op, timing.real_shape(shape), dtype, path))
        before, after = timing.interleave(calls, rounds=rounds, runs=runs, budget=budget, clock=timing.clock_for(adapter))
    except Exception:  # noqa: BLE001 - a size that cannot be timed again keeps the sweep's figures
        return True
    finally:
        for call in calls:
            call.close()
    cliff.update(from_gbps=calls[0].nbytes / min(before) / 1e9, to_gbps=calls[1].nbytes / min(after) / 1e9, confirmed=True)
    cliff["drop"] = cliff["from_gbps"] / cliff["to_gbps"]
    return cliff["drop"] >= CLIFF_DROP


def measure_sizes(adapter: Adapter, op: str, dtype: str, *, announce: Callable[[str, str], None] | None = None) -> dict:
    """GB/s against size along each menu (:func:`size_menus`), and the cliffs between neighbouring
    sizes; a candidate cliff is named only once confirmed (:func:`_confirmed`)."""
    path = sizes_path(adapter, op)
    menus: dict[str, list[dict]] = {}
    for menu, entries in size_menus().items():
        menus[menu] = []
        for size, shape in entries:
            if announce is not None:
                announce(shape, f"{path} ({menu} menu)")
            menus[menu].append(_size_point(adapter, op, dtype, size, shape, path))
    cliffs = [c for c in find_cliffs(menus) if _confirmed(adapter, op, dtype, path, c)]
    section = {
        "dtype": dtype, "path": path, "warm_by": timing.warm_kind(adapter, op) if path == "warm" else "", "elements": SIZES_ELEMENTS, "row_classes": SIZES_ROW_CLASSES,
        "menus": menus, "cliffs": cliffs, "cliff_drop": CLIFF_DROP,
        "clock": "CUDA events" if adapter.device == "cuda" else "perf_counter",
    }
    if timing.smoke():
        section["note"] = f"{SMOKE_ENV}=1: every shape shrunk to at most 8x64 (a test of the code path, not a measurement)"
    return section


def cliff_text(cliff: dict) -> str:
    """ "classes 65536 -> 65537 (32x65536 -> 32x65537): 21.3 -> 8.1 GB/s, 2.6x slower"."""
    return (f"{cliff['menu']} {cliff['from']} -> {cliff['to']} ({cliff['from_shape']} -> {cliff['to_shape']}): "
            f"{cliff['from_gbps']:.3g} -> {cliff['to_gbps']:.3g} GB/s, {cliff['drop']:.1f}x slower")


def sizes_headline(entry: dict) -> str:
    """One line for the sizes section: its error, or its cliffs."""
    if "error" in entry:
        return entry["error"]
    timed = sum("gbps" in p for points in entry.get("menus", {}).values() for p in points)
    cliffs = entry.get("cliffs", [])
    return f"{timed} sizes timed, " + ("no cliff" if not cliffs else f"{len(cliffs)} cliff(s): " + "; ".join(map(cliff_text, cliffs)))
