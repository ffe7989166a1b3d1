"""Turn a pytest-benchmark JSON file into docs/benchmarks.md and a plot of the ratios.

Usage (``make bench`` runs it on the run it just saved)::

    python scripts/bench_table.py [RUN.json] [--out docs/benchmarks.md] \
        [--plot docs/benchmark-ratios.png]

Without RUN.json, the newest file under .benchmarks/ is used. The page gets
the machine and library versions, a table of medians per size, a table of
ratios (ours to the post's code, to JAX, to scikit-learn, to the lower
bound) with the issue's targets marked met or not, the peak extra memory,
and the regression workflow.

The lower bound of one call is max(time to read X once, 4 N D C flops at the
machine's GEMM rate): the GEMV over X ("read-bound") measures the first, the
large square GEMM ("gemm-rate") the rate.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZE_ORDER = ["toy", "cs231n-dev", "cs231n-full", "tall", "wide-class"]
DTYPES = ["float64", "float32"]

# The targets for float64: ours / post's code at most this.
POST_TARGET = {
    "toy": 0.5,
    "cs231n-dev": 0.6,
    "cs231n-full": 0.5,
    "tall": 0.5,
    "wide-class": 0.9,
}
# ours / lower bound at most this (float64).
BOUND_TARGET = {"cs231n-full": 2.5, "tall": 5.0, "wide-class": 1.15}


def newest_run() -> Path:
    runs = sorted((ROOT / ".benchmarks").glob("*/*.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise SystemExit("no benchmark run under .benchmarks/: run `make bench` first")
    return runs[-1]


def load(path: Path) -> tuple[dict[str, Any], dict[tuple[str, str], dict[str, Any]], dict]:
    """(machine_info, {(size, dtype): {impl: bench}}, {dtype: gemm bench})."""
    data = json.loads(path.read_text())
    by_problem: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    gemm: dict[str, Any] = {}
    for bench in data["benchmarks"]:
        info = bench.get("extra_info", {})
        impl = info.get("impl")
        if impl == "gemm-rate":
            gemm[info["dtype"]] = bench
        elif impl:
            by_problem[(info["size"], info["dtype"])][impl] = bench
    return data, dict(by_problem), gemm


STAT = "median"  # which of pytest-benchmark's statistics analyse() reads


def median(bench: dict[str, Any] | None) -> float | None:
    return None if bench is None else float(bench["stats"][STAT])


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def fmt_ratio(r: float | None, target: float | None = None) -> str:
    if r is None:
        return "-"
    text = f"{r:.2f}"
    if target is not None:
        text += " ✓" if r <= target else " ✗"
    return text


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def analyse(by_problem, gemm, stat: str = "median") -> list[dict[str, Any]]:
    """One row per problem: times by ``stat`` ("median" or "min") and our ratios."""
    global STAT
    STAT = stat
    rows = []
    for size in SIZE_ORDER:
        for dtype in DTYPES:
            impls = by_problem.get((size, dtype))
            if not impls or "ours" not in impls:
                continue
            info = impls["ours"]["extra_info"]
            ours = median(impls["ours"])
            sk = {k: median(impls.get(k)) for k in ("sklearn-t1", "sklearn-t2")}
            sk_best_key = min(
                (k for k in sk if sk[k] is not None), key=lambda k: sk[k], default=None
            )
            rate = None
            if dtype in gemm:
                rate = gemm[dtype]["extra_info"]["flops"] / median(gemm[dtype])
            read = median(impls.get("read-bound"))
            compute = info["flops"] / rate if rate else None
            bound = max(t for t in (read, compute) if t is not None) if (read or compute) else None
            row = {
                "size": size,
                "dtype": dtype,
                "shape": (info["N"], info["D"], info["C"]),
                "ours": ours,
                "post": median(impls.get("post")),
                "naive": median(impls.get("naive")),
                "jax": median(impls.get("jax")),
                "sklearn": sk[sk_best_key] if sk_best_key else None,
                "sklearn_which": sk_best_key,
                "read": read,
                "compute": compute,
                "bound": bound,
                "peak_ours": info.get("peak_extra_bytes"),
                "peak_post": impls.get("post", {}).get("extra_info", {}).get("peak_extra_bytes"),
                "bytes_X": info["bytes_X"],
            }
            for other in ("post", "jax", "sklearn", "bound"):
                row[f"r_{other}"] = ours / row[other] if ours and row[other] else None
            rows.append(row)
    return rows


def machine_section(data: dict[str, Any], path: Path) -> list[str]:
    mi = data.get("machine_info", {})
    ours = mi.get("softmax_ref", {})
    cpu = mi.get("cpu", {})
    blas = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')} kernel, "
        f"{i.get('num_threads')} threads, {Path(i.get('filepath', '')).name})"
        for i in ours.get("threadpool_info", [])
    ]
    versions = ", ".join(f"{k} {v}" for k, v in ours.get("versions", {}).items() if v)
    load = ours.get("loadavg_at_start")
    env = {k: v for k, v in ours.get("env", {}).items() if v is not None}
    python = ours.get("python", mi.get("python_version"))
    load_text = ", ".join(f"{x:.2f}" for x in load) if load else "?"
    lines = [
        "## The machine",
        "",
        f"- Run: `{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}`, "
        f"{data.get('datetime', '?')}",
        f"- CPU: {cpu.get('brand_raw', mi.get('processor', '?'))}, "
        f"{ours.get('cpu_count', '?')} cores; Python {python}",
        f"- Load average when the run started: {load_text}",
        f"- Libraries: {versions}",
        f"- Thread pools: {'; '.join(blas) if blas else '?'}",
        f"- Environment: {env if env else 'no OpenBLAS, OpenMP or softmax-ref overrides set'}",
        "",
    ]
    cores = ours.get("cpu_count") or 1
    if load and load[0] > 0.5 * cores:
        lines += [
            '!!! warning "Measured on a busy machine"',
            f"    The load average was {load[0]:.1f} on {cores} cores when the run started.",
            "    Other jobs shared the cores during this run: absolute times are inflated,",
            "    and the lower bound (measured under the same load) is only indicative.",
            "    Each ratio compares implementations measured in the same run.",
            "",
        ]
    return lines


def ratio_table(rows: list[dict[str, Any]], title: str, intro: str) -> list[str]:
    out = [
        "",
        f"## {title}",
        "",
        intro,
        "",
        "| size | dtype | ours / post | ours / JAX | ours / scikit-learn | ours / bound |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        f64 = r["dtype"] == "float64"
        out.append(
            f"| {r['size']} | {r['dtype']} "
            f"| {fmt_ratio(r['r_post'], POST_TARGET.get(r['size']) if f64 else None)} "
            f"| {fmt_ratio(r['r_jax'], 1.0)} "
            f"| {fmt_ratio(r['r_sklearn'], 1.0 if f64 else None)} "
            f"| {fmt_ratio(r['r_bound'], BOUND_TARGET.get(r['size']) if f64 else None)} |"
        )
    return out


def table_sections(rows: list[dict[str, Any]], min_rows: list[dict[str, Any]]) -> list[str]:
    out = [
        "## Median time per call",
        "",
        "Median of pytest-benchmark's rounds. *sklearn* is the better of 1 and 2",
        "OpenMP threads; *bound* is max(read X once, 4 N D C flops at the GEMM rate).",
        "",
        "| size (N, D, C) | dtype | ours | post's code | naive | JAX jit | scikit-learn "
        "| read X (GEMV) | 4NDC at GEMM rate | bound |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        n, d, c = r["shape"]
        sk = fmt_time(r["sklearn"])
        if r["sklearn_which"]:
            sk += f" ({r['sklearn_which'].split('-')[1]})"
        out.append(
            f"| {r['size']} ({n}, {d}, {c}) | {r['dtype']} | **{fmt_time(r['ours'])}** "
            f"| {fmt_time(r['post'])} | {fmt_time(r['naive'])} | {fmt_time(r['jax'])} | {sk} "
            f"| {fmt_time(r['read'])} | {fmt_time(r['compute'])} | {fmt_time(r['bound'])} |"
        )
    out += ratio_table(
        rows,
        "Ratios of medians: our time over theirs (below 1 is faster)",
        "✓ / ✗: the issue's target met or not (float64: ours / post's code at most 0.5 at toy,\n"
        "cs231n-full and tall, 0.6 at cs231n-dev, 0.9 at wide-class; faster than JAX and\n"
        "scikit-learn everywhere; within 2.5x, 5x and 1.15x of the bound on cs231n-full, tall\n"
        "and wide-class. float32: faster than JAX).",
    )
    out += ratio_table(
        min_rows,
        "Ratios of the fastest rounds",
        "The same ratios from each benchmark's fastest round instead of its median. On a\n"
        "shared machine the load changes between one benchmark and the next, and the\n"
        "fastest round is the one least disturbed by it.",
    )
    out += [
        "",
        "## Peak extra memory of one call",
        "",
        "tracemalloc's peak during one call, above what was allocated before it",
        "(NumPy reports its allocations to tracemalloc). Ours holds one block of scores",
        "and a (C, D) sum per thread, whatever N is; the post's code holds whole (N, C)",
        "arrays.",
        "",
        "| size | dtype | X itself | ours | post's code |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['size']} | {r['dtype']} | {fmt_bytes(r['bytes_X'])} "
            f"| {fmt_bytes(r['peak_ours'])} | {fmt_bytes(r['peak_post'])} |"
        )
    out.append("")
    return out


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    series = [
        ("r_post", "post's code"),
        ("r_jax", "JAX jit"),
        ("r_sklearn", "scikit-learn"),
        ("r_bound", "lower bound"),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, dtype in zip(axes, DTYPES, strict=True):
        sub = [r for r in rows if r["dtype"] == dtype]
        x = np.arange(len(sub))
        width = 0.8 / len(series)
        for i, (key, label) in enumerate(series):
            vals = [r[key] if r[key] else np.nan for r in sub]
            ax.bar(x + (i - (len(series) - 1) / 2) * width, vals, width, label=f"ours / {label}")
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xticks(x, [r["size"] for r in sub], rotation=20)
        ax.set_title(dtype)
        ax.grid(axis="y", which="both", alpha=0.3)
    axes[0].set_ylabel("our time / their time (log; below 1: ours is faster)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


DESIGN = """\
## What makes the core fast, and what bounds it

