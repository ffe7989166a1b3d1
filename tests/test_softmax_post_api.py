"""The blog post's ``Softmax`` API: its snippets, its published numbers, and its two faults fixed.

The post's numbers are the independent source here: on its data set
(``datasets.blog_2016()``) ``train`` for 1000 iterations on all 1000 samples gave
training accuracy 0.816, and ``train_early_stopping`` (lr 1e-2, reg 0.1, 300
rounds) gave training accuracy 0.815 and validation accuracy 0.805.
"""

from __future__ import annotations

import numpy as np
import pytest

import softmax_ref as sr
from softmax_ref import Softmax, training
from softmax_ref.datasets import blog_2016
from softmax_ref.training import TrainingDivergedError
from verification.tolerances import tolerances_for


@pytest.fixture(scope="module")
def post_data():
    return blog_2016()


def accuracy(model, X, y):
    return float(np.mean(model.predict(X) == y))


# --- the post's snippets, as written ---------------------------------------------


def test_train_reproduces_the_posts_0_816(post_data):
    X, y = post_data.X, post_data.y
    # The post's cell, verbatim:
    softmax = Softmax()
    softmax.train(X, y, learning_rate=1e-2, reg=0.1, num_iters=1000)
    assert np.mean(softmax.predict(X) == y) == 0.816


def test_train_early_stopping_reproduces_the_posts_validation_0_805(post_data):
    X_train, y_train, X_val, y_val = post_data
    # The post's cell, verbatim:
    softmax = Softmax()
    softmax.train_early_stopping(
        X_train, y_train, X_val, y_val, learning_rate=1e-2, reg=0.1, early_stopping_rounds=300
    )
    assert np.mean(softmax.predict(X_val) == y_val) == 0.805


def test_the_posts_early_stopping_bug_explains_its_0_815(post_data, monkeypatch):
    # The post's training accuracy after early stopping, 0.815, is that of the LAST
    # weights: it kept references (`best_weights = self.W`) to arrays its update then
    # changed in place. Re-creating that bug here gives the post's two numbers exactly.
    X_train, y_train, X_val, y_val = post_data
    monkeypatch.setattr(training, "_snapshot", lambda params: dict(params))
    buggy = Softmax()
    buggy.train_early_stopping(X_train, y_train, X_val, y_val, learning_rate=1e-2, reg=0.1)
    assert accuracy(buggy, X_train, y_train) == 0.815
    assert accuracy(buggy, X_val, y_val) == 0.805


def test_early_stopping_really_restores_the_best_weights(post_data):
    # The fixed run returns the weights of its best iteration: the same W and b as a
    # plain run of exactly that many steps (full-batch gd is deterministic), and not
    # the last ones (the run went on for early_stopping_rounds more steps).
    X_train, y_train, X_val, y_val = post_data
    s = Softmax()
    hist = s.train_early_stopping(X_train, y_train, X_val, y_val, learning_rate=1e-2, reg=0.1)
    assert hist.n_iter == hist.best_iteration + 300
    best = Softmax()
    best.train(X_train, y_train, learning_rate=1e-2, reg=0.1, num_iters=hist.best_iteration)
    np.testing.assert_array_equal(s.W, best.W)
    np.testing.assert_array_equal(s.b, best.b)
    last = Softmax()
    last.train(X_train, y_train, learning_rate=1e-2, reg=0.1, num_iters=hist.n_iter)
    assert not np.array_equal(s.W, last.W)


def test_train_early_stopping_has_an_iteration_cap(post_data):
    X_train, y_train, X_val, y_val = post_data
    s = Softmax()
    hist = s.train_early_stopping(X_train, y_train, X_val, y_val, max_iter=7)
    assert hist.n_iter == 7


# --- initialisation, shapes, continuation ---------------------------------------------


