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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import oracle as jo
from .models import softmax_scales, two_layer_scales
from .report import ANALYTIC, FD, JAX, PAIRS, Comparison, Report
from .tolerances import tolerances_for

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

jax, jnp = jo.jax, jo.jnp

# --- the JAX oracle: jvp of grad ------------------------------------------------------


def _hvp_of(loss_fn: Callable[..., Any]) -> Callable[..., Any]:
    def hv(params: Any, vector: Any, data: Any) -> Any:
        return jax.jvp(lambda p: jax.grad(loss_fn)(p, data), (params,), (vector,))[1]

    return jax.jit(hv)


_SOFTMAX_HVP = _hvp_of(jo.softmax_loss_fn)
_TWO_LAYER_HVP = _hvp_of(jo.two_layer_loss_fn)


def _gn_of_two_layer() -> Callable[..., Any]:
    def scores(p: Any, data: Any) -> Any:
        hidden = jo.relu(data["X"] @ p["W1"] + p["b1"])
        return hidden @ p["W2"] + p["b2"]

    def loss_of_scores(F: Any, data: Any) -> Any:
        F = jnp.where(data["class_mask"], F, -jnp.inf)
        lse = jax.nn.logsumexp(F, axis=1)
        correct = jnp.take_along_axis(F, data["y"][:, None], axis=1)[:, 0]
        return jnp.sum(jnp.where(data["row_mask"], lse - correct, 0.0)) / data["n"]

    def gn(params: Any, vector: Any, data: Any) -> Any:
        F, JV = jax.jvp(lambda p: scores(p, data), (params,), (vector,))
        _, HJV = jax.jvp(lambda f: jax.grad(loss_of_scores)(f, data), (F,), (JV,))
        _, back = jax.vjp(lambda p: scores(p, data), params)
        (out,) = back(HJV)
        out = dict(out)
        out["W1"] = out["W1"] + data["reg"] * vector["W1"]
        out["W2"] = out["W2"] + data["reg"] * vector["W2"]
        return out

    return jax.jit(gn)


_TWO_LAYER_GN = _gn_of_two_layer()


def softmax_hvp(
    W: Any, b: Any, X: Any, y: Any, reg: float, V_W: Any, V_b: Any
) -> tuple[np.ndarray, np.ndarray]:
    r"""The softmax loss's Hessian times (V_W, V_b) by JAX: ``jvp(grad(loss))``, float64.

    .. math::
        H[V] = \frac{d}{dt}\, \nabla L(W + t V_W,\ b + t V_b)\Big|_{t=0}

    of the loss of :func:`verification.oracle.softmax_loss_fn`; W ``(D, C)``,
    b ``(C,)``, X ``(N, D)``, y ``(N,)``, V_W ``(D, C)``, V_b ``(C,)``.

    Returns:
        ``(HV_W, HV_b)``, float64 arrays of shapes ``(D, C)`` and ``(C,)``.

    Example:
        >>> HW, Hb = softmax_hvp(np.zeros((1, 2)), np.zeros(2), np.ones((1, 1)),
        ...                      np.array([0]), 0.1, np.array([[1.0, 0.0]]), np.zeros(2))
        >>> HW, Hb
        (array([[ 0.35, -0.25]]), array([ 0.25, -0.25]))
    """
    W, b, X, y, reg = jo.check_softmax_inputs(W, b, X, y, reg)
    V_W = jo._float_array("V_W", V_W, 2)
    V_b = jo._float_array("V_b", V_b, 1)
    if V_W.shape != W.shape or V_b.shape != b.shape:
        raise ValueError(
            f"V_W and V_b must have the shapes of W {W.shape} and b {b.shape}; "
            f"got {V_W.shape} and {V_b.shape}"
        )
    d, c = W.shape
    data, (_, dp, cp) = jo._softmax_data(X, y, reg, np.dtype(np.float64), c)

    def pad(M: np.ndarray, m: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "W": jo.pad_to(M.astype(np.float64), (dp, cp)),
            "b": jo.pad_to(m.astype(np.float64), (cp,)),
        }

    # JAX's arrays are made and its compiled code runs in float64 inside the scope.
    with jo.float64_scope():
        out = _SOFTMAX_HVP(pad(W, b), pad(V_W, V_b), data)
        return np.asarray(out["W"])[:d, :c].copy(), np.asarray(out["b"])[:c].copy()


