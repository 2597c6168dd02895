"""The blog post's naive softmax in torch: exp(x) / sum(exp(x)), no max shift.

What is wrong: exp(1000) overflows to inf, so the row [1000, 1, -1000] gives
inf / inf = NaN in the forward and NaN in every entry of its gradient; the
other rows of the blog post's batch [[2, 1, 0.1], [1000, 1, -1000], [3, 2, 1]]
are fine, which is how it slips through small-logit unit tests. Seen in: the
seed blog post; hand-written softmax in model code (psychopa4/PFNL#9),
uTensor/uTensor#175, FluxML/NNlib.jl#68 (softmax's backward using exp without
the shift).
Must be caught by: grad_extreme_logits (and finite_outputs in the forward).
"""
import torch

ZOO = [
    {
        "function": "softmax",
        "op": "softmax",
        "backend": "torch",
        "dtypes": ["float32"],
        "caught_by": ["grad_extreme_logits", "finite_outputs"],
    },
]


def softmax(x, axis=-1):
    e = torch.exp(x)
    return e / e.sum(dim=axis, keepdim=True)
