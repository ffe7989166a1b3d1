"""The fast kernel where small drawn problems never take it: float32 past exp's overflow, many rows.

* float32 scores above 88.72 overflow a naive ``exp``: a hand-worked problem
  whose exact answer is representable (``b = [100, 0]``, ``y = 1``: loss 100).
* The kernel's float32 loss terms are summed in float64: on a problem whose
  every loss term is an integer the sum is exact (a float32 sum of 131,072 such
  terms is not).
* N = 10^5 rows, per dtype, against an extended-precision (``np.longdouble``)
  reference computed here from the formulas, with a tolerance derived from the
  shapes (D, C and N) and the dtype's unit roundoff: many blocks, both lanes
  and the accumulation error that grows with N.

tests/meta/test_pipeline.py shows that each test here fails on the kernel-level
mutant it is written against.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import softmax_ref as sr
from softmax_ref import _kernels

# --- float32 past exp's overflow -------------------------------------------------


@pytest.mark.parametrize("through", ["bias", "weights"])
def test_float32_overflowing_score_hand_worked(through):
    """F = [100, 0], y = 1 in float32: loss 100, db = [1, -1].

    loss = log(e^100 + e^0) - F_1 = 100 + log(1 + e^-100); e^-100 = 3.7e-44 is far
    below half an ulp of 100 in float32 (3.8e-6 relative), so the float32 loss is
    exactly 100. P = [1 / (1 + e^-100), e^-100 / (1 + e^-100)]: P_0 rounds to 1,
    P_1 is the float32 subnormal nearest 3.7e-44, and P_1 - 1 rounds to -1, so
    db = P - Y = [1, -1]. Without the shift by the row max, exp(100) overflows
    float32 (above 88.72) and the loss is not finite.
    """
    f32 = np.float32
    if through == "bias":  # X = 0: F = b, dW = X^T (P - Y) = 0
        W, b, X = np.zeros((1, 2), f32), np.array([100, 0], f32), np.zeros((1, 1), f32)
        expected_dW = [[0.0, 0.0]]
    else:  # X = [[1]], W = [[100, 0]]: F = X W, dW = x (P - Y) = [1, -1]
        W, b, X = np.array([[100, 0]], f32), np.zeros(2, f32), np.ones((1, 1), f32)
        expected_dW = [[1.0, -1.0]]
    y = np.array([1])
    L, dW, db = sr.loss_and_grad(W, b, X, y)
    assert L.dtype == dW.dtype == db.dtype == np.float32
    assert L == 100
    np.testing.assert_array_equal(db, [1.0, -1.0])
    np.testing.assert_array_equal(dW, expected_dW)
    assert sr.loss(W, b, X, y) == 100


def test_float32_loss_terms_are_summed_in_float64():
    """2^17 float32 loss terms, each an integer, sum exactly: the kernel adds them in float64.

    F_n = [0, -x_n] with x_n an integer in [2000, 4000] and y_n = 1: the row max is
    0, exp(-x_n) is 0 in float32, so s_n = 1 exactly, log s_n = 0 and the loss
    term is x_n exactly. Their sum, about 4e8, is an integer far below 2^53, exact
    in float64; in float32 (24-bit significand, spacing 32 at 4e8) it is not.
    """
    rng = np.random.default_rng(17)
    n = 1 << 17
    x = rng.integers(2000, 4001, size=n)
    X = x.astype(np.float32)[:, None]
    W = np.array([[0.0, -1.0]], np.float32)
    b = np.zeros(2, np.float32)
    y = np.ones(n, dtype=np.int64)
    sums = _kernels.BlockedSums(W, b, grad=False, n_rows=n)
    sums.add(X, y)
    assert sums.loss_sum() == float(x.sum())


# --- N = 10^5 against an extended-precision reference -------------------------------


def reference(W, b, X, y):
    """Loss, dW, db of the unregularised problem in np.longdouble, with the per-row sizes
    the tolerance needs: a_n = max_c (sum_d |X_nd W_dc| + |b_c|), the residual R = P - Y;
    and dW's data term X^T R / N."""
    ld = np.longdouble
    W, b, X = (a.astype(ld) for a in (W, b, X))
    n = X.shape[0]
    F = X @ W + b
    m = F.max(axis=1, keepdims=True)
    E = np.exp(F - m)
    s = E.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    terms = np.log(s[:, 0]) - (F[rows, y] - m[:, 0])
    R = E / s
    R[rows, y] -= 1
    a = (np.abs(X) @ np.abs(W) + np.abs(b)).max(axis=1)
    return terms, R, a, X.T @ R / n


