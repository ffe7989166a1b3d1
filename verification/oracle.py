r"""The oracle: each model's loss restated from the math in ``jax.numpy``, differentiated by JAX.

The softmax loss below is written from the formula of docs/derivation.md
(its summary, "The result"), not from the NumPy code it checks::

    F = X W + b                                                  (N, C)
    L = mean_n [ logsumexp(F_n) - F_{n, y_n} ] + 0.5 reg sum(W**2)

and its gradient is whatever :func:`jax.value_and_grad` makes of it. The
oracle is the reference *definition* of the loss in the three-way check:
finite differences differentiate this forward (see ``docs/verification.md``).

**Precision.** 64-bit floats are enabled here, once, before any JAX array
exists; this is the only place in the project that touches the flag. Every
function computes in float64 unless ``dtype=np.float32`` is asked for.

**Compilation.** :func:`jax.jit` compiles once per input *shape*, and a
compile costs as much as thousands of calls (``scripts/oracle_timing.py``
measures it; docs/verification.md quotes a run: 2.3 s against 0.7 ms on a
loaded 2-core machine), and un-jitted JAX costs ~150 ms per call. A property suite
draws hundreds of problems of different shapes, so the inputs are padded to
bucketed shapes (powers of two with a floor, :func:`bucket`) and the padding
is masked out *exactly*: padded samples are zero rows whose terms are
replaced by 0 before the mean, which divides by the true N; padded classes
get score ``-inf``, whose exponential is exactly 0, so they change neither
the log-sum-exp nor its gradient; padded features are zero columns of X and
zero rows of W, which add exact zeros to every score and to the penalty.
Every problem with N <= 32, D <= 8 and C <= 8 therefore shares one compiled
function.

**Names.** ``<model>_loss_fn(params, data)`` is a model's loss written in
``jax.numpy`` (:func:`softmax_loss_fn`, :func:`two_layer_loss_fn`); the
functions of NumPy arrays around it are :func:`loss`, :func:`loss_and_grad`
and :func:`loss_batch` for the linear softmax model and ``two_layer_loss``,
``two_layer_loss_and_grad`` and ``two_layer_loss_batch`` for the network.
``softmax_loss`` is another name of :func:`softmax_loss_fn`.

**Adding a model.** A model is a pure loss ``<model>_loss_fn(params, data) -> scalar``
over dicts of padded arrays, wrapped in a :class:`JaxLoss` (which jit-compiles
its value-and-gradient and a batched forward for finite differences), plus a
small public wrapper that validates and pads the user's arrays and slices the
gradient back. The two-layer network adds exactly these three pieces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax

# Before any array is made: JAX fixes an array's precision when it is created.
jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402  (must follow the x64 flag)
import numpy as np  # noqa: E402

__all__ = [
    "JaxLoss",
    "bucket",
    "check_two_layer_inputs",
    "loss",
    "loss_and_grad",
    "loss_batch",
    "pad_to",
    "relu",
    "softmax_loss",
    "softmax_loss_fn",
    "two_layer_loss",
    "two_layer_loss_and_grad",
    "two_layer_loss_batch",
    "two_layer_loss_fn",
]

# Floors of the padded shapes. Below them every problem shares one compiled
# function; the property suite's problems (N <= 20, D <= 6, C <= 6) all do.
MIN_SAMPLES = 32
MIN_FEATURES = 8
MIN_CLASSES = 8

# Largest number of padded score entries (batch x N x C) one batched forward
# holds; it bounds memory at ~16 MB of float64 however large N is. 256 points
# hold a whole full-mode stencil (1 + 6 * 42 = 253) of the largest problem the
# property suite draws (D = C = 6), so one check costs two compiled calls.
MAX_BATCH_ENTRIES = 2**21
MAX_BATCH = 256


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


class JaxLoss:
    r"""A scalar loss ``loss_fn(params, data)``, jit-compiled twice: value-and-gradient, batched.

    ``params`` and ``data`` are dicts of arrays; the gradient is taken with
    respect to ``params`` only. :meth:`batch` evaluates the loss at ``K`` sets
    of parameters (each array with a leading axis of length K) in chunks of a
    fixed size, so that K does not cause a compile either. With :math:`\ell`
    the loss, :math:`p` the parameters and :math:`d` the data:

    .. math::
        \texttt{value\_and\_grad}(p, d) = \big(\ell(p, d),\ \nabla_p \ell(p, d)\big),
        \qquad
        \texttt{batch}(p, d)_k = \ell(p_k, d), \quad k = 1, \dots, K,

    each gradient with its parameter's shape, and ``batch`` returning ``(K,)``.

    Example:
        >>> sq = JaxLoss(lambda p, d: jnp.sum((p["w"] - d["t"]) ** 2))
        >>> value, grads = sq.value_and_grad({"w": np.array([1.0, 2.0])}, {"t": np.zeros(2)})
        >>> value, grads["w"]
        (5.0, array([2., 4.]))
        >>> sq.batch({"w": np.array([[1.0, 0.0], [0.0, 3.0]])}, {"t": np.zeros(2)}, chunk=4)
        array([1., 9.])
    """

    def __init__(self, loss_fn: Callable[[Mapping[str, Any], Mapping[str, Any]], Any]) -> None:
        self.loss_fn = loss_fn
        self._value_and_grad = jax.jit(jax.value_and_grad(loss_fn))
        self._batch = jax.jit(jax.vmap(loss_fn, in_axes=(0, None)))

    def value_and_grad(
        self, params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray]
    ) -> tuple[float, dict[str, np.ndarray]]:
        """The loss and its gradient with respect to every array of ``params``, as NumPy.

        Returns:
            ``(value, grads)``: a Python float and a dict keyed like ``params``,
            each gradient a NumPy array of its parameter's shape.

        Example:
            >>> sq = JaxLoss(lambda p, d: jnp.sum((p["w"] - d["t"]) ** 2))
            >>> value, grads = sq.value_and_grad({"w": np.array([[1.0, 2.0]])},
            ...                                  {"t": np.array([[1.0, 0.0]])})
            >>> value, grads["w"]   # d/dw (w - t)^2 = 2 (w - t)
            (4.0, array([[0., 4.]]))
        """
        value, grads = self._value_and_grad(dict(params), dict(data))
        return float(value), {k: np.asarray(v) for k, v in grads.items()}

    def batch(
        self, params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], *, chunk: int
    ) -> np.ndarray:
        """The loss at each of K parameter sets (leading axis K), in chunks of ``chunk``.

        The last chunk is padded with copies of the first parameter set, so
        every call has the same shape and reuses one compiled function.

        Args:
            params: name -> array of shape ``(K, ...)``, the parameter's shape
                after the leading axis.
            data: name -> array, the same for every parameter set.
            chunk: parameter sets per compiled call.

        Returns:
            The K losses, ``(K,)`` float64.

        Example:
            Three parameter sets in chunks of two (the second chunk padded):

            >>> sq = JaxLoss(lambda p, d: jnp.sum((p["w"] - d["t"]) ** 2))
            >>> sq.batch({"w": np.array([[1.0], [2.0], [3.0]])}, {"t": np.zeros(1)}, chunk=2)
            array([1., 4., 9.])
        """
        k = next(iter(params.values())).shape[0]
        out = np.empty(k)
        for start in range(0, k, chunk):
            stop = min(start + chunk, k)
            piece = {}
            for name, a in params.items():
                part = a[start:stop]
                if stop - start < chunk:
                    filler = np.broadcast_to(a[:1], (chunk - (stop - start), *a.shape[1:]))
                    part = np.concatenate([part, filler])
                piece[name] = part
            out[start:stop] = np.asarray(self._batch(piece, dict(data)))[: stop - start]
        return out


# --- the softmax classifier ---------------------------------------------------


def softmax_loss_fn(params: Mapping[str, Any], data: Mapping[str, Any]) -> Any:
    r"""The softmax cross-entropy loss, on padded arrays with masks.

    .. math::
        L = \frac{1}{N}\sum_{n} \Big[\operatorname{logsumexp}_j F_{nj} - F_{n y_n}\Big]
            + \frac{\lambda}{2} \sum_{dc} W_{dc}^2, \qquad F = XW + b

    ``params``: ``W`` (D', C'), ``b`` (C',). ``data``: ``X`` (N', D'), ``y``
    (N',) int, ``row_mask`` (N',) and ``class_mask`` (C',) bool, ``n`` the true
    N and ``reg``, both 0-d arrays of the working dtype. Primes mark padded
    sizes; padded entries contribute exactly nothing (see the module's notes).

    Example:
        One real sample and one padded, two real classes and one padded: the
        loss is that of the real part, log 2, whatever the padded class's bias.

        >>> params = {"W": np.zeros((1, 3)), "b": np.array([0.0, 0.0, 5.0])}
        >>> data = {"X": np.zeros((2, 1)), "y": np.array([0, 0]),
        ...         "row_mask": np.array([True, False]),
        ...         "class_mask": np.array([True, True, False]),
        ...         "n": np.array(1.0), "reg": np.array(0.0)}
        >>> round(float(jax.jit(softmax_loss_fn)(params, data)), 12)   # jitted, as JaxLoss runs it
        0.69314718056
    """
    W, b = params["W"], params["b"]
    scores = data["X"] @ W + b
    scores = jnp.where(data["class_mask"], scores, -jnp.inf)
    lse = jax.nn.logsumexp(scores, axis=1)
    # The correct class's score, picked by label (the one-hot row times F).
    correct = jnp.take_along_axis(scores, data["y"][:, None], axis=1)[:, 0]
    per_sample = jnp.where(data["row_mask"], lse - correct, 0.0)
    return jnp.sum(per_sample) / data["n"] + 0.5 * data["reg"] * jnp.sum(W * W)


softmax_loss = softmax_loss_fn

_SOFTMAX = JaxLoss(softmax_loss_fn)


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


def loss_and_grad(
    W: Any, b: Any, X: Any, y: Any, reg: float = 0.0, *, dtype: Any = np.float64
) -> tuple[float, np.ndarray, np.ndarray]:
    r"""The softmax loss and its gradient with respect to W and b, by JAX autodiff.

    Args:
        W: weights, shape ``(D, C)``.
        b: biases, shape ``(C,)``.
        X: samples, shape ``(N, D)``.
        y: labels, shape ``(N,)``, integers in ``[0, C)``.
        reg: the L2 strength :math:`\lambda \ge 0` (on W only).
        dtype: the working precision, float64 (default) or float32. Inputs are
            cast to it; float32 inputs are exact in float64.

    Returns:
        ``(loss, dW, db)``: a Python float and NumPy arrays of shapes ``(D, C)``
        and ``(C,)`` in ``dtype``.

    Example:
        >>> L, dW, db = loss_and_grad(np.zeros((2, 2)), np.zeros(2), np.eye(2), np.array([0, 1]))
        >>> round(L, 12)   # log 2
        0.69314718056
        >>> dW
        array([[-0.25,  0.25],
               [ 0.25, -0.25]])
        >>> db
        array([0., 0.])
    """
    dt = np.dtype(dtype)
    W, b, X, y, reg = check_softmax_inputs(W, b, X, y, reg)
    d, c = W.shape
    data, (_, dp, cp) = _softmax_data(X, y, reg, dt, c)
    params = {"W": pad_to(W.astype(dt), (dp, cp)), "b": pad_to(b.astype(dt), (cp,))}
    value, grads = _SOFTMAX.value_and_grad(params, data)
    return value, grads["W"][:d, :c].copy(), grads["b"][:c].copy()


def loss(W: Any, b: Any, X: Any, y: Any, reg: float = 0.0, *, dtype: Any = np.float64) -> float:
    r"""The oracle's forward: the softmax loss alone (see :func:`loss_and_grad`).

    .. math::
        L = \frac{1}{N}\sum_{n} \Big[\operatorname{logsumexp}_j F_{nj} - F_{n y_n}\Big]
            + \frac{\lambda}{2} \sum_{dc} W_{dc}^2, \qquad F = XW + b

    for W ``(D, C)``, b ``(C,)``, X ``(N, D)`` and y ``(N,)``; it is
    :func:`loss_batch` at the one parameter set, so it is the very forward
    that finite differences differentiate.

    Example:
        >>> W = np.zeros((1, 3)); b = np.array([0.0, 800.0, -800.0])
        >>> loss(W, b, np.zeros((1, 1)), np.array([2]))
        1600.0
    """
    dt = np.dtype(dtype)
    W, b, X, y, reg = check_softmax_inputs(W, b, X, y, reg)
    Ws, bs = W[None], b[None]
    return float(loss_batch(Ws, bs, X, y, reg, dtype=dt)[0])


def loss_batch(
    Ws: Any, bs: Any, X: Any, y: Any, reg: float = 0.0, *, dtype: Any = np.float64
) -> np.ndarray:
    r"""The softmax loss at K parameter sets at once: ``Ws`` (K, D, C), ``bs`` (K, C) -> (K,).

    .. math::
        L_k = \frac{1}{N}\sum_{n} \Big[\operatorname{logsumexp}_j F^{(k)}_{nj}
            - F^{(k)}_{n y_n}\Big] + \frac{\lambda}{2} \lVert W_k\rVert_F^2,
        \qquad F^{(k)} = X W_k + b_k

    This is the forward that finite differences differentiate: one call
    evaluates every perturbed point of a stencil.

    Example:
        >>> Ws = np.zeros((2, 1, 2)); bs = np.array([[0.0, 0.0], [0.0, np.log(3.0)]])
        >>> loss_batch(Ws, bs, np.ones((1, 1)), np.array([1]))   # log 2, log(4/3)
        array([0.69314718, 0.28768207])
    """
    dt = np.dtype(dtype)
    Ws, bs = np.asarray(Ws), np.asarray(bs)
    if Ws.ndim != 3 or bs.ndim != 2 or bs.shape[0] != Ws.shape[0]:
        raise ValueError(
            f"Ws must have shape (K, D, C) and bs (K, C); got {Ws.shape} and {bs.shape}"
        )
    _, _, X, y, reg = check_softmax_inputs(Ws[0], bs[0], X, y, reg)
    k, _, c = Ws.shape
    data, (n_pad, dp, cp) = _softmax_data(X, y, reg, dt, c)
    chunk = max(1, min(MAX_BATCH, MAX_BATCH_ENTRIES // (n_pad * cp)))
    chunk = 1 << (chunk.bit_length() - 1)  # a power of two: few distinct shapes
    params = {
        "W": pad_to(Ws.astype(dt), (k, dp, cp)),
        "b": pad_to(bs.astype(dt), (k, cp)),
    }
    return _SOFTMAX.batch(params, data, chunk=chunk)


# --- the one-hidden-layer ReLU network ----------------------------------------------
#
# Restated from the math of docs/two_layer.md ("The model"), not from the NumPy code:
#
#     Z = X W1 + b1     H = relu(Z)     F = H W2 + b2
#     L = mean_n [ logsumexp(F_n) - F_{n, y_n} ] + 0.5 reg (||W1||^2 + ||W2||^2)
#
# Padding follows the softmax's rules, plus one for the hidden layer: padded hidden
# units are zero columns of W1 with a zero bias, so Z = 0 there, relu(0) = 0, and
# they meet zero rows of W2: they add exact zeros to every score and to the penalty.

MIN_HIDDEN = 8
TWO_LAYER_KEYS = ("W1", "b1", "W2", "b2")


def relu(z: Any) -> Any:
    r"""``max(z, 0)``, with the derivative at ``z = 0`` taken to be 0.

    .. math::
        \operatorname{relu}(z) = \max(z, 0), \qquad
        \operatorname{relu}'(z) = [z > 0]

    entrywise, for ``z`` of any shape (the result has that shape).

    ReLU has no derivative at 0; any value in [0, 1] is a subgradient. The
    network's math takes 0 (``H = Z`` where ``Z > 0``, else 0), and this
    states it that way: :func:`jnp.where` differentiates the branch it picks,
    so the derivative at 0 is the ``else`` branch's, 0. ``jnp.maximum(z, 0)``
    would not do: JAX splits the derivative of a tie in ``max`` evenly, 1/2.

    Example:
        >>> float(jax.grad(relu)(0.0)), float(jax.grad(relu)(2.0))
        (0.0, 1.0)
        >>> float(jax.grad(lambda z: jnp.maximum(z, 0.0))(0.0))
        0.5
    """
    return jnp.where(z > 0, z, 0.0)


def two_layer_loss_fn(params: Mapping[str, Any], data: Mapping[str, Any]) -> Any:
    r"""The two-layer network's loss, on padded arrays with masks.

    .. math::
        L = \frac{1}{N}\sum_{n} \Big[\operatorname{logsumexp}_j F_{nj} - F_{n y_n}\Big]
            + \frac{\lambda}{2}\big(\lVert W_1\rVert^2 + \lVert W_2\rVert^2\big),
        \qquad F = \operatorname{relu}(X W_1 + b_1) W_2 + b_2

    ``params``: ``W1`` (D', H'), ``b1`` (H',), ``W2`` (H', C'), ``b2`` (C').
    ``data``: as for :func:`softmax_loss_fn`. Primes mark padded sizes.

    Example:
        One sample, one real hidden unit of two, two real classes of three:
        ``W2 = 0`` makes the real classes tie, so the loss is
        :math:`\log 2 + \frac{\lambda}{2} \lVert W_1\rVert^2 = \log 2 + 0.5`.

        >>> params = {"W1": np.array([[1.0, 0.0]]), "b1": np.zeros(2),
        ...           "W2": np.zeros((2, 3)), "b2": np.zeros(3)}
        >>> data = {"X": np.ones((1, 1)), "y": np.array([1]), "row_mask": np.array([True]),
        ...         "class_mask": np.array([True, True, False]),
        ...         "n": np.array(1.0), "reg": np.array(1.0)}
        >>> round(float(jax.jit(two_layer_loss_fn)(params, data)), 12)
        1.19314718056
    """
    hidden = relu(data["X"] @ params["W1"] + params["b1"])
    scores = hidden @ params["W2"] + params["b2"]
    scores = jnp.where(data["class_mask"], scores, -jnp.inf)
    lse = jax.nn.logsumexp(scores, axis=1)
    correct = jnp.take_along_axis(scores, data["y"][:, None], axis=1)[:, 0]
    per_sample = jnp.where(data["row_mask"], lse - correct, 0.0)
    penalty = jnp.sum(params["W1"] ** 2) + jnp.sum(params["W2"] ** 2)
    return jnp.sum(per_sample) / data["n"] + 0.5 * data["reg"] * penalty


_TWO_LAYER = JaxLoss(two_layer_loss_fn)


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


def two_layer_loss_and_grad(
    params: Any, X: Any, y: Any, reg: float = 0.0, *, dtype: Any = np.float64
) -> tuple[float, dict[str, np.ndarray]]:
    r"""The two-layer network's loss and its gradient with respect to every parameter, by JAX.

    Args:
        params: dict with ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,).
        X: samples, shape ``(N, D)``.
        y: labels, shape ``(N,)``, integers in ``[0, C)``.
        reg: the L2 strength :math:`\lambda \ge 0`, on ``W1`` and ``W2``.
        dtype: the working precision, float64 (default) or float32.

    Returns:
        ``(loss, grads)``: a Python float and a dict of NumPy arrays with the
        keys and shapes of ``params``, in ``dtype``.

    Example:
        One sample, x = 1; hidden pre-activations Z = [1, -1], so H = [1, 0];
        scores F = H W2 = [2, 0] with label 1, so dF = P - Y = [s, -s] with
        s = e^2 / (1 + e^2) = 0.8808; dH = dF W2^T = [2s, -2s], and the ReLU
        stops the second unit: dW1 = [[2s, 0]].

        >>> p = {"W1": np.array([[1.0, -1.0]]), "b1": np.zeros(2),
        ...      "W2": np.array([[2.0, 0.0], [5.0, 7.0]]), "b2": np.zeros(2)}
        >>> L, g = two_layer_loss_and_grad(p, np.array([[1.0]]), np.array([1]))
        >>> round(L, 6)   # log(1 + e^2)
        2.126928
        >>> g["W1"].round(6)
        array([[1.761594, 0.      ]])
    """
    dt = np.dtype(dtype)
    params, X, y, reg = check_two_layer_inputs(params, X, y, reg)
    d, h = params["W1"].shape
    c = params["W2"].shape[1]
    padded, data, _ = _two_layer_padded(params, X, y, reg, dt, 0)
    value, grads = _TWO_LAYER.value_and_grad(padded, data)
    return value, {
        "W1": grads["W1"][:d, :h].copy(),
        "b1": grads["b1"][:h].copy(),
        "W2": grads["W2"][:h, :c].copy(),
        "b2": grads["b2"][:c].copy(),
    }


def two_layer_loss(
    params: Any, X: Any, y: Any, reg: float = 0.0, *, dtype: Any = np.float64
) -> float:
    r"""The oracle's forward for the network: the loss alone (see :func:`two_layer_loss_and_grad`).

    .. math::
        L = \frac{1}{N}\sum_{n} \Big[\operatorname{logsumexp}_j F_{nj} - F_{n y_n}\Big]
            + \frac{\lambda}{2}\big(\lVert W_1\rVert^2 + \lVert W_2\rVert^2\big),
        \qquad F = \operatorname{relu}(X W_1 + b_1) W_2 + b_2

    for ``params`` with ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2``
    (C,), X ``(N, D)`` and y ``(N,)``: :func:`two_layer_loss_batch` at one
    parameter set.

    Example:
        >>> p = {"W1": np.ones((1, 2)), "b1": np.zeros(2), "W2": np.zeros((2, 3)),
        ...      "b2": np.zeros(3)}
        >>> L = two_layer_loss(p, np.ones((4, 1)), np.array([0, 1, 2, 0]), reg=0.5)
        >>> round(L, 12)   # log 3 + 0.25 * (1 + 1): W2 = 0 makes every class equally likely
        1.598612288668
    """
    one = (
        {k: np.asarray(v)[None] for k, v in params.items()}
        if isinstance(params, Mapping)
        else params
    )
    return float(two_layer_loss_batch(one, X, y, reg, dtype=dtype)[0])


def two_layer_loss_batch(
    params: Any, X: Any, y: Any, reg: float = 0.0, *, dtype: Any = np.float64
) -> np.ndarray:
    r"""The network's loss at K parameter sets at once: each array with a leading axis K -> (K,).

    .. math::
        L_k = \frac{1}{N}\sum_{n} \Big[\operatorname{logsumexp}_j F^{(k)}_{nj}
            - F^{(k)}_{n y_n}\Big]
            + \frac{\lambda}{2}\big(\lVert W_{1,k}\rVert^2 + \lVert W_{2,k}\rVert^2\big),
        \qquad F^{(k)} = \operatorname{relu}(X W_{1,k} + b_{1,k}) W_{2,k} + b_{2,k}

    ``params``: ``W1`` (K, D, H), ``b1`` (K, H), ``W2`` (K, H, C), ``b2``
    (K, C). The forward that finite differences differentiate: one call
    evaluates every point of a stencil.

    Example:
        >>> p = {"W1": np.ones((2, 1, 1)), "b1": np.zeros((2, 1)),
        ...      "W2": np.zeros((2, 1, 2)), "b2": np.array([[0.0, 0.0], [0.0, np.log(3.0)]])}
        >>> two_layer_loss_batch(p, np.ones((1, 1)), np.array([1]))   # log 2, log(4/3)
        array([0.69314718, 0.28768207])
    """
    dt = np.dtype(dtype)
    params, X, y, reg = check_two_layer_inputs(params, X, y, reg, lead=1)
    padded, data, (n_pad, _, hp, cp) = _two_layer_padded(params, X, y, reg, dt, 1)
    chunk = max(1, min(MAX_BATCH, MAX_BATCH_ENTRIES // (n_pad * max(hp, cp))))
    chunk = 1 << (chunk.bit_length() - 1)  # a power of two: few distinct shapes
    return _TWO_LAYER.batch(padded, data, chunk=chunk)
