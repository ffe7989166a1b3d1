"""Unit tests of the linear model's Hessian-vector product (softmax_ref/hessian.py).

Every route (blocked ``hvp``, ``hvp_naive``, the operator with and without its
cache, any block size and thread count) is held to the others and to a
50-digit reference computed with :mod:`decimal`; tolerances come from
verification/tolerances.py.
"""

from __future__ import annotations

import decimal

import numpy as np
import pytest

import softmax_ref as sr
from softmax_ref import _kernels
from softmax_ref.hessian import CACHE_ENV, hessian_operator, hvp_naive, linear_hessian
from verification.tolerances import tolerances_for

TOL64 = tolerances_for(np.float64)
TOL32 = tolerances_for(np.float32)


def _problem(seed, n=13, d=4, c=5, scale=1.0, reg=0.3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    W = rng.normal(scale=scale, size=(d, c))
    b = rng.normal(scale=scale, size=c)
    y = rng.integers(0, c, size=n)
    V_W = rng.normal(size=(d, c))
    V_b = rng.normal(size=c)
    return W, b, X, y, reg, V_W, V_b


def _reference(W, b, X, reg, V_W, V_b, digits=50):
    """H[V] at 50 significant digits, from the formula; returns it and each entry's term scale."""
    ctx = decimal.Context(prec=digits)
    D = ctx.create_decimal_from_float
    n, d = X.shape
    c = W.shape[1]
    HW = [[D(0)] * c for _ in range(d)]
    Hb = [D(0)] * c
    scale_R = np.zeros((n, c))
    for k in range(n):
        x = [D(float(v)) for v in X[k]]
        f = [
            ctx.add(
                sum((ctx.multiply(x[i], D(float(W[i, j]))) for i in range(d)), D(0)), D(float(b[j]))
            )
            for j in range(c)
        ]
        m = max(f)
        e = [ctx.exp(ctx.subtract(fj, m)) for fj in f]
        z = sum(e, D(0))
        p = [ctx.divide(ej, z) for ej in e]
        s = [
            sum((x[i] * D(float(V_W[i, j])) for i in range(d)), D(0)) + D(float(V_b[j]))
            for j in range(c)
        ]
        ps = sum((p[j] * s[j] for j in range(c)), D(0))
        R = [p[j] * (s[j] - ps) for j in range(c)]
        for j in range(c):
            Hb[j] += R[j]
            for i in range(d):
                HW[i][j] += x[i] * R[j]
        kappa = float(max(abs(v) for v in f))
        sig = float(max(abs(v) for v in s))
        scale_R[k] = np.array([float(v) for v in p]) * 2 * sig * (1 + 2 * kappa)
    HW = np.array([[float(v / n) for v in row] for row in HW]) + reg * V_W
    Hb = np.array([float(v / n) for v in Hb])
    # The size of the terms that round into each entry: a score carries ~eps |F|,
    # which moves each probability by that relative amount.
    s_W = np.abs(X).T @ scale_R / n + reg * np.abs(V_W)
    s_b = scale_R.sum(axis=0) / n
    return (HW, Hb), (s_W, s_b)


def _close(a, ref, scale, tol):
    bound = tol.exact_rtol * np.abs(ref) + tol.exact_atol_factor * tol.eps * scale
    assert np.all(np.abs(np.asarray(a, np.float64) - ref) <= bound), (
        f"max err {np.max(np.abs(a - ref))}, max err/bound {np.max(np.abs(a - ref) / bound)}"
    )


@pytest.mark.parametrize(
    ("seed", "scale"), [(0, 1.0), (1, 1.0), (2, 30.0), (3, 1e3), (4, 1e5), (5, 1e-8)]
)
@pytest.mark.parametrize("route", ["hvp", "naive", "operator"])
def test_agrees_with_a_50_digit_reference(seed, scale, route):
    W, b, X, y, reg, V_W, V_b = _problem(seed, scale=scale)
    (rW, rb), (sW, sb) = _reference(W, b, X, reg, V_W, V_b)
    if route == "hvp":
        HW, Hb = sr.hvp(W, b, X, y, reg, V_W, V_b)
    elif route == "naive":
        HW, Hb = hvp_naive(W, b, X, y, reg, V_W, V_b)
    else:
        HW, Hb = hessian_operator(W, b, X, y, reg)(V_W, V_b)
    _close(HW, rW, sW, TOL64)
    _close(Hb, rb, sb, TOL64)


@pytest.mark.parametrize("seed", [0, 2])
@pytest.mark.parametrize("route", ["hvp", "operator"])
def test_sub_gemms_agree_with_a_50_digit_reference(monkeypatch, seed, route):
    # Every GEMM of a block cut into sub-GEMMs of 3 rows (the default does so only
    # for blocks of hundreds of rows): 13 rows are four sub-GEMMs and a tail of one.
    monkeypatch.setenv(_kernels.SUB_GEMM_ENV, "3")
    assert _kernels.sub_gemm_rows(4, 5) == 3
    W, b, X, y, reg, V_W, V_b = _problem(seed)
    (rW, rb), (sW, sb) = _reference(W, b, X, reg, V_W, V_b)
    if route == "hvp":
        HW, Hb = sr.hvp(W, b, X, y, reg, V_W, V_b)
    else:
        HW, Hb = hessian_operator(W, b, X, y, reg)(V_W, V_b)
    _close(HW, rW, sW, TOL64)
    _close(Hb, rb, sb, TOL64)


def test_reference_catches_a_wrong_product():
    # The comparison above can fail: the same product with p p^T dropped does.
    W, b, X, _y, reg, V_W, V_b = _problem(0)
    (rW, _), (sW, _) = _reference(W, b, X, reg, V_W, V_b)
    P = sr.softmax(X @ W + b)
    wrong = X.T @ (P * (X @ V_W + V_b)) / X.shape[0] + reg * V_W
    with pytest.raises(AssertionError):
        _close(wrong, rW, sW, TOL64)


def test_float32_in_float32_out_and_close_to_float64():
    W, b, X, y, reg, V_W, V_b = _problem(7)
    args32 = [a.astype(np.float32) for a in (W, b, X)]
    HW, Hb = sr.hvp(*args32, y, reg, V_W.astype(np.float32), V_b.astype(np.float32))
    assert HW.dtype == np.float32
    assert Hb.dtype == np.float32
    exact = [
        a.astype(np.float64) for a in (*args32, V_W.astype(np.float32), V_b.astype(np.float32))
    ]
    (rW, rb), (sW, sb) = _reference(exact[0], exact[1], exact[2], reg, exact[3], exact[4])
    _close(HW, rW, sW, TOL32)
    _close(Hb, rb, sb, TOL32)
    # one float64 input makes the whole computation float64
    assert sr.hvp(*args32, y, reg, V_W, V_b.astype(np.float32))[0].dtype == np.float64


def test_blocks_and_threads_give_the_same_product(monkeypatch):
    W, b, X, y, reg, V_W, V_b = _problem(8, n=3000, d=20, c=7)
    one = sr.hvp(W, b, X, y, reg, V_W, V_b)
    monkeypatch.setenv("SOFTMAX_REF_BLOCK_BYTES", str(64 * 20 * 8))
    monkeypatch.setenv("SOFTMAX_REF_NUM_THREADS", "2")
    many = sr.hvp(W, b, X, y, reg, V_W, V_b)
    again = sr.hvp(W, b, X, y, reg, V_W, V_b)
    for a, m, g in zip(one, many, again, strict=True):
        np.testing.assert_allclose(m, a, rtol=TOL64.paths_rtol, atol=TOL64.paths_atol)
        np.testing.assert_array_equal(m, g)  # bitwise reproducible for one setting


def test_operator_with_and_without_its_cache(monkeypatch):
    W, b, X, y, reg, V_W, V_b = _problem(9, n=500)
    cached = hessian_operator(W, b, X, y, reg)
    monkeypatch.setenv(CACHE_ENV, "0")
    uncached = hessian_operator(W, b, X, y, reg)
    assert cached._cache is not None
    assert uncached._cache is None
    for a, u, h in zip(
        cached(V_W, V_b), uncached(V_W, V_b), sr.hvp(W, b, X, y, reg, V_W, V_b), strict=True
    ):
        np.testing.assert_array_equal(a, u)
        np.testing.assert_array_equal(a, h)


def test_operator_is_a_scipy_linear_operator_and_matches_the_dense_hessian():
    from scipy.sparse.linalg import aslinearoperator

    W, b, X, y, reg, _, _ = _problem(10, n=9, d=3, c=4)
    op = hessian_operator(W, b, X, y, reg)
    n_par = op.shape[0]
    H = np.column_stack([op.matvec(e) for e in np.eye(n_par)])
    # The dense Hessian from the per-sample blocks: sum_n (x_n x_n^T (x) A_n) / N.
    P = sr.softmax(X @ W + b)
    dense = np.zeros((n_par, n_par))
    for x, p in zip(X, P, strict=True):
        A = np.diag(p) - np.outer(p, p)
        J = np.hstack([np.kron(x[None, :], np.eye(4)), np.eye(4)])  # df/dtheta, (C, DC + C)
        dense += J.T @ A @ J
    dense /= X.shape[0]
    dense[:12, :12] += reg * np.eye(12)
    np.testing.assert_allclose(H, dense, rtol=TOL64.paths_rtol, atol=TOL64.paths_atol)
    v = np.random.default_rng(0).normal(size=n_par)
    np.testing.assert_allclose(aslinearoperator(op) @ v, dense @ v, rtol=1e-12, atol=1e-13)
    assert op.matvec(v[:, None]).shape == (n_par, 1)


def test_labels_do_not_change_the_hessian():
    W, b, X, y, reg, V_W, V_b = _problem(11)
    other = (y + 1) % W.shape[1]
    for a, o in zip(
        sr.hvp(W, b, X, y, reg, V_W, V_b), sr.hvp(W, b, X, other, reg, V_W, V_b), strict=True
    ):
        np.testing.assert_array_equal(a, o)


def test_same_change_for_every_class_is_in_the_null_space():
    W, b, X, y, _, _, _ = _problem(12)
    HW, Hb = sr.hvp(W, b, X, y, 0.0, np.zeros_like(W), np.full(W.shape[1], 3.0))
    # Exactly zero: the bias part adds the same number to every score of a row.
    assert not HW.any()
    assert not Hb.any()


@pytest.mark.parametrize(
    ("V_W", "V_b", "exc", "match"),
    [
        (np.zeros((3, 5)), np.zeros(5), ValueError, "V_W must have the shape of W"),
        (np.zeros((4, 5)), np.zeros(4), ValueError, "V_b must have the shape of b"),
        (np.zeros((4, 5), complex), np.zeros(5), TypeError, "V_W must hold real numbers"),
        (np.zeros((4, 5)), np.array(["a"] * 5), TypeError, "V_b must hold real numbers"),
        (np.full((4, 5), np.nan), np.zeros(5), ValueError, r"V_W must be finite; got nan"),
        (np.zeros((4, 5)), np.array([0, 0, np.inf, 0, 0]), ValueError, r"V_b\[2\]"),
        (np.zeros(20), np.zeros(5), ValueError, "V_W must have 2 dimension"),
    ],
)
@pytest.mark.parametrize("fn", [sr.hvp, hvp_naive])
def test_a_bad_direction_is_named(fn, V_W, V_b, exc, match):
    W, b, X, y, reg, _, _ = _problem(13)
    with pytest.raises(exc, match=match):
        fn(W, b, X, y, reg, V_W, V_b)


def test_operator_rejects_a_bad_flat_vector_and_direction():
    W, b, X, y, reg, _, _ = _problem(14)
    op = hessian_operator(W, b, X, y, reg)
    with pytest.raises(ValueError, match="v must be a flat vector of size D C \\+ C = 25"):
        op.matvec(np.zeros(24))
    with pytest.raises(ValueError, match="V_b must be finite"):
        op.matvec(np.r_[np.zeros(20), np.nan, np.zeros(4)])


def test_bad_problem_is_reported_as_by_loss_and_grad():
    W, b, X, y, reg, V_W, V_b = _problem(15)
    with pytest.raises(ValueError, match="reg must be a finite number >= 0"):
        sr.hvp(W, b, X, y, -1.0, V_W, V_b)
    Xbad = X.copy()
    Xbad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"X must be finite; got nan at X\[2, 1\]"):
        sr.hvp(W, b, Xbad, y, reg, V_W, V_b)


