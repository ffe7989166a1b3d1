r"""Hessian-vector products of the linear softmax model, derived by hand.

The convention of the project (docs/hessian.md derives every line)::

    X (N, D)   y (N,)   W (D, C)   b (C,)   reg >= 0     a direction V_W (D, C), V_b (C,)
    P = softmax(X W + b)                     (N, C)
    S = X V_W + V_b                          (N, C)  the change of the scores along (V_W, V_b)
    R_n = (diag(p_n) - p_n p_n^T) s_n        (C,)    i.e. R = P * (S - rowsum(P * S))
    H[V]_W = X^T R / N + reg V_W             (D, C)
    H[V]_b = sum_n R_n / N                   (C,)    the bias is not regularised

The labels do not appear: the loss is linear in the one-hot Y, so its second
derivative is the softmax Jacobian alone. This is also why, for this model,
the Hessian equals the Gauss-Newton matrix and the Fisher information.

Three routes compute it, held to each other by the tests: :func:`hvp_naive`
(one sample at a time, the C x C block ``diag(p) - p p^T`` written out),
:func:`hvp` (one blocked pass over X, as the fast gradient core) and
:func:`hessian_operator` (many products at one point: the probabilities are
computed once and kept while they fit a fixed budget).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import wait
from typing import Any

import numpy as np

from softmax_ref._kernels import (
    MIN_WORK_FOR_THREADS,
    _pool,
    aligned,
    class_major_scores,
    default_block_rows,
    default_threads,
    gemm_sum,
    int_env,
    sub_gemm_rows,
)
from softmax_ref._validation import (
    as_float_array,
    check_finite,
    check_problem,
    raise_if_nonfinite,
)

__all__ = ["HessianOperator", "hessian_operator", "hvp", "hvp_naive", "linear_hessian"]

#: Bytes of cached probabilities a :class:`HessianOperator` may keep
#: (``$SOFTMAX_REF_HVP_CACHE_BYTES`` overrides it); above it each product
#: recomputes them block by block, so memory stays bounded whatever N is.
CACHE_ENV = "SOFTMAX_REF_HVP_CACHE_BYTES"
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024


def _check_direction(W: np.ndarray, V_W: Any, V_b: Any) -> tuple[np.ndarray, np.ndarray]:
    """``V_W`` (D, C) and ``V_b`` (C,) real and finite, shaped like W and b."""
    V_W = as_float_array("V_W", V_W, 2)
    V_b = as_float_array("V_b", V_b, 1)
    if V_W.shape != W.shape:
        raise ValueError(
            f"V_W must have the shape of W, {W.shape}; got an array of shape {V_W.shape} "
            f"and dtype {V_W.dtype}"
        )
    if V_b.shape != (W.shape[1],):
        raise ValueError(
            f"V_b must have the shape of b, ({W.shape[1]},); got an array of shape "
            f"{V_b.shape} and dtype {V_b.dtype}"
        )
    check_finite(V_W=V_W, V_b=V_b)
    return V_W, V_b


def _problem_and_direction(
    W: Any, b: Any, X: Any, y: Any, reg: Any, V_W: Any, V_b: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, np.ndarray, np.ndarray]:
    W, b, X, _, reg = check_problem(W, b, X, y, reg)
    V_W, V_b = _check_direction(W, V_W, V_b)
    # float32 only when the point, the data and the direction all are.
    dtype = W.dtype if (V_W.dtype == W.dtype and V_b.dtype == W.dtype) else np.dtype(np.float64)
    return (
        W.astype(dtype, copy=False),
        b.astype(dtype, copy=False),
        X.astype(dtype, copy=False),
        reg,
        V_W.astype(dtype, copy=False),
        V_b.astype(dtype, copy=False),
    )


def _probabilities(Xb: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``P^T = softmax(X_b W + b)^T`` class-major (C, B), and where each sample's top score is.

    Class-major as in softmax_ref/_kernels.py: the reductions over classes run
    over contiguous rows of length B, and the GEMMs take the orientation
    OpenBLAS is fastest at for these skinny shapes. The second array (C, B) is
    True at each sample's largest score(s).
    """
    F = np.empty((W.shape[1], Xb.shape[0]), dtype=W.dtype)
    class_major_scores(W, b, Xb, F, sub_gemm_rows(*W.shape))
    m = np.max(F, axis=0)
    top = F == m
    F -= m
    np.exp(F, out=F)
    F /= np.add.reduce(F, axis=0)
    return F, top


