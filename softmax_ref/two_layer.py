r"""The one-hidden-layer ReLU network, with its backward pass derived by hand.

The model the blog post ends with, in the project's one convention (see the
"two-layer network" page of the docs for the derivation, line by line)::

    X (N, D)   y (N,) int in [0, C)   W1 (D, H)   b1 (H,)   W2 (H, C)   b2 (C,)   reg >= 0
    Z = X W1 + b1                 pre-activations, (N, H)
    H = relu(Z) = max(Z, 0)       hidden activations, (N, H)
    F = H W2 + b2                 scores, (N, C)
    P = softmax(F) row-wise       (N, C)
    L = mean_n [ logsumexp(F_n) - F_{n, y_n} ] + 0.5 reg (||W1||^2 + ||W2||^2)

The biases are not regularised. ``relu`` is not differentiable at 0; the code
takes the derivative there to be 0 (``1[Z > 0]``), a valid subgradient, and the
JAX oracle in ``verification.oracle`` uses the same convention.

Parameters and gradients travel as dicts keyed ``W1``, ``b1``, ``W2``, ``b2``,
the form the generic training loop and the three-way check take. Two entry
points compute the same gradient by different routes and the tests hold them
to each other: :func:`loss_and_grad` (vectorized, the derivation's matrix
form) and :func:`loss_and_grad_naive` (one sample, one unit, one class at a
time: the derivation's case splits).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from softmax_ref._stable import winner_and_rest
from softmax_ref._validation import (
    TWO_LAYER_KEYS,
    as_float_array,
    check_int,
    check_two_layer_problem,
    raise_if_nonfinite,
)
from softmax_ref.loss import softmax

__all__ = [
    "gnvp",
    "gnvp_naive",
    "hvp",
    "hvp_naive",
    "init_params",
    "loss_and_grad",
    "loss_and_grad_naive",
    "scores",
]


def init_params(
    n_features: int,
    n_hidden: int,
    n_classes: int,
    seed: int | np.random.Generator | None = None,
    *,
    dtype: Any = np.float64,
) -> dict[str, np.ndarray]:
    r"""Seeded He initialisation of the network's parameters.

    .. math::
        W_1 \sim \mathcal N\!\Big(0, \frac{2}{D}\Big), \qquad
        W_2 \sim \mathcal N\!\Big(0, \frac{1}{H}\Big), \qquad b_1 = 0, \quad b_2 = 0

    **He, not Glorot, and why.** Glorot's variance ``2 / (fan_in + fan_out)``
    is derived for activations symmetric about 0 (tanh), which pass on the
    variance of their input. A ReLU zeroes half of a symmetric input, so the
    second moment of ``relu(Z)`` is half that of ``Z``. With ``Var(W1) = 2 / D``
    a pre-activation has ``E[Z^2] = (2 / D) sum_d x_d^2``, about twice an input
    feature's second moment, and ``relu(Z)`` about the feature's own, whatever
    ``D`` is. He et al. (2015) put the factor 2 on the layer whose input comes
    out of a ReLU, here ``W2``; with it on ``W1`` and ``Var(W2) = 1 / H`` the
    scores come out the same, ``E[F^2] = Var(W2) H E[relu(Z)^2]``, about an
    input feature's second moment for any hidden size ``H`` (so the initial
    loss is of order ``log C`` and the first gradients are neither saturated
    nor tiny).
    Biases start at 0; the random ``W1`` already breaks the symmetry between
    hidden units.

    Args:
        n_features: D, the number of input features (>= 1).
        n_hidden: H, the number of hidden units (>= 1).
        n_classes: C, the number of classes (>= 1).
        seed: anything ``np.random.default_rng`` takes: an int for a
            reproducible draw, a ``Generator``, or None for fresh entropy.
        dtype: float64 (default) or float32.

    Returns:
        A new dict ``{"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}``.

    Example:
        >>> p = init_params(2, 3, 4, seed=0)
        >>> {k: v.shape for k, v in p.items()}
        {'W1': (2, 3), 'b1': (3,), 'W2': (3, 4), 'b2': (4,)}
        >>> bool(np.all(p["b1"] == 0)) and p["W1"].dtype == np.float64
        True
    """
    d = check_int("n_features", n_features, 1)
    h = check_int("n_hidden", n_hidden, 1)
    c = check_int("n_classes", n_classes, 1)
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dt}")
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(scale=np.sqrt(2.0 / d), size=(d, h)).astype(dt),
        "b1": np.zeros(h, dtype=dt),
        "W2": rng.normal(scale=np.sqrt(1.0 / h), size=(h, c)).astype(dt),
        "b2": np.zeros(c, dtype=dt),
    }


def _raise_nonfinite(X: np.ndarray, params: dict[str, np.ndarray]) -> None:
    """Name the first non-finite input; called only when a result was not finite."""
    arrays = {"X": X, **params}
    if all(np.isfinite(a).all() for a in arrays.values()):
        raise ValueError(
            "the loss or gradient overflowed although X, W1, b1, W2 and b2 are finite: "
            "the pre-activations X W1 + b1 or the scores relu(X W1 + b1) W2 + b2 exceed "
            "the range of the dtype; rescale X or the weights"
        )
    raise_if_nonfinite(**arrays)


def _all_finite(*arrays: Any) -> bool:
    return all(np.isfinite(a).all() for a in arrays)


def scores(params: Any, X: Any) -> np.ndarray:
    r"""The network's class scores ``F = relu(X W1 + b1) W2 + b2``: its forward pass.

    .. math::
        Z = X W_1 + b_1, \qquad H = \max(Z, 0), \qquad F = H W_2 + b_2

    with the pre-activations :math:`Z` and the activations :math:`H` of shape
    (N, H) (H hidden units, as in the module's notation), the scores
    :math:`F` of shape (N, C), and the maximum taken entrywise.

    Args:
        params: dict with ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,).
        X: samples, shape ``(N, D)``.

    Returns:
        Scores of shape ``(N, C)``, float32 when X and every parameter are
        float32, float64 otherwise. ``softmax(scores(params, X))`` gives the
        class probabilities.

    Example:
        >>> p = {"W1": np.array([[1.0, -1.0]]), "b1": np.zeros(2),
        ...      "W2": np.array([[1.0, 0.0], [0.0, 1.0]]), "b2": np.zeros(2)}
        >>> scores(p, np.array([[2.0], [-3.0]]))   # relu([2, -2]) and relu([-3, 3])
        array([[2., 0.],
               [0., 3.]])
    """
    params, X, _, _ = check_two_layer_problem(params, X)
    W1, b1, W2, b2 = (params[k] for k in TWO_LAYER_KEYS)
    with np.errstate(over="ignore", invalid="ignore"):
        Z = X @ W1 + b1
        F = np.maximum(Z, 0) @ W2 + b2
    # Z, not X, is checked: a NaN or inf in X, W1 or b1 always reaches Z (inf * 0 is
    # NaN), while the ReLU could hide it from F by zeroing a -inf.
    if not _all_finite(Z, F, W2, b2):
        _raise_nonfinite(X, params)
    return F


def loss_and_grad(
    params: Any, X: Any, y: Any, reg: float = 0.0
) -> tuple[np.floating, dict[str, np.ndarray]]:
    r"""Loss and its gradient with respect to every parameter: the vectorized backward pass.

    With :math:`Y` the one-hot labels and :math:`\odot` the elementwise product:

    .. math::
        \begin{aligned}
        dF &= (P - Y) / N                         && (N, C) \\
        dW_2 &= H^\top dF + \lambda W_2,\quad db_2 = \textstyle\sum_n dF_n && \\
        dH &= dF\, W_2^\top                       && (N, H) \\
        dZ &= dH \odot \mathbb 1[Z > 0]           && (N, H) \\
        dW_1 &= X^\top dZ + \lambda W_1,\quad db_1 = \textstyle\sum_n dZ_n &&
        \end{aligned}

    Each line of the code below is one of these equations; the docs derive them.

    Args:
        params: dict with ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,);
            never modified.
        X: samples, shape ``(N, D)``; integer X is cast to float64.
        y: labels, shape ``(N,)``, integers in ``[0, C)``.
        reg: the L2 strength :math:`\lambda \ge 0` on ``W1`` and ``W2``.

    Returns:
        ``(loss, grads)``: a NumPy scalar and a new dict of arrays with the
        keys and shapes of ``params``; float32 when X and every parameter are
        float32, float64 otherwise.

    Raises:
        TypeError, ValueError: for malformed or non-finite inputs, with the
            same messages as :func:`softmax_ref.loss_and_grad`; the message
            names the argument (``X``, ``y``, ``reg``, ``W1``, ``b1``, ``W2``, ``b2``).

    Example:
        With ``W2 = 0`` every score is ``b2 = 0``, so ``P = 1/C`` and the loss
        is ``log C`` plus the penalty; no gradient reaches the first layer
        (``dH = dF W2^T = 0``), which feels only the penalty ``reg W1``:

        >>> p = {"W1": np.array([[1.0, -2.0]]), "b1": np.zeros(2),
        ...      "W2": np.zeros((2, 4)), "b2": np.zeros(4)}
        >>> L, g = loss_and_grad(p, np.array([[1.0], [2.0]]), np.array([0, 3]), reg=0.1)
        >>> round(float(L), 6)   # log 4 + 0.5 * 0.1 * (1 + 4)
        1.636294
        >>> g["W1"]
        array([[ 0.1, -0.2]])
        >>> g["b2"]   # mean_n (P - Y)_n = ([-3, 1, 1, 1] + [1, 1, 1, -3]) / 8
        array([-0.25,  0.25,  0.25, -0.25])
    """
    params, X, labels, reg = check_two_layer_problem(params, X, y, reg)
    assert labels is not None  # y was given, so it was checked
    W1, b1, W2, b2 = (params[k] for k in TWO_LAYER_KEYS)
    n = X.shape[0]
    rows = np.arange(n)
    with np.errstate(over="ignore", invalid="ignore"):
        # ---- forward (steps F1-F4 of the docs) ----
        Z = X @ W1 + b1  # F1: Z = X W1 + b1, (N, H)
        H = np.maximum(Z, 0)  # F2: H = relu(Z), (N, H)
        F = H @ W2 + b2  # F3: F = H W2 + b2, (N, C)
        # F4: L = mean_n [logsumexp(F_n) - F_{n,y_n}] + 0.5 reg (||W1||^2 + ||W2||^2).
        # Shifting row n by m_n = max_j F_nj changes neither softmax nor the loss, and after
        # the shift exp cannot overflow.
        shifted = F - F.max(axis=1, keepdims=True)  # F_n - m_n
        # logsumexp(F_n) - m_n = log1p(s_n), s_n the sum over the classes other than the
        # winner: log(1 + s_n) would round a tiny s_n (a confident prediction) away.
        log_norm = np.log1p(winner_and_rest(shifted)[:, 0])
        data = np.mean(log_norm - shifted[rows, labels], dtype=np.float64)
        penalty = (
            0.5 * reg * (np.sum(W1 * W1, dtype=np.float64) + np.sum(W2 * W2, dtype=np.float64))
        )
        value = X.dtype.type(data + penalty)
        # ---- backward (steps B1-B7 of the docs) ----
        P = np.exp(shifted - log_norm[:, None])  # P = softmax(F) = exp(F_n - logsumexp(F_n))
        dF = P  # B1 builds dF = (P - Y) / N in P's buffer:
        # B1: P - Y, i.e. subtract 1 at each sample's label, as expm1(log p_y): exp(log p_y) - 1
        # would cancel the digits of a p_y within 1e-16 of 1.
        dF[rows, labels] = np.expm1(shifted[rows, labels] - log_norm)
        dF /= n  # B1: dF = dL/dF = (P - Y) / N, (N, C)
        dW2 = H.T @ dF + reg * W2  # B2: dW2 = H^T dF + reg W2, (H, C)
        db2 = dF.sum(axis=0)  # B3: db2 = sum_n dF_n, (C,)
        dH = dF @ W2.T  # B4: dH = dF W2^T, (N, H)
        dZ = dH * (Z > 0)  # B5: dZ = dH * 1[Z > 0] elementwise (relu'(0) := 0), (N, H)
        dW1 = X.T @ dZ + reg * W1  # B6: dW1 = X^T dZ + reg W1, (D, H)
        db1 = dZ.sum(axis=0)  # B7: db1 = sum_n dZ_n, (H,)
    grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    # Z is checked because the ReLU can zero a -inf and hide it from every later result;
    # the parameters because a -inf in b2 for a class absent from y leaves the loss finite.
    if not _all_finite(value, Z, *grads.values(), W2, b2):
        _raise_nonfinite(X, params)
    return value, grads


def loss_and_grad_naive(
    params: Any, X: Any, y: Any, reg: float = 0.0
) -> tuple[np.floating, dict[str, np.ndarray]]:
    r"""Loss and gradient one sample, one hidden unit, one class at a time.

    For sample :math:`x_n` with label :math:`y_n`, scores :math:`f = F_n` and
    :math:`S_i = \operatorname{softmax}(f)_i`, the chain rule splits into cases:

    .. math::
        \frac{\partial L_n}{\partial f_i} =
            \begin{cases} S_i - 1 & i = y_n \\ S_i & i \ne y_n \end{cases}
        \qquad
        \frac{\partial L_n}{\partial z_j} =
            \begin{cases} \sum_i \frac{\partial L_n}{\partial f_i} W_{2,ji} & z_j > 0 \\
                          0 & z_j \le 0 \end{cases}

    then :math:`\partial L_n/\partial W_{2,:,i} = h\,\partial L_n/\partial f_i`,
    :math:`\partial L_n/\partial W_{1,:,j} = x_n\,\partial L_n/\partial z_j`,
    the biases take the bare :math:`\partial L_n/\partial f_i` and
    :math:`\partial L_n/\partial z_j`, and the total is the mean over samples
    plus :math:`\lambda W_1` and :math:`\lambda W_2`. Slow (Python loops over
    N (H + C) entries), and meant to be: it is the derivation laid out as
    code, against which :func:`loss_and_grad` is tested. Sums are accumulated
    in float64 and cast to the inputs' dtype at the end.

    Args and returns: as :func:`loss_and_grad`: ``params`` with ``W1`` (D, H),
    ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,); X ``(N, D)``; y ``(N,)``; the
    gradients come back keyed and shaped like ``params``.

    Example:
        >>> p = {"W1": np.array([[1.0, -2.0]]), "b1": np.zeros(2),
        ...      "W2": np.zeros((2, 4)), "b2": np.zeros(4)}
        >>> L, g = loss_and_grad_naive(p, np.array([[1.0], [2.0]]), np.array([0, 3]), reg=0.1)
        >>> g["b2"]
        array([-0.25,  0.25,  0.25, -0.25])
    """
    params, X, labels, reg = check_two_layer_problem(params, X, y, reg)
    assert labels is not None
    W1, b1, W2, b2 = (params[k].astype(np.float64) for k in TWO_LAYER_KEYS)
    X64 = X.astype(np.float64)
    n_samples = X.shape[0]
    n_hidden, n_classes = W2.shape
    total = 0.0
    dW1, db1 = np.zeros_like(W1), np.zeros_like(b1)
    dW2, db2 = np.zeros_like(W2), np.zeros_like(b2)
    z_all = np.empty((n_samples, n_hidden))
    with np.errstate(over="ignore", invalid="ignore"):
        for n in range(n_samples):
            x = X64[n]
            # Unit j: z_j = x . W1[:, j] + b1_j and h_j = max(z_j, 0).
            z = np.array([x @ W1[:, j] + b1[j] for j in range(n_hidden)])
            z_all[n] = z
            h = np.maximum(z, 0.0)
            # Class i: f_i = h . W2[:, i] + b2_i.
            f = np.array([h @ W2[:, i] + b2[i] for i in range(n_classes)])
            # a = the winning class, m = f_a; s = sum over the other classes of exp(f_i - m),
            # summed without the winner's exact 1 so that a tiny s keeps its digits.
            a = int(np.argmax(f))
            m = f[a]
            exps = [np.exp(f[i] - m) for i in range(n_classes)]
            s = sum(exps[i] for i in range(n_classes) if i != a)
            # L_n = log sum_i exp(f_i) - f_{y_n} = log1p(s) + (m - f_{y_n}).
            total += np.log1p(s) + (m - f[labels[n]])
            df = np.empty(n_classes)
            for i in range(n_classes):
                S_i = exps[i] / (1.0 + s)  # exps[a] = 1: S_a = 1 / (1 + s)
                if i == labels[n]:
                    # the case split's S_i - 1, as -s / (1 + s) where i wins (no cancellation)
                    df[i] = -s / (1.0 + s) if i == a else S_i - 1.0
                else:
                    df[i] = S_i
                dW2[:, i] += df[i] * h  # dL_n/dW2[:, i] = h dL_n/df_i
                db2[i] += df[i]
            for j in range(n_hidden):
                # dL_n/dh_j = sum_i dL_n/df_i W2[j, i]; the ReLU passes it on only if z_j > 0.
                dh_j = sum(df[i] * W2[j, i] for i in range(n_classes))
                dz_j = dh_j if z[j] > 0 else 0.0
                dW1[:, j] += dz_j * x  # dL_n/dW1[:, j] = x dL_n/dz_j
                db1[j] += dz_j
        # The loss is a mean over samples, so is its gradient.
        for g in (dW1, db1, dW2, db2):
            g /= n_samples
        # d/dW of 0.5 reg ||W||^2 is reg W, for W1 and W2; the biases carry no penalty.
        dW1 += reg * W1
        dW2 += reg * W2
        value = total / n_samples + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dtype = X.dtype
    out = X.dtype.type(value)
    grads = {
        "W1": dW1.astype(dtype),
        "b1": db1.astype(dtype),
        "W2": dW2.astype(dtype),
        "b2": db2.astype(dtype),
    }
    if not _all_finite(out, z_all, *grads.values(), params["W2"], params["b2"]):
        _raise_nonfinite(X, params)
    return out, grads


# --- second order: Hessian- and Gauss-Newton-vector products ------------------------
#
# Pearlmutter's R-operator, R{g} = d/dt g(params + t V) at t = 0, applied to every
# line of the forward and backward passes above (docs/hessian.md derives each step).
# Off the ReLU kinks the mask 1[Z > 0] is locally constant, so R{mask} = 0; the
# products between layers (a change of W2 meets dF, a change of the hidden layer
# meets dF through W2) are what separates the Hessian from Gauss-Newton.


def _check_vector(params: dict[str, np.ndarray], vector: Any) -> dict[str, np.ndarray]:
    """A direction keyed and shaped like ``params``, real and finite; its name is ``vector``."""
    if not isinstance(vector, dict):
        raise TypeError(
            f"vector must be a dict with keys {', '.join(TWO_LAYER_KEYS)} like params; "
            f"got {type(vector).__name__}"
        )
    missing = [k for k in TWO_LAYER_KEYS if k not in vector]
    extra = sorted(str(k) for k in vector if k not in TWO_LAYER_KEYS)
    if missing or extra:
        raise ValueError(
            f"vector must have exactly the keys {', '.join(TWO_LAYER_KEYS)}; "
            f"missing {missing}, unexpected {extra}"
        )
    out = {}
    for k in TWO_LAYER_KEYS:
        v = as_float_array(f"vector[{k!r}]", vector[k], params[k].ndim)
        if v.shape != params[k].shape:
            raise ValueError(
                f"vector[{k!r}] must have the shape of params[{k!r}], {params[k].shape}; "
                f"got an array of shape {v.shape} and dtype {v.dtype}"
            )
        if not np.isfinite(v).all():
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(v))[0])
            raise ValueError(f"vector[{k!r}] must be finite; got {v[bad]} at index {bad}")
        out[k] = v
    return out


def _second_order_problem(
    params: Any, X: Any, y: Any, reg: Any, vector: Any
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, float, dict[str, np.ndarray]]:
    params, X, labels, reg = check_two_layer_problem(params, X, y, reg)
    assert labels is not None  # y was given, so it was checked
    vec = _check_vector(params, vector)
    dtype = X.dtype if all(v.dtype == X.dtype for v in vec.values()) else np.dtype(np.float64)
    return (
        {k: a.astype(dtype, copy=False) for k, a in params.items()},
        X.astype(dtype, copy=False),
        labels,
        reg,
        {k: v.astype(dtype, copy=False) for k, v in vec.items()},
    )


def _softmax_jvp(P: np.ndarray, top: np.ndarray, RF: np.ndarray) -> np.ndarray:
    """``(diag(p_n) - p_n p_n^T) r_n`` for every row: the change of P along RF."""
    rows = np.arange(RF.shape[0])
    # Unchanged by a constant added to r_n; removing r_n at the top class first keeps
    # the dominant term of <p_n, r_n> exact (see softmax_ref/hessian.py).
    S = RF - RF[rows, top][:, None]
    S -= np.einsum("ij,ij->i", P, S)[:, None]
    S *= P
    return S


def _second_order(
    params: Any, X: Any, y: Any, reg: Any, vector: Any, *, exact: bool
) -> dict[str, np.ndarray]:
    params, X, labels, reg, V = _second_order_problem(params, X, y, reg, vector)
    W1, b1, W2, b2 = (params[k] for k in TWO_LAYER_KEYS)
    V1, v1, V2, v2 = (V[k] for k in TWO_LAYER_KEYS)
    n = X.shape[0]
    rows = np.arange(n)
    with np.errstate(over="ignore", invalid="ignore"):
        # ---- forward and its R-operator (steps R1-R4 of the docs) ----
        Z = X @ W1 + b1
        mask = Z > 0  # relu'(Z), with relu'(0) := 0 as in the gradient
        H = np.where(mask, Z, 0)
        F = H @ W2 + b2
        P = softmax(F)
        top = np.argmax(F, axis=1)
        RZ = X @ V1 + v1  # R1: R{Z} = X V1 + v1
        RH = np.where(mask, RZ, 0)  # R2: R{H} = R{Z} * 1[Z > 0]
        RF = RH @ W2 + H @ V2 + v2  # R3: R{F} = R{H} W2 + H V2 + v2
        RdF = _softmax_jvp(P, top, RF) / n  # R4: R{dF} = (diag(p) - p p^T) R{F}_n / N
        # ---- backward and its R-operator (steps R5-R9) ----
        out_W2 = H.T @ RdF + reg * V2  # R5: R{dW2} = H^T R{dF} [+ R{H}^T dF] + reg V2
        out_b2 = RdF.sum(axis=0)  # R6: R{db2} = sum_n R{dF}_n
        RdH = RdF @ W2.T  # R7: R{dH} = R{dF} W2^T [+ dF V2^T]
        if exact:
            dF = P.copy()
            dF[rows, labels] -= 1
            dF /= n
            out_W2 += RH.T @ dF  # the product of a change of H with dF
            RdH += dF @ V2.T  # the product of dF with a change of W2
        RdZ = np.where(mask, RdH, 0)  # R8: R{dZ} = R{dH} * 1[Z > 0]  (R{mask} = 0)
        out_W1 = X.T @ RdZ + reg * V1  # R9: R{dW1} = X^T R{dZ} + reg V1
        out_b1 = RdZ.sum(axis=0)  #     R{db1} = sum_n R{dZ}_n
    out = {"W1": out_W1, "b1": out_b1, "W2": out_W2, "b2": out_b2}
    if not _all_finite(Z, F, *out.values()):
        _raise_nonfinite(X, params)
    return out


def hvp(params: Any, X: Any, y: Any, reg: float, vector: Any) -> dict[str, np.ndarray]:
    r"""The exact Hessian of the loss times a direction, by the R-operator (Pearlmutter).

    With :math:`V = (V_1, v_1, V_2, v_2)` keyed like ``params``,
    :math:`m = \mathbb 1[Z > 0]` and :math:`dF = (P - Y)/N` from
    :func:`loss_and_grad`:

    .. math::
        \begin{aligned}
        &R_Z = X V_1 + v_1, \quad R_H = m \odot R_Z, \quad
        R_F = R_H W_2 + H V_2 + v_2, \\
        &R_{dF} = \tfrac1N \big(\operatorname{diag}(p_n) - p_n p_n^\top\big) (R_F)_n, \\
        &H[V]_{W_2} = H^\top R_{dF} + R_H^\top dF + \lambda V_2, \quad
        H[V]_{b_2} = \textstyle\sum_n (R_{dF})_n, \\
        &R_{dZ} = m \odot \big(R_{dF} W_2^\top + dF\, V_2^\top\big), \\
        &H[V]_{W_1} = X^\top R_{dZ} + \lambda V_1, \quad
        H[V]_{b_1} = \textstyle\sum_n (R_{dZ})_n.
        \end{aligned}

    Off the kinks (no :math:`Z_{nj} = 0`) this is the exact Hessian product;
    the ReLU's second derivative is 0 there, but the cross-layer terms
    :math:`R_H^\top dF` and :math:`dF\, V_2^\top` are not, and they make the
    Hessian indefinite in general. :func:`gnvp` drops exactly those two.

    Args:
        params: ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,).
        X: ``(N, D)``; y: ``(N,)`` in ``[0, C)``; reg: :math:`\lambda \ge 0`.
        vector: the direction, a dict keyed and shaped like ``params``.

    Returns:
        A new dict keyed and shaped like ``params``: float32 when X, every
        parameter and every direction are float32, float64 otherwise.

    Raises:
        TypeError, ValueError: as :func:`loss_and_grad`, and for a direction
            with missing keys, a wrong shape or dtype, or a NaN, naming
            ``vector['W1']`` etc.

    Example:
        With ``W2 = 0`` every class is equally likely and no second derivative
        reaches the first layer through ``W2``; only the cross term
        :math:`dF\, V_2^\top` does:

        >>> p = {"W1": np.array([[1.0]]), "b1": np.zeros(1), "W2": np.zeros((1, 2)),
        ...      "b2": np.zeros(2)}
        >>> v = {"W1": np.zeros((1, 1)), "b1": np.zeros(1), "W2": np.array([[1.0, 0.0]]),
        ...      "b2": np.zeros(2)}
        >>> Hv = hvp(p, np.array([[2.0]]), np.array([0]), 0.0, v)
        >>> Hv["W2"], Hv["W1"]    # H^T R_dF with R_F = (2, 0); dF V2^T = -1/2, times x = 2
        (array([[ 1., -1.]]), array([[-1.]]))
    """
    return _second_order(params, X, y, reg, vector, exact=True)


def gnvp(params: Any, X: Any, y: Any, reg: float, vector: Any) -> dict[str, np.ndarray]:
    r"""The Gauss-Newton matrix times a direction: :math:`J^\top H_\text{loss} J\, V + \lambda V_W`.

    :math:`J` is the Jacobian of the scores :math:`F` in the parameters and
    :math:`H_\text{loss}` the block diagonal of
    :math:`\frac1N(\operatorname{diag}(p_n) - p_n p_n^\top)`: the steps of
    :func:`hvp` without the two products of :math:`dF` with the direction
    (:math:`R_H^\top dF` and :math:`dF\, V_2^\top`), i.e. the forward R-pass
    :math:`R_F = J V` followed by the ordinary backward pass applied to
    :math:`R_{dF}`, plus the penalty's :math:`\lambda V_1, \lambda V_2`. It is
    symmetric positive semi-definite, which is what a Newton-type solver on a
    network needs.

    Args and returns: as :func:`hvp`: ``params`` and ``vector`` keyed ``W1``
    (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,); X ``(N, D)``; y ``(N,)``.

    Example:
        >>> p = {"W1": np.array([[1.0]]), "b1": np.zeros(1), "W2": np.zeros((1, 2)),
        ...      "b2": np.zeros(2)}
        >>> v = {"W1": np.zeros((1, 1)), "b1": np.zeros(1), "W2": np.array([[1.0, 0.0]]),
        ...      "b2": np.zeros(2)}
        >>> Gv = gnvp(p, np.array([[2.0]]), np.array([0]), 0.0, v)
        >>> Gv["W2"], Gv["W1"]    # the cross term of hvp is gone from W1
        (array([[ 1., -1.]]), array([[0.]]))
    """
    return _second_order(params, X, y, reg, vector, exact=False)


def _second_order_naive(
    params: Any, X: Any, y: Any, reg: Any, vector: Any, *, exact: bool
) -> dict[str, np.ndarray]:
    params, X, labels, reg, V = _second_order_problem(params, X, y, reg, vector)
    W1, b1, W2, b2 = (params[k].astype(np.float64) for k in TWO_LAYER_KEYS)
    V1, v1, V2, v2 = (V[k].astype(np.float64) for k in TWO_LAYER_KEYS)
    X64 = X.astype(np.float64)
    n_samples = X.shape[0]
    n_hidden, n_classes = W2.shape
    out = {k: np.zeros_like(a) for k, a in zip(TWO_LAYER_KEYS, (W1, b1, W2, b2), strict=True)}
    with np.errstate(over="ignore", invalid="ignore"):
        for n in range(n_samples):
            x = X64[n]
            z = np.array([x @ W1[:, j] + b1[j] for j in range(n_hidden)])
            h = np.array([z[j] if z[j] > 0 else 0.0 for j in range(n_hidden)])
            f = np.array([h @ W2[:, i] + b2[i] for i in range(n_classes)])
            e = np.exp(f - f.max())
            p = e / e.sum()
            df = p.copy()
            df[labels[n]] -= 1.0  # dL_n/df, the gradient's case split
            # Directional changes, unit by unit and class by class.
            rz = np.array([x @ V1[:, j] + v1[j] for j in range(n_hidden)])
            rh = np.array([rz[j] if z[j] > 0 else 0.0 for j in range(n_hidden)])
            rf = np.array([rh @ W2[:, i] + h @ V2[:, i] + v2[i] for i in range(n_classes)])
            # d^2 L_n / df_i df_j: p_i (1 - p_i) on the diagonal, -p_i p_j off it.
            block = np.array(
                [
                    [p[i] * (1.0 - p[i]) if i == j else -p[i] * p[j] for j in range(n_classes)]
                    for i in range(n_classes)
                ]
            )
            rdf = block @ rf
            for i in range(n_classes):
                out["W2"][:, i] += h * rdf[i] + (rh * df[i] if exact else 0.0)
                out["b2"][i] += rdf[i]
            for j in range(n_hidden):
                if z[j] <= 0:
                    continue  # the ReLU passes nothing back, and its R{mask} is 0
                rdh_j = sum(rdf[i] * W2[j, i] for i in range(n_classes))
                if exact:
                    rdh_j += sum(df[i] * V2[j, i] for i in range(n_classes))
                out["W1"][:, j] += x * rdh_j
                out["b1"][j] += rdh_j
        for g in out.values():
            g /= n_samples
        out["W1"] += reg * V1
        out["W2"] += reg * V2
    result = {k: v.astype(X.dtype) for k, v in out.items()}
    if not _all_finite(*result.values()):
        _raise_nonfinite(X, params)
    return result


def hvp_naive(params: Any, X: Any, y: Any, reg: float, vector: Any) -> dict[str, np.ndarray]:
    r""":func:`hvp` one sample, one unit, one class at a time: the derivation as loops.

    For sample :math:`x_n`: :math:`r_z = x_n V_1 + v_1`, :math:`r_h = m \odot r_z`,
    :math:`r_f = r_h W_2 + h V_2 + v_2`, then with the case split
    :math:`\partial^2 L_n / \partial f_i \partial f_j = p_i(\delta_{ij} - p_j)`,
    :math:`r_{df} = (\partial^2 L_n / \partial f^2)\, r_f`, and for each unit
    :math:`j` with :math:`z_j > 0`:
    :math:`r_{dh,j} = \sum_i r_{df,i} W_{2,ji} + \sum_i df_i V_{2,ji}`.
    Sums in float64; the mean over samples and :math:`\lambda V` at the end.

    Args and returns: as :func:`hvp`: ``params``/``vector`` keyed ``W1`` (D, H),
    ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,); X ``(N, D)``; y ``(N,)``.

    Example:
        >>> p = {"W1": np.array([[1.0]]), "b1": np.zeros(1), "W2": np.zeros((1, 2)),
        ...      "b2": np.zeros(2)}
        >>> v = {"W1": np.zeros((1, 1)), "b1": np.zeros(1), "W2": np.array([[1.0, 0.0]]),
        ...      "b2": np.zeros(2)}
        >>> hvp_naive(p, np.array([[2.0]]), np.array([0]), 0.0, v)["W1"]
        array([[-1.]])
    """
    return _second_order_naive(params, X, y, reg, vector, exact=True)


def gnvp_naive(params: Any, X: Any, y: Any, reg: float, vector: Any) -> dict[str, np.ndarray]:
    r""":func:`gnvp` one sample, one unit, one class at a time (:func:`hvp_naive` without its
    products of :math:`df` with the direction).

    .. math::
        G[V] = \frac1N \sum_n J_n^\top \big(\operatorname{diag}(p_n) - p_n p_n^\top\big)
               J_n V + \lambda (V_1, 0, V_2, 0)

    Args and returns: as :func:`hvp`: ``params``/``vector`` keyed ``W1`` (D, H),
    ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,); X ``(N, D)``; y ``(N,)``.

    Example:
        >>> p = {"W1": np.array([[1.0]]), "b1": np.zeros(1), "W2": np.zeros((1, 2)),
        ...      "b2": np.zeros(2)}
        >>> v = {"W1": np.zeros((1, 1)), "b1": np.zeros(1), "W2": np.array([[1.0, 0.0]]),
        ...      "b2": np.zeros(2)}
        >>> gnvp_naive(p, np.array([[2.0]]), np.array([0]), 0.0, v)["W2"]
        array([[ 1., -1.]])
    """
    return _second_order_naive(params, X, y, reg, vector, exact=False)
