"""TwoLayerClassifier: scikit-learn's estimator checks, every solver, early stopping, persistence.

The estimator shares everything but the model with SoftmaxClassifier (whose
tests cover the machinery in depth); these tests show that the network is
plugged in correctly and that each shared feature works with its params dict.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from softmax_ref import two_layer
from softmax_ref.classifier import ModelFileError, SoftmaxClassifier
from softmax_ref.training import SOLVERS, TrainingDivergedError
from softmax_ref.two_layer_classifier import TwoLayerClassifier


def _checks_estimator():
    # Small, quickly converging settings: check_estimator fits dozens of times on tiny
    # random data sets. adam stops by the no-improvement rule, so no ConvergenceWarning
    # (an error under filterwarnings=error) fires on data with no structure, where
    # L-BFGS often never meets its gradient tolerance at a ReLU kink.
    return TwoLayerClassifier(
        hidden_size=8,
        reg=1e-2,
        solver="adam",
        learning_rate=0.05,
        tol=1e-3,
        max_iter=500,
        random_state=0,
    )


def _parametrize_with_checks():
    from sklearn.utils.estimator_checks import parametrize_with_checks

    return parametrize_with_checks([_checks_estimator()])


@_parametrize_with_checks()
def test_sklearn_compatible(estimator, check):
    check(estimator)


def moons(n=200, seed=0):
    from sklearn.datasets import make_moons

    return make_moons(n_samples=n, noise=0.1, random_state=seed)


# Per solver: a learning rate and iteration budget that reach the optimum's neighbourhood
# on the moons (inputs of order 1). lbfgs and the Newton solvers take no learning rate.
SOLVER_SETTINGS = {
    "lbfgs": {"max_iter": 300},
    "gd": {"learning_rate": 0.5, "max_iter": 2000, "tol": None},
    "sgd": {"learning_rate": 0.1, "max_iter": 300, "batch_size": 32, "tol": None},
    "momentum": {"learning_rate": 0.1, "max_iter": 600, "tol": None},
    "nesterov": {"learning_rate": 0.1, "max_iter": 600, "tol": None},
    "adam": {"learning_rate": 0.02, "max_iter": 600, "tol": None},
    "newton-cg": {"max_iter": 100},
    "trust-ncg": {"max_iter": 100},
}


def test_every_solver_is_covered():
    assert set(SOLVER_SETTINGS) == set(SOLVERS)


@pytest.mark.parametrize("solver", sorted(SOLVER_SETTINGS))
def test_every_solver_fits_what_a_line_cannot(solver):
    # The two moons interleave: the best straight boundary misclassifies ~12% of them;
    # 50 ReLU units bend around the moons.
    X, y = moons()
    linear = SoftmaxClassifier(reg=1e-4).fit(X, y).score(X, y)
    assert linear < 0.9
    clf = TwoLayerClassifier(
        hidden_size=50, reg=1e-4, solver=solver, random_state=0, **SOLVER_SETTINGS[solver]
    )
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # Whether L-BFGS meets its gradient tolerance within the budget is not the point here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.score(X, y) >= 0.97
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert {k: v.shape for k, v in clf.params_.items()} == {
        "W1": (2, 50),
        "b1": (50,),
        "W2": (50, 2),
        "b2": (2,),
    }


def test_fitted_params_are_a_stationary_point_of_the_network_loss():
    # The classifier trains the two_layer loss, not another: at the lbfgs optimum of
    # a smooth-enough problem (strong reg) the network's own gradient is small.
    X, y = moons(100)
    clf = TwoLayerClassifier(hidden_size=5, reg=0.1, solver="lbfgs", tol=1e-6, random_state=0)
    clf.fit(X, y)
    _, grads = two_layer.loss_and_grad(clf.params_, X, y, 0.1)
    assert max(np.abs(g).max() for g in grads.values()) < 1e-4


def test_predict_proba_is_softmax_of_network_scores():
    X, y = moons(60)
    clf = TwoLayerClassifier(hidden_size=6, random_state=1, max_iter=50, tol=None).fit(X, y)
    F = two_layer.scores(clf.params_, X)
    P = np.exp(F - F.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), P, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(F, axis=1)])
    np.testing.assert_allclose(clf.decision_function(X), F[:, 1] - F[:, 0], rtol=1e-12)


def test_same_random_state_same_model():
    X, y = moons(80)
    a = TwoLayerClassifier(hidden_size=7, random_state=3, max_iter=30, tol=None).fit(X, y)
    b = TwoLayerClassifier(hidden_size=7, random_state=3, max_iter=30, tol=None).fit(X, y)
    c = TwoLayerClassifier(hidden_size=7, random_state=4, max_iter=30, tol=None).fit(X, y)
    for k in a.params_:
        np.testing.assert_array_equal(a.params_[k], b.params_[k])
    assert not np.array_equal(a.params_["W1"], c.params_["W1"])


def test_early_stopping_restores_the_best_weights():
    X, y = moons(300, seed=1)
    X_val, y_val = moons(100, seed=2)
    clf = TwoLayerClassifier(
        hidden_size=30,
        solver="adam",
        learning_rate=0.05,
        early_stopping=True,
        patience=5,
        max_iter=500,
        tol=None,
        random_state=0,
    ).fit(X, y, X_val=X_val, y_val=y_val)
    assert clf.n_iter_ < 500  # stopped by patience, not by the budget
    assert clf.n_iter_ - clf.best_iteration_ == 5
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # The weights kept are the best ones: their validation accuracy is the best score.
    assert clf.score(X_val, y_val) == clf.best_validation_score_


def test_early_stopping_holds_out_a_fraction():
    X, y = moons(200)
    clf = TwoLayerClassifier(
        hidden_size=10, early_stopping=True, validation_fraction=0.2, patience=3, random_state=0
    ).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_


@pytest.mark.parametrize(
    ("hidden_size", "exc", "message"),
    [
        (0, ValueError, "hidden_size must be an integer >= 1; got 0"),
        (2.5, TypeError, "hidden_size must be an integer >= 1; got 2.5"),
        (None, TypeError, "hidden_size must be an integer >= 1; got None"),
    ],
)
def test_bad_hidden_size_is_named_and_leaves_the_model_alone(hidden_size, exc, message):
    X, y = moons(40)
    clf = TwoLayerClassifier(hidden_size=4, max_iter=5, tol=None, random_state=0).fit(X, y)
    before = {k: v.copy() for k, v in clf.params_.items()}
    clf.set_params(hidden_size=hidden_size)
    with pytest.raises(exc, match=message):
        clf.fit(X, y)
    for k, v in before.items():
        np.testing.assert_array_equal(clf.params_[k], v)


def test_divergence_names_the_iteration_and_keeps_the_previous_fit():
    X, y = moons(50)
    clf = TwoLayerClassifier(hidden_size=4, max_iter=5, tol=None, random_state=0).fit(X, y)
    before = {k: v.copy() for k, v in clf.params_.items()}
    clf.set_params(solver="gd", learning_rate=1e300, max_iter=50)
    with pytest.raises(TrainingDivergedError, match="iteration"):
        clf.fit(1e3 * X, y)
    for k, v in before.items():
        np.testing.assert_array_equal(clf.params_[k], v)


def test_save_and_load_round_trip(tmp_path):
    X, y = moons(60)
    labels = np.where(y == 1, "upper", "lower")
    clf = TwoLayerClassifier(hidden_size=9, reg=0.01, max_iter=40, tol=None, random_state=0)
    clf.fit(X, labels)
    path = clf.save(tmp_path / "net.npz")
    loaded = TwoLayerClassifier.load(path)
    assert loaded.get_params() == clf.get_params()
    for k in clf.params_:
        np.testing.assert_array_equal(loaded.params_[k], clf.params_[k])
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(ModelFileError, match="holds a TwoLayerClassifier, not a SoftmaxClassifier"):
        SoftmaxClassifier.load(path)


def test_exported_from_the_package():
    import softmax_ref as sr

    assert sr.TwoLayerClassifier is TwoLayerClassifier
