"""Run one property against one implementation, op and dtype; return an Outcome.

The same function serves pytest (tests/, the pytest plugin) and
``softmax-suite certify``, so a property fails the same way everywhere: with
its name, the minimal (shrunk) input, expected vs got, and a one-line repro.
"""
from __future__ import annotations

import time
import traceback
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from hypothesis import HealthCheck, given, reject, seed as hypothesis_seed, settings as Settings, strategies as st
from hypothesis.errors import Unsatisfiable

from suite import backends
from suite import dtypes as dt
from suite.adapter import Adapter

PASS, FAIL, IMPL_DEFINED, SKIP = "pass", "fail", "implementation-defined", "skipped"
# The suite itself raised (in the oracle, a bound, a property or the reporting): it could not decide
# whether the implementation holds the property, so the outcome is neither a pass nor a failure.
ERROR = "suite error"


class PropertyFailed(AssertionError):
    """The implementation broke the property; carries expected and got for the report."""

    def __init__(self, message: str, expected: Any = None, got: Any = None):
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.got = got


class ImplementationRaised(PropertyFailed):
    """The implementation raised, or returned something that is not a native array."""


@dataclass
class Outcome:
    property: str
    op: str
    dtype: str
    implementation: str
    status: str
    message: str = ""
    counterexample: dict[str, str] = field(default_factory=dict)
    expected: str = ""
    got: str = ""
    repro: str = ""
    observation: str = ""  # for implementation-defined behaviours, and graded properties' verdicts
    stats: dict[str, float] = field(default_factory=dict)
    grade: str = ""  # for graded (required=False) properties with a ``grade`` hook; "" otherwise
    # For graded properties: the statistic the grade was decided on (the hook's ``figure``), and its name.
    figure: float | None = None
    measure: str = ""
    # Seconds from the first failing example to the end of shrinking: the suite's time, not the
    # implementation's; and whether shrinking stopped at its limit (the counterexample may then
    # not be minimal, though it fails as shown).
    shrink_s: float = 0.0
    shrink_stopped: bool = False
    # A failure's call also comes as its arrays (an .npz, base64) and a short repro that loads them
    # from "{inputs}": where the inline repro is long, the certificate writer saves the file beside
    # the certificate and puts the short line in ``repro`` (suite.reports.save_inputs).
    inputs_npz: str = ""
    repro_from_file: str = ""
    # The kernel-scale (rows, classes) drawn before any failure ("4096x17", ...), and the examples
    # run before any failure per pass ("ordinary" or a size pass's label), for the coverage.
    sizes: list[str] = field(default_factory=list)
    examples: dict[str, int] = field(default_factory=dict)

    @property
    def test_id(self) -> str:
        return f"{self.implementation}-{self.op}-{self.property}-{self.dtype}"

    def report(self) -> str:
        """The readable failure: property, message, minimal input, expected vs got, repro."""
        verb = "could not be decided (the suite raised, not the implementation)" if self.status == ERROR else "failed"
        lines = [f"{self.property} {verb} for {self.op} on {self.implementation} ({self.dtype}): {self.message}"]
        for label, value in self.counterexample.items():
            lines.append(f"  {label} = {value}")
        if self.expected:
            lines.append(f"  expected: {self.expected}")
        if self.got:
            lines.append(f"  got:      {self.got}")
        if self.repro:
            lines.append(f"  repro: {self.repro}")
        return "\n".join(lines)


# Arrays up to this many elements are shown in full; a larger one (a kernel-scale input) is shown
# summarized, since printing 150000 values takes seconds and reads as noise; the repro keeps every value.
SHOWN_ELEMENTS = 1000


def format_array(a: Any) -> str:
    """A Python expression that rebuilds ``a`` exactly (repr of float64 round-trips every dtype)."""
    if isinstance(a, np.generic):
        return dt.plain_number(a)
    if not isinstance(a, np.ndarray):
        return repr(a)
    a_np = np.asarray(a)
    floating = _floating(a_np)
    name = dt.dtype_name(a_np.dtype) if floating else str(a_np.dtype)
    dtype = f"{'ml_dtypes.' if name == 'bfloat16' else 'np.'}{name}"
    if a_np.size > SHOWN_ELEMENTS:
        # Flat values and a reshape: the same exact expression as array2string's nested one, a
        # hundred times faster on a kernel-scale array (repr of a Python float is the shortest
        # round-trip, as floatmode="unique" is).
        flat = a_np.astype(np.float64) if floating else a_np
        body = ", ".join(_literal(v) for v in flat.ravel().tolist())
        return f"np.array([{body}], dtype={dtype}).reshape({a_np.shape})"
    if floating:
        body = np.array2string(
            a_np.astype(np.float64), separator=", ", threshold=10**6, max_line_width=10**6, floatmode="unique"
        )
        body = body.replace("inf", "np.inf").replace("nan", "np.nan").replace("-np.inf", "-np.inf")
        return f"np.array({body}, dtype={dtype})"
    body = np.array2string(a_np, separator=", ", threshold=10**6, max_line_width=10**6)
    return f"np.array({body}, dtype={dtype})"


