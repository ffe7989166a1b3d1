"""Meta-tests: the three-way check catches wrong backward passes of the two-layer network.

Each mutant is the real ``softmax_ref.two_layer.loss_and_grad`` with one line
of its source changed (so the mutants follow the code: if a targeted line is
edited, the mutation no longer applies and these tests fail, loudly). The
harness is ``verification.check_two_layer``, the generic
``verification.check`` wired to the network's oracle.

For every mutant and every problem where its flaw shows, in each of the
check's three modes, the report must fail with blame "ANALYTIC"; the correct
backward pass must pass on the same problems. Two of the problems sit exactly
on ReLU kinks (pre-activations exactly 0), where FD is wrong by design: the
correct code must still pass there (the kinks are classified, not failed) and
every mutant must still be caught (a kink does not hide a wrong gradient
elsewhere).
"""

from __future__ import annotations

import inspect
import textwrap

import numpy as np
import pytest

from softmax_ref import two_layer as tl
from verification import check_two_layer
from verification.strategies import place_kinks

SOURCE = textwrap.dedent(inspect.getsource(tl.loss_and_grad))

# name -> (line of loss_and_grad as written, its mutated form, what the flaw is)
MUTATIONS = {
    "relu_mask_missing": (
        "dZ = dH * (Z > 0)",
        "dZ = dH",
        "B5 without the ReLU's mask: gradient flows through units that are off",
    ),
    "mask_from_gradient": (
        "dZ = dH * (Z > 0)",
        "dZ = dH * (dH > 0)",
        "the mask taken from the backward quantity dH (relu applied to the gradient), "
        "not from the forward pre-activation Z",
    ),
    "mask_before_bias": (
        "dZ = dH * (Z > 0)",
        "dZ = dH * (X @ W1 > 0)",
        "the mask taken from X W1, before the bias b1 is added",
    ),
    "mask_is_activation": (
        "dZ = dH * (Z > 0)",
        "dZ = dH * H",
        "multiplied by relu(Z) instead of its derivative 1[Z > 0]",
    ),
    "W2_not_transposed": (
        "dH = dF @ W2.T",
        "dH = dF @ W2",
        "B4 without the transpose (a value error only when H = C)",
    ),
    "no_reg_on_W1": (
        "dW1 = X.T @ dZ + reg * W1",
        "dW1 = X.T @ dZ",
        "B6 without the penalty's reg W1",
    ),
    "no_reg_on_W2": (
        "dW2 = H.T @ dF + reg * W2",
        "dW2 = H.T @ dF",
        "B2 without the penalty's reg W2",
    ),
    "reg_on_b1": (
        "db1 = dZ.sum(axis=0)",
        "db1 = dZ.sum(axis=0) + reg * b1",
        "the unregularised bias b1 given a penalty gradient",
    ),
    "db1_unmasked": (
        "db1 = dZ.sum(axis=0)",
        "db1 = dH.sum(axis=0)",
        "B7 summing dH, before the mask",
    ),
    "dW2_from_preactivation": (
        "dW2 = H.T @ dF + reg * W2",
        "dW2 = Z.T @ dF + reg * W2",
        "B2 with Z instead of H = relu(Z)",
    ),
    "no_mean": (
        "dF /= n",
        "dF /= 1",
        "B1 without the 1/N of the mean",
    ),
    "label_not_subtracted": (
        "dF[rows, labels] = np.expm1(shifted[rows, labels] - log_norm)",
        "dF[rows, labels] = np.exp(shifted[rows, labels] - log_norm)",
        "B1 as P instead of P - Y",
    ),
    "penalty_without_half": (
        "0.5 * reg * (np.sum(W1 * W1",
        "1.0 * reg * (np.sum(W1 * W1",
        "the loss (F4) with reg (||W1||^2 + ||W2||^2), its gradient unchanged",
    ),
}


def mutant(name: str):
    """``loss_and_grad`` with one line replaced, compiled in the module's namespace."""
    old, new, _ = MUTATIONS[name]
    assert SOURCE.count(old) == 1, f"mutation {name!r} no longer applies: {old!r}"
    code = compile(SOURCE.replace(old, new), f"<mutant {name} of two_layer.loss_and_grad>", "exec")
    namespace = dict(vars(tl))
    exec(code, namespace)
    return namespace["loss_and_grad"]


def _random(seed, n, d, h, c, reg):
    rng = np.random.default_rng(seed)
    params = {
        "W1": rng.normal(size=(d, h)),
        "b1": rng.normal(size=h),
        "W2": rng.normal(size=(h, c)),
        "b2": rng.normal(size=c),
    }
    return params, rng.normal(size=(n, d)), rng.integers(0, c, size=n), reg


