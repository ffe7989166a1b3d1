"""The checker comparison's catalog logic (scripts/checkerbench.py), on a tiny subset.

The full run (`make checkerbench`) needs the peers (PyTorch, numdifftools) and minutes;
here the catalog is built, scored and totalled on four small cases. A peer that is not
installed is skipped, with the reason. The worked user losses (docs/examples/losses/)
are in the catalog as imported code, and a peer's failure on a point on kinks counts as
a false alarm only when it does not lie on the kink entries alone.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
META = ROOT / "tests" / "meta"


def _bench():
    spec = importlib.util.spec_from_file_location(
        "checkerbench", ROOT / "scripts" / "checkerbench.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


cb = _bench()
SUBSET = ["softmax/dW_times_1001", "softmax/ordinary", "two_layer/kinks", "hinge/kinks"]
BUDGET = (20_000, 60.0)


@pytest.fixture(scope="module")
def cases():
    return cb.catalog(META, large=False)


def _pick(cases, names):
    by_name = {c.name: c for c in cases}
    return [by_name[n] for n in names]


def test_catalog_holds_every_wrong_derivation_and_the_hard_cases(cases):
    wrong = cb._load(META / "wrong_gradients.py")
    two = cb._load(META / "test_two_layer_mutants.py")
    names = [c.name for c in cases]
    assert len(set(names)) == len(names)
    bugs = {c.name for c in cases if c.kind == "bug"}
    assert {f"softmax/{n}" for n in wrong.CATALOG} <= bugs
    assert {f"two_layer/{n}" for n in two.MUTATIONS} <= bugs
    hard = {c.name.split("/")[1] for c in cases if c.kind == "hard"}
    assert {"float32", "extreme_logits", "near_optimum", "tiny_probabilities", "kinks"} <= hard
    assert sum(c.consistent for c in cases) >= 4
    for name in cb.WORKED:
        assert f"{name}/planted_bug" in bugs
        assert f"{name}/correct" in {c.name for c in cases if c.kind == "hard"}
    on_kinks = {c.name for c in cases if c.on_kinks}
    assert on_kinks == {"two_layer/kinks", "two_layer/kinks_square", "hinge/kinks"}
    assert all(c.kind == "hard" for c in cases if c.on_kinks)


@pytest.mark.parametrize("name", list(cb.WORKED))
def test_worked_losses_are_the_examples_own_code(cases, name):
    # imported from docs/examples/losses/, not copied: the functions' code is the file's
    source = ROOT / "docs" / "examples" / "losses" / f"{name}.py"
    by_name = {c.name: c for c in cases}
    bug, correct = by_name[f"{name}/planted_bug"], by_name[f"{name}/correct"]
    for case, function in ((bug, "analytic_wrong"), (correct, "analytic")):
        assert case.model == "loss"
        assert case.analytic.__name__ == function
        assert Path(case.analytic.__code__.co_filename) == source
        assert Path(case.oracle.__code__.co_filename) == source
        assert not case.consistent  # the planted bugs leave the loss right
    # the flat form is the example's analytic at its point(0)
    module = cb._load(source)
    params, data = module.point(0)
    x0, f, g = correct.flat()
    loss, grads = module.analytic(params, data)
    assert f(x0) == loss
    assert g(x0).tolist() == [*grads["W"].ravel(), *grads["b"].ravel()]


def test_near_optimum_case_sits_at_a_stationary_point(cases):
    (case,) = _pick(cases, ["softmax/near_optimum"])
    x0, f, g = case.flat()
    # the gradient is tiny against its terms (size ~1), which is what makes the case hard
    assert abs(g(x0)).max() < 1e-8
    assert math.isfinite(f(x0))


def test_flat_form_matches_the_users_code(cases):
    (case,) = _pick(cases, ["softmax/ordinary"])
    x0, f, g = case.flat()
    loss, grads = case.user(case.params)
    assert f(x0) == loss
    assert g(x0).tolist() == [*grads["W"].ravel(), *grads["b"].ravel()]
    # the flat functions copy their input: a peer perturbing it in place changes no parameter
    before = x0.copy()
    f(x0)
    assert (x0 == before).all()


def test_our_check_on_the_subset(cases):
    names = [*SUBSET, "hinge/planted_bug", "hinge/correct"]
    rows = cb.run(
        _pick(cases, names), ["ours full", "ours directional"], BUDGET, log=lambda s: None
    )
    scores = {(r["case"], r["checker"]): r["score"] for r in rows}
    for checker in ("ours full", "ours directional"):
        assert scores[("softmax/dW_times_1001", checker)] == "caught"
        assert scores[("hinge/planted_bug", checker)] == "caught"
        assert scores[("softmax/ordinary", checker)] == "ok"
        assert scores[("hinge/correct", checker)] == "ok"
        assert scores[("two_layer/kinks", checker)] == "ok"
        assert scores[("hinge/kinks", checker)] == "ok"


def test_kink_entries_are_the_entries_on_kinks(cases):
    hinge, relu, smooth = _pick(cases, ["hinge/kinks", "two_layer/kinks", "hinge/correct"])
    # the hinge's kink point: every margin of both samples 0, each entry moves one
    assert cb.kink_entries(hinge).all()
    # two-layer: kinks in W1 and b1 (a pre-activation at 0), none in W2 and b2
    kinks = cb.kink_entries(relu)
    sizes = {k: v.size for k, v in relu.params.items()}
    layer1 = sizes["W1"] + sizes["b1"]
    assert list(relu.params)[:2] == ["W1", "b1"]
    assert kinks[:layer1].any()
    assert not kinks[layer1:].any()
    # margins away from 0: no kink
    assert not cb.kink_entries(smooth).any()


def test_held_entries_stay_at_their_values(cases):
    (case,) = _pick(cases, ["two_layer/kinks"])
    x0, f, g = case.flat()
    free = np.arange(x0.size) % 3 != 0
    held = cb.replace(case, free=free)
    z0, fz, gz = held.flat()
    assert held.n_params == free.sum() == z0.size
    assert (z0 == x0[free]).all()
    assert fz(z0) == f(x0)
    assert (gz(z0) == g(x0)[free]).all()
    z = z0 + 0.01
    x = x0.copy()
    x[free] = z
    assert fz(z) == f(x)


def _central_difference_checker(seen):
    """A peer that compares g with central differences entry by entry, tightly."""

    def check(case, budget):
        x0, f, g = case.flat()
        seen.append(case.n_params)
        h = 1e-6
        cd = np.array([(f(x0 + h * e) - f(x0 - h * e)) / (2 * h) for e in np.eye(x0.size)])
        ok = np.all(np.abs(g(x0) - cd) <= 1e-6 * (1 + np.abs(cd)))
        return cb.Outcome("pass" if ok else "fail", 2 * x0.size, 0.0)

    return check


def test_a_failure_on_the_kinks_alone_is_not_a_false_alarm(cases, monkeypatch):
    # Meta-test of the kink rule: a central-difference peer fails every point on kinks
    # (it measures the mean of the one-sided slopes) and passes with the kink entries
    # held, so it failed at a kink; a peer that fails whatever it is given fails again
    # with them held, a false alarm; off the kinks every failure is a false alarm.
    seen: list[int] = []
    monkeypatch.setitem(cb.CHECKERS, "cd", ("", _central_difference_checker(seen)))
    monkeypatch.setitem(cb.CHECKERS, "always fail", ("", lambda c, b: cb.Outcome("fail", 1, 0.0)))
    subset = _pick(cases, ["two_layer/kinks", "hinge/kinks", "softmax/ordinary"])
    rows = cb.run(subset, ["cd", "always fail"], BUDGET, log=lambda s: None)
    scores = {(r["case"], r["checker"]): r["score"] for r in rows}
    assert scores[("two_layer/kinks", "cd")] == "kink"
    assert scores[("hinge/kinks", "cd")] == "kink"  # every entry a kink: no rerun
    assert scores[("softmax/ordinary", "cd")] == "ok"
    assert scores[("two_layer/kinks", "always fail")] == "ALARM"
    assert scores[("hinge/kinks", "always fail")] == "kink"
    assert scores[("softmax/ordinary", "always fail")] == "ALARM"
    # the rerun saw the two-layer problem with its kink entries held
    relu = subset[0]
    assert seen == [relu.n_params, relu.n_params - int(cb.kink_entries(relu).sum()), 9, 16]
    # and an ALARM stays an ALARM for a case not on kinks, whatever entries FD calls kinks
    (smooth,) = _pick(cases, ["softmax/ordinary"])
    assert cb.at_a_kink(smooth, "cd", np.zeros(smooth.n_params, bool), BUDGET)[0] == "ALARM"


@pytest.mark.parametrize("checker", [n for n in cb.CHECKERS if not n.startswith("ours")])
def test_peer_runs_on_the_subset(cases, checker):
    ok, why = cb.available(checker)
    if not ok:
        pytest.skip(why)
    rows = cb.run(_pick(cases, SUBSET), [checker], BUDGET, log=lambda s: None)
    assert {r["verdict"] for r in rows} <= {"pass", "fail"}, rows
    scores = {r["case"]: r["score"] for r in rows}
    if checker.startswith("gradcheck"):
        # PyTorch issue 114234: relu'(0) = 0 against a central difference of 1/2, on the
        # kink entries alone (it passes with them held)
        assert scores["two_layer/kinks"] == "kink"
    if checker == "gradcheck":
        # the defaults (atol 1e-5, rtol 1e-3) admit a gradient 0.1 % too large
        assert scores["softmax/dW_times_1001"] == "MISSED"


def test_totals_count_misses_and_alarms(cases, monkeypatch):
    # Meta-test of the scoring: a checker that passes everything misses every bug and
    # raises no alarm; one that fails everything catches every bug and alarms on every
    # hard case.
    subset = _pick(cases, SUBSET)
    monkeypatch.setitem(cb.CHECKERS, "always pass", ("", lambda c, b: cb.Outcome("pass", 1, 0.0)))
    monkeypatch.setitem(cb.CHECKERS, "always fail", ("", lambda c, b: cb.Outcome("fail", 1, 0.0)))
    rows = cb.run(subset, ["always pass", "always fail"], BUDGET, log=lambda s: None)
    tot = {t["checker"]: t for t in cb.totals(rows, ["always pass", "always fail"])}
    assert (tot["always pass"]["missed"], tot["always pass"]["alarms"]) == (1, 0)
    assert (tot["always fail"]["missed"], tot["always fail"]["alarms"]) == (0, 2)
    # hinge/kinks: every entry a kink, so failing it is failing at a kink
    assert (tot["always pass"]["kinks"], tot["always fail"]["kinks"]) == (0, 1)
    table = cb.totals_table(list(tot.values()))
    assert "| always pass |  | 1 of 1 (0 consistent) | 0 of 3 | 0 of 2 | 0 |" in table
    assert "| always fail |  | 0 of 1 (0 consistent) | 2 of 3 | 1 of 2 | 0 |" in table


def test_over_budget_is_neither_a_catch_nor_a_pass(cases):
    (case,) = _pick(cases, ["softmax/ordinary"])
    out = cb.run_check_grad(case, (3, 60.0), careful=False)
    assert out.verdict == "over budget"
    rows = cb.run([case], ["ours full"], (10, 60.0), log=lambda s: None)
    assert rows[0]["score"] == "budget"
