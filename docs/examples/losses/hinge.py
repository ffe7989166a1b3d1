"""The Weston-Watkins multiclass hinge loss: a loss with kinks, from outside the project, checked.

params: W (D, C), b (C,).  data: X (N, D), y (N,) ints in [0, C), reg >= 0.

    m_nj  = 1 + F_nj - F_n,y_n  (j != y_n)
    loss  = mean_n sum_{j != y_n} max(0, m_nj) + 0.5 reg ||W||^2
    dF_nj = [m_nj > 0] / N  (j != y_n),   dF_n,y_n = -sum_{j != y_n} [m_nj > 0] / N

Where a margin is exactly 0 the loss has a kink: no gradient exists, and both
sides take the derivative of max(0, m) there as 0 (jax.nn.relu does), so they
can be compared; finite differences see the kink and classify the entry.
"""

import jax
import jax.numpy as jnp
import numpy as np


def loss(params, data):
    """The loss in jax.numpy, written from the formula above."""
    F = data["X"] @ params["W"] + params["b"]
    C = F.shape[1]
    true = jnp.take_along_axis(F, data["y"][:, None], axis=1)
    others = data["y"][:, None] != jnp.arange(C)
    margins = jnp.where(others, jax.nn.relu(1.0 + F - true), 0.0)
    return jnp.mean(jnp.sum(margins, axis=1)) + 0.5 * data["reg"] * jnp.sum(params["W"] ** 2)


def analytic(params, data, *, true_class_term=True):
    """The hand-derived loss and (sub)gradient in NumPy."""
    W, b, X, y, reg = params["W"], params["b"], data["X"], data["y"], data["reg"]
    N = X.shape[0]
    F = X @ W + b
    m = 1.0 + F - F[np.arange(N), y][:, None]
    m[np.arange(N), y] = 0.0
    value = np.sum(np.maximum(m, 0.0)) / N + 0.5 * reg * np.sum(W * W)
    dF = (m > 0).astype(float)
    if true_class_term:
        dF[np.arange(N), y] = -dF.sum(axis=1)
    dF /= N
    return value, {"W": X.T @ dF + reg * W, "b": dF.sum(axis=0)}


def analytic_wrong(params, data):
    """The planted bug: the true class's score, in every active margin, is not differentiated."""
    return analytic(params, data, true_class_term=False)


def point(seed=0, n=8, d=3, c=4):
    """A seeded (params, data) pair, its margins almost surely away from 0."""
    rng = np.random.default_rng(seed)
    params = {"W": rng.standard_normal((d, c)), "b": rng.standard_normal(c)}
    data = {"X": rng.standard_normal((n, d)), "y": rng.integers(0, c, n), "reg": 0.1}
    return params, data


def kink_point():
    """A point on the kinks: W = 0 and b = (1, 0, 0), so every margin of a class-0 sample is 0."""
    params = {"W": np.zeros((2, 3)), "b": np.array([1.0, 0.0, 0.0])}
    data = {"X": np.array([[1.0, 2.0], [-1.0, 0.5]]), "y": np.array([0, 0]), "reg": 0.0}
    return params, data