def test_inputs_are_not_written_to():
    args = _problem(16)
    copies = [np.copy(a) for a in args]
    sr.hvp(*args)
    hvp_naive(*args)
    hessian_operator(*args[:5])(args[5], args[6])
    for a, c in zip(args, copies, strict=True):
        np.testing.assert_array_equal(a, c)


# --- tests written against mutants that survived the other tests (docs/property-suite.md) ---

_ROUTES = {
    "hvp": sr.hvp,
    "naive": hvp_naive,
    "operator": lambda W, b, X, y, reg, V_W, V_b: hessian_operator(W, b, X, y, reg)(V_W, V_b),
}


def test_two_lanes_give_the_one_lane_product(monkeypatch):
    # Enough work (N C (D + 16) >= MIN_WORK_FOR_THREADS) for two lanes over many blocks:
    # every lane's sum must be added once, in order.
    W, b, X, y, reg, V_W, V_b = _problem(8, n=5000, d=20, c=7)
    one = sr.hvp(W, b, X, y, reg, V_W, V_b)
    monkeypatch.setenv("SOFTMAX_REF_BLOCK_BYTES", str(64 * 20 * 8))
    monkeypatch.setenv("SOFTMAX_REF_NUM_THREADS", "2")
    op = hessian_operator(W, b, X, y, reg)
    assert op._acc.n_lanes == 2
    assert op._acc.n_blocks > 2
    for route in (sr.hvp(W, b, X, y, reg, V_W, V_b), op(V_W, V_b)):
        for a, m in zip(one, route, strict=True):
            np.testing.assert_allclose(m, a, rtol=TOL64.paths_rtol, atol=TOL64.paths_atol)


