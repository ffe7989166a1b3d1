r"""The scikit-learn estimator shared by every model: :class:`BaseGradientClassifier`.

A model is three hooks (initial parameters, loss and gradient, class scores);
this class supplies the rest: hyperparameter and data validation, labels of
any kind scikit-learn accepts, the solvers of :func:`softmax_ref.training.train`,
early stopping, the NaN guard, ``predict*`` and ``save`` / ``load`` (``.npz``,
no pickle). :class:`softmax_ref.classifier.SoftmaxClassifier` and
:class:`softmax_ref.two_layer_classifier.TwoLayerClassifier` are its two models.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

# The estimator's base classes are needed when the class is defined; softmax_ref's
# __init__ imports the estimators lazily, so `import softmax_ref` stays NumPy-only.
from sklearn.base import BaseEstimator, ClassifierMixin

from softmax_ref._persistence import load_model, save_model
from softmax_ref._types import Params
from softmax_ref._validation import as_generator, check_number, check_random_state
from softmax_ref.distributed import is_dask_array, labels_of, rowwise
from softmax_ref.loss import log_softmax, softmax
from softmax_ref.training import TrainConfig, TrainResult, run_training

__all__ = ["BaseGradientClassifier"]


class BaseGradientClassifier(ClassifierMixin, BaseEstimator):
    r"""A classifier trained by :func:`softmax_ref.training.train`; three hooks define the model.

    A subclass defines its ``__init__`` (the hyperparameters below plus its
    own, each stored as given) and:

    * ``_init_params(n_features, n_classes, rng) -> params`` (a dict of float64 arrays),
    * ``_loss_and_grad(params, X, y, reg) -> (loss, grads)`` with y in ``[0, C)``,
    * ``_scores(params, X) -> (N, C)`` unnormalised class scores.

    Everything else (validation, labels, solvers, early stopping, the NaN
    guard, predict*, save / load) is shared. Fitted attributes: ``classes_``,
    ``n_features_in_`` (and ``feature_names_in_`` for data frames),
    ``params_`` (the trained dict), ``n_iter_``, ``loss_curve_`` and, with early
    stopping, ``validation_scores_``, ``best_validation_score_``,
    ``best_iteration_``. They are all set together at the end of a successful
    ``fit``: a fit that raises leaves the previous fitted state as it was.

    The model the hooks define: parameters :math:`\theta` (``params_``),
    class scores :math:`F = F(X; \theta)` of shape (N, C) from ``_scores``, and

    .. math::
        \begin{gathered}
        \hat\theta = \arg\min_\theta L(\theta; X, y, \lambda), \\
        P = \operatorname{softmax}(F(X; \hat\theta)), \qquad
        \hat y_n = \texttt{classes\_}\big[\arg\max_c F_{nc}\big]
        \end{gathered}

    where :math:`L` is what ``_loss_and_grad`` returns (for the models here,
    the mean cross-entropy of :math:`P` plus :math:`\frac{\lambda}{2}` times
    the squared weights) and the minimum is sought by ``solver``.

    Example:
        A linear model with no bias, in three hooks (``reg`` and the rest come
        from this class's ``__init__``):

        >>> import numpy as np
        >>> from softmax_ref.loss import loss_and_grad
        >>> class NoBias(BaseGradientClassifier):
        ...     def _init_params(self, n_features, n_classes, rng):
        ...         return {"W": np.zeros((n_features, n_classes))}
        ...     def _loss_and_grad(self, params, X, y, reg):
        ...         L, dW, _ = loss_and_grad(params["W"], np.zeros(params["W"].shape[1]), X, y, reg)
        ...         return float(L), {"W": dW}
        ...     def _scores(self, params, X):
        ...         return X @ params["W"]
        >>> clf = NoBias(reg=0.1).fit([[-1.0], [1.0]], ["a", "b"])
        >>> clf.predict([[-2.0], [2.0]]).tolist(), sorted(clf.params_)
        (['a', 'b'], ['W'])
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
        random_state: Any = None,
        verbose: bool = False,
    ) -> None:
        self.reg = reg
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.batch_size = batch_size
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.restore_best_weights = restore_best_weights
        self.random_state = random_state
        self.verbose = verbose

    # --- the model: subclasses override these -----------------------------------

    def _init_params(self, n_features: int, n_classes: int, rng: np.random.Generator) -> Params:
        raise NotImplementedError

    def _loss_and_grad(
        self, params: Params, X: np.ndarray, y: np.ndarray, reg: float
    ) -> tuple[float, Params]:
        raise NotImplementedError

    def _scores(self, params: Params, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _hessian(self, params: Params, X: np.ndarray, y: np.ndarray, reg: float) -> Any:
        """The Hessian at ``params`` as ``vector -> product`` (dicts), for the Newton solvers.

        A model without one leaves this as it is; ``newton-cg`` and ``trust-ncg``
        then raise a ValueError naming the solver.
        """
        raise ValueError(
            f"{type(self).__name__} has no Hessian-vector product; solver={self.solver!r} needs one"
        )

    # --- validation ---------------------------------------------------------------

    def _check_hyperparameters(self) -> TrainConfig:
        """Every hyperparameter checked up front, once; the message names the parameter.

        A subclass with hyperparameters of its own checks them after calling this.
        """
        config = TrainConfig(
            solver=self.solver,
            reg=self.reg,
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            batch_size=self.batch_size,
            momentum=self.momentum,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            early_stopping=self.early_stopping,
            patience=self.patience,
            restore_best_weights=self.restore_best_weights,
        )
        check_number("validation_fraction", self.validation_fraction, low=0, low_open=True, high=1)
        check_random_state(self.random_state)
        return config

    def _check_fit_data(self, X: Any, y: Any, X_val: Any, y_val: Any) -> dict[str, Any]:
        """Validate everything fit needs; return it without touching ``self``."""
        if is_dask_array(X) or is_dask_array(y):
            from softmax_ref.distributed import fit_data

            return fit_data(self, X, y, X_val, y_val)
        from sklearn.base import clone
        from sklearn.preprocessing import LabelEncoder
        from sklearn.utils.multiclass import check_classification_targets
        from sklearn.utils.validation import check_array, validate_data

        # validate_data(reset=True) records n_features_in_ / feature_names_in_ on the
        # estimator it is given; a clone takes them so that self changes only on success.
        probe = clone(self)
        X, y = validate_data(probe, X, y, dtype=np.float64)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        classes = encoder.classes_
        if classes.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in y; "
                f"got 1 class: {classes[0]!r}"
            )
        y_enc = encoder.transform(y).astype(np.intp)
        out: dict[str, Any] = {
            "X": X,
            "y": y_enc,
            "classes_": classes,
            "n_features_in_": probe.n_features_in_,
        }
        if hasattr(probe, "feature_names_in_"):
            out["feature_names_in_"] = probe.feature_names_in_

        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be given together; got only one of them")
        if X_val is not None:
            if not self.early_stopping:
                raise ValueError(
                    "X_val and y_val are used for early stopping; set early_stopping=True "
                    "to use them"
                )
            X_val = check_array(X_val, dtype=np.float64, input_name="X_val")
            if X_val.shape[1] != X.shape[1]:
                raise ValueError(
                    f"X_val must have the {X.shape[1]} features of X; got shape {X_val.shape}"
                )
            from sklearn.utils.validation import column_or_1d

            y_val = column_or_1d(y_val)
            if y_val.shape[0] != X_val.shape[0]:
                raise ValueError(
                    f"y_val must have one label per row of X_val ({X_val.shape[0]}); "
                    f"got shape {y_val.shape}"
                )
            unseen = np.setdiff1d(y_val, classes)
            if unseen.size:
                raise ValueError(
                    f"y_val holds labels not seen in y: {unseen.tolist()[:5]}; "
                    f"the classes are {classes.tolist()}"
                )
            out["val"] = (X_val, encoder.transform(y_val).astype(np.intp))
        return out

    # --- fit ---------------------------------------------------------------------

    def fit(self, X: Any, y: Any, *, X_val: Any = None, y_val: Any = None):
        """Train on ``X`` (N, D) and labels ``y`` (N,); return ``self``.

        Labels are encoded as indices into ``classes_`` (sorted), the
        parameters are drawn by ``_init_params`` from ``random_state`` and
        trained by :func:`softmax_ref.training.train` with ``solver``; the
        fitted attributes are set together at the end.

        Args:
            X: samples, array-like ``(N, D)``; cast to float64.
            y: labels, any that scikit-learn's classifiers accept (ints, strings, ...),
                at least two distinct.
            X_val, y_val: validation data for early stopping (needs
                ``early_stopping=True``); without them, early stopping holds out a
                seeded ``validation_fraction`` of ``(X, y)``.

        Raises:
            ValueError, TypeError: for bad data or hyperparameters, before anything
                of ``self`` changes.
            TrainingDivergedError: the loss became NaN or infinite; the message
                names the iteration and suggests a smaller ``learning_rate``. The
                previous fitted state is left exactly as it was.

        Example:
            >>> import numpy as np
            >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
            >>> clf = SoftmaxClassifier(reg=0.01).fit(X, ["cold", "cold", "hot", "hot"])
            >>> clf.classes_, clf.n_features_in_, clf.params_["W"].shape, clf.params_["b"].shape
            (array(['cold', 'hot'], dtype='<U4'), 1, (1, 2), (2,))

            Early stopping on given validation data, with gradient descent:

            >>> es = SoftmaxClassifier(solver="gd", learning_rate=0.5, early_stopping=True,
            ...                        patience=3, random_state=0)
            >>> es = es.fit(X, ["cold", "cold", "hot", "hot"],
            ...             X_val=[[-1.5], [1.5]], y_val=["cold", "hot"])
            >>> es.n_iter_, es.best_iteration_, es.best_validation_score_
            (4, 1, 1.0)
        """
        config = self._check_hyperparameters()
        data = self._check_fit_data(X, y, X_val, y_val)
        X, y_enc, classes = data["X"], data["y"], data["classes_"]
        rng = as_generator(self.random_state)
        init_rng, split_rng, shuffle_rng = rng.spawn(3)

        val = data.get("val")
        if self.early_stopping and val is None:
            n = X.shape[0]
            n_val = math.ceil(self.validation_fraction * n)
            if n_val < 1 or n - n_val < 1:
                raise ValueError(
                    f"validation_fraction={self.validation_fraction} of {n} samples leaves no "
                    "training or no validation samples; increase N or change validation_fraction"
                )
            order = split_rng.permutation(n)
            val = (X[order[:n_val]], y_enc[order[:n_val]])
            X, y_enc = X[order[n_val:]], y_enc[order[n_val:]]

        params0 = self._init_params(X.shape[1], classes.shape[0], init_rng)
        result = run_training(
            self._loss_and_grad,
            params0,
            X,
            y_enc,
            config,
            X_val=None if val is None else val[0],
            y_val=None if val is None else val[1],
            score=self._accuracy if val is not None else None,
            rng=shuffle_rng,
            verbose=bool(self.verbose),
            desc=type(self).__name__,
            hessian=self._hessian,
        )
        self._commit(data, result)
        # After the commit: the fit is complete even when warnings are turned into errors.
        self._warn_if_not_converged(result)
        return self

    def _accuracy(self, params: Params, X: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(np.argmax(self._scores(params, X), axis=1) == y))

    def _warn_if_not_converged(self, result: TrainResult) -> None:
        if result.converged or (
            self.solver not in ("lbfgs", "newton-cg", "trust-ncg") and self.tol is None
        ):
            return
        from sklearn.exceptions import ConvergenceWarning

        warnings.warn(
            f"{type(self).__name__} (solver={self.solver!r}) did not converge in "
            f"max_iter={self.max_iter} iterations ({result.stop_reason}); increase max_iter, "
            "or the learning_rate for first-order solvers",
            ConvergenceWarning,
            stacklevel=3,
        )

    _FIT_ATTRIBUTES = (
        "classes_",
        "n_features_in_",
        "feature_names_in_",
        "params_",
        "n_iter_",
        "loss_curve_",
        "validation_scores_",
        "best_validation_score_",
        "best_iteration_",
    )

    def _commit(self, data: dict[str, Any], result: TrainResult) -> None:
        """Replace the fitted state in one go (no fitted attribute survives from a previous fit)."""
        fitted: dict[str, Any] = {
            "classes_": data["classes_"],
            "n_features_in_": data["n_features_in_"],
            "params_": result.params,
            "n_iter_": result.n_iter,
            "loss_curve_": list(result.loss_curve),
        }
        if "feature_names_in_" in data:
            fitted["feature_names_in_"] = data["feature_names_in_"]
        if result.validation_scores is not None:
            fitted["validation_scores_"] = list(result.validation_scores)
            fitted["best_validation_score_"] = result.best_validation_score
            fitted["best_iteration_"] = result.best_iteration
        for name in self._FIT_ATTRIBUTES:
            self.__dict__.pop(name, None)
        self.__dict__.update(fitted)

    # --- prediction --------------------------------------------------------------

    def _validated_scores(self, X: Any) -> np.ndarray:
        from sklearn.utils.validation import check_is_fitted, validate_data

        check_is_fitted(self)
        if is_dask_array(X):
            from softmax_ref.distributed import check_predict_rows

            return self._scores(self.params_, check_predict_rows(X, self.n_features_in_))
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self._scores(self.params_, X)

    def decision_function(self, X: Any) -> np.ndarray:
        r"""Class scores ``F`` (N, C); for two classes, the log-odds ``F[:, 1] - F[:, 0]`` (N,).

        The (N,) form for two classes is scikit-learn's convention: positive
        means ``classes_[1]``, and :math:`P_{n1} = 1 / (1 + e^{-(F_{n1} - F_{n0})})`.

        Args:
            X: samples, array-like ``(N, D)`` with the ``n_features_in_`` of fit.

        Example:
            >>> import numpy as np
            >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
            >>> clf = SoftmaxClassifier(reg=0.01).fit(X, ["cold", "cold", "hot", "hot"])
            >>> # symmetric data: the two scores are +-(W1 - W0)
            >>> clf.decision_function([[-1.0], [1.0]])  # doctest: +NUMBER
            array([-3.41,  3.41])
            >>> three = SoftmaxClassifier(reg=0.01).fit([[-2.0], [0.0], [2.0]], [0, 1, 2])
            >>> three.decision_function([[-3.0], [0.0], [3.0]]).shape
            (3, 3)
        """
        F = self._validated_scores(X)
        if F.shape[1] == 2:
            return F[:, 1] - F[:, 0]
        return F

    def predict_proba(self, X: Any) -> np.ndarray:
        r"""Class probabilities ``softmax(F)`` (N, C), columns in the order of ``classes_``.

        :math:`P_{nc} = e^{F_{nc}} / \sum_j e^{F_{nj}}`, computed with the row
        maximum shifted out (:func:`softmax_ref.softmax`); each row sums to 1.

        Args:
            X: samples, array-like ``(N, D)``.

        Example:
            >>> import numpy as np
            >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
            >>> clf = SoftmaxClassifier(reg=0.01).fit(X, ["cold", "cold", "hot", "hot"])
            >>> P = clf.predict_proba([[-1.0], [1.0]])
            >>> P  # doctest: +NUMBER
            array([[0.968, 0.032],
                   [0.032, 0.968]])
            >>> sigmoid = 1 / (1 + np.exp(-clf.decision_function([[1.0]])))
            >>> P.sum(axis=1), sigmoid  # doctest: +NUMBER
            (array([1., 1.]), array([0.968]))
        """
        return rowwise(softmax, self._validated_scores(X))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        r"""``log_softmax(F)`` (N, C), computed without forming the probabilities.

        :math:`\log P_{nc} = F_{nc} - \log\sum_j e^{F_{nj}}`, finite even where
        :math:`P_{nc}` underflows to 0.

        Args:
            X: samples, array-like ``(N, D)``.

        Example:
            >>> import numpy as np
            >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
            >>> clf = SoftmaxClassifier(reg=0.01).fit(X, ["cold", "cold", "hot", "hot"])
            >>> clf.predict_log_proba([[-1.0]]).round(3)    # log 0.968, log 0.032
            array([[-0.032, -3.444]])
            >>> far = [[-1000.0]]   # P of "hot" underflows to 0; its log stays finite
            >>> p_hot, log_p_hot = clf.predict_proba(far)[0, 1], clf.predict_log_proba(far)[0, 1]
            >>> float(p_hot), round(float(log_p_hot), -2)
            (0.0, -3400.0)
        """
        return rowwise(log_softmax, self._validated_scores(X))

    def predict(self, X: Any) -> np.ndarray:
        r"""The label of the highest score for each row of ``X``, from ``classes_``.

        :math:`\hat y_n = \texttt{classes\_}[\arg\max_c F_{nc}]`, for X ``(N, D)``;
        returns ``(N,)`` labels of the type ``fit`` saw.

        Example:
            >>> import numpy as np
            >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
            >>> clf = SoftmaxClassifier(reg=0.01).fit(X, ["cold", "cold", "hot", "hot"])
            >>> clf.predict([[-3.0], [0.5], [3.0]])
            array(['cold', 'hot', 'hot'], dtype='<U4')
        """
        scores = self._validated_scores(X)  # first: it raises NotFittedError before fit
        return labels_of(scores, self.classes_)

    # --- persistence --------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted model to ``path`` (exactly that name) as an ``.npz``, without pickle.

        The archive holds each parameter array with its shape (``param:W``
        (D, C) and ``param:b`` (C,) for :class:`SoftmaxClassifier`), ``classes``
        (C,), the hyperparameters and the fit's record (the format: softmax_ref/_persistence.py).

        Returns:
            The path written.

        Raises:
            sklearn.exceptions.NotFittedError: before ``fit``.
            ValueError: a hyperparameter (e.g. a Generator ``random_state``) or the
                classes cannot be stored as plain arrays / JSON; nothing is written.

        Example:
            >>> import os, tempfile
            >>> import numpy as np
            >>> clf = SoftmaxClassifier(reg=0.01).fit([[-1.0], [1.0]], ["cold", "hot"])
            >>> with tempfile.TemporaryDirectory() as tmp:
            ...     path = clf.save(os.path.join(tmp, "clf.npz"))
            ...     with np.load(path) as archive:
            ...         print(path.name, archive["param:W"].shape, archive["classes"])
            clf.npz (1, 2) ['cold' 'hot']
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        return save_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]):
        """Read a model written by :meth:`save`; a malformed or foreign file raises ModelFileError.

        Every parameter array is checked for the shape ``cls`` gives it (``W``
        (D, C), ``b`` (C,) for :class:`SoftmaxClassifier`) before the model is
        built; the loaded model predicts exactly as the saved one did.

        Raises:
            FileNotFoundError: no such file.
            ModelFileError: (a ValueError) the file is not an ``.npz`` this package
                wrote for ``cls``, or is damaged; the message names the file and
                what is wrong.

        Example:
            >>> import os, tempfile
            >>> import numpy as np
            >>> clf = SoftmaxClassifier(reg=0.01).fit([[-1.0], [1.0]], ["cold", "hot"])
            >>> with tempfile.TemporaryDirectory() as tmp:
            ...     loaded = SoftmaxClassifier.load(clf.save(os.path.join(tmp, "clf.npz")))
            >>> loaded.predict([[-2.0], [2.0]]), loaded.coef_.shape
            (array(['cold', 'hot'], dtype='<U4'), (2, 1))
            >>> bool(np.array_equal(loaded.coef_, clf.coef_))
            True
        """
        return load_model(cls, Path(path))
