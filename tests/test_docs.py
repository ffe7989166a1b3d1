"""The documentation site: its links to code resolve, its examples print what it shows.

The site itself is built by `make docs` (a step of `make test`) with --strict;
these tests cover what that build cannot: that each `code:` link names the
line it should, that the mechanism fails on a broken link (a meta-test), that
the recorded example outputs are current, and that the site needs no network.
"""

from __future__ import annotations

import ast
import doctest
import importlib.util
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


hooks = _load(ROOT / "scripts" / "docs_plugins" / "docs_hooks.py", "docs_hooks")
griffe_rst = _load(ROOT / "scripts" / "docs_plugins" / "griffe_rst_math.py", "griffe_rst_math")
record = _load(DOCS / "examples" / "record.py", "docs_examples_record")


def _config() -> dict:
    # mkdocs.yml may carry !!python tags in future; none today, so safe_load reads it.
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _nav_files(nav: list) -> list[str]:
    out: list[str] = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            out += _nav_files(value)
        else:
            out.append(value)
    return out


# --- code: links ------------------------------------------------------------------


ALL_LINKS = [
    pytest.param(page, link, id=f"{page.relative_to(DOCS)}:{link.describe()}")
    for page in _pages()
    for link in hooks.find_links(page.read_text(encoding="utf-8"))
]


def test_derivation_links_every_step_to_code_and_test():
    text = (DOCS / "derivation.md").read_text(encoding="utf-8")
    links = hooks.find_links(text)
    paths = {link.path for link in links}
    assert {"softmax_ref/loss.py", "tests/test_loss.py"} <= paths
    # Every section that states an equation carries a row of links naming the
    # naive loop, the vectorized core and a test.
    sections = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    for section in sections:
        title = section.splitlines()[0]
        if "$$" not in section:
            continue
        found = {(link.path, link.symbol) for link in hooks.find_links(section)}
        assert ("softmax_ref/loss.py", "loss_and_grad_naive") in found, title
        assert any(s != "loss_and_grad_naive" for p, s in found if p.startswith("softmax_ref/")), (
            title
        )
        assert any(p.startswith("tests/") for p, _ in found), title


def _admonitions(text: str) -> list[tuple[str, str]]:
    """(title, body) of each ``!!! kind "title"`` block; the body is its indented lines."""
    out = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r'!!! \w+ "(.*)"$', line)
        if not m:
            continue
        body = []
        for nxt in lines[i + 1 :]:
            if nxt.strip() and not nxt.startswith("    "):
                break
            body.append(nxt)
        out.append((m.group(1), "\n".join(body)))
    return out


def test_every_correction_is_marked_and_carries_its_links():
    text = (DOCS / "derivation.md").read_text(encoding="utf-8")
    corrections = [(t, b) for t, b in _admonitions(text) if t.startswith("Correction ")]
    # The six corrections the page exists for, each in its own box.
    topics = ["summation index", "log-sum-exp", "two cases", "1/N", "factor", "shape"]
    assert len(corrections) == len(topics)
    for topic in topics:
        assert any(topic in title for title, _ in corrections), topic
    for title, body in corrections:
        # The box's row of links is inside the box (an unindented line would end it).
        assert re.search(r"^    \{ \.eq-links \}$", body, re.MULTILINE), title
        links = hooks.find_links(body)
        assert any(link.path.startswith("softmax_ref/") for link in links), title
        assert any(link.path.startswith("tests/") for link in links), title


@pytest.mark.parametrize(("page", "link"), ALL_LINKS)
def test_code_link_resolves_to_the_line_it_quotes(page, link):
    lineno = hooks.resolve(ROOT, link.path, link.symbol, link.text)
    line = (ROOT / link.path).read_text(encoding="utf-8").splitlines()[lineno - 1]
    if link.text:
        assert link.text.rstrip("$") in line
    elif link.symbol:
        # No text: the symbol's first line, a decorator or its def/class line.
        name = link.symbol.rsplit(".", 1)[-1]
        assert line.lstrip().startswith("@") or re.match(rf"\s*(async )?(def|class) {name}\b", line)
    if Path(link.path).name.startswith("test_") and link.symbol and not link.text:
        # A link into a test module, to a symbol's first line: a test (or a class of them).
        last = link.symbol.rsplit(".", 1)[-1]
        assert last.startswith(("test_", "Test")), "a link into a test module names a test"


