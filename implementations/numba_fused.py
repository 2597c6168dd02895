"""A fused CPU softmax in Numba: the fast reference.

Per row (the class axis moved last and made contiguous), three passes over the
row, each a vectorised loop, rows split over Numba's threads (``prange``):

1. the maximum a (a vector reduction per block) and its first index;
2. s = sum of exp(x_j - a) over every entry but the first argmax (exp(0) = 1
   exactly, so other ties add exactly 1 each), in blocks of ``BLOCK`` entries
   whose partial sums (vector lanes, under reassociation) are added to the row
   total;
3. the write: softmax exp(x_j - a) / (1 + s), log_softmax (x_j - a) - log1p(s);
   logsumexp is a + log1p(s) and cross-entropy (a - x_t) + log1p(s).

This is the shifted log-sum-exp with log1p of ``numpy_reference`` (Blanchard,
Higham & Higham 2021, sec. 3), fused: the row is read from memory once and
stays in cache for passes 2 and 3. Outputs of ``STREAM_BYTES`` or more are
written with non-temporal stores (softmax keeps exp(x - a) in a per-thread
scratch row meanwhile), so memory sees one read and one write per entry, as a
copy does. Rows whose maximum is not finite (an all
-inf row, a +inf entry) or that hold a NaN take a scalar path that gives
exactly what ``numpy_reference`` gives; -inf entries in an ordinary row get
exactly 0 (log-probability -inf) on the fast path.

exp is our own, so that LLVM can vectorise it (Numba's ``math.exp`` is a scalar
libm call without SVML): Cody-Waite reduction t = n ln2 + r, |r| <= ln2 / 2,
a polynomial for exp(r) (Cephes' minimax for float32, Taylor to degree 13 for
float64: both within about 1 ULP), and the scale 2**n built from the bits of
n. Arguments are clamped below where exp underflows to 0, and the scale is
applied as (p * 2**(n + K)) * 2**-K so that subnormal results are rounded once,
not flushed. Fast-math flags are the subset that keeps NaN and infinity
semantics: reassociation (vector partial sums), contraction (FMA) and
reciprocal approximation are allowed, no-NaNs and no-infs are not.

float32 and float64 only: float16 and bfloat16 would be computed in float32
and rounded once (as numpy_reference does), which needs a conversion pass
NumPy does in C anyway, so a fused kernel gains nothing there; ml_dtypes'
bfloat16 is not a Numba type at all.

Every op also takes ``out=``: a pre-allocated (and pre-touched) array of the
result's shape and dtype, written in place and returned, which the benchmarks
use to measure the kernel without the page faults of a fresh allocation.
"""
from __future__ import annotations

import importlib.util
import math

import numpy as np

from suite.adapter import numpy_adapter

DTYPES = ("float32", "float64")
BLOCK = 512  # entries per partial sum in pass 2
STREAM_BYTES = 1 << 23  # outputs this large bypass the cache (non-temporal stores)

_NUMBA_MISSING = importlib.util.find_spec("numba") is None


def _numba_unavailable() -> str | None:
    if _NUMBA_MISSING:
        return "numba is not installed (pip install 'softmax-suite[fast]')"
    try:
        _kernels()
    except Exception as exc:  # noqa: BLE001 - a broken numba install is a reason, not a crash
        return f"numba could not be imported: {type(exc).__name__}: {exc}"
    return None


_KERNELS = None


def _kernels():
    """Build (once) and return the compiled kernels; numba is imported here, not at module import."""
    global _KERNELS
    if _KERNELS is None:
        _KERNELS = _build()
    return _KERNELS


