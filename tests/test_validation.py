"""Every bad input to the analytic core gets a clear error naming the argument.

Each case asserts the exception type, that the message names the argument,
and that nothing the caller passed was changed.
"""

from __future__ import annotations

import numpy as np
import pytest

import softmax_ref as sr
from softmax_ref import _validation as checks

ENTRY_POINTS = [sr.loss, sr.loss_and_grad, sr.loss_and_grad_dense, sr.loss_and_grad_naive]


def good():
    rng = np.random.default_rng(0)
    return {
        "W": rng.normal(size=(3, 4)),
        "b": rng.normal(size=4),
        "X": rng.normal(size=(5, 3)),
        "y": np.array([0, 1, 2, 3, 0]),
        "reg": 0.1,
    }


def with_nonfinite(name, value):
    def make():
        p = good()
        p[name] = p[name].copy()
        p[name][(0,) * p[name].ndim] = value
        return p

    return make


def replaced(**kw):
    def make():
        p = good()
        p.update(kw)
        return p

    return make


# (id, problem maker, exception, a string the message must contain)
BAD_INPUTS = [
    ("X-1d", replaced(X=np.ones(3)), ValueError, "X must have 2 dimension"),
    ("X-3d", replaced(X=np.ones((5, 3, 1))), ValueError, "X must have 2 dimension"),
    ("W-1d", replaced(W=np.ones(3)), ValueError, "W must have 2 dimension"),
    ("b-2d", replaced(b=np.ones((1, 4))), ValueError, "b must have 1 dimension"),
    ("y-2d", replaced(y=np.zeros((5, 1), dtype=int)), ValueError, "y must have 1 dimension"),
    ("W-rows", replaced(W=np.ones((2, 4))), ValueError, "W must have shape (D, C) with D = 3"),
    ("b-length", replaced(b=np.ones(3)), ValueError, "b must have shape (C,) = (4,)"),
    ("y-length", replaced(y=np.zeros(4, dtype=int)), ValueError, "y must have one label per row"),
    (
        "N-zero",
        replaced(X=np.ones((0, 3)), y=np.zeros(0, dtype=int)),
        ValueError,
        "X must hold at least one sample",
    ),
    (
        "D-zero",
        replaced(X=np.ones((5, 0)), W=np.ones((0, 4))),
        ValueError,
        "X must hold at least one feature",
    ),
    (
        "C-zero",
        replaced(W=np.ones((3, 0)), b=np.ones(0)),
        ValueError,
        "W must have at least one class",
    ),
    (
        "y-float",
        replaced(y=np.array([0.0, 1, 2, 3, 0])),
        TypeError,
        "y must hold integer class labels",
    ),
    (
        "y-bool",
        replaced(y=np.array([True, False, True, False, True])),
        TypeError,
        "y must hold integer",
    ),
    ("y-strings", replaced(y=np.array(["a"] * 5)), TypeError, "y must hold integer"),
    (
        "y-too-big",
        replaced(y=np.array([0, 1, 2, 4, 0])),
        ValueError,
        "y must hold labels in [0, 4)",
    ),
    ("y-negative", replaced(y=np.array([0, -1, 2, 3, 0])), ValueError, "got y[1] = -1"),
    ("reg-negative", replaced(reg=-0.1), ValueError, "reg must be a finite number >= 0"),
    ("reg-nan", replaced(reg=float("nan")), ValueError, "reg must be a finite number"),
    ("reg-inf", replaced(reg=float("inf")), ValueError, "reg must be a finite number"),
    ("reg-string", replaced(reg="0.1"), TypeError, "reg must be a real number"),
    ("reg-array", replaced(reg=np.array([0.1])), TypeError, "reg must be a real number"),
    ("X-strings", replaced(X=np.array([["a"] * 3] * 5)), TypeError, "X must hold real numbers"),
    (
        "X-complex",
        replaced(X=np.ones((5, 3), dtype=complex)),
        TypeError,
        "X must hold real numbers",
    ),
    ("X-object", replaced(X=np.array([[None] * 3] * 5)), TypeError, "X must hold real numbers"),
    ("W-ragged", replaced(W=[[1.0, 2.0], [3.0]]), TypeError, "W must be a numeric array"),
    ("X-nan", with_nonfinite("X", np.nan), ValueError, "X must be finite; got nan at X[0, 0]"),
    ("X-inf", with_nonfinite("X", np.inf), ValueError, "X must be finite; got inf at X[0, 0]"),
    ("X-neg-inf", with_nonfinite("X", -np.inf), ValueError, "X must be finite; got -inf"),
    ("W-nan", with_nonfinite("W", np.nan), ValueError, "W must be finite; got nan at W[0, 0]"),
    ("W-inf", with_nonfinite("W", np.inf), ValueError, "W must be finite"),
    ("b-nan", with_nonfinite("b", np.nan), ValueError, "b must be finite; got nan at b[0]"),
    ("b-inf", with_nonfinite("b", np.inf), ValueError, "b must be finite"),
]


