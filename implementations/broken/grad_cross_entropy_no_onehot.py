"""A torch.autograd.Function cross-entropy whose backward forgets to subtract the one-hot target.

What is wrong: the loss LSE(x) - x[t] has gradient g * (softmax(x) - onehot(t)).
This backward returns g * softmax(x), the gradient of LSE alone: the "- x[t]"
term of the forward has no counterpart. Every entry but the target's is right,
and the target's is off by exactly -g, so the gradient rows sum to g instead of
0; a model trained with it pushes every logit down and its target logit is never
pulled up. The forward (torch.logsumexp minus the gathered logit) is correct.
Seen in: fused softmax-cross-entropy kernels whose backward kernel reuses the
softmax and forgets the target (NVIDIA/TransformerEngine#2734 is the same
kernel family's layout bug; tensorflow/tensorflow#60314, gradients of
softmax + categorical cross-entropy that disagree with the fused op).
Must be caught by: grad_closed_form and grad_finite_differences.
"""
import torch

ZOO = [
    {
        "function": "cross_entropy",
        "op": "cross_entropy",
        "backend": "torch",
        "dtypes": ["float32", "float64"],
        "caught_by": ["grad_closed_form", "grad_finite_differences"],
    },
]


class _CrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, targets):
        ctx.save_for_backward(logits)
        picked = logits.gather(-1, targets.long().unsqueeze(-1)).squeeze(-1)
        return torch.logsumexp(logits, dim=-1) - picked

    @staticmethod
    def backward(ctx, g):
        (logits,) = ctx.saved_tensors
        return g.unsqueeze(-1) * torch.softmax(logits, dim=-1), None  # should subtract onehot(targets)


def cross_entropy(logits, targets):
    return _CrossEntropy.apply(logits, targets)
