"""``softmax-ref demo``: the blog post's experiments, reproduced, verified and drawn.

On the post's exact data set (:func:`~softmax_ref.datasets.blog_2016`) and on
the one its code gives today (:func:`~softmax_ref.datasets.toy`), the demo

1. runs the post's two experiments with its ``Softmax`` API (learning rate
   1e-2, reg 0.1): ``train`` for 1000 iterations on all 1000 samples, and
   ``train_early_stopping`` on the 800 / 200 split with 300 rounds; the early
   stopping run is reported twice, with the weights the post's code returned
   (those of the last step) and with the best weights, which we restore;
2. prints the post's figures beside ours;
3. fits ``SoftmaxClassifier(solver="lbfgs")`` for the exact optimum of the same
   objective and prints its value next to what 1000 steps of gradient descent
   reach (and scikit-learn's ``LogisticRegression`` optimum as a cross-check);
4. checks the gradient at the trained point three ways (analytic, JAX,
   finite differences) with :func:`verification.check_softmax`;
5. writes the figures (data, decision boundaries, loss and validation curves)
   as PNG files to ``--output``;
6. trains the one-hidden-layer network of the post's end (a large hidden
   layer, a small reg) and draws its decision boundaries beside the linear
   optimum's (see the two-layer section at the end of this module).

It exits with 1 if the post's numbers are not reproduced on ``blog_2016`` or
the gradient check fails.
"""

from __future__ import annotations

import argparse
import io
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from softmax_ref.datasets import Dataset, blog_2016, toy

__all__ = [
    "POST",
    "Reproduction",
    "configure_parser",
    "fit_two_layer",
    "format_markdown_table",
    "format_table",
    "format_two_layer",
    "reproduce",
    "run_demo",
    "two_layer_figure",
    "write_figures",
]

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

DATASETS: dict[str, Callable[[], Dataset]] = {"blog_2016": blog_2016, "toy": toy}


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
        two_layer: the network of :func:`fit_two_layer`, once the demo trained it.

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


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


@dataclass(frozen=True)
class _Row:
    """One row of the results table: its label in the terminal and in the docs, and its cells."""

    text: str | None  # None: the row is in the Markdown table only
    markdown: str
    post: float | None  # the post's figure, if it reported one
    cell: Callable[[Reproduction], str]


def _number(key: str) -> Callable[[Reproduction], str]:
    return lambda r: f"{r.numbers[key]:.3f}"


def _objective(attribute: str) -> Callable[[Reproduction], str]:
    return lambda r: f"{getattr(r, attribute):.9f}"


# The one spec both tables are rendered from.
_TABLE = (
    _Row(
        "train(): accuracy on all samples",
        "`train`: accuracy on all samples",
        POST["train_accuracy"],
        _number("train_accuracy"),
    ),
    _Row(
        "early stopping, post's code: train acc.",
        "early stopping as the post ran it (last weights): training accuracy",
        POST["early_train_accuracy"],
        _number("early_train_accuracy"),
    ),
    _Row(
        "early stopping, post's code: val. acc.",
        "early stopping as the post ran it (last weights): validation accuracy",
        POST["early_val_accuracy"],
        _number("early_val_accuracy"),
    ),
    _Row(
        "early stopping, best weights: train acc.",
        "early stopping fixed (best weights): training accuracy",
        None,
        _number("fixed_train_accuracy"),
    ),
    _Row(
        "early stopping, best weights: val. acc.",
        "early stopping fixed (best weights): validation accuracy",
        None,
        _number("fixed_val_accuracy"),
    ),
    _Row(
        "lbfgs optimum: accuracy, all samples",
        "lbfgs optimum: accuracy on all samples",
        None,
        _number("optimum_accuracy"),
    ),
    _Row(
        "early stopping: stopped at / best step",
        "early stopping: stopped at step / best step",
        None,
        lambda r: f"{r.early_history.n_iter} / {r.early_history.best_iteration}",
    ),
    _Row(None, "objective at the lbfgs optimum", None, _objective("optimum_objective")),
    _Row(None, "objective at scikit-learn's optimum", None, _objective("sklearn_objective")),
    _Row(
        None,
        f"objective after `train` ({NUM_ITERS} steps)",
        None,
        _objective("trained_objective"),
    ),
)


