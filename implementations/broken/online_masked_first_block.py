"""An online softmax whose running maximum meets a first block that is entirely -inf.

What is wrong: the normaliser is accumulated block by block (16 classes) against a
running maximum m that starts at -inf. After a block of only -inf entries the new
maximum is still -inf, and the rescale factor exp(m_old - m_new) is
exp((-inf) - (-inf)) = exp(NaN): the running sum becomes NaN and stays NaN for
the rest of the row, although later blocks hold finite logits. A row is wrong
exactly when its first 16 entries are all masked (left padding of 16 tokens or
more); random masks that hide each entry with probability 1/2 cover a whole
block once in 65536 rows.
Seen in: Dao-AILab/flash-attention's and Liger-Kernel's cross-entropy online
updates (a fully masked first block gives NaN), and ports of the online
normaliser of Milakov and Gimelshein (arXiv:1805.02867) that start m at -inf
without guarding the rescale.
Must be caught by: regime_masks (its prefix masks of 16 and more entries).
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float32"], "caught_by": ["regime_masks"]},
]

BLOCK = 16


def softmax(x, axis=-1):
    w = np.moveaxis(x, axis, -1)
    m = np.full(w.shape[:-1] + (1,), -np.inf, dtype=w.dtype)
    total = np.zeros_like(m)
    with np.errstate(all="ignore"):
        for start in range(0, w.shape[-1], BLOCK):
            block = w[..., start : start + BLOCK]
            new = np.maximum(m, np.max(block, axis=-1, keepdims=True))
            total = total * np.exp(m - new) + np.sum(np.exp(block - new), axis=-1, keepdims=True)  # NaN once m = new = -inf
            m = new
        out = np.exp(w - m) / total
    return np.moveaxis(out, -1, axis).astype(x.dtype)
