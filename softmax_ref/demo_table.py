"""The table of the demo: the post's figures beside ours, as text and as Markdown.

One spec, :data:`_TABLE`, holds each row's label in the terminal and in the
docs, the post's figure if it reported one, and how to read the cell from a
:class:`~softmax_ref.reproduction.Reproduction`; :func:`format_table` renders
it for the terminal (one column per data set) and
:func:`format_markdown_table` for the docs (``docs/figures/post-table.out``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from softmax_ref.reproduction import NUM_ITERS, POST, REG, Reproduction

__all__ = ["format_markdown_table", "format_table"]


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
        >>> from softmax_ref.reproduction import reproduce
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
        >>> from softmax_ref.reproduction import reproduce
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
