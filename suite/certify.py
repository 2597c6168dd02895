"""Certify an implementation of one op: run every applicable property in a child process.

:func:`certify` is what ``softmax-suite certify`` calls; :func:`certify_many`
is what ``softmax-suite run`` calls for every built-in implementation and op,
sharing a few worker processes between them. Both return certificates as plain
dicts in the schema of ``docs/certificate-schema.md`` (see :mod:`suite.reports`
for the files written from them).

Verdict (suite/verdict.py, shared with the zoo and the pytest plugin): certified
when no required property failed and the implementation never crashed or hung.
Under ``policy="strict"`` every property, required or not, must also not fail,
and graded properties must reach a passing grade. Implementation-defined
behaviours are reported, never failed, unless the probe saw the unusual row
disturb an ordinary one.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import importlib
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, TextIO

from suite import dtypes as dt
from suite.backends import emulated as emulation_of
from suite.adapter import BACKEND_GLUE, UsageError
from suite.isolation import CRASHED, NOT_RUN, TIMED_OUT, USAGE_ERROR, Pool, Result, Unit, outcome_of
from suite.ops import OPS
from suite.profiles import PROFILES
from suite.runner import ERROR, FAIL, IMPL_DEFINED, PASS, SKIP
from suite.verdict import CERTIFIED, IMPLEMENTATION_FAILURES, POLICIES, accuracy_levels, certification_verdict, rejects, suite_errors_of

SCHEMA_VERSION = "2.2"
DEFAULT_TIMEOUT = None  # per profile, see default_timeout()
PROFILE_TIMEOUTS = {"dev": 180.0, "ci": 180.0, "thorough": 1800.0}


def default_timeout(profile: str) -> float:
    """Seconds one property on one dtype may take: generous, since JAX compiles per shape and CI machines are shared."""
    return PROFILE_TIMEOUTS.get(profile, 180.0)
STATUS_ORDER = (FAIL, ERROR, IMPL_DEFINED, PASS, SKIP)
# After this many hangs in one certification the rest is not run: each would cost --timeout.
MAX_TIMEOUTS = 3
HUGE_TIMEOUT = 3600.0  # --huge: generating, running and checking 2**32 elements takes minutes


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How to certify, whatever is certified: one object for certify, certify_many, run and the zoo.

    profile   Hypothesis profile (suite/profiles.py); seed: the examples' seed (same seed and
              profile, same verdict); timeout: seconds one property on one dtype may take (None:
              the profile's default); policy: "default" (required properties decide) or "strict";
              jobs: worker processes (None: the CPUs, at most 4); classes, rows: pinned sizes every
              property also draws ("50257,129920" or integers, suite.sizes); speed: add the speed
              section after the verdict (suite/speed_section.py)."""

    profile: str = "ci"
    seed: int = 0
    timeout: float | None = DEFAULT_TIMEOUT
    policy: str = "default"
    jobs: int | None = None
    classes: tuple | str = ()
    rows: tuple | str = ()
    speed: bool = False

    def checked(self) -> "Settings":
        """These settings validated (UsageError otherwise), with the timeout resolved."""
        return dataclasses.replace(self, timeout=check_options(self.profile, self.policy, self.timeout))

    def with_options(self, **options) -> "Settings":
        """A copy with ``options`` (Settings' field names) changed; a TypeError names an unknown one."""
        return dataclasses.replace(self, **options) if options else self


def settings_from(settings: Settings | None, options: dict) -> Settings:
    """``settings`` (default: Settings()) with keyword ``options`` on top: certify(..., jobs=1) is
    certify(..., settings=Settings(jobs=1))."""
    return (settings or Settings()).with_options(**options)


@dataclass
class Request:
    """One certification: an adapter description (see :mod:`suite.worker`), an op, and its label."""

    adapter: dict
    op: str
    target: str
    dtypes: tuple[str, ...] | None = None
    properties: tuple[str, ...] | None = None  # None: every property that applies to the op
    info: dict = field(default_factory=dict)  # filled in from the worker's load reply
    load_error: dict | None = None
    seed: int | None = None  # None: the seed certify_many was given
    unsupported: tuple[str, ...] = ()  # dtypes the target declares it does not support: recorded, not run
    speed_dtypes: tuple[str, ...] | None = None  # dtypes the speed section times; None: every dtype certified


