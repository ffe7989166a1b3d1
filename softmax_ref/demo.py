"""``softmax-ref demo``: the loss and gradient on the blog post's toy data set."""

from __future__ import annotations

import argparse

import numpy as np

from softmax_ref.loss import loss_and_grad


def run_demo(args: argparse.Namespace) -> int:
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=1000,
        n_features=2,
        n_redundant=0,
        random_state=2016,
        n_clusters_per_class=1,
        n_classes=3,
    )
    rng = np.random.default_rng(0)
    W = rng.normal(scale=0.001, size=(2, 3))
    b = np.zeros(3)
    L, dW, db = loss_and_grad(W, b, X, y, reg=0.1)
    np.set_printoptions(precision=6, suppress=True)
    print("toy data set: X", X.shape, "y", y.shape, "classes", np.unique(y))
    print(f"loss at W ~ N(0, 0.001), b = 0, reg = 0.1: {float(L):.6f}")
    print("dW =\n", dW)
    print("db =", db)
    return 0
