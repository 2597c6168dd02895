"""A 16-bit softmax whose long-row path divides by a denominator 1% too large.

What is wrong: rows of at least LONG_ROW classes take a split reduction whose
partial sums are merged with a 1% error (here: the merged sum times 1.01), so
every probability of such a row is 1% too small and the row sums to 0.990.
Everything else is computed as the frameworks do: in float32, rounded once to
the output dtype. A 1% error is 20 ULPs of float16; a bound that grows as n u of
the output dtype (2 n u = 32 for float16 at 32768 classes) cannot see it, one
that charges the sum to float32 (2 n 2**-24 = 0.4%) does, up to about 60000
classes. In bfloat16 the same 1% (2.6 ULPs) is inside what the sound designs
make (a stored 1/S and S are 0.39% each, docs/error-analysis.md sec. 2.6), so
there it is no defect the contract can name.
Seen in: split-K and multi-block reductions of vocabulary-scale softmax and
cross-entropy kernels (Liger-Kernel PR #1252's multi-block path, verl #2899's
vocabulary split) whose merge step is wrong only past one block.
Must be caught by: definition, at every seed: its sweep of the size menus runs
32768 and 50257 classes in float16 in every certification (suite.sizes.menu_passes);
normwise_bound too on the fixed long rows of tests/test_bounds.py.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float16"], "caught_by": ["definition"]},
]

LONG_ROW = 32768


def softmax(x, axis=-1):
    w = x.astype(np.float32)
    with np.errstate(all="ignore"):
        a = np.max(w, axis=axis, keepdims=True)
        e = np.exp(w - np.where(np.isfinite(a), a, 0).astype(np.float32))
        total = np.sum(e, axis=axis, keepdims=True)
        if x.shape[axis] >= LONG_ROW:
            total = total * np.float32(1.01)
        return (e / total).astype(x.dtype)
