r"""The loss and gradient of data that arrives in pieces.

:func:`loss_and_grad_streaming` takes any iterable of ``(X_block, y_block)``
pairs (chunks of a file, a list of ``np.memmap`` shards, a generator) and
accumulates the same sums as :func:`softmax_ref.loss_and_grad` does over its
row blocks, so the mean loss and the gradient come out as if all the rows had
been passed at once. Memory: one block of scores and a (C, D) sum per thread,
plus whatever one chunk holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from softmax_ref._accumulator import Sums
from softmax_ref._kernels import BlockedSums
from softmax_ref._validation import check_problem, raise_if_nonfinite

__all__ = ["loss_and_grad_streaming"]


def loss_and_grad_streaming(
    W: Any,
    b: Any,
    blocks: Iterable[tuple[Any, Any]],
    reg: float = 0.0,
    *,
    n_threads: int | None = None,
    block_rows: int | None = None,
) -> tuple[np.floating, np.ndarray, np.ndarray]:
    r"""Loss and gradient of the softmax classifier over data given as chunks of rows.

    With the chunks :math:`(X_k, y_k)` stacked into :math:`X` (N, D) and
    :math:`y` (N,), the result is that of ``loss_and_grad(W, b, X, y, reg)``:

    .. math::
        \begin{gathered}
        L = \frac{1}{N}\sum_{n}\Big[\log\sum_j e^{F_{nj}} - F_{n y_n}\Big]
            + \frac{\lambda}{2}\lVert W\rVert_F^2, \\
        \frac{\partial L}{\partial W} = \frac{1}{N}\sum_k X_k^\top (P_k - Y_k) + \lambda W,
        \\
        \frac{\partial L}{\partial b} = \frac{1}{N}\sum_k \sum_{n \in k} (P_k - Y_k)_n
        \end{gathered}

    The sums run over the chunks as they come, and are divided by N once the
    iterable is exhausted. Each chunk is cut into row blocks as the in-memory
    call cuts X; when every chunk but the last holds a multiple of
    ``block_rows`` rows, both calls use the same number of threads and X spans
    at least four blocks per thread (below that the in-memory call evens out
    its blocks), the numbers are bitwise those of
    :func:`softmax_ref.loss_and_grad`; otherwise they are equal up to rounding.
    Chunks of at least ``n_threads * block_rows`` rows keep every thread busy.

    Args:
        W: weights, shape ``(D, C)``.
        b: biases, shape ``(C,)``.
        blocks: an iterable of ``(X_block, y_block)``, shapes ``(n_k, D)`` and
            ``(n_k,)``, read once, in order, on the calling thread. Chunks with
            no rows are skipped. Every chunk must give the same dtype as the
            first (float32 only when W, b and the chunk are float32).
        reg: the L2 strength :math:`\lambda \ge 0`.
        n_threads: threads over row blocks; default ``$SOFTMAX_REF_NUM_THREADS``
            or min(2, cores).
        block_rows: rows per block; default by the width of X, as in
            ``loss_and_grad``.

    Returns:
        ``(loss, dW, db)`` as :func:`softmax_ref.loss_and_grad` returns them.

    Raises:
        TypeError, ValueError: a malformed or non-finite chunk (the message
            names the chunk by its index), a chunk whose dtype differs from the
            first's, or no rows at all.

    Example:
        >>> import numpy as np
        >>> import softmax_ref as sr
        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.normal(size=(100, 3)), rng.integers(0, 4, size=100)
        >>> W, b = rng.normal(size=(3, 4)), np.zeros(4)
        >>> chunks = ((X[i : i + 30], y[i : i + 30]) for i in range(0, 100, 30))
        >>> L, dW, db = loss_and_grad_streaming(W, b, chunks, reg=0.1)
        >>> L_all, dW_all, db_all = sr.loss_and_grad(W, b, X, y, reg=0.1)
        >>> bool(np.isclose(L, L_all, rtol=1e-14)), bool(np.allclose(dW, dW_all, rtol=1e-14))
        (True, True)
    """
    sums: BlockedSums | None = None
    W_checked = b_checked = None
    reg_checked = 0.0
    for k, chunk in enumerate(blocks):
        try:
            X_k, y_k = chunk
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"blocks must yield (X_block, y_block) pairs; chunk {k} is "
                f"{type(chunk).__name__}: {exc}"
            ) from None
        if np.shape(X_k)[:1] == (0,) and np.shape(y_k) == (0,):
            continue
        try:
            W_k, b_k, X_k, y_k, reg_checked = check_problem(W, b, X_k, y_k, reg)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"chunk {k} of blocks: {exc}") from exc
        if sums is None:
            W_checked, b_checked = W_k, b_k
            sums = BlockedSums(W_k, b_k, n_threads=n_threads, block_rows=block_rows)
        elif W_k.dtype != sums.dtype:
            raise TypeError(
                f"chunk {k} of blocks gives dtype {W_k.dtype}, but chunk 0 gave "
                f"{sums.dtype}; give every chunk the same dtype"
            )
        sums.add(X_k, y_k)
        # A NaN or inf in this chunk (or in W, b) reaches the loss sum; find it while
        # the chunk is still at hand.
        if not np.isfinite(sums.loss_sum()):
            try:
                raise_if_nonfinite(X=X_k, W=W_k, b=b_k)
            except ValueError as exc:
                raise ValueError(f"chunk {k} of blocks: {exc}") from None
    if sums is None or W_checked is None or b_checked is None:
        raise ValueError(
            "blocks must yield at least one (X_block, y_block) pair with rows; got none"
        )
    # One running BlockedSums rather than a merge of per-chunk sums: its lanes carry
    # over from chunk to chunk, which gives the in-memory call's bits (see above).
    value, dW, db = Sums.of_blocked(sums).finish(W_checked, reg_checked)
    if not (np.isfinite(value) and np.isfinite(dW).all() and np.isfinite(db).all()):
        raise_if_nonfinite(W=W_checked, b=b_checked)
    return value, dW, db
