"""Write the figures, table and transcript that docs/reproducing.md shows.

Runs the demo exactly as a user would::

    softmax-ref demo --output docs/figures --markdown docs/figures/post-table.out

and records what it prints in ``docs/figures/demo.out``. The page includes the
two text files at build time (pymdownx.snippets), so it never holds numbers
typed by hand. Run from the repository root after anything that changes the
demo's output:

    python scripts/make_docs_figures.py

Exits with the demo's status (non-zero if the post's numbers are not
reproduced or the gradient check fails); the files are written either way.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

FIGURES = Path("docs/figures")
COMMAND = ["demo", "--output", str(FIGURES), "--markdown", str(FIGURES / "post-table.out")]


def main() -> int:
    from softmax_ref.cli import main as cli

    if not Path("mkdocs.yml").is_file():
        print("run from the repository root (where mkdocs.yml is)", file=sys.stderr)
        return 2
    FIGURES.mkdir(parents=True, exist_ok=True)
    for old in FIGURES.glob("*.png"):  # a figure the demo no longer draws must not linger
        old.unlink()
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = cli(COMMAND)
    transcript = "$ softmax-ref " + " ".join(COMMAND) + "\n" + buffer.getvalue()
    (FIGURES / "demo.out").write_text(transcript, encoding="utf-8")
    print(transcript)
    return status


if __name__ == "__main__":
    sys.exit(main())