def test_each_sample_is_as_accurate_as_its_own_scale():
    # Sample 0 has scores ~1e8, sample 1 ~1; feature 1 is sample 1's alone, so HV_W's
    # row 1 is bounded by sample 1's scale: its score changes must be shifted by its own
    # top score, not by one shared over the block.
    W, b, _, y, reg, V_W, V_b = _problem(17, n=2, d=2, c=3)
    X = np.array([[1e8, 0.0], [0.0, 1.0]])
    V_W[0] = 1.0  # sample 0's score changes ~1e8
    (rW, rb), (sW, sb) = _reference(W, b, X, reg, V_W, V_b)
    for HW, Hb in (sr.hvp(W, b, X, y, reg, V_W, V_b), hvp_naive(W, b, X, y, reg, V_W, V_b)):
        _close(HW, rW, sW, TOL64)
        _close(Hb, rb, sb, TOL64)


def test_accuracy_test_catches_a_shift_shared_over_the_samples():
    # The bound above can fail: the same product with one shift for every sample does.
    W, b, _, _y, reg, V_W, V_b = _problem(17, n=2, d=2, c=3)
    X = np.array([[1e8, 0.0], [0.0, 1.0]])
    V_W[0] = 1.0
    (rW, _), (sW, _) = _reference(W, b, X, reg, V_W, V_b)
    P = sr.softmax(X @ W + b)
    S = X @ V_W + V_b
    S -= S.max()
    R = P * (S - (P * S).sum(axis=1, keepdims=True))
    with pytest.raises(AssertionError):
        _close(X.T @ R / 2 + reg * V_W, rW, sW, TOL64)