def default_jobs() -> int:
    """Worker processes when none are asked for: the CPUs, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def target_request(target: str, op: str, backend: str = "numpy", device: str = "cpu", dtypes=None, forward_only: bool = False) -> Request:
    """Validate what can be validated without importing the target (that happens in the child)."""
    if op not in OPS:
        raise UsageError(f"unknown op {op!r}; choose one of: {', '.join(OPS)}")
    glue_module = BACKEND_GLUE.get((backend, device))
    if glue_module is None:
        backends = sorted({b for b, _ in BACKEND_GLUE})
        if backend not in backends:
            raise UsageError(f"unknown backend {backend!r}; choose --backend one of: {', '.join(backends)}")
        devices = sorted(d for b, d in BACKEND_GLUE if b == backend)
        raise UsageError(f"backend {backend} has no device {device!r}; choose --device one of: {', '.join(devices)}")
    glue = importlib.import_module(glue_module).ADAPTER
    reason = glue.unavailable_reason()
    if reason is not None:
        raise UsageError(f"backend {backend} on {device} is not usable here: {reason}")
    if ":" not in target:
        raise UsageError(
            f"target {target!r} has no ':attr'; write it as package.module:function or path/to/file.py:function"
        )
    emulation = emulation_of(backend, device)
    for name in dtypes or ():
        if emulation is not None and name in emulation.unsupported:
            raise UsageError(f"dtype {name} cannot be certified on {device}: {emulation.unsupported[name]}")
    chosen = check_dtypes(dtypes, glue.dtypes, f"backend {backend}")
    desc = {"target": target, "op": op, "backend": backend, "device": device}
    if forward_only:
        if not glue.differentiable:
            raise UsageError(f"--forward-only: backend {backend} has no gradient properties to skip")
        desc["forward_only"] = True
    unsupported = tuple(emulation.unsupported) if emulation is not None else ()  # recorded with the reason
    return Request(desc, op, target, chosen, unsupported=unsupported)


def check_dtypes(dtypes, supported, who: str) -> tuple[str, ...]:
    if not dtypes:
        return tuple(supported)
    chosen = []
    for name in dtypes:
        if name not in dt.FLOAT_DTYPES:
            raise UsageError(f"unknown dtype {name!r}; choose --dtypes from: {','.join(dt.FLOAT_DTYPES)}")
        if name not in supported:
            raise UsageError(f"{who} does not support dtype {name}; choose --dtypes from: {','.join(supported)}")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def check_properties(names, op: str) -> tuple[str, ...] | None:
    """Validate a --properties selection for ``op`` ("error_profile" names the plots' measurement)."""
    if not names:
        return None
    from suite.properties import all_properties

    known = [name for name, p in all_properties().items() if op in p.ops] + ["error_profile"]
    for name in names:
        if name not in known:
            raise UsageError(f"unknown property {name!r} for {op}; choose --properties from: {','.join(known)}")
    return tuple(names)


def check_options(profile: str, policy: str, timeout: float | None) -> float:
    """Validate the options; return the timeout to use."""
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}; choose --profile one of: {', '.join(PROFILES)}")
    if timeout is None:
        timeout = default_timeout(profile)
    if policy not in POLICIES:
        raise UsageError(f"unknown policy {policy!r}; choose --policy one of: {', '.join(POLICIES)}")
    if not timeout or timeout <= 0:
        raise UsageError(f"--timeout must be a positive number of seconds, not {timeout!r}")
    return float(timeout)


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "node": platform.node(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
    }


def suite_versions() -> dict:
    import hypothesis
    import numpy

    from importlib.metadata import PackageNotFoundError, version

    try:
        suite_version = version("softmax-suite")
    except PackageNotFoundError:
        suite_version = "unknown"
    return {"softmax-suite": suite_version, "numpy": numpy.__version__, "hypothesis": hypothesis.__version__}


