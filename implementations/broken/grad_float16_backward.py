"""A torch.autograd.Function softmax whose backward runs in float16 to save memory.

What is wrong: the forward is torch.softmax in the input's dtype, but the
backward casts s and g to float16, forms s * (g - sum(s * g)) there and casts the
result back. Every gradient entry then carries float16's relative error
(u = 2^-11, 4096 float32 ULPs, 2^42 float64 ULPs) and a cotangent above 65504
overflows to inf. In float64 the gradient disagrees with every other backend by
about 1e-4 relative. Seen in: ROCm/MIOpen#3427 (the fp16 log-softmax
backward accumulated in fp16: err 2.4e-4 against 2.2e-5 with an fp32
accumulator, an ONNX test failure), apache/mxnet#14072 (softmax reductions in
fp16), pytorch/pytorch#30572 (mixed fp16/fp32 softmax backward); the forward
twin is float16_internal.py.
Must be caught by: grad_closed_form (float32, float64), grad_cross_backend
(float64, against the other differentiable backend) and grad_finite_differences.
"""
import torch

ZOO = [
    {
        "function": "softmax",
        "op": "softmax",
        "backend": "torch",
        "dtypes": ["float64"],
        "caught_by": ["grad_closed_form", "grad_cross_backend", "grad_finite_differences"],
    },
]


class _Softmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, axis):
        s = torch.softmax(x, dim=axis)
        ctx.save_for_backward(s)
        ctx.axis = axis
        return s

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        s16, g16 = s.half(), g.half()
        grad = s16 * (g16 - (s16 * g16).sum(ctx.axis, keepdim=True))
        return grad.to(s.dtype), None


def softmax(x, axis=-1):
    return _Softmax.apply(x, axis)
