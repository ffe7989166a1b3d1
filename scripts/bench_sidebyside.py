"""Ratios of our time to the others', measured side by side in interleaved rounds.

pytest-benchmark times one implementation for all its rounds, then the next:
on a machine shared with other jobs the load changes in between, and a ratio
of two medians taken minutes apart mixes the code's speed with the load's.
Here every round times each implementation once (after one untimed warm-up
call, so that no implementation pays for the previous one's BLAS threads
still spinning), and each ratio is taken within the round; the table reports
the median over rounds of those per-round ratios.

Usage (``make bench`` runs it and passes the JSON to scripts/bench_table.py)::

    python scripts/bench_sidebyside.py [--sizes toy,tall] [--rounds 7] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

GEMM_N = 2048


def timed(fn) -> float:
    """Seconds per call: one untimed warm-up call, then enough calls to fill ~20 ms."""
    start = time.perf_counter()
    fn()
    reps = max(1, min(1000, int(0.02 / max(time.perf_counter() - start, 1e-7))))
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="toy,cs231n-dev,cs231n-full,tall,wide-class")
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / ".benchmarks" / "sidebyside.json")
    args = parser.parse_args(argv)

    import impls
    from conftest import make_problem

    import verification.oracle  # noqa: F401  (JAX's float64 flag, once, before any array)

    results = []
    for dtype in args.dtypes.split(","):
        rng = np.random.default_rng(0)
        A = rng.standard_normal((GEMM_N, GEMM_N)).astype(dtype)
        B = rng.standard_normal((GEMM_N, GEMM_N)).astype(dtype)
        out = np.empty_like(A)

        def gemm(A=A, B=B, out=out):
            return np.matmul(A, B, out=out)

        for size in args.sizes.split(","):
            p = make_problem(size, getattr(np, dtype))
            n, d, c = p.shape
            calls = {
                "ours": impls.ours(p),
                "post": impls.post(p),
                "jax": impls.jax_value_and_grad(p),
                "sklearn-t1": impls.sklearn_half_multinomial(p, 1),
                "sklearn-t2": impls.sklearn_half_multinomial(p, 2),
                "read-bound": impls.read_bound(p),
                "gemm-rate": gemm,
            }
            load_start = os.getloadavg()[0]
            rounds = []
            for _ in range(args.rounds):
                t = {k: timed(fn) for k, fn in calls.items()}
                bound = max(t["read-bound"], 4 * n * d * c * t["gemm-rate"] / (2 * GEMM_N**3))
                rounds.append(
                    {
                        "times": t,
                        "r_post": t["ours"] / t["post"],
                        "r_jax": t["ours"] / t["jax"],
                        "r_sklearn": t["ours"] / min(t["sklearn-t1"], t["sklearn-t2"]),
                        "r_bound": t["ours"] / bound,
                    }
                )
            row = {
                "size": size,
                "dtype": dtype,
                "shape": [n, d, c],
                "rounds": args.rounds,
                "load_start": load_start,
                "load_end": os.getloadavg()[0],
                "median_times": {
                    k: statistics.median(r["times"][k] for r in rounds) for k in calls
                },
            }
            for key in ("r_post", "r_jax", "r_sklearn", "r_bound"):
                row[key] = statistics.median(r[key] for r in rounds)
            results.append(row)
            print(
                f"{size:12s} {dtype}: ours/post {row['r_post']:.2f}  ours/JAX {row['r_jax']:.2f}"
                f"  ours/sklearn {row['r_sklearn']:.2f}  ours/bound {row['r_bound']:.2f}"
                f"  (load {load_start:.1f} -> {row['load_end']:.1f})",
                flush=True,
            )
            del p, calls
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rounds": args.rounds, "problems": results}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
