"""Record (or check) the output the docs show for each example command.

The own-derivation page shows what two commands print; those outputs are files
beside this script (``*.out``), included into the page at build time, so the
page never holds output typed by hand. ``tests/test_docs.py`` runs the same
commands and fails when a recorded output is out of date.

    python docs/examples/record.py            # rewrite the .out files
    python docs/examples/record.py --check    # exit 1 if any is stale

Run from the repository root.
"""

from __future__ import annotations

import contextlib
import io
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Example:
    """A command as a user types it, and the file that records its output."""

    command: str  # shown on the page
    out: Path
    expected_status: int  # what the command exits with (1: a disagreement found)

    def run(self) -> tuple[int, str]:
        """Run the command in this process; return its exit status and what it printed."""
        argv = self.command.split()
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            if argv[0] == "python":
                status = 0
                try:
                    runpy.run_path(argv[1], run_name="__main__")
                except SystemExit as e:  # a script may end with sys.exit(...)
                    status = int(e.code or 0)
            else:
                from softmax_ref.cli import main

                assert argv[0] == "softmax-ref", argv
                status = main(argv[1:])
        return status, buf.getvalue()


EXAMPLES = [
    Example("python docs/examples/wrong_gradient.py", HERE / "wrong_gradient.out", 0),
    Example(
        "softmax-ref verify --analytic docs/examples/wrong_gradient.py:loss_and_grad --count 1",
        HERE / "verify_cli.out",
        1,
    ),
]


def main(argv: list[str] | None = None) -> int:
    check = "--check" in (sys.argv[1:] if argv is None else argv)
    stale = []
    for ex in EXAMPLES:
        status, text = ex.run()
        if status != ex.expected_status:
            print(f"{ex.command}: exit {status}, expected {ex.expected_status}", file=sys.stderr)
            return 1
        if check:
            if not ex.out.is_file() or ex.out.read_text(encoding="utf-8") != text:
                stale.append(ex.out)
        else:
            ex.out.write_text(text, encoding="utf-8")
            print(f"wrote {ex.out}")
    for path in stale:
        print(f"stale: {path} (run python docs/examples/record.py)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
