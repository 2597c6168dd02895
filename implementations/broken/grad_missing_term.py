"""A torch.autograd.Function softmax whose backward drops the coupling term.

What is wrong: the forward is torch.softmax, correct to the last bit; the
backward returns s * g, only the diagonal of the Jacobian diag(s) - s s^T, and
drops - s * sum(s * g). The gradient is off by s_i * sum_j s_j g_j, which is
zero only when the cotangent is orthogonal to s, so a training loop still
"learns", just the wrong thing. Seen in: hand-written softmax layers in
from-scratch frameworks (eriklindernoren/ML-From-Scratch#71, the diagonal-only
x * (1 - x) derivative; pocketpy/cTensor#31, "the gradients weren't matching up
with PyTorch"; mlpack/mlpack#2360 for log-softmax's backward).
Must be caught by: grad_closed_form and regime_gradients (and
grad_finite_differences in float64); every forward property passes.
"""
import torch

ZOO = [
    {
        "function": "softmax",
        "op": "softmax",
        "backend": "torch",
        "dtypes": ["float32", "float64"],
        "caught_by": ["grad_closed_form", "regime_gradients", "grad_finite_differences"],
    },
]


class _Softmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, axis):
        s = torch.softmax(x, dim=axis)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return s * g, None  # should be s * (g - (s * g).sum(axis, keepdim=True))


def softmax(x, axis=-1):
    return _Softmax.apply(x, axis)
