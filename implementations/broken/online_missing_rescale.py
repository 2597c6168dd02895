"""An online (single-pass) softmax that does not rescale its running sum when the maximum grows.

What is wrong: the normaliser is accumulated block by block (1024 classes) against
a running maximum m. When a later block brings a larger maximum m', the sum so
far, taken against m, must be multiplied by exp(m - m') before the new block's
terms are added; here it is kept as it is. The earlier blocks are then
over-weighted by exp(m' - m), so the rows do not sum to 1. A row of one block
(K <= 1024), or one whose maximum is in the first block, is exact: only rows
spanning several blocks with a maximum past the first show the bug.
Seen in: KarhouTam/cuda-kernels#3 (partial sums taken against different maxima
merged without rescaling), the online-normaliser recurrence of Milakov and
Gimelshein (arXiv:1805.02867) implemented without its correction term, and
flash-attention ports that drop the exp(m_old - m_new) factor.
Must be caught by: sums_to_one.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy",
     "dtypes": ["float32", "float64"], "caught_by": ["sums_to_one"]},
]

BLOCK = 1024


def softmax(x, axis=-1):
    w = np.moveaxis(x, axis, -1)
    wide = w.astype(np.float32) if w.dtype.itemsize == 2 else w
    m = np.full(wide.shape[:-1] + (1,), -np.inf, dtype=wide.dtype)
    total = np.zeros_like(m)
    with np.errstate(all="ignore"):
        for start in range(0, wide.shape[-1], BLOCK):
            block = wide[..., start : start + BLOCK]
            m = np.maximum(m, np.max(block, axis=-1, keepdims=True))
            ref = np.where(np.isfinite(m), m, 0)
            total = total + np.sum(np.exp(block - ref), axis=-1, keepdims=True)  # the bug: total * exp(m_old - m) is missing
        ref = np.where(np.isfinite(m), m, 0)
        out = np.exp(wide - ref) / total
    return np.moveaxis(out, -1, axis).astype(x.dtype)
