"""The three-way check: verdicts, the two-of-three diagnosis, the report, the modes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import softmax_ref as sr
from verification import Report, check, check_softmax
from verification.models import softmax_scales

ROOT = Path(__file__).resolve().parents[1]

# --- a generic model with a closed-form gradient --------------------------------

TARGET = np.array([1.0, -2.0, 0.5])
WEIGHT = np.array([1.0, 3.0, 0.25])


def quad_loss(p):
    return float(np.sum(WEIGHT * (p["w"] - TARGET) ** 2) + np.sum(p["v"] ** 2))


def quad(p):
    """f = sum c (w - t)^2 + sum v^2: the right answer, used as analytic or oracle."""
    return quad_loss(p), {"w": 2 * WEIGHT * (p["w"] - TARGET), "v": 2 * p["v"]}


def scaled(factor, key="w", loss_shift=0.0):
    def fn(p):
        loss, g = quad(p)
        g = dict(g)
        g[key] = g[key] * factor
        return loss + loss_shift, g

    return fn


PARAMS = {"w": np.array([0.3, 0.7, -1.1]), "v": np.array([[0.5, -0.25], [1.5, 2.0]])}


def softmax_problem(seed=0, n=8, d=3, c=4, scale=1.0, reg=0.2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    W = rng.normal(scale=scale, size=(d, c))
    b = rng.normal(scale=scale, size=c)
    y = rng.integers(0, c, size=n)
    return W, b, X, y, reg


def scaled_softmax(factor):
    def fn(W, b, X, y, reg):
        L, dW, db = sr.loss_and_grad(W, b, X, y, reg)
        return L, dW * factor, db

    return fn


# --- catching and passing ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["full", "sampled", "directional"])
def test_gradient_wrong_by_a_factor_1001_fails(mode):
    r = check_softmax(*softmax_problem(), analytic=scaled_softmax(1.001), mode=mode)
    assert not r.ok
    assert r.blame == "ANALYTIC"
    assert r.diagnosis.startswith("ANALYTIC disagrees with JAX and FD, which agree: dW[")


def test_gradcheck_style_threshold_would_pass_it():
    # The peer weakness the check exists to avoid: torch.autograd.gradcheck's default
    # |a - n| <= atol + rtol |n| with atol 1e-5, rtol 1e-3 accepts the 1.001 gradient.
    W, b, X, y, reg = softmax_problem()
    _, dW, _ = sr.loss_and_grad(W, b, X, y, reg)
    assert np.allclose(1.001 * dW, dW, rtol=1e-3, atol=1e-5)
    assert not check_softmax(W, b, X, y, reg, analytic=scaled_softmax(1.001)).ok


@pytest.mark.parametrize("label", [0, 1])
def test_correct_gradient_at_scores_9_0_passes(label):
    # Scores [[9, 0]]: with label 0 the gradient is tiny (1 - P_0 = 1.2e-4) and a
    # fixed relative threshold on an h = 1e-5 difference is at the mercy of round-off.
    W, b, X, y = np.array([[9.0, 0.0]]), np.zeros(2), np.array([[1.0]]), np.array([label])
    r = check_softmax(W, b, X, y, analytic=sr.loss_and_grad)
    assert r.ok, str(r)
    assert {c.verdict for c in r.comparisons} == {"pass"}, str(r)


def test_extreme_and_tied_logits_pass():
    for scale in (1e3, 1e5):
        assert check_softmax(*softmax_problem(seed=3, scale=scale), analytic=sr.loss_and_grad).ok
    W, b, X, y, reg = softmax_problem(seed=4)
    W[:, 1], b[1] = W[:, 0], b[0]  # classes 0 and 1 tie exactly on every sample
    assert check_softmax(W, b, X, y, reg, analytic=sr.loss_and_grad).ok


@pytest.mark.parametrize("seed", range(5))
def test_correct_softmax_passes_for_any_seed(seed):
    rng = np.random.default_rng(seed)
    n, d, c = (int(v) for v in rng.integers([1, 1, 2], [30, 8, 8]))
    r = check_softmax(
        *softmax_problem(seed, n, d, c, reg=float(rng.uniform(0, 2))), analytic=sr.loss_and_grad
    )
    assert r.ok, str(r)
    assert r.blame is None


# --- the two-of-three diagnosis ---------------------------------------------------


def test_blames_jax_when_the_oracle_is_wrong():
    r = check(quad, scaled(1.01), PARAMS, fd_function=quad_loss)
    assert (r.ok, r.blame) == (False, "JAX")
    assert r.diagnosis.startswith("JAX disagrees with ANALYTIC and FD, which agree: dw[")


def test_blames_fd_when_its_function_is_wrong():
    r = check(quad, quad, PARAMS, fd_function=lambda p: 1.01 * quad_loss(p))
    assert (r.ok, r.blame) == (False, "FD")
    assert r.diagnosis.startswith("FD disagrees with ANALYTIC and JAX, which agree")


def test_no_majority_blames_nobody():
    r = check(scaled(1.01), scaled(1.02), PARAMS, fd_function=lambda p: 1.03 * quad_loss(p))
    assert (r.ok, r.blame) == (False, None)
    assert r.diagnosis.startswith("all three disagree")


def test_tiny_error_below_fd_resolution_is_still_blamed_on_analytic():
    # An error of 1e-8 relative: ANALYTIC vs JAX sees it; FD, told that f is a small
    # difference of terms of size 1e6, has a bound around 1e-5 and cannot.
    r = check(scaled(1 + 1e-8), quad, PARAMS, loss_scale=1e6)
    assert (r.ok, r.blame) == (False, "ANALYTIC")
    assert "too coarse to tell them apart" in r.diagnosis
    verdicts = {(c.quantity, c.pair): c.verdict for c in r.comparisons}
    assert verdicts[("dw", ("ANALYTIC", "JAX"))] == "fail"
    assert verdicts[("dw", ("ANALYTIC", "FD"))] == "pass"


def test_a_wrong_loss_value_alone_is_caught():
    r = check(scaled(1.0, loss_shift=1e-6), quad, PARAMS)
    assert (r.ok, r.blame) == (False, "ANALYTIC")
    assert r.diagnosis.endswith(": loss")


def test_nan_in_the_analytic_gradient_fails():
    def nan_grad(p):
        loss, g = quad(p)
        return loss, {"w": g["w"], "v": np.full_like(g["v"], np.nan)}

    r = check(nan_grad, quad, PARAMS)
    assert (r.ok, r.blame) == (False, "ANALYTIC")
    assert "dv[" in r.diagnosis


def test_kinks_are_reported_not_failed():
    relu_params = {"w": np.array([0.0, 1.5, -2.0])}

    def relu(p):  # f = sum max(w, 0); at w = 0 both sides use the subgradient 0
        return float(np.maximum(p["w"], 0).sum()), {"w": (p["w"] > 0).astype(float)}

    r = check(relu, relu, relu_params)
    assert r.ok
    fd = next(c for c in r.comparisons if c.pair == ("ANALYTIC", "FD"))
    assert (fd.verdict, fd.n_kinks) == ("kink", 1)
    assert "kink" in r.diagnosis


# --- tolerances -------------------------------------------------------------------


def test_tolerance_is_not_scaled_by_the_number_of_entries():
    # The same error on entry 0 of a 3-entry and of a 3000-entry parameter meets
    # the same bound: nothing in the check multiplies by the size.
    def model(size):
        t = np.zeros(size)

        def oracle(p):
            return float(np.sum((p["w"] - t) ** 2)), {"w": 2 * (p["w"] - t)}

        def wrong(p):
            loss, g = oracle(p)
            g = dict(g)
            g["w"] = g["w"].copy()
            g["w"][0] *= 1 + 1e-9
            return loss, g

        w = np.ones(size)
        return wrong, oracle, {"w": w}

    bounds = []
    for size in (3, 3000):
        wrong, oracle, params = model(size)
        r = check(wrong, oracle, params, mode="directional", scales={"w": 1.0})
        aj = next(c for c in r.comparisons if c.quantity == "dw" and c.pair[1] == "JAX")
        assert (aj.verdict, aj.worst_index) == ("fail", (0,))
        bounds.append(aj.bound)
    assert bounds[0] == bounds[1]


def test_float32_problems_are_checked_against_the_float64_truth():
    W, b, X, y, reg = (
        a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
        for a in softmax_problem(seed=6)
    )
    r = check_softmax(W, b, X, y, reg, analytic=sr.loss_and_grad)
    assert r.ok, str(r)
    assert r.dtype == "float32"
    bad = check_softmax(W, b, X, y, reg, analytic=scaled_softmax(np.float32(1.001)))
    assert (bad.ok, bad.blame) == (False, "ANALYTIC")


def test_softmax_scales_follow_the_math():
    # X = [[2, 0]], W = 0, b = [1, -3], y = [0]: |F| = |X||W| + |b| = [1, 3], kappa = 3,
    # 1 + 2 kappa = 7. The label wins by 4: |P - Y| = [q, q], q = e^-4 / (1 + e^-4), so
    # S_W = |X|^T 7 |P - Y| / N + reg |W| = [[14 q, 14 q], [0, 0]]; S_b = 7 q;
    # loss scale = log1p(e^-4) + 7 (2 q); steps: 1/max|X_d| = 1/2 for d = 0, max(1, |W|) = 1.
    W, b, X = np.zeros((2, 2)), np.array([1.0, -3.0]), np.array([[2.0, 0.0]])
    scales, loss_scale, steps, underflow = softmax_scales(W, b, X, np.array([0]), 0.5, tiny=1.0)
    q = np.exp(-4.0) / (1 + np.exp(-4.0))
    np.testing.assert_allclose(scales["W"], [[14 * q, 14 * q], [0.0, 0.0]], rtol=1e-15)
    np.testing.assert_allclose(scales["b"], [7 * q, 7 * q], rtol=1e-15)
    assert loss_scale == pytest.approx(np.log1p(np.exp(-4.0)) + 14 * q, rel=1e-15)
    np.testing.assert_array_equal(steps["W"], [[0.5, 0.5], [1.0, 1.0]])
    # underflow floors in units of tiny: D = 2, max|X| = 2, max|W| = 0, so the
    # spread 2 D (x + w + 1) = 12; dW: 1 + reg + 12 x = 25.5; db: 13; loss: 2 + 12 + 0.
    assert underflow == {"W": 25.5, "b": 13.0, "loss": 14.0}


# Problems on the edge of the float range, found by the property suite
# (tests/test_properties.py): XLA flushes subnormals to zero, float32 underflows.
EDGE_PROBLEMS = {
    # dW = X (P - Y) = -X / 2 is subnormal: JAX returns 0.
    "subnormal_gradient": (
        np.zeros((1, 2)),
        np.zeros(2),
        np.array([[2.2250738585072014e-308]]),
        np.array([0]),
        0.0,
    ),
    # dW = reg W = 4.9e-323 with W the smallest subnormal: JAX reads W as 0.
    "subnormal_weight": (
        np.array([[5e-324, 0.0]]),
        np.zeros(2),
        np.zeros((1, 1)),
        np.array([0]),
        10.0,
    ),
    # a subnormal X once made the FD step 1 / max|X| overflow.
    "subnormal_input": (
        np.zeros((1, 2)),
        np.array([3000.0, 0.0]),
        np.array([[5e-324]]),
        np.array([0]),
        0.0,
    ),
    # reg = tiny: reg W = 2 tiny is normal, but JAX forms reg / 2 (subnormal,
    # flushed) before multiplying by 2 W and returns 0.
    "subnormal_half_reg": (
        np.array([[2.0, 0.0]]),
        np.zeros(2),
        np.array([[0.0]]),
        np.array([0]),
        2.2250738585072014e-308,
    ),
    # reg W = 1e-100 underflows to 0 in float32; the float64 oracle keeps it.
    "float32_underflow": (
        np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]], dtype=np.float32),
        np.zeros(4, dtype=np.float32),
        np.zeros((1, 2), dtype=np.float32),
        np.array([0]),
        1e-100,
    ),
}


@pytest.mark.parametrize("name", sorted(EDGE_PROBLEMS))
def test_underflow_to_zero_is_not_a_failure(name):
    r = check_softmax(*EDGE_PROBLEMS[name], analytic=sr.loss_and_grad)
    assert r.ok, str(r)


def test_underflow_floor_does_not_hide_a_wrong_gradient():
    # The floor is ~1e-307 for ordinary problems: a 1e-6 relative error still fails.
    def off(W, b, X, y, reg):
        L, dW, db = sr.loss_and_grad(W, b, X, y, reg)
        return L, dW * (1 + 1e-6), db

    assert not check_softmax(*softmax_problem(), analytic=off).ok


# --- modes and counts -------------------------------------------------------------


def test_sampled_mode_covers_every_parameter_and_counts_evaluations():
    W, b, X, y, reg = softmax_problem(n=10, d=6, c=5)
    r = check_softmax(
        W, b, X, y, reg, mode="sampled", n_coords=4, seed=3, analytic=sr.loss_and_grad
    )
    assert r.ok
    assert r.n_function_evals == 1 + 6 * 4
    fd_rows = [c for c in r.comparisons if c.pair == ("ANALYTIC", "FD")]
    assert {c.quantity for c in fd_rows} == {"dW", "db"}
    assert all(c.n_compared >= 1 for c in fd_rows)
    assert sum(c.n_compared for c in fd_rows) == 4
    aj = [c for c in r.comparisons if c.pair == ("ANALYTIC", "JAX") and c.quantity != "loss"]
    assert sum(c.n_compared for c in aj) == W.size + b.size  # always every entry


@pytest.mark.parametrize("shape", [(5, 2, 3), (40, 30, 20)])
def test_directional_cost_is_independent_of_the_number_of_parameters(shape):
    r = check_softmax(
        *softmax_problem(1, *shape), mode="directional", n_directions=3, analytic=sr.loss_and_grad
    )
    assert r.ok, str(r)
    assert r.n_function_evals == 1 + 6 * 3


def test_full_mode_counts_six_evaluations_per_entry_plus_one():
    W, b, X, y, reg = softmax_problem(n=5, d=2, c=3)
    assert check_softmax(W, b, X, y, reg, analytic=sr.loss_and_grad).n_function_evals == 1 + 6 * (
        W.size + b.size
    )


def test_seeds_make_sampled_and_directional_checks_reproducible():
    prob = softmax_problem(n=10, d=6, c=5)
    for mode in ("sampled", "directional"):
        r1 = check_softmax(*prob, mode=mode, seed=5, analytic=sr.loss_and_grad).to_dict()
        r2 = check_softmax(*prob, mode=mode, seed=5, analytic=sr.loss_and_grad).to_dict()
        assert r1 == r2


# --- the report -------------------------------------------------------------------


def test_report_table_json_and_assert_ok():
    W, b, X, y, reg = softmax_problem()
    bad = check_softmax(W, b, X, y, reg, analytic=scaled_softmax(1.001))
    text = str(bad)
    for label in ("ANALYTIC", "JAX", "FD", "FAIL", "dW[", "bound", "max rel err"):
        assert label in text
    assert bad.diagnosis in text
    doc = json.loads(bad.to_json())
    assert doc["ok"] is False
    assert doc["blame"] == "ANALYTIC"
    assert {tuple(c["pair"]) for c in doc["comparisons"]} == {
        ("ANALYTIC", "JAX"),
        ("ANALYTIC", "FD"),
        ("JAX", "FD"),
    }
    json.dumps(bad.to_dict(), allow_nan=False)
    with pytest.raises(AssertionError) as excinfo:
        bad.assert_ok()
    assert str(excinfo.value).strip() == text.strip()
    good = check_softmax(W, b, X, y, reg, analytic=sr.loss_and_grad)
    assert isinstance(good, Report)
    good.assert_ok()


def test_worst_entry_names_the_wrong_entry():
    def one_entry(W, b, X, y, reg):
        L, dW, db = sr.loss_and_grad(W, b, X, y, reg)
        dW = dW.copy()
        dW[2, 1] += 1e-3
        return L, dW, db

    r = check_softmax(*softmax_problem(), analytic=one_entry)
    assert r.diagnosis == "ANALYTIC disagrees with JAX and FD, which agree: dW[2, 1]"
    aj = next(c for c in r.comparisons if c.quantity == "dW" and c.pair[1] == "JAX")
    assert aj.worst_index == (2, 1)
    assert aj.n_failed == 1
    assert aj.values["ANALYTIC"] - aj.values["JAX"] == pytest.approx(1e-3, rel=1e-9)


def test_json_encodes_non_finite_values_as_strings():
    def inf_loss(p):
        return np.inf, quad(p)[1]

    r = check(inf_loss, quad, PARAMS)
    doc = json.loads(r.to_json())
    loss = next(c for c in doc["comparisons"] if c["quantity"] == "loss")
    assert loss["values"]["ANALYTIC"] == "Infinity"
    assert loss["verdict"] == "fail"


# --- inputs -----------------------------------------------------------------------


def test_params_are_never_modified_even_by_a_mutating_analytic():
    params = {k: v.copy() for k, v in PARAMS.items()}

    def vandal(p):
        out = quad(p)
        for v in p.values():
            v += 100.0
        return out

    r = check(vandal, quad, params)
    assert r.ok
    for k in PARAMS:
        np.testing.assert_array_equal(params[k], PARAMS[k])


def test_bad_gradients_and_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match=r"analytic returned grads\['w'\] of shape \(1, 3\)"):
        check(lambda p: (0.0, {"w": np.zeros((1, 3)), "v": p["v"]}), quad, PARAMS)
    with pytest.raises(ValueError, match="analytic returned gradients for"):
        check(lambda p: (0.0, {"w": p["w"]}), quad, PARAMS)
    with pytest.raises(TypeError, match="must return a real scalar loss"):
        check(lambda p: (np.zeros(2), quad(p)[1]), quad, PARAMS)
    with pytest.raises(ValueError, match="mode must be one of"):
        check(quad, quad, PARAMS, mode="fast")
    with pytest.raises(ValueError, match=r"params\['w'\] must be finite"):
        check(quad, quad, {"w": np.array([np.nan, 0, 0]), "v": PARAMS["v"]})
    with pytest.raises(TypeError, match="must return \\(loss, dW, db\\)"):
        check_softmax(*softmax_problem(), analytic=lambda W, b, X, y, reg: (0.0, W))


def test_blog_post_shaped_db_is_a_clear_error():
    def blog(W, b, X, y, reg):
        L, dW, db = sr.loss_and_grad(W, b, X, y, reg)
        return L, dW, db[None, :]  # the post's db of shape (1, C)

    with pytest.raises(ValueError, match=r"grads\['b'\] of shape \(1, 4\); expected \(4,\)"):
        check_softmax(*softmax_problem(), analytic=blog)


# --- the package boundary -----------------------------------------------------------


_BOUNDARY_PROBE = """
import sys
import numpy as np
{preamble}
import verification, verification.cli, verification.compare, verification.models
import verification.report, verification.strategies, verification.tolerances

