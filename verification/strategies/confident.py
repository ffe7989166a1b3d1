r"""Confident, correct predictions: every label wins by a gap of 15 to 700 (80 in float32).

The regime of a trained classifier on separable data, where the loss of a
sample is about :math:`e^{-g}` and :math:`1 - p_y` as small: formulas that
round :math:`1 + s` or cancel :math:`1/(1 + s) - 1` lose every digit there.

Each sample gets its own scores through a one-hot block of X: with
``X = [I_N | Z]`` and ``W = [T ; V]``, sample n's scores are
:math:`T_n + Z_n V + b`, where :math:`T_n` puts the label ahead by the drawn
gap and the other classes behind it, some close (within 2 of the runner-up),
some far (up to the largest gap again). ``Z`` (entries -1, 0, 1), ``V`` and
``b`` (multiples of 1/16 in [-1/2, 1/2]) move any score difference by at most
3, so the label still wins by at least 15. Every entry is a multiple of 1/64
below 2^11, so the scores are computed exactly in float64 and float32 alike:
a difference from a 50-digit truth is the formula's, not the input's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from .blocks import _readonly, find_example  # noqa: F401
from .softmax import Problem

__all__ = ["CONFIDENT_MAX_GAP", "CONFIDENT_MIN_GAP", "confident_problems"]

#: The label's lead over the runner-up, at least (after the perturbation).
CONFIDENT_MIN_GAP = 15.0
#: The largest lead drawn, by dtype: float32's exp(-g) leaves the normal range past ~87.
CONFIDENT_MAX_GAP = {np.dtype(np.float64): 700.0, np.dtype(np.float32): 80.0}

# Z V + b moves each score by at most 1 + 1/2, a difference by at most 3.
_PERTURBATION = 3.0


def _grid(low: float, high: float, step: float) -> st.SearchStrategy[float]:
    return st.integers(int(np.ceil(low / step)), int(np.floor(high / step))).map(lambda k: k * step)


@st.composite
def confident_problems(draw: st.DrawFn, dtype: Any = np.float64) -> Problem:
    r"""Problems whose every label wins by :math:`g_n \in [15, G]` (G = 700, or 80 in float32).

    .. math::
        F_n = T_n + Z_n V + b, \qquad
        F_{n y_n} - \max_{j \ne y_n} F_{nj} \in [15, G]

    Shapes: N in [1, 6], C in [2, 6], D = N + K with K in [0, 2]: W ``(D, C)``,
    b ``(C,)``, X ``(N, D)``, y ``(N,)``; reg 0 or 1/2. Family
    ``"confident"`` (``"confident_float32"`` in float32).

    Example:
        >>> p = find_example(confident_problems(), lambda p: p.shape[0] >= 2)
        >>> F = p.X @ p.W + p.b
        >>> rows = np.arange(len(p.y))
        >>> lead = F[rows, p.y] - np.max(np.where(np.eye(F.shape[1])[p.y] == 1, -np.inf, F), 1)
        >>> p.family, bool(np.all(lead >= 15)), bool(np.all(lead <= 700))
        ('confident', True, True)
    """
    dt = np.dtype(dtype)
    max_gap = CONFIDENT_MAX_GAP[dt]
    n = draw(st.integers(1, 6))
    k = draw(st.integers(0, 2))
    c = draw(st.integers(2, 6))
    y = np.array([draw(st.integers(0, c - 1)) for _ in range(n)], dtype=np.int64)
    T = np.empty((n, c))
    for i in range(n):
        gap = draw(_grid(CONFIDENT_MIN_GAP + _PERTURBATION, max_gap - _PERTURBATION, 1 / 64))
        base = draw(_grid(-8.0, 8.0, 1 / 64))
        for j in range(c):
            if j == y[i]:
                T[i, j] = base
                continue
            # Close behind the runner-up, or far behind it.
            if draw(st.booleans()):
                behind = draw(_grid(0.0, 2.0, 1 / 64))
            else:
                behind = draw(_grid(0.0, max_gap, 1 / 64))
            T[i, j] = base - gap - behind
        # The runner-up sits exactly at the drawn gap.
        others = [j for j in range(c) if j != y[i]]
        T[i, others[draw(st.integers(0, len(others) - 1))]] = base - gap
    Z = np.array([[draw(st.sampled_from([-1.0, 0.0, 1.0])) for _ in range(k)] for _ in range(n)])
    V = np.array([[draw(_grid(-0.5, 0.5, 1 / 16)) for _ in range(c)] for _ in range(k)])
    b = np.array([draw(_grid(-0.5, 0.5, 1 / 16)) for _ in range(c)])
    X = np.hstack([np.eye(n), Z.reshape(n, k)])
    W = np.vstack([T, V.reshape(k, c)])
    reg = draw(st.sampled_from([0.0, 0.5]))
    family = "confident" if dt == np.float64 else f"confident_{dt.name}"
    return Problem(
        W=_readonly(W.astype(dt)),
        b=_readonly(b.astype(dt)),
        X=_readonly(X.astype(dt)),
        y=_readonly(y),
        reg=reg,
        family=family,
    )
