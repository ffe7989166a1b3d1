"""``make docs-check`` catches a page that overflows sideways, at 1280 and at 390 px.

Two layers. The rules (scripts/docs_plugins/docs_check.py's ``layout_problems``)
are run on measurements written by hand, so each rule is seen to fire on the
case it exists for and to stay quiet on its neighbour. Then the whole script
renders a tiny synthetic site in Chromium: a page whose wide block scrolls in
its own box passes, and the same page with the block not scrolling, or with a
table that fits a desktop column but not a phone's, fails with a message that
names the rule and the width. The second layer needs Debian's chromium
(CI installs it in .ci/run) and is skipped without it.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "docs_plugins" / "docs_check.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_check", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["docs_check"] = module
    spec.loader.exec_module(module)
    return module


docs_check = _load()


# --- the rules, on measurements written by hand -------------------------------------


def _report(**changes: Any) -> dict[str, Any]:
    """A page that passes every rule at either width: one display block, one table."""
    report: dict[str, Any] = {
        "innerWidth": 390,
        "scrollWidth": 390,
        "math": [{"where": "#m", "tex": "x", "top": 0, "width": 300.0, "clientWidth": 358}],
        "boxes": [
            {
                "where": "#m",
                "what": "div.arithmatex",
                "tex": "x",
                "top": 0,
                "scrollWidth": 358,
                "clientWidth": 358,
                "overflowX": "auto",
                "right": 374.0,
            },
            {
                "where": "#t",
                "what": "div.md-typeset__scrollwrap",
                "tex": "",
                "top": 900,
                "scrollWidth": 600,
                "clientWidth": 358,
                "overflowX": "auto",
                "right": 374.0,
            },
        ],
        "out": [],
    }
    report.update(changes)
    return report


def _messages(report: dict[str, Any], width: int) -> list[str]:
    return [p.message for p in docs_check.layout_problems(report, width)]


@pytest.mark.parametrize("width", [docs_check.DESKTOP, docs_check.PHONE])
def test_a_page_whose_wide_table_scrolls_in_its_box_passes(width):
    assert _messages(_report(), width) == []


def test_a_page_wider_than_the_viewport_fails_and_names_what_sticks_out():
    culprit = {"where": "#fd", "what": "span.arithmatex", "tex": "D_\\pm(h)", "top": 5.0}
    messages = _messages(
        _report(scrollWidth=423, out=[{**culprit, "right": 423.0, "text": ""}]),
        docs_check.PHONE,
    )
    assert messages[0].startswith("the page scrolls sideways: 423 px wide in a 390 px")
    assert "span.arithmatex at #fd" in messages[1]
    assert "D_\\pm(h)" in messages[1]


def test_display_math_wider_than_its_column_fails_at_1280_only():
    wide = _report(math=[{"where": "#m", "tex": "L", "top": 0, "width": 715.1, "clientWidth": 688}])
    assert _messages(wide, docs_check.DESKTOP) == [
        "display math at #m is 715 px wide in a 688 px column: L"
    ]
    # On a phone a long equation may scroll inside its block.
    assert _messages(wide, docs_check.PHONE) == []


def test_a_box_wider_than_its_content_area_must_scroll():
    boxes = _report()["boxes"]
    boxes[1] = {**boxes[1], "overflowX": "visible"}
    messages = _messages(_report(boxes=boxes), docs_check.PHONE)
    assert messages == [
        "div.md-typeset__scrollwrap at #t: content 600 px wide in a 358 px box that "
        "does not scroll (overflow-x: visible)"
    ]


def test_a_box_whose_right_edge_is_past_the_viewport_fails_even_when_it_scrolls():
    boxes = _report()["boxes"]
    boxes[0] = {**boxes[0], "right": 420.4}
    messages = _messages(_report(boxes=boxes), docs_check.PHONE)
    assert messages == ["div.arithmatex at #m (x): right edge at 420 px, past the 390 px viewport"]


def test_every_page_of_the_site_is_checked_the_derivation_first(tmp_path):
    for page in ["", "api/", "derivation/", "code/softmax_ref/loss.py/"]:
        (tmp_path / page).mkdir(parents=True, exist_ok=True)
        (tmp_path / page / "index.html").write_text("<html></html>", encoding="utf-8")
    assert docs_check.pages_of(tmp_path) == ["derivation/", "", "api/", "code/softmax_ref/loss.py/"]


# --- the script, on a synthetic site in Chromium ----------------------------------

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install -y chromium; .ci/run does)",
)

# Stands in for MathJax: the page already holds its typeset math, and the script
# only needs the startup promise and a request for the file the real one has.
MATHJAX_STUB = (
    "window.MathJax = {startup: {promise: Promise.resolve(),"
    " document: {getMathItemsWithin: () => []}}};"
)

PAGE = """<!doctype html>
<html><head><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,">
<script src="/javascripts/mathjax/tex-mml-chtml.js"></script>
<style>body {{ margin: 0 }} .md-typeset {{ padding: 0 16px }}</style></head>
<body><article class="md-typeset">
<h1 id="top">A page</h1>
<div class="arithmatex" style="overflow-x: {overflow}">
<mjx-container display="true">
<mjx-math style="display: inline-block; width: {math}px; height: 2em">x</mjx-math>
</mjx-container></div>
<table style="width: {table}px"><tr><td>a wide table</td></tr></table>
</article></body></html>
"""


def _site(tmp_path: Path, overflow: str, math: int, table: int) -> Path:
    site = tmp_path / "site"
    (site / "javascripts" / "mathjax").mkdir(parents=True)
    (site / "javascripts" / "mathjax" / "tex-mml-chtml.js").write_text(MATHJAX_STUB)
    (site / "index.html").write_text(PAGE.format(overflow=overflow, math=math, table=table))
    return site


def _docs_check(site: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--site", str(site), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@needs_chromium
def test_a_site_whose_wide_block_scrolls_in_its_own_box_passes(tmp_path):
    # 600 px of math fits the 1280 px page and scrolls inside its block at 390.
    run = _docs_check(_site(tmp_path, "auto", math=600, table=300), tmp_path / "shots")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "index at 390 px: page 390 px wide" in run.stdout
    shots = sorted(p.name for p in (tmp_path / "shots").glob("*.png"))
    assert shots == ["index--1280-01.png", "index--390-01.png"]


@needs_chromium
def test_a_block_that_does_not_scroll_fails_at_390(tmp_path):
    run = _docs_check(_site(tmp_path, "visible", math=600, table=300), tmp_path / "shots")
    assert run.returncode == 1, run.stdout + run.stderr
    fails = [line for line in run.stderr.splitlines() if line.startswith("FAIL")]
    assert any("at 390 px: the page scrolls sideways" in line for line in fails), fails
    assert any(
        "at 390 px: div.arithmatex at #top" in line and "does not scroll" in line for line in fails
    ), fails
    assert not any("at 1280 px" in line for line in fails), fails
    assert (tmp_path / "shots" / "FAIL-index--390-01.png").is_file()


@needs_chromium
def test_a_table_wider_than_a_phone_fails_at_390_and_not_at_1280(tmp_path):
    run = _docs_check(_site(tmp_path, "auto", math=100, table=700), tmp_path / "shots")
    assert run.returncode == 1, run.stdout + run.stderr
    fails = [line for line in run.stderr.splitlines() if line.startswith("FAIL")]
    assert any("at 390 px: the page scrolls sideways" in line for line in fails), fails
    assert any("at 390 px: table at #top" in line for line in fails), fails
    assert not any("at 1280 px" in line for line in fails), fails


@needs_chromium
def test_display_math_wider_than_a_desktop_column_fails_at_1280(tmp_path):
    run = _docs_check(_site(tmp_path, "auto", math=2000, table=300), tmp_path / "shots")
    assert run.returncode == 1, run.stdout + run.stderr
    fails = [line for line in run.stderr.splitlines() if line.startswith("FAIL")]
    assert any("at 1280 px: display math at #top is 2000 px wide" in line for line in fails)
    # It scrolls inside its block: neither page is widened.
    assert not any("scrolls sideways" in line for line in fails), fails
