"""gumbel_softmax whose hard=True sample is a plain one-hot, with no straight-through.

What is wrong: the forward is right (hard=True returns the one-hot argmax of the
soft sample), but the one-hot is built from argmax alone, so no gradient flows
back to the logits: the straight-through estimator y_hard - stop_gradient(y_soft)
+ y_soft was forgotten. Training with hard samples then silently freezes the
logits. Seen in: hand-rolled Gumbel-softmax layers that call one_hot(argmax(y))
where F.gumbel_softmax(hard=True) was meant.
Must be caught by: grad_straight_through.
"""
import torch

ZOO = [
    {
        "function": "gumbel_softmax",
        "op": "gumbel_softmax",
        "backend": "torch",
        "dtypes": ["float32"],
        "caught_by": ["grad_straight_through"],
    },
]


def gumbel_softmax(logits, tau, num_samples, seed, hard=False):
    generator = torch.Generator(device=logits.device).manual_seed(int(seed))
    uniform = torch.rand((num_samples,) + tuple(logits.shape), generator=generator, dtype=torch.float64, device=logits.device)
    gumbel = (-torch.log(-torch.log(uniform.clamp_min(1e-300)))).to(logits.dtype)
    soft = torch.softmax((logits + gumbel) / tau, dim=-1)
    if not hard:
        return soft
    return torch.nn.functional.one_hot(soft.argmax(dim=-1), logits.shape[-1]).to(logits.dtype)
