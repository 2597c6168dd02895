"""Cross-entropy's options (ignore_index, label_smoothing, weight, reduction, z_loss, softcap):
the oracle agrees with torch's definitions; correct implementations with every option pass
cross_entropy_options (and its gradient twin); mutants of each option fail it; a target that
declares no option is skipped with the reason and certified on the plain form."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import Phase, settings

from suite import bounds, oracle, sizes, vjp
from suite.adapter import UsageError, builtin, load_target, wrap_callable
from suite.ops import CROSS_ENTROPY_OPTIONS
from suite.properties import all_properties
from suite.runner import FAIL, PASS, SKIP, run_property

torch = pytest.importorskip("torch")

NO_SIZES = sizes.SizePlan(0, 0)  # the ordinary examples only: the options' arithmetic, not the kernel sizes


def _run(name, adapter, dtype, examples=30, shrink=False):
    phases = None if shrink else [Phase.explicit, Phase.reuse, Phase.generate]
    chosen = settings(max_examples=examples, derandomize=True, **({"phases": phases} if phases else {}))
    return run_property(all_properties()[name], adapter, "cross_entropy", dtype, settings=chosen, sizes=NO_SIZES)


def _numpy_target(fn, supports):
    fn.supports = set(supports)
    return wrap_callable(fn, f"tests:{fn.__name__}", "cross_entropy")


# ----------------------------------------------------------------------------- the oracle


def _torch_loss(x, t, **options):
    native = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    return torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(t), **native).numpy()


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_oracle_is_torchs_definition_in_float64(reduction):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 3, (9, 7))
    t = rng.integers(0, 7, 9)
    t[[1, 4]] = 3  # ignored through an in-range ignore_index
    w = rng.uniform(0, 3, 7)
    for options in (
        {"ignore_index": 3},
        {"label_smoothing": 0.3},
        {"weight": w},
        {"ignore_index": 3, "label_smoothing": 0.2, "weight": w},
    ):
        options = options | {"reduction": reduction}
        exact = oracle.cross_entropy(x, t, **options).astype(np.float64)
        np.testing.assert_allclose(exact, _torch_loss(x, t, **options), rtol=1e-13, atol=1e-13)


def test_oracle_z_loss_and_softcap_follow_liger_and_gemma():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 8, (6, 5))
    t = rng.integers(0, 5, 6)
    t[2] = -100
    kept = t != -100
    capped = 30 * np.tanh(x / 30)
    lse = np.log(np.sum(np.exp(capped), axis=-1))
    ce = _torch_loss(capped, t, ignore_index=-100, reduction="none")
    rows = oracle.cross_entropy(x, t, ignore_index=-100, z_loss=1e-2, softcap=30.0).astype(np.float64)
    np.testing.assert_allclose(rows, np.where(kept, ce + 1e-2 * lse**2, 0), rtol=1e-13)
    mean = float(oracle.cross_entropy(x, t, ignore_index=-100, z_loss=1e-2, softcap=30.0, reduction="mean"))
    assert mean == pytest.approx(ce.sum() / kept.sum() + 1e-2 * np.sum(lse[kept] ** 2) / kept.sum(), rel=1e-13)


def test_no_option_is_the_plain_form_bit_for_bit():
    rng = np.random.default_rng(2)
    x = rng.normal(0, 3, (4, 9)).astype(np.float32)
    t = rng.integers(0, 9, 4)
    defaults = {"ignore_index": None, "label_smoothing": 0.0, "reduction": "none", "z_loss": 0.0, "softcap": None}
    assert np.array_equal(oracle.cross_entropy(x, t, **defaults), oracle.cross_entropy(x, t))
    assert np.array_equal(bounds.cross_entropy(x, t, "float32", **defaults), bounds.cross_entropy(x, t, "float32"))
    g = np.ones(4)
    assert np.array_equal(vjp.cross_entropy(x, t, g, **defaults), vjp.cross_entropy(x, t, g))


def test_ignored_rows_must_be_exactly_zero_and_their_gradient_too():
    x = np.array([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]], dtype=np.float32)
    t = np.array([2, -100])
    assert bounds.cross_entropy(x, t, "float32", ignore_index=-100)[1] == 0
    assert oracle.cross_entropy(x, t, ignore_index=-100)[1] == 0
    grad = vjp.cross_entropy(x, t, np.ones(2), ignore_index=-100, label_smoothing=0.1)
    assert np.all(grad[1] == 0) and np.all(vjp.cross_entropy_bound(x, t, np.ones(2), "float32", ignore_index=-100)[1] == 0)


# ----------------------------------------------------------------------------- correct targets pass


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize("implementation", ["numpy-reference", "torch-cpu"])
def test_builtins_with_every_option_pass(implementation, dtype):
    adapter = builtin(implementation)
    assert adapter.options["cross_entropy"] == frozenset(CROSS_ENTROPY_OPTIONS)
    outcome = _run("cross_entropy_options", adapter, dtype, shrink=True)
    assert outcome.status == PASS, outcome.report()
    if implementation == "torch-cpu":
        outcome = _run("grad_cross_entropy_options", adapter, dtype, examples=20, shrink=True)
        assert outcome.status == PASS, outcome.report()


def test_a_target_without_options_is_skipped_with_the_reason():
    outcome = _run("cross_entropy_options", builtin("scipy"), "float32")
    assert outcome.status == SKIP and "declares no option" in outcome.message and "plain form" in outcome.message


def test_an_unknown_option_is_a_usage_error():
    def cross_entropy(logits, targets, **options):
        return logits[:, 0]

    cross_entropy.supports = {"ignore_index", "focal_gamma"}
    with pytest.raises(UsageError, match="focal_gamma"):
        wrap_callable(cross_entropy, "tests:cross_entropy", "cross_entropy")


# ----------------------------------------------------------------------------- mutants fail


def _reference(logits, targets, **options):
    from implementations.numpy_reference import cross_entropy

    return cross_entropy(logits, targets, **options)


def smoothing_without_the_share(logits, targets, label_smoothing=0.0, reduction="none"):
    """Label smoothing whose uniform term is not divided by K: (1 - e) nll + e sum_j (LSE - x_j)."""
    w = logits.astype(np.float64)
    lse = np.log(np.sum(np.exp(w - w.max(-1, keepdims=True)), axis=-1)) + w.max(-1)
    nll = lse - np.take_along_axis(w, np.asarray(targets)[:, None].astype(np.int64), -1)[:, 0]
    rows = (1 - label_smoothing) * nll + label_smoothing * np.sum(lse[:, None] - w, axis=-1)
    out = rows if reduction == "none" else np.asarray(rows.mean() if reduction == "mean" else rows.sum())
    return out.astype(logits.dtype)


def z_loss_unsquared(logits, targets, z_loss=0.0, reduction="none"):
    """z-loss without the square: z LSE added where z LSE^2 belongs."""
    plain = _reference(logits, targets)
    lse = np.log(np.sum(np.exp(logits.astype(np.float64)), axis=-1))
    rows = plain.astype(np.float64) + z_loss * lse
    out = rows if reduction == "none" else np.asarray(rows.mean() if reduction == "mean" else rows.sum())
    return out.astype(logits.dtype)


def softcap_after_softmax(logits, targets, softcap=None):
    """Soft-capping forgotten: the cap is accepted and never applied."""
    return _reference(logits, targets)


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(lambda: load_target("implementations.broken.ce_ignore_index_in_mean:cross_entropy", "cross_entropy"), id="ignore_index-in-mean"),
        pytest.param(lambda: _numpy_target(smoothing_without_the_share, {"label_smoothing", "reduction"}), id="smoothing-without-eps/K"),
        pytest.param(lambda: _numpy_target(z_loss_unsquared, {"z_loss", "reduction"}), id="z-loss-unsquared"),
        pytest.param(lambda: _numpy_target(softcap_after_softmax, {"softcap"}), id="softcap-ignored"),
    ],
)
def test_option_mutants_fail(target):
    outcome = _run("cross_entropy_options", target(), "float32")
    assert outcome.status == FAIL, outcome.report()
    assert "cross_entropy(x, t, " in outcome.message and "suite error" not in outcome.message, outcome.message


def test_gradient_mutant_scaled_by_all_rows_fails_and_its_value_passes():
    adapter = load_target("implementations.broken.grad_ce_ignored_rows_scale:cross_entropy", "cross_entropy", backend="torch")
    assert _run("cross_entropy_options", adapter, "float64").status == PASS
    outcome = _run("grad_cross_entropy_options", adapter, "float64")
    assert outcome.status == FAIL and "vjp of cross_entropy(x, t, " in outcome.message, outcome.report()


def test_a_failure_repro_rebuilds_the_weights():
    def weight_ignored(logits, targets, weight=None):
        return _reference(logits, targets)

    outcome = _run("cross_entropy_options", _numpy_target(weight_ignored, {"weight"}), "float64", shrink=True)
    assert outcome.status == FAIL
    assert "weight=impl.from_numpy(np.array(" in outcome.repro, outcome.repro


# ----------------------------------------------------------------------------- the certificate


@pytest.mark.parametrize(
    "target, declared",
    [
        ("implementations/numpy_reference.py:cross_entropy", list(CROSS_ENTROPY_OPTIONS)),
        ("implementations/broken/ce_ignore_index_in_mean.py:cross_entropy", ["ignore_index", "reduction"]),
        ("implementations/scipy_special.py:cross_entropy", []),
    ],
)
def test_the_certificate_says_which_options_were_certified(target, declared):
    from suite.certify import Progress, Settings, certify_many, target_request

    request = target_request(target, "cross_entropy", dtypes=("float32",))
    request.properties = ("cross_entropy_options", "definition")
    cert = certify_many([request], Settings(profile="detect", jobs=1), progress=Progress(quiet=True))[0]
    assert cert["options"]["declared"] == declared
    broken = "broken" in target
    assert cert["options"]["certified"] == ([] if broken else declared)
    assert cert["verdict"] == ("not certified" if broken else "certified"), cert["reasons"]
    status = {p["name"]: p["status"] for p in cert["properties"]}
    assert status["cross_entropy_options"] == ("fail" if broken else "pass" if declared else "skipped")
