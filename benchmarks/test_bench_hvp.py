"""Hessian-vector products of the softmax classifier, beside the gradient, grouped by size.

For each problem (conftest.py: five sizes, float64 and float32) one group holds

* ``loss_and_grad``: ``softmax_ref.loss_and_grad``, the unit the others are read in;
* ``hvp``: ``softmax_ref.hvp``, one product from scratch;
* ``hvp-operator``: one product of ``hessian_operator`` at a point set up before
  timing (what each inner conjugate-gradient step of newton-cg costs);
* ``jax-jvp-grad``: ``jax.jit`` of ``jvp(grad(loss))``, compiled before timing;
* ``sklearn-hessp``: scikit-learn's ``LinearModelLoss.gradient_hessian_product``
  product at a point set up before timing.

Every product is checked against ``hvp_naive``'s formula through ``softmax_ref.hvp``
in float64 (outside the timing). ``scripts/hvp_ratios.py`` prints the ratios to
``loss_and_grad`` side by side (docs/benchmarks.md quotes a run).
"""

from __future__ import annotations

import impls
import numpy as np
import pytest
from conftest import Problem

import softmax_ref as sr
from verification.tolerances import tolerances_for

IMPLS = {
    "loss_and_grad": impls.ours,
    "hvp": impls.ours_hvp,
    "hvp-operator": impls.ours_hvp_operator,
    "jax-jvp-grad": impls.jax_jvp_grad,
    "sklearn-hessp": impls.sklearn_hessp,
}


def _as_pair(name: str, out, p: Problem):
    """Each implementation's result as (HV_W (D, C), HV_b (C,))."""
    if name == "sklearn-hessp":
        return out[:, :-1].T, out[:, -1]
    return out[0], out[1]


@pytest.mark.parametrize("name", sorted(IMPLS))
def test_hvp(benchmark, problem: Problem, name: str):
    fn = IMPLS[name](problem)
    benchmark.group = f"hvp {problem.group}"
    benchmark.extra_info.update(problem.info())
    out = benchmark(fn)
    if name == "loss_and_grad":
        return
    p = problem
    ref = sr.hvp(
        *(a.astype(np.float64) for a in (p.W, p.b, p.X)),
        p.y,
        p.reg,
        *(v.astype(np.float64) for v in impls.direction(p)),
    )
    tol = tolerances_for(p.dtype)
    for got, want in zip(_as_pair(name, out, p), ref, strict=True):
        np.testing.assert_allclose(
            np.asarray(got, np.float64), want, rtol=tol.paths_rtol, atol=tol.paths_atol
        )
