"""The building blocks of every model's problems: shapes, bounded arrays, labels, reg.

Every strategy draws the shapes first (N samples, D features, C classes; D and
C drawn independently so that D != C most of the time and a transposed W is a
shape error, not a silent pass), then finite, bounded arrays, then labels in
``[0, C)`` and ``reg >= 0`` (0 included). Arrays are small (N <= 20, D <= 6,
C <= 6) so that a full three-way check of one problem is cheap. Generated
arrays are read-only.

:func:`find_example` shows what a strategy draws, the same on every run; the
examples of this package use it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
from hypothesis import Phase, find, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = [
    "LARGE_REG",
    "MAX_C",
    "MAX_D",
    "MAX_N",
    "MIN_MAGNITUDE",
    "dims",
    "find_example",
    "float_arrays",
    "labels",
    "regs",
]

T = TypeVar("T")

# Small enough that a full finite-difference check (4 evaluations per entry of
# W and b, at most 6 * 6 + 6 = 42 entries) costs a few milliseconds, large
# enough that N, D and C can all differ and every code path sees a real sum.
MAX_N = 20
MAX_D = 6
MAX_C = 6

# The large_reg families draw reg from this range: 0.5 * reg * ||W||^2 then
# dominates a data term of O(10), and reg * W dominates the gradient of W.
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
        >>> find_example(dims(), lambda s: s[1] != s[2])
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
        >>> a = find_example(float_arrays((2, 3), 1.0))
        >>> a.shape, a.dtype, a.flags.writeable
        ((2, 3), dtype('float64'), False)
    """
    # Cached: a composite strategy asks for the same few shapes over and over,
    # and building (and validating) a fresh strategy each time doubles the cost
    # of a draw.
    elements = _floats(-bound, bound, dtype, tiny)
    # fill=nothing(): every entry is drawn on its own. Hypothesis's default fill
    # sets most entries of an array to one shared value, which made X all zero in
    # a fifth of the draws and the data term of dW zero in a quarter.
    return hnp.arrays(dtype, shape, elements=elements, fill=st.nothing()).map(_readonly)


def labels(n: int, classes: int | list[int]) -> st.SearchStrategy[np.ndarray]:
    r"""``n`` labels (int64, read-only), drawn from ``range(classes)`` or the listed classes.
    They shrink towards the first listed class.

    .. math::
        y \in S^n, \qquad S = \{0, \dots, C - 1\} \text{ or the listed classes}

    The array has shape ``(n,)``.

    Example:
        >>> y = find_example(labels(4, [2, 5]))
        >>> y.shape, set(y.tolist()) <= {2, 5}
        ((4,), True)
    """
    pool = tuple(range(classes)) if isinstance(classes, int) else tuple(classes)
    return _labels(n, pool)


@lru_cache(maxsize=1024)
def _labels(n: int, pool: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.int64, n, elements=st.sampled_from(pool), fill=st.nothing()).map(_readonly)


def regs(
    high: float = 1.0, *, low: float = 0.0, dtype: Any = np.float64, tiny: bool = False
) -> st.SearchStrategy[float]:
    r"""``reg`` values in ``[low, high]``; exactly 0 in about a quarter of draws when ``low`` is 0.

    .. math::
        \lambda \in \{0\} \cup [\max(\ell, m), h] \ \text{ if } \ell = 0, \qquad
        \lambda \in [\max(\ell, m), h] \ \text{ otherwise}

    with :math:`\ell, h` = ``low``, ``high`` and :math:`m` the dtype's
    :data:`MIN_MAGNITUDE` (0 with ``tiny``). A scalar: shape ``()``.

    Nonzero values are as for :func:`float_arrays` with the same ``dtype`` and
    ``tiny`` (reg itself is a Python float either way).

    reg = 0 deserves its own branch: code that skips the penalty when reg is 0
    must give the same numbers as code that adds 0 * W. It stays a minority
    (one branch in four), since a penalty mistake is invisible at reg = 0;
    the branch index shrinks to 0, so a failure shrinks towards reg = 0.

    Example:
        >>> find_example(regs(), lambda r: r == 0)
        0.0
    """
    if tiny:
        # exclude_min: 0 is the other branch's; floats() alone draws its bounds often.
        ranged = st.floats(low, high, allow_nan=False, allow_infinity=False, exclude_min=low == 0)
    else:
        ranged = st.floats(
            max(low, MIN_MAGNITUDE[np.dtype(dtype)]),
            high,
            allow_nan=False,
            allow_infinity=False,
            allow_subnormal=False,
        )
    if low != 0:
        return ranged
    return st.integers(0, 3).flatmap(lambda k: st.just(0.0) if k == 3 else ranged)


def find_example(strategy: st.SearchStrategy[T], condition: Callable[[T], Any] | None = None) -> T:
    r"""The first value ``strategy`` draws that satisfies ``condition``: the same on every run.

    :func:`hypothesis.find` without an example database, derandomized and
    without shrinking, so the value is the first draw :math:`x_i` in a fixed
    order with :math:`c(x_i)` true (any value when ``condition`` is None). It
    has the shape of whatever the strategy draws. For looking at a strategy's
    output, in a docstring or at the prompt; a property test uses ``@given``.

    Example:
        >>> find_example(dims(), lambda s: s[1] != s[2])   # (N, D, C)
        (1, 1, 2)
    """
    # Its own budget, not the active profile's (10 under dev): a value drawn once in
    # four must be found whatever modules are loaded (their constants change the draws).
    quick = settings(database=None, derandomize=True, phases=[Phase.generate], max_examples=1000)
    return find(strategy, condition or (lambda _: True), settings=quick)
