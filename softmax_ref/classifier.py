r"""The softmax classifier as a scikit-learn estimator, and the blog post's ``Softmax`` API.

Both train through :func:`softmax_ref.training.train` on the analytic core
:func:`softmax_ref.loss_and_grad`, float64 throughout:

.. math::
    L(W, b) = \frac{1}{N}\sum_n \Big[\log\sum_j e^{F_{nj}} - F_{n y_n}\Big]
              + \frac{\lambda}{2}\lVert W\rVert_F^2, \qquad F = XW + b

* :class:`SoftmaxClassifier`: fit / predict / predict_proba / ..., any labels
  scikit-learn accepts, solvers ``lbfgs`` (the exact optimum), ``gd``, ``sgd``,
  ``momentum``, ``nesterov``, ``adam``, early stopping, ``save`` / ``load``.
* :class:`BaseGradientClassifier`: the model-agnostic machinery; a subclass
  supplies ``_init_params``, ``_loss_and_grad`` and ``_scores`` for its own
  params dict (the two-layer network does).
* :class:`Softmax`: the post's ``train`` / ``train_early_stopping`` / ``predict``.

Persistence writes one ``.npz`` file, read back with ``allow_pickle=False``:
the parameter arrays (``param:<name>``), ``classes`` (strings as a unicode
array, never objects), ``n_features_in``, optional ``feature_names_in``, the
hyperparameters and fit summary as JSON text, the estimator's class name, a
format tag and a format version.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import uuid
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

# The estimator's base classes are needed when the class is defined; softmax_ref's
# __init__ imports this module lazily, so `import softmax_ref` stays NumPy-only.
from sklearn.base import BaseEstimator, ClassifierMixin

from softmax_ref._validation import check_reg
from softmax_ref.loss import log_softmax, loss_and_grad, softmax
from softmax_ref.training import SOLVERS, Params, TrainingDivergedError, TrainResult, train

__all__ = [
    "BaseGradientClassifier",
    "ModelFileError",
    "Softmax",
    "SoftmaxClassifier",
    "TrainingDivergedError",
    "linear_loss_and_grad",
]

FORMAT_TAG = "softmax-ref-model"
FORMAT_VERSION = 1


def linear_loss_and_grad(
    params: Params, X: np.ndarray, y: np.ndarray, reg: float
) -> tuple[float, Params]:
    r""":func:`softmax_ref.loss_and_grad` over a params dict ``{"W": (D, C), "b": (C,)}``.

    .. math::
        L = \frac{1}{N}\sum_n \Big[\log\sum_j e^{F_{nj}} - F_{n y_n}\Big]
            + \frac{\lambda}{2}\lVert W\rVert_F^2, \qquad
        \frac{\partial L}{\partial W} = \frac{1}{N} X^\top (P - Y) + \lambda W, \qquad
        \frac{\partial L}{\partial b} = \frac{1}{N} \sum_n (P - Y)_n

    with :math:`F = XW + b`, :math:`P = \operatorname{softmax}(F)` and
    :math:`Y` the one-hot labels, X ``(N, D)`` and y ``(N,)``. This is the
    form :func:`softmax_ref.training.train` takes: the loss as a Python float,
    and the grads keyed and shaped like params.

    Example:
        >>> import numpy as np
        >>> L, g = linear_loss_and_grad({"W": np.zeros((2, 2)), "b": np.zeros(2)},
        ...                             np.eye(2), np.array([0, 1]), 0.0)
        >>> round(L, 6), g["b"]
        (0.693147, array([0., 0.]))
    """
    value, dW, db = loss_and_grad(params["W"], params["b"], X, y, reg)
    return float(value), {"W": dW, "b": db}


def _make_rng(random_state: Any) -> np.random.Generator:
    """The generator behind ``random_state``.

    None: fresh OS entropy; an int: that seed; a Generator: itself; a
    RandomState: seeded by one draw from it (scikit-learn's way of consuming one).
    """
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.default_rng(None if random_state is None else int(random_state))
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(np.iinfo(np.int32).max)))
    raise TypeError(
        f"random_state must be None, an int, a numpy Generator or RandomState; got {random_state!r}"
    )


def _check_number(
    name: str,
    value: Any,
    *,
    low: float,
    low_open: bool,
    high: float = math.inf,
    high_open: bool = True,
) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number; got {value!r} of type {type(value).__name__}"
        )
    v = float(value)
    lo_ok = v > low if low_open else v >= low
    hi_ok = v < high if high_open else v <= high
    if not (math.isfinite(v) and lo_ok and hi_ok):
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(f"{name} must be in {lo}{low:g}, {high:g}{hi}; got {value!r}")
    return v


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {low}; got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")
    return int(value)


class ModelFileError(ValueError):
    """A file given to ``load`` is not a model this package wrote, or is damaged.

    The message starts with the file's path and says what is wrong.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "notes.npz")
        >>> with open(path, "wb") as f:
        ...     _ = f.write(b"not a model")
        >>> try:
        ...     SoftmaxClassifier.load(path)
        ... except ModelFileError as e:
        ...     print(str(e).startswith(path), "not a readable .npz" in str(e))
        True True
    """


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
        \hat\theta = \arg\min_\theta L(\theta; X, y, \lambda), \qquad
        P = \operatorname{softmax}(F(X; \hat\theta)), \qquad
        \hat y_n = \texttt{classes\_}\big[\arg\max_c F_{nc}\big]

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

    # --- validation ---------------------------------------------------------------

    def _check_hyperparameters(self) -> dict[str, Any]:
        """Every hyperparameter checked up front; the message names the parameter."""
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {list(SOLVERS)}; got {self.solver!r}")
        hp = {
            "reg": check_reg(self.reg),
            "learning_rate": _check_number(
                "learning_rate", self.learning_rate, low=0, low_open=True
            ),
            "max_iter": _check_int("max_iter", self.max_iter, 1),
            "tol": None
            if self.tol is None
            else _check_number("tol", self.tol, low=0, low_open=False),
            "n_iter_no_change": _check_int("n_iter_no_change", self.n_iter_no_change, 1),
            "batch_size": None
            if self.batch_size is None
            else _check_int("batch_size", self.batch_size, 1),
            "momentum": _check_number("momentum", self.momentum, low=0, low_open=False, high=1),
            "beta_1": _check_number("beta_1", self.beta_1, low=0, low_open=False, high=1),
            "beta_2": _check_number("beta_2", self.beta_2, low=0, low_open=False, high=1),
            "epsilon": _check_number("epsilon", self.epsilon, low=0, low_open=True),
            "patience": _check_int("patience", self.patience, 1),
        }
        _check_number("validation_fraction", self.validation_fraction, low=0, low_open=True, high=1)
        for name in ("early_stopping", "restore_best_weights"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise TypeError(f"{name} must be True or False; got {getattr(self, name)!r}")
        if self.solver == "gd" and self.batch_size is not None:
            raise ValueError(
                "batch_size must be None for solver='gd' (full-batch gradient descent); "
                f"got {self.batch_size!r}. Use solver='sgd', 'momentum', 'nesterov' or 'adam' "
                "for minibatches"
            )
        if self.early_stopping and self.solver == "lbfgs":
            raise ValueError(
                "early_stopping=True needs a first-order solver (gd, sgd, momentum, nesterov, "
                "adam); solver='lbfgs' minimises to the optimum"
            )
        if not (
            self.random_state is None
            or isinstance(self.random_state, numbers.Integral | np.random.Generator)
            or isinstance(self.random_state, np.random.RandomState)
        ) or isinstance(self.random_state, bool):
            raise TypeError(
                "random_state must be None, an int, a numpy Generator or RandomState; "
                f"got {self.random_state!r}"
            )
        return hp

    def _check_fit_data(self, X: Any, y: Any, X_val: Any, y_val: Any) -> dict[str, Any]:
        """Validate everything fit needs; return it without touching ``self``."""
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
        hp = self._check_hyperparameters()
        data = self._check_fit_data(X, y, X_val, y_val)
        X, y_enc, classes = data["X"], data["y"], data["classes_"]
        rng = _make_rng(self.random_state)
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
        result = train(
            self._loss_and_grad,
            params0,
            X,
            y_enc,
            reg=hp["reg"],
            solver=self.solver,
            learning_rate=hp["learning_rate"],
            max_iter=hp["max_iter"],
            tol=hp["tol"],
            n_iter_no_change=hp["n_iter_no_change"],
            batch_size=hp["batch_size"],
            momentum=hp["momentum"],
            beta_1=hp["beta_1"],
            beta_2=hp["beta_2"],
            epsilon=hp["epsilon"],
            X_val=None if val is None else val[0],
            y_val=None if val is None else val[1],
            score=self._accuracy if val is not None else None,
            patience=hp["patience"],
            restore_best_weights=bool(self.restore_best_weights),
            rng=shuffle_rng,
            verbose=bool(self.verbose),
            desc=type(self).__name__,
        )
        self._commit(data, result)
        # After the commit: the fit is complete even when warnings are turned into errors.
        self._warn_if_not_converged(result)
        return self

    def _accuracy(self, params: Params, X: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(np.argmax(self._scores(params, X), axis=1) == y))

    def _warn_if_not_converged(self, result: TrainResult) -> None:
        if result.converged or (self.solver != "lbfgs" and self.tol is None):
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
            >>> clf.decision_function([[-1.0], [1.0]])   # symmetric data: +-(W1 - W0)
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
            >>> P
            array([[0.968, 0.032],
                   [0.032, 0.968]])
            >>> P.sum(axis=1), 1 / (1 + np.exp(-clf.decision_function([[1.0]])))
            (array([1., 1.]), array([0.968]))
        """
        return softmax(self._validated_scores(X))

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
        return log_softmax(self._validated_scores(X))

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
        return self.classes_[np.argmax(scores, axis=1)]

    # --- persistence --------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted model to ``path`` (exactly that name) as an ``.npz``, without pickle.

        The archive holds each parameter array with its shape (``param:W``
        (D, C) and ``param:b`` (C,) for :class:`SoftmaxClassifier`), ``classes``
        (C,), the hyperparameters and the fit's record (see the module's notes).

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
        arrays = _model_arrays(self)
        path = Path(path)
        # Write a new file next to the target and rename it over, so that a failure never
        # leaves half a model (and the file gets the usual permissions, unlike mkstemp's).
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
        try:
            with open(tmp, "xb") as f:
                # allow_pickle=False: an object array would fail here, not at load time.
                np.savez(f, allow_pickle=False, **arrays)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path

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
        return _load_model(cls, Path(path))


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
        solver: ``"lbfgs"``, ``"gd"``, ``"sgd"``, ``"momentum"``, ``"nesterov"`` or ``"adam"``.
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

    def _check_hyperparameters(self) -> dict[str, Any]:
        hp = super()._check_hyperparameters()
        hp["init_std"] = _check_number("init_std", self.init_std, low=0, low_open=False)
        return hp

    def _init_params(self, n_features: int, n_classes: int, rng: np.random.Generator) -> Params:
        W = rng.normal(0.0, self.init_std, size=(n_features, n_classes))
        return {"W": W, "b": np.zeros(n_classes)}

    def _loss_and_grad(
        self, params: Params, X: np.ndarray, y: np.ndarray, reg: float
    ) -> tuple[float, Params]:
        return linear_loss_and_grad(params, X, y, reg)

    def _scores(self, params: Params, X: np.ndarray) -> np.ndarray:
        return X @ params["W"] + params["b"]

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