def _render(results: list[Reproduction], markdown: bool) -> str:
    """:data:`_TABLE` as aligned text (one column per data set) or as a Markdown table."""
    names = [r.dataset.name for r in results]
    if markdown:
        lines = [
            "| | post | " + " | ".join(f"`{name}`" for name in names) + " |",
            "|---|---:|" + "---:|" * len(results),
        ]
    else:
        width = 48
        head = f"{'':<{width}}{'post':>8}" + "".join(f"{name:>12}" for name in names)
        lines = [head, "-" * len(head)]
    for row in _TABLE:
        cells = [row.cell(r) for r in results]
        if markdown:
            lines.append(f"| {row.markdown} | {_fmt(row.post)} | " + " | ".join(cells) + " |")
        elif row.text is not None:
            lines.append(
                f"{row.text:<{width}}{_fmt(row.post):>8}" + "".join(f"{c:>12}" for c in cells)
            )
    return "\n".join(lines)


def format_table(results: list[Reproduction]) -> str:
    """The post's figures beside ours, one column per data set.

    Example:
        >>> from softmax_ref.datasets import Dataset, make_classification_legacy
        >>> X, y = make_classification_legacy(n_samples=60, n_features=2, n_redundant=0,
        ...                                   n_clusters_per_class=1, n_classes=3, random_state=0)
        >>> results = [reproduce(Dataset("small", X, y, n_train=40))]
        >>> print(format_table(results).splitlines()[0].strip())
        post       small
    """
    return _render(results, markdown=False)


def format_markdown_table(results: list[Reproduction]) -> str:
    """The table of :func:`format_table` and the objectives, as Markdown (for the docs).

    Example:
        >>> from softmax_ref.datasets import Dataset, make_classification_legacy
        >>> X, y = make_classification_legacy(n_samples=60, n_features=2, n_redundant=0,
        ...                                   n_clusters_per_class=1, n_classes=3, random_state=0)
        >>> results = [reproduce(Dataset("small", X, y, n_train=40))]
        >>> print(format_markdown_table(results).splitlines()[0])
        | | post | `small` |
    """
    return _render(results, markdown=True)


def _format_objectives(r: Reproduction) -> str:
    gap = r.trained_objective - r.optimum_objective
    rows = [
        (f"lbfgs optimum ({r.optimum.n_iter_} iterations)", r.optimum_objective, ""),
        ("scikit-learn LogisticRegression(C=1/(N reg))", r.sklearn_objective, ""),
        (
            f"gradient descent, {NUM_ITERS} steps (train)",
            r.trained_objective,
            f"  ({gap:.2e} above the optimum)",
        ),
    ]
    lines = [
        f"  {r.dataset.name}: mean cross-entropy + 0.5 * {REG} * ||W||^2 "
        f"on all {r.dataset.X.shape[0]} samples"
    ]
    lines += [f"    {label:<46}{value:.12f}{note}" for label, value, note in rows]
    return "\n".join(lines)


def gradient_check(r: Reproduction) -> tuple[str, bool]:
    """The three-way check of ``softmax_ref.loss_and_grad`` at the trained point of ``train``.

    Returns:
        ``(report text, passed)``.
    """
    from softmax_ref import loss_and_grad
    from verification import check_softmax

    d = r.dataset
    report = check_softmax(r.trained.W, r.trained.b, d.X, d.y, reg=REG, analytic=loss_and_grad)
    return str(report), bool(report.ok)


