"""Property suite: on every generated problem the gradient is right three ways.

For each problem drawn by ``verification.strategies`` (every family: ordinary,
extreme logits, ties, absent classes, one sample, one feature, large reg,
float32, float32 past exp's overflow, and problems run through the kernel's
blocked and threaded paths):

* the three-way check (ANALYTIC ``softmax_ref.loss_and_grad``, the JAX oracle,
  finite differences) agrees: ``check_softmax(...).assert_ok()``;
* the invariants of the analytic core hold: softmax rows are probabilities
  summing to 1, softmax and log_softmax are invariant to a shift of the scores,
  db sums to 0 and carries no penalty, the penalty adds exactly
  0.5 reg ||W||^2 and reg W, and the three entry points (``loss_and_grad``,
  ``loss``, ``loss_and_grad_naive``) agree.

Every tolerance comes from ``verification/tolerances.py``.

The ``blocked`` family runs with blocks of 8 rows on two lanes (``analytic_for``),
each block's GEMMs cut into sub-GEMMs of 3 rows: 17 to 40 rows are 3 to 5
blocks, so the per-lane loop, the lanes' threads, their reduction and the
sub-GEMMs' tails are all on the path; the kernel's default blocks are at least 64
rows and its threads start far above this much work.

Example budget: each test asks for a multiple of the active profile's
``max_examples`` (tests/conftest.py): under ``ci`` (100) the three-way tests
run 10 x 80 + 25 + 20 = 845 examples, plus the pinned ones. ``make test`` runs
the ci profile. tests/meta/test_pipeline.py shows these very tests, at these
counts, find every wrong derivation of tests/meta and the kernel-level mutants.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from hypothesis import event, example, given, settings, target
from hypothesis import strategies as st

import softmax_ref as sr
from softmax_ref._kernels import SUB_GEMM_ENV
from softmax_ref.streaming import loss_and_grad_streaming
from verification import check_softmax
from verification.strategies import BLOCKED_BLOCK_ROWS, FAMILIES, Problem, problems
from verification.tolerances import tolerances_for

BASE = settings().max_examples

#: Rows per sub-GEMM of the blocked family's blocks.
BLOCKED_SUB_GEMM_ROWS = 3

#: Examples per family of the three-way test, as a share of max_examples.
PER_FAMILY_SHARE = 0.8


def examples(fraction: float) -> settings:
    """A share of the active profile's max_examples (at least 5)."""
    return settings(max_examples=max(5, math.ceil(fraction * BASE)))


def blocked_loss_and_grad(W, b, X, y, reg=0.0):
    """``loss_and_grad`` through the kernel's blocked, threaded path: blocks of 8 rows, 2 lanes.

    Each block's GEMMs are cut into sub-GEMMs of 3 rows (two, and a tail of two
    rows), as the default cuts blocks of narrow X hundreds of rows long.

    The streaming form takes the block size and thread count as arguments and,
    unlike the in-memory call, does not fold a small problem into one block on
    one thread; one chunk of all the rows is the in-memory problem.
    """
    saved = os.environ.get(SUB_GEMM_ENV)
    os.environ[SUB_GEMM_ENV] = str(BLOCKED_SUB_GEMM_ROWS)
    try:
        return loss_and_grad_streaming(
            W, b, [(X, y)], reg, n_threads=2, block_rows=BLOCKED_BLOCK_ROWS
        )
    finally:
        if saved is None:
            del os.environ[SUB_GEMM_ENV]
        else:
            os.environ[SUB_GEMM_ENV] = saved


def analytic_for(problem: Problem):
    """The entry point the property tests check on a problem of this family."""
    return blocked_loss_and_grad if problem.family == "blocked" else sr.loss_and_grad


def degeneracies(problem: Problem) -> list[str]:
    """The ways a draw is trivial: what the check learns little from.

    X all zero (the data term of dW is 0 whatever the gradient code does);
    the data term of dW exactly 0 for another reason; reg = 0 (a penalty
    mistake is invisible); W all zero while reg > 0 (so is reg W).
    """
    W, b, X, y, reg = problem.args
    found = []
    if not np.any(X):
        found.append("X all zero")
    else:
        _, dW_data, _ = sr.loss_and_grad(W, b, X, y, 0.0)
        if not np.any(dW_data):
            found.append("data term of dW zero")
    if reg == 0:
        found.append("reg = 0")
    elif not np.any(W):
        found.append("W all zero with reg > 0")
    return found


