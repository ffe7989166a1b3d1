"""The meta-test catalog as a table: which comparison catches each wrong derivation.

Run: .venv/bin/python scripts/mutant_table.py

For every mutant of tests/meta/wrong_gradients.py and every problem of
tests/meta/test_mutants.py, runs check_softmax (full mode) and prints a
Markdown table, one row per mutant: the problems it is caught on, every
comparison that fails on any of them ("loss A-J", "dW A-J", "dW A-FD", ...) and
the blame. docs/verification.md shows its output.
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
    print("| mutant | what is wrong | caught on | failing comparisons | blame |")
    print("|---|---|---|---|---|")
    for name, (fn, what, consistent) in CATALOG.items():
        caught, failing, blames = [], [], set()
        for problem in PROBLEMS:
            if problem not in ONLY_ON.get(name, set(PROBLEMS)):
                continue
            r = check_softmax(*PROBLEMS[problem], analytic=fn)
            if not r.ok:
                caught.append(problem)
                blames.add(r.blame)
            for c in r.failures():
                label = f"{c.quantity} {SHORT[c.pair[0]]}-{SHORT[c.pair[1]]}"
                if label not in failing:
                    failing.append(label)
        label = f"`{name}`" + (" (consistent)" if consistent else "")
        blame = ", ".join(sorted(str(b) for b in blames))
        print(f"| {label} | {what} | {', '.join(caught)} | {', '.join(failing)} | {blame} |")


if __name__ == "__main__":
    main()
