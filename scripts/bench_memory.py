"""Peak extra memory of one loss-and-gradient call against N, measured two ways.

For N from 10^3 to 10^6 at fixed D and C (default D = 32, C = 10, float64),
each measured implementation runs in a fresh child process (so that one
measurement's peak cannot hide another's):

* tracemalloc's peak during one call, above what was allocated before it
  (NumPy reports its allocations to tracemalloc; JAX's device buffers are not
  seen by it, so JAX gets only the second measure);
* the growth of the resident set during one call: a thread samples
  ``/proc/self/statm`` every half millisecond while the call runs, and the
  highest sample less the resident set just before the call is reported (it
  sees every library's memory, JAX's included; large NumPy arrays are mapped
  and unmapped whole, so the warm-up call leaves none of them resident);
* the process's peak resident set (``ru_maxrss``) at the end, all included.

Measured: ``loss_and_grad``, ``loss_and_grad_streaming`` (the rows in chunks
of 10^4), ``hvp`` once softmax_ref has it, the post's code (four N x C arrays)
and JAX's jit. ``make bench``
runs it; ``scripts/bench_table.py --memory`` puts the table and the plot
(docs/benchmark-memory.png) on the benchmarks page.

Usage::

    python scripts/bench_memory.py [--ns 1000,10000,100000,1000000] [--d 32] [--c 10]
        [--impls ours,streaming,hvp,post,jax] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMPLS = ("ours", "streaming", "hvp", "post", "jax")


def default_impls() -> str:
    # hvp is measured once softmax_ref has it (the Hessian-vector product).
    import importlib.util

    spec = importlib.util.find_spec("softmax_ref.hessian")
    return ",".join(i for i in IMPLS if i != "hvp" or spec is not None)


def child(impl: str, n: int, d: int, c: int, dtype: str) -> dict:
    """Runs in the child: build the problem, warm up, measure one call."""
    import resource
    import tracemalloc

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import numpy as np
    from problems import make_problem

    import softmax_ref as sr

    p = make_problem("memory", np.dtype(dtype), shape=(n, d, c))
    if impl == "ours":

        def call():
            return sr.loss_and_grad(p.W, p.b, p.X, p.y, p.reg)
    elif impl == "streaming":
        step = 10_000

        def call():
            chunks = ((p.X[i : i + step], p.y[i : i + step]) for i in range(0, n, step))
            return sr.loss_and_grad_streaming(p.W, p.b, chunks, p.reg)
    elif impl == "hvp":
        V_W, V_b = np.ones_like(p.W), np.ones_like(p.b)

        def call():
            return sr.hvp(p.W, p.b, p.X, p.y, p.reg, V_W, V_b)
    else:
        import impls

        call = impls.REGISTRY["jax" if impl == "jax" else "post"].factory(p)
    call()  # warm: pools, compilation, caches
    page = os.sysconf("SC_PAGE_SIZE")

    def resident() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page

    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(resident())
            time.sleep(0.0005)

    rss_before = resident()
    sampler = threading.Thread(target=sample)
    sampler.start()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        call()
        traced = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
        done.set()
        sampler.join()
    samples.append(resident())
    rss_growth = max(samples) - rss_before
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "impl": impl,
        "N": n,
        "D": d,
        "C": c,
        "dtype": dtype,
        "traced_peak_bytes": None if impl == "jax" else traced,
        "rss_growth_bytes": rss_growth,
        "rss_peak_bytes": rss_peak,
        "bytes_X": int(p.X.nbytes),
        "bytes_NC": n * c * np.dtype(dtype).itemsize,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ns", default="1000,10000,100000,1000000")
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--c", type=int, default=10)
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--impls", default=None, help="default: all of them that exist")
    parser.add_argument("--out", type=Path, default=ROOT / ".benchmarks" / "memory.json")
    parser.add_argument("--child", nargs=2, metavar=("IMPL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        impl, n = args.child
        print(json.dumps(child(impl, int(n), args.d, args.c, args.dtype)))
        return 0
    rows = []
    for impl in (args.impls or default_impls()).split(","):
        if impl not in IMPLS:
            parser.error(f"--impls: unknown {impl!r}; choose from {', '.join(IMPLS)}")
        for n in (int(v) for v in args.ns.split(",")):
            cmd = [sys.executable, __file__, "--child", impl, str(n), "--d", str(args.d)]
            cmd += ["--c", str(args.c), "--dtype", args.dtype]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{impl} N={n}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
                return 1
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            traced = row["traced_peak_bytes"]
            print(
                f"{impl:10s} N={n:>8d}: traced peak "
                f"{'-' if traced is None else f'{traced / 2**20:8.2f} MiB'}"
                f"  RSS growth {row['rss_growth_bytes'] / 2**20:8.2f} MiB"
                f"  (X {row['bytes_X'] / 2**20:.1f} MiB, one N x C array "
                f"{row['bytes_NC'] / 2**20:.2f} MiB)",
                flush=True,
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"load": os.getloadavg(), "rows": rows}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
