"""A 16-bit softmax whose long-row path divides by a denominator 1% too large.

What is wrong: rows of at least LONG_ROW classes take a split reduction whose
partial sums are merged with a 1% error (here: the merged sum times 1.01), so
every probability of such a row is 1% too small and the row sums to 0.990.
Everything else is computed as the frameworks do: in float32, rounded once to
the output dtype. A 1% error is 2.6 ULPs of bfloat16 and 20 of float16; a bound
that grows as n u of the output dtype (2 n u = 256 for bfloat16 at 32768
classes) cannot see it, one that charges the sum to float32 (2 n 2**-24 = 0.4%)
does.
Seen in: split-K and multi-block reductions of vocabulary-scale softmax and
cross-entropy kernels (Liger-Kernel PR #1252's multi-block path, verl #2899's
vocabulary split) whose merge step is wrong only past one block.
Must be caught by: definition at the zoo's kernel-scale draws; normwise_bound and
sums_to_one too on the fixed long rows of tests/test_bounds.py (K = 32768 and 65536
in float16, 32768 in bfloat16).
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float16", "bfloat16"],
     "caught_by": ["definition"]},
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
