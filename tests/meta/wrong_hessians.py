"""A catalog of deliberately wrong Hessian-vector products, for the meta-tests.

:func:`derive_linear` is the linear model's product written once from the math
(docs/hessian.md): with ``flaw=None`` it is right, and ``test_hessian_mutants.py``
shows the check passes it, so every failure of a mutant is due to its flaw alone.
:func:`derive_two_layer` does the same for the network's R-operator. Each flaw
is a mistake a hand derivation makes.

``LINEAR`` and ``TWO_LAYER`` map a name to ``(function, what is wrong)``.
"""

from __future__ import annotations

from functools import partial

import numpy as np


def _softmax(F):
    E = np.exp(F - F.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def derive_linear(W, b, X, y, reg, V_W, V_b, *, flaw=None):
    """H[V] of the linear softmax model from the math, with at most one named flaw."""
    W, b, X, V_W, V_b = (np.asarray(a, dtype=np.float64) for a in (W, b, X, V_W, V_b))
    n = X.shape[0]
    P = _softmax(X @ W + b)
    S = X @ V_W if flaw == "bias_direction_ignored" else X @ V_W + V_b
    if flaw == "missing_ppT":
        R = P * S
    elif flaw == "diagonal_only":
        R = P * (1 - P) * S
    elif flaw == "ppT_sign":
        R = P * S + P * np.sum(P * S, axis=1, keepdims=True)
    elif flaw == "labels_in_hessian":  # the gradient's P - Y where the Hessian has P
        Y = np.eye(W.shape[1])[y]
        R = (P - Y) * (S - np.sum(P * S, axis=1, keepdims=True))
    elif flaw == "softmax_wrong_axis":
        Pc = np.exp(X @ W + b)
        Pc /= Pc.sum(axis=0, keepdims=True)
        R = Pc * (S - np.sum(Pc * S, axis=1, keepdims=True))
    else:
        R = P * (S - np.sum(P * S, axis=1, keepdims=True))
    if flaw != "missing_1_over_n":
        R = R / n
    HW = (R.T @ X) if flaw == "transposed" else X.T @ R
    Hb = R.sum(axis=0)
    if flaw == "reg_doubled":
        HW = HW + 2 * reg * V_W
    elif flaw != "reg_missing":
        HW = HW + reg * V_W
    if flaw == "reg_on_bias":
        Hb = Hb + reg * V_b
    if flaw == "overall_sign":
        HW, Hb = -HW, -Hb
    if flaw == "one_entry_1e-6":
        HW = HW.copy()
        HW[0, 0] *= 1 + 1e-6
    return HW, Hb


def derive_two_layer(params, X, y, reg, vector, *, flaw=None):
    """The network's exact H[V] by the R-operator, with at most one named flaw."""
    W1, b1, W2, b2 = (np.asarray(params[k], np.float64) for k in ("W1", "b1", "W2", "b2"))
    V1, v1, V2, v2 = (np.asarray(vector[k], np.float64) for k in ("W1", "b1", "W2", "b2"))
    X = np.asarray(X, np.float64)
    n = X.shape[0]
    Z = X @ W1 + b1
    m = (Z > 0).astype(float)
    H = Z * m
    P = _softmax(H @ W2 + b2)
    dF = P.copy()
    dF[np.arange(n), y] -= 1
    dF /= n
    RZ = X @ V1 + v1
    RH = RZ if flaw == "no_mask_forward" else RZ * m
    RF = RH @ W2 + H @ V2 + v2
    if flaw == "missing_ppT":
        RdF = P * RF
    else:
        RdF = P * (RF - np.sum(P * RF, axis=1, keepdims=True))
    if flaw != "missing_1_over_n":
        RdF = RdF / n
    out_W2 = H.T @ RdF + reg * V2
    if flaw not in ("cross_W2_missing", "gauss_newton_as_hessian"):
        out_W2 = out_W2 + (-1 if flaw == "cross_sign" else 1) * RH.T @ dF
    out_b2 = RdF.sum(axis=0)
    RdH = RdF @ W2 if flaw == "W2_not_transposed" else RdF @ W2.T
    if flaw not in ("cross_V2_missing", "gauss_newton_as_hessian"):
        RdH = RdH + (-1 if flaw == "cross_sign" else 1) * dF @ V2.T
    RdZ = RdH if flaw == "no_mask_backward" else RdH * m
    out_W1 = X.T @ RdZ + (0 if flaw == "reg_missing_W1" else reg * V1)
    out_b1 = RdZ.sum(axis=0)
    if flaw == "reg_on_biases":
        out_b1 = out_b1 + reg * v1
        out_b2 = out_b2 + reg * v2
    return {"W1": out_W1, "b1": out_b1, "W2": out_W2, "b2": out_b2}


LINEAR = {
    name: (partial(derive_linear, flaw=name), what)
    for name, what in [
        ("missing_ppT", "R = P * S: the - p p^T s term of the softmax Jacobian forgotten"),
        ("diagonal_only", "only the diagonal p (1 - p) of diag(p) - p p^T"),
        ("ppT_sign", "+ p p^T s instead of - p p^T s"),
        ("transposed", "R^T X where X^T R belongs (a value error when D = C)"),
        ("reg_missing", "the penalty's reg V_W left out"),
        ("reg_doubled", "2 reg V_W: the penalty's 1/2 forgotten"),
        ("reg_on_bias", "reg V_b added to the bias part"),
        ("missing_1_over_n", "the mean's 1/N forgotten"),
        ("overall_sign", "the whole product with the wrong sign"),
        ("bias_direction_ignored", "S = X V_W: the direction's bias part dropped"),
        ("labels_in_hessian", "P - Y (the gradient's factor) in place of P"),
        ("softmax_wrong_axis", "probabilities normalised over samples"),
        ("one_entry_1e-6", "HV_W[0, 0] off by one part in a million"),
    ]
}

TWO_LAYER = {
    name: (partial(derive_two_layer, flaw=name), what)
    for name, what in [
        ("cross_W2_missing", "the R_H^T dF term of the W2 block missing"),
        ("cross_V2_missing", "the dF V2^T term of R{dH} missing"),
        ("gauss_newton_as_hessian", "both cross-layer terms missing: Gauss-Newton sold as H"),
        ("cross_sign", "the cross-layer terms with the wrong sign"),
        ("no_mask_forward", "R{H} = R{Z}: the ReLU's mask missing in the forward R-pass"),
        ("no_mask_backward", "R{dZ} = R{dH}: the ReLU's mask missing in the backward R-pass"),
        ("W2_not_transposed", "R{dF} W2 where R{dF} W2^T belongs (needs H = C)"),
        ("missing_ppT", "the softmax Jacobian's - p p^T term forgotten"),
        ("missing_1_over_n", "the mean's 1/N forgotten in R{dF}"),
        ("reg_missing_W1", "the penalty's reg V1 left out"),
        ("reg_on_biases", "reg v1 and reg v2 added to the bias parts"),
    ]
}


def correct_linear(W, b, X, y, reg, V_W, V_b):
    """:func:`derive_linear` without a flaw."""
    return derive_linear(W, b, X, y, reg, V_W, V_b)


def correct_two_layer(params, X, y, reg, vector):
    """:func:`derive_two_layer` without a flaw."""
    return derive_two_layer(params, X, y, reg, vector)
