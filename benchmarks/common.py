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
import inspect
import itertools
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from suite import allocator, bandwidth
from suite.adapter import Adapter, builtin_adapters
from suite.dtypes import numpy_dtype

SMOKE_ENV = "SOFTMAX_SUITE_BENCH_SMOKE"

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


def smoke() -> bool:
    """True under SOFTMAX_SUITE_BENCH_SMOKE=1: tiny shapes, everything quick."""
    return os.environ.get(SMOKE_ENV) == "1"


def real_shape(shape: str) -> tuple[int, ...]:
    """The shape a parameter stands for: "RxC", or at most 8 x 64 in smoke mode."""
    dims = bandwidth.parse_shape(shape)
    if smoke():
        dims = (min(dims[0], 8),) + tuple(min(d, 64) for d in dims[1:])
    return dims


def logits(shape: tuple[int, ...], dtype: str, seed: int = 0) -> np.ndarray:
    """Normal logits (standard deviation 4) in ``dtype``; a 2^20-entry random block, tiled,
    because drawing 32M normals costs a second on a loaded core and timing does not
    depend on which finite values the rows hold."""
    size = int(np.prod(shape))
    block = np.random.default_rng(seed).standard_normal(min(size, 1 << 20), dtype=np.float32) * 4
    return np.resize(block, size).reshape(shape).astype(numpy_dtype(dtype))


def copy_bandwidth() -> float:
    """Bytes per second of a plain memory copy on this machine, now (the ceiling for a row op)."""
    if smoke():
        return bandwidth.copy_bandwidth(1 << 20, repeats=2)
    return bandwidth.copy_bandwidth()


def best_seconds(call: Callable[[], None], min_runs: int = 3, budget: float = 0.25, max_runs: int = 50) -> float:
    """The fastest of at least ``min_runs`` calls, more while within ``budget`` seconds."""
    if smoke():
        min_runs, budget = 1, 0.0
    best, spent, runs = float("inf"), 0.0, 0
    while runs < min_runs or (spent < budget and runs < max_runs):
        start = time.perf_counter()
        call()
        elapsed = time.perf_counter() - start
        best, spent, runs = min(best, elapsed), spent + elapsed, runs + 1
    return best


# --- allocator tuning for the warm path -------------------------------------------------------


def tune_allocator() -> None:
    """suite.allocator's tuning, in setup (asv runs every benchmark in its own process);
    NotImplementedError (asv: skipped) where it is not possible."""
    try:
        allocator.tune_allocator()
    except RuntimeError as exc:
        raise NotImplementedError(f"warm path: {exc}") from None


# --- cases ----------------------------------------------------------------------------------


def _adapter(name: str) -> Adapter:
    return {a.name: a for a in builtin_adapters()}[name]


def takes_out(fn: Callable[..., Any]) -> bool:
    try:
        return "out" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def warm_kind(adapter: Adapter, op: str) -> str | None:
    """How the warm path pre-touches the output for this adapter and op, or None if it cannot."""
    if takes_out(adapter.ops[op]):
        return "out"
    if adapter.backend == "torch" and adapter.device == "cpu":
        return "allocator"
    return None


def skip_reason(adapter: Adapter, op: str, shape: str, dtype: str, path: str) -> str | None:
    """Why this combination is not benchmarked (cheap checks first; availability last, since it
    may import the backend), or None."""
    if dtype != "float32" and shape not in LOW_PRECISION_SHAPES:
        return f"grid: {dtype} only at {', '.join(LOW_PRECISION_SHAPES)}"
    if path == "warm" and dtype != "float32":
        return "grid: the warm path only for float32"
    if op not in adapter.ops:
        return f"{adapter.name} does not provide {op}"
    if dtype not in adapter.dtypes:
        return f"{adapter.name} does not support {dtype}"
    if path == "warm" and warm_kind(adapter, op) is None:
        if adapter.device == "cuda":
            return "warm path: the CUDA caching allocator already reuses device memory (cold is warm)"
        return f"warm path: {adapter.name} {op} takes no out= and has no allocator to tune"
    return adapter.unavailable_reason()


@dataclass
class Case:
    """One benchmarked call: ``run()`` makes it and waits for the result."""

    adapter: Adapter
    op: str
    path: str
    run: Callable[[], None]
    nbytes: int  # what the op must move (suite.bandwidth.bytes_moved)

    def close(self) -> None:
        if self.path == "warm" and warm_kind(self.adapter, self.op) == "allocator":
            allocator.restore_allocator()


def _waiter(adapter: Adapter) -> Callable[[Any], None]:
    """Stop the clock only when the result exists: JAX dispatches asynchronously, CUDA too."""
    if adapter.backend == "jax":
        return lambda out: out.block_until_ready()
    if adapter.device == "cuda":
        import torch

        return lambda out: torch.cuda.synchronize()
    return lambda out: None


def prepare(adapter_name: str, op: str, shape: str, dtype: str, path: str) -> Case:
    """Inputs on the adapter's device and one warm-up call (JAX compiles, Numba loads its kernels);
    NotImplementedError (asv: skipped) for combinations outside the grid or not possible here."""
    adapter = _adapter(adapter_name)
    reason = skip_reason(adapter, op, shape, dtype, path)
    if reason is not None:
        raise NotImplementedError(reason)
    fn = adapter.ops[op]
    rows, cols = real_shape(shape)
    if op == "gumbel_max":  # "RxC": R samples from C categories
        args = (adapter.from_numpy(logits((cols,), dtype)), rows, 0)
        nbytes = bandwidth.bytes_moved(op, (cols,), dtype, num_samples=rows)
    else:
        args = (adapter.from_numpy(logits((rows, cols), dtype)),)
        if op == "cross_entropy":
            targets = np.random.default_rng(1).integers(0, cols, rows, dtype=np.int64)
            args += (adapter.from_numpy(targets),)
        nbytes = bandwidth.bytes_moved(op, (rows, cols), dtype)
    kwargs = {}
    if path == "warm":
        if warm_kind(adapter, op) == "out":
            kwargs["out"] = fn(*args)  # written by the op, so every page is touched
        else:
            tune_allocator()
    wait = _waiter(adapter)

    def run() -> None:
        wait(fn(*args, **kwargs))

    run()  # warm-up: compiles, and on the warm path leaves the freed output in the heap
    return Case(adapter, op, path, run, nbytes)


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
