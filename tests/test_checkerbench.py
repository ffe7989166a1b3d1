"""The checker comparison's catalog logic (scripts/checkerbench.py), on a tiny subset.

The full run (`make checkerbench`) needs the peers (PyTorch, numdifftools) and minutes;
here the catalog is built, scored and totalled on three small cases. A peer that is not
installed is skipped, with the reason.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

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
SUBSET = ["softmax/dW_times_1001", "softmax/ordinary", "two_layer/kinks"]
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
    rows = cb.run(
        _pick(cases, SUBSET), ["ours full", "ours directional"], BUDGET, log=lambda s: None
    )
    scores = {(r["case"], r["checker"]): r["score"] for r in rows}
    for checker in ("ours full", "ours directional"):
        assert scores[("softmax/dW_times_1001", checker)] == "caught"
        assert scores[("softmax/ordinary", checker)] == "ok"
        assert scores[("two_layer/kinks", checker)] == "ok"


@pytest.mark.parametrize("checker", [n for n in cb.CHECKERS if not n.startswith("ours")])
def test_peer_runs_on_the_subset(cases, checker):
    ok, why = cb.available(checker)
    if not ok:
        pytest.skip(why)
    rows = cb.run(_pick(cases, SUBSET), [checker], BUDGET, log=lambda s: None)
    assert {r["verdict"] for r in rows} <= {"pass", "fail"}, rows
    scores = {r["case"]: r["score"] for r in rows}
    if checker.startswith("gradcheck"):
        # PyTorch issue 114234: relu'(0) = 0 against a central difference of 1/2
        assert scores["two_layer/kinks"] == "ALARM"
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
    table = cb.totals_table(list(tot.values()))
    assert "| always pass |  | 1 of 1 (0 consistent) | 0 of 2 |" in table


def test_over_budget_is_neither_a_catch_nor_a_pass(cases):
    (case,) = _pick(cases, ["softmax/ordinary"])
    out = cb.run_check_grad(case, (3, 60.0), careful=False)
    assert out.verdict == "over budget"
    rows = cb.run([case], ["ours full"], (10, 60.0), log=lambda s: None)
    assert rows[0]["score"] == "budget"
