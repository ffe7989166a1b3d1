"""Hypothesis strategies that generate softmax problems, one per family of hard cases.

Every strategy draws the shapes first (N samples, D features, C classes; D and
C drawn independently so that D != C most of the time and a transposed W is a
shape error, not a silent pass), then finite, bounded arrays, then labels in
``[0, C)`` and ``reg >= 0`` (0 included). Arrays are small (N <= 20, D <= 6,
C <= 6) so that a full three-way check of one problem is cheap.

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
=================  ================================================================

The building blocks (:func:`dims`, :func:`float_arrays`, :func:`labels`,
:func:`regs`) are public so that other models' strategies (the two-layer
network) reuse them: a new model adds its own problem class, its families and a
registry like :data:`FAMILIES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = [
    "FAMILIES",
    "MAX_C",
    "MAX_D",
    "MAX_H",
    "MAX_N",
    "MIN_MAGNITUDE",
    "TWO_LAYER_FAMILIES",
    "Problem",
    "TwoLayerProblem",
    "absent_class_problems",
    "dims",
    "extreme_problems",
    "float32_problems",
    "float_arrays",
    "labels",
    "large_reg_problems",
    "ordinary_problems",
    "place_kinks",
    "problems",
    "regs",
    "single_feature_problems",
    "single_sample_problems",
    "tied_problems",
    "two_layer_dead_unit_problems",
    "two_layer_dims",
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

# Small enough that a full finite-difference check (4 evaluations per entry of
# W and b, at most 6 * 6 + 6 = 42 entries) costs a few milliseconds, large
# enough that N, D and C can all differ and every code path sees a real sum.
MAX_N = 20
MAX_D = 6
MAX_C = 6

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

# Range of the large_reg family: 0.5 * reg * ||W||^2 then dominates the data
# term (which is O(10) here) and reg * W dominates dW.
LARGE_REG = (10.0, 1e3)


# Near underflow the three-way check relies on allowances that are worth
# exercising but not everywhere: XLA on CPU reads and writes subnormal numbers
# as 0 (in the JAX oracle 1.1e-308 * 0.5 == 0, where NumPy gives 5.6e-309),
# and float32 underflows below 1.2e-38 where the float64 oracle does not.
# verification.compare allows for both (a floor of the dtype's smallest normal
# number, scaled by each quantity's sensitivity); the softmax families draw the
# whole finite range, subnormals included (``tiny=True``), to keep that
# allowance honest. By default the building blocks keep entries at 0 or at
# least MIN_MAGNITUDE[dtype], so that products of two inputs stay far inside
# the normal range (1e-100: above 1e-200 in float64; 1e-15: above 1e-30 in
# float32): a model whose check has no such allowance gets problems it can
# referee. The counterexamples that showed all this are pinned in
# tests/test_properties.py.
MIN_MAGNITUDE: dict[np.dtype, float] = {
    np.dtype(np.float64): 1e-100,
    np.dtype(np.float32): 1e-15,
}


def _flusher(dtype: Any) -> Callable[[float], float]:
    floor = MIN_MAGNITUDE[np.dtype(dtype)]
    return lambda v: 0.0 if abs(v) < floor else v


def _floats(low: float, high: float, dtype: Any, tiny: bool) -> st.SearchStrategy[float]:
    width = np.dtype(dtype).itemsize * 8
    if tiny:
        return st.floats(low, high, allow_nan=False, allow_infinity=False, width=width)
    return st.floats(
        low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=width
    ).map(_flusher(dtype))


def _readonly(a: np.ndarray) -> np.ndarray:
    # Generated arrays are read-only, so that any function under test that
    # writes to its inputs (which the project forbids) fails loudly.
    a.setflags(write=False)
    return a


def _array_code(a: np.ndarray) -> str:
    # tolist() gives Python floats/ints whose repr round-trips exactly, so the
    # code rebuilds the very same bits (float32 values are exact in float64).
    return f"np.array({a.tolist()!r}, dtype=np.{a.dtype.name})"


@dataclass(frozen=True, eq=False, repr=False)
class Problem:
    """One linear softmax problem: the arguments of ``loss_and_grad`` and its family.

    Shapes: ``W`` (D, C), ``b`` (C,), ``X`` (N, D), ``y`` (N,) integers in
    ``[0, C)``; ``reg >= 0``. ``W``, ``b`` and ``X`` share one float dtype.

    Its ``repr`` is Python code that rebuilds the problem bit for bit (with
    ``import numpy as np`` in scope), ready to paste into ``@example(...)``.

    Example:
        >>> import numpy as np
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
        """``(W, b, X, y, reg)``, the positional arguments of ``loss_and_grad``.

        Shapes ``(D, C)``, ``(C,)``, ``(N, D)``, ``(N,)`` and a float.

        Example:
            >>> import numpy as np
            >>> import softmax_ref
            >>> p = Problem(W=np.zeros((2, 3)), b=np.zeros(3), X=np.ones((4, 2)),
            ...             y=np.array([0, 1, 2, 0]), reg=0.5, family="ordinary")
            >>> [np.shape(a) for a in p.args]
            [(2, 3), (3,), (4, 2), (4,), ()]
            >>> round(float(softmax_ref.loss(*p.args)), 6)   # W = 0: log 3
            1.098612
        """
        return self.W, self.b, self.X, self.y, self.reg

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(N, D, C)``: samples, features, classes.

        Example:
            >>> import numpy as np
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
            >>> import numpy as np
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


