r"""The mergeable sums behind every form of the loss and gradient (private).

The loss and its gradient are means over samples of per-sample terms, so all
that a set of rows contributes is four numbers' worth of sums::

    loss     sum_n [logsumexp(F_n) - F_{n, y_n}]        float64
    GX       sum_n (P - Y)_n^T x_n          (C, D)      W's dtype
    col_sums sum_n (P - Y)_n                (C,)        float64
    n        the number of rows

:class:`Sums` holds them: zero, the sums of a block of rows (by the kernel of
``softmax_ref/_kernels.py``, whose per-block arithmetic is not repeated here),
the merge of two (entry-wise addition: the rows of both), and the finish (the
mean over n, then the penalty). The in-memory ``loss_and_grad`` is the sums of
all of X, finished; the streaming form feeds its chunks to one running
:class:`~softmax_ref._kernels.BlockedSums` and finishes its sums; the dask form
(``softmax_ref/distributed.py``) takes the sums of each chunk where the chunk
lives and merges them up a tree. One computation, split three ways; only the
order of the additions differs, and with it the last bits (the bound:
docs/distributed.md).

A :class:`Sums` is small (one (C, D) array) and pickles as plain arrays: it is
what a worker sends back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from softmax_ref._kernels import BlockedSums, one_block, one_block_sums
from softmax_ref._sums import finish

__all__ = ["Sums"]


@dataclass(frozen=True)
class Sums:
    """The sums over a set of rows; ``GX`` and ``col_sums`` are None for the loss alone.

    Instances are never modified: :meth:`merge` returns a new one, so a partial
    result can be merged into several trees (a retried task, a test's orders).
    """

    loss: float
    GX: np.ndarray | None
    col_sums: np.ndarray | None
    n: int

    @classmethod
    def zero(
        cls, n_features: int, n_classes: int, dtype: np.dtype | type = np.float64, grad: bool = True
    ) -> Sums:
        """The sums over no rows; merging it into any sums gives those sums exactly."""
        if not grad:
            return cls(0.0, None, None, 0)
        return cls(0.0, np.zeros((n_classes, n_features), dtype=dtype), np.zeros(n_classes), 0)

    @classmethod
    def of_rows(
        cls,
        W: np.ndarray,
        b: np.ndarray,
        X: np.ndarray,
        y: np.ndarray,
        *,
        grad: bool = True,
        block_rows: int | None = None,
        n_threads: int | None = None,
    ) -> Sums:
        """The sums over the rows of ``X`` (N, D), labels ``y`` (N,), validated, in W's dtype.

        By the route the in-memory call takes for X of this shape: one block on
        the calling thread when that is what the blocked kernel would do anyway,
        else :class:`~softmax_ref._kernels.BlockedSums` sized for N rows.
        ``block_rows`` or ``n_threads`` given always take the blocked kernel.
        """
        n, d = X.shape
        if (
            block_rows is None
            and n_threads is None
            and one_block(n, d, W.shape[1], W.dtype.itemsize)
        ):
            loss, GX, col_sums = one_block_sums(W, b, X, y, grad)
            return cls(loss, GX if grad else None, col_sums if grad else None, n)
        blocked = BlockedSums(W, b, grad=grad, n_rows=n, block_rows=block_rows, n_threads=n_threads)
        blocked.add(X, y)
        return cls.of_blocked(blocked)

    @classmethod
    def of_blocked(cls, blocked: BlockedSums) -> Sums:
        """The sums a :class:`~softmax_ref._kernels.BlockedSums` holds (no rows may follow)."""
        if not blocked.grad:
            return cls(blocked.loss_sum(), None, None, blocked.n_samples)
        GX, col_sums = blocked.grad_sums()
        return cls(blocked.loss_sum(), GX, col_sums, blocked.n_samples)

    def add(self, W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray) -> Sums:
        """These sums and those of the rows ``X``, ``y`` (see :meth:`of_rows`)."""
        return self.merge(Sums.of_rows(W, b, X, y, grad=self.GX is not None))

    def merge(self, other: Sums) -> Sums:
        """The sums over the rows of both: entry-wise addition, ``self`` first."""
        if (self.GX is None) != (other.GX is None):
            raise ValueError("cannot merge the sums of the loss alone with those of its gradient")
        if self.GX is None or self.col_sums is None or other.GX is None or other.col_sums is None:
            return Sums(self.loss + other.loss, None, None, self.n + other.n)
        if self.GX.shape != other.GX.shape or self.GX.dtype != other.GX.dtype:
            raise ValueError(
                f"cannot merge sums of shape {self.GX.shape} ({self.GX.dtype}) with sums of "
                f"shape {other.GX.shape} ({other.GX.dtype}): not the same problem"
            )
        return Sums(
            self.loss + other.loss,
            self.GX + other.GX,
            self.col_sums + other.col_sums,
            self.n + other.n,
        )

    def is_finite(self) -> bool:
        """Whether every sum is finite (a NaN or inf in the rows, or overflowing scores, is not)."""
        if not np.isfinite(self.loss):
            return False
        if self.GX is None or self.col_sums is None:
            return True
        return bool(np.isfinite(self.GX).all() and np.isfinite(self.col_sums).all())

    def finish(self, W: np.ndarray, reg: float) -> tuple[np.floating, np.ndarray, np.ndarray]:
        """``(loss, dW, db)``: the means over the n rows, then the penalty (``_sums.finish``)."""
        if self.GX is None or self.col_sums is None:
            raise ValueError("these are the sums of the loss alone; use mean_loss")
        return finish(self.loss, self.n, self.GX, self.col_sums, W, reg)

    def mean_loss(self, W: np.ndarray, reg: float) -> np.floating:
        """The loss alone: ``loss / n + 0.5 reg ||W||^2`` in W's dtype."""
        with np.errstate(over="ignore", invalid="ignore"):
            value = self.loss / self.n + 0.5 * reg * np.sum(W * W, dtype=np.float64)
            return W.dtype.type(value)
