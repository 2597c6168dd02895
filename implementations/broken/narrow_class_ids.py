"""A cross-entropy that stores class ids in a 16-bit integer.

What is wrong: the targets are converted to int16 before the gather (a kernel
that packs labels into a short, or a dataset pipeline that picked the smallest
type that held the ids it saw). Every id up to 32767 is right, so vocabularies
of a few thousand classes pass; ids from 32768 wrap to negative numbers, which
Python-style indexing silently reads from the end of the row
(logits[t - 65536]), and ids from 65536 wrap to t mod 65536. With a GPT-2 or
Llama vocabulary (50257, 128256 classes) a large share of the losses are
taken against the wrong class, finite and plausible.
Seen in: the class of bugs behind pytorch/pytorch#84144 and #111484 and
microsoft/onnxruntime#32299 (indices in too narrow an integer type wrap and
give silently wrong results); vocabulary ids stored as uint16/int16 to save
memory in tokenised datasets.
Must be caught by: class_ids (the other cross-entropy properties draw fewer
than 32768 classes).
"""
import numpy as np

from implementations import numpy_reference

ZOO = [
    {"function": "cross_entropy", "op": "cross_entropy", "backend": "numpy", "dtypes": ["float32"], "caught_by": ["class_ids"]},
]


def cross_entropy(logits, targets):
    narrow = np.asarray(targets).astype(np.int16)  # the bug: ids >= 32768 wrap
    return numpy_reference.cross_entropy(logits, narrow.astype(np.int64))
