"""The meta-test catalog as a table: which comparison catches each wrong derivation.

Run: .venv/bin/python scripts/mutant_table.py tests/meta/test_mutants.py

The argument is the meta-tests' module, which defines the catalog of wrong
derivations (``CATALOG``: name -> (function, what is wrong, consistent)), the
problems they run on (``PROBLEMS``) and where a flaw can show at all
(``ONLY_ON``). For every mutant and every problem where it can show, runs
check_softmax (full mode) and prints a Markdown table, one row per mutant: the
problems it is caught on, every comparison that fails on any of them ("loss
A-J", "dW A-J", "dW A-FD", ...) and the blame. docs/verification.md shows its
output.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from verification import check_softmax

SHORT = {"ANALYTIC": "A", "JAX": "J", "FD": "FD"}


def load(path: Path) -> ModuleType:
    """The module at path, imported with its folder on sys.path, as pytest imports it."""
    path = path.resolve()
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    missing = [name for name in ("CATALOG", "PROBLEMS") if not hasattr(module, name)]
    if missing:
        raise SystemExit(f"{path}: defines no {' or '.join(missing)}; expected the meta-tests")
    return module


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("meta_tests", type=Path, help="the meta-tests' module (a .py file)")
    meta = load(parser.parse_args(argv).meta_tests)
    problems, only_on = meta.PROBLEMS, getattr(meta, "ONLY_ON", {})
    print("| mutant | what is wrong | caught on | failing comparisons | blame |")
    print("|---|---|---|---|---|")
    for name, (fn, what, consistent) in meta.CATALOG.items():
        caught, failing, blames = [], [], set()
        for problem in problems:
            if problem not in only_on.get(name, set(problems)):
                continue
            r = check_softmax(*problems[problem], analytic=fn)
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