`loss_and_grad` reads X once, in blocks of rows (`softmax_ref/_kernels.py`):

- each block's scores live in one reusable buffer, laid out class-major,
  `S = (X_b W + b)^T` (C, B), so the reductions over classes run over contiguous
  vectors (NumPy reduces a short last axis about ten times slower), and every
  step of the derivation is done in place in that buffer; the post's code
  allocates four (N, C) arrays;
- the backward GEMM is `(P - Y)^T X_b` (C, D), run while X_b is still in cache;
- blocks are dealt round-robin to two *lanes* (threads): NumPy runs the
  element-wise work, `exp` above all, on one core, and the two lanes put both
  cores to work; each lane's GEMMs run on a single BLAS thread, because many
  small GEMMs each split over OpenBLAS's thread pool pay a barrier per call and,
  on a busy machine, ran 10-70x slower; the lanes' sums are added in a fixed
  order, so results are bitwise identical from run to run;
- block size by the width of X: 2 MiB of X for D < 256, 8 MiB beyond
  (`scripts/tune_block.py` measures it).

What bounds it: with C = 10 the GEMMs are skinny, and OpenBLAS runs them at a
fraction of its square-GEMM rate (packing X_b costs as much as multiplying
it); in float64, NumPy's `exp` is scalar on CPUs without AVX-512 (about 5 ns a
value), which dominates the tall problem.

