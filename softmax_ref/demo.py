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
   optimum's (see :mod:`softmax_ref.demo_two_layer`).

It exits with 1 if the post's numbers are not reproduced on ``blog_2016`` or
the gradient check fails.

The experiments are :func:`~softmax_ref.reproduction.reproduce`'s, the table
:mod:`softmax_ref.demo_table`'s and the network :mod:`softmax_ref.demo_two_layer`'s;
this module runs them, checks the gradient, draws the figures and holds the
command line. Their public names are importable from here too.
"""

from __future__ import annotations

import argparse
import io
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from softmax_ref.datasets import Dataset, blog_2016, toy
from softmax_ref.demo_table import _format_objectives, format_markdown_table, format_table
from softmax_ref.demo_two_layer import (
    TWO_LAYER_SUMMARY,
    fit_two_layer,
    format_two_layer,
    two_layer_figure,
)
from softmax_ref.reproduction import (
    EARLY_STOPPING_ROUNDS,
    LEARNING_RATE,
    NUM_ITERS,
    POST,
    REG,
    Reproduction,
    reproduce,
)

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

DATASETS: dict[str, Callable[[], Dataset]] = {"blog_2016": blog_2016, "toy": toy}


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
