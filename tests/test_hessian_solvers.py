"""The Newton solvers (newton-cg, trust-ncg) on the Hessian-vector products.

They reach the optimum lbfgs reaches, on the post's data to 1e-10 in the
objective, and scikit-learn's newton-cg optimum; they are wired into the
training loop's rules (no early stopping, a Hessian required).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import softmax_ref as sr
from softmax_ref import datasets, two_layer
from softmax_ref.hessian import linear_hessian
from softmax_ref.loss import linear_loss_and_grad
from softmax_ref.training import TrainConfig, train
from softmax_ref.two_layer_classifier import TwoLayerClassifier

# The post's data (blog_2016, all 1000 samples) at the post's reg = 0.1: the optimum's
# objective, as lbfgs with gtol 1e-12 finds it. Newton's method converges
# quadratically, so a tight tol lands within rounding of it: 1e-10 is far above the
# rounding of a loss of 1000 terms (~1e-14) and far below any early stop.
POST_OPTIMUM = 0.673297254640699
OBJECTIVE_TOL = 1e-10


def _objective(clf, X, y, reg):
    return float(
        sr.loss(clf.params_["W"], clf.params_["b"], X, np.searchsorted(clf.classes_, y), reg)
    )


# trust-ncg judges a step by the actual against the predicted decrease of f; below a
# gradient norm of ~sqrt(eps |f| reg) ~ 1e-9 both are rounding, and it stops with
# "a bad approximation". Its gtol of 1e-7 leaves f - f* ~ |g|^2 / (2 reg) ~ 1e-13.
NEWTON_TOLS = [("newton-cg", 1e-12), ("trust-ncg", 1e-7)]


@pytest.mark.parametrize(("solver", "tol"), NEWTON_TOLS)
def test_newton_solvers_reach_the_post_optimum(solver, tol):
    d = datasets.blog_2016()
    clf = sr.SoftmaxClassifier(reg=0.1, solver=solver, tol=tol, max_iter=200).fit(d.X, d.y)
    assert abs(_objective(clf, d.X, d.y, 0.1) - POST_OPTIMUM) <= OBJECTIVE_TOL
    lbfgs = sr.SoftmaxClassifier(reg=0.1, tol=1e-12, max_iter=10_000).fit(d.X, d.y)
    assert abs(_objective(lbfgs, d.X, d.y, 0.1) - POST_OPTIMUM) <= OBJECTIVE_TOL
    # Newton's few iterations: far fewer than lbfgs's on the same problem.
    assert clf.n_iter_ < lbfgs.n_iter_


@pytest.mark.parametrize(("solver", "tol"), NEWTON_TOLS)
def test_newton_solvers_match_scikit_learns_newton_cg(solver, tol):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 6))
    y = np.argmax(X @ rng.normal(size=(6, 4)) + rng.normal(size=(300, 4)), axis=1)
    n, reg = X.shape[0], 0.05
    ours = sr.SoftmaxClassifier(reg=reg, solver=solver, tol=tol, max_iter=200).fit(X, y)
    theirs = LogisticRegression(C=1 / (n * reg), solver="newton-cg", tol=1e-10, max_iter=1000)
    theirs.fit(X, y)

    def objective(coef, intercept):
        return float(sr.loss(coef.T, intercept, X, y, reg))

    # f - f* ~ |g|^2 / (2 reg): both stop far inside 1e-9.
    assert (
        abs(objective(ours.coef_, ours.intercept_) - objective(theirs.coef_, theirs.intercept_))
        <= 1e-9
    )
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-5)


def test_train_records_the_hessian_products():
    d = datasets.blog_2016()
    params = {"W": np.zeros((2, 3)), "b": np.zeros(3)}
    res = train(
        linear_loss_and_grad,
        params,
        d.X,
        d.y,
        reg=0.1,
        solver="newton-cg",
        tol=1e-8,
        hessian=linear_hessian,
    )
    assert res.converged
    assert res.extra["n_hessian_products"] > 0
    assert res.extra["n_function_evals"] >= res.n_iter


def test_newton_solver_without_a_hessian_is_refused():
    with pytest.raises(
        ValueError, match="solver='trust-ncg' needs the model's Hessian-vector product"
    ):
        train(
            linear_loss_and_grad,
            {"W": np.zeros((1, 2)), "b": np.zeros(2)},
            np.ones((2, 1)),
            np.array([0, 1]),
            solver="trust-ncg",
        )


@pytest.mark.parametrize("solver", ["newton-cg", "trust-ncg"])
def test_newton_solvers_take_no_early_stopping(solver):
    with pytest.raises(ValueError, match=f"solver='{solver}' minimises to the optimum"):
        TrainConfig(solver=solver, early_stopping=True)


@pytest.mark.parametrize(("solver", "product"), [("newton-cg", "gnvp"), ("trust-ncg", "hvp")])
def test_network_solvers_use_their_products(solver, product, monkeypatch):
    import warnings

    from sklearn.datasets import make_moons
    from sklearn.exceptions import ConvergenceWarning

    X, y = make_moons(n_samples=100, noise=0.1, random_state=0)
    calls = []
    real = getattr(two_layer, product)

    def spy(*args):
        calls.append(product)
        return real(*args)

    monkeypatch.setattr(two_layer, product, spy)
    clf = TwoLayerClassifier(hidden_size=5, reg=0.1, solver=solver, max_iter=500, random_state=0)
    with warnings.catch_warnings():
        # The network's minimum can sit on a ReLU kink, where no gradient vanishes and
        # trust-ncg stops on "a bad approximation" (the docs' solver table says so).
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert calls
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
