"""Hypothesis strategies of linear softmax problems, one per family of hard cases.

Every strategy draws the shapes first (N samples, D features, C classes; D and
C drawn independently so that D != C most of the time and a transposed W is a
shape error, not a silent pass), then finite, bounded arrays, then labels in
``[0, C)`` and ``reg >= 0`` (0 included). Arrays are small (N <= 20, D <= 6,
C <= 6; N <= 40 in the ``blocked`` family) so that a full three-way check of
one problem is cheap.

A problem is a frozen :class:`Problem` that remembers its family, so that a
failing report names the kind of case it came from, and whose ``repr`` is code
that rebuilds it exactly (for pinning a counterexample with ``@example``).

Families (:data:`FAMILIES`, drawn from together by :func:`problems`):

=================  ================================================================
``ordinary``       moderate scores (|F| up to ~65), reg 0 or in [0, 1]
``extreme``        scores of order 1e3 to 1e5: exp(F) overflows, probabilities
                   underflow to exactly 0 or 1
``tied``           classes with identical weight columns and biases: exactly tied scores
``absent``         at least one class never appears in y
``single_sample``  N = 1
``single_feature`` D = 1
``large_reg``      reg in [10, 1e3]: the penalty dominates loss and dW
``float32``        an ordinary problem in float32
``float32_extreme`` float32 scores past float32's exp overflow (88.7), gaps of 46
                   to 1600: probabilities subnormal or exactly 0 in float32
``blocked``        17 to 40 rows: with the small block size and two lanes that
                   tests/test_properties.py sets, several blocks on each lane
=================  ================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .blocks import (  # noqa: F401  (MAX_*, find_example: used by the examples)
    LARGE_REG,
    MAX_C,
    MAX_D,
    MAX_N,
    _array_code,
    _readonly,
    dims,
    find_example,
    float_arrays,
    labels,
    regs,
)

__all__ = [
    "FAMILIES",
    "Problem",
    "absent_class_problems",
    "blocked_problems",
    "extreme_problems",
    "float32_extreme_problems",
    "float32_problems",
    "large_reg_problems",
    "ordinary_problems",
    "problems",
    "single_feature_problems",
    "single_sample_problems",
    "tied_problems",
]
# Bounds of the ordinary family. With |X| <= 5, |W| <= 2, |b| <= 5 and D <= 6
# the scores stay within |F| <= 65, where the softmax is far from saturated
# for most draws and far from overflow for all.
X_BOUND = 5.0
W_BOUND = 2.0
B_BOUND = 5.0

# Scale range of the extreme family. exp overflows float64 above 709.78 and
# exp(F_i - max F) underflows to 0 below -745; scores at 1e3 and beyond
# exercise both, and 1e5 keeps the loss (~1e5) far from any overflow.
EXTREME_SCALE = (1e3, 1e5)

# The float32_extreme family: the hot class's bias is 3 s, s in this range, so it
# scores at least 97, past float32's exp overflow at 88.72, in every row. A class
# whose bias trails by a gap in FLOAT32_SUBNORMAL_GAP (within 4 of it once X W is
# added) has a probability below float32's normal range (e^-87.3 = 1.2e-38) and
# above 0 (e^-103.3 is half the smallest subnormal).
FLOAT32_EXTREME_SCALE = (33.0, 400.0)
FLOAT32_SUBNORMAL_GAP = (92.0, 99.0)

# Rows of the blocked family: with blocks of BLOCKED_BLOCK_ROWS rows dealt to two
# lanes, 17 to 40 rows make 3 to 5 blocks, so lane 0 adds at least two.
BLOCKED_ROWS = (17, 40)
BLOCKED_BLOCK_ROWS = 8


@dataclass(frozen=True, eq=False, repr=False)
class Problem:
    """One linear softmax problem: the arguments of ``loss_and_grad`` and its family.

    Shapes: ``W`` (D, C), ``b`` (C,), ``X`` (N, D), ``y`` (N,) integers in
    ``[0, C)``; ``reg >= 0``. ``W``, ``b`` and ``X`` share one float dtype.

    Its ``repr`` is Python code that rebuilds the problem bit for bit (with
    ``import numpy as np`` in scope), ready to paste into ``@example(...)``.

    Example:
        >>> p = Problem(W=np.zeros((2, 3)), b=np.zeros(3), X=np.ones((4, 2)),
        ...             y=np.array([0, 1, 2, 0]), reg=0.5, family="ordinary")
        >>> p.shape, p.dtype
        ((4, 2, 3), dtype('float64'))
        >>> p
        Problem(W=np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], dtype=np.float64), b=np.array([0.0, 0.0, 0.0], dtype=np.float64), X=np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0]], dtype=np.float64), y=np.array([0, 1, 2, 0], dtype=np.int64), reg=0.5, family='ordinary')
    """  # noqa: E501

    W: np.ndarray
    b: np.ndarray
    X: np.ndarray
    y: np.ndarray
    reg: float
    family: str

    @property
    def args(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
        """``(W, b, X, y, reg)``, the positional arguments of a linear model's ``loss_and_grad``.

        Shapes ``(D, C)``, ``(C,)``, ``(N, D)``, ``(N,)`` and a float.

        Example:
            >>> from verification import oracle
            >>> p = Problem(W=np.zeros((2, 3)), b=np.zeros(3), X=np.ones((4, 2)),
            ...             y=np.array([0, 1, 2, 0]), reg=0.5, family="ordinary")
            >>> [np.shape(a) for a in p.args]
            [(2, 3), (3,), (4, 2), (4,), ()]
            >>> round(oracle.loss(*p.args), 6)   # the oracle's loss; W = 0: log 3
            1.098612
        """
        return self.W, self.b, self.X, self.y, self.reg

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(N, D, C)``: samples, features, classes.

        Example:
            >>> p = Problem(W=np.zeros((2, 3)), b=np.zeros(3), X=np.ones((4, 2)),
            ...             y=np.array([0, 1, 2, 0]), reg=0.0, family="ordinary")
            >>> p.shape
            (4, 2, 3)
        """
        return self.X.shape[0], self.X.shape[1], self.W.shape[1]

    @property
    def dtype(self) -> np.dtype:
        """The float dtype of ``W``, ``b`` and ``X``.

        Example:
            >>> z = np.zeros
            >>> Problem(W=z((1, 2), np.float32), b=z(2, np.float32), X=z((1, 1), np.float32),
            ...         y=np.array([0]), reg=0.0, family="float32").dtype
            dtype('float32')
        """
        return self.W.dtype

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints falsifying examples with its pretty-printer, which
        # would list a dataclass's fields with numpy's rounded repr; this makes
        # it print the exact, pasteable form instead.
        printer.text(repr(self))

    def __repr__(self) -> str:
        return (
            f"Problem(W={_array_code(self.W)}, b={_array_code(self.b)}, "
            f"X={_array_code(self.X)}, y={_array_code(self.y)}, "
            f"reg={self.reg!r}, family={self.family!r})"
        )