def tolerances(W, b, X, y, dtype):
    """Bounds on |computed - exact| for the loss, dW and db, derived from D, C, N and u.

    Per row, the scores F = X W + b carry the rounding of a length-(D + 1) dot
    product, at most gamma_{D+1} a_n (a_n the row's largest sum of |terms|), and
    shifting them by the row max one more u 2 a_n; the loss term (a logsumexp
    minus a score, 1-Lipschitz in each) and each probability's relative error
    are then within delta_n = 2 (gamma_{D+1} + 2u) a_n + (C + 6) u, the last
    term for exp, the sum of C exponentials, the reciprocal and the log. Over
    the rows, the sums (float64 for the loss and db, the dtype's GEMM for dW)
    add an error that grows with N: the probabilistic bound lambda sqrt(N) u
    sum |terms| (Higham and Mary, 2019) with lambda = 8, which holds with
    probability above 1 - 2 N e^{-32} for rounding errors that are independent
    and mean-zero; the worst case, gamma_N, is about 300 times larger at N = 10^5
    and would say nothing about float32's dW. Last, one rounding to the dtype.
    """
    u = float(np.finfo(dtype).eps) / 2
    u64 = float(np.finfo(np.float64).eps) / 2
    d, c = W.shape
    n = X.shape[0]
    terms, R, a, dW = reference(W, b, X, y)
    terms, R, a, dW = (np.asarray(v, dtype=np.float64) for v in (terms, R, a, dW))
    gamma = (d + 1) * u / (1 - (d + 1) * u)
    delta = 2 * (gamma + 2 * u) * a + (c + 6) * u  # (N,)
    P = np.abs(R + np.eye(c)[y])  # P itself: R + Y
    lam = 8.0
    absX = np.abs(X.astype(np.float64))
    loss = float(np.mean(terms))
    tol_loss = float(np.mean(delta)) + lam * math.sqrt(n) * u64 * float(np.mean(np.abs(terms)))
    tol_loss += u * abs(loss)
    per_entry = P * delta[:, None] + u  # |error of R_nc|
    tol_dW = absX.T @ per_entry / n + lam * math.sqrt(n) * u * (absX.T @ np.abs(R)) / n
    tol_dW += u * np.abs(dW)
    db = R.sum(axis=0) / n
    tol_db = per_entry.sum(axis=0) / n + lam * math.sqrt(n) * u * np.abs(R).sum(axis=0) / n
    tol_db += u * np.abs(db)
    return (loss, tol_loss), (dW, tol_dW), (db, tol_db)


def large_problem(dtype, n=100_000, d=8, c=5, seed=2024):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    W = rng.normal(scale=0.5, size=(d, c)).astype(dtype)
    b = rng.normal(size=c).astype(dtype)
    y = rng.integers(0, c, size=n)
    return W, b, X, y


