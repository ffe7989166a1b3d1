"""Hypothesis strategies of one-hidden-layer ReLU network problems, one per family.

A two-layer problem adds the hidden size H (drawn independently of D and C, so that
a transposed W1 or W2 is a shape error in most draws; the ``square`` family makes
H = C on purpose, where a missing transpose of W2 is a value error instead).

The ReLU makes the sign of each pre-activation Z = X W1 + b1 matter: the analytic
side and the oracle must put every Z on the same side of 0. Where |Z| is within
rounding of 0 (a cancellation), the two may round it to opposite signs (different
summation orders, FMA) and their gradients then differ by a whole term: not a fault
of either. Every family therefore keeps each Z either clearly away from 0
(|Z| > Z_MARGIN eps A, with A = |X| |W1| + |b1| the size of Z's terms) or exactly 0
in any order of summation: all of its terms 0, or all of them small integers (the
``kinks`` family), whose sums are exact.

Shapes come from :func:`two_layer_dims`; arrays, labels and reg from the
building blocks of :mod:`verification.strategies.blocks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .blocks import (  # noqa: F401  (find_example: used by the examples)
    LARGE_REG,
    MAX_C,
    MAX_D,
    MAX_N,
    _array_code,
    _readonly,
    find_example,
    float_arrays,
    labels,
    regs,
)

__all__ = [
    "MAX_H",
    "TWO_LAYER_FAMILIES",
    "TwoLayerProblem",
    "place_kinks",
    "two_layer_dead_unit_problems",
    "two_layer_dims",
    "two_layer_extreme_problems",
    "two_layer_float32_problems",
    "two_layer_kink_problems",
    "two_layer_large_reg_problems",
    "two_layer_near_kink_problems",
    "two_layer_ordinary_problems",
    "two_layer_problems",
    "two_layer_single_sample_problems",
    "two_layer_square_problems",
    "z_signs_are_robust",
]

MAX_H = 8
"""Hidden units at most; the oracle pads H to 8, so every problem shares one compile."""

# Bounds of the ordinary two-layer family: |Z| <= 3 * 6 + 2 = 20 and |F| <= 20 * 8 + 2,
# moderate for most draws (the scores are sums of terms of mixed signs).
X2_BOUND = 3.0
W1_BOUND = 1.0
B1_BOUND = 2.0
W2_BOUND = 1.0
B2_BOUND = 2.0

# Z within this many eps of its terms' size counts as "at 0 up to rounding".
Z_MARGIN = 64.0

# The near_kinks family puts chosen pre-activations at +-delta with delta in this
# range: far above rounding (|Z| terms are <= ~20, so rounding is <= ~1e-13), far
# below the finite-difference step (eps^(1/5) ~ 7e-4), so FD stencils straddle them.
NEAR_KINK = (1e-9, 1e-5)


@dataclass(frozen=True, eq=False, repr=False)
class TwoLayerProblem:
    """One two-layer network problem: the arguments of ``two_layer.loss_and_grad``.

    Shapes: ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,), ``X`` (N, D),
    ``y`` (N,) integers in ``[0, C)``; ``reg >= 0``. The float arrays share a dtype.
    Its ``repr`` rebuilds it bit for bit, for ``@example(...)``.

    Example:
        >>> p = TwoLayerProblem(W1=np.ones((2, 3)), b1=np.zeros(3), W2=np.ones((3, 4)),
        ...                     b2=np.zeros(4), X=np.ones((5, 2)), y=np.zeros(5, dtype=int),
        ...                     reg=0.0, family="ordinary")
        >>> p.shape, sorted(p.params)
        ((5, 2, 3, 4), ['W1', 'W2', 'b1', 'b2'])
    """

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    X: np.ndarray
    y: np.ndarray
    reg: float
    family: str

    @property
    def params(self) -> dict[str, np.ndarray]:
        """``{"W1", "b1", "W2", "b2"}``, the first argument of ``loss_and_grad``.

        Shapes ``(D, H)``, ``(H,)``, ``(H, C)``, ``(C,)``; the arrays themselves, not copies.

        Example:
            >>> from verification import oracle
            >>> p = TwoLayerProblem(W1=np.ones((2, 3)), b1=np.zeros(3), W2=np.zeros((3, 4)),
            ...                     b2=np.zeros(4), X=np.ones((5, 2)), y=np.zeros(5, dtype=int),
            ...                     reg=0.0, family="ordinary")
            >>> {k: v.shape for k, v in p.params.items()}
            {'W1': (2, 3), 'b1': (3,), 'W2': (3, 4), 'b2': (4,)}
            >>> round(oracle.two_layer_loss(p.params, p.X, p.y, p.reg), 6)  # W2 = 0: log 4
            1.386294
        """
        return {"W1": self.W1, "b1": self.b1, "W2": self.W2, "b2": self.b2}

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(N, D, H, C)``: samples, features, hidden units, classes.

        Example:
            >>> p = TwoLayerProblem(W1=np.ones((2, 3)), b1=np.zeros(3), W2=np.ones((3, 4)),
            ...                     b2=np.zeros(4), X=np.ones((5, 2)), y=np.zeros(5, dtype=int),
            ...                     reg=0.0, family="ordinary")
            >>> p.shape
            (5, 2, 3, 4)
        """
        return self.X.shape[0], self.X.shape[1], self.W1.shape[1], self.W2.shape[1]

    @property
    def dtype(self) -> np.dtype:
        """The float dtype of the arrays.

        Example:
            >>> z = lambda *shape: np.zeros(shape, np.float32)
            >>> TwoLayerProblem(W1=z(1, 2), b1=z(2), W2=z(2, 2), b2=z(2), X=z(1, 1),
            ...                 y=np.array([0]), reg=0.0, family="float32").dtype
            dtype('float32')
        """
        return self.X.dtype

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def __repr__(self) -> str:
        arrays = ", ".join(
            f"{k}={_array_code(getattr(self, k))}" for k in ("W1", "b1", "W2", "b2", "X", "y")
        )
        return f"TwoLayerProblem({arrays}, reg={self.reg!r}, family={self.family!r})"