def _problem(
    draw: st.DrawFn,
    family: str,
    shape: tuple[int, int, int],
    *,
    dtype: Any = np.float64,
    reg: st.SearchStrategy[float] | None = None,
) -> Problem:
    # Arrays of the ordinary family for a given shape; families that only
    # constrain the shape, the dtype or reg share this.
    n, d, c = shape
    return Problem(
        W=draw(float_arrays((d, c), W_BOUND, dtype, tiny=True)),
        b=draw(float_arrays(c, B_BOUND, dtype, tiny=True)),
        X=draw(float_arrays((n, d), X_BOUND, dtype, tiny=True)),
        y=draw(labels(n, c)),
        reg=draw(regs(dtype=dtype, tiny=True) if reg is None else reg),
        family=family,
    )


@st.composite
def ordinary_problems(draw: st.DrawFn) -> Problem:
    r"""Moderate problems: |X| <= 5, |W| <= 2, |b| <= 5, reg 0 or in [0, 1].

    .. math::
        |X_{nd}| \le 5, \quad |W_{dc}| \le 2, \quad |b_c| \le 5, \quad
        \lambda \in [0, 1] \quad \Longrightarrow \quad
        |F_{nc}| \le 5 \cdot 2 \cdot D + 5 \le 65

    Shapes from :func:`dims`: W ``(D, C)``, b ``(C,)``, X ``(N, D)``, y
    ``(N,)`` in ``[0, C)``.

    Example:
        >>> p = find_example(ordinary_problems(), lambda p: min(p.shape) >= 2)
        >>> n, d, c = p.shape
        >>> p.family, [a.shape for a in (p.W, p.b, p.X, p.y)] == [(d, c), (c,), (n, d), (n,)]
        ('ordinary', True)
        >>> bool(np.abs(p.X @ p.W + p.b).max() <= 65 and 0 <= p.reg <= 1)
        True
    """
    return _problem(draw, "ordinary", draw(dims()))


