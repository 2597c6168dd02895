"""Gradient properties, for differentiable implementations only.

The gradient comes from the implementation's framework (torch autograd,
jax.vjp), so a hand-written backward pass is tested as it would be used. Each
vector-Jacobian product with a random cotangent is compared with the closed
form evaluated in long double (:mod:`suite.vjp`), within the first-order error
bound derived there from the forward bounds of :mod:`suite.bounds`; never a
fixed rtol. See docs/gradients.md.
"""
from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from suite import autodiff, backends
from suite import dtypes as dt
from suite import strategies as sst
from suite import vjp as closed
from suite.assertions import index_label
from suite.cases import Case
from suite.properties import prop
from suite.properties.invariants import ALL_OPS
from suite.runner import ImplementationRaised
from suite.ops import LOG_PROBABILITIES, ONE_PER_ROW, OPS

GRAD_OPS = tuple(op for op in ALL_OPS if OPS[op].vjp is not None)  # every op with a closed-form VJP (suite/vjp.py)
BLOG_BATCH = [[2.0, 1.0, 0.1], [1000.0, 1.0, -1000.0], [3.0, 2.0, 1.0]]


def assert_grad_within(ctx, got, expected, bound, what: str) -> None:
    """|grad - exact| <= bound everywhere, and grad finite (the exact VJP of a valid input always is)."""
    g = np.asarray(got).astype(closed.WIDE)
    e = np.asarray(expected).astype(closed.WIDE)
    b = np.broadcast_to(np.asarray(bound, dtype=closed.WIDE), e.shape)
    if g.shape != e.shape:
        ctx.fail(f"grad.shape={g.shape}, but should be {e.shape} [{what}]", e.shape, g.shape)
    with np.errstate(all="ignore"):
        ok = np.isfinite(g) & ((g == e) | (np.abs(g - e) <= b))
        ok |= np.isnan(e) & np.isnan(g)
    if not np.all(ok):
        with np.errstate(all="ignore"):
            excess = np.where(ok, -np.inf, np.nan_to_num(np.abs(g - e) - b, nan=np.inf, posinf=np.inf))
        flat = int(np.argmax(excess))
        ctx.fail(
            f"grad[{index_label(flat, e.shape)}]={float(g.flat[flat])!r}, but should be {float(e.flat[flat])!r} "
            f"(allowed error {float(b.flat[flat]):.3g}) [{what}]",
            expected=np.asarray(expected, dtype=np.float64),
            got=np.asarray(got),
        )


def _out_shape(case: Case) -> tuple[int, ...]:
    return case.expected_shape()


def draw_cotangent(ctx, shape, label: str = "cotangent") -> np.ndarray:
    """A random cotangent of ``shape`` in [-10, 10], rounded to the dtype under test."""
    return ctx.draw(sst.logits(ctx.dtype, shape, "moderate"), label)


def _vjp_case(ctx, case: Case, g: np.ndarray, view=None) -> np.ndarray:
    args, kwargs = case.args()
    return autodiff.vjp(ctx.adapter, ctx.op, args, kwargs, g, view=view, ctx=ctx)


def _exact_and_bound(case: Case, g: np.ndarray, dtype: str):
    args, kwargs = case.args()
    return case.record.vjp(*args, g, **kwargs), case.record.vjp_bound(*args, g, dtype, **kwargs)


def check_vjp(ctx, case: Case, g: np.ndarray, what: str) -> np.ndarray:
    """The VJP of ``case`` with cotangent ``g`` against the closed form within its bound (the
    regime battery's gradients use this too)."""
    return _check_against_closed_form(ctx, case, g, what)


def _check_against_closed_form(ctx, case: Case, g: np.ndarray, what: str, view=None, grad=None) -> np.ndarray:
    grad = _vjp_case(ctx, case, g, view) if grad is None else grad
    exact, bound = _exact_and_bound(case, g, ctx.dtype)
    assert_grad_within(ctx, grad, exact, bound, what)
    return grad


