"""Misbehaving softmax targets for the isolation tests: each breaks the suite's contract a different way."""
import ctypes
import os
import time

import numpy as np

NOT_CALLABLE = 42


def segfault(x, axis=-1):
    ctypes.string_at(0)  # reads address 0: SIGSEGV


def abort(x, axis=-1):
    os.abort()


def hang(x, axis=-1):
    time.sleep(3600)


def raises(x, axis=-1):
    raise RuntimeError("this implementation always raises")


def returns_list(x, axis=-1):
    return np.asarray(x).tolist()


def wrong_shape(x, axis=-1):
    x = np.asarray(x)
    out = np.exp(x - np.max(x, axis=axis, keepdims=True, initial=-np.inf))
    return (out / np.sum(out, axis=axis, keepdims=True)).ravel()[:1].astype(x.dtype)


def crash_on_large(x, axis=-1):
    """Correct except that it segfaults when a logit exceeds 100: a crash in the middle of a certification."""
    x = np.asarray(x)
    if x.size and np.nanmax(np.where(np.isfinite(x), np.abs(x), 0)) > 100:
        ctypes.string_at(0)
    with np.errstate(all="ignore"):
        m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0)
        e = np.exp(x - m)
        return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)


def chatty(x, axis=-1):
    """Prints to stdout on every call; must not corrupt the worker's protocol."""
    print("hello from the target")
    from implementations.numpy_reference import softmax

    return softmax(x, axis=axis)


def wrong_past_40_classes(x, axis=-1):
    """Right on short rows, 1% too large on rows of more than 40 classes: its counterexamples are
    long arrays, so its repro loads them from a file beside the certificate."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    out = e / e.sum(axis=axis, keepdims=True)
    if x.shape[axis] > 40:
        out = out * np.asarray(1.01, dtype=x.dtype)
    return out.astype(x.dtype)


def aborts_on_reduced_length_one(x, axis=-1):
    """Right, except that it aborts the process on every input of two or more dimensions whose reduced
    axis has length 1, in every dtype (exactly where mlx.nn.log_softmax 0.32 segfaults): the crash's
    signature is widened to that, and the other properties stop meeting it."""
    if getattr(x, "ndim", 0) >= 2 and x.shape[axis] == 1:
        os.abort()
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(x.dtype)


def aborts_on_width_one(x, axis=-1):
    """Right, except that it aborts the process on a 2-D input whose last axis has length 1 (like
    mlx.nn.log_softmax segfaulting there): the crash is shrunk to (1, 1), and the other properties
    skip that shape and report their own results."""
    if getattr(x, "ndim", 0) == 2 and x.shape[-1] == 1:
        os.abort()
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(x.dtype)