@st.composite
def extreme_problems(draw: st.DrawFn) -> Problem:
    r"""Scores of order ``s`` in [1e3, 1e5]: naive exp overflows, probabilities underflow.

    .. math::
        s \in [10^3, 10^5], \qquad |F_{nk} - F_{nc}| \ge 1.5\, s
        \quad \text{for every } n \text{ and } c \ne k

    for one "hot" class :math:`k`, so the losing side's probabilities
    (:math:`e^{-1.5 s} < 10^{-651}` at most) underflow to 0, and the hot
    class's scores, :math:`|F_{nk}| \ge 2.5\, s`, overflow a naive
    :math:`e^{F}` (or :math:`-\log P`). Shapes as for :func:`ordinary_problems`.

    One "hot" class k wins by a margin of at least 1.5 s, so exp(max F)
    overflows float64 and the losers' probabilities (e^-1.5s at most)
    underflow to 0. Two mechanisms, drawn at random: through the bias
    (``b_k = 3 s``, other biases within s: class k wins every row with a score
    of at least 2.75 s) or through the weights (``W[0, k] = 6 s`` with
    ``|X[:, 0]|`` in [0.5, 1]: class k scores at least 2.5 s in rows with
    ``X[n, 0] > 0``, the others at most 0.5 s, and in the remaining rows class
    k is pushed as far down).

    Example:
        >>> p = find_example(extreme_problems())
        >>> F = p.X @ p.W + p.b
        >>> P = np.exp(F - F.max(axis=1, keepdims=True)); P /= P.sum(axis=1, keepdims=True)
        >>> p.family, bool(np.abs(F).max() > 709.8), bool((P == 0).any())  # exp(709.8) overflows
        ('extreme', True, True)
    """
    n, d, c = draw(dims())
    scale = draw(st.floats(*EXTREME_SCALE))
    k = draw(st.integers(0, c - 1))
    # Everything but the hot entry contributes at most 0.25 s to a score
    # (D entries of |X W| <= s / (4 D)), so the hot class's margin is certain.
    W = np.array(draw(float_arrays((d, c), 1.0, tiny=True))) * (scale / (4 * d))
    X = np.array(draw(float_arrays((n, d), 1.0, tiny=True)))
    if draw(st.booleans()):
        b = np.array(draw(float_arrays(c, 1.0, tiny=True))) * scale
        b[k] = 3 * scale
    else:
        b = np.array(draw(float_arrays(c, 1.0, tiny=True))) * (scale / 4)
        W[0, k] = 6 * scale
        magnitude = draw(float_arrays(n, 1.0, tiny=True)) * 0.25 + 0.75  # in [0.5, 1]
        sign = draw(hnp.arrays(np.bool_, n))
        X[:, 0] = np.where(sign, magnitude, -magnitude)
    return Problem(
        W=_readonly(W),
        b=_readonly(b),
        X=_readonly(X),
        y=draw(labels(n, c)),
        reg=draw(regs(tiny=True)),
        family="extreme",
    )


@st.composite
def tied_problems(draw: st.DrawFn) -> Problem:
    r"""Exactly tied scores: some classes share a weight column and a bias.

    The C classes are mapped onto m < C distinct prototypes (m = 1: every
    score in a row is the same); classes mapped to one prototype have equal
    scores in every row. With :math:`\pi` the map onto the prototypes
    :math:`V` (D, m) and :math:`\beta` (m,):

    .. math::
        W_{:,c} = V_{:,\pi(c)}, \quad b_c = \beta_{\pi(c)}
        \quad \Longrightarrow \quad F_{nc} = F_{nc'} \text{ whenever } \pi(c) = \pi(c')

    Shapes as for :func:`ordinary_problems`.

    Example:
        >>> p = find_example(tied_problems(), lambda p: p.shape[2] >= 3)
        >>> c = p.shape[2]
        >>> columns = np.unique(np.vstack([p.W, p.b]), axis=1)   # distinct (W[:, c], b[c])
        >>> p.family, columns.shape[1] < c
        ('tied', True)
    """
    n, d, c = draw(dims())
    m = draw(st.integers(1, c - 1))
    # A surjection of the classes onto the prototypes: the first m classes of
    # a permutation take one prototype each, the rest any prototype.
    order = draw(st.permutations(range(c)))
    extra = draw(st.lists(st.integers(0, m - 1), min_size=c - m, max_size=c - m))
    assign = np.empty(c, dtype=np.intp)
    assign[list(order[:m])] = np.arange(m)
    assign[list(order[m:])] = extra
    W_proto = draw(float_arrays((d, m), W_BOUND, tiny=True))
    b_proto = draw(float_arrays(m, B_BOUND, tiny=True))
    return Problem(
        W=_readonly(W_proto[:, assign]),
        b=_readonly(b_proto[assign]),
        X=draw(float_arrays((n, d), X_BOUND, tiny=True)),
        y=draw(labels(n, c)),
        reg=draw(regs(tiny=True)),
        family="tied",
    )


