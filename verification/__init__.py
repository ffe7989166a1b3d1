"""Verification of hand-derived gradients: a JAX oracle, finite differences, a three-way check.

This package knows nothing of how a gradient was derived: it takes functions and
arrays, and imports nothing from the code it verifies. It imports NumPy only at
top level; JAX is imported by ``jax_scope``, ``oracle``, ``hvp_oracle`` and
``user_oracle``, which the checks load when first called, and runs in a scoped
64-bit mode: JAX's process-wide precision is never changed.

- :func:`check_gradient` (``verification.gradient``): the three-way check of
  any loss, given as NumPy gradient code and the same loss in ``jax.numpy``;
- :func:`check` (``verification.compare``): the three-way engine, for any model;
- :func:`check_softmax`, :func:`check_two_layer` (``verification.models``): the
  engine wired for this project's models, the analytic function an argument;
- :class:`Report`, :class:`Comparison` (``verification.report``): what a check returns.
"""

from .compare import check
from .gradient import check_gradient
from .models import check_softmax, check_two_layer
from .report import Comparison, Report

__all__ = ["Comparison", "Report", "check", "check_gradient", "check_softmax", "check_two_layer"]
