"""Self-tests of the accuracy properties: what they must certify, reject and grade.

Each accuracy property is shown able to fail (or to grade down) on a known-bad
implementation from implementations/broken/, and not to reject the stable
reference, the other built-in backends (tests/test_battery.py) or the
division-free form, which is correct but less accurate.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import Phase, settings as Settings

from suite import bounds, oracle, ulp
from suite.adapter import builtin, load_target
from suite.properties import all_properties
from suite.runner import FAIL, IMPL_DEFINED, PASS, SKIP, Outcome, _grade, run_property
from suite.ops import OPS

PROPS = all_properties()
SEED = 12345
GRADES = "ABC"


def run(name: str, adapter, op: str, dtype: str, examples: int = 60, seed: int = SEED, shrink: bool = True):
    phases = list(Phase) if shrink else [Phase.explicit, Phase.generate]
    settings = Settings(max_examples=examples, database=None, deadline=None, phases=phases)
    return run_property(PROPS[name], adapter, op, dtype, settings=settings, seed=seed)


def target(path: str, op: str):
    return load_target(f"{path}:{op}", op=op, backend="numpy")


# --- certification of the stable reference: no false rejection -------------------------------


def test_reference_softmax_certified_over_thousands_of_inputs():
    outcome = run("normwise_bound", builtin("numpy-reference"), "softmax", "float32", examples=1000)
    assert outcome.status == PASS, outcome.report()


@pytest.mark.parametrize("op", ["log_softmax", "logsumexp", "cross_entropy"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_reference_certified_every_op_and_dtype(op, dtype):
    outcome = run("normwise_bound", builtin("numpy-reference"), op, dtype, examples=100)
    assert outcome.status == PASS, outcome.report()


def test_reference_certified_on_float32_logits_of_magnitude_1e4():
    """Conditioning is not a bug: rows near 1e4 (offset or spread) pass the shifted bound."""
    rng = np.random.default_rng(7)
    impl = builtin("numpy-reference")
    for make in (
        lambda: rng.uniform(-1e4, 1e4, (200, 16)),
        lambda: 1e4 + rng.uniform(-30, 0, (200, 16)),
        lambda: -1e4 + rng.uniform(-8, 8, (200, 64)),
        lambda: rng.choice([-1.0, 1.0], (200, 8)) * 1e4 + rng.uniform(-3, 3, (200, 8)),
    ):
        x = make().astype(np.float32)
        for op in ("softmax", "log_softmax", "logsumexp"):
            out = impl.ops[op](x, axis=-1)
            allowed = OPS[op].normwise_bound(x, dtype="float32", axis=-1)
            err = np.abs(out.astype(np.longdouble) - OPS[op].oracle(x, axis=-1))
            assert np.all(err <= allowed), (op, float(np.max(err / allowed)))
        t = rng.integers(0, x.shape[1], x.shape[0])
        out = impl.ops["cross_entropy"](x, t)
        err = np.abs(out.astype(np.longdouble) - oracle.cross_entropy(x, t))
        assert np.all(err <= bounds.normwise_cross_entropy(x, t, dtype="float32"))


# --- rejections --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, op, dtype",
    [
        ("implementations/broken/epsilon_denominator.py", "softmax", "float32"),
        ("implementations/broken/float16_internal.py", "softmax", "float32"),
        ("implementations/broken/float16_sum_lse.py", "logsumexp", "float32"),
        ("implementations/broken/epsilon_denominator.py", "softmax", "float64"),
        ("implementations/broken/float16_sum_lse.py", "logsumexp", "float64"),
        ("implementations/broken/division_free_unshifted.py", "softmax", "float32"),
    ],
)
def test_inaccurate_implementations_are_rejected(path, op, dtype):
    shrink = path.endswith("epsilon_denominator.py") and dtype == "float32"  # one shrunk, readable failure
    outcome = run("normwise_bound", target(path, op), op, dtype, shrink=shrink)
    assert outcome.status == FAIL, f"{path} was not rejected"
    assert outcome.property == "normwise_bound"
    assert outcome.message.startswith("out[(") and ", but should be " in outcome.message, outcome.message
    assert f"[{op}(x)" in outcome.message
    assert outcome.repro  # a one-line reproduction


def test_epsilon_denominator_fails_in_ulps_too():
    outcome = run("ulp_accuracy", target("implementations/broken/epsilon_denominator.py", "softmax"), "softmax", "float32")
    assert outcome.status == PASS and outcome.grade in ("B", "C"), outcome.observation


# --- the division-free form: certified, graded below the shifted one --------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_division_free_is_certified(dtype):
    outcome = run("normwise_bound", target("implementations/correct/division_free.py", "softmax"), "softmax", dtype, examples=300)
    assert outcome.status == PASS, outcome.report()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_division_free_is_graded_below_the_shifted_formula(dtype):
    shifted = run("ulp_accuracy", builtin("numpy-reference"), "softmax", dtype, examples=150)
    division_free = run("ulp_accuracy", target("implementations/correct/division_free.py", "softmax"), "softmax", dtype, examples=150)
    assert shifted.grade == "A", shifted.observation
    assert GRADES.index(division_free.grade) > GRADES.index(shifted.grade), division_free.observation
    assert division_free.stats["max_ulp.moderate"] > shifted.stats["max_ulp.moderate"]


# --- log(1 + s) instead of log1p(s): graded inaccurate at the argmax --------------------------


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_log1p_missing_is_inaccurate_at_the_argmax(dtype):
    broken = target("implementations/broken/log1p_missing.py", "log_softmax")
    outcome = run("argmax_accuracy", broken, "log_softmax", dtype)
    assert outcome.status == PASS and outcome.grade == "inaccurate", outcome.observation
    assert "log1p" in outcome.observation
    # Its absolute error (s < u) is within the bound in every dtype: in 16 bits it computes log(1 + s)
    # with 1 + s in the output precision, which is S stored in 16 bits, a sound design of the
    # contract (suite/bounds.py, docs/error-analysis.md sec. 2.6). Only the grade tells it apart.
    assert run("normwise_bound", broken, "log_softmax", dtype).status == PASS
    reference = run("argmax_accuracy", builtin("numpy-reference"), "log_softmax", dtype)
    assert reference.grade == "accurate", reference.observation


# --- low-precision rounding and subnormal outputs ----------------------------------------------


def test_low_precision_rounding_reports_correct_rounding_and_its_absence():
    ref = run("low_precision_rounding", builtin("numpy-reference"), "softmax", "float16")
    assert ref.grade in ("correctly rounded", "faithful"), ref.observation
    # float16 arithmetic is not correctly rounded
    sloppy = run("low_precision_rounding", target("tests/targets/output_precision.py", "softmax"), "softmax", "float16")
    assert sloppy.grade == "not correctly rounded", sloppy.observation
    not_applicable = run("low_precision_rounding", builtin("numpy-reference"), "softmax", "float32")
    assert not_applicable.status == SKIP and not_applicable.grade == "", not_applicable  # n/a, never a pass
    assert "float16, bfloat16 only" in not_applicable.message


def test_a_graded_property_that_measured_nothing_is_not_a_pass():
    """No well-scaled row drawn, no normal output, no row: the grade hook gives no grade, and the
    outcome is skipped (n/a in the reports) with the hook's reason, not passed."""
    for name, reason in (("ulp_accuracy", "no well-scaled rows drawn"), ("low_precision_rounding", "no normal outputs drawn"),
                         ("argmax_accuracy", "no row drawn")):
        outcome = Outcome(name, "log_softmax", "float16", "x", PASS)
        _grade(outcome, PROPS[name].func, "log_softmax", "float16")
        assert outcome.status == SKIP and outcome.message == reason and outcome.grade == ""