def two_layer_dims(
    n: tuple[int, int] = (1, MAX_N),
    d: tuple[int, int] = (1, MAX_D),
    h: tuple[int, int] = (1, MAX_H),
    c: tuple[int, int] = (2, MAX_C),
) -> st.SearchStrategy[tuple[int, int, int, int]]:
    r"""Shapes ``(N, D, H, C)``, each size drawn independently from its inclusive range.

    .. math::
        N \in [n_0, n_1], \quad D \in [d_0, d_1], \quad H \in [h_0, h_1], \quad
        C \in [c_0, c_1]

    with the defaults :math:`1 \le N \le 20`, :math:`1 \le D \le 6`,
    :math:`1 \le H \le 8`, :math:`2 \le C \le 6`.

    Example:
        >>> find_example(two_layer_dims(h=(3, 3)))[2]
        3
        >>> n, d, h, c = find_example(two_layer_dims(), lambda s: s[3] > 2)
        >>> 1 <= n <= MAX_N and 1 <= d <= MAX_D and 1 <= h <= MAX_H and 2 < c <= MAX_C
        True
    """
    return st.tuples(st.integers(*n), st.integers(*d), st.integers(*h), st.integers(*c))


def z_signs_are_robust(X: np.ndarray, W1: np.ndarray, b1: np.ndarray) -> bool:
    r"""True when no pre-activation is within rounding of 0 unless it is 0 in any summation.

    Each ``Z[n, j]`` must be clearly away from 0 (``|Z| > Z_MARGIN eps A``) or
    have only zero terms, or only integer terms (then every order of summation,
    with or without FMA, gives the same exact integer). See the section's notes.
    For X ``(N, D)``, W1 ``(D, H)`` and b1 ``(H,)``, every entry of the
    ``(N, H)`` arrays

    .. math::
        Z = X W_1 + b_1, \qquad A = |X|\,|W_1| + |b_1|

    must satisfy :math:`|Z_{nj}| > 64\, \epsilon A_{nj}`, or :math:`A_{nj} = 0`,
    or have integer terms only with :math:`A_{nj} < 2^{24}`
    (:math:`\epsilon` the machine epsilon of the inputs' dtype).

    Example:
        >>> W1 = np.array([[0.1], [0.2], [-0.3]])
        >>> z_signs_are_robust(np.ones((1, 3)), W1, np.zeros(1))   # 0.1 + 0.2 - 0.3
        False
        >>> z_signs_are_robust(np.ones((1, 3)), np.array([[1.0], [2.0], [-3.0]]), np.zeros(1))
        True
    """
    X64, W64, b64 = (np.asarray(a, dtype=np.float64) for a in (X, W1, b1))
    eps = float(np.finfo(np.result_type(X, W1, b1)).eps)
    Z = X64 @ W64 + b64
    A = np.abs(X64) @ np.abs(W64) + np.abs(b64)
    clear = np.abs(Z) > Z_MARGIN * eps * A
    zero_terms = A == 0
    integral = (
        np.all(X64 == np.round(X64), axis=1)[:, None]
        & np.all(W64 == np.round(W64), axis=0)[None, :]
        & (b64 == np.round(b64))[None, :]
        & (A < 2.0**24)
    )
    return bool(np.all(clear | zero_terms | integral))


