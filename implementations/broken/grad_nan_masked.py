"""log_softmax as log(softmax(x)): right forward at masked entries, NaN backward.

What is wrong: the forward gives -inf at -inf (masked) entries, as it should,
and matches log_softmax wherever softmax does not underflow. The backward of
log is g / s: at a masked entry s = 0, so g / s = +-inf, and softmax's backward
then forms s * (g / s - sum(s * g / s)) = 0 * inf = NaN, at the masked entry
and, through the sum, in every entry of the row. The exact gradient is finite:
g_i - s_i sum(g) (g_i at a masked entry). Seen in: tensorflow/tensorflow#11756
("Infinity mask breaks gradient"), pytorch/pytorch#31829 (NaN gradients of
softmax-family ops at -inf), FluxML/NNlib.jl#68 (logsoftmax's backward written
as softmax's backward of g ./ softmax(x)), jax-ml/jax#17070 and
google-deepmind/optax#1762 (NaN gradients with masked logits).
Must be caught by: grad_masked_entries.
"""
import torch

ZOO = [
    {
        "function": "log_softmax",
        "op": "log_softmax",
        "backend": "torch",
        "dtypes": ["float32", "float64"],
        "caught_by": ["grad_masked_entries"],
    },
]


def log_softmax(x, axis=-1):
    return torch.log(torch.softmax(x, dim=axis))
