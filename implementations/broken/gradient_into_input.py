"""A fused cross-entropy-style softmax that stores its gradient in the caller's logits.

What is wrong: to save memory, a fused forward-backward kernel computes the
gradient during the forward pass and writes it over the input tensor when the
input requires grad (softmax minus nothing here: the probabilities themselves),
returning the forward result it computed first. Called without grad, as an
inference test calls it, the input is untouched; called as training calls it,
the caller's logits are gone after the forward. Seen in: linkedin/Liger-Kernel's
LigerCrossEntropyFunction, which writes the gradient into the logits tensor in
its forward pass (documented as an in-place optimisation; its callers must not
reuse the logits), and the same trick in fused cross-entropy kernels of training
stacks.
Must be caught by: input_unmodified (its call with x requiring grad).
"""
import torch

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "torch", "dtypes": ["float32"], "caught_by": ["input_unmodified"]},
]


def softmax(x, axis=-1):
    out = torch.softmax(x.detach(), dim=axis)
    if x.requires_grad:
        x.data.copy_(out)  # the bug: "the logits are not needed any more"
    return out