def _what(ctx) -> str:
    return f"vjp of {ctx.op}(x)"


# JAX compiles every op for every new shape (and static axis), at a cost far above the
# check itself; for backends that compile per shape, shapes come from this menu (1-D to
# 3-D, one to 200 classes) so that compilations are shared across examples and
# properties. Other backends draw any shape.
SHAPE_MENU = ((1,), (5,), (200,), (2, 3), (3, 8), (2, 3, 4))
FD_MENU = ((2, 3),)
CROSS_BACKEND_MENU = ((5,), (3, 8), (2, 3, 4))


def _compiles_per_shape(ctx) -> bool:
    return backends.get(ctx.adapter.backend).compiles_per_shape


def _shape(ctx, min_dims: int = 1, max_dims: int = 3, max_batch: int = 6, max_classes: int = 128, menu=False):
    """A shape: from ``menu`` (True for SHAPE_MENU, or a tuple of shapes) if given, else any."""
    if menu:
        candidates = SHAPE_MENU if menu is True else menu
        fitting = [
            s
            for s in candidates
            if min_dims <= len(s) <= max_dims and s[-1] <= max_classes and max(s[:-1], default=1) <= max_batch
        ]
        return ctx.draw(st.sampled_from(fitting), "shape")
    return ctx.draw(sst.shapes(min_dims=min_dims, max_dims=max_dims, max_batch=max_batch, max_classes=max_classes), "shape")


def _axis(ctx, shape, menu=False) -> int:
    if menu is not True and menu:  # an explicit small menu: the last axis only
        return -1
    if menu:  # every axis, named one way each (the axis is a static argument)
        return ctx.draw(st.sampled_from([-1] + list(range(len(shape) - 1))), "axis")
    return ctx.draw(sst.axes(shape), "axis")


def draw_grad_case(ctx, regimes=sst.REGIMES, min_dims: int = 1, max_dims: int = 3, max_batch: int = 6, max_classes: int = 128, last_axis: bool = False, menu=None) -> Case:
    """Like suite.cases.draw_case, with shapes from SHAPE_MENU on compiling backends (or where
    ``menu`` says so: a property that also runs a compiling backend)."""
    menu = _compiles_per_shape(ctx) if menu is None else menu  # True, False, or a tuple of shapes
    record = OPS[ctx.op]
    if ctx.sizes is not None:  # a kernel-scale pass (suite.sizes): its menus, on every backend
        shape, axis = ctx.sizes.shape(ctx.draw, record, last_axis)
    elif record.output == ONE_PER_ROW:
        shape = _shape(ctx, 2, 2, max_batch, max_classes, menu)
        axis = -1
    else:
        shape = _shape(ctx, min_dims, max_dims, max_batch, max_classes, menu)
        axis = -1 if last_axis else _axis(ctx, shape, menu)
    regime = ctx.draw(st.sampled_from(regimes), "regime")
    x = ctx.draw(sst.logits(ctx.dtype, shape, regime, axis), "x")
    targets = temperature = None
    if "targets" in record.inputs:
        targets = ctx.draw(
            st.lists(st.integers(0, shape[1] - 1), min_size=shape[0], max_size=shape[0]).map(lambda t: np.array(t, dtype=np.int64)),
            "targets",
        ) if shape[0] <= sst.ELEMENTWISE_MAX else ctx.draw(sst.integer_entries(shape[0], 0, shape[1] - 1), "targets")
    if "temperature" in record.inputs:
        temperature = ctx.draw(sst.temperatures(ctx.dtype, x), "temperature")
    return Case(ctx.op, x, axis, targets, temperature)


@prop(*GRAD_OPS, differentiable_only=True, widest=True)
def grad_closed_form(ctx):
    """The vector-Jacobian product with a random cotangent g equals the closed form in high
    precision, within the first-order error bound: softmax s * (g - sum(s * g)); log_softmax
    g - s * sum(g); logsumexp g * s; cross-entropy g * (s - onehot(target)); temperature
    softmax (1/T) times softmax's at x / T."""
    case = draw_grad_case(ctx)
    g = draw_cotangent(ctx, _out_shape(case))
    _check_against_closed_form(ctx, case, g, _what(ctx))


