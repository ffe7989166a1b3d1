r"""The oracle's inputs: validated for the oracle itself, then padded to bucketed shapes.

The oracle validates its own arguments (JAX clamps or fills out-of-range
gathers silently, and this package shares no code with the one it checks),
then pads them so that :func:`jax.jit` compiles few shapes: each size is
rounded up to a bucket (powers of two with a floor, :func:`bucket`) and the
padding is masked out *exactly* by the losses of :mod:`verification.oracle`:
padded samples are zero rows whose terms are replaced by 0 before the mean,
which divides by the true N; padded classes get score ``-inf``, whose
exponential is exactly 0, so they change neither the log-sum-exp nor its
gradient; padded features are zero columns of X and zero rows of W, which
add exact zeros to every score and to the penalty. Padded hidden units of the
network are zero columns of W1 with a zero bias, so Z = 0 there, relu(0) = 0,
and they meet zero rows of W2: they add exact zeros to every score and to the
penalty. Every problem with N <= 32, D <= 8, C <= 8 (and H <= 8) therefore
shares one compiled function.

This module needs NumPy only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["bucket", "check_two_layer_inputs", "pad_to"]

# Floors of the padded shapes. Below them every problem shares one compiled
# function; the property suite's problems (N <= 20, D <= 6, C <= 6) all do.
MIN_SAMPLES = 32
MIN_FEATURES = 8
MIN_CLASSES = 8
MIN_HIDDEN = 8
TWO_LAYER_KEYS = ("W1", "b1", "W2", "b2")


def bucket(n: int, minimum: int) -> int:
    r"""The padded size for a dimension of size ``n``: ``minimum`` or the next power of two.

    .. math::
        \operatorname{bucket}(n, m) =
        \begin{cases} m & n \le m \\ 2^{\lceil \log_2 n \rceil} & n > m \end{cases}

    ``n`` is one size of an input's shape: N of X ``(N, D)``, D, C or H.

    Example:
        >>> bucket(5, 8), bucket(8, 8), bucket(9, 8), bucket(1000, 32)
        (8, 8, 16, 1024)
    """
    if n <= minimum:
        return minimum
    return 1 << (n - 1).bit_length()


def pad_to(a: np.ndarray, shape: tuple[int, ...], fill: float = 0) -> np.ndarray:
    r"""``a`` copied into the top-left corner of a new array of ``shape``, the rest ``fill``.

    .. math::
        \text{out}_{i} = \begin{cases} a_{i} & i_k < a.\text{shape}_k
        \text{ for every axis } k \\ \text{fill} & \text{otherwise} \end{cases}

    ``shape`` has ``a``'s number of axes and is at least as large on each;
    the result has ``a``'s dtype.

    Example:
        >>> pad_to(np.array([1.0, 2.0]), (4,))
        array([1., 2., 0., 0.])
    """
    out = np.full(shape, fill, dtype=a.dtype)
    out[tuple(slice(0, s) for s in a.shape)] = a
    return out


def _float_array(name: str, value: Any, ndim: int) -> np.ndarray:
    a = np.asarray(value)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got dtype {a.dtype}")
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s); got shape {a.shape}")
    return a


def _labels(y: Any, n: int, c: int) -> np.ndarray:
    # The oracle checks its own inputs (it shares no code with softmax_ref).
    labels = np.asarray(y)
    if labels.dtype.kind not in "iu" or labels.shape != (n,):
        raise ValueError(
            f"y must be ({n},) integer labels in [0, {c}); "
            f"got shape {labels.shape} and dtype {labels.dtype}"
        )
    if labels.min() < 0 or labels.max() >= c:
        raise ValueError(
            f"y must hold labels in [0, {c}); got values from {labels.min()} to {labels.max()}"
        )
    return labels


def check_softmax_inputs(
    W: Any, b: Any, X: Any, y: Any, reg: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Validate a softmax problem for the oracle; return ``(W, b, X, y, reg)``, arrays uncopied.

    The oracle validates for itself: JAX clamps or fills out-of-range gathers
    silently, and this package shares no code with the one it checks.
    Messages name the argument, what it got and what was expected.

    Example:
        >>> check_softmax_inputs(np.zeros((2, 3)), np.zeros(3), np.zeros((4, 2)), [0, 1, 2, 3], 0.0)
        Traceback (most recent call last):
        ...
        ValueError: y must hold labels in [0, 3); got values from 0 to 3
    """
    X = _float_array("X", X, 2)
    W = _float_array("W", W, 2)
    b = _float_array("b", b, 1)
    n, d = X.shape
    if n == 0 or d == 0:
        raise ValueError(f"X must have N >= 1 rows and D >= 1 columns; got shape {X.shape}")
    if W.shape[0] != d or W.shape[1] < 1:
        raise ValueError(f"W must have shape (D, C) with D = {d} and C >= 1; got shape {W.shape}")
    c = W.shape[1]
    if b.shape != (c,):
        raise ValueError(f"b must have shape ({c},) to match W; got shape {b.shape}")
    labels = _labels(y, n, c)
    for name, a in (("W", W), ("b", b), ("X", X)):
        if not np.all(np.isfinite(a)):
            raise ValueError(
                f"{name} must be finite; got a NaN or inf in {name} of shape {a.shape}"
            )
    if isinstance(reg, bool) or not isinstance(reg, (int, float, np.integer, np.floating)):
        raise TypeError(f"reg must be a real number >= 0; got {reg!r}")
    reg_value = float(reg)
    if not (np.isfinite(reg_value) and reg_value >= 0):
        raise ValueError(f"reg must be a finite number >= 0; got {reg!r}")
    return W, b, X, labels, reg_value


