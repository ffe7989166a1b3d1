"""Unit tests of the network's Hessian- and Gauss-Newton-vector products (softmax_ref/two_layer.py).

The vectorized products are held to the per-sample loops and to JAX's
``jvp(grad)`` and ``J^T H_F J`` (verification/hessian.py) off the ReLU kinks;
tolerances come from verification/tolerances.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from softmax_ref import two_layer as tl
from verification.hessian import two_layer_gnvp, two_layer_hvp
from verification.tolerances import tolerances_for

TOL = tolerances_for(np.float64)
KEYS = ("W1", "b1", "W2", "b2")


def _problem(seed, n=11, d=3, h=6, c=4, reg=0.2):
    rng = np.random.default_rng(seed)
    params = {
        "W1": rng.normal(size=(d, h)),
        "b1": rng.normal(size=h),
        "W2": rng.normal(size=(h, c)),
        "b2": rng.normal(size=c),
    }
    vector = {k: rng.normal(size=a.shape) for k, a in params.items()}
    X = rng.normal(size=(n, d))
    y = rng.integers(0, c, size=n)
    return params, X, y, reg, vector


def _assert_close(a, b, tol=TOL):
    for k in KEYS:
        np.testing.assert_allclose(a[k], b[k], rtol=tol.paths_rtol, atol=tol.paths_atol, err_msg=k)


@pytest.mark.parametrize("seed", range(4))
def test_hvp_agrees_with_the_loops_and_jax(seed):
    args = _problem(seed)
    fast = tl.hvp(*args)
    _assert_close(fast, tl.hvp_naive(*args))
    _assert_close(fast, two_layer_hvp(*args))


@pytest.mark.parametrize("seed", range(4))
def test_gnvp_agrees_with_the_loops_and_jax(seed):
    args = _problem(seed)
    fast = tl.gnvp(*args)
    _assert_close(fast, tl.gnvp_naive(*args))
    _assert_close(fast, two_layer_gnvp(*args))


def test_hessian_minus_gauss_newton_is_the_residual_term():
    params, X, y, reg, V = _problem(5)
    n = X.shape[0]
    Z = X @ params["W1"] + params["b1"]
    mask = Z > 0
    P = np.exp(tl.scores(params, X))
    P /= P.sum(axis=1, keepdims=True)
    dF = P.copy()
    dF[np.arange(n), y] -= 1
    dF /= n
    RH = (X @ V["W1"] + V["b1"]) * mask
    cross = (dF @ V["W2"].T) * mask
    residual = {"W1": X.T @ cross, "b1": cross.sum(axis=0), "W2": RH.T @ dF, "b2": np.zeros(4)}
    H, G = tl.hvp(params, X, y, reg, V), tl.gnvp(params, X, y, reg, V)
    _assert_close({k: H[k] - G[k] for k in KEYS}, residual)
    assert not np.allclose(H["W1"], G["W1"])  # the residual is not zero here


def test_float32_in_float32_out():
    params, X, y, reg, V = _problem(6)
    p32 = {k: a.astype(np.float32) for k, a in params.items()}
    v32 = {k: a.astype(np.float32) for k, a in V.items()}
    out = tl.hvp(p32, X.astype(np.float32), y, reg, v32)
    assert {a.dtype for a in out.values()} == {np.dtype(np.float32)}
    ref = two_layer_hvp(p32, X.astype(np.float32), y, reg, v32)
    _assert_close(out, ref, tolerances_for(np.float32))
    v_mixed = dict(v32, b2=V["b2"])
    assert tl.gnvp(p32, X.astype(np.float32), y, reg, v_mixed)["W1"].dtype == np.float64


@pytest.mark.parametrize("fn", [tl.hvp, tl.gnvp, tl.hvp_naive, tl.gnvp_naive])
@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        (
            lambda v: v.pop("b2"),
            ValueError,
            r"vector must have exactly the keys .* missing \['b2'\]",
        ),
        (
            lambda v: v.update(W1=np.zeros((2, 6))),
            ValueError,
            r"vector\['W1'\] must have the shape",
        ),
        (lambda v: v.update(b1=np.array(["x"] * 6)), TypeError, r"vector\['b1'\] must hold real"),
        (
            lambda v: v["W2"].__setitem__((1, 2), np.nan),
            ValueError,
            r"vector\['W2'\] must be finite",
        ),
    ],
)
def test_a_bad_direction_is_named(fn, change, exc, match):
    params, X, y, reg, V = _problem(7)
    change(V)
    with pytest.raises(exc, match=match):
        fn(params, X, y, reg, V)


def test_a_direction_that_is_not_a_dict_is_named():
    params, X, y, reg, _ = _problem(8)
    with pytest.raises(TypeError, match="vector must be a dict"):
        tl.hvp(params, X, y, reg, [1, 2])


def test_inputs_are_not_written_to():
    params, X, y, reg, V = _problem(9)
    copies = (
        {k: a.copy() for k, a in params.items()},
        X.copy(),
        {k: a.copy() for k, a in V.items()},
    )
    for fn in (tl.hvp, tl.gnvp, tl.hvp_naive, tl.gnvp_naive):
        fn(params, X, y, reg, V)
    for k in KEYS:
        np.testing.assert_array_equal(params[k], copies[0][k])
        np.testing.assert_array_equal(V[k], copies[2][k])
    np.testing.assert_array_equal(X, copies[1])
