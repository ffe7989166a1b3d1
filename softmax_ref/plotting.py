"""Figures: the data set, decision boundaries on the post's mesh, loss and accuracy curves.

matplotlib is imported inside the functions, so ``import softmax_ref`` stays
NumPy-only. On a machine with no display (no ``$DISPLAY`` or
``$WAYLAND_DISPLAY`` on Linux) and no backend chosen by the user
(``$MPLBACKEND``), the non-interactive Agg backend is selected before pyplot
is first imported, so figures render to files on servers and in CI.

Every function takes an optional ``ax`` to draw into and returns the
:class:`matplotlib.figure.Figure` it drew on. Figures made here are pyplot
figures (``plt.show()`` works); close them with ``plt.close(fig)`` when done.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from softmax_ref._mpl import pyplot

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["decision_mesh", "plot_curves", "plot_data", "plot_decision_boundary"]

# The post's mesh: a step of 0.02 and a margin of 1 around the data.
MESH_STEP = 0.02
MESH_MARGIN = 1.0
_CMAP = "Spectral"  # the post's colour map


class _Predictor(Protocol):
    def predict(self, X: np.ndarray) -> Any: ...


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.get_figure(), ax  # type: ignore[return-value]
    fig, new_ax = pyplot().subplots(figsize=figsize)
    return fig, new_ax


def _check_2d_features(X: Any) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2 or X.shape[0] == 0:
        raise ValueError(
            "X must have shape (N, 2) with N >= 1: these plots draw two features; "
            f"got shape {X.shape}"
        )
    return X


def _class_colouring(classes: np.ndarray) -> tuple[Any, Any]:
    """One colour per class from the post's colour map, shared by contours and points."""
    from matplotlib import colormaps
    from matplotlib.colors import BoundaryNorm

    n = max(len(classes), 1)
    cmap = colormaps[_CMAP].resampled(max(n, 2))
    norm = BoundaryNorm(np.arange(n + 1) - 0.5, cmap.N)
    return cmap, norm


def _scatter_classes(ax: Axes, X: np.ndarray, codes: np.ndarray, classes: np.ndarray) -> None:
    from matplotlib.lines import Line2D

    cmap, norm = _class_colouring(classes)
    ax.scatter(
        X[:, 0], X[:, 1], c=codes, cmap=cmap, norm=norm, s=16, edgecolors="k", linewidths=0.5
    )
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markerfacecolor=cmap(norm(k)),
            markeredgecolor="k",
            label=f"class {c}",
        )
        for k, c in enumerate(classes)
    ]
    ax.legend(handles=handles, loc="best", fontsize="small", framealpha=0.8)
    ax.set_xlabel("feature 1")
    ax.set_ylabel("feature 2")


def plot_data(X: Any, y: Any, *, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Scatter a two-feature data set, one colour per class.

    Args:
        X: features, ``(N, 2)``.
        y: labels, ``(N,)``, any sortable type.
        ax: axes to draw into; a new figure if None.
        title: the axes title.

    Returns:
        The figure drawn on.

    Example:
        >>> import numpy as np
        >>> fig = plot_data(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0, 1]))
        >>> len(fig.axes[0].collections[0].get_offsets())
        2
        >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    X = _check_2d_features(X)
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"y must have shape ({X.shape[0]},), one label per row of X; got {y.shape}"
        )
    classes, codes = np.unique(y, return_inverse=True)
    fig, ax = _figure_and_axes(ax, (6.0, 5.0))
    _scatter_classes(ax, X, codes, classes)
    if title:
        ax.set_title(title)
    return fig


