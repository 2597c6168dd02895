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
import shutil
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
    needs: tuple[str, ...] = ()  # programs the library runs (tinygrad's CPU device: clang), looked up on PATH


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
        key="tinygrad-softmax-length-one-nan",
        library="tinygrad",
        title="tinygrad Tensor.softmax of [nan] over an axis of length 1 gives [1.] (log_softmax [0.], the "
        "cross-entropy of [[nan]] -0.): "
        "x - max(x) is taken as 0 when the axis has one entry, which drops a NaN (and makes [inf] give 1); "
        "[0, nan] gives [nan, nan]",
        code='from tinygrad import Tensor\ngot = Tensor(np.array([np.nan], dtype=np.float32), device="CPU").softmax(-1).numpy()',
        exact="exact = np.array([np.nan], dtype=np.float32)  # a NaN logit makes the whole row NaN",
        found_by="nan_propagation, softmax, log_softmax, cross_entropy and temperature_softmax, every dtype",
        seen_with="tinygrad 0.14.0 (CPU device, clang 15.0.6)",
        searched="tinygrad/tinygrad issues and pull requests for softmax NaN on a length-1 axis and for x - x folding, "
        "2026-12-03: none found (related: #4982, 0 * x folding wrong for inf, closed)",
        needs=("clang",),
    ),
    Bug(
        key="tinygrad-logsumexp-infinite-max-nan",
        library="tinygrad",
        title="tinygrad Tensor.logsumexp of a row whose max is infinite is NaN: [-inf, -inf] gives nan (exact -inf), "
        "[0, inf] gives nan (exact inf), in every dtype; the shift by the max is unconditional",
        code='from tinygrad import Tensor\ngot = Tensor(np.array([[-np.inf, -np.inf]], dtype=np.float32), device="CPU").logsumexp(-1).numpy()',
        exact="from suite import oracle\nexact = oracle.logsumexp(np.array([[-np.inf, -np.inf]], dtype=np.float32))",
        found_by="lse_all_masked and lse_posinf, logsumexp, float16, float32 and float64",
        seen_with="tinygrad 0.14.0 (CPU device, clang 15.0.6)",
        link="https://github.com/tinygrad/tinygrad/pull/17822",
        searched="merged 2026-08-28, after 0.14.0: shifts by 0 when the max is not finite, which fixes both cases "
        "(the fully masked one is its stated case)",
        needs=("clang",),
    ),
    Bug(
        key="tinygrad-fused-temperature-softmax-nan",
        library="tinygrad",
        title="tinygrad (Tensor(x) / t).softmax() returns NaN for logits near the float32 maximum: x = [3e38, 3e38], "
        "t = 1.5 gives [nan, nan] although x / t = 2e38 is finite and the answer uniform; t = 2, or x / t realized "
        "first, is right (the division is fused into the softmax's kernels)",
        code=(
            "from tinygrad import Tensor\n"
            'got = (Tensor(np.array([3e38, 3e38], dtype=np.float32), device="CPU") / 1.5).softmax(-1).numpy()'
        ),
        exact="from suite import oracle\nexact = oracle.temperature_softmax(np.array([3e38, 3e38], dtype=np.float32), 1.5)",
        found_by="definition, finite_outputs and shift_invariance, temperature_softmax, float32 and float64",
        seen_with="tinygrad 0.14.0 (CPU device, clang 15.0.6)",
        searched="tinygrad/tinygrad issues for softmax of a scaled input returning NaN, 2026-12-03: none found "
        "(the same class as XLA's, openxla/xla#44738, listed above for jax)",
        needs=("clang",),
    ),
    Bug(
        key="tinygrad-float16-sum-overflow",
        library="tinygrad",
        title="tinygrad float16 Tensor.logsumexp of 65536 zeros gives inf (exact 11.09), and softmax of them 0 "
        "(exact 1/65536), log_softmax -inf: the sum of the exponentials is rounded to float16 and overflows "
        "past 65504, with every output representable",
        code='from tinygrad import Tensor\ngot = Tensor(np.zeros((1, 65536), dtype=np.float16), device="CPU").logsumexp(-1).numpy()',
        exact="from suite import oracle\nexact = oracle.logsumexp(np.zeros((1, 65536), dtype=np.float16))",
        found_by="ulp_accuracy (graded), log_softmax, float16, ties regime: a flat row of 151936 classes gives -inf "
        "throughout; finite_outputs draws no such row and passes (with --classes 65536 too)",
        seen_with="tinygrad 0.14.0 (CPU device, clang 15.0.6)",
        searched="tinygrad/tinygrad issues for float16 softmax / logsumexp overflow, 2026-12-03: none found "
        "(related: #12438, which casts to float before the softmax in tinygrad's own llm.py)",
        needs=("clang",),
    ),
    Bug(
        key="tinygrad-float16-cross-entropy-masked-nan",
        library="tinygrad",
        title="tinygrad float16 Tensor.sparse_categorical_crossentropy(reduction=\"none\") of logits [0, -inf, 1] "
        "with target 0 gives NaN (exact log(1 + e) = 1.3133; float32 gives it): the one-hot product -inf * 0 of the "
        "masked entry",
        code=(
            "from tinygrad import Tensor\n"
            'logits = Tensor(np.array([[0., -np.inf, 1.]], dtype=np.float16), device="CPU")\n'
            'got = logits.sparse_categorical_crossentropy(Tensor(np.array([0]), device="CPU"), reduction="none").numpy()'
        ),
        exact="from suite import oracle\nexact = oracle.cross_entropy(np.array([[0., -np.inf, 1.]], dtype=np.float16), np.array([0]))",
        found_by="definition, normwise_bound and ulp_accuracy (masked regime), cross_entropy, float16 (a row's -inf "
        "entries; whether the product gives NaN depends on the row's shape: some masked rows are right)",
        seen_with="tinygrad 0.14.0 (CPU device, clang 15.0.6)",
        searched="tinygrad/tinygrad issues for sparse_categorical_crossentropy with -inf logits, 2026-12-03: none found",
        needs=("clang",),
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
    version = getattr(module, "__version__", None)
    if version is None:  # tinygrad has no __version__: its distribution's
        from importlib import metadata

        try:
            version = metadata.version(library)
        except metadata.PackageNotFoundError:
            version = "unknown"
    return version


def check(bug: Bug) -> dict:
    """Run the repro and the oracle now: {"version", "got", "exact", "reproduces"} (or "error", or
    "unavailable" when a program the library runs is missing)."""
    version = _version(bug.library)
    if version is None:
        return {"version": None}
    missing = [program for program in bug.needs if shutil.which(program) is None]
    if missing:
        return {"version": version, "unavailable": f"{', '.join(missing)} not found on PATH"}
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
        elif "unavailable" in now:
            status = f"not re-run here ({bug.library} {now['version']} needs {now['unavailable']}); seen with {bug.seen_with}"
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