class Progress:
    """Live progress on stderr: a line per finished unit, or one rewritten counter line on a terminal."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False, only_problems: bool = False):
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.only_problems = only_problems
        self.total = 0
        self.done = 0
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._dirty = False

    def start(self, total: int, title: str) -> None:
        self.total, self.done = total, 0
        self._line(f"{title}: {total} checks")

    def _line(self, text: str) -> None:
        if self.quiet:
            return
        if self._dirty:
            self.stream.write("\r\033[K")
            self._dirty = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        self._line(text)

    def result(self, label: str, status: str, seconds: float, detail: str = "") -> None:
        self.done += 1
        if self.quiet:
            return
        width = len(str(self.total))
        text = f"[{self.done:>{width}}/{self.total}] {label}: {status} ({seconds:.1f}s)"
        if detail:
            text += f" - {detail}"
        problem = status not in (PASS, IMPL_DEFINED, SKIP, "done")
        if self.tty and not problem:
            self.stream.write("\r\033[K" + text[:150])
            self.stream.flush()
            self._dirty = True
        elif problem or not self.only_problems:
            self._line(text)

    def finish(self) -> None:
        if self._dirty and not self.quiet:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._dirty = False


def certify(
    target: str,
    op: str,
    *,
    backend: str = "numpy",
    device: str = "cpu",
    dtypes=None,
    properties=None,
    huge: bool = False,
    unsupported_dtypes=(),
    speed_dtypes=(),
    forward_only: bool = False,
    settings: Settings | None = None,
    progress: Progress | None = None,
    **options,
) -> dict:
    """Certify ``target`` (``package.module:attr``, ``path/to/file.py:attr``, or a built-in name) as ``op``.

    What is certified comes as keywords; how, as ``settings`` (a :class:`Settings`) or as its
    fields given as keywords (``profile="thorough", jobs=2``), which override it.
    ``huge`` adds the opt-in property huge_indices to the selection (every property by default).
    ``unsupported_dtypes`` are dtypes the target declares it does not support (bfloat16 in ONNX
    Runtime, say): they are not run, and the certificate records them as unsupported.
    ``Settings.speed`` adds the speed section (suite/speed_section.py) after the verdict, for
    ``speed_dtypes`` (default: every dtype certified); ``softmax-suite certify`` turns it on
    unless ``--no-speed``, the Python API leaves it off unless asked. ``forward_only``: a
    third-party target without a backward pass; its gradient properties are skipped, not failed.
    Raises :class:`UsageError` for anything the user must fix (exit 2)."""
    settings = settings_from(settings, options)
    if huge:
        from suite.properties import all_properties

        everything = [name for name, p in all_properties().items() if op in p.ops and p.opt_in is None] + ["error_profile"]
        properties = list(dict.fromkeys(list(properties or everything) + ["huge_indices"]))
        settings = settings.with_options(timeout=HUGE_TIMEOUT if settings.timeout is None else settings.timeout)
    settings = settings.checked()
    if ":" not in target and target in _builtin_names():
        if forward_only:
            raise UsageError(f"--forward-only is for a third-party target; the built-in {target!r} declares its own gradients")
        request = builtin_request(target, op, dtypes)  # e.g. `certify torch-cpu --op softmax`
    else:
        request = target_request(target, op, backend, device, dtypes, forward_only=forward_only)
    request.properties = check_properties(properties, op)
    _declare_unsupported(request, unsupported_dtypes)
    request.speed_dtypes = check_dtypes(speed_dtypes, request.dtypes or dt.FLOAT_DTYPES, "the certification") if speed_dtypes else None
    return certify_many([request], settings, progress=progress)[0]


def _declare_unsupported(request: Request, unsupported) -> None:
    """Take the declared unsupported dtypes out of the request's dtypes, and keep them for the certificate."""
    unsupported = [d for d in unsupported or () if d not in request.unsupported]  # the device's own are kept already
    if not unsupported:
        return
    backend_dtypes = request.dtypes or dt.FLOAT_DTYPES
    declared = check_dtypes(unsupported, backend_dtypes, f"backend {request.adapter.get('backend', 'numpy')}")
    remaining = tuple(d for d in backend_dtypes if d not in declared)
    if not remaining:
        raise UsageError(f"every dtype is declared unsupported ({', '.join(declared)}): nothing to certify")
    request.dtypes, request.unsupported = remaining, tuple(dict.fromkeys(request.unsupported + declared))


def _builtin_names() -> list[str]:
    from suite.adapter import builtin_adapters

    return [a.name for a in builtin_adapters()]


def builtin_request(name: str, op: str, dtypes=None) -> Request:
    from suite.adapter import builtin

    adapter = builtin(name)
    if op not in OPS:
        raise UsageError(f"unknown op {op!r}; choose one of: {', '.join(OPS)}")
    if op not in adapter.ops:
        raise UsageError(f"built-in implementation {name!r} does not provide {op}; it provides: {', '.join(adapter.ops)}")
    reason = adapter.unavailable_reason()
    if reason is not None:
        raise UsageError(f"implementation {name!r} is not usable here: {reason}")
    chosen = check_dtypes(dtypes, adapter.dtypes, f"implementation {name}")
    return Request({"builtin": name}, op, name, chosen)


