r"""The softmax classifier as a scikit-learn estimator: :class:`SoftmaxClassifier`.

It trains through :func:`softmax_ref.training.train` on the analytic core
:func:`softmax_ref.loss_and_grad`, float64 throughout:

.. math::
    L(W, b) = \frac{1}{N}\sum_n \Big[\log\sum_j e^{F_{nj}} - F_{n y_n}\Big]
              + \frac{\lambda}{2}\lVert W\rVert_F^2, \qquad F = XW + b

fit / predict / predict_proba / ..., any labels scikit-learn accepts, solvers
``lbfgs`` (the exact optimum), ``newton-cg`` and ``trust-ncg`` (the same optimum,
on the Hessian-vector product of :mod:`softmax_ref.hessian`), ``gd``, ``sgd``,
``momentum``, ``nesterov``, ``adam``, early stopping, ``save`` / ``load``. The
machinery it shares with the two-layer network is
:class:`softmax_ref.estimator.BaseGradientClassifier`; the post's ``Softmax`` API
is :mod:`softmax_ref.post` (NumPy only). Both, and the errors the estimators
raise, are importable from here too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from softmax_ref import distributed
from softmax_ref._persistence import ModelFileError
from softmax_ref._types import Params
from softmax_ref._validation import check_number
from softmax_ref.distributed import is_dask_array
from softmax_ref.estimator import BaseGradientClassifier
from softmax_ref.hessian import linear_hessian
from softmax_ref.loss import linear_loss_and_grad
from softmax_ref.post import Softmax
from softmax_ref.training import TrainConfig, TrainingDivergedError

__all__ = [
    "BaseGradientClassifier",
    "ModelFileError",
    "Softmax",
    "SoftmaxClassifier",
    "TrainingDivergedError",
    "linear_loss_and_grad",
]


class SoftmaxClassifier(BaseGradientClassifier):
    r"""Multinomial logistic (softmax) regression, trained on the hand-derived gradient.

    Minimises :math:`\frac{1}{N}\sum_n [\log\sum_j e^{F_{nj}} - F_{n y_n}] +
    \frac{\lambda}{2}\lVert W\rVert^2` with :math:`F = XW + b` (the bias is not
    penalised). ``solver="lbfgs"`` reaches the optimum, which with
    :math:`\lambda > 0` is unique in W: it matches scikit-learn's
    ``LogisticRegression(C=1/(N reg))`` on three or more classes. The
    first-order solvers (``gd``, the blog post's; ``sgd``; ``momentum``;
    ``nesterov``; ``adam``) follow the rules in :mod:`softmax_ref.optim`.

    Args:
        reg: :math:`\lambda \ge 0`.
        solver: ``"lbfgs"``, ``"newton-cg"``, ``"trust-ncg"``, ``"gd"``, ``"sgd"``,
            ``"momentum"``, ``"nesterov"`` or ``"adam"``. The Newton solvers use
            the exact Hessian-vector product (:func:`softmax_ref.hvp`); ``tol``
            is SciPy's ``xtol`` for ``newton-cg`` and ``gtol`` for ``trust-ncg``.
        learning_rate: step size of the first-order solvers.
        max_iter: cap on iterations (gd: steps; minibatch solvers: epochs; lbfgs:
            L-BFGS iterations). Always applied.
        tol: lbfgs: gradient tolerance; first-order: stop when the training loss
            has not improved by ``tol`` for ``n_iter_no_change`` iterations. ``None``
            (first-order only) runs to ``max_iter`` or early stopping.
        n_iter_no_change: see ``tol``.
        batch_size: minibatch size; ``None`` is the full batch, except for ``sgd``
            where it is ``min(200, N)``. Must be ``None`` for ``gd``.
        momentum: for ``momentum`` and ``nesterov``.
        beta_1, beta_2, epsilon: for ``adam``.
        early_stopping: stop after ``patience`` iterations without a strictly
            better validation accuracy, on ``X_val, y_val`` given to ``fit`` or else
            on a seeded ``validation_fraction`` of the training data.
        validation_fraction: in (0, 1).
        patience: in iterations.
        restore_best_weights: keep (a copy of) the best weights on validation data.
        init_std: W starts as N(0, init_std^2) draws (the post's 0.001), b at 0.
        random_state: None (fresh OS entropy each fit), an int, or a numpy
            Generator; seeds the initial W, the validation split and minibatch
            shuffles (three independent streams spawned from it).
        verbose: show a tqdm progress bar with the current loss.

    Attributes:
        coef_: (C, D), ``W.T`` as scikit-learn orders it (a view of ``params_["W"]``).
        intercept_: (C,), ``b``.
        classes_, n_features_in_, n_iter_, loss_curve_, params_: see
            :class:`BaseGradientClassifier`.

    Unlike ``LogisticRegression``, two classes keep two rows in ``coef_`` (the
    softmax is over-parametrised the same way for every C); ``decision_function``
    returns their difference, as scikit-learn expects.

    Example:
        >>> import numpy as np
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
        >>> clf = SoftmaxClassifier(reg=0.01).fit(X, ["cold", "cold", "hot", "hot"])
        >>> clf.predict([[-3.0], [3.0]]).tolist()
        ['cold', 'hot']
        >>> clf.coef_.shape, clf.intercept_.shape
        ((2, 1), (2,))

        Saving and loading (``.npz``, no pickle):

        >>> import os, tempfile
        >>> path = clf.save(os.path.join(tempfile.mkdtemp(), "clf.npz"))
        >>> SoftmaxClassifier.load(path).predict([[-3.0], [3.0]]).tolist()
        ['cold', 'hot']
    """

    def __init__(
        self,
        reg: float = 1e-3,
        *,
        solver: str = "lbfgs",
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
        init_std: float = 1e-3,
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
        self.init_std = init_std

    def _check_hyperparameters(self) -> TrainConfig:
        config = super()._check_hyperparameters()
        check_number("init_std", self.init_std, low=0)
        return config

    def _init_params(self, n_features: int, n_classes: int, rng: np.random.Generator) -> Params:
        W = rng.normal(0.0, self.init_std, size=(n_features, n_classes))
        return {"W": W, "b": np.zeros(n_classes)}

    def _loss_and_grad(
        self, params: Params, X: np.ndarray, y: np.ndarray, reg: float
    ) -> tuple[float, Params]:
        if is_dask_array(X):
            # Each iteration: the sums computed where X's chunks live, merged, sent back.
            value, dW, db = distributed.loss_and_grad(params["W"], params["b"], X, y, reg)
            return float(value), {"W": dW, "b": db}
        return linear_loss_and_grad(params, X, y, reg)

    def _scores(self, params: Params, X: np.ndarray) -> np.ndarray:
        return X @ params["W"] + params["b"]

    def _hessian(self, params: Params, X: np.ndarray, y: np.ndarray, reg: float) -> Any:
        return linear_hessian(params, X, y, reg)

    @property
    def coef_(self) -> np.ndarray:
        """(C, D): the weights as scikit-learn orders them, a view of ``params_["W"]``.

        Example:
            >>> import numpy as np
            >>> clf = SoftmaxClassifier(reg=0.01).fit([[-1.0, 0.0], [1.0, 0.0]], ["a", "b"])
            >>> clf.coef_.shape, clf.params_["W"].shape
            ((2, 2), (2, 2))
            >>> bool(np.shares_memory(clf.coef_, clf.params_["W"]))
            True
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        return self.params_["W"].T

    @property
    def intercept_(self) -> np.ndarray:
        """(C,): the biases ``params_["b"]``.

        Example:
            >>> clf = SoftmaxClassifier(reg=0.01).fit([[-1.0], [0.0], [1.0]], [0, 1, 2])
            >>> clf.intercept_.shape, clf.intercept_ is clf.params_["b"]
            ((3,), True)
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        return self.params_["b"]
