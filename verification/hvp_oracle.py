r"""The JAX oracles of the second-order checks: Hessian-vector and Gauss-Newton products.

For a point :math:`\theta` and a direction :math:`v` (dicts of named arrays),
:func:`softmax_hvp` and :func:`two_layer_hvp` are ``jax.jvp`` of ``jax.grad``
of the model's loss restated in :mod:`verification.oracle`
(forward-over-reverse), float64, jitted on the oracle's padded shapes (no
recompile per problem shape). The network's Gauss-Newton product has its own
oracle, :func:`two_layer_gnvp`: :math:`J^\top H_F J v` from ``jax.jvp`` of
the scores, the Hessian of the loss in the scores, and ``jax.vjp`` back.
They are the JAX witness of :mod:`verification.hessian`'s three-way checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .jax_scope import float64_scope
from .oracle import relu, softmax_loss_fn, two_layer_loss_fn
from .oracle_inputs import (
    _float_array,
    _softmax_data,
    _two_layer_padded,
    check_softmax_inputs,
    check_two_layer_inputs,
    pad_to,
)

__all__ = ["softmax_hvp", "two_layer_gnvp", "two_layer_hvp"]


def _hvp_of(loss_fn: Callable[..., Any]) -> Callable[..., Any]:
    def hv(params: Any, vector: Any, data: Any) -> Any:
        return jax.jvp(lambda p: jax.grad(loss_fn)(p, data), (params,), (vector,))[1]

    return jax.jit(hv)


_SOFTMAX_HVP = _hvp_of(softmax_loss_fn)
_TWO_LAYER_HVP = _hvp_of(two_layer_loss_fn)


def _gn_of_two_layer() -> Callable[..., Any]:
    def scores(p: Any, data: Any) -> Any:
        hidden = relu(data["X"] @ p["W1"] + p["b1"])
        return hidden @ p["W2"] + p["b2"]

    def loss_of_scores(F: Any, data: Any) -> Any:
        F = jnp.where(data["class_mask"], F, -jnp.inf)
        lse = jax.nn.logsumexp(F, axis=1)
        correct = jnp.take_along_axis(F, data["y"][:, None], axis=1)[:, 0]
        return jnp.sum(jnp.where(data["row_mask"], lse - correct, 0.0)) / data["n"]

    def gn(params: Any, vector: Any, data: Any) -> Any:
        F, JV = jax.jvp(lambda p: scores(p, data), (params,), (vector,))
        _, HJV = jax.jvp(lambda f: jax.grad(loss_of_scores)(f, data), (F,), (JV,))
        _, back = jax.vjp(lambda p: scores(p, data), params)
        (out,) = back(HJV)
        out = dict(out)
        out["W1"] = out["W1"] + data["reg"] * vector["W1"]
        out["W2"] = out["W2"] + data["reg"] * vector["W2"]
        return out

    return jax.jit(gn)


_TWO_LAYER_GN = _gn_of_two_layer()


def softmax_hvp(
    W: Any, b: Any, X: Any, y: Any, reg: float, V_W: Any, V_b: Any
) -> tuple[np.ndarray, np.ndarray]:
    r"""The softmax loss's Hessian times (V_W, V_b) by JAX: ``jvp(grad(loss))``, float64.

    .. math::
        H[V] = \frac{d}{dt}\, \nabla L(W + t V_W,\ b + t V_b)\Big|_{t=0}

    of the loss of :func:`verification.oracle.softmax_loss_fn`; W ``(D, C)``,
    b ``(C,)``, X ``(N, D)``, y ``(N,)``, V_W ``(D, C)``, V_b ``(C,)``.

    Returns:
        ``(HV_W, HV_b)``, float64 arrays of shapes ``(D, C)`` and ``(C,)``.

    Example:
        >>> HW, Hb = softmax_hvp(np.zeros((1, 2)), np.zeros(2), np.ones((1, 1)),
        ...                      np.array([0]), 0.1, np.array([[1.0, 0.0]]), np.zeros(2))
        >>> HW, Hb
        (array([[ 0.35, -0.25]]), array([ 0.25, -0.25]))
    """
    W, b, X, y, reg = check_softmax_inputs(W, b, X, y, reg)
    V_W = _float_array("V_W", V_W, 2)
    V_b = _float_array("V_b", V_b, 1)
    if V_W.shape != W.shape or V_b.shape != b.shape:
        raise ValueError(
            f"V_W and V_b must have the shapes of W {W.shape} and b {b.shape}; "
            f"got {V_W.shape} and {V_b.shape}"
        )
    d, c = W.shape
    data, (_, dp, cp) = _softmax_data(X, y, reg, np.dtype(np.float64), c)

    def pad(M: np.ndarray, m: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "W": pad_to(M.astype(np.float64), (dp, cp)),
            "b": pad_to(m.astype(np.float64), (cp,)),
        }

    # JAX's arrays are made and its compiled code runs in float64 inside the scope.
    with float64_scope():
        out = _SOFTMAX_HVP(pad(W, b), pad(V_W, V_b), data)
        return np.asarray(out["W"])[:d, :c].copy(), np.asarray(out["b"])[:c].copy()


def _two_layer_product(
    fn: Callable[..., Any], params: Any, X: Any, y: Any, reg: float, vector: Any
) -> dict[str, np.ndarray]:
    params, X, y, reg = check_two_layer_inputs(params, X, y, reg)
    vec, _, _, _ = check_two_layer_inputs(vector, X, y, 0.0)
    for k in params:
        if vec[k].shape != params[k].shape:
            raise ValueError(
                f"vector[{k!r}] must have the shape of params[{k!r}] {params[k].shape}; "
                f"got {vec[k].shape}"
            )
    dt = np.dtype(np.float64)
    padded, data, _ = _two_layer_padded(params, X, y, reg, dt, 0)
    padded_v, _, _ = _two_layer_padded(vec, X, y, reg, dt, 0)
    with float64_scope():
        out = fn(padded, padded_v, data)
        return {
            k: np.asarray(out[k])[tuple(slice(0, s) for s in params[k].shape)].copy()
            for k in params
        }


def two_layer_hvp(params: Any, X: Any, y: Any, reg: float, vector: Any) -> dict[str, np.ndarray]:
    r"""The network's Hessian times ``vector`` by JAX: ``jvp(grad(loss))``, float64.

    .. math::
        H[V] = \frac{d}{dt}\, \nabla L(\theta + t V)\Big|_{t=0}

    of :func:`verification.oracle.two_layer_loss_fn`, ``relu'(0) = 0`` and
    ``relu'' = 0``; ``params`` and ``vector`` keyed ``W1`` (D, H), ``b1``
    (H,), ``W2`` (H, C), ``b2`` (C,).

    Returns:
        A dict keyed and shaped like ``params``, float64.

    Example:
        >>> p = {"W1": np.array([[1.0]]), "b1": np.zeros(1), "W2": np.zeros((1, 2)),
        ...      "b2": np.zeros(2)}
        >>> v = {"W1": np.zeros((1, 1)), "b1": np.zeros(1), "W2": np.array([[1.0, 0.0]]),
        ...      "b2": np.zeros(2)}
        >>> two_layer_hvp(p, np.array([[2.0]]), np.array([0]), 0.0, v)["W1"]
        array([[-1.]])
    """
    return _two_layer_product(_TWO_LAYER_HVP, params, X, y, reg, vector)


def two_layer_gnvp(params: Any, X: Any, y: Any, reg: float, vector: Any) -> dict[str, np.ndarray]:
    r"""The network's Gauss-Newton product by JAX: :math:`J^\top H_F J V` plus the penalty.

    .. math::
        G[V] = J^\top \nabla^2_F \ell(F)\, J V + \lambda (V_1, 0, V_2, 0), \qquad
        J = \partial F / \partial \theta

    with :math:`JV` by ``jax.jvp`` of the scores, :math:`\nabla^2_F \ell` by
    ``jvp(grad)`` of the mean cross-entropy in the scores, and :math:`J^\top`
    by ``jax.vjp``; keys and shapes as :func:`two_layer_hvp`.

    Example:
        >>> p = {"W1": np.array([[1.0]]), "b1": np.zeros(1), "W2": np.zeros((1, 2)),
        ...      "b2": np.zeros(2)}
        >>> v = {"W1": np.zeros((1, 1)), "b1": np.zeros(1), "W2": np.array([[1.0, 0.0]]),
        ...      "b2": np.zeros(2)}
        >>> two_layer_gnvp(p, np.array([[2.0]]), np.array([0]), 0.0, v)["W1"]
        array([[0.]])
    """
    return _two_layer_product(_TWO_LAYER_GN, params, X, y, reg, vector)
