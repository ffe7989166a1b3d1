"""Turn a pytest-benchmark JSON file into docs/benchmarks.md and a plot of the ratios.

Usage (``make bench`` runs it on the run it just saved)::

    python scripts/bench_table.py [RUN.json] [--out docs/benchmarks.md] \
        [--plot docs/benchmark-ratios.png]

Without RUN.json, the newest file under .benchmarks/ is used. The page gets
the machine and library versions, a table of medians per size, a table of
ratios (ours to the post's code, to JAX, to scikit-learn, to the lower
bound) with the targets marked met or missed (by how much, with the profile
of our call), every registered implementation against the post's code, the
peak extra memory against N (``--memory``), and the regression workflow.

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

# The targets, all from side-by-side ratios. float64: ours / post's code at most this.
POST_TARGET = {
    "toy": 0.5,
    "cs231n-dev": 0.6,
    "cs231n-full": 0.5,
    "tall": 0.5,
    "wide-class": 0.9,
}
# float64: ours / lower bound at most this.
BOUND_TARGET = {"cs231n-full": 2.5, "tall": 5.0}
# float64: faster than JAX jit / than scikit-learn at these sizes (ratio below 1).
JAX_TARGET_F64 = {"toy"}
SKLEARN_TARGET_F64 = {"toy", "cs231n-dev", "wide-class"}


def targets_of(size: str, dtype: str) -> dict[str, float]:
    """The targets of one problem: {ratio key: largest value that meets it}."""
    if dtype == "float32":
        return {"r_jax": 1.0}
    out = {}
    if size in POST_TARGET:
        out["r_post"] = POST_TARGET[size]
    if size in BOUND_TARGET:
        out["r_bound"] = BOUND_TARGET[size]
    if size in JAX_TARGET_F64:
        out["r_jax"] = 1.0
    if size in SKLEARN_TARGET_F64:
        out["r_sklearn"] = 1.0
    return out


TARGET_NAMES = {
    "r_post": "ours / the post's code",
    "r_jax": "ours / JAX jit",
    "r_sklearn": "ours / scikit-learn",
    "r_bound": "ours / lower bound",
}


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
    # Each benchmark records the load when it started (machine_info holds only
    # what stays the same from run to run); the page shows the first one's.
    loads = [
        b["extra_info"]["loadavg_at_start"]
        for b in data.get("benchmarks", [])
        if "loadavg_at_start" in b.get("extra_info", {})
    ]
    load = loads[0] if loads else ours.get("loadavg_at_start")
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
        t = targets_of(r["size"], r["dtype"])
        out.append(
            f"| {r['size']} | {r['dtype']} "
            f"| {fmt_ratio(r.get('r_post'), t.get('r_post'))} "
            f"| {fmt_ratio(r.get('r_jax'), t.get('r_jax'))} "
            f"| {fmt_ratio(r.get('r_sklearn'), t.get('r_sklearn'))} "
            f"| {fmt_ratio(r.get('r_bound'), t.get('r_bound'))} |"
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
        "✓ / ✗: a target met or missed (the section *Targets* lists them); these ratios\n"
        "of medians taken minutes apart are for reference, the side-by-side ones decide.",
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
            vals = [r.get(key) or np.nan for r in sub]
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
- for narrow X (D < 256) blocks are dealt round-robin to two *lanes* (threads)
  whose sums are added in a fixed order, and each block's two GEMMs are cut into
  sub-GEMMs of at most 2^18 multiply-adds (819 rows at D = 32, C = 10), which
  OpenBLAS runs on the calling thread without packing X: the lanes' GEMMs run
  side by side instead of queueing for BLAS's threads (tall: 0.17 of the post's
  time against 0.47 with one GEMM per block, `scripts/tune_block.py --sizes tall
  --blocks 2M --threads 2 --sub-gemm 0,default`); for wide X the GEMMs dominate,
  and one lane leaves the parallel work to BLAS's own threads, in long blocks;
- a call too small for several blocks or lanes (the toy data, cs231n-dev) takes
  a route without that machinery: one block on the calling thread, the same
  arithmetic, and validation of a fixed number of Python operations plus one
  pass over y;
- BLAS's thread count is never changed (it is process-wide, so changing it would
  reach the caller's other threads): results are bitwise the same whether or not
  other threads call at the same time;
- block size by the width of X: 2 MiB of X for D < 256, 32 MiB beyond
  (`scripts/tune_block.py` measures it).

What bounds it: with C = 10 the GEMMs are skinny, and OpenBLAS runs them at a
fraction of its square-GEMM rate (packing X_b costs as much as multiplying
it). At cs231n's shapes the two GEMMs are nearly all of our call, and the
*Targets* profile also times each in the post's orientation (*forward GEMM as
X W*, *backward GEMM as X^T (P - Y)*, over all of X). The kernel takes W^T
X_b^T and (P - Y)^T X_b for every shape; where the other orientation shows the
smaller share, taking it would save the difference, less the transposed copy
of the scores that the class-major element-wise steps would then need. In
float64, NumPy's `exp` is scalar on CPUs without AVX-512 (about 5 ns a value).
The *Targets* section gives, for each missed target, the measured share of each
piece of our call.

"""