def _two_layer_product(
    fn: Callable[..., Any], params: Any, X: Any, y: Any, reg: float, vector: Any
) -> dict[str, np.ndarray]:
    params, X, y, reg = jo.check_two_layer_inputs(params, X, y, reg)
    vec, _, _, _ = jo.check_two_layer_inputs(vector, X, y, 0.0)
    for k in params:
        if vec[k].shape != params[k].shape:
            raise ValueError(
                f"vector[{k!r}] must have the shape of params[{k!r}] {params[k].shape}; "
                f"got {vec[k].shape}"
            )
    dt = np.dtype(np.float64)
    padded, data, _ = jo._two_layer_padded(params, X, y, reg, dt, 0)
    padded_v, _, _ = jo._two_layer_padded(vec, X, y, reg, dt, 0)
    with jo.float64_scope():
        out = fn(padded, padded_v, data)
        return {
            k: np.asarray(out[k])[tuple(slice(0, s) for s in params[k].shape)].copy()
            for k in params
        }


def two_layer_hvp(params: Any, X: Any, y: Any, reg: float, vector: Any) -> dict[str, np.ndarray]:
    r"""The network's Hessian times ``vector`` by JAX: ``jvp(grad(loss))``, float64.

    .. math::
        H[V] = \frac{d}{dt}\, \nabla L(\theta + t V)\Big|_{t=0}

    of :func:`verification.oracle.two_layer_loss_fn`, ``relu'(0) = 0`` and
    ``relu'' = 0``; ``params`` and ``vector`` keyed ``W1`` (D, H), ``b1``
    (H,), ``W2`` (H, C), ``b2`` (C,).

    Returns:
        A dict keyed and shaped like ``params``, float64.

    Example:
        >>> p = {"W1": np.array([[1.0]]), "b1": np.zeros(1), "W2": np.zeros((1, 2)),
        ...      "b2": np.zeros(2)}
        >>> v = {"W1": np.zeros((1, 1)), "b1": np.zeros(1), "W2": np.array([[1.0, 0.0]]),
        ...      "b2": np.zeros(2)}
        >>> two_layer_hvp(p, np.array([[2.0]]), np.array([0]), 0.0, v)["W1"]
        array([[-1.]])
    """
    return _two_layer_product(_TWO_LAYER_HVP, params, X, y, reg, vector)


def two_layer_gnvp(params: Any, X: Any, y: Any, reg: float, vector: Any) -> dict[str, np.ndarray]:
    r"""The network's Gauss-Newton product by JAX: :math:`J^\top H_F J V` plus the penalty.

    .. math::
        G[V] = J^\top \nabla^2_F \ell(F)\, J V + \lambda (V_1, 0, V_2, 0), \qquad
        J = \partial F / \partial \theta

    with :math:`JV` by ``jax.jvp`` of the scores, :math:`\nabla^2_F \ell` by
    ``jvp(grad)`` of the mean cross-entropy in the scores, and :math:`J^\top`
    by ``jax.vjp``; keys and shapes as :func:`two_layer_hvp`.

    Example:
        >>> p = {"W1": np.array([[1.0]]), "b1": np.zeros(1), "W2": np.zeros((1, 2)),
        ...      "b2": np.zeros(2)}
        >>> v = {"W1": np.zeros((1, 1)), "b1": np.zeros(1), "W2": np.array([[1.0, 0.0]]),
        ...      "b2": np.zeros(2)}
        >>> two_layer_gnvp(p, np.array([[2.0]]), np.array([0]), 0.0, v)["W1"]
        array([[0.]])
    """
    return _two_layer_product(_TWO_LAYER_GN, params, X, y, reg, vector)


# --- finite differences of a gradient along a direction ------------------------------

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


# --- comparing and blaming ------------------------------------------------------------


