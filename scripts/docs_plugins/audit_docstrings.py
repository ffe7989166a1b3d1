"""Audit the public API's docstrings: each needs an example, and shapes and math where they apply.

The public API is every name in the ``__all__`` of each module of softmax_ref
and verification (modules whose name starts with ``_`` are private), plus the
public methods and properties of the classes among them. Each is audited once,
in the module that defines it; docstrings are read from the source (nothing is
imported). A docstring must have:

- an example: a ``>>>`` line, for every function and class, and for every
  method the class's own example does not already call (they run as doctests
  in ``make test``, so an example is a checked statement; a method needs one
  only where it shows something the class example does not);
- shapes: an array shape written out in the prose, such as ``(N, D)``,
  ``(C,)`` or ``(..., C)``, or the word ``shape``, for functions, classes and
  methods;
- math: a ``.. math::`` block, a ``:math:`` role or ``$...$`` in the prose, for
  functions and classes. A method's math is its class's: the class states the
  model or the rule (an optimiser's update, a classifier's objective) and the
  method says what it computes in those terms;
- rendering math: no ``.. math::`` block with a blank line inside (the API
  page would split it into two paragraphs, and MathJax typesets neither).

Shapes and math are looked for outside the examples (``>>>`` lines and their
output): a tuple printed by an example is not a stated shape.

Not every object has arrays or a formula. :data:`KINDS` names the kinds of
objects for which shapes or math do not apply, each with its reason;
:data:`EXEMPT` lists, by kind, the public objects of each kind. Two kinds are
recognised from the source instead, so that they need no list:

- ``error``: a class whose bases include an exception (a name ending in
  ``Error``, ``Exception`` or ``Warning``);
- ``cli``: a function with a parameter annotated ``argparse.ArgumentParser`` or
  ``argparse.Namespace`` (command-line plumbing).

An exemption waives shapes or math, never the docstring or the example.
tests/test_docstrings.py runs this audit and fails on any gap, and on an
:data:`EXEMPT` entry that names no public object or is not needed.

    python scripts/docs_plugins/audit_docstrings.py [--check] [--exemptions]

``--check``: exit with status 1 when anything is missing (the default only
reports); ``--exemptions``: also list every exempt object and its kind.
"""

from __future__ import annotations

import argparse
import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("softmax_ref", "verification")

# A shape: a parenthesised tuple of dimension names or sizes with at least one
# comma, e.g. (N, D), (C,), (K, D, C), (..., C), (D', C'), (n_samples, n_features),
# (N - n_train, D); or the word "shape" ("of the same shape as X").
_TERM = r"(?:\*?[A-Za-z_][A-Za-z0-9_]*'?|\d+)"
_DIM = rf"(?:\.\.\.|{_TERM}(?:\s*[-+*/]\s*{_TERM})*)"
_SHAPE = re.compile(
    rf"\(\s*{_DIM}\s*,\s*(?:{_DIM}\s*(?:,\s*{_DIM}\s*)*,?\s*)?\)|\bshapes?\b", re.IGNORECASE
)
_MATH = re.compile(r"\.\. math::|:math:`|\$[^$\n]+\$")

# The kinds of objects for which shapes or math do not apply: kind -> (what is
# waived, why). "error" and "cli" are recognised from the source (see the
# module docstring); the others are listed in EXEMPT.
KINDS: dict[str, tuple[frozenset[str], str]] = {
    "error": (
        frozenset({"shapes", "math"}),
        "an exception class: it carries a message, no arrays and no formula",
    ),
    "cli": (
        frozenset({"shapes", "math"}),
        "command-line plumbing: it adds options to an argparse parser or runs a "
        "sub-command from parsed arguments; the arrays and the math are those of the "
        "functions it calls, documented there",
    ),
    "io": (
        frozenset({"math"}),
        "reads or writes a file: its arrays have shapes, but it computes nothing",
    ),
    "plot": (
        frozenset({"math"}),
        "draws a matplotlib figure of arrays it is given; it computes nothing",
    ),
    "record": (
        frozenset({"math"}),
        "a container of arrays or results (a data set, a training record, a drawn "
        "problem); the math is that of the function that made it or that it feeds",
    ),
    "validation": (
        frozenset({"math"}),
        "checks the shapes, dtypes and ranges of its inputs and raises on bad ones; "
        "it computes nothing",
    ),
    "plain": (
        frozenset({"shapes", "math"}),
        "takes and returns no arrays (text, a flag, a dtype, a dict of numbers) "
        "and computes no formula",
    ),
}

