"""Every tolerance the project compares numbers with, in one table keyed by dtype.

Each number carries the reason it is that number. Tests and the three-way
check read from here; no test picks its own tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TOLERANCES", "Tolerances", "tolerances_for"]


@dataclass(frozen=True)
class Tolerances:
    """Tolerances for one floating dtype."""

    eps: float
    """Machine epsilon of the dtype: the unit every other number is a multiple of."""

    paths_rtol: float
    """Two exact formulas for the same quantity evaluated in this dtype (the naive
    loop, the vectorized core, forward-only ``loss``): they differ only by
    rounding in different orders. For sums over N terms of O(1) values the
    error grows like sqrt(N) eps in practice; 1e-12 (about 4500 eps) in float64
    leaves room for N up to ~1e6 and for cancellation in the gradient's small
    entries, while still catching a wrong factor of 1 + 1e-9."""

    paths_atol: float
    """Absolute floor for entries that should be 0 but carry rounding of the
    O(1) terms summed into them (for example, db sums to 0 exactly in exact
    arithmetic). A few hundred eps."""


TOLERANCES: dict[np.dtype, Tolerances] = {
    np.dtype(np.float64): Tolerances(
        eps=float(np.finfo(np.float64).eps), paths_rtol=1e-12, paths_atol=1e-13
    ),
    # float32: eps = 1.2e-7. Paths accumulate differently (the naive loop sums in
    # float64, the core in float32 BLAS), so agreement is bounded by float32
    # rounding of a GEMM with D terms per entry: ~ sqrt(D) eps. 2e-5 (about 170
    # eps) covers D in the hundreds; atol likewise.
    np.dtype(np.float32): Tolerances(
        eps=float(np.finfo(np.float32).eps), paths_rtol=2e-5, paths_atol=2e-6
    ),
}


def tolerances_for(dtype: np.dtype | type) -> Tolerances:
    """The row of :data:`TOLERANCES` for ``dtype`` (float32 or float64)."""
    key = np.dtype(dtype)
    try:
        return TOLERANCES[key]
    except KeyError:
        raise ValueError(f"dtype must be float32 or float64; got {key}") from None