def _compare(
    quantity: str,
    pair: tuple[str, str],
    a: np.ndarray,
    b: np.ndarray,
    tol: np.ndarray,
    values: Mapping[str, np.ndarray],
    *,
    kink: np.ndarray | None = None,
    allowance: np.ndarray | None = None,
    unresolved: np.ndarray | None = None,
) -> Comparison:
    shape = a.shape
    kink = np.zeros(shape, bool) if kink is None else kink
    slack = np.zeros(shape) if allowance is None else allowance
    unresolved = np.zeros(shape, bool) if unresolved is None else unresolved
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        err = np.where(np.isfinite(a) & np.isfinite(b), np.abs(a - b), np.inf)
        usable = np.isfinite(tol)
        beyond = ~kink & usable & ~(err <= tol)
        fail = beyond & ~(err <= tol + np.nan_to_num(slack))
        inconclusive = ~kink & ~fail & (~usable | unresolved | beyond)
        rel = np.where(err == 0, 0.0, err / np.maximum(np.abs(a), np.abs(b)))
        ratio = np.where(err == 0, 0.0, err / tol)
    pool = fail if fail.any() else ~kink
    score = np.where(pool, np.nan_to_num(ratio, nan=np.inf), -1.0)
    w = tuple(int(i) for i in np.unravel_index(int(np.argmax(score)), shape))
    verdict = (
        "fail"
        if fail.any()
        else "inconclusive"
        if inconclusive.any()
        else "kink"
        if kink.any()
        else "pass"
    )
    compared = ~kink
    return Comparison(
        quantity=quantity,
        pair=pair,
        verdict=verdict,
        max_abs_err=float(err[compared].max()) if compared.any() else 0.0,
        max_rel_err=float(rel[compared].max()) if compared.any() else 0.0,
        worst_index=w,
        values={k: float(v[w]) for k, v in values.items()},
        bound=float(tol[w]),
        n_compared=int(a.size),
        n_failed=int(fail.sum()),
        n_kinks=int(kink.sum()),
        n_inconclusive=int(inconclusive.sum()),
    )


def _blame(comparisons: list[Comparison]) -> tuple[str | None, str]:
    """The two-of-three rule of :mod:`verification.compare`, for products."""
    failing = {c.pair for c in comparisons if c.verdict == "fail"}
    first: dict[tuple[str, str], str] = {}
    for c in comparisons:
        if c.verdict == "fail":
            first.setdefault(c.pair, c.where)
    aj, af, jf = PAIRS
    if not failing:
        return None, "all three agree"
    if failing == {aj, af}:
        return ANALYTIC, f"ANALYTIC disagrees with JAX and FD, which agree: {first[aj]}"
    if failing == {aj}:
        return ANALYTIC, (
            "ANALYTIC disagrees with JAX beyond rounding; FD agrees with both within its "
            f"error bound, too coarse to tell them apart: {first[aj]}"
        )
    if failing == {aj, jf}:
        return JAX, f"JAX disagrees with ANALYTIC and FD, which agree: {first[aj]}"
    if failing <= {af, jf}:
        return FD, f"FD disagrees with ANALYTIC and JAX, which agree: {next(iter(first.values()))}"
    return None, f"all three disagree, no two-of-three majority: {first[aj]}"


