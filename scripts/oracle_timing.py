"""What the JAX oracle and the three-way check cost: compiles, calls, a 500-problem suite.

Run: .venv/bin/python scripts/oracle_timing.py [--problems 500] [--seed 0]

Prints, in this order:

1. the compile cost of a new input shape for the oracle's value-and-gradient
   (``jax.jit``) and the per-call cost once compiled, against the un-jitted
   (eager) cost of the same function, on a small problem;
2. the number of distinct shapes among ``--problems`` random small problems
   (N <= 20, D <= 6, C <= 6, as the property suite draws them), without and
   with the oracle's bucketing, and the compile time each would cost;
3. the cost of ``check_softmax`` per problem, in each mode, over those
   problems (after the one compile), and the total for the suite.

Figures depend on the machine and its load; docs/verification.md quotes a run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import numpy as np

from softmax_ref import loss_and_grad
from verification import check_softmax, oracle, oracle_inputs


def problem(rng: np.random.Generator, n: int, d: int, c: int):
    return (
        rng.normal(size=(d, c)),
        rng.normal(size=c),
        rng.normal(size=(n, d)),
        rng.integers(0, c, size=n),
        0.1,
    )


def per_call(fn, repeats: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    # 1. compile vs call, on the oracle's own padded function and on an unpadded jit.
    W, b, X, y, reg = problem(rng, 11, 5, 4)
    data, (_, dp, cp) = oracle_inputs._softmax_data(X, y, reg, np.dtype(np.float64), 4)
    params = {"W": oracle_inputs.pad_to(W, (dp, cp)), "b": oracle_inputs.pad_to(b, (cp,))}
    fresh = jax.jit(jax.value_and_grad(oracle.softmax_loss))
    start = time.perf_counter()
    jax.block_until_ready(fresh(params, data))
    compile_s = time.perf_counter() - start
    call_s = per_call(lambda: jax.block_until_ready(fresh(params, data)), 200)
    eager = jax.value_and_grad(oracle.softmax_loss)
    eager_s = per_call(lambda: jax.block_until_ready(eager(params, data)), 5)
    wrapped_s = per_call(lambda: oracle.loss_and_grad(W, b, X, y, reg), 200)
    Ws = W + 1e-3 * rng.normal(size=(256, *W.shape))
    bs = np.repeat(b[None], 256, axis=0)
    batch_s = per_call(lambda: oracle.loss_batch(Ws, bs, X, y, reg), 20)
    print("1. oracle value_and_grad, one small problem (N=11, D=5, C=4)")
    print(f"   jit compile (first call of a new shape) {compile_s * 1e3:9.1f} ms")
    print(f"   jit call once compiled                  {call_s * 1e6:9.1f} us")
    print(f"   eager (un-jitted) call                  {eager_s * 1e3:9.1f} ms")
    print(f"   oracle.loss_and_grad (pad + call)       {wrapped_s * 1e6:9.1f} us")
    print(f"   oracle.loss_batch, 256 points           {batch_s * 1e3:9.2f} ms")
    print(f"   one compile costs {compile_s / call_s:,.0f} compiled calls")

    # 2. distinct shapes of a property suite.
    shapes = [
        (int(rng.integers(1, 21)), int(rng.integers(1, 7)), int(rng.integers(2, 7)))
        for _ in range(args.problems)
    ]
    raw = len(set(shapes))
    bucketed = len(
        {
            (
                oracle_inputs.bucket(n, oracle_inputs.MIN_SAMPLES),
                oracle_inputs.bucket(d, oracle_inputs.MIN_FEATURES),
                oracle_inputs.bucket(c, oracle_inputs.MIN_CLASSES),
            )
            for n, d, c in shapes
        }
    )
    # Two compiled functions per shape: value-and-grad and the batched forward.
    print(f"2. {args.problems} random problems with N <= 20, D <= 6, C <= 6")
    print(f"   distinct shapes unpadded {raw:4d}: ~{2 * raw * compile_s:6.1f} s of compiling")
    cost = 2 * bucketed * compile_s
    print(f"   distinct shapes bucketed {bucketed:4d}: ~{cost:6.1f} s of compiling")

    # 3. the three-way check per problem.
    problems = [problem(rng, *s) for s in shapes]
    check_softmax(*problems[0], analytic=loss_and_grad)  # the one compile
    print("3. check_softmax per problem (compiled), median and total")
    for mode in ("full", "sampled", "directional"):
        times = []
        for p in problems:
            start = time.perf_counter()
            report = check_softmax(*p, analytic=loss_and_grad, mode=mode)
            times.append(time.perf_counter() - start)
            assert report.ok, str(report)
        print(
            f"   {mode:11s} median {statistics.median(times) * 1e3:6.1f} ms   "
            f"max {max(times) * 1e3:6.1f} ms   total {sum(times):6.2f} s"
        )


if __name__ == "__main__":
    main()
