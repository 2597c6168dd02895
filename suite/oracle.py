"""Reference values for the deterministic ops, in higher precision than the output.

Inputs are the rounded arrays the implementation received; every float16,
bfloat16, float32 and float64 value is exact in float64 and in NumPy's long
double (x87 80-bit extended on x86-64 Linux: 64 significand bits, u_w = 2**-64).

Algorithm (the shifted log-sum-exp with log1p of Blanchard, Higham & Higham,
IMA J. Numer. Anal. 41(4), 2021, sec. 3, evaluated in extended precision with
the few steps that extended precision alone would get wrong made exact). The
working precision is long double (u_w = 2**-64) for float64 inputs and float64
(u_w = 2**-53) for float16, bfloat16 and float32 inputs, whose outputs have
ULPs 2**29 times coarser:

1. a = max_j x_j, k = its index. d_j = x_j - a is formed in float64 as an
   unevaluated sum hi_j + lo_j (TwoSum, exact, |lo_j| <= 2**-53 |hi_j|); for
   float64 inputs both parts are carried into long double, exactly. Rounding
   d_j itself would cost 2**-53 |d_j| relative in exp(d_j) (2**-64 |d_j| in
   long double), i.e. up to 2**-46 for float32 outputs (|d_j| < 104
   wherever softmax_j is above float32's underflow) and 2**-51 for float64
   ones (|d_j| near 11000): too much for the claims below. For inputs of 32
   bits or less TwoSum is mostly unnecessary, and skipped where it provably
   is: for float16, x_j - a is always exact in float64 (float16 values are
   multiples of 2**-24 below 2**16 in magnitude, so their differences need at
   most 41 bits); for float32 and bfloat16 it is
   exact whenever |x_j| and |a| are within a factor 2**28 (24-bit significands
   at most 28 binades apart, a difference below 2**(28 + 25) units of the
   smaller one's last place), which one min and one max of |x| per block check.
2. e_j = exp(hi_j) (1 + lo_j): relative error about 2 u_w (the neglected
   lo_j**2 / 2 is below 2**-79 wherever exp(hi_j) does not underflow).
3. s = sum_{j != k} e_j: pairwise summation within blocks of 2**15 entries and
   then across the blocks, relative error at most about (20 + log2 n) u_w;
   log S = log1p(s), so that log_softmax at the argmax, -log1p(s), is accurate
   even when s < u_w. (The argmax's own term, exactly 1, is left out of the sum
   by zeroing it in place, not by a copy.)
4. softmax_j = e_j / (1 + s); log_softmax_j = (hi_j - log S) + lo_j (no
   cancellation: hi_j <= 0 <= log S); LSE = a + log S; cross-entropy
   (a - x_t) + log S, with a - x_t again formed exactly.

The oracle's own relative error is therefore a few units of 2**-64 (times
log2 n) for float64 inputs: below 2**-8 ULP of float64; and a few units of
2**-53 (times log2 n) for the narrower inputs: below 2**-26 ULP of float32.
Results are long double for float64 inputs and float64 otherwise (logsumexp,
cross_entropy and temperature_softmax: long double always). The one
exception is cancellation in LSE = a + log S when a < 0 and LSE is near 0: the
absolute error would be about 2**-63 (|a| + log S), so rows where |LSE| <
2**-6 (|a| + log S) are recomputed with mpmath at 40 digits (rare: the row's
maximum must be negative and almost cancel log S). tests/test_oracle.py checks
all of this against mpmath at 60 digits, including rows of 262144 float32
logits.

Speed: rows are processed in blocks of about 2**15 elements (whole rows when
they are short, column chunks of one row when they are long), so that the
float64 temporaries of steps 1 to 3 stay in the L2 cache and each step costs
arithmetic rather than a trip to memory; outputs are written in place. For
float32 inputs the oracle then runs within a small factor of a plain NumPy
float64 softmax (benchmarks/bench_suite.py, ``OracleAtKernelScale``). Long
double arithmetic is x87 scalar code, about 30 times slower per element: the
float64 oracle is correspondingly slower.

``row_statistics`` gives, from the same pass in float64, the per-row
quantities the error bounds need (the maximum, log S, the softmax weights and
the weighted mean gap sum_j s_j (a - x_j)).

The method needs a 64-bit long double. Where long double is plain double
(MSVC, macOS on arm64) ``EXTENDED`` is False, the float64 oracle is only as
good as a careful float64 evaluation, and tests/test_oracle.py says so by
failing its precision test rather than silently passing.

Conventions (the mathematical limits, which the contract follows):
  all -inf row:    softmax NaN, log_softmax NaN, logsumexp -inf
  +inf entry:      logsumexp +inf; softmax/log_softmax NaN (inf/inf)
  NaN entry:       the whole row NaN
  empty axis:      logsumexp -inf (log of the empty sum); softmax and
                   log_softmax an empty array
(Rows that are not finite, a NaN, a +inf or no entry above -inf, are simply
evaluated unshifted, a = 0 and log S = log sum_j exp(x_j), which gives these.)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

WIDE = np.longdouble
EXTENDED = np.finfo(WIDE).nmant >= 63

# Elements per block: the few float64 temporaries of a block (256 KiB each) stay in the L2
# cache while the elementwise steps run over them.
BLOCK = 1 << 15


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """hi + lo = a + b exactly (Knuth's TwoSum), lo = 0 where the sum is not finite."""
    with np.errstate(all="ignore"):
        hi = a + b
        bb = hi - a
        lo = (a - (hi - bb)) + (b - bb)
    return hi, np.where(np.isfinite(hi), lo, 0.0)


def _to_wide(hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(D, r) in long double with D + r = hi + lo to 2**-128 relative, |r| <= u_w |D|."""
    h = hi.astype(WIDE)
    l = lo.astype(WIDE)
    with np.errstate(all="ignore"):
        big = h + l
        r = (h - big) + l
    return big, np.where(np.isfinite(big), r, 0)


def _rows(x, axis: int) -> tuple[np.ndarray, tuple, int]:
    """(rows, moved shape, axis): x with ``axis`` moved last, contiguous, as (R, n) rows."""
    x = np.asarray(x)
    if not -x.ndim <= axis < x.ndim:
        raise np.exceptions.AxisError(axis, x.ndim)
    axis %= x.ndim
    moved = np.ascontiguousarray(x if axis == x.ndim - 1 else np.moveaxis(x, axis, -1))
    return moved.reshape(math.prod(moved.shape[:-1]), moved.shape[-1]), moved.shape, axis


def _unrows(flat: np.ndarray, moved_shape: tuple, axis: int) -> np.ndarray:
    """Undo _rows for per-entry results (or, with moved_shape[-1] == 1, for keepdims ones)."""
    out = flat.reshape(moved_shape)
    return out if axis == len(moved_shape) - 1 else np.moveaxis(out, -1, axis)


def _kind(rows: np.ndarray) -> str:
    """"wide": long double input (the temperature quotient), computed as it is; "extended":
    float64 input, x - a exact in float64 and carried into long double; "double": inputs of 32
    bits or less, computed in float64 with x - a exact."""
    if rows.dtype == WIDE and WIDE != np.float64:
        return "wide"
    return "double" if rows.dtype.itemsize <= 4 else "extended"


def _exact_source(rows: np.ndarray, kind: str) -> np.ndarray:
    """The input as an array that holds every value exactly and that NumPy reduces fast: float32
    or float64 for "double" and "extended", long double for "wide"."""
    if kind == "wide" or rows.dtype in (np.float32, np.float64):
        return rows
    if kind == "double" and rows.dtype.name == "bfloat16" and rows.dtype.itemsize == 2:
        # bfloat16 is the upper half of a float32: widening the bits is exact, and several
        # times faster than ml_dtypes' cast
        bits = rows.view(np.uint16).astype(np.uint32)
        bits <<= 16
        return bits.view(np.float32)
    return rows.astype(np.float64)  # float16 and the rest (NumPy's float16 argmax is very slow)


def _blocks(n_rows: int, n: int):
    """(r0, r1, c0, c1) covering (n_rows, n) with at most BLOCK elements each: whole rows when
    they are short, else one row in column chunks of BLOCK (every block is contiguous)."""
    if n == 0:
        return
    if n <= BLOCK:
        step = BLOCK // n
        for r0 in range(0, n_rows, step):
            yield r0, min(n_rows, r0 + step), 0, n
    else:
        for r0 in range(n_rows):
            for c0 in range(0, n, BLOCK):
                yield r0, r0 + 1, c0, min(n, c0 + BLOCK)


class _Scratch:
    """Flat buffers reused from block to block, viewed in a block's shape."""

    def __init__(self, n_rows: int, n: int):
        self.size = min(BLOCK, n) * (1 if n > BLOCK else min(n_rows, BLOCK // max(n, 1)))
        self._buffers = {}

    def __call__(self, name: str, dtype, shape) -> np.ndarray:
        buffer = self._buffers.get(name)
        if buffer is None or buffer.dtype != dtype:
            buffer = self._buffers[name] = np.empty(self.size, dtype=dtype)
        return buffer[: shape[0] * shape[1]].reshape(shape)


def _within_28_binades(xb: np.ndarray, a: np.ndarray, scratch: _Scratch) -> bool:
    """True if every |x_j| of a float32 block and its rows' |a| lie within a factor 2**28 of each
    other: then every x_j - a is exact in float64 (step 1). False with a NaN or an infinity."""
    magnitude = scratch("abs", np.float32, xb.shape)
    np.abs(xb, out=magnitude)
    return bool(magnitude.min() >= 2.0**-28 * max(magnitude.max(), np.abs(a).max()))


def _shift_block(xb: np.ndarray, a: np.ndarray, kind: str, shortcut: str, scratch: _Scratch):
    """(d, r) with d + r = xb - a exactly and |r| <= 2**-53 |d| (step 1), in the compute dtype;
    r is None where it is 0 throughout the block, and 0 where an entry or its row is not finite.
    ``shortcut``: "exact" (float16 inputs, fl(x_j - a) is always exact), "binades" (float32
    source: exact if _within_28_binades) or "twosum"."""
    shape = xb.shape
    if kind == "wide":
        d = scratch("d", WIDE, shape)
        np.subtract(xb, a, out=d)
        return d, None
    if xb.dtype == np.float64:
        w = xb
    else:
        w = scratch("w", np.float64, shape)
        np.copyto(w, xb)  # float32 to float64: exact
    if kind == "double" and (shortcut == "exact" or (shortcut == "binades" and _within_28_binades(xb, a, scratch))):
        hi = scratch("hi", np.float64, shape)
        np.subtract(w, a, out=hi)
        return hi, None
    hi, bb, lo = scratch("hi", np.float64, shape), scratch("bb", np.float64, shape), scratch("lo", np.float64, shape)
    # TwoSum of w and -a: hi = fl(w - a), lo = (w - (hi - bb)) - (a + bb) with bb = hi - w
    np.subtract(w, a, out=hi)
    np.subtract(hi, w, out=bb)
    np.subtract(hi, bb, out=lo)
    np.subtract(w, lo, out=lo)
    np.add(bb, a, out=bb)
    np.subtract(lo, bb, out=lo)
    exact = lo.view(np.uint64).max() == 0  # every bit zero; the fastest test NumPy offers
    if not exact:
        lo[np.isnan(lo)] = 0  # an x_j = -inf (a masked entry) or a row that is not finite
    if kind == "double":
        return hi, (None if exact else lo)
    d = scratch("d", WIDE, shape)
    np.copyto(d, hi)  # float64 into long double: exact
    if exact:
        return d, None
    r = scratch("r", WIDE, shape)
    np.copyto(r, lo)
    return d, r


class _Shifted:
    """Steps 1 to 3 over contiguous rows (R, n), in one blocked pass.

    Per row, shape (R, 1): ``row_max`` (in the source dtype), ``finite``, ``a`` (the row
    maximum, 0 where the row is not finite), ``total`` (S = 1 + s), ``log_total`` (log S) and,
    with ``mean_gap=True``, ``gap_sum`` = sum_j e_j (a - x_j). ``out`` (R, n), in the compute
    dtype: e_j (keep="e") or hi_j, the leading part of x_j - a (keep="d"; ``inexact`` lists the
    blocks where some lo_j is not 0). ``source``: the input as _exact_source gives it.
    Rows that are not finite are evaluated unshifted (a = 0, S = sum_j exp(x_j)): the
    conventions of the module docstring follow."""

    def __init__(self, rows: np.ndarray, keep: str | None = None, kind: str | None = None, mean_gap: bool = False):
        self.kind = kind or _kind(rows)
        self.source = src = _exact_source(rows, self.kind)
        if self.kind == "double" and rows.dtype == np.float16:
            self.shortcut = "exact"
        else:
            self.shortcut = "binades" if src.dtype == np.float32 else "twosum"
        n_rows, n = rows.shape
        compute = np.float64 if self.kind == "double" else WIDE
        everyone = np.arange(n_rows)
        with np.errstate(all="ignore"):
            if n:
                k = np.argmax(src, axis=-1)  # the first NaN where there is one
                self.row_max = src[everyone, k][:, None]
            else:
                k = np.zeros(n_rows, dtype=np.intp)
                self.row_max = np.full((n_rows, 1), -np.inf, dtype=src.dtype)
            self.finite = np.isfinite(self.row_max)
            self.a = self.row_max.astype(WIDE if self.kind == "wide" else np.float64)
            self.a[~self.finite] = 0
            self.out = np.empty((n_rows, n), dtype=compute) if keep else None
            chunks = -(-n // BLOCK) if n > BLOCK else 1
            partial = np.zeros((n_rows, chunks), dtype=compute)
            gaps = np.zeros((n_rows, chunks), dtype=compute) if mean_gap else None
            top = np.zeros(n_rows, dtype=compute)  # e_k, the argmax's own term (1 in a finite row)
            self.inexact = []
            scratch = _Scratch(n_rows, n)
            for r0, r1, c0, c1 in _blocks(n_rows, n):
                shape = (r1 - r0, c1 - c0)
                d, r = _shift_block(src[r0:r1, c0:c1], self.a[r0:r1], self.kind, self.shortcut, scratch)
                e = self.out[r0:r1, c0:c1] if keep == "e" else scratch("e", compute, shape)
                np.exp(d, out=e)
                if r is not None:
                    self.inexact.append((r0, r1, c0, c1))
                    np.add(r, 1, out=r)  # e_j (1 + lo_j); lo is not needed any more
                    np.multiply(e, r, out=e)
                if keep == "d":
                    np.copyto(self.out[r0:r1, c0:c1], d)
                # s = sum over j != k: zero the argmax's term in place for the sum (log1p(s) is
                # then accurate however small s is), and put it back afterwards
                if shape[1] == n:
                    here, cols = everyone[: shape[0]], k[r0:r1]
                else:
                    kb = k[r0:r1]
                    here = np.flatnonzero((kb >= c0) & (kb < c1))
                    cols = kb[here] - c0
                top[r0 + here] = e[here, cols]
                e[here, cols] = 0
                np.sum(e, axis=-1, out=partial[r0:r1, c0 // BLOCK])
                if mean_gap:
                    product = scratch("p", compute, shape)
                    np.multiply(e, d, out=product)
                    gap = gaps[r0:r1, c0 // BLOCK]
                    np.sum(product, axis=-1, out=gap)
                    if np.isnan(gap).any():
                        product[np.isnan(product)] = 0  # 0 * -inf at masked entries
                        np.sum(product, axis=-1, out=gap)
                if keep == "e":
                    e[here, cols] = top[r0 + here]
            s = np.sum(partial, axis=-1, keepdims=True)
            self.total = np.where(self.finite, 1 + s, s + top[:, None])
            self.log_total = np.where(self.finite, np.log1p(s), np.log(self.total))
            if mean_gap:
                self.gap_sum = -np.sum(gaps, axis=-1, keepdims=True)

    def log_softmax_into_out(self) -> None:
        """out = (hi - log S) + lo, in place (after keep="d"); lo is recomputed where it is not 0."""
        with np.errstate(all="ignore"):
            np.subtract(self.out, self.log_total, out=self.out)
            scratch = _Scratch(*self.out.shape)
            for r0, r1, c0, c1 in self.inexact:
                # lo in float64 (exact), added in the compute dtype: long double + float64 promotes
                _, lo = _shift_block(self.source[r0:r1, c0:c1], self.a[r0:r1], "double", self.shortcut, scratch)
                if lo is not None:
                    view = self.out[r0:r1, c0:c1]
                    np.add(view, lo, out=view)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    rows, moved, axis = _rows(x, axis)
    t = _Shifted(rows, keep="e")
    with np.errstate(all="ignore"):
        np.divide(t.out, t.total, out=t.out)
    return _unrows(t.out, moved, axis)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    rows, moved, axis = _rows(x, axis)
    t = _Shifted(rows, keep="d")
    t.log_softmax_into_out()
    return _unrows(t.out, moved, axis)


CANCELLATION = 2.0**-6


def logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    rows, moved, _ = _rows(x, axis)
    t = _Shifted(rows)
    with np.errstate(all="ignore"):
        a = t.a.astype(WIDE)
        y = (a + t.log_total)[:, 0]
        cancels = np.isfinite(y) & (np.abs(y) < CANCELLATION * (np.abs(a) + t.log_total)[:, 0])
    if np.any(cancels) and t.kind != "wide":
        # a < 0 < log S nearly cancel: the long double sum has an absolute error of about
        # 2**-64 (|a| + log S), large relative to |y|. Such rows are rare; mpmath redoes them.
        for i in np.flatnonzero(cancels):
            y[i] = _mp_logsumexp(rows[i])
    return y.reshape(moved[:-1])


def _mp_logsumexp(row: np.ndarray) -> WIDE:
    """log sum exp(row) to 40 digits with mpmath, rounded to long double."""
    import mpmath

    with mpmath.workdps(40):
        terms = [mpmath.exp(mpmath.mpf(float(v))) for v in row.astype(np.float64) if not np.isneginf(v)]
        return WIDE(mpmath.nstr(mpmath.log(mpmath.fsum(terms)), 30, strip_zeros=False))


def cross_entropy(logits: np.ndarray, targets: np.ndarray, **options) -> np.ndarray:
    """The exact loss; with no option the per-row LSE(x_r) - x_r[t_r] (the plain form), else
    :func:`cross_entropy_with_options`."""
    if options_in_use(options):
        return cross_entropy_with_options(logits, targets, **options)
    return _plain_cross_entropy(logits, targets)


def _plain_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    rows, _, _ = _rows(logits, -1)
    t = _Shifted(rows)
    target_logit = t.source[np.arange(rows.shape[0]), np.asarray(targets).reshape(-1)][:, None]
    with np.errstate(all="ignore"):
        if t.kind == "wide":
            gap, gap_lo = t.a - target_logit, 0
        else:
            gap, gap_lo = _to_wide(*_two_sum(t.a, -target_logit.astype(np.float64)))
        return ((gap + t.log_total) + gap_lo)[:, 0]


# ---------------------------------------------------------------------------
# cross_entropy's options (suite.ops.CROSS_ENTROPY_OPTIONS), as trainers call it. Definitions, with
# K classes, x' the logits after soft-capping, LSE_r = LSE(x'_r), w the class weights (1 without):
#
#   softcap c         x' = c tanh(x / c)                           (Gemma 2, arXiv:2408.00118 sec. 2;
#                                                                   Liger-Kernel's softcap)
#   label_smoothing e nll_r = LSE_r - x'_r[t_r],  smooth_r = sum_j w_j (LSE_r - x'_rj)
#   weight w          ce_r = (1 - e) w[t_r] nll_r + (e / K) smooth_r
#                     (torch.nn.functional.cross_entropy: aten/src/ATen/native/LossNLL.cpp,
#                      cross_entropy_loss_label_smoothing: nll_loss with weights, plus the
#                      smoothing term -sum_j w_j log_softmax_rj, scaled e / K)
#   z_loss z          z_r = z LSE_r^2                              (PaLM, JMLR 24 (2023) sec. 5;
#                                                                   Liger-Kernel's lse_square_scale)
#   ignore_index i    rows with t_r = i contribute 0 and count in no denominator (torch)
#   reduction         "none": ce_r + z_r per row (0 at ignored rows)
#                     "sum":  sum_r (ce_r + z_r)
#                     "mean": sum_r ce_r / D + sum_r z_r / M, M = the rows not ignored, D = sum of
#                             w[t_r] over them (M without weights): torch's weighted mean, and
#                             Liger-Kernel's z-loss mean over M (torch has no z-loss)
#
# Evaluated in extended precision: nll with the plain oracle (x' in long double where soft-capped),
# LSE and log_softmax with the oracle's shifted algorithm, the sums in long double (their terms
# are nonnegative: no cancellation). An "all ignored" mean is 0/0 = NaN, as torch gives.
# ---------------------------------------------------------------------------

CROSS_ENTROPY_DEFAULTS = {
    "ignore_index": None, "label_smoothing": 0.0, "weight": None, "reduction": "none", "z_loss": 0.0, "softcap": None,
}


def options_in_use(options: dict) -> dict:
    """The options of ``options`` that differ from their default (the plain form has none);
    an unknown name raises ValueError."""
    unknown = set(options) - set(CROSS_ENTROPY_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown cross_entropy option(s) {sorted(unknown)}; known: {list(CROSS_ENTROPY_DEFAULTS)}")
    return {k: v for k, v in options.items() if v is not None and not (k != "weight" and v == CROSS_ENTROPY_DEFAULTS[k])}


@dataclass(frozen=True)
class CrossEntropyTerms:
    """The per-row quantities of the options' definition (long double, shape (N,) unless noted)."""

    capped: np.ndarray  # x' (N, K): the logits, soft-capped where softcap is given (long double then)
    kept: np.ndarray  # bool: the rows not ignored
    targets: np.ndarray  # t_r, with 0 at ignored rows (any valid id: their terms are zeroed)
    weight: np.ndarray  # w (K,): the class weights, ones without
    weighted: bool
    eps: WIDE
    z: WIDE
    lse: np.ndarray  # LSE_r of x'
    nll: np.ndarray  # LSE_r - x'_r[t_r]
    smooth: np.ndarray  # sum_j w_j (LSE_r - x'_rj) (0 without smoothing)
    ce: np.ndarray  # (1 - e) w[t_r] nll_r + (e / K) smooth_r, 0 at ignored rows
    zl: np.ndarray  # z LSE_r^2, 0 at ignored rows
    reduction: str
    softcap: float | None

    @property
    def target_weight(self) -> np.ndarray:
        return self.weight[self.targets]

    @property
    def denominators(self) -> tuple[WIDE, WIDE]:
        """(D, M) of the mean: the kept rows' target weights summed, and their count."""
        kept = self.kept
        return np.sum(np.where(kept, self.target_weight, 0)), WIDE(np.count_nonzero(kept))


def soft_cap(logits: np.ndarray, softcap: float | None) -> np.ndarray:
    """x' = c tanh(x / c) in long double (tanhl: a few units of 2**-64), or x itself without a cap."""
    if softcap is None:
        return np.asarray(logits)
    c = WIDE(softcap)
    with np.errstate(all="ignore"):
        return c * np.tanh(np.asarray(logits).astype(WIDE) / c)


def cross_entropy_terms(logits: np.ndarray, targets: np.ndarray, ignore_index=None, label_smoothing=0.0, weight=None,
                        reduction: str = "none", z_loss=0.0, softcap=None) -> CrossEntropyTerms:
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"reduction={reduction!r}: choose 'none', 'mean' or 'sum'")
    x = soft_cap(logits, softcap)
    n, k = x.shape
    targets = np.asarray(targets).reshape(-1).astype(np.int64)
    kept = np.ones(n, dtype=bool) if ignore_index is None else targets != int(ignore_index)
    safe = np.where(kept, targets, 0)
    w = np.ones(k, dtype=WIDE) if weight is None else np.asarray(weight).astype(WIDE)
    eps, z = WIDE(label_smoothing), WIDE(z_loss)
    with np.errstate(all="ignore"):
        nll = _plain_cross_entropy(x, safe).astype(WIDE)
        lse = logsumexp(x, axis=-1).astype(WIDE)
        if eps:
            # -sum_j w_j log_softmax_rj: nonnegative terms; a zero weight contributes 0 whatever its term
            terms = -log_softmax(x, axis=-1).astype(WIDE) * w
            smooth = np.sum(np.where(w == 0, 0, terms), axis=-1)
        else:
            smooth = np.zeros(n, dtype=WIDE)
        ce = (1 - eps) * w[safe] * nll + (eps / WIDE(k)) * smooth
        zl = z * lse * lse
    zero = WIDE(0)
    return CrossEntropyTerms(x, kept, safe, w, weight is not None, eps, z, lse, nll, smooth,
                             np.where(kept, ce, zero), np.where(kept, zl, zero), reduction, softcap)


def cross_entropy_with_options(logits: np.ndarray, targets: np.ndarray, **options) -> np.ndarray:
    """The exact loss under the options (definitions above): (N,) for reduction "none", a 0-d
    array for "mean" and "sum"; long double."""
    t = cross_entropy_terms(logits, targets, **options)
    with np.errstate(all="ignore"):
        if t.reduction == "none":
            return t.ce + t.zl
        if t.reduction == "sum":
            return np.asarray(np.sum(t.ce) + np.sum(t.zl))
        d, m = t.denominators
        return np.asarray(np.sum(t.ce) / d + (np.sum(t.zl) / m if t.z else WIDE(0)))


def temperature_softmax(x: np.ndarray, temperature: float, axis: int = -1) -> np.ndarray:
    """softmax of the exact quotient x / T, carried in long double (the quotient is the input
    of the mathematical function; rounding it is the implementation's error)."""
    with np.errstate(all="ignore"):
        return softmax(np.asarray(x).astype(WIDE) / WIDE(temperature), axis=axis)


@dataclass(frozen=True)
class RowStatistics:
    """Per-row quantities of the shifted algorithm for the error bounds, float64, keepdims.

    Over the row's finite entries (entries that are -inf, +inf or NaN are left out, as masked):
      row_max   a = max_j x_j; -inf in a row without a finite entry
      log_sum   log S, S = sum_j exp(x_j - a), in [0, log n]; -inf without a finite entry
      weights   s_j = exp(x_j - a) / S, the softmax (shape of x): 0 at the left-out entries
                and throughout a row without a finite entry
      mean_gap  w = sum_j s_j (a - x_j) >= 0, the weights' mean distance below the maximum
                (at most min(a - min_j x_j, (n - 1) / e)); 0 without a finite entry
    Computed in float64 whatever the input (long double inputs are rounded to float64 first):
    a is exact, log_sum and weights are accurate to a few units of 2**-53 (times log2 n), and
    mean_gap to about n 2**-53 relative, far more than a bound needs. Where the row is finite,
    weights is the oracle's softmax for inputs of 32 bits or less.
    """

    row_max: np.ndarray
    log_sum: np.ndarray
    weights: np.ndarray
    mean_gap: np.ndarray


def row_statistics(x: np.ndarray, axis: int = -1) -> RowStatistics:
    """RowStatistics of x along ``axis``, in one blocked float64 pass (the oracle's)."""
    rows, moved, axis = _rows(x, axis)
    t = _Shifted(rows, keep="e", kind="double", mean_gap=True)
    with np.errstate(all="ignore"):
        weights = t.out
        np.divide(weights, t.total, out=weights)
        row_max, log_sum, mean_gap = t.row_max.astype(np.float64), t.log_total, t.gap_sum / t.total
        special = np.flatnonzero(~t.finite[:, 0])
        if special.size:
            # a NaN or a +inf in the row, or no finite entry: redo those rows without them
            rest = t.source[special].astype(np.float64)
            rest[~np.isfinite(rest)] = -np.inf
            u = _Shifted(rest, keep="e", kind="double", mean_gap=True)
            none = ~u.finite
            weights[special] = np.where(none, 0, u.out / u.total)
            row_max[special] = np.where(none, -np.inf, u.row_max)
            log_sum[special] = np.where(none, -np.inf, u.log_total)
            mean_gap[special] = np.where(none, 0, u.gap_sum / u.total)
    keepdims = moved[:-1] + (1,)
    return RowStatistics(
        row_max=_unrows(row_max, keepdims, axis),
        log_sum=_unrows(log_sum, keepdims, axis),
        weights=_unrows(weights, moved, axis),
        mean_gap=_unrows(mean_gap, keepdims, axis),
    )