@prop(*GRAD_OPS, differentiable_only=True, dtypes=("float64",))
def grad_finite_differences(ctx):
    """In float64, first and second derivatives agree with central finite differences:
    torch.autograd.gradcheck and gradgradcheck, or jax.test_util.check_grads to order 2 in
    forward and reverse mode, with the tolerance of the finite-difference error analysis.

    Other dtypes are skipped: finite differences need float64. Kernel-scale passes (suite.sizes)
    are capped at FD_MAX_CLASSES = 65 classes of a few rows, and skipped on JAX: finite
    differences cost two evaluations per input entry and gradgradcheck a dense n x n Jacobian,
    so a 65536-row or 50257-class input is out of reach; grad_closed_form covers those sizes."""
    case = _small_case(ctx, regimes=("moderate", "ties"))
    if "temperature" in case.record.inputs:
        case = Case(case.op, case.x, case.axis, None, ctx.draw(st.sampled_from([0.5, 1.0, 2.0]), "temperature"))
    args, kwargs = case.args()
    atol = closed.finite_difference_atol(case.record, *args, step=autodiff.FD_STEP, **kwargs)
    ctx._record["call"] = (args, kwargs)
    problem = autodiff.finite_difference_check(ctx.adapter, ctx.op, args, kwargs, atol)
    if problem is not None:
        ctx.fail(f"{problem} [{_what(ctx)}]")


# Finite differences evaluate the op twice per input entry and gradgradcheck builds a dense
# n x n Jacobian: in the kernel-scale passes they are capped at this many classes (the warp
# boundaries 31 to 65) of a few rows; the pass of many rows and pinned row counts are left out.
FD_MAX_CLASSES = 65


def _small_case(ctx, regimes) -> Case:
    """A case of at most 3 x 8 entries (finite differences evaluate the op per entry). On a
    compiling backend, where every shape compiles some ten transformed programs (jvp of jvp,
    vjp of vjp, ...), only the shapes of FD_MENU along the last axis. In a kernel-scale pass,
    at most FD_MAX_CLASSES classes of a few rows, and none on a compiling backend."""
    if ctx.sizes is not None:
        from suite import sizes

        assume(ctx.sizes.kind in (sizes.LONG_ROWS, sizes.PINNED_CLASSES) and not _compiles_per_shape(ctx))
        ctx.sizes = ctx.sizes.capped(FD_MAX_CLASSES)
        return draw_grad_case(ctx, regimes, last_axis=True)
    menu = FD_MENU if _compiles_per_shape(ctx) else False
    return draw_grad_case(ctx, regimes, max_dims=2, max_batch=3, max_classes=8, menu=menu)


