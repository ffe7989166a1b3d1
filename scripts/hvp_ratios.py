"""Hessian-vector products timed side by side with loss_and_grad: the ratios of docs/benchmarks.md.

For each size of benchmarks/conftest.py (``--rows`` shrinks N of the large ones
when the machine is shared) the implementations of benchmarks/impls.py are
timed in interleaved rounds (``loss_and_grad``, ``hvp``, ``hvp-operator``,
``jax-jvp-grad``, ``sklearn-hessp``); the table gives each one's median time
over the rounds divided by ``loss_and_grad``'s, with the load average.

    .venv/bin/python scripts/hvp_ratios.py --sizes toy,cs231n-dev --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_sidebyside import timed  # noqa: E402  (one timing rule for both tables)

NAMES = ("loss_and_grad", "hvp", "hvp-operator", "jax-jvp-grad", "sklearn-hessp")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="toy,cs231n-dev,cs231n-full,tall,wide-class")
    parser.add_argument("--dtypes", default="float64")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=None, help="cap on N (a shared machine)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "hvp_ratios.md")
    args = parser.parse_args(argv)

    import conftest
    import impls

    import verification.oracle  # noqa: F401  (JAX's float64 flag, once, before any array)

    makers = {
        "loss_and_grad": impls.ours,
        "hvp": impls.ours_hvp,
        "hvp-operator": impls.ours_hvp_operator,
        "jax-jvp-grad": impls.jax_jvp_grad,
        "sklearn-hessp": impls.sklearn_hessp,
    }
    lines = [
        "| size | dtype | N x D x C | " + " | ".join(NAMES[1:]) + " | loss_and_grad (ms) | load |",
        "|---" * (len(NAMES) + 4) + "|",
    ]
    print("\n".join(lines), flush=True)
    for dtype in args.dtypes.split(","):
        for size in args.sizes.split(","):
            n, d, c = conftest.SIZES[size]
            if args.rows is not None and n > args.rows:
                conftest.SIZES[size] = (args.rows, d, c)
            p = conftest.make_problem(size, getattr(np, dtype))
            conftest.SIZES[size] = (n, d, c)
            calls = {name: makers[name](p) for name in NAMES}
            load = os.getloadavg()[0]
            times = {name: [] for name in NAMES}
            for _ in range(args.rounds):
                for name in NAMES:
                    times[name].append(timed(calls[name]))
            med = {name: statistics.median(t) for name, t in times.items()}
            ratios = " | ".join(f"{med[k] / med['loss_and_grad']:.2f}" for k in NAMES[1:])
            shape = "x".join(map(str, p.shape))
            lines.append(
                f"| {size} | {dtype} | {shape} | {ratios} | "
                f"{1e3 * med['loss_and_grad']:.3g} | {load:.1f} |"
            )
            print(lines[-1], flush=True)
            del p, calls
    args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
