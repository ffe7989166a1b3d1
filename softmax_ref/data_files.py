"""Loaders for a user's data files: delimited text and NumPy ``.npz`` archives.

:func:`load_csv`, :func:`load_npz` and :func:`load_data` (which picks one by
the file's extension) return ``(X, y)`` and raise errors that name the file,
the line or array, and what was expected. ``softmax-ref train`` and
``softmax-ref predict`` read their data with :func:`load_data`. All three are
re-exported by :mod:`softmax_ref.datasets`.

Only NumPy is imported.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

__all__ = ["load_csv", "load_data", "load_npz"]


def _file_error(path: str | os.PathLike[str], where: str, message: str) -> ValueError:
    location = f"{os.fspath(path)}, {where}" if where else os.fspath(path)
    return ValueError(f"{location}: {message}")


def _parse_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _as_labels(values: list[str]) -> np.ndarray:
    """Integers if every label is one, else floats if every label is one, else strings."""
    try:
        return np.array([int(v) for v in values], dtype=np.int64)
    except ValueError:
        pass
    try:
        return np.array([float(v) for v in values], dtype=np.float64)
    except ValueError:
        return np.array(values, dtype=str)


def _resolve_label_column(
    path: str | os.PathLike[str],
    label_column: int | str | None,
    names: list[str] | None,
    n_columns: int,
    n_features: int | None,
) -> int | None:
    if n_features is not None and n_columns == n_features:
        return None  # exactly the model's features: an unlabelled file
    if label_column is None:
        return None
    if isinstance(label_column, str):
        if names is None:
            raise _file_error(
                path,
                "line 1",
                f"label_column={label_column!r} names a column, but the file has no header "
                "row (its first row is numbers); pass the column's index instead",
            )
        if label_column not in names:
            raise _file_error(
                path, "line 1", f"no column named {label_column!r}; the header has {names}"
            )
        return names.index(label_column)
    if isinstance(label_column, bool) or not isinstance(label_column, int):
        raise TypeError(
            f"label_column must be a column index, a column name or None; got {label_column!r}"
        )
    if not -n_columns <= label_column < n_columns:
        raise _file_error(
            path,
            "",
            f"label_column={label_column} is out of range for rows of {n_columns} fields",
        )
    return label_column % n_columns


def load_csv(
    path: str | os.PathLike[str],
    *,
    label_column: int | str | None = -1,
    header: bool | None = None,
    delimiter: str = ",",
    n_features: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a delimited text file of numeric features and one label column.

    Every row must have the same number of fields. Blank lines are skipped.
    Features must parse as finite numbers; labels are returned as int64 if
    every label is an integer, float64 if every one is a number, strings
    otherwise (any labels scikit-learn accepts).

    Args:
        path: the file.
        label_column: index (negative counts from the end; default the last
            column) or header name of the label column; ``None`` if the file
            holds features only.
        header: whether the first row holds column names. ``None`` (default)
            decides by looking: a first row none of whose fields is a number
            is a header.
        delimiter: the field separator.
        n_features: if given (e.g. the number of features a trained model
            expects), the file must hold exactly that many feature columns;
            a file with no label column is then accepted, and ``y`` is None.

    Returns:
        ``(X, y)``: X ``(N, D)`` float64; y ``(N,)``, or None without labels.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a malformed file; the message names the file, the line and
            field, what it found and what was expected.

    Example:
        >>> import pathlib, tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.csv"
        >>> _ = p.write_text("x1,x2,label\\n0.5,1.0,0\\n-1.5,2.0,1\\n")
        >>> X, y = load_csv(p)
        >>> X, y
        (array([[ 0.5,  1. ],
               [-1.5,  2. ]]), array([0, 1]))
    """
    # utf-8-sig: drop the byte-order mark spreadsheet programs put first.
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        records: list[tuple[int, list[str]]] = []
        try:
            for row in reader:
                if any(field.strip() for field in row):  # skip blank lines
                    records.append((reader.line_num, row))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _file_error(path, "", f"could not be read as delimited text: {exc}") from exc
    if not records:
        raise _file_error(
            path,
            "",
            f"the file is empty; expected rows of {delimiter!r}-separated numbers "
            "with the label in one column",
        )

    first_line, first_row = records[0]
    if header is None:
        header = all(_parse_float(field) is None for field in first_row)
    names = [field.strip() for field in first_row] if header else None
    data = records[1:] if header else records
    if not data:
        raise _file_error(path, "", "the file has a header row but no data rows")

    n_columns = len(first_row)
    for line, row in data:
        if len(row) != n_columns:
            raise _file_error(
                path,
                f"line {line}",
                f"has {len(row)} fields; expected {n_columns} like line {first_line}",
            )
    label_index = _resolve_label_column(path, label_column, names, n_columns, n_features)
    feature_indices = [j for j in range(n_columns) if j != label_index]
    if n_features is not None and len(feature_indices) != n_features:
        raise _file_error(
            path,
            "",
            f"has {n_columns} columns; expected {n_features} features "
            f"(or {n_features} features and a label column)",
        )
    if not feature_indices:
        raise _file_error(path, "", "has no feature columns besides the label column")

    X = np.empty((len(data), len(feature_indices)))
    for i, (line, row) in enumerate(data):
        for k, j in enumerate(feature_indices):
            value = _parse_float(row[j])
            if value is None or not math.isfinite(value):
                column = f"field {j + 1}" + (f" ({names[j]!r})" if names else "")
                hint = (
                    "; if this row is a header, pass header=True"
                    if value is None and i == 0 and not header
                    else ""
                )
                raise _file_error(
                    path,
                    f"line {line}, {column}",
                    f"expected a finite number; got {row[j]!r}{hint}",
                )
            X[i, k] = value
    if label_index is None:
        return X, None
    labels = [row[label_index].strip() for _, row in data]
    for (line, _), label in zip(data, labels, strict=True):
        if not label:
            raise _file_error(
                path, f"line {line}, field {label_index + 1}", "expected a label; got ''"
            )
    return X, _as_labels(labels)