def place_kinks(
    X: np.ndarray, W1: np.ndarray, b1: np.ndarray, units: Any, samples: Any, offsets: Any = None
) -> np.ndarray:
    r"""A new ``b1`` that puts ``Z[samples[i], units[i]]`` at ``offsets[i]`` (default: exactly 0).

    .. math::
        \begin{gathered}
        b_{1,j} = o_i - X_{n,:} \cdot W_{1,:,j}
        \quad \Longrightarrow \quad Z_{nj} = X_{n,:} \cdot W_{1,:,j} + b_{1,j} = o_i,
        \\ j = \texttt{units}[i], \ n = \texttt{samples}[i]
        \end{gathered}

    For X ``(N, D)``, W1 ``(D, H)`` and b1 ``(H,)``; returns ``(H,)``. With
    integer X and W1 the dot product is an exact integer, so the offset 0
    gives ``Z[n, j] == 0`` exactly, in any order of summation. A unit listed
    twice keeps the last placement.

    Example:
        >>> X = np.array([[1.0, 2.0], [3.0, -1.0]]); W1 = np.array([[1.0, 0.0], [2.0, 1.0]])
        >>> b1 = place_kinks(X, W1, np.zeros(2), units=[0, 1], samples=[1, 0])
        >>> b1, (X @ W1 + b1)[[1, 0], [0, 1]]
        (array([-1., -2.]), array([0., 0.]))
    """
    out = np.array(b1, dtype=np.result_type(b1, X, W1), copy=True)
    offsets = np.zeros(len(units)) if offsets is None else np.asarray(offsets, dtype=np.float64)
    for j, n, off in zip(units, samples, offsets, strict=True):
        out[j] = off - X[n] @ W1[:, j]
    return out


def _two_layer_problem(
    draw: st.DrawFn,
    family: str,
    shape: tuple[int, int, int, int],
    *,
    dtype: Any = np.float64,
    reg: st.SearchStrategy[float] | None = None,
) -> TwoLayerProblem:
    n, d, h, c = shape
    X = draw(float_arrays((n, d), X2_BOUND, dtype))
    W1 = draw(float_arrays((d, h), W1_BOUND, dtype))
    b1 = draw(float_arrays(h, B1_BOUND, dtype))
    assume(z_signs_are_robust(X, W1, b1))
    return TwoLayerProblem(
        W1=W1,
        b1=b1,
        W2=draw(float_arrays((h, c), W2_BOUND, dtype)),
        b2=draw(float_arrays(c, B2_BOUND, dtype)),
        X=X,
        y=draw(labels(n, c)),
        reg=draw(regs(dtype=dtype) if reg is None else reg),
        family=family,
    )


@st.composite
def two_layer_ordinary_problems(draw: st.DrawFn) -> TwoLayerProblem:
    r"""Moderate problems: |X| <= 3, |W1|, |W2| <= 1, |b1|, |b2| <= 2, reg 0 or in [0, 1].

    .. math::
        |X| \le 3, \quad |W_1|, |W_2| \le 1, \quad |b_1|, |b_2| \le 2, \quad
        \lambda \in [0, 1], \qquad |Z_{nj}| \le 3 D + 2 \le 20

    entrywise, and every pre-activation :math:`Z = X W_1 + b_1` robust in sign
    (:func:`z_signs_are_robust`). Shapes from :func:`two_layer_dims`: W1
    ``(D, H)``, b1 ``(H,)``, W2 ``(H, C)``, b2 ``(C,)``, X ``(N, D)``, y ``(N,)``.

    Example:
        >>> p = find_example(two_layer_ordinary_problems(), lambda p: min(p.shape) >= 2)
        >>> n, d, h, c = p.shape
        >>> p.family, {k: v.shape for k, v in p.params.items()} == {
        ...     "W1": (d, h), "b1": (h,), "W2": (h, c), "b2": (c,)}
        ('ordinary', True)
        >>> bool(np.abs(p.X @ p.W1 + p.b1).max() <= 20)
        True
    """
    return _two_layer_problem(draw, "ordinary", draw(two_layer_dims()))


