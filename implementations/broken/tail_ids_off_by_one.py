"""A cross-entropy whose scalar tail loop reads the target logit one class too low.

What is wrong: the target logit x[t] is gathered in groups of 8 classes, and the
remainder loop for the last K mod 8 classes is indexed from 1 instead of 0, so
a target in that partial group reads x[t - 1]. Every row whose target is below
8 * floor(K / 8), and every K divisible by 8, is exact: uniform targets land in
the tail with probability (K mod 8) / K, 1 in 6000 rows of GPT-2's 50257 classes.
Seen in: vectorised gathers with a hand-written remainder loop; vocabularies not
divisible by the kernel's block (verl#2899: 129920 classes), where the last
block is where kernels go wrong.
Must be caught by: regime_class_ids.
"""
import numpy as np

from implementations import numpy_reference

ZOO = [
    {"function": "cross_entropy", "op": "cross_entropy", "backend": "numpy", "dtypes": ["float32"], "caught_by": ["regime_class_ids"]},
]

GROUP = 8


def cross_entropy(logits, targets):
    k = logits.shape[-1]
    t = np.asarray(targets).astype(np.int64)
    in_tail = (k % GROUP != 0) & (t >= GROUP * (k // GROUP)) & (t > 0)
    return numpy_reference.cross_entropy(logits, np.where(in_tail, t - 1, t))  # the bug: t - 1 in the tail
