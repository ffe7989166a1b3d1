"""The solver table of docs/hessian.md: lbfgs, newton-cg, trust-ncg and scikit-learn's.

On the post's data (``blog_2016``, all 1000 samples, reg = 0.1) and on a random
problem (``--n --d --c``, X standard normal, labels from a random linear model
plus noise, reg = 1e-3): iterations, loss-and-gradient evaluations,
Hessian-vector products, wall time and the final objective, each solver from
W = 0, b = 0 (scikit-learn: its own start, also 0) with a tight tolerance.

    .venv/bin/python scripts/solver_table.py --n 4900 --d 3073 --c 10
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np


def rows(X: np.ndarray, y: np.ndarray, reg: float) -> list[str]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    import softmax_ref as sr
    from softmax_ref.hessian import linear_hessian
    from softmax_ref.loss import linear_loss_and_grad
    from softmax_ref.training import train

    n, d = X.shape
    c = int(y.max()) + 1
    out = []
    for solver, tol in (("lbfgs", 1e-8), ("newton-cg", 1e-10), ("trust-ncg", 1e-8)):
        start = time.perf_counter()
        res = train(
            linear_loss_and_grad,
            {"W": np.zeros((d, c)), "b": np.zeros(c)},
            X,
            y,
            reg=reg,
            solver=solver,
            tol=tol,
            max_iter=10_000,
            hessian=linear_hessian,
        )
        seconds = time.perf_counter() - start
        value = float(sr.loss(res.params["W"], res.params["b"], X, y, reg))
        evals, products = res.extra["n_function_evals"], res.extra.get("n_hessian_products", 0)
        out.append(
            f"| softmax_ref {solver} (tol {tol:g}) | {res.n_iter} | {evals} "
            f"| {products} | {seconds:.3g} | {value:.15f} |"
        )
    for solver in ("lbfgs", "newton-cg"):
        clf = LogisticRegression(C=1 / (n * reg), solver=solver, tol=1e-8, max_iter=10_000)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        seconds = time.perf_counter() - start
        value = float(sr.loss(clf.coef_.T, clf.intercept_, X, y, reg))
        out.append(
            f"| scikit-learn {solver} (tol 1e-8) | {int(clf.n_iter_[0])} | - | - "
            f"| {seconds:.3g} | {value:.15f} |"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4900)
    parser.add_argument("--d", type=int, default=3073)
    parser.add_argument("--c", type=int, default=10)
    parser.add_argument("--skip-random", action="store_true")
    args = parser.parse_args(argv)

    from softmax_ref import datasets

    header = (
        "| solver | iterations | loss+grad evaluations | Hessian products | seconds | objective |\n"
        "|---|---|---|---|---|---|"
    )
    d = datasets.blog_2016()
    print(f"post's data (blog_2016, 1000 x 2 x 3, reg 0.1), load {os.getloadavg()[0]:.1f}")
    print(header)
    print("\n".join(rows(d.X, d.y, 0.1)), flush=True)
    if not args.skip_random:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((args.n, args.d))
        y = np.argmax(
            X @ rng.normal(scale=0.05, size=(args.d, args.c))
            + rng.standard_normal((args.n, args.c)),
            axis=1,
        )
        print(f"\nrandom ({args.n} x {args.d} x {args.c}, reg 1e-3), load {os.getloadavg()[0]:.1f}")
        print(header)
        print("\n".join(rows(X, y, 1e-3)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
