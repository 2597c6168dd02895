"""The seed documents' printed numbers, checked against the oracle.

Every expected value below is computed by suite.oracle (long double, 64-bit
significand) or by IEEE float32 arithmetic in NumPy, never copied from the
seeds. Several printed claims are wrong; each such test says what the seed
printed and asserts the correct value instead.
Seeds: ../shared/seeds (two blog posts, a theory page, a course page).
"""
from __future__ import annotations

import numpy as np

from implementations.broken.naive_softmax import softmax as naive_softmax
from suite import oracle

BLOG_LOGITS = np.array([[2.0, 1.0, 0.1], [1000.0, 1.0, -1000.0], [3.0, 2.0, 1.0]], dtype=np.float32)
BLOG_TARGETS = np.array([0, 2, 1])


def test_blog_softmax_of_the_well_behaved_rows():
    # Seed prints [0.6590, 0.2424, 0.0986] and [0.6652, 0.2447, 0.0900]: correct to 4 places.
    s = oracle.softmax(BLOG_LOGITS)
    np.testing.assert_allclose(s[0].astype(float), [0.6590, 0.2424, 0.0986], atol=5e-5)
    np.testing.assert_allclose(s[2].astype(float), [0.6652, 0.2447, 0.0900], atol=5e-5)


def test_blog_naive_row_is_nan_zero_zero_not_nan_zero_nan():
    # Seed prints [nan, 0.0000, nan] for the naive softmax of [1000, 1, -1000].
    # In float32: exp -> [inf, e, 0]; inf/inf = nan, e/inf = 0, 0/inf = 0.
    row = naive_softmax(BLOG_LOGITS)[1]
    assert np.isnan(row[0]) and row[1] == 0 and row[2] == 0


def test_blog_stable_loss_is_the_mean_667_not_2000():
    # Seed prints "Stable loss: tensor(2000.)" for stable_cross_entropy(...).mean().
    # The per-row losses are [0.41703, 2000, 1.40761]; their mean is 667.2749.
    losses = oracle.cross_entropy(BLOG_LOGITS, BLOG_TARGETS).astype(float)
    np.testing.assert_allclose(losses, [0.4170300, 2000.0, 1.4076060], rtol=1e-6)
    np.testing.assert_allclose(losses.mean(), 667.27488, rtol=1e-6)


def test_blog_stable_gradients_are_softmax_minus_onehot_over_n():
    # Seed prints rows [0.1137, -0.0808, -0.0329], [0.3333, 0.3333, -0.6667],
    # [0.1117, -0.2518, 0.1400]. d mean(CE) / dx = (softmax - onehot) / N gives
    # [-0.1137, 0.0808, 0.0329], [0.3333, 0, -0.3333], [0.2217, -0.2518, 0.0300]:
    # the first row's signs are flipped and the other two rows are wrong.
    grad = (oracle.softmax(BLOG_LOGITS) - np.eye(3)[BLOG_TARGETS]) / 3
    np.testing.assert_allclose(
        grad.astype(float),
        [[-0.1136663, 0.0808110, 0.0328553], [1 / 3, 0.0, -1 / 3], [0.2217470, -0.2517572, 0.0300102]],
        atol=1e-6,
    )


def test_course_page_cross_entropy_of_the_adversarial_tense_logits():
    # Course page: x = [1.2, 92.0, 3.1, 0.5, 2.9], y = 2, CE = 92.0 - 3.1 = 88.9. Correct
    # (the float32 inputs 92.0 and 3.1 give 88.9000001 exactly enough).
    x = np.array([[1.2, 92.0, 3.1, 0.5, 2.9]], dtype=np.float32)
    np.testing.assert_allclose(oracle.cross_entropy(x, np.array([2])).astype(float), [88.9], rtol=1e-7)
    # and exp(92) overflows float32 (log r_max = 88.72), so the naive softmax gives NaN there.
    assert np.isnan(naive_softmax(x)).any()


def test_course_page_large_negative_row_is_one_hot_not_nan():
    # Course page: naive softmax of [-100, -200, -300, -400, -500] "returns NaN
    # (exp(-300) underflows to 0, 0 / 0 = NaN)". exp(-100) = 3.7e-44 is a float32
    # subnormal, not 0, so the sum is positive and the naive result is one-hot.
    x = np.array([-100, -200, -300, -400, -500], dtype=np.float32)
    np.testing.assert_array_equal(naive_softmax(x), [1, 0, 0, 0, 0])


def test_course_page_exp_of_minus_91_is_a_float32_subnormal_not_below_it():
    # Course page: e^-91 ~ 4e-40 "is below denormal range". float32 subnormals reach
    # down to 1.4e-45, so exp(-90.8) = 3.68e-40 is representable (subnormal).
    value = np.exp(np.float32(-90.8))
    assert 0 < value < np.finfo(np.float32).smallest_normal


def test_course_page_masked_entry_gets_zero_probability():
    # Course page: x = [1, -inf, 3, 0, 2] gives zero probability at the -inf entry. Correct.
    s = oracle.softmax(np.array([1, -np.inf, 3, 0, 2]))
    assert s[1] == 0 and abs(float(np.sum(s)) - 1) < 1e-15
