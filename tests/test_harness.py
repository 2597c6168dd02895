"""The harness itself: a broken implementation is rejected by name, with a
minimal counterexample and a repro that really reproduces the failure."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from suite.adapter import UsageError, builtin, load_target
from suite.properties import all_properties, properties_for
from suite.runner import FAIL, PASS, run_property

NAIVE = "implementations.broken.naive_softmax:softmax"


@pytest.fixture(scope="module")
def naive():
    return load_target(NAIVE, op="softmax", backend="numpy")


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_naive_softmax_fails_finite_outputs_with_a_small_counterexample(naive, dtype):
    outcome = run_property(all_properties()["finite_outputs"], naive, "softmax", dtype)
    assert outcome.status == FAIL, outcome.report()
    assert "not finite" in outcome.message
    # Hypothesis shrinks to a handful of logits, not a 512-wide batch.
    x = eval(outcome.counterexample["x"], {"np": np, "ml_dtypes": __import__("ml_dtypes")})
    assert x.size <= 8, outcome.report()
    assert "repro: python -c" in outcome.report()


def test_naive_softmax_repro_line_reproduces_the_nan(naive):
    outcome = run_property(all_properties()["finite_outputs"], naive, "softmax", "float32")
    command = outcome.repro.removeprefix('python -c "').removesuffix('"')
    printed = subprocess.run([sys.executable, "-c", command], capture_output=True, text=True, check=True).stdout
    assert "nan" in printed or "inf" in printed


def test_stable_reference_passes_every_required_property_on_the_blog_batch():
    reference = builtin("numpy-reference")
    for prop in properties_for("softmax"):
        if prop.required and prop.kind == "hypothesis":
            assert run_property(prop, reference, "softmax", "float32").status == PASS, prop.name


def test_every_property_states_its_mathematics():
    for prop in all_properties().values():
        assert prop.statement, f"{prop.name} has no docstring"


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("no_such_module_xyz:softmax", "cannot import module"),
        ("implementations.numpy_reference:no_such_fn", "has no attribute"),
        ("implementations.numpy_reference:DTYPES", "not callable"),
        ("implementations/numpy_reference.py", "no ':attr'"),
        ("does/not/exist.py:softmax", "no such file"),
    ],
)
def test_bad_targets_give_one_line_usage_errors(spec, fragment):
    with pytest.raises(UsageError) as raised:
        load_target(spec, op="softmax")
    assert fragment in str(raised.value)
    assert "\n" not in str(raised.value)


def test_unknown_op_and_backend_are_usage_errors():
    with pytest.raises(UsageError, match="unknown op"):
        load_target(NAIVE, op="softmaxx")
    with pytest.raises(UsageError, match="unsupported backend"):
        load_target(NAIVE, op="softmax", backend="tensorflow")


def test_readme_documents_every_property():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    missing = [name for name in all_properties() if f"| {name} |" not in readme]
    assert not missing, f"README.md has no table row for {missing}"


def _scalar_when_0d(x, axis=-1):
    """The reference logsumexp, returning a NumPy scalar for a 0-d result (as np.max does)."""
    out = builtin("numpy-reference").ops["logsumexp"](x, axis=axis)
    return out[()] if out.ndim == 0 else out


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_numpy_scalar_is_a_0d_result(dtype):
    """NumPy's reductions return np.float32(...) for a 0-d result: accepted, its dtype checked."""
    from suite.adapter import wrap_callable

    adapter = wrap_callable(_scalar_when_0d, "tests:_scalar_when_0d", "logsumexp", "numpy", "cpu")
    assert adapter.is_native(np.float32(1.0)) and not adapter.is_native(1.0)
    for name in ("output_contract", "definition"):
        outcome = run_property(all_properties()[name], adapter, "logsumexp", dtype)
        assert outcome.status == PASS, outcome.report()


class _Ctx:
    dtype = "float16"

    def fail(self, message, expected=None, got=None):
        raise AssertionError(message)


def test_failure_headline_shows_the_returned_and_exact_values_unsaturated():
    """A library that returns -inf where the exact log-probability is -64864 is shown as -inf,
    not as the float16 overflow threshold the comparison saturates it to; numbers are plain."""
    from suite.assertions import assert_within

    with pytest.raises(AssertionError) as failure:
        assert_within(_Ctx(), np.array([0.0, -np.inf], dtype=np.float16), np.array([0.0, -64864.0], dtype=np.longdouble), 32.0, "log_softmax(x)")
    assert "out[(1,)]=-inf, but should be -64864.0 (allowed error 32)" in str(failure.value)
    assert "np." not in str(failure.value)


def _uniform_when_masked(x, axis=-1):
    """Every row uniform as soon as one row is fully masked: a behaviour, and a bug beside it."""
    if np.all(np.isneginf(x), axis=axis).any():
        return np.full_like(x, 1.0 / x.shape[axis])
    return builtin("numpy-reference").ops["softmax"](x, axis=axis)


def test_a_behaviour_row_reports_what_it_saw_and_never_fails():
    """A probe whose ordinary neighbour row is wrong still reports the behaviour (not FAIL, so it
    never enters the failed list), and says that the row beside it is wrong."""
    from suite.adapter import wrap_callable
    from suite.runner import IMPL_DEFINED

    adapter = wrap_callable(_uniform_when_masked, "tests:_uniform_when_masked", "softmax", "numpy", "cpu")
    outcome = run_property(all_properties()["fully_masked_row"], adapter, "softmax", "float64")
    assert outcome.status == IMPL_DEFINED, outcome.report()
    assert outcome.observation.startswith("uniform; the ordinary row beside it is wrong: out[(0, 2)]=0.333")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64", "int32"])
def test_a_kernel_scale_array_is_rebuilt_exactly_and_shown_summarized(dtype):
    """Past SHOWN_ELEMENTS, format_array's flat expression still rebuilds the array bit for bit
    (non-finite values included), and the report shows NumPy's summary with the shape on one line."""
    from suite import dtypes as dt
    from suite.runner import SHOWN_ELEMENTS, format_array, shown_array

    values = np.random.default_rng(0).standard_normal((3, SHOWN_ELEMENTS)) * 100
    if dtype != "int32":
        values[0, :3] = [np.inf, -np.inf, np.nan]
    a = values.astype(np.int32 if dtype == "int32" else dt.numpy_dtype(dtype))
    rebuilt = eval(format_array(a), {"np": np, "ml_dtypes": __import__("ml_dtypes")})  # noqa: S307 - our own repro text
    assert rebuilt.dtype == a.dtype and rebuilt.shape == a.shape
    assert np.array_equal(rebuilt.view(np.uint8), a.view(np.uint8))
    shown = shown_array(a)
    assert "..." in shown and f"shape {a.shape}" in shown and "\n" not in shown and len(shown) < 600
    small = a[:1, :8]
    assert shown_array(small) == format_array(small)  # small arrays are shown exactly, as before
