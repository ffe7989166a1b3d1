"""mkdocs hooks: links from the docs to lines of code that survive the code moving.

A page links to a line of the repository's source by naming it, never by its
number::

    [loss_and_grad_naive](code:softmax_ref/loss.py#loss_and_grad_naive "case i = y")
    [the test](code:tests/test_loss.py#test_regulariser_and_bias)

- ``softmax_ref/loss.py``: a file, relative to the repository root;
- ``#loss_and_grad_naive``: optional, a function or class in that file (dotted
  for a method: ``Class.method``); the search is limited to its lines;
- ``"case i = y"``: optional, a piece of text that must occur on exactly one
  line of that symbol (code or comment); in single quotes if it holds a double
  quote; ending in ``$`` to match only at the end of a line (``"db[i] += S_i$"``
  is not the line ``db[i] += S_i - 1.0``). Without it the link goes to the
  symbol's first line (its first decorator, if any).

At build time each link becomes a relative link to a generated page
``code/<path>.md`` holding the file with numbered lines, at the anchor of the
line found. A link whose file, symbol or text is missing, or whose text is
ambiguous, stops the build with a message that says which and where, so a page
cannot silently point at the wrong line after the code changes. mkdocs's own
anchor validation (``validation.anchors: warn`` under ``strict``) then checks
that every anchor exists in the built site.

The hook also refuses a page that loads a script, stylesheet or font from
another host: the site must render offline.
"""

from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Where the generated source pages live, inside the docs.
CODE_DIR = "code"

# [label](code:PATH#SYMBOL "TEXT"); SYMBOL and TEXT optional.
LINK_RE = re.compile(
    r"\]\(code:(?P<path>[^)\s#\"']+)(?:#(?P<symbol>[A-Za-z_][\w.]*))?"
    r"(?:\s+(?:\"(?P<dq>[^\"]+)\"|'(?P<sq>[^']+)'))?\)"
)
_ANY_CODE_LINK = re.compile(r"\]\(code:")
_EXTERNAL_ASSET = re.compile(
    r"<(?:script|link|img|source)\b[^>]*\b(?:src|href)=[\"'](?:https?:)?//", re.IGNORECASE
)


class CodeLinkError(ValueError):
    """A ``code:`` link that does not name exactly one line of existing code."""


@dataclass(frozen=True)
class CodeLink:
    """One ``code:`` link as written on a page."""

    path: str
    symbol: str | None
    text: str | None
    start: int  # offsets of the ``](code:...)`` part in the page's markdown
    end: int

    def describe(self) -> str:
        out = f"code:{self.path}"
        if self.symbol:
            out += f"#{self.symbol}"
        if self.text:
            out += f" {self.text!r}"
        return out


def find_links(markdown: str) -> list[CodeLink]:
    """Every ``code:`` link in a page, in order.

    Raises CodeLinkError for a ``](code:`` that is not a well-formed link, so a
    typo cannot leave a dead ``code:`` URL in the site.
    """
    links = [
        CodeLink(m["path"], m["symbol"], m["dq"] or m["sq"], m.start(), m.end())
        for m in LINK_RE.finditer(markdown)
    ]
    if len(links) != len(_ANY_CODE_LINK.findall(markdown)):
        starts = {link.start for link in links}
        bad = [m.start() for m in _ANY_CODE_LINK.finditer(markdown) if m.start() not in starts]
        line = markdown.count("\n", 0, bad[0]) + 1
        raise CodeLinkError(
            f'malformed code: link on line {line}; expected (code:PATH#SYMBOL "TEXT"), got '
            f"{markdown[bad[0] : bad[0] + 80]!r}"
        )
    return links


def _symbol_span(tree: ast.Module, symbol: str, path: str) -> tuple[int, int]:
    """First and last line (1-based, inclusive) of a dotted symbol in a module."""
    body: list[ast.stmt] = tree.body
    node: ast.stmt | None = None
    for part in symbol.split("."):
        matches = [
            n
            for n in body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and n.name == part
        ]
        if not matches:
            raise CodeLinkError(f"{path} has no function or class {symbol!r} (looked for {part!r})")
        node = matches[-1]  # a later definition shadows an earlier one, as at run time
        body = node.body
    assert node is not None
    assert node.end_lineno is not None
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return first, node.end_lineno


def resolve(root: Path, path: str, symbol: str | None = None, text: str | None = None) -> int:
    """The 1-based line a ``code:`` link points at.

    Args:
        root: the repository root.
        path: file relative to ``root``.
        symbol: dotted function or class name in that file, or None for the whole file.
        text: a piece of text that must occur on exactly one line of the symbol
            (or of the file), or None for the symbol's first line.

    Raises:
        CodeLinkError: the file, the symbol or the text is missing, or the text
            occurs on more than one line.
    """
    file = (root / path).resolve()
    if not file.is_relative_to(root.resolve()) or not file.is_file():
        raise CodeLinkError(f"no file {path!r} under the repository root {root}")
    source = file.read_text(encoding="utf-8")
    lines = source.splitlines()
    first, last = 1, len(lines)
    if symbol:
        if file.suffix != ".py":
            raise CodeLinkError(f"{path}: a symbol ({symbol!r}) needs a Python file")
        first, last = _symbol_span(ast.parse(source, filename=path), symbol, path)
    if not text:
        return first
    if text.endswith("$"):  # anchored: the line must end with the text
        hits = [n for n in range(first, last + 1) if lines[n - 1].rstrip().endswith(text[:-1])]
    else:
        hits = [n for n in range(first, last + 1) if text in lines[n - 1]]
    where = f"{path}#{symbol}" if symbol else path
    if not hits:
        raise CodeLinkError(f"{text!r} occurs on no line of {where} (lines {first}-{last})")
    if len(hits) > 1:
        raise CodeLinkError(
            f"{text!r} occurs on {len(hits)} lines of {where} ({hits}); quote more of the line"
        )
    return hits[0]


