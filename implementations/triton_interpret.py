"""The glue of third-party Triton kernels run under Triton's interpreter: torch tensors on the CPU,
device "triton-interpret" (``certify mykernels:softmax --backend torch --device triton-interpret``).

Not a column of its own (it is not in suite.adapter.BUILTIN_MODULES): a target borrows its
conversions, its dtypes (no bfloat16: the interpreter cannot model it, see
suite/backends/torch.py) and its versions, which name Triton and the interpreted numerics.
"""
from __future__ import annotations

from implementations.torch_cpu import OPS
from implementations.triton_softmax import triton_adapter

ADAPTER = triton_adapter(
    "triton-interpret", OPS, device="triton-interpret",
    description="Triton kernels under the interpreter (TRITON_INTERPRET=1) on CPU tensors",
)
