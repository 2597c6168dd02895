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


def test_naive_softmax_passes_on_moderate_logits_only(naive):
    """The properties are not trivially failing: naive softmax is fine on well-scaled rows."""
    x = np.array([[2.0, 1.0, 0.1], [3.0, 2.0, 1.0]], dtype=np.float32)
    np.testing.assert_allclose(naive.ops["softmax"](x), builtin("numpy-reference").ops["softmax"](x), rtol=1e-6)


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