# --- building blocks ------------------------------------------------------------


def dims(
    n: tuple[int, int] = (1, MAX_N),
    d: tuple[int, int] = (1, MAX_D),
    c: tuple[int, int] = (2, MAX_C),
) -> st.SearchStrategy[tuple[int, int, int]]:
    r"""Shapes ``(N, D, C)`` with each size drawn independently from its inclusive range.

    .. math::
        N \in [n_0, n_1], \quad D \in [d_0, d_1], \quad C \in [c_0, c_1]

    with the defaults :math:`1 \le N \le 20`, :math:`1 \le D \le 6`,
    :math:`2 \le C \le 6`. Drawing D and C independently makes D != C the
    common case, so a gradient returned transposed cannot pass unnoticed as it
    could for square W.

    Example:
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> find(dims(), lambda s: s[1] != s[2], settings=quick)
        (1, 1, 2)
    """
    return st.tuples(st.integers(*n), st.integers(*d), st.integers(*c))


@lru_cache(maxsize=1024)
def float_arrays(
    shape: int | tuple[int, ...], bound: float, dtype: Any = np.float64, *, tiny: bool = False
) -> st.SearchStrategy[np.ndarray]:
    r"""Finite arrays of ``shape`` with entries in ``[-bound, bound]`` (read-only).

    .. math::
        a_i \in [-B, B], \qquad a_i = 0 \ \text{ or } \ |a_i| \ge m_{\text{dtype}}
        \quad (\text{without } \texttt{tiny})

    with :math:`B` the ``bound`` and :math:`m` from :data:`MIN_MAGNITUDE`
    (1e-100 in float64, 1e-15 in float32).

    NaN and inf are excluded: the property suite is about correct gradients of
    valid problems; bad input is tested where validation is. With ``tiny``,
    every finite value in range may be drawn, subnormals included; without,
    entries are 0 or at least :data:`MIN_MAGNITUDE` for the dtype in magnitude
    (see the notes there).

    Example:
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> a = find(float_arrays((2, 3), 1.0), lambda a: True, settings=quick)
        >>> a.shape, a.dtype, a.flags.writeable
        ((2, 3), dtype('float64'), False)
    """
    # Cached: a composite strategy asks for the same few shapes over and over,
    # and building (and validating) a fresh strategy each time doubles the cost
    # of a draw.
    elements = _floats(-bound, bound, dtype, tiny)
    return hnp.arrays(dtype, shape, elements=elements).map(_readonly)


def labels(n: int, classes: int | list[int]) -> st.SearchStrategy[np.ndarray]:
    r"""``n`` labels (int64, read-only), drawn from ``range(classes)`` or the listed classes.
    They shrink towards the first listed class.

    .. math::
        y \in S^n, \qquad S = \{0, \dots, C - 1\} \text{ or the listed classes}

    The array has shape ``(n,)``.

    Example:
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> y = find(labels(4, [2, 5]), lambda y: True, settings=quick)
        >>> y.shape, set(y.tolist()) <= {2, 5}
        ((4,), True)
    """
    pool = tuple(range(classes)) if isinstance(classes, int) else tuple(classes)
    return _labels(n, pool)


@lru_cache(maxsize=1024)
def _labels(n: int, pool: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.int64, n, elements=st.sampled_from(pool)).map(_readonly)


