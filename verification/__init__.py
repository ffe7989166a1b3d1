"""Verification of hand-derived gradients: a JAX oracle, finite differences, a three-way check.

This package knows nothing of how a gradient was derived: it takes functions and
arrays. It imports NumPy only at top level; JAX is imported by ``oracle``, which
:func:`check_softmax` loads when first called.
"""

from verification.compare import Comparison, Report, check, check_softmax

__all__ = ["Comparison", "Report", "check", "check_softmax"]