@pytest.fixture
def repo(tmp_path):
    src = tmp_path / "pkg"
    src.mkdir()
    (src / "mod.py").write_text(
        textwrap.dedent(
            """\
            import functools


            def first():
                x = 1  # case a
                y = 2  # case a, again
                return x + y


            @functools.cache
            def second():
                total = 0
                total += 1
                total += 1 - 2
                return total


            class Box:
                def method(self):
                    return "inside"
            """
        ),
        encoding="utf-8",
    )
    return tmp_path


def test_resolve_finds_symbols_decorators_and_methods(repo):
    assert hooks.resolve(repo, "pkg/mod.py", "first") == 4
    assert hooks.resolve(repo, "pkg/mod.py", "second") == 10  # the decorator's line
    assert hooks.resolve(repo, "pkg/mod.py", "first", "x = 1") == 5
    assert hooks.resolve(repo, "pkg/mod.py", "Box.method", "inside") == 20
    assert hooks.resolve(repo, "pkg/mod.py", None, "class Box") == 18
    # "$": the line must end with the text, which singles out the shorter line.
    assert hooks.resolve(repo, "pkg/mod.py", "second", "total += 1$") == 13


@pytest.mark.parametrize(
    ("path", "symbol", "text", "message"),
    [
        ("pkg/nope.py", None, None, "no file"),
        ("../outside.py", None, None, "no file"),
        ("pkg/mod.py", "third", None, "no function or class 'third'"),
        ("pkg/mod.py", "Box.other", None, "no function or class"),
        ("pkg/mod.py", "first", "z = 3", "occurs on no line"),
        ("pkg/mod.py", "first", "case a", "occurs on 2 lines"),
        ("pkg/mod.py", "second", "total += 1", "occurs on 2 lines"),
        ("pkg/mod.py", "second", "x = 1", "occurs on no line"),  # it is in first(), not here
    ],
)
def test_resolve_refuses_what_does_not_name_one_line(repo, path, symbol, text, message):
    (repo / "outside.py").write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(hooks.CodeLinkError, match=re.escape(message)):
        hooks.resolve(repo / "pkg" if path.startswith("..") else repo, path, symbol, text)


def test_rewrite_makes_relative_links_to_line_anchors(repo):
    md = 'See [it](code:pkg/mod.py#first "x = 1") and [box](code:pkg/mod.py#Box).'
    out, paths = hooks.rewrite_links(md, "guide/page.md", repo)
    assert paths == {"pkg/mod.py"}
    assert "](../code/pkg/mod.py.md#__codelineno-0-5 " in out
    assert "](../code/pkg/mod.py.md#__codelineno-0-18 " in out
    assert "code:" not in out
    with pytest.raises(hooks.CodeLinkError, match=r"guide/page\.md: link code:pkg/mod\.py#first"):
        hooks.rewrite_links('[x](code:pkg/mod.py#first "nowhere")', "guide/page.md", repo)


def test_malformed_code_link_is_refused():
    with pytest.raises(hooks.CodeLinkError, match="malformed code: link on line 2"):
        hooks.find_links('fine\n[x](code:pkg/mod.py#first "unterminated)\n')


def test_source_page_survives_backticks_in_the_source():
    page = hooks.render_source_page("a.py", 'x = """```python\n```"""\n')
    fence = re.search(r"^(`{3,})python", page, re.MULTILINE)
    assert fence is not None
    assert len(fence.group(1)) == 4