# --- persistence helpers ----------------------------------------------------------


def _jsonable(name: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise ValueError(
        f"cannot save hyperparameter {name}={value!r}: only None, bools, numbers and strings "
        "are stored (set it to an int or None before saving)"
    )


def _classes_array(classes: np.ndarray) -> tuple[np.ndarray, str]:
    """classes_ as a pickle-free array, and the dtype kind to restore ('object' for str objects)."""
    if classes.dtype != object:
        return classes, str(classes.dtype)
    items = classes.tolist()
    if all(isinstance(c, str) for c in items):
        return np.array(items, dtype=str), "object"
    as_array = np.array(items)
    if as_array.dtype == object:
        raise ValueError(f"cannot save classes_ of mixed or non-array types: {items[:5]!r}")
    return as_array, "object"


def _model_arrays(model: BaseGradientClassifier) -> dict[str, np.ndarray]:
    from softmax_ref import __version__

    hyper = {k: _jsonable(k, v) for k, v in model.get_params(deep=False).items()}
    classes, classes_dtype = _classes_array(np.asarray(model.classes_))
    fit_info = {
        "n_iter_": int(model.n_iter_),
        "loss_curve_": [float(v) for v in model.loss_curve_],
    }
    for name in ("validation_scores_", "best_validation_score_", "best_iteration_"):
        if hasattr(model, name):
            fit_info[name] = getattr(model, name)
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT_TAG),
        "format_version": np.array(FORMAT_VERSION),
        "estimator": np.array(type(model).__name__),
        "package_version": np.array(__version__),
        "hyperparameters": np.array(json.dumps(hyper, sort_keys=True)),
        "fit_info": np.array(json.dumps(fit_info)),
        "classes": classes,
        "classes_dtype": np.array(classes_dtype),
        "n_features_in": np.array(int(model.n_features_in_)),
        "param_names": np.array(list(model.params_), dtype=str),
    }
    if hasattr(model, "feature_names_in_"):
        arrays["feature_names_in"] = np.asarray(model.feature_names_in_).astype(str)
    for key, value in model.params_.items():
        arrays[f"param:{key}"] = np.asarray(value)
    return arrays


