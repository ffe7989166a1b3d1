"""Per-family detection rates of every wrong gradient, and the share of degenerate draws.

Run: CI=true .venv/bin/python tests/meta/pipeline_rates.py [--examples N] [--write]

A tool of the meta-tests (it runs the property tests' own assertions), kept
next to them.

For each family of the property suite, draws the problems the ci profile
would (derandomized, generation only; ``--examples`` per family, default the
per-family count of the three-way tests under the ci profile, 80), and runs the
property tests' own three-way assertion on each with every mutant of
tests/meta/pipeline.py: the catalog's wrong derivations, the kernel-level
mutants and, for the network, the two-layer mutations. A cell is the share of
the family's draws on which the assertion fails; "correct" and "real" are the
flawless derivation and the unmutated code (0 % expected). Also prints, per
family, the share of degenerate draws (tests/test_properties.py,
``degeneracies``).

With ``--write`` the tables replace the block between the markers
``<!-- pipeline-rates:start -->`` and ``<!-- pipeline-rates:end -->`` in
docs/property-suite.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "meta")]
os.environ.setdefault("CI", "true")

import conftest  # noqa: E402,F401  (registers and loads the profiles)
import test_properties  # noqa: E402
from hypothesis import find  # noqa: E402
from hypothesis.errors import NoSuchExample  # noqa: E402
from pipeline import (  # noqa: E402
    FAMILIES,
    KERNEL_MUTATIONS,
    LINEAR_MUTANTS,
    TWO_LAYER_FAMILIES,
    ci_settings,
    linear_budget,
    linear_fails,
    two_layer_fails,
)
from test_pipeline import NOT_FOR_THE_SUITE  # noqa: E402
from test_properties import degeneracies  # noqa: E402
from test_two_layer_mutants import MUTATIONS as TWO_LAYER_MUTATIONS  # noqa: E402

DOC = ROOT / "docs" / "property-suite.md"
START, END = "<!-- pipeline-rates:start -->", "<!-- pipeline-rates:end -->"


# Each draw is checked once per mutant: Hypothesis allows one target() per label and
# test case, and the statistics are not wanted here; no search is steered.
test_properties.target = lambda *args, **kwargs: None
test_properties.event = lambda *args, **kwargs: None


def rates(strategy_for, families, mutants, fails, n_examples):
    """{family: ({mutant: share failing}, [problems])}, each family's draws evaluated in find()."""
    out = {}
    for family in families:
        hits = dict.fromkeys(mutants, 0)
        drawn = []

        def record(p, hits=hits, drawn=drawn):
            drawn.append(p)
            for m in hits:
                hits[m] += fails(p, m)
            return False  # never satisfied: find() draws all n_examples

        try:
            find(strategy_for(family), record, settings=ci_settings(n_examples))
        except NoSuchExample:
            pass
        out[family] = ({m: hits[m] / len(drawn) for m in mutants}, drawn)
        print(f"  {family}: {len(drawn)} draws", file=sys.stderr, flush=True)
    return out


def pct(x: float) -> str:
    return "0" if x == 0 else ("100" if x == 1 else f"{100 * x:.0f}")


def table(result, mutants, label) -> str:
    families = list(result)
    lines = [
        f"| {label} | " + " | ".join(f"`{f}`" for f in families) + " | found |",
        "|---" * (len(families) + 2) + "|",
    ]
    for m in mutants:
        cells = [pct(result[f][0][m]) for f in families]
        found = any(result[f][0][m] > 0 for f in families)
        name = m if m is not None else "real code"
        if m in (None, "correct"):  # the controls: must fail nowhere
            verdict = "fails somewhere: **a fault**" if found else "(control) passes all"
        elif m in NOT_FOR_THE_SUITE:
            verdict = "yes" if found else "no: by nature; tests/test_kernel_regimes.py kills it"
        else:
            verdict = "yes" if found else "**no**"
        lines.append(f"| `{name}` | " + " | ".join(cells) + f" | {verdict} |")
    return "\n".join(lines)


def degenerate_table(result) -> str:
    kinds = ["X all zero", "data term of dW zero", "reg = 0", "W all zero with reg > 0"]
    lines = ["| family | " + " | ".join(kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
    for family, (_, drawn) in result.items():
        counts = dict.fromkeys(kinds, 0)
        for p in drawn:
            found = degeneracies(p)
            for k in found:
                counts[k] += 1
            counts["data term of dW zero"] += "X all zero" in found
        cells = [pct(counts[k] / len(drawn)) for k in kinds]
        lines.append(f"| `{family}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=None, help="draws per family")
    parser.add_argument("--write", action="store_true", help="update docs/property-suite.md")
    args = parser.parse_args()
    n = args.examples or linear_budget()
    t0 = time.perf_counter()

    print("linear model", file=sys.stderr)
    linear_mutants = ["correct", None, *LINEAR_MUTANTS]
    lin = rates(lambda f: FAMILIES[f](), FAMILIES, linear_mutants, linear_fails, n)
    print("two-layer network", file=sys.stderr)
    tl_mutants = [None, *TWO_LAYER_MUTATIONS]
    net = rates(
        lambda f: TWO_LAYER_FAMILIES[f](), TWO_LAYER_FAMILIES, tl_mutants, two_layer_fails, n
    )
    elapsed = time.perf_counter() - t0

    kernel = ", ".join(f"`{k}`" for k in KERNEL_MUTATIONS)
    budget = linear_budget()
    count = "the ci profile's count" if n == budget else f"of the ci profile's {budget}"
    command = "tests/meta/pipeline_rates.py" + ("" if n == budget else f" --examples {n}")
    text = "\n\n".join(
        [
            f"Measured by `CI=true .venv/bin/python {command} --write`: {n} "
            f"draws per family ({count}), {elapsed / 60:.0f} min on the shared 2-core machine. "
            "A cell is the percentage of the family's draws on which the property tests' "
            "three-way assertion fails; a mutant is found if any cell is above 0. Kernel-level "
            f"mutants: {kernel}.",
            "**Linear model** (tests/test_properties.py):",
            table(lin, linear_mutants, "mutant"),
            "**Two-layer network** (tests/test_two_layer_properties.py):",
            table(net, tl_mutants, "mutant"),
            "**Degenerate draws** (percent of the same draws, linear families):",
            degenerate_table(lin),
        ]
    )
    print(text)
    if args.write:
        doc = DOC.read_text()
        head, rest = doc.split(START, 1)
        _, tail = rest.split(END, 1)
        DOC.write_text(f"{head}{START}\n{text}\n{END}{tail}")


if __name__ == "__main__":
    main()
