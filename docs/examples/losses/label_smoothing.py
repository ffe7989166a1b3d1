"""Softmax cross-entropy with label smoothing: a loss from outside the project, checked.

params: W (D, C), b (C,).  data: X (N, D), y (N,) ints in [0, C), reg >= 0.
The target of sample n is q_n = (1 - EPS) onehot(y_n) + EPS / C, and

    loss = mean_n [ logsumexp(F_n) - <q_n, F_n> ] + 0.5 reg ||W||^2,   F = X W + b
    dF   = (P - Q) / N,   dW = X^T dF + reg W,   db = sum_n dF_n
"""

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

EPS = 0.1


def loss(params, data):
    """The loss in jax.numpy, written from the formula above."""
    F = data["X"] @ params["W"] + params["b"]
    C = F.shape[1]
    Q = (1 - EPS) * (data["y"][:, None] == jnp.arange(C)) + EPS / C
    data_term = jnp.mean(logsumexp(F, axis=1) - jnp.sum(Q * F, axis=1))
    return data_term + 0.5 * data["reg"] * jnp.sum(params["W"] ** 2)


def analytic(params, data, *, smooth_gradient=True):
    """The hand-derived loss and gradient in NumPy."""
    W, b, X, y, reg = params["W"], params["b"], data["X"], data["y"], data["reg"]
    N, C = X.shape[0], W.shape[1]
    F = X @ W + b
    shifted = F - F.max(axis=1, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    Y = np.zeros((N, C))
    Y[np.arange(N), y] = 1.0
    Q = (1 - EPS) * Y + EPS / C
    value = -np.mean(np.sum(Q * log_P, axis=1)) + 0.5 * reg * np.sum(W * W)
    dF = (np.exp(log_P) - (Q if smooth_gradient else Y)) / N
    return value, {"W": X.T @ dF + reg * W, "b": dF.sum(axis=0)}


def analytic_wrong(params, data):
    """The planted bug: the gradient subtracts the one-hot labels, not the smoothed targets."""
    return analytic(params, data, smooth_gradient=False)


def point(seed=0, n=8, d=3, c=4):
    """A seeded (params, data) pair."""
    rng = np.random.default_rng(seed)
    params = {"W": rng.standard_normal((d, c)), "b": rng.standard_normal(c)}
    data = {"X": rng.standard_normal((n, d)), "y": rng.integers(0, c, n), "reg": 0.1}
    return params, data
