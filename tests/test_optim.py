"""The update rules: hand-computed steps, and agreement with the textbook forms they rewrite.

Each rule is checked against an independent restatement written here from the
cited formula (not from optim.py): heavy-ball momentum in its two-step form,
Nesterov's look-ahead form (Sutskever et al., 2013, eq. 3-4), and Adam's
Algorithm 1 (Kingma and Ba, 2015) with scalar loops.
"""

from __future__ import annotations

import numpy as np
import pytest

from softmax_ref.optim import (
    OPTIMIZERS,
    Adam,
    GradientDescent,
    Momentum,
    Nesterov,
    make_optimizer,
)
from verification.tolerances import tolerances_for

TOL = tolerances_for(np.float64)


def quadratic(seed: int, d: int = 5):
    """f(x) = 0.5 x^T A x - c^T x with A symmetric positive definite; grad = A x - c."""
    rng = np.random.default_rng(seed)
    Q = rng.normal(size=(d, d))
    A = Q @ Q.T / d + np.eye(d)
    c = rng.normal(size=d)
    return A, c


# --- hand-computed steps ------------------------------------------------------


def test_gd_step():
    # w = [1, 2] - 0.5 * [2, -2] = [0, 3]
    params = {"w": np.array([1.0, 2.0])}
    GradientDescent(0.5).step(params, {"w": np.array([2.0, -2.0])})
    np.testing.assert_array_equal(params["w"], [0.0, 3.0])


def test_momentum_three_steps_constant_gradient():
    # g = 1, lr = 1, mu = 0.5: v = -1, -1.5, -1.75; w = -1, -2.5, -4.25.
    params, rule = {"w": np.array([0.0])}, Momentum(1.0, momentum=0.5)
    seen = []
    for _ in range(3):
        rule.step(params, {"w": np.array([1.0])})
        seen.append(params["w"][0])
    assert seen == [-1.0, -2.5, -4.25]


def test_nesterov_two_steps_constant_gradient():
    # v1 = -1, w1 = 0 + 0.5 * -1 - 1 = -1.5; v2 = 0.5 * -1 - 1 = -1.5, w2 = -1.5 - 0.75 - 1.
    params, rule = {"w": np.array([0.0])}, Nesterov(1.0, momentum=0.5)
    seen = []
    for _ in range(2):
        rule.step(params, {"w": np.array([1.0])})
        seen.append(params["w"][0])
    assert seen == [-1.5, -3.25]


def test_adam_two_steps_by_hand():
    # lr = 1, beta_1 = 0.9, beta_2 = 0.999, g1 = 1, g2 = -1, epsilon negligible:
    # m1 = 0.1, s1 = 0.001 -> mhat = 1, shat = 1 -> w1 = -1.
    # m2 = 0.09 - 0.1 = -0.01, s2 = 0.000999 + 0.001 = 0.001999;
    # mhat = -0.01 / (1 - 0.81) = -1/19, shat = 0.001999 / (1 - 0.998001) = 1 -> w2 = -1 + 1/19.
    params, rule = {"w": np.array([0.0])}, Adam(1.0, epsilon=1e-300)
    rule.step(params, {"w": np.array([1.0])})
    assert params["w"][0] == -1.0
    rule.step(params, {"w": np.array([-1.0])})
    assert params["w"][0] == pytest.approx(-18 / 19, rel=TOL.paths_rtol)


def test_adam_constant_gradient_moves_lr_per_step():
    # With g constant, the bias corrections make mhat = g and shat = g^2 exactly,
    # so every step is lr * g / (|g| + eps).
    params, rule = {"w": np.zeros(2)}, Adam(0.1, epsilon=1e-8)
    g = np.array([2.0, -4.0])
    for _ in range(5):
        rule.step(params, {"w": g})
    expected = -5 * 0.1 * g / (np.abs(g) + 1e-8)
    np.testing.assert_allclose(params["w"], expected, rtol=TOL.paths_rtol)


# --- agreement with the textbook forms ------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_momentum_is_heavy_ball(seed):
    # Polyak: x_{k+1} = x_k - lr grad(x_k) + mu (x_k - x_{k-1}), x_{-1} = x_0.
    A, c = quadratic(seed)
    lr, mu = 0.1, 0.8
    x_prev = x = np.zeros_like(c)
    params, rule = {"x": np.zeros_like(c)}, Momentum(lr, mu)
    for _ in range(30):
        x, x_prev = x - lr * (A @ x - c) + mu * (x - x_prev), x
        rule.step(params, {"x": A @ params["x"] - c})
        np.testing.assert_allclose(params["x"], x, rtol=TOL.paths_rtol, atol=TOL.paths_atol)