@prop(*GRAD_OPS, differentiable_only=True)
def grad_masked_entries(ctx):
    """A masked (-inf) entry gets exactly its closed-form gradient: 0 for softmax, logsumexp,
    temperature softmax and cross-entropy (s_i = 0), and exactly g_i for log_softmax
    (d log_softmax_i / dx_i = 1 - s_i = 1); no NaN anywhere in the row; the unmasked entries
    equal the closed form within the bound. A subnormal g_i flushed to 0 is accepted."""
    case = draw_grad_case(ctx, regimes=("masked",))
    if case.targets is not None:  # a masked target has infinite loss; aim at an unmasked entry
        finite = np.isfinite(case.x)
        head = finite[: sst.ELEMENTWISE_MAX]
        targets = np.array([ctx.draw(st.sampled_from(np.flatnonzero(row).tolist()), f"target {r}") for r, row in enumerate(head)])
        if len(finite) > len(head):  # many rows: the rest seeded, at a random unmasked entry each
            rng = np.random.default_rng(ctx.draw(st.integers(0, 2**32 - 1), "targets seed"))
            rest = np.argmax(np.where(finite[len(head):], rng.random(finite[len(head):].shape), -1.0), axis=1)
            targets = np.concatenate([targets, rest])
        case = Case(case.op, case.x, -1, targets)
    g = draw_cotangent(ctx, _out_shape(case))
    grad = _vjp_case(ctx, case, g)
    masked = np.isneginf(case.x)
    if np.any(np.isnan(grad)):
        flat = int(np.argmax(np.isnan(grad).ravel()))
        ctx.fail(
            f"grad[{index_label(flat, grad.shape)}]=nan, but the gradient of a row with -inf entries has no NaN [{_what(ctx)}]",
            got=grad,
        )
    exact_masked = g.astype(np.float64) if LOG_PROBABILITIES in case.record.traits else np.zeros(case.x.shape)
    # A subnormal g_i may be flushed to zero (FTZ/DAZ, as JAX on the CPU does); that is the
    # subnormal behaviour subnormal_outputs reports, not a masking bug.
    flushed = (grad.astype(np.float64) == 0) & (np.abs(exact_masked) < dt.smallest_normal(ctx.dtype))
    wrong = masked & (grad.astype(np.float64) != exact_masked) & ~flushed
    if np.any(wrong):
        flat = int(np.argmax(wrong.ravel()))
        ctx.fail(
            f"grad[{index_label(flat, grad.shape)}]={float(grad.flat[flat])!r}, but should be exactly "
            f"{float(exact_masked.flat[flat])!r} at a -inf entry [{_what(ctx)}]",
            expected=exact_masked,
            got=grad,
        )
    _check_against_closed_form(ctx, case, g, _what(ctx) + " with -inf entries", grad=grad)


@prop(*GRAD_OPS, differentiable_only=True)
def grad_extreme_logits(ctx):
    """For extreme logits the gradient is finite and equals the closed form: first the blog
    post's batch [[2, 1, 0.1], [1000, 1, -1000], [3, 2, 1]], then drawn logits up to the dtype's
    largest value, rows of very different scales and tiny spreads on huge offsets."""
    x = np.array(BLOG_BATCH).astype(ctx.np_dtype)
    blog = Case(ctx.op, x, -1, None, None)
    if "targets" in blog.record.inputs:
        blog = Case(ctx.op, x, -1, np.array(ctx.draw(st.lists(st.integers(0, 2), min_size=3, max_size=3), "blog targets")))
    if "temperature" in blog.record.inputs:
        blog = Case(ctx.op, x, -1, None, 1.0)
    g = draw_cotangent(ctx, _out_shape(blog), "blog cotangent")
    _check_against_closed_form(ctx, blog, g, f"vjp of {ctx.op}(x) on the blog batch {BLOG_BATCH}")
    case = draw_grad_case(ctx, regimes=("extreme", "mixed_rows", "offset"))
    g = draw_cotangent(ctx, _out_shape(case))
    _check_against_closed_form(ctx, case, g, _what(ctx) + " for extreme logits")


@prop(*GRAD_OPS, differentiable_only=True)
def grad_ties(ctx):
    """Tied logits and identical rows: the closed form holds, and identical rows (with the same
    cotangent) get identical gradients within the sum of their bounds."""
    case = draw_grad_case(ctx, regimes=("ties",), min_dims=2, last_axis=True)
    row = np.take(case.x, [0], axis=0)
    x = np.repeat(row, case.x.shape[0], axis=0)
    case = case.with_x(x)
    if case.targets is not None:
        case = Case(case.op, x, -1, np.full(x.shape[0], case.targets[0]))
    g_row = np.take(draw_cotangent(ctx, _out_shape(case)), [0], axis=0)
    g = np.repeat(g_row, case.x.shape[0], axis=0)
    grad = _check_against_closed_form(ctx, case, g, _what(ctx) + " with ties and identical rows")
    _, bound = _exact_and_bound(case, g, ctx.dtype)
    first = np.repeat(np.take(grad, [0], axis=0), case.x.shape[0], axis=0)
    assert_grad_within(ctx, grad, first.astype(closed.WIDE), 2 * bound, _what(ctx) + ": row 0 vs the identical other rows")