# Constants per dtype: (1, clamp, log2e, ln2_hi, ln2_lo, K, 2**-K, polynomial coefficients high to
# low). Every constant the kernels use comes from here, typed in the row's dtype: Numba promotes
# float32 with a Python float or int to float64, which would double the cost of every loop.
# exp(t) rounds to 0 in the dtype for t <= clamp; after the clamp n >= -160 (float32) or -1097
# (float64), so n + K is in the normal exponent range and p * 2**(n + K) is exact.
_F32 = (
    np.float32(1.0),
    np.float32(-110.0),
    np.float32(1.44269504088896341),
    np.float32(0.693359375),  # ln 2 = ln2_hi + ln2_lo, ln2_hi with 9 significant bits: n * ln2_hi is exact
    np.float32(-2.12194440e-4),
    np.float32(64.0),
    np.float32(2.0**-64),
    # Cephes expf, exp(r) = 1 + r + r^2 P(r): P's coefficients, then 1, 1.
    (
        np.float32(1.9875691500e-4),
        np.float32(1.3981999507e-3),
        np.float32(8.3334519073e-3),
        np.float32(4.1665795894e-2),
        np.float32(1.6666665459e-1),
        np.float32(5.0000001201e-1),
        np.float32(1.0),
        np.float32(1.0),
    ),
)
_F64 = (
    np.float64(1.0),
    np.float64(-760.0),
    np.float64(1.44269504088896341),
    np.float64(6.93145751953125e-1),  # Cephes' C1: 22 significant bits, n * ln2_hi exact for |n| < 2**31
    np.float64(1.42860682030941723212e-6),
    np.float64(128.0),
    np.float64(2.0**-128),
    tuple(np.float64(1.0 / math.factorial(k)) for k in range(13, -1, -1)),  # Taylor, degree 13
)


