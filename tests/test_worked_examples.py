"""The worked examples of docs/testing.md: three losses from outside the project, checked.

Label smoothing, a weighted mean over samples and the Weston-Watkins multiclass
hinge (docs/examples/losses/), each with a correct gradient and one planted
bug. Through check_gradient and through ``softmax-ref verify --loss``: the
correct one passes, the planted bug fails with ANALYTIC blamed and dW and db
named (the meta-test of each example). Through
the plugin: the correct ones pass a property test on the project's problem
families, with the ``assert_gradient`` fixture. The hinge at a point on its
kinks passes with the kink entries classified, not failed.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from softmax_ref.cli import main
from verification import check_gradient
from verification.strategies import from_problems, problems
from verification.testing import jax_settings

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples" / "losses"
NAMES = ["label_smoothing", "weighted", "hinge"]
LOSSES = {name: runpy.run_path(str(EXAMPLES / f"{name}.py")) for name in NAMES}


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", NAMES)
def test_the_correct_gradient_passes(name, seed):
    m = LOSSES[name]
    report = check_gradient(m["analytic"], m["loss"], *m["point"](seed))
    assert report.ok, str(report)
    assert report.blame is None


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", NAMES)
def test_the_planted_bug_fails_blamed_on_analytic(name, seed):
    m = LOSSES[name]
    report = check_gradient(m["analytic_wrong"], m["loss"], *m["point"](seed))
    assert not report.ok
    assert report.blame == "ANALYTIC"
    failing = {c.quantity for c in report.failures()}
    assert failing == {"dW", "db"}, str(report)
    assert "ANALYTIC disagrees with JAX and FD, which agree: dW[" in report.diagnosis


def test_the_hinge_on_its_kinks_is_classified_not_failed():
    m = LOSSES["hinge"]
    report = check_gradient(m["analytic"], m["loss"], *m["kink_point"]())
    assert report.ok, str(report)
    kinks = [c for c in report.comparisons if c.verdict == "kink"]
    assert {c.quantity for c in kinks} == {"dW", "db"}
    assert all(c.n_kinks > 0 for c in kinks)


FAMILIES = ["ordinary", "tied", "absent", "single_sample", "single_feature", "large_reg"]


@pytest.mark.parametrize("name", NAMES)
def test_each_correct_loss_passes_the_families_through_the_plugin_fixture(name, assert_gradient):
    m = LOSSES[name]

    @jax_settings(max_examples=min(settings.default.max_examples, 10))
    @given(from_problems(problems(FAMILIES), weights=True))
    def run(point):
        assert_gradient(m["analytic"], m["loss"], *point, mode="sampled")

    run()


# --- through the command line: softmax-ref verify --analytic ... --loss ... --point ... ------


def _save_point(path: Path, name: str, seed: int) -> Path:
    params, data = LOSSES[name]["point"](seed)
    np.savez(path, **params, **{k: np.asarray(v) for k, v in data.items()})
    return path


@pytest.mark.parametrize(
    ("name", "function", "status"),
    [(n, f, s) for n in NAMES for f, s in (("analytic", 0), ("analytic_wrong", 1))],
)
def test_each_example_through_the_cli(name, function, status, tmp_path, capsys):
    point = _save_point(tmp_path / "point.npz", name, seed=0)
    source = EXAMPLES / f"{name}.py"
    argv = [
        "verify",
        "--analytic",
        f"{source}:{function}",
        "--loss",
        f"{source}:loss",
        "--point",
        str(point),
        "--params",
        "W,b",
    ]
    assert main(argv) == status
    out = capsys.readouterr().out
    if status == 0:
        assert "FAIL" not in out
    else:
        assert "ANALYTIC disagrees with JAX and FD, which agree: dW[" in out
