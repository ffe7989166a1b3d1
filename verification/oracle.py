r"""The oracle: each model's loss restated from the math in ``jax.numpy``, differentiated by JAX.

The softmax loss below is written from the formula of docs/derivation.md
(its summary, "The result"), not from the NumPy code it checks::

    F = X W + b                                                  (N, C)
    L = mean_n [ logsumexp(F_n) - F_{n, y_n} ] + 0.5 reg sum(W**2)

and its gradient is whatever :func:`jax.value_and_grad` makes of it. The
oracle is the reference *definition* of the loss in the three-way check:
finite differences differentiate this forward (see ``docs/verification.md``).

**Precision.** Every oracle call runs inside
:func:`~verification.jax_scope.float64_scope`, JAX's scoped 64-bit mode, and
returns NumPy arrays: the process-wide setting is never changed, so importing
this module or running a check leaves a user's other JAX code in the
precision it chose. Every function computes in float64 unless
``dtype=np.float32`` is asked for.

**Compilation.** :func:`jax.jit` compiles once per input *shape*, and a
compile costs as much as thousands of calls (``scripts/oracle_timing.py``
measures it; docs/verification.md quotes a run: 2.3 s against 0.7 ms on a
loaded 2-core machine), and un-jitted JAX costs ~150 ms per call. A property suite
draws hundreds of problems of different shapes, so the inputs are validated
and padded to bucketed shapes by :mod:`verification.oracle_inputs`, and the
losses below mask the padding out *exactly* (that module's notes say how):
every problem with N <= 32, D <= 8 and C <= 8 shares one compiled function.
The compiled functions are :class:`~verification.jax_scope.JaxLoss`'s, in
:mod:`verification.jax_scope`.

**Modules.** This module holds the models' losses and their NumPy wrappers;
it re-exports :func:`~verification.jax_scope.float64_scope`,
:class:`~verification.jax_scope.JaxLoss`,
:func:`~verification.oracle_inputs.bucket`,
:func:`~verification.oracle_inputs.pad_to` and
:func:`~verification.oracle_inputs.check_two_layer_inputs`, so
``verification.oracle`` offers every name it always has.

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

from collections.abc import Mapping
from typing import Any

import jax  # noqa: F401  (the examples' namespace)
import jax.numpy as jnp
import numpy as np

from .jax_scope import MAX_BATCH, MAX_BATCH_ENTRIES, JaxLoss, float64_scope
from .oracle_inputs import (
    _softmax_data,
    _two_layer_padded,
    bucket,
    check_softmax_inputs,
    check_two_layer_inputs,
    pad_to,
)

__all__ = [
    "JaxLoss",
    "bucket",
    "check_two_layer_inputs",
    "float64_scope",
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


# --- the softmax classifier ---------------------------------------------------


def _nll(scores: Any, y: Any) -> Any:
    r"""Per-sample :math:`\operatorname{logsumexp}_j F_{nj} - F_{n y_n}`, to full relative accuracy.

    .. math::
        \operatorname{logsumexp}_j F_{nj} - F_{n y_n}
            = \operatorname{log1p}(s_n) + (m_n - F_{n y_n}), \qquad
        s_n = \sum_{j \ne a_n} e^{F_{nj} - m_n}, \quad m_n = F_{n a_n} = \max_j F_{nj}

    ``scores`` (N, C) with masked classes at -inf, ``y`` (N,). Where the label
    wins, the loss is ``log1p(s)`` exactly as formed (``logsumexp`` rounds 1 + s
    and returns 0 once s < 1e-16), and its gradient at the label is
    :math:`-s/(1 + s)`: the ``where`` sends no cotangent through
    :math:`m - F_y`, whose +1 and -1 would otherwise cancel against it.

    Example:
        >>> with float64_scope():
        ...     f, y = jnp.array([[40.0, 0.0]]), jnp.array([0])
        ...     loss = float(_nll(f, y)[0])                              # not 0
        ...     g = float(jax.grad(lambda f: _nll(f, y)[0])(f)[0, 0])
        >>> print(f"{loss:.12e} {g:.12e}")
        4.248354255292e-18 -4.248354255292e-18
    """
    winner = jnp.argmax(scores, axis=1)
    m = jnp.take_along_axis(scores, winner[:, None], axis=1)
    classes = jnp.arange(scores.shape[1])[None, :]
    others = jnp.where(classes == winner[:, None], -jnp.inf, scores - m)
    s = jnp.sum(jnp.exp(others), axis=1)
    correct = jnp.take_along_axis(scores, y[:, None], axis=1)[:, 0]
    behind = jnp.where(y == winner, 0.0, m[:, 0] - correct)
    return jnp.log1p(s) + behind


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
        >>> with float64_scope():   # jitted in float64, as JaxLoss runs it
        ...     print(round(float(jax.jit(softmax_loss_fn)(params, data)), 12))
        0.69314718056
    """
    W, b = params["W"], params["b"]
    scores = data["X"] @ W + b
    scores = jnp.where(data["class_mask"], scores, -jnp.inf)
    # logsumexp(F_n) - F_{n, y_n}, as log1p(s_n) + (m_n - F_{n, y_n}): see _nll.
    per_sample = jnp.where(data["row_mask"], _nll(scores, data["y"]), 0.0)
    return jnp.sum(per_sample) / data["n"] + 0.5 * data["reg"] * jnp.sum(W * W)


