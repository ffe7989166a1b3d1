r"""The loss and gradient of data held as a dask array: on one machine's threads or a cluster.

:func:`loss_and_grad` takes X (N, D) as a ``dask.array`` chunked by rows and
labels y (N,) chunked the same way. Each chunk's sums (softmax_ref/_accumulator.py:
the fast kernel's loss sum, (C, D) gradient sum and (C,) column sums) are
computed as a task where the chunk lives, the partial sums are merged by a tree
of tasks, and only the (C, D)-sized root comes back to the caller, which takes
the mean and adds the penalty. Whichever scheduler is active runs the graph: the
threaded default, a ``dask.distributed.LocalCluster``, or a ``Client`` connected
to a real cluster.

The merge tree is fixed by the chunking and ``split_every`` (chunks merged in
row order, in groups), not by which worker finishes first, so one chunking gives
the same bits from run to run; another chunking moves only the last bits, within
the summation bound stated in docs/distributed.md. One chunk holding all of X
gives bitwise what :func:`softmax_ref.loss_and_grad` gives.

Dask is imported by the functions here, never by ``import softmax_ref``; it is
the ``distributed`` extra (``pip install "softmax-ref[distributed]"``).
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from softmax_ref._accumulator import Sums
from softmax_ref._validation import check_int, check_problem, raise_if_nonfinite

__all__ = ["loss", "loss_and_grad"]

#: Partial sums merged per task of the tree: 8 gives depth 2 for 64 chunks.
SPLIT_EVERY = 8


def is_dask_array(x: Any) -> bool:
    """Whether ``x`` is a ``dask.array.Array``; never imports dask (false if it is not loaded).

    Example:
        >>> import numpy as np
        >>> is_dask_array(np.zeros(3))
        False
    """
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(x, da.Array)


def _dask_array() -> Any:
    try:
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - the extra is installed in CI
        raise ImportError(
            "softmax_ref.distributed needs dask: pip install 'softmax-ref[distributed]'"
        ) from exc
    return da


def check_rows(X: Any, name: str = "X") -> Any:
    """``X`` as a 2-D dask array chunked by rows only, with known chunk sizes; else a clear error.

    Example:
        >>> import dask.array as da
        >>> check_rows(da.zeros((10, 3), chunks=(5, 3))).chunks
        ((5, 5), (3,))
    """
    da = _dask_array()
    if not isinstance(X, da.Array):
        raise TypeError(
            f"{name} must be a dask.array.Array; got {type(X).__name__} (for NumPy arrays "
            "use softmax_ref.loss_and_grad)"
        )
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (N, D); got a dask array of shape {X.shape}")
    if any(math.isnan(c) for c in X.chunks[0]):
        raise ValueError(
            f"{name} has chunks of unknown length; call {name}.compute_chunk_sizes() first"
        )
    if len(X.chunks[1]) != 1:
        raise ValueError(
            f"{name} must be chunked by rows only: its feature axis (D = {X.shape[1]}) is split "
            f"into chunks {X.chunks[1]}; rechunk it with {name}.rechunk({{1: -1}})"
        )
    return X


def _check_labels(y: Any, X: Any) -> Any:
    da = _dask_array()
    row_chunks = X.chunks[0]
    if not isinstance(y, da.Array):
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(
                f"y must have shape (N,) = ({X.shape[0]},), one label per row of X; "
                f"got shape {y.shape}"
            )
        return da.from_array(y, chunks=(row_chunks,))
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y must have shape (N,) = ({X.shape[0]},), one label per row of X; "
            f"got a dask array of shape {y.shape}"
        )
    if y.chunks[0] != row_chunks:
        raise ValueError(
            f"the chunks of y {y.chunks[0]} do not line up with the row chunks of X "
            f"{row_chunks}; rechunk y with y.rechunk((X.chunks[0],))"
        )
    return y


def _check(W: Any, b: Any, X: Any, y: Any, reg: Any) -> tuple[Any, Any, Any, Any, float]:
    X = check_rows(X)
    y = _check_labels(y, X)
    # W, b and reg against a one-row probe of X's dtype: the chunks are checked
    # where they live, with the same rules.
    probe = np.zeros((1, X.shape[1]), dtype=X.dtype)
    W, b, _, _, reg = check_problem(W, b, probe, np.zeros(1, dtype=np.intp), reg)
    return W, b, X, y, reg


def _chunk_sums(
    X_c: np.ndarray, y_c: np.ndarray, W: np.ndarray, b: np.ndarray, row0: int, grad: bool
) -> Sums:
    """The sums of one chunk, rows ``row0:row0 + len(X_c)``; runs where the chunk lives."""
    n = X_c.shape[0]
    rows = f"the chunk of rows {row0}:{row0 + n} of X and y (indices below count from row {row0})"
    if n == 0:
        return Sums.zero(W.shape[0], W.shape[1], W.dtype, grad)
    try:
        W_c, b_c, X_c, y_c, _ = check_problem(W, b, X_c, y_c, 0.0)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{rows}: {exc}") from None
    sums = Sums.of_rows(W_c, b_c, X_c, y_c, grad=grad)
    if not sums.is_finite():
        # Found on the worker, with the chunk at hand: which rows, and what is wrong.
        try:
            raise_if_nonfinite(X=X_c, W=W_c, b=b_c)
        except ValueError as exc:
            raise ValueError(f"{rows}: {exc}") from None
    return sums


def _merge(*parts: Sums) -> Sums:
    total = parts[0]
    for part in parts[1:]:
        total = total.merge(part)
    return total


def _total(
    W: np.ndarray, b: np.ndarray, X: Any, y: Any, grad: bool, split_every: int | None
) -> Sums:
    """The chunks' sums, merged up a tree of ``split_every``-way merges, computed."""
    import dask

    fan_in = SPLIT_EVERY if split_every is None else check_int("split_every", split_every, 2)
    starts = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).tolist()
    # W and b enter the graph once, as one task each: a worker fetches them once.
    W_d, b_d = dask.delayed(W, pure=True), dask.delayed(b, pure=True)
    chunk = dask.delayed(_chunk_sums, pure=True)
    merge = dask.delayed(_merge, pure=True)
    parts = [
        chunk(X_c, y_c, W_d, b_d, int(row0), grad)
        for X_c, y_c, row0 in zip(
            X.to_delayed().ravel(), y.to_delayed().ravel(), starts, strict=True
        )
    ]
    while len(parts) > 1:
        parts = [merge(*parts[i : i + fan_in]) for i in range(0, len(parts), fan_in)]
    (total,) = dask.compute(parts[0])
    return total


