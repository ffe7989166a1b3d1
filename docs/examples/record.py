"""Record (or check) the output the docs show for each example command.

The own-derivation page shows what two commands print; those outputs are files
beside this script (``*.out``), included into the page at build time, so the
page never holds output typed by hand. ``tests/test_docs.py`` runs the same
commands and fails when a recorded output is out of date: when a word, a verdict,
a count, an index or a value beyond its tolerance differs from what they print
today (``differences``; the last digits JAX, BLAS and the CPU move are not
compared).

    python docs/examples/record.py            # rewrite the .out files
    python docs/examples/record.py --check    # exit 1 if any is stale

Run from the repository root.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from verification.tolerances import tolerances_for

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


# --- comparing a recorded output with today's ------------------------------------------
#
# A report's floats come from JAX, BLAS and finite differences, whose last digits move
# with the CPU's instruction set, the BLAS kernel and the thread count. What a recorded
# output promises is what the tolerance table promises, so that is what is compared:
#
# - every word, verdict, count, label, index and failure pattern: exactly (runs of spaces aside: the
#   table's column widths follow its longest cell);
# - in a table row, a value of ANALYTIC or JAX: within paths_rtol |v| + paths_atol
#   (the same formula rounded in another order); an FD value: within the two bounds
#   (each run is within its bound of the truth); max abs err: within the two bounds
#   (each side of it moves by no more than the bound its comparison allows); the
#   bound: within paths_rtol if no FD is in the pair, else within the larger bound
#   (an FD bound is |D(h) - D(2h)| plus its roundoff, so it carries that roundoff);
# - in a row whose verdict is pass, "at" is the entry where rounding noise happens to
#   be largest: only its quantity is compared, and its values only if it is the same
#   entry; max rel err is a ratio of noise to a magnitude the row does not print, so it
#   is compared only outside pass rows, and there like max abs err scaled by
#   max rel err / max abs err;
# - each tolerance is widened by one unit in the last printed digit, since the text
#   holds a value only to the digits printed.

_FLOAT = re.compile(r"[-+]?\d+\.\d+(?:e[-+]?\d+)?|[-+]?(?:inf|nan)")
_HEADER = re.compile(r"^quantity\s+pair\s+verdict\s+max abs err")
_COLUMNS = (
    "quantity",
    "pair",
    "verdict",
    "abs",
    "rel",
    "bound",
    "at",
    "failing",
    "ANALYTIC",
    "JAX",
    "FD",
)


def _unit(text: str) -> float:
    """One unit in the last digit ``text`` prints: ``"2.99e-13"`` -> 1e-15."""
    mantissa, _, exponent = text.lower().partition("e")
    digits = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - digits)


def _close(old: str, new: str, tol: float) -> bool:
    if old == new:
        return True
    if "-" in (old, new) or not (_FLOAT.fullmatch(old) and _FLOAT.fullmatch(new)):
        return False
    a, b = float(old), float(new)
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= tol + max(_unit(old), _unit(new))


def _row_differences(old: list[str], new: list[str]) -> list[str]:
    t = tolerances_for(np.float64)
    o, n = dict(zip(_COLUMNS, old, strict=True)), dict(zip(_COLUMNS, new, strict=True))
    exact = ("quantity", "pair", "verdict", "failing")
    out = [f"{c}: {o[c]} -> {n[c]}" for c in exact if o[c] != n[c]]
    if out:
        return out
    passed = o["verdict"] == "pass"
    bounds = [float(v) for v in (o["bound"], n["bound"]) if _FLOAT.fullmatch(v)]
    both = sum(bounds) if len(bounds) == 2 and all(map(math.isfinite, bounds)) else 0.0

    def check(column: str, tol: float) -> None:
        if not _close(o[column], n[column], tol):
            out.append(f"{column}: {o[column]} -> {n[column]}")

    check("abs", both)
    if not passed:
        a = float(o["abs"]) if _FLOAT.fullmatch(o["abs"]) else 0.0
        r = float(o["rel"]) if _FLOAT.fullmatch(o["rel"]) else 0.0
        check("rel", both * r / a if a > 0 else 0.0)
    fd_pair = "FD" in o["pair"]
    old_bound = float(o["bound"]) if _FLOAT.fullmatch(o["bound"]) else 0.0
    check("bound", max(bounds, default=0.0) if fd_pair else t.paths_rtol * abs(old_bound))
    if passed and o["at"] != n["at"]:
        if o["at"].partition("[")[0] != n["at"].partition("[")[0]:
            out.append(f"at: {o['at']} -> {n['at']}")
        return out
    check("at", 0.0)
    for column in ("ANALYTIC", "JAX"):
        v = float(o[column]) if _FLOAT.fullmatch(o[column]) else 0.0
        check(column, t.paths_rtol * abs(v) + t.paths_atol)
    check("FD", both)
    return out


def differences(recorded: str, computed: str) -> list[str]:
    """What differs between a recorded output and today's, beyond what the tolerances allow.

    Returns one line per difference (empty: the recording is current).
    """
    old_lines, new_lines = recorded.splitlines(), computed.splitlines()
    if len(old_lines) != len(new_lines):
        return [f"{len(old_lines)} lines recorded, {len(new_lines)} printed"]
    out = []
    in_table = False
    for i, (old, new) in enumerate(zip(old_lines, new_lines, strict=True), start=1):
        if not old.strip():
            in_table = False
        old_cells, new_cells = re.split(r"\s{2,}", old.strip()), re.split(r"\s{2,}", new.strip())
        if in_table and len(old_cells) == len(new_cells) == len(_COLUMNS):
            out += [f"line {i}: {d}" for d in _row_differences(old_cells, new_cells)]
        elif " ".join(old.split()) != " ".join(new.split()):
            out.append(f"line {i}: {old.strip()!r} -> {new.strip()!r}")
        in_table = in_table or bool(_HEADER.match(old))
    return out


def main(argv: list[str] | None = None) -> int:
    check = "--check" in (sys.argv[1:] if argv is None else argv)
    stale = []
    for ex in EXAMPLES:
        status, text = ex.run()
        if status != ex.expected_status:
            print(f"{ex.command}: exit {status}, expected {ex.expected_status}", file=sys.stderr)
            return 1
        if check:
            if not ex.out.is_file():
                stale.append((ex.out, ["not recorded"]))
            elif found := differences(ex.out.read_text(encoding="utf-8"), text):
                stale.append((ex.out, found))
        else:
            ex.out.write_text(text, encoding="utf-8")
            print(f"wrote {ex.out}")
    for path, found in stale:
        print(f"stale: {path} (run python docs/examples/record.py)", file=sys.stderr)
        for line in found:
            print(f"    {line}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
