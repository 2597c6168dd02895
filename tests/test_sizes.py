"""Kernel-scale sizes (suite/sizes.py): reachable by every property, shrunk to the smallest
failing menu entry, pinned sizes drawn with priority, validated, and recorded."""
from __future__ import annotations

import json

import numpy as np
import pytest

from suite import sizes
from suite.adapter import UsageError
from suite.cli import main
from suite.profiles import certification_settings
from suite.properties import all_properties
from suite.pytest_plugin import callable_adapter
from suite.runner import FAIL, PASS, run_property


def _reference_softmax(x, axis=-1):
    w = x.astype(np.float64)
    e = np.exp(w - np.max(w, axis=axis, keepdims=True))
    return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)


def _recording(shapes):
    def softmax(x, axis=-1):
        shapes.append((x.shape, axis % x.ndim))
        return _reference_softmax(x, axis)

    return softmax


def test_a_kernel_broken_past_4096_classes_is_reported_at_4097():
    """Menus shrink toward their first entries: the smallest failing size is the one reported."""

    def wide_rows_wrong(x, axis=-1):
        out = _reference_softmax(x, axis)
        return out * 2 if x.shape[axis] > 4096 else out

    adapter = callable_adapter(wide_rows_wrong, "softmax")
    plan = sizes.SizePlan(sizes.CI_BUDGET, examples=12)
    outcome = run_property(all_properties()["definition"], adapter, "softmax", "float64", certification_settings("ci"), 0, plan)
    assert outcome.status == FAIL
    rows, classes = eval(outcome.counterexample["kernel-scale rows and classes"])
    assert (rows, classes) == (1, 4097), outcome.counterexample


def test_pinned_sizes_appear_in_every_property():
    shapes: list = []
    adapter = callable_adapter(_recording(shapes), "softmax")
    plan = sizes.plan_for("ci", classes=(777,), rows=(4099,))
    for name in ("definition", "batch_independence", "axis_honoured", "permutation_equivariance", "monotonicity"):
        shapes.clear()
        outcome = run_property(all_properties()[name], adapter, "softmax", "float32", certification_settings("ci"), 0, plan)
        assert outcome.status == PASS, outcome.report()
        assert any(s[axis] == 777 for s, axis in shapes), (name, shapes)
        assert any(s[1 - axis] == 4099 for s, axis in shapes if len(s) == 2), (name, shapes)


def test_kernel_scale_sizes_are_reached_at_ci():
    """Over the dtypes of one property at ci: rows wider than a block of 1024 and past 65535 rows."""
    shapes: list = []
    adapter = callable_adapter(_recording(shapes), "softmax")
    for dtype in ("float16", "bfloat16", "float32", "float64"):
        run_property(all_properties()["definition"], adapter, "softmax", dtype, certification_settings("ci"), 0, sizes.plan_for("ci"))
    assert any(s[axis] > 1024 and s[axis] % 1024 for s, axis in shapes)
    assert any(len(s) == 2 and s[1 - axis] >= 65536 for s, axis in shapes)
    assert max(int(np.prod(s)) for s, _ in shapes) <= sizes.CI_BUDGET


def test_every_deterministic_hypothesis_property_uses_the_kernel_sizes_or_says_why():
    from suite.ops import OPS

    for name, p in all_properties().items():
        deterministic = any(not OPS[op].sampler for op in p.ops)
        if p.kind == "hypothesis" and deterministic and not p.kernel_sizes:
            assert "kernel-scale" in (p.func.__doc__ or ""), name


@pytest.mark.parametrize("text", ["5x", "0", "-3", "1.5", "2,,x", str(sizes.MAX_PINNED + 1)])
def test_bad_pinned_sizes_are_usage_errors(text):
    with pytest.raises(UsageError):
        sizes.parse_pinned(text, "classes")


def test_parse_pinned_keeps_order_without_repeats():
    assert sizes.parse_pinned("50257, 129920,50257", "classes") == (50257, 129920)
    assert sizes.parse_pinned("", "rows") == ()


def test_cli_rejects_bad_sizes_with_exit_2(capsys):
    assert main(["certify", "implementations/numpy_reference.py:softmax", "--op", "softmax", "--rows", "1,zero"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--rows" in err


def test_certificate_records_the_pinned_sizes(tmp_path):
    code = main([
        "certify", "implementations/numpy_reference.py:softmax", "--op", "softmax", "--dtypes", "float64",
        "--properties", "definition", "--classes", "50257", "--rows", "4097", "--report", str(tmp_path), "-q", "--jobs", "1",
    ])
    assert code == 0
    cert = json.loads((tmp_path / "certificate.json").read_text())
    assert cert["sizes"]["classes"] == [50257] and cert["sizes"]["rows"] == [4097]
    assert cert["sizes"]["budget"] == sizes.CI_BUDGET


def test_the_widest_sizes_are_their_own_passes_unless_pinned():
    plan = sizes.plan_for("ci")
    assert [p.label for p in plan.widest_passes()] == ["widest_classes=262145", "widest_rows=65537"]
    assert [p.label for p in sizes.plan_for("ci", classes=(262145,)).widest_passes()] == ["widest_rows=65537"]
    wide = {name for name, p in all_properties().items() if p.widest}
    assert {"definition", "grad_closed_form"} <= wide


def test_definition_sweeps_every_menu_entry_once():
    """Every class count and row count of the menus within the budget, one example each, whatever the seed."""
    plan = sizes.plan_for("ci")
    assert all_properties()["definition"].menu
    outcome = run_property(all_properties()["definition"], callable_adapter(_reference_softmax, "softmax"), "softmax",
                           "float32", settings=certification_settings("ci"), seed=3, sizes=plan)
    drawn_classes = {int(s.split("x")[1]) for s in outcome.sizes if s.startswith("1x")}
    drawn_rows = {int(s.split("x")[0]) for s in outcome.sizes}
    assert {k for k in sizes.KERNEL_CLASSES if k <= plan.budget} <= drawn_classes
    assert set(sizes.KERNEL_ROWS) <= drawn_rows
    assert all(outcome.examples[p.label] == 1 for p in plan.menu_passes()), outcome.examples


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_kernel_wrong_only_at_the_widest_rows_is_caught_at_every_seed(seed):
    """implementations/broken/widest_rows_second_pass.py is right up to 131072 classes: the menus'
    random draws miss it at most seeds; ``definition``'s sweep of the menus catches it at every one
    (at the first entry past 131072), and a correct softmax's outcome lists the widest sizes."""
    from implementations.broken.widest_rows_second_pass import softmax

    adapter = callable_adapter(softmax, "softmax")
    outcome = run_property(all_properties()["definition"], adapter, "softmax", "float32",
                           settings=certification_settings("detect"), seed=seed, sizes=sizes.plan_for("ci"))
    rows, classes = eval(outcome.counterexample.get("kernel-scale rows and classes", "(0, 0)"))
    assert outcome.status == FAIL and classes > 131072, outcome.report()
    passed = run_property(all_properties()["definition"], callable_adapter(_reference_softmax, "softmax"), "softmax",
                          "float32", settings=certification_settings("detect"), seed=seed, sizes=sizes.plan_for("ci"))
    assert passed.status == PASS and "1x262145" in passed.sizes and any(s.startswith("65537x") for s in passed.sizes)