def regs(
    high: float = 1.0, *, low: float = 0.0, dtype: Any = np.float64, tiny: bool = False
) -> st.SearchStrategy[float]:
    r"""``reg`` values in ``[low, high]``; exactly 0 is drawn often when ``low`` is 0.

    .. math::
        \lambda \in \{0\} \cup [\max(\ell, m), h] \ \text{ if } \ell = 0, \qquad
        \lambda \in [\max(\ell, m), h] \ \text{ otherwise}

    with :math:`\ell, h` = ``low``, ``high`` and :math:`m` the dtype's
    :data:`MIN_MAGNITUDE` (0 with ``tiny``). A scalar: shape ``()``.

    Nonzero values are as for :func:`float_arrays` with the same ``dtype`` and
    ``tiny`` (reg itself is a Python float either way).

    reg = 0 deserves its own branch: code that skips the penalty when reg is 0
    must give the same numbers as code that adds 0 * W.

    Example:
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> find(regs(), lambda r: r == 0, settings=quick)
        0.0
    """
    if tiny:
        ranged = st.floats(low, high, allow_nan=False, allow_infinity=False)
    else:
        ranged = st.floats(
            max(low, MIN_MAGNITUDE[np.dtype(dtype)]),
            high,
            allow_nan=False,
            allow_infinity=False,
            allow_subnormal=False,
        )
    return st.one_of(st.just(0.0), ranged) if low == 0 else ranged


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


# --- families -------------------------------------------------------------------


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
        >>> import numpy as np
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(ordinary_problems(), lambda p: min(p.shape) >= 2, settings=quick)
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
        >>> import numpy as np
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(extreme_problems(), lambda p: True, settings=quick)
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
        >>> import numpy as np
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(tied_problems(), lambda p: p.shape[2] >= 3, settings=quick)
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
        >>> import numpy as np
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(absent_class_problems(), lambda p: p.shape[2] >= 3, settings=quick)
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
        >>> import numpy as np
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(single_sample_problems(), lambda p: True, settings=quick)
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
        >>> import numpy as np
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(single_feature_problems(), lambda p: True, settings=quick)
        >>> p.family, p.X.shape[1], p.W.shape[0]
        ('single_feature', 1, 1)
    """
    n, _, c = draw(dims())
    return _problem(draw, "single_feature", (n, 1, c))


@st.composite
def large_reg_problems(draw: st.DrawFn) -> Problem:
    r"""reg in [10, 1e3]: the penalty dominates the loss and dW.

    .. math::
        \lambda \in [10, 10^3]: \qquad \frac{\lambda}{2} \lVert W\rVert_F^2
        \text{ and } \lambda W \text{ outweigh the data terms}

    Shapes as for :func:`ordinary_problems`.

    Example:
        >>> import numpy as np
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(large_reg_problems(), lambda p: True, settings=quick)
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
        >>> import numpy as np
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(float32_problems(), lambda p: True, settings=quick)
        >>> p.family, p.dtype, p.b.dtype, p.X.dtype, p.y.dtype
        ('float32', dtype('float32'), dtype('float32'), dtype('float32'), dtype('int64'))
    """
    return _problem(draw, "float32", draw(dims()), dtype=np.float32)


FAMILIES: dict[str, Callable[[], st.SearchStrategy[Problem]]] = {
    "ordinary": ordinary_problems,
    "extreme": extreme_problems,
    "tied": tied_problems,
    "absent": absent_class_problems,
    "single_sample": single_sample_problems,
    "single_feature": single_feature_problems,
    "large_reg": large_reg_problems,
    "float32": float32_problems,
}
"""Family name -> strategy factory; :func:`problems` draws from these."""


def problems(families: list[str] | None = None) -> st.SearchStrategy[Problem]:
    r"""Problems from every family in :data:`FAMILIES`, or from the ones named.

    A draw from the union of the families' problems,
    :math:`\bigcup_{f \in \text{families}} \mathcal P_f`, each with shape
    ``(N, D, C)`` in :math:`1 \le N \le 20`, :math:`1 \le D \le 6`,
    :math:`2 \le C \le 6` (W ``(D, C)``, b ``(C,)``, X ``(N, D)``, y ``(N,)``).

    Example:
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(problems(), lambda p: p.family == "tied", settings=quick)
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