# --- non-finite outputs: never a pass of an accuracy property ------------------------------------


NAIVE = "implementations/broken/naive_softmax.py:softmax"
FLUSHING = f"{__file__}:_flushing_log_softmax"


def _flushing_log_softmax(x, axis=-1):
    """log(softmax(x)) with probabilities below 2**-10 flushed to zero first (a kernel's "fast
    path"): -inf where the exact log-probability is a finite number below -6.9."""
    with np.errstate(all="ignore"):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        p = e / np.sum(e, axis=axis, keepdims=True)
        return np.log(np.where(p < 2.0**-10, 0, p)).astype(x.dtype)


@pytest.mark.parametrize(
    "name, spec, op, dtype",
    [
        ("ulp_accuracy", NAIVE, "softmax", "float32"),  # exp overflows: inf / inf = NaN
        ("ulp_accuracy", NAIVE, "softmax", "float64"),
        ("low_precision_rounding", NAIVE, "softmax", "float16"),  # exp(12) already overflows float16
        ("argmax_accuracy", FLUSHING, "log_softmax", "float32"),  # log(0) = -inf
    ],
)
def test_non_finite_outputs_fail_graded_properties_with_grade_f(name, spec, op, dtype):
    outcome = run(name, load_target(spec, op=op, backend="numpy"), op, dtype)
    assert outcome.status == FAIL, (outcome.status, outcome.observation)
    assert outcome.grade == "F" and outcome.observation.startswith("grade F: out[")
    assert "non-finite where the exact value is finite" in outcome.message, outcome.message
    assert ", but should be " in outcome.message and outcome.expected and outcome.got
    assert outcome.repro.startswith("python -c") and outcome.counterexample
    # the correct reference on the same property and dtype passes with a grade
    reference = run(name, builtin("numpy-reference"), op, dtype)
    assert reference.status == PASS and reference.grade not in ("", "F"), reference.report()


