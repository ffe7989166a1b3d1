"""The two-layer network: hand-computed values, invariants, both paths, bad input.

The three-way check (analytic / JAX / finite differences) is in
test_two_layer_properties.py; the meta-tests that show it catches wrong
backward passes are in tests/meta/test_two_layer_mutants.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import softmax_ref as sr
from softmax_ref import two_layer as tl
from verification.tolerances import tolerances_for

ENTRY_POINTS = [tl.loss_and_grad, tl.loss_and_grad_naive]
KEYS = ("W1", "b1", "W2", "b2")


def random_problem(seed, n, d, h, c, dtype=np.float64, reg=0.1):
    rng = np.random.default_rng(seed)
    params = {
        "W1": rng.normal(size=(d, h)),
        "b1": rng.normal(scale=0.5, size=h),
        "W2": rng.normal(size=(h, c)),
        "b2": rng.normal(size=c),
    }
    params = {k: v.astype(dtype) for k, v in params.items()}
    X = rng.normal(size=(n, d)).astype(dtype)
    y = rng.integers(0, c, size=n)
    return params, X, y, reg


def assert_grads_close(g, g_ref, tol):
    assert set(g) == set(KEYS)
    for k in KEYS:
        assert g[k].shape == g_ref[k].shape, k
        np.testing.assert_allclose(
            g[k], g_ref[k], rtol=tol.paths_rtol, atol=tol.paths_atol, err_msg=k
        )


# --- hand-computed values -------------------------------------------------------


def tiny_problem():
    # x = 1, W1 = [1, -1], b1 = 0: Z = [1, -1], H = relu(Z) = [1, 0].
    # W2 = [[2, 0], [5, 7]], b2 = 0: F = H W2 = [2, 0]. Label y = 1.
    params = {
        "W1": np.array([[1.0, -1.0]]),
        "b1": np.zeros(2),
        "W2": np.array([[2.0, 0.0], [5.0, 7.0]]),
        "b2": np.zeros(2),
    }
    return params, np.array([[1.0]]), np.array([1])


@pytest.mark.parametrize("fn", ENTRY_POINTS)
@pytest.mark.parametrize("reg", [0.0, 0.5])
def test_tiny_network_by_hand(fn, reg):
    # loss = logsumexp([2, 0]) - F_1 = log(e^2 + 1) + 0.5 reg (1 + 1 + 4 + 25 + 49).
    # P = [s, 1 - s] with s = e^2 / (1 + e^2); dF = P - Y = [s, -s] (N = 1).
    # dW2 = H^T dF = [[s, -s], [0, 0]];   db2 = [s, -s].
    # dH = dF W2^T = [2s - 0, 5s - 7s] = [2s, -2s];  dZ = dH * [1, 0] = [2s, 0]:
    # the second unit's -2s is stopped by the ReLU (Z_2 = -1 < 0).
    # dW1 = x^T dZ = [[2s, 0]];  db1 = [2s, 0];  plus reg W1 and reg W2.
    params, X, y = tiny_problem()
    s = math.exp(2) / (1 + math.exp(2))
    L, g = fn(params, X, y, reg)
    assert float(L) == pytest.approx(math.log1p(math.exp(2)) + 0.5 * reg * 80, rel=1e-15)
    np.testing.assert_allclose(g["W2"], [[s, -s], [0, 0]] + reg * params["W2"], rtol=1e-15)
    np.testing.assert_allclose(g["b2"], [s, -s], rtol=1e-15)
    np.testing.assert_allclose(g["W1"], [[2 * s, 0]] + reg * params["W1"], rtol=1e-15)
    np.testing.assert_allclose(g["b1"], [2 * s, 0], rtol=1e-15)


@pytest.mark.parametrize("fn", ENTRY_POINTS)
def test_relu_derivative_at_zero_is_zero(fn):
    # Z = x W1 + b1 = 1 * 1 - 1 = 0 exactly: on the kink. The convention relu'(0) = 0
    # blocks the gradient, so dW1 and db1 are exactly 0 (reg = 0), whatever dH is.
    params, X, y = tiny_problem()
    params["W1"] = np.array([[1.0, 1.0]])
    params["b1"] = np.array([-1.0, -1.0])
    _, g = fn(params, X, y)
    np.testing.assert_array_equal(g["W1"], 0.0)
    np.testing.assert_array_equal(g["b1"], 0.0)


@pytest.mark.parametrize("fn", ENTRY_POINTS)
def test_dead_unit_gets_only_the_penalty(fn):
    # Unit 0 has Z < 0 for every sample (a very negative bias): it passes no gradient,
    # so dW1[:, 0] = reg W1[:, 0] and db1[0] = 0 exactly; dW2[0] = reg W2[0] since H[:, 0] = 0.
    params, X, y, reg = random_problem(0, 12, 3, 4, 3)
    params["b1"][0] = -100.0
    _, g = fn(params, X, y, reg)
    np.testing.assert_allclose(g["W1"][:, 0], reg * params["W1"][:, 0], rtol=1e-15)
    assert g["b1"][0] == 0.0
    np.testing.assert_allclose(g["W2"][0], reg * params["W2"][0], rtol=1e-15)


@pytest.mark.parametrize("fn", ENTRY_POINTS)
def test_positive_data_and_identity_layer_is_the_linear_model(fn):
    # With X > 0, W1 = I and b1 = 0 the ReLU is the identity: H = X and F = X W2 + b2,
    # the linear model with W = W2, b = b2. The linear core (an independent derivation)
    # then gives the loss (up to the penalty 0.5 reg ||I||^2 = 0.5 reg D), dW2 and db2.
    rng = np.random.default_rng(3)
    n, d, c, reg = 15, 4, 3, 0.2
    X = rng.uniform(0.1, 2.0, size=(n, d))
    y = rng.integers(0, c, size=n)
    W2, b2 = rng.normal(size=(d, c)), rng.normal(size=c)
    params = {"W1": np.eye(d), "b1": np.zeros(d), "W2": W2, "b2": b2}
    L, g = fn(params, X, y, reg)
    L_lin, dW, db = sr.loss_and_grad(W2, b2, X, y, reg)
    tol = tolerances_for(np.float64)
    np.testing.assert_allclose(L, L_lin + 0.5 * reg * d, rtol=tol.paths_rtol)
    np.testing.assert_allclose(g["W2"], dW, rtol=tol.paths_rtol, atol=tol.paths_atol)
    np.testing.assert_allclose(g["b2"], db, rtol=tol.paths_rtol, atol=tol.paths_atol)


def test_loss_agrees_with_scores_and_log_softmax():
    # The loss restated from scores() and the core's log_softmax, reg = 0.
    params, X, y, _ = random_problem(4, 20, 5, 7, 4)
    L, _ = tl.loss_and_grad(params, X, y, 0.0)
    F = tl.scores(params, X)
    np.testing.assert_allclose(
        F, np.maximum(X @ params["W1"] + params["b1"], 0) @ params["W2"] + params["b2"]
    )
    expected = -np.mean(sr.log_softmax(F)[np.arange(len(y)), y])
    np.testing.assert_allclose(L, expected, rtol=tolerances_for(np.float64).paths_rtol)


def test_loss_finite_where_probabilities_underflow():
    # F = [0, 800, -800] (through b2), label 2: loss = 1600 exactly, and dF = P - Y = [0, 1, -1].
    params = {
        "W1": np.zeros((1, 1)),
        "b1": np.zeros(1),
        "W2": np.zeros((1, 3)),
        "b2": np.array([0.0, 800.0, -800.0]),
    }
    for fn in ENTRY_POINTS:
        L, g = fn(params, np.zeros((1, 1)), np.array([2]))
        assert float(L) == 1600.0
        np.testing.assert_array_equal(g["b2"], [0.0, 1.0, -1.0])


# --- invariants --------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_shift_of_b2_changes_nothing(seed):
    # softmax is invariant to adding a constant to every score; b2 + t adds t to every F_n.
    params, X, y, reg = random_problem(seed, 10, 3, 5, 4)
    L, g = tl.loss_and_grad(params, X, y, reg)
    shifted = dict(params, b2=params["b2"] + 7.0)
    L2, g2 = tl.loss_and_grad(shifted, X, y, reg)
    np.testing.assert_allclose(L2, L, rtol=1e-13)
    for k in KEYS:
        np.testing.assert_allclose(g2[k], g[k], rtol=1e-12, atol=1e-13, err_msg=k)


@pytest.mark.parametrize("seed", range(3))
def test_relu_rescaling_symmetry(seed):
    # relu(a z) = a relu(z) for a > 0, so (a W1, a b1, W2 / a) computes the same F; with
    # reg = 0 the loss is unchanged and the chain rule gives dW1' = dW1 / a, db1' = db1 / a,
    # dW2' = a dW2, db2' = db2. A mask or transpose error breaks these relations.
    a = 3.0
    params, X, y, _ = random_problem(seed, 10, 3, 5, 4)
    L, g = tl.loss_and_grad(params, X, y, 0.0)
    scaled = {
        "W1": a * params["W1"],
        "b1": a * params["b1"],
        "W2": params["W2"] / a,
        "b2": params["b2"],
    }
    L2, g2 = tl.loss_and_grad(scaled, X, y, 0.0)
    np.testing.assert_allclose(L2, L, rtol=1e-13)
    np.testing.assert_allclose(g2["W1"], g["W1"] / a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g2["b1"], g["b1"] / a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g2["W2"], g["W2"] * a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g2["b2"], g["b2"], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("seed", range(3))
def test_db2_sums_to_zero(seed):
    # Each row of P - Y sums to 0, so does their mean.
    params, X, y, reg = random_problem(seed, 30, 4, 6, 5)
    _, g = tl.loss_and_grad(params, X, y, reg)
    assert abs(g["b2"].sum()) <= tolerances_for(np.float64).paths_atol


SHAPES = [(1, 1, 1, 2), (7, 3, 5, 4), (30, 6, 10, 3), (5, 2, 3, 9), (4, 3, 1, 1)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", range(3))
def test_paths_agree(seed, shape, dtype):
    """The vectorized backward pass and the per-sample loops give the same numbers."""
    tol = tolerances_for(dtype)
    params, X, y, reg = random_problem(seed, *shape, dtype=dtype)
    L, g = tl.loss_and_grad(params, X, y, reg)
    L_naive, g_naive = tl.loss_and_grad_naive(params, X, y, reg)
    for out in (L, L_naive, *g.values(), *g_naive.values()):
        assert out.dtype == dtype
    np.testing.assert_allclose(L, L_naive, rtol=tol.paths_rtol)
    assert_grads_close(g, g_naive, tol)
    for k in KEYS:
        assert g[k].shape == params[k].shape


def test_float32_close_to_float64():
    params, X, y, reg = random_problem(5, 100, 10, 20, 5)
    L64, g64 = tl.loss_and_grad(params, X, y, reg)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    L32, g32 = tl.loss_and_grad(p32, X.astype(np.float32), y, reg)
    tol = tolerances_for(np.float32)
    np.testing.assert_allclose(L32, L64, rtol=tol.paths_rtol)
    assert_grads_close(g32, g64, tol)


def test_mixed_dtypes_promote_to_float64():
    params, X, y, reg = random_problem(6, 6, 3, 4, 2, dtype=np.float32)
    params["W2"] = params["W2"].astype(np.float64)
    L, g = tl.loss_and_grad(params, X, y, reg)
    assert L.dtype == np.float64
    assert all(v.dtype == np.float64 for v in g.values())


def test_integer_X_is_cast_to_float64():
    params, X, y, reg = random_problem(7, 6, 3, 4, 3)
    Xi = np.rint(3 * X).astype(np.int64)
    L, g = tl.loss_and_grad(params, Xi, y, reg)
    L_ref, g_ref = tl.loss_and_grad(params, Xi.astype(np.float64), y, reg)
    assert L == L_ref
    for k in KEYS:
        np.testing.assert_array_equal(g[k], g_ref[k])


@pytest.mark.parametrize("fn", [*ENTRY_POINTS, lambda p, X, y, reg: tl.scores(p, X)])
def test_inputs_never_modified(fn):
    params, X, y, reg = random_problem(8, 9, 4, 5, 3)
    before = {k: v.copy() for k, v in params.items()}
    X0, y0 = X.copy(), y.copy()
    out = fn(params, X, y, reg)
    assert set(params) == set(KEYS)
    for k in KEYS:
        np.testing.assert_array_equal(params[k], before[k])
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    if isinstance(out, tuple):  # the gradients are new arrays, not views of the params
        assert all(not np.shares_memory(out[1][k], params[k]) for k in KEYS)


# --- initialisation ------------------------------------------------------------------


def test_init_is_seeded_and_shaped():
    a = tl.init_params(3, 5, 4, seed=11)
    b = tl.init_params(3, 5, 4, seed=11)
    c = tl.init_params(3, 5, 4, seed=12)
    assert {k: v.shape for k, v in a.items()} == {
        "W1": (3, 5),
        "b1": (5,),
        "W2": (5, 4),
        "b2": (4,),
    }
    for k in KEYS:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["W1"], c["W1"])
    np.testing.assert_array_equal(a["b1"], 0.0)
    np.testing.assert_array_equal(a["b2"], 0.0)
    rng = np.random.default_rng(11)
    np.testing.assert_array_equal(tl.init_params(3, 5, 4, seed=rng)["W1"], a["W1"])


def test_init_variances_are_he():
    # He: Var(W1) = 2 / D; the fan-in rule with gain 1 for the output layer: Var(W2) = 1 / H.
    # The sample variance of n normal draws has relative standard error sqrt(2 / n): allow 5.
    d, h, c = 200, 300, 250
    p = tl.init_params(d, h, c, seed=0)
    for key, expected in (("W1", 2.0 / d), ("W2", 1.0 / h)):
        w = p[key]
        rel_se = math.sqrt(2.0 / w.size)
        assert abs(w.var() / expected - 1) < 5 * rel_se, key
        assert abs(w.mean()) < 5 * math.sqrt(expected / w.size), key


def test_init_float32():
    p = tl.init_params(2, 3, 4, seed=0, dtype=np.float32)
    assert all(v.dtype == np.float32 for v in p.values())


@pytest.mark.parametrize(
    ("args", "exc", "message"),
    [
        ((0, 3, 2), ValueError, "n_features must be an integer >= 1; got 0"),
        ((2, -1, 2), ValueError, "n_hidden must be an integer >= 1; got -1"),
        ((2, 3, 2.0), TypeError, "n_classes must be an integer >= 1; got 2.0"),
        ((True, 3, 2), TypeError, "n_features must be an integer"),
    ],
)
def test_init_rejects_bad_sizes(args, exc, message):
    with pytest.raises(exc, match=message.replace("(", r"\(")):
        tl.init_params(*args, seed=0)


def test_init_rejects_bad_dtype():
    with pytest.raises(ValueError, match="dtype must be float32 or float64; got float16"):
        tl.init_params(2, 3, 4, seed=0, dtype=np.float16)


# --- bad input: the linear model's checks and messages, plus the two-layer shapes ----------


def good():
    params, X, _, _ = random_problem(0, 5, 3, 6, 4)
    return {"params": params, "X": X, "y": np.array([0, 1, 2, 3, 0]), "reg": 0.1}


def with_params(**kw):
    def make():
        p = good()
        p["params"] = dict(p["params"], **kw)
        return p

    return make


def with_param(key, value):
    return with_params(**{key: value})


def with_param_entry(key, value):
    def make():
        p = good()
        a = p["params"][key].copy()
        a[(0,) * a.ndim] = value
        p["params"] = dict(p["params"], **{key: a})
        return p

    return make


def replaced(**kw):
    def make():
        p = good()
        p.update(kw)
        return p

    return make


def with_X_entry(value):
    def make():
        p = good()
        p["X"] = p["X"].copy()
        p["X"][0, 0] = value
        return p

    return make


def without(key):
    def make():
        p = good()
        p["params"] = {k: v for k, v in p["params"].items() if k != key}
        return p

    return make


BAD_INPUTS = [
    ("params-list", replaced(params=[1, 2]), TypeError, "params must be a dict with keys W1"),
    ("params-missing", without("b1"), ValueError, "missing ['b1']"),
    ("params-extra", with_param("W3", np.ones(2)), ValueError, "unexpected ['W3']"),
    ("X-1d", replaced(X=np.ones(3)), ValueError, "X must have 2 dimension"),
    ("W1-1d", with_param("W1", np.ones(3)), ValueError, "W1 must have 2 dimension"),
    ("b1-2d", with_param("b1", np.ones((1, 6))), ValueError, "b1 must have 1 dimension"),
    ("W2-3d", with_param("W2", np.ones((6, 4, 1))), ValueError, "W2 must have 2 dimension"),
    ("b2-2d", with_param("b2", np.ones((1, 4))), ValueError, "b2 must have 1 dimension"),
    (
        "W1-rows",
        with_param("W1", np.ones((2, 6))),
        ValueError,
        "W1 must have shape (D, H) with D = 3",
    ),
    (
        "H-zero",
        with_param("W1", np.ones((3, 0))),
        ValueError,
        "W1 must have at least one hidden unit",
    ),
    ("b1-length", with_param("b1", np.ones(5)), ValueError, "b1 must have shape (H,) = (6,)"),
    (
        "W2-rows",
        with_param("W2", np.ones((5, 4))),
        ValueError,
        "W2 must have shape (H, C) with H = 6",
    ),
    ("b2-length", with_param("b2", np.ones(3)), ValueError, "b2 must have shape (C,) = (4,)"),
    (
        "C-zero",
        with_params(W2=np.ones((6, 0)), b2=np.ones(0)),
        ValueError,
        "W2 must have at least one class column",
    ),
    ("y-length", replaced(y=np.zeros(4, dtype=int)), ValueError, "y must have one label per row"),
    ("y-2d", replaced(y=np.zeros((5, 1), dtype=int)), ValueError, "y must have 1 dimension"),
    ("y-float", replaced(y=np.array([0.0, 1, 2, 3, 0])), TypeError, "y must hold integer class"),
    (
        "y-too-big",
        replaced(y=np.array([0, 1, 2, 4, 0])),
        ValueError,
        "y must hold labels in [0, 4)",
    ),
    ("y-negative", replaced(y=np.array([0, -1, 2, 3, 0])), ValueError, "got y[1] = -1"),
    (
        "N-zero",
        replaced(X=np.ones((0, 3)), y=np.zeros(0, dtype=int)),
        ValueError,
        "X must hold at least one sample",
    ),
    ("reg-negative", replaced(reg=-0.1), ValueError, "reg must be a finite number >= 0"),
    ("reg-nan", replaced(reg=float("nan")), ValueError, "reg must be a finite number"),
    ("reg-string", replaced(reg="0.1"), TypeError, "reg must be a real number"),
    ("X-strings", replaced(X=np.array([["a"] * 3] * 5)), TypeError, "X must hold real numbers"),
    (
        "W2-complex",
        with_param("W2", np.ones((6, 4), dtype=complex)),
        TypeError,
        "W2 must hold real",
    ),
    ("b1-ragged", with_param("b1", [[1.0], [2.0, 3.0]]), TypeError, "b1 must be a numeric array"),
    ("X-nan", with_X_entry(np.nan), ValueError, "X must be finite; got nan at X[0, 0]"),
    ("X-inf", with_X_entry(np.inf), ValueError, "X must be finite; got inf at X[0, 0]"),
    (
        "W1-nan",
        with_param_entry("W1", np.nan),
        ValueError,
        "W1 must be finite; got nan at W1[0, 0]",
    ),
    ("b1-inf", with_param_entry("b1", np.inf), ValueError, "b1 must be finite; got inf at b1[0]"),
    (
        "W2-nan",
        with_param_entry("W2", np.nan),
        ValueError,
        "W2 must be finite; got nan at W2[0, 0]",
    ),
    ("b2-inf", with_param_entry("b2", np.inf), ValueError, "b2 must be finite; got inf at b2[0]"),
    # A -inf in b1 is zeroed by the ReLU: checking only the results would let it through.
    ("b1-neg-inf", with_param_entry("b1", -np.inf), ValueError, "b1 must be finite; got -inf"),
    ("b2-neg-inf", with_param_entry("b2", -np.inf), ValueError, "b2 must be finite; got -inf"),
]


@pytest.mark.parametrize("fn", ENTRY_POINTS)
@pytest.mark.parametrize(
    ("make", "exc", "message"), [pytest.param(*c[1:], id=c[0]) for c in BAD_INPUTS]
)
def test_bad_input_is_named(fn, make, exc, message):
    problem = make()
    params = problem["params"]
    before = (
        {
            k: np.array(v, dtype=object, copy=True) if isinstance(v, list) else np.copy(v)
            for k, v in params.items()
        }
        if isinstance(params, dict)
        else None
    )
    X_before = np.copy(problem["X"])
    with pytest.raises(exc) as info:
        fn(**problem)
    assert message in str(info.value)
    np.testing.assert_array_equal(problem["X"], X_before)
    if before is not None:
        assert set(params) == set(before)
        for k, v in params.items():
            if isinstance(v, np.ndarray):
                np.testing.assert_array_equal(v, before[k], err_msg=f"{k} was modified")


def test_b2_neg_inf_for_absent_class_is_still_rejected():
    # Class 3 never appears in y: a -inf score for it gives P = 0 there and a finite loss
    # and gradient, yet the parameters are not finite; the error must say so.
    p = good()
    p["y"] = np.array([0, 1, 2, 0, 1])
    p["params"] = dict(p["params"], b2=np.array([0.0, 0.0, 0.0, -np.inf]))
    for fn in ENTRY_POINTS:
        with pytest.raises(ValueError, match=r"b2 must be finite; got -inf at b2\[3\]"):
            fn(**p)


def test_inf_hidden_by_relu_is_still_rejected():
    # X[0, 0] = inf with W1[0, :] < 0 and X[0, 1:] = 0: Z[0, :] = -inf, relu gives 0 and
    # the scores of sample 0 are just b2, finite. Z is checked, so the error names X.
    p = good()
    p["params"] = dict(p["params"], W1=-np.abs(p["params"]["W1"]) - 0.1)
    p["X"] = p["X"].copy()
    p["X"][0] = [np.inf, 0.0, 0.0]
    for fn in [*ENTRY_POINTS, lambda params, X, y, reg: tl.scores(params, X)]:
        with pytest.raises(ValueError, match=r"X must be finite; got inf at X\[0, 0\]"):
            fn(**p)


def test_overflow_is_reported():
    # Finite inputs whose hidden activations overflow float64 (1e200 * 1e200).
    p = {"W1": np.full((1, 1), 1e200), "b1": np.zeros(1), "W2": np.ones((1, 2)), "b2": np.zeros(2)}
    with pytest.raises(ValueError, match="overflowed although X, W1, b1, W2 and b2 are finite"):
        tl.loss_and_grad(p, np.full((1, 1), 1e200), np.array([0]))


def test_scores_checks_shapes():
    params, X, _, _ = random_problem(0, 5, 3, 6, 4)
    with pytest.raises(ValueError, match="W1 must have shape"):
        tl.scores(params, X[:, :2])
