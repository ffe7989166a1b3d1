"""Meta-tests: the three-way check fails every wrong derivation of the catalog, and blames it.

The check the property suite runs (``check_softmax``) is run on a small fixed
set of seeded problems, in each of its three modes. Every mutant must fail on
the problems where its flaw shows and be blamed on ANALYTIC there; the same
derivation without its flaw must pass on all of them, so a failure is due to
the flaw alone. A few flaws are invisible on some problems by nature, and the
catalog says where (``ONLY_ON``): the unshifted exp and the -log(softmax) loss
agree with the correct code wherever nothing overflows or underflows.
"""

from __future__ import annotations

import numpy as np
import pytest
from wrong_gradients import CATALOG, correct

import softmax_ref as sr
from verification import check_softmax


def _problem(seed: int, n: int, d: int, c: int, reg: float, scale: float):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    W = rng.normal(scale=scale, size=(d, c))
    b = rng.normal(scale=scale, size=c)
    y = rng.integers(0, c, size=n)
    return W, b, X, y, reg


# N > 1 (else a missing 1/N is no error), reg > 0 (else reg mistakes are none),
# D != C (else a transposition is a value error rather than a shape error).
PROBLEMS = {
    "ordinary": _problem(101, n=7, d=3, c=4, reg=0.3, scale=1.0),
    "ordinary_wide": _problem(102, n=5, d=4, c=3, reg=0.05, scale=1.0),
    # scores of order 1e3: exp overflows, most probabilities underflow to exactly 0
    # or 1, but one sample sits near a tie (so db != 0 and not every P is 0 or 1,
    # where a sign error or a float32 rounding of P would go unseen).
    "extreme": _problem(107, n=6, d=2, c=3, reg=0.1, scale=1e3),
}

ONLY_ON = {
    "no_max_shift": {"extreme"},
    "minus_log_probs": {"extreme"},
}

MODES = ["full", "sampled", "directional"]

CASES = [
    (name, problem)
    for name in CATALOG
    for problem in PROBLEMS
    if problem in ONLY_ON.get(name, set(PROBLEMS))
]


def test_catalog_is_large_enough_and_covers_consistent_flaws():
    assert len(CATALOG) >= 12
    # flaws that change loss and gradient together are the hard case for FD
    assert sum(consistent for _, _, consistent in CATALOG.values()) >= 4


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("analytic", [correct, sr.loss_and_grad], ids=["derive", "softmax_ref"])
def test_flawless_derivation_passes(analytic, mode, problem):
    r = check_softmax(*PROBLEMS[problem], analytic=analytic, mode=mode)
    assert r.ok, str(r)
    assert r.blame is None


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "problem"), CASES)
def test_mutant_is_caught_and_blamed_on_analytic(name, problem, mode):
    fn, what, _ = CATALOG[name]
    r = check_softmax(*PROBLEMS[problem], analytic=fn, mode=mode)
    assert not r.ok, f"{name} ({what}) passed:\n{r}"
    assert r.blame == "ANALYTIC", f"{name} ({what}) blamed {r.blame}:\n{r}"
    assert r.diagnosis.startswith("ANALYTIC disagrees with JAX")


@pytest.mark.parametrize(
    ("name", "where"),
    [("one_entry_1e-6", "dW[0, 0]"), ("db_wrong_sign", "db["), ("minus_log_probs", "loss")],
)
def test_diagnosis_points_at_the_flaw(name, where):
    problem = "extreme" if name == "minus_log_probs" else "ordinary"
    r = check_softmax(*PROBLEMS[problem], analytic=CATALOG[name][0])
    assert where in r.diagnosis.split(": ", 1)[1], str(r)


@pytest.mark.parametrize("name", sorted(ONLY_ON))
def test_flaws_invisible_by_nature_are_really_invisible_there(name):
    # Documents why ONLY_ON exists: on the other problems the flawed code computes
    # the same numbers as the correct one up to rounding, so no check could fail it.
    for problem in set(PROBLEMS) - ONLY_ON[name]:
        assert check_softmax(*PROBLEMS[problem], analytic=CATALOG[name][0]).ok