"""

WORKFLOW = """\
## Guarding your own machine against regressions

pytest-benchmark keeps every saved run under `.benchmarks/<machine>/` and can
compare a new run with an old one, failing when a median got slower:

```sh
make bench-save      # run the suites and save the run as the baseline
# ... change the code ...
make bench-compare   # run again, compare with the last saved run;
                     # fails if any median is more than 10% slower
```

`bench-compare` is `pytest benchmarks --benchmark-compare
--benchmark-compare-fail=median:10%`. Absolute times are only comparable on
one machine under the same load: check `uptime` first, and on a shared
machine repeat a failing comparison before believing it (here, 15-50% swings
from run to run were seen while other jobs ran). Ratios measured side by side
in one run, as in the tables above, are the numbers to trust.

`make bench` runs the same suites, then `scripts/bench_sidebyside.py` (the
side-by-side ratios at the top of this page), with this environment's
`OPENBLAS_CORETYPE` / `OPENBLAS_L2_SIZE` overrides unset for those commands, so
that OpenBLAS picks its kernel itself (the kernel it ran is listed above), and
rewrites this page. The CI runs each benchmark once on the small sizes
(`make bench-smoke`, timing disabled) so that the suites cannot rot.

Settings of the core: `SOFTMAX_REF_NUM_THREADS` (threads over row blocks,
default min(2, cores)) and `SOFTMAX_REF_BLOCK_BYTES` (bytes of X per block;
default 2 MiB for D < 256, else 8 MiB: the rule and its measurements are
in `softmax_ref/_kernels.py` and `scripts/tune_block.py`).
"""


def sidebyside_rows(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    rows = [{**r, "shape": tuple(r["shape"])} for r in data["problems"]]
    order = {s: i for i, s in enumerate(SIZE_ORDER)}
    rows.sort(key=lambda r: (order.get(r["size"], 99), DTYPES.index(r["dtype"])))
    return rows


def sidebyside_section(path: Path) -> list[str]:
    """The interleaved-rounds ratios of scripts/bench_sidebyside.py, with the targets."""
    data = json.loads(path.read_text())
    rows = sidebyside_rows(path)
    loads = [r["load_start"] for r in rows] + [r["load_end"] for r in rows]
    out = ratio_table(
        rows,
        "Side by side: the ratios to trust",
        f"From `scripts/bench_sidebyside.py`: {data['rounds']} rounds, each timing every\n"
        "implementation once (after an untimed warm-up call), the ratio taken within the\n"
        "round, then the median over rounds; the machine's load drifts between\n"
        "pytest-benchmark's consecutive benchmarks, but hardly within one round.\n"
        f"Load average during these rounds: {min(loads):.1f} to {max(loads):.1f}.\n"
        "✓ / ✗: the issue's targets (float64: ours / post's code at most 0.5 at toy,\n"
        "cs231n-full and tall, 0.6 at cs231n-dev, 0.9 at wide-class; faster than JAX and\n"
        "scikit-learn everywhere; within 2.5x, 5x and 1.15x of the bound on cs231n-full,\n"
        "tall and wide-class; float32: faster than JAX).",
    )
    out.append("")
    return out


def render(path: Path, out: Path, plot_path: Path, sidebyside: Path | None = None) -> str:
    data, by_problem, gemm = load(path)
    min_rows = analyse(by_problem, gemm, "min")
    rows = analyse(by_problem, gemm, "median")
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by `make bench` (scripts/bench_table.py); edits are overwritten. -->",
        "",
        "`softmax_ref.loss_and_grad` against the blog post's NumPy code, JAX's",
        "`jit(value_and_grad)`, scikit-learn's `HalfMultinomialLoss` with the same GEMMs,",
        "and two roofline references, for five problem sizes in float64 and float32",
        "(`benchmarks/`). All implementations are checked against ours before timing.",
        "",
    ]
    lines += machine_section(data, path)
    if sidebyside is not None:
        lines += sidebyside_section(sidebyside)
    lines += table_sections(rows, min_rows)
    rel = plot_path.relative_to(out.parent) if plot_path.is_relative_to(out.parent) else plot_path
    what = "side-by-side ratios" if sidebyside is not None else "ratios of medians"
    lines += [
        f"![Ratios of our time to the others']({rel.as_posix()})",
        "",
        f"The plot: the {what}, our time over each other's, on a log scale.",
        "",
    ]
    lines.append(DESIGN)
    lines.append(HVP)
    lines.append(WORKFLOW)
    # The plot shows the side-by-side ratios when there are any: the ones to trust.
    plot_rows = sidebyside_rows(sidebyside) if sidebyside is not None else rows
    if plot_rows:
        plot(plot_rows, plot_path)
    text = "\n".join(lines)
    out.write_text(text)
    return text


HVP = """## Hessian-vector products beside the gradient