def _load_model(cls: type[BaseGradientClassifier], path: Path) -> BaseGradientClassifier:
    def fail(what: str) -> ModelFileError:
        return ModelFileError(f"{path}: {what}")

    if not path.exists():
        raise FileNotFoundError(f"{path}: no such model file")
    # Our own handle, so that it is closed even when np.load gives up half-way.
    with open(path, "rb") as handle:
        try:
            archive = np.load(handle, allow_pickle=False)
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise fail(f"not a readable .npz model file ({exc})") from exc
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise fail(f"holds a single array, not an .npz model written by {cls.__name__}.save")
        with archive:
            try:
                entries = {name: archive[name] for name in archive.files}
            except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
                raise fail(f"damaged or holds pickled objects ({exc})") from exc
    return _model_from_entries(cls, entries, fail)


def _text(entries: dict[str, np.ndarray], name: str, fail: Any) -> str:
    value = entries[name]
    if value.shape != () or value.dtype.kind != "U":
        raise fail(
            f"entry {name!r} must be a text scalar; got dtype {value.dtype}, shape {value.shape}"
        )
    return str(value)


def _model_from_entries(cls: Any, entries: dict[str, np.ndarray], fail: Any):
    if "format" not in entries or str(entries["format"]) != FORMAT_TAG:
        raise fail(f"not a softmax-ref model file (no format tag {FORMAT_TAG!r})")
    required = [
        "format_version",
        "estimator",
        "hyperparameters",
        "fit_info",
        "classes",
        "classes_dtype",
        "n_features_in",
        "param_names",
    ]
    missing = [name for name in required if name not in entries]
    if missing:
        raise fail(f"missing entries {missing}")
    version = entries["format_version"]
    if version.shape != () or version.dtype.kind not in "iu":
        raise fail(f"format_version must be an integer scalar; got {version!r}")
    if int(version) > FORMAT_VERSION:
        raise fail(
            f"written in format version {int(version)}; this softmax-ref reads up to "
            f"{FORMAT_VERSION} (upgrade softmax-ref)"
        )
    estimator = _text(entries, "estimator", fail)
    if estimator != cls.__name__:
        raise fail(f"holds a {estimator}, not a {cls.__name__}; load it with {estimator}.load")
    try:
        hyper = json.loads(_text(entries, "hyperparameters", fail))
        fit_info = json.loads(_text(entries, "fit_info", fail))
    except json.JSONDecodeError as exc:
        raise fail(f"hyperparameters or fit_info are not valid JSON ({exc})") from exc
    if not isinstance(hyper, dict) or not isinstance(fit_info, dict):
        raise fail("hyperparameters and fit_info must be JSON objects")
    try:
        model = cls(**hyper)
    except TypeError as exc:
        raise fail(f"hyperparameters do not fit {cls.__name__} ({exc})") from exc

    n_features = entries["n_features_in"]
    if n_features.shape != () or n_features.dtype.kind not in "iu" or int(n_features) < 1:
        raise fail(f"n_features_in must be a positive integer; got {n_features!r}")
    classes = entries["classes"]
    if classes.ndim != 1 or classes.shape[0] < 2:
        raise fail(f"classes must be a 1-d array of at least 2 labels; got shape {classes.shape}")
    if np.unique(classes).shape[0] != classes.shape[0]:
        raise fail("classes holds repeated labels")
    classes_dtype = _text(entries, "classes_dtype", fail)
    if classes_dtype == "object":
        classes = classes.astype(object)

    names = entries["param_names"]
    if names.ndim != 1 or names.dtype.kind != "U":
        raise fail("param_names must be a 1-d text array")
    expected = model._init_params(int(n_features), classes.shape[0], np.random.default_rng(0))
    if sorted(names.tolist()) != sorted(expected):
        raise fail(f"parameters {names.tolist()} do not match {cls.__name__}'s {list(expected)}")
    params: Params = {}
    for key in names.tolist():
        entry = f"param:{key}"
        if entry not in entries:
            raise fail(f"missing parameter array {entry!r}")
        value = entries[entry]
        if value.dtype.kind != "f" or value.shape != expected[key].shape:
            raise fail(
                f"parameter {key!r} must be a float array of shape {expected[key].shape}; "
                f"got dtype {value.dtype}, shape {value.shape}"
            )
        if not np.all(np.isfinite(value)):
            raise fail(f"parameter {key!r} holds NaN or inf")
        params[key] = value.astype(np.float64)

    fitted: dict[str, Any] = {
        "classes_": classes,
        "n_features_in_": int(n_features),
        "params_": params,
        "n_iter_": int(fit_info.get("n_iter_", 0)),
        "loss_curve_": list(fit_info.get("loss_curve_", [])),
    }
    for name in ("validation_scores_", "best_validation_score_", "best_iteration_"):
        if name in fit_info:
            fitted[name] = fit_info[name]
    if "feature_names_in" in entries:
        names_in = entries["feature_names_in"]
        if names_in.shape != (int(n_features),):
            raise fail(f"feature_names_in must have {int(n_features)} names; got {names_in.shape}")
        fitted["feature_names_in_"] = names_in.astype(object)
    model.__dict__.update(fitted)
    return model


