r"""The softmax loss and its gradient to 50 correct digits, by mpmath (the dev extra).

The textbook formulas, evaluated in decimal arithmetic precise enough that no
rounding reaches the 50th digit of any result. The precision is raised with
the largest score gap: where the label wins by a gap g, the loss is about
:math:`e^{-g}` and :math:`p_y` differs from 1 by as much, so :math:`1 + e^{-g}`
and :math:`p_y - 1` need :math:`g / \ln 10` digits more than the 50 to be
carried through ``log(sum exp)`` and ``exp(.) - 1`` as written. No ``log1p``
or rearrangement is used: the truth shares no formula with the code it judges.

Inputs are read exactly (every float is a dyadic rational) and the scores
:math:`F = XW + b` are formed at the working precision, so the truth is that
of the given arrays, not of a rounded copy of them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["DIGITS", "softmax_truth"]

#: Correct significant digits of every entry the truth returns.
DIGITS = 50


def softmax_truth(
    W: Any, b: Any, X: Any, y: Any, reg: float = 0.0
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    r"""Loss, dW, db and log_softmax(F) to 50 digits, rounded once to float64.

    .. math::
        \begin{gathered}
        F = XW + b, \quad L = \frac1N \sum_n \Big[\log \sum_j e^{F_{nj}} - F_{n y_n}\Big]
            + \frac\lambda2 \lVert W \rVert^2, \\
        dW = \frac1N X^\top (P - Y) + \lambda W, \quad db = \frac1N \sum_n (P - Y)_n
        \end{gathered}

    Args:
        W: (D, C), b: (C,), X: (N, D) floats of any binary dtype; y: (N,) labels.
        reg: the L2 strength.

    Returns:
        ``(loss, dW, db, log_softmax)``: a float, arrays (D, C), (C,) and (N, C),
        each entry the float64 nearest its 50-digit value (subnormal results
        keep the precision float64 has there).

    Example:
        >>> L, dW, db, logp = softmax_truth(np.zeros((1, 2)), np.array([40.0, 0.0]),
        ...                                 np.zeros((1, 1)), np.array([0]))
        >>> L, float(db[0]), float(logp[0, 0])   # e^-40 - e^-80 / 2 + ...
        (4.248354255291589e-18, -4.248354255291589e-18, -4.248354255291589e-18)
    """
    import mpmath

    W, b, X = (np.asarray(a, dtype=np.float64) for a in (W, b, X))
    y = np.asarray(y)
    n, d = X.shape
    c = W.shape[1]
    with mpmath.workdps(DIGITS + 10):
        # A first pass for the spread of each row's scores, which sets the precision.
        F = [
            [
                mpmath.fsum([mpmath.mpf(X[i, k]) * mpmath.mpf(W[k, j]) for k in range(d)])
                + mpmath.mpf(b[j])
                for j in range(c)
            ]
            for i in range(n)
        ]
        spread = max((float(max(row) - min(row)) for row in F), default=0.0)
    digits = DIGITS + 10 + math.ceil(spread / math.log(10))
    with mpmath.workdps(digits):
        F = [
            [
                mpmath.fsum([mpmath.mpf(X[i, k]) * mpmath.mpf(W[k, j]) for k in range(d)])
                + mpmath.mpf(b[j])
                for j in range(c)
            ]
            for i in range(n)
        ]
        total = mpmath.mpf(0)
        G = [[mpmath.mpf(0)] * c for _ in range(n)]
        logp = np.empty((n, c))
        for i in range(n):
            lse = mpmath.log(mpmath.fsum([mpmath.exp(f) for f in F[i]]))
            total += lse - F[i][int(y[i])]
            for j in range(c):
                logp[i, j] = float(F[i][j] - lse)
                G[i][j] = mpmath.exp(F[i][j] - lse) - (1 if j == int(y[i]) else 0)
        penalty = mpmath.fsum([mpmath.mpf(w) ** 2 for w in W.ravel()])
        loss = float(total / n + mpmath.mpf(reg) / 2 * penalty)
        dW = np.array(
            [
                [
                    float(
                        mpmath.fsum([mpmath.mpf(X[i, k]) * G[i][j] for i in range(n)]) / n
                        + mpmath.mpf(reg) * mpmath.mpf(W[k, j])
                    )
                    for j in range(c)
                ]
                for k in range(d)
            ]
        )
        db = np.array([float(mpmath.fsum([G[i][j] for i in range(n)]) / n) for j in range(c)])
    return loss, dW.reshape(d, c), db, logp
