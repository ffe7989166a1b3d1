"""The pytest plugin: gradient checks in any project's suite (entry point ``softmax_ref``).

pytest loads it in every project whose environment has softmax-ref installed
(the ``pytest11`` entry point points at ``softmax_ref_verification.pytest_plugin``,
this file under the package's collision-free name); ``-p no:softmax_ref``
turns it off. It adds:

- the Hypothesis profiles of :data:`verification.testing.PROFILES`
  (``softmax-ref-dev``, ``softmax-ref-ci``, ``softmax-ref-nightly``), registered
  when the plugin loads, before any ``conftest.py``, so that a conftest or
  ``--hypothesis-profile=softmax-ref-ci`` can load one. None is loaded here and
  a profile the user registers under the same name is theirs;
- the session fixture ``assert_gradient``:
  :func:`~verification.testing.assert_gradient_ok`, whose ``mode`` defaults to
  the run's ``--gradient-mode`` when that is given (a call's own ``mode=``
  wins). Session-scoped, so Hypothesis tests may use it;
- a line in pytest's header naming the profiles.

It imports nothing heavy: NumPy with the package, Hypothesis when installed,
JAX only when a check runs. Without Hypothesis (softmax-ref installed without
the ``verify`` extra) it registers no profile and offers no fixture.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

try:
    from .testing import PROFILES, assert_gradient_ok, register_profiles
except ImportError:  # Hypothesis is missing: no profiles, no fixture
    _AVAILABLE = False
else:
    _AVAILABLE = True
    register_profiles()

MODES = ("full", "sampled", "directional")


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``--gradient-mode`` option (default: each call's own mode)."""
    group = parser.getgroup("softmax-ref", "gradient checks (softmax-ref)")
    group.addoption(
        "--gradient-mode",
        choices=MODES,
        default=None,
        help="finite-difference mode of the assert_gradient fixture's checks: every entry, "
        "a seeded sample, or random directions (default: each call's own, 'full' unless given)",
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    """Name the profiles, so a reader of the log knows how to select one."""
    if not _AVAILABLE:
        return None
    mode = config.getoption("gradient_mode")
    return (
        f"softmax-ref: Hypothesis profiles {', '.join(PROFILES)} "
        "(select with --hypothesis-profile)" + (f"; gradient mode {mode}" if mode else "")
    )


if _AVAILABLE:

    @pytest.fixture(scope="session")
    def assert_gradient(request: pytest.FixtureRequest) -> Callable[..., Any]:
        """:func:`~verification.testing.assert_gradient_ok`, with the run's ``--gradient-mode``."""
        mode = request.config.getoption("gradient_mode")
        if mode is None:
            return assert_gradient_ok

        def assert_gradient_in_mode(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            kwargs.setdefault("mode", mode)
            return assert_gradient_ok(*args, **kwargs)

        return assert_gradient_in_mode
