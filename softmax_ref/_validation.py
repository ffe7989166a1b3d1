"""Input validation shared by every entry point of the analytic core.

One place decides what a valid problem is, so that ``loss``, ``loss_and_grad``,
``loss_and_grad_naive``, the two-layer network and the classifiers all reject
the same inputs with the same messages. Every message names the argument, what
it got and what it expected.

Finiteness is deliberately *not* checked here: scanning X for NaN would cost a
second pass over the largest array. Callers compute first and call
:func:`raise_if_nonfinite` when the result is not finite; only then do we pay
for finding out which input was to blame.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = [
    "as_float_array",
    "as_generator",
    "check_bool",
    "check_finite",
    "check_int",
    "check_labels",
    "check_number",
    "check_problem",
    "check_random_state",
    "check_reg",
    "check_two_layer_problem",
    "raise_if_nonfinite",
    "result_dtype",
]


def _describe(a: np.ndarray) -> str:
    return f"an array of shape {a.shape} and dtype {a.dtype}"


def as_float_array(name: str, value: Any, ndim: int) -> np.ndarray:
    """Return ``value`` as a real floating array of ``ndim`` dimensions.

    float32 and float64 pass through without a copy; integers and booleans are
    cast to float64; anything else (complex, strings, objects) is a TypeError.
    """
    try:
        a = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(
            f"{name} must be a numeric array of {ndim} dimensions; "
            f"could not convert {type(value).__name__}: {exc}"
        ) from exc
    if a.dtype.kind in "biu":
        a = a.astype(np.float64)
    elif a.dtype.kind == "f":
        if a.dtype not in (np.float32, np.float64):
            a = a.astype(np.float64)
    else:
        raise TypeError(
            f"{name} must hold real numbers (float64, float32 or integers); got dtype {a.dtype}"
        )
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s); got {_describe(a)}")
    return a


def result_dtype(*arrays: np.ndarray) -> np.dtype:
    """float32 only when every float input is float32; float64 otherwise."""
    if all(a.dtype == np.float32 for a in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def check_reg(reg: Any) -> float:
    """``reg`` must be a finite real number >= 0."""
    if isinstance(reg, bool) or not isinstance(reg, numbers.Real):
        raise TypeError(f"reg must be a real number >= 0; got {reg!r} of type {type(reg).__name__}")
    value = float(reg)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"reg must be a finite number >= 0; got {reg!r}")
    return value


def check_number(
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    low_open: bool = False,
    high: float = math.inf,
    high_open: bool = True,
) -> float:
    """``value`` must be a finite real number in the interval from ``low`` to ``high``.

    ``low_open`` / ``high_open`` exclude the end point. Bools are not numbers
    here (``True`` as a learning rate is a mistake, not 1.0).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number; got {value!r} of type {type(value).__name__}"
        )
    v = float(value)
    lo_ok = v > low if low_open else v >= low
    hi_ok = v < high if high_open else v <= high
    if math.isfinite(v) and lo_ok and hi_ok:
        return v
    if math.isinf(high):
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        raise ValueError(f"{name} must be a finite number {bound}; got {value!r}")
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    raise ValueError(f"{name} must be in {lo}{low:g}, {high:g}{hi}; got {value!r}")


def check_int(name: str, value: Any, low: int) -> int:
    """``value`` must be an integer (not a bool) ``>= low``; returns a Python int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an integer >= {low}; got {value!r} of type {type(value).__name__}"
        )
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")
    return int(value)


def check_bool(name: str, value: Any) -> bool:
    """``value`` must be True or False (a NumPy bool too)."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def check_random_state(random_state: Any, name: str = "random_state") -> None:
    """``random_state`` must be None, an int (not a bool), a Generator or a RandomState."""
    if isinstance(random_state, bool) or not (
        random_state is None
        or isinstance(random_state, numbers.Integral | np.random.Generator | np.random.RandomState)
    ):
        raise TypeError(
            f"{name} must be None, an int, a numpy Generator or RandomState; got {random_state!r}"
        )


def as_generator(random_state: Any, name: str = "random_state") -> np.random.Generator:
    """The generator behind ``random_state``.

    None: fresh OS entropy; an int: that seed; a Generator: itself; a
    RandomState: seeded by one draw from it (scikit-learn's way of consuming one).
    """
    check_random_state(random_state, name)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(np.iinfo(np.int32).max)))
    return np.random.default_rng(None if random_state is None else int(random_state))


