"""Defects this suite found in real libraries, for the published matrix's "Bugs found".

Each record is a minimal repro in the library's own public API (``code`` sets
``got``) and the exact answer from the suite's oracle (``exact`` sets
``exact``), both run again whenever the section is written
(:func:`bugs_section`), so the page says what the installed version does now;
a library that is not installed here keeps the versions it was last seen with.
``link`` is a public report of the same defect, or None when the trackers were
searched and none was found (``searched`` says where and when).

Add a defect here when the battery or a certification finds one, with the
minimal input it shrank to.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np


# An ONNX model of one node, run on ONNX Runtime's CPU provider, as ONNX Runtime's docs build one.
ORT_ONE_NODE = """from onnx import TensorProto, helper
import onnxruntime as ort

def run(op, x, **attrs):
    kind = {np.dtype("float32"): TensorProto.FLOAT, np.dtype("float64"): TensorProto.DOUBLE}[x.dtype]
    axes = op == "ReduceLogSumExp"  # its axes are an input since opset 18
    node = helper.make_node(op, ["x", "axes"] if axes else ["x"], ["y"], **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", kind, list(x.shape))],
                              [helper.make_tensor_value_info("y", kind, None)],
                              [helper.make_tensor("axes", TensorProto.INT64, [1], [-1])] if axes else [])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 26)], ir_version=13)
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]

