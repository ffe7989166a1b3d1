"""L-BFGS-B over a dict of named parameter arrays, driven by the analytic gradient.

SciPy's ``minimize(method="L-BFGS-B", jac=True)`` works on one flat vector;
this flattens the parameters in the dict's key order, and unflattens each
point SciPy asks about. SciPy is imported on the first call, so the NumPy-only
path of the package never loads it. The training loop
(``softmax_ref/training.py``) supplies the evaluation, with its NaN guard, and
turns the outcome into its ``TrainResult``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from softmax_ref._types import Params

__all__ = ["LbfgsOutcome", "minimize_lbfgs"]

Evaluate = Callable[[Params, int, bool], tuple[float, Params]]


class LbfgsOutcome(NamedTuple):
    """Where L-BFGS-B stopped and how it got there."""

    params: Params  # new arrays, keyed and shaped like the initial ones
    n_iter: int
    loss_curve: list[float]  # the loss after each iteration
    converged: bool
    message: str
    n_evals: int
    final_loss: float


def minimize_lbfgs(
    evaluate: Evaluate,
    params: Params,
    max_iter: int,
    tol: float | None,
    on_iteration: Callable[[float], None],
) -> LbfgsOutcome:
    """Minimise from ``params``; ``evaluate(params, iteration, first) -> (loss, grads)``.

    ``iteration`` is the 1-based iteration the evaluation belongs to and
    ``first`` is True for the very first evaluation (the caller's own data and
    starting point); ``on_iteration(loss)`` is called once per iteration.
    ``tol`` is the projected-gradient tolerance ``gtol`` (1e-4 when None).
    """
    from scipy.optimize import minimize

    keys = list(params)
    shapes = [params[k].shape for k in keys]
    sizes = [params[k].size for k in keys]
    splits = np.cumsum(sizes)[:-1]

    def unflatten(theta: np.ndarray) -> Params:
        return {
            k: part.reshape(s)
            for k, s, part in zip(keys, shapes, np.split(theta, splits), strict=True)
        }

    n_evals = 0
    loss_curve: list[float] = []

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        nonlocal n_evals
        n_evals += 1
        loss, grads = evaluate(unflatten(theta), len(loss_curve) + 1, n_evals == 1)
        return loss, np.concatenate([np.ravel(grads[k]) for k in keys])

    def callback(intermediate_result: Any) -> None:
        loss_curve.append(float(intermediate_result.fun))
        on_iteration(float(intermediate_result.fun))

    theta0 = np.concatenate([params[k].ravel() for k in keys]).astype(np.float64)
    res = minimize(
        fun,
        theta0,
        method="L-BFGS-B",
        jac=True,
        callback=callback,
        options={
            "maxiter": max_iter,
            # As scikit-learn's LogisticRegression: stop on the gradient (gtol),
            # not on a relative loss change of ~1e-9 that lands short of the optimum.
            "gtol": 1e-4 if tol is None else tol,
            "ftol": 64 * np.finfo(np.float64).eps,
            "maxls": 50,
        },
    )
    return LbfgsOutcome(
        params={k: np.array(v) for k, v in unflatten(res.x).items()},
        n_iter=int(res.nit),
        loss_curve=loss_curve,
        converged=bool(res.success),
        message=str(res.message),
        n_evals=n_evals,
        final_loss=float(res.fun),
    )