# --- three-way agreement ----------------------------------------------------------


def assert_three_way(problem: Problem, analytic=None, **check_kwargs) -> None:
    """The three-way check of ``problem`` passes, the exact pair outright.

    ``analytic`` defaults to the family's entry point (:func:`analytic_for`);
    tests/meta/test_pipeline.py passes a wrong one.
    """
    analytic = analytic_for(problem) if analytic is None else analytic
    report = check_softmax(*problem.args, analytic=analytic, **check_kwargs)
    event(f"family: {problem.family}")
    for kind in degeneracies(problem):
        event(f"degenerate: {kind}")
    # Steer towards problems whose data term is large: that is where a wrong
    # gradient of the data term shows, and where rounding is largest.
    X, y = problem.X, problem.y
    _, dW_data, _ = sr.loss_and_grad(problem.W, problem.b, X, y, 0.0)
    size = float(np.max(np.abs(dW_data.astype(np.float64))))
    if math.isfinite(size):
        target(size, label="max |data term of dW|")
    for c in report.comparisons:
        if "FD" in c.pair:
            event(f"FD verdict: {c.verdict}")
        if c.pair == ("ANALYTIC", "JAX") and c.bound > 0:
            # Guide the search towards the points where the analytic gradient
            # comes closest to its tolerance against the oracle.
            a, j = c.values["ANALYTIC"], c.values["JAX"]
            if a is not None and j is not None and math.isfinite(a - j):
                target(abs(a - j) / c.bound, label=f"ANALYTIC-JAX err/bound, {c.quantity}")
    report.assert_ok()
    # The exact pair compares every entry: it is never merely "inconclusive".
    for c in report.comparisons:
        if c.pair == ("ANALYTIC", "JAX"):
            assert c.verdict == "pass", str(report)


@pytest.mark.parametrize("family", FAMILIES)
@examples(PER_FAMILY_SHARE)
@given(data=st.data())
def test_three_way_agree_per_family(family, data):
    """All three agree on every problem of each family (the bulk of the budget)."""
    problem = data.draw(FAMILIES[family](), label="problem")
    assert_three_way(problem)


# Counterexamples found by the per-family tests, pinned. All four were faults
# of the check near underflow, not of the analytic core (which was right each
# time: test_subnormal_gradients_are_exact); verification.compare now allows
# for XLA reading and writing subnormals as 0 and for float32 underflow.


# Found by test_three_way_agree_per_family[single_sample]: X = the smallest normal
# float64, so dW = X (P - Y) = -X / 2 is subnormal; JAX returned 0 and the check
# blamed ANALYTIC.
@example(
    problem=Problem(
        W=np.array([[0.0, 0.0]]),
        b=np.array([0.0, 0.0]),
        X=np.array([[2.2250738585072014e-308]]),
        y=np.array([0]),
        reg=0.0,
        family="single_sample",
    )
)
# Found by test_three_way_agree_per_family[large_reg] (shrunk by hand): W holds the
# smallest subnormal, dW = reg W = 4.9e-323; JAX returned 0.
@example(
    problem=Problem(
        W=np.array([[5e-324, 0.0]]),
        b=np.array([0.0, 0.0]),
        X=np.array([[0.0]]),
        y=np.array([0]),
        reg=10.0,
        family="large_reg",
    )
)
# Found by test_three_way_agree_per_family[extreme]: a subnormal X made
# check_softmax's finite-difference step 1 / max|X| overflow, a RuntimeWarning
# (an error under the suite's filterwarnings) before any comparison was made.
@example(
    problem=Problem(
        W=np.array([[0.0, 0.0]]),
        b=np.array([3000.0, 0.0]),
        X=np.array([[5e-324]]),
        y=np.array([0]),
        reg=0.0,
        family="extreme",
    )
)
# Found by test_three_way_agree_per_family[float32] with reg = 1e-100 in a float32
# problem: dW = reg W = 1e-100 underflows to 0 in float32 (the correctly rounded
# result) while the float64 oracle keeps 1e-100, and the check's bound, relative
# to a scale of 1e-100, had no allowance for float32 underflow.
@example(
    problem=Problem(
        W=np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]], dtype=np.float32),
        b=np.array([0.0, 0.0, 0.0, 0.0], dtype=np.float32),
        X=np.array([[0.0, 0.0]], dtype=np.float32),
        y=np.array([0]),
        reg=1e-100,
        family="float32",
    )
)
@examples(0.25)
@given(problem=problems())
def test_three_way_agree_mixed(problem):
    """All three agree on problems drawn from all families; counterexamples are pinned here."""
    assert_three_way(problem)


