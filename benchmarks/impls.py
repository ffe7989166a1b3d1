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

    The benchmark process computes JAX in float64 for its whole run: the flag
    is set here, once, rather than a scoped context entered inside the timed
    call, whose cost would be timed with it.
    """
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

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