# --- the one-hidden-layer ReLU network (engineer T1) ----------------------------------
#
# A two-layer problem adds the hidden size H (drawn independently of D and C, so that
# a transposed W1 or W2 is a shape error in most draws; the ``square`` family makes
# H = C on purpose, where a missing transpose of W2 is a value error instead).
#
# The ReLU makes the sign of each pre-activation Z = X W1 + b1 matter: the analytic
# side and the oracle must put every Z on the same side of 0. Where |Z| is within
# rounding of 0 (a cancellation), the two may round it to opposite signs (different
# summation orders, FMA) and their gradients then differ by a whole term: not a fault
# of either. Every family therefore keeps each Z either clearly away from 0
# (|Z| > Z_MARGIN eps A, with A = |X| |W1| + |b1| the size of Z's terms) or exactly 0
# in any order of summation: all of its terms 0, or all of them small integers (the
# ``kinks`` family), whose sums are exact.

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
        >>> import numpy as np
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
            >>> import numpy as np
            >>> import softmax_ref.two_layer as two_layer
            >>> p = TwoLayerProblem(W1=np.ones((2, 3)), b1=np.zeros(3), W2=np.zeros((3, 4)),
            ...                     b2=np.zeros(4), X=np.ones((5, 2)), y=np.zeros(5, dtype=int),
            ...                     reg=0.0, family="ordinary")
            >>> {k: v.shape for k, v in p.params.items()}
            {'W1': (2, 3), 'b1': (3,), 'W2': (3, 4), 'b2': (4,)}
            >>> round(float(two_layer.loss_and_grad(p.params, p.X, p.y, p.reg)[0]), 6)  # log 4
            1.386294
        """
        return {"W1": self.W1, "b1": self.b1, "W2": self.W2, "b2": self.b2}

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(N, D, H, C)``: samples, features, hidden units, classes.

        Example:
            >>> import numpy as np
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
            >>> import numpy as np
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
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> find(two_layer_dims(h=(3, 3)), lambda s: True, settings=quick)[2]
        3
        >>> n, d, h, c = find(two_layer_dims(), lambda s: s[3] > 2, settings=quick)
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
        >>> import numpy as np
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
        b_{1,j} = o_i - X_{n,:} \cdot W_{1,:,j}
        \quad \Longrightarrow \quad Z_{nj} = X_{n,:} \cdot W_{1,:,j} + b_{1,j} = o_i,
        \qquad j = \texttt{units}[i], \ n = \texttt{samples}[i]

    For X ``(N, D)``, W1 ``(D, H)`` and b1 ``(H,)``; returns ``(H,)``. With
    integer X and W1 the dot product is an exact integer, so the offset 0
    gives ``Z[n, j] == 0`` exactly, in any order of summation. A unit listed
    twice keeps the last placement.

    Example:
        >>> import numpy as np
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
        >>> import numpy as np
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(two_layer_ordinary_problems(), lambda p: min(p.shape) >= 2, settings=quick)
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
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(two_layer_square_problems(), lambda p: True, settings=quick)
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
        X_{nd} \in \{-3, \dots, 3\}, \quad W_{1,dj} \in \{-2, \dots, 2\},
        \qquad Z_{n_i j_i} = 0 \ \text{ exactly, for each chosen unit } j_i

    Shapes as for :func:`two_layer_ordinary_problems`.

    Example:
        >>> import numpy as np
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(two_layer_kink_problems(), lambda p: p.shape[2] >= 2, settings=quick)
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
        >>> import numpy as np
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(two_layer_near_kink_problems(), lambda p: True, settings=quick)
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
        >>> import numpy as np
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(two_layer_dead_unit_problems(), lambda p: True, settings=quick)
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
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(two_layer_single_sample_problems(), lambda p: True, settings=quick)
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
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(two_layer_large_reg_problems(), lambda p: True, settings=quick)
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
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(two_layer_float32_problems(), lambda p: True, settings=quick)
        >>> p.family, p.dtype, {v.dtype.name for v in p.params.values()}
        ('float32', dtype('float32'), {'float32'})
    """
    return _two_layer_problem(draw, "float32", draw(two_layer_dims()), dtype=np.float32)


TWO_LAYER_FAMILIES: dict[str, Callable[[], st.SearchStrategy[TwoLayerProblem]]] = {
    "ordinary": two_layer_ordinary_problems,
    "square": two_layer_square_problems,
    "kinks": two_layer_kink_problems,
    "near_kinks": two_layer_near_kink_problems,
    "dead_unit": two_layer_dead_unit_problems,
    "single_sample": two_layer_single_sample_problems,
    "large_reg": two_layer_large_reg_problems,
    "float32": two_layer_float32_problems,
}
"""Family name -> strategy factory for the two-layer network; :func:`two_layer_problems`."""


def two_layer_problems(families: list[str] | None = None) -> st.SearchStrategy[TwoLayerProblem]:
    r"""Two-layer problems from every family in :data:`TWO_LAYER_FAMILIES`, or the ones named.

    A draw from the union of the families' problems,
    :math:`\bigcup_{f \in \text{families}} \mathcal P_f`, each with shape
    ``(N, D, H, C)`` in :math:`1 \le N \le 20`, :math:`1 \le D \le 6`,
    :math:`1 \le H \le 8`, :math:`2 \le C \le 6`.

    Example:
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> p = find(two_layer_problems(["kinks"]), lambda p: True, settings=quick)
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