def load_npz(
    path: str | os.PathLike[str],
    *,
    x_key: str = "X",
    y_key: str = "y",
    n_features: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read features and labels from a NumPy ``.npz`` archive, never unpickling.

    Args:
        path: the archive, as written by ``np.savez(path, X=X, y=y)``.
        x_key: the name of the features array, ``(N, D)`` numeric.
        y_key: the name of the labels array, ``(N,)`` (numbers or strings).
        n_features: if given, X must have that many columns, and the labels
            become optional: without ``y_key`` in the archive, ``y`` is None.

    Returns:
        ``(X, y)``: X ``(N, D)`` float64; y ``(N,)``, or None without labels.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not an ``.npz`` archive, a missing array, an object array
            (which would need pickle), a wrong shape or non-finite features;
            the message names the file and the array.

    Example:
        >>> import pathlib, tempfile
        >>> import numpy as np
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.npz"
        >>> np.savez(p, X=np.eye(2), y=np.array([0, 1]))
        >>> load_npz(p)
        (array([[1., 0.],
               [0., 1.]]), array([0, 1]))
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"{os.fspath(path)}: no such file")
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as exc:  # np.load raises several types for a foreign file
        raise _file_error(path, "", f"is not a NumPy .npz archive (np.load failed: {exc})") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise _file_error(
            path,
            "",
            f"holds a single array (a .npy file), not an .npz archive with arrays "
            f"{x_key!r} and {y_key!r}",
        )
    with archive:
        keys = sorted(archive.files)
        if x_key not in keys:
            raise _file_error(path, "", f"has no array {x_key!r}; it holds {keys}")
        if y_key not in keys and n_features is None:
            raise _file_error(path, "", f"has no array {y_key!r}; it holds {keys}")
        try:
            X = archive[x_key]
            y = archive[y_key] if y_key in keys else None
        except ValueError as exc:  # object arrays need pickle
            raise _file_error(
                path, "", f"holds an object array, which needs pickle to load: {exc}"
            ) from exc

    if X.dtype.kind not in "biuf":
        raise _file_error(path, f"array {x_key!r}", f"expected numbers; got dtype {X.dtype}")
    if X.ndim != 2:
        raise _file_error(
            path, f"array {x_key!r}", f"expected 2 dimensions (N, D); got shape {X.shape}"
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise _file_error(
            path, f"array {x_key!r}", f"expected at least one sample and feature; got {X.shape}"
        )
    if n_features is not None and X.shape[1] != n_features:
        raise _file_error(
            path, f"array {x_key!r}", f"expected {n_features} features; got shape {X.shape}"
        )
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(X))[0])
        raise _file_error(
            path, f"array {x_key!r}", f"expected finite numbers; got {X[bad]} at {x_key}{list(bad)}"
        )
    if y is None:
        return X, None
    if y.ndim != 1:
        raise _file_error(
            path, f"array {y_key!r}", f"expected 1 dimension (N,); got shape {y.shape}"
        )
    if y.shape[0] != X.shape[0]:
        raise _file_error(
            path,
            f"array {y_key!r}",
            f"expected one label per row of {x_key!r}, shape ({X.shape[0]},); got {y.shape}",
        )
    return X, y


def load_data(
    path: str | os.PathLike[str],
    *,
    label_column: int | str | None = -1,
    n_features: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a data file by its extension: ``.npz`` with :func:`load_npz`, else :func:`load_csv`.

    ``label_column`` applies to text files (``.npz`` archives name their
    arrays ``X`` and ``y``); ``n_features`` is passed to either loader.

    Returns:
        ``(X, y)``: X ``(N, D)`` float64; y ``(N,)``, or None without labels.

    Example:
        >>> import pathlib, tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.csv"
        >>> _ = p.write_text("1,2\\n3,4\\n")
        >>> load_data(p, n_features=2)
        (array([[1., 2.],
               [3., 4.]]), None)
    """
    if Path(path).suffix.lower() == ".npz":
        return load_npz(path, n_features=n_features)
    return load_csv(path, label_column=label_column, n_features=n_features)
