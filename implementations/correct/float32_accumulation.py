"""16-bit softmax accumulated in float32, three ways: left to right, in blocks, and online.

What it is: the ways kernels sum exp(x_j - a) over a long row, each in float32
on 16-bit inputs and rounded once to the output dtype, as PyTorch, XLA and
oneDNN do:
  sequential  a single running float32 sum, left to right (np.cumsum: no
              pairwise tree), the worst case of the error analysis: n - 1
              roundings on a growing partial sum;
  blocked     partial sums over blocks of BLOCK classes, then a sum of the
              partials (a two-level reduction, like a CUDA block reduce);
  online      one pass over blocks with a running maximum, rescaling the
              running sum by exp(m_old - m_new) when the maximum grows
              (Milakov & Gimelshein 2018), the numerator recomputed against
              the final maximum.
What is wrong: nothing. Their errors are a few units of 2**-24 per rounding,
the sequential sum's up to (n - 1) 2**-24 relative, all inside the bound's
float32 accumulation term; the final rounding costs half an ULP of the output.
Must be: certified for softmax in float16 and bfloat16 at every size, vocabulary
sizes included (tests/test_bounds.py runs them on rows of 32768 to 262144
classes next to the 1% mutant long_row_denominator.py).
"""
import numpy as np

ZOO = [
    {"function": "softmax_sequential", "op": "softmax", "backend": "numpy", "dtypes": ["float16", "bfloat16"]},
    {"function": "softmax_blocked", "op": "softmax", "backend": "numpy", "dtypes": ["float16", "bfloat16"]},
    {"function": "softmax_online", "op": "softmax", "backend": "numpy", "dtypes": ["float16", "bfloat16"]},
]

BLOCK = 1024


def _rows(x, axis):
    return np.moveaxis(x, axis, -1).astype(np.float32)


def _shift(w):
    a = np.max(w, axis=-1, keepdims=True)
    return np.where(np.isfinite(a), a, 0).astype(np.float32)


def _finish(e, total, x, axis):
    with np.errstate(all="ignore"):
        return np.moveaxis(e / total, -1, axis).astype(x.dtype)


def softmax_sequential(x, axis=-1):
    w = _rows(x, axis)
    with np.errstate(all="ignore"):
        e = np.exp(w - _shift(w))
        total = np.cumsum(e, axis=-1, dtype=np.float32)[..., -1:] if e.shape[-1] else np.zeros(e.shape[:-1] + (1,), np.float32)
    return _finish(e, total, x, axis)


def softmax_blocked(x, axis=-1):
    w = _rows(x, axis)
    with np.errstate(all="ignore"):
        e = np.exp(w - _shift(w))
        partials = [np.sum(e[..., j : j + BLOCK], axis=-1, keepdims=True, dtype=np.float32) for j in range(0, e.shape[-1], BLOCK)]
        total = np.sum(np.concatenate(partials, axis=-1), axis=-1, keepdims=True, dtype=np.float32) if partials else np.zeros(e.shape[:-1] + (1,), np.float32)
    return _finish(e, total, x, axis)


def softmax_online(x, axis=-1):
    w = _rows(x, axis)
    m = np.full(w.shape[:-1] + (1,), -np.inf, dtype=np.float32)
    total = np.zeros(w.shape[:-1] + (1,), dtype=np.float32)
    with np.errstate(all="ignore"):
        for j in range(0, w.shape[-1], BLOCK):
            block = w[..., j : j + BLOCK]
            new_m = np.maximum(m, np.max(block, axis=-1, keepdims=True))
            safe = np.where(np.isfinite(new_m), new_m, 0).astype(np.float32)
            # a running maximum of -inf (a fully masked prefix) has no sum to rescale: skip, not NaN
            scale = np.where(np.isfinite(m), np.exp(m - safe), 0).astype(np.float32)
            total = total * scale + np.sum(np.exp(block - safe), axis=-1, keepdims=True, dtype=np.float32)
            m = new_m
        e = np.exp(w - np.where(np.isfinite(m), m, 0).astype(np.float32))
    return _finish(e, total, x, axis)
