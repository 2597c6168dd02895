"""PaddlePaddle, dynamic graph (eager), on the CPU: paddle.nn.functional's softmax, log_softmax,
cross_entropy and gumbel_softmax, paddle.logsumexp and paddle.multinomial.

NumPy in, NumPy out, on ``paddle.CPUPlace()``: each op makes a tensor of the caller's array with
``paddle.to_tensor(x, place=paddle.CPUPlace())``, calls the documented function in the caller's
dtype, and returns ``.numpy()`` (a NumPy scalar for a 0-d result, which the suite accepts):

    softmax              F.softmax(x, axis=axis)
    log_softmax          F.log_softmax(x, axis=axis)
    logsumexp            paddle.logsumexp(x, axis=axis)
    cross_entropy        F.cross_entropy(logits, labels, reduction="none") (its defaults: soft_label=False,
                         use_softmax=True, axis=-1; labels int32 or int64, as given; the result is (N,))
    temperature_softmax  F.softmax(x / temperature, axis=axis)
    gumbel_max           paddle.multinomial(F.softmax(logits), num_samples, replacement=True) after
                         paddle.seed(seed): Paddle's categorical sampler takes probabilities, so it is fed
                         Paddle's own softmax of the logits, as its users call the pair
    gumbel_softmax       F.gumbel_softmax(paddle.expand(logits[None, :], [num_samples, K]), temperature=tau,
                         hard=hard, axis=-1) after paddle.seed(seed)

The samplers seed Paddle's global generator with ``paddle.seed`` (F.gumbel_softmax and
paddle.multinomial take no generator) and restore the caller's state afterwards
(``paddle.get_rng_state`` / ``paddle.set_rng_state``).

dtypes: float32 and float64. The CPU build (paddlepaddle 3.3.1) has no float16 or bfloat16 kernel
for any of these ops: ``(NotFound) The kernel with key (CPU, Undefined(AnyLayout), float16) of
kernel `softmax` is not registered. Selected wrong DataType `float16`. Paddle support following
DataTypes: float64, float32.`` (likewise ``log_softmax``, ``logsumexp``,
``cross_entropy_with_softmax``, ``gumbel_softmax``; bfloat16 the same), so the suite records both
as unsupported. ``import paddle`` takes seconds (and warns on stderr that ccache is missing): it
happens on the first op call, in the worker process, never when the suite lists its built-ins
(the availability check only looks for the package).
Nothing here works around what Paddle returns.
"""
from __future__ import annotations

import functools

from suite.adapter import extra_missing, installed_version, numpy_adapter

DTYPES = ("float32", "float64")


def unavailable_reason() -> str | None:
    return extra_missing("paddle", "paddle")


@functools.cache
def _paddle():
    import paddle

    return paddle


def _F():
    return _paddle().nn.functional


def _tensor(a):
    paddle = _paddle()
    return paddle.to_tensor(a, place=paddle.CPUPlace())


def softmax(x, axis=-1):
    return _F().softmax(_tensor(x), axis=int(axis)).numpy()


def log_softmax(x, axis=-1):
    return _F().log_softmax(_tensor(x), axis=int(axis)).numpy()


def logsumexp(x, axis=-1):
    return _paddle().logsumexp(_tensor(x), axis=int(axis)).numpy()


def cross_entropy(logits, targets):
    return _F().cross_entropy(_tensor(logits), _tensor(targets), reduction="none").numpy()


def temperature_softmax(x, temperature, axis=-1):
    return _F().softmax(_tensor(x) / temperature, axis=int(axis)).numpy()


def _seeded(fn):
    """Run ``fn`` after ``paddle.seed(seed)``, restoring the caller's generator state afterwards."""

    @functools.wraps(fn)
    def seeded(*args, seed, **kwargs):
        paddle = _paddle()
        state = paddle.get_rng_state()
        try:
            paddle.seed(int(seed))
            return fn(paddle, *args, **kwargs)
        finally:
            paddle.set_rng_state(state)

    return seeded


@_seeded
def _multinomial(paddle, logits, num_samples):
    probs = paddle.nn.functional.softmax(_tensor(logits))
    return paddle.multinomial(probs, int(num_samples), replacement=True).numpy()


def gumbel_max(logits, num_samples, seed):
    """One row of logits, ``num_samples`` draws of paddle.multinomial on Paddle's softmax of them."""
    return _multinomial(logits, num_samples, seed=seed)


@_seeded
def _gumbel_softmax(paddle, logits, tau, num_samples, hard):
    t = _tensor(logits)
    rows = paddle.expand(t[None, :], [int(num_samples), t.shape[-1]])
    return paddle.nn.functional.gumbel_softmax(rows, temperature=float(tau), hard=bool(hard), axis=-1).numpy()


def gumbel_softmax(logits, tau, num_samples, seed, hard=False):
    """F.gumbel_softmax on ``num_samples`` copies of the logits row; hard=True is Paddle's one-hot."""
    return _gumbel_softmax(logits, tau, num_samples, hard, seed=seed)


def versions() -> dict[str, str]:
    return {"paddlepaddle": _paddle().__version__}


def _description() -> str:
    return f"PaddlePaddle {installed_version('paddlepaddle', 'paddlepaddle-gpu')}dynamic graph on the CPU"


ADAPTER = numpy_adapter(
    "paddle",
    {
        "softmax": softmax,
        "log_softmax": log_softmax,
        "logsumexp": logsumexp,
        "cross_entropy": cross_entropy,
        "temperature_softmax": temperature_softmax,
        "gumbel_max": gumbel_max,
        "gumbel_softmax": gumbel_softmax,
    },
    DTYPES,
    description=_description(),
    versions=versions,
    unavailable_reason=unavailable_reason,
    own_worker=True,
)
