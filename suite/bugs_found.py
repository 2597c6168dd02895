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
import importlib.util
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
    # Environment the repro runs in without a GPU (Triton kernels: TRITON_INTERPRET=1, read when @triton.jit
    # decorates, so before the library is imported): such a repro runs in a fresh Python process.
    env: tuple[tuple[str, str], ...] = ()


# A model of one OpenVINO opset16 op on a parameter of x's dtype and shape, compiled for the CPU device
# with its defaults, as OpenVINO's docs build one.
OV_ONE_OP = """import openvino as ov, openvino.opset16 as ops

def run(op, x, *args):
    p = ops.parameter(list(x.shape), ov.Type(x.dtype))
    return ov.Core().compile_model(ov.Model([op(p, *args)], [p]), "CPU")(x)[0]

"""

# An ONNX model of one node read by OpenVINO's ONNX frontend, compiled for the CPU device.
OV_ONNX_ONE_NODE = """from onnx import TensorProto, helper
import openvino as ov

def run(op, x, **attrs):
    node = helper.make_node(op, ["x", "axes"], ["y"], **attrs)  # ReduceLogSumExp: axes an input since opset 18
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [helper.make_tensor("axes", TensorProto.INT64, [1], [-1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 26)], ir_version=13)
    core = ov.Core()
    return core.compile_model(core.read_model(model.SerializeToString()), "CPU")(x)[0]

"""


