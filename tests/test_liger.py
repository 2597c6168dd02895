"""The liger-kernel column (implementations/liger_kernel_ops.py, optional extra ``liger``): Liger-Kernel's
Triton softmax and cross-entropy, under Triton's interpreter without a GPU.

Skipped with the reason (which names the extra) where liger-kernel, triton or torch is absent, as in CI
(``.[all]`` leaves the extra out; tests/test_libraries.py checks that reason). Where it is installed: the defects found (suite/bugs_found.py) are
reproduced by direct calls in Liger's own API, in one fresh process (TRITON_INTERPRET must be set before
Triton is imported), each skipping once a release fixes it; and a certification at a bounded cost
(float32, profile detect, four properties: about a minute on 2 busy cores) rejects each where its
property aims, while the cross-entropy options it declares pass."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from suite import oracle
from suite.adapter import builtin
from suite.certify import builtin_request, certify_many
from suite.runner import FAIL, PASS

ADAPTER = builtin("liger-kernel")
MISSING = ADAPTER.unavailable_reason()
needs_liger = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")


def test_the_column_declares_its_ops_dtypes_and_options():
    assert set(ADAPTER.ops) == {"softmax", "cross_entropy"} and ADAPTER.differentiable and ADAPTER.own_worker
    declared = ADAPTER.options["cross_entropy"]
    assert {"ignore_index", "label_smoothing", "weight", "reduction", "z_loss"} <= declared
    if ADAPTER.device == "triton-interpret":  # libdevice's tanh is not interpreted: softcap on cuda only
        assert "softcap" not in declared and "bfloat16" not in ADAPTER.dtypes


# Every defect of suite/bugs_found.py's liger-* records, with the details the records leave out, in one
# process: {name: what it observed}. Set before anything imports triton, as the interpreter needs.
PROBE = textwrap.dedent("""
    import json, torch
    from liger_kernel.ops.cross_entropy import LigerCrossEntropyFunction as CE
    from liger_kernel.ops.softmax import LigerSoftmaxFunction
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    seen = {}
    try:
        LigerSoftmaxFunction.apply(torch.zeros(1, 65537, device=dev))
        seen["wide_softmax"] = "ran"
    except RuntimeError as exc:
        seen["wide_softmax"] = str(exc)
    seen["softmax_65536_sums_to"] = LigerSoftmaxFunction.apply(torch.zeros(1, 65536, device=dev)).sum().item()
    leaf = torch.tensor([[1., 4.], [2., 5.], [3., 6.]], device=dev, requires_grad=True)
    for reduction in ("sum", "none"):
        loss = CE.apply(leaf.t(), torch.tensor([0, 1], device=dev), None, -100, 0.0, 0.0, reduction, None)[0]
        g = torch.autograd.grad(loss, leaf, torch.full_like(loss, 2.0) if reduction == "none" else None)[0]
        seen[f"transposed_grad_{reduction}"] = g.cpu().tolist()
    c = leaf.detach().t().contiguous().requires_grad_(True)
    seen["contiguous_grad"] = torch.autograd.grad(CE.apply(c, torch.tensor([0, 1], device=dev), None, -100, 0.0, 0.0, "sum", None)[0], c)[0].cpu().tolist()
    x = torch.full((1, 32769), -float("inf"), device=dev); x[0, -1] = 0.0
    seen["masked_first_block"] = CE.apply(x, torch.tensor([32768], device=dev), None, -100, 0.0, 0.0, "none", None)[0].item()
    seen["masked_one_block"] = CE.apply(x[:, 1:].contiguous(), torch.tensor([32767], device=dev), None, -100, 0.0, 0.0, "none", None)[0].item()
    x = torch.tensor([[1., 2., 3.]], device=dev, requires_grad=True)
    CE.apply(x, torch.tensor([0], device=dev), None, -100, 0.0, 0.0, "none", None)
    seen["tracked_logits_after"] = x.detach().cpu().tolist()
    x = torch.tensor([[1., 2., 3.], [4., 5., 6.]], device=dev)
    loss = CE.apply(x, torch.tensor([-100, 0], device=dev), None, -100, 0.0, 0.0, "mean", None)[0]
    seen["untracked_logits_after_ignore"] = x.cpu().tolist()
    seen["loss_with_ignored_row"] = loss.item()
    x = torch.tensor([[0.1, 0.2, 0.3]], dtype=torch.float64, device=dev)
    seen["float64_loss"] = CE.apply(x, torch.tensor([0], device=dev), None, -100, 0.0, 0.0, "none", None)[0].item()
    seen["float64_softmax"] = LigerSoftmaxFunction.apply(x)[0, 0].item()
    x = torch.tensor([[0., 1.]], dtype=torch.float64, device=dev, requires_grad=True)
    g, = torch.autograd.grad(LigerSoftmaxFunction.apply(x)[0, 0], x, create_graph=True)
    seen["second_order_tracked"] = g.grad_fn is not None
    seen["second_order"] = torch.autograd.grad((g * x).sum(), x)[0].cpu().tolist()
    print(json.dumps(seen))
