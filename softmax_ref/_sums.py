"""The last step of the fast core: from the kernel's sums over samples to (loss, dW, db).

:func:`softmax_ref.loss_and_grad`, :func:`softmax_ref.loss_and_grad_streaming` and
the dask form finish here (through ``Sums.finish``, softmax_ref/_accumulator.py),
so that the mean and the penalty are written once.
"""

from __future__ import annotations

import numpy as np

__all__ = ["finish"]


def finish(
    loss_sum: float, n: int, GX: np.ndarray, col_sums: np.ndarray, W: np.ndarray, reg: float
) -> tuple[np.floating, np.ndarray, np.ndarray]:
    """``(loss, dW, db)`` from the sums over n samples: the mean, then the penalty.

    ``loss_sum`` is sum_n loss_n, ``GX`` the (C, D) sum (P - Y)^T X and
    ``col_sums`` the (C,) sum_n (P - Y)_n. The loss is ``loss_sum / n + 0.5 reg
    ||W||^2``; dW = X^T (P - Y) / N + reg W; db = sum_n (P - Y)_n / N. Results
    take W's dtype.
    """
    # Overflow here (huge W) surfaces as a non-finite result, which the caller reports.
    with np.errstate(over="ignore", invalid="ignore"):
        # The loss is a mean over samples, plus the penalty 0.5 reg ||W||^2.
        value = W.dtype.type(
            loss_sum / n + 0.5 * reg * float(np.add.reduce(W * W, axis=None, dtype=np.float64))
        )
        # dW = X^T (P - Y) / N + reg W, from the (C, D) sum; db = sum_n (P - Y)_n / N.
        dW = np.multiply(W, reg)
        dW += GX.T / n
        db = (col_sums / n).astype(W.dtype, copy=False)
    return value, dW, db
