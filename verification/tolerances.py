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
    r"""Tolerances for one floating dtype.

    They bound, entry by entry, how far two computations of the same quantity
    may differ: a loss (shape ``()``), a gradient such as dW ``(D, C)`` or db
    ``(C,)``, each tolerance a scalar applied to every entry. Two NumPy paths
    (:math:`a`, :math:`b`), and ANALYTIC against JAX (:math:`A`, :math:`J`):

    .. math::
        \begin{aligned}
        |a_i - b_i| &\le \texttt{paths\_rtol}\,|b_i| + \texttt{paths\_atol}, \\
        |A_i - J_i| &\le \texttt{exact\_rtol}\,|J_i|
            + \texttt{exact\_atol\_factor}\;\varepsilon\, s_i,
        \end{aligned}

    with :math:`\varepsilon` = ``eps`` and :math:`s_i` the size of the terms
    that round into entry :math:`i` (:mod:`verification.compare`); finite
    differences take the error of one evaluation of f as
    ``fd_roundoff_factor`` :math:`\varepsilon\, f_\text{scale}`
    (:mod:`verification.finite_diff`).

    Example:
        >>> t = TOLERANCES[np.dtype(np.float64)]
        >>> t.eps, t.paths_rtol, round(t.exact_rtol / t.eps)   # exact_rtol: ~450 eps
        (2.220446049250313e-16, 1e-12, 450)
        >>> a, b = np.array([1.0, 0.0]), np.array([1.0 + 1e-13, 1e-14])
        >>> bool(np.all(np.abs(a - b) <= t.paths_rtol * np.abs(b) + t.paths_atol))
        True
    """

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

    exact_rtol: float
    """Three-way check, ANALYTIC vs JAX, per entry: both are exact formulas, so
    they differ by rounding only. Relative part of the tolerance
    ``exact_rtol * |JAX| + exact_atol_factor * eps * scale``. In float64 1e-13
    (about 450 eps): far below any derivation error worth catching (a factor
    1 + 1e-6 on one entry fails by seven orders of magnitude), far above the
    1e-16..1e-15 the two agree to on ordinary problems (scripts/check_margins.py
    measures it: over 700 problems of seven families the largest
    |ANALYTIC - JAX| in a gradient was 0.0010 of this tolerance, 0.0055 in the
    loss). In float32 the analytic side is float32 and JAX is the float64
    truth, so it is float32 rounding that is measured."""

    exact_atol_factor: float
    """Absolute part of the ANALYTIC vs JAX tolerance, in units of ``eps * scale``
    where ``scale`` is the size of the terms that round into that entry (for
    softmax: the mean over samples of |x| (1 + 2 max|F|) |P - Y|, because an
    error eps*|F| in a score moves every probability, and every 1 - p_y, by that
    relative amount; see verification.models.softmax_scales). The weight
    |P - Y| keeps the floor relative to the entry's own terms: an entry of 1e-18
    (a label ahead by 40) is not hidden under a floor of 1e-12. Rounding of a sum
    of terms is bounded by a small multiple of eps times the sum of their
    magnitudes; 64 covers a dot product of D terms, exp, a sum over C, a log and
    a mean over N in either dtype (scripts/check_margins.py over 700 problems,
    ordinary, extreme logits, tied, one sample, one feature, large reg and
    float32: the largest |ANALYTIC - JAX| / (eps * scale) was 0.25, so 64 leaves
    a margin of ~250 for conditioning worse than any drawn there; not a fit to
    the data; with the |P - Y|-weighted scales, 280 problems of
    ``scripts/check_margins.py --problems 40`` gave at most 0.46, in float32).
    This floor is what lets entries that are 0 in exact arithmetic
    (db at a balanced point, saturated probabilities) pass without a relative
    test on noise."""

    fd_roundoff_factor: float
    """Finite differences (always run in float64): the error of one evaluation
    of f is taken to be ``fd_roundoff_factor * eps * f_scale``, f_scale being
    the magnitude of the terms f sums (for softmax the same scale as the
    loss's). 16: the rounding of a loss evaluation is a few eps per operation
    on the longest chain (a D-term dot, exp, a C-term sum, log, an N-term mean),
    accumulating like a random walk; 16 is above every measured case and still
    leaves the finite-difference bound near 1e-10 relative in float64, tight
    enough to fail a factor 1 + 1e-6 (scripts/check_margins.py: over 700
    problems the largest FD error was 0.052 of its bound)."""

    fd_inconclusive_rtol: float
    """Where the finite-difference bound of an entry exceeds this fraction of
    the entry's scale, FD cannot resolve an error of a derivation-sized
    fraction (a wrong factor of 1.001 needs a bound below 1e-3), so a passing
    comparison there is reported "inconclusive" instead of "pass". 1e-4 leaves
    a margin of ten below the smallest error the suite promises to catch."""


TOLERANCES: dict[np.dtype, Tolerances] = {
    np.dtype(np.float64): Tolerances(
        eps=float(np.finfo(np.float64).eps),
        paths_rtol=1e-12,
        paths_atol=1e-13,
        exact_rtol=1e-13,
        exact_atol_factor=64.0,
        fd_roundoff_factor=16.0,
        fd_inconclusive_rtol=1e-4,
    ),
    # float32: eps = 1.2e-7. Paths accumulate differently (the naive loop sums in
    # float64, the core in float32 BLAS), so agreement is bounded by float32
    # rounding of a GEMM with D terms per entry: ~ sqrt(D) eps. 2e-5 (about 170
    # eps) covers D in the hundreds; atol likewise.
    # Three-way check in float32: the analytic gradient is computed in float32
    # and compared with the float64 JAX truth at the same (exactly representable)
    # point. exact_rtol 1e-5 is about 84 float32 eps: a GEMM of D terms and the
    # softmax lose a few eps each. FD is never run in float32 (its verdict would
    # mean nothing: eps^(1/5) = 0.04 steps, 1e-3 relative bounds); the fd_*
    # numbers are float64's, repeated so that every row is complete.
    np.dtype(np.float32): Tolerances(
        eps=float(np.finfo(np.float32).eps),
        paths_rtol=2e-5,
        paths_atol=2e-6,
        exact_rtol=1e-5,
        exact_atol_factor=64.0,
        fd_roundoff_factor=16.0,
        fd_inconclusive_rtol=1e-4,
    ),
}


def tolerances_for(dtype: np.dtype | type) -> Tolerances:
    """The row of :data:`TOLERANCES` for ``dtype`` (float32 or float64).

    Args:
        dtype: a NumPy dtype, a type or a name: ``np.float64``, ``"float32"``, ...

    Raises:
        ValueError: for any other dtype, naming it.

    Example:
        >>> tolerances_for("float32").exact_rtol, tolerances_for(np.float64).exact_rtol
        (1e-05, 1e-13)
        >>> tolerances_for(np.float16)
        Traceback (most recent call last):
        ...
        ValueError: dtype must be float32 or float64; got float16
    """
    key = np.dtype(dtype)
    try:
        return TOLERANCES[key]
    except KeyError:
        raise ValueError(f"dtype must be float32 or float64; got {key}") from None