def _kinks(seed, n, d, h, c, reg):
    # Integer X and W1, and b1 placed so that every unit's pre-activation is exactly 0
    # for one sample (two for unit 0): Z = X W1 + b1 is exact in any order of summation.
    rng = np.random.default_rng(seed)
    X = rng.integers(-3, 4, size=(n, d)).astype(float)
    W1 = rng.integers(-2, 3, size=(d, h)).astype(float)
    units = list(range(h))
    samples = [j % n for j in units]
    b1 = place_kinks(X, W1, np.zeros(h), units, samples)
    params = {"W1": W1, "b1": b1, "W2": rng.normal(size=(h, c)), "b2": rng.normal(size=c)}
    return params, X, rng.integers(0, c, size=n), reg


# N > 1 (else a missing 1/N is no error), reg > 0 (else penalty mistakes are none),
# D != H and H != C (so transposes are shape errors) except in the square problems,
# where H = C makes the missing transpose of W2 a value error.
PROBLEMS = {
    "ordinary": _random(201, n=7, d=3, h=5, c=4, reg=0.3),
    "square": _random(202, n=6, d=4, h=3, c=3, reg=0.2),
    "kinks": _kinks(203, n=8, d=3, h=5, c=4, reg=0.1),
    "kinks_square": _kinks(204, n=6, d=2, h=3, c=3, reg=0.25),
}

SQUARE = {"square", "kinks_square"}
ONLY_ON = {"W2_not_transposed": SQUARE}
MODES = ["full", "sampled", "directional"]

CASES = [
    (name, problem)
    for name in MUTATIONS
    for problem in PROBLEMS
    if problem in ONLY_ON.get(name, set(PROBLEMS))
]


def test_kink_problems_sit_exactly_on_kinks():
    for name in ("kinks", "kinks_square"):
        params, X, _, _ = PROBLEMS[name]
        Z = X @ params["W1"] + params["b1"]
        # every hidden unit has a pre-activation exactly at the kink
        assert np.all(np.any(Z == 0, axis=0)), name


def test_unmutated_copy_is_the_original():
    # The exec machinery itself changes nothing: a "mutation" of nothing gives equal numbers.
    namespace = dict(vars(tl))
    exec(compile(SOURCE, "<copy>", "exec"), namespace)
    params, X, y, reg = PROBLEMS["ordinary"]
    L, g = namespace["loss_and_grad"](params, X, y, reg)
    L_ref, g_ref = tl.loss_and_grad(params, X, y, reg)
    assert L == L_ref
    for k in g:
        np.testing.assert_array_equal(g[k], g_ref[k])


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("mode", MODES)
def test_correct_backward_pass_passes(problem, mode):
    r = check_two_layer(*PROBLEMS[problem], analytic=tl.loss_and_grad, mode=mode)
    assert r.ok, str(r)
    assert r.blame is None
    if problem.startswith("kinks") and mode == "full":
        # FD is wrong by design on the kinks: those entries are classified, not failed.
        assert any(c.verdict == "kink" for c in r.comparisons), str(r)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "problem"), CASES)
def test_mutant_is_caught_and_blamed_on_analytic(name, problem, mode):
    fn = mutant(name)
    params, X, y, reg = PROBLEMS[problem]
    # The problem can show the flaw: the mutant's numbers differ from the correct ones.
    L, g = fn(params, X, y, reg)
    L_ref, g_ref = tl.loss_and_grad(params, X, y, reg)
    differs = abs(L - L_ref) > 1e-8 * abs(L_ref) or any(
        np.max(np.abs(g[k] - g_ref[k])) > 1e-8 * (1 + np.max(np.abs(g_ref[k]))) for k in g
    )
    assert differs, f"{name} computes the correct numbers on {problem}"
    r = check_two_layer(params, X, y, reg, analytic=fn, mode=mode)
    what = MUTATIONS[name][2]
    assert not r.ok, f"{name} ({what}) passed on {problem}:\n{r}"
    assert r.blame == "ANALYTIC", f"{name} ({what}) blamed {r.blame}:\n{r}"
    assert r.diagnosis.startswith("ANALYTIC disagrees with JAX")


def test_W2_not_transposed_is_a_shape_error_when_H_differs_from_C():
    # Off the square problems the same flaw cannot pass silently: it raises.
    params, X, y, reg = PROBLEMS["ordinary"]
    with pytest.raises(ValueError, match="matmul"):
        mutant("W2_not_transposed")(params, X, y, reg)