def loss_and_grad(
    W: Any, b: Any, X: Any, y: Any, reg: float = 0.0, *, split_every: int | None = None
) -> tuple[np.floating, np.ndarray, np.ndarray]:
    r"""Loss and gradient of the softmax classifier over a dask array X, chunked by rows.

    The same function as :func:`softmax_ref.loss_and_grad`:

    .. math::
        \begin{gathered}
        L = \frac{1}{N}\sum_{n}\Big[\log\sum_j e^{F_{nj}} - F_{n y_n}\Big]
            + \frac{\lambda}{2}\lVert W\rVert_F^2, \\
        \frac{\partial L}{\partial W} = \frac{1}{N}\sum_k X_k^\top (P_k - Y_k) + \lambda W,
        \qquad
        \frac{\partial L}{\partial b} = \frac{1}{N}\sum_k \sum_{n \in k} (P_k - Y_k)_n
        \end{gathered}

    with the sum over chunks k computed where each chunk lives and merged up a
    tree; the result comes back to the caller as NumPy arrays.

    Args:
        W: weights, shape ``(D, C)``, a NumPy array (it is sent to the workers once).
        b: biases, shape ``(C,)``.
        X: a ``dask.array`` of shape ``(N, D)``, chunked by rows only.
        y: labels, shape ``(N,)``, integers in ``[0, C)``: a dask array whose
            chunks line up with X's rows, or a NumPy array (chunked like X here).
        reg: the L2 strength :math:`\lambda \ge 0`.
        split_every: partial sums merged per task of the tree (default 8, at least 2).

    Returns:
        ``(loss, dW, db)`` as :func:`softmax_ref.loss_and_grad` returns them
        (float32 when X, W and b are float32, else float64).

    Raises:
        TypeError, ValueError: X not a row-chunked dask array, y's chunks not
            those of X's rows, bad W, b or reg (at once); a chunk with bad labels,
            NaN or inf (when it is computed, naming its rows).

    Example:
        >>> import dask.array as da
        >>> import numpy as np
        >>> import softmax_ref as sr
        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.normal(size=(100, 3)), rng.integers(0, 4, size=100)
        >>> W, b = rng.normal(size=(3, 4)), np.zeros(4)
        >>> L, dW, db = loss_and_grad(W, b, da.from_array(X, chunks=(30, 3)), y, reg=0.1)
        >>> L_mem, dW_mem, db_mem = sr.loss_and_grad(W, b, X, y, reg=0.1)
        >>> bool(np.isclose(L, L_mem, rtol=1e-14)), bool(np.allclose(dW, dW_mem, rtol=1e-14))
        (True, True)
    """
    W, b, X, y, reg = _check(W, b, X, y, reg)
    value, dW, db = _total(W, b, X, y, True, split_every).finish(W, reg)
    if not (np.isfinite(value) and np.isfinite(dW).all() and np.isfinite(db).all()):
        raise_if_nonfinite(W=W, b=b)
    return value, dW, db