# The public objects of each listed kind, by full name (module.qualname): only
# those whose docstring lacks what the kind waives (an object of the kind whose
# docstring has the math anyway, such as FDResult's, needs no entry).
EXEMPT: dict[str, tuple[str, ...]] = {
    "io": (
        "softmax_ref.data_files.load_csv",
        "softmax_ref.data_files.load_data",
        "softmax_ref.data_files.load_npz",
    ),
    "plot": (
        "softmax_ref.demo.write_figures",
        "softmax_ref.demo_two_layer.two_layer_figure",
        "softmax_ref.plotting.plot_curves",
        "softmax_ref.plotting.plot_data",
        "softmax_ref.plotting.plot_decision_boundary",
    ),
    "record": (
        "softmax_ref.datasets.Dataset",
        "softmax_ref.reproduction.Reproduction",
        "verification.report.Report",
        "verification.strategies.softmax.Problem",
        "verification.strategies.two_layer.TwoLayerProblem",
    ),
    "validation": ("verification.oracle_inputs.check_two_layer_inputs",),
    "plain": (
        "softmax_ref.demo_table.format_markdown_table",
        "softmax_ref.demo_table.format_table",
        "softmax_ref.demo_two_layer.format_two_layer",
        "softmax_ref.reproduction.Reproduction.numbers",
        "verification.report.Comparison.to_dict",
        "verification.report.Report.assert_ok",
        "verification.report.Report.failures",
        "verification.report.Report.ok",
        "verification.report.Report.to_dict",
        "verification.report.Report.to_json",
        "verification.strategies.softmax.Problem.dtype",
        "verification.strategies.two_layer.TwoLayerProblem.dtype",
        "verification.testing.jax_settings",
        "verification.testing.register_profiles",
        "verification.tolerances.tolerances_for",
    ),
}

_Documented = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
_EXCEPTION_BASE = re.compile(r"(?:Error|Exception|Warning)$")


@dataclass
class Entry:
    name: str  # module.qualname
    kind: str  # function, class, method
    doc: str | None
    category: str | None = None  # a key of KINDS, or None
    shown_by_class: bool = False  # a method that its class's example calls

    @property
    def prose(self) -> str:
        """The docstring without its examples (``>>>`` lines and their output)."""
        return strip_examples(self.doc or "")

    @property
    def has_example(self) -> bool:
        return bool(self.doc and re.search(r"^\s*>>>", self.doc, re.MULTILINE))

    @property
    def has_shapes(self) -> bool:
        return bool(_SHAPE.search(self.prose))

    @property
    def has_math(self) -> bool:
        return bool(_MATH.search(self.prose))

    def waived(self) -> frozenset[str]:
        return KINDS[self.category][0] if self.category else frozenset()

    def needs(self) -> list[str]:
        """What the docstring must have: 'docstring', 'example', 'shapes', 'math'."""
        out = ["docstring", "example", "shapes"]
        if self.shown_by_class:
            out.remove("example")
        if self.kind in ("function", "class"):
            out.append("math")
        return [what for what in out if what not in self.waived()]

    @property
    def has_math_that_renders(self) -> bool:
        """No ``.. math::`` block with a blank line inside: on the API page it would
        split into two paragraphs and MathJax would typeset neither."""
        return not any(_blank_line_in_block(block) for block in _math_blocks(self.doc or ""))

    def missing(self) -> list[str]:
        """What the docstring lacks: "docstring", "example", "shapes", "math", or
        "rendering math" (a math block broken by a blank line)."""
        if not self.doc:
            return ["docstring"]
        have = {"example": self.has_example, "shapes": self.has_shapes, "math": self.has_math}
        out = [what for what in self.needs() if what != "docstring" and not have[what]]
        if not self.has_math_that_renders:
            out.append("rendering math")
        return out


def _math_blocks(doc: str) -> list[list[str]]:
    """The body lines of each ``.. math::`` block, trailing blank lines dropped."""
    lines = doc.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if line.strip() != ".. math::":
            continue
        indent = len(line) - len(line.lstrip())
        body = []
        for nxt in lines[i + 1 :]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                break
            body.append(nxt)
        while body and not body[-1].strip():
            body.pop()
        blocks.append(body)
    return blocks


def _blank_line_in_block(body: list[str]) -> bool:
    # The blank line that follows ".. math::" (reST allows it) is not inside the block.
    lines = body[1:] if body and not body[0].strip() else body
    return any(not line.strip() for line in lines)


def strip_examples(doc: str) -> str:
    """``doc`` without doctest lines: each ``>>>``/``...`` line and the output after it.

    >>> print(strip_examples("Shapes (N, D).\\n\\n>>> f()\\n(1, 2)\\n\\nMore."))
    Shapes (N, D).
    <BLANKLINE>
    <BLANKLINE>
    More.
    """
    out: list[str] = []
    in_example = False
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped.startswith(">>>") or (in_example and stripped.startswith("...")):
            in_example = True
        elif in_example and stripped:
            pass  # the expected output of the example above
        else:
            in_example = False
            out.append(line)
    return "\n".join(out)