@st.composite
def absent_class_problems(draw: st.DrawFn) -> Problem:
    r"""At least one class never appears in y (its column of P - Y has no -1).

    .. math::
        \exists\, c \in \{0, \dots, C - 1\}: \ y_n \ne c \ \text{ for all } n,
        \qquad \text{so} \quad \frac{\partial L}{\partial b_c}
        = \frac{1}{N} \sum_n P_{nc} > 0

    Shapes as for :func:`ordinary_problems`.

    Example:
        >>> p = find_example(absent_class_problems(), lambda p: p.shape[2] >= 3)
        >>> p.family, len(set(p.y.tolist())) < p.shape[2]
        ('absent', True)
    """
    n, d, c = draw(dims())
    present = draw(st.permutations(range(c)))[: draw(st.integers(1, c - 1))]
    return Problem(
        W=draw(float_arrays((d, c), W_BOUND, tiny=True)),
        b=draw(float_arrays(c, B_BOUND, tiny=True)),
        X=draw(float_arrays((n, d), X_BOUND, tiny=True)),
        y=draw(labels(n, sorted(present))),
        reg=draw(regs(tiny=True)),
        family="absent",
    )


@st.composite
def single_sample_problems(draw: st.DrawFn) -> Problem:
    r"""N = 1: the mean over samples is the sample itself.

    .. math::
        L = \log \sum_j e^{F_{1j}} - F_{1 y_1} + \frac{\lambda}{2} \lVert W\rVert_F^2

    X ``(1, D)``, y ``(1,)``; the rest as for :func:`ordinary_problems`.

    Example:
        >>> p = find_example(single_sample_problems())
        >>> p.family, p.X.shape[0], p.y.shape
        ('single_sample', 1, (1,))
    """
    _, d, c = draw(dims())
    return _problem(draw, "single_sample", (1, d, c))


@st.composite
def single_feature_problems(draw: st.DrawFn) -> Problem:
    r"""D = 1: X is a column and W a single row.

    .. math::
        F_{nc} = X_{n1} W_{1c} + b_c

    X ``(N, 1)``, W ``(1, C)``; the rest as for :func:`ordinary_problems`.

    Example:
        >>> p = find_example(single_feature_problems())
        >>> p.family, p.X.shape[1], p.W.shape[0]
        ('single_feature', 1, 1)
    """
    n, _, c = draw(dims())
    p = _problem(draw, "single_feature", (n, 1, c))
    # A single column of zeros is the ordinary family's degenerate case (drawn
    # there); here it would be about one draw in six, all spent on dW = reg W.
    assume(np.any(p.X != 0))
    return p


@st.composite
def large_reg_problems(draw: st.DrawFn) -> Problem:
    r"""reg in [10, 1e3]: the penalty dominates the loss and dW.

    .. math::
        \lambda \in [10, 10^3]: \qquad \frac{\lambda}{2} \lVert W\rVert_F^2
        \text{ and } \lambda W \text{ outweigh the data terms}

    Shapes as for :func:`ordinary_problems`.

    Example:
        >>> p = find_example(large_reg_problems())
        >>> p.family, 10 <= p.reg <= 1e3
        ('large_reg', True)
    """
    return _problem(
        draw, "large_reg", draw(dims()), reg=regs(LARGE_REG[1], low=LARGE_REG[0], tiny=True)
    )


@st.composite
def float32_problems(draw: st.DrawFn) -> Problem:
    r"""An ordinary problem in float32 (W, b and X; y stays int64).

    .. math::
        |X_{nd}| \le 5, \quad |W_{dc}| \le 2, \quad |b_c| \le 5, \quad
        \lambda \in [0, 1], \qquad \text{all in float32}

    Shapes as for :func:`ordinary_problems`; checked against float32 tolerances.

    Example:
        >>> p = find_example(float32_problems())
        >>> p.family, p.dtype, p.b.dtype, p.X.dtype, p.y.dtype
        ('float32', dtype('float32'), dtype('float32'), dtype('float32'), dtype('int64'))
    """
    return _problem(draw, "float32", draw(dims()), dtype=np.float32)


