"""A researcher's own softmax gradient, with one slip, caught by the three-way check.

The derivation behind this code took the penalty as ``0.5 * reg * ||W||^2`` in
the loss but differentiated it as if it were ``reg * ||W||^2``: ``dW`` carries
``2 * reg * W`` where ``reg * W`` belongs. Everything else is right, so the
loss, ``db`` and the data part of ``dW`` all agree with the oracle; only ``dW``
is off, by ``reg * W``.

Run it (the docs page shows this output, and tests/test_docs.py checks that the
page's copy is what the script prints today)::

    python docs/examples/wrong_gradient.py

or check the same function from the command line::

    PYTHONPATH=docs/examples softmax-ref verify --analytic wrong_gradient:loss_and_grad
"""

from __future__ import annotations

import numpy as np


def loss_and_grad(W, b, X, y, reg=0.0):
    """Loss and gradient as derived by hand, in softmax_ref.loss_and_grad's signature."""
    n = X.shape[0]
    F = X @ W + b  # scores (N, C)
    F = F - F.max(axis=1, keepdims=True)  # the shift changes nothing but overflow
    log_norm = np.log(np.exp(F).sum(axis=1))  # logsumexp of each shifted row
    loss = np.mean(log_norm - F[np.arange(n), y]) + 0.5 * reg * np.sum(W * W)
    P = np.exp(F - log_norm[:, None])  # softmax
    P[np.arange(n), y] -= 1  # P - Y
    dW = X.T @ P / n + 2 * reg * W  # the slip: d/dW of 0.5 reg ||W||^2 is reg W
    db = P.sum(axis=0) / n
    return loss, dW, db


def main() -> None:
    from verification import check_softmax

    rng = np.random.default_rng(0)
    N, D, C = 20, 3, 4
    X = rng.normal(size=(N, D))
    y = rng.integers(0, C, size=N)
    W = rng.normal(size=(D, C))
    b = rng.normal(size=C)

    report = check_softmax(W, b, X, y, reg=0.1, analytic=loss_and_grad)
    print(report)
    print()
    print("ok:       ", report.ok)
    print("blame:    ", report.blame)
    print("diagnosis:", report.diagnosis)


if __name__ == "__main__":
    main()
