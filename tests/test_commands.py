"""Every command README.md and the docs tell a user to run has a smoke run.

The commands are read from the pages' code (fenced blocks, indented code blocks,
inline code): each ``make TARGET`` and ``softmax-ref SUBCOMMAND``. Each must be
listed in ``SMOKED`` with where it runs: a test here, a step of ``make test``, or
CI's ``.ci/run``. A command added to a page and not to ``SMOKED`` fails this file,
so it cannot be documented without being run somewhere.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from softmax_ref.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent

MAKE_TEST = "a step of make test"
CI_RUN = "run by .ci/run"
BENCH_STEP = "smoked by make test's bench step"

#: Where each documented command runs; a test function named here runs it.
SMOKED = {
    "make test": CI_RUN,
    "make docs-check": CI_RUN,
    "make docs": MAKE_TEST,
    "make lint": MAKE_TEST,
    "make bench-smoke": MAKE_TEST,
    "make bench": BENCH_STEP,
    "make bench-save": BENCH_STEP,
    "make bench-compare": BENCH_STEP,
    "make demo": "test_make_demo_quick_form",
    "softmax-ref demo": "test_make_demo_quick_form",
    "softmax-ref train": "test_train_predict_verify_on_small_files",
    "softmax-ref predict": "test_train_predict_verify_on_small_files",
    "softmax-ref verify": "test_train_predict_verify_on_small_files",
}

#: Documented, deliberately not smoked, and why.
NOT_SMOKED = {
    "make mutate": "mutation testing runs for minutes (docs/property-suite.md records its score)",
    "make checkerbench": "installs PyTorch and numdifftools and runs for minutes; "
    "tests/test_checkerbench.py runs its catalog on a subset",
    "make nightly": "the nightly profile runs for hours (its last result: docs/property-suite.md)",
    "make bench-selftest": "ten timed comparisons (minutes); figures on docs/guard-your-own.md",
}

_COMMAND = re.compile(r"(?<![\w/-])(?:\S*/)?(make|softmax-ref)\s+([a-z][\w-]*)")


def code_of(markdown: str) -> list[str]:
    """The code a page shows: fenced blocks, indented code blocks and inline code.

    An indented block is code only after a blank line that follows a paragraph;
    indented lines under an admonition (``!!!``) or a list item are its body.
    """
    pieces: list[str] = []
    fence = None
    context = ""  # the last line that was neither blank nor indented
    previous_blank = True
    in_code = False
    for line in markdown.splitlines():
        stripped = line.strip()
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            else:
                pieces.append(line)
            continue
        if m := re.match(r"\s*(`{3,}|~{3,})", line):
            fence = m.group(1)
            continue
        if line.startswith("    ") and stripped:
            body = re.match(r"(!!!|\?\?\?|[-*+] |\d+\. )", context.lstrip())
            in_code = in_code or (previous_blank and not body)
            if in_code:
                pieces.append(line)
                continue
        elif stripped:
            context, in_code = line, False
        pieces += re.findall(r"`([^`\n]+)`", line)
        previous_blank = not stripped
    return pieces


def commands_in(markdown: str) -> set[str]:
    """Each ``make TARGET`` and ``softmax-ref SUBCOMMAND`` in a page's code."""
    found = set()
    for piece in code_of(markdown):
        for tool, name in _COMMAND.findall(piece):
            found.add(f"{tool} {name}")
    return found


def documented() -> dict[str, list[str]]:
    """Command -> the pages that name it."""
    out: dict[str, list[str]] = {}
    for page in PAGES:
        for command in commands_in(page.read_text(encoding="utf-8")):
            out.setdefault(command, []).append(str(page.relative_to(ROOT)))
    return out


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][\w-]*):", text, re.MULTILINE))


def test_every_documented_command_has_a_smoke_run():
    docs = documented()
    missing = {c: pages for c, pages in docs.items() if c not in SMOKED and c not in NOT_SMOKED}
    assert missing == {}, f"documented, with no smoke run listed in SMOKED: {missing}"
    gone = (set(SMOKED) | set(NOT_SMOKED)) - set(docs)
    assert gone == set(), f"listed but no longer documented: {gone}"