softmax_loss = softmax_loss_fn

_SOFTMAX = JaxLoss(softmax_loss_fn)


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
        \begin{gathered}
        L_k = \frac{1}{N}\sum_{n} \Big[\operatorname{logsumexp}_j F^{(k)}_{nj}
            - F^{(k)}_{n y_n}\Big] + \frac{\lambda}{2} \lVert W_k\rVert_F^2,
        \\ F^{(k)} = X W_k + b_k
        \end{gathered}

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
# Padding follows the softmax's rules, plus one for the hidden layer (see
# verification/oracle_inputs.py): padded hidden units add exact zeros.


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
        \begin{gathered}
        L = \frac{1}{N}\sum_{n} \Big[\operatorname{logsumexp}_j F_{nj} - F_{n y_n}\Big]
            + \frac{\lambda}{2}\big(\lVert W_1\rVert^2 + \lVert W_2\rVert^2\big),
        \\ F = \operatorname{relu}(X W_1 + b_1) W_2 + b_2
        \end{gathered}

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
        >>> with float64_scope():
        ...     print(round(float(jax.jit(two_layer_loss_fn)(params, data)), 12))
        1.19314718056
    """
    hidden = relu(data["X"] @ params["W1"] + params["b1"])
    scores = hidden @ params["W2"] + params["b2"]
    scores = jnp.where(data["class_mask"], scores, -jnp.inf)
    per_sample = jnp.where(data["row_mask"], _nll(scores, data["y"]), 0.0)
    penalty = jnp.sum(params["W1"] ** 2) + jnp.sum(params["W2"] ** 2)
    return jnp.sum(per_sample) / data["n"] + 0.5 * data["reg"] * penalty


_TWO_LAYER = JaxLoss(two_layer_loss_fn)


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
        \begin{gathered}
        L = \frac{1}{N}\sum_{n} \Big[\operatorname{logsumexp}_j F_{nj} - F_{n y_n}\Big]
            + \frac{\lambda}{2}\big(\lVert W_1\rVert^2 + \lVert W_2\rVert^2\big),
        \\ F = \operatorname{relu}(X W_1 + b_1) W_2 + b_2
        \end{gathered}

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
        \begin{gathered}
        L_k = \frac{1}{N}\sum_{n} \Big[\operatorname{logsumexp}_j F^{(k)}_{nj}
            - F^{(k)}_{n y_n}\Big]
            + \frac{\lambda}{2}\big(\lVert W_{1,k}\rVert^2 + \lVert W_{2,k}\rVert^2\big),
        \\ F^{(k)} = \operatorname{relu}(X W_{1,k} + b_{1,k}) W_{2,k} + b_{2,k}
        \end{gathered}

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