def assert_large_n_matches_reference(W, b, X, y, loss_and_grad=sr.loss_and_grad):
    L, dW, db = loss_and_grad(W, b, X, y)
    (L_ref, tol_L), (dW_ref, tol_dW), (db_ref, tol_db) = tolerances(W, b, X, y, W.dtype)
    err_L = abs(float(L) - L_ref)
    assert err_L <= tol_L, f"loss off by {err_L:.3e}, bound {tol_L:.3e}"
    excess = np.abs(dW.astype(np.float64) - dW_ref) - tol_dW
    assert np.all(excess <= 0), f"dW exceeds its bound by up to {excess.max():.3e}"
    excess = np.abs(db.astype(np.float64) - db_ref) - tol_db
    assert np.all(excess <= 0), f"db exceeds its bound by up to {excess.max():.3e}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_large_n_matches_extended_precision(dtype, monkeypatch):
    """10^5 rows in blocks of 2048 on two lanes (49 blocks), against np.longdouble."""
    W, b, X, y = large_problem(dtype)
    monkeypatch.setenv(_kernels.BLOCK_ENV, str(2048 * X.shape[1] * X.itemsize))
    monkeypatch.setenv(_kernels.THREADS_ENV, "2")
    assert_large_n_matches_reference(W, b, X, y)


def test_large_n_bound_is_tight_enough_to_see_a_dropped_block():
    """The bound is no blanket: the same problem without its last block of 2048 rows fails."""
    W, b, X, y = large_problem(np.float64)
    keep = X.shape[0] - 2048

    def without_last_block(W, b, X, y):
        L, dW, db = sr.loss_and_grad(W, b, X[:keep], y[:keep])
        return L, dW, db

    with pytest.raises(AssertionError, match=r"off by|exceeds its bound"):
        assert_large_n_matches_reference(W, b, X, y, without_last_block)


# --- the one-block route keeps float32 scratch in float32 ---------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_block_route_float32_gives_the_blocked_bits(seed):
    """Small float32 calls (the one-block route) give bitwise what BlockedSums gives.

    Both compute the row sums s_n = sum_j exp(F_nj - m_n) and P = exp(F - m) / s
    in float32; a route that kept s in float64 gives other last bits of dW and db
    (on these problems; with C = 10 classes most row sums round differently).
    """
    rng = np.random.default_rng(seed)
    n, d, c = 200, 5, 10
    X = rng.normal(size=(n, d)).astype(np.float32)
    W = rng.normal(size=(d, c)).astype(np.float32)
    b = rng.normal(size=c).astype(np.float32)
    y = rng.integers(0, c, size=n)
    assert _kernels.one_block(n, d, c, 4)
    out = sr.loss_and_grad(W, b, X, y)
    blocked = sr.loss_and_grad_streaming(W, b, [(X, y)], n_threads=1, block_rows=n)
    for got, want in zip(out, blocked, strict=True):
        np.testing.assert_array_equal(got, want)


# --- the blocked path's bookkeeping and its floating-point state ---------------------


def test_blocked_sums_reduce_the_lanes_once():
    """grad_sums() adds the other lanes into lane 0 once: a second call gives the same
    sums, and no rows can be added after it (they would miss the reduction)."""
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 4, size=40)
    W, b = rng.normal(size=(3, 4)), np.zeros(4)
    sums = _kernels.BlockedSums(W, b, n_threads=2, block_rows=8)
    sums.add(X, y)
    GX, db = (a.copy() for a in sums.grad_sums())
    GX2, db2 = sums.grad_sums()
    np.testing.assert_array_equal(GX2, GX)
    np.testing.assert_array_equal(db2, db)
    with pytest.raises(
        RuntimeError, match=r"^grad_sums\(\) was called: no more rows can be added$"
    ):
        sums.add(X, y)


@pytest.mark.parametrize("route", ["streaming", "streaming_one_block", "in_memory"])
def test_overflowing_scores_on_the_blocked_path_raise_without_a_numpy_warning(route, monkeypatch):
    """Scores past float64's range on several blocks and two lanes: one ValueError, no warning.

    X W = 1e10 * 1e300 overflows to inf in every row, and inf - inf (the shift by
    the row max) is invalid; each lane runs under its own np.errstate (it is per
    thread), so the error is reported through the result's finiteness, and
    filterwarnings = error would turn a NumPy warning into another exception.
    """
    X = np.full((40, 1), 1e10)
    y = np.zeros(40, dtype=np.int64)
    W, b = np.array([[1e300, 0.0]]), np.zeros(2)
    if route == "streaming":

        def call():
            return sr.loss_and_grad_streaming(W, b, [(X, y)], n_threads=2, block_rows=8)
    else:
        monkeypatch.setenv(_kernels.THREADS_ENV, "2")
        monkeypatch.setattr(_kernels, "MIN_WORK_FOR_THREADS", 0)

        def call():
            return sr.loss_and_grad(W, b, X, y)

    with pytest.raises(ValueError, match=r"finite|overflow"):
        call()


