"""The shared setup of the examples in this package's docstrings (pytest's ``doctest_namespace``).

``oracle`` is the loss :math:`\\sum_i (w_i - t_i)^2` with :math:`t = (1, -2)`
and its gradient :math:`2 (w - t)`; ``wrong`` is the same loss with the factor 2
of the gradient forgotten. :func:`verification.compare.check`'s docstring writes
them out; the report's examples use them as given here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from .compare import check

_T = np.array([1.0, -2.0])


def oracle(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
    return float(np.sum((p["w"] - _T) ** 2)), {"w": 2 * (p["w"] - _T)}


def wrong(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
    return oracle(p)[0], {"w": p["w"] - _T}


@pytest.fixture(autouse=True)
def _shared_example_setup(doctest_namespace: dict[str, Any]) -> None:
    doctest_namespace.update(np=np, check=check, oracle=oracle, wrong=wrong)
