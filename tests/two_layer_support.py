r"""The three-way check wired for the two-layer network, shared by its property and meta tests.

:func:`check_two_layer` is to the network what ``verification.check_softmax``
is to the linear model: it runs the generic, unchanged
``verification.check(analytic, oracle, params, ...)`` with

* ANALYTIC: any function with ``softmax_ref.two_layer.loss_and_grad``'s
  signature ``(params, X, y, reg) -> (loss, grads)``, in the problem's dtype;
* JAX: ``verification.oracle.two_layer_loss_and_grad`` in float64;
* FD: ``verification.oracle.two_layer_loss_batch`` (the oracle's forward,
  a whole stencil per call);

and with rounding scales and FD steps derived from the math
(:func:`two_layer_scales`), as ``softmax_scales`` does for the linear model.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from softmax_ref import two_layer
from verification import Report, check
from verification import oracle as jax_oracle


def two_layer_scales(
    params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, reg: float
) -> tuple[dict[str, np.ndarray], float, dict[str, np.ndarray]]:
    r"""Rounding scales and FD steps of a two-layer problem, from the math.

    With :math:`A_{nj} = \sum_d |X_{nd}||W_{1,dj}| + |b_{1,j}|` the size of the
    terms of each pre-activation (and a bound on :math:`|H_{nj}|`),
    :math:`|F|_{nc} = \sum_j A_{nj}|W_{2,jc}| + |b_{2,c}|` that of each score,
    :math:`\kappa_n = \max_c |F|_{nc}` and :math:`w_n = 1 + 2\kappa_n`: a score
    carries an absolute error :math:`\sim\varepsilon\kappa_n`, so
    :math:`(P - Y)_{nc}` is known to :math:`\sim\varepsilon w_n` (the linear
    model's argument). Each gradient is a sum of such entries times the size of
    what multiplies them:

    .. math::
        S_{W_2}[j, c] &= \tfrac1N \textstyle\sum_n A_{nj} w_n + \lambda|W_{2,jc}|, \quad
        S_{b_2}[c] = \tfrac1N \textstyle\sum_n w_n, \\
        S_{W_1}[d, j] &= \tfrac1N \textstyle\sum_n |X_{nd}|\, w_n\, r_j + \lambda|W_{1,dj}|,
        \quad S_{b_1}[j] = \tfrac1N \textstyle\sum_n w_n\, r_j, \qquad
        r_j = \textstyle\sum_c |W_{2,jc}|

    (:math:`r_j` carries dF back through :math:`W_2^\top`), and
    :math:`S_L = \frac1N\sum_n (w_n + \log C) + \frac\lambda2(\lVert W_1\rVert^2
    + \lVert W_2\rVert^2)`.

    FD steps: a step in :math:`W_{1,dj}` moves :math:`Z_{nj}` by :math:`X_{nd}`
    times it, so its scale is :math:`1/\max_n|X_{nd}|` (capped by
    :math:`\max(1, |W_{1,dj}|)`, the penalty's scale); a step in
    :math:`W_{2,jc}` moves the scores by :math:`H_{nj}` times it, scale
    :math:`1/\max_n A_{nj}` likewise capped; biases move their sums one for
    one, scale 1.

    Returns:
        ``(scales, loss_scale, step_scale)`` for ``verification.check``.
    """
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2"))
    X = np.asarray(X, dtype=np.float64)
    n, c = X.shape[0], W2.shape[1]
    absX = np.abs(X)
    A = absX @ np.abs(W1) + np.abs(b1)
    kappa = np.max(A @ np.abs(W2) + np.abs(b2), axis=1)
    w = 1.0 + 2.0 * kappa
    r = np.abs(W2).sum(axis=1)
    scales = {
        "W1": (absX.T @ w)[:, None] * r[None, :] / n + reg * np.abs(W1),
        "b1": w.mean() * r,
        "W2": (A.T @ w)[:, None] / n + reg * np.abs(W2),
        "b2": np.full(c, w.mean()),
    }
    loss_scale = float(np.mean(w + math.log(c)) + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2)))

    def step(weights: np.ndarray, reach: np.ndarray) -> np.ndarray:
        cap = np.maximum(1.0, np.abs(weights))
        with np.errstate(divide="ignore", over="ignore"):
            return np.where(reach[:, None] > 0, np.minimum(cap, 1.0 / reach[:, None]), cap)

    steps = {
        "W1": step(W1, absX.max(axis=0)),
        "b1": np.ones_like(b1),
        "W2": step(W2, A.max(axis=0)),
        "b2": np.ones_like(b2),
    }
    return scales, loss_scale, steps


def check_two_layer(
    params: dict[str, Any],
    X: Any,
    y: Any,
    reg: float = 0.0,
    *,
    analytic: Callable[..., Any] = two_layer.loss_and_grad,
    **check_kwargs: Any,
) -> Report:
    """Three-way check of a two-layer network's gradient at ``params`` on ``(X, y, reg)``.

    float32 when X and every parameter are float32 (the analytic side then
    computes in float32 against the float64 oracle, as ``check`` does).
    ``check_kwargs`` go to ``verification.check`` (``mode``, ``seed``, ...).
    """
    X = np.asarray(X)
    y = np.asarray(y)
    arrays = [np.asarray(v) for v in params.values()]
    dtype = np.float32 if all(a.dtype == np.float32 for a in [X, *arrays]) else np.float64
    X_analytic = X.astype(dtype)
    X64 = X.astype(np.float64)

    def analytic_fn(p: dict[str, np.ndarray]) -> tuple[Any, dict[str, Any]]:
        return analytic(p, X_analytic.copy(), y.copy(), reg)

    def oracle_fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        return jax_oracle.two_layer_loss_and_grad(p, X64, y, reg)

    def forward(p: dict[str, np.ndarray]) -> np.ndarray:
        return jax_oracle.two_layer_loss_batch(p, X64, y, reg)

    scales, loss_scale, steps = two_layer_scales(params, X64, y, reg)
    kwargs: dict[str, Any] = {
        "fd_function": forward,
        "fd_batched": True,
        "scales": scales,
        "loss_scale": loss_scale,
        "step_scale": steps,
        **check_kwargs,
    }
    return check(analytic_fn, oracle_fn, params, **kwargs)
