"""Cross-entropy that treats the targets as 1-based class labels (gathers logits[t - 1]).

What is wrong: the loss is LSE(x) - x[t - 1], computed stably, for 0-based
targets t. Every loss is taken against the class before the target, and
target 0 silently wraps to the last class (index -1), so nothing raises: with
logits [5, 0, 0] and target 0 it returns log(e^5 + 2) - 0 = 5.01 instead of
0.013. The loss stays finite and plausible.
Seen in: code ported from Lua Torch (ClassNLLCriterion took 1-based labels),
MATLAB or R, where labels start at 1; negative indices wrapping silently in
NumPy and PyTorch indexing.
Must be caught by: definition, permutation_equivariance, normwise_bound.
"""
import numpy as np

ZOO = [
    {"function": "cross_entropy", "op": "cross_entropy", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["definition", "permutation_equivariance", "normwise_bound"]},
]


def cross_entropy(logits, targets):
    with np.errstate(all="ignore"):
        a = np.max(logits, axis=-1, keepdims=True)
        a = np.where(np.isfinite(a), a, 0).astype(logits.dtype)
        lse = a + np.log(np.sum(np.exp(logits - a), axis=-1, keepdims=True))
        picked = np.take_along_axis(logits, np.asarray(targets)[:, None] - 1, axis=-1)
        return (lse - picked)[:, 0].astype(logits.dtype)
