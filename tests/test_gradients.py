"""Self-tests of the gradient properties: broken backward passes are rejected by the
property their docstring names; the frameworks' own ops pass; torch and JAX agree."""
from __future__ import annotations


import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from suite import autodiff
from suite import strategies as sst
from suite import vjp as closed
from suite.adapter import builtin, load_target
from suite.properties import all_properties, properties_for
from suite.runner import FAIL, PASS, SKIP, run_property
from suite.ops import OPS

pytest.importorskip("torch")
jax_available = builtin("jax").available
GRAD_PROPERTIES = sorted(p.name for p in all_properties().values() if p.differentiable_only)


def _run(name: str, adapter, op: str, dtype: str, shrink: bool = True):
    """Run one property; without shrinking where only the verdict matters (shrinking a
    counterexample costs most of a failing run)."""
    options = None if shrink else settings(phases=[Phase.explicit, Phase.reuse, Phase.generate])
    return run_property(all_properties()[name], adapter, op, dtype, settings=options)


@pytest.mark.parametrize(
    "spec, op, prop, dtype",
    [
        ("implementations.broken.grad_missing_term:softmax", "softmax", "grad_closed_form", "float32"),
        ("implementations.broken.grad_missing_term:softmax", "softmax", "grad_closed_form", "float64"),
        ("implementations.broken.grad_missing_term:softmax", "softmax", "grad_finite_differences", "float64"),
        ("implementations.broken.grad_nan_masked:log_softmax", "log_softmax", "grad_masked_entries", "float32"),
        ("implementations.broken.grad_nan_masked:log_softmax", "log_softmax", "grad_masked_entries", "float64"),
        ("implementations.broken.naive_softmax_torch:softmax", "softmax", "grad_extreme_logits", "float32"),
        ("implementations.broken.naive_softmax_torch:softmax", "softmax", "grad_extreme_logits", "float64"),
    ],
)
def test_broken_gradient_is_rejected(spec, op, prop, dtype):
    outcome = _run(prop, load_target(spec, op=op, backend="torch"), op, dtype, shrink=False)
    assert outcome.status == FAIL, outcome.report()
    assert outcome.property == prop
    assert f"vjp of {op}" in outcome.message, outcome.message
    assert "suite error" not in outcome.message, outcome.message
    report = outcome.report()
    assert report.startswith(f"{prop} failed for {op} on {spec} ({dtype})")


def test_missing_term_message_names_the_entry():
    adapter = load_target("implementations.broken.grad_missing_term:softmax", op="softmax", backend="torch")
    outcome = _run("grad_closed_form", adapter, "softmax", "float64", shrink=False)
    assert outcome.message.startswith("grad[("), outcome.message
    assert "but should be" in outcome.message and "[vjp of softmax(x)" in outcome.message


def test_nan_masked_message_says_nan():
    adapter = load_target("implementations.broken.grad_nan_masked:log_softmax", op="log_softmax", backend="torch")
    outcome = _run("grad_masked_entries", adapter, "log_softmax", "float64", shrink=False)
    assert "=nan" in outcome.message, outcome.message


def test_naive_softmax_fails_on_the_blog_batch():
    adapter = load_target("implementations.broken.naive_softmax_torch:softmax", op="softmax", backend="torch")
    outcome = _run("grad_extreme_logits", adapter, "softmax", "float32", shrink=False)
    assert "blog batch" in outcome.message and "=nan" in outcome.message, outcome.message


FRAMEWORK_TARGETS = [
    ("implementations.torch_cpu", "torch", op) for op in ("softmax", "log_softmax", "logsumexp", "cross_entropy")
] + [("implementations.jax_jit", "jax", op) for op in ("softmax", "log_softmax", "logsumexp", "cross_entropy")]


@pytest.mark.parametrize("module, backend, op", FRAMEWORK_TARGETS)
@pytest.mark.parametrize("prop", ["grad_closed_form", "grad_masked_entries", "grad_extreme_logits", "grad_finite_differences"])
def test_framework_ops_pass_as_third_party_targets(module, backend, op, prop):
    """The frameworks' own ops, wrapped as certify wraps a third-party target, pass."""
    if backend == "jax" and not jax_available:
        pytest.skip("jax is not installed")
    adapter = load_target(f"{module}:{op}", op=op, backend=backend)
    outcome = _run(prop, adapter, op, "float64")
    assert outcome.status == PASS, outcome.report()


def test_gradient_properties_apply_only_to_differentiable_adapters():
    names = {"grad_closed_form", "grad_finite_differences", "grad_masked_entries", "grad_extreme_logits", "grad_layouts", "grad_ties"}
    assert names <= set(GRAD_PROPERTIES)
    assert not names & {p.name for p in properties_for("softmax", differentiable=False)}
    assert names <= {p.name for p in properties_for("softmax", differentiable=True)}
    assert "grad_straight_through" in {p.name for p in properties_for("gumbel_softmax", differentiable=True)}


def test_finite_differences_skip_below_float64():
    outcome = _run("grad_finite_differences", builtin("torch-cpu"), "softmax", "float32")
    assert outcome.status == SKIP


