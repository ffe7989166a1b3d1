r"""``check_gradient``: the three-way check of a user's own loss, the oracle built by the tool.

The user gives two functions of the same signature ``f(params, data)``:

- ``analytic(params, data) -> (loss, grads)``: the hand-derived gradient in
  NumPy, ``params`` and ``grads`` dicts of arrays with the same keys and shapes;
- ``loss(params, data) -> scalar``: the same loss written with ``jax.numpy``.

From ``loss`` the tool builds the oracle, ``jax.jit(jax.value_and_grad(loss))``,
and the forward finite differences evaluate, ``jax.jit(jax.vmap(loss))`` over a
stack of points, both compiled once per shape and kept for the next call with
the same ``loss``. Everything JAX runs here runs in float64 inside a scoped
64-bit context (:func:`verification.jax_scope.float64_scope`, in
:mod:`verification.user_oracle`), so JAX's
process-wide settings are what they were: a user's other JAX code keeps its
dtypes whatever the order of their tests.

``data`` holds the arrays that are not differentiated (X, y, weights, ...);
both functions receive it. The analytic side gets copies in the dtypes given;
the oracle gets floating arrays in float64 (float32 values are exact there)
and every other array as it is.

**Rounding scales.** The tolerance of ANALYTIC vs JAX on an entry is a
multiple of eps times the size of the terms whose rounding enters it
(:mod:`verification.compare`). For a function the tool knows nothing of, it
measures that size (:func:`verification.rounding.measure_rounding`): the
oracle is evaluated again at copies of the point whose every floating input
(parameters and data) is moved by a few units in the last place, at random;
how far each gradient entry moves, in units of eps, is the size of the
rounding that enters it. Near a stationary point, where the gradient is a
near-cancelling sum of terms far larger than itself, this is the terms' size,
not the sum's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .report import Report

__all__ = ["check_gradient"]

AnalyticFn = Callable[[dict[str, np.ndarray], dict[str, Any]], tuple[Any, Mapping[str, Any]]]
LossFn = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]


def _read_data(data: Mapping[str, Any] | None) -> dict[str, np.ndarray]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise TypeError(f"data must be a dict of named arrays (or None); got {type(data).__name__}")
    out = {}
    for name, value in data.items():
        if not isinstance(name, str):
            raise TypeError(f"data's keys must be strings; got {name!r}")
        a = np.array(value)  # a copy
        if a.dtype.kind not in "biuf":
            raise TypeError(
                f"data[{name!r}] must hold numbers (bool, int or float); got dtype {a.dtype}"
            )
        out[name] = a
    return out


def _oracle_data(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Floating arrays in float64 for the oracle; ints and bools as they are."""
    return {k: v.astype(np.float64) if v.dtype.kind == "f" else v for k, v in data.items()}


def check_gradient(
    analytic: AnalyticFn,
    loss: LossFn,
    params: Mapping[str, Any],
    data: Mapping[str, Any] | None = None,
    *,
    mode: str = "full",
    seed: int = 0,
    **check_kwargs: Any,
) -> Report:
    r"""Check a hand-derived gradient against JAX and finite differences of a ``jax.numpy`` loss.

    For a loss :math:`\ell(p, d)` of parameters :math:`p` (a dict of arrays,
    e.g. ``{"w": (D,), "b": ()}``) and data :math:`d`, ``analytic`` claims
    :math:`(\ell, \nabla_p \ell)` and ``loss`` states :math:`\ell` in
    ``jax.numpy``. The tool differentiates ``loss`` with JAX (float64, jitted)
    and by finite differences, and compares the three entry by entry, as
    :func:`verification.compare.check` does, with each entry's rounding
    measured (see the module notes) unless ``scales`` is given.

    Args:
        analytic: ``analytic(params, data) -> (loss, grads)``, NumPy; ``grads``
            keyed and shaped like ``params``. Called with copies.
        loss: ``loss(params, data) -> scalar`` in ``jax.numpy``; traced by
            :func:`jax.jit`, so no Python branching on array values.
        params: the point, ``{name: array}``; float32 when every array is
            (the analytic side then runs in float32 against the float64 oracle).
        data: the arrays not differentiated, ``{name: array}``, or None.
        mode: ``"full"``, ``"sampled"`` or ``"directional"``, as in
            :func:`~verification.compare.check`.
        seed: for the sampled entries, the directions and the rounding probe.
        check_kwargs: passed on to :func:`~verification.compare.check`
            (``n_coords``, ``n_directions``, ``scales``, ``loss_scale``,
            ``step_scale``, ...).

    Returns:
        A :class:`~verification.report.Report`.

    Example:
        Weighted least squares, :math:`\ell = \frac12 \sum_n w_n (x_n \cdot
        \theta - y_n)^2`, whose gradient is :math:`X^\top (w \odot r)`:

        >>> import jax.numpy as jnp
        >>> def loss(p, d):
        ...     r = d["X"] @ p["theta"] - d["y"]
        ...     return 0.5 * jnp.sum(d["w"] * r**2)
        >>> def mine(p, d):
        ...     r = d["X"] @ p["theta"] - d["y"]
        ...     return 0.5 * np.sum(d["w"] * r**2), {"theta": d["X"].T @ (d["w"] * r)}
        >>> rng = np.random.default_rng(0)
        >>> data = {"X": rng.normal(size=(5, 3)), "y": rng.normal(size=5),
        ...         "w": rng.uniform(size=5)}
        >>> check_gradient(mine, loss, {"theta": rng.normal(size=3)}, data).ok
        True
        >>> def wrong(p, d):   # the weights forgotten in the gradient
        ...     value, _ = mine(p, d)
        ...     return value, {"theta": d["X"].T @ (d["X"] @ p["theta"] - d["y"])}
        >>> r = check_gradient(wrong, loss, {"theta": rng.normal(size=3)}, data)
        >>> r.ok, r.blame
        (False, 'ANALYTIC')
    """
    from . import user_oracle
    from .compare import _read_params, check
    from .rounding import measure_rounding

    if not callable(analytic):
        raise TypeError(f"analytic must be a function; got {type(analytic).__name__}")
    if not callable(loss):
        raise TypeError(f"loss must be a function; got {type(loss).__name__}")
    _read_params(params)  # the check validates again; this names a bad input first
    user_data = _read_data(data)
    data64 = _oracle_data(user_data)
    compiled = user_oracle.user_loss(loss)

    def analytic_fn(p: dict[str, np.ndarray]) -> tuple[Any, Mapping[str, Any]]:
        return analytic(p, {k: v.copy() for k, v in user_data.items()})

    def oracle_fn(p: dict[str, np.ndarray]) -> tuple[Any, dict[str, np.ndarray]]:
        return compiled.value_and_grad(p, data64)

    def forward(p: dict[str, np.ndarray]) -> np.ndarray:
        return compiled.batch(p, data64)

    kwargs: dict[str, Any] = {"fd_function": forward, "fd_batched": True}
    if "scales" not in check_kwargs or "loss_scale" not in check_kwargs:
        _, _, p64 = _read_params(params)
        measured = measure_rounding(
            lambda p, d: compiled.value_and_grad(p, d), p64, data64, seed=seed
        )
        kwargs["scales"] = measured.grad_scales
        kwargs["loss_scale"] = measured.loss_scale
    kwargs.update(check_kwargs)
    return check(analytic_fn, oracle_fn, params, mode=mode, seed=seed, **kwargs)