def source_page_uri(path: str) -> str:
    """The docs-relative URI of the generated page that shows a source file."""
    return f"{CODE_DIR}/{path}.md"


def line_anchor(lineno: int) -> str:
    """The anchor id pymdownx.highlight gives line ``lineno`` of a page's first code block.

    Needs ``anchor_linenums: true`` in mkdocs.yml; the generated pages hold
    exactly one code block, so the block index is 0.
    """
    return f"__codelineno-0-{lineno}"


def render_source_page(path: str, source: str) -> str:
    """Markdown for the page that shows ``path`` with numbered, linkable lines."""
    longest = max((len(m) for m in re.findall(r"`+", source)), default=0)
    fence = "`" * max(3, longest + 1)
    lang = "python" if path.endswith(".py") else "text"
    return (
        # Not searched (the search would drown in source), and no table of
        # contents column, so the code gets the page's width.
        "---\nsearch:\n  exclude: true\nhide:\n  - toc\n---\n\n"
        f"# `{path}`\n\n"
        "The repository's file as it was when this site was built. "
        "Line numbers are links to themselves.\n\n"
        f'{fence}{lang} linenums="1"\n{source.rstrip()}\n{fence}\n'
    )


def rewrite_links(markdown: str, page_uri: str, root: Path) -> tuple[str, set[str]]:
    """Replace every ``code:`` link by a relative link to its line; also return the files named.

    Raises:
        CodeLinkError: naming the page and the link, for any link that does not resolve.
    """
    out: list[str] = []
    pos = 0
    paths: set[str] = set()
    page_dir = posixpath.dirname(page_uri)
    for link in find_links(markdown):
        try:
            lineno = resolve(root, link.path, link.symbol, link.text)
        except CodeLinkError as e:
            raise CodeLinkError(f"{page_uri}: link {link.describe()}: {e}") from None
        target = posixpath.relpath(source_page_uri(link.path), page_dir or ".")
        title = f"{link.path}, line {lineno}"
        out.append(markdown[pos : link.start])
        out.append(f']({target}#{line_anchor(lineno)} "{title}")')
        pos = link.end
        paths.add(link.path)
    out.append(markdown[pos:])
    return "".join(out), paths


# --- mkdocs events -------------------------------------------------------------


def _root(config: Any) -> Path:
    return Path(config.config_file_path).resolve().parent


def on_files(files: Any, config: Any) -> Any:
    """Add one generated page per source file that any page links to."""
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File, InclusionLevel

    root = _root(config)
    wanted: set[str] = set()
    for f in files.documentation_pages():
        try:
            wanted.update(link.path for link in find_links(f.content_string))
        except CodeLinkError as e:
            raise PluginError(f"{f.src_uri}: {e}") from None
    for path in sorted(wanted):
        file = root / path
        if not file.is_file():
            continue  # reported with the page and link by on_page_markdown
        files.append(
            File.generated(
                config,
                source_page_uri(path),
                content=render_source_page(path, file.read_text(encoding="utf-8")),
                inclusion=InclusionLevel.NOT_IN_NAV,
            )
        )
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Turn ``code:`` links into links to the generated pages' line anchors."""
    from mkdocs.exceptions import PluginError

    try:
        text, _ = rewrite_links(markdown, page.file.src_uri, _root(config))
    except CodeLinkError as e:
        raise PluginError(str(e)) from None
    return text


_ID_ATTR = re.compile(r"""\b(?:id|name)=["']([^"']+)["']""")


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """Record the ids inside code blocks as anchors mkdocs can validate links against.

    mkdocs collects a page's anchor ids from headings and from raw HTML, but the
    line anchors pymdownx.highlight writes into a fenced code block are stashed
    before mkdocs looks, so links to them would be reported missing. The ids
    are read back from the rendered body here; mkdocs validates anchors only
    after every page is rendered.
    """
    if page.present_anchor_ids is not None:
        page.present_anchor_ids |= set(_ID_ATTR.findall(html))
    _typeset_toc(page.toc)
    return html


_TOC_MATH = re.compile(r"\\\((.+?)\\\)")


def _typeset_toc(items: Any) -> None:
    r"""Let MathJax typeset math in the table of contents.

    A heading such as ``## Back through $W_2$`` reaches the sidebar as the plain
    text ``\(W_2\)``; wrapping it in the element arithmatex uses makes MathJax
    typeset it there as in the heading itself.
    """
    for item in items:
        item.title = _TOC_MATH.sub(r'<span class="arithmatex">\\(\1\\)</span>', item.title)
        _typeset_toc(item.children)


def on_post_page(output: str, page: Any, config: Any) -> str:
    """Refuse a page that would fetch a script, style, font or image from the internet."""
    from mkdocs.exceptions import PluginError

    m = _EXTERNAL_ASSET.search(output)
    if m:
        raise PluginError(
            f"{page.file.src_uri} loads an asset from another host "
            f"({output[m.start() : m.end() + 60]!r}); the site must render offline: "
            "serve it from docs/ instead"
        )
    return output