""")


@pytest.fixture(scope="module")
def seen():
    if MISSING is not None:
        pytest.skip(MISSING)
    env = os.environ | ({"TRITON_INTERPRET": "1"} if ADAPTER.device == "triton-interpret" else {})
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _fixed(bad: bool, what: str):
    if not bad:
        pytest.skip(f"this liger-kernel release {what}: fixed; update this test, suite/bugs_found.py and the README")


def test_liger_softmax_refuses_rows_past_65536(seen):
    _fixed(seen["wide_softmax"] != "ran", "softmaxes a row of 65537 classes")
    assert "n = 65537 exceeds the recommended Triton blocksize = 65536" in seen["wide_softmax"]
    assert seen["softmax_65536_sums_to"] == pytest.approx(1.0, rel=1e-5)


def test_liger_cross_entropy_gradient_of_a_transposed_view_is_the_logits(seen):
    logits = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    got = [list(r) for r in zip(*seen["transposed_grad_sum"])]
    _fixed(got == logits, "gives the gradient of a transposed view")
    assert [list(r) for r in zip(*seen["transposed_grad_none"])] == [[2 * v for v in r] for r in logits]  # times g = 2
    assert seen["contiguous_grad"][0][0] == pytest.approx(-0.909969, abs=1e-5)  # a contiguous copy is right


def test_liger_cross_entropy_is_nan_when_the_first_block_is_masked(seen):
    _fixed(seen["masked_first_block"] != seen["masked_first_block"], "gives a finite loss")
    assert seen["masked_one_block"] == 0.0  # 32768 classes, one block: right


def test_liger_cross_entropy_overwrites_tracked_logits_with_the_gradient(seen):
    after = seen["tracked_logits_after"][0]
    _fixed(after != [1.0, 2.0, 3.0], "leaves tracked logits alone")
    assert after == pytest.approx([-0.909969, 0.244728, 0.665241], abs=1e-5)


def test_liger_cross_entropy_zeroes_ignored_rows_of_untracked_logits(seen):
    after = seen["untracked_logits_after_ignore"]
    _fixed(after[0] != [1.0, 2.0, 3.0], "leaves ignored rows alone")
    assert after == [[0.0, 0.0, 0.0], [4.0, 5.0, 6.0]]
    assert seen["loss_with_ignored_row"] == pytest.approx(2.407606, abs=1e-5)  # the loss itself is right


def test_liger_cross_entropy_computes_float64_in_float32(seen):
    exact = float(oracle.cross_entropy(np.array([[0.1, 0.2, 0.3]]), np.array([0]))[0])
    error = abs(seen["float64_loss"] - exact) / exact
    _fixed(error > 1e-12, "computes float64 losses in float64")
    assert 1e-9 < error < 1e-6  # float32's rounding
    assert seen["float64_softmax"] == pytest.approx(float(oracle.softmax(np.array([0.1, 0.2, 0.3]))[0]), rel=1e-14)  # float64


def test_liger_softmax_drops_second_derivatives(seen):
    _fixed(not seen["second_order_tracked"], "tracks its backward for second derivatives")
    assert seen["second_order"][0] == pytest.approx([0.196612, -0.196612], abs=1e-6)  # the first-order term alone
    # exact: [0.105754, -0.105754] (suite/bugs_found.py, liger-softmax-second-derivative-dropped)


@pytest.fixture(scope="module")
def certificates():
    if MISSING is not None:
        pytest.skip(MISSING)
    plan = [
        ("softmax", ("definition",)),
        ("cross_entropy", ("input_unmodified", "grad_layouts", "cross_entropy_options")),
    ]
    requests = []
    for op, properties in plan:
        request = builtin_request("liger-kernel", op, ["float32"])
        request.properties = properties
        requests.append(request)
    return {c["op"]: c for c in certify_many(requests, profile="detect", seed=0, jobs=2, speed=False)}


def _status(cert: dict, prop: str) -> tuple[str, str]:
    outcome = next(p for p in cert["properties"] if p["name"] == prop)["dtypes"]["float32"]
    return outcome["status"], outcome.get("message", "")


@needs_liger
def test_suite_rejects_liger_softmax_past_65536_classes(certificates):
    cert = certificates["softmax"]
    assert not cert["certified"]
    status, message = _status(cert, "definition")
    assert status == FAIL and "exceeds the recommended Triton blocksize" in message, message


@needs_liger
def test_suite_rejects_liger_cross_entropy_layouts_and_tracked_inputs(certificates):
    cert = certificates["cross_entropy"]
    assert not cert["certified"]
    status, message = _status(cert, "input_unmodified")
    assert status == FAIL and "requires grad" in message, message
    assert _status(cert, "grad_layouts")[0] == FAIL
    assert _status(cert, "cross_entropy_options")[0] == PASS  # the declared options are right
    assert set(cert["options"]["declared"]) == set(ADAPTER.options["cross_entropy"])
