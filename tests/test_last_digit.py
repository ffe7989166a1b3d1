"""Full relative accuracy where predictions are confident, against a 50-digit truth.

Where a label wins by a gap g, the loss and 1 - p_y are about e^-g: below
1e-16 at g = 37, where ``log(1 + s)`` rounds to 0 and ``1 / (1 + s) - 1`` to 0.
Every route (the fast kernel, its blocked and streaming forms, the dense form,
the naive loops, ``loss``, ``log_softmax``, the two-layer network's output
layer) is held, entry by entry, to the truth of ``verification.truth`` with a
relative tolerance from the table (``exact_rtol``) times the size of the terms
that round into the entry: that size is the entry itself wherever one sample
makes it, so tiny entries get no absolute floor to hide in. The meta-tests
show that the textbook formulas fail the same checks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import softmax_ref as sr
from softmax_ref import two_layer
from verification.strategies import Problem, confident_problems
from verification.tolerances import tolerances_for
from verification.truth import softmax_truth

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

BASE = settings().max_examples


def _share(fraction: float) -> settings:
    """A share of the active profile's max_examples (at least 5), as the property suite."""
    return settings(max_examples=max(5, math.ceil(fraction * BASE)))


Route = Callable[..., tuple[Any, np.ndarray, np.ndarray]]


def _streaming(W: Any, b: Any, X: Any, y: Any, reg: float) -> tuple[Any, Any, Any]:
    # Several chunks, blocks of two rows, two lanes: the blocked kernel and its sums.
    chunks = [(X[:3], y[:3]), (X[3:], y[3:])]
    return sr.loss_and_grad_streaming(W, b, chunks, reg, n_threads=2, block_rows=2)


ROUTES: dict[str, Route] = {
    "fast": sr.loss_and_grad,
    "streaming": _streaming,
    "dense": sr.loss_and_grad_dense,
    "naive": sr.loss_and_grad_naive,
}


def _magnitudes(logp: np.ndarray, y: np.ndarray) -> np.ndarray:
    """|P - Y| (N, C) from the truth's log-probabilities: p off the label, 1 - p_y at it."""
    A = np.exp(logp)
    rows = np.arange(len(y))
    A[rows, y] = -np.expm1(logp[rows, y])
    return A