def _check_products(
    analytic: Mapping[str, Any],
    jax_hv: Mapping[str, np.ndarray],
    fd: FDAlong,
    scales: Mapping[str, np.ndarray],
    dtype: np.dtype,
    underflow: float,
) -> Report:
    names = list(jax_hv)
    sizes = np.cumsum([0] + [np.size(jax_hv[k]) for k in names])
    tol_a, tol_64 = tolerances_for(dtype), tolerances_for(np.float64)
    comparisons = []
    for i, k in enumerate(names):
        J = np.asarray(jax_hv[k], np.float64)
        A = np.asarray(analytic[k], np.float64)
        if A.shape != J.shape:
            raise ValueError(
                f"the analytic product's {k!r} has shape {A.shape}; expected {J.shape}"
            )
        part = slice(int(sizes[i]), int(sizes[i + 1]))
        F = fd.value[part].reshape(J.shape)
        s = np.broadcast_to(scales[k], J.shape)
        exact = {
            side: t.exact_rtol * np.abs(J) + t.exact_atol_factor * t.eps * s + underflow
            for side, t in ((ANALYTIC, tol_a), (JAX, tol_64))
        }
        vals = {ANALYTIC: A, JAX: J, FD: F}
        q = f"Hv[{k}]"
        comparisons.append(_compare(q, (ANALYTIC, JAX), A, J, exact[ANALYTIC], vals))
        bound = fd.error_bound[part].reshape(J.shape)
        view = {
            "kink": fd.kink[part].reshape(J.shape),
            "allowance": fd.kink_allowance[part].reshape(J.shape),
            "unresolved": bound > tol_64.fd_inconclusive_rtol * max(np.max(np.abs(J)), np.max(s)),
        }
        for side, val in ((ANALYTIC, A), (JAX, J)):
            comparisons.append(_compare(q, (side, FD), val, F, bound + exact[side], vals, **view))
    order = {pair: j for j, pair in enumerate(PAIRS)}
    comparisons.sort(key=lambda c: order[c.pair])
    blame, diagnosis = _blame(comparisons)
    return Report(
        comparisons=tuple(comparisons),
        blame=blame,
        diagnosis=diagnosis,
        n_function_evals=7,
        mode="directional",
        seed=0,
        dtype=str(dtype),
        notes=(f"FD of the gradient along the direction, step {fd.step:.3g}.",),
    )


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


# --- the checks -----------------------------------------------------------------------