def _layout_view(ctx, case: Case):
    """A base array and a view of it equal to case.x: strided (every other entry), transposed
    (two axes swapped in memory) or unchanged (the axis is then not the last)."""
    # A JAX array has no strides the user can see; there, only the axis varies.
    kinds = ["axis"] if _compiles_per_shape(ctx) else ["strided", "transposed", "axis"]
    kind = ctx.draw(st.sampled_from(kinds), "layout")
    x = case.x
    if kind == "strided":
        along = ctx.draw(st.integers(0, x.ndim - 1), "strided axis")
        shape = list(x.shape)
        shape[along] *= 2
        base = np.full(shape, np.nan, dtype=x.dtype)  # the skipped entries must never be read
        index = tuple(slice(None, None, 2) if d == along else slice(None) for d in range(x.ndim))
        base[index] = x
        return "strided", base, lambda a: a[index]
    if kind == "transposed":
        other = ctx.draw(st.sampled_from([d for d in range(x.ndim) if d != case.class_axis]), "swapped axis")
        a1, a2 = case.class_axis, other
        base = np.ascontiguousarray(np.swapaxes(x, a1, a2))
        return f"transposed (axes {a1} and {a2})", base, lambda a: a.swapaxes(a1, a2)
    return f"axis={case.axis}", x, None


@prop(*GRAD_OPS, differentiable_only=True)
def grad_layouts(ctx):
    """The gradient does not depend on memory layout: for a strided view (every other entry of a
    larger array), a transposed view, and an axis other than the last, it equals the closed form,
    and entries of the base array outside the view get exactly zero gradient."""
    case = draw_grad_case(ctx, min_dims=2, max_classes=64)
    if case.record.takes_axis:
        assume(case.class_axis != case.x.ndim - 1 or ctx.draw(st.booleans(), "last axis too"))
    g = draw_cotangent(ctx, _out_shape(case))
    label, base, view = _layout_view(ctx, case)
    args, kwargs = case.args()
    grad_base = autodiff.vjp(ctx.adapter, ctx.op, (base,) + tuple(args[1:]), kwargs, g, view=view, ctx=ctx)
    grad = view(grad_base) if view is not None else grad_base
    if view is not None:
        outside = np.ones(base.shape, dtype=bool)
        view(outside)[...] = False
        stray = outside & (grad_base.astype(np.float64) != 0)
        if np.any(stray):
            flat = int(np.argmax(stray.ravel()))
            ctx.fail(
                f"grad_base[{index_label(flat, base.shape)}]={float(grad_base.flat[flat])!r}, but should be exactly 0: "
                f"the entry is outside the {label} view [{_what(ctx)}]",
                got=grad_base,
            )
    _check_against_closed_form(ctx, case, g, f"vjp of {ctx.op}(x) for a {label} input", grad=np.asarray(grad))


@prop(*GRAD_OPS, differentiable_only=True, dtypes=("float64",))
def grad_cross_backend(ctx):
    """The same float64 input and cotangent give equal gradients on every differentiable
    backend: this implementation's against each available built-in differentiable adapter of
    another backend or device (not an emulated one: Triton's interpreter), within the sum of their bounds.

    Other dtypes are skipped (backends may legitimately differ in low precision)."""
    others = _other_backends(ctx.adapter, ctx.op)
    assume(others)
    compiling = any(backends.get(o.backend).compiles_per_shape for o in others + [ctx.adapter])
    case = draw_grad_case(ctx, menu=CROSS_BACKEND_MENU if compiling else False)
    g = draw_cotangent(ctx, _out_shape(case))
    args, kwargs = case.args()
    mine = autodiff.vjp(ctx.adapter, ctx.op, args, kwargs, g, ctx=ctx)
    _, bound = _exact_and_bound(case, g, ctx.dtype)
    for other in others:
        try:
            theirs = autodiff.vjp(other, ctx.op, args, kwargs, g)
        except ImplementationRaised as exc:  # the suite's reference failed, not the target: undecided
            raise ReferenceFailed(f"the reference built-in {other.name} raised: {exc.message}") from None
        assert_grad_within(ctx, mine, theirs.astype(closed.WIDE), 2 * bound, f"vjp of {ctx.op}(x) vs {other.name}")


