r"""The Taylor remainder test: a witness of a gradient that needs no step size.

Along a direction :math:`v`, with :math:`g` a claimed gradient of f at x,

.. math::
    r(h) = f(x + h v) - f(x) - h \langle g, v \rangle
         = h \langle \nabla f(x) - g, v \rangle + \tfrac{h^2}{2} v^\top H v + O(h^3),

so :math:`|r(h)|` shrinks like :math:`h^2` when g is the gradient and like
:math:`h` when it is not (unless the error happens to be orthogonal to v; a
random direction makes that improbable). The test evaluates f at
:math:`x + h_j v` for a geometric range :math:`h_j = 2^{-j}`, :math:`j = 1,
\dots, 26` (in units of the step scale, as finite differences take it), and
fits the slope of :math:`\log |r|` against :math:`\log h` over the five
smallest steps at which :math:`r` is *resolved*:

.. math::
    |r(h)| > 8\,\delta(h), \qquad
    \delta(h) = 2\,\delta_f + h \sum_i |v_i|\,\tau_i,

:math:`\delta_f` the rounding of one evaluation of f (as in
:mod:`verification.finite_diff`) and :math:`\tau_i` the rounding the
three-way check allows entry :math:`i` of g (a float32 gradient carries
float32 rounding, which makes :math:`r` linear in h below it; that is not
an error of the derivation). A slope of at least 1.75 is a pass, at most
1.25 a fail, anything else, or fewer than three resolved steps, is
inconclusive.

**When it cannot decide.** At a kink along v, :math:`r(h)` has a term
:math:`h\,|J|` for the true gradient too: JAX's remainder fails, and the
test says it cannot decide. Where f is nearly linear along v
(:math:`v^\top H v \approx 0`) a correct gradient's remainder stays at the
rounding level and no step resolves it. In float32 :math:`\delta_f` is
:math:`10^9` times larger and few steps resolve; the verdict is then
usually inconclusive, never a false fail. An error
:math:`e = \langle \nabla f - g, v\rangle` shows only where
:math:`|e| h > 8\delta(h)` at steps small enough that :math:`|e| h`
dominates :math:`h^2 v^\top H v / 2`: roughly :math:`e^2 \gtrsim
16\,\delta_f\,|v^\top H v|`, which a relative error of :math:`10^{-3}`
in a float64 gradient of ordinary size meets by orders of magnitude.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["TaylorResult", "taylor_test"]

STEPS = 2.0 ** -np.arange(1, 27)
RESOLVED = 8.0  # |r| must exceed this many times its rounding bound
N_FIT = 5  # smallest resolved steps the slope is fitted over
PASS_SLOPE, FAIL_SLOPE = 1.75, 1.25


@dataclass(frozen=True)
class TaylorResult:
    r"""The Taylor remainder test of one gradient along seeded directions.

    Per direction :math:`v_k`, the slope of :math:`\log|r(h)|` against
    :math:`\log h`; ``slopes`` and ``n_resolved`` have shape ``(k,)``.

    Attributes:
        side: whose gradient, ``"ANALYTIC"`` or ``"JAX"``.
        slopes: the fitted slope along each direction (NaN where fewer than
            three steps resolved the remainder).
        verdict: ``"pass"`` (every slope at least 1.75), ``"fail"`` (some
            slope at most 1.25) or ``"inconclusive"``.
        n_resolved: per direction, the steps at which the remainder was
            above its rounding bound.

    Example:
        >>> t = TaylorResult("ANALYTIC", (1.01, 0.99), "fail", (20, 21))
        >>> t.verdict, len(t.slopes)
        ('fail', 2)
    """

    side: str
    slopes: tuple[float, ...]
    verdict: str
    n_resolved: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (a NaN slope becomes the string "NaN"); lists of shape ``(k,)``.

        Example:
            >>> TaylorResult("JAX", (2.0, math.nan), "inconclusive", (9, 1)).to_dict()["slopes"]
            [2.0, 'NaN']
        """
        return {
            "side": self.side,
            "slopes": [s if math.isfinite(s) else "NaN" for s in self.slopes],
            "verdict": self.verdict,
            "n_resolved": list(self.n_resolved),
        }