@pytest.mark.parametrize(("block_rows", "n_threads"), [(0, 1), (1, 0), (-3, 2)])
def test_block_rows_and_threads_below_one_are_refused(block_rows, n_threads):
    W, b, X, y = np.zeros((2, 3)), np.zeros(3), np.ones((4, 2)), np.array([0, 1, 2, 0])
    with pytest.raises(
        ValueError,
        match=rf"^block_rows and n_threads must be >= 1; got {block_rows} and {n_threads}$",
    ):
        sr.loss_and_grad_streaming(W, b, [(X, y)], n_threads=n_threads, block_rows=block_rows)


def test_little_work_over_many_blocks_runs_on_one_lane(monkeypatch):
    """1000 rows in blocks of 64 with too little work for a thread: one lane, the same numbers.

    N C (D + 16) = 54,000 < MIN_WORK_FOR_THREADS, so the blocked call keeps one
    lane although two threads are allowed; its result is the one-block route's
    up to the order of the sums (the paths' tolerance).
    """
    from verification.tolerances import tolerances_for

    W, b, X, y = large_problem(np.float64, n=1000, d=2, c=3, seed=9)
    expected = sr.loss_and_grad(W, b, X, y)  # one block, one lane
    monkeypatch.setenv(_kernels.BLOCK_ENV, str(64 * 2 * 8))
    monkeypatch.setenv(_kernels.THREADS_ENV, "2")
    assert not _kernels.one_block(1000, 2, 3, 8)
    sums = _kernels.BlockedSums(W, b, n_rows=1000)
    assert sums.n_lanes == 1
    tol = tolerances_for(np.float64)
    for got, want in zip(sr.loss_and_grad(W, b, X, y), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=tol.paths_rtol, atol=tol.paths_atol)


def test_streaming_deals_blocks_as_the_in_memory_call_on_three_lanes(monkeypatch):
    """Chunks of two blocks on three lanes give the in-memory call's bits.

    Block k of the whole stream goes to lane k mod 3 whichever chunk it is in, so
    with 12 blocks of 64 rows (four per lane: no evening-out) fed as six chunks,
    each lane adds the same blocks in the same order as one in-memory call.
    """
    W, b, X, y = large_problem(np.float64, n=768, d=3, c=4, seed=11)
    monkeypatch.setenv(_kernels.BLOCK_ENV, str(64 * 3 * 8))
    monkeypatch.setenv(_kernels.THREADS_ENV, "3")
    monkeypatch.setattr(_kernels, "MIN_WORK_FOR_THREADS", 0)
    in_memory = sr.loss_and_grad(W, b, X, y)
    chunks = [(X[i : i + 128], y[i : i + 128]) for i in range(0, 768, 128)]
    streamed = sr.loss_and_grad_streaming(W, b, chunks, n_threads=3, block_rows=64)
    for got, want in zip(streamed, in_memory, strict=True):
        np.testing.assert_array_equal(got, want)


def test_streaming_one_block_one_lane_score_overflow_is_a_clear_error_with_no_numpy_warning():
    # One lane and one block take BlockedSums.add's short route; S += b overflows
    # there (1e308 + 1e308). Its np.errstate keeps NumPy quiet (pytest's
    # filterwarnings = error would raise the RuntimeWarning instead), and the
    # finiteness check names the inputs.
    W, b = np.array([[1e308, 0.0]]), np.array([1e308, 0.0])
    X, y = np.ones((3, 1)), np.array([0, 1, 0])
    with pytest.raises(ValueError, match="overflowed although X, W, b are finite"):
        sr.loss_and_grad_streaming(W, b, [(X, y)], n_threads=1)