def _floating(a: np.ndarray) -> bool:
    """Whether ``a`` holds floats (bfloat16 included, whose NumPy kind is "V"): shown through float64."""
    return a.dtype.kind == "f" or a.dtype == dt.numpy_dtype("bfloat16")


def _literal(v) -> str:
    text = repr(v)
    return {"inf": "np.inf", "-inf": "-np.inf", "nan": "np.nan"}.get(text, text)


def shown_array(a: Any) -> str:
    """What a report shows of an array: the exact expression (:func:`format_array`) up to
    SHOWN_ELEMENTS elements, past that NumPy's summary with "..." and the shape (not an expression:
    the repro rebuilds the array exactly)."""
    if not isinstance(a, np.ndarray) or a.size <= SHOWN_ELEMENTS:
        return format_array(a)
    floating = _floating(a)
    body = np.array2string(a.astype(np.float64) if floating else a, separator=", ", threshold=SHOWN_ELEMENTS,
                           edgeitems=3, max_line_width=10**6, floatmode="unique" if floating else "maxprec")
    body = " ".join(body.split())  # one line, as the report's other draws are
    return f"{body} ({dt.dtype_name(a.dtype) if floating else a.dtype} array of shape {a.shape}, summarized; the repro has every value)"


class _Drawn:
    """A drawn value kept for the report, rendered by :func:`render_draws` when it is needed."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def render(self) -> str:
        return shown_array(self.value) if isinstance(self.value, np.ndarray) else repr(self.value)


def render_draws(draws: dict) -> dict[str, str]:
    """The draws of an example as the report shows them (values recorded as strings stay as they are)."""
    return {label: v.render() if isinstance(v, _Drawn) else v for label, v in draws.items()}


class Context:
    """What a property sees: draws, the implementation under test, and its dtype."""

    def __init__(self, adapter: Adapter, op: str, dtype: str, data, record: dict, sizes=None):
        self.adapter = adapter
        # The kernel-scale pass this example belongs to (suite.sizes.SizePass), None for the ordinary draws.
        self.sizes = sizes
        self.op = op
        self.dtype = dtype
        self.np_dtype = dt.numpy_dtype(dtype)
        self.u = dt.unit_roundoff(dtype)
        self._data = data
        self._record = record

    def draw(self, strategy: st.SearchStrategy, label: str):
        value = self._data.draw(strategy, label=label)
        # Rendered only if the example fails: formatting a kernel-scale array costs more than checking it.
        self._record["draws"][label] = _Drawn(value.copy() if isinstance(value, np.ndarray) else value)
        return value

    def show(self, label: str, value) -> None:
        """Keep a fixed input (not drawn) for the report, as :meth:`draw` keeps a drawn one."""
        self._record["draws"][label] = _Drawn(value.copy() if isinstance(value, np.ndarray) else value)

    def call(self, *args, check_unmodified: bool = False, layout: str | None = None, tracked: bool = False, **kwargs) -> np.ndarray:
        """Call the op under test on NumPy arguments; return its result as NumPy.

        Each call gets fresh native copies of the arguments, so an implementation
        that writes into its input cannot corrupt later calls; the property
        ``input_unmodified`` asks to have that checked. ``layout`` names one of
        ``adapter.layouts``: every array argument of a rank it applies to is then
        built in that memory layout (a transposed view, a strided slice, ...). ``tracked``: the
        float arrays are leaves that record gradients, as in training (the backend's ``tracked``).
        """
        adapter = self.adapter
        chosen = adapter.layouts[layout] if layout is not None else None
        if self._record.get("avoid"):
            from suite.crash_shrink import matches

            if matches(self._record["avoid"], args, kwargs):
                self._record["avoided"] = self._record.get("avoided", 0) + 1
                if isinstance(self._data, _NoData):  # a probe's fixed input: it cannot be redrawn
                    raise Unsatisfiable("its fixed input has the shape of a known crash (see the crashed property)")
                reject()  # a known crash (suite.crash_shrink): draw another example
        self._record["call"] = (args, kwargs)
        self._record["layout"] = layout
        self._record["tracked"] = tracked
        native_args = [_native(adapter, a, chosen) if isinstance(a, np.ndarray) else a for a in args]
        # array keywords (cross_entropy's class weights) go native too, in the default layout
        native_kwargs = {k: adapter.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        if tracked:
            native_args = [backends.get(adapter.backend).tracked(n) if isinstance(a, np.ndarray) and a.dtype.kind != "i" else n
                           for a, n in zip(args, native_args)]
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                out = adapter.ops[self.op](*native_args, **native_kwargs)
        except Exception as exc:
            where = f" on a {layout} input" if layout is not None else ""
            raise ImplementationRaised(f"raised {type(exc).__name__}{where}: {exc}".strip()) from None
        if not adapter.is_native(out):
            raise ImplementationRaised(f"returned {type(out).__name__}, expected {adapter.native_type}")
        for before, native in zip(args, native_args) if check_unmodified else ():
            if isinstance(before, np.ndarray) and before.dtype.kind == "f":
                after = adapter.to_numpy(native)
                if not np.array_equal(before, after, equal_nan=True):
                    raise PropertyFailed("modified its input array in place" + (" when it requires grad" if tracked else ""), before, after)
        return adapter.to_numpy(out)

    @property
    def size_plan(self):
        """The certification's suite.sizes.SizePlan, for a fixed battery that sizes its own tables
        (that of the current Hypothesis profile when the caller passed none)."""
        plan = self._record.get("size_plan")
        if plan is None:
            from suite import sizes as size_plans

            plan = size_plans.plan_for(Settings.get_current_profile_name())
        return plan

    def count(self, name: str, value: float) -> None:
        """Add ``value`` to a statistic (e.g. the rows a battery checked in one regime)."""
        stats = self._record["stats"]
        stats[name] = stats.get(name, 0.0) + float(value)

    def fail(self, message: str, expected: Any = None, got: Any = None):
        raise PropertyFailed(message, expected, got)

    def note_stat(self, name: str, value: float) -> None:
        """Keep the worst value of a statistic over all examples (e.g. the largest error in ULPs)."""
        stats = self._record["stats"]
        stats[name] = max(stats.get(name, float("-inf")), float(value))

    def note_sample(self, name: str, values) -> None:
        """Accumulate values (e.g. per-element errors in ULPs) over all examples; the outcome's
        stats get max_<name>, p99_<name>, mean_<name> and count_<name> of everything noted."""
        self._record["samples"].setdefault(name, []).append(np.asarray(values, dtype=np.float64).ravel())


def _native(adapter: Adapter, a: np.ndarray, layout) -> Any:
    if layout is not None and layout.applies(a):
        return layout.build(a)
    return adapter.from_numpy(a)


def repro_line(adapter: Adapter, op: str, call, layout: str | None = None, render_array=format_array, prelude: str = "",
               tracked: str = "") -> str:
    """``python -c "..."`` that calls the implementation on the call's arguments, each array
    written by ``render_array(index, array)`` (default: inline, exactly); ``tracked`` is appended
    to each float array (the backend's ``tracked_repro``) when the call was made on tracked leaves."""
    if call is None:
        return ""
    args, kwargs = call
    # with a layout, impl.layouts[name].build rebuilds the view (from_numpy where it does not apply)
    native = f"impl.layouts[{layout!r}].build" if layout is not None else "impl.from_numpy"
    if render_array is format_array:
        render_array = lambda i, a: format_array(a)  # noqa: E731

    def suffix(a):
        return tracked if a.dtype.kind != "i" else ""

    rendered = [f"{native}({render_array(i, a)}){suffix(a)}" if isinstance(a, np.ndarray) else repr(a) for i, a in enumerate(args)]
    rendered += [f"{k}=impl.from_numpy({format_array(v)})" if isinstance(v, np.ndarray) else f"{k}={v!r}" for k, v in kwargs.items()]
    emulated = backends.emulated(adapter.backend, adapter.device) if hasattr(adapter, "backend") else None
    env = "".join(f"{k}={v} " for k, v in emulated.env.items()) if emulated is not None else ""
    return (
        f"{env}python -c \"import numpy as np, ml_dtypes; from suite.adapter import builtin, load_target; "
        f"impl = {adapter.origin}; {prelude}print(impl.to_numpy(impl.ops[{op!r}]({', '.join(rendered)})))\""
    )


def inputs_file(call) -> tuple[str, Callable[[int, np.ndarray], str]]:
    """The call's arrays as a base64 .npz (bfloat16 stored as its uint16 bits, since .npz has no
    such dtype) and how a repro reads array ``i`` back from the file "{inputs}"."""
    import base64
    import io

    args, _ = call
    arrays = {}
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            arrays[f"arg{i}"] = a.view(np.uint16) if a.dtype == dt.numpy_dtype("bfloat16") else a
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)

    def read(i: int, a: np.ndarray) -> str:
        return f"f['arg{i}'].view(ml_dtypes.bfloat16)" if a.dtype == dt.numpy_dtype("bfloat16") else f"f['arg{i}']"

    return base64.b64encode(buffer.getvalue()).decode("ascii"), read


@contextmanager
def seed_only_examples():
    """Within this block, the examples are a function of the seed alone.

    Hypothesis (6.131 and later) mixes into its draws the literal constants of every
    local module imported so far. A worker that had imported one implementation (a
    mutant's -1e9, the fused kernel's polynomial) therefore drew different examples
    for the next one at the same seed, and a verdict depended on what ran before it
    in the same process. An empty pool of local constants removes that history.

    The pool is Hypothesis's private state shared by everyone in the process, and the
    pytest plugin runs inside other people's sessions: so it is emptied only while one of
    the suite's own properties runs, and restored after (the cache of constants chosen
    from it is cleared both ways, since its entries were chosen from the pool in force)."""
    try:
        from hypothesis.internal.conjecture import providers

        original, cache = providers._get_local_constants, providers.CONSTANTS_CACHE.cache
    except (ImportError, AttributeError):  # an older or newer Hypothesis without the pool
        yield
        return
    empty = providers.Constants()
    providers._get_local_constants = lambda: empty
    cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.clear()


@contextmanager
def shrink_time_limit(seconds: float):
    """Within this block, Hypothesis stops shrinking a failure after ``seconds`` and reports the
    smallest failing example found so far (its documented, monkeypatchable limit, 300 s by
    default). A backend that compiles once per shape (JAX) can otherwise spend minutes shrinking
    one 16-bit finding, and a slow shrink would read as a hang of the implementation. Restored
    after, like :func:`seed_only_examples`, so that a user's own tests keep Hypothesis's limit."""
    try:
        from hypothesis.internal.conjecture import engine

        original = engine.MAX_SHRINKING_SECONDS
    except (ImportError, AttributeError):
        yield
        return
    engine.MAX_SHRINKING_SECONDS = seconds
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = original


# Seconds of shrinking per failure; the rest of a property's --timeout is the implementation's.
SHRINK_LIMIT_S = {"thorough": 300.0}
DEFAULT_SHRINK_LIMIT_S = 20.0


def shrink_limit_for(profile: str | None) -> float:
    return SHRINK_LIMIT_S.get(profile or "", DEFAULT_SHRINK_LIMIT_S)


def run_property(
    prop,
    adapter: Adapter,
    op: str,
    dtype: str,
    settings: Settings | None = None,
    seed: int | None = None,
    sizes=None,
    shrink_limit: float = DEFAULT_SHRINK_LIMIT_S,
    avoid=(),
) -> Outcome:
    """Run ``prop`` on ``adapter.ops[op]`` for ``dtype``; never raises for the implementation's sake.

    ``sizes`` (a suite.sizes.SizePlan; default: the plan of the current Hypothesis profile)
    adds the kernel-scale passes after the ordinary examples, for the properties of the
    deterministic ops that draw their shapes through suite.cases (``Property.kernel_sizes``).
    Shrinking a failure stops after ``shrink_limit`` seconds (see :func:`shrink_time_limit`).
    ``avoid``: crash signatures (suite.crash_shrink.signature) of inputs known to crash the
    implementation; a draw that matches one is discarded, so the property reports its own result."""
    with seed_only_examples(), shrink_time_limit(shrink_limit):
        outcome = _run_property(prop, adapter, op, dtype, settings, seed, sizes, list(avoid))
    outcome.shrink_stopped = outcome.shrink_s >= shrink_limit
    return outcome


def _run_property(prop, adapter, op, dtype, settings, seed, sizes, avoid=()) -> Outcome:
    outcome = Outcome(prop.name, op, dtype, adapter.name, PASS)
    reason = prop.skip_reason(dtype) or prop.adapter_skip_reason(adapter)
    if reason:
        outcome.status, outcome.message = SKIP, reason
        return outcome
    record: dict = {"draws": {}, "call": None, "stats": {}, "samples": {}, "avoid": avoid}
    if prop.kind in ("probe", "fixed"):
        record["size_plan"] = sizes
        return _run_once(prop, adapter, op, dtype, outcome, record)

    base = settings if settings is not None else Settings()
    runs = [(None, max(5, round(base.max_examples * adapter.examples_scale * prop.examples_scale)))]
    if getattr(prop, "kernel_sizes", False) and not _is_sampler(op):
        from suite import sizes as size_plans

        plan = sizes if sizes is not None else size_plans.plan_for(Settings.get_current_profile_name())
        if prop.differentiable_only:
            plan = plan.for_gradients()
        runs += [(p, plan.examples) for p in plan.passes()]
        if prop.menu:
            runs += [(p, 1) for p in plan.menu_passes()]
        elif prop.widest:
            runs += [(p, plan.examples) for p in plan.widest_passes()]
    satisfied = False
    for size_pass, examples in runs:
        status = _run_examples(prop, adapter, op, dtype, base, seed, examples, size_pass, outcome, record)
        satisfied |= status != "unsatisfiable"
        if status == "failed":
            break
    if not satisfied:
        outcome.status = SKIP
        outcome.message = "no valid example could be generated for this op and dtype"
        if record.get("avoided"):
            outcome.message = "every draw had the shape of a known crash of the implementation (see the crashed property)"
    outcome.stats = dict(record["stats"])
    outcome.sizes = [f"{rows}x{classes}" for rows, classes in sorted(record.get("sizes", ()))]
    outcome.examples = dict(record.get("examples", {}))
    if record.get("avoided"):
        outcome.stats["draws_avoided_as_known_crash"] = float(record["avoided"])
    outcome.stats.update(_summarize_samples(record["samples"]))
    if prop.graded:
        _grade(outcome, prop.func, op, dtype)
    return outcome


def _grade(outcome: Outcome, func, op: str, dtype: str) -> None:
    """Grade a graded property's outcome with its hook: a pass gets the grade and the figure it was
    decided on; a pass that measured nothing (the hook gives no grade) is skipped, shown as n/a,
    with the hook's reason; a failure (e.g. a NaN where the exact value is finite) is grade F."""
    if outcome.status == PASS:
        grade, observation = func.grade(op, dtype, outcome.stats)
        if not grade:
            outcome.status, outcome.message = SKIP, observation
            return
        outcome.grade, outcome.observation = grade, observation
        key, outcome.measure = getattr(func, "figure", ("", ""))
        outcome.figure = outcome.stats.get(key)
    elif outcome.status == FAIL:
        first = outcome.message.splitlines()[0] if outcome.message else ""
        outcome.grade, outcome.observation = "F", f"grade F: {first}"


def _is_sampler(op: str) -> bool:
    from suite.ops import OPS

    return op in OPS and OPS[op].sampler


def _run_examples(prop, adapter, op, dtype, base, seed, examples, size_pass, outcome, record) -> str:
    """One Hypothesis run of ``examples`` examples; "passed", "failed" (outcome filled in) or
    "unsatisfiable" (a kernel-scale pass a property cannot use, e.g. an axis it must not be on)."""

    def body(data):
        record["draws"] = {"size regime": size_pass.label} if size_pass is not None else {}
        record["call"] = None
        record["layout"] = None
        try:
            prop.func(Context(adapter, op, dtype, data, record, size_pass))
        except PropertyFailed:
            record.setdefault("first_failure", time.perf_counter())  # shrinking starts here
            raise
        _note_example(record, size_pass)

    test = Settings(
        base,
        max_examples=examples,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )(given(st.data())(body))
    if size_pass is not None:
        from suite.sizes import pass_seed

        test = hypothesis_seed(pass_seed(seed, prop.name, dtype, adapter.backend, size_pass))(test)
    elif seed is not None:
        test = hypothesis_seed(seed)(test)
    try:
        test()
    except PropertyFailed as failure:
        _record_failure(outcome, failure, adapter, op, record)
        outcome.shrink_s = round(time.perf_counter() - record.pop("first_failure", time.perf_counter()), 3)
        return "failed"
    except Unsatisfiable:
        return "unsatisfiable"
    except Exception as exc:
        _record_suite_error(outcome, exc, record)
        return "failed"
    return "passed"


def _note_example(record: dict, size_pass) -> None:
    """Count the example that just passed, and keep its kernel-scale size, unless it is a shrinking
    candidate (examples an assumption rejected, and failing ones, are not counted)."""
    from suite.sizes import SIZE_LABEL

    if "first_failure" in record:
        return
    counts = record.setdefault("examples", {})
    label = size_pass.label if size_pass is not None else "ordinary"
    counts[label] = counts.get(label, 0) + 1
    drawn = record["draws"].get(SIZE_LABEL)
    if drawn is not None:
        rows, classes = drawn.value
        record.setdefault("sizes", set()).add((rows, classes))


def _summarize_samples(samples: dict) -> dict[str, float]:
    stats: dict[str, float] = {}
    for name, chunks in samples.items():
        v = np.concatenate(chunks) if chunks else np.zeros(0)
        if v.size == 0:
            stats[f"count_{name}"] = 0.0
            continue
        with np.errstate(invalid="ignore"):
            stats[f"max_{name}"] = float(np.max(v))
            stats[f"p99_{name}"] = float(np.percentile(v, 99, method="higher"))
            stats[f"mean_{name}"] = float(np.mean(v))
        stats[f"count_{name}"] = float(v.size)
    return stats


def _record_failure(outcome: Outcome, failure: PropertyFailed, adapter: Adapter, op: str, record: dict) -> None:
    outcome.status = FAIL
    outcome.message = failure.message
    outcome.counterexample = render_draws(record["draws"])
    outcome.expected = _show(failure.expected)
    outcome.got = _show(failure.got)
    tracked = backends.get(adapter.backend).tracked_repro if record.get("tracked") else ""
    outcome.repro = repro_line(adapter, op, record["call"], record.get("layout"), tracked=tracked)
    if record["call"] is not None:
        outcome.inputs_npz, read = inputs_file(record["call"])
        outcome.repro_from_file = repro_line(adapter, op, record["call"], record.get("layout"), read, "f = np.load('{inputs}'); ", tracked)


def _record_suite_error(outcome: Outcome, exc: Exception, record: dict) -> None:
    """The suite itself raised: the property is undecided (status ERROR), never failed, with the
    traceback and what to install or report."""
    outcome.status = ERROR
    outcome.message = suite_error_message(exc)
    outcome.counterexample = render_draws(record.get("draws", {}))


def suite_error_message(exc: BaseException) -> str:
    """'suite error TYPE: MESSAGE', what to do about it, and the traceback of the exception being handled."""
    from suite.extras import install_hint

    if isinstance(exc, ImportError):
        todo = f"the suite needs a module that is not installed: {install_hint(exc.name)}"
    else:
        todo = "this is a bug in softmax-suite, not in the implementation: please report it with this traceback"
    return f"suite error {type(exc).__name__}: {exc}\n{todo}\n{traceback.format_exc(limit=6)}"


def _run_once(prop, adapter, op, dtype, outcome, record) -> Outcome:
    """Probes and fixed batteries (e.g. a sampler's goodness-of-fit tests) run once on fixed inputs.

    A probe returns the behaviour it observed (implementation-defined); a fixed battery
    passes or fails. Either may put its inputs in ``ctx._record["draws"]`` for the report,
    note statistics, and raise hypothesis.errors.Unsatisfiable to be skipped."""
    ctx = Context(adapter, op, dtype, _NoData(), record)
    try:
        observation = prop.func(ctx)
        if prop.kind == "probe":
            outcome.status = IMPL_DEFINED
            outcome.observation = observation
    except PropertyFailed as failure:
        _record_failure(outcome, failure, adapter, op, record)
    except Unsatisfiable as exc:
        outcome.status = SKIP
        outcome.message = str(exc)
    except Exception as exc:
        _record_suite_error(outcome, exc, record)
    outcome.stats = dict(record["stats"])
    return outcome


class _NoData:
    def draw(self, strategy, label=None):
        raise TypeError("probes use fixed inputs; they cannot draw")


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, np.ndarray):
        return shown_array(value)
    return str(value)