WORKFLOW = """\
## Guarding your own machine against regressions

Absolute times move with the machine's load, so the regression check compares
ratios: every implementation of the registry (`benchmarks/impls.py`) is timed
against the post's code on the same problem, back to back in interleaved
rounds, and the ratio is kept (`scripts/bench_regress.py`):

```sh
make bench-save    BENCH_ARGS="--sizes toy,cs231n-dev --dtypes float64"  # the baseline
# ... change the code ...
make bench-compare BENCH_ARGS="--sizes toy,cs231n-dev --dtypes float64"  # exits 1 on a regression
```

`BENCH_ARGS` selects sizes (`--sizes`), dtypes (`--dtypes`), implementations
(`--impls`) and rounds (`--rounds`); without it all five sizes run in both
dtypes (minutes, GBs at the large sizes). A ratio fails when it grew by more
than a limit derived from the measured spread of the two runs (four standard
errors of the medians, at least 10% and at most 30%). `make bench-selftest`
shows the verdict is not a coin flip: on unchanged code five compares out of
five pass, and with a planted 1.5x slowdown five out of five fail. `make test`
runs `bench-save` then `bench-compare` on the toy size (seconds), so the
commands cannot rot. To guard an implementation of your own, see
[Guard your own implementation](guard-your-own.md).

`make bench` runs `scripts/bench_sidebyside.py --profile` (the side-by-side
ratios and the profile of the *Targets* section) first, on the machine as it
is before the suites allocate GBs, then the pytest-benchmark suites and
`scripts/bench_memory.py`, with this environment's `OPENBLAS_CORETYPE` /
`OPENBLAS_L2_SIZE` overrides unset for those commands, and rewrites this page.
The CI runs each benchmark once on the small sizes (`make bench-smoke`, timing
disabled) so that the suites cannot rot.

Settings of the core: `SOFTMAX_REF_NUM_THREADS` (lanes over row blocks,
default min(2, cores) for D < 256, else 1), `SOFTMAX_REF_BLOCK_BYTES` (bytes
of X per block; default 2 MiB for D < 256, else 32 MiB) and
`SOFTMAX_REF_SUB_GEMM_ROWS` (rows per sub-GEMM, 0 for none; default: at most
2^18 multiply-adds per sub-GEMM, none below 64 rows). The rules and their
measurements are in `softmax_ref/_kernels.py` and `scripts/tune_block.py`.
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
        "✓ / ✗: a target met or missed (listed in the next section).",
    )
    out += targets_section(rows)
    out += registry_section(rows)
    out.append("")
    return out


def targets_section(rows: list[dict[str, Any]]) -> list[str]:
    """Every target: met or missed, by how much, and where our time went when missed."""
    out = [
        "",
        "## Targets",
        "",
        "From the side-by-side ratios above (median over rounds; the range is the fastest",
        "and slowest round). float64: ours / the post's code at most 0.5 at toy,",
        "cs231n-full and tall, 0.6 at cs231n-dev, 0.9 at wide-class; faster than JAX jit",
        "at toy; faster than scikit-learn at toy, cs231n-dev and wide-class; within 2.5x",
        "of the lower bound at cs231n-full and 5x at tall. float32: faster than JAX jit",
        "at every size. Where a target is missed, *our time* shows where the call's time",
        "went: each piece of the call timed alone in the same rounds",
        "(`scripts/bench_sidebyside.py --profile`), as a share of the whole call, and",
        "the two GEMMs' time over the post's: no route through these GEMMs goes below it.",
        "",
        "| size | dtype | target | measured (range) | verdict | our time |",
        "|---|---|---|---|---|---|",
    ]
    met = total = 0
    for r in rows:
        for key, limit in targets_of(r["size"], r["dtype"]).items():
            value = r.get(key)
            total += 1
            if value is None:
                out.append(
                    f"| {r['size']} | {r['dtype']} | {TARGET_NAMES[key]} <= {limit:g} "
                    "| not measured | ✗ | |"
                )
                continue
            lo, hi = r.get(key + "_range", [value, value])
            ok = value <= limit
            met += ok
            verdict = "✓ met" if ok else f"✗ missed by {value / limit - 1:.0%}"
            out.append(
                f"| {r['size']} | {r['dtype']} | {TARGET_NAMES[key]} <= {limit:g} "
                f"| {value:.2f} ({lo:.2f}-{hi:.2f}) | {verdict} "
                f"| {'' if ok else profile_text(r)} |"
            )
    out += ["", f"{met} of {total} targets met.", ""]
    return out


#: Prefix of a profile piece that is an alternative to a part of our call (see
#: scripts/bench_sidebyside.py's ``pieces``), shown beside the shares, not summed.
ALTERNATIVE = "instead: "


def profile_text(r: dict[str, Any]) -> str:
    times = r.get("median_times", {})
    ours = times.get("ours")
    pieces = {k.removeprefix("piece: "): v for k, v in times.items() if k.startswith("piece: ")}
    instead = {k: pieces.pop(k) for k in list(pieces) if k.startswith(ALTERNATIVE)}
    if not ours or not pieces:
        return "(no profile: run with --profile)"
    parts = [f"{name} {t / ours:.0%}" for name, t in pieces.items()]
    rest = 1 - sum(pieces.values()) / ours
    text = ", ".join(parts) + f", the rest {rest:.0%}"
    gemms = sum(t for name, t in pieces.items() if "GEMM" in name)
    post = times.get("post")
    if post and gemms:
        # The floor of any route through these GEMMs, against the target's ratio.
        text += f"; the two GEMMs alone: {gemms / post:.2f} of the post's time"
    if instead:
        shares = ", ".join(
            f"{k.removeprefix(ALTERNATIVE)} {t / ours:.0%}" for k, t in instead.items()
        )
        text += f"; in the post's orientations: {shares}"
    return text


def registry_section(rows: list[dict[str, Any]]) -> list[str]:
    """Every registered implementation's time over the post's code (benchmarks/impls.py)."""
    names = sorted(
        {
            k.removeprefix("vs_post_")
            for r in rows
            for k in r
            if k.startswith("vs_post_") and not k.endswith("_range")
        }
    )
    if not names:
        return []
    out = [
        "",
        "## Every registered implementation against the post's code",
        "",
        "Time over the post's code, side by side (below 1 is faster), for every entry of",
        "the registry `benchmarks/impls.py`: an implementation added there appears here.",
        "",
        "| size | dtype | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for r in rows:
        cells = [f"{r['vs_post_' + n]:.2f}" if ("vs_post_" + n) in r else "-" for n in names]
        out.append(f"| {r['size']} | {r['dtype']} | " + " | ".join(cells) + " |")
    return out


def memory_section(path: Path, plot_path: Path, page_dir: Path) -> list[str]:
    """scripts/bench_memory.py's measurements: a table and a plot against N."""
    data = json.loads(path.read_text())
    rows = data["rows"]
    if not rows:
        return []
    d, c, dtype = rows[0]["D"], rows[0]["C"], rows[0]["dtype"]
    impls = list(dict.fromkeys(r["impl"] for r in rows))
    ns = sorted({r["N"] for r in rows})
    by = {(r["impl"], r["N"]): r for r in rows}
    out = [
        "",
        f"## Peak extra memory against N (D = {d}, C = {c}, {dtype})",
        "",
        "From `scripts/bench_memory.py`: one call in a fresh process per cell, after a",
        "warm-up call. *traced*: tracemalloc's peak above what was allocated before the",
        "call (NumPy's allocations; JAX's buffers are not traced). *RSS*: the growth of the",
        "resident set during the call, sampled every 0.5 ms (all libraries). *peak RSS*:",
        "the process's whole peak (`ru_maxrss`), with the problem itself and the libraries.",
        "`streaming` is `loss_and_grad_streaming` over chunks of 10^4 rows.",
        "",
        "| implementation | " + " | ".join(f"N = {n:,}" for n in ns) + " |",
        "|---|" + "---|" * len(ns),
    ]
    for impl in impls:
        cells = []
        for n in ns:
            r = by.get((impl, n))
            if r is None:
                cells.append("-")
                continue
            traced = r["traced_peak_bytes"]
            cells.append(
                f"traced {fmt_bytes(traced)}, RSS {fmt_bytes(r['rss_growth_bytes'])}, "
                f"peak RSS {fmt_bytes(r['rss_peak_bytes'])}"
                if traced is not None
                else f"RSS {fmt_bytes(r['rss_growth_bytes'])}, "
                f"peak RSS {fmt_bytes(r['rss_peak_bytes'])}"
            )
        out.append(f"| {impl} | " + " | ".join(cells) + " |")
    nc = {n: by[(impls[0], n)]["bytes_NC"] for n in ns if (impls[0], n) in by}
    out += [
        "| one N x C array | " + " | ".join(fmt_bytes(nc.get(n)) for n in ns) + " |",
        "",
    ]
    ours = [by[("ours", n)]["traced_peak_bytes"] for n in ns if ("ours", n) in by]
    if len(ours) >= 2 and ours[0]:
        out += [
            f"Ours from N = {ns[0]:,} to N = {ns[-1]:,}: traced peak {fmt_bytes(ours[0])} to "
            f"{fmt_bytes(ours[-1])} while N grew {ns[-1] // ns[0]:,}-fold (it stops growing "
            "once N passes one block of rows); the post's code grows with N.",
            "",
        ]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for impl in impls:
        pts = [(n, by[(impl, n)]) for n in ns if (impl, n) in by]
        key = "traced_peak_bytes" if pts and pts[0][1]["traced_peak_bytes"] is not None else None
        key = key or "rss_growth_bytes"
        label = f"{impl} ({'tracemalloc' if key == 'traced_peak_bytes' else 'RSS growth'})"
        ax.plot([n for n, _ in pts], [max(r[key], 1) for _, r in pts], marker="o", label=label)
    ax.plot(ns, [nc[n] for n in ns if n in nc], "k--", label="one N x C array")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N (samples)")
    ax.set_ylabel("peak extra bytes of one call")
    ax.grid(which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    plot_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(plot_path, dpi=90)
    plt.close(fig)
    rel = plot_path.relative_to(page_dir) if plot_path.is_relative_to(page_dir) else plot_path
    out += [f"![Peak extra memory against N]({rel.as_posix()})", ""]
    return out


def render(
    path: Path,
    out: Path,
    plot_path: Path,
    sidebyside: Path | None = None,
    memory: Path | None = None,
    memory_plot: Path | None = None,
) -> str:
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
    if memory is not None:
        lines += memory_section(
            memory, memory_plot or out.parent / "benchmark-memory.png", out.parent
        )
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

Every size at its full N (`--rows` caps N on a machine short of memory or
time), the load average in the last column. One product from scratch costs
1.2 to 1.8 calls of `loss_and_grad` (it recomputes the probabilities, then
the product's own two GEMMs); a product of the operator, whose probabilities
are cached, 0.7 to 1.6.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?", type=Path, help="benchmark JSON (default: newest)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "benchmark-ratios.png")
    parser.add_argument(
        "--sidebyside", type=Path, help="JSON of scripts/bench_sidebyside.py to include"
    )
    parser.add_argument("--memory", type=Path, help="JSON of scripts/bench_memory.py to include")
    parser.add_argument("--memory-plot", type=Path, default=ROOT / "docs" / "benchmark-memory.png")
    args = parser.parse_args(argv)
    run = (args.run or newest_run()).resolve()
    render(
        run,
        args.out.resolve(),
        args.plot.resolve(),
        args.sidebyside,
        args.memory,
        args.memory_plot.resolve(),
    )
    print(f"wrote {args.out} and {args.plot} from {run}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
