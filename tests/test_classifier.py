"""SoftmaxClassifier: scikit-learn's estimator checks, labels, the optimum, solvers,
early stopping, failing well, and persistence."""

from __future__ import annotations

import copy
import json
import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.utils.estimator_checks import parametrize_with_checks

import softmax_ref as sr
from softmax_ref import training
from softmax_ref.classifier import ModelFileError, SoftmaxClassifier
from softmax_ref.training import TrainingDivergedError
from verification.tolerances import tolerances_for

TOL = tolerances_for(np.float64)


def sample_problem(seed: int, n: int = 120, d: int = 4, c: int = 3):
    """Labels drawn from a softmax model (Gumbel-max), so the classes overlap."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.argmax(X @ rng.normal(size=(d, c)) + rng.gumbel(size=(n, c)), axis=1)
    return X, y


# --- scikit-learn's estimator checks ------------------------------------------------
# No check is xfailed or skipped by us. (scikit-learn itself skips the pandas checks
# when pandas is not installed, and the array-API ones without SCIPY_ARRAY_API.)


@parametrize_with_checks(
    [
        SoftmaxClassifier(),
        SoftmaxClassifier(solver="adam", learning_rate=0.05, max_iter=2000),
        SoftmaxClassifier(
            solver="nesterov",
            learning_rate=0.05,
            max_iter=500,
            tol=None,
            early_stopping=True,
            validation_fraction=0.2,
        ),
    ]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# --- labels --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["ant", "bee", "cat"]),
        np.array(["ant", "bee", "cat"], dtype=object),
        np.array([-7, 3, 100]),
        np.array([1.0, 2.0, 5.0]),
    ],
    ids=["str", "object", "noncontiguous-int", "integral-float"],
)
def test_any_labels_give_the_same_model(labels):
    # An order-preserving relabelling must not change the model at all.
    X, y = sample_problem(0)
    base = SoftmaxClassifier(reg=0.01, random_state=0).fit(X, y)
    clf = SoftmaxClassifier(reg=0.01, random_state=0).fit(X, labels[y])
    np.testing.assert_array_equal(clf.classes_, labels)
    np.testing.assert_array_equal(clf.coef_, base.coef_)
    np.testing.assert_array_equal(clf.intercept_, base.intercept_)
    np.testing.assert_array_equal(clf.predict(X), labels[base.predict(X)])
    assert clf.score(X, labels[y]) == base.score(X, y)


def test_shapes_and_sklearn_orientation():
    X, y = sample_problem(1, d=5, c=4)
    clf = SoftmaxClassifier(reg=0.01).fit(X, y)
    assert clf.coef_.shape == (4, 5)
    assert clf.intercept_.shape == (4,)
    assert clf.params_["W"].shape == (5, 4)
    # coef_ is W transposed; decision_function is X coef_^T + intercept_.
    np.testing.assert_array_equal(clf.coef_, clf.params_["W"].T)
    np.testing.assert_allclose(
        clf.decision_function(X), X @ clf.coef_.T + clf.intercept_, rtol=TOL.paths_rtol
    )


def test_probabilities_follow_classes():
    X, y = sample_problem(2)
    clf = SoftmaxClassifier(reg=0.01).fit(X, np.array(["z", "y", "x"])[y])
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=TOL.paths_rtol)
    np.testing.assert_allclose(np.log(P), clf.predict_log_proba(X), rtol=TOL.paths_rtol)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(P, axis=1)])


def test_binary_decision_function_is_the_log_odds():
    X, y = sample_problem(3, c=2)
    clf = SoftmaxClassifier(reg=0.01).fit(X, np.array(["no", "yes"])[y])
    d = clf.decision_function(X)
    P = clf.predict_proba(X)
    assert d.shape == (X.shape[0],)
    np.testing.assert_allclose(d, np.log(P[:, 1] / P[:, 0]), rtol=1e-9, atol=TOL.paths_atol)
    np.testing.assert_array_equal(clf.predict(X), np.where(d > 0, "yes", "no"))
    assert clf.coef_.shape == (2, X.shape[1])  # both rows kept, unlike LogisticRegression


def test_not_fitted():
    clf = SoftmaxClassifier()
    assert not hasattr(clf, "coef_")
    with pytest.raises(NotFittedError):
        clf.predict(np.zeros((1, 2)))


# --- lbfgs finds scikit-learn's optimum -------------------------------------------------

# How close to the optimum lbfgs must land. Both solvers stop at a gradient norm of 1e-10;
# near the optimum f - f* ~ |g|^2 / (2 mu) and |W - W*| ~ |g| / mu, so with the
# smallest curvature mu >= reg = 0.05 both land far inside these.
OBJECTIVE_TOL = 1e-9
COEF_TOL = 1e-5


@pytest.mark.parametrize("seed", [0, 1])
def test_lbfgs_matches_logistic_regression(seed):
    X, y = sample_problem(seed, n=150, d=4, c=4)
    n, reg = X.shape[0], 0.05
    ours = SoftmaxClassifier(reg=reg, tol=1e-10, max_iter=10_000).fit(X, y)
    # Same objective: mean log-loss + 0.5 reg ||W||^2, intercept unpenalised, so C = 1/(N reg).
    theirs = LogisticRegression(C=1 / (n * reg), tol=1e-10, max_iter=10_000).fit(X, y)
    assert theirs.coef_.shape == ours.coef_.shape  # multinomial, over-parametrised alike

    def objective(coef, intercept):
        return float(sr.loss(coef.T, intercept, X, y, reg))

    assert (
        abs(objective(ours.coef_, ours.intercept_) - objective(theirs.coef_, theirs.intercept_))
        <= OBJECTIVE_TOL
    )
    # reg > 0 makes W unique; b is unique up to a common shift, so compare centred.
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=COEF_TOL)
    np.testing.assert_allclose(
        ours.intercept_ - ours.intercept_.mean(),
        theirs.intercept_ - theirs.intercept_.mean(),
        rtol=0,
        atol=COEF_TOL,
    )


# --- the first-order solvers ---------------------------------------------------------


def optimum(X, y, reg):
    clf = SoftmaxClassifier(reg=reg, tol=1e-12, max_iter=10_000).fit(X, y)
    b = clf.intercept_ - clf.intercept_.mean()  # the minimiser nearest b = 0
    return clf.params_["W"], b, float(sr.loss(clf.params_["W"], b, X, y, reg))


def test_gd_obeys_the_convex_rate():
    # For an L-smooth convex f, gradient descent with step 1/L from x0 decreases f
    # monotonically and f(x_k) - f* <= L ||x0 - x*||^2 / (2k) (Nesterov, Introductory
    # Lectures, Cor. 2.1.2). The Hessian of the mean softmax loss in (W, b) is at most
    # (1/2) lambda_max(X1^T X1) / N (X1 = [X, 1]; softmax's Jacobian has norm <= 1/2)
    # plus reg on W, which gives L.
    X, y = sample_problem(4)
    reg = 0.05
    X1 = np.hstack([X, np.ones((X.shape[0], 1))])
    L = 0.5 * np.linalg.eigvalsh(X1.T @ X1 / X.shape[0]).max() + reg
    W_star, b_star, f_star = optimum(X, y, reg)
    clf = SoftmaxClassifier(
        reg=reg, solver="gd", learning_rate=1 / L, max_iter=200, tol=None, init_std=0.0
    ).fit(X, y)
    curve = np.array(clf.loss_curve_)  # curve[k] = f(x_k), x_0 = 0
    # Non-increasing in exact arithmetic; once at the optimum, successive values differ
    # only by the rounding of evaluating the loss.
    assert np.all(np.diff(curve) <= TOL.paths_rtol * curve[:-1])
    dist2 = np.sum(W_star**2) + np.sum(b_star**2)
    k = np.arange(1, curve.size)
    assert np.all(curve[1:] - f_star <= L * dist2 / (2 * k))


@pytest.mark.parametrize(
    ("solver", "kwargs", "factor"),
    [
        # Full batch on a strongly convex problem: linear convergence, so 300 iterations
        # shrink the gap by many orders (observed ~1e-13); 1e-6 fails for a rule that
        # stalls or steps the wrong way.
        ("momentum", {"learning_rate": 0.1}, 1e-6),
        ("nesterov", {"learning_rate": 0.1}, 1e-6),
        ("adam", {"learning_rate": 0.05}, 1e-6),
        # Minibatches with a constant step settle in a noise ball around the optimum
        # (observed ~2e-5 of the initial gap), so only ask for real progress.
        ("sgd", {"learning_rate": 0.1, "batch_size": 20}, 1e-3),
    ],
)
def test_first_order_solvers_approach_the_optimum(solver, kwargs, factor):
    X, y = sample_problem(5)
    reg = 0.05
    _, _, f_star = optimum(X, y, reg)
    clf = SoftmaxClassifier(
        reg=reg, solver=solver, max_iter=300, tol=None, random_state=0, **kwargs
    ).fit(X, y)
    start = float(sr.loss(np.zeros((4, 3)), np.zeros(3), X, y, reg))  # ~ f(x0), init_std tiny
    end = float(sr.loss(clf.params_["W"], clf.params_["b"], X, y, reg))
    assert end - f_star <= factor * (start - f_star)


def test_convergence_warning_when_max_iter_is_hit():
    X, y = sample_problem(6)
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=3"):
        SoftmaxClassifier(solver="gd", max_iter=3).fit(X, y)


def test_the_fit_is_kept_when_the_warning_is_an_error():
    # The warning comes after the fitted state is set, so turning it into an
    # exception does not throw the completed fit away.
    X, y = sample_problem(6)
    clf = SoftmaxClassifier(solver="gd", max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning):
            clf.fit(X, y)
    assert clf.n_iter_ == 3
    assert clf.predict(X).shape == y.shape


def test_tol_stops_first_order_solvers():
    X, y = sample_problem(6)
    clf = SoftmaxClassifier(solver="gd", learning_rate=0.5, tol=1e-3, max_iter=10_000).fit(X, y)
    assert clf.n_iter_ < 10_000


# --- early stopping ---------------------------------------------------------------------


def test_validation_split_is_seeded():
    X, y = sample_problem(7, n=100)
    kwargs = {
        "solver": "gd",
        "learning_rate": 0.1,
        "tol": None,
        "early_stopping": True,
        "validation_fraction": 0.2,
        "patience": 5,
        "max_iter": 300,
    }
    a = SoftmaxClassifier(random_state=3, **kwargs).fit(X, y)
    b = SoftmaxClassifier(random_state=3, **kwargs).fit(X, y)
    assert a.validation_scores_ == b.validation_scores_
    np.testing.assert_array_equal(a.coef_, b.coef_)
    # Accuracy on ceil(0.2 * 100) = 20 held-out samples is a multiple of 1/20.
    assert all(math.isclose(s * 20, round(s * 20)) for s in a.validation_scores_)


def test_explicit_validation_data_is_used():
    X, y = sample_problem(8, n=150)
    X_tr, y_tr, X_val, y_val = X[:100], y[:100], X[100:], y[100:]
    clf = SoftmaxClassifier(
        solver="gd",
        learning_rate=0.1,
        tol=None,
        early_stopping=True,
        patience=5,
        restore_best_weights=False,
        max_iter=300,
    ).fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    assert clf.validation_scores_[-1] == accuracy_score(y_val, clf.predict(X_val))


def check_classifier_restores_best(X_tr, y_tr, X_val, y_val):
    """The restored model equals a fresh run stopped at best_iteration_ (full-batch gd is
    deterministic), and differs from the last iterate."""
    kwargs = {"solver": "gd", "learning_rate": 0.1, "tol": None, "random_state": 0}
    clf = SoftmaxClassifier(early_stopping=True, patience=5, max_iter=2000, **kwargs)
    clf.fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    assert clf.best_iteration_ < clf.n_iter_ < 2000
    best = SoftmaxClassifier(max_iter=clf.best_iteration_, **kwargs).fit(X_tr, y_tr)
    last = SoftmaxClassifier(max_iter=clf.n_iter_, **kwargs).fit(X_tr, y_tr)
    assert not np.array_equal(last.coef_, best.coef_)
    np.testing.assert_array_equal(clf.coef_, best.coef_, err_msg="not the best iteration's W")
    np.testing.assert_array_equal(clf.intercept_, best.intercept_)


def test_early_stopping_restores_the_best_weights():
    X, y = sample_problem(9, n=150)
    check_classifier_restores_best(X[:100], y[:100], X[100:], y[100:])


def test_meta_restore_test_catches_the_posts_bug(monkeypatch):
    # Keep references instead of copies, as the post did: the check must fail.
    monkeypatch.setattr(training, "_snapshot", lambda params: dict(params))
    X, y = sample_problem(9, n=150)
    with pytest.raises(AssertionError, match="not the best iteration's W"):
        check_classifier_restores_best(X[:100], y[:100], X[100:], y[100:])


def test_refit_without_early_stopping_drops_its_attributes():
    X, y = sample_problem(9, n=100)
    clf = SoftmaxClassifier(solver="gd", tol=None, early_stopping=True, max_iter=50).fit(X, y)
    assert hasattr(clf, "validation_scores_")
    clf.set_params(early_stopping=False, solver="lbfgs", tol=1e-4).fit(X, y)
    for name in ("validation_scores_", "best_validation_score_", "best_iteration_"):
        assert not hasattr(clf, name), name


# --- failing well ------------------------------------------------------------------------


def assert_same_state(before, after, path="__dict__"):
    """Exact, recursive equality of an estimator's state (arrays by dtype, shape, values)."""
    if isinstance(before, dict):
        assert isinstance(after, dict), path
        assert before.keys() == after.keys(), f"{path}: keys {before.keys()} != {after.keys()}"
        for key in before:
            assert_same_state(before[key], after[key], f"{path}[{key!r}]")
    elif isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray), path
        assert (before.dtype, before.shape) == (after.dtype, after.shape), path
        assert np.array_equal(before, after), f"{path} changed"
    elif isinstance(before, list | tuple):
        assert type(before) is type(after), path
        assert len(before) == len(after), path
        for i, (a, b) in enumerate(zip(before, after, strict=True)):
            assert_same_state(a, b, f"{path}[{i}]")
    else:
        assert type(before) is type(after), path
        assert before == after, f"{path}: {before!r} != {after!r}"


