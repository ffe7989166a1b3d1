"""The analytic core: hand-computed values, extreme inputs and invariants.

Bad inputs are tested in test_validation.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import softmax_ref as sr
from verification.tolerances import tolerances_for

# The gradient's three routes: the fast core, the textbook dense form, the loops.
ENTRY_POINTS = [sr.loss_and_grad, sr.loss_and_grad_dense, sr.loss_and_grad_naive]


def random_problem(seed: int, n: int, d: int, c: int, dtype=np.float64, reg: float = 0.1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    W = rng.normal(scale=0.5, size=(d, c)).astype(dtype)
    b = rng.normal(size=c).astype(dtype)
    y = rng.integers(0, c, size=n)
    return W, b, X, y, reg


# --- hand-computed values -------------------------------------------------


@pytest.mark.parametrize("fn", ENTRY_POINTS)
def test_one_sample_two_classes(fn):
    # x = 2, W = [1, -1], b = 0, y = 0: scores F = [2, -2].
    # loss = logsumexp(F) - F_0 = log(e^2 + e^-2) - 2 = log(1 + e^-4).
    # P = [1, e^-4] / (1 + e^-4); P - Y = [-q, q] with q = e^-4 / (1 + e^-4).
    # dW = x (P - Y) = [-2q, 2q]; db = P - Y = [-q, q] (N = 1, reg = 0).
    q = math.exp(-4) / (1 + math.exp(-4))
    L, dW, db = fn(np.array([[1.0, -1.0]]), np.zeros(2), np.array([[2.0]]), np.array([0]))
    assert float(L) == pytest.approx(math.log1p(math.exp(-4)), rel=1e-15)
    np.testing.assert_allclose(dW, [[-2 * q, 2 * q]], rtol=1e-14)
    np.testing.assert_allclose(db, [-q, q], rtol=1e-14)


@pytest.mark.parametrize("fn", ENTRY_POINTS)
def test_two_samples_uniform_scores(fn):
    # W = 0, b = 0: every score is 0, P = 1/2 everywhere, loss = log 2.
    # X = I, y = [0, 1]: P - Y = [[-1/2, 1/2], [1/2, -1/2]];
    # dW = X^T (P - Y) / N = (P - Y) / 2; db = column sums / 2 = [0, 0].
    L, dW, db = fn(np.zeros((2, 2)), np.zeros(2), np.eye(2), np.array([0, 1]))
    assert float(L) == pytest.approx(math.log(2), rel=1e-15)
    np.testing.assert_array_equal(dW, [[-0.25, 0.25], [0.25, -0.25]])
    np.testing.assert_array_equal(db, [0.0, 0.0])


@pytest.mark.parametrize("fn", ENTRY_POINTS)
def test_regulariser_and_bias(fn):
    # X = 0 so F = b = [0, ln 3]: P = [1/4, 3/4]. With y = 1:
    # loss = log(1 + 3) - ln 3 + 0.5 * 0.2 * (1 + 4 + 9 + 16) = ln(4/3) + 3.
    # dW = X^T (P - Y) + reg W = 0.2 W (X = 0); db = P - Y = [1/4, -1/4].
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    L, dW, db = fn(W, np.array([0.0, math.log(3)]), np.zeros((1, 2)), np.array([1]), reg=0.2)
    assert float(L) == pytest.approx(math.log(4 / 3) + 3.0, rel=1e-15)
    np.testing.assert_allclose(dW, 0.2 * W, rtol=1e-15)
    np.testing.assert_allclose(db, [0.25, -0.25], rtol=1e-15)


@pytest.mark.parametrize("fn", [*ENTRY_POINTS, sr.loss])
def test_loss_finite_where_minus_log_probs_overflows(fn):
    # Scores [0, 800, -800], label 2: logsumexp = 800 + log(1 + e^-800 + e^-1600) = 800
    # in float64, so the loss is 800 - (-800) = 1600. -log(softmax) would be
    # -log(0) = inf, since e^-1600 underflows.
    out = fn(np.zeros((1, 3)), np.array([0.0, 800.0, -800.0]), np.zeros((1, 1)), np.array([2]))
    L = out[0] if isinstance(out, tuple) else out
    assert float(L) == 1600.0


# --- extreme inputs ---------------------------------------------------------

# (row of scores, expected softmax, expected log_softmax): each expected value
# follows from exp(F - max) / sum and (F - max) - log(sum) in exact arithmetic,
# rounded to float64.
EXTREME_ROWS = [
    pytest.param([1e4, -1e4], [1.0, 0.0], [0.0, -2e4], id="huge-opposite"),
    pytest.param([1e308, -1e308], [1.0, 0.0], [0.0, -np.inf], id="near-max-float"),
    pytest.param([1e308, 1e308], [0.5, 0.5], [-math.log(2)] * 2, id="tied-at-max-float"),
    pytest.param([-1e308, -1e308, -1e308], [1 / 3] * 3, [-math.log(3)] * 3, id="tied-at-min-float"),
    pytest.param([1e-300, -1e-300], [0.5, 0.5], [-math.log(2)] * 2, id="tiny"),
    pytest.param([5.0, 5.0, 5.0], [1 / 3] * 3, [-math.log(3)] * 3, id="tied"),
    pytest.param([-1e9, -1e-9], [0.0, 1.0], [-1e9, 0.0], id="mixed-negative"),
    pytest.param([0.0, 800.0, -800.0], [0.0, 1.0, 0.0], [-800.0, 0.0, -1600.0], id="underflow"),
    pytest.param(
        [-3.0, 7.0],
        [1 / (1 + math.exp(10)), 1 / (1 + math.exp(-10))],
        [-10 - math.log1p(math.exp(-10)), -math.log1p(math.exp(-10))],
        id="mixed-sign",
    ),
]


@pytest.mark.parametrize(("row", "expected_p", "expected_logp"), EXTREME_ROWS)
def test_extreme_logits(row, expected_p, expected_logp):
    F = np.array([row])
    # No invalid operation or division by zero on the way (underflow of exp is the point).
    with np.errstate(invalid="raise", divide="raise", under="ignore"):
        p = sr.softmax(F)
        logp = sr.log_softmax(F)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p[0], expected_p, rtol=1e-15, atol=1e-300)
    # log(sum) is rounded once near log(1 + small): an absolute error of a few eps,
    # which is large relative to a log-probability close to 0.
    np.testing.assert_allclose(logp[0], expected_logp, rtol=1e-15, atol=4 * np.finfo(float).eps)
    assert p.sum() == pytest.approx(1.0, abs=1e-15)


def test_softmax_float32_stays_float32_and_normalised():
    F = np.array([[100.0, 0.0, -100.0], [3e38, -3e38, 0.0]], dtype=np.float32)
    p = sr.softmax(F)
    assert p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=tolerances_for(np.float32).eps * 4)
    assert np.all(np.isfinite(sr.log_softmax(F)[0]))


def test_softmax_integer_logits_become_float64():
    p = sr.softmax(np.array([[1, 1]]))
    assert p.dtype == np.float64
    np.testing.assert_array_equal(p, [[0.5, 0.5]])


@pytest.mark.parametrize("fn", [sr.softmax, sr.log_softmax])
def test_softmax_rejects_non_numeric(fn):
    with pytest.raises(TypeError, match="F"):
        fn(np.array([["a", "b"]]))


@pytest.mark.parametrize("fn", [*ENTRY_POINTS, sr.loss])
@pytest.mark.parametrize("scale", [1e3, 1e5])
def test_extreme_scores_give_exact_loss(fn, scale):
    # b = [s, -s], X = 0, y = 1: loss = logsumexp([s, -s]) + s = 2s exactly in float64.
    out = fn(np.zeros((1, 2)), np.array([scale, -scale]), np.zeros((1, 1)), np.array([1]))
    L = out[0] if isinstance(out, tuple) else out
    assert float(L) == 2 * scale
    if isinstance(out, tuple):
        np.testing.assert_array_equal(out[2], [1.0, -1.0])  # P = [1, 0], Y = [0, 1]


# --- invariants ---------------------------------------------------------------

SHAPES = [(1, 1, 2), (7, 3, 4), (50, 10, 3), (5, 2, 9)]


@pytest.mark.parametrize("seed", range(3))
def test_softmax_rows_sum_to_one_and_shift_invariant(seed):
    rng = np.random.default_rng(seed)
    F = rng.normal(scale=50, size=(20, 6))
    p = sr.softmax(F)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=4 * np.finfo(float).eps)
    shift = rng.normal(scale=1e3, size=(20, 1))
    # F + shift is rounded, so the shifted softmax differs by the rounding of F + shift:
    # |d p| <= p * |shift| * eps per entry.
    np.testing.assert_allclose(sr.softmax(F + shift), p, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sr.log_softmax(F + shift), sr.log_softmax(F), atol=1e-10)


def assert_routes_agree(a, b, dtype):
    """Two ``(loss, dW, db)`` of one problem agree to the tolerance table's paths entry."""
    tol = tolerances_for(dtype)
    np.testing.assert_allclose(a[0], b[0], rtol=tol.paths_rtol)
    np.testing.assert_allclose(a[1], b[1], rtol=tol.paths_rtol, atol=tol.paths_atol)
    np.testing.assert_allclose(a[2], b[2], rtol=tol.paths_rtol, atol=tol.paths_atol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", range(3))
def test_paths_agree(seed, shape, dtype):
    """The three routes (naive, dense, loss_and_grad) and loss give the same numbers."""
    W, b, X, y, reg = random_problem(seed, *shape, dtype=dtype)
    fast = sr.loss_and_grad(W, b, X, y, reg)
    dense = sr.loss_and_grad_dense(W, b, X, y, reg)
    naive = sr.loss_and_grad_naive(W, b, X, y, reg)
    L_only = sr.loss(W, b, X, y, reg)
    for out in (*fast, *dense, *naive, L_only):
        assert out.dtype == dtype
    for _, dW, db in (fast, dense, naive):
        assert dW.shape == W.shape
        assert db.shape == b.shape
    assert_routes_agree(fast, naive, dtype)
    assert_routes_agree(dense, naive, dtype)
    assert_routes_agree(fast, dense, dtype)
    np.testing.assert_allclose(fast[0], L_only, rtol=tolerances_for(dtype).paths_rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", range(20))
def test_three_routes_agree_on_many_problems(seed, dtype):
    """Seeded problems of every size from one sample and one class up, and reg from 0."""
    rng = np.random.default_rng(seed)
    n, d, c = int(rng.integers(1, 80)), int(rng.integers(1, 12)), int(rng.integers(1, 8))
    reg = float(rng.choice([0.0, 1e-3, 0.5]))
    W, b, X, y, reg = random_problem(seed, n, d, c, dtype=dtype, reg=reg)
    naive = sr.loss_and_grad_naive(W, b, X, y, reg)
    assert_routes_agree(sr.loss_and_grad_dense(W, b, X, y, reg), naive, dtype)
    assert_routes_agree(sr.loss_and_grad(W, b, X, y, reg), naive, dtype)


def wrong_dense(flaw):
    """loss_and_grad_dense with one mistake of the derivation, for the meta-test below."""

    def fn(W, b, X, y, reg=0.0):
        L, dW, db = sr.loss_and_grad_dense(W, b, X, y, reg)
        if flaw == "no_reg_in_dW":
            dW = dW - reg * W
        elif flaw == "sum_not_mean":
            dW = dW + (X.shape[0] - 1) * (dW - reg * W)
        elif flaw == "bias_regularised":
            db = db + reg * b
        return L, dW, db

    return fn


@pytest.mark.parametrize("flaw", ["no_reg_in_dW", "sum_not_mean", "bias_regularised"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_route_comparison_catches_a_wrong_route(flaw, dtype):
    """Meta-test: the comparison the three routes pass fails for a route with one mistake."""
    W, b, X, y, reg = random_problem(7, 30, 4, 3, dtype=dtype, reg=0.1)
    naive = sr.loss_and_grad_naive(W, b, X, y, reg)
    assert_routes_agree(sr.loss_and_grad_dense(W, b, X, y, reg), naive, dtype)
    with pytest.raises(AssertionError):
        assert_routes_agree(wrong_dense(flaw)(W, b, X, y, reg), naive, dtype)


@pytest.mark.parametrize("seed", range(5))
def test_db_sums_to_zero(seed):
    # Each row of P - Y sums to 1 - 1 = 0, so does their mean.
    W, b, X, y, reg = random_problem(seed, 40, 5, 6)
    _, _, db = sr.loss_and_grad(W, b, X, y, reg)
    assert abs(db.sum()) <= tolerances_for(np.float64).paths_atol


def test_integer_X_is_cast_to_float64():
    W, b, X, y, reg = random_problem(0, 6, 3, 4)
    Xi = np.rint(X * 3).astype(np.int64)
    L, dW, _ = sr.loss_and_grad(W, b, Xi, y, reg)
    assert dW.dtype == np.float64
    L_ref, dW_ref, _ = sr.loss_and_grad(W, b, Xi.astype(np.float64), y, reg)
    assert L == L_ref
    np.testing.assert_array_equal(dW, dW_ref)


def test_mixed_dtypes_promote_to_float64():
    W, b, X, y, reg = random_problem(1, 6, 3, 4, dtype=np.float32)
    L, dW, db = sr.loss_and_grad(W.astype(np.float64), b, X, y, reg)
    assert L.dtype == dW.dtype == db.dtype == np.float64


def test_float32_close_to_float64():
    # float32 in, float32 out, within float32 rounding of the float64 answer.
    W, b, X, y, reg = random_problem(2, 200, 20, 5)
    L64, dW64, db64 = sr.loss_and_grad(W, b, X, y, reg)
    L32, dW32, db32 = sr.loss_and_grad(*(a.astype(np.float32) for a in (W, b, X)), y, reg)
    tol = tolerances_for(np.float32)
    np.testing.assert_allclose(L32, L64, rtol=tol.paths_rtol)
    np.testing.assert_allclose(dW32, dW64, rtol=tol.paths_rtol, atol=tol.paths_atol)
    np.testing.assert_allclose(db32, db64, rtol=tol.paths_rtol, atol=tol.paths_atol)


@pytest.mark.parametrize("fn", [*ENTRY_POINTS, sr.loss])
def test_inputs_never_modified(fn):
    W, b, X, y, reg = random_problem(3, 9, 4, 3)
    copies = [a.copy() for a in (W, b, X, y)]
    fn(W, b, X, y, reg)
    for before, after in zip(copies, (W, b, X, y), strict=True):
        np.testing.assert_array_equal(before, after)


def test_non_contiguous_inputs():
    W, b, X, y, reg = random_problem(4, 10, 6, 4)
    Xf = np.asfortranarray(X)
    Xs = np.repeat(X, 2, axis=1)[:, ::2]
    ref = sr.loss_and_grad(W, b, X, y, reg)
    for Xv in (Xf, Xs):
        out = sr.loss_and_grad(W, b, Xv, y, reg)
        np.testing.assert_allclose(out[1], ref[1], rtol=1e-14)