"""


@dataclass(frozen=True)
class Bug:
    key: str
    library: str  # the import name whose version is reported
    title: str
    code: str  # sets ``got``: the library's own public API on the minimal input
    exact: str  # sets ``exact``: suite.oracle on the same input (long double or mpmath)
    found_by: str  # the property and regime that found it
    seen_with: str  # versions it was last seen with
    link: str | None = None
    searched: str = ""  # where the trackers were searched, or what the linked report says
    rtol: float = 1e-3  # got within rtol of exact: fixed (a sampler's noise needs more)


BUGS = [
    Bug(
        key="xla-fused-temperature-softmax-nan",
        library="jax",
        title="jax.jit(lambda x, t: jax.nn.softmax(x / t)) returns NaN for logits near the float32 maximum "
        "(XLA on the CPU fuses the division into the max and exp of softmax); x / t is finite and the answer uniform",
        code=(
            "import jax\n"
            "x = np.full((64,), 3.36879526214505e38, dtype=np.float32)\n"
            "got = np.asarray(jax.jit(lambda x, t: jax.nn.softmax(x / t))(x, 1.984375))"
        ),
        exact=(
            "from suite import oracle\n"
            "exact = oracle.temperature_softmax(np.full((64,), 3.36879526214505e38, dtype=np.float32), 1.984375)"
        ),
        found_by="definition and finite_outputs, temperature_softmax, float32 and float64, regime 'extreme'",
        seen_with="jax 0.10.2, jaxlib 0.10.2 (CPU)",
        link="https://github.com/openxla/xla/pull/44738",
        searched="the XLA pull request for jax-ml/jax#38609 (closed, not merged): XLA recomputes x * (1/t) in both "
        "softmax fusions and the rounding residual overflows exp",
    ),
    Bug(
        key="jax-categorical-bfloat16-bias",
        library="jax",
        title="jax.random.categorical on bfloat16 logits draws bfloat16 Gumbel noise (7 random mantissa bits, "
        "bounded at 4.85): category 1 of [0, -6] (p = 0.00247) is drawn at about 72% of its rate",
        code=(
            "import jax, ml_dtypes\n"
            "s = np.asarray(jax.random.categorical(jax.random.key(0), np.array([0., -6.], dtype=ml_dtypes.bfloat16), shape=(10**6,)))\n"
            "got = np.array((s == 1).mean())"
        ),
        exact="exact = np.array(1.0 / (1.0 + np.exp(6.0)))  # softmax([0, -6])[1], in float64",
        found_by="gumbel_max_distribution, gumbel_max, bfloat16 (chi-square, false-alarm rate 1e-7)",
        seen_with="jax 0.10.2 (CPU)",
        link="https://github.com/jax-ml/jax/issues/30879",
        searched="a related report (bfloat16 and float32 logits draw different categories, closed); the bias in "
        "the rates is not in it. jax-ml/jax#26974 (open) would sample the uniform more finely",
        rtol=0.1,  # 5 standard errors of 10**6 draws at p = 0.00247: sampling noise is not a reproduction
    ),
    Bug(
        key="onnxruntime-reducelogsumexp-leading-neginf",
        library="onnxruntime",
        title="ONNX Runtime ReduceLogSumExp on a 2-D input skips the max shift when a row's first entry is -inf: "
        "[[-inf, -800.]] (float64) gives -inf, [[-inf, -96.]] (float32) gives -96.0003; the same row in 1-D is right",
        code=ORT_ONE_NODE + 'got = run("ReduceLogSumExp", np.array([[-np.inf, -800.]]), keepdims=0)',
        exact="from suite import oracle\nexact = oracle.logsumexp(np.array([[-np.inf, -800.]]))",
        found_by="masked_entries (also lse_all_masked, lse_bounds, shift_invariance), logsumexp, float32 and float64",
        seen_with="onnxruntime 1.30.0, onnx 1.23.2 (CPU provider, opset 26)",
        searched="microsoft/onnxruntime, 2026-12-03: no report of this case; related: #28461 (NaN for an all -inf "
        "input, closed) and #5583 (-inf handling restored, 2020)",
    ),
    Bug(
        key="onnxruntime-logsoftmax-nan-positive",
        library="onnxruntime",
        title="ONNX Runtime float64 LogSoftmax of [0, nan] gives [46.05, nan]: a positive log-probability, log(1e20), "
        "from a swallowed NaN; SoftmaxCrossEntropyLoss on the same row gives the negative loss -46.05",
        code=ORT_ONE_NODE + 'got = run("LogSoftmax", np.array([[0., np.nan]]), axis=-1)',
        exact="exact = np.array([[np.nan, np.nan]])  # a NaN logit makes the whole row NaN",
        found_by="nan_propagation, log_softmax and cross_entropy, float64",
        seen_with="onnxruntime 1.30.0, onnx 1.23.2 (CPU provider, opset 26)",
        searched="microsoft/onnxruntime issues for LogSoftmax / SoftmaxCrossEntropyLoss with NaN input, 2026-12-03: none found",
    ),
    Bug(
        key="tensorflow-softmax-nan-dropped",
        library="tensorflow",
        title="TensorFlow tf.nn.softmax (float32, bfloat16; the oneDNN CPU kernel) of [0, nan] gives [0, nan]: the "
        "finite entry gets probability 0 instead of NaN, so the row no longer shows that it was poisoned",
        code="import tensorflow as tf\ngot = tf.nn.softmax(tf.constant([[0., np.nan]], dtype=tf.float32)).numpy()",
        exact="exact = np.array([[np.nan, np.nan]], dtype=np.float32)  # a NaN logit makes the whole row NaN",
        found_by="nan_propagation, softmax and temperature_softmax, float32 and bfloat16",
        seen_with="tensorflow-cpu 2.21.0",
        searched="tensorflow/tensorflow issues for softmax NaN propagation on the CPU, 2026-12-03: none found",
    ),
    Bug(
        key="mlx-log-softmax-length-one-axis-segfault",
        library="mlx.core",
        title="MLX mlx.nn.log_softmax (a shapeless mx.compile) kills the process with SIGSEGV on an input of two or more "
        "dimensions whose reduced axis has length 1, e.g. [[0.]] (the answer is [[0.]]); 1-D [0.] is right "
        "(got is NaN when the repro's child process died)",
        code=(
            "import json, subprocess, sys\n"
            "child = 'import json, numpy as np, mlx.core as mx, mlx.nn as nn; print(json.dumps(np.array(nn.log_softmax(mx.array([[0.]]), axis=-1)).tolist()))'\n"
            "run = subprocess.run([sys.executable, '-c', child], capture_output=True, text=True, timeout=120)\n"
            "got = np.array(json.loads(run.stdout)) if run.returncode == 0 else np.array([[np.nan]])  # -11: SIGSEGV"
        ),
        exact="from suite import oracle\nexact = oracle.log_softmax(np.array([[0.]], dtype=np.float32))",
        found_by="every property of log_softmax that draws such a shape (output_contract shrinks to [[[0.]]]), every dtype",
        seen_with="mlx 0.32.4 (Linux CPU build, mlx[cpu])",
        searched="ml-explore/mlx issues and pull requests, 2026-12-03: no report of this crash; related: #3201 and #3672 "
        "(shapeless compile and reductions over size-1 dimensions)",
    ),
    Bug(
        key="mlx-float64-exp-in-float32",
        library="mlx.core",
        title="MLX on the CPU computes float64 exp with its float32 approximation, so float64 mx.softmax, mx.logsumexp, "
        "mlx.nn.log_softmax and cross_entropy are only float32-accurate: logsumexp([0., -0.653191]) gives 0.41896204183 for "
        "0.41896200300 (a relative error of 9e-8, 4e8 float64 ULP)",
        code=(
            "import mlx.core as mx\n"
            "got = np.array(mx.logsumexp(mx.array(np.array([0., -0.653191]), dtype=mx.float64)))"
        ),
        exact="from suite import oracle\nexact = oracle.logsumexp(np.array([0., -0.653191]))",
        found_by="definition and the accuracy properties, softmax, log_softmax, logsumexp, cross_entropy, temperature_softmax, float64",
        seen_with="mlx 0.32.4 (Linux CPU build, mlx[cpu])",
        link="https://github.com/ml-explore/mlx/issues/3047",
        searched="open (low priority): exp, sin, cos, erf, erfinv use the fp32 approximation for double on the CPU; "
        "#4158 (closed) and pull requests #3740 and #4182 (closed) would have fixed exp",
        rtol=1e-12,  # float32 accuracy is the defect: 1e-3 would call it fixed
    ),
    Bug(
        key="mlx-log-softmax-empty-axis-after-another-shape",
        library="mlx.core",
        title="MLX mlx.nn.log_softmax (a shapeless mx.compile) of a (2, 0) input after a call on a 2-D input of another "
        "shape returns a (2, 1) array of NaN: the graph traced for the other shape is replayed; as the first call it raises "
        "ValueError ([max] Cannot max reduce over axis 1 with size 0). Under mx.stream(mx.cpu), with the first result "
        "converted by np.array, evaluating it hung (got and exact are the shapes)",
        code=(
            "import mlx.core as mx, mlx.nn as nn\n"
            "mx.eval(nn.log_softmax(mx.zeros((2, 3))))\n"
            "got = np.array(nn.log_softmax(mx.zeros((2, 0))).shape)  # [[nan], [nan]] when evaluated"
        ),
        exact="from suite import oracle\nexact = np.array(oracle.log_softmax(np.zeros((2, 0), dtype=np.float32)).shape)",
        found_by="empty_axis, log_softmax, every dtype (after the probes' 2-D calls in the same worker; a 180 s hang in "
        "float32 with the adapter's first version, which pinned the CPU with mx.stream(mx.cpu))",
        seen_with="mlx 0.32.4 (Linux CPU build, mlx[cpu])",
        searched="ml-explore/mlx issues and pull requests, 2026-12-03: none found; related: #3201 (shapeless compile "
        "replays a stale reduction)",
    ),
]


def _run(code: str, name: str):
    scope: dict = {"np": np}
    exec(code, scope)  # noqa: S102 - the suite's own repro snippets, listed above
    return scope[name]


def _version(library: str) -> str | None:
    try:
        module = importlib.import_module(library)
    except Exception:  # noqa: BLE001 - a library that is not installed here
        return None
    return getattr(module, "__version__", "unknown")


def check(bug: Bug) -> dict:
    """Run the repro and the oracle now: {"version", "got", "exact", "reproduces"} (or "error")."""
    version = _version(bug.library)
    if version is None:
        return {"version": None}
    try:
        got, exact = np.asarray(_run(bug.code, "got")), np.asarray(_run(bug.exact, "exact"))
    except Exception as exc:  # noqa: BLE001 - a repro that no longer runs is reported, not fatal
        return {"version": version, "error": f"{type(exc).__name__}: {exc}"}
    same = got.shape == exact.shape and np.allclose(got.astype(np.float64), exact.astype(np.float64), rtol=bug.rtol, equal_nan=True)
    return {"version": version, "got": got, "exact": exact, "reproduces": not same}


def _short(a: np.ndarray) -> str:
    flat = a.reshape(-1)
    shown = np.array2string(flat[:4].astype(np.float64), precision=6, separator=", ")
    return shown if flat.size <= 4 else f"{shown[:-1]}, ...] ({flat.size} entries)"


def bugs_section(bugs=BUGS) -> str:
    """The "Bugs found" section in Markdown, each repro run again here."""
    lines = ["## Bugs found", "", "Each repro is the library's own public API on the minimal input the suite shrank to; "
             "*exact* is the suite's extended-precision oracle on the same input. Both ran when this page was written.", ""]
    for bug in bugs:
        now = check(bug)
        if now.get("version") is None:
            status = f"not re-run here ({bug.library} is not installed); seen with {bug.seen_with}"
        elif "error" in now:
            status = f"{bug.library} {now['version']}: the repro no longer runs ({now['error']})"
        else:
            state = "reproduces" if now["reproduces"] else "no longer reproduces"
            status = f"{state} with {bug.library} {now['version']}: got {_short(now['got'])}, exact {_short(now['exact'])}"
        link = f"public report: {bug.link} ({bug.searched})" if bug.link else f"no public report found ({bug.searched})"
        lines += [
            f"### {bug.title}", "",
            f"- found by: {bug.found_by}",
            f"- {status}",
            f"- {link}",
            "", "```python", "import numpy as np", bug.code, "```", "",
        ]
    return "\n".join(lines)
