"""Loss-and-gradient of the softmax classifier: ours against the field, grouped by size.

For each problem (conftest.py: five sizes, float64 and float32) one group holds

* ``ours``: ``softmax_ref.loss_and_grad``, with its peak extra memory
  (tracemalloc, one call) in ``extra_info``;
* ``post``: the blog post's NumPy code (benchmarks/post_softmax.py), the baseline,
  also with its peak memory;
* ``naive``: ``loss_and_grad_naive``, at the toy size only (a Python loop);
* ``jax``: ``jax.jit(jax.value_and_grad(...))`` of the same loss, compiled before
  timing, inputs already on the device, ``block_until_ready`` on the result;
* ``sklearn-t1`` / ``sklearn-t2``: scikit-learn's ``HalfMultinomialLoss`` with 1
  and 2 OpenMP threads, plus the same two GEMMs (its conventions: float labels,
  per-sample losses, a gradient not divided by N; its output buffers are
  allocated once, outside the timing, the strongest form of that baseline);
* ``read-bound``: a GEMV over X, the time to read X once.

and one group per dtype holds ``gemm-rate``, a large square GEMM whose flop
rate turns ``4 N D C`` into the compute bound. ``scripts/bench_table.py`` makes
the table of ratios. Every implementation is checked against ``loss_and_grad``
(outside the timing), so a benchmark that computes something else fails.
"""

from __future__ import annotations

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


def setup(benchmark, problem: Problem, impl: str) -> None:
    benchmark.group = problem.group
    benchmark.extra_info.update(problem.info(), impl=impl)


def test_ours(benchmark, problem, reference):
    p = problem
    setup(benchmark, p, "ours")
    call = impls.ours(p)
    check(p, reference, *call())
    benchmark.extra_info["peak_extra_bytes"] = peak_extra_bytes(call)
    benchmark(call)


def test_post(benchmark, problem, reference):
    p = problem
    setup(benchmark, p, "post")
    call = impls.post(p)
    loss, dW, db = call()
    check(p, reference, p.dtype.type(loss), dW, db)
    benchmark.extra_info["peak_extra_bytes"] = peak_extra_bytes(call)
    benchmark(call)


def test_naive(benchmark, problem, reference):
    p = problem
    if p.name != "toy":
        pytest.skip("the naive loops are timed at the toy size only")
    setup(benchmark, p, "naive")
    call = impls.naive(p)
    check(p, reference, *call())
    benchmark(call)


@pytest.fixture(scope="module")
def jax_call(problem: Problem):
    return impls.jax_value_and_grad(problem)


def test_jax(benchmark, problem, reference, jax_call):
    p = problem
    setup(benchmark, p, "jax")
    value, (dW, db) = jax_call()
    check(p, reference, np.asarray(value), np.asarray(dW), np.asarray(db))
    benchmark(jax_call)


@pytest.mark.parametrize("threads", [1, 2], ids=["t1", "t2"])
def test_sklearn(benchmark, problem, reference, threads):
    p = problem
    setup(benchmark, p, f"sklearn-t{threads}")
    call = impls.sklearn_half_multinomial(p, threads)
    loss, dW, db = call()
    check(p, reference, p.dtype.type(loss), dW, db)
    benchmark(call)


def test_read_bound(benchmark, problem):
    p = problem
    setup(benchmark, p, "read-bound")
    benchmark(impls.read_bound(p))


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
