"""Behaviour of softmax_ref/loss.py that the other unit tests left unpinned.

Mutation testing (``make mutate``, docs/property-suite.md) changed loss.py one
small edit at a time and ran tests/test_loss.py and tests/test_validation.py;
the edits that survived point at behaviour nobody asserted. Each test here
states that behaviour, from the public API and the docstrings' promises, and
names in its docstring the kind of edit it catches. Expected values are
worked out by hand in the comments, never copied from the code's output.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import softmax_ref as sr

ENTRY_POINTS = [sr.loss, sr.loss_and_grad, sr.loss_and_grad_naive]


def loss_of(out) -> np.floating:
    return out[0] if isinstance(out, tuple) else out


# --- softmax and log_softmax work over the last axis of any shape -----------------


def test_softmax_of_a_single_row():
    """A 1-D F is one row of scores (catches: 1-D rejected, reducing over axis 1)."""
    # softmax([0, ln 3]) = [1, 3] / 4.
    np.testing.assert_allclose(sr.softmax(np.array([0.0, math.log(3)])), [0.25, 0.75], rtol=1e-15)
    np.testing.assert_allclose(
        sr.log_softmax(np.array([0.0, math.log(3)])),
        [math.log(0.25), math.log(0.75)],
        rtol=1e-15,
    )


@pytest.mark.parametrize("fn", [sr.softmax, sr.log_softmax])
def test_zero_dimensional_scores_are_rejected(fn):
    """A scalar has no class axis: ValueError naming F (catches: the check or message lost)."""
    with pytest.raises(ValueError, match=r"F must have at least 1 dimension.*got shape \(\)"):
        fn(np.float64(1.0))


@pytest.mark.parametrize("fn", [sr.softmax, sr.log_softmax])
def test_batched_scores_reduce_over_the_last_axis(fn):
    """(..., C) input: each last-axis row is treated alone (catches: axis=+1 or axis=None)."""
    rng = np.random.default_rng(7)
    F = rng.normal(scale=3.0, size=(2, 3, 4))
    out = fn(F)
    assert out.shape == F.shape
    for i in range(F.shape[0]):
        for j in range(F.shape[1]):
            np.testing.assert_allclose(out[i, j], fn(F[i, j]), rtol=1e-15, atol=1e-15)


def test_log_softmax_normalises_each_row_separately():
    """Two rows: each is normalised by its own sum (catches: one sum over the whole array)."""
    # Row 0: [0, ln 3] -> [ln 1/4, ln 3/4]; row 1: [0, 0] -> [ln 1/2, ln 1/2].
    F = np.array([[0.0, math.log(3)], [0.0, 0.0]])
    expected = [[math.log(0.25), math.log(0.75)], [math.log(0.5), math.log(0.5)]]
    np.testing.assert_allclose(sr.log_softmax(F), expected, rtol=1e-15)


# --- defaults and warnings --------------------------------------------------------


@pytest.mark.parametrize("fn", ENTRY_POINTS)
def test_reg_defaults_to_zero(fn):
    """Leaving reg out means no penalty (catches: a different default)."""
    W = np.array([[1.0, -2.0]])
    b, X, y = np.zeros(2), np.array([[0.5]]), np.array([1])
    # F = [0.5, -1], y = 1: loss = log(e^0.5 + e^-1) + 1, no penalty.
    expected = math.log(math.exp(0.5) + math.exp(-1.0)) + 1.0
    assert float(loss_of(fn(W, b, X, y))) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("fn", ENTRY_POINTS)
def test_overflowing_scores_raise_without_a_numpy_warning(fn):
    """Finite inputs whose scores overflow: one ValueError, no RuntimeWarning first.

    The message says that all three inputs were found finite, so the user
    knows the scores, not the data, are out of range. Catches: the overflow of
    X W + b no longer silenced, which would make NumPy warn (or, with warnings
    as errors, raise RuntimeWarning) before the clear error the docstring
    promises; an input left out of the finiteness report.
    """
    W = np.full((2, 2), 1e200)
    X = np.full((1, 2), 1e200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="overflowed although X, W, b are finite"):
            fn(W, np.zeros(2), X, np.array([0]))


# --- float32: sums accumulated in float64, a non-finite gradient never returned ---


@pytest.mark.parametrize("fn", [sr.loss, sr.loss_and_grad])
@pytest.mark.parametrize("n", [3, 5, 6, 7, 9, 10, 11, 12, 13])
def test_float32_loss_of_repeated_samples_is_exact(fn, n):
    """The mean over n copies of one sample is that sample's loss, bit for bit, in float32.

    The loss is summed in float64 and rounded to float32 once: the mean of n
    copies then differs from the one-sample value by float64 rounding (~1e-16
    relative), which does not move the float32 result (resolution ~6e-8). A
    mean accumulated in float32 rounds its partial sums at float32's
    resolution and is off by an ulp for some n (catches: dropping the float64
    accumulator).
    """
    b = np.array([0.0, 1.0, 2.0], dtype=np.float32)
    W = np.zeros((1, 3), dtype=np.float32)
    one = loss_of(fn(W, b, np.zeros((1, 1), np.float32), np.array([2])))
    many = loss_of(fn(W, b, np.zeros((n, 1), np.float32), np.full(n, 2)))
    assert one.dtype == many.dtype == np.float32
    assert many == one


@pytest.mark.parametrize("fn", ENTRY_POINTS)
def test_float32_penalty_keeps_small_weights(fn):
    """0.5 reg ||W||^2 summed in float64, rounded once to float32.

    W = [1, 2^-12, 2^-12], reg = 2: the penalty is 1 + 2^-24 + 2^-24 = 1 + 2^-23,
    a float32 number. Summed in float32, 1 + 2^-24 rounds to 1 (ties to even)
    twice and the small weights vanish (catches: dropping the float64
    accumulator). The data term is exactly 0: scores b = [0, -1e4, -1e4] with
    y = 0 give log(1 + 2 e^-1e4) - 0 = log(1) = 0 in float32.
    """
    W = np.array([[1.0, 2.0**-12, 2.0**-12]], dtype=np.float32)
    b = np.array([0.0, -1e4, -1e4], dtype=np.float32)
    L = loss_of(fn(W, b, np.zeros((1, 1), np.float32), np.array([0]), 2.0))
    assert L.dtype == np.float32
    assert L == np.float32(1 + 2.0**-23)


# A float32 problem whose loss is finite but whose gradient is not: reg W =
# 1e39 * 0.5 = 5e38 exceeds float32's 3.4e38, while the penalty
# 0.5 * 1e39 * 0.25 = 1.25e38 does not.
HUGE_REG = 1e39
W_HALF = np.array([[0.5, 0.0]], dtype=np.float32)


def huge_reg_problem():
    return W_HALF, np.zeros(2, np.float32), np.zeros((1, 1), np.float32), np.array([0]), HUGE_REG


def test_float32_loss_is_finite_where_the_gradient_overflows():
    """The premise of the next tests: the loss alone is representable."""
    L = sr.loss(*huge_reg_problem())
    assert np.isfinite(L)
    assert float(L) == pytest.approx(0.5 * HUGE_REG * 0.25, rel=1e-6)


@pytest.mark.parametrize("fn", [sr.loss_and_grad, sr.loss_and_grad_naive])
def test_overflowing_gradient_is_an_error_not_inf(fn):
    """A gradient that overflows raises ValueError even though the loss is finite.

    Catches: the finiteness check of the result no longer looking at dW.
    (RuntimeWarnings are ignored here; whether one is emitted is the next test.)
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="overflowed"):
            fn(*huge_reg_problem())


@pytest.mark.parametrize(
    "fn",
    [
        sr.loss_and_grad,
        sr.loss_and_grad_naive,
    ],
)
def test_overflowing_gradient_raises_without_a_numpy_warning(fn):
    """As above, with warnings as errors: the clear ValueError comes alone."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="overflowed"):
            fn(*huge_reg_problem())