`softmax_ref.hvp` (one product from scratch), one product of
`hessian_operator` at a point already set up (what each inner conjugate-gradient
step of `newton-cg` costs), JAX's `jit(jvp(grad))` and scikit-learn's
`LinearModelLoss.gradient_hessian_product` product at a point set up before
timing, each divided by `loss_and_grad`'s time in the same round
(`scripts/hvp_ratios.py`, which writes the table below; the suite
`benchmarks/test_bench_hvp.py` times the same implementations, checked
against `softmax_ref.hvp` first). The derivation: [Part 3](hessian.md).

--8<-- "benchmarks/hvp_ratios.md"

N is capped at 4900 rows where the table says so (`--rows 4900`, run on the
shared 2-core machine, load average in the last column); at such loads a
threaded BLAS call can wait far longer than it computes, so single ratios
(the tall size's, above all) move by several times between runs.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?", type=Path, help="benchmark JSON (default: newest)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "benchmark-ratios.png")
    parser.add_argument(
        "--sidebyside", type=Path, help="JSON of scripts/bench_sidebyside.py to include"
    )
    args = parser.parse_args(argv)
    run = (args.run or newest_run()).resolve()
    render(run, args.out.resolve(), args.plot.resolve(), args.sidebyside)
    print(f"wrote {args.out} and {args.plot} from {run}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