@pytest.mark.skipif(not jax_available, reason="jax is not installed")
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_torch_and_jax_gradients_agree_in_float64(data):
    """The same float64 input and cotangent give the same VJP on torch and JAX, within the sum
    of the two bounds (each is within its bound of the exact VJP)."""
    op = data.draw(st.sampled_from(["softmax", "log_softmax", "logsumexp", "cross_entropy", "temperature_softmax"]), "op")
    shape = data.draw(sst.shapes(min_dims=2 if op == "cross_entropy" else 1, max_dims=2, max_classes=32), "shape")
    axis = -1 if op == "cross_entropy" else data.draw(sst.axes(shape), "axis")
    x = data.draw(sst.any_logits("float64", shape, axis=axis), "x")
    kwargs = {} if op == "cross_entropy" else {"axis": axis}
    args = (x,)
    if op == "cross_entropy":
        args = (x, np.array(data.draw(st.lists(st.integers(0, shape[1] - 1), min_size=shape[0], max_size=shape[0])), dtype=np.int64))
    if op == "temperature_softmax":
        args = (x, data.draw(sst.temperatures("float64", x), "temperature"))
    out_shape = shape[:1] if op == "cross_entropy" else (tuple(d for i, d in enumerate(shape) if i != axis % len(shape)) if op == "logsumexp" else shape)
    g = data.draw(sst.logits("float64", out_shape, "moderate"), "cotangent")
    torch_grad = autodiff.vjp(builtin("torch-cpu"), op, args, kwargs, g)
    jax_grad = autodiff.vjp(builtin("jax"), op, args, kwargs, g)
    bound = OPS[op].vjp_bound(*args, g, "float64", **kwargs)
    assert np.all(np.isfinite(torch_grad)) and np.all(np.isfinite(jax_grad))
    difference = np.abs(torch_grad.astype(closed.WIDE) - jax_grad.astype(closed.WIDE))
    assert np.all(difference <= 2 * bound), (op, difference.max(), (2 * bound).min())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_straight_through_gumbel_softmax(dtype):
    good = load_target("implementations.correct.straight_through_gumbel:gumbel_softmax", op="gumbel_softmax", backend="torch")
    assert _run("grad_straight_through", good, "gumbel_softmax", dtype).status == PASS
    bad = load_target("implementations.broken.gumbel_hard_detached:gumbel_softmax", op="gumbel_softmax", backend="torch")
    outcome = _run("grad_straight_through", bad, "gumbel_softmax", dtype, shrink=False)
    assert outcome.status == FAIL and outcome.property == "grad_straight_through", outcome.report()
    assert outcome.message.startswith("grad[("), outcome.message


def test_straight_through_skips_without_the_op():
    outcome = _run("grad_straight_through", builtin("torch-cpu"), "gumbel_softmax", "float32")
    if "gumbel_softmax" not in builtin("torch-cpu").ops:
        assert outcome.status == SKIP
    else:  # the sampler issue has added it: it must have the soft sample's gradient
        assert outcome.status == PASS, outcome.report()


@pytest.mark.skipif(not jax_available, reason="jax is not installed")
@pytest.mark.parametrize("prop", ["grad_closed_form", "grad_finite_differences"])
def test_jax_custom_vjp(prop):
    """A custom_vjp backward is what JAX differentiates: a correct one passes (finite differences
    in reverse mode only, as JAX has no forward mode for it), one without the coupling term fails."""
    good = load_target("implementations.correct.jax_custom_vjp:softmax", op="softmax", backend="jax")
    assert _run(prop, good, "softmax", "float64").status == PASS
    bad = load_target("implementations.broken.grad_missing_term_jax:softmax", op="softmax", backend="jax")
    outcome = _run(prop, bad, "softmax", "float64", shrink=False)
    assert outcome.status == FAIL and outcome.property == prop, outcome.report()


def test_bound_admits_logits_that_x_over_t_rounds_into_a_tie():
    """Found by `softmax-suite run` (torch-cpu temperature_softmax, float32): x / 1.625 rounds
    these 1-ULP-apart logits to one value, so torch's softmax is 1/3 each where the exact one is
    one-hot, and entry 1 (cotangent 0, exact s = 0) gets s_hat (0 - c_hat) = -1/9 / T. That is
    conditioning; the bound must admit it (it used to drop E_i |c_hat - c|)."""
    import torch

    x = np.array([-8.421990183603586e37, -8.421990183603586e37, -8.421989676543346e37], dtype=np.float32)
    g = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    xt = torch.from_numpy(x).requires_grad_(True)
    torch.softmax(xt / 1.625, dim=0).backward(torch.from_numpy(g))
    got = xt.grad.numpy().astype(np.float64)
    exact = closed.temperature_softmax(x, 1.625, g, axis=0).astype(np.float64)
    assert got[1] != 0
    assert np.all(np.abs(got - exact) <= closed.temperature_softmax_bound(x, 1.625, g, "float32", axis=0))