def _slope(h: np.ndarray, r: np.ndarray, noise: np.ndarray) -> tuple[float, int]:
    resolved = np.isfinite(r) & (np.abs(r) > RESOLVED * noise)
    n = int(resolved.sum())
    if n < 3:
        return math.nan, n
    # STEPS decrease, so the last resolved entries are the smallest steps.
    idx = np.flatnonzero(resolved)[-N_FIT:]
    slope = np.polyfit(np.log(h[idx]), np.log(np.abs(r[idx])), 1)[0]
    return float(slope), n


def _verdict(slopes: list[float]) -> str:
    if any(s <= FAIL_SLOPE for s in slopes if math.isfinite(s)):
        return "fail"
    if slopes and all(math.isfinite(s) and s >= PASS_SLOPE for s in slopes):
        return "pass"
    return "inconclusive"


def taylor_test(
    f: Callable[[np.ndarray], Any],
    x: np.ndarray,
    grads: dict[str, np.ndarray],
    directions: np.ndarray,
    *,
    f_noise: float,
    grad_tol: dict[str, np.ndarray],
    batched: bool = False,
    f0: float | None = None,
) -> tuple[list[TaylorResult], int]:
    r"""The remainder test of each gradient in ``grads`` along each row of ``directions``.

    Args:
        f: the function of the flat point x, ``f(x) -> float`` (or, with
            ``batched``, ``f(points (K, n)) -> (K,)``).
        x: ``(n,)`` float64, the point.
        grads: side -> ``(n,)`` claimed gradient.
        directions: ``(k, n)``; each is used as given (scale it beforehand).
        f_noise: :math:`\delta_f`, the rounding of one evaluation of f.
        grad_tol: side -> ``(n,)`` :math:`\tau`, the rounding allowed each entry.
        batched: see ``f``.
        f0: f(x) when already known.

    Returns:
        ``(results, n_evals)``: one :class:`TaylorResult` per side, in the
        order of ``grads``, and the evaluations of f made.

    Example:
        :math:`f = \sum_i \sin x_i`: its gradient :math:`\cos x` passes, a
        gradient off by 1e-3 relative fails:

        >>> x = np.array([0.3, -1.2, 2.0])
        >>> V = np.array([[0.6, 0.0, 0.8]])
        >>> g = {"right": np.cos(x), "wrong": np.cos(x) * 1.001}
        >>> tol = {k: np.zeros(3) for k in g}
        >>> res, n = taylor_test(lambda v: float(np.sum(np.sin(v))), x, g, V,
        ...                      f_noise=1e-15, grad_tol=tol)
        >>> [(t.side, t.verdict) for t in res], n   # 26 steps and f(x)
        ([('right', 'pass'), ('wrong', 'fail')], 27)
    """
    x = np.asarray(x, dtype=np.float64)
    V = np.asarray(directions, dtype=np.float64)
    points = x[None, None, :] + STEPS[None, :, None] * V[:, None, :]  # (k, J, n)
    flat = points.reshape(-1, x.size)
    with np.errstate(invalid="ignore", over="ignore"):
        if batched:
            values = np.asarray(f(flat), dtype=np.float64)
        else:
            values = np.array([float(f(p)) for p in flat])
        n_evals = flat.shape[0]
        if f0 is None:
            f0 = float(f(x[None])[0]) if batched else float(f(x))
            n_evals += 1
        values = values.reshape(V.shape[0], STEPS.size)
        results = []
        for side, g in grads.items():
            g = np.asarray(g, dtype=np.float64)
            slopes, counts = [], []
            for k in range(V.shape[0]):
                r = values[k] - f0 - STEPS * float(V[k] @ g)
                noise = 2.0 * f_noise + STEPS * float(np.abs(V[k]) @ grad_tol[side])
                s, n = _slope(STEPS, r, noise)
                slopes.append(s)
                counts.append(n)
            results.append(TaylorResult(side, tuple(slopes), _verdict(slopes), tuple(counts)))
    return results, n_evals
