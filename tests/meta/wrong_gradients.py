"""A catalog of deliberately wrong softmax derivations, for the meta-tests.

Each entry is a function with ``softmax_ref.loss_and_grad``'s signature,
``(W, b, X, y, reg) -> (loss, dW, db)``, that gets something wrong the way a
hand derivation does. :func:`derive` is the derivation written once from the
math (docs/derivation.md, "The result"), with a switch per flaw; with no flaw
it is correct, and ``test_mutants.py`` shows the check passes it, so every failure of a mutant is
due to its flaw alone.

``CATALOG`` maps a name to ``(function, what is wrong, consistent)``, where
``consistent`` says the flaw changes loss and gradient together, so the
gradient is the true gradient of a wrong loss: FD of the analytic's own
forward would agree with it, which is why the check differentiates the
oracle's forward instead.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

LossAndGrad = Callable[..., tuple[Any, np.ndarray, np.ndarray]]


def derive(W, b, X, y, reg=0.0, *, flaw: str | None = None):
    """Softmax loss and gradient from the math, with at most one named flaw."""
    W, b, X = (np.asarray(a, dtype=np.float64) for a in (W, b, X))
    y = np.asarray(y)
    n, c = X.shape[0], W.shape[1]
    if flaw == "labels_shifted":  # off-by-one class indexing, in loss and gradient alike
        y = (y + 1) % c
    F = X @ W + b
    if flaw != "no_max_shift":
        F = F - F.max(axis=1, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        E = np.exp(F)
        P = E / E.sum(axis=1, keepdims=True)
        if flaw == "float32_round_trip":
            P = P.astype(np.float32).astype(np.float64)
        rows = np.arange(n)
        # s: the sum of exp over every class but the row's winner a (whose shifted
        # term is exactly 1), so that log1p(s) and -s / (1 + s) keep its last digits.
        a = np.argmax(F, axis=1)
        E_rest = E.copy()
        E_rest[rows, a] = 0
        s = E_rest.sum(axis=1)
        if flaw == "minus_log_probs":  # the blog post's loss: -log(0) = inf once P underflows
            data = np.mean(-np.log(P[rows, y]))
        elif flaw == "no_max_shift":
            data = np.mean(np.log(E.sum(axis=1)) - F[rows, y])
        else:
            data = np.mean(np.log1p(s) - F[rows, y])
        if flaw == "mean_is_sum":
            data = data * n
        penalty = 0.5 * reg * np.sum(W * W)
        if flaw == "reg_doubled":
            penalty = 2 * penalty
        if flaw == "reg_no_half_in_loss":
            penalty = 2 * penalty
        if flaw == "reg_on_bias":
            penalty = penalty + 0.5 * reg * np.sum(b * b)
        loss = data + penalty

        R = P.copy()  # P - Y
        if flaw == "softmax_wrong_axis":
            R = E / E.sum(axis=0, keepdims=True)
        if flaw == "no_max_shift":
            R[rows, y] -= 1
        elif flaw != "forgot_minus_one":
            # p_y - 1, which is -s / (1 + s) without cancellation where the label wins
            R[rows, y] = np.where(y == a, -s / (1 + s), P[rows, y] - 1)
        if flaw != "missing_1_over_n":
            R /= n
        if flaw == "mean_is_sum":
            R *= n
        Xg = X[::-1] if flaw == "samples_misaligned" else X
        dW = Xg.T @ R
        db = R.sum(axis=0)
        if flaw == "reg_doubled":
            dW += 2 * reg * W
        elif flaw != "reg_missing_in_grad":
            dW += reg * W
        if flaw == "reg_on_bias":
            db += reg * b
    if flaw == "dW_times_1001":
        dW = dW * 1.001
    if flaw == "one_entry_1e-6":
        dW[0, 0] *= 1 + 1e-6
    if flaw == "db_wrong_sign":
        db = -db
    return loss, dW, db


CATALOG: dict[str, tuple[LossAndGrad, str, bool]] = {
    name: (partial(derive, flaw=name), what, consistent)
    for name, what, consistent in [
        ("dW_times_1001", "dW scaled by 1.001 (passes atol 1e-5 + rtol 1e-3)", False),
        ("missing_1_over_n", "the gradient misses the mean's 1/N; the loss has it", False),
        ("reg_missing_in_grad", "dW lacks reg W; the loss has the penalty", False),
        ("reg_doubled", "reg sum(W^2) in the loss and 2 reg W in dW", True),
        ("reg_no_half_in_loss", "the loss lacks the 1/2 of the penalty; dW = ... + reg W", False),
        ("reg_on_bias", "the penalty also applied to b, in loss and db", True),
        ("forgot_minus_one", "P instead of P - Y: the -1 on the correct class forgotten", False),
        ("labels_shifted", "labels shifted by one class, in loss and gradient", True),
        ("one_entry_1e-6", "dW[0, 0] off by one part in a million", False),
        ("no_max_shift", "exp(F) without subtracting the row max, in loss and gradient", True),
        ("minus_log_probs", "the loss as -log(softmax): inf where a probability underflows", False),
        ("float32_round_trip", "probabilities rounded through float32 in the float64 path", False),
        ("db_wrong_sign", "db with the wrong sign", False),
        ("mean_is_sum", "sum over samples instead of mean, in loss and gradient", True),
        ("softmax_wrong_axis", "the gradient's softmax normalised over samples (axis 0)", False),
        ("samples_misaligned", "dW pairs x_n with another sample's residual (X reversed)", False),
    ]
}


def correct(W, b, X, y, reg=0.0):
    """:func:`derive` without a flaw."""
    return derive(W, b, X, y, reg)
