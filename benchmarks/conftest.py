"""Problems, markers and machine facts for the benchmark suites.

Sizes (N, D, C) are the issue's five: the post's toy data, the cs231n CIFAR-10
development and full training sets (3072 pixels + a bias column), a tall
narrow set and one with many classes; each in float64 and float32. The three
large sizes allocate hundreds of MB to GBs and take seconds per round: they are
marked ``slow``, so the CI smoke run (``-m "not slow" --benchmark-disable``)
skips them.

Each problem is built once per module and dropped before the next one is
built (pytest groups the tests by this module-scoped parameter), so one size's
arrays are alive at a time.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

import numpy as np
import pytest

# JAX's float64 flag is set once, in the oracle module, before any JAX array exists.
import verification.oracle  # noqa: F401

SIZES = {
    "toy": (1000, 2, 3),
    "cs231n-dev": (500, 3073, 10),
    "cs231n-full": (49000, 3073, 10),
    "tall": (1_000_000, 32, 10),
    "wide-class": (10_000, 1000, 1000),
}
SLOW = {"cs231n-full", "tall", "wide-class"}
DTYPES = {"float64": np.float64, "float32": np.float32}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: a large problem (seconds per round, up to GBs); skipped by the smoke run"
    )


@dataclass
class Problem:
    name: str
    dtype: np.dtype
    W: np.ndarray
    b: np.ndarray
    X: np.ndarray
    y: np.ndarray
    reg: float = 1e-3

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.X.shape[0], self.X.shape[1], self.W.shape[1])

    @property
    def group(self) -> str:
        n, d, c = self.shape
        return f"{self.name} {np.dtype(self.dtype).name} (N={n}, D={d}, C={c})"

    def info(self) -> dict[str, object]:
        n, d, c = self.shape
        return {
            "size": self.name,
            "dtype": np.dtype(self.dtype).name,
            "N": n,
            "D": d,
            "C": c,
            "flops": 4 * n * d * c,  # forward and backward GEMMs, 2 N D C each
            "bytes_X": int(self.X.nbytes),
        }


def make_problem(name: str, dtype: type, seed: int = 0) -> Problem:
    n, d, c = SIZES[name]
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32 if dtype == np.float32 else np.float64)
    # Weights of 0.01 like a classifier early in training: the post's code (no shift
    # by the max) stays finite, so every implementation computes the same numbers.
    W = (0.01 * rng.standard_normal((d, c))).astype(dtype)
    b = (0.01 * rng.standard_normal(c)).astype(dtype)
    y = rng.integers(0, c, size=n)
    return Problem(name, np.dtype(dtype), W, b, X, y)


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
    """Record what the numbers depend on: BLAS and its kernel, versions, load, settings."""
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
        "loadavg_at_start": os.getloadavg(),
        "env": {
            k: os.environ.get(k)
            for k in (
                "OPENBLAS_CORETYPE",
                "OPENBLAS_L2_SIZE",
                "OPENBLAS_NUM_THREADS",
                "OMP_NUM_THREADS",
                "SOFTMAX_REF_NUM_THREADS",
                "SOFTMAX_REF_BLOCK_BYTES",
            )
        },
    }