def decision_mesh(
    model: _Predictor, X: Any, *, step: float = MESH_STEP, margin: float = MESH_MARGIN
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The post's grid and the model's predicted class at every node.

    The grid runs from each feature's minimum minus ``margin`` to its maximum
    plus ``margin`` in steps of ``step``, as ``np.meshgrid(np.arange(...))``:
    with :math:`h` the step, :math:`m` the margin and
    :math:`\ell_k = \min_n X_{nk} - m`,

    .. math::
        xx_{ij} = \ell_1 + j h, \qquad yy_{ij} = \ell_2 + i h, \qquad
        Z_{ij} = \operatorname{predict}\big([xx_{ij}, yy_{ij}]\big),

    for :math:`0 \le j < M_1` and :math:`0 \le i < M_2`, where
    :math:`M_k = \lceil (\max_n X_{nk} + m - \ell_k) / h \rceil` (up to
    rounding in ``np.arange``); the arrays have shape (M2, M1).

    Args:
        model: anything with ``predict(points (M, 2)) -> labels (M,)``.
        X: the data the grid must cover, ``(N, 2)``.
        step, margin: grid spacing and border, in feature units.

    Returns:
        ``(xx, yy, Z)``, three arrays of the grid's shape; Z holds the labels.

    Example:
        >>> import numpy as np
        >>> class Sign:
        ...     def predict(self, P):
        ...         return (P[:, 0] > 0).astype(int)
        >>> xx, yy, Z = decision_mesh(Sign(), np.array([[-1.0, 0.0], [1.0, 1.0]]), step=0.5)
        >>> xx[0]
        array([-2. , -1.5, -1. , -0.5,  0. ,  0.5,  1. ,  1.5])
        >>> Z[0]
        array([0, 0, 0, 0, 0, 1, 1, 1])
    """
    X = _check_2d_features(X)
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"model must have a predict(X) method; got {type(model).__name__}")
    if not step > 0:
        raise ValueError(f"step must be > 0; got {step!r}")
    low = X.min(axis=0) - margin
    high = X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.arange(low[0], high[0], step), np.arange(low[1], high[1], step))
    Z = np.asarray(model.predict(np.c_[xx.ravel(), yy.ravel()]))
    if Z.shape != (xx.size,):
        raise ValueError(
            f"model.predict returned shape {Z.shape} for {xx.size} grid points; "
            f"expected ({xx.size},)"
        )
    return xx, yy, Z.reshape(xx.shape)


def plot_decision_boundary(
    model: _Predictor,
    X: Any,
    y: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    step: float = MESH_STEP,
    margin: float = MESH_MARGIN,
) -> Figure:
    """The model's predicted class over the post's mesh, filled, with the data on top.

    As the post drew it: predict on every node of :func:`decision_mesh`, fill
    with ``contourf`` (alpha 0.8, the Spectral colour map) and scatter the
    data in the same colours, so a point whose colour differs from the region
    under it is misclassified. Each class's region is filled from its own
    indicator, so no sliver of a third class appears along a border.

    Args:
        model: anything with ``predict(points (M, 2)) -> labels (M,)``
            (``Softmax``, ``SoftmaxClassifier``, the two-layer network).
        X: features, ``(N, 2)``; y: labels, ``(N,)``.
        ax: axes to draw into; a new figure if None.
        title: the axes title.
        step, margin: the mesh (see :func:`decision_mesh`).

    Returns:
        The figure drawn on.

    Example:
        >>> import numpy as np
        >>> class Sign:
        ...     def predict(self, P):
        ...         return (P[:, 0] > 0).astype(int)
        >>> fig = plot_decision_boundary(Sign(), np.array([[-1.0, 0.0], [1.0, 1.0]]),
        ...                              np.array([0, 1]))
        >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    X = _check_2d_features(X)
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"y must have shape ({X.shape[0]},), one label per row of X; got {y.shape}"
        )
    xx, yy, Z = decision_mesh(model, X, step=step, margin=margin)
    # Labels of any type: colour by position among all classes seen, in data or grid.
    classes = np.unique(np.concatenate([y.ravel(), Z.ravel()]))
    cmap, norm = _class_colouring(classes)
    fig, ax = _figure_and_axes(ax, (6.0, 5.0))
    codes = np.searchsorted(classes, Z)
    # One contourf per class, of its indicator: a single contourf over the class
    # codes would interpolate between codes 0 and 2 and paint a sliver of class 1
    # along their border.
    for k in np.unique(codes):
        ax.contourf(
            xx,
            yy,
            (codes == k).astype(float),
            levels=[0.5, 1.5],
            colors=[cmap(norm(k))],
            alpha=0.8,
        )
    _scatter_classes(ax, X, np.searchsorted(classes, y), classes)
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    if title:
        ax.set_title(title)
    return fig


def plot_curves(
    loss: Sequence[float] | np.ndarray,
    *,
    val_accuracy: Sequence[float] | np.ndarray | None = None,
    train_accuracy: Sequence[float] | np.ndarray | None = None,
    best_iteration: int | None = None,
    optimum: float | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Training loss per iteration (left axis) and accuracies (right axis).

    Args:
        loss: the objective after each iteration, ``(T,)``; iteration t is
            plotted at x = t + 1.
        val_accuracy: validation accuracy after each iteration, ``(T',)``.
        train_accuracy: training accuracy after each iteration, ``(T'',)``.
        best_iteration: 1-based iteration whose weights were kept (early
            stopping); drawn as a dashed vertical line.
        optimum: the minimum of the objective (e.g. found by lbfgs); drawn
            as a dotted horizontal line the loss should approach.
        ax: axes to draw into (a twin axis is added for the accuracies).
        title: the axes title.

    Returns:
        The figure drawn on.

    Example:
        >>> fig = plot_curves([1.0, 0.7, 0.6], val_accuracy=[0.5, 0.8, 0.8], best_iteration=2)
        >>> fig.axes[0].lines[0].get_ydata().tolist()
        [1.0, 0.7, 0.6]
        >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    loss = np.asarray(loss, dtype=float)
    if loss.ndim != 1 or loss.size == 0:
        raise ValueError(f"loss must be a non-empty 1-d sequence; got shape {loss.shape}")
    fig, ax = _figure_and_axes(ax, (7.0, 4.5))
    handles = ax.plot(np.arange(1, loss.size + 1), loss, color="C0", label="training loss")
    if optimum is not None:
        handles.append(
            ax.axhline(optimum, color="C0", linestyle=":", linewidth=1.2, label="optimum")
        )
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss (mean cross-entropy + L2)")
    accuracies = [
        (name, np.asarray(values, dtype=float), colour)
        for name, values, colour in (
            ("training accuracy", train_accuracy, "C2"),
            ("validation accuracy", val_accuracy, "C1"),
        )
        if values is not None
    ]
    if accuracies:
        twin = ax.twinx()
        for name, values, colour in accuracies:
            if values.ndim != 1:
                raise ValueError(f"{name} must be 1-d; got shape {values.shape}")
            handles += twin.plot(np.arange(1, values.size + 1), values, color=colour, label=name)
        twin.set_ylabel("accuracy")
    if best_iteration is not None:
        handles.append(
            ax.axvline(best_iteration, color="k", linestyle="--", linewidth=1, label="weights kept")
        )
    ax.legend(handles=handles, loc="center right", fontsize="small")
    if title:
        ax.set_title(title)
    return fig