def _all_names(tree: ast.Module) -> list[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    return []


def _is_exception(node: ast.ClassDef) -> bool:
    return any(_EXCEPTION_BASE.search(ast.unparse(base)) for base in node.bases)


def _is_cli(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    return any(
        a.annotation is not None
        and re.search(r"\bargparse\.(ArgumentParser|Namespace)\b", ast.unparse(a.annotation))
        for a in args
    )


def _calls(doc: str, name: str) -> bool:
    """Whether a ``>>>`` or ``...`` line of ``doc`` uses the attribute ``name`` (``x.name``).

    >>> _calls(">>> r.ok, r.blame", "ok"), _calls("r.ok is True", "ok"), _calls(">>> r.okay", "ok")
    (True, False, False)
    """
    use = re.compile(rf"\.{re.escape(name)}\b")
    return any(
        use.search(line) for line in doc.splitlines() if line.strip().startswith((">>>", "..."))
    )


def _listed() -> dict[str, str]:
    return {name: kind for kind, names in EXEMPT.items() for name in names}


def audit_source(source: str, module: str, listed: dict[str, str] | None = None) -> list[Entry]:
    """The public functions, classes and methods defined in one module's ``source``.

    >>> src = 'class Oops(ValueError):\\n    "Bad."\\n__all__ = ["Oops"]\\n'
    >>> [(e.name, e.category, e.missing()) for e in audit_source(src, "m")]
    [('m.Oops', 'error', ['example'])]
    """
    listed = _listed() if listed is None else listed
    tree = ast.parse(source)
    names = set(_all_names(tree))
    out: list[Entry] = []

    def entry(name: str, kind: str, node: _Documented, detected: str | None) -> Entry:
        doc = ast.get_docstring(node)
        return Entry(name, kind, doc, detected or listed.get(name))

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in names:
            detected = "cli" if _is_cli(node) else None
            out.append(entry(f"{module}.{node.name}", "function", node, detected))
        elif isinstance(node, ast.ClassDef) and node.name in names:
            detected = "error" if _is_exception(node) else None
            out.append(entry(f"{module}.{node.name}", "class", node, detected))
            for item in node.body:
                if isinstance(
                    item, ast.FunctionDef | ast.AsyncFunctionDef
                ) and not item.name.startswith("_"):
                    name = f"{module}.{node.name}.{item.name}"
                    method = entry(name, "method", item, "cli" if _is_cli(item) else None)
                    method.shown_by_class = _calls(ast.get_docstring(node) or "", item.name)
                    out.append(method)
    return out


def entries(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> list[Entry]:
    """Every public function, class and method of ``packages``, once (where it is defined)."""
    out: list[Entry] = []
    for package in packages:
        # Subpackages too (verification.strategies); a module or package whose
        # name starts with "_" is private.
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if any(part.startswith("_") for part in parts[1:]):
                continue
            out += audit_source(path.read_text(encoding="utf-8"), ".".join(parts))
    return out


def stale_exemptions(found: list[Entry]) -> list[str]:
    """Names in :data:`EXEMPT` that are no public object (renamed, removed or misspelt),
    or whose docstring has everything the exemption waives (it is not needed)."""
    by_name = {e.name: e for e in found}
    stale = []
    for name, kind in _listed().items():
        entry = by_name.get(name)
        lacks = set(Entry(entry.name, entry.kind, entry.doc).missing()) if entry else set()
        if entry is None or not lacks & KINDS[kind][0]:
            stale.append(name)
    return sorted(stale)


def gaps(found: list[Entry]) -> dict[str, list[str]]:
    """Full name -> what its docstring lacks, for every entry that lacks something."""
    return {e.name: e.missing() for e in found if e.missing()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if anything is missing")
    parser.add_argument("--exemptions", action="store_true", help="list exempt objects")
    args = parser.parse_args(argv)
    found = entries()
    missing = gaps(found)
    stale = stale_exemptions(found)
    counts = {k: sum(1 for e in found if e.kind == k) for k in ("function", "class", "method")}
    print(
        f"public functions: {counts['function']}, classes: {counts['class']}, "
        f"their public methods: {counts['method']}"
    )
    for what in ("docstring", "example", "shapes", "math", "rendering math"):
        names = [name for name, lacks in missing.items() if what in lacks]
        print(f"no {what}: {len(names)}")
        for name in names:
            print(f"  {name}")
    if stale:
        print(f"EXEMPT entries naming no public object, or not needed: {len(stale)}")
        for name in stale:
            print(f"  {name}")
    if args.exemptions:
        for kind, (waived, why) in KINDS.items():
            members = [e.name for e in found if e.category == kind]
            print(f"kind {kind!r} (no {' or '.join(sorted(waived))}): {why}")
            for name in members:
                print(f"  {name}")
    return 1 if args.check and (missing or stale) else 0


if __name__ == "__main__":
    raise SystemExit(main())
