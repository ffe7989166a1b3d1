"""Render the built docs in headless Chromium, offline, and check that the math is typeset.

What ``make docs-check`` runs, after ``make docs`` has built ``site/``:

1. serves ``site/`` from a local HTTP server on 127.0.0.1 that records every
   request and its status;
2. for each page checked (the derivation, its two-layer part, the home page),
   asks Chromium for the DOM after scripts have run (``--dump-dom``) and for
   screenshots, one per section (``--screenshot`` at the section's anchor);
3. fails unless, on every page: each math element that pymdownx.arithmatex
   wrote holds a typeset ``mjx-container`` and no raw TeX delimiters, MathJax
   reported no TeX error, every request the pages made was served by the local
   server without error (MathJax's script and its web fonts included), and no
   page refers to another host for a script, style or font.

Chromium runs with no network (``--disable-background-networking`` and the
rest of the flags this machine's notes list, and a fresh profile), so a page
that needed the internet to render its math fails here.

Screenshots go to ``build/docs-check/`` (PNG); look at them: the script checks
the DOM, a person checks that the pictures look like typeset mathematics.

Usage::

    python scripts/docs_plugins/docs_check.py [--site site] [--out build/docs-check] \
        [--chromium PATH]
"""

from __future__ import annotations

import argparse
import functools
import html.parser
import http.server
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

# Pages to render, as paths under the site; a page missing from the build is
# skipped with a note (two_layer/ arrives with the two-layer network).
PAGES = ["derivation/", "two_layer/", "own-derivation/", ""]

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    # MathJax typesets after load; virtual time lets the page settle before the
    # DOM is dumped or the picture taken, without a wall-clock sleep.
    "--virtual-time-budget=20000",
]
WIDTH = 1280
WINDOW = f"{WIDTH},1400"
TALL = 16000  # one capture of the whole page, cut into tiles of TILE pixels
TILE = 1400
BLANK_BAND = 600  # this many blank pixel rows in a row: the page is over


@dataclass
class Request:
    path: str
    status: int


@dataclass
class Recorder:
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, status: int) -> None:
        with self.lock:
            self.requests.append(Request(path, status))


