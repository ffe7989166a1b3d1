"""The timed implementations, each as a zero-argument callable over one problem.

Shared by the pytest-benchmark suites (test_bench_loss.py) and the side-by-side
script (scripts/bench_sidebyside.py), so that both time exactly the same code.
Each factory does its set-up (device transfer, compilation, buffers) before
returning the callable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from post_softmax import softmax_loss as post_softmax_loss

import softmax_ref as sr


def ours(p: Any) -> Callable[[], Any]:
    return lambda: sr.loss_and_grad(p.W, p.b, p.X, p.y, p.reg)


def post(p: Any) -> Callable[[], Any]:
    return lambda: post_softmax_loss(p.W, p.b, p.X, p.y, p.reg)


def naive(p: Any) -> Callable[[], Any]:
    return lambda: sr.loss_and_grad_naive(p.W, p.b, p.X, p.y, p.reg)


def jax_value_and_grad(p: Any) -> Callable[[], Any]:
    """jit(value_and_grad) of DESIGN.md's loss; compiled here, inputs on the device.

    JAX's float64 flag must be on before this runs (``import verification.oracle``).
    """
    import jax
    import jax.numpy as jnp

    def loss(W, b, X, y, reg):
        # mean_n [logsumexp(F_n) - F_n,y_n] + 0.5 reg ||W||^2
        F = X @ W + b
        F_y = jnp.take_along_axis(F, y[:, None], axis=1)[:, 0]
        return jnp.mean(jax.nn.logsumexp(F, axis=1) - F_y) + 0.5 * reg * jnp.sum(W * W)

    f = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
    args = [jax.device_put(a) for a in (p.W, p.b, p.X, p.y)]
    args.append(jnp.asarray(p.reg, dtype=p.dtype))
    jax.block_until_ready(f(*args))  # compile outside the timing
    return lambda: jax.block_until_ready(f(*args))


def sklearn_half_multinomial(p: Any, threads: int) -> Callable[[], Any]:
    """HalfMultinomialLoss.loss_gradient plus the same two GEMMs as ours.

    Its conventions: float labels, per-sample losses, a per-sample gradient
    P - Y not divided by N. Output buffers are allocated once, here.
    """
    from sklearn._loss.loss import HalfMultinomialLoss

    n, _, c = p.shape
    hml = HalfMultinomialLoss(n_classes=c)
    y_float = p.y.astype(p.dtype)
    raw = np.empty((n, c), dtype=p.dtype)
    loss_out = np.empty(n, dtype=p.dtype)
    grad_out = np.empty((n, c), dtype=p.dtype)

    def call():
        np.matmul(p.X, p.W, out=raw)
        np.add(raw, p.b, out=raw)
        per_sample, G = hml.loss_gradient(
            y_true=y_float,
            raw_prediction=raw,
            loss_out=loss_out,
            gradient_out=grad_out,
            n_threads=threads,
        )
        loss = np.mean(per_sample, dtype=np.float64) + 0.5 * p.reg * np.sum(p.W * p.W)
        dW = (G.T @ p.X).T / n + p.reg * p.W
        db = G.sum(axis=0) / n
        return loss, dW, db

    return call


def read_bound(p: Any) -> Callable[[], Any]:
    # One GEMV reads X once: no loss and gradient can take less.
    v = np.ones(p.shape[1], dtype=p.dtype)
    return lambda: p.X @ v


# --- Hessian-vector products (test_bench_hvp.py, scripts/hvp_ratios.py) -------------------


def direction(p: Any, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The seeded direction (V_W (D, C), V_b (C,)) every product is timed along."""
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal(p.W.shape).astype(p.dtype),
        rng.standard_normal(p.b.shape).astype(p.dtype),
    )


def ours_hvp(p: Any) -> Callable[[], Any]:
    """``softmax_ref.hvp``: one product from scratch (the probabilities recomputed)."""
    V_W, V_b = direction(p)
    return lambda: sr.hvp(p.W, p.b, p.X, p.y, p.reg, V_W, V_b)


def ours_hvp_operator(p: Any) -> Callable[[], Any]:
    """One product of ``hessian_operator`` at a point already set up (the inner CG's cost)."""
    from softmax_ref.hessian import hessian_operator

    V_W, V_b = direction(p)
    op = hessian_operator(p.W, p.b, p.X, p.y, p.reg)
    return lambda: op(V_W, V_b)


def jax_jvp_grad(p: Any) -> Callable[[], Any]:
    """jit(jvp(grad)) of the same loss: forward-over-reverse, compiled here, inputs on device."""
    import jax
    import jax.numpy as jnp

    def loss(W, b, X, y, reg):
        F = X @ W + b
        F_y = jnp.take_along_axis(F, y[:, None], axis=1)[:, 0]
        return jnp.mean(jax.nn.logsumexp(F, axis=1) - F_y) + 0.5 * reg * jnp.sum(W * W)

    def hvp(W, b, VW, Vb, X, y, reg):
        g = jax.grad(loss, argnums=(0, 1))
        return jax.jvp(lambda w, c: g(w, c, X, y, reg), (W, b), (VW, Vb))[1]

    f = jax.jit(hvp)
    args = [jax.device_put(a) for a in (p.W, p.b, *direction(p), p.X, p.y)]
    args.append(jnp.asarray(p.reg, dtype=p.dtype))
    jax.block_until_ready(f(*args))  # compile outside the timing
    return lambda: jax.block_until_ready(f(*args))


def sklearn_hessp(p: Any, setup: bool = False) -> Callable[[], Any]:
    """scikit-learn's ``LinearModelLoss.gradient_hessian_product``'s ``hessp(s)``.

    Its coefficients are (C, D + 1) with the intercept last and its penalty
    ``0.5 l2 ||W||^2`` over the mean loss, the same objective. ``setup=False``
    times the product alone at a point set up once (the inner CG's cost);
    ``setup=True`` times the point's set-up (gradient and probabilities) plus one product.
    """
    from sklearn._loss.loss import HalfMultinomialLoss
    from sklearn.linear_model._linear_loss import LinearModelLoss

    c = p.shape[2]
    lml = LinearModelLoss(base_loss=HalfMultinomialLoss(n_classes=c), fit_intercept=True)
    coef = np.hstack([p.W.T, p.b[:, None]])
    V_W, V_b = direction(p)
    s = np.hstack([V_W.T, V_b[:, None]])
    y_float = p.y.astype(p.dtype)

    def point():
        return lml.gradient_hessian_product(coef, p.X, y_float, l2_reg_strength=p.reg)[1]

    if setup:
        return lambda: point()(s)
    hessp = point()
    return lambda: hessp(s)
