"""Plots: what is drawn is the data given, the mesh is the post's, matplotlib stays lazy."""

from __future__ import annotations

import os
import subprocess
import sys

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")  # before pyplot, as the module itself does when headless

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from softmax_ref.plotting import (
    decision_mesh,
    plot_curves,
    plot_data,
    plot_decision_boundary,
)


class HalfPlane:
    """Class 1 right of x = 0.3, class 0 left of it; counts its calls."""

    def __init__(self, labels=(0, 1)):
        self.labels = np.asarray(labels)
        self.calls = 0

    def predict(self, P):
        self.calls += 1
        return self.labels[(P[:, 0] > 0.3).astype(int)]


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    return X, (X[:, 0] > 0.3).astype(int)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_data_draws_every_point_in_its_class_colour(data):
    X, y = data
    fig = plot_data(X, y, title="t")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    points = ax.collections[0]
    np.testing.assert_array_equal(points.get_offsets(), X)
    fig.canvas.draw()  # colours are mapped at draw time
    colours = points.get_facecolors()
    # Same class, same colour; different classes, different colours.
    assert len({tuple(c) for c in colours[y == 0]}) == 1
    assert len({tuple(c) for c in colours[y == 1]}) == 1
    assert tuple(colours[y == 0][0]) != tuple(colours[y == 1][0])
    assert ax.get_title() == "t"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1"]


def test_functions_draw_into_a_given_axes(data):
    X, y = data
    fig, axes = plt.subplots(1, 3)
    assert plot_data(X, y, ax=axes[0]) is fig
    assert plot_decision_boundary(HalfPlane(), X, y, ax=axes[1]) is fig
    assert plot_curves([1.0, 0.5], ax=axes[2]) is fig
    assert axes[0].collections
    assert axes[1].collections
    assert axes[2].lines


def test_decision_mesh_is_the_posts_grid(data):
    X, _ = data
    model = HalfPlane()
    xx, yy, Z = decision_mesh(model, X)
    # The post: np.arange(min - 1, max + 1, 0.02) in each feature.
    np.testing.assert_array_equal(xx[0], np.arange(X[:, 0].min() - 1, X[:, 0].max() + 1, 0.02))
    np.testing.assert_array_equal(yy[:, 0], np.arange(X[:, 1].min() - 1, X[:, 1].max() + 1, 0.02))
    np.testing.assert_array_equal(Z, (xx > 0.3).astype(int))
    assert model.calls == 1  # one vectorised predict over the whole grid


def test_boundary_fills_the_predicted_regions(data):
    X, y = data
    fig = plot_decision_boundary(HalfPlane(), X, y)
    ax = fig.axes[0]
    left, right = ax.collections[:2]  # one filled region per predicted class
    step = 0.02
    assert max(v[0] for p in left.get_paths() for v in p.vertices) <= 0.3 + step
    assert min(v[0] for p in right.get_paths() for v in p.vertices) >= 0.3 - step
    # Every point is drawn, on top of the regions.
    np.testing.assert_array_equal(ax.collections[-1].get_offsets(), X)
    xx, yy, _ = decision_mesh(HalfPlane(), X)
    assert ax.get_xlim() == (xx.min(), xx.max())
    assert ax.get_ylim() == (yy.min(), yy.max())


def filled_colours(ax):
    """The RGB colours of every non-empty filled contour region drawn on ``ax``."""
    from matplotlib.contour import ContourSet

    return {
        tuple(np.round(fc[:3], 6))
        for c in ax.collections
        if isinstance(c, ContourSet)
        for path, fc in zip(c.get_paths(), c.get_facecolor(), strict=True)
        if len(path.vertices)
    }


def class_colours(ax, y):
    ax.figure.canvas.draw()
    points = ax.collections[-1]  # the scatter is drawn last
    return {
        label: tuple(np.round(colour[:3], 6))
        for label, colour in zip(y.tolist(), points.get_facecolors(), strict=True)
    }


