"""Measure loss_and_grad's time against block size and thread count, for the tuning rule.

The rule lives in ``softmax_ref._kernels.default_block_rows``; this script is
the measurement behind it. For each shape it times ``loss_and_grad`` at
several block sizes (bytes of X per block) and thread counts, interleaved
round by round with the post's code (benchmarks/post_softmax.py) so that the
ratios are measured side by side under the same machine load, and prints the
median time and its ratio to the post's code.

Run it on a quiet machine (check ``uptime``), with the OpenBLAS overrides of
this environment unset for this command only::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python scripts/tune_block.py \\
        --sizes tall,cs231n-full --blocks 128K,512K,2M,8M,32M --threads 1,2

Rows per sub-GEMM (the rule ``softmax_ref._kernels.sub_gemm_rows``), with the
blocks and threads of the defaults: ``--blocks 2M --threads 2 --sub-gemm
0,256,512,default,2048 --sizes tall``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def parse_bytes(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper()
    if text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="cs231n-dev,tall")
    parser.add_argument("--blocks", default="128K,512K,2M,8M,32M")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument(
        "--sub-gemm",
        default="default",
        help="rows per sub-GEMM to try, comma-separated; 0: one GEMM per block; "
        "default: the kernel's rule (softmax_ref._kernels.sub_gemm_rows)",
    )
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)

    from post_softmax import softmax_loss
    from problems import SIZES
    from threadpoolctl import threadpool_info

    import softmax_ref as sr
    from softmax_ref import _kernels

    blas = [(i["internal_api"], i.get("architecture"), i["num_threads"]) for i in threadpool_info()]
    print(f"BLAS: {blas}; load average {os.getloadavg()}", flush=True)
    dtype = np.dtype(args.dtype)
    for name in args.sizes.split(","):
        n, d, c = SIZES[name]
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n, d)).astype(dtype)
        W = (0.01 * rng.standard_normal((d, c))).astype(dtype)
        b = np.zeros(c, dtype)
        y = rng.integers(0, c, size=n)
        problem = (W, b, X, y, 1e-3)
        candidates = {"post": lambda problem=problem: softmax_loss(*problem)}
        rows: dict[str, int] = {}
        for block in args.blocks.split(","):
            for threads in args.threads.split(","):
                for sub in args.sub_gemm.split(","):
                    env = {
                        _kernels.BLOCK_ENV: str(parse_bytes(block)),
                        _kernels.THREADS_ENV: threads,
                        _kernels.SUB_GEMM_ENV: "" if sub == "default" else sub,
                    }

                    def run(env=env, problem=problem):
                        os.environ.update(env)
                        return sr.loss_and_grad(*problem)

                    key = f"{block}/t{threads}" + ("" if sub == "default" else f"/s{sub}")
                    candidates[key] = run
                    rows[key] = max(64, parse_bytes(block) // (d * dtype.itemsize))
        times: dict[str, list[float]] = {k: [] for k in candidates}
        for fn in candidates.values():  # warm up: pools, caches, threadpoolctl's scan
            fn()
        for _ in range(args.rounds):
            for key, fn in candidates.items():
                start = time.perf_counter()
                fn()
                times[key].append(time.perf_counter() - start)
        base = statistics.median(times["post"])
        print(f"\n{name} {dtype} (N={n}, D={d}, C={c})  load {os.getloadavg()[0]:.2f}")
        for key, ts in times.items():
            med = statistics.median(ts)
            note = f"  {rows[key]} rows/block" if key in rows else ""
            print(f"  {key:>16}: {med * 1e3:9.3f} ms  ratio to post {med / base:5.2f}{note}")
        os.environ.pop(_kernels.BLOCK_ENV, None)
        os.environ.pop(_kernels.SUB_GEMM_ENV, None)
        default = _kernels.default_block_rows(d, dtype.itemsize)
        print(f"  the rule's default: {default} rows ({default * d * dtype.itemsize >> 10} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
