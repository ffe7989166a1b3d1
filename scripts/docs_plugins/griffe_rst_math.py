"""A griffe extension: render the reST bits of our docstrings as the docs' Markdown.

Docstrings in softmax_ref and verification are Google style, and write math as
reST (``.. math::`` blocks, ``:math:`x``` roles) and cross-references as
``:func:`name```, which read well in ``help()`` and in an editor. mkdocstrings
renders docstrings as Markdown, where those would show as literal text. This
extension rewrites them, in the copy of the docstring the API page renders
(never in the source), to what pymdownx.arithmatex and Markdown understand:

- ``.. math::`` followed by an indented block  ->  a ``$$ ... $$`` display block;
- ``:math:`x```                                ->  ``$x$``;
- ``:func:`x``` and the other Python roles     ->  ```x``` (code);
- a paragraph ending in ``::`` (a reST literal block follows)  ->  ending in ``:``,
  the indented block after it staying a Markdown code block;
- an ``Example:`` section header  ->  ``Examples:``, the header griffe parses
  into rendered doctest blocks (under ``Example:`` it would show ``>>>`` lines
  as nested block quotes);
- an ``Args:`` entry naming several parameters at once (``X_val, y_val: ...``,
  possibly over several lines ending in commas)  ->  one entry per parameter,
  each with the shared description, which is what the Google style griffe
  parses expects.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

_MATH_BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)\.\. math::[ \t]*\n"
    r"(?P<body>(?:(?:[ \t]*\n)|(?:(?P=indent)[ \t]+\S.*\n?))+)",
    re.MULTILINE,
)
_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_PY_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|obj|exc|const):`~?([^`]+)`")
_LITERAL_INTRO = re.compile(r"(?<=\S)::[ \t]*$", re.MULTILINE)  # "text::", not ".. math::"
_EXAMPLE_HEADER = re.compile(r"^Example:[ \t]*$", re.MULTILINE)
_ARGS_HEADER = re.compile(
    r"^(?P<indent>[ \t]*)(?:Args|Arguments|Parameters|Other Parameters|Attributes):[ \t]*$"
)
_NAMES = re.compile(r"^\*{0,2}\w+(?:,\s*\*{0,2}\w+)*,?$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


_QUALIFIED = re.compile(
    r"^(?P<names>[^()]*?)\s*\((?P<qual>.*?)\s+(?P<more>\*{0,2}\w+(?:,\s*\*{0,2}\w+)*)\)$"
)


def _grouped_names(head: str) -> list[tuple[str, str]] | None:
    """The names of a grouped entry's head, each with a qualifier; None if not grouped.

    ``"a, b"`` gives a and b; ``"a, b (with x: c, d)"``-style heads, a list
    followed by a parenthetical naming more entries after a few words, give
    those too, with the words as a qualifier of their description.
    """
    qualified: list[tuple[str, str]] = []
    m = _QUALIFIED.match(head)
    if m and "," in m["names"]:
        head = m["names"]
        qual = re.sub(r"^and\s+", "", m["qual"].strip())
        qualified = [(n.strip(), f" ({qual})") for n in m["more"].split(",")]
    if "," not in head or not _NAMES.match(head):
        return None
    return [(n.strip(), "") for n in head.split(",") if n.strip()] + qualified


def split_grouped_args(text: str) -> str:
    """Give each parameter of a grouped ``Args:`` entry an entry of its own.

    >>> doc = "Args:\\n    a, b,\\n        c: shared.\\n        More.\\n    d: own."
    >>> print(split_grouped_args(doc))
    Args:
        a: shared.
            More.
        b: shared.
            More.
        c: shared.
            More.
        d: own.
    >>> doc = "Attributes:\\n    a_, b_ (and when fitted\\n        c_, d_): as before."
    >>> print(split_grouped_args(doc))
    Attributes:
        a_: as before.
        b_: as before.
        c_: (when fitted) as before.
        d_: (when fitted) as before.
    """
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        out.append(lines[i])
        header = _ARGS_HEADER.match(lines[i])
        i += 1
        if not header:
            continue
        base = None  # the entries' indentation
        while i < len(lines) and (
            not lines[i].strip() or _indent(lines[i]) > len(header["indent"])
        ):
            line = lines[i]
            if not line.strip():
                out.append(line)
                i += 1
                continue
            base = _indent(line) if base is None else base
            if _indent(line) != base:  # a description's continuation line
                out.append(line)
                i += 1
                continue
            # An entry: its names may run over several lines, ending in commas
            # or inside an open parenthesis.
            names_text, j = line.strip(), i
            while (
                ":" not in names_text
                and (names_text.endswith(",") or names_text.count("(") > names_text.count(")"))
                and j + 1 < len(lines)
                and _indent(lines[j + 1]) >= base
            ):
                j += 1
                names_text += " " + lines[j].strip()
            head, sep, desc = names_text.partition(":")
            entries = _grouped_names(head.strip()) if sep else None
            if not entries:
                out.append(line)
                i += 1
                continue
            k = j + 1  # the shared description's continuation lines
            while k < len(lines) and lines[k].strip() and _indent(lines[k]) > base:
                k += 1
            more = lines[j + 1 : k]
            for name, qualifier in entries:
                out.append(" " * base + f"{name}:{qualifier}{desc}")
                out.extend(more)
            i = k
    return "\n".join(out)


def convert(text: str) -> str:
    """The docstring ``text`` with reST math and roles turned into Markdown.

    >>> print(convert("Loss.\\n\\n.. math::\\n    L = 1\\n\\nSee :func:`loss`, :math:`x^2`."))
    Loss.
    <BLANKLINE>
    $$
    L = 1
    $$
    <BLANKLINE>
    See `loss`, $x^2$.
    >>> print(convert("The rule::\\n\\n    a = b\\n\\nExample:\\n    print(1)"))
    The rule:
    <BLANKLINE>
        a = b
    <BLANKLINE>
    Examples:
        print(1)
    """

    def block(m: re.Match[str]) -> str:
        indent = m["indent"]
        body = textwrap.dedent(m["body"]).strip("\n")
        trailing = "\n\n" if m["body"].endswith("\n") else ""
        inner = "\n".join(indent + line if line else line for line in body.splitlines())
        return f"{indent}$$\n{inner}\n{indent}$${trailing}"

    text = _MATH_BLOCK.sub(block, text)
    text = _MATH_ROLE.sub(r"$\1$", text)
    text = _PY_ROLE.sub(r"`\1`", text)
    text = _LITERAL_INTRO.sub(":", text)
    text = _EXAMPLE_HEADER.sub("Examples:", text)
    return split_grouped_args(text)


class RstMath(griffe.Extension):
    """Rewrite every docstring griffe loads, before mkdocstrings renders it."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
