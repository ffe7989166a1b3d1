"""Models as ``.npz`` files, written and read without pickle.

One file holds: the parameter arrays (``param:<name>``), ``classes`` (strings
as a unicode array, never objects), ``n_features_in``, optional
``feature_names_in``, the hyperparameters and fit summary as JSON text, the
estimator's class name, a format tag and a format version. The estimators'
``save`` and ``load`` (:mod:`softmax_ref._estimator`) are the only callers;
this module needs NumPy alone and knows a model only by its fitted attributes,
``get_params`` and ``_init_params``.
"""

from __future__ import annotations

import json
import numbers
import os
import uuid
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from softmax_ref._types import Params

__all__ = ["FORMAT_TAG", "FORMAT_VERSION", "ModelFileError", "load_model", "save_model"]

FORMAT_TAG = "softmax-ref-model"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A file given to ``load`` is not a model this package wrote, or is damaged.

    The message starts with the file's path and says what is wrong.

    Example:
        >>> import os, tempfile
        >>> from softmax_ref import SoftmaxClassifier
        >>> path = os.path.join(tempfile.mkdtemp(), "notes.npz")
        >>> with open(path, "wb") as f:
        ...     _ = f.write(b"not a model")
        >>> try:
        ...     SoftmaxClassifier.load(path)
        ... except ModelFileError as e:
        ...     print(str(e).startswith(path), "not a readable .npz" in str(e))
        True True
    """


def _jsonable(name: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise ValueError(
        f"cannot save hyperparameter {name}={value!r}: only None, bools, numbers and strings "
        "are stored (set it to an int or None before saving)"
    )


def _classes_array(classes: np.ndarray) -> tuple[np.ndarray, str]:
    """classes_ as a pickle-free array, and the dtype kind to restore ('object' for str objects)."""
    if classes.dtype != object:
        return classes, str(classes.dtype)
    items = classes.tolist()
    if all(isinstance(c, str) for c in items):
        return np.array(items, dtype=str), "object"
    as_array = np.array(items)
    if as_array.dtype == object:
        raise ValueError(f"cannot save classes_ of mixed or non-array types: {items[:5]!r}")
    return as_array, "object"


def _model_arrays(model: Any) -> dict[str, np.ndarray]:
    from softmax_ref import __version__

    hyper = {k: _jsonable(k, v) for k, v in model.get_params(deep=False).items()}
    classes, classes_dtype = _classes_array(np.asarray(model.classes_))
    fit_info = {
        "n_iter_": int(model.n_iter_),
        "loss_curve_": [float(v) for v in model.loss_curve_],
    }
    for name in ("validation_scores_", "best_validation_score_", "best_iteration_"):
        if hasattr(model, name):
            fit_info[name] = getattr(model, name)
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT_TAG),
        "format_version": np.array(FORMAT_VERSION),
        "estimator": np.array(type(model).__name__),
        "package_version": np.array(__version__),
        "hyperparameters": np.array(json.dumps(hyper, sort_keys=True)),
        "fit_info": np.array(json.dumps(fit_info)),
        "classes": classes,
        "classes_dtype": np.array(classes_dtype),
        "n_features_in": np.array(int(model.n_features_in_)),
        "param_names": np.array(list(model.params_), dtype=str),
    }
    if hasattr(model, "feature_names_in_"):
        arrays["feature_names_in"] = np.asarray(model.feature_names_in_).astype(str)
    for key, value in model.params_.items():
        arrays[f"param:{key}"] = np.asarray(value)
    return arrays


def save_model(model: Any, path: str | os.PathLike[str]) -> Path:
    """Write the fitted ``model`` to ``path`` atomically; returns the path written."""
    arrays = _model_arrays(model)
    path = Path(path)
    # Write a new file next to the target and rename it over, so that a failure never
    # leaves half a model (and the file gets the usual permissions, unlike mkstemp's).
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "xb") as f:
            # allow_pickle=False: an object array would fail here, not at load time.
            np.savez(f, allow_pickle=False, **arrays)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def load_model(cls: Any, path: Path) -> Any:
    def fail(what: str) -> ModelFileError:
        return ModelFileError(f"{path}: {what}")

    if not path.exists():
        raise FileNotFoundError(f"{path}: no such model file")
    # Our own handle, so that it is closed even when np.load gives up half-way.
    with open(path, "rb") as handle:
        try:
            archive = np.load(handle, allow_pickle=False)
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise fail(f"not a readable .npz model file ({exc})") from exc
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise fail(f"holds a single array, not an .npz model written by {cls.__name__}.save")
        with archive:
            try:
                entries = {name: archive[name] for name in archive.files}
            except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
                raise fail(f"damaged or holds pickled objects ({exc})") from exc
    return _model_from_entries(cls, entries, fail)


def _text(entries: dict[str, np.ndarray], name: str, fail: Any) -> str:
    value = entries[name]
    if value.shape != () or value.dtype.kind != "U":
        raise fail(
            f"entry {name!r} must be a text scalar; got dtype {value.dtype}, shape {value.shape}"
        )
    return str(value)


def _model_from_entries(cls: Any, entries: dict[str, np.ndarray], fail: Any):
    if "format" not in entries or str(entries["format"]) != FORMAT_TAG:
        raise fail(f"not a softmax-ref model file (no format tag {FORMAT_TAG!r})")
    required = [
        "format_version",
        "estimator",
        "hyperparameters",
        "fit_info",
        "classes",
        "classes_dtype",
        "n_features_in",
        "param_names",
    ]
    missing = [name for name in required if name not in entries]
    if missing:
        raise fail(f"missing entries {missing}")
    version = entries["format_version"]
    if version.shape != () or version.dtype.kind not in "iu":
        raise fail(f"format_version must be an integer scalar; got {version!r}")
    if int(version) > FORMAT_VERSION:
        raise fail(
            f"written in format version {int(version)}; this softmax-ref reads up to "
            f"{FORMAT_VERSION} (upgrade softmax-ref)"
        )
    estimator = _text(entries, "estimator", fail)
    if estimator != cls.__name__:
        raise fail(f"holds a {estimator}, not a {cls.__name__}; load it with {estimator}.load")
    try:
        hyper = json.loads(_text(entries, "hyperparameters", fail))
        fit_info = json.loads(_text(entries, "fit_info", fail))
    except json.JSONDecodeError as exc:
        raise fail(f"hyperparameters or fit_info are not valid JSON ({exc})") from exc
    if not isinstance(hyper, dict) or not isinstance(fit_info, dict):
        raise fail("hyperparameters and fit_info must be JSON objects")
    try:
        model = cls(**hyper)
    except TypeError as exc:
        raise fail(f"hyperparameters do not fit {cls.__name__} ({exc})") from exc

    n_features = entries["n_features_in"]
    if n_features.shape != () or n_features.dtype.kind not in "iu" or int(n_features) < 1:
        raise fail(f"n_features_in must be a positive integer; got {n_features!r}")
    classes = entries["classes"]
    if classes.ndim != 1 or classes.shape[0] < 2:
        raise fail(f"classes must be a 1-d array of at least 2 labels; got shape {classes.shape}")
    if np.unique(classes).shape[0] != classes.shape[0]:
        raise fail("classes holds repeated labels")
    classes_dtype = _text(entries, "classes_dtype", fail)
    if classes_dtype == "object":
        classes = classes.astype(object)

    names = entries["param_names"]
    if names.ndim != 1 or names.dtype.kind != "U":
        raise fail("param_names must be a 1-d text array")
    expected = model._init_params(int(n_features), classes.shape[0], np.random.default_rng(0))
    if sorted(names.tolist()) != sorted(expected):
        raise fail(f"parameters {names.tolist()} do not match {cls.__name__}'s {list(expected)}")
    params: Params = {}
    for key in names.tolist():
        entry = f"param:{key}"
        if entry not in entries:
            raise fail(f"missing parameter array {entry!r}")
        value = entries[entry]
        if value.dtype.kind != "f" or value.shape != expected[key].shape:
            raise fail(
                f"parameter {key!r} must be a float array of shape {expected[key].shape}; "
                f"got dtype {value.dtype}, shape {value.shape}"
            )
        if not np.all(np.isfinite(value)):
            raise fail(f"parameter {key!r} holds NaN or inf")
        params[key] = value.astype(np.float64)

    fitted: dict[str, Any] = {
        "classes_": classes,
        "n_features_in_": int(n_features),
        "params_": params,
        "n_iter_": int(fit_info.get("n_iter_", 0)),
        "loss_curve_": list(fit_info.get("loss_curve_", [])),
    }
    for name in ("validation_scores_", "best_validation_score_", "best_iteration_"):
        if name in fit_info:
            fitted[name] = fit_info[name]
    if "feature_names_in" in entries:
        names_in = entries["feature_names_in"]
        if names_in.shape != (int(n_features),):
            raise fail(f"feature_names_in must have {int(n_features)} names; got {names_in.shape}")
        fitted["feature_names_in_"] = names_in.astype(object)
    model.__dict__.update(fitted)
    return model