def test_meta_assert_same_state_sees_one_ulp():
    clf = SoftmaxClassifier().fit(*sample_problem(10))
    before = copy.deepcopy(clf.__dict__)
    clf.params_["W"][0, 0] = np.nextafter(clf.params_["W"][0, 0], np.inf)
    with pytest.raises(AssertionError, match="changed"):
        assert_same_state(before, clf.__dict__)


@pytest.mark.parametrize("solver", ["gd", "adam", "sgd"])
def test_divergence_leaves_the_fitted_model_intact(solver):
    X, y = sample_problem(11)
    clf = SoftmaxClassifier(solver=solver, learning_rate=0.05, max_iter=20, tol=None)
    clf.fit(X, y)
    clf.set_params(learning_rate=1e200)
    before = copy.deepcopy(clf.__dict__)
    params = clf.params_
    with pytest.raises(TrainingDivergedError, match=r"iteration \d+.*smaller learning_rate"):
        clf.fit(X, y)
    assert_same_state(before, clf.__dict__)
    assert clf.params_ is params


def test_divergence_on_a_fresh_estimator_leaves_it_unfitted():
    X, y = sample_problem(11, d=3)
    clf = SoftmaxClassifier(solver="gd", learning_rate=1e200)
    before = copy.deepcopy(clf.__dict__)
    with pytest.raises(TrainingDivergedError):
        clf.fit(X, y)
    assert_same_state(before, clf.__dict__)


