r"""The oracle of a user's own loss: ``jit(value_and_grad)`` and a batched forward, in float64.

:func:`verification.check_gradient` takes a loss written in ``jax.numpy``
that the project knows nothing of; this module compiles it (no padding:
``jax.jit`` compiles once per shape of the inputs) and runs every call inside
:func:`verification.jax_scope.float64_scope`, so JAX's process-wide precision is
left as the user set it. Results come back as NumPy arrays in the dtype the
loss computed in, so that a loss that computes in float32 is seen.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import jax.numpy as jnp  # noqa: F401  (the examples' namespace)
import numpy as np

from .jax_scope import MAX_BATCH, MAX_BATCH_ENTRIES, JaxLoss, float64_scope, padded_chunks

__all__ = ["UserLoss", "user_loss"]


class UserLoss(JaxLoss):
    r"""A user's scalar loss ``loss_fn(params, data)``, compiled in float64 for the checks.

    Like :class:`JaxLoss` but for a function the project does not know: no
    padding (``jax.jit`` compiles once per shape of the inputs), every call
    inside :func:`float64_scope`, and the results returned in the dtype the
    function produced, so that a loss computing in lower precision than its
    inputs is seen (:func:`verification.compare.check` reports it).

    .. math::
        \texttt{value\_and\_grad}(p, d) = \big(\ell(p, d),\ \nabla_p \ell(p, d)\big),
        \qquad \texttt{batch}(p, d)_k = \ell(p_k, d)

    Example:
        >>> sq = UserLoss(lambda p, d: jnp.sum((p["w"] - d["t"]) ** 2))
        >>> value, grads = sq.value_and_grad({"w": np.array([1.0, 2.0])}, {"t": np.zeros(2)})
        >>> float(value), grads["w"], grads["w"].dtype
        (5.0, array([2., 4.]), dtype('float64'))
        >>> sq.batch({"w": np.array([[1.0, 0.0], [0.0, 3.0]])}, {"t": np.zeros(2)})
        array([1., 9.])
    """

    def value_and_grad(  # type: ignore[override]
        self, params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The loss (a 0-d array) and its gradient for every array of ``params``, as NumPy.

        Each gradient has its parameter's shape and the dtype the loss computed in.

        Example:
            >>> g = UserLoss(lambda p, d: jnp.sum(p["w"] * d["x"]))
            >>> g.value_and_grad({"w": np.ones((2, 2))}, {"x": np.eye(2)})[1]["w"]
            array([[1., 0.],
                   [0., 1.]])
        """
        with float64_scope():
            value, grads = self._value_and_grad(dict(params), dict(data))
            return np.asarray(value), {k: np.asarray(v) for k, v in grads.items()}

    def batch(  # type: ignore[override]
        self, params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray]
    ) -> np.ndarray:
        """The loss at K parameter sets (each array with a leading axis K), ``(K,)``.

        Evaluated in chunks of a power-of-two size that depends on the
        problem's size only, the last padded with copies of the first set, so
        that K causes no compile.
        """
        per_point = sum(int(np.prod(a.shape[1:], dtype=np.int64)) for a in params.values())
        per_point += sum(int(np.asarray(a).size) for a in data.values())
        # Independent of K: every batch of one problem reuses one compiled function.
        chunk = max(1, min(MAX_BATCH, MAX_BATCH_ENTRIES // max(1, per_point)))
        chunk = 1 << (chunk.bit_length() - 1)
        pieces = []
        with float64_scope():
            for start, stop, piece in padded_chunks(params, chunk):
                values = np.asarray(self._batch(piece, dict(data)))
                if values.shape != (chunk,):
                    raise ValueError(
                        f"loss must return a scalar; got an array of shape {values.shape[1:]}"
                    )
                pieces.append(values[: stop - start])
        # In the dtype the loss computed in, so that a check sees a float32 loss.
        return np.concatenate(pieces)


# Compiled losses kept for reuse, the most recently used last; bounded so that a
# suite defining a new loss per test does not keep every compilation alive.
_USER_LOSSES: OrderedDict[Any, UserLoss] = OrderedDict()
_MAX_USER_LOSSES = 32


def user_loss(loss_fn: Callable[[Mapping[str, Any], Mapping[str, Any]], Any]) -> UserLoss:
    r"""The compiled :class:`UserLoss` of ``loss_fn``, made once per function and kept.

    ``loss_fn(params, data)`` is :math:`\ell(p, d)`, a scalar of arrays of
    any shape; jit compiles it again for each new shape, once. The 32 most
    recently used functions are kept.

    Example:
        >>> f = lambda p, d: jnp.sum(p["w"] ** 2)
        >>> user_loss(f) is user_loss(f)
        True
    """
    try:
        compiled = _USER_LOSSES.get(loss_fn)
    except TypeError:  # an unhashable callable: compiled afresh each time
        return UserLoss(loss_fn)
    if compiled is None:
        compiled = _USER_LOSSES[loss_fn] = UserLoss(loss_fn)
        while len(_USER_LOSSES) > _MAX_USER_LOSSES:
            _USER_LOSSES.popitem(last=False)
    _USER_LOSSES.move_to_end(loss_fn)
    return compiled