def write_figures(results: list[Reproduction], output: Path) -> list[Path]:
    """Draw every figure as ``<output>/<data set>-<figure>.png``; returns the paths.

    For each result: the data (X ``(N, 2)``, coloured by y ``(N,)``), one
    decision-boundary figure per entry of ``boundaries`` (and the two-layer
    network's, once trained), and the loss and validation curves
    (``(n_iter,)`` each). ``output`` is created if missing.

    Example:
        Only the data and the curves, for speed (no boundaries):

        >>> import pathlib, tempfile
        >>> from softmax_ref.datasets import Dataset, make_classification_legacy
        >>> X, y = make_classification_legacy(n_samples=12, n_features=2, n_redundant=0,
        ...                                   n_clusters_per_class=1, n_classes=3, random_state=0)
        >>> r = reproduce(Dataset("small", X, y, n_train=8))
        >>> r.boundaries = []
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     print([path.name for path in write_figures([r], pathlib.Path(tmp))])
        ['small-data.png', 'small-curves.png']
    """
    from softmax_ref._mpl import pyplot
    from softmax_ref.plotting import plot_curves, plot_data, plot_decision_boundary

    plt = pyplot()
    output.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(fig: Any, name: str) -> None:
        from PIL import Image  # Pillow: a dependency of matplotlib

        path = output / name
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
        plt.close(fig)
        # A palette of 256 colours looks the same for these flat regions and
        # scattered points, and makes the file about 4x smaller (the docs commit them).
        buffer.seek(0)
        Image.open(buffer).convert("RGB").quantize(colors=256).save(path, optimize=True)
        written.append(path)

    for r in results:
        d = r.dataset
        lo, hi = d.X.min(axis=0), d.X.max(axis=0)
        save(
            plot_data(
                d.X,
                d.y,
                title=f"{d.name}: {d.X.shape[0]} samples, "
                f"x1 in [{lo[0]:.2f}, {hi[0]:.2f}], x2 in [{lo[1]:.2f}, {hi[1]:.2f}]",
            ),
            f"{d.name}-data.png",
        )
        for stem, title, model in r.boundaries:
            save(
                plot_decision_boundary(model, d.X, d.y, title=f"{d.name}: {title}"),
                f"{d.name}-{stem}.png",
            )
        if r.two_layer is not None:
            save(two_layer_figure(r), f"{d.name}-boundary-two-layer.png")

        fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5))
        plot_curves(
            r.trained_history.loss_curve,
            optimum=r.optimum_objective,
            ax=left,
            title=f"{d.name}: train, {NUM_ITERS} steps of gradient descent",
        )
        h = r.early_history
        plot_curves(
            h.loss_curve,
            val_accuracy=h.validation_scores,
            best_iteration=h.best_iteration,
            ax=right,
            title=f"{d.name}: early stopping, {EARLY_STOPPING_ROUNDS} rounds",
        )
        save(fig, f"{d.name}-curves.png")
    return written


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the demo's options to its sub-command parser.

    Example:
        >>> p = argparse.ArgumentParser(); configure_parser(p)
        >>> a = p.parse_args(["--datasets", "toy", "--no-figures"])
        >>> a.datasets, a.no_figures, a.no_verify, str(a.output), a.markdown
        (['toy'], True, False, 'demo-output', None)
    """
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("demo-output"),
        help="folder for the PNG figures (created if missing; default: %(default)s)",
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=sorted(DATASETS),
        default=["blog_2016", "toy"],
        help="data sets to run on (default: both)",
    )
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="skip the three-way gradient check (it needs JAX)",
    )
    parser.add_argument("--no-figures", action="store_true", help="write no figures")
    parser.add_argument(
        "--markdown",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the table of numbers as Markdown to FILE (the docs include it)",
    )


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo; returns the exit code (0: reproduced and verified).

    ``args`` holds the options of :func:`configure_parser`. The output of a
    full run on both data sets is recorded in ``docs/figures/demo.out``; it
    takes seconds, so the example runs no data set and shows the layout and
    the post's column of the table.

    Example:
        >>> code = run_demo(argparse.Namespace(datasets=[], no_verify=True, no_figures=True))
        softmax-ref demo: the blog post's experiments, reproduced
        hyperparameters: learning_rate=0.01, reg=0.1, num_iters=1000, early_stopping_rounds=300
        <BLANKLINE>
        <BLANKLINE>
        The post's numbers beside ours
                                                            post
        --------------------------------------------------------
        train(): accuracy on all samples                   0.816
        early stopping, post's code: train acc.            0.815
        early stopping, post's code: val. acc.             0.805
        early stopping, best weights: train acc.               -
        early stopping, best weights: val. acc.                -
        lbfgs optimum: accuracy, all samples                   -
        early stopping: stopped at / best step                 -
        <BLANKLINE>
        'post's code' is what the post's train_early_stopping returned, the weights of its
        last step; 'best weights' is what it meant to return and what Softmax returns.
        <BLANKLINE>
        The optimum of the same objective
        <BLANKLINE>
        The one-hidden-layer network (100 ReLU units, reg 1e-06, 1000 L-BFGS iterations on all samples)
        >>> code
        0
    """  # noqa: E501  (an output line of the example, which doctest compares whole)
    names = getattr(args, "datasets", ["blog_2016", "toy"])
    output = Path(getattr(args, "output", "demo-output"))
    print("softmax-ref demo: the blog post's experiments, reproduced")
    print(
        f"hyperparameters: learning_rate={LEARNING_RATE}, reg={REG}, num_iters={NUM_ITERS}, "
        f"early_stopping_rounds={EARLY_STOPPING_ROUNDS}\n"
    )
    results = []
    for name in names:
        d = DATASETS[name]()
        print(f"{d.name:<10} X {d.X.shape}, train {d.X_train.shape[0]} / val {d.X_val.shape[0]}")
        print(f"           {d.description}")
        results.append(reproduce(d))

    print("\nThe post's numbers beside ours")
    print(format_table(results))
    print(
        "\n'post's code' is what the post's train_early_stopping returned, the weights of its"
        "\nlast step; 'best weights' is what it meant to return and what Softmax returns."
    )

    failed = False
    for r in results:
        if r.dataset.name == "blog_2016":
            got = r.numbers
            missed = [k for k, v in POST.items() if round(got[k], 3) != v]
            if missed:
                failed = True
                print(f"\nNOT REPRODUCED on blog_2016: {', '.join(missed)}")
            else:
                print("\nblog_2016 reproduces every number of the post.")

    print("\nThe optimum of the same objective")
    for r in results:
        print(_format_objectives(r))

    print(f"\n{TWO_LAYER_SUMMARY}")
    for r in results:
        r.two_layer = fit_two_layer(r.dataset)
        print(format_two_layer(r))

    if not getattr(args, "no_verify", False):
        print("\nThe gradient at the trained point, checked three ways")
        for r in results:
            text, ok = gradient_check(r)
            print(f"  {r.dataset.name}: {'PASS' if ok else 'FAIL'}")
            print(textwrap.indent(text, "    "))
            failed = failed or not ok

    markdown = getattr(args, "markdown", None)
    if markdown is not None:
        Path(markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(markdown).write_text(format_markdown_table(results) + "\n", encoding="utf-8")
        print(f"\nThe table, as Markdown, written to {markdown}")

    if not getattr(args, "no_figures", False):
        written = write_figures(results, output)
        print(f"\nFigures ({len(written)}) written to {output}/:")
        for path in written:
            print(f"  {path.name}")
    return 1 if failed else 0


# --- the one-hidden-layer network ----------------------------------------------------
#
# The post ends with a network with one hidden layer trained on the same data, whose
# decision boundaries overfit: with many hidden units and almost no penalty they bend
# around individual training points. The demo trains softmax_ref's TwoLayerClassifier
# that way on all samples and draws it beside the linear model's optimum.

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
