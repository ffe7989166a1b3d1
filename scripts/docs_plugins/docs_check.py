"""Render every page of the built docs in headless Chromium, offline, at two widths.

What ``make docs-check`` runs, after ``make docs`` has built ``site/``:

1. serves ``site/`` from a local HTTP server on 127.0.0.1 that records every
   request and its status;
2. drives one headless Chromium over ``--remote-debugging-pipe`` (the DevTools
   protocol on two pipes, no port, no extra package) and loads every page of the
   site, the home page, the narrative pages, the API reference and the code
   pages, once with a viewport 1280 px wide and once 390 px wide (a phone);
   Chromium's own window cannot be narrower than 500 px headless, the emulated
   viewport can;
3. on each page, opens every ``<details>`` (a collapsed block can still overflow
   once a reader opens it), waits for ``MathJax.startup.promise`` and the fonts,
   and measures the layout in the page;
4. fails when, on any page:

   - at either width, the page scrolls sideways
     (``document.documentElement.scrollWidth > innerWidth``);
   - at 1280 px, a display-math block (``div.arithmatex``) holds typeset math
     wider than the block's ``clientWidth``: at a desktop width every
     equation fits its column without scrolling;
   - at either width, a display-math block or a table's scroll box
     (``.md-typeset__scrollwrap``, or the table where it has none) whose content
     is wider than the box does not scroll itself (``overflow-x`` neither
     ``auto`` nor ``scroll``), or its right edge is past the viewport's;
   - (at 1280 px) a math element that pymdownx.arithmatex wrote holds no
     typeset ``mjx-container``, raw TeX delimiters are left in visible text, or
     MathJax reported a TeX error;
   - a request the pages made failed, MathJax was not served locally, or a page
     refers to another host for a script, style or font;
   - a link from the derivation to a line of code lands on no such line.

Chromium runs with no network (``--disable-background-networking`` and the
rest of the flags below, and a fresh profile), so a page that needed the
internet to render its math fails here.

Screenshots go to ``build/docs-check/``: ``<page>--<width>-NN.png``, tiles of
the page from the top (every tile of a page up to ``MAX_TILES``; none of a code
page, one long listing in the same template), and ``FAIL-<page>--<width>-NN.png`` centred on each
element that failed a layout check. The script checks the numbers; a person
looks at the pictures.

Usage::

    python scripts/docs_plugins/docs_check.py [--site site] [--out build/docs-check] \
        [--chromium PATH] [--pages PAGE ...]
"""

from __future__ import annotations

import argparse
import base64
import functools
import html.parser
import http.server
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Pages first in this order (the derivation's pages lead, so a broken build shows
# there first); every other page of the site follows, in path order.
FIRST = ["derivation/", "two_layer/", "own-derivation/", ""]

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
]
DESKTOP, PHONE = 1280, 390
WIDTHS = (DESKTOP, PHONE)
TILE = 1400  # viewport height, and so the height of one screenshot tile
MAX_TILES = 12  # per page and width; a failure gets its own picture wherever it is
TIMEOUT = 90.0  # seconds for one step (a load, a measurement, a picture)


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


