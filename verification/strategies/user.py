r"""Hypothesis strategies for a user's own model: their parameter shapes, their data.

A point is a pair ``(params, data)``, the two arguments of
:func:`~verification.check_gradient`'s functions: ``params`` the arrays that are
differentiated, ``data`` those that are not.

- :func:`param_dicts`: finite, bounded parameter arrays of given shapes;
- :func:`sample_weights`: positive, finite per-sample weights;
- :func:`classification_points`: shapes drawn first (``N`` samples, ``D``
  features, ``C`` classes and any dimension the user names), then the
  parameters, with shapes written with those letters (``{"W": ("D", "C")}``),
  and the data: ``X`` (N, D), labels ``y`` (N,) in ``[0, C)``, optionally
  ``weights`` (N,) and ``reg``;
- :func:`from_problems`: the same pairs from the project's problem families
  (:func:`~verification.strategies.problems`,
  :func:`~verification.strategies.two_layer_problems`), so a user's loss meets
  the hard cases (extreme scores, ties, absent classes, float32, ...).

Every array is read-only, so a function under test that writes to its inputs
fails loudly, and finite: the strategies are for correct gradients of valid
inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .blocks import (  # noqa: F401  (find_example: used by the examples)
    MAX_C,
    MAX_D,
    MAX_N,
    _readonly,
    find_example,
    float_arrays,
    labels,
    regs,
)
from .softmax import W_BOUND, X_BOUND

__all__ = [
    "WEIGHT_RANGE",
    "Point",
    "classification_points",
    "from_problems",
    "param_dicts",
    "sample_weights",
]

Point = tuple[dict[str, np.ndarray], dict[str, Any]]
"""``(params, data)``: what :func:`~verification.check_gradient` takes after the functions."""

# Weights within a factor 100 of each other: a weighted mean whose weights
# span many orders is a different (badly conditioned) problem, not a harder
# case of this one.
WEIGHT_RANGE = (0.1, 10.0)

Shape = Sequence[int | str]


def param_dicts(
    shapes: Mapping[str, Sequence[int]], *, bound: float = W_BOUND, dtype: Any = np.float64
) -> st.SearchStrategy[dict[str, np.ndarray]]:
    r"""Dicts of parameter arrays, ``name -> array of shapes[name]``, entries in ``[-B, B]``.

    .. math::
        \theta_k \in [-B, B]^{\text{shape}_k}

    Finite, read-only, 0 or at least the dtype's ``MIN_MAGNITUDE`` in magnitude
    (as :func:`~verification.strategies.float_arrays`).

    Example:
        >>> p = find_example(param_dicts({"W": (2, 3), "b": (3,)}))
        >>> {k: v.shape for k, v in p.items()}
        {'W': (2, 3), 'b': (3,)}
    """
    return st.fixed_dictionaries(
        {name: float_arrays(tuple(shape), bound, dtype) for name, shape in shapes.items()}
    )


def sample_weights(
    n: int, *, low: float = WEIGHT_RANGE[0], high: float = WEIGHT_RANGE[1], dtype: Any = np.float64
) -> st.SearchStrategy[np.ndarray]:
    r"""``n`` positive per-sample weights in ``[low, high]`` (read-only), shape ``(n,)``.

    .. math::
        w \in [\ell, h]^n, \qquad 0 < \ell \le h

    Example:
        >>> w = find_example(sample_weights(4))
        >>> w.shape, bool(w.min() >= 0.1)
        ((4,), True)
    """
    if not 0 < low <= high:
        raise ValueError(f"sample_weights needs 0 < low <= high; got low={low}, high={high}")
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=_width(dtype))
    return hnp.arrays(dtype, n, elements=elements).map(_readonly)


def _width(dtype: Any) -> Literal[16, 32, 64]:
    return 32 if np.dtype(dtype) == np.float32 else 64


def _resolve(name: str, shape: Shape, sizes: Mapping[str, Any]) -> tuple[int, ...]:
    out = []
    for dim in shape:
        if isinstance(dim, str):
            if dim not in sizes:
                raise ValueError(
                    f"shape of {name!r} names dimension {dim!r}; expected one of "
                    f"{sorted(sizes)} (add it with dims={{{dim!r}: (low, high)}})"
                )
            out.append(sizes[dim])
        else:
            out.append(int(dim))
    return tuple(out)


@st.composite
def _classification_points(
    draw: st.DrawFn,
    params: Mapping[str, Shape],
    ranges: Mapping[str, tuple[int, int]],
    param_bound: float,
    x_bound: float,
    weights: bool,
    reg: st.SearchStrategy[float] | None,
    dtype: Any,
) -> Point:
    sizes = {k: draw(st.integers(*r), label=k) for k, r in ranges.items()}
    n, d, c = sizes["N"], sizes["D"], sizes["C"]
    p = {
        name: draw(float_arrays(_resolve(name, shape, sizes), param_bound, dtype))
        for name, shape in params.items()
    }
    data: dict[str, Any] = {
        "X": draw(float_arrays((n, d), x_bound, dtype)),
        "y": draw(labels(n, c)),
    }
    if weights:
        data["weights"] = draw(sample_weights(n, dtype=dtype))
    if reg is not None:
        data["reg"] = draw(reg)
    return p, data


def classification_points(
    params: Mapping[str, Shape],
    *,
    n: tuple[int, int] = (1, MAX_N),
    d: tuple[int, int] = (1, MAX_D),
    c: tuple[int, int] = (2, MAX_C),
    dims: Mapping[str, tuple[int, int]] | None = None,
    param_bound: float = W_BOUND,
    x_bound: float = X_BOUND,
    weights: bool = False,
    reg: st.SearchStrategy[float] | None = None,
    dtype: Any = np.float64,
) -> st.SearchStrategy[Point]:
    r"""``(params, data)`` of a classification problem, the parameters of the user's shapes.

    Draws the sizes first, each from its inclusive range: ``N`` in ``n``,
    ``D`` in ``d``, ``C`` in ``c`` and every entry of ``dims`` (a hidden width
    ``"H"``, say). ``params`` maps each parameter's name to its shape, written
    with those letters and integers. Then:

    .. math::
        \theta_k \in [-B_\theta, B_\theta]^{\text{shape}_k}, \quad
        X \in [-B_X, B_X]^{N \times D}, \quad y \in \{0..C-1\}^N, \quad
        w \in [0.1, 10]^N

    ``data`` holds ``X`` and ``y``, ``weights`` when asked for (see
    :func:`sample_weights`) and ``reg`` drawn from the given strategy (e.g.
    :func:`~verification.strategies.regs`).

    Raises:
        ValueError: when a shape names a dimension that is not drawn.

    Example:
        >>> params, data = find_example(classification_points(
        ...     {"W": ("D", "C"), "b": ("C",)}, weights=True, reg=regs()))
        >>> N, D = data["X"].shape
        >>> C = params["b"].shape[0]
        >>> params["W"].shape == (D, C), data["y"].shape == (N,), data["weights"].shape == (N,)
        (True, True, True)
        >>> sorted(data)
        ['X', 'reg', 'weights', 'y']
    """
    ranges = {"N": n, "D": d, "C": c, **(dims or {})}
    for name, shape in params.items():
        _resolve(name, shape, ranges)  # fail at once, not on the first draw
    return _classification_points(params, ranges, param_bound, x_bound, weights, reg, dtype)


@st.composite
def _with_weights(draw: st.DrawFn, problem: Any, weights: bool) -> Point:
    if hasattr(problem, "params"):
        params = dict(problem.params)
    else:
        params = {"W": problem.W, "b": problem.b}
    data: dict[str, Any] = {"X": problem.X, "y": problem.y, "reg": problem.reg}
    if weights:
        data["weights"] = draw(sample_weights(problem.X.shape[0], dtype=problem.X.dtype))
    return params, data


def from_problems(
    problems: st.SearchStrategy[Any], *, weights: bool = False
) -> st.SearchStrategy[Point]:
    r"""The project's problem families as ``(params, data)`` pairs for a user's own loss.

    A linear :class:`~verification.strategies.Problem` gives ``params``
    ``{"W": (D, C), "b": (C,)}``; a
    :class:`~verification.strategies.TwoLayerProblem` gives ``W1 b1 W2 b2``.
    ``data`` is ``{"X": (N, D), "y": (N,), "reg": float}`` and, with
    ``weights``, ``"weights"`` (N,) drawn by :func:`sample_weights` in the
    problem's dtype:

    .. math::
        (\theta, \text{data}) = (\{W, b\}, \{X, y, \lambda[, w]\})

    Example:
        >>> from verification.strategies import problems
        >>> params, data = find_example(from_problems(problems(["tied"]), weights=True))
        >>> sorted(params), sorted(data)
        (['W', 'b'], ['X', 'reg', 'weights', 'y'])
    """
    return problems.flatmap(lambda problem: _with_weights(problem, weights))