@st.composite
def two_layer_square_problems(draw: st.DrawFn) -> TwoLayerProblem:
    r"""H = C (and D = H half the time): W2 is square, so a missing transpose is no shape error.

    .. math::
        H = C \ \Longrightarrow \ W_2 \in \mathbb R^{C \times C}, \qquad
        D = H \ \Longrightarrow \ W_1 \in \mathbb R^{H \times H}

    Bounds as for :func:`two_layer_ordinary_problems`.

    Example:
        >>> p = find_example(two_layer_square_problems())
        >>> n, d, h, c = p.shape
        >>> p.family, h == c, p.W2.shape == (c, c)
        ('square', True, True)
    """
    n, d, _, c = draw(two_layer_dims(h=(2, MAX_C)))
    if draw(st.booleans()):
        d = c
    return _two_layer_problem(draw, "square", (n, d, c, c))


@st.composite
def two_layer_kink_problems(draw: st.DrawFn) -> TwoLayerProblem:
    r"""Some pre-activations exactly 0: the ReLU's kink, where FD straddles two slopes.

    X and W1 are small integers, so ``X W1`` is exact; :func:`place_kinks` sets
    ``b1`` so that each chosen unit's pre-activation is exactly 0 for one chosen
    sample. W2 and b2 are ordinary floats.

    .. math::
        \begin{gathered}
        X_{nd} \in \{-3, \dots, 3\}, \quad W_{1,dj} \in \{-2, \dots, 2\},
        \\ Z_{n_i j_i} = 0 \ \text{ exactly, for each chosen unit } j_i
        \end{gathered}

    Shapes as for :func:`two_layer_ordinary_problems`.

    Example:
        >>> p = find_example(two_layer_kink_problems(), lambda p: p.shape[2] >= 2)
        >>> Z = p.X @ p.W1 + p.b1
        >>> p.family, bool((Z == 0).any()), bool((p.X == np.round(p.X)).all())
        ('kinks', True, True)
    """
    n, d, h, c = draw(two_layer_dims())
    ints = st.integers(-3, 3).map(float)
    X = _readonly(draw(hnp.arrays(np.float64, (n, d), elements=ints)))
    W1 = _readonly(draw(hnp.arrays(np.float64, (d, h), elements=st.integers(-2, 2).map(float))))
    units = draw(st.lists(st.integers(0, h - 1), min_size=1, max_size=h, unique=True))
    samples = [draw(st.integers(0, n - 1)) for _ in units]
    b1 = np.array(draw(hnp.arrays(np.float64, h, elements=ints)))
    b1 = _readonly(place_kinks(X, W1, b1, units, samples))
    return TwoLayerProblem(
        W1=W1,
        b1=b1,
        W2=draw(float_arrays((h, c), W2_BOUND)),
        b2=draw(float_arrays(c, B2_BOUND)),
        X=X,
        y=draw(labels(n, c)),
        reg=draw(regs()),
        family="kinks",
    )


@st.composite
def two_layer_near_kink_problems(draw: st.DrawFn) -> TwoLayerProblem:
    r"""Some pre-activations at +-delta, delta in [1e-9, 1e-5]: inside the FD stencil's reach.

    Built like :func:`two_layer_kink_problems` (integer X and W1), with the
    chosen pre-activations moved off 0 by delta, far above rounding.

    .. math::
        Z_{n_i j_i} = \pm \delta_i, \qquad \delta_i \in [10^{-9}, 10^{-5}]

    (far below the finite-difference step, about :math:`7 \cdot 10^{-4}`).
    Shapes as for :func:`two_layer_ordinary_problems`.

    Example:
        >>> p = find_example(two_layer_near_kink_problems())
        >>> Z = np.abs(p.X @ p.W1 + p.b1)   # some |Z| near 0, not at 0
        >>> p.family, bool(((Z > 0.5e-9) & (Z < 2e-5)).any())
        ('near_kinks', True)
    """
    n, d, h, c = draw(two_layer_dims())
    ints = st.integers(-3, 3).map(float)
    X = _readonly(draw(hnp.arrays(np.float64, (n, d), elements=ints)))
    W1 = _readonly(draw(hnp.arrays(np.float64, (d, h), elements=st.integers(-2, 2).map(float))))
    units = draw(st.lists(st.integers(0, h - 1), min_size=1, max_size=h, unique=True))
    samples = [draw(st.integers(0, n - 1)) for _ in units]
    deltas = [draw(st.floats(*NEAR_KINK)) * draw(st.sampled_from([-1.0, 1.0])) for _ in units]
    b1 = _readonly(place_kinks(X, W1, np.zeros(h), units, samples, deltas))
    assume(z_signs_are_robust(X, W1, b1))
    return TwoLayerProblem(
        W1=W1,
        b1=b1,
        W2=draw(float_arrays((h, c), W2_BOUND)),
        b2=draw(float_arrays(c, B2_BOUND)),
        X=X,
        y=draw(labels(n, c)),
        reg=draw(regs()),
        family="near_kinks",
    )