def two_region_problem(data):
    # Class 1 exists in the data, but the model predicts only 0 (left) and 2 (right).
    X, y = data
    y = y * 2
    y[:3] = 1
    return X, y, HalfPlane(labels=(0, 2))


def test_no_sliver_of_a_third_class_between_two_regions(data):
    X, y, model = two_region_problem(data)
    ax = plot_decision_boundary(model, X, y).axes[0]
    colour = class_colours(ax, y)
    assert filled_colours(ax) == {colour[0], colour[2]}


def test_meta_one_contourf_over_the_codes_paints_the_sliver(data):
    # The naive drawing (one contourf over the class codes, levels between
    # them) is what the check above rejects: it fills a band of class 1.
    X, y, model = two_region_problem(data)
    ax = plot_decision_boundary(model, X, y).axes[0]
    colour = class_colours(ax, y)
    _, naive = plt.subplots()
    xx, yy, Z = decision_mesh(model, X)
    naive.contourf(xx, yy, Z, levels=[-0.5, 0.5, 1.5, 2.5], colors=[colour[k] for k in (0, 1, 2)])
    assert colour[1] in filled_colours(naive)


def test_boundary_with_string_labels(data):
    X, y = data
    names = np.array(["cat", "dog"])
    fig = plot_decision_boundary(HalfPlane(labels=names), X, names[y])
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["class cat", "class dog"]


def test_curves_plot_the_given_values():
    loss = [1.0, 0.8, 0.7, 0.65]
    val = [0.5, 0.7, 0.72, 0.71]
    fig = plot_curves(
        loss, val_accuracy=val, train_accuracy=val[::-1], best_iteration=3, optimum=0.6
    )
    ax, twin = fig.axes
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), loss)
    drawn = {line.get_label(): line.get_ydata().tolist() for line in twin.lines}
    assert drawn == {"training accuracy": val[::-1], "validation accuracy": val}
    assert ax.lines[1].get_ydata()[0] == 0.6  # the optimum
    assert ax.lines[-1].get_xdata()[0] == 3  # the kept iteration
    assert len(ax.get_legend().get_texts()) == 5


def test_figures_render_to_png(tmp_path, data):
    X, y = data
    path = tmp_path / "b.png"
    plot_decision_boundary(HalfPlane(), X, y).savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("call", "exc", "text"),
    [
        (lambda: plot_data(np.zeros((3, 3)), np.zeros(3)), ValueError, r"shape \(N, 2\)"),
        (lambda: plot_data(np.zeros((0, 2)), np.zeros(0)), ValueError, r"shape \(N, 2\)"),
        (lambda: plot_data(np.zeros((3, 2)), np.zeros(2)), ValueError, "one label per row"),
        (lambda: decision_mesh(object(), np.zeros((3, 2))), TypeError, "predict"),
        (lambda: decision_mesh(HalfPlane(), np.zeros((3, 2)), step=0), ValueError, "step"),
        (lambda: plot_curves([]), ValueError, "non-empty"),
        (lambda: plot_curves([1.0], val_accuracy=[[1.0]]), ValueError, "1-d"),
    ],
)
def test_bad_input(call, exc, text):
    with pytest.raises(exc, match=text):
        call()


def test_bad_predict_shape(data):
    class Wrong:
        def predict(self, P):
            return np.zeros((len(P), 2))

    with pytest.raises(ValueError, match=r"model\.predict returned shape"):
        decision_mesh(Wrong(), data[0])


def run_python(code, env_update, drop=()):
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(env_update)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_matplotlib_is_imported_lazily():
    out = run_python("import sys, softmax_ref.plotting; print('matplotlib' in sys.modules)", {})
    assert out == "False"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display detection is Linux's")
def test_agg_backend_without_a_display():
    code = (
        "import numpy as np, matplotlib\n"
        "from softmax_ref.plotting import plot_data\n"
        "plot_data(np.zeros((2, 2)), np.array([0, 1]))\n"
        "print(matplotlib.get_backend().lower())"
    )
    out = run_python(code, {}, drop=("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND"))
    assert out == "agg"