def certify_many(
    requests: list[Request],
    settings: Settings | None = None,
    *,
    progress: Progress | None = None,
    on_certificate: Callable[[dict], None] | None = None,
    **options,
) -> list[dict]:
    """Certify every request; one certificate per request, in order. ``settings`` (a
    :class:`Settings`, with keyword ``options`` on top) say how: with ``classes`` and ``rows``
    (pinned sizes) every property also draws them (suite.sizes); with ``speed``, after every
    property has run, each request (its ``speed_dtypes``) is timed one at a time in a worker
    of its own, on suite.speed_section's shapes and the pinned sizes."""
    from suite import sizes, speed_section
    from suite.worker import desc_key

    settings = settings_from(settings, options).checked()
    profile, seed, timeout, policy, speed = settings.profile, settings.seed, settings.timeout, settings.policy, settings.speed
    pinned = {"classes": list(sizes.parse_pinned(settings.classes, "classes")), "rows": list(sizes.parse_pinned(settings.rows, "rows"))}
    progress = progress if progress is not None else Progress()
    pool = Pool(settings.jobs or default_jobs(), timeout, profile, seed, pinned=pinned)
    started = time.monotonic()

    # 1. Load each distinct adapter once in a child: imports the target, reports dtypes and versions.
    distinct: dict[str, Request] = {}
    for r in requests:
        distinct.setdefault(desc_key(r.adapter), r)
    loads = [Unit("load", r.adapter, op=r.op, label=r.target) for r in distinct.values()]
    load_replies: dict[str, Result] = {}
    for result in pool.run(loads):
        load_replies[desc_key(result.unit.adapter)] = result
    for r in requests:
        result = load_replies[desc_key(r.adapter)]
        reply = result.reply
        if reply.kind == USAGE_ERROR:
            raise UsageError(reply.message)
        if reply.ok:
            r.info = reply.body["info"]
        elif reply.worker_failed:
            r.load_error = {"message": f"loading the implementation {reply.error.message}", "details": reply.error.stderr_tail}
        else:
            r.load_error = {"message": f"loading the implementation {reply.message}", "details": reply.details}

    # 2. Plan every unit of every certification.
    plans: list[tuple[Request, list[Unit], list[dict]]] = []
    for r in requests:
        label = f"{r.target} {r.op} " + (f"seed {r.seed} " if r.seed is not None else "")
        units, skipped = _plan(r, prefix=label if len(requests) > 1 else "")
        for unit in units:
            unit.seed = r.seed
        if speed:
            units += _speed_units(r, speed_section.shapes_for(pinned["classes"], pinned["rows"]), label if len(requests) > 1 else "")
        plans.append((r, units, skipped))
    all_units = [u for _, units, _ in plans for u in units if u.cmd != "speed"]
    speed_units = [u for _, units, _ in plans for u in units if u.cmd == "speed"]
    title = requests[0].target + " " + requests[0].op if len(requests) == 1 else f"{len(requests)} certifications"
    seeds = sorted({seed if r.seed is None else r.seed for r in requests})
    shown = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}..{seeds[-1]}"
    progress.start(len(all_units) + len(speed_units), f"certifying {title} (profile {profile}, {shown})")

    # A certificate is written once its properties are done (the verdict), and again with its
    # speed section once the timing, which waits for every certification's properties, is done.
    remaining = {id(r): sum(u.cmd != "speed" for u in units) for r, units, _ in plans}
    by_request: dict[int, list[Result]] = {id(r): [] for r, _, _ in plans}
    owner = {id(u): r for r, units, _ in plans for u in units}
    certificates: dict[int, dict] = {}
    starts = {id(r): started for r, _, _ in plans}

    def finish(r: Request, units, skipped) -> dict:
        request_seed = seed if r.seed is None else r.seed
        cert = _assemble(r, units, by_request[id(r)], skipped, profile, request_seed, timeout, policy, time.monotonic() - starts[id(r)])
        cert["sizes"] = _size_section(r, profile, pinned)
        certificates[id(r)] = cert
        if on_certificate is not None:
            on_certificate(cert)
        return cert

    for r, units, skipped in plans:
        if not units:
            finish(r, units, skipped)

    timeouts = {id(r): 0 for r, _, _ in plans}

    def skip(unit: Unit) -> str | None:
        r = owner[id(unit)]
        if timeouts[id(r)] >= MAX_TIMEOUTS:
            return f"not run: the implementation already hung {timeouts[id(r)]} times (--timeout {timeout:g}s)"
        return None

    crashed: dict[int, list[Result]] = {}  # per request: property units that crashed on a recorded call

    def on_result(result: Result) -> None:
        unit = result.unit
        r = owner[id(unit)]
        if result.reply.kind == TIMED_OUT:
            timeouts[id(r)] += 1
        error = result.reply.error
        first_crash = unit.cmd == "property" and not unit.extra.get("rerun") and not result.shrink_tried
        if result.reply.kind == CRASHED and first_crash and error.last_call:
            crashed.setdefault(id(r), []).append(result)  # done once the crash is shrunk (below)
            progress.note(f"{unit.label}: the implementation {error.message} (its input is shrunk once the other properties are done)")
            return
        by_request[id(r)].append(result)
        status, detail = _unit_status(result)
        progress.result(unit.label, status, result.seconds, detail)
        if unit.cmd == "speed":
            return
        remaining[id(r)] -= 1
        if remaining[id(r)] == 0:
            units = next(u for q, u, _ in plans if q is r)
            skipped = next(s for q, _, s in plans if q is r)
            cert = finish(r, units, skipped)
            if len(requests) > 1:
                progress.note(f"{r.target} {r.op}" + (f" seed {r.seed}" if r.seed is not None else "") + f": {cert['verdict']}")

    try:
        pool.run(all_units, on_result, skip)
        for rid, results in crashed.items():
            r = owner[id(results[0].unit)]
            reruns = _shrink_crash(pool, results, progress, r.dtypes or r.info.get("dtypes") or ())
            for unit in reruns:
                owner[id(unit)] = owner[id(results[0].unit)]
            on_result(results[0])  # the first crash, now with its minimal input
            if reruns:
                pool.run(reruns, on_result, skip)
        if speed_units:
            progress.note(f"timing: {len(speed_units)} speed measurements, one at a time")
            pool.run(speed_units, on_result, skip, timing=True)
            for r, units, skipped in plans:
                if any(u.cmd == "speed" for u in units):
                    finish(r, units, skipped)  # the same verdict, now with its speed section
    finally:
        progress.finish()
        pool.close()
    return [certificates[id(r)] for r in requests]