def loss(
    W: Any, b: Any, X: Any, y: Any, reg: float = 0.0, *, split_every: int | None = None
) -> np.floating:
    r"""The loss alone over a dask array X, as :func:`softmax_ref.loss` gives it in memory.

    .. math::
        L = \frac{1}{N}\sum_{n}\Big[\log\sum_j e^{F_{nj}} - F_{n y_n}\Big]
            + \frac{\lambda}{2}\lVert W\rVert_F^2, \qquad F = XW + b

    Arguments, chunking rules and errors: those of :func:`loss_and_grad`
    (W ``(D, C)``, b ``(C,)``, X ``(N, D)``, y ``(N,)``).

    Example:
        >>> import dask.array as da
        >>> import numpy as np
        >>> X = da.zeros((6, 2), chunks=(4, 2))
        >>> round(float(loss(np.zeros((2, 3)), np.zeros(3), X, np.zeros(6, int))), 6)  # log 3
        1.098612
    """
    W, b, X, y, reg = _check(W, b, X, y, reg)
    value = _total(W, b, X, y, False, split_every).mean_loss(W, reg)
    if not np.isfinite(value):
        raise_if_nonfinite(W=W, b=b)
    return value


# --- the estimators on dask arrays (softmax_ref/estimator.py calls these) -------------

#: The solvers that fit on dask arrays: each iteration is one distributed loss and
#: gradient over all of X (the minibatch solvers would gather rows at random).
DASK_SOLVERS = ("lbfgs",)


def _encode(y_c: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return np.searchsorted(classes, y_c).astype(np.intp)


def _client_active() -> bool:
    if "distributed" not in sys.modules:
        return False
    from distributed import default_client

    try:
        default_client()
    except ValueError:
        return False
    return True


def fit_data(estimator: Any, X: Any, y: Any, X_val: Any, y_val: Any) -> dict[str, Any]:
    """What ``fit`` needs from dask arrays X (N, D) and y (N,): checked, labels encoded, persisted.

    The classes are found on the workers (``da.unique``), the labels encoded
    chunk by chunk as indices into them; with a ``dask.distributed`` client
    active, X and the encoded labels are persisted on the workers once, so that
    every iteration of the fit reads them where they are. Without one, the graph
    is recomputed at each iteration (the threaded scheduler, e.g. on shards on disk).

    Example:
        >>> import dask.array as da
        >>> from softmax_ref import SoftmaxClassifier
        >>> X = da.from_array([[0.0], [1.0], [2.0], [3.0]], chunks=(2, 1))
        >>> data = fit_data(SoftmaxClassifier(), X, da.from_array(["a", "b", "b", "c"], chunks=2),
        ...                 None, None)
        >>> data["classes_"].tolist(), data["y"].compute().tolist()
        (['a', 'b', 'c'], [0, 1, 1, 2])
    """
    da = _dask_array()
    if estimator.solver not in DASK_SOLVERS:
        raise ValueError(
            f"solver={estimator.solver!r} needs X in memory; on dask arrays use one of "
            f"{', '.join(repr(s) for s in DASK_SOLVERS)}, or X.compute() first"
        )
    if estimator.early_stopping or X_val is not None or y_val is not None:
        raise ValueError(
            "early stopping is not available with dask arrays: set early_stopping=False "
            "(solver='lbfgs' minimises to the optimum)"
        )
    X = check_rows(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must hold real numbers; got a dask array of dtype {X.dtype}")
    X = X.astype(np.float64)
    y = _check_labels(y, X)
    classes = np.asarray(da.unique(y).compute())
    if classes.shape[0] < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes in y; "
            f"got {classes.shape[0]}: {classes.tolist()}"
        )
    y_enc = y.map_blocks(_encode, classes, dtype=np.intp)
    if _client_active():
        import dask

        X, y_enc = dask.persist(X, y_enc)
    return {"X": X, "y": y_enc, "classes_": classes, "n_features_in_": X.shape[1]}


def check_predict_rows(X: Any, n_features: int) -> Any:
    """Dask X (N, D) for ``predict*``: row-chunked, ``n_features`` columns, float64.

    Example:
        >>> import dask.array as da
        >>> check_predict_rows(da.ones((4, 2), chunks=(2, 2), dtype=int), 2).dtype
        dtype('float64')
    """
    X = check_rows(X)
    if X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but the model was fitted with {n_features}; "
            f"got a dask array of shape {X.shape}"
        )
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must hold real numbers; got a dask array of dtype {X.dtype}")
    return X.astype(np.float64)


def _take(index: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return classes[index]


def rowwise(fn: Any, F: Any) -> Any:
    """``fn`` over the rows of F: chunk by chunk when F is a dask array (it stays lazy).

    Example:
        >>> import numpy as np
        >>> rowwise(np.negative, np.array([[1.0, 2.0]]))
        array([[-1., -2.]])
    """
    if is_dask_array(F):
        return F.map_blocks(fn, dtype=F.dtype)
    return fn(F)


def labels_of(scores: Any, classes: np.ndarray) -> Any:
    """``classes[argmax_c scores]`` (N,): a dask array when the scores are one.

    Example:
        >>> import numpy as np
        >>> labels_of(np.array([[0.0, 1.0], [2.0, 1.0]]), np.array(["a", "b"])).tolist()
        ['b', 'a']
    """
    index = np.argmax(scores, axis=1)
    if is_dask_array(index):
        return index.map_blocks(_take, classes, dtype=classes.dtype)
    return classes[index]
