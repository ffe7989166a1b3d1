"""The one-hidden-layer network of the post's end, trained and drawn by the demo.

The post ends with a network with one hidden layer trained on the same data, whose
decision boundaries overfit: with many hidden units and almost no penalty they bend
around individual training points. The demo trains softmax_ref's TwoLayerClassifier
that way on all samples (:func:`fit_two_layer`) and draws it beside the linear
model's optimum (:func:`two_layer_figure`).
"""

from __future__ import annotations

from typing import Any

from softmax_ref.datasets import Dataset
from softmax_ref.reproduction import REG, Reproduction, _accuracy

__all__ = ["fit_two_layer", "format_two_layer", "two_layer_figure"]

TWO_LAYER_HIDDEN = 100
TWO_LAYER_REG = 1e-6
TWO_LAYER_ITERS = 1000
TWO_LAYER_SUMMARY = (
    f"The one-hidden-layer network ({TWO_LAYER_HIDDEN} ReLU units, reg {TWO_LAYER_REG:g}, "
    f"{TWO_LAYER_ITERS} L-BFGS iterations on all samples)"
)


def fit_two_layer(dataset: Dataset) -> Any:
    r"""Train the post's overfitting network on all of ``dataset``: large H, tiny reg, lbfgs.

    L-BFGS runs its full budget of iterations (a tolerance it cannot meet at
    the ReLU kinks); the figure shows the network after that fixed budget, so
    the ConvergenceWarning it would raise says nothing here and is silenced.

    The network's objective, over W1 ``(D, H)``, b1 ``(H,)``, W2 ``(H, C)``,
    b2 ``(C,)`` with H = 100 and :math:`\lambda = 10^{-6}`:

    .. math::
        \begin{gathered}
        L = \frac{1}{N}\sum_n \Big[\log\sum_j e^{F_{nj}} - F_{n y_n}\Big]
            + \frac{\lambda}{2}\big(\lVert W_1\rVert_F^2 + \lVert W_2\rVert_F^2\big),
        \\ F = \max(X W_1 + b_1, 0)\, W_2 + b_2
        \end{gathered}

    Example:
        >>> from softmax_ref.datasets import Dataset, make_classification_legacy
        >>> X, y = make_classification_legacy(n_samples=12, n_features=2, n_redundant=0,
        ...                                   n_clusters_per_class=1, n_classes=3, random_state=0)
        >>> net = fit_two_layer(Dataset("small", X, y, n_train=8))
        >>> net.params_["W1"].shape, net.score(X, y)   # every training point fitted
        ((2, 100), 1.0)
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from softmax_ref.two_layer_classifier import TwoLayerClassifier

    net = TwoLayerClassifier(
        hidden_size=TWO_LAYER_HIDDEN,
        reg=TWO_LAYER_REG,
        solver="lbfgs",
        max_iter=TWO_LAYER_ITERS,
        tol=1e-10,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net.fit(dataset.X, dataset.y)
    return net


def format_two_layer(r: Reproduction) -> str:
    """One line per data set: the network's training accuracy beside the linear optimum's.

    Example:
        >>> from softmax_ref.datasets import Dataset, make_classification_legacy
        >>> from softmax_ref.reproduction import reproduce
        >>> X, y = make_classification_legacy(n_samples=12, n_features=2, n_redundant=0,
        ...                                   n_clusters_per_class=1, n_classes=3, random_state=0)
        >>> r = reproduce(Dataset("small", X, y, n_train=8))
        >>> r.two_layer = fit_two_layer(r.dataset)
        >>> print(format_two_layer(r))
          small: accuracy on all samples 1.000 (linear optimum 0.917); final loss 0.0001
    """
    d = r.dataset
    return (
        f"  {d.name}: accuracy on all samples {_accuracy(r.two_layer, d.X, d.y):.3f} "
        f"(linear optimum {_accuracy(r.optimum, d.X, d.y):.3f}); "
        f"final loss {r.two_layer.loss_curve_[-1]:.4f}"
    )


def two_layer_figure(r: Reproduction) -> Any:
    """The linear optimum's decision boundaries (left) beside the network's (right).

    Each panel is :func:`softmax_ref.plotting.plot_decision_boundary` over the
    data set's X ``(N, 2)`` and y ``(N,)``; needs ``r.two_layer`` trained.

    Example:
        >>> from softmax_ref.datasets import Dataset, make_classification_legacy
        >>> from softmax_ref.reproduction import reproduce
        >>> X, y = make_classification_legacy(n_samples=12, n_features=2, n_redundant=0,
        ...                                   n_clusters_per_class=1, n_classes=3, random_state=0)
        >>> r = reproduce(Dataset("small", X, y, n_train=8))
        >>> r.two_layer = fit_two_layer(r.dataset)
        >>> fig = two_layer_figure(r)
        >>> [ax.get_title().split(";")[0] for ax in fig.axes]
        ['small: linear, the optimum (reg 0.1)', 'small: two-layer, 100 ReLU units, reg 1e-06']
        >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    from softmax_ref._mpl import pyplot
    from softmax_ref.plotting import plot_decision_boundary

    d = r.dataset
    fig, (left, right) = pyplot().subplots(1, 2, figsize=(12, 5))
    plot_decision_boundary(
        r.optimum,
        d.X,
        d.y,
        ax=left,
        title=f"{d.name}: linear, the optimum (reg {REG}); acc. "
        f"{_accuracy(r.optimum, d.X, d.y):.3f}",
    )
    plot_decision_boundary(
        r.two_layer,
        d.X,
        d.y,
        ax=right,
        title=f"{d.name}: two-layer, {TWO_LAYER_HIDDEN} ReLU units, reg {TWO_LAYER_REG:g}; "
        f"acc. {_accuracy(r.two_layer, d.X, d.y):.3f}",
    )
    return fig
