r"""The three-way check wired for each of this project's models.

:func:`~verification.compare.check` takes any model as an analytic function,
an oracle and an FD forward of one dict of parameters. Each function here
fixes the oracle (the model's loss restated in ``jax.numpy``,
:mod:`verification.oracle`, in float64), the forward that finite differences
differentiate (the oracle's batched loss, a whole stencil per call) and the
rounding scales and FD steps derived from the model's math, and leaves the
analytic function to the caller:

=========================  ============================================  ====================
check                      ``analytic``, the caller's code               scales and steps
=========================  ============================================  ====================
:func:`check_softmax`      ``(W, b, X, y, reg) -> (loss, dW, db)``       ``softmax_scales``
:func:`check_two_layer`    ``(params, X, y, reg) -> (loss, grads)``      ``two_layer_scales``
=========================  ============================================  ====================

This package imports nothing from the code it verifies: the analytic function
is always an argument. A new model adds its loss to :mod:`verification.oracle`,
its scales and its ``check_<model>`` here, and its problems to
:mod:`verification.strategies`.

The examples write their analytic gradients in plain NumPy, as a user would.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .compare import check
from .report import Report

__all__ = ["check_softmax", "check_two_layer"]


# --- the softmax classifier ---------------------------------------------------------


def _residual_sizes(F: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # |P - Y| (N, C) and the per-sample losses, to a few digits (they size tolerances),
    # with 1 - p_y = s / (1 + s) where the label wins: 1 - p_y as written would be 0.
    rows = np.arange(F.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        a = np.argmax(F, axis=1)
        m = F[rows, a]
        E = np.exp(F - m[:, None])
        E[rows, a] = 0
        s = E.sum(axis=1)
        E[rows, a] = 1
        A = E / (1 + s)[:, None]
        A[rows, y] = np.where(y == a, s / (1 + s), 1 - A[rows, y])
        per_sample = np.log1p(s) + (m - F[rows, y])
    return A, per_sample


def softmax_scales(
    W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float, *, tiny: float = 0.0
) -> tuple[dict[str, np.ndarray], float, dict[str, np.ndarray], dict[str, Any]]:
    r"""Rounding scales and FD steps of the softmax problem, from the math.

    With :math:`|F|_{nc} = \sum_d |X_{nd}||W_{dc}| + |b_c|` the size of the
    terms of each score and :math:`\kappa_n = \max_c |F|_{nc}`: a score carries
    an absolute error :math:`\sim\varepsilon\kappa_n`, which moves each
    probability, and each :math:`1 - p_{y_n}`, by the same *relative* amount, so
    the entry :math:`(P - Y)_{nc}` is known to :math:`\sim\varepsilon(1 +
    2\kappa_n)|P - Y|_{nc}`: relative to its own size, which is what lets an
    entry of 1e-18 (a label ahead by 40) be checked to its last digits instead
    of passing under a floor of 1e-12. Hence, with :math:`A = |P - Y|`
    (float64, computed here without cancellation),

    .. math::
        S_W[d, c] = \frac1N \sum_n |X_{nd}|(1 + 2\kappa_n) A_{nc} + \lambda |W_{dc}|, \quad
        S_b[c] = \frac1N \sum_n (1 + 2\kappa_n) A_{nc}, \\
        S_L = \frac1N \sum_n \Big(\ell_n + (1 + 2\kappa_n) \sum_c A_{nc}\Big)
            + \frac\lambda2 \lVert W\rVert^2,

    :math:`\ell_n \ge 0` the sample's loss (its own rounding). The loss's
    :math:`m_n - F_{n y_n}` rounds by :math:`\varepsilon\kappa_n` only where
    the label does not win, and there :math:`\sum_c A_{nc} \ge 1`.

    FD steps: a step in :math:`W_{dc}` moves the scores by :math:`X_{nd}` times
    it, so its scale is :math:`1/\max_n |X_{nd}|` (capped by
    :math:`\max(1, |W_{dc}|)`, the scale of the penalty); a step in
    :math:`b_c` moves scores one for one, scale 1.

    Underflow: XLA on CPU reads subnormal inputs as 0 and flushes subnormal
    results to 0 (and float32 underflows below its ``tiny``). Moving each input
    by up to ``tiny`` moves a score by at most :math:`D\,\text{tiny}
    (\max|X| + \max|W| + 1)`, a probability by twice that, so the floors are
    ``tiny`` times :math:`1 + \lambda + 2w + 2D x (x + w + 1)` for dW,
    :math:`1 + 2D(x + w + 1)` for db and :math:`2 + 2D(x + w + 1) + \lambda w`
    for the loss (:math:`x, w` the largest :math:`|X|, |W|`). The :math:`2w`:
    JAX differentiates the penalty as :math:`(\lambda/2) \cdot 2W`, and where
    :math:`\lambda/2` is subnormal (:math:`\lambda < 2\,\text{tiny}`) it is
    flushed and all of :math:`\lambda W` (at most :math:`2\,\text{tiny}\,w`) lost.

    Returns:
        ``(scales, loss_scale, step_scale, underflow)``.
    """
    X, W, b = (np.asarray(a, dtype=np.float64) for a in (X, W, b))
    n, c = X.shape[0], W.shape[1]
    absX = np.abs(X)
    kappa = np.max(absX @ np.abs(W) + np.abs(b), axis=1)
    weight = 1.0 + 2.0 * kappa
    A, per_sample = _residual_sizes(X @ W + b, np.asarray(y))
    s_w = absX.T @ (weight[:, None] * A) / n + reg * np.abs(W)
    s_b = (weight @ A) / n
    loss_scale = float(np.mean(per_sample + weight * A.sum(axis=1)) + 0.5 * reg * np.sum(W * W))
    xmax = absX.max(axis=0)
    w_scale = np.maximum(1.0, np.abs(W))
    # 1 / a subnormal max|X| overflows to inf, and the minimum then keeps w_scale.
    with np.errstate(divide="ignore", over="ignore"):
        step_w = np.minimum(w_scale, 1.0 / xmax[:, None])
    d = X.shape[1]
    x_big, w_big = float(absX.max()), float(np.abs(W).max())
    spread = 2.0 * d * (x_big + w_big + 1.0)
    underflow = {
        "W": tiny * (1.0 + reg + 2.0 * w_big + spread * x_big),
        "b": tiny * (1.0 + spread),
        "loss": tiny * (2.0 + spread + reg * w_big),
    }
    return (
        {"W": np.broadcast_to(s_w, W.shape), "b": s_b},
        loss_scale,
        {"W": step_w, "b": np.ones(c)},
        underflow,
    )


def check_softmax(
    W: Any,
    b: Any,
    X: Any,
    y: Any,
    reg: float = 0.0,
    *,
    analytic: Callable[..., Any],
    **check_kwargs: Any,
) -> Report:
    r"""Three-way check of a softmax classifier's gradient at (W, b) on (X, y, reg).

    The model: :math:`F = XW + b`, :math:`L = \frac1N \sum_n [\operatorname{logsumexp}
    F_n - F_{n y_n}] + \frac\lambda2 \lVert W\rVert^2`, and ``analytic`` claims
    :math:`(L, \partial L/\partial W, \partial L/\partial b)`.

    Args:
        W: ``(D, C)``; b: ``(C,)``; X: ``(N, D)``; y: ``(N,)`` ints in ``[0, C)``;
            reg: :math:`\lambda \ge 0`. float32 when W, b and X all are.
        analytic: the gradient under test, ``(W, b, X, y, reg) -> (loss, dW, db)``
            with dW ``(D, C)`` and db ``(C,)``; called with copies.
        check_kwargs: passed to :func:`~verification.compare.check` (``mode``,
            ``seed``, ...).

    Returns:
        A :class:`~verification.report.Report`; FD differentiates
        ``verification.oracle.loss_batch`` (the oracle's forward) in float64.

    Example:
        >>> def mine(W, b, X, y, reg):   # the gradient by hand: X^T (P - Y) / N + reg W
        ...     F = X @ W + b
        ...     P = np.exp(F - F.max(axis=1, keepdims=True))
        ...     P /= P.sum(axis=1, keepdims=True)
        ...     G = P.copy()
        ...     G[np.arange(len(y)), y] -= 1
        ...     G /= len(y)
        ...     L = -np.mean(np.log(P[np.arange(len(y)), y])) + 0.5 * reg * np.sum(W * W)
        ...     return L, X.T @ G + reg * W, G.sum(axis=0)
        >>> rng = np.random.default_rng(0)
        >>> W, b, X = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(6, 3))
        >>> y = np.array([0, 1, 2, 3, 0, 1])
        >>> check_softmax(W, b, X, y, reg=0.1, analytic=mine).ok
        True
        >>> def wrong(W, b, X, y, reg):   # the -1 on the correct class forgotten in db
        ...     L, dW, db = mine(W, b, X, y, reg)
        ...     return L, dW, db + np.bincount(y, minlength=b.size) / len(y)
        >>> r = check_softmax(W, b, X, y, reg=0.1, analytic=wrong)
        >>> r.ok, r.blame, r.diagnosis.split(": ")[0]
        (False, 'ANALYTIC', 'ANALYTIC disagrees with JAX and FD, which agree')
    """
    from . import oracle as jax_oracle
    from .oracle_inputs import check_softmax_inputs

    W, b, X, y, reg = check_softmax_inputs(W, b, X, y, reg)
    dtype = np.float32 if all(a.dtype == np.float32 for a in (W, b, X)) else np.float64
    W, b, X = (a.astype(dtype) for a in (W, b, X))
    X64 = X.astype(np.float64)

    def analytic_fn(p: dict[str, np.ndarray]) -> tuple[Any, dict[str, Any]]:
        out = analytic(p["W"], p["b"], X.copy(), y.copy(), reg)
        if not (isinstance(out, tuple) and len(out) == 3):
            raise TypeError(
                "analytic must return (loss, dW, db), the loss and the gradients of W and b; "
                f"got {type(out).__name__}"
                + (f" of length {len(out)}" if isinstance(out, tuple) else "")
            )
        return out[0], {"W": out[1], "b": out[2]}

    def oracle_fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        value, dW, db = jax_oracle.loss_and_grad(p["W"], p["b"], X64, y, reg)
        return value, {"W": dW, "b": db}

    def forward(p: dict[str, np.ndarray]) -> np.ndarray:
        return jax_oracle.loss_batch(p["W"], p["b"], X64, y, reg)

    tiny = float(np.finfo(dtype).tiny)  # float32's is the larger: it underflows first
    scales, loss_scale, step_scale, underflow = softmax_scales(W, b, X64, y, reg, tiny=tiny)
    kwargs: dict[str, Any] = {
        "fd_function": forward,
        "fd_batched": True,
        "scales": scales,
        "loss_scale": loss_scale,
        "step_scale": step_scale,
        "underflow": underflow,
    }
    kwargs.update(check_kwargs)
    return check(analytic_fn, oracle_fn, {"W": W, "b": b}, **kwargs)


# --- the one-hidden-layer ReLU network ----------------------------------------------


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
        \begin{aligned}
        S_{W_2}[j, c] &= \tfrac1N \textstyle\sum_n A_{nj} w_n + \lambda|W_{2,jc}|, \quad
        S_{b_2}[c] = \tfrac1N \textstyle\sum_n w_n, \\
        S_{W_1}[d, j] &= \tfrac1N \textstyle\sum_n |X_{nd}|\, w_n\, r_j + \lambda|W_{1,dj}|,
        \quad S_{b_1}[j] = \tfrac1N \textstyle\sum_n w_n\, r_j, \\
        r_j &= \textstyle\sum_c |W_{2,jc}|
        \end{aligned}

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
        ``(scales, loss_scale, step_scale)`` for :func:`~verification.compare.check`.
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
    analytic: Callable[..., Any],
    **check_kwargs: Any,
) -> Report:
    r"""Three-way check of a one-hidden-layer ReLU network's gradient at ``params`` on (X, y, reg).

    The model: :math:`Z = X W_1 + b_1`, :math:`F = \operatorname{relu}(Z) W_2 + b_2`,
    :math:`L = \frac1N \sum_n [\operatorname{logsumexp} F_n - F_{n y_n}]`
    :math:`{} + \frac\lambda2 (\lVert W_1\rVert^2 + \lVert W_2\rVert^2)`, with
    :math:`\operatorname{relu}'(0) = 0`.

    Args:
        params: ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,).
        X: ``(N, D)``; y: ``(N,)`` ints in ``[0, C)``; reg: :math:`\lambda \ge 0`.
            float32 when X and every parameter are (the analytic side then
            computes in float32 against the float64 oracle).
        analytic: the gradient under test, ``(params, X, y, reg) -> (loss, grads)``
            with ``grads`` keyed and shaped like ``params``.
        check_kwargs: passed to :func:`~verification.compare.check` (``mode``,
            ``seed``, ...).

    Returns:
        A :class:`~verification.report.Report`; FD differentiates
        ``verification.oracle.two_layer_loss_batch`` in float64.

    Example:
        >>> def mine(p, X, y, reg, relu_mask=True):   # backpropagation by hand
        ...     Z = X @ p["W1"] + p["b1"]
        ...     H = np.where(Z > 0, Z, 0.0)
        ...     F = H @ p["W2"] + p["b2"]
        ...     P = np.exp(F - F.max(axis=1, keepdims=True))
        ...     P /= P.sum(axis=1, keepdims=True)
        ...     G = P.copy()
        ...     G[np.arange(len(y)), y] -= 1
        ...     G /= len(y)
        ...     dZ = (G @ p["W2"].T) * ((Z > 0) if relu_mask else 1.0)
        ...     L = -np.mean(np.log(P[np.arange(len(y)), y]))
        ...     L += 0.5 * reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
        ...     return L, {"W1": X.T @ dZ + reg * p["W1"], "b1": dZ.sum(axis=0),
        ...                "W2": H.T @ G + reg * p["W2"], "b2": G.sum(axis=0)}
        >>> rng = np.random.default_rng(0)
        >>> p = {"W1": rng.normal(size=(3, 5)), "b1": rng.normal(size=5),
        ...      "W2": rng.normal(size=(5, 4)), "b2": rng.normal(size=4)}
        >>> X, y = rng.normal(size=(6, 3)), np.array([0, 1, 2, 3, 0, 1])
        >>> check_two_layer(p, X, y, 0.1, analytic=mine).ok
        True
        >>> def wrong(p, X, y, reg):   # the ReLU's derivative forgotten
        ...     return mine(p, X, y, reg, relu_mask=False)
        >>> r = check_two_layer(p, X, y, 0.1, analytic=wrong)
        >>> r.ok, r.blame
        (False, 'ANALYTIC')
    """
    from . import oracle as jax_oracle

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
