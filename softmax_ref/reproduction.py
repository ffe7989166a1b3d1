"""The blog post's experiments on one data set, and the optimum of the same objective.

:func:`reproduce` runs the post's two experiments with its ``Softmax`` API
(learning rate 1e-2, reg 0.1): ``train`` for 1000 iterations on all samples,
and ``train_early_stopping`` on the data set's train / validation split with
300 rounds, reported with the weights the post's code returned (those of the
last step) and with the best weights; then it fits
``SoftmaxClassifier(solver="lbfgs")`` for the exact optimum of the same
objective (and scikit-learn's ``LogisticRegression`` as a cross-check). The
results are a :class:`Reproduction`; :data:`POST` holds the numbers the post
reported. ``softmax-ref demo`` (:mod:`softmax_ref.demo`) runs this on each
data set and prints, checks and draws the results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from softmax_ref.datasets import Dataset

__all__ = ["POST", "Reproduction", "reproduce"]

# The post's hyperparameters, used by both experiments.
LEARNING_RATE = 1e-2
REG = 0.1
NUM_ITERS = 1000
EARLY_STOPPING_ROUNDS = 300

# The post's reported numbers (on the data set scikit-learn 0.18.0 generated).
POST = {
    "train_accuracy": 0.816,
    "early_train_accuracy": 0.815,
    "early_val_accuracy": 0.805,
}


def _accuracy(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(model.predict(X) == y))


@dataclass
class Reproduction:
    """The post's experiments and the optimum on one data set.

    Attributes:
        dataset: the data, X ``(N, D)`` and y ``(N,)``.
        trained: ``Softmax`` after ``train`` on all samples for 1000 iterations;
            its ``W`` is ``(D, C)`` and ``b`` ``(C,)``, as for ``early`` and
            ``early_last``.
        early: ``Softmax`` after ``train_early_stopping``, best weights restored.
        early_last: the weights the post's early stopping returned, those of its
            last step: ``train`` on the training split for as many steps.
        optimum: ``SoftmaxClassifier(solver="lbfgs")`` fitted to the same
            objective as ``trained`` (all samples, reg 0.1).
        trained_history, early_history: the two runs' records
            (:class:`softmax_ref.training.TrainResult`: loss curve, validation
            scores, iterations, best iteration).
        optimum_objective, trained_objective: the objective at each.
        sklearn_objective: the objective at scikit-learn's
            ``LogisticRegression(C = 1 / (N reg))`` optimum.
        boundaries: ``(file stem, title, model)`` for each decision-boundary
            figure, drawn over all samples; add an entry to draw another model.
        two_layer: the network of
            :func:`~softmax_ref.demo_two_layer.fit_two_layer`, once the demo trained it.

    Example:
        >>> from softmax_ref.datasets import Dataset, make_classification_legacy
        >>> X, y = make_classification_legacy(n_samples=12, n_features=2, n_redundant=0,
        ...                                   n_clusters_per_class=1, n_classes=3, random_state=0)
        >>> r = reproduce(Dataset("small", X, y, n_train=8))
        >>> r.trained.W.shape, r.optimum.coef_.shape, len(r.trained_history.loss_curve)
        ((2, 3), (3, 2), 1000)
        >>> objectives = r.optimum_objective, r.sklearn_objective, r.trained_objective
        >>> [round(v, 4) for v in objectives]   # lbfgs and scikit-learn agree; gd is above
        [0.4851, 0.4851, 0.5082]
        >>> [stem for stem, _, _ in r.boundaries]
        ['boundary-train', 'boundary-early-post', 'boundary-early-fixed', 'boundary-lbfgs']
    """

    dataset: Dataset
    trained: Any
    early: Any
    early_last: Any
    optimum: Any
    trained_history: Any
    early_history: Any
    trained_objective: float
    optimum_objective: float
    sklearn_objective: float
    boundaries: list[tuple[str, str, Any]] = field(default_factory=list)
    two_layer: Any = None

    @property
    def numbers(self) -> dict[str, float]:
        """The accuracies the post reported and ours beside them, by the keys of :data:`POST`.

        Each is the fraction of samples a model labels right: ``trained`` and
        ``optimum`` on all samples, ``early_last`` (the post's early stopping)
        and ``early`` (best weights) on the training and validation splits.

        Example:
            >>> from softmax_ref.datasets import Dataset, make_classification_legacy
            >>> X, y = make_classification_legacy(
            ...     n_samples=12, n_features=2, n_redundant=0, n_clusters_per_class=1,
            ...     n_classes=3, random_state=0)
            >>> r = reproduce(Dataset("small", X, y, n_train=8))
            >>> {k: round(v, 3) for k, v in r.numbers.items()}  # doctest: +NORMALIZE_WHITESPACE
            {'train_accuracy': 0.917, 'early_train_accuracy': 0.875, 'early_val_accuracy': 0.75,
             'fixed_train_accuracy': 0.75, 'fixed_val_accuracy': 1.0, 'optimum_accuracy': 0.917}
        """
        d = self.dataset
        return {
            "train_accuracy": _accuracy(self.trained, d.X, d.y),
            "early_train_accuracy": _accuracy(self.early_last, d.X_train, d.y_train),
            "early_val_accuracy": _accuracy(self.early_last, d.X_val, d.y_val),
            "fixed_train_accuracy": _accuracy(self.early, d.X_train, d.y_train),
            "fixed_val_accuracy": _accuracy(self.early, d.X_val, d.y_val),
            "optimum_accuracy": _accuracy(self.optimum, d.X, d.y),
        }


def reproduce(dataset: Dataset) -> Reproduction:
    r"""Run the post's two experiments and the lbfgs optimum on ``dataset``.

    All runs minimise the post's objective over W ``(D, C)`` and b ``(C,)``
    for X ``(N, D)`` and y ``(N,)``, with :math:`\lambda = 0.1`, and are
    scored by accuracy:

    .. math::
        \begin{gathered}
        L(W, b) = \frac{1}{N}\sum_n \Big[\log\sum_j e^{F_{nj}} - F_{n y_n}\Big]
            + \frac{\lambda}{2}\lVert W\rVert_F^2, \\
        \text{acc} = \frac{1}{N}\sum_n \big[\arg\max_c F_{nc} = y_n\big],
        \qquad F = XW + b.
        \end{gathered}

    ``train`` takes 1000 gradient steps of size 0.01 on all samples,
    ``train_early_stopping`` steps on the training split until 300 steps
    bring no better validation accuracy, and L-BFGS finds the minimum of
    :math:`L`, checked against scikit-learn's ``LogisticRegression`` with
    :math:`C = 1 / (N \lambda)`.

    Example:
        >>> from softmax_ref.datasets import blog_2016
        >>> r = reproduce(blog_2016())
        >>> r.numbers["train_accuracy"], r.numbers["early_val_accuracy"]
        (0.816, 0.805)
    """
    from sklearn.linear_model import LogisticRegression

    from softmax_ref.classifier import Softmax, SoftmaxClassifier
    from softmax_ref.loss import loss

    X, y = dataset.X, dataset.y
    trained = Softmax()
    trained_history = trained.train(X, y, learning_rate=LEARNING_RATE, reg=REG, num_iters=NUM_ITERS)

    early = Softmax()
    early_history = early.train_early_stopping(
        dataset.X_train,
        dataset.y_train,
        dataset.X_val,
        dataset.y_val,
        learning_rate=LEARNING_RATE,
        reg=REG,
        early_stopping_rounds=EARLY_STOPPING_ROUNDS,
    )
    # The post's early stopping returned the weights of its last step: plain
    # gradient descent from the same start for the same number of steps.
    early_last = Softmax()
    early_last.train(
        dataset.X_train,
        dataset.y_train,
        learning_rate=LEARNING_RATE,
        reg=REG,
        num_iters=early_history.n_iter,
    )

    # tol is L-BFGS's gradient tolerance: far below what moves the accuracy,
    # so the objective printed is the optimum to about 1e-12.
    optimum = SoftmaxClassifier(reg=REG, solver="lbfgs", tol=1e-10, max_iter=1000).fit(X, y)
    sk = LogisticRegression(C=1.0 / (X.shape[0] * REG), tol=1e-12, max_iter=10_000).fit(X, y)

    result = Reproduction(
        dataset=dataset,
        trained=trained,
        early=early,
        early_last=early_last,
        optimum=optimum,
        trained_history=trained_history,
        early_history=early_history,
        trained_objective=float(loss(trained.W, trained.b, X, y, REG)),
        optimum_objective=float(loss(optimum.coef_.T, optimum.intercept_, X, y, REG)),
        sklearn_objective=float(loss(sk.coef_.T, sk.intercept_, X, y, REG)),
    )
    n = result.numbers
    stop, best = early_history.n_iter, early_history.best_iteration
    result.boundaries = [
        (
            "boundary-train",
            f"train(): {NUM_ITERS} steps on all samples; acc. {n['train_accuracy']:.3f}",
            trained,
        ),
        (
            "boundary-early-post",
            f"post's early stopping: last weights (step {stop});\n"
            f"train acc. {n['early_train_accuracy']:.3f}, val. acc. {n['early_val_accuracy']:.3f}",
            early_last,
        ),
        (
            "boundary-early-fixed",
            f"early stopping fixed: best weights (step {best});\n"
            f"train acc. {n['fixed_train_accuracy']:.3f}, val. acc. {n['fixed_val_accuracy']:.3f}",
            early,
        ),
        (
            "boundary-lbfgs",
            f"the optimum (lbfgs) on all samples; acc. {n['optimum_accuracy']:.3f}",
            optimum,
        ),
    ]
    return result