def _softmax_data(
    X: np.ndarray, y: np.ndarray, reg: float, dtype: np.dtype, c: int
) -> tuple[dict[str, np.ndarray], tuple[int, int, int]]:
    n, d = X.shape
    shape = (bucket(n, MIN_SAMPLES), bucket(d, MIN_FEATURES), bucket(c, MIN_CLASSES))
    data = {
        "X": pad_to(X.astype(dtype), shape[:2]),
        "y": pad_to(y.astype(np.int32), shape[:1]),
        "row_mask": np.arange(shape[0]) < n,
        "class_mask": np.arange(shape[2]) < c,
        "n": np.asarray(n, dtype=dtype),
        "reg": np.asarray(reg, dtype=dtype),
    }
    return data, shape


def check_two_layer_inputs(
    params: Any, X: Any, y: Any, reg: Any, *, lead: int = 0
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, float]:
    """Validate a two-layer problem for the oracle; return ``(params, X, y, reg)``.

    ``params`` is a dict with ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2``
    (C,), each with ``lead`` extra leading axes (1 for a batch of parameter
    sets). Messages name the argument, what it got and what was expected.

    Example:
        >>> p = {"W1": np.zeros((2, 3)), "b1": np.zeros(3), "W2": np.zeros((4, 2)),
        ...      "b2": np.zeros(2)}
        >>> check_two_layer_inputs(p, np.zeros((1, 2)), [0], 0.0)
        Traceback (most recent call last):
        ...
        ValueError: W2 must have shape (H, C) with H = 3 and C >= 1; got shape (4, 2)
    """
    if not isinstance(params, Mapping) or set(params) != set(TWO_LAYER_KEYS):
        got = sorted(params) if isinstance(params, Mapping) else type(params).__name__
        raise ValueError(f"params must be a dict with keys {list(TWO_LAYER_KEYS)}; got {got}")
    W1 = _float_array("W1", params["W1"], 2 + lead)
    b1 = _float_array("b1", params["b1"], 1 + lead)
    W2 = _float_array("W2", params["W2"], 2 + lead)
    b2 = _float_array("b2", params["b2"], 1 + lead)
    X = _float_array("X", X, 2)
    n, d = X.shape
    if n == 0 or d == 0:
        raise ValueError(f"X must have N >= 1 rows and D >= 1 columns; got shape {X.shape}")
    k = W1.shape[:lead]
    if W1.shape[lead] != d or W1.shape[lead + 1] < 1:
        raise ValueError(f"W1 must have shape (D, H) with D = {d} and H >= 1; got shape {W1.shape}")
    h = W1.shape[lead + 1]
    if W2.shape[lead] != h or W2.shape[lead + 1] < 1:
        raise ValueError(f"W2 must have shape (H, C) with H = {h} and C >= 1; got shape {W2.shape}")
    c = W2.shape[lead + 1]
    for name, a, want in (("b1", b1, (*k, h)), ("b2", b2, (*k, c)), ("W2", W2, (*k, h, c))):
        if a.shape != want:
            raise ValueError(f"{name} must have shape {want}; got shape {a.shape}")
    labels = _labels(y, n, c)
    arrays = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    for name, a in (*arrays.items(), ("X", X)):
        if not np.all(np.isfinite(a)):
            raise ValueError(
                f"{name} must be finite; got a NaN or inf in {name} of shape {a.shape}"
            )
    if isinstance(reg, bool) or not isinstance(reg, (int, float, np.integer, np.floating)):
        raise TypeError(f"reg must be a real number >= 0; got {reg!r}")
    reg_value = float(reg)
    if not (np.isfinite(reg_value) and reg_value >= 0):
        raise ValueError(f"reg must be a finite number >= 0; got {reg!r}")
    return arrays, X, labels, reg_value


def _two_layer_padded(
    params: Mapping[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    reg: float,
    dt: np.dtype,
    lead: int,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], tuple[int, int, int, int]]:
    k = params["W1"].shape[:lead]
    h, c = params["W2"].shape[lead:]
    data, (n_pad, dp, cp) = _softmax_data(X, y, reg, dt, c)
    hp = bucket(h, MIN_HIDDEN)
    padded = {
        "W1": pad_to(params["W1"].astype(dt), (*k, dp, hp)),
        "b1": pad_to(params["b1"].astype(dt), (*k, hp)),
        "W2": pad_to(params["W2"].astype(dt), (*k, hp, cp)),
        "b2": pad_to(params["b2"].astype(dt), (*k, cp)),
    }
    return padded, data, (n_pad, dp, hp, cp)