@pytest.mark.parametrize("fn", ENTRY_POINTS)
@pytest.mark.parametrize(
    ("make", "exc", "message"), [pytest.param(*c[1:], id=c[0]) for c in BAD_INPUTS]
)
def test_bad_input_is_named(fn, make, exc, message):
    problem = make()
    before = {
        k: np.array(v, dtype=object, copy=True) if isinstance(v, list) else np.copy(v)
        for k, v in problem.items()
    }
    with pytest.raises(exc) as info:
        fn(**problem)
    assert message in str(info.value)
    for k, v in problem.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(v, before[k], err_msg=f"{k} was modified")


@pytest.mark.parametrize("fn", ENTRY_POINTS)
def test_nonfinite_bias_of_an_absent_class_is_rejected(fn):
    # b = -inf for a class no sample has leaves the loss finite (its probability is 0,
    # its gradient 0), so the result cannot reveal it: W and b are checked up front.
    p = good()
    p["y"] = np.array([0, 1, 2, 0, 1])  # class 3 absent
    p["b"] = p["b"].copy()
    p["b"][3] = -np.inf
    with pytest.raises(ValueError, match=r"b must be finite; got -inf at b\[3\]"):
        fn(**p)


def test_overflowing_scores_are_reported():
    # Finite inputs whose scores overflow float64: the error says so instead of returning inf.
    W = np.full((2, 2), 1e200)
    with pytest.raises(ValueError, match="overflowed"):
        sr.loss_and_grad(W, np.zeros(2), np.full((1, 2), 1e200), np.array([0]))


def test_labels_of_any_integer_dtype():
    p = good()
    ref = sr.loss(**p)
    for dtype in (np.int8, np.uint8, np.int32, np.uint64):
        p["y"] = good()["y"].astype(dtype)
        assert sr.loss(**p) == ref


# --- the scalar checkers every module shares ------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "value", "exc", "message"),
    [
        ({"low": 0, "low_open": True}, 0.0, ValueError, "lr must be a finite number > 0; got 0.0"),
        ({"low": 0}, -1, ValueError, "lr must be a finite number >= 0; got -1"),
        ({"low": 0}, float("inf"), ValueError, "lr must be a finite number >= 0; got inf"),
        ({"low": 0, "high": 1}, 1.0, ValueError, r"lr must be in \[0, 1\); got 1.0"),
        ({"low": 0, "low_open": True, "high": 1}, 0, ValueError, r"lr must be in \(0, 1\)"),
        ({"low": 0}, float("nan"), ValueError, "lr must be a finite number >= 0; got nan"),
        ({"low": 0}, True, TypeError, "lr must be a real number; got True of type bool"),
        ({"low": 0}, "1", TypeError, "lr must be a real number; got '1' of type str"),
    ],
)
def test_check_number_names_the_value_and_the_range(kwargs, value, exc, message):
    with pytest.raises(exc, match=message):
        checks.check_number("lr", value, **kwargs)


def test_check_number_accepts_the_ends_it_includes():
    assert checks.check_number("x", 0, low=0, high=1) == 0.0
    assert checks.check_number("x", np.float32(0.5), low=0, high=1) == 0.5
    assert checks.check_number("x", 1, low=0, high=1, high_open=False) == 1.0
    assert type(checks.check_number("x", np.int64(3), low=0)) is float


@pytest.mark.parametrize(
    ("value", "exc", "message"),
    [
        (0, ValueError, "n must be an integer >= 1; got 0"),
        (2.0, TypeError, "n must be an integer >= 1; got 2.0 of type float"),
        (True, TypeError, "n must be an integer >= 1; got True of type bool"),
        (None, TypeError, "n must be an integer >= 1; got None"),
    ],
)
def test_check_int(value, exc, message):
    with pytest.raises(exc, match=message):
        checks.check_int("n", value, 1)


def test_check_int_returns_a_python_int():
    out = checks.check_int("n", np.int32(4), 1)
    assert out == 4
    assert type(out) is int


def test_check_bool():
    assert checks.check_bool("flag", np.bool_(True)) is True
    with pytest.raises(TypeError, match="flag must be True or False; got 'yes'"):
        checks.check_bool("flag", "yes")


@pytest.mark.parametrize("bad", [True, "seven", 1.5])
def test_random_state_of_the_wrong_type(bad):
    with pytest.raises(TypeError, match="random_state must be None, an int, a numpy Generator"):
        checks.as_generator(bad)


def test_as_generator_draws_from_a_random_state_once():
    # A RandomState is consumed by exactly one draw; checking it draws nothing.
    rs, twin = np.random.RandomState(3), np.random.RandomState(3)
    checks.check_random_state(rs)
    first = checks.as_generator(rs).integers(1 << 30)
    expected = np.random.default_rng(int(twin.randint(np.iinfo(np.int32).max))).integers(1 << 30)
    assert first == expected
    gen = np.random.default_rng(0)
    assert checks.as_generator(gen) is gen


def test_labels_are_named_as_the_caller_names_them():
    with pytest.raises(
        ValueError, match=r"y_val must have one label per row of X_val, shape \(3,\)"
    ):
        checks.check_labels(np.zeros(2, int), 3, 2, name="y_val", rows_of="X_val")
    with pytest.raises(ValueError, match=r"y_val must hold labels in \[0, 2\).*got y_val\[1\] = 5"):
        checks.check_labels(np.array([0, 5]), 2, 2, name="y_val", rows_of="X_val")
    with pytest.raises(TypeError, match="y_val must hold integer class labels"):
        checks.check_labels(np.zeros(2), 2, 2, name="y_val")
