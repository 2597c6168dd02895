"""Cross-entropy whose mean counts the ignored rows in its denominator.

What is wrong: with ``ignore_index`` and ``reduction="mean"`` the loss of the rows whose target is
ignore_index is 0, as it should be, but the sum is divided by all N rows instead of the M rows
that are not ignored (torch divides by M, or by the kept rows' target weights). The mean is
scaled by M / N: a batch of padded sequences gets a smaller loss and smaller gradients the more
padding it holds, and nothing is NaN or out of range. Everything else (per-row losses, the plain
form, smoothing, weights) is right.
Seen in: open-mmlab/mmsegmentation#546 and #886 (the reduction step, split from the loss, averaged
over all inputs, ignored ones included), qubvel-org/segmentation_models.pytorch#852 (the same in
SoftBCEWithLogitsLoss and label_smoothed_nll_loss), eladhoffer/utils.pytorch#4 (a smoothed
cross-entropy divided by batch x sequence length, padding included).
Must be caught by: cross_entropy_options.
"""
import numpy as np

ZOO = [
    {"function": "cross_entropy", "op": "cross_entropy", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["cross_entropy_options"]},
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
        if reduction == "sum":
            return np.asarray(np.sum(loss)).astype(logits.dtype)
        if reduction == "mean":
            return np.asarray(np.sum(loss) / len(loss)).astype(logits.dtype)  # should divide by np.count_nonzero(kept)
        return loss.astype(logits.dtype)


cross_entropy.supports = {"ignore_index", "reduction"}
