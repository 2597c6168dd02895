"""The division-free softmax: exp(log_softmax(x)), i.e. exp(x_i - a - log sum_j exp(x_j - a)).

What it is: the shifted division-free formula of Blanchard, Higham & Higham
(2021), sec. 4 (softmax as the gradient of LSE, exp(x_i - LSE(x)), with the
shift a = max(x) kept inside). It avoids the division and reuses a log-softmax,
which is why it appears in fused kernels and in code that already has the
log-probabilities (sampling, beam search).
What is wrong: nothing that breaks the contract. The exponent x_i - a - log S
is rounded before exp, so entry i carries a relative error of about
|x_i - a - log S| u instead of the shifted formula's few u: tens of ULPs on
well-scaled rows, more on wide ones. It stays within twice Thm 4.3's bound
(docs/error-analysis.md, sec. 2.2).
float16 and bfloat16 are computed in float32 and rounded once.
Must be: certified (normwise_bound passes) and graded below the shifted
formula by ulp_accuracy.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy"},
]


def softmax(x, axis=-1):
    # float16 and bfloat16 in float32, rounded once, as the frameworks do (docs/error-analysis.md sec. 2.6)
    w = x.astype(np.float32) if x.dtype.itemsize == 2 else x
    with np.errstate(all="ignore"):
        a = np.max(w, axis=axis, keepdims=True)
        shifted = w - a
        log_sum = np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        return np.exp(shifted - log_sum).astype(x.dtype)
