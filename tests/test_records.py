"""The declarative records (one per op, one per backend), the typed worker replies and the
settings object: what every dispatcher reads must agree with what the implementations do."""
from __future__ import annotations

import inspect
import subprocess
import sys

import numpy as np
import pytest

from suite import backends
from suite.adapter import BACKEND_GLUE, builtin, builtin_adapters
from suite.cases import Case
from suite.certify import Settings, settings_from
from suite.isolation import (
    CRASHED,
    DONE,
    NOT_RUN,
    SUITE_ERROR,
    TIMED_OUT,
    USAGE_ERROR,
    Crashed,
    Reply,
    Result,
    TimedOut,
    Unit,
    outcome_of,
)
from suite.ops import DETERMINISTIC_OPS, OPS, SAMPLER_OPS
from suite.properties import all_properties
from suite.timing import BASELINES

X = np.array([[0.5, -1.0, 2.0], [3.0, 3.0, -np.inf]])
VALUES = {"targets": np.array([2, 0]), "temperature": 0.7}


@pytest.mark.parametrize("op", DETERMINISTIC_OPS)
def test_a_record_lays_out_the_call_the_reference_takes_and_predicts_its_output_shape(op):
    """The record's inputs, axis and output rule agree with numpy-reference and the oracle."""
    record = OPS[op]
    args, kwargs = record.arguments(X, -1, **VALUES)
    out = builtin("numpy-reference").ops[op](*args, **kwargs)
    assert out.shape == record.output_shape(X.shape, -1) == record.oracle(*args, **kwargs).shape
    assert record.bound(*args, dtype="float32", **kwargs).shape == out.shape
    again, again_kwargs = Case.from_call(op, args, kwargs).args()  # the inverse of arguments()
    assert again_kwargs == kwargs and len(again) == len(args)
    assert all(a is b for a, b in zip(again, args))


@pytest.mark.parametrize("op", list(OPS))
def test_a_record_names_the_inputs_of_the_contract_in_order(op):
    """The record's inputs are the parameters of the contract's signature and of numpy-reference's function."""
    record = OPS[op]
    names = list(inspect.signature(builtin("numpy-reference").ops[op]).parameters)
    assert names[: len(record.inputs)] == list(record.inputs)
    assert ("axis" in names) == record.takes_axis
    assert record.signature.startswith(f"{op}({', '.join(record.inputs)}")


@pytest.mark.parametrize("op", DETERMINISTIC_OPS)
def test_a_record_with_a_vjp_has_the_closed_form_of_the_reference_gradient(op):
    """The record's VJP is the gradient: a central difference of the oracle in long double agrees."""
    record = OPS[op]
    args, kwargs = record.arguments(X[:, :2].copy() + 0.0, -1, **(VALUES | {"targets": np.array([1, 0])}))
    g = np.ones(record.output_shape(args[0].shape, -1))
    grad = record.vjp(*args, g, **kwargs).astype(np.float64)
    h = 1e-6
    for index in np.ndindex(args[0].shape):
        up, down = args[0].astype(np.longdouble), args[0].astype(np.longdouble)
        up[index] += h
        down[index] -= h
        f_up = np.sum(record.oracle(up, *args[1:], **kwargs) * g)
        f_down = np.sum(record.oracle(down, *args[1:], **kwargs) * g)
        assert abs(float((f_up - f_down) / (2 * h)) - grad[index]) < 1e-6, (op, index)


def test_the_generic_properties_select_their_ops_from_the_records():
    """Properties whose ops are read from the records cover exactly the ops whose records fit."""
    registry = all_properties()
    assert set(registry["definition"].ops) == set(DETERMINISTIC_OPS)
    assert set(registry["sums_to_one"].ops) == {n for n, o in OPS.items() if "probabilities" in o.traits}
    assert set(registry["normwise_bound"].ops) == {n for n, o in OPS.items() if o.normwise_bound is not None}
    assert set(registry["grad_closed_form"].ops) == {n for n, o in OPS.items() if o.vjp is not None}
    assert set(registry["axis_honoured"].ops) == {n for n, o in OPS.items() if o.deterministic and o.takes_axis}
    assert set(registry["fully_masked_row"].ops) == {n for n, o in OPS.items() if "normalised" in o.traits}
    assert set(SAMPLER_OPS) == {"gumbel_max", "gumbel_softmax"}


def test_every_adapter_has_a_backend_record_and_each_device_a_glue_module_and_baseline():
    records = backends.all_backends()
    assert {a.backend for a in builtin_adapters()} <= set(records)
    assert set(BACKEND_GLUE) == set(BASELINES)
    for (backend, device), module in BACKEND_GLUE.items():
        assert module.startswith("implementations.") and BASELINES[backend, device]
    assert records["jax"].compiles_per_shape and not records["torch"].compiles_per_shape
    assert records["torch"].differentiable and records["jax"].differentiable and not records["numpy"].differentiable


