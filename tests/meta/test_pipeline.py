"""Meta-tests of the pipeline: the property tests, as configured, find every wrong gradient.

tests/meta/test_mutants.py shows the three-way check fails each wrong
derivation on hand-picked problems. This file asks the question that matters
for the suite: would the property tests themselves, drawing from the
strategies under the ci profile's settings (derandomized, the per-family
example count), hit a problem on which the mutant fails? Each mutant is run
through the property tests' own assertion (``assert_three_way``) inside
:func:`hypothesis.find`, family by family, within the ci budget per family.

The kernel-level mutants (tests/meta/pipeline.py, KERNEL_MUTATIONS) swap a
changed copy of softmax_ref/_kernels.py in behind ``loss_and_grad``, so the
property tests' entry points run it. Two of them are invisible at the suite's
sizes by nature: float32 loss terms summed in float32 (on 40 rows or fewer its
error is below the rounding of the float32 loss it returns) and the one-block
route's float32 row sums kept in float64 (a change of last bits, no less
accurate): no honest tolerance can see them. tests/test_kernel_regimes.py kills
them (an exact sum of 2^17 integer loss terms; the one-block route's bits
against the blocked path's), and they are checked here against those tests.

docs/property-suite.md has the share of each family's draws that exposes each
mutant (tests/meta/pipeline_rates.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from pipeline import (
    FAMILIES,
    KERNEL_MUTATIONS,
    LINEAR_MUTANTS,
    TWO_LAYER_FAMILIES,
    first_failure,
    kernel_mutant,
    linear_budget,
    linear_fails,
    mutated_kernel,
    two_layer_budget,
    two_layer_fails,
)
from test_two_layer_mutants import MUTATIONS as TWO_LAYER_MUTATIONS

import softmax_ref as sr

# Invisible to the property suite by nature (see the module docstring), killed elsewhere:
# both change float32 results by less than float32's rounding of what is returned.
NOT_FOR_THE_SUITE = {"float32_accumulation", "float32_row_sums_in_float64"}
# Outside what a gradient check can see: the floating-point state of a lane's
# thread where scores overflow (inputs the suite does not draw: they are invalid
# problems) and the bookkeeping of a second grad_sums() call (loss_and_grad makes
# one). Killed by tests/test_kernel_regimes.py, checked below.
NOT_FOR_THE_SUITE |= {"lane_errstate_dropped", "lanes_reduced_twice"}

# The family searched first, where the flaw is expected to show; the others follow.
FIRST = {
    "no_max_shift": "extreme",
    "minus_log_probs": "extreme",
    "float32_no_shift": "float32_extreme",
    "lane_reduction_scaled": "blocked",
    "block_dropped": "blocked",
    "sub_gemm_forward_tail_dropped": "blocked",
    "sub_gemm_backward_tail_dropped": "blocked",
}


def search_order(first: str, families) -> list[str]:
    return [first, *(f for f in families if f != first)]


@pytest.mark.parametrize("mutant", sorted(set(LINEAR_MUTANTS) - NOT_FOR_THE_SUITE))
def test_property_suite_finds_linear_mutant(mutant):
    budget = linear_budget()
    for family in search_order(FIRST.get(mutant, "ordinary"), FAMILIES):
        found = first_failure(FAMILIES[family](), lambda p: linear_fails(p, mutant), budget)
        if found is not None:
            assert found.family == family
            return
    pytest.fail(f"{mutant}: no family's first {budget} draws expose it")


@pytest.mark.parametrize("mutant", sorted(TWO_LAYER_MUTATIONS))
def test_property_suite_finds_two_layer_mutant(mutant):
    budget = two_layer_budget()
    for family in search_order("ordinary", TWO_LAYER_FAMILIES):
        found = first_failure(
            TWO_LAYER_FAMILIES[family](), lambda p: two_layer_fails(p, mutant), budget
        )
        if found is not None:
            return
    pytest.fail(f"{mutant}: no two-layer family's first {budget} draws expose it")


@pytest.mark.parametrize("family", FAMILIES)
def test_flawless_derivation_passes_what_the_suite_draws(family):
    """The catalog's derivation without a flaw passes: a mutant fails for its flaw alone.

    Also the real kernel through the harness's mutant machinery (no mutation).
    """
    for mutant in ("correct", None):
        found = first_failure(FAMILIES[family](), lambda p: linear_fails(p, mutant), 20)  # noqa: B023
        assert found is None, f"{mutant or 'softmax_ref'} fails on {found!r}"


@pytest.mark.parametrize("family", TWO_LAYER_FAMILIES)
def test_unmutated_network_passes_what_the_suite_draws(family):
    found = first_failure(TWO_LAYER_FAMILIES[family](), lambda p: two_layer_fails(p, None), 10)
    assert found is None, f"two_layer.loss_and_grad fails on {found!r}"


def test_float32_accumulation_is_killed_by_the_exact_sum_test():
    import test_kernel_regimes

    with kernel_mutant("float32_accumulation"), pytest.raises(AssertionError):
        test_kernel_regimes.test_float32_loss_terms_are_summed_in_float64()
    test_kernel_regimes.test_float32_loss_terms_are_summed_in_float64()  # unmutated: passes


@pytest.mark.parametrize(
    ("mutant", "test_name", "args"),
    [
        ("float32_no_shift", "test_float32_overflowing_score_hand_worked", ("bias",)),
        (
            "float32_row_sums_in_float64",
            "test_one_block_route_float32_gives_the_blocked_bits",
            (0,),
        ),
        ("lane_reduction_scaled", "large_n", (np.float64,)),
        ("block_dropped", "large_n", (np.float32,)),
    ],
)
def test_kernel_mutants_fail_the_regime_tests(mutant, test_name, args, monkeypatch):
    """The regime tests catch the kernel mutants the property suite also finds."""
    import test_kernel_regimes as t

    if test_name == "large_n":

        def run():
            t.test_large_n_matches_extended_precision(*args, monkeypatch)

    else:

        def run():
            getattr(t, test_name)(*args)

    # An assertion, the wrong exception or a NumPy warning (an error under the suite's
    # filterwarnings) where the unmutated code raises ValueError.
    with (
        kernel_mutant(mutant),
        pytest.raises((AssertionError, ValueError, RuntimeWarning, pytest.fail.Exception)),
    ):
        run()
    run()


def test_kernel_mutations_each_change_one_line():
    for name in KERNEL_MUTATIONS:
        assert hasattr(mutated_kernel(name), "BlockedSums")


def test_kernel_swap_reaches_the_entry_points():
    # The swapped-in kernel is what loss_and_grad runs: a mutant that scales the lanes'
    # reduction changes a two-lane result, and the swap is undone afterwards.
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 4, size=40)
    W, b = rng.normal(size=(3, 4)), np.zeros(4)

    def blocked():
        from softmax_ref.streaming import loss_and_grad_streaming

        return loss_and_grad_streaming(W, b, [(X, y)], n_threads=2, block_rows=8)[1]

    before = blocked()
    with kernel_mutant("lane_reduction_scaled"):
        assert not np.allclose(blocked(), before, rtol=1e-6, atol=0)
    np.testing.assert_array_equal(blocked(), before)
    np.testing.assert_allclose(before, sr.loss_and_grad(W, b, X, y)[1], rtol=1e-12, atol=1e-15)
