"""The last step of the fast core: from the kernel's sums over samples to (loss, dW, db).

:func:`softmax_ref.loss_and_grad` (by its one-block route or the blocked one) and
:func:`softmax_ref.loss_and_grad_streaming` finish here, so that the mean and the
penalty are written once.
"""

from __future__ import annotations

import numpy as np

from softmax_ref._kernels import BlockedSums

__all__ = ["finish", "mean_and_penalty"]


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


def mean_and_penalty(
    sums: BlockedSums, W: np.ndarray, reg: float
) -> tuple[np.floating, np.ndarray, np.ndarray]:
    """``(loss, dW, db)`` from the sums over the N samples ``sums`` holds (see :func:`finish`)."""
    GX, col_sums = sums.grad_sums()
    return finish(sums.loss_sum(), sums.n_samples, GX, col_sums, W, reg)
