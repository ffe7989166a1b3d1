r"""Gradient checks in another project's test suite: assertions, Hypothesis settings, the plugin.

Import it as ``softmax_ref_verification.testing``: the same module under a name
that no user package shadows (a project with its own ``verification`` package
on pytest's path would hide ours; docs/architecture.md explains the alias).

- :func:`assert_gradient_ok`: :func:`~verification.check_gradient`, then an
  ``AssertionError`` whose message is the report's table. pytest shows that
  message, not this module's source (``__tracebackhide__``). Inside a
  Hypothesis test it also calls :func:`hypothesis.target` with the report's
  :func:`error_to_bound`, so Hypothesis steers towards, and reports, the worst
  case it finds.
- :func:`assert_report_ok`: the same for a report already made (by
  :func:`~verification.check` or a model's check).
- :func:`jax_settings` and the profiles of :data:`PROFILES`: Hypothesis
  settings suited to a JAX oracle. The first call of a jitted oracle for a new
  shape compiles it (about a second), far past Hypothesis's default 200 ms
  deadline, so every one has ``deadline=None``; ``softmax-ref-ci`` is
  derandomized (the same examples on every run). :func:`register_profiles`
  adds them under names of their own and never loads one or replaces a
  profile the user has: the pytest plugin (``verification/pytest_plugin.py``)
  calls it, and ``--hypothesis-profile=softmax-ref-ci`` selects one.

Hypothesis is needed (the ``verify`` extra); JAX only when a check runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import target as _hypothesis_target
from hypothesis.control import currently_in_test_context
from hypothesis.errors import InvalidArgument

from .report import Report

__all__ = [
    "PROFILES",
    "assert_gradient_ok",
    "assert_report_ok",
    "error_to_bound",
    "jax_settings",
    "register_profiles",
]

PROFILES: dict[str, dict[str, Any]] = {
    # Quick feedback while editing: few examples, random, replaying the local
    # example database's past failures first.
    "softmax-ref-dev": {"max_examples": 10, "deadline": None},
    # Hypothesis's own ci profile with no deadline: derandomized (a red build
    # is reproducible, a green one stays green), no example database, the
    # reproduction blob printed, slow data generation tolerated.
    "softmax-ref-ci": {
        "max_examples": 100,
        "deadline": None,
        "derandomize": True,
        "database": None,
        "print_blob": True,
        "suppress_health_check": [HealthCheck.too_slow],
    },
    # Run by hand, e.g. once a night: many examples, random.
    "softmax-ref-nightly": {
        "max_examples": 2000,
        "deadline": None,
        "suppress_health_check": [HealthCheck.too_slow],
    },
}
"""The Hypothesis profiles :func:`register_profiles` adds: name -> settings."""

TARGET_LABEL = "gradient error / bound"
"""The :func:`hypothesis.target` label of :func:`assert_gradient_ok` (its ``label`` appended)."""

# target() needs a finite number; a NaN or infinite error is reported as this.
_TARGET_CAP = 1e300


def register_profiles() -> list[str]:
    """Register the profiles of :data:`PROFILES` that are not registered yet; load none.

    A profile of the same name that the user registered (before or after) is
    theirs: this never replaces it, and loading a profile stays the user's
    choice (``settings.load_profile("softmax-ref-ci")`` in a ``conftest.py``, or
    pytest's ``--hypothesis-profile=softmax-ref-ci``). Each profile is built on
    Hypothesis's ``default`` profile, so it does not depend on which profile is
    loaded when it is registered.

    Returns:
        The names registered by this call, in :data:`PROFILES` order (empty when
        all were there already).

    Example:
        >>> from hypothesis import settings
        >>> _ = register_profiles()
        >>> settings.get_profile("softmax-ref-ci").derandomize
        True
        >>> register_profiles()   # already there: nothing replaced
        []
    """
    added = []
    for name, values in PROFILES.items():
        try:
            settings.get_profile(name)
        except InvalidArgument:
            settings.register_profile(name, settings.get_profile("default"), **values)
            added.append(name)
    return added


def jax_settings(**overrides: Any) -> settings:
    """Hypothesis settings for a test whose oracle is JAX: the loaded profile, no deadline.

    Built when called, on the profile loaded then, so that a decorator written
    in a test module (``@jax_settings()``) keeps the user's profile (its
    ``max_examples``, ``derandomize``, ...) and only lifts the deadline, which a
    first call's compilation would exceed. ``overrides`` are further settings.

    Returns:
        A :class:`hypothesis.settings`, usable as a decorator.

    Example:
        >>> s = jax_settings(max_examples=5)
        >>> s.deadline is None, s.max_examples
        (True, 5)
    """
    return settings(**{"deadline": None, **overrides})


def error_to_bound(report: Report) -> float:
    r"""The largest ratio of an error to its bound over a report's comparisons.

    For each comparison, at its worst entry (the one with the largest
    error-to-bound ratio, whose values and bound the report keeps):

    .. math::
        \rho = \max_{\text{comparisons}} \frac{|a - b|}{\text{bound}}

    with :math:`a, b` the two sides' values. :math:`\rho \le 1` when every
    comparison passes; a failing report has :math:`\rho > 1`. A zero bound
    with a nonzero error, or a non-finite value, gives ``inf``.

    The report may be of any model, its gradients of any shape; the ratio is
    a scalar, shape ``()``.

    Returns:
        :math:`\rho` as a float (0.0 for a report with nothing compared).

    Example:
        >>> error_to_bound(check(oracle, oracle, {"w": np.array([0.5, 0.5])})) <= 1
        True
        >>> error_to_bound(check(wrong, oracle, {"w": np.array([0.5, 0.5])})) > 1
        True
    """
    worst = 0.0
    for c in report.comparisons:
        a, b = (c.values.get(side) for side in c.pair)
        if a is None or b is None or c.bound is None:
            continue
        err = abs(float(a) - float(b))
        if math.isnan(err):
            return math.inf
        if err == 0:
            continue
        worst = max(worst, err / c.bound if c.bound > 0 else math.inf)
    return worst


def _target(report: Report, label: str) -> None:
    if not currently_in_test_context():
        return
    ratio = min(error_to_bound(report), _TARGET_CAP)
    try:
        _hypothesis_target(ratio, label=f"{TARGET_LABEL}{' ' + label if label else ''}")
    except InvalidArgument:
        # A second check with the same label in one example: Hypothesis keeps
        # the first observation. Targeting only steers the search; the assert
        # below is the verdict either way.
        pass


def assert_report_ok(report: Report, *, label: str = "") -> Report:
    r"""Raise ``AssertionError`` with the report's table as its message unless ``report.ok``.

    A passing report has every error within its bound,
    :math:`\rho = \texttt{error\_to\_bound}(r) \le 1`; the report may be of
    any model, its gradients of any shape (the report's table names them).
    pytest prints the message and hides this function's frame. Inside a
    Hypothesis test, :func:`hypothesis.target` first records
    :func:`error_to_bound` (label :data:`TARGET_LABEL`, then ``label``).

    Returns:
        ``report``, when it passes.

    Example:
        >>> try:
        ...     assert_report_ok(check(wrong, oracle, {"w": np.array([0.5, 0.5])}))
        ... except AssertionError as e:
        ...     print(str(e).splitlines()[2])
        ANALYTIC disagrees with JAX and FD, which agree: dw[1] (2 of 2, everything)
    """
    __tracebackhide__ = True
    _target(report, label)
    if not report.ok:
        raise AssertionError("\n" + str(report))
    return report


def assert_gradient_ok(
    analytic: Callable[[Mapping[str, Any], Any], tuple[Any, Mapping[str, Any]]],
    loss: Callable[[Mapping[str, Any], Any], Any],
    params: Mapping[str, Any],
    data: Mapping[str, Any] | None = None,
    *,
    label: str = "",
    **kwargs: Any,
) -> Report:
    r"""Check ``analytic`` against ``loss`` three ways; fail with the report as the message.

    Runs :func:`~verification.check_gradient` ``(analytic, loss, params, data,
    **kwargs)`` (``mode``, ``seed`` and the rest are its options) and then
    :func:`assert_report_ok`. pytest shows the report's table, which names
    the culprit (ANALYTIC, JAX or FD) and the wrong entries, not this
    function's source.

    Args:
        analytic: ``analytic(params, data) -> (loss, grads)``, the NumPy code
            under test; ``grads`` has the keys and shapes of ``params``.
        loss: ``loss(params, data) -> scalar``, the same function in
            ``jax.numpy``.
        params: the parameters, a dict of arrays, e.g. ``{"W": (D, C), "b": (C,)}``.
        data: what is not differentiated, a dict of arrays (``X``, ``y``,
            weights, ...) passed to both functions; None for none.
        label: appended to the :func:`hypothesis.target` label, to tell several
            checks in one test apart.
        **kwargs: :func:`~verification.check_gradient`'s keyword options.

    Returns:
        The :class:`~verification.Report`, when it passes.

    Example:
        :math:`\ell(w) = \sum_i \log(1 + e^{w_i x_i})`, whose gradient is
        :math:`x_i \sigma(w_i x_i)`; then the same with :math:`\sigma` taken at
        :math:`w_i` alone:

        >>> import jax.numpy as jnp
        >>> def loss(p, d):
        ...     return jnp.sum(jnp.logaddexp(0.0, p["w"] * d["x"]))
        >>> def analytic(p, d):
        ...     z = p["w"] * d["x"]
        ...     return float(np.sum(np.logaddexp(0.0, z))), {"w": d["x"] / (1 + np.exp(-z))}
        >>> point = {"w": np.array([1.0, 0.3, -0.2])}, {"x": np.array([0.5, -2.0, 3.0])}
        >>> assert_gradient_ok(analytic, loss, *point).ok
        True
        >>> def wrong(p, d):
        ...     return analytic(p, d)[0], {"w": d["x"] / (1 + np.exp(-p["w"]))}
        >>> try:
        ...     assert_gradient_ok(wrong, loss, *point)
        ... except AssertionError as e:
        ...     print(str(e).splitlines()[1][:31])
        three-way gradient check: FAIL
    """
    __tracebackhide__ = True
    from . import check_gradient

    report: Report = check_gradient(analytic, loss, params, data, **kwargs)
    return assert_report_ok(report, label=label)