def test_subnormal_gradients_are_exact():
    """Where the pinned examples above failed, ANALYTIC was right and JAX was not.

    The expected values follow from the formulas in exact arithmetic, and are
    exactly representable: halving a normal number and multiplying the
    smallest subnormal by 10 are exact under IEEE gradual underflow.
    """
    tiny = np.finfo(np.float64).smallest_normal
    # W = 0, b = 0: P = [1/2, 1/2], y = 0 so P - Y = [-1/2, 1/2]; dW = x (P - Y).
    _, dW, db = sr.loss_and_grad(np.zeros((1, 2)), np.zeros(2), np.array([[tiny]]), np.array([0]))
    np.testing.assert_array_equal(dW, [[-tiny / 2, tiny / 2]])
    np.testing.assert_array_equal(db, [-0.5, 0.5])
    assert 0 < tiny / 2 < tiny  # subnormal, and not flushed by NumPy
    # X = 0: dW = reg W exactly.
    smallest = np.finfo(np.float64).smallest_subnormal
    _, dW, _ = sr.loss_and_grad(
        np.array([[smallest, 0.0]]), np.zeros(2), np.zeros((1, 1)), np.array([0]), 10.0
    )
    np.testing.assert_array_equal(dW, [[10 * smallest, 0.0]])
    assert 10 * smallest > 0


