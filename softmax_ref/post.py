r"""The blog post's ``Softmax`` API, on this package's loss and training loop; NumPy only.

The post's snippets run as written, with nothing installed but NumPy (no
scikit-learn, SciPy or JAX on this path): :class:`Softmax` trains by full-batch
gradient descent (:func:`softmax_ref.training.train`, solver ``gd``) on
:func:`softmax_ref.loss.linear_loss_and_grad`,

.. math::
    L(W, b) = \frac{1}{N}\sum_n \Big[\log\sum_j e^{F_{nj}} - F_{n y_n}\Big]
              + \frac{\lambda}{2}\lVert W\rVert_F^2, \qquad F = XW + b.

For labels of any kind, solvers and persistence, use
:class:`softmax_ref.classifier.SoftmaxClassifier`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from softmax_ref._types import Params
from softmax_ref._validation import (
    as_float_array,
    check_int,
    check_labels,
    check_problem,
    raise_if_nonfinite,
)
from softmax_ref.loss import linear_loss_and_grad
from softmax_ref.training import TrainConfig, TrainResult, run_training

__all__ = ["Softmax"]


def _accuracy(params: Params, X: np.ndarray, y: np.ndarray) -> float:
    # The post's validation score: the fraction of argmax(X W + b) equal to y.
    return float(np.mean(np.argmax(X @ params["W"] + params["b"], axis=1) == y))


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
        \begin{gathered}
        W \leftarrow W - \eta \Big(\frac{1}{N} X^\top (P - Y) + \lambda W\Big),
        \qquad
        b \leftarrow b - \eta\, \frac{1}{N} \sum_n (P - Y)_n,
        \\ P = \operatorname{softmax}(XW + b)
        \end{gathered}

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
            check_labels(validation[1], X_val.shape[0], W.shape[1], name="y_val", rows_of="X_val")
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
            >>> curve = record.loss_curve  # log 2 first
            >>> len(curve), curve[0], curve[-1]  # doctest: +NUMBER
            (100, 0.6915, 0.0092)
            >>> s.W, s.W.shape, s.b.shape  # doctest: +NUMBER
            (array([[-2.01,  2.01]]), (1, 2), (2,))
        """
        params, X, y = self._params(X, y, reg)
        config = TrainConfig(
            solver="gd",
            reg=reg,
            learning_rate=learning_rate,
            max_iter=check_int("num_iters", num_iters, 1),
        )
        result = run_training(
            linear_loss_and_grad, params, X, y, config, verbose=verbose, desc="Softmax.train"
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
            >>> s.W  # doctest: +NUMBER
            array([[-0.376,  0.375]])
        """
        params, X_train, y_train = self._params(X_train, y_train, reg, X_val, y_val)
        config = TrainConfig(
            solver="gd",
            reg=reg,
            learning_rate=learning_rate,
            max_iter=max_iter,
            early_stopping=True,
            patience=check_int("early_stopping_rounds", early_stopping_rounds, 1),
        )
        result = run_training(
            linear_loss_and_grad,
            params,
            X_train,
            y_train,
            config,
            X_val=np.asarray(X_val, dtype=np.float64),
            y_val=np.asarray(y_val),
            score=_accuracy,
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
