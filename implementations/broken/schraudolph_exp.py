"""A softmax built on Schraudolph's bit-trick exp, with float32's range check applied to float16.

What is wrong: Schraudolph (Neural Computation 11(4), 1999) approximates exp(t)
by writing the integer int(A t + B) into the bits of a float: A = 2**m / ln 2
for m mantissa bits, B = the exponent bias times 2**m, minus a small correction.
It is accurate to about 4% (every probability is off by up to 4%), and it is
valid only while A t + B stays a positive integer: t > -88 in float32, but only
t > -10.4 in float16 (A = 1477.3, B = 15301). Below that the integer is
negative, its sign bit is set, and the "exponential" reads back as a negative
number or NaN: float16 t = -12 gives -2.7e4. A kernel whose test rows were
float32 (where the max shift keeps t > -88 on ordinary logits) then returns
negative "probabilities" for a float16 row spread by more than 10.4, e.g.
x = [0, -12] gives [-3.6e-05, 1.0]: the smaller logit gets all the mass.
Seen in: torch/nn#804 (an approximate exponential inside SoftMax), Theano/Theano#174
(a fast-exp flag for large softmax layers), The-OpenROAD-Project/OpenSTA#210
(fast exps with no correct bits outside their range), and fast-exp macros in
hand-vectorised inference kernels; the paper itself states the input range.
Must be caught by: in_unit_interval, monotonicity, definition, normwise_bound.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float16"],
     "caught_by": ["in_unit_interval", "monotonicity", "definition", "normwise_bound"]},
]

# (A, B, integer type) per float format: 2**m / ln 2 and bias * 2**m minus Schraudolph's correction.
_CONSTANTS = {
    np.dtype(np.float32): (2**23 / np.log(2.0), 127 * 2**23 - 486411, np.int32),
    np.dtype(np.float16): (2**10 / np.log(2.0), 15 * 2**10 - 59, np.int16),
}


def _fast_exp(t):
    a, b, integer = _CONSTANTS[t.dtype]
    # computed in float32 as the C macro does; the int32 -> int16 narrowing wraps
    bits = (np.float32(a) * t.astype(np.float32) + np.float32(b)).astype(np.int32).astype(integer)
    return bits.view(t.dtype)


def softmax(x, axis=-1):
    w = x if x.dtype in (np.float16, np.float32) else x.astype(np.float32)
    with np.errstate(all="ignore"):
        e = _fast_exp(w - np.max(w, axis=axis, keepdims=True))
        return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)
