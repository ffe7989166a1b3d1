"""Hypothesis strategies of problems for the three-way check, one per family of hard cases.

- :mod:`verification.strategies.blocks`: the building blocks every model's
  strategies share (shapes, bounded read-only arrays, labels, reg) and
  :func:`find_example`;
- :mod:`verification.strategies.softmax`: the linear softmax model's
  :class:`Problem` and its families (:data:`FAMILIES`, :func:`problems`);
- :mod:`verification.strategies.confident`: linear problems whose labels win
  by a gap of 15 to 700 (:func:`confident_problems`), judged against a
  50-digit truth rather than in the three-way check;
- :mod:`verification.strategies.two_layer`: the one-hidden-layer network's
  :class:`TwoLayerProblem` and its families (:data:`TWO_LAYER_FAMILIES`,
  :func:`two_layer_problems`);
- :mod:`verification.strategies.user`: a user's own model, as ``(params, data)``
  pairs: :func:`param_dicts`, :func:`sample_weights`,
  :func:`classification_points` (the user's parameter shapes) and
  :func:`from_problems` (the families above, for the user's loss).

A problem is a frozen dataclass that remembers its family, so that a failing
report names the kind of case it came from, and whose ``repr`` is code that
rebuilds it exactly (for pinning a counterexample with ``@example``). A new
model adds a module here with its problem class, its families and a registry
like :data:`FAMILIES`, built from the blocks. Every name is importable from
this package as well as from its module.
"""

from .blocks import (
    LARGE_REG,
    MAX_C,
    MAX_D,
    MAX_N,
    MIN_MAGNITUDE,
    dims,
    find_example,
    float_arrays,
    labels,
    regs,
)
from .confident import (
    CONFIDENT_MAX_GAP,
    CONFIDENT_MIN_GAP,
    confident_problems,
)
from .softmax import (
    B_BOUND,
    BLOCKED_BLOCK_ROWS,
    BLOCKED_ROWS,
    EXTREME_SCALE,
    FAMILIES,
    FLOAT32_EXTREME_SCALE,
    FLOAT32_SUBNORMAL_GAP,
    W_BOUND,
    X_BOUND,
    Problem,
    absent_class_problems,
    blocked_problems,
    extreme_problems,
    float32_extreme_problems,
    float32_problems,
    large_reg_problems,
    ordinary_problems,
    problems,
    single_feature_problems,
    single_sample_problems,
    tied_problems,
)
from .two_layer import (
    MAX_H,
    TWO_LAYER_EXTREME_SCALE,
    TWO_LAYER_FAMILIES,
    TwoLayerProblem,
    place_kinks,
    two_layer_dead_unit_problems,
    two_layer_dims,
    two_layer_extreme_problems,
    two_layer_float32_problems,
    two_layer_kink_problems,
    two_layer_large_reg_problems,
    two_layer_near_kink_problems,
    two_layer_ordinary_problems,
    two_layer_problems,
    two_layer_single_sample_problems,
    two_layer_square_problems,
    z_signs_are_robust,
)
from .user import (
    WEIGHT_RANGE,
    Point,
    classification_points,
    from_problems,
    param_dicts,
    sample_weights,
)

__all__ = [
    "BLOCKED_BLOCK_ROWS",
    "BLOCKED_ROWS",
    "B_BOUND",
    "CONFIDENT_MAX_GAP",
    "CONFIDENT_MIN_GAP",
    "EXTREME_SCALE",
    "FAMILIES",
    "FLOAT32_EXTREME_SCALE",
    "FLOAT32_SUBNORMAL_GAP",
    "LARGE_REG",
    "MAX_C",
    "MAX_D",
    "MAX_H",
    "MAX_N",
    "MIN_MAGNITUDE",
    "TWO_LAYER_EXTREME_SCALE",
    "TWO_LAYER_FAMILIES",
    "WEIGHT_RANGE",
    "W_BOUND",
    "X_BOUND",
    "Point",
    "Problem",
    "TwoLayerProblem",
    "absent_class_problems",
    "blocked_problems",
    "classification_points",
    "confident_problems",
    "dims",
    "extreme_problems",
    "find_example",
    "float32_extreme_problems",
    "float32_problems",
    "float_arrays",
    "from_problems",
    "labels",
    "large_reg_problems",
    "ordinary_problems",
    "param_dicts",
    "place_kinks",
    "problems",
    "regs",
    "sample_weights",
    "single_feature_problems",
    "single_sample_problems",
    "tied_problems",
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
