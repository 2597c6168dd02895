"""One synchronised call of an adapter's op on one shape, ready to be timed.

Shared by the asv benchmarks (benchmarks/common.py), the speed section of a
certificate (suite/speed.py) and a third-party kernel's own asv benchmarks
(suite/asv_target.py), so that all three time the same thing:

* the input: normal logits (standard deviation 4) on the adapter's device, made
  once, outside the clock; a shape "RxC" is R rows of C logits, and for the
  samplers R samples from C categories;
* path "cold": every call allocates a fresh output, as users call the op;
  path "warm": the output is pre-touched, by ``out=`` where the op takes it, or
  for torch on the CPU by glibc's malloc tuned (suite.allocator) so that a
  freed output is reused without page faults;
* the clock stops only once the result exists: JAX arrays are waited for with
  ``block_until_ready``, CUDA work with ``torch.cuda.synchronize``; on CUDA
  :func:`device_seconds` times with CUDA events instead of the host clock;
* the yardstick (:func:`measure_against_copy`, the one timing path of the speed
  section and of ``python -m suite.speed``): a copy that moves the bytes the op
  must move, on buffers allocated the way the op's output is (fresh per call on
  the cold path, reused and pre-touched on the warm path), timed with the same
  clock in rounds interleaved with the op's (copy, op, baseline, copy, op, ...),
  the best of each. A fraction above ``COPY_SLACK`` of that one-thread copy gets
  a reason: within a copy on every usable CPU, an op on several threads with
  streaming stores can pass one thread's copy; beyond that, the yardstick is
  suspect (no op that reads and writes those bytes can be faster than copying
  them) and the row says so.
"""
from __future__ import annotations

import inspect
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from suite import allocator, backends, bandwidth
from suite.adapter import Adapter
from suite.dtypes import numpy_dtype
from suite.ops import OPS

TEMPERATURE = 0.75  # temperature_softmax's temperature and gumbel_softmax's tau: any moderate value
SMOKE_ENV = "SOFTMAX_SUITE_BENCH_SMOKE"  # =1: every shape shrunk to at most 8x64 (the suite's own tests)

# The built-in timed beside a target of each backend/device (torch eager, jax.nn under jit, the NumPy
# reference), from the backend records (suite/backends/).
BASELINES = {(b.name, device): name for b in backends.all_backends().values() for device, name in b.baselines.items()}


class CannotTime(NotImplementedError):
    """A path this adapter cannot take here (asv reads NotImplementedError as skipped)."""


def smoke() -> bool:
    return os.environ.get(SMOKE_ENV) == "1"


def real_shape(shape: str) -> tuple[int, int]:
    """The (rows, columns) a shape "RxC" stands for: itself, or at most 8 x 64 in smoke mode."""
    rows, cols = bandwidth.parse_shape(shape)
    return (min(rows, 8), min(cols, 64)) if smoke() else (rows, cols)


