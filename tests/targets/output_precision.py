"""A softmax in the arithmetic of its input dtype (float16 stays float16): not correctly rounded."""
import numpy as np


def softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return e / np.sum(e, axis=axis, keepdims=True, dtype=x.dtype)
