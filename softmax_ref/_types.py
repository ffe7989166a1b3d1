"""The types every training-side module shares: a model's parameters and its loss function.

Parameters travel as a dict of named float arrays (``{"W": (D, C), "b": (C,)}``
for the linear model, ``{"W1", "b1", "W2", "b2"}`` for the two-layer network);
gradients as a mapping with the same keys and shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

__all__ = ["Grads", "LossAndGrad", "Params", "Score"]

Params = dict[str, np.ndarray]
Grads = Mapping[str, np.ndarray]
LossAndGrad = Callable[[Params, np.ndarray, np.ndarray, float], tuple[float, Params]]
Score = Callable[[Params, np.ndarray, np.ndarray], float]
