r"""Hessian-vector products checked three ways: ANALYTIC vs JAX vs finite differences.

For a point :math:`\theta` and a direction :math:`v` (dicts of named arrays),
the three witnesses of :math:`H(\theta) v` are

=========  ==========================================================================
ANALYTIC   the caller's product (the code under test)
JAX        ``jax.jvp`` of ``jax.grad`` of the model's loss restated in
           :mod:`verification.oracle`: forward-over-reverse, float64, jitted on the
           oracle's padded shapes (no recompile per problem shape)
FD         central differences of a gradient along :math:`v`:
           :math:`\frac{d}{dt} \nabla L(\theta + t v)` at :math:`t = 0`, entry by entry,
           with the stencil, error bound and kink test of
           :mod:`verification.finite_diff` (JAX's gradient by default, or the
           caller's analytic gradient)
=========  ==========================================================================

compared per parameter block as :func:`verification.check` compares gradients
(tight ANALYTIC-JAX, FD's bound for the FD pairs, kinks skipped), with the same
two-of-three blame. :func:`taylor_test` is a fourth, independent test: the
residual :math:`\lVert \nabla L(\theta + t v) - \nabla L(\theta) - t\,Hv\rVert`
shrinks like :math:`t^2` for the right product and like :math:`t` for a wrong one.

The Gauss-Newton product of the network has its own JAX oracle,
:func:`two_layer_gnvp`: :math:`J^\top H_F J v` from ``jax.jvp`` of the scores,
the Hessian of the loss in the scores, and ``jax.vjp`` back.

The parts live in their own modules and this one re-exports their public
names: the JAX oracles in :mod:`verification.hvp_oracle`, the differences
along the direction and the Taylor test in :mod:`verification.hvp_fd`, the
rounding scales, comparisons and blame in :mod:`verification.hvp_compare`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .hvp_compare import _check_products, softmax_hvp_scales, two_layer_hvp_scales
from .hvp_fd import (
    FDAlong,
    TaylorResult,
    _kink_free_step,
    _on_a_kink,
    fd_gradient_along,
    taylor_test,
)
from .hvp_oracle import softmax_hvp, two_layer_gnvp, two_layer_hvp
from .models import softmax_scales, two_layer_scales
from .oracle import loss_and_grad, two_layer_loss_and_grad
from .oracle_inputs import check_softmax_inputs, check_two_layer_inputs
from .report import ANALYTIC, JAX, Report

__all__ = [
    "TaylorResult",
    "check_softmax_hvp",
    "check_two_layer_hvp",
    "fd_gradient_along",
    "softmax_hvp",
    "softmax_hvp_scales",
    "taylor_test",
    "two_layer_gnvp",
    "two_layer_hvp",
    "two_layer_hvp_scales",
]


def _flat(arrays: Mapping[str, Any], names: list[str]) -> np.ndarray:
    return np.concatenate([np.asarray(arrays[k], np.float64).ravel() for k in names])


def _unflat(v: np.ndarray, like: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    out, i = {}, 0
    for k, a in like.items():
        out[k] = v[i : i + a.size].reshape(a.shape)
        i += a.size
    return out


def _dtype_of(*arrays: Any) -> np.dtype:
    return np.dtype(
        np.float32 if all(np.asarray(a).dtype == np.float32 for a in arrays) else np.float64
    )


def check_softmax_hvp(
    W: Any,
    b: Any,
    X: Any,
    y: Any,
    reg: float,
    V_W: Any,
    V_b: Any,
    *,
    analytic: Callable[..., Any],
    fd_gradient: Callable[..., Any] | None = None,
) -> Report:
    r"""Three-way check of a softmax Hessian-vector product at (W, b) along (V_W, V_b).

    ``analytic(W, b, X, y, reg, V_W, V_b) -> (HV_W, HV_b)`` is compared with
    :func:`softmax_hvp` and with finite differences of a gradient along the
    direction (``fd_gradient(W, b, X, y, reg) -> (loss, dW, db)``, default the
    oracle's :func:`verification.oracle.loss_and_grad`). Rounding scales, per
    entry: :math:`\frac1N |X|^\top (P \odot 2\sigma (1 + 2\kappa)) + \lambda|V_W|`
    with :math:`\sigma_n = \max_c (|X||V_W| + |V_b|)_{nc}` the size of the score
    change and :math:`\kappa_n` that of the scores (the gradient's argument of
    :func:`verification.models.softmax_scales`, times the direction's size).

    Returns:
        A :class:`~verification.report.Report` with quantities ``Hv[W]``, ``Hv[b]``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> W, b, X = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(6, 3))
        >>> y, V_W, V_b = np.array([0, 1, 2, 3, 0, 1]), rng.normal(size=(3, 4)), rng.normal(size=4)
        >>> check_softmax_hvp(W, b, X, y, 0.1, V_W, V_b, analytic=softmax_hvp).ok
        True
        >>> def no_ppT(W, b, X, y, reg, V_W, V_b):      # the p p^T term forgotten
        ...     F = X @ W + b; P = np.exp(F - F.max(1, keepdims=True)); P /= P.sum(1, keepdims=True)
        ...     R = P * (X @ V_W + V_b) / len(y)
        ...     return X.T @ R + reg * V_W, R.sum(0)
        >>> r = check_softmax_hvp(W, b, X, y, 0.1, V_W, V_b, analytic=no_ppT)
        >>> r.ok, r.blame
        (False, 'ANALYTIC')
    """
    dtype = _dtype_of(W, b, X, V_W, V_b)
    W, b, X, y, reg = check_softmax_inputs(W, b, X, y, reg)
    args = [np.asarray(a).astype(dtype) for a in (W, b, X, V_W, V_b)]
    a_out = analytic(args[0], args[1], args[2], np.copy(y), reg, args[3], args[4])
    W64, b64, X64, VW64, Vb64 = (a.astype(np.float64) for a in args)
    j_out = softmax_hvp(W64, b64, X64, y, reg, VW64, Vb64)
    like = {"W": W64, "b": b64}
    grad_fn = loss_and_grad if fd_gradient is None else fd_gradient

    def g(theta: np.ndarray) -> np.ndarray:
        p = _unflat(theta, like)
        _, dW, db = grad_fn(p["W"], p["b"], X64, y, reg)
        return _flat({"W": dW, "b": db}, ["W", "b"])

    g_scales, _, steps, _ = softmax_scales(W64, b64, X64, y, reg)
    fd = fd_gradient_along(
        g,
        _flat(like, ["W", "b"]),
        _flat({"W": VW64, "b": Vb64}, ["W", "b"]),
        g_scale=_flat(
            {k: np.broadcast_to(v, like[k].shape) for k, v in g_scales.items()}, ["W", "b"]
        )
        * 1.0,
        step_scale=_flat(steps, ["W", "b"]),
    )
    scales = softmax_hvp_scales(W64, b64, X64, reg, VW64, Vb64)
    tiny = float(np.finfo(dtype).tiny) * (1 + float(np.max(np.abs(X64))) * X64.shape[1])
    analytic_d = {"W": a_out[0], "b": a_out[1]}
    return _check_products(analytic_d, {"W": j_out[0], "b": j_out[1]}, fd, scales, dtype, tiny)


def check_two_layer_hvp(
    params: Mapping[str, Any],
    X: Any,
    y: Any,
    reg: float,
    vector: Mapping[str, Any],
    *,
    analytic: Callable[..., Any],
    gauss_newton: bool = False,
    fd_gradient: Callable[..., Any] | None = None,
) -> Report:
    r"""Three-way check of a network's Hessian-vector product (or Gauss-Newton product).

    ``analytic(params, X, y, reg, vector) -> dict`` against :func:`two_layer_hvp`
    (:func:`two_layer_gnvp` with ``gauss_newton=True``) and against finite
    differences of the gradient along ``vector`` (default the oracle's
    :func:`verification.oracle.two_layer_loss_and_grad`, its step kept short of
    every ReLU kink along the direction; at a point on a kink, where the products
    are the relu'(0) = 0 convention rather than derivatives, every FD entry is
    reported a kink and not compared; FD measures the true
    Hessian, so with ``gauss_newton=True`` the FD rows compare GN with H and
    only the ANALYTIC-JAX row speaks for the product; the report then blames
    from that row alone). FD entries on a ReLU kink are not compared.

    Rounding scales propagate magnitudes through the R-pass: with
    :math:`A = |X||W_1| + |b_1|`, :math:`w_n = 1 + 2\kappa_n`,
    :math:`|R_F| = (|X||V_1| + |v_1|)|W_2| + A|V_2| + |v_2|`, :math:`\sigma_n`
    its row maximum and :math:`s_R = P \odot 2\sigma w / N`: ``W2``
    :math:`A^\top s_R + |R_Z|^\top 2w/N`, ``b2`` :math:`\sum_n s_R`, and the
    first layer the same carried back through :math:`|W_2|^\top` and :math:`|V_2|^\top`.

    Example:
        >>> rng = np.random.default_rng(1)
        >>> p = {"W1": rng.normal(size=(3, 5)), "b1": rng.normal(size=5),
        ...      "W2": rng.normal(size=(5, 4)), "b2": rng.normal(size=4)}
        >>> v = {k: rng.normal(size=a.shape) for k, a in p.items()}
        >>> X, y = rng.normal(size=(6, 3)), np.array([0, 1, 2, 3, 0, 1])
        >>> check_two_layer_hvp(p, X, y, 0.1, v, analytic=two_layer_hvp).ok
        True
        >>> r = check_two_layer_hvp(p, X, y, 0.1, v, analytic=two_layer_gnvp)   # GN is not H
        >>> r.ok, r.blame
        (False, 'ANALYTIC')
    """
    names = ["W1", "b1", "W2", "b2"]
    dtype = _dtype_of(X, *params.values(), *vector.values())
    p64, X64, y, reg = check_two_layer_inputs(params, X, y, reg)
    p_a = {k: np.asarray(params[k]).astype(dtype) for k in names}
    v_a = {k: np.asarray(vector[k]).astype(dtype) for k in names}
    a_out = analytic(p_a, np.asarray(X).astype(dtype), np.copy(y), reg, v_a)
    p64 = {k: np.asarray(p_a[k], np.float64) for k in names}
    v64 = {k: np.asarray(v_a[k], np.float64) for k in names}
    X64 = np.asarray(X).astype(dtype).astype(np.float64)
    oracle_fn = two_layer_gnvp if gauss_newton else two_layer_hvp
    j_out = oracle_fn(p64, X64, y, reg, v64)
    grad_fn = two_layer_loss_and_grad if fd_gradient is None else fd_gradient

    def g(theta: np.ndarray) -> np.ndarray:
        _, grads = grad_fn(_unflat(theta, p64), X64, y, reg)
        return _flat(grads, names)

    g_scales, _, steps = two_layer_scales(p64, X64, y, reg)
    fd = fd_gradient_along(
        g,
        _flat(p64, names),
        _flat(v64, names),
        g_scale=_flat({k: np.broadcast_to(g_scales[k], p64[k].shape) for k in names}, names),
        step_scale=_flat(steps, names),
        max_step=_kink_free_step(p64, X64, v64),
    )
    scales = two_layer_hvp_scales(p64, X64, reg, v64)
    tiny = float(np.finfo(dtype).tiny) * (1 + float(np.max(np.abs(X64))) * X64.shape[1])
    if _on_a_kink(p64, X64, v64):
        # The gradient is not differentiable along v here: FD decides nothing.
        fd = FDAlong(
            fd.value, fd.error_bound, np.ones_like(fd.kink), np.zeros_like(fd.value), fd.step
        )
    report = _check_products(a_out, j_out, fd, scales, dtype, tiny)
    if not gauss_newton:
        return report
    exact_rows = tuple(c for c in report.comparisons if c.pair == (ANALYTIC, JAX))
    failed = [c.where for c in exact_rows if c.verdict == "fail"]
    return Report(
        comparisons=exact_rows,
        blame=ANALYTIC if failed else None,
        diagnosis=(
            f"ANALYTIC disagrees with JAX's Gauss-Newton product: {failed[0]}"
            if failed
            else "ANALYTIC and JAX's Gauss-Newton product agree"
        ),
        n_function_evals=0,
        mode="exact",
        seed=0,
        dtype=str(dtype),
        notes=("Gauss-Newton: FD measures the Hessian, so only ANALYTIC vs JAX is compared.",),
    )
