r"""A gradient differenced along a direction: FD of :math:`Hv` off ReLU kinks, the Taylor test.

:func:`fd_gradient_along` is the FD witness of :mod:`verification.hessian`'s
checks: central differences of a gradient along :math:`v`,
:math:`\frac{d}{dt} \nabla L(\theta + t v)` at :math:`t = 0`, entry by
entry, with the stencil, error bound and kink test of
:mod:`verification.finite_diff`. For the network, the step is kept short of
every ReLU kink along the direction, and a point on a kink is recognised as
one. :func:`taylor_test` is an independent test of a product: the residual
:math:`\lVert \nabla L(\theta + t v) - \nabla L(\theta) - t\,Hv\rVert`
shrinks like :math:`t^2` for the right product and like :math:`t` for a wrong one.

This module needs NumPy only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from .tolerances import tolerances_for

__all__ = ["TaylorResult", "fd_gradient_along", "taylor_test"]

_OFFSETS = (-4.0, -2.0, -1.0, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class FDAlong:
    """``d/dt g(x + t v)`` at 0, per entry of g, with finite_diff.py's bound and kink test."""

    value: np.ndarray
    error_bound: np.ndarray
    kink: np.ndarray
    kink_allowance: np.ndarray
    step: float


def fd_gradient_along(
    grad: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    v: np.ndarray,
    *,
    g_scale: np.ndarray,
    step_scale: np.ndarray | None = None,
    max_step: float = math.inf,
) -> FDAlong:
    r"""Central differences of a vector function ``grad`` of flat ``x`` along ``v``, entry by entry.

    The stencil of :mod:`verification.finite_diff` applied to every entry of
    :math:`g(x + t v)`: :math:`D(t) = (4 c_1 - c_2)/3`, bound
    :math:`|D(t) - D(2t)| + 1.5\,\delta / t` with :math:`\delta = 16\,\varepsilon\,
    \max(g_\text{scale}, |g|)` per entry, and the kink statistic
    :math:`K(t)` against :math:`\rho`; the step is
    :math:`t = \varepsilon^{1/5} / \lVert v / s \rVert`. Seven evaluations of g.

    Args:
        grad: ``grad(x) -> (n,)`` for a flat point ``x`` (n,).
        x, v: the point and the direction, ``(n,)``.
        g_scale: ``(n,)`` the size of the terms that round into each entry of g.
        step_scale: ``(n,)`` the scale of each coordinate (default ``max(1, |x|)``).
        max_step: a cap on t, e.g. to keep the stencil :math:`x \pm 4t v` short of
            a known kink.

    Example:
        >>> g = lambda z: np.array([z[0] ** 2, z[0] * z[1]])   # Jacobian [[2 z0, 0], [z1, z0]]
        >>> r = fd_gradient_along(g, np.array([1.0, 2.0]), np.array([1.0, 0.0]),
        ...                       g_scale=np.ones(2))
        >>> bool(np.all(np.abs(r.value - [2.0, 2.0]) <= r.error_bound)), r.kink
        (True, array([False, False]))
    """
    eps = tolerances_for(np.float64).eps
    factor = tolerances_for(np.float64).fd_roundoff_factor
    s = np.maximum(1.0, np.abs(x)) if step_scale is None else step_scale
    t = min(eps ** (1 / 5) / float(np.linalg.norm(v / s)), max_step)
    g0 = np.asarray(grad(x), dtype=np.float64)
    vals = [np.asarray(grad(x + k * t * v), dtype=np.float64) for k in _OFFSETS]
    fm4, fm2, fm1, fp1, fp2, fp4 = vals
    with np.errstate(invalid="ignore", over="ignore"):
        c1 = (fp1 - fm1) / (2 * t)
        c2 = (fp2 - fm2) / (4 * t)
        c4 = (fp4 - fm4) / (8 * t)
        d_h = (4 * c1 - c2) / 3
        d_2h = (4 * c2 - c4) / 3
        noise = factor * eps * np.maximum(g_scale, np.max(np.abs([g0, *vals]), axis=0))
        bound = np.abs(d_h - d_2h) + 1.5 * noise / t
        k_h = (4 * (fp1 + fm1 - 2 * g0) - (fp2 + fm2 - 2 * g0)) / (2 * t)
        k_2h = (4 * (fp2 + fm2 - 2 * g0) - (fp4 + fm4 - 2 * g0)) / (4 * t)
        resolution = np.abs(k_2h - k_h) + 17 * noise / t
        kink = np.abs(k_h) > resolution
        allowance = np.where(kink, 0.0, 0.5 * (np.abs(k_h) + resolution) + 2.25 * noise / t)
    return FDAlong(d_h, bound, kink, allowance, t)


# --- the Taylor test ------------------------------------------------------------------


