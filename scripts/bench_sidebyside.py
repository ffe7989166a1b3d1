"""Ratios of our time to the others', measured side by side in interleaved rounds.

pytest-benchmark times one implementation for all its rounds, then the next:
on a machine shared with other jobs the load changes in between, and a ratio
of two medians taken minutes apart mixes the code's speed with the load's.
Here every round times each implementation of the registry
(benchmarks/impls.py) once (after one untimed warm-up call, so that no
implementation pays for the previous one's BLAS threads still spinning), and
each ratio is taken within the round; the table reports the median over rounds
of those per-round ratios, and their range (min-max over rounds). Every
registered implementation gets its ratio to the post's code (``vs_post_<name>``);
ours also to JAX, to the better scikit-learn and to the lower bound.

``--profile`` adds, per problem, the time of the pieces of our call measured
alone in the same rounds (the two GEMMs, the element-wise steps, the
validation and set-up): what bounds the call where a target is missed.

Usage (``make bench`` runs it and passes the JSON to scripts/bench_table.py)::

    python scripts/bench_sidebyside.py [--sizes toy,tall] [--rounds 7] [--impls ours,post]
        [--profile] [--out FILE.json]
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


#: Prefix of a piece that is an alternative to one of our call's, not a part of it.
ALTERNATIVE = "instead: "


def pieces(p) -> dict:
    """Our call's parts, each alone: where its time goes (see --profile)."""
    from softmax_ref import _kernels
    from softmax_ref._validation import check_problem

    W, b, X, y, reg = p.W, p.b, p.X, p.y, p.reg
    n, d, c = p.shape
    S = np.empty((c, n), dtype=p.dtype)
    F = np.empty((n, c), dtype=p.dtype)
    GT = np.empty((d, c), dtype=p.dtype)
    G = np.empty((c, d), dtype=p.dtype)
    E = np.empty((c, n), dtype=p.dtype)
    WT = W.T

    def forward_gemm():
        return np.matmul(WT, X.T, out=S)

    def forward_gemm_rows_major():
        # The other orientation of the forward GEMM, X W (N, C), as the post and
        # scikit-learn run it: not part of our call, timed to show the choice.
        return np.matmul(X, W, out=F)

    def backward_gemm_post():
        # The backward GEMM as the post runs it, X^T (P - Y) (D, C).
        return np.matmul(X.T, F, out=GT)

    def backward_gemm():
        return np.matmul(S, X, out=G)

    def elementwise():
        # The block's element-wise steps without the GEMMs: max, shift, exp, sums.
        m = np.maximum.reduce(S, axis=0)
        np.subtract(S, m, out=E)
        np.exp(E, out=E)
        s = np.add.reduce(E, axis=0)
        np.log(s)
        np.multiply(E, 1 / s, out=E)
        return np.add.reduce(E, axis=1)

    def validation():
        return check_problem(W, b, X, y, reg), _kernels.one_block(n, d, c, p.dtype.itemsize)

    return {
        "forward GEMM": forward_gemm,
        "backward GEMM": backward_gemm,
        "element-wise": elementwise,
        "validation": validation,
        ALTERNATIVE + "forward GEMM as X W": forward_gemm_rows_major,
        ALTERNATIVE + "backward GEMM as X^T (P - Y)": backward_gemm_post,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="toy,cs231n-dev,cs231n-full,tall,wide-class")
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--impls", default="", help="comma-separated names (default: all)")
    parser.add_argument("--profile", action="store_true", help="also time our call's pieces")
    parser.add_argument("--out", type=Path, default=ROOT / ".benchmarks" / "sidebyside.json")
    args = parser.parse_args(argv)

    import impls
    from problems import make_problem

    wanted = args.impls.split(",") if args.impls else None
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
            calls = {i.name: i.factory(p) for i in impls.select(wanted, size)}
            if impls.BASELINE not in calls:
                calls[impls.BASELINE] = impls.REGISTRY[impls.BASELINE].factory(p)
            calls["gemm-rate"] = gemm
            parts = pieces(p) if args.profile else {}
            load_start = os.getloadavg()[0]
            rounds = []
            for _ in range(args.rounds):
                t = {k: timed(fn) for k, fn in calls.items()}
                t.update({f"piece: {k}": timed(fn) for k, fn in parts.items()})
                r = {
                    f"vs_post_{k}": t[k] / t[impls.BASELINE]
                    for k in calls
                    if k not in ("gemm-rate", impls.BASELINE)
                }
                if impls.OURS in t:
                    ours = t[impls.OURS]
                    compute = 4 * n * d * c * t["gemm-rate"] / (2 * GEMM_N**3)
                    if "read-bound" in t:
                        r["r_bound"] = ours / max(t["read-bound"], compute)
                    if "jax" in t:
                        r["r_jax"] = ours / t["jax"]
                    sk = [t[k] for k in ("sklearn-t1", "sklearn-t2") if k in t]
                    if sk:
                        r["r_sklearn"] = ours / min(sk)
                    r["r_post"] = ours / t[impls.BASELINE]
                rounds.append({"times": t, **r})
            keys = sorted({k for r in rounds for k in r if k.startswith(("r_", "vs_post_"))})
            row = {
                "size": size,
                "dtype": dtype,
                "shape": [n, d, c],
                "rounds": args.rounds,
                "load_start": load_start,
                "load_end": os.getloadavg()[0],
                "median_times": {
                    k: statistics.median(r["times"][k] for r in rounds) for k in rounds[0]["times"]
                },
            }
            for key in keys:
                vals = [r[key] for r in rounds if key in r]
                row[key] = statistics.median(vals)
                row[key + "_range"] = [min(vals), max(vals)]
            results.append(row)
            shown = "  ".join(
                f"{k[2:]} {row[k]:.2f}"
                for k in ("r_post", "r_jax", "r_sklearn", "r_bound")
                if k in row
            )
            print(
                f"{size:12s} {dtype}: ours / {shown}"
                f"  (load {load_start:.1f} -> {row['load_end']:.1f})",
                flush=True,
            )
            del p, calls, parts
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rounds": args.rounds, "problems": results}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
