"""The implementation under test runs in a child process: crashes, hangs, exceptions and wrong
return values become failed properties, and the certification goes on."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from suite.adapter import UsageError
from suite.certify import certify
from suite.isolation import Crashed, TimedOut, WorkerProcess, crash_context

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "tests" / "targets"
BAD = f"{TARGETS / 'bad_targets.py'}"


FEW = ["output_contract", "finite_outputs", "definition", "sums_to_one", "fully_masked_row", "error_profile"]


def run(target, op="softmax", dtypes=("float32",), timeout=60.0, properties=FEW, **kw):
    if properties is FEW:
        from suite.properties import all_properties

        properties = [p for p in FEW if p == "error_profile" or op in all_properties()[p].ops]
    return certify(f"{BAD}:{target}", op, dtypes=list(dtypes), timeout=timeout, jobs=1, properties=properties, **kw)


def outcome(cert, prop, dtype="float32"):
    return next(p for p in cert["properties"] if p["name"] == prop)["dtypes"][dtype]


def statuses(cert):
    return {p["name"]: p["status"] for p in cert["properties"]}


def test_segfault_is_a_failed_property_with_the_input():
    cert = run("segfault")
    assert not cert["certified"]
    o = outcome(cert, "output_contract")
    assert o["status"] == "fail" and o["failure_kind"] == "crash"
    assert "crashed with signal SIGSEGV" in o["message"]
    assert o["counterexample"]["x"].startswith("np.array(")
    assert "load_target(" in o["repro"]
    # the certification went on: every property was attempted in a fresh child
    crashed = [p for p in cert["properties"] if p["dtypes"] and p["dtypes"]["float32"].get("failure_kind") == "crash"]
    assert len(crashed) == len(FEW) - 1
    assert cert["accuracy"]["float32"]["failure_kind"] == "crash"


def test_abort_is_reported_as_sigabrt():
    cert = run("abort", op="logsumexp")
    o = outcome(cert, "output_contract")
    assert "SIGABRT" in o["message"] and o["failure_kind"] == "crash"
    assert "Fatal Python error" in o["got"]


def test_hang_times_out_and_stops_after_three():
    cert = run("hang", timeout=4, properties=None)
    assert not cert["certified"]
    o = outcome(cert, "output_contract")
    assert o["failure_kind"] == "timeout" and "timed out after 4s" in o["message"]
    assert o["counterexample"]  # the call that hung
    reasons = [p["dtypes"]["float32"]["message"] for p in cert["properties"] if p["status"] == "skipped" and p["dtypes"]]
    assert reasons and all("already hung" in r for r in reasons)


def test_raising_is_a_failure_with_a_shrunk_counterexample():
    cert = run("raises")
    o = outcome(cert, "output_contract")
    assert o["status"] == "fail" and "raised RuntimeError" in o["message"]
    assert o["counterexample"]["shape"] == "(1,)"  # shrunk to the smallest input
    assert o["failure_kind"] == "property"


def test_returning_a_list_is_a_failure():
    cert = run("returns_list")
    o = outcome(cert, "output_contract")
    assert o["status"] == "fail" and "returned list" in o["message"] and "numpy.ndarray" in o["message"]


def test_wrong_shape_is_a_failure():
    cert = run("wrong_shape")
    o = outcome(cert, "output_contract")
    assert o["status"] == "fail" and "out.shape" in o["message"]
    assert o["expected"] and o["got"]


def test_crash_on_some_inputs_leaves_other_properties_running():
    cert = run("crash_on_large", dtypes=("float64",))
    st = statuses(cert)
    assert "fail" in st.values() and ({"pass", "implementation-defined"} & set(st.values())), st
    crashed = [p for p in cert["properties"] if p["status"] == "fail" and p["dtypes"]["float64"].get("failure_kind") == "crash"]
    assert crashed
    assert not cert["certified"]


def test_printing_target_does_not_corrupt_the_protocol():
    cert = run("chatty", op="softmax", dtypes=("float64",))
    assert cert["certified"], cert["reasons"]


def test_module_crashing_on_import_is_not_certified():
    cert = certify(f"{TARGETS / 'import_crash.py'}:softmax", "softmax", dtypes=["float32"], jobs=1, properties=FEW)
    assert not cert["certified"]
    assert cert["load_error"] and "SIGSEGV" in cert["load_error"]["message"]


def test_not_callable_and_missing_attribute_are_usage_errors():
    with pytest.raises(UsageError, match="not callable"):
        run("NOT_CALLABLE")
    with pytest.raises(UsageError, match="no attribute"):
        run("does_not_exist")


def test_worker_process_reports_crash_and_timeout_and_restarts():
    worker = WorkerProcess(str(ROOT))
    try:
        desc = {"target": f"{BAD}:segfault", "op": "softmax", "backend": "numpy", "device": "cpu"}
        assert worker.request({"cmd": "load", "adapter": desc}, 60)["ok"]
        with pytest.raises(Crashed, match="SIGSEGV"):
            worker.request({"cmd": "accuracy", "adapter": desc, "op": "softmax", "dtype": "float32", "seed": 0}, 60)
        hang = {"target": f"{BAD}:hang", "op": "softmax", "backend": "numpy", "device": "cpu"}
        assert worker.request({"cmd": "load", "adapter": hang}, 60)["ok"]  # a fresh child
        with pytest.raises(TimedOut):
            worker.request({"cmd": "accuracy", "adapter": hang, "op": "softmax", "dtype": "float32", "seed": 0}, 1.0)
        assert not worker.alive
        assert worker.request({"cmd": "ping"}, 60) == {"ok": True}
    finally:
        worker.close()


def test_crash_context_reads_faulthandler():
    text = 'Fatal Python error: Segmentation fault\n\nCurrent thread 0x1 (most recent call first):\n  File "/t.py", line 3 in f\n  File "x"\n'
    assert crash_context(text) == 'Fatal Python error: Segmentation fault; at File "/t.py", line 3 in f'


def test_a_crash_is_shrunk_in_fresh_workers_and_the_other_properties_report_their_own_results():
    """aborts_on_width_one kills its process on any 2-D input with one class (as mlx.nn.log_softmax
    segfaults there). The first crash is shrunk, by re-running smaller calls in fresh workers, to
    one entry; the other properties then skip inputs of that shape and pass on the rest."""
    props = ["output_contract", "finite_outputs", "sums_to_one", "in_unit_interval", "definition"]
    cert = run("aborts_on_width_one", properties=props)
    crashed = [p["name"] for p in cert["properties"] if p["status"] == "fail"]
    assert len(crashed) == 1, statuses(cert)
    o = outcome(cert, crashed[0])
    assert o["failure_kind"] == "crash" and "shrunk to this minimal crashing input" in o["message"]
    assert o["counterexample"]["x"] == "np.array([[0.]], dtype=np.float32)"
    assert "skip inputs of rank 2 with 1 entries along the reduced axis, float32" in o["message"]
    others = [p for p in cert["properties"] if p["name"] != crashed[0]]
    assert others and all(p["status"] == "pass" for p in others), statuses(cert)


def test_a_crash_signature_is_widened_to_every_rank_and_dtype_it_crashes_in():
    """aborts_on_reduced_length_one crashes on any input of rank >= 2 whose reduced axis has length 1,
    in any dtype (as MLX's log_softmax): the minimal crash is probed in the other dtypes and with an axis
    of length 1 more and fewer, its signature says "rank 2 or more ... any dtype", and the other
    properties, which draw such inputs in other ranks, dtypes and axes, skip them and pass."""
    props = ["output_contract", "sums_to_one", "definition", "axis_honoured", "batch_independence"]
    cert = run("aborts_on_reduced_length_one", dtypes=("float32", "float64"), properties=props)
    crashed = [(p["name"], d) for p in cert["properties"] for d, o in p["dtypes"].items() if o["status"] == "fail"]
    assert len(crashed) == 1, statuses(cert)
    o = outcome(cert, *crashed[0])
    assert "skip inputs of rank 2 or more with 1 entries along the reduced axis, any dtype" in o["message"], o["message"]
    others = [p for p in cert["properties"] if p["name"] != crashed[0][0]]
    assert others and all(p["status"] == "pass" for p in others), statuses(cert)


def test_a_library_column_runs_in_a_worker_of_its_own(monkeypatch):
    """Paddle segfaults when imported after TensorFlow in one process: a worker that has loaded any
    other adapter is replaced by a fresh one before it loads a library's column (Adapter.own_worker),
    and after it; adapters that share a process still do. scipy stands in for a library here, since
    CI installs none."""
    from suite import isolation
    from suite.adapter import builtin
    from suite.isolation import Pool, Unit

    assert builtin("tensorflow").own_worker and builtin("mlx").own_worker and not builtin("scipy").own_worker
    monkeypatch.setattr(isolation, "_needs_own_worker", lambda key: '"scipy"' in key)
    pool = Pool(jobs=1, timeout=120)
    try:
        pids = []
        for name in ("numpy-reference", "numba-fused", "scipy", "numpy-reference"):
            pool.run([Unit("load", {"builtin": name}, op="softmax", label=name)])
            (worker,) = pool._idle
            pids.append(worker.proc.pid)
    finally:
        pool.close()
    assert pids[0] == pids[1], "two of the suite's own adapters share a worker"
    assert pids[2] != pids[1], "a library's column got a fresh worker"
    assert pids[3] != pids[2], "and the next adapter got a fresh one after it"


def test_a_crashing_call_travels_to_a_fresh_worker_in_every_dtype():
    """The crash shrinker sends each candidate call to a fresh worker as an .npz; bfloat16 (which .npz
    cannot name) arrives as bfloat16, so a bfloat16 crash is shrunk and probed like any other."""
    import ml_dtypes

    from suite.crash_shrink import decode, encode

    x = np.array([[1.5, -2.0, np.inf]], dtype=ml_dtypes.bfloat16)
    back = decode(encode([x, 2.0, np.array([1, 2], dtype=np.int32)]))
    assert back[0].dtype == x.dtype and back[0].tobytes() == x.tobytes()
    assert back[1] == 2.0 and back[2].dtype == np.int32