def copy_bandwidth(device: str = "cpu") -> float:
    """Bytes per second of a plain copy where the arrays live, now, read and write counted: host
    memory (np.copyto), or on CUDA a device-to-device copy timed with CUDA events."""
    nbytes = 1 << 20 if smoke() else bandwidth.COPY_BYTES
    if device != "cuda":
        return bandwidth.copy_bandwidth(nbytes, repeats=2 if smoke() else 5)
    import torch

    src = torch.ones(nbytes // 4, dtype=torch.float32, device="cuda")
    dst = torch.empty_like(src)
    dst.copy_(src)
    best = min(sample_seconds(lambda: dst.copy_(src), min_runs=5, budget=0.05, clock=device_seconds))
    return 2 * nbytes / best


def logits(shape: tuple[int, ...], dtype: str, seed: int = 0) -> np.ndarray:
    """Normal logits (standard deviation 4) in ``dtype``; a 2^20-entry random block, tiled,
    because drawing 32M normals costs a second on a loaded core and timing does not
    depend on which finite values the rows hold."""
    size = int(np.prod(shape))
    block = np.random.default_rng(seed).standard_normal(min(size, 1 << 20), dtype=np.float32) * 4
    return np.resize(block, size).reshape(shape).astype(numpy_dtype(dtype))


def takes_out(fn: Callable[..., Any]) -> bool:
    try:
        return "out" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def warm_kind(adapter: Adapter, op: str) -> str | None:
    """How the warm path pre-touches the output for this adapter and op, or None if it cannot."""
    if takes_out(adapter.ops[op]):
        return "out"
    if adapter.device in backends.get(adapter.backend).allocator_devices:
        return "allocator"
    return None


def no_warm_reason(adapter: Adapter, op: str) -> str:
    """Why the warm path is not measured for an adapter whose ``warm_kind`` is None."""
    if adapter.device == "cuda":
        return "warm path: the CUDA caching allocator already reuses device memory (cold is warm)"
    return f"warm path: {adapter.name} {op} takes no out= and has no allocator to tune"


def no_speed_reason(adapter: Adapter) -> str | None:
    """Why ``adapter`` is never timed on its device, or None: an emulated device (Triton's
    interpreter, "triton-interpret") runs the kernels on the CPU at the emulator's pace, and
    outside the process that set up its emulation (TRITON_INTERPRET=1, read when @triton.jit
    decorates) the kernels would look for a GPU driver that is not there."""
    emulation = backends.emulated(adapter.backend, adapter.device)
    return emulation.no_speed if emulation is not None else None


def waiter(adapter: Adapter) -> Callable[[Any], None]:
    """Stop the clock only when the result exists: JAX dispatches asynchronously, CUDA too."""
    return backends.get(adapter.backend).waiter(adapter.device)


@dataclass
class Call:
    """One benchmarked call: ``run()`` makes it and waits for the result."""

    adapter: Adapter
    op: str
    path: str
    run: Callable[[], None]
    nbytes: int  # what the op must move (suite.bandwidth.bytes_moved)
    first_s: float = 0.0  # the warm-up call's seconds (compilation included)
    warm_by: str | None = None  # on the warm path: "out" or "allocator" (see warm_kind)
    device: str = "cpu"
    cleanup: Callable[[], None] | None = None

    def close(self) -> None:
        if self.cleanup is not None:
            self.cleanup()
        if self.warm_by == "allocator":
            allocator.restore_allocator()


def arguments(adapter: Adapter, op: str, shape: tuple[int, int], dtype: str) -> tuple[tuple, int]:
    """The native arguments of one call of ``op`` on ``shape`` ("RxC"), and the bytes it must move."""
    rows, cols = shape
    record = OPS[op]
    if record.sampler:  # R samples from C categories
        x = adapter.from_numpy(logits((cols,), dtype))
        args, _ = record.arguments(x, tau=TEMPERATURE, num_samples=rows, seed=0)
        return args, bandwidth.bytes_moved(op, (cols,), dtype, num_samples=rows)
    x = adapter.from_numpy(logits((rows, cols), dtype))
    targets = adapter.from_numpy(np.random.default_rng(1).integers(0, cols, rows, dtype=np.int64)) if "targets" in record.inputs else None
    args, _ = record.arguments(x, targets=targets, temperature=TEMPERATURE)
    return args, bandwidth.bytes_moved(op, (rows, cols), dtype)


def prepare_call(adapter: Adapter, op: str, shape: tuple[int, int], dtype: str, path: str) -> Call:
    """Inputs on the adapter's device and one warm-up call (JAX compiles, Numba loads its kernels).
    CannotTime for an op or dtype the adapter lacks, or a warm path it cannot take (see :func:`warm_kind`)."""
    if op not in adapter.ops:
        raise CannotTime(f"{adapter.name} does not provide {op}")
    reason = no_speed_reason(adapter)
    if reason is not None:
        raise CannotTime(reason)
    if dtype not in adapter.dtypes:
        raise CannotTime(f"{adapter.name} does not support {dtype}")
    fn = adapter.ops[op]
    kind = warm_kind(adapter, op) if path == "warm" else None
    if path == "warm" and kind is None:
        raise CannotTime(no_warm_reason(adapter, op))
    if kind == "allocator":
        try:
            allocator.tune_allocator()
        except RuntimeError as exc:
            raise CannotTime(f"warm path: {exc}") from None
    args, nbytes = arguments(adapter, op, shape, dtype)
    kwargs = {}
    if kind == "out":
        kwargs["out"] = fn(*args)  # written by the op, so every page is touched
    wait = waiter(adapter)

    def run() -> None:
        wait(fn(*args, **kwargs))

    first = host_seconds(run)  # warm-up: compiles, and on the warm path leaves the freed output in the heap
    return Call(adapter, op, path, run, nbytes, first, warm_by=kind, device=adapter.device)


def best_seconds(call: Callable[[], None], min_runs: int = 3, budget: float = 0.25, max_runs: int = 50) -> float:
    """The fastest of at least ``min_runs`` calls, more while within ``budget`` seconds."""
    return min(sample_seconds(call, min_runs=min_runs, budget=budget, max_runs=max_runs))


def sample_seconds(call: Callable[[], None], *, min_runs: int = 5, budget: float = 0.3, max_runs: int = 50,
                   clock: Callable[[Callable[[], None]], float] | None = None) -> list[float]:
    """Seconds of at least ``min_runs`` calls, more while within ``budget`` seconds, at most
    ``max_runs``; ``clock(call)`` times one call (default: the host's perf_counter)."""
    clock = clock or host_seconds
    times: list[float] = []
    while len(times) < min_runs or (sum(times) < budget and len(times) < max_runs):
        times.append(clock(call))
    return times


def host_seconds(call: Callable[[], None]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def device_seconds(call: Callable[[], None]) -> float:
    """One call timed with CUDA events around it (the GPU's own clock, no host jitter)."""
    import torch

    begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    begin.record()
    call()
    end.record()
    end.synchronize()
    return begin.elapsed_time(end) / 1e3


def clock_for(adapter: Adapter) -> Callable[[Callable[[], None]], float]:
    """CUDA events on CUDA, the host clock elsewhere (the call itself waits for its result)."""
    return device_seconds if adapter.device == "cuda" else host_seconds


# --- the yardstick: one copy, timed beside the op -------------------------------------------------

COPY_SLACK = 1.05  # a fraction of the copy above this is printed only with its reason (copy_verdict)


def copy_into(dst: np.ndarray, src: np.ndarray) -> None:
    """The host yardstick's copy: NumPy's (memcpy for contiguous arrays, the GIL released)."""
    np.copyto(dst, src)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity), which bound how many threads an op can use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _copy_elements(nbytes: int) -> int:
    """Float32 entries per buffer of a copy that moves ``nbytes`` (half read, half written)."""
    return max(1, nbytes // 8)


def prepare_copy(like: Call, threads: int = 1) -> Call:
    """The yardstick for ``like``: a copy that moves the bytes ``like`` must move, on its device,
    its output allocated as ``like``'s is: a fresh output per call on the cold path and on the
    warm path by the tuned allocator (which then reuses the freed pages, as it does for the op),
    one pre-touched output on the warm path by ``out=``. Its source, like the op's input, is
    allocated now, in the same allocator state (a tuned allocator puts it in the heap, where pages
    may be mapped differently from a fresh mmap: the copy must see what the op sees). On the
    host, ``threads`` > 1 splits the copy between that many threads (see measure_against_copy)."""
    n = _copy_elements(like.nbytes)
    reuse = like.path == "warm" and like.warm_by == "out"
    if like.device == "cuda":
        import torch

        src = torch.ones(n, dtype=torch.float32, device="cuda")
        dst = torch.empty_like(src)
        dst.copy_(src)

        def run() -> None:
            (dst if reuse else torch.empty_like(src)).copy_(src)

        return Call(None, "copy", like.path, run, 8 * n, warm_by=like.warm_by, device="cuda")
    src = np.ones(n, dtype=np.float32)
    dst = np.empty_like(src)
    copy_into(dst, src)  # touches every page of the reused output
    pool = ThreadPoolExecutor(threads) if threads > 1 else None
    bounds = np.linspace(0, n, threads + 1).astype(int).tolist()
    chunks = list(zip(bounds[:-1], bounds[1:]))

    def run() -> None:
        out = dst if reuse else np.empty_like(src)
        if pool is None:
            copy_into(out, src)
        else:
            list(pool.map(lambda c: copy_into(out[c[0]:c[1]], src[c[0]:c[1]]), chunks))

    run()  # warm-up, as the op's
    cleanup = pool.shutdown if pool is not None else None
    return Call(None, "copy", like.path, run, 8 * n, warm_by=like.warm_by, device="cpu", cleanup=cleanup)


def interleave(calls: list[Call], *, rounds: int, runs: int = 1, budget: float = 0.0,
               clock: Callable[[Callable[[], None]], float] | None = None) -> list[list[float]]:
    """Seconds of each call, taken in ``rounds`` rounds: in each, every call in turn (the copy, the
    op, its baseline), at least ``runs`` times and more while within ``budget`` seconds, so that
    all of them see the same machine load."""
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for call, times in zip(calls, samples):
            times += sample_seconds(call.run, min_runs=runs, budget=budget, clock=clock)
    return samples


def measure_against_copy(target: Call, others: list[Call], *, rounds: int, runs: int = 1, budget: float = 0.0,
                         clock: Callable[[Callable[[], None]], float] | None = None) -> dict:
    """The one timing path: the yardstick copy (:func:`prepare_copy`), ``target`` and ``others``
    (a baseline) interleaved round by round. Returns ``samples`` (the target's seconds),
    ``others`` (each other's seconds), the copy's ``copy_best_s`` and ``copy_bytes``, and
    :func:`copy_verdict`'s fields: ``copy_gbps``, ``copy_fraction`` (the target's best rate over
    the copy's best rate) and, above COPY_SLACK, the reason."""
    copy = prepare_copy(target)
    try:
        copy_times, ours, *theirs = interleave([copy, target, *others], rounds=rounds, runs=runs, budget=budget, clock=clock)
    finally:
        copy.close()
    result = {"samples": ours, "others": theirs, "copy_best_s": min(copy_times), "copy_bytes": copy.nbytes}
    result.update(copy_verdict(target, min(ours), copy.nbytes / min(copy_times), rounds=rounds, clock=clock))
    return result


def copy_verdict(target: Call, best_s: float, copy_rate: float, *, rounds: int,
                 clock: Callable[[Callable[[], None]], float] | None = None) -> dict:
    """``copy_gbps`` and ``copy_fraction``, and above COPY_SLACK the reason it may be printed
    (``copy_note``) or that it may not (``copy_suspect``): an op that reads and writes its bytes
    cannot pass a copy of them on the same threads. So the fraction is checked against a copy on
    every usable CPU, timed now in rounds interleaved with the op again: within it, the op passes
    one thread's copy by using several threads (with streaming stores, which skip reading the
    output's lines before writing them); past it, or on one CPU, or on CUDA (where the copy is the
    device's own), the yardstick was not timed as the op was and the fraction measures it, not
    the op."""
    fraction = target.nbytes / best_s / copy_rate
    verdict = {"copy_gbps": copy_rate / 1e9, "copy_fraction": fraction}
    if fraction <= COPY_SLACK:
        return verdict
    threads = usable_cpus() if target.device != "cuda" else 1
    if threads > 1:
        wide = prepare_copy(target, threads)
        try:
            wide_times, ours = interleave([wide, target], rounds=max(rounds, 3), clock=clock)
        finally:
            wide.close()
        wide_rate = wide.nbytes / min(wide_times)
        wide_fraction = target.nbytes / min(best_s, *ours) / wide_rate
        verdict.update(threaded_copy_gbps=wide_rate / 1e9, copy_threads=threads)
        if wide_fraction <= COPY_SLACK:
            verdict["copy_note"] = (f"{fraction:.2f} of one thread's copy: an op on several threads with streaming stores "
                                    f"can pass it; {wide_fraction:.2f} of a copy on {threads} threads")
            return verdict
        why = f"and {wide_fraction:.2f} of a copy on {threads} threads"
    else:
        why = "on one CPU" if target.device != "cuda" else "of the device's own copy"
    verdict["copy_suspect"] = True
    verdict["copy_note"] = (f"yardstick suspect: {fraction:.2f} of the copy {why}; no op that reads and writes these bytes "
                            f"can pass a copy of them, so the copy was not timed as the op was")
    return verdict
