"""The online (single-pass) softmax normaliser of Milakov and Gimelshein (2018).

What it is: "Online normalizer calculation for softmax" (arXiv:1805.02867), the
recurrence behind FlashAttention: one pass over the classes keeps a running
maximum m and a running normaliser, rescaling the normaliser by exp(m_old -
m_new) whenever the maximum grows, so the logits are read once instead of twice
(max, then sum). Here the pass runs over blocks of BLOCK columns, vectorised
over rows; each block's max and sum are merged into the running pair.
The normaliser is kept as s = sum exp(x_j - m) over every entry but one copy of
the maximum (d = 1 + s), so that log_softmax and logsumexp can use log1p(s), as
the shifted algorithm of Blanchard, Higham & Higham (2021) does: when a block
brings a new maximum, the old maximum's term 1 moves into s and the new one's
leaves it.
Non-finite logits: a running maximum of -inf (a fully masked prefix) would make
the rescaling -inf - (-inf) = NaN, the classic bug of naive online-softmax
kernels (gabrieldemarmiesse/torch-mojo-backend#319, tinygrad/tinygrad#17853; merging
partial sums taken against different maxima is KarhouTam/cuda-kernels#3); the
exponentials are taken against the maximum only where it is finite
(0 otherwise), and rows whose maximum is not finite (all -inf, a +inf, a NaN)
get their logsumexp from the maximum itself: -inf, +inf or NaN. float16 and
bfloat16 are computed in float32 and rounded once.
What is wrong: nothing. Each rescaling adds a rounding to s, at most one per
block, well inside the n u of the bound.
Must be: certified for softmax, log_softmax and logsumexp in every dtype.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy"},
    {"function": "log_softmax", "op": "log_softmax", "backend": "numpy"},
    {"function": "logsumexp", "op": "logsumexp", "backend": "numpy"},
]

BLOCK = 128


def _finite_or_zero(m):
    return np.where(np.isfinite(m), m, 0).astype(m.dtype)


def _online(rows):
    """Per row of the 2-D array ``rows``: the maximum m and s = sum exp(x_j - m) - 1."""
    n, k = rows.shape
    m = np.full(n, -np.inf, dtype=rows.dtype)
    s = np.zeros(n, dtype=rows.dtype)
    for start in range(0, k, BLOCK):
        block = rows[:, start : start + BLOCK]
        block_max = np.max(block, axis=1)
        m_new = np.maximum(m, block_max)
        ref, ref_new = _finite_or_zero(m), _finite_or_zero(m_new)
        e = np.exp(block - ref_new[:, None])
        # A new, strictly larger maximum: one copy of it (exp(0) = 1) is left out of s ...
        grows = block_max > m
        top = np.argmax(block, axis=1)[:, None]
        np.put_along_axis(e, top, np.where(grows[:, None], 0, np.take_along_axis(e, top, axis=1)), axis=1)
        block_s = np.sum(e, axis=1)
        # ... and the old maximum's term joins the rescaled s (there is none while m is -inf).
        rescaled = np.where(np.isneginf(m), 0, (1 + s) * np.exp(ref - ref_new))
        s = np.where(grows, rescaled + block_s, s + block_s)
        m = m_new
    return m, s


def _run(x, axis, finish):
    w = x.astype(np.float32) if x.dtype.itemsize == 2 else x
    moved = np.moveaxis(w, axis, -1)
    rows = moved.reshape(int(np.prod(moved.shape[:-1])), moved.shape[-1])
    with np.errstate(all="ignore"):
        m, s = _online(rows)
        out = finish(rows, m[:, None], s[:, None])
    return out, moved.shape


def softmax(x, axis=-1):
    out, shape = _run(x, axis, lambda r, m, s: np.exp(r - m) / (1 + s))
    return np.moveaxis(out.reshape(shape), -1, axis).astype(x.dtype)


def log_softmax(x, axis=-1):
    out, shape = _run(x, axis, lambda r, m, s: (r - m) - np.log1p(s))
    return np.moveaxis(out.reshape(shape), -1, axis).astype(x.dtype)


def logsumexp(x, axis=-1):
    out, shape = _run(x, axis, lambda r, m, s: np.where(np.isfinite(m), m + np.log1p(s), m))
    return out.reshape(shape[:-1]).astype(x.dtype)
