"""The benchmark problems: sizes, dtypes and how each problem is built.

Read by the pytest-benchmark suites (through conftest.py), by
``scripts/bench_sidebyside.py``, ``scripts/bench_regress.py``,
``scripts/bench_memory.py`` and ``scripts/tune_block.py``, so that every
measurement times the same arrays.

Sizes (N, D, C): the post's toy data, the cs231n CIFAR-10 development and full
training sets (3072 pixels + a bias column), a tall narrow set and one with
many classes; each in float64 and float32. The three large sizes allocate
hundreds of MB to GBs and take seconds per round (``SLOW``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIZES: dict[str, tuple[int, int, int]] = {
    "toy": (1000, 2, 3),
    "cs231n-dev": (500, 3073, 10),
    "cs231n-full": (49000, 3073, 10),
    "tall": (1_000_000, 32, 10),
    "wide-class": (10_000, 1000, 1000),
}
SLOW = {"cs231n-full", "tall", "wide-class"}
DTYPES = {"float64": np.float64, "float32": np.float32}


@dataclass
class Problem:
    """One benchmark problem: W (D, C), b (C,), X (N, D), y (N,), reg, in one dtype."""

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


def make_problem(
    name: str, dtype: type | np.dtype, seed: int = 0, shape: tuple[int, int, int] | None = None
) -> Problem:
    """The problem ``name`` (a key of SIZES) in ``dtype``; ``shape`` overrides its (N, D, C)."""
    n, d, c = shape if shape is not None else SIZES[name]
    dt = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32 if dt == np.float32 else np.float64)
    # Weights of 0.01 like a classifier early in training: every implementation,
    # the post's code included, computes the same numbers to its dtype's precision.
    W = (0.01 * rng.standard_normal((d, c))).astype(dt)
    b = (0.01 * rng.standard_normal(c)).astype(dt)
    y = rng.integers(0, c, size=n)
    return Problem(name, dt, W, b, X, y)