def test_one_class_has_a_zero_hessian():
    # C = 1: p = 1 and diag(p) - p p^T = 0, so only the penalty is left.
    W, b, X, y, reg, V_W, V_b = _problem(18, c=1)
    for route in _ROUTES.values():
        HW, Hb = route(W, b, X, y, reg, V_W, V_b)
        np.testing.assert_allclose(HW, reg * V_W, rtol=TOL64.paths_rtol, atol=TOL64.paths_atol)
        np.testing.assert_allclose(Hb, 0.0, atol=TOL64.paths_atol)


def test_every_route_keeps_float32():
    W, b, X, y, reg, V_W, V_b = (
        a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a
        for a in _problem(19)
    )
    op = hessian_operator(W, b, X, y, reg)
    assert op.dtype == np.float32
    for out in (hvp_naive(W, b, X, y, reg, V_W, V_b), op(V_W, V_b)):
        assert [a.dtype for a in out] == [np.float32, np.float32]


def test_operator_cache_budget_is_inclusive(monkeypatch):
    W, b, X, y, reg, _, _ = _problem(20, n=50)
    need = X.shape[0] * W.shape[1] * X.itemsize  # bytes of P, (C, N) float64
    monkeypatch.setenv(CACHE_ENV, str(need))
    assert hessian_operator(W, b, X, y, reg)._cache is not None
    monkeypatch.setenv(CACHE_ENV, str(need - 1))
    assert hessian_operator(W, b, X, y, reg)._cache is None


