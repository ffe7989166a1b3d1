"""Meta-tests: the Hessian checks fail every wrong product of the catalog, and blame it.

``check_softmax_hvp`` and ``check_two_layer_hvp`` run on small seeded problems;
every mutant of tests/meta/wrong_hessians.py must fail and be blamed on
ANALYTIC, and the same derivation without its flaw (and softmax_ref's own
products) must pass, so a failure is due to the flaw alone. The Taylor test,
an independent fourth witness, is shown to reject every mutant too (order 1
where the right product gives 2).
"""

from __future__ import annotations

import numpy as np
import pytest
from wrong_hessians import LINEAR, TWO_LAYER, correct_linear, correct_two_layer

import softmax_ref as sr
from softmax_ref import two_layer as tl
from verification import oracle as jo
from verification.hessian import check_softmax_hvp, check_two_layer_hvp, taylor_test

KEYS = ("W1", "b1", "W2", "b2")


def _linear(seed, n, d, c, reg):
    rng = np.random.default_rng(seed)
    W, b = rng.normal(size=(d, c)), rng.normal(size=c)
    X, y = rng.normal(size=(n, d)), rng.integers(0, c, size=n)
    return W, b, X, y, reg, rng.normal(size=(d, c)), rng.normal(size=c)


def _two_layer(seed, n, d, h, c, reg):
    rng = np.random.default_rng(seed)
    p = {
        "W1": rng.normal(size=(d, h)),
        "b1": rng.normal(size=h),
        "W2": rng.normal(size=(h, c)),
        "b2": rng.normal(size=c),
    }
    X, y = rng.normal(size=(n, d)), rng.integers(0, c, size=n)
    return p, X, y, reg, {k: rng.normal(size=a.shape) for k, a in p.items()}


# N > 1, reg > 0 (else 1/N and reg mistakes are none); D = C in "square", where a
# transposition is a value error rather than a shape error.
LINEAR_PROBLEMS = {
    "ordinary": _linear(201, n=7, d=3, c=4, reg=0.3),
    "square": _linear(202, n=6, d=4, c=4, reg=0.1),
}
TWO_LAYER_PROBLEMS = {
    "ordinary": _two_layer(301, n=8, d=3, h=5, c=4, reg=0.2),
    "square": _two_layer(302, n=6, d=3, h=4, c=4, reg=0.1),
}
ONLY_ON = {"transposed": {"square"}, "W2_not_transposed": {"square"}}


def test_catalogs_are_large_enough():
    assert len(LINEAR) >= 8
    assert len(TWO_LAYER) >= 8


@pytest.mark.parametrize("problem", sorted(LINEAR_PROBLEMS))
@pytest.mark.parametrize("analytic", [correct_linear, sr.hvp], ids=["derive", "softmax_ref"])
def test_flawless_linear_product_passes(analytic, problem):
    r = check_softmax_hvp(*LINEAR_PROBLEMS[problem], analytic=analytic)
    assert r.ok, str(r)


@pytest.mark.parametrize("problem", sorted(TWO_LAYER_PROBLEMS))
@pytest.mark.parametrize("analytic", [correct_two_layer, tl.hvp], ids=["derive", "softmax_ref"])
def test_flawless_network_product_passes(analytic, problem):
    r = check_two_layer_hvp(*TWO_LAYER_PROBLEMS[problem], analytic=analytic)
    assert r.ok, str(r)