def _excess(got: Any, want: Any, scale: Any, rtol: float, floor: float = 0.0) -> float:
    """The largest |got - want| / (rtol * scale + floor) over the entries: at most 1 passes."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(got - want) / (rtol * np.asarray(scale, dtype=np.float64) + floor)
    ratio = np.where(got == want, 0.0, ratio)
    return float(np.max(ratio))


def check_against_truth(p: Problem, route: Route) -> None:
    """Loss, dW and db of ``route`` on ``p`` within exact_rtol of the truth, entry by entry.

    Scales: the loss is a sum of non-negative terms plus the penalty, so its own
    size (it stays normal: every label leads by at most 700); dW's entry (d, c)
    sums X_nd (P - Y)_nc / N (+ reg W_dc), so the sum of those terms' sizes; db
    likewise. db must also sum to 0 within that rounding.
    """
    rtol = tolerances_for(p.dtype).exact_rtol
    L, dW, db, logp = softmax_truth(*p.args)
    A = _magnitudes(logp, p.y)
    n = len(p.y)
    X, W = p.X.astype(np.float64), p.W.astype(np.float64)
    scale_W = np.abs(X).T @ A / n + p.reg * np.abs(W)
    scale_b = A.sum(axis=0) / n
    # A class far behind has a subnormal probability (past a gap of ~87 in float32,
    # ~708 in float64), which no dtype holds to relative accuracy: each of the N terms
    # of an entry and the three operations making a term (exp, times 1 / (1 + s), the
    # mean) may round by half the subnormal spacing.
    floor = (n + 3) * float(np.finfo(p.dtype).smallest_subnormal)
    got_L, got_dW, got_db = route(*p.args)
    errors = {
        "loss": _excess(got_L, L, abs(L), rtol),
        "dW": _excess(got_dW, dW, scale_W, rtol, floor),
        "db": _excess(got_db, db, scale_b, rtol, floor),
        "sum(db)": _excess(np.sum(got_db, dtype=np.float64), 0.0, scale_b.sum(), rtol, floor),
    }
    bad = {k: v for k, v in errors.items() if not v <= 1.0}
    assert not bad, f"{p.family}: error / tolerance {bad} (loss {got_L!r}, truth {L!r})"


# A sample that wins by 40: the loss is 4.2e-18, below the rounding of 1 + s.
GAP_40 = Problem(
    W=np.zeros((1, 2)),
    b=np.array([40.0, 0.0]),
    X=np.zeros((1, 1)),
    y=np.array([0]),
    reg=0.0,
    family="confident",
)


@pytest.mark.parametrize("route", ROUTES)
@given(p=confident_problems())
@_share(0.4)
@example(p=GAP_40)
def test_routes_match_the_truth_float64(route: str, p: Problem) -> None:
    check_against_truth(p, ROUTES[route])


@pytest.mark.parametrize("route", ROUTES)
@given(p=confident_problems(np.float32))
@_share(0.4)
def test_routes_match_the_truth_float32(route: str, p: Problem) -> None:
    check_against_truth(p, ROUTES[route])


@pytest.mark.parametrize("gap", [15.0, 20.0, 30.0, 36.0, 40.0, 100.0, 700.0])
@pytest.mark.parametrize("route", ROUTES)
def test_two_classes_at_each_gap(gap: float, route: str) -> None:
    # The scores [gap, 0] and [0, -gap], label on the winner, as bias or as weights.
    p = Problem(
        W=np.array([[0.0, -gap]]),
        b=np.array([gap, gap]),
        X=np.array([[1.0], [0.0]]),
        y=np.array([0, 0]),
        reg=0.0,
        family="confident",
    )
    check_against_truth(p, ROUTES[route])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(data=st.data())
@_share(0.3)
def test_forward_loss_and_log_softmax_match_the_truth(dtype: Any, data: st.DataObject) -> None:
    p = data.draw(confident_problems(dtype))
    rtol = tolerances_for(dtype).exact_rtol
    L, _, _, logp = softmax_truth(*p.args)
    assert _excess(sr.loss(*p.args), L, abs(L), rtol) <= 1
    # Every entry of log_softmax to its own relative accuracy, the winner's
    # -log1p(s) (about -e^-g) included.
    assert _excess(sr.log_softmax(p.X @ p.W + p.b), logp, np.abs(logp), rtol) <= 1


@pytest.mark.parametrize("naive", [False, True])
@given(p=confident_problems())
@_share(0.2)
def test_two_layer_output_layer_matches_the_truth(naive: bool, p: Problem) -> None:
    # W1 = I and b1 = 0 make the hidden layer relu(X), so the output layer is the
    # linear model on relu(X): its loss, dW2 and db2 have the linear truth.
    X = p.X
    H = np.maximum(X, 0)
    d = X.shape[1]
    params = {"W1": np.eye(d), "b1": np.zeros(d), "W2": p.W, "b2": p.b}
    fn = two_layer.loss_and_grad_naive if naive else two_layer.loss_and_grad
    hidden = Problem(W=p.W, b=p.b, X=H, y=p.y, reg=0.0, family=p.family)

    def output_layer(W: Any, b: Any, X_: Any, y: Any, reg: float) -> tuple[Any, Any, Any]:
        value, grads = fn(params, X, y, 0.0)
        return value, grads["W2"], grads["b2"]

    check_against_truth(hidden, output_layer)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("label", [0, 1, 2])
def test_tied_winners_and_an_absent_class(route: str, label: int) -> None:
    # Classes 0 and 1 tie for the lead, 35 ahead of class 2; class 3 never occurs.
    p = Problem(
        W=np.zeros((1, 4)),
        b=np.array([35.0, 35.0, 0.0, -5.0]),
        X=np.ones((2, 1)),
        y=np.array([label, 0]),
        reg=0.0,
        family="confident",
    )
    check_against_truth(p, ROUTES[route])


# --- meta-tests: the textbook formulas fail these checks ---------------------------------


def _lead(p: Problem) -> float:
    """The smallest lead of a label over the best other class, over the samples."""
    F = p.X @ p.W + p.b
    rows = np.arange(len(p.y))
    others = np.where(np.eye(F.shape[1], dtype=bool)[p.y], -np.inf, F)
    return float(np.min(F[rows, p.y] - others.max(axis=1)))


def _textbook(loss_log1p: bool, grad_direct: bool) -> Route:
    """The dense form with the loss as log(1 + s) and/or p_y - 1 as 1 / (1 + s) - 1."""

    def route(W: Any, b: Any, X: Any, y: Any, reg: float) -> tuple[Any, Any, Any]:
        F = X @ W + b
        n, rows = len(y), np.arange(len(y))
        shifted = F - F.max(axis=1, keepdims=True)
        total = np.exp(shifted).sum(axis=1)  # 1 + s, rounded
        if loss_log1p:
            log_p_y = sr.log_softmax(F)[rows, y]
        else:
            log_p_y = shifted[rows, y] - np.log(total)  # log(1 + s)
        G = np.exp(shifted) / total[:, None]
        if grad_direct:
            G[rows, y] = np.expm1(sr.log_softmax(F)[rows, y])
        else:
            G[rows, y] -= 1  # 1 / (1 + s) - 1
        value = -np.mean(log_p_y) + 0.5 * reg * np.sum(W * W)
        return value, X.T @ G / n + reg * W, G.sum(axis=0) / n

    return route


@pytest.mark.parametrize(
    ("loss_log1p", "grad_direct"), [(False, True), (True, False), (False, False)]
)
def test_meta_textbook_formulas_are_caught(loss_log1p: bool, grad_direct: bool) -> None:
    mutant = _textbook(loss_log1p, grad_direct)
    # Every label ahead by 40 or more (one-hot X: W holds the scores), and no
    # penalty for the loss's error to hide in.
    p = Problem(
        W=np.array([[40.0, 0.0, -3.0], [-50.0, 0.0, -41.5], [1.0, 45.0, -2.0]]),
        b=np.zeros(3),
        X=np.eye(3),
        y=np.array([0, 1, 1]),
        reg=0.0,
        family="confident",
    )
    assert _lead(p) >= 40
    with pytest.raises(AssertionError, match="error / tolerance"):
        check_against_truth(p, mutant)
    # At gap 5 both formulas keep their digits: the check is not failing everything.
    easy = Problem(
        W=np.zeros((1, 2)), b=np.array([5.0, 0.0]), X=np.ones((1, 1)), y=np.array([0]),
        reg=0.0, family="ordinary",
    )  # fmt: skip
    check_against_truth(easy, mutant)


def test_meta_the_fixed_formulas_pass_the_same_problem() -> None:
    # The mutant with both fixes is the dense form itself: the checks above
    # fail the formulas, not the mutants' plumbing.
    mutant = _textbook(loss_log1p=True, grad_direct=True)
    check_against_truth(GAP_40, mutant)


def test_three_way_check_compares_confident_entries_relatively():
    # Labels ahead by 40 and 30: entries of 4e-18 and 9e-14, once hidden under an
    # absolute floor of ~1e-12; the oracle (log1p) and the check now resolve them.
    from verification.models import check_softmax

    # Scores [40, 0, 10] and [40, -10, 10]: the runner-up 30 behind in both.
    W, b = np.array([[0.0, 10.0, 0.0]]), np.array([40.0, 0.0, 10.0])
    args = (W, b, np.array([[0.0], [-1.0]]), np.array([0, 0]), 0.0)
    report = check_softmax(*args, analytic=sr.loss_and_grad)
    assert report.ok, str(report)
    for loss_log1p, grad_direct in [(False, True), (True, False)]:
        bad = check_softmax(*args, analytic=_textbook(loss_log1p, grad_direct))
        assert (bad.ok, bad.blame) == (False, "ANALYTIC"), str(bad)
