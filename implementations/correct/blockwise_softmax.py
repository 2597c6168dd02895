"""A blockwise (multi-block) softmax family, as a GPU kernel tiles a long row: blocks of 1024 classes.

What it is: each row is cut into blocks of BLOCK classes, the last one partial
when K is not a multiple of BLOCK. Pass 1 takes every block's maximum and merges
them into the row's maximum a; pass 2 sums exp(x_j - a) per block and adds the
block sums; pass 3 writes the outputs. logsumexp and log_softmax use
a + log(sum) with the sum split as 1 + s (s: every term but one copy of the
maximum) so that log1p(s) keeps the accuracy of the shifted algorithm; the
cross-entropy is the fused form LSE(x_r) - x_r[t_r], computed the same way, at
vocabulary sizes. float16 and bfloat16 are computed in float32 and rounded once;
float32 accumulates in float32, float64 in float64.
Non-finite logits: the shift is the maximum where it is finite (0 otherwise), so
an all -inf row sums to 0 (LSE -inf), a +inf makes LSE +inf, and a NaN makes the
row NaN.
What is wrong: nothing. The block sums are added in a tree of depth
ceil(K / BLOCK), inside the n u of the bound; the partial last block is summed
like the others.
Must be: certified for softmax, log_softmax, logsumexp and cross_entropy in every dtype.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy"},
    {"function": "log_softmax", "op": "log_softmax", "backend": "numpy"},
    {"function": "logsumexp", "op": "logsumexp", "backend": "numpy"},
    {"function": "cross_entropy", "op": "cross_entropy", "backend": "numpy"},
]

BLOCK = 1024


def _blocks(k):
    return [slice(start, min(start + BLOCK, k)) for start in range(0, k, BLOCK)]  # the last one partial


def _reduce(rows):
    """Per row of the 2-D array ``rows``: the shift a (the maximum, or 0 where it is not
    finite), the maximum itself, and s = sum_j exp(x_j - a) - 1 (one copy of the maximum left out)."""
    blocks = _blocks(rows.shape[1])
    top = np.max(np.stack([np.max(rows[:, b], axis=1) for b in blocks]), axis=0)
    a = np.where(np.isfinite(top), top, 0).astype(rows.dtype)
    total = np.zeros(rows.shape[0], dtype=rows.dtype)
    for b in blocks:
        total = total + np.sum(np.exp(rows[:, b] - a[:, None]), axis=1)
    # exp(top - a) = 1 exactly where the maximum is finite: the copy log1p leaves out
    s = total - 1
    return a, top, s


def _rows(x, axis):
    wide = x.astype(np.float32) if x.dtype.itemsize == 2 else x
    moved = np.moveaxis(wide, axis, -1)
    return moved.reshape(-1, moved.shape[-1]), moved.shape


def softmax(x, axis=-1):
    rows, shape = _rows(x, axis)
    with np.errstate(all="ignore"):
        a, _, s = _reduce(rows)
        out = np.exp(rows - a[:, None]) / (1 + s)[:, None]
    return np.moveaxis(out.reshape(shape), -1, axis).astype(x.dtype)


def _lse(rows):
    a, top, s = _reduce(rows)
    return np.where(np.isfinite(top), a + np.log1p(s), top)


def log_softmax(x, axis=-1):
    rows, shape = _rows(x, axis)
    with np.errstate(all="ignore"):
        a, top, s = _reduce(rows)
        out = (rows - a[:, None]) - np.log1p(s)[:, None]
    return np.moveaxis(out.reshape(shape), -1, axis).astype(x.dtype)


def logsumexp(x, axis=-1):
    rows, shape = _rows(x, axis)
    with np.errstate(all="ignore"):
        out = _lse(rows)
    return out.reshape(shape[:-1]).astype(x.dtype)


def cross_entropy(logits, targets):
    rows, _ = _rows(logits, -1)
    with np.errstate(all="ignore"):
        picked = np.take_along_axis(rows, np.asarray(targets, dtype=np.int64)[:, None], axis=1)[:, 0]
        a, top, s = _reduce(rows)
        # LSE - x_t = (a - x_t) + log1p(s): the shifted form, no cancellation between two large terms
        out = np.where(np.isfinite(top), (a - picked) + np.log1p(s), top - picked)
    return out.astype(logits.dtype)
