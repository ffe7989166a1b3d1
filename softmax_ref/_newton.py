"""Newton-type solvers over a dict of named parameter arrays: Newton-CG and trust-region CG.

SciPy's ``minimize(method="Newton-CG" | "trust-ncg", jac=True, hessp=...)``
works on one flat vector; this flattens the parameters in the dict's key
order, as softmax_ref/_lbfgs.py does, and gives SciPy the model's
Hessian-vector product. SciPy asks for many products at one point (the inner
conjugate-gradient loop), so the model supplies an operator per point
(``hessian(params) -> (vector dict -> product dict)``) and the operator of
the last point asked about is kept. SciPy is imported on the first call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from softmax_ref._lbfgs import LbfgsOutcome
from softmax_ref._types import Params

__all__ = ["NEWTON_METHODS", "minimize_newton"]

Evaluate = Callable[[Params, int, bool], tuple[float, Params]]
Hessian = Callable[[Params], Callable[[Params], Params]]

#: The solver names of softmax_ref.training and SciPy's method for each.
NEWTON_METHODS = {"newton-cg": "Newton-CG", "trust-ncg": "trust-ncg"}


def minimize_newton(
    method: str,
    evaluate: Evaluate,
    hessian: Hessian,
    params: Params,
    max_iter: int,
    tol: float | None,
    on_iteration: Callable[[float], None],
) -> tuple[LbfgsOutcome, int]:
    """Minimise from ``params`` with ``method`` (a key of :data:`NEWTON_METHODS`).

    ``evaluate`` is as for softmax_ref/_lbfgs.py; ``tol`` is SciPy's ``xtol`` for
    Newton-CG (the mean step size at which it stops) and ``gtol`` (the gradient
    norm) for trust-ncg, 1e-5 and 1e-8 when None. Returns the outcome and the
    number of Hessian-vector products.
    """
    from scipy.optimize import minimize

    keys = list(params)
    shapes = [params[k].shape for k in keys]
    splits = np.cumsum([params[k].size for k in keys])[:-1]

    def unflatten(theta: np.ndarray) -> Params:
        return {
            k: part.reshape(s)
            for k, s, part in zip(keys, shapes, np.split(theta, splits), strict=True)
        }

    def flatten(arrays: Params) -> np.ndarray:
        return np.concatenate([np.ravel(arrays[k]) for k in keys]).astype(np.float64)

    n_evals = n_products = 0
    loss_curve: list[float] = []
    last: dict[str, Any] = {"x": None, "op": None}

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        nonlocal n_evals
        n_evals += 1
        loss, grads = evaluate(unflatten(theta), len(loss_curve) + 1, n_evals == 1)
        return loss, flatten(grads)

    def hessp(theta: np.ndarray, v: np.ndarray) -> np.ndarray:
        nonlocal n_products
        n_products += 1
        if last["x"] is None or not np.array_equal(last["x"], theta):
            last["x"], last["op"] = theta.copy(), hessian(unflatten(theta))
        return flatten(last["op"](unflatten(v)))

    def callback(intermediate_result: Any) -> None:
        loss_curve.append(float(intermediate_result.fun))
        on_iteration(float(intermediate_result.fun))

    options: dict[str, Any] = {"maxiter": max_iter}
    if method == "newton-cg":
        options["xtol"] = 1e-5 if tol is None else tol
    else:
        options["gtol"] = 1e-8 if tol is None else tol
    res = minimize(
        fun,
        flatten(params),
        method=NEWTON_METHODS[method],
        jac=True,
        hessp=hessp,
        callback=callback,
        options=options,
    )
    outcome = LbfgsOutcome(
        params={k: np.array(v) for k, v in unflatten(res.x).items()},
        n_iter=int(res.nit),
        loss_curve=loss_curve,
        converged=bool(res.success),
        message=str(res.message),
        n_evals=n_evals,
        final_loss=float(res.fun),
    )
    return outcome, n_products