def _mini_site(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    """Build a one-page site with the real hook and the real link validation."""
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "docs" / "index.md").write_text(body, encoding="utf-8")
    (tmp_path / "pkg").mkdir(exist_ok=True)
    (tmp_path / "pkg" / "mod.py").write_text("def f():\n    return 1  # one\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        textwrap.dedent(
            f"""\
            site_name: t
            strict: true
            theme: {{name: material, font: false}}
            validation: {{anchors: warn, unrecognized_links: warn}}
            hooks: [{ROOT / "scripts" / "docs_plugins" / "docs_hooks.py"}]
            markdown_extensions:
              - pymdownx.highlight: {{anchor_linenums: true}}
              - pymdownx.superfences
            """
        ),
        encoding="utf-8",
    )
    # Not -q: mkdocs 1.6 then drops warnings before --strict counts them.
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(Path(sys.executable).parent)},
        check=False,
    )


def test_strict_build_passes_a_good_link_and_fails_a_broken_one(tmp_path):
    """Meta-test: the build, not just this file's resolver, refuses broken links."""
    good = _mini_site(tmp_path, '# T\n\n[one](code:pkg/mod.py#f "# one")\n')
    assert good.returncode == 0, good.stderr
    html = (tmp_path / "site" / "code" / "pkg" / "mod.py" / "index.html").read_text()
    assert 'id="__codelineno-0-2"' in html
    assert "code/pkg/mod.py/#__codelineno-0-2" in (tmp_path / "site" / "index.html").read_text()

    gone = _mini_site(tmp_path, '# T\n\n[one](code:pkg/mod.py#f "# two")\n')
    assert gone.returncode != 0
    assert "occurs on no line" in gone.stderr

    # A hand-written link to a line that does not exist: mkdocs's anchor check.
    bad_anchor = _mini_site(
        tmp_path,
        '# T\n\n[one](code:pkg/mod.py#f "# one") [x](code/pkg/mod.py.md#__codelineno-0-99)\n',
    )
    assert bad_anchor.returncode != 0
    assert "__codelineno-0-99" in bad_anchor.stderr


# --- the site's configuration --------------------------------------------------------


def test_nav_lists_every_page_and_only_existing_ones():
    nav = _nav_files(_config()["nav"])
    for name in nav:
        assert (DOCS / name).is_file(), f"nav names {name}, which does not exist"
    pages = {str(p.relative_to(DOCS)) for p in _pages()}
    assert pages - set(nav) == set(), "pages missing from mkdocs.yml's nav"


def test_site_needs_no_network():
    config = _config()
    assert config["strict"] is True
    assert config["theme"]["font"] is False  # Material's default fetches web fonts
    scripts = config["extra_javascript"]
    mathjax = [s for s in scripts if s.endswith("tex-mml-chtml.js")]
    assert mathjax, "MathJax must be served from the site"
    assert not any(re.match(r"(https?:)?//", s) for s in scripts)
    assert (DOCS / mathjax[0]).is_file()
    fonts = DOCS / Path(mathjax[0]).parent / "output" / "chtml" / "fonts" / "woff-v2"
    assert len(list(fonts.glob("*.woff"))) > 10
    # The configuration must come before MathJax, and point it at arithmatex's output.
    assert scripts.index("javascripts/mathjax-config.js") < scripts.index(mathjax[0])
    cfg = (DOCS / "javascripts" / "mathjax-config.js").read_text(encoding="utf-8")
    assert 'processHtmlClass: "arithmatex"' in cfg
    arith = [e for e in config["markdown_extensions"] if "pymdownx.arithmatex" in str(e)]
    assert arith == [{"pymdownx.arithmatex": {"generic": True}}]


