"""A torch.autograd.Function temperature softmax whose backward forgets the 1/T factor.

What is wrong: d softmax(x / T) / dx is (1/T) times softmax's Jacobian at x / T;
the chain rule through the division is dropped, so the backward returns
s * (g - sum(s * g)) with s = softmax(x / T). At T = 1 it is exact, so a test at
the default temperature passes; at T = 0.5 every gradient is half what it should
be, at T = 2 twice. The forward is correct. Seen in: hand-written fused
"scaled softmax" backward kernels that reuse the plain softmax backward
(attention's 1/sqrt(d) scale handled in the forward only), and distillation
code that forgets the T^2 / 1/T bookkeeping of the temperature.
Must be caught by: grad_closed_form and grad_finite_differences (T = 0.5, 2).
"""
import torch

ZOO = [
    {
        "function": "temperature_softmax",
        "op": "temperature_softmax",
        "backend": "torch",
        "dtypes": ["float32", "float64"],
        "caught_by": ["grad_closed_form", "grad_finite_differences"],
    },
]


class _TemperatureSoftmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, temperature, axis):
        s = torch.softmax(x / temperature, dim=axis)
        ctx.save_for_backward(s)
        ctx.axis = axis
        return s

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return s * (g - (s * g).sum(ctx.axis, keepdim=True)), None, None  # missing / temperature


def temperature_softmax(x, temperature, axis=-1):
    return _TemperatureSoftmax.apply(x, temperature, axis)
