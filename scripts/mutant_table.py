"""The meta-test catalog as a table: which comparison catches each wrong derivation.

Run: .venv/bin/python scripts/mutant_table.py

For every mutant of tests/meta/wrong_gradients.py and every problem of
tests/meta/test_mutants.py, runs check_softmax (full mode) and prints a
Markdown table: the failing comparisons ("loss A-J", "dW A-J", "dW A-FD", ...),
the blame, and the diagnosis's location. docs/verification.md shows its output.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "meta"))

from test_mutants import ONLY_ON, PROBLEMS
from wrong_gradients import CATALOG

from verification import check_softmax

SHORT = {"ANALYTIC": "A", "JAX": "J", "FD": "FD"}


def main() -> None:
    print("| mutant | what is wrong | problem | failing comparisons | blame | diagnosis at |")
    print("|---|---|---|---|---|---|")
    for name, (fn, what, consistent) in CATALOG.items():
        for problem in PROBLEMS:
            if problem not in ONLY_ON.get(name, set(PROBLEMS)):
                continue
            r = check_softmax(*PROBLEMS[problem], analytic=fn)
            failing = ", ".join(
                f"{c.quantity} {SHORT[c.pair[0]]}-{SHORT[c.pair[1]]}" for c in r.failures()
            )
            where = r.diagnosis.split(": ", 1)[-1] if not r.ok else "-"
            label = f"`{name}`" + (" (consistent)" if consistent else "")
            print(f"| {label} | {what} | {problem} | {failing or 'none'} | {r.blame} | {where} |")


if __name__ == "__main__":
    main()
