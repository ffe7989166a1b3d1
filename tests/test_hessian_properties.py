"""Property suite for the Hessian-vector products, on every problem family.

For each problem drawn by ``verification.strategies`` and a seeded direction:

* three ways: ``softmax_ref.hvp`` (ANALYTIC), JAX's ``jvp(grad)`` and finite
  differences of ``softmax_ref.loss_and_grad`` along the direction agree
  (``verification.hessian.check_softmax_hvp``); for the network, ``two_layer.hvp``
  against JAX and FD of the oracle's gradient, and ``two_layer.gnvp`` against
  JAX's ``J^T H_F J``;
* symmetry ``<U, H V> = <V, H U>``; ``<V, H V> >= 0`` for the linear model and
  for Gauss-Newton; for the linear model H = Fisher exactly (the Fisher product
  computed as an expectation over the model's own labels); with reg = 0 a
  direction that adds one value to every class's score is in the null space;
  for the network, H - GN is the residual term ``(R_H^T dF, dF V2^T)``.

Every bound is built from the per-entry rounding scales of
``verification.hessian`` and the tolerance table. Example budget under the
``ci`` profile (100): 5 three-way checks per family (80 in all) and 10 per
property; the ``nightly`` profile (2000) draws twenty times as many.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import softmax_ref as sr
from softmax_ref import two_layer as tl
from verification.hessian import (
    check_softmax_hvp,
    check_two_layer_hvp,
    softmax_hvp_scales,
    two_layer_hvp_scales,
)
from verification.strategies import FAMILIES, TWO_LAYER_FAMILIES, problems, two_layer_problems
from verification.tolerances import tolerances_for

BASE = settings().max_examples
KEYS = ("W1", "b1", "W2", "b2")
seeds = st.integers(0, 2**32 - 1)
# The identities (symmetry, H = Fisher, the null space, H - GN) are compared with the
# float64 tolerances: the float32 families (their names start with "float32") are
# checked three ways in float32 by the first tests instead.
FLOAT64_FAMILIES = [f for f in FAMILIES if not f.startswith("float32")]
FLOAT64_TWO_LAYER_FAMILIES = [f for f in TWO_LAYER_FAMILIES if not f.startswith("float32")]


def examples(fraction: float) -> settings:
    """A share of the active profile's max_examples (at least 5)."""
    return settings(max_examples=max(5, math.ceil(fraction * BASE)))


def direction(shapes, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s).astype(dtype) for s in shapes]


def _fd_gradient(W, b, X, y, reg):
    return sr.loss_and_grad(W, b, X, y, reg)


# --- three ways --------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
@examples(0.03)
@given(data=st.data())
def test_linear_three_way(family, data):
    p = data.draw(FAMILIES[family](), label="problem")
    V_W, V_b = direction([p.W.shape, p.b.shape], data.draw(seeds, label="seed"), p.dtype)
    report = check_softmax_hvp(*p.args, V_W, V_b, analytic=sr.hvp, fd_gradient=_fd_gradient)
    report.assert_ok()
    for c in report.comparisons:
        if c.pair == ("ANALYTIC", "JAX"):
            assert c.verdict == "pass", str(report)


@pytest.mark.parametrize("family", TWO_LAYER_FAMILIES)
@examples(0.03)
@given(data=st.data())
def test_two_layer_three_way(family, data):
    p = data.draw(TWO_LAYER_FAMILIES[family](), label="problem")
    shapes = [p.params[k].shape for k in KEYS]
    v = dict(zip(KEYS, direction(shapes, data.draw(seeds), p.dtype), strict=True))
    report = check_two_layer_hvp(p.params, p.X, p.y, p.reg, v, analytic=tl.hvp)
    report.assert_ok()
    gn = check_two_layer_hvp(p.params, p.X, p.y, p.reg, v, analytic=tl.gnvp, gauss_newton=True)
    gn.assert_ok()


# --- properties of the linear model ------------------------------------------------

TOL = tolerances_for(np.float64)


def _bound(U, HV, sV, V, HU, sU):
    """Rounding of <U, HV> - <V, HU> from the entries' scales (float64 row of the table)."""
    return sum(
        TOL.exact_rtol * (np.abs(u) @ np.abs(hv).ravel() + np.abs(v) @ np.abs(hu).ravel())
        + TOL.exact_atol_factor * TOL.eps * (np.abs(u) @ su.ravel() + np.abs(v) @ sv.ravel())
        for u, hv, sv, v, hu, su in zip(U, HV, sV, V, HU, sU, strict=True)
    )


def _flat(arrays):
    return [np.ravel(a).astype(np.float64) for a in arrays]


@examples(0.1)
@given(p=problems(FLOAT64_FAMILIES), s1=seeds, s2=seeds)
def test_linear_symmetric_and_positive_semidefinite(p, s1, s2):
    U = direction([p.W.shape, p.b.shape], s1)
    V = direction([p.W.shape, p.b.shape], s2)
    HU, HV = sr.hvp(*p.args, *U), sr.hvp(*p.args, *V)
    sU = softmax_hvp_scales(p.W, p.b, p.X, p.reg, *U)
    sV = softmax_hvp_scales(p.W, p.b, p.X, p.reg, *V)
    sU, sV = [sU["W"], sU["b"]], [sV["W"], sV["b"]]
    uHv = sum(np.vdot(u, h) for u, h in zip(U, HV, strict=True))
    vHu = sum(np.vdot(v, h) for v, h in zip(V, HU, strict=True))
    assert abs(uHv - vHu) <= _bound(_flat(U), HV, sV, _flat(V), HU, sU)
    vHv = sum(np.vdot(v, h) for v, h in zip(V, HV, strict=True))
    assert vHv >= -_bound(_flat(V), HV, sV, _flat(V), HV, sV) / 2