X_OK, Y_OK = sample_problem(12, n=40)
X_NAN = X_OK.copy()
X_NAN[3, 1] = np.nan
X_INF = X_OK.copy()
X_INF[0, 0] = np.inf


@pytest.mark.parametrize(
    ("params", "fit_args", "fit_kwargs", "exc", "match"),
    [
        ({}, (X_NAN, Y_OK), {}, ValueError, "X contains NaN"),
        ({}, (X_INF, Y_OK), {}, ValueError, "X contains infinity"),
        ({}, (X_OK, Y_OK[:-1]), {}, ValueError, "inconsistent numbers of samples"),
        ({}, (X_OK, Y_OK + 0.5), {}, ValueError, "Unknown label type: continuous"),
        # X of another width than the fitted model's: a premature n_features_in_ would show.
        ({}, (X_OK[:, :3], Y_OK + 0.5), {}, ValueError, "Unknown label type: continuous"),
        ({}, (X_OK[:, :3], np.zeros(40)), {}, ValueError, "at least 2 classes"),
        ({}, (X_OK, np.zeros(40)), {}, ValueError, "at least 2 classes"),
        ({}, (X_OK[:, 0], Y_OK), {}, ValueError, "2D array"),
        ({}, (X_OK[:0], Y_OK[:0]), {}, ValueError, "0 sample"),
        ({}, (X_OK.astype(str).astype(object) + "x", Y_OK), {}, ValueError, "convert"),
        ({"reg": -1.0}, (X_OK, Y_OK), {}, ValueError, "reg must be a finite number >= 0"),
        ({"solver": "newton"}, (X_OK, Y_OK), {}, ValueError, "solver must be one of"),
        (
            {"learning_rate": 0},
            (X_OK, Y_OK),
            {},
            ValueError,
            "learning_rate must be a finite number > 0",
        ),
        ({"max_iter": 0}, (X_OK, Y_OK), {}, ValueError, "max_iter must be an integer >= 1"),
        ({"max_iter": 1.5}, (X_OK, Y_OK), {}, TypeError, "max_iter"),
        ({"tol": -1.0}, (X_OK, Y_OK), {}, ValueError, "tol must be a finite number >= 0"),
        ({"solver": "sgd", "batch_size": 0}, (X_OK, Y_OK), {}, ValueError, "batch_size"),
        ({"solver": "gd", "batch_size": 8}, (X_OK, Y_OK), {}, ValueError, "solver='gd'"),
        ({"momentum": 1.0}, (X_OK, Y_OK), {}, ValueError, "momentum must be in"),
        ({"patience": 0}, (X_OK, Y_OK), {}, ValueError, "patience"),
        ({"validation_fraction": 1.0}, (X_OK, Y_OK), {}, ValueError, "validation_fraction"),
        ({"early_stopping": "yes"}, (X_OK, Y_OK), {}, TypeError, "early_stopping"),
        ({"early_stopping": True}, (X_OK, Y_OK), {}, ValueError, "needs a first-order solver"),
        ({"init_std": -1.0}, (X_OK, Y_OK), {}, ValueError, "init_std"),
        ({"random_state": "seven"}, (X_OK, Y_OK), {}, TypeError, "random_state"),
        ({}, (X_OK, Y_OK), {"X_val": X_OK}, ValueError, "X_val and y_val must be given together"),
        ({}, (X_OK, Y_OK), {"X_val": X_OK, "y_val": Y_OK}, ValueError, "set early_stopping=True"),
        (
            {"solver": "gd", "early_stopping": True},
            (X_OK, Y_OK),
            {"X_val": X_OK[:, :2], "y_val": Y_OK},
            ValueError,
            "X_val must have the 4 features",
        ),
        (
            {"solver": "gd", "early_stopping": True},
            (X_OK, Y_OK),
            {"X_val": X_OK, "y_val": Y_OK + 10},
            ValueError,
            "y_val holds labels not seen in y",
        ),
        (
            {"solver": "gd", "early_stopping": True},
            (X_OK, Y_OK),
            {"X_val": X_NAN, "y_val": Y_OK},
            ValueError,
            "X_val contains NaN",
        ),
    ],
)
def test_bad_input_raises_before_any_state_changes(params, fit_args, fit_kwargs, exc, match):
    clf = SoftmaxClassifier(reg=0.01).fit(X_OK, Y_OK)
    clf.set_params(**params)
    before = copy.deepcopy(clf.__dict__)
    with pytest.raises(exc, match=match):
        clf.fit(*fit_args, **fit_kwargs)
    assert_same_state(before, clf.__dict__)


