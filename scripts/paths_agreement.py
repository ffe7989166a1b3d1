"""Largest relative difference between loss_and_grad and loss_and_grad_naive.

Run: .venv/bin/python scripts/paths_agreement.py [--problems 200] [--seed 0]

Draws random problems of assorted shapes (float64), computes both paths, and
prints the largest relative difference of the loss, and of dW and db measured
as max|a - b| / max|b| (relative to the gradient's scale, so that entries which
are 0 in exact arithmetic do not divide by zero).
"""

from __future__ import annotations

import argparse

import numpy as np

import softmax_ref as sr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    worst = {"loss": 0.0, "dW": 0.0, "db": 0.0}
    for _ in range(args.problems):
        n, d, c = (int(v) for v in rng.integers(1, [200, 20, 12]))
        c = max(c, 2)
        X = rng.normal(scale=rng.choice([0.1, 1, 10]), size=(n, d))
        W = rng.normal(size=(d, c))
        b = rng.normal(size=c)
        y = rng.integers(0, c, size=n)
        reg = float(rng.choice([0.0, 1e-3, 0.1, 10.0]))
        fast = sr.loss_and_grad(W, b, X, y, reg)
        slow = sr.loss_and_grad_naive(W, b, X, y, reg)
        worst["loss"] = max(worst["loss"], abs(fast[0] - slow[0]) / abs(slow[0]))
        for name, a, r in (("dW", fast[1], slow[1]), ("db", fast[2], slow[2])):
            worst[name] = max(worst[name], np.max(np.abs(a - r)) / np.max(np.abs(r)))
    for name, value in worst.items():
        print(f"{name}: largest relative difference {value:.3e}")


if __name__ == "__main__":
    main()