@examples(0.1)
@given(p=problems(FLOAT64_FAMILIES), seed=seeds)
def test_linear_hessian_is_the_fisher_information(p, seed):
    V_W, V_b = direction([p.W.shape, p.b.shape], seed)
    n, _, c = p.shape
    P = sr.softmax(p.X @ p.W + p.b)
    # Fisher v = mean_n sum_k p_nk g_nk <g_nk, v>, g_nk the gradient of sample n's
    # loss had its label been k: (p_n - e_k) (x) [x_n, 1].
    FW, Fb = np.zeros_like(V_W), np.zeros_like(V_b)
    for x, pn in zip(p.X, P, strict=True):
        s = x @ V_W + V_b
        for k in range(c):
            r = pn.copy()
            r[k] -= 1
            weight = pn[k] * (r @ s)
            FW += weight * np.outer(x, r)
            Fb += weight * r
    FW = FW / n + p.reg * V_W
    Fb /= n
    HW, Hb = sr.hvp(*p.args, V_W, V_b)
    scale = softmax_hvp_scales(p.W, p.b, p.X, p.reg, V_W, V_b)
    # The expectation sums C terms of size p_k |r| |s| where H sums one: C-fold the scale.
    for h, f, s in ((HW, FW, scale["W"]), (Hb, Fb, scale["b"])):
        bound = TOL.exact_rtol * np.abs(f) + TOL.exact_atol_factor * TOL.eps * c * s + 1e-300
        assert np.all(np.abs(h - f) <= bound)


@examples(0.1)
@given(p=problems(FLOAT64_FAMILIES), seed=seeds)
def test_linear_null_space_with_no_penalty(p, seed):
    rng = np.random.default_rng(seed)
    a, c0 = rng.normal(size=p.W.shape[0]), rng.normal()
    V_W = np.outer(a, np.ones(p.W.shape[1]))
    V_b = np.full(p.W.shape[1], c0)
    HW, Hb = sr.hvp(p.W, p.b, p.X, p.y, 0.0, V_W, V_b)
    scale = softmax_hvp_scales(p.W, p.b, p.X, 0.0, V_W, V_b)
    tiny = np.finfo(np.float64).tiny
    assert np.all(np.abs(HW) <= TOL.exact_atol_factor * TOL.eps * scale["W"] + tiny)
    assert np.all(np.abs(Hb) <= TOL.exact_atol_factor * TOL.eps * scale["b"] + tiny)


# --- properties of the network -----------------------------------------------------


@examples(0.1)
@given(p=two_layer_problems(FLOAT64_TWO_LAYER_FAMILIES), s1=seeds, s2=seeds)
def test_two_layer_symmetry_and_gauss_newton_psd(p, s1, s2):
    shapes = [p.params[k].shape for k in KEYS]
    U = dict(zip(KEYS, direction(shapes, s1), strict=True))
    V = dict(zip(KEYS, direction(shapes, s2), strict=True))
    sU = [two_layer_hvp_scales(p.params, p.X, p.reg, U)[k] for k in KEYS]
    sV = [two_layer_hvp_scales(p.params, p.X, p.reg, V)[k] for k in KEYS]
    u, v = _flat(U[k] for k in KEYS), _flat(V[k] for k in KEYS)
    for product in (tl.hvp, tl.gnvp):
        HU = [product(p.params, p.X, p.y, p.reg, U)[k] for k in KEYS]
        HV = [product(p.params, p.X, p.y, p.reg, V)[k] for k in KEYS]
        uHv = sum(np.vdot(a, h) for a, h in zip(u, HV, strict=True))
        vHu = sum(np.vdot(a, h) for a, h in zip(v, HU, strict=True))
        assert abs(uHv - vHu) <= _bound(u, HV, sV, v, HU, sU), product.__name__
    GV = [tl.gnvp(p.params, p.X, p.y, p.reg, V)[k] for k in KEYS]
    vGv = sum(np.vdot(a, g) for a, g in zip(v, GV, strict=True))
    assert vGv >= -_bound(v, GV, sV, v, GV, sV) / 2


def test_two_layer_hessian_is_indefinite_where_gauss_newton_is_not():
    # At W2 = 0 the scores do not depend on the first layer, and along
    # V = (M A, 0, e B, 0) the curvature is e^2 q + 2 M e r: the cross-layer terms
    # (r) are linear in each layer's part, so flipping B's sign flips their sign
    # while Gauss-Newton's e^2 q stays. With M e = 1 and e small, one sign is negative.
    rng = np.random.default_rng(3)
    params = tl.init_params(3, 5, 4, seed=1)
    params["W2"] = np.zeros_like(params["W2"])
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 4, size=20)
    A, B = rng.normal(size=(3, 5)), rng.normal(size=(5, 4))
    for product, expect_negative in ((tl.hvp, True), (tl.gnvp, False)):
        curvatures = []
        for sign in (1.0, -1.0):
            V = {"W1": 10 * A, "b1": np.zeros(5), "W2": sign * 0.1 * B, "b2": np.zeros(4)}
            HV = product(params, X, y, 0.0, V)
            curvatures.append(sum(np.vdot(V[k], HV[k]) for k in KEYS))
        assert (min(curvatures) < 0) == expect_negative, (product.__name__, curvatures)