def small_problem(seed=0, n=50, d=3, c=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, rng.integers(0, c, size=n)


def test_initial_weights_are_seeded_gaussians():
    # W0 ~ N(0, std^2) from np.random.default_rng(seed), b0 = 0 (documented): the first
    # recorded loss is the loss there (up to the rounding of the epoch's batch average).
    X, y = small_problem()
    for std, seed in [(1e-3, 2016), (0.5, 7)]:
        s = Softmax(std=std, seed=seed)
        hist = s.train(X, y, reg=0.1, num_iters=1)
        W0 = np.random.default_rng(seed).normal(0.0, std, size=(3, 4))
        expected = float(sr.loss(W0, np.zeros(4), X, y, 0.1))
        assert hist.loss_curve[0] == pytest.approx(
            expected, rel=tolerances_for(np.float64).paths_rtol
        )


def test_default_seed_reproduces_and_other_seeds_differ():
    X, y = small_problem()
    a, b, c = Softmax(), Softmax(), Softmax(seed=1)
    for s in (a, b, c):
        s.train(X, y, num_iters=5)
    np.testing.assert_array_equal(a.W, b.W)
    assert not np.array_equal(a.W, c.W)


def test_shapes():
    X, y = small_problem(d=3, c=4)
    s = Softmax()
    assert s.W is None
    assert s.b is None
    s.train(X, y, num_iters=2)
    assert s.W.shape == (3, 4)
    assert s.b.shape == (4,)
    assert s.predict(X).shape == (50,)


def test_later_calls_continue_training():
    X, y = small_problem()
    once, twice = Softmax(), Softmax()
    once.train(X, y, num_iters=20)
    twice.train(X, y, num_iters=12)
    twice.train(X, y, num_iters=8)
    np.testing.assert_array_equal(once.W, twice.W)
    np.testing.assert_array_equal(once.b, twice.b)


def test_predict_is_argmax_of_scores():
    X, y = small_problem()
    s = Softmax()
    s.train(X, y, num_iters=30, learning_rate=0.5)
    np.testing.assert_array_equal(s.predict(X), np.argmax(X @ s.W + s.b, axis=1))


# --- failing well ------------------------------------------------------------------------


def test_divergence_leaves_W_and_b_untouched():
    X, y = small_problem()
    s = Softmax()
    s.train(X, y, num_iters=3)
    W, b = s.W, s.b
    W_copy, b_copy = W.copy(), b.copy()
    with pytest.raises(TrainingDivergedError, match=r"iteration \d+.*smaller learning_rate"):
        s.train(X, y, learning_rate=1e200, num_iters=50)
    assert s.W is W
    assert s.b is b
    np.testing.assert_array_equal(W, W_copy)
    np.testing.assert_array_equal(b, b_copy)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda s, X, y: s.train(X, y.astype(float)), TypeError, "y must"),
        (lambda s, X, y: s.train(X[:, 0], y), ValueError, "X must have 2 dimension"),
        (lambda s, X, y: s.train(X, y, reg=-1.0), ValueError, "reg must be"),
        (lambda s, X, y: s.train(X, y[:-1]), ValueError, "one label per row of X"),
        (
            lambda s, X, y: s.train_early_stopping(X, y, X[:, :2], y),
            ValueError,
            "X_val must have at least one row and the 3 columns of X",
        ),
        (
            lambda s, X, y: s.train_early_stopping(X, y, X, y + 10),
            ValueError,
            r"y_val must hold labels in \[0, 4\)",
        ),
        (
            lambda s, X, y: s.train_early_stopping(X, y, X, y[:-1]),
            ValueError,
            "y_val must have one label per row",
        ),
        (
            lambda s, X, y: s.train_early_stopping(X, y, np.full_like(X, np.nan), y),
            ValueError,
            r"X_val must be finite; got nan at X_val\[0, 0\]",
        ),
        (lambda s, X, y: s.train(X, y, num_iters=0), ValueError, "num_iters must be"),
        (
            lambda s, X, y: s.train_early_stopping(X, y, X, y, early_stopping_rounds=0),
            ValueError,
            "early_stopping_rounds must be",
        ),
        (lambda s, X, y: s.predict(X), ValueError, "call train first"),
    ],
)
def test_bad_input_is_rejected_before_training(call, exc, match):
    X, y = small_problem()
    s = Softmax()
    with pytest.raises(exc, match=match):
        call(s, X, y)
    assert s.W is None
    assert s.b is None


@pytest.mark.parametrize(
    ("y_val", "exc", "match"),
    [
        (np.array([0, 1]), ValueError, r"y_val must have one label per row of X_val, shape \(3,\)"),
        (np.array([0, 1, 7]), ValueError, r"y_val must hold labels in \[0, 2\).*y_val\[2\] = 7"),
        (np.array([0.0, 1.0, 1.0]), TypeError, "y_val must hold integer class labels"),
    ],
)
def test_bad_validation_labels_are_named_y_val(y_val, exc, match):
    X, y = np.array([[-2.0], [-1.0], [1.0], [2.0]]), np.array([0, 0, 1, 1])
    s = Softmax()
    with pytest.raises(exc, match=match):
        s.train_early_stopping(X, y, np.array([[-1.5], [0.0], [1.5]]), y_val)
    assert s.W is None