def _size_section(r: Request, profile: str, pinned: dict) -> dict:
    """The certificate's size plan: the worker's (suite.sizes.plan_for) for the request's device,
    and on an emulated device the menu rows it left out and why, with the measured cost of a call."""
    from suite import backends, sizes

    emulation = emulation_of(r.info.get("backend", ""), r.info.get("device", ""))
    plan = sizes.plan_for(profile, pinned["classes"], pinned["rows"], emulated=emulation)
    section = plan.as_dict()
    left = plan.rows_left_out()
    if left:
        cost = r.info.get("call_cost", {})
        measured = ""
        if "seconds_per_row" in cost:
            per_row = cost["seconds_per_row"]
            measured = (f": about {per_row * left[0]:.0f} s a call of {left[0]} rows ({per_row * 1e3:.2g} ms per row, measured "
                        f"on {cost['rows']} rows of {cost['classes']} classes at load)")
        section["left_out"] = [{
            "pass": f"{sizes.MANY_ROWS}, {sizes.WIDEST_ROWS}, {sizes.MENU_ROWS}",
            "rows": left,
            "reason": f"not run on {r.info['device']}: rows are capped at {plan.max_rows} there ({emulation.cost}){measured}; "
                      f"pin them with --rows to run them anyway",
        }]
    return section


def _plan(r: Request, prefix: str = "") -> tuple[list[Unit], list[dict]]:
    from suite.properties import all_properties

    if r.load_error is not None:
        return [], []
    info = r.info
    dtypes = [d for d in (r.dtypes or info["dtypes"]) if d in info["dtypes"]]
    units: list[Unit] = []
    skipped: list[dict] = []
    for prop in all_properties().values():
        if r.op not in prop.ops:
            continue
        if r.properties is not None and prop.name not in r.properties:
            continue
        if prop.opt_in and (r.properties is None or prop.name not in r.properties):
            continue  # e.g. huge_indices: only when asked for (--huge)
        if prop.differentiable_only and not info["differentiable"]:
            reason = (
                "the target is declared forward-only (--forward-only): its gradients are not certified"
                if info.get("forward_only") else f"needs a differentiable backend; {info['backend']} is not"
            )
            skipped.append({"property": prop.name, "reason": reason})
            continue
        for dtype in dtypes:
            units.append(
                Unit("property", r.adapter, r.op, prop.name, dtype, f"{prefix}{prop.name} {dtype}", info["origin"])
            )
    if not OPS[r.op].sampler and (r.properties is None or "error_profile" in r.properties):
        for dtype in dtypes:
            units.append(Unit("accuracy", r.adapter, r.op, "", dtype, f"{prefix}error profile {dtype}", info["origin"]))
    return units, skipped


def _shrink_crash(pool: Pool, results: list[Result], progress: Progress, dtypes=()) -> list[Unit]:
    """Shrink the first crash of a certification to a minimal crashing call, by re-running
    candidates in fresh workers (suite.crash_shrink); its result then carries that call. The
    other crashed properties are returned as units to run again, avoiding the crash's signature,
    so that they report their own results."""
    from suite import crash_shrink

    first = results[0]
    error = first.reply.error
    op, args, kwargs = error.last_call
    first.shrink_tried, first.crash_shrunk = True, None
    if not args or not hasattr(args[0], "ndim"):
        return [_avoiding(other.unit, []) for other in results[1:]]

    def crashes(candidate, with_kwargs=kwargs) -> bool:
        inputs = crash_shrink.encode(candidate)
        probe = Unit("call", first.unit.adapter, op, label="crash shrink", extra={"inputs": inputs, "kwargs": with_kwargs})
        return pool.run([probe])[0].reply.kind == CRASHED

    progress.note(f"{first.unit.label}: the implementation {error.message}; shrinking the crashing input in fresh workers")
    minimal, runs = crash_shrink.shrink(crashes, list(args), op)
    error.last_call = (op, minimal, kwargs)
    signature, widening = crash_shrink.generalise(crashes, minimal, kwargs, sorted({r.unit.dtype for r in results} | set(dtypes)))
    first.crash_shrunk = {"runs": runs + widening, "signature": signature}
    return [_avoiding(other.unit, [signature]) for other in results[1:]]


