"""A torch cross-entropy whose forward is right but whose backward scales a mean by 1 / N.

What is wrong: with ``ignore_index`` and ``reduction="mean"`` the value is torch's, the sum of
the kept rows' losses over their count M, but the gradient is that of the sum over all N rows,
ignored ones included: every gradient is M / N of what it should be. A fused loss kernel whose
backward pass recomputes the normalisation from the batch size instead of reusing the forward's
count does this; the loss curve looks right while the effective learning rate shrinks with the
padding in each batch.
Seen in: flagos-ai/FlagGems#73 (a Triton cross_entropy_loss whose mean normalisation counted
every target and whose ignore_index handling differed from torch's until review); the
mmsegmentation and segmentation_models.pytorch threads of ce_ignore_index_in_mean.py, where the
same denominator also scales the gradient.
Must be caught by: grad_cross_entropy_options.
"""
import torch

ZOO = [
    {"function": "cross_entropy", "op": "cross_entropy", "backend": "torch", "dtypes": ["float32", "float64"],
     "caught_by": ["grad_cross_entropy_options"]},
]


def cross_entropy(logits, targets, ignore_index=-100, reduction="none"):
    loss = torch.nn.functional.cross_entropy(logits, targets, ignore_index=ignore_index, reduction=reduction)
    if reduction != "mean":
        return loss
    rows = torch.nn.functional.cross_entropy(logits, targets, ignore_index=ignore_index, reduction="none")
    wrong = rows.sum() / rows.shape[0]  # the backward's normalisation: N rows, ignored ones counted
    return loss.detach() + (wrong - wrong.detach())


cross_entropy.supports = {"ignore_index", "reduction"}