# --- the blog post's API ------------------------------------------------------------


class Softmax:
    r"""The blog post's ``Softmax`` class, on this package's loss and training loop.

    The post's snippets run as written::

        softmax = Softmax()
        softmax.train_early_stopping(X_train, y_train, X_val, y_val,
                                     learning_rate=1e-2, reg=0.1, early_stopping_rounds=300)
        softmax.predict(X_val)

    Full-batch gradient descent on the loss of :mod:`softmax_ref.loss` (``gd``
    in :mod:`softmax_ref.optim`). Labels are integers ``0 .. C-1`` as in the post;
    use :class:`SoftmaxClassifier` for anything else. Each iteration is

    .. math::
        W \leftarrow W - \eta \Big(\frac{1}{N} X^\top (P - Y) + \lambda W\Big),
        \qquad
        b \leftarrow b - \eta\, \frac{1}{N} \sum_n (P - Y)_n,
        \qquad P = \operatorname{softmax}(XW + b)

    with :math:`\eta` the ``learning_rate`` and :math:`\lambda` the ``reg``;
    ``predict`` gives :math:`\arg\max_c (XW + b)_{nc}`.

    Differences from the post, each a fix: ``b`` has shape (C,), not (1, C);
    early stopping restores a *copy* of the best weights (the post kept a
    reference to arrays it went on updating, so it returned the last ones);
    ``train_early_stopping`` has an iteration cap ``max_iter``; the random
    initial W comes from a local generator, not the global NumPy seed.

    Args:
        std: the initial W is drawn from N(0, std^2); b starts at 0.
        seed: seeds the initial W through ``np.random.default_rng(seed)``. The
            default, 2016 (the post's seed), makes every run reproduce the same
            numbers; ``None`` draws fresh OS entropy. (The post itself seeded the
            global legacy generator and drew with std 1e-4 in its class; the
            published accuracies come out the same with this default.)

    Attributes:
        W: (D, C) weights, ``None`` before training.
        b: (C,) biases, ``None`` before training.
        history: the :class:`softmax_ref.training.TrainResult` of the last call.

    Like the post, ``W`` and ``b`` are drawn on the first call to ``train`` or
    ``train_early_stopping``; later calls continue from them.

    Example:
        >>> import numpy as np
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 0, 1, 1])
        >>> s = Softmax()
        >>> _ = s.train(X, y, learning_rate=0.5, reg=0.0, num_iters=100)
        >>> s.predict(X), s.W.shape, s.b.shape
        (array([0, 0, 1, 1]), (1, 2), (2,))
    """

    def __init__(self, std: float = 1e-3, seed: int | None = 2016) -> None:
        self.std = std
        self.seed = seed
        self.W: np.ndarray | None = None
        self.b: np.ndarray | None = None
        self.history: TrainResult | None = None

    def _params(
        self, X: Any, y: Any, reg: Any, *validation: Any
    ) -> tuple[Params, np.ndarray, np.ndarray]:
        """The starting W, b (drawn on the first call) and the validated data.

        Every array is checked here, before training, so bad data raise a
        ValueError/TypeError naming the argument and never a divergence error.
        """
        from softmax_ref._validation import (
            as_float_array,
            check_labels,
            check_problem,
            raise_if_nonfinite,
        )

        if self.W is None or self.b is None:
            X = as_float_array("X", X, 2)
            labels = np.asarray(y)
            if labels.dtype.kind not in "iu" or labels.ndim != 1 or labels.size == 0:
                raise TypeError(
                    "y must be a non-empty 1-d array of integer labels 0..C-1; "
                    f"got dtype {labels.dtype}, shape {labels.shape}"
                )
            n_classes = int(labels.max()) + 1
            rng = np.random.default_rng(self.seed)
            params = {
                "W": rng.normal(0.0, self.std, size=(X.shape[1], n_classes)),
                "b": np.zeros(n_classes),
            }
        else:
            params = {"W": self.W, "b": self.b}
        W, b, X, y, _ = check_problem(params["W"], params["b"], X, y, reg)
        if validation:
            X_val = as_float_array("X_val", validation[0], 2)
            if X_val.shape[1] != X.shape[1] or X_val.shape[0] == 0:
                raise ValueError(
                    f"X_val must have at least one row and the {X.shape[1]} columns of X; "
                    f"got shape {X_val.shape}"
                )
            # No loss is ever computed on X_val, so a NaN there would only make the
            # accuracy silently wrong: check it here (one pass, once).
            if not np.all(np.isfinite(X_val)):
                raise_if_nonfinite(X_val=X_val)
            try:
                check_labels(validation[1], X_val.shape[0], W.shape[1])
            except (TypeError, ValueError) as exc:
                # check_labels speaks of "y ..."; here it is y_val.
                raise type(exc)("y_val" + str(exc)[1:].replace("row of X", "row of X_val")) from exc
        return {"W": W.astype(np.float64), "b": b.astype(np.float64)}, X.astype(np.float64), y

    def _set(self, result: TrainResult) -> TrainResult:
        self.W, self.b = result.params["W"], result.params["b"]
        self.history = result
        return result

    def train(
        self,
        X: Any,
        y: Any,
        learning_rate: float = 1e-2,
        reg: float = 0.1,
        num_iters: int = 1000,
        verbose: bool = False,
    ) -> TrainResult:
        """``num_iters`` steps of full-batch gradient descent; returns the run's record.

        Args:
            X: samples ``(N, D)``.
            y: integer labels ``(N,)`` in ``0 .. C-1``; C is ``max(y) + 1`` on the
                first call, when W ``(D, C)`` and b ``(C,)`` are drawn.
            learning_rate, reg, num_iters: the post's hyperparameters.
            verbose: show a tqdm progress bar.

        Returns:
            A :class:`softmax_ref.training.TrainResult`; its ``loss_curve``
            ``(num_iters,)`` holds the loss before each step.

        Raises:
            TrainingDivergedError: the loss became NaN or infinite; W and b are unchanged.

        Example:
            >>> import numpy as np
            >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 0, 1, 1])
            >>> s = Softmax()
            >>> record = s.train(X, y, learning_rate=0.5, reg=0.0, num_iters=100)
            >>> len(record.loss_curve), record.loss_curve[0], record.loss_curve[-1]  # log 2 first
            (100, 0.6915, 0.0092)
            >>> s.W, s.W.shape, s.b.shape
            (array([[-2.01,  2.01]]), (1, 2), (2,))
        """
        params, X, y = self._params(X, y, reg)
        num_iters = _check_int("num_iters", num_iters, 1)
        result = train(
            linear_loss_and_grad,
            params,
            X,
            y,
            reg=reg,
            solver="gd",
            learning_rate=learning_rate,
            max_iter=num_iters,
            tol=None,
            verbose=verbose,
            desc="Softmax.train",
        )
        return self._set(result)

    def train_early_stopping(
        self,
        X_train: Any,
        y_train: Any,
        X_val: Any,
        y_val: Any,
        learning_rate: float = 1e-2,
        reg: float = 0.1,
        early_stopping_rounds: int = 300,
        max_iter: int = 100_000,
        verbose: bool = False,
    ) -> TrainResult:
        r"""Gradient descent until ``early_stopping_rounds`` steps in a row bring no
        strictly better validation accuracy (or ``max_iter`` steps); keeps the best W, b.

        The validation accuracy after each step is
        :math:`\frac{1}{N_v} \sum_n [\arg\max_c (X_v W + b)_{nc} = y_{v,n}]`;
        W and b end as a copy of those of the best step.

        Args:
            X_train, y_train: training samples ``(N, D)`` and integer labels ``(N,)``.
            X_val, y_val: validation samples ``(N_val, D)`` and labels ``(N_val,)``.
            learning_rate, reg, early_stopping_rounds: the post's hyperparameters.
            max_iter: the cap on steps (the post's loop had none).
            verbose: show a tqdm progress bar.

        Returns:
            A :class:`softmax_ref.training.TrainResult` with
            ``validation_scores`` and ``best_iteration``.

        Raises:
            TrainingDivergedError: the loss became NaN or infinite; W and b are unchanged.

        Example:
            Validation accuracy is perfect after the first step, so five more
            steps without a better one end the run, and W is that of step 1:

            >>> import numpy as np
            >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 0, 1, 1])
            >>> s = Softmax()
            >>> record = s.train_early_stopping(X, y, np.array([[-1.5], [1.5]]), np.array([0, 1]),
            ...                                 learning_rate=0.5, early_stopping_rounds=5)
            >>> record.n_iter, record.best_iteration, record.validation_scores[:2]
            (6, 1, [1.0, 1.0])
            >>> s.W
            array([[-0.376,  0.375]])
        """
        params, X_train, y_train = self._params(X_train, y_train, reg, X_val, y_val)
        early_stopping_rounds = _check_int("early_stopping_rounds", early_stopping_rounds, 1)
        max_iter = _check_int("max_iter", max_iter, 1)
        X_val = np.asarray(X_val, dtype=np.float64)
        result = train(
            linear_loss_and_grad,
            params,
            X_train,
            y_train,
            reg=reg,
            solver="gd",
            learning_rate=learning_rate,
            max_iter=max_iter,
            tol=None,
            X_val=X_val,
            y_val=np.asarray(y_val),
            score=lambda p, Xv, yv: float(np.mean(np.argmax(Xv @ p["W"] + p["b"], 1) == yv)),
            patience=early_stopping_rounds,
            restore_best_weights=True,
            verbose=verbose,
            desc="Softmax.train_early_stopping",
        )
        return self._set(result)

    def predict(self, X: Any) -> np.ndarray:
        """``argmax(X W + b)`` per row: the class index 0..C-1.

        Args:
            X: samples ``(N, D)``.

        Returns:
            ``(N,)`` integer class indices.

        Example:
            >>> import numpy as np
            >>> s = Softmax()
            >>> _ = s.train(np.array([[-1.0], [1.0]]), np.array([0, 1]), learning_rate=0.5,
            ...             num_iters=10)
            >>> s.predict(np.array([[-3.0], [0.5], [3.0]]))
            array([0, 1, 1])
        """
        if self.W is None or self.b is None:
            raise ValueError("Softmax.predict needs trained weights; call train first")
        return np.argmax(np.asarray(X, dtype=np.float64) @ self.W + self.b, axis=1)
