"""A shifted logsumexp that does not guard its shift against infinite row maxima.

What is wrong: a + log(sum(exp(x - a))) with a = max(x) taken as is. For an all
-inf row (a fully masked row) x - a is -inf - (-inf) = NaN, so LSE is NaN
instead of -inf; for a row with a +inf entry, inf - inf = NaN, so LSE is NaN
instead of +inf. The fix is to shift by 0 where a is not finite.
Seen in: microsoft/onnxruntime#28461 (ReduceLogSumExp NaN for all -inf),
tensorflow/tensorflow#11692, JuliaStats/StatsFuns.jl#22,
HenrikBengtsson/matrixStats#84, tinygrad/tinygrad#17853 (logcumsumexp on a
fully masked prefix), probcomp/metaprob#156 (both the -inf and the +inf case).
Must be caught by: lse_all_masked, lse_posinf.
"""
import numpy as np

ZOO = [
    {"function": "logsumexp", "op": "logsumexp", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["lse_all_masked", "lse_posinf"]},
]


def logsumexp(x, axis=-1):
    with np.errstate(all="ignore"):
        a = np.max(x, axis=axis, keepdims=True)
        return np.squeeze(a + np.log(np.sum(np.exp(x - a), axis=axis, keepdims=True)), axis=axis).astype(x.dtype)
