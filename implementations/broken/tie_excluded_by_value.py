"""A logsumexp that leaves the maximum out of the sum by value instead of by position.

What is wrong: LSE = a + log1p(s) with s = sum of exp(x_j - a) over the entries
other than the maximum; here "other" is decided by x_j != a, so every entry tied
with the maximum is dropped, where only one of them should be. A row whose
maximum is taken k times gets a + log1p(s) instead of a + log(k + s): log k too
low (0.69 for a pair). A row with a unique maximum is exact, so logits drawn
from a continuous range never show it; exact ties come from quantised logits,
one-hot scores and masked fills.
Seen in: the log1p form of Blanchard, Higham & Higham (2021) implemented with a
mask "x == max" (as in several hand-written CUDA and NumPy kernels) rather than
the argmax's index.
Must be caught by: regime_ties.
"""
import numpy as np

ZOO = [
    {"function": "logsumexp", "op": "logsumexp", "backend": "numpy", "dtypes": ["float32"], "caught_by": ["regime_ties"]},
]


def logsumexp(x, axis=-1):
    with np.errstate(all="ignore"):
        a = np.max(x, axis=axis, keepdims=True)
        a = np.where(np.isfinite(a), a, 0).astype(x.dtype)
        others = np.where(x != a, np.exp(x - a), 0)  # the bug: drops every tied maximum, not one
        return np.squeeze(a + np.log1p(np.sum(others, axis=axis, keepdims=True)), axis).astype(x.dtype)
