r"""The one-hidden-layer ReLU network as a scikit-learn estimator.

:class:`TwoLayerClassifier` is :class:`softmax_ref.estimator.BaseGradientClassifier`
with the network of :mod:`softmax_ref.two_layer` plugged into its three hooks
(initial parameters, loss and gradient, scores). Everything else (the solvers,
early stopping, the NaN guard, label handling, predict*, save / load) is the
linear classifier's, unchanged, through :func:`softmax_ref.training.train`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from softmax_ref import two_layer
from softmax_ref._types import Params
from softmax_ref._validation import check_int
from softmax_ref.estimator import BaseGradientClassifier
from softmax_ref.training import TrainConfig

__all__ = ["TwoLayerClassifier"]


class TwoLayerClassifier(BaseGradientClassifier):
    r"""Softmax classification on one hidden layer of ReLU units, with a hand-derived gradient.

    Minimises

    .. math::
        \begin{gathered}
        \frac{1}{N}\sum_n \Big[\log\sum_j e^{F_{nj}} - F_{n y_n}\Big]
        + \frac{\lambda}{2}\big(\lVert W_1\rVert_F^2 + \lVert W_2\rVert_F^2\big),
        \\ F = \operatorname{relu}(X W_1 + b_1)\, W_2 + b_2
        \end{gathered}

    with the backward pass of :func:`softmax_ref.two_layer.loss_and_grad`. The
    loss is not convex: every solver finds a local minimum that depends on
    ``random_state`` (through the He initialisation of
    :func:`softmax_ref.two_layer.init_params`).

    **The default solver is ``adam``**, not the linear classifier's ``lbfgs``
    (scikit-learn's ``MLPClassifier`` makes the same choice). The loss is not
    differentiable where a pre-activation crosses 0, and L-BFGS, whose
    stopping test is a small projected gradient, often never meets it there:
    on small data sets it runs to ``max_iter`` and warns. ``adam`` stops by the
    first-order rule (``tol`` / ``n_iter_no_change``). ``solver="lbfgs"`` is
    still there, and on a small data set it fits hardest.

    Args:
        hidden_size: H, the number of hidden ReLU units (>= 1).
        reg: :math:`\lambda \ge 0`, on ``W1`` and ``W2`` (not the biases). A
            large ``hidden_size`` with a small ``reg`` fits individual training
            points (the blog post's overfitting figure).
        solver: ``"adam"`` (default), ``"lbfgs"``, ``"gd"``, ``"sgd"``,
            ``"momentum"`` or ``"nesterov"``, as for the linear classifier; or
            ``"newton-cg"`` (on the Gauss-Newton product
            :func:`softmax_ref.two_layer.gnvp`, positive semi-definite) or
            ``"trust-ncg"`` (on the exact Hessian product
            :func:`softmax_ref.two_layer.hvp`, whose negative curvature the trust
            region handles).
        learning_rate, max_iter, tol, n_iter_no_change, batch_size, momentum,
            beta_1, beta_2, epsilon, early_stopping, validation_fraction,
            patience, restore_best_weights, random_state, verbose: exactly as
            for :class:`softmax_ref.SoftmaxClassifier`.

    Attributes:
        params_: the trained dict ``{"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}``.
        classes_, n_features_in_, n_iter_, loss_curve_ (and with early stopping
            validation_scores_, best_validation_score_, best_iteration_): as for
            :class:`softmax_ref.SoftmaxClassifier`.

    Example:
        XOR, which no linear classifier separates:

        >>> import numpy as np
        >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
        >>> clf = TwoLayerClassifier(hidden_size=8, reg=1e-4, random_state=0)
        >>> clf.fit(X, ["same", "same", "differ", "differ"]).predict(X).tolist()
        ['same', 'same', 'differ', 'differ']
        >>> clf.params_["W1"].shape, clf.params_["W2"].shape
        ((2, 8), (8, 2))
    """

    def __init__(
        self,
        hidden_size: int = 100,
        reg: float = 1e-3,
        *,
        solver: str = "adam",
        learning_rate: float = 1e-2,
        max_iter: int = 1000,
        tol: float | None = 1e-4,
        n_iter_no_change: int = 10,
        batch_size: int | None = None,
        momentum: float = 0.9,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 10,
        restore_best_weights: bool = True,
        random_state: Any = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(
            reg,
            solver=solver,
            learning_rate=learning_rate,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            batch_size=batch_size,
            momentum=momentum,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            patience=patience,
            restore_best_weights=restore_best_weights,
            random_state=random_state,
            verbose=verbose,
        )
        self.hidden_size = hidden_size

    def _check_hyperparameters(self) -> TrainConfig:
        config = super()._check_hyperparameters()
        check_int("hidden_size", self.hidden_size, 1)
        return config

    def _init_params(self, n_features: int, n_classes: int, rng: np.random.Generator) -> Params:
        hidden = check_int("hidden_size", self.hidden_size, 1)
        return two_layer.init_params(n_features, hidden, n_classes, seed=rng)

    def _loss_and_grad(
        self, params: Params, X: np.ndarray, y: np.ndarray, reg: float
    ) -> tuple[float, Params]:
        value, grads = two_layer.loss_and_grad(params, X, y, reg)
        return float(value), grads

    def _scores(self, params: Params, X: np.ndarray) -> np.ndarray:
        return two_layer.scores(params, X)

    def _hessian(self, params: Params, X: np.ndarray, y: np.ndarray, reg: float) -> Any:
        # Newton-CG needs positive curvature in its inner CG: the Gauss-Newton product
        # (J^T H_F J, PSD). A trust region handles the exact Hessian's negative curvature.
        product = two_layer.hvp if self.solver == "trust-ncg" else two_layer.gnvp

        def at(vector: Params) -> Params:
            return product(params, X, y, reg, vector)

        return at