@dataclass(frozen=True)
class TaylorResult:
    r"""Residuals :math:`r(t) = \lVert g(x + t v) - g(x) - t\,Hv \rVert_\infty` at halving t.

    Attributes:
        t: ``(k,)`` the steps, each half the one before.
        residual: ``(k,)`` :math:`r(t)`.
        floor: the rounding level of :math:`r` (below it a residual says nothing).
        orders: ``(k - 1,)`` observed orders :math:`\log_2 r(t) / r(t/2)` between
            consecutive steps whose residuals are both above ``100 * floor``.
        ok: every observed order is above 1.5 (the right product gives 2, a wrong
            one 1), or every residual is within rounding.

    Example:
        >>> r = taylor_test(lambda z: z**2, np.ones(1), np.ones(1), np.array([2.0]), g_scale=1.0)
        >>> r.t[:3], r.residual[:3]      # g(1 + t) - g(1) - 2t = t^2 exactly
        (array([0.1  , 0.05 , 0.025]), array([0.01    , 0.0025  , 0.000625]))
        >>> r.ok, r.orders.round(6)[:2]
        (True, array([2., 2.]))
    """

    t: np.ndarray
    residual: np.ndarray
    floor: float
    orders: np.ndarray
    ok: bool


def taylor_test(
    grad: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    v: np.ndarray,
    hv: np.ndarray,
    *,
    g_scale: float,
    t0: float = 0.1,
    n_steps: int = 8,
) -> TaylorResult:
    r"""Does :math:`g(x + t v) = g(x) + t\,Hv + O(t^2)` hold? The second-order Taylor test.

    .. math::
        r(t) = \lVert g(x + t v) - g(x) - t\,Hv \rVert_\infty
             = \tfrac{t^2}{2} \lVert \nabla^3 L[v, v] \rVert + O(t^3)

    for the right :math:`Hv`; a product off by :math:`e` leaves
    :math:`t \lVert e \rVert`, order 1. Steps :math:`t_0 / 2^k` (in units of
    ``v``), orders from consecutive ratios above the rounding floor
    :math:`16\,\varepsilon\, g_\text{scale} / t`. Kinks within :math:`t_0`
    break the expansion: use it where the function is smooth along v.

    Args:
        grad: ``grad(x) -> (n,)``; x, v, hv: ``(n,)``.
        g_scale: the size of the terms that round into g.
        t0, n_steps: the largest step and how many halvings.

    Example:
        >>> g = lambda z: np.array([np.exp(z[0])])   # H = exp(z0)
        >>> taylor_test(g, np.zeros(1), np.ones(1), np.array([1.0]), g_scale=1.0).ok
        True
        >>> r = taylor_test(g, np.zeros(1), np.ones(1), np.array([1.1]), g_scale=1.0)
        >>> r.ok, float(r.orders[-1].round(1))     # a wrong product: order 1
        (False, 1.0)
    """
    eps = tolerances_for(np.float64).eps
    g0 = np.asarray(grad(x), dtype=np.float64)
    ts = t0 / 2.0 ** np.arange(n_steps)
    res = np.array(
        [np.max(np.abs(np.asarray(grad(x + t * v), np.float64) - g0 - t * hv)) for t in ts]
    )
    floor = 16 * eps * g_scale
    usable = res > 100 * floor
    with np.errstate(divide="ignore", invalid="ignore"):
        orders = np.log2(res[:-1] / res[1:])
    orders = orders[usable[:-1] & usable[1:]]
    ok = bool(np.all(orders > 1.5)) if orders.size else bool(np.all(res <= 100 * floor / ts))
    return TaylorResult(ts, res, float(floor), orders, ok)


def _on_a_kink(p: Mapping[str, np.ndarray], X: np.ndarray, v: Mapping[str, np.ndarray]) -> bool:
    """Whether some pre-activation is 0 up to rounding at the point and moves along v.

    Then relu'(0) = 0 makes the products a convention, not a derivative: on either
    side of the point the unit is on or off, and several such samples can even make
    the gradient smooth along v with a slope neither product has.
    """
    Z = X @ p["W1"] + p["b1"]
    size = np.abs(X) @ np.abs(p["W1"]) + np.abs(p["b1"])
    at_zero = np.abs(Z) <= 64 * tolerances_for(np.float64).eps * size
    return bool(np.any(at_zero & (np.abs(X @ v["W1"] + v["b1"]) > 0)))


def _kink_free_step(
    p: Mapping[str, np.ndarray], X: np.ndarray, v: Mapping[str, np.ndarray]
) -> float:
    """The largest t whose stencil x +- 4t v stays within half the way to the nearest kink.

    Along v, pre-activation Z_nj moves at the rate (X V1 + v1)_nj, so it crosses 0
    at t = -Z_nj / rate: there the gradient itself has a kink. Several of them
    within a stencil can cancel in any statistic of its seven values; keeping the
    stencil short of every one off the point leaves at most the kinks at x itself,
    which FD's kink test classifies. A very short step makes FD's bound wide
    (inconclusive), never wrong.
    """
    Z = X @ p["W1"] + p["b1"]
    size = np.abs(X) @ np.abs(p["W1"]) + np.abs(p["b1"])
    rate = np.abs(X @ v["W1"] + v["b1"])
    moving = (rate > 0) & (np.abs(Z) > 64 * tolerances_for(np.float64).eps * size)
    if not moving.any():
        return math.inf
    return float(np.min(np.abs(Z[moving]) / rate[moving])) / 8
