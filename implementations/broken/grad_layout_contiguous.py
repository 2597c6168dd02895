"""A softmax "kernel" launcher that assumes the last axis is contiguous.

What is wrong: like a Triton row-softmax launched with only the row strides,
the kernel addresses entry j of a row as row_start + j: it assumes unit
stride along the class axis. The launcher moves any other axis
last and calls .contiguous(), so every input made from a fresh array is right;
but a tensor already laid out with the class axis last and a non-unit last
stride (a transposed view, or every other entry of a larger tensor) is read from
the wrong addresses: for x = base.t() of a 3 x 8 base, row 0 of x is read as
base[0, 0:3] instead of base[:, 0].
The gradient, taken by autograd through the same addressing, lands on the
wrong entries of the base tensor (outside the view, too). Seen in:
flagos-ai/Torch-FL#171 and flagos-ai/FlagGems#5723 (softmax forward and
backward kernels indexing as if contiguous: wrong gradients on transposed
inputs), NVIDIA/TransformerEngine#2734 (cross-entropy Triton kernel with a
stride guard that only checks stride(-1)), tracel-ai/burn#4815 (softmax of a
transposed input computed on the underlying storage).
Must be caught by: grad_layouts (strided and transposed views); every forward
property passes, as their inputs are contiguous.
"""
import torch

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "torch", "dtypes": ["float32"], "caught_by": ["grad_layouts"]},
]


def _row_kernel(x):
    # the bug: the row strides are honoured, the class stride is taken to be 1
    rows = x.as_strided(x.shape, x.stride()[:-1] + (1,))
    e = torch.exp(rows - rows.amax(dim=-1, keepdim=True))
    return e / e.sum(dim=-1, keepdim=True)


def softmax(x, axis=-1):
    if axis % x.dim() != x.dim() - 1:
        return _row_kernel(x.movedim(axis, -1).contiguous()).movedim(-1, axis)
    return _row_kernel(x)  # "the last axis is contiguous already"
