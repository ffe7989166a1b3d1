r"""JAX in a scoped 64-bit mode, jit-compiled once per padded shape: what every oracle call runs in.

**Precision.** Every oracle call runs inside :func:`float64_scope`, JAX's
scoped 64-bit mode, and returns NumPy arrays: the process-wide setting is
never changed, so importing this module or running a check leaves a user's
other JAX code in the precision it chose.

**Compilation.** :class:`JaxLoss` jit-compiles a loss's value-and-gradient
and a batched forward once; :func:`jax.jit` then compiles once per input
*shape*, which :mod:`verification.oracle_inputs` keeps to a few by padding
to bucketed shapes. A batch of parameter sets runs in chunks of a fixed
size (at most ``MAX_BATCH``), so its length causes no compile either.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jax
import jax.numpy as jnp  # noqa: F401  (the examples' namespace)
import numpy as np

__all__ = ["JaxLoss", "float64_scope"]

# Largest number of padded score entries (batch x N x C) one batched forward
# holds; it bounds memory at ~16 MB of float64 however large N is. 256 points
# hold a whole full-mode stencil (1 + 6 * 42 = 253) of the largest problem the
# property suite draws (D = C = 6), so one check costs two compiled calls.
MAX_BATCH_ENTRIES = 2**21
MAX_BATCH = 256


@contextlib.contextmanager
def float64_scope() -> Iterator[None]:
    r"""JAX computes in 64 bits inside the ``with`` block; the process-wide setting is untouched.

    Arrays of any shape made inside are float64 (:math:`\varepsilon = 2^{-52}`)
    where JAX's default would make them float32 (:math:`2^{-23}`).

    JAX fixes an array's precision when the array is made, and a jitted
    function is compiled separately for each setting, so every oracle call
    makes its arrays and runs its compiled code inside this block and leaves
    it with NumPy results. Outside, ``jax.numpy.ones(2).dtype`` is whatever the
    user's process chose (float32 by JAX's default).

    Example:
        >>> before = jnp.ones(2).dtype
        >>> with float64_scope():
        ...     print(jnp.ones(2).dtype)
        float64
        >>> jnp.ones(2).dtype == before
        True
    """
    # jax.enable_x64 is the context manager of recent JAX; older releases
    # (down to the 0.4.30 the verify extra allows) have it in jax.experimental.
    scope: Any = getattr(jax, "enable_x64", None)
    if scope is None:  # pragma: no cover  (older JAX)
        scope = importlib.import_module("jax.experimental").enable_x64
    with scope(True):
        yield


def padded_chunks(
    params: Mapping[str, np.ndarray], chunk: int
) -> Iterator[tuple[int, int, dict[str, np.ndarray]]]:
    """``(start, stop, piece)`` over K parameter sets (leading axis K) in chunks of ``chunk``.

    ``piece`` holds rows ``start:stop`` of every array, the last chunk padded
    with copies of the first set to ``chunk`` rows, so that every compiled call
    has one shape whatever K is.
    """
    k = next(iter(params.values())).shape[0]
    for start in range(0, k, chunk):
        stop = min(start + chunk, k)
        piece = {}
        for name, a in params.items():
            part = a[start:stop]
            if stop - start < chunk:
                filler = np.broadcast_to(a[:1], (chunk - (stop - start), *a.shape[1:]))
                part = np.concatenate([part, filler])
            piece[name] = part
        yield start, stop, piece


class JaxLoss:
    r"""A scalar loss ``loss_fn(params, data)``, jit-compiled twice: value-and-gradient, batched.

    ``params`` and ``data`` are dicts of arrays; the gradient is taken with
    respect to ``params`` only. :meth:`batch` evaluates the loss at ``K`` sets
    of parameters (each array with a leading axis of length K) in chunks of a
    fixed size, so that K does not cause a compile either. With :math:`\ell`
    the loss, :math:`p` the parameters and :math:`d` the data:

    .. math::
        \begin{gathered}
        \texttt{value\_and\_grad}(p, d) = \big(\ell(p, d),\ \nabla_p \ell(p, d)\big),
        \\
        \texttt{batch}(p, d)_k = \ell(p_k, d), \quad k = 1, \dots, K,
        \end{gathered}

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
        with float64_scope():
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
        out = np.empty(next(iter(params.values())).shape[0])
        for start, stop, piece in padded_chunks(params, chunk):
            with float64_scope():
                out[start:stop] = np.asarray(self._batch(piece, dict(data)))[: stop - start]
        return out
