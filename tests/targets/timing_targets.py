"""Third-party softmaxes that are right but misbehave only while the speed section times them
(tests/test_speed_section.py): the verdict must survive, the section must say what happened."""
from __future__ import annotations

import os
import sys

import numpy as np

from implementations.numpy_reference import softmax as reference_softmax


def _timing() -> bool:
    """Whether this call comes from suite.speed_section (the properties never call from there)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename.endswith("speed_section.py"):
            return True
        frame = frame.f_back
    return False


def crashes_when_timed(x, axis=-1):
    if _timing():
        os.abort()
    return reference_softmax(x, axis=axis)


def raises_when_timed(x, axis=-1):
    if _timing():
        raise MemoryError("no room for the timing run")
    return reference_softmax(x, axis=axis)


def three_times_the_work(x, axis=-1):
    """The reference, computed three times: a planted slowdown of 3x."""
    for _ in range(2):
        reference_softmax(x, axis=axis)
    return reference_softmax(x, axis=axis)


def softmax_with_out(x, axis=-1, out=None):
    """The reference, written into ``out`` when given (so the warm path is by ``out=``)."""
    result = reference_softmax(x, axis=axis)
    if out is None:
        return result
    np.copyto(out, result)
    return out


def slower_past_4096_classes(x, axis=-1):
    """The reference, computed five times on rows wider than 4096 classes: a planted cliff."""
    for _ in range(4 if x.shape[axis] > 4096 else 0):
        reference_softmax(x, axis=axis)
    return reference_softmax(x, axis=axis)