def softmax_hvp_scales(
    W: np.ndarray, b: np.ndarray, X: np.ndarray, reg: float, V_W: np.ndarray, V_b: np.ndarray
) -> dict[str, np.ndarray]:
    r"""The size of the terms that round into each entry of the softmax :math:`H[V]`.

    A score carries an error :math:`\sim\varepsilon\kappa_n` (:math:`\kappa_n` the
    row maximum of :math:`|X||W| + |b|`), which moves each probability by that
    relative amount, and the score change :math:`s_n` one of
    :math:`\sim\varepsilon\sigma_n` (:math:`\sigma_n` the row maximum of
    :math:`|X||V_W| + |V_b|`); so :math:`R_{nc}` is known to
    :math:`\varepsilon\, p_{nc}\, 2\sigma_n (1 + 2\kappa_n)`, and

    .. math::
        s_W = \tfrac1N |X|^\top s_R + \lambda |V_W|, \qquad s_b = \tfrac1N \textstyle\sum_n s_{R,n}.

    Returns:
        ``{"W": (D, C), "b": (C,)}``.

    Example:
        >>> s = softmax_hvp_scales(np.zeros((1, 2)), np.zeros(2), np.ones((1, 1)), 0.0,
        ...                        np.ones((1, 2)), np.zeros(2))
        >>> s["W"], s["b"]          # p = 1/2, sigma = 1, kappa = 0
        (array([[1., 1.]]), array([1., 1.]))
    """
    absX = np.abs(X)
    kappa = np.max(absX @ np.abs(W) + np.abs(b), axis=1)
    sigma = np.max(absX @ np.abs(V_W) + np.abs(V_b), axis=1)
    F = X @ W + b
    P = np.exp(F - F.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    sR = P * (2 * sigma * (1 + 2 * kappa))[:, None] / X.shape[0]
    return {"W": absX.T @ sR + reg * np.abs(V_W), "b": sR.sum(axis=0)}


def two_layer_hvp_scales(
    params: Mapping[str, np.ndarray], X: np.ndarray, reg: float, vector: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    r"""The size of the terms that round into each entry of the network's :math:`H[V]` (or GN).

    Magnitudes carried through the R-pass: :math:`A = |X||W_1| + |b_1|`,
    :math:`w_n = 1 + 2\kappa_n` (:math:`\kappa_n` the row maximum of
    :math:`A|W_2| + |b_2|`), :math:`|R_Z| = |X||V_1| + |v_1|`,
    :math:`\sigma_n` the row maximum of :math:`|R_Z||W_2| + A|V_2| + |v_2|`,
    :math:`s_R = P \odot 2\sigma w / N` and :math:`s_{dF} = 2 w / N`; then
    ``W2`` :math:`A^\top s_R + |R_Z|^\top s_{dF} + \lambda|V_2|`, ``b2``
    :math:`\sum_n s_R`, and with :math:`s_H = s_R |W_2|^\top + s_{dF} |V_2|^\top`,
    ``W1`` :math:`|X|^\top s_H + \lambda|V_1|` and ``b1`` :math:`\sum_n s_H`.

    Returns:
        A dict keyed and shaped like ``params``: ``W1`` (D, H), ``b1`` (H,),
        ``W2`` (H, C), ``b2`` (C,).

    Example:
        >>> p = {"W1": np.ones((1, 1)), "b1": np.zeros(1), "W2": np.zeros((1, 2)),
        ...      "b2": np.zeros(2)}
        >>> s = two_layer_hvp_scales(p, np.ones((1, 1)), 0.0, p)
        >>> {k: v.shape for k, v in s.items()}
        {'W1': (1, 1), 'b1': (1,), 'W2': (1, 2), 'b2': (2,)}
    """
    W1, b1, W2, b2 = (np.asarray(params[k], np.float64) for k in ("W1", "b1", "W2", "b2"))
    V1, v1, V2, v2 = (np.asarray(vector[k], np.float64) for k in ("W1", "b1", "W2", "b2"))
    n = X.shape[0]
    absX = np.abs(X)
    A = absX @ np.abs(W1) + np.abs(b1)
    F = np.maximum(X @ W1 + b1, 0) @ W2 + b2
    w = 1 + 2 * np.max(A @ np.abs(W2) + np.abs(b2), axis=1)
    RZ = absX @ np.abs(V1) + np.abs(v1)
    sigma = np.max(RZ @ np.abs(W2) + A @ np.abs(V2) + np.abs(v2), axis=1)
    P = np.exp(F - F.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    sR = P * (2 * sigma * w)[:, None] / n
    sdF = np.broadcast_to((2 * w / n)[:, None], P.shape)
    sH = sR @ np.abs(W2).T + sdF @ np.abs(V2).T
    return {
        "W1": absX.T @ sH + reg * np.abs(V1),
        "b1": sH.sum(axis=0),
        "W2": A.T @ sR + RZ.T @ sdF + reg * np.abs(V2),
        "b2": sR.sum(axis=0),
    }


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
    W, b, X, y, reg = jo.check_softmax_inputs(W, b, X, y, reg)
    args = [np.asarray(a).astype(dtype) for a in (W, b, X, V_W, V_b)]
    a_out = analytic(args[0], args[1], args[2], np.copy(y), reg, args[3], args[4])
    W64, b64, X64, VW64, Vb64 = (a.astype(np.float64) for a in args)
    j_out = softmax_hvp(W64, b64, X64, y, reg, VW64, Vb64)
    like = {"W": W64, "b": b64}
    grad_fn = jo.loss_and_grad if fd_gradient is None else fd_gradient

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
    p64, X64, y, reg = jo.check_two_layer_inputs(params, X, y, reg)
    p_a = {k: np.asarray(params[k]).astype(dtype) for k in names}
    v_a = {k: np.asarray(vector[k]).astype(dtype) for k in names}
    a_out = analytic(p_a, np.asarray(X).astype(dtype), np.copy(y), reg, v_a)
    p64 = {k: np.asarray(p_a[k], np.float64) for k in names}
    v64 = {k: np.asarray(v_a[k], np.float64) for k in names}
    X64 = np.asarray(X).astype(dtype).astype(np.float64)
    oracle_fn = two_layer_gnvp if gauss_newton else two_layer_hvp
    j_out = oracle_fn(p64, X64, y, reg, v64)
    grad_fn = jo.two_layer_loss_and_grad if fd_gradient is None else fd_gradient

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
