"""asv benchmarks for ONE third-party implementation, configured in a few lines.

A kernel repository tracks its own op with asv without copying the suite's
benchmark code: ``softmax-suite bench init`` writes ``benchmarks/bench_softmax_suite.py``,
which is essentially::

    from pathlib import Path
    from suite.asv_target import benchmarks_for

    globals().update(benchmarks_for(
        "mykernels.ops:softmax", op="softmax", backend="torch", device="cpu",
        shapes=["4096x1024", "32x50257", "1024x32768"], dtypes=["float32"],
        root=Path(__file__).resolve().parents[1],  # asv.conf.json's directory
    ))

asv finds the classes in the module's globals (it looks for classes with
``time_``/``track_`` methods); for op ``softmax`` they are

* ``SoftmaxTime.time_op(shape, dtype, path)``: seconds per call;
* ``SoftmaxBandwidth.track_gbps`` (GB/s: the bytes the op must move,
  suite.bandwidth.bytes_moved, over the best time) and ``.track_copy_fraction``
  (the op's fraction of the speed section's yardstick, suite.timing.measure_against_copy:
  a copy of the same bytes on the target's device and buffer policy, timed beside
  the op; 1 is as fast as a copy);
* ``SoftmaxVsBaseline.track_speed_vs_baseline(shape, dtype)``: the backend's
  built-in baseline (:data:`BASELINES`) timed side by side with the target in
  the same benchmark call, baseline seconds / target seconds (bigger is
  better; 2 means twice as fast as the baseline), on the cold path.

The call is suite.timing's (the same as the suite's own benchmarks): inputs made
outside the clock, one warm-up call in setup, the clock stopped only once the
result exists. Path "cold": a fresh output every call; "warm": a pre-touched
output, by ``out=`` where TARGET takes it, or for torch on the CPU by glibc's
malloc tuned (suite.allocator). A warm path the target cannot take, a dtype the
backend does not support and a backend not usable here (CUDA without a GPU)
raise NotImplementedError in setup: asv records them as skipped, with the reason.

TARGET is ``package.module:function`` (imported with ``root`` first on sys.path)
or ``path/to/file.py:function`` (relative to ``root``), so that asv benchmarks
the checkout it runs in. The target is imported lazily, in setup: ``asv check``
needs only this module. ``SOFTMAX_SUITE_BENCH_SMOKE=1`` shrinks every shape to at
most 8x64 and the sampling to a minimum, for tests.
"""
from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path
from typing import Any

from suite import timing
from suite.adapter import BACKEND_GLUE, Adapter, UsageError, builtin, load_target
from suite.dtypes import FLOAT_DTYPES
from suite.ops import OPS

SMOKE_ENV = timing.SMOKE_ENV
BASELINES = timing.BASELINES  # the built-in each backend/device is compared with (track_speed_vs_baseline)
DEFAULT_SHAPES = ("4096x1024", "32x50257", "1024x32768")
DEFAULT_DTYPES = ("float32",)
PATHS = ("cold", "warm")

assert set(BASELINES) == set(BACKEND_GLUE)