def check_labels(
    y: Any, n_samples: int, n_classes: int, *, name: str = "y", rows_of: str = "X"
) -> np.ndarray:
    """``y`` must be (N,) integers in [0, C); returns it as an intp array.

    ``name`` and ``rows_of`` name the labels and the samples they belong to in
    the messages (``y_val`` and ``X_val`` for validation data).
    """
    try:
        labels = np.asarray(y)
    except Exception as exc:
        raise TypeError(
            f"{name} must be an array of integer class labels; could not convert: {exc}"
        ) from exc
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must hold integer class labels in [0, {n_classes}); got dtype {labels.dtype}"
        )
    if labels.ndim != 1:
        raise ValueError(f"{name} must have 1 dimension (N,); got {_describe(labels)}")
    if labels.shape[0] != n_samples:
        raise ValueError(
            f"{name} must have one label per row of {rows_of}, shape ({n_samples},); "
            f"got shape {labels.shape}"
        )
    low, high = labels.min(), labels.max()
    if low < 0 or high >= n_classes:
        bad = int(np.flatnonzero((labels < 0) | (labels >= n_classes))[0])
        raise ValueError(
            f"{name} must hold labels in [0, {n_classes}) for C = {n_classes} classes; "
            f"got {name}[{bad}] = {labels[bad]}"
        )
    return labels.astype(np.intp, copy=False)


def _checked_fast(
    W: Any, b: Any, X: Any, y: Any, reg: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float] | None:
    # check_problem's result for plain arrays of one float dtype that pass every
    # check, else None (the full checks then run and name what is wrong).
    if not (type(X) is type(W) is type(b) is type(y) is np.ndarray):
        return None
    dtype = X.dtype
    if dtype.char not in "fd" or W.dtype != dtype or b.dtype != dtype or y.dtype.kind not in "iu":
        return None
    if X.ndim != 2 or W.ndim != 2 or b.ndim != 1 or y.ndim != 1:
        return None
    (n, d), c = X.shape, W.shape[1]
    if not (n and d and c) or W.shape[0] != d or b.shape[0] != c or y.shape[0] != n:
        return None
    if type(reg) not in (float, int) or not 0 <= reg < np.inf:
        return None
    # One pass over y for both bounds: viewed as unsigned, a negative label is huge.
    if int(y.view(f"u{y.dtype.itemsize}").max()) >= c:
        return None
    if not (np.isfinite(W).all() and np.isfinite(b).all()):
        return None
    return W, b, X, y.astype(np.intp, copy=False), float(reg)


