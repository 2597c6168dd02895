"""pytest plugin: run the softmax-suite battery inside another project's test suite.

Registered as a ``pytest11`` entry point, so it is active wherever softmax-suite
is installed. Three ways to use it:

1. From the command line, no test file needed::

       pytest --softmax-target mypkg.ops:softmax --softmax-op softmax [--softmax-backend torch]

   adds one test per property and dtype, with ids like
   ``softmax-suite::mypkg.ops:softmax-softmax-finite_outputs-float32``.
   ``--softmax-xfail finite_outputs,definition-float16`` (or the ini option
   ``softmax_xfail``) marks those properties (all dtypes, or one) as expected
   failures without hiding the rest.

2. Parametrized in a test file, where each property is its own test id and can
   carry its own marks::

       from suite.pytest_plugin import property_cases, check_case

       @pytest.mark.parametrize("case", property_cases(my_softmax, "softmax", xfail={"ulp_accuracy": "known"}))
       def test_my_softmax(case):
           check_case(case)

3. Whole certification in one test, through the ``softmax_certify`` fixture or
   :func:`certify_callable`::

       def test_certified(softmax_certify):
           result = softmax_certify(my_softmax, "softmax", backend="numpy")
           assert result.certified, result.report()

These run in the pytest process (pytest is the harness); ``softmax-suite
certify`` is the isolated, crash-proof path.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import pytest

# Every suite import is inside the function that needs it: loaded by its entry point into every
# pytest session of anyone who installs softmax-suite, the plugin imports nothing of the suite
# until it is asked for (in an editable checkout Hypothesis would draw from the constants of each
# suite module imported, and a user's own tests would draw differently).
if TYPE_CHECKING:
    from suite.runner import Outcome

# --------------------------------------------------------------------------- helpers


def callable_adapter(fn: Callable, op: str, backend: str = "numpy", device: str = "cpu", *, forward_only: bool = False):
    """A built-in backend's glue around ``fn`` as ``op`` (like :func:`suite.adapter.load_target`)."""
    from suite.adapter import wrap_callable

    module = getattr(fn, "__module__", None) or "__main__"
    qualname = getattr(fn, "__qualname__", getattr(fn, "__name__", "fn"))
    return wrap_callable(fn, f"{module}:{qualname}", op, backend, device, description=f"{op} under pytest on {backend}/{device}",
                         forward_only=forward_only)


def _settings(profile: str | None):
    from hypothesis import settings

    from suite.profiles import certification_settings

    return certification_settings(profile) if profile else settings()


@dataclass
class Case:
    """One property on one dtype of one implementation: what a generated test runs."""

    adapter: Any
    op: str
    prop: Any
    dtype: str
    profile: str | None = "ci"
    seed: int | None = 0
    classes: tuple[int, ...] = ()  # pinned sizes (suite.sizes), drawn by every property
    rows: tuple[int, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.adapter.name}-{self.op}-{self.prop.name}-{self.dtype}"


def _cases(adapter, op: str, dtypes=None, profile="ci", seed=0, properties=None, classes=(), rows=()) -> list[Case]:
    from suite.properties import properties_for
    from suite.sizes import parse_pinned

    classes, rows = parse_pinned(classes, "classes"), parse_pinned(rows, "rows")
    chosen = [d for d in (dtypes or adapter.dtypes) if d in adapter.dtypes]
    return [
        Case(adapter, op, prop, dtype, profile, seed, classes, rows)
        for prop in properties_for(op, adapter.differentiable)
        if properties is None or prop.name in properties
        for dtype in chosen
    ]


def _xfail_matches(xfail, prop: str, dtype: str):
    """xfail: names ("prop" or "prop-dtype") or a mapping name -> reason."""
    if not xfail:
        return None
    items = xfail.items() if isinstance(xfail, dict) else ((name, "") for name in xfail)
    for name, reason in items:
        if name in (prop, f"{prop}-{dtype}"):
            return reason or f"{name} marked as an expected failure"
    return None