@examples(0.2)
@given(
    problem=problems(),
    mode=st.sampled_from(["sampled", "directional"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_three_way_agree_cheap_modes(problem, mode, seed):
    """The sampled-coordinates and directional modes agree too, for any seed."""
    assert_three_way(problem, mode=mode, seed=seed)


# --- invariants of the analytic core -----------------------------------------------


def scores(p: Problem) -> np.ndarray:
    F = p.X @ p.W
    F += p.b
    return F


def exact_shift_pair(F: np.ndarray, shift: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores rounded to a grid on which ``F + shift`` is exact in F's dtype.

    Shift invariance holds in exact arithmetic; rounding ``F + shift`` would
    add an error of eps * |shift| that has nothing to do with the code under
    test. On a grid of step 2^-k fine enough to keep F's detail and coarse
    enough that every ``F_q + shift`` is representable, the two inputs are
    exactly shift-related and only the implementation's own rounding remains,
    which is what the paths tolerance bounds.
    """
    mantissa = np.finfo(F.dtype).nmant + 1
    top = math.ceil(math.log2(float(np.max(np.abs(F))) + abs(shift) + 1))
    k = mantissa - top - 1
    Fq = np.ldexp(np.round(np.ldexp(F, k)), -k).astype(F.dtype)
    shifted = Fq + F.dtype.type(shift)
    assert np.array_equal(shifted - F.dtype.type(shift), Fq)  # the shift is exact
    return Fq, shifted


def assert_softmax_invariants(p: Problem, shift: int) -> None:
    tol = tolerances_for(p.dtype)
    F = scores(p)
    P = sr.softmax(F)
    logP = sr.log_softmax(F)
    assert P.dtype == logP.dtype == p.dtype
    assert np.all((P >= 0) & (P <= 1))
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=tol.paths_atol)
    assert np.all(logP <= 0)
    # exp(log_softmax) is a distribution too: log_softmax is log of a softmax.
    np.testing.assert_allclose(np.exp(logP).sum(axis=1), 1.0, rtol=0, atol=tol.paths_atol)
    # The largest score has the largest probability (ties allowed).
    rows = np.arange(F.shape[0])
    top = np.argmax(F, axis=1)
    assert np.all(P[rows, top] == P.max(axis=1))

    Fq, shifted = exact_shift_pair(F, shift)
    np.testing.assert_allclose(
        sr.softmax(shifted), sr.softmax(Fq), rtol=tol.paths_rtol, atol=tol.paths_atol
    )
    np.testing.assert_allclose(
        sr.log_softmax(shifted), sr.log_softmax(Fq), rtol=tol.paths_rtol, atol=tol.paths_atol
    )


@pytest.mark.parametrize("family", FAMILIES)
@examples(0.15)
@given(data=st.data(), shift=st.integers(-1024, 1024))
def test_softmax_invariants_per_family(family, data, shift):
    assert_softmax_invariants(data.draw(FAMILIES[family](), label="problem"), shift)


@examples(0.1)
@given(problem=problems(), shift=st.integers(-1024, 1024))
def test_softmax_invariants_mixed(problem, shift):
    """As per family; counterexamples are pinned here."""
    assert_softmax_invariants(problem, shift)


def assert_close_to_difference(got, left, right, expected, tol) -> None:
    """``left - right == expected`` up to the rounding of the two terms subtracted.

    ``got = left - right`` carries the rounding error of both terms, about
    paths_rtol * (|left| + |right|) per entry; comparing it with ``expected``
    relative to ``expected`` alone would demand more than the arithmetic can give
    when the terms are much larger than their difference.
    """
    bound = tol.paths_rtol * (np.abs(left) + np.abs(right) + np.abs(expected)) + tol.paths_atol
    excess = np.abs(np.asarray(got, dtype=np.float64) - expected) - bound
    assert np.all(excess <= 0), (
        f"max excess over the bound {float(np.max(excess)):.3e}; got {got}, expected {expected}"
    )


def assert_core_invariants(p: Problem) -> None:
    tol = tolerances_for(p.dtype)
    W, b, X, y, reg = p.args
    loss_and_grad = analytic_for(p)
    L, dW, db = loss_and_grad(W, b, X, y, reg)

    # Shapes and dtypes: float32 in, float32 out.
    assert dW.shape == W.shape
    assert db.shape == b.shape
    assert L.dtype == dW.dtype == db.dtype == p.dtype
    assert np.isfinite(L)
    assert np.all(np.isfinite(dW))
    assert np.all(np.isfinite(db))
    # Cross-entropy is non-negative, and so is the penalty.
    assert L >= 0

    # The three entry points agree.
    L_naive, dW_naive, db_naive = sr.loss_and_grad_naive(W, b, X, y, reg)
    # The loss gets the absolute floor too: it is log(sum) - (F_y - max F), a
    # difference of O(1) terms, so a loss near 0 (a confident, correct
    # prediction) carries their absolute rounding, not a relative one.
    np.testing.assert_allclose(
        L, sr.loss(W, b, X, y, reg), rtol=tol.paths_rtol, atol=tol.paths_atol
    )
    np.testing.assert_allclose(L, L_naive, rtol=tol.paths_rtol, atol=tol.paths_atol)
    np.testing.assert_allclose(dW, dW_naive, rtol=tol.paths_rtol, atol=tol.paths_atol)
    np.testing.assert_allclose(db, db_naive, rtol=tol.paths_rtol, atol=tol.paths_atol)

    # Each row of P - Y sums to 0, so does db, their mean.
    assert abs(float(np.sum(db, dtype=np.float64))) <= tol.paths_atol

    # The penalty: 0.5 reg ||W||^2 on the loss, reg W on dW, nothing on db.
    L0, dW0, db0 = loss_and_grad(W, b, X, y, 0.0)
    W64 = W.astype(np.float64)
    assert_close_to_difference(
        np.float64(L) - np.float64(L0), L, L0, 0.5 * reg * np.sum(W64 * W64), tol
    )
    assert_close_to_difference(dW.astype(np.float64) - dW0, dW, dW0, reg * W64, tol)
    np.testing.assert_allclose(db, db0, rtol=tol.paths_rtol, atol=tol.paths_atol)


@pytest.mark.parametrize("family", FAMILIES)
@examples(0.15)
@given(data=st.data())
def test_core_invariants_per_family(family, data):
    assert_core_invariants(data.draw(FAMILIES[family](), label="problem"))


# Found by test_core_invariants_per_family[single_sample]: scores [3, -6], y = 0,
# loss log(1 + e^-9) = 1.234e-4. loss_and_grad and loss round the sum 1 + e^-9
# before the log, so each is off by 8.1e-17 absolutely, 6.6e-13 relatively: a
# relative-only comparison failed; the loss comparisons now have the absolute
# floor of a difference of O(1) terms.
@example(
    problem=Problem(
        W=np.array([[0.0, 0.0], [0.0, 0.0], [-1.0, 2.0]]),
        b=np.array([0.0, 0.0]),
        X=np.array([[0.0, 0.0, -3.0]]),
        y=np.array([0]),
        reg=0.0,
        family="single_sample",
    )
)
@examples(0.1)
@given(problem=problems())
def test_core_invariants_mixed(problem):
    """As per family; counterexamples are pinned here."""
    assert_core_invariants(problem)
