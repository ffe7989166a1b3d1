"""The JAX oracle: hand-computed values, exact padding, dtypes, bad input, compile reuse."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from verification import oracle
from verification.tolerances import tolerances_for


def random_problem(seed: int, n: int, d: int, c: int, scale: float = 1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    W = rng.normal(scale=scale, size=(d, c))
    b = rng.normal(scale=scale, size=c)
    y = rng.integers(0, c, size=n)
    return W, b, X, y


@jax.jit
def _unpadded(W, b, X, y, reg):
    """The formula of docs/derivation.md without padding or masks, for comparison."""

    def f(W, b):
        F = X @ W + b
        lse = jax.scipy.special.logsumexp(F, axis=1)
        return jnp.mean(lse - F[jnp.arange(F.shape[0]), y]) + 0.5 * reg * jnp.sum(W**2)

    return jax.value_and_grad(f, argnums=(0, 1))(W, b)


def unpadded_jax(W, b, X, y, reg):
    with oracle.float64_scope():
        value, (dW, db) = _unpadded(W, b, X, y, reg)
        return float(value), np.asarray(dW), np.asarray(db)


def test_the_oracle_computes_in_float64_without_switching_the_process_to_it():
    before = (jax.config.read("jax_enable_x64"), jnp.ones(2).dtype)
    _, dW, db = oracle.loss_and_grad(np.zeros((1, 2)), np.zeros(2), np.ones((1, 1)), [0])
    assert dW.dtype == np.float64
    assert db.dtype == np.float64
    assert (jax.config.read("jax_enable_x64"), jnp.ones(2).dtype) == before


def test_one_sample_two_classes_by_hand():
    # x = 2, W = [1, -1], b = 0, y = 0: scores [2, -2]; loss = log(1 + e^-4);
    # P - Y = [-q, q] with q = e^-4 / (1 + e^-4); dW = x (P - Y), db = P - Y.
    q = math.exp(-4) / (1 + math.exp(-4))
    L, dW, db = oracle.loss_and_grad(np.array([[1.0, -1.0]]), np.zeros(2), [[2.0]], [0])
    assert L == pytest.approx(math.log1p(math.exp(-4)), rel=1e-15)
    np.testing.assert_allclose(dW, [[-2 * q, 2 * q]], rtol=1e-14)
    np.testing.assert_allclose(db, [-q, q], rtol=1e-14)


def test_regulariser_by_hand():
    # X = 0, b = [0, ln 3]: P = [1/4, 3/4], y = 1: loss = ln(4/3) + 0.5 * 0.2 * 30;
    # dW = reg W (X = 0), db = P - Y = [1/4, -1/4]; the bias is not regularised.
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    L, dW, db = oracle.loss_and_grad(W, [0.0, math.log(3)], np.zeros((1, 2)), [1], reg=0.2)
    assert L == pytest.approx(math.log(4 / 3) + 3.0, rel=1e-15)
    np.testing.assert_allclose(dW, 0.2 * W, rtol=1e-15)
    np.testing.assert_allclose(db, [0.25, -0.25], rtol=1e-15)


def test_extreme_scores_stay_finite():
    # Scores [0, 800, -800], label 2: loss = 800 - (-800) = 1600 (logsumexp = 800
    # in float64); P = [0, 1, 0] after underflow, so db = P - Y = [0, 1, -1].
    W, b = np.zeros((1, 3)), np.array([0.0, 800.0, -800.0])
    L, dW, db = oracle.loss_and_grad(W, b, np.zeros((1, 1)), [2])
    assert L == 1600.0
    np.testing.assert_array_equal(db, [0.0, 1.0, -1.0])
    np.testing.assert_array_equal(dW, [[0.0, 0.0, 0.0]])
    assert oracle.loss(W, b, np.zeros((1, 1)), [2]) == 1600.0


# Shapes on both sides of bucket edges (N: 32/33, D: 8/9, C: 8/9) and tiny ones;
# each costs one compile of the unpadded reference, so they are few.
SHAPES = [(1, 1, 2), (32, 8, 8), (33, 9, 9), (70, 3, 17)]


@pytest.mark.parametrize("shape", SHAPES)
def test_padding_changes_nothing(shape):
    # Padding and masks must be exact: the padded oracle equals the unpadded formula
    # up to the rounding of two evaluation orders (paths_rtol/paths_atol).
    W, b, X, y = random_problem(sum(shape), *shape)
    tol = tolerances_for(np.float64)
    for reg in (0.0, 0.7):
        L, dW, db = oracle.loss_and_grad(W, b, X, y, reg)
        L0, dW0, db0 = unpadded_jax(W, b, X, y, reg)
        assert L == pytest.approx(L0, rel=tol.paths_rtol)
        np.testing.assert_allclose(dW, dW0, rtol=tol.paths_rtol, atol=tol.paths_atol)
        np.testing.assert_allclose(db, db0, rtol=tol.paths_rtol, atol=tol.paths_atol)
        assert dW.shape == W.shape
        assert db.shape == b.shape


def test_forward_and_batch_agree_with_value_and_grad():
    W, b, X, y = random_problem(1, 9, 4, 3)
    L, _, _ = oracle.loss_and_grad(W, b, X, y, 0.3)
    tol = tolerances_for(np.float64)
    assert oracle.loss(W, b, X, y, 0.3) == pytest.approx(L, rel=tol.paths_rtol)
    rng = np.random.default_rng(2)
    # 300 points: more than one chunk of the batched forward, the last one partial.
    Ws = W + rng.normal(scale=0.1, size=(300, *W.shape))
    bs = b + rng.normal(scale=0.1, size=(300, *b.shape))
    batch = oracle.loss_batch(Ws, bs, X, y, 0.3)
    assert batch.shape == (300,)
    for k in (0, 255, 256, 299):
        expected = oracle.loss(Ws[k], bs[k], X, y, 0.3)
        assert batch[k] == pytest.approx(expected, rel=tol.paths_rtol)


def test_float32_on_request():
    W, b, X, y = random_problem(3, 10, 4, 3)
    L32, dW32, db32 = oracle.loss_and_grad(W, b, X, y, 0.1, dtype=np.float32)
    L64, dW64, db64 = oracle.loss_and_grad(W, b, X, y, 0.1)
    assert dW32.dtype == np.float32
    assert db32.dtype == np.float32
    tol = tolerances_for(np.float32)
    assert L32 == pytest.approx(L64, rel=tol.paths_rtol)
    np.testing.assert_allclose(dW32, dW64, rtol=tol.paths_rtol, atol=tol.paths_atol)
    np.testing.assert_allclose(db32, db64, rtol=tol.paths_rtol, atol=tol.paths_atol)
    # float32 really computes in float32: it differs from float64 somewhere.
    assert not np.array_equal(dW32.astype(np.float64), dW64)


def test_inputs_are_not_modified():
    W, b, X, y = random_problem(4, 6, 3, 4)
    copies = [a.copy() for a in (W, b, X, y)]
    oracle.loss_and_grad(W, b, X, y, 0.5)
    oracle.loss_batch(W[None], b[None], X, y, 0.5)
    for a, c in zip((W, b, X, y), copies, strict=True):
        np.testing.assert_array_equal(a, c)


def test_shapes_in_one_bucket_share_one_compiled_function():
    # Compiling costs ~1000 calls (scripts/oracle_timing.py); all small problems
    # must reuse one compiled function, or a property suite spends its time compiling.
    compiled = oracle._SOFTMAX._value_and_grad
    oracle.loss_and_grad(*random_problem(0, 2, 2, 2))
    before = compiled._cache_size()
    for shape in [(1, 1, 2), (5, 3, 4), (20, 6, 6), (32, 8, 8), (7, 8, 3)]:
        oracle.loss_and_grad(*random_problem(1, *shape))
    assert compiled._cache_size() == before


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((np.zeros((2, 3)), np.zeros(3), np.zeros((4, 2)), [0, 1, 2, 3]), r"y must hold labels"),
        ((np.zeros((2, 3)), np.zeros(3), np.zeros((4, 2)), [0, 1, 2, -1]), r"y must hold labels"),
        ((np.zeros((2, 3)), np.zeros(3), np.zeros((4, 2)), [0.0, 1, 2, 0]), r"y must be"),
        ((np.zeros((2, 3)), np.zeros(3), np.zeros((4, 2)), [0, 1]), r"y must be \(4,\)"),
        ((np.zeros((3, 3)), np.zeros(3), np.zeros((4, 2)), [0, 1, 2, 0]), r"W must have shape"),
        ((np.zeros((2, 3)), np.zeros(2), np.zeros((4, 2)), [0, 1, 2, 0]), r"b must have shape"),
        ((np.zeros((2, 3)), np.zeros(3), np.zeros((0, 2)), []), r"X must have N >= 1"),
        ((np.zeros((2, 3)), np.zeros(3), np.zeros(2), [0]), r"X must have 2 dimension"),
        ((np.zeros((2, 3)), [0, np.nan, 0], np.zeros((1, 2)), [0]), r"b must be finite"),
        ((np.zeros((2, 3)), np.zeros(3), [["a", "b"]], [0]), r"X must hold real numbers"),
    ],
)
def test_bad_input_names_the_argument(args, match):
    with pytest.raises((ValueError, TypeError), match=match):
        oracle.loss_and_grad(*args)


@pytest.mark.parametrize("reg", [-1.0, math.inf, "0.1", True])
def test_bad_reg(reg):
    with pytest.raises((ValueError, TypeError), match="reg must be"):
        oracle.loss_and_grad(np.zeros((1, 2)), np.zeros(2), np.ones((1, 1)), [0], reg)


def test_bucket():
    assert [oracle.bucket(n, 8) for n in (1, 8, 9, 16, 17)] == [8, 8, 16, 16, 32]