def _public_modules(package: str) -> dict[str, list[str]]:
    """Each public module of a package and its __all__, read without importing it."""
    out = {}
    for path in sorted((ROOT / package).glob("*.py")):
        if path.name.startswith("_"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names: list[str] = []
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                names = list(ast.literal_eval(node.value))
        if names:
            out[f"{package}.{path.stem}"] = names
    return out


@pytest.mark.parametrize("package", ["softmax_ref", "verification"])
def test_api_page_covers_every_public_module(package):
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    rendered = set(re.findall(r"^::: ([\w.]+)", api, re.MULTILINE))
    init = ast.parse((ROOT / package / "__init__.py").read_text(encoding="utf-8"))
    exported: set[str] = set()
    for node in init.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            exported = set(ast.literal_eval(node.value))
    assert package in rendered
    for module, names in _public_modules(package).items():
        assert module in rendered or set(names) <= exported, (
            f"{module} is public (__all__ = {names}) but not on docs/api.md"
        )


def test_griffe_extension_examples():
    # scripts/ is outside --doctest-modules' paths; run its examples here.
    result = doctest.testmod(griffe_rst)
    assert result.attempted >= 3
    assert result.failed == 0


def test_griffe_extension_turns_rest_into_markdown():
    doc = "Sum.\n\n.. math::\n    L = \\sum_n x_n\n\nSee :func:`loss` and :math:`N`.\n"
    out = griffe_rst.convert(doc)
    assert "$$\nL = \\sum_n x_n\n$$" in out
    assert "`loss`" in out
    assert "$N$" in out
    assert ".. math::" not in out
    assert ":func:" not in out


# --- the examples the pages show -------------------------------------------------------


@pytest.mark.parametrize("example", record.EXAMPLES, ids=lambda e: e.out.name)
def test_recorded_example_output_is_current(example, monkeypatch):
    monkeypatch.chdir(ROOT)
    status, text = example.run()
    assert status == example.expected_status
    found = record.differences(example.out.read_text(encoding="utf-8"), text)
    assert found == [], (
        f"{example.out.relative_to(ROOT)} is stale: run python docs/examples/record.py\n"
        + "\n".join(found)
    )


RECORDED = (DOCS / "examples" / "wrong_gradient.out").read_text(encoding="utf-8")

# What `XLA_FLAGS=--xla_cpu_max_isa=SSE4_2 python docs/examples/wrong_gradient.py`
# printed for the lines it changes: another instruction set, other last digits, and
# in passing rows another entry where the noise is largest.
SSE4_2_LINES = {
    "dW        ANALYTIC vs FD ": (
        "dW        ANALYTIC vs FD   FAIL     2.00e-01     1.73e+00   "
        "  1.54e-10  dW[1, 0]  12 of 12, everything  6.43757003622144"
        "72e-01   4.6155586728931242e-01   4.6155586728941628e-01"
    ),
    "db        ANALYTIC vs FD ": (
        "db        ANALYTIC vs FD   pass     3.38e-13     3.70e-12   "
        "  1.06e-10  db[2]     -                     -1.5680646333030"
        "474e-01  -1.5680646333030479e-01  -1.5680646333064310e-01"
    ),
    "dW        JAX vs FD      ": (
        "dW        JAX vs FD        pass     1.24e-12     1.97e-11   "
        "  2.46e-10  dW[0, 1]  -                     3.40522418589119"
        "69e-01   2.7215379951146629e-01   2.7215379951270630e-01"
    ),
    "db        JAX vs FD      ": (
        "db        JAX vs FD        pass     3.38e-13     3.70e-12   "
        "  1.06e-10  db[2]     -                     -1.5680646333030"
        "474e-01  -1.5680646333030479e-01  -1.5680646333064310e-01"
    ),
}


def _replace_line(text: str, start: str, line: str) -> str:
    lines = text.splitlines()
    (i,) = [k for k, old in enumerate(lines) if old.startswith(start)]
    lines[i] = line
    return "\n".join(lines) + "\n"


def test_recorded_output_accepts_what_another_instruction_set_prints():
    text = RECORDED
    for start, line in SSE4_2_LINES.items():
        text = _replace_line(text, start, line)
    assert text != RECORDED
    assert record.differences(RECORDED, text) == []


def _changed(old: str, new: str) -> str:
    assert RECORDED.count(old) >= 1, old
    return RECORDED.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # a verdict, in the table and in the summary
        ("JAX  pass     0.00e+00", "JAX  FAIL     0.00e+00"),
        ("ok:        False", "ok:        True"),
        ("check: FAIL", "check: OK"),
        # an index: the diagnosis, a failing row's entry, a passing row's quantity
        ("which agree: dW[2, 1]", "which agree: dW[2, 0]"),
        ("1.54e-10  dW[1, 0]", "1.54e-10  dW[1, 1]"),
        ("4.59e-14  db[2]", "4.59e-14  dW[2]"),
        # a count, a label
        ("97 function evaluations", "98 function evaluations"),
        ("blame:     ANALYTIC", "blame:     JAX"),
        ("12 of 12, everything  6.43", "11 of 12, scattered   6.43"),
        ("db        ANALYTIC vs FD", "db        JAX vs FD     "),
        # values beyond their tolerance: a loss by 1e-11 (paths: 2.7e-12), an FD value
        # by 1e-9 (two bounds: 2.2e-10), a failing error by two printed units, a bound
        ("2.6357063237519016e+00", "2.6357063237619016e+00"),
        ("4.6155586728934339e-01", "4.6155586828934339e-01"),
        (
            "FAIL     2.00e-01     1.73e+00     1.54e-10",
            "FAIL     2.02e-01     1.73e+00     1.54e-10",
        ),
        (
            "FAIL     2.00e-01     1.73e+00     1.54e-10",
            "FAIL     2.00e-01     1.80e+00     1.54e-10",
        ),
        ("4.71e-13", "4.78e-13"),
        (
            "-                     -1.5680646333030474e-01",
            "-                     -1.5680646334030474e-01",
        ),
    ],
)
def test_recorded_output_comparison_fails_on_a_real_change(old, new):
    """Meta-test: the tolerance the comparison allows hides no change that matters."""
    found = record.differences(RECORDED, _changed(old, new))
    assert len(found) == 1, found