def test_a_built_in_adapter_takes_its_conversions_from_its_backend_record():
    reference = builtin("numpy-reference")
    a = np.arange(3.0)
    copy = reference.from_numpy(a)
    assert copy is not a and np.array_equal(copy, a) and reference.is_native(np.float32(1))
    assert reference.native_type == backends.get("numpy").conversions("cpu").native_type
    assert builtin("torch-cpu").native_type == "torch.Tensor" and builtin("jax").native_type == "jax.Array"
    assert builtin("jax").layouts == {} and "transposed view" in builtin("torch-cpu").layouts


def test_a_built_in_jax_adapter_converts_float64_as_float64_from_its_first_use():
    """x64 is a process-wide JAX switch the built-ins turn on; converted before it, a float64 array
    arrives as float32 (grad_cross_backend in a torch worker met the jax adapter that way)."""
    code = ("import numpy as np; from suite.adapter import builtin; "
            "print(*(builtin(n).from_numpy(np.ones(3)).dtype for n in ('jax', 'jax-workarounds')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["float64", "float64"]


def test_an_unknown_backend_is_named_with_the_known_ones():
    with pytest.raises(ValueError, match="numpy, torch, jax"):
        backends.get("tensorflow")


UNIT = Unit("property", {"builtin": "numpy-reference"}, op="softmax", property="definition", dtype="float32")


@pytest.mark.parametrize(
    "raw, kind",
    [
        ({"ok": True, "outcome": {"status": "pass"}}, DONE),
        ({"usage_error": "bad dtype"}, USAGE_ERROR),
        ({"error": "KeyError: x", "traceback": "tb"}, SUITE_ERROR),
    ],
)
def test_a_worker_reply_is_decoded_once_into_one_kind(raw, kind):
    reply = Reply.decode(raw)
    assert reply.kind == kind and reply.ok == (kind == DONE) and not reply.worker_failed


def test_the_named_outcomes_of_a_unit_that_produced_none():
    """Not run, crashed, timed out and a suite error each give the outcome the verdict reads."""
    crash = Crashed("crashed (SIGSEGV)")
    hang = TimedOut("timed out after 4s")
    assert Result(UNIT, Reply.crashed(crash), 0.1).failure_kind == CRASHED
    assert Result(UNIT, Reply.timed_out(hang), 0.1).failure_kind == TIMED_OUT
    assert Reply.not_run("hung 3 times").kind == NOT_RUN and Result(UNIT, Reply.not_run("hung 3 times"), 0.0).failure_kind == ""
    skipped = outcome_of(Result(UNIT, Reply.not_run("hung 3 times"), 0.0), "impl")
    assert skipped["status"] == "skipped" and skipped["message"] == "hung 3 times" and "failure_kind" not in skipped
    crashed = outcome_of(Result(UNIT, Reply.crashed(crash), 0.1), "impl")
    assert crashed["status"] == "fail" and crashed["failure_kind"] == "crash" and "SIGSEGV" in crashed["message"]
    hung = outcome_of(Result(UNIT, Reply.timed_out(hang), 0.1), "impl")
    assert hung["failure_kind"] == "timeout" and hung["expected"] == "a return value within the timeout"
    ours = outcome_of(Result(UNIT, Reply.decode({"error": "KeyError: x", "traceback": "tb"}), 0.1), "impl")
    assert ours["status"] == "suite error" and ours["failure_kind"] == "suite-error" and ours["message"] == "suite error KeyError: x\ntb"
    failed = outcome_of(Result(UNIT, Reply.decode({"ok": True, "outcome": {"status": "fail", "message": "out=1"}}), 0.1), "impl")
    assert failed["failure_kind"] == "property"


def test_settings_are_one_keyword_only_object_that_keywords_override():
    with pytest.raises(TypeError):
        Settings("ci")  # keyword-only
    base = Settings(profile="thorough", jobs=2)
    assert settings_from(base, {"jobs": 1}) == Settings(profile="thorough", jobs=1)
    assert settings_from(None, {}) == Settings()
    with pytest.raises(TypeError):
        settings_from(None, {"job": 1})  # a misspelt option is an error, not ignored
    assert Settings().checked().timeout == 180.0


def test_every_mathematics_a_record_names_exists_and_the_records_import_none_of_it():
    """The records name their oracle, bounds and VJPs lazily (suite/ops.py): each name resolves,
    and importing the records imports no mathematics (the pytest plugin reads them in every session)."""
    import importlib

    for record in OPS.values():
        for fn in (record.oracle, record.bound, record.normwise_bound, record.vjp, record.vjp_bound):
            if fn is not None:
                module, name = fn.__name__.split(".")
                assert callable(getattr(importlib.import_module(f"suite.{module}"), name)), fn.__name__
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, suite.ops, suite.pytest_plugin; print(sorted(m for m in sys.modules if m.startswith('suite')))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert loaded == "['suite', 'suite.ops', 'suite.pytest_plugin']"
