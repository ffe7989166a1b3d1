"""Hypothesis profiles for the test suite: dev (quick), ci (reproducible), nightly (thorough).

Which profile runs:

* ``HYPOTHESIS_PROFILE=<name>`` selects one explicitly;
* otherwise ``ci`` when Hypothesis itself detects CI (the ``CI`` variable or a
  vendor's, as :func:`hypothesis` does at import: it loads its built-in ``ci``
  profile then, and we keep that choice); ``make test`` sets ``CI=true``;
* otherwise ``dev``.

Every profile has ``deadline=None``: the first call of a JAX oracle for a new
shape compiles it, which takes far longer than the default 200 ms deadline and
says nothing about the code under test (no timing asserts in tests).

A property test asks for a multiple of the profile's ``max_examples`` (see
``tests/test_properties.py``), so the profile scales the whole suite.
``HYPOTHESIS_MAX_EXAMPLES=<n>`` replaces the chosen profile's ``max_examples``
(``make nightly NIGHTLY_EXAMPLES=400`` runs a reduced nightly).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Hypothesis has already loaded its built-in "ci" profile if it detected CI.
_IN_CI = settings.get_current_profile_name() == "ci"

# The built-in ci profile: derandomize=True (the same examples on every run,
# so a red build is reproducible and a green one stays green), no database,
# print_blob=True, too_slow suppressed. 100 examples per test is Hypothesis's
# default and what the property suite's example budget is measured against.
settings.register_profile(
    "ci", settings.get_profile("ci"), max_examples=100, deadline=None, print_blob=True
)
# Quick feedback while editing: few examples, random (with the local example
# database replaying past failures first).
settings.register_profile("dev", max_examples=10, deadline=None)
# Run by hand, e.g. once a night: many examples, random, no health check for
# slow data generation since the run is long anyway.
settings.register_profile(
    "nightly",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _IN_CI else "dev")
_MAX_EXAMPLES = os.environ.get("HYPOTHESIS_MAX_EXAMPLES")
if _MAX_EXAMPLES:
    if not _MAX_EXAMPLES.isdigit() or int(_MAX_EXAMPLES) < 1:
        raise ValueError(f"HYPOTHESIS_MAX_EXAMPLES must be an integer >= 1; got {_MAX_EXAMPLES!r}")
    settings.register_profile(
        _PROFILE, settings.get_profile(_PROFILE), max_examples=int(_MAX_EXAMPLES)
    )
settings.load_profile(_PROFILE)

# A command-line tool of the meta-tests with side effects at import (it loads a profile
# and silences the property tests' statistics): run it, do not collect it for doctests.
collect_ignore = ["meta/pipeline_rates.py"]
