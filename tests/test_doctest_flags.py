"""Doctests compare what they print: NUMBER is opt-in per example, never global.

pytest's NUMBER option compares a float only to the digits the expected output
writes. Global, it let an expected ``array([[0., 1., 0.]])`` (no decimals) accept
``[[0.4, 0.6, 0.3]]``. An example whose last digits the machine may move opts in
with ``# doctest: +NUMBER``; every other example compares exactly.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LOOSE = '''
def f():
    """
    >>> import numpy as np
    >>> np.array([[0.4, 0.6, 0.3]])
    array([[0., 1., 0.]])
    """
'''


def project_flags() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["pytest"]["ini_options"]["doctest_optionflags"]


def doctest_passes(folder: Path, flags: list[str]) -> bool:
    (folder / "loose.py").write_text(LOOSE)
    (folder / "pytest.ini").write_text("[pytest]\n")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "loose.py",
            "--doctest-modules",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-o",
            f"doctest_optionflags={' '.join(flags)}",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    return run.returncode == 0


def test_number_is_not_a_global_doctest_flag():
    assert "NUMBER" not in project_flags()


def test_an_exact_doctest_sees_what_number_would_hide(tmp_path):
    # The example is wrong: NUMBER passes it, the project's flags fail it.
    assert doctest_passes(tmp_path, [*project_flags(), "NUMBER"])
    assert not doctest_passes(tmp_path, project_flags())
