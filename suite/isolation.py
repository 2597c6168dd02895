"""Run the implementation under test in child processes, so that it cannot take the suite down.

A :class:`WorkerProcess` is one ``python -m suite.worker`` child, talking JSON
lines. A request that does not come back within its timeout kills the child
(its whole process group) and raises :class:`TimedOut`; a child that dies
(segfault, abort, ``os._exit``) raises :class:`Crashed` with the signal name and
the tail of its stderr. :class:`Pool` runs many units over a few such workers,
restarts a worker after it crashed or hung, and turns those events into failed
outcomes carrying the input of the call that was running (recorded by the
worker before every call). Whatever comes back for a unit is decoded here, once,
into a :class:`Reply` of one kind (done, not run, crash, timeout, suite error,
usage error); :func:`outcome_of` turns it into the property's outcome.
"""
from __future__ import annotations

import functools
import json
import os
import pickle
import queue
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

from suite.worker import LAST_CALL_ENV, desc_key

LOAD_TIMEOUT_MIN = 120.0


class WorkerError(Exception):
    def __init__(self, message: str, stderr_tail: str = "", last_call=None):
        super().__init__(message)
        self.message = message
        self.stderr_tail = stderr_tail
        self.last_call = last_call


class Crashed(WorkerError):
    pass


class TimedOut(WorkerError):
    pass


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"crashed with signal {name}"
    return f"exited with status {returncode}"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "softmax-suite"


def worker_env(threads: int | None) -> dict[str, str]:
    """Defaults for the child (the user's environment wins): a persistent JAX compilation cache,
    since JAX compiles once per input shape and the same seed draws the same shapes, and one
    BLAS/OpenMP/Numba thread pool per CPU share so that parallel workers do not oversubscribe."""
    env = {
        "JAX_COMPILATION_CACHE_DIR": str(cache_dir() / "jax"),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    }
    if threads:
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
            env[name] = str(threads)
    return env