def test_recorded_output_comparison_fails_on_a_line_more_or_less():
    assert record.differences(RECORDED, RECORDED + "one more\n") != []
    assert record.differences(RECORDED, RECORDED.replace("\n\n", "\n", 1)) != []


def test_worked_example_is_caught_for_the_reason_the_page_gives():
    from verification import check_softmax

    wrong = _load(DOCS / "examples" / "wrong_gradient.py", "docs_wrong_gradient")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = rng.integers(0, 4, size=20)
    W = rng.normal(size=(3, 4))
    b = rng.normal(size=4)
    report = check_softmax(W, b, X, y, reg=0.1, analytic=wrong.loss_and_grad)
    assert not report.ok
    assert report.blame == "ANALYTIC"
    by = {(c.quantity, *c.pair): c for c in report.comparisons}
    assert by["loss", "ANALYTIC", "JAX"].verdict == "pass"
    assert by["db", "ANALYTIC", "JAX"].verdict == "pass"
    assert by["db", "ANALYTIC", "FD"].verdict == "pass"
    assert by["dW", "ANALYTIC", "JAX"].verdict == "fail"
    assert by["dW", "ANALYTIC", "FD"].verdict == "fail"
    assert by["dW", "JAX", "FD"].verdict == "pass"
    # The slip adds reg * W to every entry, so the largest error is reg * max|W|.
    dW_err = by["dW", "ANALYTIC", "JAX"].max_abs_err
    assert dW_err == pytest.approx(0.1 * np.abs(W).max(), rel=1e-12)

    def fixed(W, b, X, y, reg=0.0):
        L, dW, db = wrong.loss_and_grad(W, b, X, y, reg)
        return L, dW - reg * W, db

    assert check_softmax(W, b, X, y, reg=0.1, analytic=fixed).ok