@st.composite
def two_layer_dead_unit_problems(draw: st.DrawFn) -> TwoLayerProblem:
    r"""At least one hidden unit is off (Z < 0) for every sample: it gets only the penalty.

    .. math::
        \exists\, j: \ Z_{nj} < 0 \ \text{ for all } n
        \quad \Longrightarrow \quad
        \frac{\partial L}{\partial W_{1,:,j}} = \lambda W_{1,:,j}, \quad
        \frac{\partial L}{\partial b_{1,j}} = 0

    (the bias puts that unit's :math:`Z` at -1 or below, up to rounding).
    Shapes as for :func:`two_layer_ordinary_problems`.

    Example:
        >>> p = find_example(two_layer_dead_unit_problems())
        >>> Z = p.X @ p.W1 + p.b1
        >>> p.family, bool((Z < 0).all(axis=0).any())
        ('dead_unit', True)
    """
    n, d, h, c = draw(two_layer_dims())
    p = _two_layer_problem(draw, "dead_unit", (n, d, h, c))
    dead = draw(st.integers(0, h - 1))
    b1 = np.array(p.b1)
    # Below every sample's X W1 term by at least 1: Z <= -1 for that unit.
    b1[dead] = -(np.max(np.abs(p.X) @ np.abs(p.W1[:, dead])) + 1.0)
    return TwoLayerProblem(
        **{**p.params, "b1": _readonly(b1)}, X=p.X, y=p.y, reg=p.reg, family="dead_unit"
    )


@st.composite
def two_layer_single_sample_problems(draw: st.DrawFn) -> TwoLayerProblem:
    r"""N = 1: the loss is the single sample's.

    .. math::
        L = \log \sum_j e^{F_{1j}} - F_{1 y_1}
            + \frac{\lambda}{2}\big(\lVert W_1\rVert^2 + \lVert W_2\rVert^2\big)

    X ``(1, D)``, y ``(1,)``; the rest as for :func:`two_layer_ordinary_problems`.

    Example:
        >>> p = find_example(two_layer_single_sample_problems())
        >>> p.family, p.X.shape[0], p.y.shape
        ('single_sample', 1, (1,))
    """
    _, d, h, c = draw(two_layer_dims())
    return _two_layer_problem(draw, "single_sample", (1, d, h, c))


@st.composite
def two_layer_large_reg_problems(draw: st.DrawFn) -> TwoLayerProblem:
    r"""reg in [10, 1e3]: the penalty dominates the loss, dW1 and dW2.

    .. math::
        \lambda \in [10, 10^3]

    Shapes as for :func:`two_layer_ordinary_problems`.

    Example:
        >>> p = find_example(two_layer_large_reg_problems())
        >>> p.family, 10 <= p.reg <= 1e3
        ('large_reg', True)
    """
    return _two_layer_problem(
        draw, "large_reg", draw(two_layer_dims()), reg=regs(LARGE_REG[1], low=LARGE_REG[0])
    )


@st.composite
def two_layer_float32_problems(draw: st.DrawFn) -> TwoLayerProblem:
    r"""An ordinary two-layer problem in float32.

    .. math::
        |X| \le 3, \quad |W_1|, |W_2| \le 1, \quad |b_1|, |b_2| \le 2, \quad
        \lambda \in [0, 1], \qquad \text{all in float32}

    Shapes as for :func:`two_layer_ordinary_problems`; y stays int64.

    Example:
        >>> p = find_example(two_layer_float32_problems())
        >>> p.family, p.dtype, {v.dtype.name for v in p.params.values()}
        ('float32', dtype('float32'), {'float32'})
    """
    return _two_layer_problem(draw, "float32", draw(two_layer_dims()), dtype=np.float32)