@pytest.mark.parametrize("seed", [0, 1])
def test_nesterov_is_lookahead_nag(seed):
    # Sutskever et al. (2013): v <- mu v - lr grad(theta + mu v); theta <- theta + v.
    # Our rule tracks phi = theta + mu v with the gradient at phi.
    A, c = quadratic(seed)
    lr, mu = 0.1, 0.8
    theta, v = np.zeros_like(c), np.zeros_like(c)
    params, rule = {"phi": np.zeros_like(c)}, Nesterov(lr, mu)
    for _ in range(30):
        v = mu * v - lr * (A @ (theta + mu * v) - c)
        theta = theta + v
        rule.step(params, {"phi": A @ params["phi"] - c})
        np.testing.assert_allclose(
            params["phi"], theta + mu * v, rtol=TOL.paths_rtol, atol=TOL.paths_atol
        )


@pytest.mark.parametrize("seed", [0, 1])
def test_adam_is_algorithm_1(seed):
    # Kingma and Ba (2015), Algorithm 1, one coordinate at a time, on random gradients.
    rng = np.random.default_rng(seed)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    grads = rng.normal(size=(20, 3))
    params, rule = {"w": np.zeros(3)}, Adam(lr, b1, b2, eps)
    expected = []
    for i in range(3):
        theta, m, s = 0.0, 0.0, 0.0
        for t, g in enumerate(grads[:, i], start=1):
            m = b1 * m + (1 - b1) * g
            s = b2 * s + (1 - b2) * g * g
            theta -= lr * (m / (1 - b1**t)) / (np.sqrt(s / (1 - b2**t)) + eps)
        expected.append(theta)
    for g in grads:
        rule.step(params, {"w": g})
    np.testing.assert_allclose(params["w"], expected, rtol=TOL.paths_rtol, atol=TOL.paths_atol)


# --- in place, per key ----------------------------------------------------------


@pytest.mark.parametrize("solver", sorted(OPTIMIZERS))
def test_updates_in_place_and_keeps_state_per_key(solver):
    # In place: the same array objects after a step (why best-weight snapshots must copy).
    # Per key: two parameters with their own gradients evolve as if trained alone.
    W, b = np.ones((2, 3)), np.zeros(3)
    params = {"W": W, "b": b}
    together = make_optimizer(solver, 0.1)
    alone_W, alone_b = make_optimizer(solver, 0.1), make_optimizer(solver, 0.1)
    pW, pb = {"W": np.ones((2, 3))}, {"b": np.zeros(3)}
    rng = np.random.default_rng(0)
    for _ in range(4):
        gW, gb = rng.normal(size=(2, 3)), rng.normal(size=3)
        together.step(params, {"W": gW, "b": gb})
        alone_W.step(pW, {"W": gW})
        alone_b.step(pb, {"b": gb})
    assert params["W"] is W
    assert params["b"] is b
    np.testing.assert_array_equal(params["W"], pW["W"])
    np.testing.assert_array_equal(params["b"], pb["b"])


# --- construction and bad hyperparameters ---------------------------------------


def test_make_optimizer_names():
    assert type(make_optimizer("gd", 0.1)) is GradientDescent
    assert type(make_optimizer("sgd", 0.1)) is GradientDescent
    assert make_optimizer("momentum", 0.1, momentum=0.3).momentum == 0.3
    assert make_optimizer("nesterov", 0.1, momentum=0.3).momentum == 0.3
    adam = make_optimizer("adam", 0.1, beta_1=0.5, beta_2=0.6, epsilon=1e-3)
    assert (adam.beta_1, adam.beta_2, adam.epsilon) == (0.5, 0.6, 1e-3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"solver": "newton", "learning_rate": 0.1}, "solver must be one of"),
        ({"solver": "gd", "learning_rate": 0.0}, "learning_rate must be a finite number > 0"),
        ({"solver": "gd", "learning_rate": -1.0}, "learning_rate"),
        ({"solver": "adam", "learning_rate": float("nan")}, "learning_rate"),
        ({"solver": "momentum", "learning_rate": 0.1, "momentum": 1.0}, r"momentum must be in"),
        ({"solver": "nesterov", "learning_rate": 0.1, "momentum": -0.1}, "momentum"),
        ({"solver": "adam", "learning_rate": 0.1, "beta_2": 1.0}, "beta_2"),
        ({"solver": "adam", "learning_rate": 0.1, "epsilon": 0.0}, "epsilon"),
    ],
)
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_optimizer(**kwargs)