def _handler(site: Path, recorder: Recorder) -> type[http.server.SimpleHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            recorder.add(self.path, int(code) if str(code).isdigit() else 0)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the recorder keeps what matters; keep the console for results

    return functools.partial(Handler, directory=str(site))  # type: ignore[return-value]


class _MathScan(html.parser.HTMLParser):
    """Counts arithmatex elements, what they hold once MathJax has run, and stray TeX."""

    # Text inside these is not prose a reader sees as such (or is MathJax's own).
    _OPAQUE = frozenset({"script", "style", "code", "pre", "textarea", "title", "mjx-container"})

    def __init__(self) -> None:
        super().__init__()
        self.math = 0  # elements pymdownx.arithmatex wrote
        self.typeset = 0  # of those, holding an mjx-container
        self.raw: list[str] = []  # visible text still showing TeX delimiters
        self.errors = 0  # MathJax's own error marks (undefined macro, bad TeX)
        self._open: list[tuple[str, bool]] = []  # (tag, is an arithmatex element)
        self._typeset_here: list[bool] = []  # per open arithmatex element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "mjx-merror" or any(k == "data-mjx-error" for k, _ in attrs):
            self.errors += 1
        if tag == "mjx-container" and self._typeset_here:
            self._typeset_here[-1] = True
        if tag in _VOID:
            return
        is_math = "arithmatex" in (dict(attrs).get("class") or "").split()
        if is_math:
            self.math += 1
            self._typeset_here.append(False)
        self._open.append((tag, is_math))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not any(t == tag for t, _ in self._open):
            return
        while self._open:
            t, is_math = self._open.pop()
            if is_math and self._typeset_here.pop():
                self.typeset += 1
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        if any(t in self._OPAQUE for t, _ in self._open):
            return
        if _RAW_TEX.search(data):
            self.raw.append(" ".join(data.split())[:80])


_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
_RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{")


def _chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def check_page(
    binary: str, base: str, page: str, html_text: str, out: Path, profile: Path
) -> list[str]:
    """Render one page; return its problems (empty when it passes)."""
    problems: list[str] = []
    url = base + page
    dom = _chromium(binary, profile, f"--window-size={WINDOW}", "--dump-dom", url)
    if dom.returncode != 0 or "<html" not in dom.stdout:
        return [f"{url}: Chromium could not render it (exit {dom.returncode}): {dom.stderr[-500:]}"]
    scan = _MathScan()
    scan.feed(dom.stdout)
    built = _MathScan()
    built.feed(html_text)
    name = page.strip("/") or "index"
    print(
        f"{name}: {built.math} math elements built, {scan.typeset} typeset by MathJax, "
        f"{len(scan.raw)} texts showing raw TeX, {scan.errors} TeX errors"
    )
    if built.math == 0 and page == "derivation/":
        problems.append(f"{url}: the derivation page has no math at all")
    if scan.typeset != built.math:
        problems.append(f"{url}: {scan.typeset} of {built.math} math elements typeset")
    if scan.raw:
        problems.append(f"{url}: raw TeX left on the page, e.g. {scan.raw[:3]}")
    if scan.errors:
        problems.append(f"{url}: MathJax reported {scan.errors} TeX errors")

    tall = out / f"{name}--full.png"
    shot = _chromium(binary, profile, f"--window-size={WIDTH},{TALL}", f"--screenshot={tall}", url)
    if shot.returncode != 0 or not tall.is_file():
        return [*problems, f"{url}: no screenshot (exit {shot.returncode}): {shot.stderr[-300:]}"]
    tiles, cut_off = _tile(tall, out / name)
    print(
        f"{name}: {len(tiles)} screenshots" + (" (page longer than the capture)" if cut_off else "")
    )
    return problems


def _tile(png: Path, stem: Path) -> tuple[list[Path], bool]:
    """Cut a tall screenshot into viewable tiles, dropping the blank space below the page.

    Returns the tiles and whether the page ran past the bottom of the capture.
    """
    from PIL import Image, ImageChops  # pillow comes with matplotlib (the demo extra)

    with Image.open(png) as img:
        rgb = img.convert("RGB")
    # The page ends where a long band of plain background begins (Material pins
    # its footer to the bottom of the window, far below the content).
    bg = Image.new("RGB", rgb.size, rgb.getpixel((rgb.width - 1, rgb.height // 2)))
    rows = ImageChops.difference(rgb, bg).convert("L").resize((1, rgb.height), Image.Resampling.BOX)
    ink = list(rows.tobytes())  # one byte per row (mode L, width 1)
    bottom, blank = rgb.height, 0
    for y, v in enumerate(ink):
        blank = blank + 1 if v == 0 else 0
        if blank >= BLANK_BAND:
            bottom = y - blank + 1
            break
    cut_off = bottom >= rgb.height - 2
    tiles = []
    for i, top in enumerate(range(0, bottom, TILE), start=1):
        tile = stem.parent / f"{stem.name}-{i:02d}.png"
        rgb.crop((0, top, rgb.width, min(top + TILE, bottom))).save(tile)
        tiles.append(tile)
    png.unlink()
    return tiles, cut_off


def check_code_links(site: Path, page: str) -> list[str]:
    """Every link from ``page`` to a line of code lands on an existing line anchor."""
    html_file = site / page / "index.html"
    if not html_file.is_file():
        return [f"{page}: not built"]
    problems = []
    links = re.findall(r'href="([^"]*code/[^"#]*)#(__codelineno-0-\d+)"', html_file.read_text())
    for target, anchor in links:
        code_page = (html_file.parent / target / "index.html").resolve()
        if not code_page.is_file():
            problems.append(f"{page}: link to {target} (no such page)")
        elif f'id="{anchor}"' not in code_page.read_text(encoding="utf-8"):
            problems.append(f"{page}: link to {target}#{anchor} (no such line)")
    tests = sum(1 for target, _ in links if "/tests/" in target)
    print(
        f"{page.strip('/')}: {len(links)} links to lines of code ({tests} to tests), "
        f"{len(links) - len(problems)} land on an existing line"
    )
    if not links:
        problems.append(f"{page}: no links to code at all")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--site", type=Path, default=Path("site"), help="the built site (make docs)"
    )
    parser.add_argument("--out", type=Path, default=Path("build/docs-check"), help="screenshots")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args(argv)

    if not (args.site / "index.html").is_file():
        print(f"no built site at {args.site}/: run `make docs` first", file=sys.stderr)
        return 2
    if not shutil.which(args.chromium):
        print(
            f"Chromium not found ({args.chromium}); install Debian's package: "
            "apt-get update && apt-get install -y chromium",
            file=sys.stderr,
        )
        return 2
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)

    problems: list[str] = []
    for path in sorted(args.site.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        m = re.search(
            r"<(?:script|link)\b[^>]*\b(?:src|href)=[\"'](?:https?:)?//[^\"']*[\"']", text, re.I
        )
        if m:
            problems.append(f"{path}: refers to another host: {m.group(0)[:120]}")

    problems += check_code_links(args.site, "derivation/")

    recorder = Recorder()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(args.site, recorder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with tempfile.TemporaryDirectory(prefix="docs-check-profile-") as profile:
            for page in PAGES:
                page_file = args.site / page / "index.html"
                if not page_file.is_file():
                    print(f"{page or 'index'}: not in this build, skipped")
                    continue
                problems += check_page(
                    args.chromium,
                    base,
                    page,
                    page_file.read_text(encoding="utf-8"),
                    args.out,
                    Path(profile),
                )
    finally:
        server.shutdown()
        server.server_close()

    failed = [r for r in recorder.requests if r.status >= 400 or r.status == 0]
    fonts = [r for r in recorder.requests if r.path.endswith(".woff")]
    mathjax = [r for r in recorder.requests if r.path.endswith("tex-mml-chtml.js")]
    print(
        f"{len(recorder.requests)} requests to the local server, {len(failed)} failed; "
        f"MathJax loaded {len(mathjax)} times, {len(fonts)} font requests"
    )
    problems += [f"request failed: {r.path} -> {r.status}" for r in failed]
    if not mathjax:
        problems.append("MathJax was never requested from the local server")
    shots = sorted(args.out.glob("*.png"))
    print(f"{len(shots)} screenshots in {args.out}/ : look at them")
    for p in problems:
        print("FAIL", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
