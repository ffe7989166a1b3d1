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
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = [
    "FAMILIES",
    "MAX_C",
    "MAX_D",
    "MAX_N",
    "MIN_MAGNITUDE",
    "Problem",
    "absent_class_problems",
    "dims",
    "extreme_problems",
    "float32_problems",
    "float_arrays",
    "labels",
    "large_reg_problems",
    "ordinary_problems",
    "problems",
    "regs",
    "single_feature_problems",
    "single_sample_problems",
    "tied_problems",
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


# Inputs are 0 or at least MIN_MAGNITUDE[dtype] in magnitude, so that every
# product of two of them (a score term X W, the penalty's reg W) and so every
# rounding scale the three-way check uses stays far inside the dtype's normal
# range. Below it the check has no allowance for underflow:
# * float64: XLA on CPU flushes subnormal numbers to zero (FTZ/DAZ). In the
#   JAX oracle 1.1e-308 * 0.5 == 0, where NumPy gives the exact 5.6e-309, so
#   the oracle is a different function wherever a result is subnormal.
#   1e-100: products stay above 1e-200, far from 2.2e-308.
# * float32: the analytic side computes in float32, where reg W = 1e-100 is 0
#   while the float64 oracle keeps it. 1e-15: products stay above 1e-30, far
#   from float32's 1.2e-38.
# The counterexamples that led here are pinned in tests/test_properties.py.
MIN_MAGNITUDE: dict[np.dtype, float] = {
    np.dtype(np.float64): 1e-100,
    np.dtype(np.float32): 1e-15,
}


def _flusher(dtype: Any) -> Callable[[float], float]:
    floor = MIN_MAGNITUDE[np.dtype(dtype)]
    return lambda v: 0.0 if abs(v) < floor else v


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
        """``(W, b, X, y, reg)``, the positional arguments of ``loss_and_grad``."""
        return self.W, self.b, self.X, self.y, self.reg

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(N, D, C)``."""
        return self.X.shape[0], self.X.shape[1], self.W.shape[1]

    @property
    def dtype(self) -> np.dtype:
        """The float dtype of ``W``, ``b`` and ``X``."""
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
    """Shapes ``(N, D, C)`` with each size drawn independently from its inclusive range.

    Drawing D and C independently makes D != C the common case, so a gradient
    returned transposed cannot pass unnoticed as it could for square W.

    Example:
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> find(dims(), lambda s: s[1] != s[2], settings=quick)
        (1, 1, 2)
    """
    return st.tuples(st.integers(*n), st.integers(*d), st.integers(*c))


@lru_cache(maxsize=1024)
def float_arrays(
    shape: int | tuple[int, ...], bound: float, dtype: Any = np.float64
) -> st.SearchStrategy[np.ndarray]:
    """Finite arrays of ``shape`` with entries in ``[-bound, bound]`` (read-only).

    NaN and inf are excluded: the property suite is about correct gradients of
    valid problems; bad input is tested where validation is. Entries are 0 or
    at least :data:`MIN_MAGNITUDE` for the dtype in magnitude (see there).

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
    width = np.dtype(dtype).itemsize * 8
    elements = st.floats(
        -bound, bound, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=width
    ).map(_flusher(dtype))
    return hnp.arrays(dtype, shape, elements=elements).map(_readonly)


def labels(n: int, classes: int | list[int]) -> st.SearchStrategy[np.ndarray]:
    """``n`` labels (int64, read-only), drawn from ``range(classes)`` or the listed classes.
    They shrink towards the first listed class.

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
    high: float = 1.0, *, low: float = 0.0, dtype: Any = np.float64
) -> st.SearchStrategy[float]:
    """``reg`` values in ``[low, high]``; exactly 0 is drawn often when ``low`` is 0.

    Nonzero values are at least :data:`MIN_MAGNITUDE` for the problem's
    ``dtype``, as for arrays.

    reg = 0 deserves its own branch: code that skips the penalty when reg is 0
    must give the same numbers as code that adds 0 * W.

    Example:
        >>> from hypothesis import Phase, find, settings
        >>> quick = settings(database=None, derandomize=True, phases=[Phase.generate])
        >>> find(regs(), lambda r: r == 0, settings=quick)
        0.0
    """
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
        W=draw(float_arrays((d, c), W_BOUND, dtype)),
        b=draw(float_arrays(c, B_BOUND, dtype)),
        X=draw(float_arrays((n, d), X_BOUND, dtype)),
        y=draw(labels(n, c)),
        reg=draw(regs(dtype=dtype) if reg is None else reg),
        family=family,
    )


# --- families -------------------------------------------------------------------


@st.composite
def ordinary_problems(draw: st.DrawFn) -> Problem:
    """Moderate problems: |X| <= 5, |W| <= 2, |b| <= 5, reg 0 or in [0, 1]."""
    return _problem(draw, "ordinary", draw(dims()))


@st.composite
def extreme_problems(draw: st.DrawFn) -> Problem:
    """Scores of order ``s`` in [1e3, 1e5]: naive exp overflows, probabilities underflow.

    One "hot" class k wins by a margin of at least 1.5 s, so exp(max F)
    overflows float64 and the losers' probabilities (e^-1.5s at most)
    underflow to 0. Two mechanisms, drawn at random: through the bias
    (``b_k = 3 s``, other biases within s: class k wins every row with a score
    of at least 2.75 s) or through the weights (``W[0, k] = 6 s`` with
    ``|X[:, 0]|`` in [0.5, 1]: class k scores at least 2.5 s in rows with
    ``X[n, 0] > 0``, the others at most 0.5 s, and in the remaining rows class
    k is pushed as far down).
    """
    n, d, c = draw(dims())
    scale = draw(st.floats(*EXTREME_SCALE))
    k = draw(st.integers(0, c - 1))
    # Everything but the hot entry contributes at most 0.25 s to a score
    # (D entries of |X W| <= s / (4 D)), so the hot class's margin is certain.
    W = np.array(draw(float_arrays((d, c), 1.0))) * (scale / (4 * d))
    X = np.array(draw(float_arrays((n, d), 1.0)))
    if draw(st.booleans()):
        b = np.array(draw(float_arrays(c, 1.0))) * scale
        b[k] = 3 * scale
    else:
        b = np.array(draw(float_arrays(c, 1.0))) * (scale / 4)
        W[0, k] = 6 * scale
        magnitude = draw(float_arrays(n, 1.0)) * 0.25 + 0.75  # in [0.5, 1]
        sign = draw(hnp.arrays(np.bool_, n))
        X[:, 0] = np.where(sign, magnitude, -magnitude)
    return Problem(
        W=_readonly(W),
        b=_readonly(b),
        X=_readonly(X),
        y=draw(labels(n, c)),
        reg=draw(regs()),
        family="extreme",
    )


@st.composite
def tied_problems(draw: st.DrawFn) -> Problem:
    """Exactly tied scores: some classes share a weight column and a bias.

    The C classes are mapped onto m < C distinct prototypes (m = 1: every
    score in a row is the same); classes mapped to one prototype have equal
    scores in every row.
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
    W_proto = draw(float_arrays((d, m), W_BOUND))
    b_proto = draw(float_arrays(m, B_BOUND))
    return Problem(
        W=_readonly(W_proto[:, assign]),
        b=_readonly(b_proto[assign]),
        X=draw(float_arrays((n, d), X_BOUND)),
        y=draw(labels(n, c)),
        reg=draw(regs()),
        family="tied",
    )


@st.composite
def absent_class_problems(draw: st.DrawFn) -> Problem:
    """At least one class never appears in y (its column of P - Y has no -1)."""
    n, d, c = draw(dims())
    present = draw(st.permutations(range(c)))[: draw(st.integers(1, c - 1))]
    return Problem(
        W=draw(float_arrays((d, c), W_BOUND)),
        b=draw(float_arrays(c, B_BOUND)),
        X=draw(float_arrays((n, d), X_BOUND)),
        y=draw(labels(n, sorted(present))),
        reg=draw(regs()),
        family="absent",
    )


@st.composite
def single_sample_problems(draw: st.DrawFn) -> Problem:
    """N = 1: the mean over samples is the sample itself."""
    _, d, c = draw(dims())
    return _problem(draw, "single_sample", (1, d, c))


@st.composite
def single_feature_problems(draw: st.DrawFn) -> Problem:
    """D = 1: X is a column and W a single row."""
    n, _, c = draw(dims())
    return _problem(draw, "single_feature", (n, 1, c))


@st.composite
def large_reg_problems(draw: st.DrawFn) -> Problem:
    """reg in [10, 1e3]: the penalty dominates the loss and dW."""
    return _problem(draw, "large_reg", draw(dims()), reg=regs(LARGE_REG[1], low=LARGE_REG[0]))


@st.composite
def float32_problems(draw: st.DrawFn) -> Problem:
    """An ordinary problem in float32 (W, b and X; y stays int64)."""
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
    """Problems from every family in :data:`FAMILIES`, or from the ones named.

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
