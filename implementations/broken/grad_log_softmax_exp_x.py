"""A torch.autograd.Function log_softmax whose backward uses exp(x) for the probabilities.

What is wrong: d log_softmax / dx applied to g is g - s * sum(g) with
s = exp(log_softmax(x)). This backward writes g - exp(x) * sum(g), reading the
forward's formula "x - LSE(x)" with LSE dropped. It is off by a factor exp(LSE(x))
in the coupling term: exactly right only when LSE(x) = 0, so a unit test on
already-normalised log-probabilities passes; for x = [1, 2, 3] (LSE = 3.41) the
coupling is 30 times too large, and for x = 1000 exp(x) overflows to inf and the
gradient is -inf or NaN. The forward is torch.log_softmax, correct to the bit.
Seen in: hand-written log-softmax backward passes (mlpack/mlpack#2360, the
log-softmax derivative computed from the input rather than the output;
FluxML/NNlib.jl#68, exp without the shift in softmax's backward).
Must be caught by: grad_closed_form, grad_extreme_logits (the blog batch's row
[1000, 1, -1000]) and grad_finite_differences.
"""
import torch

ZOO = [
    {
        "function": "log_softmax",
        "op": "log_softmax",
        "backend": "torch",
        "dtypes": ["float32", "float64"],
        "caught_by": ["grad_closed_form", "grad_extreme_logits", "grad_finite_differences"],
    },
]


class _LogSoftmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.save_for_backward(x)
        ctx.axis = axis
        return torch.log_softmax(x, dim=axis)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g - torch.exp(x) * g.sum(ctx.axis, keepdim=True), None  # should be exp(log_softmax(x))


def log_softmax(x, axis=-1):
    return _LogSoftmax.apply(x, axis)