class ReferenceFailed(RuntimeError):
    """A built-in the property compares with raised: a suite error, never the target's failure."""


def _other_backends(adapter, op: str):
    from suite.adapter import builtin_adapters

    found = []
    for other in builtin_adapters():
        if (other.backend, other.device) == (adapter.backend, adapter.device) or not autodiff.is_differentiable(other):
            continue
        if backends.emulated(other.backend, other.device) is not None:
            continue  # its kernels need a worker of their own (TRITON_INTERPRET) and seconds a call
        if other.own_worker:
            continue  # a library's column (liger-kernel on cuda) is certified, never a reference; it runs apart
        if op in other.ops and "float64" in other.dtypes and other.available:
            found.append(other)
    return found


@prop("gumbel_softmax", differentiable_only=True)
def grad_straight_through(ctx):
    """A straight-through gumbel_softmax(hard=True) has the soft sample's gradient: with the same
    seed, the VJP of gumbel_softmax(logits, tau, n, seed, hard=True) equals that of hard=False
    for every cotangent (y_hard - stop_gradient(y_soft) + y_soft passes g to y_soft unchanged).

    Skipped where the implementation has no gumbel_softmax."""
    assume("gumbel_softmax" in ctx.adapter.ops)
    compiling = _compiles_per_shape(ctx)  # there, few shapes: each (K, num_samples, hard) compiles
    k = ctx.draw(st.just(5) if compiling else st.integers(2, 16), "K")
    logits = ctx.draw(sst.logits(ctx.dtype, (k,), "moderate"), "logits")
    tau = ctx.draw(st.sampled_from([0.5, 1.0, 2.0]), "tau")
    n = ctx.draw(st.just(4) if compiling else st.integers(1, 8), "num_samples")
    seed = ctx.draw(st.integers(0, 2**31 - 1), "seed")
    g = draw_cotangent(ctx, (n, k))
    args = (logits, tau, n, seed)
    soft = autodiff.vjp(ctx.adapter, ctx.op, args, {"hard": False}, g, ctx=ctx)
    hard = autodiff.vjp(ctx.adapter, ctx.op, args, {"hard": True}, g, ctx=ctx, disconnected="zeros")
    # Both are (1/tau) sum_n y_n (g_n - <y_n, g_n>) computed by the same arithmetic; allow the
    # softmax VJP's rounding terms at y = the soft sample (first order, as in suite.vjp).
    u = dt.unit_roundoff(ctx.dtype)
    y = _soft_sample(ctx, args)
    gw = np.abs(g.astype(np.float64))
    c = np.abs(np.sum(y * g.astype(np.float64), axis=-1, keepdims=True))
    per_sample = y * ((k + 1) * np.sum(y * gw, axis=-1, keepdims=True) + 2 * (gw + c)) * (k + 5)
    allowed = 2 * closed.SAFETY * u * np.sum(per_sample, axis=0) / tau + dt.smallest_normal(ctx.dtype) * (1 + np.sum(gw))
    assert_grad_within(ctx, hard, soft.astype(closed.WIDE), allowed, f"vjp of gumbel_softmax(logits, tau={tau}, hard=True) vs hard=False")


def _soft_sample(ctx, args) -> np.ndarray:
    adapter = ctx.adapter
    native = [adapter.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
    return adapter.to_numpy(adapter.ops[ctx.op](*native, hard=False)).astype(np.float64)
