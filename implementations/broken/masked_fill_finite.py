"""softmax and log_softmax that replace -inf logits by -1e9 "to avoid NaN in fully masked rows".

What is wrong: a masked entry becomes an ordinary, very negative logit. It gets
probability exp(-1e9 - a), which is 0 only while the row maximum a is far above
-1e9: in a row whose unmasked logits are all below -1e9 (float32 x =
[-inf, -3e9]) the masked entry becomes the maximum and takes probability 1,
and the real logit gets 0. log_softmax is worse: a masked entry comes back
-1e9 - LSE, a finite number, never -inf.
Seen in: attention code that masks with masked_fill(mask, -1e9) or -1e4
(BERT-era implementations, where -1e4 is also the float16-safe choice), and
kernels that sanitise -inf to a finite "minus infinity" before the max (see
pytorch/pytorch#131060 on why a blanket clean-up hides real values, and
HabanaAI/vllm-fork#682).
Must be caught by: masked_entries.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["masked_entries"]},
    {"function": "log_softmax", "op": "log_softmax", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["masked_entries"]},
]

MASK_VALUE = -1e9


def _unmasked(x):
    return np.where(np.isneginf(x), x.dtype.type(MASK_VALUE), x)


def softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        w = _unmasked(x)
        e = np.exp(w - np.max(w, axis=axis, keepdims=True))
        return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)


def log_softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        w = _unmasked(x)
        shifted = w - np.max(w, axis=axis, keepdims=True)
        return (shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))).astype(x.dtype)