class WorkerProcess:
    """One child process running :mod:`suite.worker`."""

    def __init__(self, cwd: str | None = None, threads: int | None = None):
        self.cwd = cwd or os.getcwd()
        self.threads = threads
        self.proc: subprocess.Popen | None = None
        self.loaded: set[str] = set()
        self.closed = False
        self._buffer = b""
        self._tmp = tempfile.TemporaryDirectory(prefix="softmax-suite-worker-")
        self.stderr_path = Path(self._tmp.name) / "stderr.log"
        self.last_call_path = Path(self._tmp.name) / "last_call.pkl"

    def start(self) -> None:
        if self.closed:
            raise Crashed("was stopped: the suite is shutting down")
        env = dict(os.environ)
        env[LAST_CALL_ENV] = str(self.last_call_path)
        env.setdefault("PYTHONFAULTHANDLER", "1")
        env.update({k: v for k, v in worker_env(self.threads).items() if k not in os.environ})
        # The suite's own package must be importable from the child, wherever it runs.
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (self.cwd, root, env.get("PYTHONPATH", "")) if p)
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "suite.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=self.cwd,
            env=env,
            start_new_session=True,  # Ctrl-C reaches the suite, which then stops the child
        )
        self._buffer = b""
        self.loaded = set()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stderr_tail(self, lines: int = 200) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def last_call(self):
        """(op, args, kwargs) of the last call into the implementation, if recorded."""
        try:
            with open(self.last_call_path, "rb") as fh:
                return pickle.load(fh)
        except Exception:
            return None

    def request(self, message: dict, timeout: float) -> dict:
        if not self.alive:
            self.start()
        try:
            self.last_call_path.unlink()
        except FileNotFoundError:
            pass
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the child is gone; reading tells how
        return self._read_reply(timeout)

    def _read_reply(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    last = self.last_call()
                    self.kill()
                    raise TimedOut(f"timed out after {timeout:g}s", self.stderr_tail(), last)
                if not sel.select(remaining):
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:  # EOF: the child died
                    try:
                        code = self.proc.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        self.kill()
                        code = self.proc.returncode
                    raise Crashed(describe_exit(code), self.stderr_tail(), self.last_call())
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError:
            last = self.last_call()
            self.kill()
            raise Crashed(f"corrupted the worker's reply channel ({line[:80]!r})", self.stderr_tail(), last) from None

    def kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._close_pipes()

    def close(self) -> None:
        self.closed = True
        if self.alive:
            try:
                self.proc.stdin.write(b'{"cmd": "exit"}\n')
                self.proc.stdin.flush()
                self.proc.wait(timeout=5)
            except Exception:
                pass
        self.kill()
        self._tmp.cleanup()

    def _close_pipes(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except Exception:
                pass
        try:
            self._stderr.close()
        except Exception:
            pass


@dataclass
class Unit:
    """One request to run: a property on one dtype, an accuracy measurement, or a load."""

    cmd: str  # "property", "accuracy", "speed" or "load"
    adapter: dict
    op: str = ""
    property: str = ""
    dtype: str = ""
    label: str = ""
    origin: str = ""  # the adapter's origin expression, for repros of crashes
    index: int = 0
    extra: dict = field(default_factory=dict)
    seed: int | None = None  # None: the pool's seed

    def message(self, profile: str, seed: int, pinned: dict | None = None) -> dict:
        m = {"cmd": self.cmd, "adapter": self.adapter}
        if self.cmd == "load" and self.op:
            m.update(op=self.op)  # the op whose call an emulated device times (suite.worker.call_cost)
        if self.cmd in ("property", "accuracy"):
            m.update(op=self.op, dtype=self.dtype, seed=seed if self.seed is None else self.seed)
        if self.cmd == "speed":
            m.update(op=self.op, dtype=self.dtype, shapes=self.extra["shapes"])
            if self.extra.get("sizes"):
                m.update(sizes=True)  # speed across sizes (suite.speed_section.measure_sizes)
        if self.cmd == "call":
            m.update(op=self.op, inputs=self.extra["inputs"], kwargs=self.extra.get("kwargs", {}))
        if self.cmd == "property" and self.extra.get("avoid"):
            m.update(avoid=self.extra["avoid"])  # crash signatures the draws skip (suite.crash_shrink)
        if self.cmd == "property":
            m.update(property=self.property, profile=profile)
            if pinned:  # user-pinned sizes for the kernel-scale passes (suite.sizes)
                m.update(pinned)
        return m


# What came back for one unit (Reply.kind): the worker's answer, or what happened instead.
DONE = "done"  # the worker answered: Reply.body is its reply ({"ok": true, "outcome" | "accuracy" | "speed" | "info": ...})
NOT_RUN = "not run"  # the unit was never sent (the implementation hung too often)
CRASHED = "crash"  # the worker died under it
TIMED_OUT = "timeout"  # the worker did not answer within the time limit, and was killed
SUITE_ERROR = "suite-error"  # the suite itself raised in the worker (a bug of ours, reported as such)
USAGE_ERROR = "usage-error"  # the worker found a problem with what the user asked for (exit 2)


@dataclass(frozen=True)
class Reply:
    """The answer to one unit, decoded once, here, from the worker protocol (suite/worker.py)."""

    kind: str
    body: dict = field(default_factory=dict)
    message: str = ""  # NOT_RUN: why; SUITE_ERROR and USAGE_ERROR: the error
    details: str = ""  # SUITE_ERROR: the worker's traceback
    error: WorkerError | None = None  # CRASHED and TIMED_OUT: the worker's exit, stderr and last call

    @classmethod
    def decode(cls, raw: dict) -> "Reply":
        """A worker's JSON reply."""
        if raw.get("usage_error"):
            return cls(USAGE_ERROR, message=str(raw["usage_error"]))
        if raw.get("ok"):
            return cls(DONE, body=raw)
        return cls(SUITE_ERROR, message=str(raw.get("error", "failed")), details=raw.get("traceback", ""))

    @classmethod
    def not_run(cls, reason: str) -> "Reply":
        return cls(NOT_RUN, message=reason)

    @classmethod
    def crashed(cls, error: WorkerError) -> "Reply":
        return cls(CRASHED, error=error)

    @classmethod
    def timed_out(cls, error: WorkerError) -> "Reply":
        return cls(TIMED_OUT, error=error)

    @property
    def ok(self) -> bool:
        return self.kind == DONE

    @property
    def worker_failed(self) -> bool:
        """The implementation took its worker down: it crashed or hung."""
        return self.kind in (CRASHED, TIMED_OUT)


@dataclass
class Result:
    unit: Unit
    reply: Reply
    seconds: float
    # For the first crash of a certification, once suite.crash_shrink has run (shrink_tried):
    # {"runs", "signature"}, or None where its call could not be shrunk.
    shrink_tried: bool = False
    crash_shrunk: dict | None = None

    @property
    def failure_kind(self) -> str:
        """"crash" or "timeout" when the worker did not answer; "" otherwise."""
        return self.reply.kind if self.reply.worker_failed else ""


def _where(unit: Unit, implementation: str) -> dict:
    return {"property": unit.property, "op": unit.op, "dtype": unit.dtype, "implementation": implementation}


def _outcome(unit: Unit, implementation: str, status: str, message: str, **fields) -> dict:
    """An Outcome (suite.runner) as the certificate stores it, for a unit that produced none itself."""
    return {
        **_where(unit, implementation),
        "status": status,
        "message": message,
        "counterexample": {},
        "expected": "",
        "got": "",
        "repro": "",
        "observation": "",
        "stats": {},
        **fields,
    }


def not_run_outcome(unit: Unit, implementation: str, reason: str) -> dict:
    """A skipped outcome: the property never ran, for ``reason``."""
    from suite.runner import SKIP

    return _outcome(unit, implementation, SKIP, reason)


def suite_error_outcome(unit: Unit, implementation: str, message: str, traceback: str = "") -> dict:
    """An undecided outcome (status ERROR): the suite raised, not the implementation."""
    from suite.runner import ERROR

    return _outcome(unit, implementation, ERROR, f"suite error {message}\n{traceback}".rstrip(), failure_kind=SUITE_ERROR)


def crashed_outcome(unit: Unit, implementation: str, error: WorkerError) -> dict:
    """A failed outcome for a property whose worker died under the implementation."""
    return crash_outcome(unit, implementation, error) | {"failure_kind": CRASHED}


def timed_out_outcome(unit: Unit, implementation: str, error: WorkerError) -> dict:
    """A failed outcome for a property whose worker the implementation hung past the time limit."""
    return crash_outcome(unit, implementation, error) | {"failure_kind": TIMED_OUT}


def outcome_of(result: Result, implementation: str) -> dict:
    """The property outcome a result stands for, whatever came back."""
    from suite.runner import ERROR, FAIL

    reply, unit = result.reply, result.unit
    if reply.kind == NOT_RUN:
        return not_run_outcome(unit, implementation, reply.message)
    if reply.kind == CRASHED:
        return crashed_outcome(unit, implementation, reply.error)
    if reply.kind == TIMED_OUT:
        return timed_out_outcome(unit, implementation, reply.error)
    if reply.kind != DONE:
        return suite_error_outcome(unit, implementation, reply.message, reply.details)
    outcome = dict(reply.body["outcome"])
    if outcome["status"] == FAIL:
        outcome["failure_kind"] = "property"
    elif outcome["status"] == ERROR:
        outcome["failure_kind"] = SUITE_ERROR
    return outcome


def crash_context(stderr: str) -> str:
    """From faulthandler's report: the fatal error and the innermost Python frame."""
    fatal, frame = "", ""
    lines = stderr.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Fatal Python error") and not fatal:
            fatal = line.strip()
        if "most recent call first" in line and not frame:
            for nxt in lines[i + 1 :]:
                if nxt.strip().startswith("File "):
                    frame = nxt.strip()
                    break
    return "; ".join(t for t in (fatal, frame and f"at {frame}") if t)


def _param_names(op: str) -> list[str]:
    from suite.ops import OPS

    signature = OPS[op].signature if op in OPS else ""
    inner = signature[signature.find("(") + 1 : signature.rfind(")")]
    return [p.split("=")[0].strip() for p in inner.split(",") if p.strip()]


def crash_outcome(unit: Unit, implementation: str, error: WorkerError) -> dict:
    """A failed Outcome (as a dict) for a property whose worker crashed or hung."""
    from suite.runner import FAIL, repro_line, shown_array

    counterexample: dict[str, str] = {}
    repro = ""
    if error.last_call is not None:
        op, args, kwargs = error.last_call
        names = _param_names(op)
        for i, a in enumerate(args):
            counterexample[names[i] if i < len(names) else f"arg{i}"] = shown_array(a) if hasattr(a, "dtype") else repr(a)
        for k, v in kwargs.items():
            counterexample[k] = repr(v)
        repro = repro_line(SimpleNamespace(origin=unit.origin), op, (tuple(args), kwargs))
    where = "" if counterexample else " (before any call into the implementation was recorded)"
    got = error.message
    context = crash_context(error.stderr_tail)
    if context:
        got += f" ({context})"
    return {
        "property": unit.property,
        "op": unit.op,
        "dtype": unit.dtype,
        "implementation": implementation,
        "status": FAIL,
        "message": f"the implementation {error.message}{where}",
        "counterexample": counterexample,
        "expected": "a return value" if isinstance(error, Crashed) else "a return value within the timeout",
        "got": got,
        "repro": repro,
        "observation": "",
        "stats": {},
    }


@functools.lru_cache(maxsize=None)
def _needs_own_worker(key: str) -> bool:
    """Whether the adapter of descriptor ``key`` runs alone in its worker: Adapter.own_worker, or an
    emulated device, whose environment (TRITON_INTERPRET=1) the worker sets for the whole process."""
    from suite import backends
    from suite.adapter import UsageError, builtin

    desc = json.loads(key)
    if "builtin" not in desc:
        return backends.emulated(desc.get("backend", "numpy"), desc.get("device", "cpu")) is not None
    try:
        adapter = builtin(desc["builtin"])
    except UsageError:
        return False
    return adapter.own_worker or backends.emulated(adapter.backend, adapter.device) is not None


class Pool:
    """Runs units over ``jobs`` worker processes (threads in this process wait on them).

    Workers outlive one :meth:`run`: the load of a certification and its properties share
    them, so a backend (torch, jax: seconds each) is imported once per worker, not once per
    phase. A worker that crashed or hung is restarted by its next request; :meth:`close`
    stops them all."""

    def __init__(
        self, jobs: int = 1, timeout: float = 60.0, profile: str = "ci", seed: int = 0, cwd: str | None = None, pinned: dict | None = None
    ):
        self.jobs = max(1, jobs)
        self.pinned = pinned or {}  # {"classes": [...], "rows": [...]}: pinned sizes, see suite.sizes
        self.timeout = timeout
        self.profile = profile
        self.seed = seed
        self.cwd = cwd
        self._workers: list[WorkerProcess] = []
        self._idle: list[WorkerProcess] = []
        self._timer: WorkerProcess | None = None
        self._lock = threading.Lock()

    def run(
        self,
        units: list[Unit],
        on_result: Callable[[Result], None] | None = None,
        skip: Callable[[Unit], str | None] | None = None,
        timing: bool = False,
    ) -> list[Result]:
        """Run every unit; ``skip(unit)`` may return a reason not to run it (e.g. after repeated hangs).
        ``timing``: one unit at a time, in a worker of its own that may use every CPU (the speed
        section: nothing runs beside the clock, and the implementation gets the whole machine)."""
        todo: queue.Queue = queue.Queue()
        for i, unit in enumerate(units):
            unit.index = i
            todo.put(unit)
        results: list[Result | None] = [None] * len(units)
        errors: list[BaseException] = []
        stop = threading.Event()

        def drain(worker: WorkerProcess) -> None:
            try:
                while not stop.is_set():
                    try:
                        unit = todo.get_nowait()
                    except queue.Empty:
                        return
                    with self._lock:
                        reason = skip(unit) if skip is not None else None
                    if reason:
                        result = Result(unit, Reply.not_run(reason), 0.0)
                    else:
                        result = self._run_one(worker, unit)
                    if stop.is_set():  # interrupted: the worker was killed under this unit
                        return
                    results[unit.index] = result
                    if on_result is not None:
                        with self._lock:
                            on_result(result)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                errors.append(exc)

        workers = [self._timing_worker()] if timing else self._take(min(self.jobs, max(1, len(units))))
        threads = [threading.Thread(target=drain, args=(w,), daemon=True) for w in workers]
        for t in threads:
            t.start()
        finished = False
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.2)
            finished = True
        finally:
            stop.set()
            if finished and not timing:
                self._idle.extend(workers)
            else:  # interrupted: a worker may be mid-call
                for w in workers:
                    w.close()
        if errors:
            raise errors[0]
        return [r for r in results if r is not None]

    def _timing_worker(self) -> WorkerProcess:
        if self._timer is None or self._timer.closed:
            self._timer = WorkerProcess(self.cwd, os.cpu_count() or 1)
            self._workers.append(self._timer)
        return self._timer

    def _take(self, count: int) -> list[WorkerProcess]:
        """``count`` workers, idle ones first; each gets one CPU share of the whole pool."""
        taken = [self._idle.pop() for _ in range(min(count, len(self._idle)))]
        threads = max(1, (os.cpu_count() or 1) // self.jobs)
        fresh = [WorkerProcess(self.cwd, threads) for _ in range(count - len(taken))]
        self._workers.extend(fresh)
        return taken + fresh

    def _run_one(self, worker: WorkerProcess, unit: Unit) -> Result:
        start = time.monotonic()
        key = desc_key(unit.adapter)
        if key not in worker.loaded and worker.loaded and any(_needs_own_worker(k) for k in (key, *worker.loaded)):
            worker.kill()  # the next request starts a fresh process, with nothing imported
        try:
            if unit.cmd != "load" and key not in worker.loaded:
                # Import the backend (torch, jax) outside the property's time limit.
                reply = Reply.decode(worker.request({"cmd": "load", "adapter": unit.adapter}, max(self.timeout, LOAD_TIMEOUT_MIN)))
                if not reply.ok:
                    return Result(unit, reply, time.monotonic() - start)
                worker.loaded.add(key)
            limit = max(self.timeout, LOAD_TIMEOUT_MIN) if unit.cmd == "load" else self.timeout
            reply = Reply.decode(worker.request(unit.message(self.profile, self.seed, self.pinned), limit))
            if unit.cmd == "load" and reply.ok:
                worker.loaded.add(key)
            return Result(unit, reply, time.monotonic() - start)
        except TimedOut as exc:
            return Result(unit, Reply.timed_out(exc), time.monotonic() - start)
        except Crashed as exc:
            return Result(unit, Reply.crashed(exc), time.monotonic() - start)

    def close(self) -> None:
        for w in self._workers:
            w.close()
        self._idle.clear()
