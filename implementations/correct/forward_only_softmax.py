"""A forward-only torch softmax: computed without autograd, as an inference kernel is.

Why it is correct: the values are softmax(x), computed as exp(x - max) / sum
in the input's dtype with float32 accumulation for 16-bit inputs; it has no
backward pass (its output never requires grad), which is what a Triton or CUDA
inference kernel without an autograd.Function looks like. Declared
``forward_only``, as ``softmax-suite certify --forward-only`` declares it: its
gradient properties are skipped with that reason, not failed, and every
forward property must pass.
"""
import torch

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "torch", "forward_only": True},
]


def softmax(x, axis=-1):
    with torch.no_grad():
        work = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
        shifted = work - work.amax(dim=axis, keepdim=True)
        e = torch.exp(shifted)
        return (e / e.sum(dim=axis, keepdim=True)).to(x.dtype)