def _residual(
    P: np.ndarray, top: np.ndarray, Xb: np.ndarray, V_W: np.ndarray, V_b: np.ndarray
) -> np.ndarray:
    """``R^T``, class-major (C, B): ``R_n = (diag(p_n) - p_n p_n^T) s_n`` for each sample."""
    S = np.empty((V_W.shape[1], Xb.shape[0]), dtype=V_W.dtype)
    class_major_scores(V_W, V_b, Xb, S, sub_gemm_rows(*V_W.shape))
    # R_n = p_n * (s_n - <p_n, s_n>) is unchanged by adding a constant to s_n; taking
    # s_n's entry at the top class (the largest such, for tied classes) off first
    # makes the dominant term of <p_n, s_n> zero, and a direction that adds one value
    # to every class's score gives R = 0 exactly (the null space of the Hessian).
    S -= np.max(np.where(top, S, -np.inf), axis=0)
    mean = np.add.reduce(P * S, axis=0)
    S -= mean
    S *= P
    return S


class _Accumulator:
    """``X^T R`` (D, C) and ``sum_n R_n`` (C,) over blocks of rows, on a fixed set of lanes."""

    def __init__(self, n_rows: int, n_features: int, n_classes: int, dtype: np.dtype) -> None:
        self.block_rows = min(n_rows, default_block_rows(n_features, dtype.itemsize))
        # The kernel's rule: wide X gets one lane (its GEMMs dominate and BLAS
        # threads them), narrow X two lanes over blocks.
        n_lanes = default_threads(n_features)
        if n_rows * n_classes * (n_features + 16) < MIN_WORK_FOR_THREADS:
            n_lanes = 1
        self.n_blocks = -(-n_rows // self.block_rows)
        self.n_lanes = max(1, min(n_lanes, self.n_blocks))
        self.n_rows = n_rows
        self.shape = (n_features, n_classes)
        self.dtype = dtype

    def blocks(self, lane: int):
        B = self.block_rows
        for j in range(lane, self.n_blocks, self.n_lanes):
            yield j, slice(j * B, min((j + 1) * B, self.n_rows))

    def run(self, residual_of_block: Callable[[int, slice], tuple[np.ndarray, np.ndarray]]):
        """Sum ``R_b^T X_b`` (C, D) and ``R_b``'s columns over every block; returns both sums."""

        sub_rows = sub_gemm_rows(*self.shape)

        def lane_sum(lane: int) -> tuple[np.ndarray, np.ndarray]:
            GX = np.zeros(self.shape[::-1], dtype=self.dtype)
            col = np.zeros(self.shape[1], dtype=np.float64)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for j, rows in self.blocks(lane):
                    Xb, RT = residual_of_block(j, rows)
                    gemm_sum(RT, Xb, sub_rows, GX, accumulate=True)
                    col += RT.sum(axis=1, dtype=np.float64)
            return GX, col

        # BLAS's thread count is left as the caller set it (a process-wide setting,
        # which a library call must not change under the caller's other threads).
        if self.n_lanes == 1:
            return lane_sum(0)
        futures = [_pool(self.n_lanes).submit(lane_sum, k) for k in range(self.n_lanes)]
        wait(futures)
        parts = [f.result() for f in futures]
        # Lanes are added in order: the result is the same from run to run.
        GX, col = parts[0]
        for g, c in parts[1:]:
            GX += g
            col += c
        return GX, col


def _finish(
    GX: np.ndarray, col: np.ndarray, n: int, reg: float, V_W: np.ndarray, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(over="ignore", invalid="ignore"):
        HV_W = (GX.T / n + reg * V_W).astype(dtype, copy=False)
        HV_b = (col / n).astype(dtype, copy=False)
    return HV_W, HV_b


def _check_out(HV_W: np.ndarray, HV_b: np.ndarray, **inputs: np.ndarray) -> None:
    if not (np.isfinite(HV_W).all() and np.isfinite(HV_b).all()):
        raise_if_nonfinite(**inputs)


def hvp(
    W: Any, b: Any, X: Any, y: Any, reg: float, V_W: Any, V_b: Any
) -> tuple[np.ndarray, np.ndarray]:
    r"""The Hessian of the loss at (W, b) times the direction (V_W, V_b).

    .. math::
        \begin{gathered}
        S = X V_W + \mathbf 1 V_b^\top, \qquad
        R_n = \big(\operatorname{diag}(p_n) - p_n p_n^\top\big) s_n, \\
        H[V]_W = \frac1N X^\top R + \lambda V_W, \qquad
        H[V]_b = \frac1N \sum_n R_n
        \end{gathered}

    with :math:`P = \operatorname{softmax}(XW + b)`. One pass over X in blocks
    of rows, as :func:`softmax_ref.loss_and_grad` (the same block size and
    threads): extra memory is a block of scores and a (D, C) sum per thread,
    whatever N is. For many products at one point, :func:`hessian_operator`
    computes the probabilities once.

    Args:
        W: weights ``(D, C)``; b: biases ``(C,)``; X: samples ``(N, D)``;
        y: labels ``(N,)`` in ``[0, C)`` (validated; the Hessian does not depend on them);
        reg: :math:`\lambda \ge 0`.
        V_W: the direction's weight part, shape ``(D, C)``.
        V_b: the direction's bias part, shape ``(C,)``.

    Returns:
        ``(HV_W, HV_b)`` of shapes ``(D, C)`` and ``(C,)``: float32 when W, b,
        X, V_W and V_b are all float32, float64 otherwise.

    Raises:
        TypeError, ValueError: as :func:`softmax_ref.loss_and_grad`, and for a
            direction of the wrong shape or dtype or holding NaN or inf, naming
            ``V_W`` or ``V_b``.

    Example:
        Two equally likely classes (P = 1/2), one sample x = 1: the score
        change s = (1, 0) gives R = (1/4, -1/4).

        >>> import numpy as np
        >>> HW, Hb = hvp(np.zeros((1, 2)), np.zeros(2), np.ones((1, 1)), np.array([0]), 0.1,
        ...              np.array([[1.0, 0.0]]), np.zeros(2))
        >>> HW, Hb          # X^T R / N + 0.1 V_W, and R
        (array([[ 0.35, -0.25]]), array([ 0.25, -0.25]))
    """
    W, b, X, reg, V_W, V_b = _problem_and_direction(W, b, X, y, reg, V_W, V_b)
    n, d = X.shape
    acc = _Accumulator(n, d, W.shape[1], W.dtype)

    def block(j: int, rows: slice) -> tuple[np.ndarray, np.ndarray]:
        Xb = aligned(X[rows])
        P, top = _probabilities(Xb, W, b)
        return Xb, _residual(P, top, Xb, V_W, V_b)

    GX, col = acc.run(block)
    HV_W, HV_b = _finish(GX, col, n, reg, V_W, W.dtype)
    _check_out(HV_W, HV_b, X=X, W=W, b=b)
    return HV_W, HV_b


def hvp_naive(
    W: Any, b: Any, X: Any, y: Any, reg: float, V_W: Any, V_b: Any
) -> tuple[np.ndarray, np.ndarray]:
    r"""The Hessian-vector product one sample at a time, the derivation laid out as loops.

    For sample :math:`x_n` with probabilities :math:`p = \operatorname{softmax}(f_n)`,
    the second derivative of :math:`L_n = \operatorname{logsumexp}(f) - f_{y_n}`
    in the scores is the C x C block

    .. math::
        \frac{\partial^2 L_n}{\partial f_i\,\partial f_j} =
        \begin{cases} p_i (1 - p_i) & i = j \\ -p_i p_j & i \ne j \end{cases}

    and the chain rule through :math:`f = x_n W + b` gives
    :math:`R_{n,i} = \sum_j \partial^2 L_n / \partial f_i \partial f_j\; s_j`
    with :math:`s_j = x_n \cdot V_{W,:,j} + V_{b,j}`; then
    :math:`H[V]_{W,:,i} \mathrel{+}= x_n R_{n,i} / N`, :math:`H[V]_{b,i}
    \mathrel{+}= R_{n,i} / N`, and :math:`\lambda V_W` from the penalty.
    Slow, and meant to be: :func:`hvp` is tested against it. Sums in float64.

    Args and returns: as :func:`hvp`: W ``(D, C)``, b ``(C,)``, X ``(N, D)``, y
    ``(N,)``, V_W ``(D, C)``, V_b ``(C,)``; returns HV_W ``(D, C)`` and HV_b ``(C,)``.

    Example:
        >>> import numpy as np
        >>> hvp_naive(np.zeros((1, 2)), np.zeros(2), np.ones((1, 1)), np.array([0]), 0.1,
        ...           np.array([[1.0, 0.0]]), np.zeros(2))
        (array([[ 0.35, -0.25]]), array([ 0.25, -0.25]))
    """
    W, b, X, reg, V_W, V_b = _problem_and_direction(W, b, X, y, reg, V_W, V_b)
    n, d = X.shape
    c = W.shape[1]
    W64, b64, X64, VW64, Vb64 = (a.astype(np.float64) for a in (W, b, X, V_W, V_b))
    HV_W = np.zeros((d, c))
    HV_b = np.zeros(c)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(n):
            x = X64[k]
            f = np.array([x @ W64[:, i] + b64[i] for i in range(c)])
            e = np.exp(f - f.max())
            p = e / e.sum()
            s = np.array([x @ VW64[:, j] + Vb64[j] for j in range(c)])
            # The derivation's case split, entry by entry: p_i (1 - p_i) on the
            # diagonal, -p_i p_j off it.
            block = np.array(
                [
                    [p[i] * (1.0 - p[i]) if i == j else -p[i] * p[j] for j in range(c)]
                    for i in range(c)
                ]
            )
            R = block @ s
            for i in range(c):
                HV_W[:, i] += R[i] * x
                HV_b[i] += R[i]
        HV_W /= n
        HV_b /= n
        HV_W += reg * VW64
    out = HV_W.astype(W.dtype), HV_b.astype(W.dtype)
    _check_out(*out, X=X, W=W, b=b)
    return out


def _cache_budget() -> int:
    n = int_env(CACHE_ENV, 0)
    return DEFAULT_CACHE_BYTES if n is None else n


class HessianOperator:
    r"""The Hessian at one point as a linear operator on flat vectors of size D C + C.

    Built by :func:`hessian_operator`. A flat vector is ``V_W.ravel()`` (row
    major, (D, C)) followed by ``V_b`` (C,); :meth:`matvec` maps it to the flat
    :math:`H v`. ``shape`` and ``dtype`` make it a
    ``scipy.sparse.linalg.LinearOperator`` through ``aslinearoperator``, and
    SciPy's ``minimize(..., hessp=...)`` can call :meth:`hessp` directly.

    The probabilities at the point depend on it alone, so they are computed
    once, block by block, and kept while they take no more than
    ``$SOFTMAX_REF_HVP_CACHE_BYTES`` (default 64 MiB); beyond that each
    product recomputes them per block, so the extra memory is bounded by the
    larger of that budget and one block, whatever N is.

    Example:
        >>> import numpy as np
        >>> op = hessian_operator(np.zeros((1, 2)), np.zeros(2), np.ones((1, 1)), np.array([0]),
        ...                       0.1)
        >>> op.shape, op.matvec(np.array([1.0, 0.0, 0.0, 0.0]))   # [V_W | V_b]
        ((4, 4), array([ 0.35, -0.25,  0.25, -0.25]))
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, X: np.ndarray, reg: float) -> None:
        self.W, self.b, self.X, self.reg = W, b, X, reg
        d, c = W.shape
        size = d * c + c
        self.shape = (size, size)
        self.dtype = W.dtype
        self._acc = _Accumulator(X.shape[0], d, c, W.dtype)
        self._cache: list[tuple[np.ndarray, np.ndarray]] | None = None
        if X.shape[0] * c * W.dtype.itemsize <= _cache_budget():
            B = self._acc.block_rows
            with np.errstate(over="ignore", invalid="ignore"):
                self._cache = [
                    _probabilities(aligned(X[j * B : (j + 1) * B]), W, b)
                    for j in range(self._acc.n_blocks)
                ]

    def __call__(self, V_W: Any, V_b: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(HV_W, HV_b)`` for a direction ``V_W`` (D, C), ``V_b`` (C,), as :func:`hvp`.

        Example:
            >>> import numpy as np
            >>> op = hessian_operator(np.zeros((1, 2)), np.zeros(2), np.ones((1, 1)),
            ...                       np.array([0]), 0.0)
            >>> op(np.zeros((1, 2)), np.array([1.0, 1.0]))   # the same change for every class
            (array([[0., 0.]]), array([0., 0.]))
        """
        V_W, V_b = _check_direction(self.W, V_W, V_b)
        V_W, V_b = V_W.astype(self.dtype, copy=False), V_b.astype(self.dtype, copy=False)
        X, W, b = self.X, self.W, self.b

        def block(j: int, rows: slice) -> tuple[np.ndarray, np.ndarray]:
            Xb = aligned(X[rows])
            P, top = self._cache[j] if self._cache is not None else _probabilities(Xb, W, b)
            return Xb, _residual(P, top, Xb, V_W, V_b)

        GX, col = self._acc.run(block)
        HV_W, HV_b = _finish(GX, col, X.shape[0], self.reg, V_W, self.dtype)
        _check_out(HV_W, HV_b, X=X, W=W, b=b)
        return HV_W, HV_b

    def matvec(self, v: Any) -> np.ndarray:
        """:math:`H v` for a flat ``v`` of size D C + C (a column ``(n, 1)`` too); same shape back.

        Example:
            >>> import numpy as np
            >>> op = hessian_operator(np.zeros((1, 2)), np.zeros(2), np.ones((1, 1)),
            ...                       np.array([0]), 0.0)
            >>> op.matvec(np.array([0.0, 0.0, 1.0, -1.0]))   # R = (1/2, -1/2), x = 1
            array([ 0.5, -0.5,  0.5, -0.5])
        """
        v = np.asarray(v)
        if v.shape not in ((self.shape[0],), (self.shape[0], 1)):
            raise ValueError(
                f"v must be a flat vector of size D C + C = {self.shape[0]}; got shape {v.shape}"
            )
        d, c = self.W.shape
        flat = v.reshape(-1)
        HV_W, HV_b = self(flat[: d * c].reshape(d, c), flat[d * c :])
        return np.concatenate([HV_W.ravel(), HV_b]).reshape(v.shape)

    rmatvec = matvec  # the Hessian is symmetric

    def hessp(self, x: Any, v: Any) -> np.ndarray:
        """SciPy's ``hessp(x, v)`` at this operator's point: ``x`` is ignored, returns :math:`Hv`.

        Example:
            >>> import numpy as np
            >>> op = hessian_operator(np.zeros((1, 2)), np.zeros(2), np.ones((1, 1)),
            ...                       np.array([0]), 0.0)
            >>> op.hessp(None, np.array([0.0, 0.0, 1.0, -1.0]))
            array([ 0.5, -0.5,  0.5, -0.5])
        """
        return self.matvec(v)


def hessian_operator(W: Any, b: Any, X: Any, y: Any, reg: float = 0.0) -> HessianOperator:
    r"""The Hessian at (W, b) as an operator for many products: probabilities computed once.

    .. math::
        v = (\operatorname{vec} V_W, V_b) \mapsto H v, \qquad
        H v = \Big(\operatorname{vec}\big(\tfrac1N X^\top R + \lambda V_W\big),\
                   \tfrac1N \textstyle\sum_n R_n\Big)

    with :math:`R` as in :func:`hvp`; ``H`` is (DC + C) x (DC + C), symmetric
    and positive semi-definite. See :class:`HessianOperator` for the flat
    layout and the memory bound.

    Args:
        W, b, X, y, reg: the point and the problem, as :func:`hvp`.

    Returns:
        A :class:`HessianOperator`.

    Example:
        >>> import numpy as np
        >>> from scipy.sparse.linalg import aslinearoperator
        >>> H = aslinearoperator(hessian_operator(np.zeros((1, 2)), np.zeros(2),
        ...                                       np.ones((1, 1)), np.array([0])))
        >>> H @ np.array([0.0, 0.0, 1.0, 0.0])
        array([ 0.25, -0.25,  0.25, -0.25])
    """
    W, b, X, _, reg = check_problem(W, b, X, y, reg)
    return HessianOperator(W, b, X, reg)


def linear_hessian(params: dict[str, np.ndarray], X: Any, y: Any, reg: float = 0.0) -> Any:
    r"""The Hessian at ``params = {"W": (D, C), "b": (C,)}`` as ``vector -> product`` (dicts).

    .. math::
        (V_W, V_b) \mapsto \Big(\tfrac1N X^\top R + \lambda V_W,\ \tfrac1N \textstyle\sum_n R_n\Big)

    The params-dict form the Newton solvers of :func:`softmax_ref.training.train`
    take: one :func:`hessian_operator` per point (probabilities computed once),
    applied to each vector ``{"W": (D, C), "b": (C,)}`` the solver asks about.

    Example:
        >>> import numpy as np
        >>> H = linear_hessian({"W": np.zeros((1, 2)), "b": np.zeros(2)}, np.ones((1, 1)),
        ...                    np.array([0]), 0.1)
        >>> H({"W": np.array([[1.0, 0.0]]), "b": np.zeros(2)})
        {'W': array([[ 0.35, -0.25]]), 'b': array([ 0.25, -0.25])}
    """
    op = hessian_operator(params["W"], params["b"], X, y, reg)

    def product(vector: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        HW, Hb = op(vector["W"], vector["b"])
        return {"W": HW, "b": Hb}

    return product