def test_progress_bar_when_verbose(capsys):
    X, y = sample_problem(13)
    SoftmaxClassifier(solver="gd", max_iter=5, tol=None, verbose=True).fit(X, y)
    err = capsys.readouterr().err
    assert "SoftmaxClassifier" in err
    assert "loss=" in err
    SoftmaxClassifier(solver="gd", max_iter=5, tol=None).fit(X, y)
    assert capsys.readouterr().err == ""


# --- persistence ---------------------------------------------------------------------------


def fitted_models():
    X, y = sample_problem(14, n=80)
    labels = np.array(["ant", "bee", "cat"], dtype=object)
    yield "int", SoftmaxClassifier(reg=0.01).fit(X, y), X
    yield "str", SoftmaxClassifier(reg=0.01, random_state=5).fit(X, labels[y]), X
    es = SoftmaxClassifier(solver="adam", early_stopping=True, tol=None, max_iter=50)
    yield "early-stopping", es.fit(X, np.array([-3, 4, 10])[y]), X


@pytest.mark.parametrize("case", ["int", "str", "early-stopping"])
def test_save_load_round_trip(tmp_path, case):
    _, clf, X = next(m for m in fitted_models() if m[0] == case)
    path = clf.save(tmp_path / "model.bin")  # written under exactly that name
    assert path == tmp_path / "model.bin"
    assert path.exists()
    loaded = SoftmaxClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.predict(X).dtype == clf.predict(X).dtype
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.get_params() == clf.get_params()
    fitted = [k for k in vars(clf) if k.endswith("_")]
    assert sorted(fitted) == sorted(k for k in vars(loaded) if k.endswith("_"))
    for key in fitted:
        assert_same_state(getattr(clf, key), getattr(loaded, key), key)