# Scale range of the two-layer extreme family's logits: exp overflows float64 above
# 709.78, and the losers' probabilities (e^-1.5s at most) underflow to exactly 0.
TWO_LAYER_EXTREME_SCALE = (1e3, 1e4)


@st.composite
def two_layer_extreme_problems(draw: st.DrawFn) -> TwoLayerProblem:
    r"""Output scores of order s in [1e3, 1e4]: exp(F) overflows, probabilities are 0 or 1.

    .. math::
        b_{2,k} = 3 s, \quad |b_{2,c}| \le s \ (c \ne k), \quad
        |W_2| \le \frac{s}{4 \cdot 20\, H} \quad \Longrightarrow \quad
        F_{nk} - F_{nc} \ge 1.5\, s

    for one hot class :math:`k`: the hidden activations are at most 20
    (:math:`|Z| \le 3D + 2`), so :math:`|H W_2| \le s / 4`. The first layer
    is as in :func:`two_layer_ordinary_problems` (signs of Z robust); its
    gradient passes through :math:`(P - Y) W_2^\top` with entries of order
    :math:`s / H`, large but finite. Shapes from :func:`two_layer_dims`.

    Example:
        >>> p = find_example(two_layer_extreme_problems())
        >>> H = np.maximum(p.X @ p.W1 + p.b1, 0)
        >>> F = H @ p.W2 + p.b2
        >>> p.family, bool(np.abs(F).max() > 709.8)   # exp(709.8) overflows float64
        ('extreme', True)
    """
    n, d, h, c = draw(two_layer_dims())
    base = _two_layer_problem(draw, "extreme", (n, d, h, c))
    scale = draw(st.floats(*TWO_LAYER_EXTREME_SCALE))
    k = draw(st.integers(0, c - 1))
    W2 = np.array(draw(float_arrays((h, c), 1.0))) * (scale / (4 * 20 * h))
    b2 = np.array(draw(float_arrays(c, 1.0))) * scale
    b2[k] = 3 * scale
    return TwoLayerProblem(
        W1=base.W1,
        b1=base.b1,
        W2=_readonly(W2),
        b2=_readonly(b2),
        X=base.X,
        y=base.y,
        reg=base.reg,
        family="extreme",
    )


TWO_LAYER_FAMILIES: dict[str, Callable[[], st.SearchStrategy[TwoLayerProblem]]] = {
    "ordinary": two_layer_ordinary_problems,
    "square": two_layer_square_problems,
    "kinks": two_layer_kink_problems,
    "near_kinks": two_layer_near_kink_problems,
    "dead_unit": two_layer_dead_unit_problems,
    "single_sample": two_layer_single_sample_problems,
    "large_reg": two_layer_large_reg_problems,
    "float32": two_layer_float32_problems,
    "extreme": two_layer_extreme_problems,
}
"""Family name -> strategy factory for the two-layer network; :func:`two_layer_problems`."""


def two_layer_problems(families: list[str] | None = None) -> st.SearchStrategy[TwoLayerProblem]:
    r"""Two-layer problems from every family in :data:`TWO_LAYER_FAMILIES`, or the ones named.

    A draw from the union of the families' problems,
    :math:`\bigcup_{f \in \text{families}} \mathcal P_f`, each with shape
    ``(N, D, H, C)`` in :math:`1 \le N \le 20`, :math:`1 \le D \le 6`,
    :math:`1 \le H \le 8`, :math:`2 \le C \le 6`.

    Example:
        >>> p = find_example(two_layer_problems(["kinks"]))
        >>> Z = p.X @ p.W1 + p.b1
        >>> p.family, bool((Z == 0).any())
        ('kinks', True)
    """
    names = list(TWO_LAYER_FAMILIES) if families is None else families
    unknown = sorted(set(names) - set(TWO_LAYER_FAMILIES))
    if unknown or not names:
        raise ValueError(
            "families must be a non-empty list of names from "
            f"{sorted(TWO_LAYER_FAMILIES)}; got {names!r}"
        )
    return st.one_of(*(TWO_LAYER_FAMILIES[name]() for name in names))
