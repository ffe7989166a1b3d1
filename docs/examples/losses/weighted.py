"""Softmax cross-entropy as a weighted mean over samples: a loss from outside the project, checked.

params: W (D, C), b (C,).  data: X (N, D), y (N,) ints in [0, C), weights (N,) > 0, reg >= 0.

    loss = sum_n w_n l_n / sum_n w_n + 0.5 reg ||W||^2,   l_n = logsumexp(F_n) - F_n,y_n
    dF   = diag(w) (P - Y) / sum_n w_n,   dW = X^T dF + reg W,   db = sum_n dF_n
"""

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp


def loss(params, data):
    """The loss in jax.numpy, written from the formula above."""
    F = data["X"] @ params["W"] + params["b"]
    per_sample = logsumexp(F, axis=1) - jnp.take_along_axis(F, data["y"][:, None], axis=1)[:, 0]
    w = data["weights"]
    return jnp.sum(w * per_sample) / jnp.sum(w) + 0.5 * data["reg"] * jnp.sum(params["W"] ** 2)


def analytic(params, data, *, normaliser=None):
    """The hand-derived loss and gradient in NumPy."""
    W, b, X, y, w, reg = (
        params["W"],
        params["b"],
        data["X"],
        data["y"],
        data["weights"],
        data["reg"],
    )
    N = X.shape[0]
    F = X @ W + b
    shifted = F - F.max(axis=1, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    value = -np.sum(w * log_P[np.arange(N), y]) / np.sum(w) + 0.5 * reg * np.sum(W * W)
    G = np.exp(log_P)
    G[np.arange(N), y] -= 1.0
    dF = w[:, None] * G / (np.sum(w) if normaliser is None else normaliser)
    return value, {"W": X.T @ dF + reg * W, "b": dF.sum(axis=0)}


def analytic_wrong(params, data):
    """The planted bug: the gradient divides by N, as an unweighted mean does, not by sum(w)."""
    return analytic(params, data, normaliser=data["X"].shape[0])


def point(seed=0, n=8, d=3, c=4):
    """A seeded (params, data) pair, weights in [0.1, 10]."""
    rng = np.random.default_rng(seed)
    params = {"W": rng.standard_normal((d, c)), "b": rng.standard_normal(c)}
    data = {
        "X": rng.standard_normal((n, d)),
        "y": rng.integers(0, c, n),
        "weights": rng.uniform(0.1, 10.0, n),
        "reg": 0.1,
    }
    return params, data