def test_cached_operator_computes_the_probabilities_once(monkeypatch):
    from softmax_ref import hessian

    W, b, X, y, reg, V_W, V_b = _problem(21, n=300)
    monkeypatch.setenv("SOFTMAX_REF_BLOCK_BYTES", str(64 * 4 * 8))  # five blocks of 64 rows
    calls = []
    real = hessian._probabilities
    monkeypatch.setattr(hessian, "_probabilities", lambda *a: calls.append(1) or real(*a))
    op = hessian_operator(W, b, X, y, reg)
    assert len(calls) == op._acc.n_blocks == 5
    out = op(V_W, V_b)
    assert len(calls) == 5
    expected = sr.hvp(W, b, X, y, reg, V_W, V_b)  # calls the (counting) probabilities per block
    for a, e in zip(out, expected, strict=True):
        np.testing.assert_array_equal(a, e)


def test_default_penalty_and_the_params_dict_forms():
    W, b, X, y, reg, V_W, V_b = _problem(22)
    bare = sr.hvp(W, b, X, y, 0.0, V_W, V_b)
    flat = np.concatenate([V_W.ravel(), V_b])
    op = hessian_operator(W, b, X, y)
    np.testing.assert_array_equal(op.hessp(None, flat), np.concatenate([bare[0].ravel(), bare[1]]))
    H = linear_hessian({"W": W, "b": b}, X, y)({"W": V_W, "b": V_b})
    assert sorted(H) == ["W", "b"]
    np.testing.assert_array_equal(H["W"], bare[0])
    np.testing.assert_array_equal(H["b"], bare[1])
    with_reg = sr.hvp(W, b, X, y, reg, V_W, V_b)
    H = linear_hessian({"W": W, "b": b}, X, y, reg)({"W": V_W, "b": V_b})
    np.testing.assert_array_equal(H["W"], with_reg[0])
    np.testing.assert_array_equal(H["b"], with_reg[1])


def _overflowing(case):
    """A problem with finite inputs whose product is not finite."""
    if case == "scores":  # X W overflows: every probability NaN
        W = np.array([[1e300, -1e300], [1e300, -1e300]])
        X = np.full((3, 2), 1e10)
        return W, np.zeros(2), X, np.array([0, 1, 0]), 0.3, np.ones((2, 2)), np.ones(2)
    # x R overflows to +inf where reg V_W overflows to -inf, and reg V_W alone overflows
    # elsewhere: the sum is inf + (-inf).
    X = np.full((1, 2), 1e154)
    V_W = np.array([[3e150, -3e150], [-1e150, 1e150]])
    return np.zeros((2, 2)), np.zeros(2), X, np.array([0]), 1e300, V_W, np.zeros(2)


@pytest.mark.parametrize("case", ["scores", "product"])
@pytest.mark.parametrize("route", ["hvp", "naive", "operator"])
def test_overflow_is_one_error_naming_the_finite_inputs_and_no_numpy_warning(case, route):
    # filterwarnings = error: a RuntimeWarning of NumPy fails the test before the error.
    W, b, X, y, reg, V_W, V_b = _overflowing(case)
    with pytest.raises(ValueError, match="overflowed although X, W, b are finite"):
        _ROUTES[route](W, b, X, y, reg, V_W, V_b)