@pytest.mark.parametrize(
    ("name", "problem"),
    [(k, p) for k in LINEAR for p in LINEAR_PROBLEMS if p in ONLY_ON.get(k, LINEAR_PROBLEMS)],
)
def test_linear_mutant_is_caught_and_blamed_on_analytic(name, problem):
    fn, what = LINEAR[name]
    r = check_softmax_hvp(*LINEAR_PROBLEMS[problem], analytic=fn)
    assert not r.ok, f"{name} ({what}) passed:\n{r}"
    assert r.blame == "ANALYTIC", f"{name} ({what}) blamed {r.blame}:\n{r}"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        (k, p)
        for k in TWO_LAYER
        for p in TWO_LAYER_PROBLEMS
        if p in ONLY_ON.get(k, TWO_LAYER_PROBLEMS)
    ],
)
def test_network_mutant_is_caught_and_blamed_on_analytic(name, problem):
    fn, what = TWO_LAYER[name]
    r = check_two_layer_hvp(*TWO_LAYER_PROBLEMS[problem], analytic=fn)
    assert not r.ok, f"{name} ({what}) passed:\n{r}"
    assert r.blame == "ANALYTIC", f"{name} ({what}) blamed {r.blame}:\n{r}"


def test_gauss_newton_check_catches_the_exact_hessian_sold_as_gauss_newton():
    args = TWO_LAYER_PROBLEMS["ordinary"]
    assert check_two_layer_hvp(*args, analytic=tl.gnvp, gauss_newton=True).ok
    r = check_two_layer_hvp(*args, analytic=tl.hvp, gauss_newton=True)
    assert not r.ok
    assert r.blame == "ANALYTIC"


def _linear_taylor(W, b, X, y, reg, V_W, V_b, product):
    def g(theta):
        _, dW, db = jo.loss_and_grad(theta[: W.size].reshape(W.shape), theta[W.size :], X, y, reg)
        return np.concatenate([dW.ravel(), db])

    HW, Hb = product(W, b, X, y, reg, V_W, V_b)
    x = np.concatenate([W.ravel(), b])
    v = np.concatenate([V_W.ravel(), V_b])
    return taylor_test(g, x, v, np.concatenate([np.ravel(HW), Hb]), g_scale=1.0)


# The Taylor test resolves an error e in Hv only where t |e| stands above both the
# t^2 term and rounding (16 eps |g| / t): for e ~ 1e-6 no t does, so that mutant is
# the three-way check's alone (the test below shows the Taylor test passes it).
TAYLOR_BLIND = {"one_entry_1e-6"}


def test_taylor_test_is_blind_to_one_part_in_a_million():
    assert _linear_taylor(*LINEAR_PROBLEMS["ordinary"], LINEAR["one_entry_1e-6"][0]).ok


@pytest.mark.parametrize("name", sorted(set(LINEAR) - TAYLOR_BLIND))
def test_taylor_test_rejects_every_linear_mutant(name):
    problem = "square" if name in ONLY_ON else "ordinary"
    args = LINEAR_PROBLEMS[problem]
    assert _linear_taylor(*args, sr.hvp).ok
    result = _linear_taylor(*args, LINEAR[name][0])
    assert not result.ok, result


@pytest.mark.parametrize("name", sorted(TWO_LAYER))
def test_taylor_test_rejects_every_network_mutant(name):
    problem = "square" if name in ONLY_ON else "ordinary"
    params, X, y, reg, V = TWO_LAYER_PROBLEMS[problem]
    # The smallest distance to a ReLU kink along V bounds the steps: the expansion
    # holds only where every unit keeps its side.
    Z, rate = X @ params["W1"] + params["b1"], np.abs(X @ V["W1"] + V["b1"])
    t0 = float(np.min(np.abs(Z) / rate)) / 2

    def g(theta):
        p, i = {}, 0
        for k in KEYS:
            p[k] = theta[i : i + params[k].size].reshape(params[k].shape)
            i += params[k].size
        _, grads = jo.two_layer_loss_and_grad(p, X, y, reg)
        return np.concatenate([grads[k].ravel() for k in KEYS])

    x = np.concatenate([params[k].ravel() for k in KEYS])
    v = np.concatenate([V[k].ravel() for k in KEYS])
    for product, expect in ((tl.hvp, True), (TWO_LAYER[name][0], False)):
        hv = product(params, X, y, reg, V)
        result = taylor_test(
            g, x, v, np.concatenate([hv[k].ravel() for k in KEYS]), g_scale=1.0, t0=t0
        )
        assert result.ok == expect, (name, product, result)
