"""The generic training loop: iterations, stopping rules, early stopping, divergence, lbfgs.

Most tests use the quadratic L(w) = 0.5 ||w - 3||^2 (gradient w - 3). With
learning rate 1/2 gradient descent halves the distance to 3 at every step, so
the parameters after k steps are w_k = 3 - 3 / 2^k from w_0 = 0: exact in
floating point, and known without running the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from softmax_ref import training
from softmax_ref.training import TrainConfig, TrainingDivergedError, run_training, train


def quad(params, X, y, reg):
    d = params["w"] - 3.0
    with np.errstate(over="ignore"):
        value = 0.5 * float(d @ d)
    return value, {"w": d.copy()}


def w_after(k: int) -> float:
    return 3.0 - 3.0 / 2**k


X1, Y1 = np.zeros((1, 1)), np.zeros(1, dtype=np.intp)


def scripted(scores):
    """A validation score that returns the given sequence, one value per call."""
    it = iter(scores)
    return lambda params, X, y: next(it)


# --- the plain loop ---------------------------------------------------------------


def test_gd_steps_and_loss_curve():
    res = train(quad, {"w": np.zeros(1)}, X1, Y1, learning_rate=0.5, max_iter=4)
    assert res.params["w"][0] == w_after(4)
    # The loss is recorded at the parameters each step starts from: 0.5 (3 / 2^k)^2.
    assert res.loss_curve == [0.5 * (3.0 / 2**k) ** 2 for k in range(4)]
    assert res.n_iter == 4
    assert not res.converged
    assert res.validation_scores is None


def test_callers_params_are_not_modified():
    w0 = np.zeros(1)
    res = train(quad, {"w": w0}, X1, Y1, learning_rate=0.5, max_iter=3)
    assert w0[0] == 0.0
    assert res.params["w"] is not w0


def test_tol_stops_after_n_iter_no_change():
    # Loss at step k (1-based) is L_k = 4.5 / 4^(k-1), strictly decreasing, so the
    # best so far is always the previous value and "no change" means
    # L_{k-1} - L_k < tol. The run stops at the n_iter_no_change-th such step.
    tol, patience = 1e-3, 3
    losses = [4.5 / 4 ** (k - 1) for k in range(1, 50)]
    first = next(k for k in range(2, 50) if losses[k - 2] - losses[k - 1] < tol)
    res = train(
        quad,
        {"w": np.zeros(1)},
        X1,
        Y1,
        learning_rate=0.5,
        max_iter=100,
        tol=tol,
        n_iter_no_change=patience,
    )
    assert res.n_iter == first + patience - 1
    assert res.converged


# --- early stopping ----------------------------------------------------------------


def test_early_stopping_counts_strict_improvements_and_restores_best():
    # Scores 0.5, 0.6, 0.6, 0.6: the equal scores are not improvements (the post's
    # rule), so with patience 2 the run stops after step 4 and restores step 2.
    res = train(
        quad,
        {"w": np.zeros(1)},
        X1,
        Y1,
        learning_rate=0.5,
        max_iter=100,
        X_val=X1,
        y_val=Y1,
        score=scripted([0.5, 0.6, 0.6, 0.6, 0.7]),
        patience=2,
    )
    assert res.n_iter == 4
    assert res.validation_scores == [0.5, 0.6, 0.6, 0.6]
    assert res.best_iteration == 2
    assert res.best_validation_score == 0.6
    assert res.converged
    assert res.params["w"][0] == w_after(2)


def test_early_stopping_without_restore_returns_last():
    res = train(
        quad,
        {"w": np.zeros(1)},
        X1,
        Y1,
        learning_rate=0.5,
        max_iter=100,
        X_val=X1,
        y_val=Y1,
        score=scripted([0.5, 0.6, 0.6, 0.6]),
        patience=2,
        restore_best_weights=False,
    )
    assert res.params["w"][0] == w_after(4)


def test_max_iter_caps_early_stopping():
    res = train(
        quad,
        {"w": np.zeros(1)},
        X1,
        Y1,
        learning_rate=0.5,
        max_iter=5,
        X_val=X1,
        y_val=Y1,
        score=scripted(range(100)),
        patience=2,
    )
    assert res.n_iter == 5
    assert not res.converged
    assert res.best_iteration == 5


def check_restores_a_copy_of_the_best_weights():
    """Fails if early stopping hands back the last weights instead of the best.

    The update rules work in place; the best parameters must be copied when
    they are seen. Kept as a function so the meta-test can run it against the
    blog post's bug.
    """
    res = train(
        quad,
        {"w": np.zeros(1)},
        X1,
        Y1,
        learning_rate=0.5,
        max_iter=100,
        X_val=X1,
        y_val=Y1,
        score=scripted([0.1, 0.9, 0.5, 0.5, 0.5]),
        patience=3,
    )
    assert res.best_iteration == 2
    assert res.n_iter == 5
    assert res.params["w"][0] == w_after(2), (
        f"restored w = {res.params['w'][0]}, the best (step 2) was {w_after(2)}, "
        f"the last (step 5) {w_after(5)}"
    )


def test_restores_a_copy_of_the_best_weights():
    check_restores_a_copy_of_the_best_weights()


def test_meta_the_copy_test_catches_the_posts_bug(monkeypatch):
    # The post: `best_weights, best_bias = self.W, self.b`, a reference to arrays
    # that `self.W -= learning_rate * dW` then keeps changing in place.
    monkeypatch.setattr(training, "_snapshot", lambda params: dict(params))
    with pytest.raises(AssertionError, match="the best"):
        check_restores_a_copy_of_the_best_weights()


def test_early_stopping_needs_all_three():
    with pytest.raises(ValueError, match="X_val, y_val and score"):
        train(quad, {"w": np.zeros(1)}, X1, Y1, X_val=X1, y_val=Y1)


# --- divergence ------------------------------------------------------------------------


def test_divergence_names_the_iteration_and_suggests_smaller_learning_rate():
    # lr = 1e100: w1 = 3e100, w2 = 3e100 - 1e100 (3e100 - 3) ~ -3e200 (finite), and the
    # loss at w2, 0.5 * 9e400, overflows: the loss of iteration 3 is inf.
    w0 = np.zeros(1)
    with pytest.raises(TrainingDivergedError, match="iteration 3") as info:
        train(quad, {"w": w0}, X1, Y1, learning_rate=1e100, max_iter=10)
    assert info.value.iteration == 3
    assert "smaller learning_rate, e.g. 1e+99" in str(info.value)
    assert w0[0] == 0.0
    assert isinstance(info.value, FloatingPointError)
    assert not isinstance(info.value, ValueError)


def test_divergence_in_the_update_itself():
    # A finite loss and gradient (1e300) whose step, 1e10 * 1e300, overflows: caught
    # right after the update of iteration 1, before any loss or score sees it.
    def steep(params, X, y, reg):
        return 0.0, {"w": np.array([1e300])}

    with pytest.raises(TrainingDivergedError, match=r"iteration 1 .*w is not finite"):
        train(steep, {"w": np.zeros(1)}, X1, Y1, learning_rate=1e10, max_iter=10)


def test_nan_gradient_is_divergence():
    def nan_grad(params, X, y, reg):
        return 1.0, {"w": np.array([np.nan])}

    with pytest.raises(TrainingDivergedError, match="gradient of w"):
        train(nan_grad, {"w": np.zeros(1)}, X1, Y1, max_iter=3)


def test_value_error_later_is_divergence_first_passes_through():
    calls = []

    def fails_on(call):
        def lg(params, X, y, reg):
            calls.append(1)
            if len(calls) == call:
                raise ValueError("W must be finite")
            return quad(params, X, y, reg)

        return lg

    # At the first evaluation the error is about the caller's inputs: unchanged.
    with pytest.raises(ValueError, match="W must be finite") as first:
        train(fails_on(1), {"w": np.zeros(1)}, X1, Y1, max_iter=3)
    assert not isinstance(first.value, TrainingDivergedError)
    calls.clear()
    with pytest.raises(TrainingDivergedError, match="iteration 2") as later:
        train(fails_on(2), {"w": np.zeros(1)}, X1, Y1, max_iter=3)
    assert isinstance(later.value.__cause__, ValueError)


# --- minibatches -------------------------------------------------------------------------


def recorder(seen):
    """A loss that records which samples (y holds sample ids) each batch had; loss = mean id."""

    def lg(params, X, y, reg):
        seen.append(y.copy())
        return float(np.mean(y)), {"w": np.zeros_like(params["w"])}

    return lg


@pytest.mark.parametrize("solver", ["sgd", "momentum", "nesterov", "adam"])
def test_each_epoch_visits_every_sample_once(solver):
    n, bs = 23, 5
    seen: list[np.ndarray] = []
    res = train(
        recorder(seen),
        {"w": np.zeros(1)},
        np.zeros((n, 1)),
        np.arange(n),
        solver=solver,
        batch_size=bs,
        max_iter=3,
        rng=np.random.default_rng(1),
    )
    assert [len(b) for b in seen] == [5, 5, 5, 5, 3] * 3
    epochs = [np.concatenate(seen[i * 5 : (i + 1) * 5]) for i in range(3)]
    for e in epochs:
        np.testing.assert_array_equal(np.sort(e), np.arange(n))
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled each epoch
    # The epoch loss is the batch losses weighted by batch size: the mean id.
    assert res.loss_curve == pytest.approx([(n - 1) / 2] * 3, rel=1e-15)


def test_sgd_default_batch_is_min_200_n():
    seen: list[np.ndarray] = []
    train(
        recorder(seen),
        {"w": np.zeros(1)},
        np.zeros((450, 1)),
        np.arange(450),
        solver="sgd",
        max_iter=1,
    )
    assert [len(b) for b in seen] == [200, 200, 50]


def test_same_rng_same_run():
    def run(seed):
        seen: list[np.ndarray] = []
        train(
            recorder(seen),
            {"w": np.zeros(1)},
            np.zeros((30, 1)),
            np.arange(30),
            solver="sgd",
            batch_size=4,
            max_iter=2,
            rng=np.random.default_rng(seed),
        )
        return np.concatenate(seen)

    np.testing.assert_array_equal(run(7), run(7))
    assert not np.array_equal(run(7), run(8))


def test_gd_refuses_minibatches():
    with pytest.raises(ValueError, match="batch_size must be None for solver='gd'"):
        train(quad, {"w": np.zeros(1)}, X1, Y1, solver="gd", batch_size=1)


# --- lbfgs ---------------------------------------------------------------------------------


def test_lbfgs_stops_within_gtol_of_the_minimum():
    # L-BFGS-B stops when max |gradient| <= gtol; the gradient is w - 3, so |w - 3| <= gtol.
    gtol = 1e-10
    res = train(quad, {"w": np.array([0.0, 10.0])}, X1, Y1, solver="lbfgs", tol=gtol)
    assert res.converged
    assert np.max(np.abs(res.params["w"] - 3.0)) <= gtol
    assert len(res.loss_curve) == res.n_iter


def test_lbfgs_refuses_early_stopping():
    with pytest.raises(ValueError, match="early stopping needs a first-order solver"):
        train(
            quad,
            {"w": np.zeros(1)},
            X1,
            Y1,
            solver="lbfgs",
            X_val=X1,
            y_val=Y1,
            score=scripted([1.0]),
        )


def test_lbfgs_nonconvergence_is_reported():
    res = train(quad, {"w": np.arange(5.0) * 100}, X1, Y1, solver="lbfgs", tol=0.0, max_iter=1)
    assert res.n_iter == 1
    assert not res.converged


# --- generic over the params dict: the two-layer network ------------------------------


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_trains_the_two_layer_network(solver):
    from softmax_ref import two_layer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.intp)  # not linearly separable
    params0 = two_layer.init_params(3, 8, 2, seed=0)
    res = train(
        two_layer.loss_and_grad,
        params0,
        X,
        y,
        reg=1e-3,
        solver=solver,
        learning_rate=1e-2,
        max_iter=300,
        tol=1e-6,
    )
    assert list(res.params) == ["W1", "b1", "W2", "b2"]
    assert res.loss_curve[-1] < res.loss_curve[0]
    # The returned dict is the point the loss was last evaluated at (flattening for
    # lbfgs maps every block back to its own key and shape).
    if solver == "lbfgs":
        final = res.extra["final_loss"]
        assert float(two_layer.loss_and_grad(res.params, X, y, 1e-3)[0]) == final


# --- progress bar and argument checks --------------------------------------------------


def test_progress_bar_shows_the_loss_when_verbose(capsys):
    train(quad, {"w": np.zeros(1)}, X1, Y1, learning_rate=0.5, max_iter=3, verbose=True)
    err = capsys.readouterr().err
    assert "loss=" in err
    assert "3/3" in err


def test_quiet_by_default(capsys):
    train(quad, {"w": np.zeros(1)}, X1, Y1, learning_rate=0.5, max_iter=3)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"solver": "newton"}, ValueError, "solver must be one of"),
        ({"max_iter": 0}, ValueError, "max_iter must be an integer >= 1"),
        ({"max_iter": 2.5}, TypeError, "max_iter"),
        ({"patience": 0}, ValueError, "patience"),
        ({"tol": -1.0}, ValueError, "tol must be"),
        ({"solver": "sgd", "batch_size": 0}, ValueError, "batch_size"),
        ({"learning_rate": 0.0}, ValueError, "learning_rate"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        train(quad, {"w": np.zeros(1)}, X1, Y1, **kwargs)


def test_params_must_be_float_arrays():
    with pytest.raises(TypeError, match=r"params\['w'\] must be a float array"):
        train(quad, {"w": np.zeros(1, dtype=int)}, X1, Y1)


# --- the hyperparameters, validated once --------------------------------------------


def test_config_is_frozen_and_normalised():
    config = TrainConfig(learning_rate=np.float32(0.5), max_iter=np.int64(3), reg=1)
    assert (config.learning_rate, config.max_iter, config.reg) == (0.5, 3, 1.0)
    assert type(config.max_iter) is int
    assert type(config.reg) is float
    with pytest.raises(AttributeError):
        config.learning_rate = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        ({"solver": "newton"}, ValueError, "solver must be one of"),
        ({"reg": -1.0}, ValueError, "reg must be a finite number >= 0"),
        ({"learning_rate": 0}, ValueError, "learning_rate must be a finite number > 0"),
        ({"tol": -1.0}, ValueError, "tol must be a finite number >= 0"),
        ({"momentum": 1.0}, ValueError, r"momentum must be in \[0, 1\)"),
        ({"epsilon": 0.0}, ValueError, "epsilon must be a finite number > 0"),
        ({"patience": 0}, ValueError, "patience must be an integer >= 1"),
        ({"restore_best_weights": 1}, TypeError, "restore_best_weights must be True or False"),
        ({"solver": "gd", "batch_size": 8}, ValueError, "batch_size must be None for solver='gd'"),
        ({"solver": "lbfgs", "early_stopping": True}, ValueError, "needs a first-order solver"),
    ],
)
def test_config_rejects_with_the_message_every_entry_point_gives(kwargs, exc, message):
    """One rule, one message: the config, train() and the estimators say the same thing."""
    from softmax_ref import SoftmaxClassifier

    with pytest.raises(exc, match=message):
        TrainConfig(**kwargs)
    train_kwargs = {k: v for k, v in kwargs.items() if k != "early_stopping"}
    if "early_stopping" in kwargs:
        train_kwargs.update(X_val=X1, y_val=Y1, score=lambda p, X, y: 0.0)
    with pytest.raises(exc, match=message):
        train(quad, {"w": np.zeros(1)}, X1, Y1, **train_kwargs)
    with pytest.raises(exc, match=message):
        SoftmaxClassifier(**kwargs).fit([[0.0], [1.0]], [0, 1])


def test_run_training_needs_early_stopping_and_validation_data_together():
    config = TrainConfig(early_stopping=True)
    with pytest.raises(ValueError, match=r"config\.early_stopping=True but validation data"):
        run_training(quad, {"w": np.zeros(1)}, X1, Y1, config)
