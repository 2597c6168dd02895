"""A fused CPU softmax in Numba: the fast reference.

Per row (the class axis moved last and made contiguous), three passes over the
row, each a vectorised loop, rows shared out between Numba's threads:

1. the maximum a (a vector reduction per block of ``BLOCK`` entries) and its
   first index (a vector search of the block that holds it);
2. s = sum of exp(x_j - a) over every entry but the first argmax (exp(0) = 1
   exactly, so other ties add exactly 1 each), in blocks of ``BLOCK`` entries
   whose partial sums (vector lanes, under reassociation) are added to the row
   total; softmax keeps the exps;
3. the write: softmax exp(x_j - a) / (1 + s), log_softmax (x_j - a) - log1p(s);
   logsumexp is a + log1p(s) and cross-entropy (a - x_t) + log1p(s).

This is the shifted log-sum-exp with log1p of ``numpy_reference`` (Blanchard,
Higham & Higham 2021, sec. 3), fused: the row is read from memory once (it is
prefetched while the previous row is computed on) and stays in cache for passes
2 and 3. Outputs of ``STREAM_BYTES`` or more are written with non-temporal
stores, so memory sees one read and one write per entry, as a copy does, and
the write of a row is interleaved, block by block, with pass 2 of the next, so
that the stores drain while the core computes (softmax keeps exp(x - a) of the
two rows in a per-thread scratch). Each thread first does an equal share of
half the rows, then claims the rest a few at a time from a shared atomic
counter, so that on a shared machine a thread that loses its core holds up the
call less. Rows whose maximum is not finite (an all -inf row, a +inf entry) or
that hold a NaN take a scalar path that gives exactly what ``numpy_reference``
gives; -inf entries in an ordinary row get exactly 0 (log-probability -inf) on
the fast path.

exp is our own, so that LLVM can vectorise it (Numba's ``math.exp`` is a scalar
libm call without SVML): Cody-Waite reduction t = n ln2 + r, |r| <= ln2 / 2,
with n rounded by adding a magic constant whose low bits then hold the exponent
of the scale 2**(n + K), a polynomial for exp(r) (degree 6 for float32, Taylor
to degree 13 for float64: both within about 1 ULP). The kernels work with
exp(t) * 2**K, a normal number wherever exp(t) is not 0 (arguments are clamped
where the scale is exactly 0): the one factor 2**-K goes into softmax's
1 / (1 + s) and log1p's argument, so that subnormal results are rounded once,
not flushed. Fast-math flags are the subset that keeps NaN and infinity
semantics: reassociation (vector partial sums), contraction (FMA) and
reciprocal approximation are allowed, no-NaNs and no-infs are not; the few
instructions that must round exactly as written are emitted with a flag of
their own, which Numba's fast-math rewrite leaves alone.

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
BLOCK = 512  # entries per partial sum in pass 2, per maximum in pass 1, per interleaved write
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


# Constants per dtype: (1, clamp, log2e, ln2_hi, ln2_lo, magic, 2**K, 2**-K, -inf, polynomial
# coefficients high to low). Every constant the kernels use comes from here, typed in the row's
# dtype: Numba promotes float32 with a Python float or int to float64, which would double the cost
# of every loop. magic = 1.5 * 2**(p - 1) + bias + K (p the significand's bits): z = t * log2e +
# magic lies in [2**(p-1), 2**p), where the spacing is 1, so the addition rounds t * log2e to the
# nearest integer n, z - magic is n exactly, and the low bits of z hold n + bias + K: z's bits
# shifted left by p - 1 are 2**(n + K) exactly while n + bias + K is in [1, 2 * bias] (a normal
# exponent), and +0 at n + bias + K = 0. The clamp is where n = -(bias + K) (float32: -191,
# float64: -1151): arguments at or below it (-inf entries among them) give exactly 0, and every
# argument above it a nonzero scaled value, so that the row sum holds exp(t) for every t whose
# exp is not 0 in the dtype (exp(-132.4) is 2**-191; float32's least subnormal is 2**-149).
_F32 = (
    np.float32(1.0),
    np.float32(-132.4),  # -132.4 * log2e = -191.01
    np.float32(1.44269504088896341),
    np.float32(0.693359375),  # ln 2 = ln2_hi + ln2_lo, ln2_hi with 9 significant bits: n * ln2_hi is exact
    np.float32(-2.12194440e-4),
    np.float32(1.5 * 2**23 + 127 + 64),
    np.float32(2.0**64),
    np.float32(2.0**-64),
    np.float32(-np.inf),
    # exp(r) = 1 + r + r^2 q(r) on |r| <= 0.3466, q of degree 4 (Chebyshev fit of (exp(r) - 1 - r) / r^2;
    # relative error 1.1e-8, a fifth of half an ULP): q's coefficients, then 1, 1.
    (
        np.float32(0.0013926182),
        np.float32(0.008363178),
        np.float32(0.041666556),
        np.float32(0.16666576),
        np.float32(0.5),
        np.float32(1.0),
        np.float32(1.0),
    ),
)
_F64 = (
    np.float64(1.0),
    np.float64(-797.8),  # -797.8 * log2e = -1150.97
    np.float64(1.44269504088896341),
    np.float64(6.93145751953125e-1),  # Cephes' C1: 22 significant bits, n * ln2_hi exact for |n| < 2**31
    np.float64(1.42860682030941723212e-6),
    np.float64(1.5 * 2**52 + 1023 + 128),
    np.float64(2.0**128),
    np.float64(2.0**-128),
    np.float64(-np.inf),
    tuple(np.float64(1.0 / math.factorial(k)) for k in range(13, -1, -1)),  # Taylor, degree 13
)

MAX_UNROLL = 4  # vectors of 64 bytes per iteration of _vmax (independent accumulators)
CLAIM_ENTRIES = 1 << 14  # a thread claims at least this many entries (whole rows) at a time
STATIC_SHARE = (1, 2)  # this fraction of the rows is split equally between the threads up front


def _build():
    # The compiled functions are module globals, not closures: Numba keys its on-disk cache on
    # the pickled closure cells, and a pickled dispatcher differs in every process, so closures
    # would be recompiled (seconds each) in every process instead of loaded.
    global prange, _maxnum, _vmax, _vfind, _round_split, _scale_bits, _claim
    global _stream_scaled, _stream_shifted, _address, _store_fence, _prefetch
    global consts, vexp, row_max, prefetch, exp_run, exp_block, sum_run, sum_block, special, stream_head
    global write_scaled, write_shifted, write_scaled_block, write_shifted_block, schedule, first_rows, next_rows
    import numba
    from llvmlite import ir
    from numba import prange, types
    from numba.extending import intrinsic, overload

    i32 = ir.IntType(32)

    def _width(fty):
        """Entries of fty per 64-byte vector."""
        return 64 // (4 if isinstance(fty, ir.FloatType) else 8)

    def _splat(builder, vty, value):
        vec = builder.insert_element(ir.Constant(vty, ir.Undefined), value, ir.Constant(i32, 0))
        return builder.shuffle_vector(vec, ir.Constant(vty, ir.Undefined), ir.Constant(ir.VectorType(i32, vty.count), [0] * vty.count))

    # Instructions emitted below carry the flag "contract" (harmless on a compare, a subtraction
    # or a lone multiply-add): Numba's fast-math rewrite only flags instructions that have none,
    # so these keep their exact rounding whatever the kernels' own fast-math flags.
    EXACT = ["contract"]

    @intrinsic
    def _maxnum(typingctx, a, b):
        """llvm.maxnum: the larger of a and b, ignoring a NaN."""
        if not (isinstance(a, types.Float) and a == b):
            return None

        def codegen(context, builder, sig, args):
            fty = args[0].type
            fn = builder.module.declare_intrinsic("llvm.maxnum", [fty], ir.FunctionType(fty, [fty, fty]))
            return builder.call(fn, list(args))

        return a(a, b), codegen

    @intrinsic
    def _vmax(typingctx, arr, lo, count, init):
        """The maximum of init and arr[lo : lo + count], ignoring NaNs in arr; count a multiple of
        MAX_UNROLL 64-byte vectors. A vector loop written out here (select(v > m, v, m), one
        vmaxps on x86, with MAX_UNROLL accumulators), because LLVM vectorises a maxnum
        reduction only with a NaN test and an early exit per iteration, which costs three times
        as much; the horizontal step is a tree of the same select."""
        if not (isinstance(arr, types.Array) and arr.ndim == 1 and arr.layout == "C"
                and isinstance(arr.dtype, types.Float) and init == arr.dtype):
            return None

        def codegen(context, builder, sig, args):
            ary = context.make_array(sig.args[0])(context, builder, args[0])
            fty = context.get_value_type(sig.args[0].dtype)
            width = _width(fty)
            vty = ir.VectorType(fty, width)
            i64 = ir.IntType(64)
            base = builder.bitcast(builder.gep(ary.data, [args[1]]), vty.as_pointer())
            niter = builder.sdiv(args[2], ir.Constant(i64, width * MAX_UNROLL))
            init = _splat(builder, vty, args[3])
            entry = builder.block
            head = builder.append_basic_block("vmax.head")
            body = builder.append_basic_block("vmax.body")
            done = builder.append_basic_block("vmax.done")
            builder.branch(head)
            builder.position_at_end(head)
            i = builder.phi(i64)
            accs = [builder.phi(vty) for _ in range(MAX_UNROLL)]
            i.add_incoming(ir.Constant(i64, 0), entry)
            for acc in accs:
                acc.add_incoming(init, entry)
            builder.cbranch(builder.icmp_signed("<", i, niter), body, done)
            builder.position_at_end(body)
            new = []
            for u, acc in enumerate(accs):
                idx = builder.add(builder.mul(i, ir.Constant(i64, MAX_UNROLL)), ir.Constant(i64, u))
                v = builder.load(builder.gep(base, [idx]), align=sig.args[0].dtype.bitwidth // 8)
                new.append(builder.select(builder.fcmp_ordered(">", v, acc, flags=EXACT), v, acc))
            i.add_incoming(builder.add(i, ir.Constant(i64, 1)), body)
            builder.branch(head)
            for acc, v in zip(accs, new):
                acc.add_incoming(v, body)
            builder.position_at_end(done)
            m = accs[0]
            for acc in accs[1:]:
                m = builder.select(builder.fcmp_ordered(">", acc, m, flags=EXACT), acc, m)
            w = width
            while w > 1:
                w //= 2
                mask = ir.Constant(ir.VectorType(i32, width), [j + w if j < w else j for j in range(width)])
                hi = builder.shuffle_vector(m, ir.Constant(vty, ir.Undefined), mask)
                m = builder.select(builder.fcmp_ordered(">", hi, m, flags=EXACT), hi, m)
            return builder.extract_element(m, ir.Constant(i32, 0))

        return arr.dtype(arr, types.int64, types.int64, arr.dtype), codegen

    @intrinsic
    def _vfind(typingctx, arr, lo, count, a):
        """The first j in [lo, lo + count) with arr[j] == a, or -1; count a multiple of a 64-byte
        vector. One vector compare and a test of its mask per 64 bytes (an early-exit loop that
        LLVM would leave scalar)."""
        if not (isinstance(arr, types.Array) and arr.ndim == 1 and arr.layout == "C"
                and isinstance(arr.dtype, types.Float) and a == arr.dtype):
            return None

        def codegen(context, builder, sig, args):
            ary = context.make_array(sig.args[0])(context, builder, args[0])
            fty = context.get_value_type(sig.args[0].dtype)
            width = _width(fty)
            vty = ir.VectorType(fty, width)
            i64 = ir.IntType(64)
            mty = ir.IntType(width)
            base = builder.bitcast(builder.gep(ary.data, [args[1]]), vty.as_pointer())
            niter = builder.sdiv(args[2], ir.Constant(i64, width))
            target = _splat(builder, vty, args[3])
            entry = builder.block
            head = builder.append_basic_block("vfind.head")
            body = builder.append_basic_block("vfind.body")
            found = builder.append_basic_block("vfind.found")
            done = builder.append_basic_block("vfind.done")
            builder.branch(head)
            builder.position_at_end(head)
            i = builder.phi(i64)
            i.add_incoming(ir.Constant(i64, 0), entry)
            builder.cbranch(builder.icmp_signed("<", i, niter), body, done)
            builder.position_at_end(body)
            v = builder.load(builder.gep(base, [i]), align=sig.args[0].dtype.bitwidth // 8)
            bits = builder.bitcast(builder.fcmp_ordered("==", v, target, flags=EXACT), mty)
            i.add_incoming(builder.add(i, ir.Constant(i64, 1)), body)
            builder.cbranch(builder.icmp_unsigned("!=", bits, ir.Constant(mty, 0)), found, head)
            builder.position_at_end(found)
            cttz = builder.module.declare_intrinsic("llvm.cttz", [mty], ir.FunctionType(mty, [mty, ir.IntType(1)]))
            lane = builder.zext(builder.call(cttz, [bits, ir.Constant(ir.IntType(1), 1)]), i64)
            hit = builder.add(builder.add(args[1], builder.mul(i, ir.Constant(i64, width))), lane)
            builder.branch(done)
            builder.position_at_end(done)
            result = builder.phi(i64)
            result.add_incoming(ir.Constant(i64, -1), head)
            result.add_incoming(hit, found)
            return result

        return types.int64(arr, types.int64, types.int64, arr.dtype), codegen

    @intrinsic
    def _round_split(typingctx, t, c, magic):
        """(z, n): z = t * c + magic (one multiply-add, rounded once: to the nearest integer,
        given magic), n = z - magic, exactly; no reassociation may fold them away."""
        if not (isinstance(t, types.Float) and t == c == magic):
            return None

        def codegen(context, builder, sig, args):
            z = builder.fadd(builder.fmul(args[0], args[1], flags=EXACT), args[2], flags=EXACT)
            n = builder.fsub(z, args[2], flags=EXACT)
            return context.make_tuple(builder, sig.return_type, [z, n])

        return types.UniTuple(t, 2)(t, c, magic), codegen

    @intrinsic
    def _scale_bits(typingctx, p, z):
        """p * 2**e, 2**e built from z's bits shifted into the exponent field (see magic above)."""
        if not (isinstance(p, types.Float) and p == z):
            return None

        def codegen(context, builder, sig, args):
            fty = args[0].type
            ity, shift = (ir.IntType(32), 23) if isinstance(fty, ir.FloatType) else (ir.IntType(64), 52)
            bits = builder.shl(builder.bitcast(args[1], ity), ir.Constant(ity, shift))
            return builder.fmul(args[0], builder.bitcast(bits, fty))

        return p(p, z), codegen

    @intrinsic
    def _claim(typingctx, counter, step):
        """counter[0] += step, atomically; the old value (the first row of the claimed chunk)."""

        def codegen(context, builder, sig, args):
            data = context.make_array(sig.args[0])(context, builder, args[0]).data
            return builder.atomic_rmw("add", data, args[1], "monotonic")

        return types.int64(counter, types.int64), codegen

    def _vector_args(context, builder, sig, args):
        """(destination pointer, vector type, source vector) for the streaming stores below."""
        dst = context.make_array(sig.args[0])(context, builder, args[0])
        src = context.make_array(sig.args[1])(context, builder, args[1])
        fty = context.get_value_type(sig.args[0].dtype)
        vty = ir.VectorType(fty, _width(fty))
        dptr = builder.bitcast(builder.gep(dst.data, [args[2]]), vty.as_pointer())
        sptr = builder.bitcast(builder.gep(src.data, [args[2]]), vty.as_pointer())
        return dptr, vty, builder.load(sptr, align=4)

    def _stream(builder, ptr, value):
        store = builder.store(value, ptr, align=64)
        store.set_metadata("nontemporal", builder.module.add_metadata([ir.Constant(i32, 1)]))

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
        """Ask for the cache line holding arr[j] (llvm.prefetch, read, locality 2: prefetcht1 on x86, into
        L2, not L1: a whole row does not fit in L1, and measured faster than prefetcht0)."""

        def codegen(context, builder, sig, args):
            data = context.make_array(sig.args[0])(context, builder, args[0]).data
            ptr = builder.bitcast(builder.gep(data, [args[1]]), ir.IntType(8).as_pointer())
            fn = builder.module.declare_intrinsic(
                "llvm.prefetch", [ptr.type], ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32])
            )
            builder.call(fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 2), ir.Constant(i32, 1)])
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
        """exp(t) * 2**K for t <= 0 (NaN passes through), within about 1 ULP; exactly 2**K at 0,
        exactly 0 at and below the clamp (-inf among them). Scaled so that every other result is
        a normal number: the caller's one multiplication by 2**-K (folded into the softmax scale
        or log1p's argument) rounds a subnormal result once."""
        _, clamp, log2e, ln2_hi, ln2_lo, magic, _, _, _, poly = consts(t)
        t = clamp if t < clamp else t
        z, n = _round_split(t, log2e, magic)
        r = t - n * ln2_hi
        r = r - n * ln2_lo
        p = poly[0]
        for i in range(1, len(poly)):
            p = p * r + poly[i]
        return _scale_bits(p, z)

    @numba.njit(**inline)
    def row_max(xr):
        """(a, k): the maximum a of a non-empty row, ignoring NaNs, and the index k of its first
        occurrence; k = -1 when a is not finite (no finite maximum, or only NaNs). Blocked, so
        that only one block is searched for k. Loops run over slices from 0, so that Numba's
        negative-index wraparound folds away."""
        n = xr.shape[0]
        a = consts(xr[0])[8]  # -inf
        first = 0
        step = MAX_UNROLL * 64 // xr.itemsize
        for start in range(0, n, BLOCK):
            block = xr[start : start + BLOCK]
            body = block.shape[0] - block.shape[0] % step
            m = _vmax(xr, start, body, a)
            rest = block[body:]
            for j in range(rest.shape[0]):
                m = _maxnum(m, rest[j])
            if m > a:
                a = m
                first = start
        if not math.isfinite(a):
            return a, -1
        width = 64 // xr.itemsize
        k = _vfind(xr, first, (n - first) - (n - first) % width, a)
        if k >= 0:
            return a, k
        for j in range(n - (n - first) % width, n):
            if xr[j] == a:
                return a, j
        return a, -1

    @numba.njit(**inline)
    def prefetch(nxt, start, stop):
        """Prefetch nxt[start:stop] (the next row), one request per 64-byte line, so that the next
        row streams in from memory while this one is computed on in cache."""
        for j in range(start, min(stop, nxt.shape[0]), 64 // nxt.itemsize):
            _prefetch(nxt, j)

    @numba.njit(**inline)
    def sum_run(xr, a, lo, hi):
        """sum of exp(x_j - a) * 2**K over lo <= j < hi (one vector partial sum, reassociated)."""
        run = xr[lo:hi]
        acc = a - a
        for j in range(run.shape[0]):
            acc += vexp(run[j] - a)
        return acc

    @numba.njit(**inline)
    def exp_run(xr, e, a, lo, hi):
        """sum_run, also writing exp(x_j - a) * 2**K to e[j]."""
        run = xr[lo:hi]
        er = e[lo:hi]
        acc = a - a
        for j in range(run.shape[0]):
            v = vexp(run[j] - a)
            er[j] = v
            acc += v
        return acc

    @numba.njit(**inline)
    def sum_block(xr, a, k, lo, hi):
        """sum_run over [lo, hi) but the entry k (the first argmax, which adds exactly 1)."""
        if lo <= k < hi:
            return sum_run(xr, a, lo, k) + sum_run(xr, a, k + 1, hi)
        return sum_run(xr, a, lo, hi)

    @numba.njit(**inline)
    def exp_block(xr, e, a, k, lo, hi):
        """exp_run over [lo, hi), the entry k not summed (nor written: the caller sets it)."""
        if lo <= k < hi:
            return exp_run(xr, e, a, lo, k) + exp_run(xr, e, a, k + 1, hi)
        return exp_run(xr, e, a, lo, hi)

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

    # Block b of a streamed write: o[head + b * BLOCK : head + (b + 1) * BLOCK] (block 0 also
    # o[:head]), head and width from stream_head(o); every block but the row's last is whole
    # 64-byte vectors, aligned. A row has at most as many of these blocks as of the exp pass's.

    @numba.njit(**inline)
    def write_scaled_block(o, e, inv, b, head, width):
        n = o.shape[0]
        if b == 0:
            for i in range(head):
                o[i] = e[i] * inv
        j = head + b * BLOCK
        stop = min(j + BLOCK, n)
        while j + width <= stop:
            _stream_scaled(o, e, j, inv)
            j += width
        for i in range(j, stop):
            o[i] = e[i] * inv

    @numba.njit(**inline)
    def write_shifted_block(o, xr, a, lg, b, head, width):
        n = o.shape[0]
        if b == 0:
            for i in range(head):
                o[i] = (xr[i] - a) - lg
        j = head + b * BLOCK
        stop = min(j + BLOCK, n)
        while j + width <= stop:
            _stream_shifted(o, xr, j, a, lg)
            j += width
        for i in range(j, stop):
            o[i] = (xr[i] - a) - lg

    @numba.njit(**inline)
    def schedule(x, workers):
        """(counter, step): the shared counter of the claimed rows, starting after the static
        shares, and the rows per claim (whole rows, at least CLAIM_ENTRIES entries)."""
        rows, n = x.shape
        counter = np.empty(1, dtype=np.int64)
        counter[0] = rows * STATIC_SHARE[0] // STATIC_SHARE[1]
        return counter, max(1, CLAIM_ENTRIES // max(n, 1))

    @numba.njit(**inline)
    def first_rows(counter, step, rows, c, workers):
        """(r, stop): worker c's first rows, its static share (or its first claim if that is empty)."""
        shared = rows * STATIC_SHARE[0] // STATIC_SHARE[1]
        r = c * shared // workers
        stop = (c + 1) * shared // workers
        if r >= stop:
            r = _claim(counter, step)
            stop = min(r + step, rows)
        return r, stop

    @numba.njit(**inline)
    def next_rows(counter, step, rows, r, stop):
        """(r, stop) after row r: the next row of the chunk, or the first of a new claim (made
        only now, while the last row of the chunk is worked on, so that a worker holds no rows
        it has not started); r >= rows when no rows are left."""
        if r + 1 < stop:
            return r + 1, stop
        r = _claim(counter, step)
        return r, min(r + step, rows)

    # Scheduling: each of ``threads`` workers (numba.get_num_threads(), passed in: calling it in
    # here would stop the kernels caching) first does its equal part of the first STATIC_SHARE
    # of the rows, then claims chunks of the rest from a shared atomic counter until none are
    # left (see first_rows, next_rows). On a shared machine a worker that loses its core then
    # does fewer rows instead of holding up the call, as an equal split would. The static part
    # is there because claiming every row let the first worker to start do nearly all of them
    # whenever the other started late, and on a loaded machine the calls then waited longer at
    # the end of the parallel region (traced: about 12 ms median against 4 ms for an equal
    # split; the worker that did more is woken later).
    #
    # Memory: each row is read from memory once (prefetched while the previous row is computed
    # on) and stays in the core's cache for the other passes. With ``stream`` (large outputs)
    # the output is written with non-temporal stores, so memory sees one read of x and one write
    # of out, as a copy does, not the extra read of every output line that an ordinary store
    # makes; and the writes of row r - 1 are interleaved, block by block, with the exp pass of
    # row r, so that the stores drain while the core computes (softmax keeps exp(x - a) of the
    # two rows in a per-worker scratch of two rows).

    @numba.njit(parallel=True, **jit)
    def softmax_rows(x, out, stream, threads):
        rows, n = x.shape
        workers = min(threads, rows)
        counter, step = schedule(x, workers)
        blocks = (n + BLOCK - 1) // BLOCK
        for c in prange(workers):
            scratch = np.empty((2 if stream else 0, n), dtype=x.dtype)
            two_k = consts(x[0, 0])[6]
            one = consts(x[0, 0])[0]
            slot = 0  # scratch[slot]: this row's exp; scratch[1 - slot]: the pending row's
            pend = -1  # the row whose output is still to be written (stream only)
            pinv = one
            r, stop = first_rows(counter, step, rows, c, workers)
            while r < rows:
                xr = x[r]
                o = out[r]
                nr, nstop = next_rows(counter, step, rows, r, stop)
                nxt = x[nr if nr < rows else r]
                e = scratch[slot] if stream else o
                a, k = row_max(xr)
                s = a
                if k >= 0:
                    s = a - a
                    po = out[pend if pend >= 0 else r]
                    pe = scratch[1 - slot] if stream else o
                    head, width = stream_head(po)
                    for b in range(blocks):
                        lo = b * BLOCK
                        hi = min(lo + BLOCK, n)
                        prefetch(nxt, lo, hi)
                        s += exp_block(xr, e, a, k, lo, hi)
                        if pend >= 0:
                            write_scaled_block(po, pe, pinv, b, head, width)
                elif pend >= 0:
                    write_scaled(out[pend], scratch[1 - slot], pinv, True)
                pend = -1
                if math.isfinite(s):
                    e[k] = two_k  # exp(0) * 2**K
                    inv = one / (two_k + s)  # 2**-K / (1 + s), rounded as 1 / (1 + s)
                    if stream:
                        pend = r
                        pinv = inv
                        slot = 1 - slot
                    else:
                        write_scaled(o, e, inv, False)
                else:
                    nan, m = special(xr)
                    for j in range(n):
                        o[j] = math.nan if nan or m < 0 or xr[j] == m else 0.0
                r, stop = nr, nstop
            if pend >= 0:
                write_scaled(out[pend], scratch[1 - slot], pinv, True)
            if stream:
                _store_fence()

    @numba.njit(parallel=True, **jit)
    def log_softmax_rows(x, out, stream, threads):
        rows, n = x.shape
        workers = min(threads, rows)
        counter, step = schedule(x, workers)
        blocks = (n + BLOCK - 1) // BLOCK
        for c in prange(workers):
            scale_down = consts(x[0, 0])[7]
            pend = -1  # the row whose output is still to be written (stream only)
            pa = x[0, 0]
            plg = pa
            r, stop = first_rows(counter, step, rows, c, workers)
            while r < rows:
                xr = x[r]
                o = out[r]
                nr, nstop = next_rows(counter, step, rows, r, stop)
                nxt = x[nr if nr < rows else r]
                a, k = row_max(xr)
                s = a
                if k >= 0:
                    s = a - a
                    po = out[pend if pend >= 0 else r]
                    px = x[pend if pend >= 0 else r]
                    head, width = stream_head(po)
                    for b in range(blocks):
                        lo = b * BLOCK
                        hi = min(lo + BLOCK, n)
                        prefetch(nxt, lo, hi)
                        s += sum_block(xr, a, k, lo, hi)
                        if pend >= 0:
                            write_shifted_block(po, px, pa, plg, b, head, width)
                elif pend >= 0:
                    write_shifted(out[pend], x[pend], pa, plg, True)
                pend = -1
                if math.isfinite(s):
                    lg = math.log1p(s * scale_down)
                    if stream:
                        pend = r
                        pa = a
                        plg = lg
                    else:
                        write_shifted(o, xr, a, lg, False)
                else:
                    nan, m = special(xr)
                    for j in range(n):
                        o[j] = math.nan if nan or m < 0 or xr[j] == m else -math.inf
                r, stop = nr, nstop
            if pend >= 0:
                write_shifted(out[pend], x[pend], pa, plg, True)
            if stream:
                _store_fence()

    @numba.njit(parallel=True, **jit)
    def lse_rows(x, out, targets, cross_entropy, threads):
        """logsumexp per row into out[r], or with cross_entropy the loss LSE - x[r, targets[r]]."""
        rows, n = x.shape
        workers = min(threads, rows)
        counter, step = schedule(x, workers)
        for c in prange(workers):
            scale_down = consts(x[0, 0])[7]
            r, stop = first_rows(counter, step, rows, c, workers)
            while r < rows:
                xr = x[r]
                nr, nstop = next_rows(counter, step, rows, r, stop)
                nxt = x[nr if nr < rows else r]
                a, k = row_max(xr)
                s = a
                if k >= 0:
                    s = a - a
                    for lo in range(0, n, BLOCK):
                        hi = min(lo + BLOCK, n)
                        prefetch(nxt, lo, hi)
                        s += sum_block(xr, a, k, lo, hi)
                if math.isfinite(s):
                    lg = math.log1p(s * scale_down)
                    if cross_entropy:
                        out[r] = (a - xr[targets[r]]) + lg
                    else:
                        out[r] = a + lg
                else:
                    nan, m = special(xr)
                    lse = math.nan if nan else m  # +inf or -inf
                    out[r] = lse - xr[targets[r]] if cross_entropy else lse
                r, stop = nr, nstop

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
        import numba

        ce = targets is not None
        _kernels()["lse"](rows, result.reshape(-1), targets if ce else _NO_TARGETS, ce, numba.get_num_threads())
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
        "Numba, fused: per row one pass for the max, one for the sum of exp, one for the write "
        "(non-temporal, interleaved with the next row's sum), vectorised (own exp) and parallel "
        "over rows (this project). float32 and float64 only: "
        "float16/bfloat16 would be computed in float32 and rounded once, which a fused kernel does "
        "not speed up, and bfloat16 is not a Numba type"
    ),
    versions=_versions,
)