def check_problem(
    W: Any, b: Any, X: Any, y: Any, reg: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Validate a linear softmax problem; return ``(W, b, X, y, reg)`` in one dtype.

    Shapes: X (N, D), W (D, C), b (C,), y (N,) integers in [0, C), reg >= 0.
    N, D and C must be at least 1. The returned float arrays share a dtype
    (float32 only if X, W and b all are); inputs are never written to.

    Cost: one pass over y and one over W and b, plus a fixed number of Python
    operations whatever the sizes; inputs that are already arrays of one float
    dtype (the common case, and every call of a training loop) take a shorter
    route with the same outcome, and anything else goes through the full checks,
    which also write the error messages.
    """
    checked = _checked_fast(W, b, X, y, reg)
    if checked is not None:
        return checked
    X = as_float_array("X", X, 2)
    W = as_float_array("W", W, 2)
    b = as_float_array("b", b, 1)
    n_samples, n_features = X.shape
    if n_samples == 0:
        raise ValueError(f"X must hold at least one sample (N >= 1); got {_describe(X)}")
    if n_features == 0:
        raise ValueError(f"X must hold at least one feature (D >= 1); got {_describe(X)}")
    if W.shape[0] != n_features:
        raise ValueError(
            f"W must have shape (D, C) with D = {n_features} rows to match X's columns; "
            f"got {_describe(W)}"
        )
    n_classes = W.shape[1]
    if n_classes == 0:
        raise ValueError(f"W must have at least one class column (C >= 1); got {_describe(W)}")
    if b.shape != (n_classes,):
        raise ValueError(
            f"b must have shape (C,) = ({n_classes},) to match W's columns; got {_describe(b)}"
        )
    labels = check_labels(y, n_samples, n_classes)
    reg_value = check_reg(reg)
    # O(D C), not a pass over X: X's finiteness is read off the result instead.
    check_finite(W=W, b=b)
    dtype = result_dtype(X, W, b)
    return (
        W.astype(dtype, copy=False),
        b.astype(dtype, copy=False),
        X.astype(dtype, copy=False),
        labels,
        reg_value,
    )


def check_finite(**arrays: np.ndarray) -> None:
    """Raise ValueError for the first argument holding NaN or inf, naming the entry.

    Used up front only for the parameters, whose size does not grow with N; a
    non-finite entry there need not reach the loss (a bias of -inf for a class
    no sample has leaves the loss finite), so the result cannot tell.
    """
    for name, a in arrays.items():
        if not np.isfinite(a).all():
            bad = np.argwhere(~np.isfinite(a))[0]
            where = ", ".join(str(int(i)) for i in bad)
            raise ValueError(
                f"{name} must be finite; got {a[tuple(bad)]} at {name}[{where}] "
                f"(an array of shape {a.shape})"
            )


def raise_if_nonfinite(**arrays: np.ndarray) -> None:
    """Raise for the first argument holding NaN or inf; called only on the error path.

    When the inputs are all finite but the result is not, the scores X W + b
    overflowed the dtype; that is reported too, since the caller found a
    non-finite result.
    """
    check_finite(**arrays)
    names = ", ".join(arrays)
    raise ValueError(
        f"the loss or gradient overflowed although {names} are finite: the scores X W + b "
        "exceed the range of the dtype; rescale X or W"
    )


# --- the one-hidden-layer network (softmax_ref.two_layer) ---------------------

TWO_LAYER_KEYS = ("W1", "b1", "W2", "b2")


def check_two_layer_problem(
    params: Any, X: Any, y: Any = None, reg: Any = 0.0
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray | None, float]:
    """Validate a two-layer problem; return ``(params, X, y, reg)`` in one dtype.

    Shapes: X (N, D), params W1 (D, H), b1 (H,), W2 (H, C), b2 (C,), y (N,)
    integers in [0, C), reg >= 0; N, D, H and C at least 1. ``y=None`` checks
    only the parameters and X (for prediction) and returns ``None`` for y.
    The same checks, messages and dtype rule as :func:`check_problem`; the
    returned ``params`` is a new dict, the caller's is never written to.
    """
    if not isinstance(params, Mapping):
        raise TypeError(
            f"params must be a dict with keys {', '.join(TWO_LAYER_KEYS)}; "
            f"got {type(params).__name__}"
        )
    missing = [k for k in TWO_LAYER_KEYS if k not in params]
    extra = sorted(str(k) for k in params if k not in TWO_LAYER_KEYS)
    if missing or extra:
        raise ValueError(
            f"params must have exactly the keys {', '.join(TWO_LAYER_KEYS)}; "
            f"missing {missing}, unexpected {extra}"
        )
    X = as_float_array("X", X, 2)
    W1 = as_float_array("W1", params["W1"], 2)
    b1 = as_float_array("b1", params["b1"], 1)
    W2 = as_float_array("W2", params["W2"], 2)
    b2 = as_float_array("b2", params["b2"], 1)
    n_samples, n_features = X.shape
    if n_samples == 0:
        raise ValueError(f"X must hold at least one sample (N >= 1); got {_describe(X)}")
    if n_features == 0:
        raise ValueError(f"X must hold at least one feature (D >= 1); got {_describe(X)}")
    if W1.shape[0] != n_features:
        raise ValueError(
            f"W1 must have shape (D, H) with D = {n_features} rows to match X's columns; "
            f"got {_describe(W1)}"
        )
    n_hidden = W1.shape[1]
    if n_hidden == 0:
        raise ValueError(
            f"W1 must have at least one hidden unit column (H >= 1); got {_describe(W1)}"
        )
    if b1.shape != (n_hidden,):
        raise ValueError(
            f"b1 must have shape (H,) = ({n_hidden},) to match W1's columns; got {_describe(b1)}"
        )
    if W2.shape[0] != n_hidden:
        raise ValueError(
            f"W2 must have shape (H, C) with H = {n_hidden} rows to match W1's columns; "
            f"got {_describe(W2)}"
        )
    n_classes = W2.shape[1]
    if n_classes == 0:
        raise ValueError(f"W2 must have at least one class column (C >= 1); got {_describe(W2)}")
    if b2.shape != (n_classes,):
        raise ValueError(
            f"b2 must have shape (C,) = ({n_classes},) to match W2's columns; got {_describe(b2)}"
        )
    labels = None if y is None else check_labels(y, n_samples, n_classes)
    reg_value = check_reg(reg)
    dtype = result_dtype(X, W1, b1, W2, b2)
    checked = {
        k: a.astype(dtype, copy=False)
        for k, a in zip(TWO_LAYER_KEYS, (W1, b1, W2, b2), strict=True)
    }
    return checked, X.astype(dtype, copy=False), labels, reg_value
