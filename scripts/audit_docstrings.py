"""Audit the public API's docstrings: which lack an example, shapes or math.

The public API is every name in the ``__all__`` of each module of softmax_ref
and verification (modules whose name starts with ``_`` are private), plus the
public methods of the classes among them. For each, the docstring is read from
the source (nothing is imported) and checked for:

- an example: a ``>>>`` line (they run as doctests in ``make test``);
- shapes: an array shape written out, such as ``(N, D)``, ``(C,)`` or ``shape``;
- math: a ``.. math::`` block, a ``:math:`` role or ``$...$``.

Shapes and math are reported only for functions and classes (a method or a
constant may have no array to describe); an example is reported for all.
Names whose docstring is missing are listed as such.

    python scripts/audit_docstrings.py [--all]     (--all: also the methods)

Exit status 0 always: this is a report, not a gate.
"""

from __future__ import annotations

import argparse
import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("softmax_ref", "verification")

_SHAPE = re.compile(r"\(\s*[A-Za-z_0-9*.]+\s*,[^)]*\)|\bshape\b|\(\w+,\)")
_MATH = re.compile(r"\.\. math::|:math:`|\$[^$]+\$")


@dataclass
class Entry:
    name: str  # module.qualname
    kind: str  # function, class, method, other
    doc: str | None

    @property
    def has_example(self) -> bool:
        return bool(self.doc and ">>>" in self.doc)

    @property
    def has_shapes(self) -> bool:
        return bool(self.doc and _SHAPE.search(self.doc))

    @property
    def has_math(self) -> bool:
        return bool(self.doc and _MATH.search(self.doc))


def _all_names(tree: ast.Module) -> list[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    return []


def entries() -> list[Entry]:
    """Every public function, class and method, once (where it is defined)."""
    out: list[Entry] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            if path.name.startswith("_"):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = set(_all_names(tree))
            module = f"{package}.{path.stem}"
            for node in tree.body:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in names:
                    out.append(Entry(f"{module}.{node.name}", "function", ast.get_docstring(node)))
                elif isinstance(node, ast.ClassDef) and node.name in names:
                    out.append(Entry(f"{module}.{node.name}", "class", ast.get_docstring(node)))
                    for item in node.body:
                        if isinstance(
                            item, ast.FunctionDef | ast.AsyncFunctionDef
                        ) and not item.name.startswith("_"):
                            out.append(
                                Entry(
                                    f"{module}.{node.name}.{item.name}",
                                    "method",
                                    ast.get_docstring(item),
                                )
                            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="also list methods")
    args = parser.parse_args(argv)
    found = entries()
    top = [e for e in found if e.kind in ("function", "class")]
    methods = [e for e in found if e.kind == "method"]

    def show(title: str, items: list[Entry]) -> None:
        print(f"{title}: {len(items)}")
        for e in items:
            print(f"  {e.name}")

    print(f"public functions and classes: {len(top)}; their public methods: {len(methods)}")
    show("no docstring", [e for e in top if not e.doc])
    show("no example (>>>)", [e for e in top if e.doc and not e.has_example])
    show("no shapes", [e for e in top if e.doc and not e.has_shapes])
    show("no math", [e for e in top if e.doc and not e.has_math])
    if args.all:
        show("methods with no docstring", [e for e in methods if not e.doc])
        show("methods with no example (>>>)", [e for e in methods if e.doc and not e.has_example])
    else:
        n = sum(1 for e in methods if not e.has_example)
        print(f"methods with no example: {n} (--all lists them)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