def test_figure_is_the_statistic_the_grade_is_decided_on():
    outcome = run("ulp_accuracy", builtin("numpy-reference"), "softmax", "float64")
    assert outcome.grade == "A"
    assert outcome.figure == outcome.stats["max_ulp_mixed.graded"] and outcome.measure == "ULP, shift excused"
    assert f"max {outcome.figure:.3g} ULP" in outcome.observation
    argmax = run("argmax_accuracy", builtin("numpy-reference"), "log_softmax", "float64")
    assert argmax.figure == argmax.stats["max_argmax_ratio"] <= 1 and argmax.measure == "of the allowance"


def _flushing_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    out = e / np.sum(e, axis=axis, keepdims=True)
    return np.where(np.abs(out) < np.finfo(x.dtype).smallest_normal, 0, out).astype(x.dtype)


def test_subnormal_outputs_observed():
    ref = run_property(PROPS["subnormal_outputs"], builtin("numpy-reference"), "softmax", "float32")
    assert ref.status == IMPL_DEFINED and ref.observation.startswith("preserved"), ref.observation
    flush = load_target(f"{__file__}:_flushing_softmax", op="softmax")
    outcome = run_property(PROPS["subnormal_outputs"], flush, "softmax", "float32")
    assert outcome.observation == "flushed to zero"


# --- the error measures -------------------------------------------------------------------------


def test_ulp_error_is_subnormal_aware():
    tiny = np.finfo(np.float32).smallest_subnormal
    # one subnormal spacing off a subnormal exact value is 1 ULP, not 2**-126 / 2**-149 "relative"
    assert ulp.ulp_error(np.array([3 * tiny], np.float32), np.array([2 * tiny], np.longdouble), "float32")[0] == 1
    assert ulp.ulp_error(np.array([1.0 + 2.0**-23], np.float32), np.array([1.0]), "float32")[0] == 1
    assert ulp.ulp_error(np.array([0.5]), np.longdouble(0.5) + np.longdouble(2.0) ** -54, "float64") == 0.5
    assert ulp.ulp_error(np.array([np.inf]), np.array([1e39]), "float32")[0] == 0  # rounds to inf
    assert np.isinf(ulp.ulp_error(np.array([np.nan]), np.array([1.0]), "float32")[0])


def test_normwise_error():
    got = np.array([[0.5, 0.25, 0.25], [1.0, 0.0, 0.0]])
    exact = np.array([[0.5, 0.3, 0.2], [1.0, 0.0, 0.0]])
    assert np.allclose(ulp.normwise_error(got, exact, axis=-1), [0.1, 0.0])
