"""Cross-entropy that zeroes the caller's logits in the rows it ignores.

What is wrong: the loss is right (0 at rows whose target is ignore_index, torch's value elsewhere),
but the kernel stores 0 in every logit of an ignored row (where a fused kernel would store that
row's gradient, 0, for its backward), also when no gradient is asked for: the caller's logits of
padded positions are gone after the loss is evaluated. Nothing is NaN and every value returned is
right; only the input changed.
Seen in: Liger-Kernel 0.8.5's LigerCrossEntropyFunction (suite/bugs_found.py,
liger-cross-entropy-zeroes-ignored-rows), whose Triton kernel writes the zeros before it checks
HAS_GRADIENTS.
Must be caught by: input_unmodified (its call with the declared options).
"""
import numpy as np

ZOO = [
    {"function": "cross_entropy", "op": "cross_entropy", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["input_unmodified"]},
]


def cross_entropy(logits, targets, ignore_index=-100, reduction="none"):
    x = logits.astype(np.float32) if logits.dtype.itemsize == 2 else logits
    with np.errstate(all="ignore"):
        a = np.max(x, axis=-1, keepdims=True)
        a = np.where(np.isfinite(a), a, 0).astype(x.dtype)
        lse = (a + np.log(np.sum(np.exp(x - a), axis=-1, keepdims=True)))[:, 0]
        t = np.asarray(targets).astype(np.int64)
        kept = t != ignore_index
        picked = np.take_along_axis(x, np.where(kept, t, 0)[:, None], axis=-1)[:, 0]
        loss = np.where(kept, lse - picked, 0).astype(x.dtype)
        logits[~kept] = 0  # the defect: the ignored rows' logits are overwritten
        if reduction == "sum":
            return np.asarray(np.sum(loss)).astype(logits.dtype)
        if reduction == "mean":
            return np.asarray(np.sum(loss) / np.count_nonzero(kept)).astype(logits.dtype)
        return loss.astype(logits.dtype)


cross_entropy.supports = {"ignore_index", "reduction"}
