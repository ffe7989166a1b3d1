"""The last step of the fast core: from the kernel's sums over samples to (loss, dW, db).

:func:`softmax_ref.loss_and_grad` and :func:`softmax_ref.loss_and_grad_streaming`
both fill a :class:`softmax_ref._kernels.BlockedSums` (one pass over X, or over
chunks of it) and finish here, so that the mean and the penalty are written once.
"""

from __future__ import annotations

import numpy as np

from softmax_ref._kernels import BlockedSums

__all__ = ["mean_and_penalty"]


def mean_and_penalty(
    sums: BlockedSums, W: np.ndarray, reg: float
) -> tuple[np.floating, np.ndarray, np.ndarray]:
    """``(loss, dW, db)`` from the sums over all N samples that ``sums`` holds.

    The loss is the mean of the per-sample losses plus ``0.5 reg ||W||^2``;
    dW = X^T (P - Y) / N + reg W from the (C, D) sum (P - Y)^T X; db =
    sum_n (P - Y)_n / N. Results take W's dtype.
    """
    n = sums.n_samples
    GX, col_sums = sums.grad_sums()
    # Overflow here (huge W) surfaces as a non-finite result, which the caller reports.
    with np.errstate(over="ignore", invalid="ignore"):
        # The loss is a mean over samples, plus the penalty 0.5 reg ||W||^2.
        data = sums.loss_sum() / n
        value = W.dtype.type(data + 0.5 * reg * np.sum(W * W, dtype=np.float64))
        # dW = X^T (P - Y) / N + reg W, from the (C, D) sum; db = sum_n (P - Y)_n / N.
        dW = np.multiply(W, reg)
        dW += GX.T / n
        db = (col_sums / n).astype(W.dtype, copy=False)
    return value, dW, db