def _avoiding(u: Unit, signatures: list[dict]) -> Unit:
    """The unit again, its draws skipping inputs with the crash's signature."""
    return Unit(u.cmd, u.adapter, u.op, u.property, u.dtype, u.label + " (avoiding the known crash)", u.origin,
                extra={**u.extra, "avoid": signatures, "rerun": True}, seed=u.seed)


def _speed_units(r: Request, shapes: list[str], prefix: str) -> list[Unit]:
    """One speed unit per dtype to time (none when loading failed)."""
    if r.load_error is not None or emulation_of(r.info["backend"], r.info["device"]) is not None:
        return []  # an emulated device's times say nothing of the kernel's (the section says so)
    dtypes = [d for d in (r.dtypes or r.info["dtypes"]) if d in r.info["dtypes"]]
    chosen = [d for d in dtypes if r.speed_dtypes is None or d in r.speed_dtypes] or dtypes[:1]
    units = [
        Unit("speed", r.adapter, r.op, "", d, f"{prefix}speed {d}", r.info["origin"], extra={"shapes": shapes})
        for d in chosen
    ]
    # Speed across sizes, in one dtype (float32 where timed): a unit of its own, so that its
    # minutes have their own --timeout and a crash there leaves the fixed shapes' rows.
    swept = "float32" if "float32" in chosen else chosen[0] if chosen else None
    if swept is not None:
        units.append(Unit("speed", r.adapter, r.op, "", swept, f"{prefix}speed across sizes {swept}", r.info["origin"],
                          extra={"shapes": shapes, "sizes": True}))
    return units


def _speed_entry(result: Result) -> dict:
    """A dtype's speed section from the worker's reply: the rows, or what stopped the timing."""
    from suite.speed_section import last_timed

    reply = result.reply
    if reply.kind == NOT_RUN:
        return {"error": f"not timed: {reply.message}"}
    if reply.worker_failed:
        where = last_timed(reply.error.stderr_tail)
        return {"error": f"the implementation {reply.error.message} while timing" + (f" {where}" if where else ""), "failure_kind": reply.kind}
    if reply.ok:
        return reply.body["speed"]
    return {"error": "suite error: " + reply.message}


def _unit_outcome(result: Result, implementation: str) -> dict:
    outcome = outcome_of(result, implementation)
    shrunk = result.crash_shrunk
    if result.reply.kind == CRASHED and shrunk:  # None: a crash whose call could not be shrunk
        from suite import crash_shrink

        outcome["message"] += (
            f" (shrunk to this minimal crashing input in {shrunk['runs']} runs in fresh workers; the other properties "
            f"skip {crash_shrink.describe(shrunk['signature'])})"
        )
    return outcome


def _unit_status(result: Result) -> tuple[str, str]:
    reply = result.reply
    if reply.kind == NOT_RUN:
        return SKIP, reply.message
    if reply.worker_failed:
        return FAIL, reply.error.message
    if result.unit.cmd == "speed":
        from suite.speed_section import headline

        return "done", headline(_speed_entry(result))
    if result.unit.cmd == "accuracy":
        acc = reply.body.get("accuracy", {}) if reply.ok else {}
        if acc.get("error"):
            return "done", acc["error"]
        if "max_bound_used" not in acc:
            return "done", ""
        return "done", f"bound used max {_fmt_ulp(acc['max_bound_used'])}, max {_fmt_ulp(acc['max_ulp_mixed'])} ULP shift excused"
    if not reply.ok:
        return ERROR, reply.message[:120]
    outcome = reply.body["outcome"]
    detail = outcome["message"].splitlines()[0][:120] if outcome["status"] in (FAIL, ERROR) else outcome.get("observation", "")[:80]
    return outcome["status"], detail