def test_saved_file_has_the_usual_permissions(tmp_path):
    _, clf, _ = next(fitted_models())
    reference = tmp_path / "reference"
    reference.write_bytes(b"")
    path = clf.save(tmp_path / "m.npz")
    assert path.stat().st_mode == reference.stat().st_mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "reference"]  # no temp left


def test_saved_file_holds_no_objects(tmp_path):
    _, clf, _ = next(m for m in fitted_models() if m[0] == "str")
    with np.load(clf.save(tmp_path / "m.npz"), allow_pickle=False) as f:
        assert f["classes"].dtype.kind == "U"
        assert str(f["format"]) == "softmax-ref-model"
        hyper = json.loads(str(f["hyperparameters"]))
        assert hyper["reg"] == 0.01
        assert all(f[k].dtype != object for k in f.files)


def test_save_refuses_unstorable_hyperparameters(tmp_path):
    X, y = sample_problem(15, n=40)
    clf = SoftmaxClassifier(random_state=np.random.default_rng(0)).fit(X, y)
    with pytest.raises(ValueError, match="random_state"):
        clf.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_save_unfitted():
    with pytest.raises(NotFittedError):
        SoftmaxClassifier().save("never.npz")


def _entries(tmp_path):
    _, clf, _ = next(fitted_models())
    with np.load(clf.save(tmp_path / "good.npz"), allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def _with(entries, **changes):
    out = dict(entries)
    for key, value in changes.items():
        if value is None:
            out.pop(key)
        else:
            out[key] = value
    return out


@pytest.mark.parametrize(
    ("corrupt", "match"),
    [
        ("random-bytes", "not a readable .npz"),
        ("npy", "holds a single array"),
        ("truncated", "not a readable .npz|damaged"),
        ("foreign", "not a softmax-ref model file"),
        ("other-estimator", "holds a TwoLayerClassifier, not a SoftmaxClassifier"),
        ("newer-version", "format version 2"),
        ("missing-entry", r"missing entries \['fit_info'\]"),
        ("missing-param", "missing parameter array 'param:b'"),
        ("wrong-shape", "parameter 'W' must be a float array of shape"),
        ("nan-param", "parameter 'b' holds NaN"),
        ("pickled", "pickled"),
        ("bad-json", "not valid JSON"),
        ("unknown-hyperparameter", "hyperparameters do not fit"),
    ],
)
def test_load_rejects_malformed_files(tmp_path, corrupt, match):
    good = _entries(tmp_path)
    path = tmp_path / f"{corrupt}.npz"
    if corrupt == "random-bytes":
        path.write_bytes(np.random.default_rng(0).bytes(256))
    elif corrupt == "npy":
        with open(path, "wb") as f:
            np.save(f, np.arange(3.0))
    elif corrupt == "truncated":
        path.write_bytes((tmp_path / "good.npz").read_bytes()[:300])
    else:
        changes = {
            "foreign": {"format": None},
            "other-estimator": {"estimator": np.array("TwoLayerClassifier")},
            "newer-version": {"format_version": np.array(2)},
            "missing-entry": {"fit_info": None},
            "missing-param": {"param:b": None},
            "wrong-shape": {"param:W": np.zeros((5, 3))},
            "nan-param": {"param:b": np.array([0.0, np.nan, 0.0])},
            "pickled": {"classes": np.array([{"a": 1}, None, 3], dtype=object)},
            "bad-json": {"hyperparameters": np.array("{reg: 0.01")},
            "unknown-hyperparameter": {"hyperparameters": np.array('{"hidden": 3}')},
        }[corrupt]
        with open(path, "wb") as f:
            np.savez(f, **_with(good, **changes))
    with pytest.raises(ModelFileError, match=match) as info:
        SoftmaxClassifier.load(path)
    assert str(info.value).startswith(str(path))
    assert isinstance(info.value, ValueError)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no-such\.npz"):
        SoftmaxClassifier.load(tmp_path / "no-such.npz")


def test_the_names_classifier_exported_still_resolve_to_one_object_each():
    """The estimator base, the post's API and persistence live in modules of their own."""
    import softmax_ref
    from softmax_ref import classifier, estimator, post, training
    from softmax_ref.loss import linear_loss_and_grad

    assert classifier.Softmax is post.Softmax is softmax_ref.Softmax
    assert classifier.BaseGradientClassifier is estimator.BaseGradientClassifier
    assert classifier.linear_loss_and_grad is linear_loss_and_grad
    assert classifier.TrainingDivergedError is training.TrainingDivergedError
    assert issubclass(classifier.ModelFileError, ValueError)
    assert softmax_ref.SoftmaxClassifier is classifier.SoftmaxClassifier
    assert set(classifier.__all__) == {
        "BaseGradientClassifier",
        "ModelFileError",
        "Softmax",
        "SoftmaxClassifier",
        "TrainingDivergedError",
        "linear_loss_and_grad",
    }