def mine(W, b, X, y, reg):
    F = X @ W + b
    P = np.exp(F - F.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    G = P.copy()
    G[np.arange(len(y)), y] -= 1
    G /= len(y)
    L = -np.mean(np.log(P[np.arange(len(y)), y])) + 0.5 * reg * np.sum(W * W)
    return L, X.T @ G + reg * W, G.sum(axis=0)

rng = np.random.default_rng(0)
W, b, X = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(5, 3))
report = verification.check_softmax(W, b, X, np.array([0, 1, 2, 3, 0]), 0.1, analytic=mine)
print(report.ok, sorted(m for m in sys.modules if m.split(".")[0] == "softmax_ref"))
"""


def _boundary_probe(preamble: str = "") -> list[str]:
    code = _BOUNDARY_PROBE.format(preamble=preamble)
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return run.stdout.strip().split(maxsplit=1)


def test_verification_runs_without_importing_softmax_ref():
    # The arrows run one way: a check of a NumPy gradient written here, through
    # every public module of verification, must not load softmax_ref.
    assert _boundary_probe() == ["True", "[]"]
    # The probe sees an import of softmax_ref when there is one.
    ok, loaded = _boundary_probe("import softmax_ref")
    assert ok == "True"
    assert "'softmax_ref'" in loaded


def test_the_model_checks_need_the_analytic_function():
    W, b, X, y, reg = softmax_problem()
    with pytest.raises(TypeError, match="analytic"):
        check_softmax(W, b, X, y, reg)


def test_the_softmax_check_keeps_its_old_import_path():
    import verification.compare as old_place
    import verification.models as models

    assert old_place.check_softmax is models.check_softmax
    assert old_place.softmax_scales is models.softmax_scales
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = old_place.no_such_name