def _fmt_ulp(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if value >= 1e6:
        return f"{value:.2e}"
    return f"{value:.3g}"


def aggregate_status(statuses: list[str]) -> str:
    for status in STATUS_ORDER:
        if status in statuses:
            return status
    return SKIP


def worst_ulp(stats_by_dtype: dict[str, dict]) -> float | str | None:
    """The largest ULP statistic over dtypes (keys containing 'ulp' and starting with 'max'), if any."""
    worst = None
    for stats in stats_by_dtype.values():
        for key, value in stats.items():
            if "ulp" in key and key.startswith("max"):
                v = float("inf") if value == "inf" else value
                if isinstance(v, (int, float)) and v == v and (worst is None or v > worst):
                    worst = v
    if worst == float("inf"):
        return "inf"
    return worst


def worst_figure(outcomes) -> float | str | None:
    """The largest figure a graded property's grades were decided on, over dtypes ("inf" if infinite)."""
    values = [float("inf") if o.get("figure") == "inf" else o.get("figure") for o in outcomes]
    values = [v for v in values if isinstance(v, (int, float)) and v == v]
    if not values:
        return None
    return "inf" if max(values) == float("inf") else max(values)


def _headline(reasons: list[tuple[str, str | None, str]]) -> list[str]:
    """One line per failing property, naming every dtype it failed on and the first one's message:
    "definition (float16, bfloat16): out[(0, 3)]=..."."""
    dtypes: dict[str, list[str]] = {}
    first: dict[str, str] = {}
    for name, dtype, message in reasons:
        first.setdefault(name, message)
        if dtype is not None and dtype not in dtypes.setdefault(name, []):
            dtypes[name].append(dtype)
    return [f"{name} ({', '.join(dtypes[name])}): {first[name]}" if dtypes.get(name) else name for name in first]


def _speed_section(units, by_dtype: dict[str, dict], emulation=None, sizes: dict | None = None) -> dict:
    """The certificate's "speed": what was timed per dtype, or why it was not; ``sizes``, speed
    across sizes (suite.speed_section.measure_sizes, or what stopped it)."""
    from suite.speed_section import SHAPES
    from suite.timing import BASELINES

    shapes = next((u.extra["shapes"] for u in units if u.cmd == "speed"), None)
    if shapes is None and emulation is not None:
        return {"measured": False, "reason": emulation.no_speed}
    if shapes is None:
        return {"measured": False, "reason": "not measured (--no-speed, or nothing to time)"}
    if not by_dtype:
        return {"measured": False, "pending": True, "reason": "pending: timed once every certification's properties are done"}
    baseline = next((d.get("baseline") for d in by_dtype.values() if "rows" in d), None)
    return {
        "measured": True,
        "shapes": shapes,
        "fixed_shapes": list(SHAPES),
        "baseline": baseline,
        "baselines": {f"{b}/{d}": name for (b, d), name in BASELINES.items()},
        "dtypes": by_dtype,
        **({"sizes": sizes} if sizes is not None else {}),
    }


def options_certified(op: str, info: dict, per_prop: dict) -> dict:
    """The options of ``op``'s contract the target declares (suite.ops.Op.options; a third-party
    callable's ``supports``) and those certified: all it declares when every property that draws
    them (``needs_options``) ran and none failed, was undecided or skipped for another reason
    than a missing backward pass; else none, and the target is certified on the plain form only."""
    from suite.properties import all_properties

    known = OPS[op].options if op in OPS else ()
    declared = [name for name in known if name in info.get("options", {}).get(op, ())]
    ran = [per_prop[p.name] for p in all_properties().values() if p.needs_options and op in p.ops and p.name in per_prop]
    statuses = [o["status"] for by_dtype in ran for o in by_dtype.values()]
    certified = declared if declared and statuses and PASS in statuses and all(s in (PASS, SKIP) for s in statuses) else []
    return {"declared": declared, "certified": certified}


def _assemble(r, units, results, skipped, profile, seed, timeout, policy, seconds) -> dict:
    from suite.properties import all_properties

    info = r.info
    implementation = info.get("name", r.target)
    registry = all_properties()
    per_prop: dict[str, dict[str, dict]] = {}
    accuracy: dict[str, dict] = {}
    unit_seconds: dict[str, float] = {}
    shrink_seconds: dict[str, float] = {}
    speed: dict[str, dict] = {}
    speed_sizes: dict | None = None
    for result in sorted(results, key=lambda res: (res.unit.cmd == "speed", res.unit.index)):
        unit = result.unit
        if unit.cmd == "speed" and unit.extra.get("sizes"):
            unit_seconds[f"speed_sizes/{unit.dtype}"] = round(result.seconds, 3)
            speed_sizes = _speed_entry(result)
            continue
        if unit.cmd == "speed":
            unit_seconds[f"speed/{unit.dtype}"] = round(result.seconds, 3)
            speed[unit.dtype] = _speed_entry(result)
            continue
        if unit.cmd == "accuracy":
            unit_seconds[f"error_profile/{unit.dtype}"] = round(result.seconds, 3)
            reply = result.reply
            if reply.kind == NOT_RUN:
                accuracy[unit.dtype] = {"skipped": reply.message}
            elif reply.worker_failed:
                accuracy[unit.dtype] = {"error": f"the implementation {reply.error.message}", "failure_kind": reply.kind}
            elif reply.ok:
                accuracy[unit.dtype] = reply.body["accuracy"]
            else:
                accuracy[unit.dtype] = {"error": "suite error: " + reply.message}
            continue
        unit_seconds[f"{unit.property}/{unit.dtype}"] = round(result.seconds, 3)
        outcome = _unit_outcome(result, implementation)
        if outcome.get("shrink_s"):
            shrink_seconds[f"{unit.property}/{unit.dtype}"] = outcome["shrink_s"]
        outcome.pop("shrink_s", None)  # the suite's time, kept with the timings
        per_prop.setdefault(unit.property, {})[unit.dtype] = outcome

    properties = []
    impl_defined = []
    reasons: list[tuple[str, str | None, str]] = []  # (property, dtype, first line of its message)
    for name, by_dtype in per_prop.items():
        prop = registry[name]
        entry = {
            "name": name,
            "statement": prop.statement,
            "kind": prop.kind,
            "required": prop.required,
            "status": aggregate_status([o["status"] for o in by_dtype.values()]),
            "worst_ulp": worst_ulp({d: o.get("stats", {}) for d, o in by_dtype.items()}),
            "graded": prop.graded,
            "figure": worst_figure(by_dtype.values()),
            "measure": next((o["measure"] for o in by_dtype.values() if o.get("measure")), ""),
            "reason": "",
            "dtypes": {},
        }
        for dtype, o in by_dtype.items():
            entry["dtypes"][dtype] = {k: v for k, v in o.items() if k not in ("property", "op", "dtype", "implementation")}
            if o["status"] == IMPL_DEFINED:
                impl_defined.append({"property": name, "dtype": dtype, "observation": o.get("observation", "")})
            rejecting = rejects(
                o["status"],
                required=prop.required,
                policy=policy,
                failure_kind=o.get("failure_kind"),
                grade=o.get("grade"),
                passing_grades=prop.passing_grades,
            )
            if rejecting and o["status"] == PASS:
                reasons.append((name, dtype, f"grade {o['grade']} under --policy strict: {o.get('observation', '')}"))
            elif rejecting:
                reasons.append((name, dtype, o["message"].splitlines()[0] if o["message"] else ""))
        if entry["status"] == SKIP:
            entry["reason"] = next((o["message"] for o in by_dtype.values() if o.get("message")), "")
        properties.append(entry)
    for s in skipped:
        prop = registry[s["property"]]
        properties.append(
            {
                "name": s["property"],
                "statement": prop.statement,
                "kind": prop.kind,
                "required": prop.required,
                "status": SKIP,
                "worst_ulp": None,
                "graded": prop.graded,
                "figure": None,
                "measure": "",
                "reason": s["reason"],
                "dtypes": {},
            }
        )
    for dtype, acc in accuracy.items():
        if acc.get("failure_kind") in IMPLEMENTATION_FAILURES:
            reasons.append(("error profile", dtype, acc["error"]))
    if r.load_error is not None:
        reasons.append((r.load_error["message"], None, ""))
    headline = _headline(reasons)
    dtypes_run = [d for d in (r.dtypes or info.get("dtypes", [])) if d in info.get("dtypes", [])]
    suite_errors = suite_errors_of({"properties": properties})
    verdict = certification_verdict(rejected=bool(reasons), suite_errors=len(suite_errors))
    certified = verdict == CERTIFIED
    versions = dict(suite_versions())
    versions.update(info.get("versions", {}))
    emulation = emulation_of(info.get("backend", ""), info.get("device", ""))
    description = info.get("description", "")
    if emulation is not None:
        description = f"{description}; {emulation.numerics}" if description else emulation.numerics
    return {
        "schema_version": SCHEMA_VERSION,
        "target": r.target,
        "implementation": implementation,
        "description": description,
        "op": r.op,
        "op_signature": OPS[r.op].signature,
        "backend": info.get("backend", r.adapter.get("backend", "")),
        "device": info.get("device", r.adapter.get("device", "")),
        "dtypes": dtypes_run,
        # declared by the user (--unsupported-dtypes), or for a built-in what its adapter leaves out
        "unsupported_dtypes": list(r.unsupported) or (
            [d for d in dt.FLOAT_DTYPES if d not in info.get("dtypes", dt.FLOAT_DTYPES)] if "builtin" in r.adapter else []
        ),
        # why the device cannot certify a dtype (Triton's interpreter: bfloat16); absent elsewhere
        **({"unsupported_reasons": dict(emulation.unsupported)} if emulation is not None else {}),
        "differentiable": info.get("differentiable", False),
        "forward_only": info.get("forward_only", False),
        "options": options_certified(r.op, info, per_prop),
        "profile": profile,
        "seed": seed,
        "policy": policy,
        "timeout_s": timeout,
        "selected_properties": list(r.properties) if r.properties is not None else None,
        "verdict": verdict,
        "certified": certified,
        "reasons": headline,
        # outcomes the suite could not decide (it raised): property, dtype, message with traceback
        "suite_errors": suite_errors,
        "load_error": r.load_error,
        "library_versions": versions,
        "implementation_versions": dict(info.get("versions", {})),
        "machine": machine(),
        "properties": properties,
        "implementation_defined": impl_defined,
        "accuracy": accuracy,
        # the accuracy grade per dtype (suite.verdict.ACCURACY_LEVELS), shown beside the verdict
        "accuracy_levels": accuracy_levels({"properties": properties, "dtypes": dtypes_run}),
        "speed": _speed_section(units, speed, emulation, speed_sizes),
        "timings": {
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "total_s": round(seconds, 3),
            "units_s": unit_seconds,
            "shrink_s": shrink_seconds,
        },
    }