# Liger-Kernel's Triton kernels as its docs call them; without a GPU under Triton's interpreter (Bug.env).
LIGER_HEAD = """import torch
from liger_kernel.ops.cross_entropy import LigerCrossEntropyFunction as CE  # (logits, targets, weight, ignore_index,
from liger_kernel.ops.softmax import LigerSoftmaxFunction                 #  lse_square_scale, label_smoothing, reduction, softcap)
dev = "cuda" if torch.cuda.is_available() else "cpu"  # without a GPU: TRITON_INTERPRET=1
"""
INTERPRET = (("TRITON_INTERPRET", "1"),)
LIGER_SEEN = "liger-kernel 0.8.5, triton 3.9.0, torch 2.13.0 (CPU, under Triton's interpreter; the code is the GPU's)"


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
        found_by="definition and finite_outputs, temperature_softmax, float32 and float64, regime 'extreme'; at every "
        "seed regime_binades (three equal float32 logits -2.4756156e10 at t = 3 give NaN under jit, uniform eagerly)",
        seen_with="jax 0.10.2, jaxlib 0.10.2 (CPU)",
        link="https://github.com/openxla/xla/pull/44738",
        searched="the XLA pull request for jax-ml/jax#38609 (closed, not merged): XLA recomputes x * (1/t) in both "
        "softmax fusions and the rounding residual overflows exp",
    ),
    Bug(
        key="jax-float16-logsumexp-wide-overflow",
        library="jax",
        title="jax.nn.logsumexp of 65537 float16 zeros is inf, not log(65537) = 11.09: XLA on the CPU holds the sum "
        "of the exponentials in float16, where it overflows past 65504 (log_softmax -inf and cross-entropy inf alike)",
        code="import jax\ngot = np.asarray(jax.nn.logsumexp(np.zeros((65537,), dtype=np.float16)))",
        exact="from suite import oracle\nexact = oracle.logsumexp(np.zeros((65537,), dtype=np.float16))",
        found_by="regime_ties (all equal, wide rows) and regime_binades (gap binade, wide rows), logsumexp, log_softmax "
        "and cross_entropy, float16, at every seed",
        seen_with="jax 0.10.2, jaxlib 0.10.2 (CPU)",
        link=None,
        searched="jax-ml/jax issues searched 2026-12-08 for float16 logsumexp overflow: none found; "
        "google-research/last#43 fixes the same overflow in its own float16 log-semiring sums",
    ),
    Bug(
        key="torch-float16-logsumexp-wide-overflow",
        library="torch",
        title="torch.logsumexp of 65537 float16 zeros on the CPU is inf, not log(65537) = 11.09: the sum of the "
        "exponentials is held in float16, where it overflows past 65504 (log_softmax -inf and F.cross_entropy inf alike)",
        code="import torch\ngot = torch.logsumexp(torch.zeros(65537, dtype=torch.float16), 0).numpy()",
        exact="from suite import oracle\nexact = oracle.logsumexp(np.zeros((65537,), dtype=np.float16))",
        found_by="regime_ties (all equal, wide rows) and regime_binades (gap binade, wide rows), logsumexp, log_softmax "
        "and cross_entropy, float16, at every seed",
        seen_with="torch 2.13.0+cpu",
        link=None,
        searched="pytorch/pytorch issues searched 2026-12-08: #158310 (LogSoftmax -inf on the CPU in float16, closed) "
        "has another trigger; none for a wide row's sum",
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
    # PaddlePaddle's records come before TensorFlow's: `import paddle` segfaults in a process that has already
    # imported tensorflow (their bundled protobufs clash; the other order works), and check() runs every repro
    # in this one process.
    Bug(
        key="paddle-softmax-clip-minus-64",
        library="paddle",
        title="PaddlePaddle's CPU softmax clamps x - max at -64 (float32 and float64): a masked (-inf) entry gets "
        "exp(-64) = 1.6e-28 instead of 0, F.log_softmax gives it -64 instead of -inf, and F.cross_entropy is capped "
        "at 64: logits [[0, -100]] with target 1 give 64 where the loss is 100",
        code=(
            "import paddle, paddle.nn.functional as F\n"
            "paddle.set_device('cpu')\n"
            "x = paddle.to_tensor(np.array([[0., -100.]], dtype=np.float32))\n"
            "got = F.cross_entropy(x, paddle.to_tensor(np.array([1])), reduction='none').numpy()"
        ),
        exact="from suite import oracle\nexact = oracle.cross_entropy(np.array([[0., -100.]], dtype=np.float32), np.array([1]))",
        found_by="definition, masked_entries, layouts and nan_propagation (masked rows) of softmax, log_softmax, "
        "temperature_softmax and cross_entropy (losses of 64 + log K for gaps of 1e31), gumbel_softmax_contract; "
        "float32 and float64",
        seen_with="paddlepaddle 3.3.1 (CPU)",
        link="https://github.com/PaddlePaddle/Paddle/issues/69859",
        searched="PaddlePaddle/Paddle#69859 (open, 2024: log_softmax of [-1, -inf] is [0, -64] on the CPU, -inf on "
        "the GPU); #20994 (closed, 2019: cross_entropy losses above 64 become 64); #4366 (2017, where the -64 "
        "clamp was introduced); pull request #54107 (closed, not merged) would have moved cross_entropy to the "
        "log-softmax kernel",
    ),
    Bug(
        key="paddle-float32-softmax-nan-dropped",
        library="paddle",
        title="PaddlePaddle's float32 CPU softmax (the AVX kernel, rows of 8 entries or more) drops a NaN: "
        "F.softmax of [0]*7 + [nan] gives 1/7 to each finite entry and exp(-64)/7 to the NaN one (a row of 7 "
        "entries, and float64, give NaN); F.cross_entropy of that row is log 7, not NaN",
        code=(
            "import paddle, paddle.nn.functional as F\n"
            "paddle.set_device('cpu')\n"
            "got = F.softmax(paddle.to_tensor(np.array([[0.] * 7 + [np.nan]], dtype=np.float32))).numpy()"
        ),
        exact="exact = np.full((1, 8), np.nan, dtype=np.float32)  # a NaN logit makes the whole row NaN",
        found_by="nan_propagation, softmax, float32 (shrunk to 128 zeros with a NaN first, which get 1/128 each; 8 "
        "entries suffice); temperature_softmax, cross_entropy and gumbel_softmax share the kernel (checked by hand)",
        seen_with="paddlepaddle 3.3.1 (CPU)",
        searched="PaddlePaddle/Paddle issues for softmax / cross_entropy with NaN input on the CPU, 2026-12-03: none "
        "found; related: #55685 (NaN output for very negative logits in long rows, fixed by #57851)",
    ),
    Bug(
        key="paddle-logsumexp-infinite-max-nan",
        library="paddle",
        title="PaddlePaddle paddle.logsumexp is NaN wherever a row's maximum is infinite (float32 and float64): "
        "[-inf, -inf] gives nan (exact -inf), [0, inf] gives nan (exact inf), even the one-entry rows [-inf] and [inf]",
        code=(
            "import paddle\n"
            "paddle.set_device('cpu')\n"
            "got = paddle.logsumexp(paddle.to_tensor(np.array([[-np.inf, -np.inf], [0., np.inf]])), axis=-1).numpy()"
        ),
        exact="from suite import oracle\nexact = oracle.logsumexp(np.array([[-np.inf, -np.inf], [0., np.inf]]))",
        found_by="lse_all_masked and lse_posinf, logsumexp, float32 and float64",
        seen_with="paddlepaddle 3.3.1 (CPU)",
        searched="PaddlePaddle/Paddle issues for logsumexp with infinite input, 2026-12-03: none found; related: "
        "#79462 (open: paddle.logaddexp of two same-sign infinities is NaN)",
    ),
    Bug(
        key="tensorflow-softmax-nan-dropped",
        library="tensorflow",
        title="TensorFlow tf.nn.softmax (float32, bfloat16) on oneDNN's CPU kernel of [0, nan] gives [0, nan]: the "
        "finite entry gets probability 0 instead of NaN, so the row no longer shows that it was poisoned. oneDNN's "
        "kernels are TensorFlow's default on CPUs with AVX-512 VNNI, AVX-512 BF16 or AMX (found on a CI machine "
        "where they were on by default) and wherever TF_ENABLE_ONEDNN_OPTS=1; Eigen's kernel (the default on an AVX2-only AMD EPYC) gives [nan, nan]",
        code=(
            "import os\n"
            "os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')  # oneDNN's kernels, the default on AVX-512 VNNI CPUs; read at import\n"
            "import tensorflow as tf\n"
            "got = tf.nn.softmax(tf.constant([[0., np.nan]], dtype=tf.float32)).numpy()"
        ),
        exact="exact = np.array([[np.nan, np.nan]], dtype=np.float32)  # a NaN logit makes the whole row NaN",
        found_by="nan_propagation, softmax and temperature_softmax, float32 and bfloat16",
        seen_with="tensorflow-cpu 2.21.0 (oneDNN on by default on stop 19's CI machine; oneDNN jit:avx2 with "
        "TF_ENABLE_ONEDNN_OPTS=1 on an AVX2-only AMD EPYC, 2026-12-03)",
        searched="tensorflow/tensorflow issues for softmax NaN propagation on the CPU, 2026-12-03: none found",
    ),
    Bug(
        key="openvino-softmax-nan-dropped",
        library="openvino",
        title="OpenVINO Softmax-8 on the CPU device (every dtype) of [0, nan] gives [0, nan]: the NaN stays in its "
        "place and the finite entries get probability 0; LogSoftmax-5 of [nan, 0] gives [nan, -inf] (all NaN only "
        "where the NaN is last)",
        code=OV_ONE_OP + 'got = run(ops.softmax, np.array([[0., np.nan]], dtype=np.float32), -1)',
        exact="exact = np.array([[np.nan, np.nan]], dtype=np.float32)  # a NaN logit makes the whole row NaN",
        found_by="nan_propagation, softmax, log_softmax and temperature_softmax, float16, bfloat16, float32 and float64",
        seen_with="openvino 2026.4.1 (CPU device, INFERENCE_PRECISION_HINT f32)",
        searched="openvinotoolkit/openvino issues for Softmax / LogSoftmax with NaN input, 2026-12-03: none found; "
        "related: #35897 (CPU Softmax with +inf, open) and #35649 (CPU Relu(NaN) is 0, open)",
    ),
    Bug(
        key="openvino-onnx-reducelogsumexp-nan-inf",
        library="openvino",
        title="OpenVINO's ONNX frontend ReduceLogSumExp (lowered to ReduceMax, Exp, ReduceSum, Log) of [[nan, 0.]] gives "
        "+inf on the CPU device where the row's NaN must give NaN (a NaN anywhere but last; float64: FLT_MAX); "
        "SoftmaxCrossEntropyLoss of the same logits with target 1 is +inf too",
        code=OV_ONNX_ONE_NODE + 'got = run("ReduceLogSumExp", np.array([[np.nan, 0.]], dtype=np.float32), keepdims=0)',
        exact="exact = np.array([np.nan], dtype=np.float32)  # a NaN logit makes the row's logsumexp NaN",
        found_by="nan_propagation, logsumexp and cross_entropy, float16, bfloat16, float32 and float64",
        seen_with="openvino 2026.4.1, onnx 1.23.2 (CPU device, ai.onnx opset 26)",
        link="https://github.com/openvinotoolkit/openvino/issues/35929",
        searched="open; its repro [0.5, 1.5, 2.5, nan, 3.5, 4.5] (opset 18) is still +inf with 2026.4.1, after the "
        "max-shifted lowering of #32913; #36234 is a closed duplicate",
    ),
    Bug(
        key="openvino-softmax-underflow-flush",
        library="openvino",
        title="OpenVINO Softmax-8 on the CPU device flushes normal results below about exp(-86.99) = 1.66e-38 to 0 "
        "(float32 and bfloat16; Exp itself is right): softmax([0, -87])[1] is 0, exactly 1.65e-38 > FLT_MIN",
        code=OV_ONE_OP + "with np.errstate(divide='ignore'):  # the log of the tiny entry (-inf where it is 0)\n"
        "    got = np.log(run(ops.softmax, np.array([[0., -87.]], dtype=np.float32), -1)[:, 1].astype(np.float64))",
        exact="from suite import oracle\nexact = np.log(oracle.softmax(np.array([[0., -87.]], dtype=np.float32))[:, 1].astype(np.float64))",
        found_by="definition, softmax, bfloat16, regime 'extreme' (shrunk here to one row of float32)",
        seen_with="openvino 2026.4.1 (CPU device, INFERENCE_PRECISION_HINT f32)",
        searched="openvinotoolkit/openvino issues for Softmax underflow / flush to zero near FLT_MIN, 2026-12-03: none found",
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
        found_by="output_contract, log_softmax, float16: the crash shrinks to [[[0.]]] and, by probes in fresh workers, "
        "its signature widens to every input of rank >= 2 with a reduced axis of length 1, in any dtype; the other "
        "properties skip those and report their own results",
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
    Bug(
        key="liger-softmax-wide-rows-raise",
        library="liger_kernel",
        title="Liger-Kernel's LigerSoftmaxFunction raises RuntimeError (Cannot launch Triton kernel since n = 65537 exceeds "
        "the recommended Triton blocksize = 65536) for any row wider than 65536 classes: calculate_settings raises before "
        "the dispatch, so its multi-block kernel is unreachable (got is NaN where it raises)",
        code=LIGER_HEAD + (
            "try:\n"
            "    got = LigerSoftmaxFunction.apply(torch.zeros(1, 65537, device=dev)).cpu().numpy()\n"
            "except RuntimeError:  # Cannot launch Triton kernel since n = 65537 exceeds ... = 65536.\n"
            "    got = np.full((1, 65537), np.nan, dtype=np.float32)"
        ),
        exact="from suite import oracle\nexact = oracle.softmax(np.zeros((1, 65537), dtype=np.float32))",
        found_by="definition (menu_classes=65537) and every widest pass (262145 classes), softmax, every dtype",
        seen_with=LIGER_SEEN,
        link="https://github.com/linkedin/Liger-Kernel/pull/1252",
        searched="open pull request: the multi-block path is unreachable, and its kernels would not compile if reached",
        env=INTERPRET,
    ),
    Bug(
        key="liger-softmax-second-derivative-dropped",
        library="liger_kernel",
        title="Liger-Kernel's LigerSoftmaxFunction drops second derivatives silently: with create_graph=True its backward "
        "(a Triton kernel, not marked once_differentiable) returns a gradient with no grad_fn, so a loss built on the "
        "gradient (a gradient penalty) loses its second-order term instead of raising",
        code=LIGER_HEAD + (
            "x = torch.tensor([[0., 1.]], dtype=torch.float64, device=dev, requires_grad=True)\n"
            "g, = torch.autograd.grad(LigerSoftmaxFunction.apply(x)[0, 0], x, create_graph=True)  # g.grad_fn is None\n"
            "got = torch.autograd.grad((g * x).sum(), x)[0].cpu().numpy()  # g alone: [[0.197, -0.197]]"
        ),
        exact=(
            "from suite import oracle\nx = np.array([0., 1.])\ns = oracle.softmax(x).astype(np.float64)\n"
            "J = np.diag(s) - np.outer(s, s)  # ds_a / dx_k\n"
            "g = s[0] * (np.eye(2)[0] - s)\ndg = np.outer(np.eye(2)[0] - s, J[0]) - s[0] * J  # dg_j / dx_k\n"
            "exact = (g + x @ dg)[None, :]  # d sum(g * x) / dx"
        ),
        found_by="grad_finite_differences (gradgradcheck: the numerical second derivative is not zero), softmax, float64",
        seen_with=LIGER_SEEN,
        searched="linkedin/Liger-Kernel issues and pull requests: none found",
        env=INTERPRET,
    ),
    Bug(
        key="liger-cross-entropy-non-contiguous-gradient",
        library="liger_kernel",
        title="Liger-Kernel's LigerCrossEntropyFunction returns the logits as their gradient for non-contiguous logits (a "
        "transposed view): its forward copies them with .contiguous() under no_grad, the copy does not require grad, so the "
        "kernel runs without HAS_GRADIENTS and backward scales the untouched copy (host code: GPUs too)",
        code=LIGER_HEAD + (
            "leaf = torch.tensor([[1., 4.], [2., 5.], [3., 6.]], device=dev, requires_grad=True)\n"
            "loss = CE.apply(leaf.t(), torch.tensor([0, 1], device=dev), None, -100, 0.0, 0.0, \"sum\", None)[0]\n"
            "got = torch.autograd.grad(loss, leaf)[0].t().cpu().numpy()  # [[1, 2, 3], [4, 5, 6]]: the logits"
        ),
        exact=(
            "from suite import oracle\nx = np.array([[1., 2., 3.], [4., 5., 6.]], dtype=np.float32)\n"
            "exact = oracle.softmax(x).astype(np.float64) - np.eye(3)[[0, 1]]  # d sum(loss) / dx"
        ),
        found_by="grad_layouts, cross_entropy, float32 (a strided or transposed view of the logits)",
        seen_with=LIGER_SEEN,
        searched="linkedin/Liger-Kernel issues and pull requests: none found; related: #678 (reduction='none' gives a zero "
        "gradient norm, closed)",
        env=INTERPRET,
    ),
    Bug(
        key="liger-cross-entropy-masked-first-block-nan",
        library="liger_kernel",
        title="Liger-Kernel's LigerCrossEntropyFunction gives NaN for a row wider than 32768 classes whose first 32768 logits "
        "are -inf: its online softmax rescales the running sum by exp2((m - m_new) * log2 e) with m = m_new = -inf, and "
        "0 * NaN is NaN (the exact loss of [-inf] * 32768 + [0] with target 32768 is 0)",
        code=LIGER_HEAD + (
            "x = torch.full((1, 32769), -float(\"inf\"), device=dev)\n"
            "x[0, -1] = 0.0\n"
            "got = CE.apply(x, torch.tensor([32768], device=dev), None, -100, 0.0, 0.0, \"none\", None)[0].cpu().numpy()"
        ),
        exact=(
            "from suite import oracle\nx = np.full((1, 32769), -np.inf, dtype=np.float32)\nx[0, -1] = 0.0\n"
            "exact = oracle.cross_entropy(x, np.array([32768]))"
        ),
        found_by="masked_entries (widest pass, 262145 classes with the first half of the row masked), cross_entropy, float32",
        seen_with=LIGER_SEEN,
        searched="linkedin/Liger-Kernel issues and pull requests: none found",
        env=INTERPRET,
    ),
    Bug(
        key="liger-cross-entropy-overwrites-logits-with-gradient",
        library="liger_kernel",
        title="Liger-Kernel's LigerCrossEntropyFunction on logits that require grad stores the gradient in the caller's "
        "logits (by design, to save memory: \"we use a trick to store X_ptr gradient in X_ptr\"), so the logits are gone "
        "after the loss: [[1, 2, 3]] with target 0 becomes softmax - one-hot",
        code=LIGER_HEAD + (
            "x = torch.tensor([[1., 2., 3.]], device=dev, requires_grad=True)\n"
            "CE.apply(x, torch.tensor([0], device=dev), None, -100, 0.0, 0.0, \"none\", None)\n"
            "got = x.detach().cpu().numpy()  # [[-0.91, 0.24, 0.67]]"
        ),
        exact="exact = np.array([[1., 2., 3.]], dtype=np.float32)  # the caller's logits, unmodified",
        found_by="input_unmodified with a tracked input (requires_grad), cross_entropy, every dtype",
        seen_with=LIGER_SEEN,
        searched="a documented trade-off (the comment in liger_kernel/ops/cross_entropy.py); related: pull request #262 "
        "(in-place gradient storage confused autograd for a loss computed after it)",
        env=INTERPRET,
    ),
    Bug(
        key="liger-cross-entropy-float64-in-float32",
        library="liger_kernel",
        title="Liger-Kernel's LigerCrossEntropyFunction returns float64 losses computed in float32: its kernel casts every "
        "logit to float32 (\"Ensure float32 precision for softmax calculation\"), so a float64 loss has float32's relative "
        "error, about 1e-8, where float64's rounding allows about 1e-16, and a float64 logit past float32's range "
        "(1.78e308 alone, exact loss 0) gives NaN; its gradients too",
        code=LIGER_HEAD + (
            "x = torch.tensor([[0.1, 0.2, 0.3]], dtype=torch.float64, device=dev)\n"
            "got = CE.apply(x, torch.tensor([0], device=dev), None, -100, 0.0, 0.0, \"none\", None)[0].cpu().numpy()"
        ),
        exact="from suite import oracle\nexact = oracle.cross_entropy(np.array([[0.1, 0.2, 0.3]]), np.array([0]))",
        found_by="every value and gradient property of cross_entropy in float64 (definition, finite_outputs, grad_closed_form, "
        "cross_entropy_options, the regimes, ...)",
        seen_with=LIGER_SEEN,
        searched="by design for the training dtypes (bfloat16, float16, float32); float64 is not refused",
        rtol=1e-12,  # float32 accuracy is the defect: 1e-3 would call it fixed
        env=INTERPRET,
    ),
    Bug(
        key="liger-cross-entropy-zeroes-ignored-rows",
        library="liger_kernel",
        title="Liger-Kernel's LigerCrossEntropyFunction zeroes the caller's logits in every row whose target is ignore_index, "
        "also when the logits do not require grad (its kernel stores 0 there before it checks HAS_GRADIENTS): evaluating a "
        "loss with padding erases the padded rows' logits",
        code=LIGER_HEAD + (
            "x = torch.tensor([[1., 2., 3.], [4., 5., 6.]], device=dev)  # no grad: an evaluation\n"
            "CE.apply(x, torch.tensor([-100, 0], device=dev), None, -100, 0.0, 0.0, \"mean\", None)\n"
            "got = x.cpu().numpy()  # [[0, 0, 0], [4, 5, 6]]"
        ),
        exact="exact = np.array([[1., 2., 3.], [4., 5., 6.]], dtype=np.float32)  # the caller's logits, unmodified",
        found_by="reading the kernel while writing the column; input_unmodified now also calls with the declared options "
        "(the zoo's ce_ignored_rows_zeroed is killed by it; on Liger its tracked-input check fails first)",
        seen_with=LIGER_SEEN,
        searched="linkedin/Liger-Kernel issues and pull requests: none found",
        env=INTERPRET,
    ),
]


def _run(code: str, name: str):
    scope: dict = {"np": np}
    exec(code, scope)  # noqa: S102 - the suite's own repro snippets, listed above
    return scope[name]


def _needs_env(bug: Bug) -> bool:
    """A repro with an environment (Triton's interpreter) needs it where no GPU is visible."""
    import os

    hidden = os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1")
    return bool(bug.env) and (hidden or not os.path.exists("/proc/driver/nvidia/version"))


def _run_apart(code: str, env: dict) -> np.ndarray:
    """``got`` of ``code`` run in a fresh Python process with ``env`` set before anything is imported
    (TRITON_INTERPRET is read when @triton.jit decorates: too late in a process that imported triton)."""
    import io
    import os
    import subprocess
    import sys

    script = f"import sys\nimport numpy as np\n{code}\nnp.save(sys.stdout.buffer, np.asarray(got))\n"
    done = subprocess.run([sys.executable, "-c", script], env=os.environ | env, capture_output=True, timeout=600)
    if done.returncode:
        raise RuntimeError(done.stderr.decode(errors="replace").strip().splitlines()[-1])
    return np.load(io.BytesIO(done.stdout))


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
    if importlib.util.find_spec(bug.library.split(".")[0]) is None:  # "mlx.core": its package, mlx
        return {"version": None}
    missing = [program for program in bug.needs if shutil.which(program) is None]
    if missing:
        return {"version": _version(bug.library), "unavailable": f"{', '.join(missing)} not found on PATH"}
    try:  # the repro first: it may set what the library reads when it is imported
        got = np.asarray(_run_apart(bug.code, dict(bug.env)) if _needs_env(bug) else _run(bug.code, "got"))
        exact = np.asarray(_run(bug.exact, "exact"))
    except Exception as exc:  # noqa: BLE001 - a repro that no longer runs is reported, not fatal
        return {"version": _version(bug.library), "error": f"{type(exc).__name__}: {exc}"}
    version = _version(bug.library)
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
        ] + ([f"- without a GPU, run it with {' '.join(f'{k}={v}' for k, v in bug.env)} set before Python starts"] if bug.env else []) + [
            "", "```python", "import numpy as np", bug.code, "```", "",
        ]
    return "\n".join(lines)
