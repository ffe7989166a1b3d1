r"""A generic training loop over a dict of named parameter arrays.

The loop knows nothing of the model. It takes

* ``params``: a dict of float arrays, e.g. ``{"W": (D, C), "b": (C,)}`` or
  ``{"W1", "b1", "W2", "b2"}``; the caller's arrays are never modified;
* ``loss_and_grad(params, X, y, reg) -> (loss, grads)`` with ``grads`` a dict
  with the same keys and shapes;
* optionally ``score(params, X_val, y_val) -> float`` (higher is better) for
  early stopping;

and minimises the loss with one of the update rules of :mod:`softmax_ref.optim`
(``gd``, ``sgd``, ``momentum``, ``nesterov``, ``adam``) or with ``lbfgs``
(:func:`scipy.optimize.minimize`, method L-BFGS-B, driven by the analytic
gradient), or with a second-order solver, ``newton-cg`` or ``trust-ncg``
(:func:`scipy.optimize.minimize` with ``hessp``, driven by the model's
Hessian-vector product, which the caller passes as ``hessian``).

**Iterations.** For ``gd`` one iteration is one full-batch step. For the
other first-order solvers it is one epoch: a seeded shuffle of the samples and
one step per minibatch (``batch_size=None`` means one full batch, so one step).
For ``lbfgs`` it is one L-BFGS iteration, for ``newton-cg`` and ``trust-ncg``
one outer Newton iteration (each runs conjugate gradients on Hessian-vector
products). ``loss_curve`` holds one value per
iteration: the loss at the parameters the step started from (the mean over an
epoch's minibatches, weighted by batch size).

**Stopping.** ``max_iter`` always caps the run. With ``tol`` set, a first-order
run stops when the training loss has not fallen below its best by more than
``tol`` for ``n_iter_no_change`` iterations in a row (scikit-learn's
``MLPClassifier`` rule); for ``lbfgs``, ``tol`` is the projected-gradient
tolerance ``gtol``; for ``trust-ncg`` the gradient-norm tolerance ``gtol``; for
``newton-cg`` SciPy's ``xtol`` (the mean size of the last Newton step). With
validation data, the run stops after ``patience`` iterations in a row without a
*strictly* better validation score (the blog post's rule) and, with
``restore_best_weights``, returns a **copy** of the best parameters seen. The blog
post kept a reference to arrays that its update then changed in place, so it
returned the last weights instead; the update rules here also work in place, which
is why :func:`_snapshot` copies.

**Hyperparameters.** :class:`TrainConfig` states every rule once;
:func:`train` builds one from its arguments, the estimators and ``Softmax``
build theirs and call :func:`run_training`.

**Failing.** A loss or gradient that becomes NaN or infinite (too large a
learning rate, typically) raises :class:`TrainingDivergedError` naming the
iteration and suggesting a smaller learning rate. Training works on copies, so
the caller's parameters, and any model holding them, are untouched.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from softmax_ref._lbfgs import minimize_lbfgs
from softmax_ref._newton import NEWTON_METHODS, Hessian, minimize_newton
from softmax_ref._types import LossAndGrad, Params, Score
from softmax_ref._validation import check_bool, check_int, check_number, check_reg
from softmax_ref.optim import OPTIMIZERS, make_optimizer

__all__ = [
    "SOLVERS",
    "LossAndGrad",
    "Params",
    "TrainConfig",
    "TrainResult",
    "TrainingDivergedError",
    "run_training",
    "train",
]

SOLVERS = (*OPTIMIZERS, "lbfgs", *NEWTON_METHODS)
"""Every solver :func:`train` accepts."""

_TO_THE_OPTIMUM = ("lbfgs", *NEWTON_METHODS)

_FIRST_ORDER = "gd, sgd, momentum, nesterov, adam"


@dataclass(frozen=True)
class TrainConfig:
    r"""The hyperparameters of a training run, validated once, when the config is built.

    :func:`train`, the estimators' ``fit`` and the post's ``Softmax`` all build
    one, so every rule (ranges, types, which solver allows what) and every
    message lives here. Values are stored normalised (Python ``float`` /
    ``int`` / ``bool``, each of shape ``()``); the fields mean what
    :func:`train`'s arguments of the same names mean, whatever the shapes of
    the parameters trained (``W`` (D, C) and ``b`` (C,) for the linear model).

    Ranges: ``reg`` :math:`\ge 0`, ``learning_rate`` :math:`> 0`, ``max_iter``,
    ``n_iter_no_change``, ``patience`` and ``batch_size`` integers :math:`\ge 1`,
    ``tol`` :math:`\ge 0` or None, ``momentum``, ``beta_1``, ``beta_2`` in
    :math:`[0, 1)`, ``epsilon`` :math:`> 0`. ``gd`` takes no ``batch_size``,
    and ``early_stopping`` needs a first-order solver.

    Raises:
        ValueError, TypeError: naming the field, what it got and what it expects.

    Example:
        >>> TrainConfig(solver="adam", learning_rate=1e-3).learning_rate
        0.001
        >>> try:
        ...     TrainConfig(momentum=1.0)
        ... except ValueError as e:
        ...     print(e)
        momentum must be in [0, 1); got 1.0
    """

    solver: str = "gd"
    reg: float = 0.0
    learning_rate: float = 1e-2
    max_iter: int = 200
    tol: float | None = None
    n_iter_no_change: int = 10
    batch_size: int | None = None
    momentum: float = 0.9
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    early_stopping: bool = False
    patience: int = 10
    restore_best_weights: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.solver, str) or self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {list(SOLVERS)}; got {self.solver!r}")
        checked: dict[str, Any] = {
            "reg": check_reg(self.reg),
            "learning_rate": check_number(
                "learning_rate", self.learning_rate, low=0, low_open=True
            ),
            "max_iter": check_int("max_iter", self.max_iter, 1),
            "tol": None if self.tol is None else check_number("tol", self.tol, low=0),
            "n_iter_no_change": check_int("n_iter_no_change", self.n_iter_no_change, 1),
            "batch_size": None
            if self.batch_size is None
            else check_int("batch_size", self.batch_size, 1),
            "momentum": check_number("momentum", self.momentum, low=0, high=1),
            "beta_1": check_number("beta_1", self.beta_1, low=0, high=1),
            "beta_2": check_number("beta_2", self.beta_2, low=0, high=1),
            "epsilon": check_number("epsilon", self.epsilon, low=0, low_open=True),
            "early_stopping": check_bool("early_stopping", self.early_stopping),
            "patience": check_int("patience", self.patience, 1),
            "restore_best_weights": check_bool("restore_best_weights", self.restore_best_weights),
        }
        if self.solver == "gd" and checked["batch_size"] is not None:
            raise ValueError(
                "batch_size must be None for solver='gd' (full-batch gradient descent); "
                f"got {self.batch_size!r}. Use solver='sgd', 'momentum', 'nesterov' or 'adam' "
                "for minibatches"
            )
        if checked["early_stopping"] and self.solver in _TO_THE_OPTIMUM:
            raise ValueError(
                f"early stopping needs a first-order solver ({_FIRST_ORDER}); "
                f"solver={self.solver!r} minimises to the optimum"
            )
        for name, value in checked.items():
            # The dataclass is frozen; this is its constructor storing the normalised values.
            object.__setattr__(self, name, value)


class TrainingDivergedError(FloatingPointError):
    """The loss or gradient became NaN or infinite during training.

    A :class:`FloatingPointError` (an :class:`ArithmeticError`), not a
    :class:`ValueError`: the inputs were valid, the optimisation blew up.
    ``iteration`` is the 1-based iteration at which it happened.

    Example:
        >>> import numpy as np
        >>> def steep(p, X, y, reg):      # a finite gradient whose step overflows
        ...     return 0.0, {"w": np.array([1e300])}
        >>> try:
        ...     train(steep, {"w": np.zeros(1)}, np.zeros((1, 1)), np.zeros(1, int),
        ...           learning_rate=1e10)
        ... except TrainingDivergedError as e:
        ...     print(e.iteration, "smaller learning_rate" in str(e))
        1 True
    """

    def __init__(self, message: str, iteration: int) -> None:
        super().__init__(message)
        self.iteration = iteration


@dataclass
class TrainResult:
    """What :func:`train` returns: the parameters it ends with and the run's record.

    Attributes:
        params: the trained parameters, new arrays with the keys and shapes of
            the initial ones (``W`` (D, C), ``b`` (C,) for the linear model);
            with early stopping and ``restore_best_weights``, a copy of the best.
        n_iter: iterations run (steps for ``gd``, epochs for minibatch solvers,
            L-BFGS iterations for ``lbfgs``).
        loss_curve: the training loss, one value per iteration: ``(n_iter,)``.
        validation_scores: the validation score after each iteration,
            ``(n_iter,)``, or ``None`` without validation data.
        best_iteration: the 1-based iteration whose parameters were the best on
            validation data (and were restored), or ``None``.
        best_validation_score: the score at ``best_iteration``, or ``None``.
        converged: whether the run stopped by its own criterion (``tol``, early
            stopping, or L-BFGS convergence) rather than by ``max_iter``.
        stop_reason: a short human-readable reason.
        extra: solver-specific details (lbfgs: ``n_function_evals``, ``final_loss``).

    Example:
        Gradient descent on :math:`L = (w - 3)^2 / 2`, stopped early by a
        validation score that peaks at :math:`w = 2`; with ``patience=2`` the run
        stops two iterations after the best one and returns its weights.

        >>> import numpy as np
        >>> def lg(p, X, y, reg):
        ...     return 0.5 * float((p["w"][0] - 3.0) ** 2), {"w": p["w"] - 3.0}
        >>> def score(p, X_val, y_val):
        ...     return -abs(float(p["w"][0]) - 2.0)
        >>> res = train(lg, {"w": np.zeros(1)}, np.zeros((1, 1)), np.zeros(1, int),
        ...             learning_rate=0.5, X_val=np.zeros((1, 1)), y_val=np.zeros(1, int),
        ...             score=score, patience=2)
        >>> res.n_iter, res.loss_curve
        (4, [4.5, 1.125, 0.28125, 0.0703125])
        >>> res.validation_scores, res.best_iteration, res.params["w"]
        ([-0.5, -0.25, -0.625, -0.8125], 2, array([2.25]))
        >>> res.converged, res.stop_reason
        (True, 'no better validation score for 2 iterations')
    """

    params: Params
    n_iter: int
    loss_curve: list[float]
    validation_scores: list[float] | None = None
    best_iteration: int | None = None
    best_validation_score: float | None = None
    converged: bool = False
    stop_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _snapshot(params: Params) -> Params:
    """Independent copies of the arrays: the update rules modify them in place."""
    return {key: value.copy() for key, value in params.items()}


def _check_params(params: Any) -> Params:
    if not isinstance(params, dict) or not params:
        raise TypeError(f"params must be a non-empty dict of arrays; got {type(params).__name__}")
    out = {}
    for key, value in params.items():
        a = np.asarray(value)
        if a.dtype.kind != "f":
            raise TypeError(f"params[{key!r}] must be a float array; got dtype {a.dtype}")
        out[key] = a.copy()
    return out


def _diverged(
    iteration: int, solver: str, learning_rate: float, what: str, cause: Exception | None = None
) -> TrainingDivergedError:
    if solver in _TO_THE_OPTIMUM:
        hint = "increase reg or rescale the features"
    else:
        hint = f"try a smaller learning_rate, e.g. {learning_rate / 10:g} (now {learning_rate:g})"
    detail = f": {cause}" if cause is not None else ""
    return TrainingDivergedError(
        f"training diverged at iteration {iteration} (solver={solver!r}): {what}{detail}; "
        f"{hint}. The model's previous state is unchanged.",
        iteration,
    )


def _evaluate(
    loss_and_grad: LossAndGrad,
    params: Params,
    X: np.ndarray,
    y: np.ndarray,
    reg: float,
    iteration: int,
    solver: str,
    learning_rate: float,
    first: bool = False,
) -> tuple[float, Params]:
    """loss_and_grad, with NaN/inf (returned, or raised as ValueError) turned into divergence.

    A ValueError at the first evaluation (``first``) is the caller's data or
    initial parameters and passes through unchanged. Later, the same data have
    already been accepted, so a ValueError means the parameters left the finite
    range (the analytic core reports a non-finite W, or scores that overflowed,
    that way).
    """
    try:
        loss, grads = loss_and_grad(params, X, y, reg)
    except ValueError as exc:
        if first:
            raise
        raise _diverged(iteration, solver, learning_rate, "the loss is not finite", exc) from exc
    loss = float(loss)
    if not math.isfinite(loss):
        raise _diverged(iteration, solver, learning_rate, f"the loss became {loss}")
    for key, g in grads.items():
        if not np.all(np.isfinite(g)):
            raise _diverged(
                iteration, solver, learning_rate, f"the gradient of {key} is not finite"
            )
    return loss, grads


def _check_finite_params(params: Params, iteration: int, solver: str, learning_rate: float) -> None:
    # O(size of params) per step, small next to the O(N D C) gradient.
    for key, value in params.items():
        if not np.all(np.isfinite(value)):
            raise _diverged(
                iteration, solver, learning_rate, f"{key} is not finite after the update"
            )


class _Progress:
    """A tqdm bar showing the current loss when verbose; nothing (not even an import) otherwise."""

    def __init__(self, verbose: bool, total: int, desc: str) -> None:
        self.bar = None
        if verbose:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="it", leave=True)

    def update(self, loss: float, score: float | None = None) -> None:
        if self.bar is not None:
            post = {"loss": f"{loss:.6g}"}
            if score is not None:
                post["val"] = f"{score:.4g}"
            self.bar.set_postfix(post, refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _batches(n: int, batch_size: int | None, rng: np.random.Generator) -> Iterator[np.ndarray]:
    if batch_size is None or batch_size >= n:
        yield np.arange(n)
        return
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def train(
    loss_and_grad: LossAndGrad,
    params: Params,
    X: np.ndarray,
    y: np.ndarray,
    *,
    reg: float = 0.0,
    solver: str = "gd",
    learning_rate: float = 1e-2,
    max_iter: int = 200,
    tol: float | None = None,
    n_iter_no_change: int = 10,
    batch_size: int | None = None,
    momentum: float = 0.9,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-8,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    score: Score | None = None,
    patience: int = 10,
    restore_best_weights: bool = True,
    rng: np.random.Generator | None = None,
    verbose: bool = False,
    desc: str = "training",
    hessian: Hessian | None = None,
) -> TrainResult:
    r"""Minimise ``loss_and_grad`` over ``params``; see the module docstring for the rules.

    Args:
        loss_and_grad: ``(params, X, y, reg) -> (loss, grads)``, grads keyed like params.
        params: initial parameters, a dict of float arrays; copied, never modified.
        X: training samples ``(N, D)``, already validated by the caller.
        y: training labels ``(N,)``, integers in ``[0, C)``.
        reg: the L2 strength passed to ``loss_and_grad``.
        solver: one of :data:`SOLVERS`.
        learning_rate: step size of the first-order rules (unused by ``lbfgs``).
        max_iter: the cap on iterations, always applied.
        tol: convergence tolerance (see the module docstring); ``None`` runs
            until ``max_iter`` or early stopping.
        n_iter_no_change: iterations without a ``tol`` improvement before stopping.
        batch_size: minibatch size for ``sgd``, ``momentum``, ``nesterov`` and
            ``adam``; ``None`` is the full batch. ``gd`` is always full-batch.
        momentum, beta_1, beta_2, epsilon: hyperparameters of the update rules.
        X_val, y_val: validation data; enables early stopping (needs ``score``).
        score: ``(params, X_val, y_val) -> float``, higher is better (accuracy).
        patience: iterations in a row without a strictly better validation score
            before stopping.
        restore_best_weights: return (a copy of) the best parameters on
            validation data rather than the last ones.
        rng: the generator for minibatch shuffles; ``None`` gives
            ``np.random.default_rng(0)`` (no hidden global state).
        verbose: show a tqdm progress bar with the current loss.
        desc: the progress bar's label.
        hessian: for ``newton-cg`` and ``trust-ncg``, ``hessian(params, X, y, reg)``
            returns the Hessian (or a positive semi-definite stand-in such as
            Gauss-Newton) at ``params`` as a function ``vector -> product``, both
            dicts keyed like ``params``.

    Returns:
        A :class:`TrainResult`.

    Raises:
        TrainingDivergedError: the loss or gradient became NaN or infinite.
        ValueError, TypeError: for an invalid solver or hyperparameter.

    Example:
        Least squares on one parameter, :math:`L = (w - 3)^2 / 2`:

        >>> import numpy as np
        >>> def lg(p, X, y, reg):
        ...     return 0.5 * float((p["w"][0] - 3.0) ** 2), {"w": p["w"] - 3.0}
        >>> res = train(lg, {"w": np.zeros(1)}, np.zeros((1, 1)), np.zeros(1, int),
        ...             learning_rate=0.5, max_iter=3)
        >>> res.params["w"], res.loss_curve   # halfway to 3 at every step
        (array([2.625]), [4.5, 1.125, 0.28125])
    """
    validating = X_val is not None or y_val is not None
    config = TrainConfig(
        solver=solver,
        reg=reg,
        learning_rate=learning_rate,
        max_iter=max_iter,
        tol=tol,
        n_iter_no_change=n_iter_no_change,
        batch_size=batch_size,
        momentum=momentum,
        beta_1=beta_1,
        beta_2=beta_2,
        epsilon=epsilon,
        early_stopping=validating,
        patience=patience,
        restore_best_weights=restore_best_weights,
    )
    return run_training(
        loss_and_grad,
        params,
        X,
        y,
        config,
        X_val=X_val,
        y_val=y_val,
        score=score,
        rng=rng,
        verbose=verbose,
        desc=desc,
        hessian=hessian,
    )


def run_training(
    loss_and_grad: LossAndGrad,
    params: Params,
    X: np.ndarray,
    y: np.ndarray,
    config: TrainConfig,
    *,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    score: Score | None = None,
    rng: np.random.Generator | None = None,
    verbose: bool = False,
    desc: str = "training",
    hessian: Any = None,
) -> TrainResult:
    r"""Minimise ``loss_and_grad`` over ``params`` with the hyperparameters of ``config``.

    :func:`train` with its hyperparameters already validated: the estimators
    and ``Softmax`` build their :class:`TrainConfig` once and call this.
    Arguments other than ``config`` and the result are those of :func:`train`;
    ``config.early_stopping`` must be True exactly when ``X_val`` is given.

    Example:
        Gradient descent on :math:`L = (w - 3)^2 / 2` (params ``w`` of shape (1,)):

        >>> import numpy as np
        >>> def lg(p, X, y, reg):
        ...     return 0.5 * float((p["w"][0] - 3.0) ** 2), {"w": p["w"] - 3.0}
        >>> config = TrainConfig(learning_rate=0.5, max_iter=2)
        >>> run_training(lg, {"w": np.zeros(1)}, np.zeros((1, 1)), np.zeros(1, int), config).params
        {'w': array([2.25])}
    """
    validating = X_val is not None or y_val is not None
    if validating and (X_val is None or y_val is None or score is None):
        raise ValueError("early stopping needs X_val, y_val and score together")
    if validating != config.early_stopping:
        raise ValueError(
            f"config.early_stopping={config.early_stopping} but validation data were "
            f"{'given' if validating else 'not given'}; set both or neither"
        )
    solver, reg, max_iter, tol = config.solver, config.reg, config.max_iter, config.tol
    learning_rate, batch_size = config.learning_rate, config.batch_size
    n_iter_no_change, patience = config.n_iter_no_change, config.patience
    restore_best_weights = config.restore_best_weights
    if solver == "sgd" and batch_size is None:
        batch_size = min(200, X.shape[0])  # scikit-learn's "auto"
    current = _check_params(params)
    if rng is None:
        rng = np.random.default_rng(0)
    if solver == "lbfgs":
        return _train_lbfgs(loss_and_grad, current, X, y, config, verbose, desc)
    if solver in NEWTON_METHODS:
        if hessian is None:
            raise ValueError(
                f"solver={solver!r} needs the model's Hessian-vector product: pass "
                "hessian=(params, X, y, reg) -> (vector -> product)"
            )
        return _train_newton(loss_and_grad, hessian, current, X, y, config, verbose, desc)
    rule = make_optimizer(
        solver,
        learning_rate,
        momentum=config.momentum,
        beta_1=config.beta_1,
        beta_2=config.beta_2,
        epsilon=config.epsilon,
    )

    n = X.shape[0]
    loss_curve: list[float] = []
    val_scores: list[float] | None = [] if validating else None
    best_score, best_iter, best_params = -math.inf, None, None
    since_best = 0
    best_loss, since_loss_improved = math.inf, 0
    converged, reason = False, f"reached max_iter={max_iter}"
    progress = _Progress(verbose, max_iter, desc)
    it = n_steps = 0
    try:
        for it in range(1, max_iter + 1):
            epoch_loss = 0.0
            for idx in _batches(n, batch_size, rng):
                full = idx.shape[0] == n
                Xb, yb = (X, y) if full else (X[idx], y[idx])
                loss, grads = _evaluate(
                    loss_and_grad, current, Xb, yb, reg, it, solver, learning_rate, n_steps == 0
                )
                n_steps += 1
                # Overflow in the update is reported below, as divergence, not as a warning.
                with np.errstate(over="ignore", invalid="ignore"):
                    rule.step(current, grads)
                _check_finite_params(current, it, solver, learning_rate)
                epoch_loss += loss * idx.shape[0]
            epoch_loss /= n
            loss_curve.append(epoch_loss)

            val = None
            if val_scores is not None:
                val = float(score(current, X_val, y_val))  # type: ignore[misc,arg-type]
                val_scores.append(val)
                if val > best_score:  # strictly better, as the post counts
                    best_score, best_iter, best_params = val, it, _snapshot(current)
                    since_best = 0
                else:
                    since_best += 1
            progress.update(epoch_loss, val)

            if val_scores is not None and since_best >= patience:
                converged = True
                reason = f"no better validation score for {patience} iterations"
                break
            if tol is not None:
                if epoch_loss > best_loss - tol:
                    since_loss_improved += 1
                else:
                    since_loss_improved = 0
                best_loss = min(best_loss, epoch_loss)
                if since_loss_improved >= n_iter_no_change:
                    converged = True
                    reason = (
                        f"training loss improved by less than tol={tol:g} "
                        f"for {n_iter_no_change} iterations"
                    )
                    break
    finally:
        progress.close()

    final = current
    if val_scores is not None and restore_best_weights and best_params is not None:
        final = best_params
    return TrainResult(
        params=final,
        n_iter=it,
        loss_curve=loss_curve,
        validation_scores=val_scores,
        best_iteration=best_iter,
        best_validation_score=None if best_iter is None else best_score,
        converged=converged,
        stop_reason=reason,
    )


def _train_lbfgs(
    loss_and_grad: LossAndGrad,
    params: Params,
    X: np.ndarray,
    y: np.ndarray,
    config: TrainConfig,
    verbose: bool,
    desc: str,
) -> TrainResult:
    """L-BFGS-B (softmax_ref/_lbfgs.py) with this loop's NaN guard and progress bar."""
    progress = _Progress(verbose, config.max_iter, desc)

    def evaluate(p: Params, iteration: int, first: bool) -> tuple[float, Params]:
        return _evaluate(loss_and_grad, p, X, y, config.reg, iteration, "lbfgs", 0.0, first)

    try:
        out = minimize_lbfgs(evaluate, params, config.max_iter, config.tol, progress.update)
    finally:
        progress.close()
    return TrainResult(
        params=out.params,
        n_iter=out.n_iter,
        loss_curve=out.loss_curve,
        converged=out.converged,
        stop_reason=out.message,
        extra={"n_function_evals": out.n_evals, "final_loss": out.final_loss},
    )


def _train_newton(
    loss_and_grad: LossAndGrad,
    hessian: Any,
    params: Params,
    X: np.ndarray,
    y: np.ndarray,
    config: TrainConfig,
    verbose: bool,
    desc: str,
) -> TrainResult:
    """Newton-CG or trust-ncg (softmax_ref/_newton.py) with this loop's NaN guard."""
    progress = _Progress(verbose, config.max_iter, desc)
    solver = config.solver

    def evaluate(p: Params, iteration: int, first: bool) -> tuple[float, Params]:
        return _evaluate(loss_and_grad, p, X, y, config.reg, iteration, solver, 0.0, first)

    def at(p: Params) -> Any:
        return hessian(p, X, y, config.reg)

    try:
        out, n_products = minimize_newton(
            solver, evaluate, at, params, config.max_iter, config.tol, progress.update
        )
    finally:
        progress.close()
    return TrainResult(
        params=out.params,
        n_iter=out.n_iter,
        loss_curve=out.loss_curve,
        converged=out.converged,
        stop_reason=out.message,
        extra={
            "n_function_evals": out.n_evals,
            "n_hessian_products": n_products,
            "final_loss": out.final_loss,
        },
    )
