r"""Comparing Hessian-vector products: rounding scales, per-entry verdicts, two-of-three blame.

A product is compared per parameter block as :func:`verification.check`
compares gradients: ANALYTIC against JAX within the tight exact tolerance
(scaled by :func:`softmax_hvp_scales` or :func:`two_layer_hvp_scales`, the
size of the terms that round into each entry), each against FD within FD's
error bound, FD's kinks skipped, and the two-of-three rule of
:mod:`verification.compare` names the witness that is wrong.

This module needs NumPy only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .hvp_fd import FDAlong
from .report import ANALYTIC, FD, JAX, PAIRS, Comparison, Report
from .tolerances import tolerances_for

__all__ = ["softmax_hvp_scales", "two_layer_hvp_scales"]


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