def property_cases(
    fn_or_target,
    op: str,
    backend: str = "numpy",
    device: str = "cpu",
    dtypes=None,
    xfail=None,
    profile: str | None = "ci",
    seed: int | None = 0,
    properties=None,
    classes=(),
    rows=(),
    forward_only: bool = False,
) -> list:
    """``pytest.param`` per property and dtype, for ``@pytest.mark.parametrize("case", ...)``
    (``forward_only``: no gradient properties, for a target without a backward pass)."""
    from suite.adapter import load_target

    if isinstance(fn_or_target, str):
        adapter = load_target(fn_or_target, op, backend, device, forward_only=forward_only)
    else:
        adapter = callable_adapter(fn_or_target, op, backend, device, forward_only=forward_only)
    params = []
    for case in _cases(adapter, op, dtypes, profile, seed, properties, classes, rows):
        reason = _xfail_matches(xfail, case.prop.name, case.dtype)
        marks = [pytest.mark.xfail(reason=reason, strict=False)] if reason is not None else []
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def run_case(case: Case) -> Outcome:
    from hypothesis import settings

    from suite.runner import run_property
    from suite.sizes import plan_for

    plan = plan_for(case.profile or settings.get_current_profile_name(), case.classes, case.rows)
    return run_property(case.prop, case.adapter, case.op, case.dtype, settings=_settings(case.profile), seed=case.seed, sizes=plan)


def check_case(case: Case) -> Outcome:
    """Run one case; fail the test with the suite's report, skip it when the property was skipped."""
    from suite.runner import ERROR, FAIL, SKIP

    outcome = run_case(case)
    if outcome.status in (FAIL, ERROR):
        pytest.fail(outcome.report(), pytrace=False)
    if outcome.status == SKIP:
        pytest.skip(outcome.message)
    return outcome


@dataclass
class Certification:
    """What :func:`certify_callable` returns."""

    op: str
    implementation: str
    outcomes: list[Outcome] = field(default_factory=list)
    required: dict[str, bool] = field(default_factory=dict)
    policy: str = "default"

    @property
    def failures(self) -> list[Outcome]:
        """Outcomes that failed, and those the suite could not decide (it raised)."""
        from suite.runner import ERROR, FAIL

        return [o for o in self.outcomes if o.status in (FAIL, ERROR)]

    @property
    def verdict(self) -> str:
        """"certified", "not certified" or "undecided" (suite.verdict.certification_verdict)."""
        from suite.properties import all_properties
        from suite.runner import ERROR
        from suite.verdict import certification_verdict, rejects

        registry = all_properties()
        rejected = any(
            rejects(
                o.status,
                required=self.required.get(o.property, True),
                policy=self.policy,
                grade=o.grade,
                passing_grades=registry[o.property].passing_grades if o.property in registry else None,
            )
            for o in self.outcomes
        )
        return certification_verdict(rejected=rejected, suite_errors=sum(o.status == ERROR for o in self.outcomes))

    @property
    def certified(self) -> bool:
        from suite.verdict import CERTIFIED

        return self.verdict == CERTIFIED

    @property
    def implementation_defined(self) -> dict[str, str]:
        from suite.runner import IMPL_DEFINED

        return {f"{o.property}-{o.dtype}": o.observation for o in self.outcomes if o.status == IMPL_DEFINED}

    def report(self) -> str:
        head = f"{self.implementation} {self.op}: {self.verdict if self.certified else self.verdict.upper()}"
        return "\n\n".join([head] + [o.report() for o in self.failures])


def certify_callable(
    fn: Callable,
    op: str,
    backend: str = "numpy",
    device: str = "cpu",
    dtypes=None,
    profile: str | None = "ci",
    seed: int | None = 0,
    policy: str = "default",
    properties=None,
    classes=(),
    rows=(),
    forward_only: bool = False,
) -> Certification:
    """Run every property for ``op`` (or those named in ``properties``) against ``fn`` in this
    process; return the verdict and outcomes."""
    adapter = callable_adapter(fn, op, backend, device, forward_only=forward_only)
    result = Certification(op, adapter.name, policy=policy)
    for case in _cases(adapter, op, dtypes, profile, seed, properties, classes, rows):
        result.required[case.prop.name] = case.prop.required
        result.outcomes.append(run_case(case))
    return result


# --------------------------------------------------------------------------- pytest hooks