def _build():
    # The compiled functions are module globals, not closures: Numba keys its on-disk cache on
    # the pickled closure cells, and a pickled dispatcher differs in every process, so closures
    # would be recompiled (seconds each) in every process instead of loaded.
    global prange, _rint, _maxnum, _pow2, _stream_scaled, _stream_shifted, _address, _store_fence, _prefetch
    global consts, vexp, row_max, prefetch, exp_sum, exp_sum_store, special, stream_head, write_scaled, write_shifted
    import numba
    from llvmlite import ir
    from numba import prange, types
    from numba.extending import intrinsic, overload

    @intrinsic
    def _rint(typingctx, x):
        """llvm.rint: round to nearest even, one vector instruction."""
        if not isinstance(x, types.Float):
            return None

        def codegen(context, builder, sig, args):
            fn = builder.module.declare_intrinsic("llvm.rint", [args[0].type])
            return builder.call(fn, [args[0]])

        return x(x), codegen

    @intrinsic
    def _maxnum(typingctx, a, b):
        """llvm.maxnum: the larger of a and b, ignoring a NaN; LLVM vectorises its reductions."""
        if not (isinstance(a, types.Float) and a == b):
            return None

        def codegen(context, builder, sig, args):
            fty = args[0].type
            fn = builder.module.declare_intrinsic("llvm.maxnum", [fty], ir.FunctionType(fty, [fty, fty]))
            return builder.call(fn, list(args))

        return a(a, b), codegen

    @intrinsic
    def _pow2(typingctx, n):
        """2**n for a float n holding an integer in the normal exponent range, built from its bits."""
        if not isinstance(n, types.Float):
            return None

        def codegen(context, builder, sig, args):
            fty = args[0].type
            if isinstance(fty, ir.FloatType):
                ity, bias, shift = ir.IntType(32), 127, 23
            else:
                ity, bias, shift = ir.IntType(64), 1023, 52
            i = builder.fptosi(args[0], ity)
            i = builder.add(i, ir.Constant(ity, bias))
            i = builder.shl(i, ir.Constant(ity, shift))
            return builder.bitcast(i, fty)

        return n(n), codegen

    def _vector_args(context, builder, sig, args):
        """(destination pointer, vector type, source vector) for the streaming stores below."""
        dst = context.make_array(sig.args[0])(context, builder, args[0])
        src = context.make_array(sig.args[1])(context, builder, args[1])
        fty = context.get_value_type(sig.args[0].dtype)
        width = 64 // (4 if isinstance(fty, ir.FloatType) else 8)
        vty = ir.VectorType(fty, width)
        dptr = builder.bitcast(builder.gep(dst.data, [args[2]]), vty.as_pointer())
        sptr = builder.bitcast(builder.gep(src.data, [args[2]]), vty.as_pointer())
        return dptr, vty, builder.load(sptr, align=4)

    def _splat(builder, vty, value):
        vec = builder.insert_element(ir.Constant(vty, ir.Undefined), value, ir.Constant(ir.IntType(32), 0))
        return builder.shuffle_vector(vec, ir.Constant(vty, ir.Undefined), ir.Constant(ir.VectorType(ir.IntType(32), vty.count), [0] * vty.count))

    def _stream(builder, ptr, value):
        store = builder.store(value, ptr, align=64)
        store.set_metadata("nontemporal", builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)]))

    @intrinsic
    def _stream_scaled(typingctx, dst, src, j, scale):
        """dst[j : j + 64 bytes] = src[j : ...] * scale, one 64-byte non-temporal store (the caller
        makes dst + j 64-byte aligned): the output goes to memory without being read first."""

        def codegen(context, builder, sig, args):
            dptr, vty, vec = _vector_args(context, builder, sig, args)
            _stream(builder, dptr, builder.fmul(vec, _splat(builder, vty, args[3])))
            return context.get_dummy_value()

        return types.none(dst, src, j, scale), codegen

    @intrinsic
    def _stream_shifted(typingctx, dst, src, j, a, lg):
        """dst[j : j + 64 bytes] = (src[j : ...] - a) - lg, as _stream_scaled."""

        def codegen(context, builder, sig, args):
            dptr, vty, vec = _vector_args(context, builder, sig, args)
            shifted = builder.fsub(vec, _splat(builder, vty, args[3]))
            _stream(builder, dptr, builder.fsub(shifted, _splat(builder, vty, args[4])))
            return context.get_dummy_value()

        return types.none(dst, src, j, a, lg), codegen

    @intrinsic
    def _address(typingctx, arr):
        """The address of arr's first element (arr.ctypes.data would stop the kernels caching)."""

        def codegen(context, builder, sig, args):
            data = context.make_array(sig.args[0])(context, builder, args[0]).data
            return builder.ptrtoint(data, ir.IntType(64))

        return types.int64(arr), codegen

    @intrinsic
    def _prefetch(typingctx, arr, j):
        """Ask for the cache line holding arr[j] (llvm.prefetch, read, keep in all levels)."""

        def codegen(context, builder, sig, args):
            data = context.make_array(sig.args[0])(context, builder, args[0]).data
            ptr = builder.bitcast(builder.gep(data, [args[1]]), ir.IntType(8).as_pointer())
            i32 = ir.IntType(32)
            fn = builder.module.declare_intrinsic(
                "llvm.prefetch", [ptr.type], ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32])
            )
            builder.call(fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
            return context.get_dummy_value()

        return types.none(arr, j), codegen

    @intrinsic
    def _store_fence(typingctx):
        """Order the non-temporal stores before whatever the caller does next."""

        def codegen(context, builder, sig, args):
            builder.fence("seq_cst")
            return context.get_dummy_value()

        return types.none(), codegen

    def consts(t):
        """The constants of vexp for t's dtype (resolved at compile time)."""

    @overload(consts, inline="always")
    def _consts(t):
        if t == types.float32:
            return lambda t: _F32
        if t == types.float64:
            return lambda t: _F64
        return None

    # Reassociation (vector partial sums), contraction (FMA) and reciprocals; not nnan/ninf/nsz,
    # which would let LLVM drop the NaN and infinity handling the contract requires.
    jit = dict(fastmath={"reassoc", "contract", "arcp"}, cache=True, nogil=True)
    inline = dict(jit, inline="always")

    @numba.njit(**inline)
    def vexp(t):
        """exp(t) for t <= 0 (NaN passes through), within about 1 ULP; exactly 1 at 0, 0 where
        it underflows, subnormal results rounded once."""
        _, clamp, log2e, ln2_hi, ln2_lo, k, scale_down, poly = consts(t)
        t = clamp if t < clamp else t
        n = _rint(t * log2e)
        r = t - n * ln2_hi
        r = r - n * ln2_lo
        p = poly[0]
        for i in range(1, len(poly)):
            p = p * r + poly[i]
        return (p * _pow2(n + k)) * scale_down

    @numba.njit(**inline)
    def row_max(xr):
        """(a, k): the maximum a of a non-empty row, ignoring NaNs, and the index k of its first
        occurrence; k = -1 when a is not finite (no finite maximum, or a NaN-only first block).
        Blocked, so the maximum is a vector reduction and only one block is searched for k.
        Loops run over slices from 0, so that Numba's negative-index wraparound folds away."""
        n = xr.shape[0]
        a = xr[0]
        first = 0
        for start in range(0, n, BLOCK):
            block = xr[start : start + BLOCK]
            m = block[0]
            for j in range(block.shape[0]):
                m = _maxnum(m, block[j])
            if m > a or start == 0:
                a = m
                first = start
        if not math.isfinite(a):
            return a, -1
        for j in range(first, n):
            if xr[j] == a:
                return a, j
        return a, -1

    @numba.njit(**inline)
    def prefetch(nxt, start, stop):
        """Prefetch nxt[start:stop] (the next row), one request per 64-byte line, so that the next
        row streams in from memory while this one is computed on in cache."""
        for j in range(start, stop, 64 // nxt.itemsize):
            _prefetch(nxt, j)

    @numba.njit(**inline)
    def exp_sum(xr, a, lo, hi, nxt):
        """sum of exp(x_j - a) over lo <= j < hi, in blocks; prefetches nxt[lo:hi]."""
        total = a - a
        for start in range(lo, hi, BLOCK):
            stop = min(start + BLOCK, hi)
            prefetch(nxt, start, stop)
            block = xr[start:stop]
            acc = a - a
            for j in range(block.shape[0]):
                acc += vexp(block[j] - a)
            total += acc
        return total

    @numba.njit(**inline)
    def exp_sum_store(xr, o, a, lo, hi, nxt):
        """exp_sum, also writing exp(x_j - a) to o[j]."""
        total = a - a
        for start in range(lo, hi, BLOCK):
            stop = min(start + BLOCK, hi)
            prefetch(nxt, start, stop)
            block = xr[start:stop]
            ob = o[start:stop]
            acc = a - a
            for j in range(block.shape[0]):
                e = vexp(block[j] - a)
                ob[j] = e
                acc += e
            total += acc
        return total

    @numba.njit(**jit)
    def special(xr):
        """(has a NaN, max ignoring NaNs) of a row the fast path declined."""
        nan = False
        m = -math.inf
        for j in range(xr.shape[0]):
            nan |= xr[j] != xr[j]
            m = max(m, xr[j])
        return nan, m

    # The rows the fast path declines (a NaN, a +inf entry, only -inf entries) get what
    # numpy_reference gives them: its shift is 0 there, so a NaN row is NaN; a +inf row has
    # sum inf, softmax inf / inf = NaN at the +inf entries and 0 elsewhere, log_softmax
    # x - inf (NaN at +inf, -inf elsewhere), LSE +inf; an all -inf row has sum 0, softmax
    # 0 / 0 = NaN, log_softmax -inf - (-inf) = NaN, LSE -inf.

    @numba.njit(**inline)
    def stream_head(o):
        """(number of leading entries before o's first 64-byte boundary, entries per 64 bytes);
        (len(o), 1) if o is not even aligned to its itemsize."""
        addr = _address(o)
        if addr % o.itemsize != 0:
            return o.shape[0], 1
        return min(((64 - addr % 64) % 64) // o.itemsize, o.shape[0]), 64 // o.itemsize

    @numba.njit(**inline)
    def write_scaled(o, e, inv, stream):
        """o = e * inv; with stream, through non-temporal stores (o is not read into the cache)."""
        n = o.shape[0]
        j = 0
        if stream:
            head, width = stream_head(o)
            for i in range(head):
                o[i] = e[i] * inv
            j = head
            while j + width <= n:
                _stream_scaled(o, e, j, inv)
                j += width
        tail_o = o[j:]
        tail_e = e[j:]
        for i in range(tail_o.shape[0]):
            tail_o[i] = tail_e[i] * inv

    @numba.njit(**inline)
    def write_shifted(o, xr, a, lg, stream):
        """o = (x - a) - lg; with stream, through non-temporal stores."""
        n = o.shape[0]
        j = 0
        if stream:
            head, width = stream_head(o)
            for i in range(head):
                o[i] = (xr[i] - a) - lg
            j = head
            while j + width <= n:
                _stream_shifted(o, xr, j, a, lg)
                j += width
        tail_o = o[j:]
        tail_x = xr[j:]
        for i in range(tail_o.shape[0]):
            tail_o[i] = (tail_x[i] - a) - lg

    # Rows are split into one contiguous chunk per thread (``threads`` is numba.get_num_threads(),
    # passed in: calling it in here would stop the kernels caching). With ``stream`` (large
    # outputs) each chunk keeps exp(x - a) in a scratch row that stays in its core's cache and
    # writes the output once, with non-temporal stores: memory sees one read of x and one write
    # of out, as in a copy, instead of the extra read of every output line an ordinary store
    # makes. While a row is summed, the next row is prefetched.

    @numba.njit(parallel=True, **jit)
    def softmax_rows(x, out, stream, threads):
        rows, n = x.shape
        chunks = min(threads, rows)
        for c in prange(chunks):
            scratch = np.empty(n if stream else 0, dtype=x.dtype)
            for r in range(c * rows // chunks, (c + 1) * rows // chunks):
                xr = x[r]
                o = out[r]
                e = scratch if stream else o
                a, k = row_max(xr)
                s = a
                if k >= 0:
                    nxt = x[min(r + 1, rows - 1)]
                    s = exp_sum_store(xr, e, a, 0, k, nxt) + exp_sum_store(xr, e, a, k + 1, n, nxt)
                if math.isfinite(s):
                    one = consts(s)[0]
                    e[k] = one
                    write_scaled(o, e, one / (one + s), stream)
                else:
                    nan, m = special(xr)
                    for j in range(n):
                        o[j] = math.nan if nan or m < 0 or xr[j] == m else 0.0
            if stream:
                _store_fence()

    @numba.njit(parallel=True, **jit)
    def log_softmax_rows(x, out, stream, threads):
        rows, n = x.shape
        chunks = min(threads, rows)
        for c in prange(chunks):
            for r in range(c * rows // chunks, (c + 1) * rows // chunks):
                xr = x[r]
                o = out[r]
                a, k = row_max(xr)
                s = a
                if k >= 0:
                    nxt = x[min(r + 1, rows - 1)]
                    s = exp_sum(xr, a, 0, k, nxt) + exp_sum(xr, a, k + 1, n, nxt)
                if math.isfinite(s):
                    write_shifted(o, xr, a, math.log1p(s), stream)
                else:
                    nan, m = special(xr)
                    for j in range(n):
                        o[j] = math.nan if nan or m < 0 or xr[j] == m else -math.inf
            if stream:
                _store_fence()

    @numba.njit(parallel=True, **jit)
    def lse_rows(x, out, targets, cross_entropy):
        """logsumexp per row into out[r], or with cross_entropy the loss LSE - x[r, targets[r]]."""
        n = x.shape[1]
        for r in prange(x.shape[0]):
            xr = x[r]
            a, k = row_max(xr)
            s = a
            if k >= 0:
                nxt = x[min(r + 1, x.shape[0] - 1)]
                s = exp_sum(xr, a, 0, k, nxt) + exp_sum(xr, a, k + 1, n, nxt)
            if math.isfinite(s):
                if cross_entropy:
                    out[r] = (a - xr[targets[r]]) + math.log1p(s)
                else:
                    out[r] = a + math.log1p(s)
            else:
                nan, m = special(xr)
                lse = math.nan if nan else m  # +inf or -inf
                out[r] = lse - xr[targets[r]] if cross_entropy else lse

    return {
        "softmax": softmax_rows,
        "log_softmax": log_softmax_rows,
        "lse": lse_rows,
        "vexp": vexp,
        "row_max": row_max,
    }


def _check(x, axis: int) -> tuple[np.ndarray, int]:
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"numba-fused computes in float32 and float64 only, not {x.dtype}")
    if x.ndim == 0:
        raise ValueError("numba-fused needs an array with at least one axis")
    if not -x.ndim <= axis < x.ndim:
        raise np.exceptions.AxisError(axis, x.ndim)
    return x, axis % x.ndim


def _rows(x: np.ndarray, axis: int) -> np.ndarray:
    """x with ``axis`` moved last, C-contiguous, as (rows, classes); x itself where possible."""
    moved = np.moveaxis(x, axis, -1)
    return np.ascontiguousarray(moved).reshape(-1, moved.shape[-1])


def _elementwise(kernel: str, x, axis: int, out):
    x, axis = _check(x, axis)
    if out is not None and (out.shape != x.shape or out.dtype != x.dtype):
        raise ValueError(f"out has shape {out.shape} and dtype {out.dtype}, but should have {x.shape} and {x.dtype}")
    if x.size == 0:
        return out if out is not None else np.empty(x.shape, dtype=x.dtype)
    rows = _rows(x, axis)
    direct = out is not None and axis == x.ndim - 1 and out.flags.c_contiguous and out.flags.writeable
    result = out.reshape(rows.shape) if direct else np.empty_like(rows)
    import numba

    _kernels()[kernel](rows, result, result.nbytes >= STREAM_BYTES, numba.get_num_threads())
    if direct:
        return out
    result = np.moveaxis(result.reshape(np.moveaxis(x, axis, -1).shape), -1, axis)
    if out is None:
        return result
    out[...] = result
    return out


def softmax(x, axis=-1, out=None):
    return _elementwise("softmax", x, axis, out)


def log_softmax(x, axis=-1, out=None):
    return _elementwise("log_softmax", x, axis, out)


_NO_TARGETS = np.zeros(0, dtype=np.int64)


def _reduce(x, axis: int, out, targets=None):
    x, axis = _check(x, axis)
    shape = x.shape[:axis] + x.shape[axis + 1 :]
    if out is not None and (out.shape != shape or out.dtype != x.dtype):
        raise ValueError(f"out has shape {out.shape} and dtype {out.dtype}, but should have {shape} and {x.dtype}")
    result = out if out is not None and out.flags.c_contiguous and out.flags.writeable else np.empty(shape, dtype=x.dtype)
    if x.shape[axis] == 0:
        result[...] = -np.inf  # the log of an empty sum (numpy_reference does the same)
    elif result.size:
        rows = _rows(x, axis)
        _kernels()["lse"](rows, result.reshape(-1), _NO_TARGETS if targets is None else targets, targets is not None)
    if out is not None and result is not out:
        out[...] = result
        return out
    return result


def logsumexp(x, axis=-1, out=None):
    return _reduce(x, axis, out)


def cross_entropy(logits, targets, out=None):
    logits = np.asarray(logits)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy takes logits of shape (N, K), not {logits.shape}")
    k = logits.shape[1]
    t = np.asarray(targets).astype(np.int64).reshape(-1)
    if t.shape[0] != logits.shape[0]:
        raise ValueError(f"{t.shape[0]} targets for {logits.shape[0]} rows")
    if t.size and (t.min() < -k or t.max() >= k):
        raise IndexError(f"a target is out of range for {k} classes")
    t = np.where(t < 0, t + k, t)
    if k == 0:  # no class to pick: numpy_reference raises too
        raise IndexError("cross_entropy needs at least one class")
    return _reduce(logits, 1, out, np.ascontiguousarray(t))


def _versions() -> dict[str, str]:
    import numba

    return {"numba": numba.__version__, "numpy": np.__version__}


ADAPTER = numpy_adapter(
    "numba-fused",
    {
        "softmax": softmax,
        "log_softmax": log_softmax,
        "logsumexp": logsumexp,
        "cross_entropy": cross_entropy,
    },
    DTYPES,
    unavailable_reason=_numba_unavailable,
    description=(
        "Numba, fused: per row one pass for the max, one for the sum of exp, one for the write, "
        "vectorised (own exp) and parallel over rows (this project). float32 and float64 only: "
        "float16/bfloat16 would be computed in float32 and rounded once, which a fused kernel does "
        "not speed up, and bfloat16 is not a Numba type"
    ),
    versions=_versions,
)