class Browser:
    """One headless Chromium, driven over the DevTools protocol on two pipes.

    ``--remote-debugging-pipe`` makes Chromium read commands from its fd 3 and
    write replies and events to its fd 4, each message JSON ended by a NUL byte.
    """

    def __init__(self, binary: str, profile: Path) -> None:
        to_chromium, self._to = os.pipe()
        self._from, from_chromium = os.pipe()

        def onto_3_and_4() -> None:
            # dup first: dup2 onto a number the pipe already holds would keep it
            # close-on-exec; the copies are above 4, so both dup2 calls clear it.
            r, w = os.dup(to_chromium), os.dup(from_chromium)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, "--remote-debugging-pipe", f"--user-data-dir={profile}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=onto_3_and_4,  # before any thread starts: see main()
        )
        os.close(to_chromium)
        os.close(from_chromium)
        self._buffer = b""
        self._next_id = 0
        self._pending: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.call("Page.enable", session=self.session)

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and return its result; a protocol error raises RuntimeError."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to, json.dumps(message).encode() + b"\0")
        wanted = self._next_id
        reply = self._wait(lambda m: m.get("id") == wanted)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return dict(reply.get("result", {}))

    def page(self, method: str, **params: Any) -> dict[str, Any]:
        return self.call(method, session=self.session, **params)

    def _wait(self, wanted: Any) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while True:
            for k, message in enumerate(self._pending):
                if wanted(message):
                    return self._pending.pop(k)
            while b"\0" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._from], [], [], left)[0]:
                    raise TimeoutError(f"Chromium sent nothing awaited for {TIMEOUT:.0f} s")
                chunk = os.read(self._from, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium closed the pipe (exit {self.proc.poll()})")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            self._pending.append(json.loads(raw))

    def load(self, url: str, width: int) -> None:
        """Open ``url`` in a viewport ``width`` px wide; return once its load event fired."""
        self.page(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=TILE,
            deviceScaleFactor=1,
            mobile=False,
        )
        self._pending.clear()
        nav = self.page("Page.navigate", url=url)
        if nav.get("errorText"):
            raise RuntimeError(f"{url}: {nav['errorText']}")
        self._wait(
            lambda m: (
                m.get("method") == "Page.loadEventFired" and m.get("sessionId") == self.session
            )
        )

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page, promises awaited."""
        result = self.page(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed in the page: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        """A PNG of the viewport as it is scrolled now."""
        data = self.page("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to)
        os.close(self._from)


# Runs in the page. Opens every <details>, waits for MathJax's first typeset and
# the fonts (a formula's width depends on its glyphs), then measures. An element
# inside a box that clips sideways (overflow-x other than visible) cannot widen
# the page: its right edge is taken as at most its clipping box's.
MEASURE = r"""
(async () => {
  for (const d of document.querySelectorAll('details')) d.open = true;
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await document.fonts.ready;
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const W = window.innerWidth;
  const clipper = el => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return a;
    }
    return null;
  };
  const headings = [...document.querySelectorAll(
    'h1[id], h2[id], h3[id], h4[id], h5[id], h6[id]')];
  const where = el => {
    let h = null;
    for (const x of headings) {
      if (x.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) h = x;
      else break;
    }
    return h ? '#' + h.id : '(top)';
  };
  const tex = el => {
    try {
      return MathJax.startup.document.getMathItemsWithin(el).map(m => m.math).join(' ');
    } catch (e) { return ''; }
  };
  const name = el => el.tagName.toLowerCase() +
    (el.classList.length ? '.' + [...el.classList].join('.') : '');
  const top = el => el.getBoundingClientRect().top + window.scrollY;
  const res = {innerWidth: W, scrollWidth: document.documentElement.scrollWidth,
               math: [], boxes: [], out: []};
  for (const el of document.querySelectorAll('div.arithmatex')) {
    const c = el.querySelector('mjx-container');
    if (!c) continue;
    const m = c.querySelector('mjx-math') || c;
    res.math.push({where: where(el), tex: tex(el), top: top(el),
                   width: m.getBoundingClientRect().width, clientWidth: el.clientWidth});
  }
  const boxes = document.querySelectorAll(
    'div.arithmatex, .md-typeset__scrollwrap, .md-typeset table');
  for (const el of boxes) {
    if (el.tagName === 'TABLE' && el.closest('.md-typeset__scrollwrap')) continue;
    const r = el.getBoundingClientRect();
    if (!r.width) continue;
    const c = clipper(el);
    res.boxes.push({where: where(el), what: name(el), tex: tex(el), top: top(el),
                    scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
                    overflowX: getComputedStyle(el).overflowX,
                    right: Math.min(r.right, c ? c.getBoundingClientRect().right : Infinity)});
  }
  if (res.scrollWidth > W) {
    // What sticks out: elements past the right edge whose parent is not, outside
    // any clipping box; the first few, in document order.
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right <= W || !r.width || clipper(el)) continue;
      if (el.parentElement.getBoundingClientRect().right > W) continue;
      res.out.push({where: where(el), what: name(el), tex: tex(el), top: top(el),
                    right: r.right, text: el.textContent.trim().slice(0, 80)});
      if (res.out.length >= 8) break;
    }
  }
  res.height = document.documentElement.scrollHeight;
  if (WITH_HTML) res.html = document.documentElement.outerHTML;
  return res;
})()
"""


# Before the pictures: no transitions, so a tile never catches the header halfway
# through swapping its title; and after each scroll, the page's scroll handlers
# run and paint (two frames) before the capture.
STILL = (
    "document.head.insertAdjacentHTML('beforeend', '<style>*, *::before, *::after"
    " { transition: none !important; animation: none !important }</style>')"
)
SCROLL = (
    "(async () => { window.scrollTo(0, %f); await new Promise("
    "r => requestAnimationFrame(() => requestAnimationFrame(r))); })()"
)


@dataclass
class Problem:
    """One layout failure: the message, and where on the page to take its picture."""

    message: str
    top: float


def _short(text: str, n: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def layout_problems(report: dict[str, Any], width: int) -> list[Problem]:
    """The layout checks, on what :data:`MEASURE` returned for a page ``width`` px wide."""
    problems: list[Problem] = []
    inner = report["innerWidth"]
    if report["scrollWidth"] > inner:
        problems.append(
            Problem(
                f"the page scrolls sideways: {report['scrollWidth']} px wide in a "
                f"{inner} px viewport" + ("" if report["out"] else "; nothing found past the edge"),
                report["out"][0]["top"] if report["out"] else 0.0,
            )
        )
        problems += [
            Problem(
                f"past the right edge ({o['right']:.0f} px): {o['what']} at {o['where']}: "
                + (_short(o["tex"]) if o["tex"] else repr(_short(o["text"]))),
                o["top"],
            )
            for o in report["out"]
        ]
    if width >= DESKTOP:
        for m in report["math"]:
            if m["width"] > m["clientWidth"]:
                problems.append(
                    Problem(
                        f"display math at {m['where']} is {m['width']:.0f} px wide in a "
                        f"{m['clientWidth']} px column: {_short(m['tex'])}",
                        m["top"],
                    )
                )
    for b in report["boxes"]:
        label = f"{b['what']} at {b['where']}" + (f" ({_short(b['tex'])})" if b["tex"] else "")
        if b["scrollWidth"] > b["clientWidth"] and b["overflowX"] not in ("auto", "scroll"):
            problems.append(
                Problem(
                    f"{label}: content {b['scrollWidth']} px wide in a {b['clientWidth']} px "
                    f"box that does not scroll (overflow-x: {b['overflowX']})",
                    b["top"],
                )
            )
        if b["right"] > inner:
            problems.append(
                Problem(
                    f"{label}: right edge at {b['right']:.0f} px, past the {inner} px viewport",
                    b["top"],
                )
            )
    return problems


def check_page(
    browser: Browser, base: str, page: str, html_text: str, out: Path, width: int
) -> list[str]:
    """Render one page at one width; return its problems (empty when it passes)."""
    url = base + page
    name = page.strip("/").replace("/", "_") or "index"
    started = time.monotonic()
    try:
        browser.load(url, width)
        report = browser.evaluate(
            MEASURE.replace("WITH_HTML", "true" if width == DESKTOP else "false")
        )
    except (RuntimeError, TimeoutError) as exc:
        return [f"{url} at {width} px: Chromium could not render it: {exc}"]
    problems: list[str] = []
    if width == DESKTOP:
        scan = _MathScan()
        scan.feed(report["html"])
        built = _MathScan()
        built.feed(html_text)
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

    layout = layout_problems(report, width)
    overflowing = sum(1 for b in report["boxes"] if b["scrollWidth"] > b["clientWidth"])
    print(
        f"{name} at {width} px: page {report['scrollWidth']} px wide, "
        f"{len(report['math'])} display blocks, {len(report['boxes'])} math/table boxes "
        f"({overflowing} scroll inside), {len(layout)} layout problems, "
        f"measured in {time.monotonic() - started:.1f} s"
    )
    problems += [f"{url} at {width} px: {p.message}" for p in layout]

    is_code = page.startswith("code/")
    # A code page is one long listing in the same template: its layout is checked,
    # and pictured only where it fails.
    tiles = 0 if is_code else min(MAX_TILES, -(-int(report["height"]) // TILE))
    try:
        browser.evaluate(STILL)
        for k in range(tiles):
            browser.evaluate(SCROLL % (k * TILE))
            browser.screenshot(out / f"{name}--{width}-{k + 1:02d}.png")
        for k, p in enumerate(layout[:8]):
            browser.evaluate(SCROLL % max(0.0, p.top - TILE / 3))
            browser.screenshot(out / f"FAIL-{name}--{width}-{k + 1:02d}.png")
    except (RuntimeError, TimeoutError) as exc:
        problems.append(f"{url} at {width} px: no screenshot: {exc}")
    return problems


def pages_of(site: Path) -> list[str]:
    """Every page of the site, as a path under it ('' for the home page)."""
    found = sorted(p.parent.relative_to(site).as_posix() + "/" for p in site.rglob("index.html"))
    found = ["" if p == "./" else p for p in found]
    first = [p for p in FIRST if p in found]
    return first + [p for p in found if p not in first]


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
    parser.add_argument(
        "--pages", nargs="*", help="only these pages, as paths under the site ('' is the home)"
    )
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
    started = time.monotonic()

    problems: list[str] = []
    for path in sorted(args.site.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        m = re.search(
            r"<(?:script|link)\b[^>]*\b(?:src|href)=[\"'](?:https?:)?//[^\"']*[\"']", text, re.I
        )
        if m:
            problems.append(f"{path}: refers to another host: {m.group(0)[:120]}")

    if (args.site / "derivation" / "index.html").is_file():
        problems += check_code_links(args.site, "derivation/")

    pages = args.pages if args.pages is not None else pages_of(args.site)
    recorder = Recorder()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(args.site, recorder))
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    with tempfile.TemporaryDirectory(prefix="docs-check-profile-") as profile:
        # Chromium starts before the server's thread: its pipes are set up in the
        # forked child, which is only safe while this process has one thread.
        browser = Browser(args.chromium, Path(profile))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            for width in WIDTHS:
                for page in pages:
                    page_file = args.site / page / "index.html"
                    if not page_file.is_file():
                        problems.append(f"{page or 'index'}: not in this build")
                        continue
                    problems += check_page(
                        browser,
                        base,
                        page,
                        page_file.read_text(encoding="utf-8"),
                        args.out,
                        width,
                    )
        finally:
            browser.close()
            server.shutdown()
            server.server_close()

    failed = [r for r in recorder.requests if r.status >= 400 or r.status == 0]
    fonts = [r for r in recorder.requests if r.path.endswith(".woff")]
    mathjax = [r for r in recorder.requests if r.path.endswith("tex-mml-chtml.js")]
    print(
        f"{len(pages)} pages at {' and '.join(map(str, WIDTHS))} px; "
        f"{len(recorder.requests)} requests to the local server, {len(failed)} failed; "
        f"MathJax loaded {len(mathjax)} times, {len(fonts)} font requests"
    )
    problems += [f"request failed: {r.path} -> {r.status}" for r in failed]
    if not mathjax:
        problems.append("MathJax was never requested from the local server")
    shots = sorted(args.out.glob("*.png"))
    print(
        f"{len(shots)} screenshots in {args.out}/ : look at them "
        f"({time.monotonic() - started:.0f} s)"
    )
    for p in problems:
        print("FAIL", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