_TARGET_RE = re.compile(r"^[^:]+:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


# --- the configuration, checked where it is written (bench init) and where it is read (asv) --


def is_file_target(spec: str) -> bool:
    """``path/to/file.py:function`` rather than ``package.module:function``."""
    where = spec.rpartition(":")[0]
    return where.endswith(".py") or "/" in where or "\\" in where


def check_config(target: str, op: str, backend: str, device: str, shapes, dtypes) -> None:
    """UsageError (one line: what is wrong and what to write instead) for a bad configuration."""
    if not _TARGET_RE.match(target):
        raise UsageError(f"target {target!r} is not package.module:function or path/to/file.py:function")
    if op not in OPS:
        raise UsageError(f"unknown op {op!r}; choose one of: {', '.join(OPS)}")
    if (backend, device) not in BASELINES:
        pairs = ", ".join(f"--backend {b} --device {d}" for b, d in BASELINES)
        raise UsageError(f"unsupported backend/device {backend}/{device}; choose one of: {pairs}")
    if not shapes:
        raise UsageError("no shapes; give shapes as RxC, e.g. 4096x1024,32x50257")
    for shape in shapes:
        if not re.fullmatch(r"[1-9]\d*x[1-9]\d*", str(shape)):
            raise UsageError(f"bad shape {shape!r}; write RxC (rows x classes), e.g. 4096x1024")
    if not dtypes:
        raise UsageError(f"no dtypes; choose from: {', '.join(FLOAT_DTYPES)}")
    for dtype in dtypes:
        if dtype not in FLOAT_DTYPES:
            raise UsageError(f"unknown dtype {dtype!r}; choose from: {', '.join(FLOAT_DTYPES)}")


# --- the target and the baseline, once per benchmark process ---------------------------------

_ADAPTERS: dict[tuple, Adapter] = {}


def target_adapter(spec: str, op: str, backend: str, device: str, root: str | Path | None) -> Adapter:
    """TARGET wrapped in the backend's glue, resolved against ``root`` (a file path relative to it,
    a module imported with it first on sys.path); NotImplementedError where the backend is not
    usable on this machine. Named ``spec`` as written, whatever the checkout's path."""
    key = (spec, op, backend, device, str(root))
    if key not in _ADAPTERS:
        reason = builtin(BASELINES[backend, device]).unavailable_reason()  # the same glue module
        if reason is not None:
            raise NotImplementedError(f"{backend}/{device} is not usable here: {reason}")
        resolved = spec
        if root is not None:
            where, _, attr = spec.rpartition(":")
            if is_file_target(spec):
                resolved = f"{Path(root) / where}:{attr}"  # an absolute path stays as it is
            elif str(root) not in sys.path:
                sys.path.insert(0, str(root))
        _ADAPTERS[key] = dataclasses.replace(load_target(resolved, op, backend, device), name=spec)
    return _ADAPTERS[key]


def prepare(adapter: Adapter, op: str, shape: str, dtype: str, path: str) -> timing.Call:
    """suite.timing's call; NotImplementedError (asv: skipped, with the reason) where it cannot run."""
    return timing.prepare_call(adapter, op, timing.real_shape(shape), dtype, path)


def best_seconds(call: timing.Call) -> float:
    """The best of a few calls, on the device's own clock (CUDA events on CUDA)."""
    runs, budget = (1, 0.0) if timing.smoke() else (3, 0.25)
    return min(timing.sample_seconds(call.run, min_runs=runs, budget=budget, clock=timing.clock_for(call.adapter)))


# --- the benchmark classes: templates, configured by benchmarks_for -------------------------


class _Configured:
    """What every generated class knows: the target and how to prepare its call."""

    spec = op = backend = device = ""
    root: str | None = None
    version = 1
    timeout = 180

    def _prepare(self, shape: str, dtype: str, path: str) -> timing.Call:
        return prepare(target_adapter(self.spec, self.op, self.backend, self.device, self.root), self.op, shape, dtype, path)

    def _close(self) -> None:
        for name in ("call", "baseline"):
            if hasattr(self, name):  # asv calls teardown after a skip in setup too
                getattr(self, name).close()


class _Time(_Configured):
    """Seconds per call (asv's median over samples; ``number`` auto-calibrated to 10 ms samples)."""

    rounds = 1
    repeat = (3, 10, 0.3)  # at least 3 samples, at most 10, no more once 0.3 s are spent
    sample_time = 0.01
    warmup_time = 0.0  # setup already made one call

    def setup(self, shape, dtype, path):
        self.call = self._prepare(shape, dtype, path)

    def teardown(self, shape, dtype, path):
        self._close()

    def time_op(self, shape, dtype, path):
        """One call; "cold": a fresh output each call, "warm": a pre-touched output."""
        self.call.run()


class _Bandwidth(_Configured):
    """Achieved memory bandwidth: bytes the op must move over the best of a few calls, in GB/s,
    and as a fraction of the speed section's yardstick (suite.timing.measure_against_copy: a
    copy of the same bytes on the target's device, its output allocated as the op's is, timed
    in rounds interleaved with the op)."""

    version = 2  # 2: track_copy_fraction against measure_against_copy's yardstick, not a copy timed once per run

    def setup(self, shape, dtype, path):
        self.call = self._prepare(shape, dtype, path)

    def teardown(self, shape, dtype, path):
        self._close()

    def track_gbps(self, shape, dtype, path):
        """Bytes moved / best time, in GB/s (10^9 bytes per second); bigger is better."""
        return self.call.nbytes / best_seconds(self.call) / 1e9

    track_gbps.unit = "GB/s"

    def track_copy_fraction(self, shape, dtype, path):
        """The op's best rate over the yardstick copy's, timed side by side on the same buffer
        policy: 1 is as fast as that copy; bigger is better."""
        from suite import speed_section

        rounds, runs, budget = speed_section.schedule(self.call)
        timed = timing.measure_against_copy(self.call, [], rounds=rounds, runs=runs, budget=budget,
                                            clock=timing.clock_for(self.call.adapter))
        return timed["copy_fraction"]

    track_copy_fraction.unit = "fraction of copy bandwidth"


class _VsBaseline(_Configured):
    """The target against the backend's built-in implementation, timed side by side (cold path)."""

    def setup(self, shape, dtype):
        self.call = self._prepare(shape, dtype, "cold")
        adapter = builtin(BASELINES[self.backend, self.device])
        self.baseline = prepare(adapter, self.op, shape, dtype, "cold")

    def teardown(self, shape, dtype):
        self._close()

    def track_speed_vs_baseline(self, shape, dtype):
        """Baseline seconds / target seconds, the best of each, alternating: 2 is twice as fast as
        the built-in baseline; bigger is better."""
        base = target = float("inf")
        for _ in range(1 if timing.smoke() else 3):
            base = min(base, best_seconds(self.baseline))
            target = min(target, best_seconds(self.call))
        return base / target

    track_speed_vs_baseline.unit = "x baseline speed"


def class_prefix(op: str) -> str:
    """softmax -> Softmax, log_softmax -> LogSoftmax: the generated classes' names start with it."""
    return "".join(part.capitalize() for part in op.split("_"))


def benchmarks_for(
    target: str,
    op: str,
    backend: str = "numpy",
    device: str = "cpu",
    shapes=DEFAULT_SHAPES,
    dtypes=DEFAULT_DTYPES,
    *,
    root: str | Path | None = None,
    baseline: bool = True,
    prefix: str | None = None,
) -> dict[str, type]:
    """The asv benchmark classes for ``target`` implementing ``op``, by name, to put in a benchmark
    module's globals (asv discovers benchmarks there). ``root``: the directory TARGET is resolved
    against (asv.conf.json's). UsageError for a bad configuration. ``prefix`` names the classes
    (default from the op: SoftmaxTime, SoftmaxBandwidth, SoftmaxVsBaseline)."""
    shapes, dtypes = list(shapes), list(dtypes)
    check_config(target, op, backend, device, shapes, dtypes)
    prefix = prefix or class_prefix(op)
    config: dict[str, Any] = {
        "spec": target, "op": op, "backend": backend, "device": device,
        "root": None if root is None else str(Path(root).resolve()),
    }
    grid = {"params": (shapes, dtypes, list(PATHS)), "param_names": ["shape", "dtype", "path"]}
    kinds = {"Time": (_Time, grid), "Bandwidth": (_Bandwidth, grid)}
    if baseline:
        kinds["VsBaseline"] = (_VsBaseline, {"params": (shapes, dtypes), "param_names": ["shape", "dtype"]})
    classes = {}
    for kind, (template, params) in kinds.items():
        name = prefix + kind
        attrs = {**config, **params, "__doc__": f"{template.__doc__}\n\n{target} ({op}, {backend}/{device})"}
        if timing.smoke() and template is _Time:
            attrs["repeat"] = (2, 3, 0.05)
        classes[name] = type(name, (template,), attrs)
    return classes
