"""Index widths: class ids and element indices past what a narrow integer holds.

Real vocabularies (50257, 128256, 256000 classes) put class ids past 32767 and
65535, where an id kept in a 16-bit integer wraps; arrays past 2**31 and 2**32
elements put flat indices where 32-bit index arithmetic wraps. Both give
finite, plausible, wrong results.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from suite import huge
from suite.assertions import assert_within
from suite.cases import TARGET_DTYPES, Case
from suite.ops import DETERMINISTIC_OPS
from suite.properties import FIXED, prop
from suite.properties.invariants import exact_in_dtype
from suite.runner import shown_array

# Vocabularies just past 2**15 and 2**16, a power of two and one just past 2**18.
LARGE_VOCABULARIES = (32769, 65537, 131072, 262145)
# Ids around the boundaries of int16 and uint16.
BOUNDARY_IDS = (32767, 32768, 32769, 65535, 65536, 65537, 131071, 131072)


@prop("cross_entropy", examples_scale=0.2, kernel_sizes=False)  # every example is a few rows of up to 262145 classes: its own kernel sizes
def class_ids(ctx):
    """cross_entropy(x, t)_r = LSE(x_r) - x_r[t_r] within the bound for vocabularies of K > 2**15
    classes and ids t_r >= 32768, >= 65536 and t_r = K - 1 (the top class), with int32 and
    int64 target arrays: no id is wrapped, truncated or clamped.

    No kernel-scale passes on top: its own vocabularies are kernel-scale already."""
    k = ctx.draw(st.sampled_from(LARGE_VOCABULARIES), "classes")
    n = ctx.draw(st.integers(2, 4), "rows")
    ids = st.sampled_from([t for t in BOUNDARY_IDS if t < k]) | st.integers(0, k - 1)
    rest = ctx.draw(st.lists(ids, min_size=n - 2, max_size=n - 2), "other targets")
    high = 65536 if k > 65536 else 32768
    targets = np.array([k - 1, high] + rest, dtype=ctx.draw(st.sampled_from(TARGET_DTYPES), "target dtype"))
    seed = ctx.draw(st.integers(0, 2**32 - 1), "generator seed")
    x = np.random.default_rng(seed).normal(0.0, 3.0, size=(n, k)).astype(ctx.np_dtype)
    ctx._record["draws"]["targets"] = shown_array(targets)
    case = Case("cross_entropy", x, -1, targets)
    out = case.run(ctx)
    assert_within(ctx, out, exact_in_dtype(case, ctx.dtype), case.bound(ctx.dtype), f"cross_entropy(x, t) with {k} classes")


@prop(*DETERMINISTIC_OPS, kind=FIXED, opt_in="huge")
def huge_indices(ctx):
    """For arrays past 2**31 and 2**32 elements, the rows that straddle element 2**31 and 2**32
    and the last rows equal the exact result within the bound, and every row is finite (and a
    softmax row sums to 1 within its bound): no 32-bit index wraps. Opt-in (--huge); skipped,
    with the memory it needs, where the machine has too little."""
    huge.check(ctx, huge.BOUNDARIES)