@st.composite
def float32_extreme_problems(draw: st.DrawFn) -> Problem:
    r"""float32 scores past float32's exp overflow; probabilities subnormal or 0 in float32.

    .. math::
        b_k = 3 s, \quad s \in [33, 400], \qquad b_c = 3 s - g_c, \quad
        g_c \in [92, 99] \ \text{or} \ [50, 4 s] \quad (c \ne k)

    for one hot class :math:`k`, with :math:`|X| \le 1` and
    :math:`|W| \le 2 / D`, so :math:`|XW| \le 2`: the hot class scores
    :math:`F_{nk} \ge 3 s - 2 \ge 97` in every row, and class c trails it by
    :math:`g_c \pm 4 \ge 46`. In float32, :math:`e^{F}` overflows above 88.72 (so
    without the max-shift every row overflows), a probability :math:`e^{-g}`
    leaves the normal range at a gap of 87.3 and is 0 past 103.3: a class with
    :math:`g_c \in [92, 99]` has a subnormal probability in every row. Shapes as
    for :func:`ordinary_problems`, all in float32.

    Example:
        >>> p = find_example(float32_extreme_problems())
        >>> F = p.X @ p.W + p.b
        >>> p.family, p.dtype, bool((F.max(axis=1) > 88.72).all())
        ('float32_extreme', dtype('float32'), True)
    """
    n, d, c = draw(dims())
    scale = draw(st.floats(*FLOAT32_EXTREME_SCALE))
    k = draw(st.integers(0, c - 1))
    subnormal_gap = st.floats(*FLOAT32_SUBNORMAL_GAP)
    gaps = [
        0.0 if j == k else draw(st.one_of(subnormal_gap, st.floats(50.0, 4 * scale)))
        for j in range(c)
    ]
    W = np.array(draw(float_arrays((d, c), 1.0, tiny=True))) * (2.0 / d)
    b = 3 * scale - np.array(gaps)
    return Problem(
        W=_readonly(W.astype(np.float32)),
        b=_readonly(b.astype(np.float32)),
        X=draw(float_arrays((n, d), 1.0, np.float32, tiny=True)),
        y=draw(labels(n, c)),
        reg=draw(regs(dtype=np.float32, tiny=True)),
        family="float32_extreme",
    )


@st.composite
def blocked_problems(draw: st.DrawFn) -> Problem:
    r"""An ordinary problem of 17 to 40 rows: several blocks per lane at a small block size.

    .. math::
        N \in [17, 40], \qquad \lceil N / 8 \rceil \in \{3, 4, 5\}
        \text{ blocks of 8 rows on 2 lanes}

    The kernel's default blocks are at least 64 rows and its threads start
    far above this much work, so the blocked and threaded paths need settings
    (blocks of :data:`BLOCKED_BLOCK_ROWS` rows, two threads) that the tests
    running this family set. Shapes ``(N, D, C)`` with D, C as in :func:`dims`.

    Example:
        >>> p = find_example(blocked_problems())
        >>> p.family, BLOCKED_ROWS[0] <= p.shape[0] <= BLOCKED_ROWS[1]
        ('blocked', True)
    """
    return _problem(draw, "blocked", draw(dims(n=BLOCKED_ROWS)))


FAMILIES: dict[str, Callable[[], st.SearchStrategy[Problem]]] = {
    "ordinary": ordinary_problems,
    "extreme": extreme_problems,
    "tied": tied_problems,
    "absent": absent_class_problems,
    "single_sample": single_sample_problems,
    "single_feature": single_feature_problems,
    "large_reg": large_reg_problems,
    "float32": float32_problems,
    "float32_extreme": float32_extreme_problems,
    "blocked": blocked_problems,
}
"""Family name -> strategy factory; :func:`problems` draws from these."""


def problems(families: list[str] | None = None) -> st.SearchStrategy[Problem]:
    r"""Problems from every family in :data:`FAMILIES`, or from the ones named.

    A draw from the union of the families' problems,
    :math:`\bigcup_{f \in \text{families}} \mathcal P_f`, each with shape
    ``(N, D, C)`` in :math:`1 \le N \le 20` (40 in ``blocked``),
    :math:`1 \le D \le 6`, :math:`2 \le C \le 6` (W ``(D, C)``, b ``(C,)``,
    X ``(N, D)``, y ``(N,)``).

    Example:
        >>> p = find_example(problems(["ordinary", "tied"]), lambda p: p.family == "tied")
        >>> n, d, c = p.shape
        >>> p.family, 1 <= n <= MAX_N, 1 <= d <= MAX_D, 2 <= c <= MAX_C
        ('tied', True, True, True)
    """
    names = list(FAMILIES) if families is None else families
    unknown = sorted(set(names) - set(FAMILIES))
    if unknown or not names:
        raise ValueError(
            f"families must be a non-empty list of names from {sorted(FAMILIES)}; got {names!r}"
        )
    return st.one_of(*(FAMILIES[name]() for name in names))
