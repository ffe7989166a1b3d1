"""``softmax-ref train`` and ``softmax-ref predict``: a user's data file in, a model file out.

``train DATA --model OUT.npz`` fits a :class:`~softmax_ref.classifier.SoftmaxClassifier`
to a CSV (features, then the label in the last column unless told otherwise;
a header row is optional) or an ``.npz`` archive (arrays ``X`` and ``y``) and
saves it with :meth:`~softmax_ref.estimator.BaseGradientClassifier.save` (no
pickle). ``predict MODEL DATA`` loads it and prints one predicted label per
line, or with ``--proba`` a CSV of class probabilities. A data file that also
holds labels (one column more than the model's features) gets its accuracy
reported on stderr.

Errors (missing or malformed files, bad hyperparameters, a diverging run) are
printed as one line on stderr, naming the file and what was wrong, with exit
code 1; nothing is written on failure. This module imports only argparse and
NumPy at top level, so building the command's parser stays fast.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any, TextIO

import numpy as np

__all__ = ["configure_predict", "configure_train", "run_predict", "run_train"]

# Hyperparameters the command passes through when given (None: the classifier's default).
_HYPERPARAMETERS = {
    "solver": str,
    "reg": float,
    "learning_rate": float,
    "max_iter": int,
    "tol": float,
    "batch_size": int,
    "patience": int,
    "validation_fraction": float,
}


def _label_column(text: str) -> int | str:
    """An integer index if the text is one, else a column name."""
    try:
        return int(text)
    except ValueError:
        return text


def configure_train(parser: argparse.ArgumentParser) -> None:
    """Add ``train``'s arguments to its sub-command parser.

    Example:
        >>> p = argparse.ArgumentParser(); configure_train(p)
        >>> a = p.parse_args(["data.csv", "--model", "m.npz", "--solver", "adam", "--reg", "0.1"])
        >>> str(a.data), str(a.model), a.solver, a.reg, a.learning_rate, a.label_column
        ('data.csv', 'm.npz', 'adam', 0.1, None, -1)
    """
    parser.add_argument(
        "data", type=Path, help="CSV (label in the last column) or .npz with arrays X and y"
    )
    parser.add_argument(
        "--model", "-m", type=Path, required=True, help="where to write the model (.npz)"
    )
    parser.add_argument(
        "--label-column",
        type=_label_column,
        default=-1,
        help="CSV: the label column, an index (negative counts from the end) or a header "
        "name (default: the last column)",
    )
    group = parser.add_argument_group("hyperparameters (default: SoftmaxClassifier's)")
    group.add_argument(
        "--solver", help="lbfgs (the default: the exact optimum), gd, sgd, momentum, nesterov, adam"
    )
    for name, kind in _HYPERPARAMETERS.items():
        if name != "solver":
            group.add_argument("--" + name.replace("_", "-"), type=kind, default=None)
    group.add_argument(
        "--early-stopping",
        action="store_true",
        help="hold out --validation-fraction of the data; stop after --patience iterations "
        "without a better validation accuracy; keep the best weights",
    )
    group.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the initial weights, validation split and minibatches (default: %(default)s)",
    )
    group.add_argument("--verbose", action="store_true", help="show a progress bar")


def configure_predict(parser: argparse.ArgumentParser) -> None:
    """Add ``predict``'s arguments to its sub-command parser.

    Example:
        >>> p = argparse.ArgumentParser(); configure_predict(p)
        >>> a = p.parse_args(["m.npz", "new.csv", "--proba", "--label-column", "species"])
        >>> str(a.model), str(a.data), a.proba, a.label_column, a.output
        ('m.npz', 'new.csv', True, 'species', None)
    """
    parser.add_argument("model", type=Path, help="a model written by `softmax-ref train`")
    parser.add_argument(
        "data",
        type=Path,
        help="CSV or .npz of features; a label column (or array y) is optional and, if "
        "present, gives the accuracy on stderr",
    )
    parser.add_argument(
        "--proba",
        action="store_true",
        help="print class probabilities as CSV (one column per class) instead of labels",
    )
    parser.add_argument(
        "--label-column",
        type=_label_column,
        default=-1,
        help="CSV: the label column if the file has one (default: the last column)",
    )
    parser.add_argument(
        "--output", "-o", type=Path, default=None, help="write here instead of stdout"
    )


def _fail(command: str, exc: BaseException) -> int:
    print(f"softmax-ref {command}: error: {exc}", file=sys.stderr)
    return 1


def run_train(args: argparse.Namespace) -> int:
    """Fit, save and summarise; returns the exit code.

    ``args`` holds the options of :func:`configure_train`. Errors are one line
    on stderr and exit code 1, with no model written.

    Example:
        >>> import pathlib, tempfile
        >>> tmp = tempfile.TemporaryDirectory(); folder = pathlib.Path(tmp.name)
        >>> _ = (folder / "d.csv").write_text("x,label\\n-2,cold\\n-1,cold\\n1,hot\\n2,hot\\n")
        >>> p = argparse.ArgumentParser(); configure_train(p)
        >>> args = p.parse_args([str(folder / "d.csv"), "--model", str(folder / "m.npz"),
        ...                      "--reg", "0.01"])
        >>> run_train(args)  # doctest: +ELLIPSIS +NUMBER
        trained SoftmaxClassifier(solver='lbfgs', reg=0.01) on ...d.csv: 4 samples, 1 features, 2 classes (cold, hot)
        iterations: ...; final training loss: 0.0459
        training accuracy: 1.0000
        model saved to ...m.npz
        0
        >>> tmp.cleanup()
    """  # noqa: E501  (an output line of the example, which doctest compares whole)
    from sklearn.exceptions import ConvergenceWarning

    from softmax_ref.classifier import SoftmaxClassifier
    from softmax_ref.data_files import load_data

    kwargs: dict[str, Any] = {
        name: getattr(args, name)
        for name in _HYPERPARAMETERS
        if getattr(args, name, None) is not None
    }
    try:
        X, y = load_data(args.data, label_column=args.label_column)
        clf = SoftmaxClassifier(
            **kwargs,
            early_stopping=args.early_stopping,
            random_state=args.random_state,
            verbose=args.verbose,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            clf.fit(X, y)
        clf.save(args.model)
    except (OSError, ValueError, TypeError, FloatingPointError) as exc:
        # FloatingPointError: the run diverged (TrainingDivergedError); nothing was saved.
        return _fail("train", exc)
    for warning in caught:
        print(f"softmax-ref train: warning: {warning.message}", file=sys.stderr)

    classes = ", ".join(str(c) for c in clf.classes_)
    print(
        f"trained {type(clf).__name__}(solver={clf.solver!r}, reg={clf.reg}) on {args.data}: "
        f"{X.shape[0]} samples, {X.shape[1]} features, {len(clf.classes_)} classes ({classes})"
    )
    print(f"iterations: {clf.n_iter_}; final training loss: {clf.loss_curve_[-1]:.6f}")
    print(f"training accuracy: {clf.score(X, y):.4f}")
    if args.early_stopping:
        print(
            f"early stopping: best validation accuracy {clf.best_validation_score_:.4f} "
            f"at iteration {clf.best_iteration_}"
        )
    print(f"model saved to {args.model}")
    return 0


def _write_predictions(out: TextIO, clf: Any, X: np.ndarray, proba: bool) -> None:
    if proba:
        P = clf.predict_proba(X)
        out.write(",".join(str(c) for c in clf.classes_) + "\n")
        for row in P:
            out.write(",".join(f"{p:.6f}" for p in row) + "\n")
    else:
        for label in clf.predict(X):
            out.write(f"{label}\n")


def run_predict(args: argparse.Namespace) -> int:
    """Load, predict, print; returns the exit code.

    ``args`` holds the options of :func:`configure_predict`. Prints one label
    per row of the data file, or with ``--proba`` a CSV with one column per
    class; a label column in the file gives the accuracy on stderr.

    Example:
        >>> import pathlib, tempfile
        >>> from softmax_ref.classifier import SoftmaxClassifier
        >>> tmp = tempfile.TemporaryDirectory(); folder = pathlib.Path(tmp.name)
        >>> clf = SoftmaxClassifier(reg=0.01).fit([[-2.0], [-1.0], [1.0], [2.0]],
        ...                                       ["cold", "cold", "hot", "hot"])
        >>> model = clf.save(folder / "m.npz")
        >>> _ = (folder / "new.csv").write_text("-3\\n0.5\\n")
        >>> p = argparse.ArgumentParser(); configure_predict(p)
        >>> run_predict(p.parse_args([str(model), str(folder / "new.csv")]))
        cold
        hot
        0
        >>> proba = p.parse_args([str(model), str(folder / "new.csv"), "--proba"])
        >>> run_predict(proba)  # doctest: +NUMBER
        cold,hot
        1.000,0.000
        0.154,0.846
        0

        (The probabilities are printed to 6 decimals; doctest's NUMBER option
        compares them to the 3 shown.)
        >>> tmp.cleanup()
    """
    from softmax_ref.classifier import SoftmaxClassifier
    from softmax_ref.data_files import load_data

    try:
        clf = SoftmaxClassifier.load(args.model)
        X, y = load_data(args.data, label_column=args.label_column, n_features=clf.n_features_in_)
        if args.output is None:
            _write_predictions(sys.stdout, clf, X, args.proba)
        else:
            with open(args.output, "w", encoding="utf-8") as out:
                _write_predictions(out, clf, X, args.proba)
    except (OSError, ValueError, TypeError) as exc:
        return _fail("predict", exc)
    if y is not None:
        predicted, given = np.asarray(clf.predict(X)), np.asarray(y)
        if predicted.dtype.kind not in "biuf" or given.dtype.kind not in "biuf":
            # Labels read back from text: compare as text, e.g. "cat" or "3".
            predicted, given = predicted.astype(str), given.astype(str)
        correct = int(np.sum(predicted == given))
        print(
            f"accuracy on {args.data}: {correct / len(y):.4f} ({correct} / {len(y)})",
            file=sys.stderr,
        )
    return 0
