"""Loss-and-gradient of the softmax classifier: every registered implementation, by size.

For each problem (problems.py: five sizes, float64 and float32) one group
holds every implementation of the registry (impls.py) that runs at that size:
ours, the post's code (the baseline), the naive loops (toy only), JAX's
``jit(value_and_grad)``, scikit-learn's ``HalfMultinomialLoss`` with 1 and 2
OpenMP threads plus the same GEMMs, and the read bound (a GEMV over X). The
implementations marked ``memory`` get their peak extra memory (tracemalloc,
one call) in ``extra_info``. One group per dtype holds ``gemm-rate``, a large
square GEMM whose flop rate turns ``4 N D C`` into the compute bound.

Every checked implementation is compared with ``loss_and_grad`` computed in
float64 from the problem's own inputs (outside the timing), so a benchmark
that computes something else fails. ``scripts/bench_table.py`` makes the page.
"""

from __future__ import annotations

import os
import tracemalloc

import impls
import numpy as np
import pytest
from conftest import Problem

import softmax_ref as sr
from verification.tolerances import tolerances_for


@pytest.fixture(scope="module")
def reference(problem: Problem):
    """Our result in float64 from the problem's own inputs: what everyone must match."""
    p = problem
    return sr.loss_and_grad(*(a.astype(np.float64) for a in (p.W, p.b, p.X)), p.y, p.reg)


def check(problem: Problem, reference, loss, dW, db) -> None:
    tol = tolerances_for(problem.dtype)
    assert np.asarray(loss).dtype == problem.dtype, "wrong dtype: computed in another precision"
    assert np.asarray(dW).dtype == problem.dtype
    np.testing.assert_allclose(float(loss), reference[0], rtol=tol.paths_rtol)
    np.testing.assert_allclose(dW, reference[1], rtol=tol.paths_rtol, atol=tol.paths_atol)
    np.testing.assert_allclose(
        np.reshape(db, -1), reference[2], rtol=tol.paths_rtol, atol=tol.paths_atol
    )


def peak_extra_bytes(fn) -> int:
    """Peak bytes allocated during one call, above what was live before it."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", list(impls.REGISTRY))
def test_impl(benchmark, problem, reference, name):
    impl = impls.REGISTRY[name]
    p = problem
    if not impl.runs_on(p.name):
        pytest.skip(f"{name} is timed at the sizes {sorted(impl.sizes or ())} only")
    if not impl.available():
        pytest.skip(f"{name} needs {', '.join(impl.requires)}")
    benchmark.group = p.group
    benchmark.extra_info.update(p.info(), impl=name, loadavg_at_start=os.getloadavg())
    call = impl.factory(p)
    if impl.check:
        check(p, reference, *impl.result(call()))
    if impl.memory:
        benchmark.extra_info["peak_extra_bytes"] = peak_extra_bytes(call)
    benchmark(call)


GEMM_N = 2048


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gemm_rate(benchmark, dtype):
    # A large square GEMM: the machine's flop rate for the compute bound 4 N D C / rate.
    rng = np.random.default_rng(0)
    A = rng.standard_normal((GEMM_N, GEMM_N)).astype(dtype)
    B = rng.standard_normal((GEMM_N, GEMM_N)).astype(dtype)
    out = np.empty_like(A)
    benchmark.group = f"roofline: {GEMM_N}^3 GEMM {dtype}"
    benchmark.extra_info.update(impl="gemm-rate", dtype=dtype, flops=2 * GEMM_N**3)
    benchmark(lambda: np.matmul(A, B, out=out))
