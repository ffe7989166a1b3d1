"""Fixtures, markers and machine facts for the benchmark suites.

The problems themselves are in problems.py (shared with the scripts). The
three large sizes are marked ``slow``, so the CI smoke run (``-m "not slow"
--benchmark-disable``) skips them. Each problem is built once per module and
dropped before the next one is built (pytest groups the tests by this
module-scoped parameter), so one size's arrays are alive at a time.

machine_info holds only what stays the same from run to run on one machine
(libraries, BLAS, settings): pytest-benchmark warns when a compared run's
machine_info differs. The load average, which changes every run, goes into
each benchmark's extra_info instead.
"""

from __future__ import annotations

import os
import platform

import pytest
from problems import DTYPES, SIZES, SLOW, Problem, make_problem

__all__ = ["Problem"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: a large problem (seconds per round, up to GBs); skipped by the smoke run"
    )


PARAMS = [
    pytest.param((name, dt), id=f"{name}-{dt}", marks=[pytest.mark.slow] if name in SLOW else [])
    for name in SIZES
    for dt in DTYPES
]


@pytest.fixture(scope="module", params=PARAMS)
def problem(request: pytest.FixtureRequest) -> Problem:
    name, dt = request.param
    return make_problem(name, DTYPES[dt])


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Record what the numbers depend on: BLAS and its kernel, versions, settings."""
    import importlib.metadata as md

    from threadpoolctl import threadpool_info

    versions = {}
    for dist in ("numpy", "scipy", "scikit-learn", "jax", "jaxlib", "threadpoolctl", "softmax-ref"):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            versions[dist] = None
    machine_info["softmax_ref"] = {
        "versions": versions,
        "python": platform.python_version(),
        "threadpool_info": threadpool_info(),
        "cpu_count": os.cpu_count(),
        "env": {
            k: os.environ.get(k)
            for k in (
                "OPENBLAS_CORETYPE",
                "OPENBLAS_L2_SIZE",
                "OPENBLAS_NUM_THREADS",
                "OMP_NUM_THREADS",
                "SOFTMAX_REF_NUM_THREADS",
                "SOFTMAX_REF_BLOCK_BYTES",
                "SOFTMAX_REF_SUB_GEMM_ROWS",
            )
        },
    }