def test_every_listed_smoke_run_exists():
    targets = make_targets()
    test_prerequisites = re.search(r"^test:(.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert test_prerequisites is not None
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    usage = re.search(r"\{([\w,-]+)\}", build_parser().format_usage())
    assert usage is not None
    subcommands = usage.group(1).split(",")
    for command, where in SMOKED.items():
        tool, name = command.split()
        if tool == "make":
            assert name in targets, f"{command}: no such Makefile target"
        else:
            assert name in subcommands, f"{command}: no such subcommand"
        if where == MAKE_TEST:
            assert name in test_prerequisites.group(1).split(), f"{command} is not in make test"
        elif where == CI_RUN:
            assert re.search(rf"^{re.escape(command)}$", ci, re.MULTILINE), command
        elif where != BENCH_STEP:
            assert callable(globals().get(where)), f"{command}: no test {where}"


def test_command_reader_sees_code_not_prose():
    page = (
        "Make sure to make notes.\n\n"
        "```sh\nmake alpha    # comment\n```\n\n"
        "Run `softmax-ref beta --x 1` or `.venv/bin/softmax-ref gamma`.\n\n"
        "    make delta    an indented code block\n\n"
        '!!! note "Title"\n    make finite differences cheaper (prose in a box)\n\n'
        "- a list item\n\n    make more of it (the item's second paragraph)\n"
    )
    assert commands_in(page) == {
        "make alpha",
        "softmax-ref beta",
        "softmax-ref gamma",
        "make delta",
    }


def test_a_new_command_without_a_smoke_run_fails(monkeypatch):
    """Meta-test: documenting a command is not enough, it needs a smoke run."""
    real = documented()
    monkeypatch.setattr(
        sys.modules[__name__],
        "documented",
        lambda: {**real, "make shiny": ["README.md"]},
    )
    with pytest.raises(AssertionError, match="make shiny"):
        test_every_documented_command_has_a_smoke_run()


# --- the smoke runs -------------------------------------------------------------------


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


def test_train_predict_verify_on_small_files(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = rng.integers(0, 3, size=40)
    data = tmp_path / "data.csv"
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", fmt="%.17g")
    model = tmp_path / "model.npz"
    cli = str(BIN / "softmax-ref")

    train = _run(cli, "train", str(data), "--model", str(model), "--reg", "0.1")
    assert train.returncode == 0, train.stderr
    assert model.is_file()
    predict = _run(cli, "predict", str(model), str(data))
    assert predict.returncode == 0, predict.stderr
    labels = predict.stdout.split()
    assert len(labels) == 40
    assert set(labels) <= {"0", "1", "2"}

    problem = tmp_path / "problem.npz"
    np.savez(problem, W=rng.normal(size=(3, 3)), b=np.zeros(3), X=X, y=y)
    verify = _run(cli, "verify", "--npz", str(problem))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "three-way gradient check: OK" in verify.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_demo_quick_form(tmp_path):
    # -o: this venv already has the demo's extras; do not let make reinstall them.
    out = tmp_path / "demo"
    run = _run(
        "make",
        "--no-print-directory",
        "-o",
        ".venv/.stamp-demo,verify",
        f"BIN={BIN}",
        "demo",
        f"DEMO_ARGS=--datasets blog_2016 --no-figures --output {out}",
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "blog_2016 reproduces every number of the post." in run.stdout
    assert "blog_2016: PASS" in run.stdout


def test_docs_check_without_chromium_says_how_to_get_it(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html></html>", encoding="utf-8")
    run = _run(
        sys.executable,
        str(ROOT / "scripts" / "docs_plugins" / "docs_check.py"),
        "--site",
        str(site),
        "--out",
        str(tmp_path / "shots"),
        "--chromium",
        str(tmp_path / "no-chromium-here"),
    )
    assert run.returncode != 0
    assert "apt-get install -y chromium" in run.stderr
