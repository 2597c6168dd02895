"""What the asv benchmarks share: the grid, the inputs, and one synchronised call per case.

Not a benchmark module (asv imports it, finds nothing to run). The grid:

* every built-in adapter (unavailable ones are skipped with the reason);
* the ops softmax, log_softmax, logsumexp, cross_entropy and gumbel_max;
* shapes "RxC": R rows of C logits (gumbel_max: R samples from C categories);
* float32 at every shape; bfloat16 and float16 only at ``LOW_PRECISION_SHAPES``;
* path "cold" (a fresh output allocation per call, what users get) and "warm"
  (a pre-touched output: ``out=`` where the op takes it, or for torch on the
  CPU the glibc allocator tuned so that freed blocks are reused without page
  faults); warm only for float32, and only where it is possible.

The grid is two Cartesian products (``FLOAT32_GRID``, ``LOW_PRECISION_GRID``);
within them, ops an adapter lacks, dtypes it does not support, warm paths it
cannot take and unavailable adapters raise ``NotImplementedError`` in
``prepare``, which asv records as skipped. ``SOFTMAX_SUITE_BENCH_SMOKE=1`` shrinks every
shape (the parameters stay the same), so that tests/test_bench.py can run every
benchmark in a few seconds.
"""
from __future__ import annotations

import importlib
import itertools
import sys
from typing import Callable

from suite import timing
from suite.adapter import Adapter, builtin_adapters
from suite.timing import logits, takes_out, warm_kind  # noqa: F401 - logits and takes_out for the benchmarks and tests

SMOKE_ENV = timing.SMOKE_ENV

ADAPTERS = [a.name for a in builtin_adapters()]
OPS = ["softmax", "log_softmax", "logsumexp", "cross_entropy", "gumbel_max"]
SHAPES = ["4096x1024", "32x50257", "1024x32768", "64x262144"]
PATHS = ["cold", "warm"]
LOW_PRECISION_SHAPES = ("4096x1024",)  # one transformer-like shape is enough to see what 16 bits buy
PEAKMEM_SHAPES = ["1024x32768"]  # the largest input (128 MiB of float32): dwarfs the imports in the peak RSS

# The grid as two Cartesian products, so that asv does not start a process for every
# combination of a 16-bit dtype with a shape or path outside the grid:
FLOAT32_GRID = (ADAPTERS, OPS, SHAPES, ["float32"], PATHS)
LOW_PRECISION_GRID = (ADAPTERS, OPS, list(LOW_PRECISION_SHAPES), ["bfloat16", "float16"], ["cold"])
GRID_NAMES = ["adapter", "op", "shape", "dtype", "path"]


smoke = timing.smoke  # SOFTMAX_SUITE_BENCH_SMOKE=1: tiny shapes, everything quick
real_shape = timing.real_shape  # "RxC" -> (R, C), or at most 8 x 64 in smoke mode


def copy_fraction(case: timing.Call) -> float:
    """``case``'s fraction of the yardstick copy: suite.timing.measure_against_copy, the speed
    section's one timing path and schedule (suite.speed_section.schedule: rounds of the copy and
    the call, interleaved, the best of each), so that asv tracks the figure a certificate and
    ``python -m suite.speed`` print."""
    from suite import speed_section

    rounds, runs, budget = speed_section.schedule(case)
    timed = timing.measure_against_copy(case, [], rounds=rounds, runs=runs, budget=budget, clock=timing.clock_for(case.adapter))
    return timed["copy_fraction"]


def best_seconds(call: Callable[[], None], min_runs: int = 3, budget: float = 0.25, max_runs: int = 50) -> float:
    """The fastest of at least ``min_runs`` calls, more while within ``budget`` seconds."""
    if smoke():
        min_runs, budget = 1, 0.0
    return timing.best_seconds(call, min_runs=min_runs, budget=budget, max_runs=max_runs)


# --- cases ----------------------------------------------------------------------------------


def _adapter(name: str) -> Adapter:
    return {a.name: a for a in builtin_adapters()}[name]


def skip_reason(adapter: Adapter, op: str, shape: str, dtype: str, path: str) -> str | None:
    """Why this combination is not benchmarked (cheap checks first; availability last, since it
    may import the backend), or None."""
    if dtype != "float32" and shape not in LOW_PRECISION_SHAPES:
        return f"grid: {dtype} only at {', '.join(LOW_PRECISION_SHAPES)}"
    if path == "warm" and dtype != "float32":
        return "grid: the warm path only for float32"
    if op not in adapter.ops:
        return f"{adapter.name} does not provide {op}"
    if timing.no_speed_reason(adapter) is not None:  # triton-softmax without a GPU: Triton's interpreter
        return timing.no_speed_reason(adapter)
    if dtype not in adapter.dtypes:
        return f"{adapter.name} does not support {dtype}"
    if path == "warm" and warm_kind(adapter, op) is None:
        return timing.no_warm_reason(adapter, op)
    return adapter.unavailable_reason()


def prepare(adapter_name: str, op: str, shape: str, dtype: str, path: str) -> timing.Call:
    """suite.timing's prepared call (inputs on the device, one warm-up call made);
    NotImplementedError (asv: skipped) for combinations outside the grid or not possible here."""
    adapter = _adapter(adapter_name)
    reason = skip_reason(adapter, op, shape, dtype, path)
    if reason is not None:
        raise NotImplementedError(reason)
    return timing.prepare_call(adapter, op, real_shape(shape), dtype, path)


def runnable(params) -> int:
    """How many combinations of an (adapter, op, shape, dtype, path) grid run on this machine."""
    adapters = {a.name: a for a in builtin_adapters()}
    return sum(
        1
        for name, *rest in itertools.product(*params)
        if adapters[name].available and skip_reason(adapters[name], *rest) is None
    )


def _preimport_backends() -> None:
    """In asv's forkserver (asv.conf.json: launch_method), import the heavy backends once, so that
    each forked benchmark does not pay for ``import torch`` again. Import only: no backend is
    initialised (no threads, no CUDA context) before the fork."""
    for module in ("torch", "jax", "jax.numpy", "numba"):
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - a missing or broken backend is reported by its adapter
            pass


if sys.argv[1:2] == ["run_server"]:  # asv's forkserver: `asv/benchmark.py run_server DIR SOCKET`
    _preimport_backends()