def pytest_addoption(parser):
    group = parser.getgroup("softmax-suite", "softmax-suite conformance battery")
    group.addoption("--softmax-target", default=None, help="package.module:function or path/to/file.py:function to certify")
    from suite.ops import OPS  # the records only (suite/ops.py imports their mathematics when first used)

    group.addoption("--softmax-op", default=None, help="the op the target implements: " + ", ".join(OPS))
    group.addoption("--softmax-backend", default="numpy", help="numpy, torch or jax (default numpy)")
    group.addoption("--softmax-device", default="cpu", help="cpu or cuda (default cpu)")
    group.addoption("--softmax-dtypes", default="", help="comma-separated dtypes (default: all the backend supports)")
    group.addoption("--softmax-profile", default="ci", help="Hypothesis profile: dev, ci, thorough, detect or sweep (see suite/profiles.py; default ci)")
    group.addoption("--softmax-seed", default=0, type=int, help="seed for the examples (default 0)")
    group.addoption("--softmax-classes", default="", help="comma-separated class counts every property also draws (e.g. 50257,129920)")
    group.addoption("--softmax-rows", default="", help="comma-separated row counts every property also draws (e.g. 1,4097)")
    group.addoption("--softmax-forward-only", action="store_true",
                    help="the target has no backward pass: no gradient properties (torch or jax targets)")
    group.addoption("--softmax-xfail", default="", help="comma-separated properties (or property-dtype) to mark xfail")
    parser.addini("softmax_xfail", "properties (or property-dtype) of the --softmax-target battery to mark xfail", type="linelist", default=[])


@pytest.fixture
def softmax_certify():
    """certify_callable(fn, op, backend="numpy", ...) -> Certification; assert ``.certified``."""
    return certify_callable


class SoftmaxPropertyItem(pytest.Item):
    def __init__(self, *, case: Case, **kwargs):
        super().__init__(**kwargs)
        self.case = case

    def runtest(self):
        from suite.runner import ERROR, FAIL, SKIP

        outcome = run_case(self.case)
        if outcome.status in (FAIL, ERROR):
            raise SoftmaxPropertyFailure(outcome.report())
        if outcome.status == SKIP:
            pytest.skip(outcome.message)
        self.user_properties.append(("status", outcome.status))
        if outcome.observation:
            self.user_properties.append(("observation", outcome.observation))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, SoftmaxPropertyFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return "softmax-suite", None, self.name


class SoftmaxPropertyFailure(AssertionError):
    pass


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    target = config.getoption("--softmax-target")
    if not target:
        return
    from suite.adapter import UsageError, load_target
    from suite.ops import OPS

    op = config.getoption("--softmax-op")
    if not op:
        raise pytest.UsageError("--softmax-target needs --softmax-op (one of: " + ", ".join(OPS) + ")")
    try:
        adapter = load_target(target, op, config.getoption("--softmax-backend"), config.getoption("--softmax-device"),
                              forward_only=config.getoption("--softmax-forward-only"))
    except UsageError as exc:
        raise pytest.UsageError(f"softmax-suite: {exc}") from None
    dtypes = [d.strip() for d in config.getoption("--softmax-dtypes").split(",") if d.strip()]
    unknown = [d for d in dtypes if d not in adapter.dtypes]
    if unknown:
        raise pytest.UsageError(f"softmax-suite: dtype(s) {', '.join(unknown)} not supported; choose from {','.join(adapter.dtypes)}")
    xfail = [x.strip() for x in config.getoption("--softmax-xfail").split(",") if x.strip()] + list(config.getini("softmax_xfail"))
    try:
        cases = _cases(
            adapter, op, dtypes, config.getoption("--softmax-profile"), config.getoption("--softmax-seed"),
            classes=config.getoption("--softmax-classes"), rows=config.getoption("--softmax-rows"),
        )
    except UsageError as exc:
        raise pytest.UsageError(f"softmax-suite: {exc}") from None
    for case in cases:
        item = SoftmaxPropertyItem.from_parent(session, name=case.id, nodeid=f"softmax-suite::{case.id}", case=case)
        reason = _xfail_matches(xfail, case.prop.name, case.dtype)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=False))
        if not case.prop.required:
            item.add_marker(pytest.mark.softmax_not_required)
        items.append(item)


def pytest_configure(config):
    config.addinivalue_line("markers", "softmax_not_required: a graded or probe property that does not decide the verdict")
