r"""The softmax cross-entropy loss and its hand-derived gradient.

The one convention of the project (see the derivation page of the docs)::

    X (N, D)   y (N,) int in [0, C)   W (D, C)   b (C,)   reg >= 0
    F = X W + b                                   scores, (N, C)
    P = softmax(F) row-wise                       (N, C)
    L = mean_n [ logsumexp(F_n) - F_{n, y_n} ] + 0.5 reg ||W||^2
    dL/dW = X^T (P - Y) / N + reg W               Y = one_hot(y), (D, C)
    dL/db = sum_n (P - Y)_n / N                   (C,), the bias is not regularised

The gradient is computed by three routes, and the tests hold them to each
other: :func:`loss_and_grad_naive` (loops that follow the derivation's case
split line by line), :func:`loss_and_grad_dense` (the textbook matrix form on
whole (N, C) arrays) and :func:`loss_and_grad` (the fast core: the dense form
computed in one blocked pass over X, ``softmax_ref/_kernels.py``). :func:`loss`
is the forward half of the fast core, and :func:`linear_loss_and_grad` its
params-dict form for the training loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from softmax_ref._accumulator import Sums
from softmax_ref._stable import winner_and_rest
from softmax_ref._types import Params
from softmax_ref._validation import check_problem, raise_if_nonfinite

__all__ = [
    "linear_loss_and_grad",
    "log_softmax",
    "loss",
    "loss_and_grad",
    "loss_and_grad_dense",
    "loss_and_grad_naive",
    "softmax",
]


def _as_logits(F: Any) -> np.ndarray:
    a = np.asarray(F)
    if a.dtype.kind in "biu":
        return a.astype(np.float64)
    if a.dtype.kind != "f":
        raise TypeError(f"F must hold real numbers; got dtype {a.dtype}")
    if a.ndim == 0:
        raise ValueError(
            f"F must have at least 1 dimension (classes on the last axis); got shape {a.shape}"
        )
    return a


def _shifted(F: np.ndarray) -> np.ndarray:
    """F minus its row maximum; rows whose maximum is not finite are shifted by 0.

    After the shift every row's largest entry is 0, so exp() cannot overflow and
    at least one term of each row's sum is exactly 1. Guarding a non-finite max
    (JAX does the same) keeps a row of -inf from turning into NaN through
    -inf - (-inf).
    """
    row_max = np.max(F, axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0)
    # Entries far below the max (e.g. -1e308 - 1e308) round to -inf: exp gives
    # the 0 they should be, so the overflow there is harmless.
    with np.errstate(over="ignore"):
        return F - row_max


def softmax(F: Any) -> np.ndarray:
    r"""Row-wise softmax over the last axis, stable for any finite input.

    .. math::
        \operatorname{softmax}(F)_{ni} = \frac{e^{F_{ni} - m_n}}{\sum_j e^{F_{nj} - m_n}},
        \qquad m_n = \max_j F_{nj}

    Subtracting the row maximum leaves the value unchanged and keeps every
    exponent at or below 0.

    Args:
        F: scores of shape ``(..., C)``; integers are cast to float64.

    Returns:
        Probabilities of the same shape and float dtype as ``F``; each row
        sums to 1.

    Example:
        >>> import numpy as np
        >>> softmax(np.array([[0.0, 800.0, -800.0]]))
        array([[0., 1., 0.]])
        >>> softmax(np.array([1.0, 1.0]))
        array([0.5, 0.5])
    """
    shifted = _shifted(_as_logits(F))
    e = np.exp(shifted)
    e /= np.sum(e, axis=-1, keepdims=True)
    return e


def log_softmax(F: Any) -> np.ndarray:
    r"""Row-wise log of the softmax, computed without forming probabilities.

    .. math::
        \log\operatorname{softmax}(F)_{ni} = (F_{ni} - m_n) - \operatorname{log1p}(s_n),
        \qquad s_n = \sum_{j \ne a_n} e^{F_{nj} - m_n}

    with :math:`a_n` the row's winning class and :math:`m_n = F_{n a_n}`: the
    winner's entry is :math:`-\operatorname{log1p}(s_n)`, accurate to the last
    digits however small :math:`s_n` is (``log(1 + s)`` would round it to 0
    below 1e-16). Taking ``log(softmax(F))`` instead would give ``-inf``
    wherever a probability underflows to 0, although its log is a modest
    negative number.

    Args:
        F: scores of shape ``(..., C)``; integers are cast to float64.

    Returns:
        Log-probabilities of the same shape and float dtype as ``F``.

    Example:
        >>> import numpy as np
        >>> log_softmax(np.array([[0.0, 800.0, -800.0]]))
        array([[ -800.,     0., -1600.]])
        >>> float(log_softmax(np.array([40.0, 0.0]))[0])   # -log1p(e^-40), not 0
        -4.248354255291589e-18
    """
    F = _as_logits(F)
    shifted = _shifted(F)
    with np.errstate(invalid="ignore"):
        rest = winner_and_rest(shifted)
        out = shifted - np.log1p(rest)
    # A row whose maximum is not finite keeps the log-sum-exp of all its terms
    # (NaN for a row of -inf or one with +inf), as JAX gives.
    bad = ~np.isfinite(np.max(F, axis=-1, keepdims=True))
    if bad.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            lse = np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
            out = np.where(bad, shifted - lse, out)
    return out


def _check_result(
    value: np.floating, *grads: np.ndarray, W: np.ndarray, b: np.ndarray, X: np.ndarray
) -> None:
    # One cheap reduction over small outputs replaces a pass over X: a NaN or
    # inf anywhere in X, W or b reaches the loss (and the gradient).
    if not (np.isfinite(value) and all(np.isfinite(g).all() for g in grads)):
        raise_if_nonfinite(X=X, W=W, b=b)


def loss(W: Any, b: Any, X: Any, y: Any, reg: float = 0.0) -> np.floating:
    r"""Mean softmax cross-entropy of a linear classifier, plus an L2 penalty on W.

    .. math::
        L = \frac{1}{N}\sum_{n=1}^{N}\Big[\log\sum_{j=1}^{C} e^{F_{nj}} - F_{n y_n}\Big]
            + \frac{\lambda}{2}\lVert W\rVert_F^2, \qquad F = XW + b

    The log-sum-exp form is exact where ``-log(softmax)`` overflows: scores
    ``[0, 800, -800]`` with label 2 have loss 1600, not inf.

    Args:
        W: weights, shape ``(D, C)``.
        b: biases, shape ``(C,)``.
        X: samples, shape ``(N, D)``; integer X is cast to float64.
        y: labels, shape ``(N,)``, integers in ``[0, C)``.
        reg: the L2 strength :math:`\lambda \ge 0`.

    Returns:
        The loss as a NumPy scalar: float32 when X, W and b are all float32,
        float64 otherwise.

    Raises:
        TypeError, ValueError: for malformed or non-finite inputs; the message
            names the argument.

    Example:
        >>> import numpy as np
        >>> W = np.zeros((1, 3)); b = np.array([0.0, 800.0, -800.0])
        >>> float(loss(W, b, np.zeros((1, 1)), np.array([2])))
        1600.0
    """
    W, b, X, y, reg = check_problem(W, b, X, y, reg)
    # The forward half of loss_and_grad's pass: no (N, C) array is formed.
    out = Sums.of_rows(W, b, X, y, grad=False).mean_loss(W, reg)
    _check_result(out, W=W, b=b, X=X)
    return out


def loss_and_grad(
    W: Any, b: Any, X: Any, y: Any, reg: float = 0.0
) -> tuple[np.floating, np.ndarray, np.ndarray]:
    r"""Loss and its gradient with respect to W and b: the vectorized core.

    .. math::
        \frac{\partial L}{\partial W} = \frac{1}{N} X^\top (P - Y) + \lambda W,
        \qquad
        \frac{\partial L}{\partial b} = \frac{1}{N} \sum_{n} (P - Y)_{n}

    with :math:`P = \operatorname{softmax}(XW + b)` and :math:`Y` the one-hot
    labels. See :func:`loss` for the loss itself.

    X is read once, in blocks of rows: the extra memory is one block of
    scores and a (C, D) sum per thread, whatever N is, so a data set far
    larger than the cache, or an ``np.memmap`` larger than memory, streams
    through (give X the dtype of W, or validation converts all of X first).
    Data that arrives in pieces: :func:`softmax_ref.loss_and_grad_streaming`.
    Threads: ``$SOFTMAX_REF_NUM_THREADS`` (default min(2, cores) for
    X narrower than 256 columns, else 1: there the GEMMs dominate and BLAS
    threads them); block size: ``$SOFTMAX_REF_BLOCK_BYTES`` of X (default by
    the width of X); rows per sub-GEMM within a block:
    ``$SOFTMAX_REF_SUB_GEMM_ROWS`` (default by the shape of W; 0 for none).

    Determinism: for one setting of the three and one BLAS thread count, results
    are bitwise identical from call to call, also when several Python
    threads call at the same time (the calls share no mutable state and
    change no process-wide setting). NumPy's BLAS runs at the thread count
    the caller set (process-wide; ``threadpoolctl.threadpool_limits`` or
    ``OPENBLAS_NUM_THREADS`` set it); OpenBLAS's GEMMs can round differently
    at another count, so changing it can move the last bits (about 1e-16
    relative), never more than the tolerances of the paths.

    Args:
        W: weights, shape ``(D, C)``.
        b: biases, shape ``(C,)``.
        X: samples, shape ``(N, D)``.
        y: labels, shape ``(N,)``, integers in ``[0, C)``.
        reg: the L2 strength :math:`\lambda \ge 0`.

    Returns:
        ``(loss, dW, db)``: a scalar, an array of shape ``(D, C)`` and one of
        shape ``(C,)``, all float32 when X, W and b are float32, else float64.

    Example:
        >>> import numpy as np
        >>> L, dW, db = loss_and_grad(np.zeros((2, 2)), np.zeros(2), np.eye(2), np.array([0, 1]))
        >>> round(float(L), 6)   # log 2: both classes equally likely
        0.693147
        >>> dW
        array([[-0.25,  0.25],
               [ 0.25, -0.25]])
        >>> db
        array([0., 0.])
    """
    W, b, X, y, reg = check_problem(W, b, X, y, reg)
    # One pass over X in blocks of rows (softmax_ref/_kernels.py); per block,
    #   S = (X_b W + b)^T, shifted by each sample's max score,
    #   loss_n = log sum_j exp(S_jn) - S_{y_n, n},
    #   P - Y = exp(S) / sum_j exp(S_j), minus 1 at each label,
    # and the block's (P - Y)^T X_b and sum_n (P - Y)_n are added to running sums.
    # Extra memory: one block of scores and a (C, D) sum per thread, whatever N is.
    # Small problems take one block on the calling thread (chosen by the measured
    # costs in _kernels.py): the same arithmetic, without the blocked machinery's
    # set-up. The sums are mergeable (softmax_ref/_accumulator.py): the streaming
    # and dask forms compute the same sums over pieces of X and add them.
    value, dW, db = Sums.of_rows(W, b, X, y).finish(W, reg)
    _check_result(value, dW, db, W=W, b=b, X=X)
    return value, dW, db


def loss_and_grad_dense(
    W: Any, b: Any, X: Any, y: Any, reg: float = 0.0
) -> tuple[np.floating, np.ndarray, np.ndarray]:
    r"""Loss and gradient in the textbook vectorized form, on whole (N, C) arrays.

    .. math::
        \begin{gathered}
        P = \operatorname{softmax}(XW + b), \\
        \frac{\partial L}{\partial W} = \frac{1}{N} X^\top (P - Y) + \lambda W,
        \qquad
        \frac{\partial L}{\partial b} = \frac{1}{N} \sum_{n} (P - Y)_{n}
        \end{gathered}

    with :math:`Y` the one-hot labels: the derivation's matrix form, line for
    line. It forms the scores and :math:`P - Y` as (N, C) arrays, so its
    memory grows with N; :func:`loss_and_grad` computes the same numbers in
    one pass over X in blocks of rows (``softmax_ref/_kernels.py``, an
    optimisation of this form), and the tests hold the two, and
    :func:`loss_and_grad_naive`, to each other.

    Args and returns: as :func:`loss_and_grad`: W ``(D, C)``, b ``(C,)``, X
    ``(N, D)``, y ``(N,)`` in ``[0, C)``, reg :math:`\lambda \ge 0`; returns
    the loss, dW ``(D, C)`` and db ``(C,)``, float32 when X, W and b are
    float32, else float64. The same validation and errors.

    Example:
        >>> import numpy as np
        >>> L, dW, db = loss_and_grad_dense(np.zeros((2, 2)), np.zeros(2), np.eye(2),
        ...                                 np.array([0, 1]))
        >>> round(float(L), 6), dW, db
        (0.693147, array([[-0.25,  0.25],
               [ 0.25, -0.25]]), array([0., 0.]))
    """
    W, b, X, y, reg = check_problem(W, b, X, y, reg)
    n, rows = X.shape[0], np.arange(X.shape[0])
    # Overflow (huge scores) surfaces as a non-finite result, which _check_result reports.
    with np.errstate(over="ignore", invalid="ignore"):
        log_p = log_softmax(X @ W + b)  # (N, C), stable: no -log of an underflowed P
        value = -np.mean(log_p[rows, y]) + 0.5 * reg * np.sum(W * W)
        G = np.exp(log_p)  # P
        # P - Y: at the label p_y - 1 = expm1(log p_y), which keeps the digits that
        # exp(log p_y) - 1 cancels when p_y is within 1e-16 of 1.
        G[rows, y] = np.expm1(log_p[rows, y])
        dW = X.T @ G / n + reg * W
        db = G.sum(axis=0) / n
    out = W.dtype.type(value)
    _check_result(out, dW, db, W=W, b=b, X=X)
    return out, dW, db


def loss_and_grad_naive(
    W: Any, b: Any, X: Any, y: Any, reg: float = 0.0
) -> tuple[np.floating, np.ndarray, np.ndarray]:
    r"""Loss and gradient by explicit loops that follow the derivation.

    For each sample :math:`x_n` with label :math:`y_n` and each class
    :math:`i`, with :math:`S_i = \operatorname{softmax}(F_n)_i`:

    .. math::
        \frac{\partial L_n}{\partial W_{:,i}} =
        \begin{cases} (S_i - 1)\, x_n & i = y_n \\ S_i\, x_n & i \ne y_n \end{cases}
        \qquad
        \frac{\partial L_n}{\partial b_i} =
        \begin{cases} S_i - 1 & i = y_n \\ S_i & i \ne y_n \end{cases}

    then the mean over samples and :math:`\lambda W` from the penalty. Slow
    (a Python loop over N C entries), and meant to be: it is the derivation
    laid out as code, against which :func:`loss_and_grad` is tested.
    Sums are accumulated in float64 and cast to the inputs' dtype at the end.

    Args and returns: as :func:`loss_and_grad`: W ``(D, C)``, b ``(C,)``, X
    ``(N, D)``, y ``(N,)`` in ``[0, C)``; returns the loss, dW ``(D, C)`` and
    db ``(C,)``.

    Example:
        >>> import numpy as np
        >>> X, y = np.eye(2), np.array([0, 1])
        >>> L, dW, db = loss_and_grad_naive(np.zeros((2, 2)), np.zeros(2), X, y)
        >>> dW
        array([[-0.25,  0.25],
               [ 0.25, -0.25]])
    """
    W, b, X, y, reg = check_problem(W, b, X, y, reg)
    n_samples, n_features = X.shape
    n_classes = W.shape[1]
    W64, b64, X64 = (a.astype(np.float64) for a in (W, b, X))
    total = 0.0
    dW = np.zeros((n_features, n_classes))
    db = np.zeros(n_classes)
    with np.errstate(over="ignore", invalid="ignore"):
        for n in range(n_samples):
            x_n = X64[n]
            # Scores of sample n: f_i = x_n . W_{:,i} + b_i for each class i.
            scores = np.array([x_n @ W64[:, i] + b64[i] for i in range(n_classes)])
            # a = the winning class, m = f_a; s = sum over the other classes of exp(f_j - m),
            # summed without the winner's exact 1 so that a tiny s keeps its digits.
            a = int(np.argmax(scores))
            m = scores[a]
            exps = [np.exp(scores[i] - m) for i in range(n_classes)]
            s = sum(exps[i] for i in range(n_classes) if i != a)
            # L_n = log sum_j exp(f_j) - f_{y_n} = log1p(s) + (m - f_{y_n}).
            total += np.log1p(s) + (m - scores[y[n]])
            denom = 1.0 + s  # sum_j exp(f_j - m): exps[a] = 1
            for i in range(n_classes):
                S_i = exps[i] / denom
                if i == y[n]:
                    # case i = y: S_i - 1, which is -s / (1 + s) when i wins (no cancellation)
                    g = -s / denom if i == a else S_i - 1.0
                    dW[:, i] += g * x_n  # case i = y: (S_i - 1) x
                    db[i] += g
                else:
                    dW[:, i] += S_i * x_n  # case i != y: S_i x
                    db[i] += S_i
        # The loss is a mean over samples, so is its gradient.
        dW /= n_samples
        db /= n_samples
        # d/dW of 0.5 reg ||W||^2 is reg W; the bias carries no penalty.
        dW += reg * W64
        value = total / n_samples + 0.5 * reg * np.sum(W64 * W64)
        # Back to the inputs' dtype; a float32 overflow here is reported just below.
        dtype = W.dtype.type
        out = (dtype(value), dW.astype(W.dtype), db.astype(W.dtype))
    _check_result(out[0], out[1], out[2], W=W, b=b, X=X)
    return out


def linear_loss_and_grad(params: Params, X: Any, y: Any, reg: float = 0.0) -> tuple[float, Params]:
    r""":func:`loss_and_grad` over a params dict ``{"W": (D, C), "b": (C,)}``.

    .. math::
        \begin{gathered}
        L = \frac{1}{N}\sum_n \Big[\log\sum_j e^{F_{nj}} - F_{n y_n}\Big]
            + \frac{\lambda}{2}\lVert W\rVert_F^2, \\
        \frac{\partial L}{\partial W} = \frac{1}{N} X^\top (P - Y) + \lambda W, \qquad
        \frac{\partial L}{\partial b} = \frac{1}{N} \sum_n (P - Y)_n
        \end{gathered}

    with :math:`F = XW + b`, :math:`P = \operatorname{softmax}(F)` and
    :math:`Y` the one-hot labels, X ``(N, D)`` and y ``(N,)``. This is the
    form :func:`softmax_ref.training.train` takes: the loss as a Python float,
    and the grads keyed and shaped like params.

    Example:
        >>> import numpy as np
        >>> L, g = linear_loss_and_grad({"W": np.zeros((2, 2)), "b": np.zeros(2)},
        ...                             np.eye(2), np.array([0, 1]), 0.0)
        >>> round(L, 6), g["b"]
        (0.693147, array([0., 0.]))
    """
    value, dW, db = loss_and_grad(params["W"], params["b"], X, y, reg)
    return float(value), {"W": dW, "b": db}
