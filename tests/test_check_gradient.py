"""check_gradient: a user's own loss, checked without false alarms or false blame.

The losses here are not in the project: weighted logistic regression (at an
ordinary point and at its optimum) and a weighted least squares. Each wrong
gradient is shown to fail with ANALYTIC blamed; each correct one to pass,
including the cases that used to be blamed wrongly: a float32 oracle, a point
where the gradient is far smaller than its terms.
"""

from __future__ import annotations

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from verification import check, check_gradient, check_softmax
from verification.oracle import float64_scope
from verification.report import failure_pattern
from verification.user_oracle import user_loss


def logistic_loss(p, d):
    z = d["X"] @ p["w"] + p["b"]
    return jnp.sum(d["s"] * (jnp.logaddexp(0.0, z) - d["y"] * z)) / jnp.sum(d["s"])


def logistic_grad(p, d, *, factor=1.0, weights=True):
    """The weighted mean of logistic losses and its gradient, by hand."""
    z = d["X"] @ p["w"] + p["b"]
    q = 1.0 / (1.0 + np.exp(-z))
    s = d["s"] if weights else np.ones_like(d["s"])
    total = d["s"].sum()
    loss = np.sum(d["s"] * (np.logaddexp(0.0, z) - d["y"] * z)) / total
    r = s * (q - d["y"]) / total
    return loss, {"w": factor * (d["X"].T @ r), "b": np.asarray(r.sum())}


def logistic_problem(seed, n=200, dim=6):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, dim))
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-X[:, 0]))).astype(float)
    return {"X": X, "y": y, "s": rng.uniform(0.5, 2.0, size=n)}


def logistic_optimum(d, iters=40, offset=1e-9):
    """Newton's method to the minimum, then moved off it by ``offset`` per entry.

    At the minimum itself the gradient is pure rounding (1e-17), where a
    factor of 1.001 changes nothing measurable; ``offset`` leaves a gradient
    of about 1e-10, as an optimiser's stopping rule does, still far below
    its terms (about 0.5 / N each).
    """
    Xb = np.hstack([d["X"], np.ones((len(d["y"]), 1))])
    theta = np.zeros(Xb.shape[1])
    total = d["s"].sum()
    for _ in range(iters):
        q = 1.0 / (1.0 + np.exp(-(Xb @ theta)))
        g = Xb.T @ (d["s"] * (q - d["y"])) / total
        H = (Xb * (d["s"] * q * (1 - q))[:, None]).T @ Xb / total
        theta -= np.linalg.solve(H, g)
    theta += offset * np.random.default_rng(len(theta)).uniform(-1, 1, theta.size)
    return {"w": theta[:-1], "b": np.asarray(theta[-1])}


@pytest.fixture(scope="module")
def at_optimum():
    d = logistic_problem(0)
    p = logistic_optimum(d)
    _, g = logistic_grad(p, d)
    # The case: a gradient many orders below its terms (each about 0.5 / N).
    largest = max(np.abs(g["w"]).max(), abs(float(g["b"])))
    assert 1e-12 < largest < 1e-9
    return p, d


# --- JAX's process-wide settings ----------------------------------------------------


def test_process_precision_is_unchanged_by_check_gradient_and_check_softmax():
    before = (jax.config.read("jax_enable_x64"), jnp.ones(2).dtype)
    d = logistic_problem(1, n=20, dim=3)
    p = {"w": np.full(3, 0.1), "b": np.asarray(0.2)}
    assert check_gradient(logistic_grad, logistic_loss, p, d).ok
    rng = np.random.default_rng(0)
    W, b, X = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(6, 3))
    y = np.arange(6) % 4

    def mine(W, b, X, y, reg):
        from verification.oracle import loss_and_grad

        return loss_and_grad(W, b, X, y, reg)

    check_softmax(W, b, X, y, 0.1, analytic=mine)
    assert (jax.config.read("jax_enable_x64"), jnp.ones(2).dtype) == before


def test_the_precision_probe_sees_a_switch_left_on():
    # Meta-test: the comparison above fails when x64 is switched for the process.
    before = jnp.ones(2).dtype
    was = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", not was)
    try:
        assert jnp.ones(2).dtype != before
    finally:
        jax.config.update("jax_enable_x64", was)
    assert jnp.ones(2).dtype == before


def test_importing_and_using_the_oracle_leaves_a_fresh_process_in_float32():
    code = (
        "import numpy as np, jax.numpy as jnp\n"
        "from verification import oracle\n"
        "print(jnp.ones(2).dtype)\n"
        "oracle.loss_and_grad(np.zeros((1, 2)), np.zeros(2), np.ones((1, 1)), [0])\n"
        "print(jnp.ones(2).dtype)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["float32", "float32"]


def test_the_oracle_is_compiled_once_per_shape():
    d = logistic_problem(2, n=30, dim=4)
    p = {"w": np.zeros(4), "b": np.asarray(0.0)}
    check_gradient(logistic_grad, logistic_loss, p, d)
    compiled = user_loss(logistic_loss)
    sizes = (compiled._value_and_grad._cache_size(), compiled._batch._cache_size())
    check_gradient(logistic_grad, logistic_loss, {"w": np.ones(4), "b": np.asarray(1.0)}, d)
    assert (compiled._value_and_grad._cache_size(), compiled._batch._cache_size()) == sizes


# --- ordinary points ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_correct_gradient_passes(dtype):
    d = logistic_problem(3, n=40, dim=5)
    rng = np.random.default_rng(3)
    p = {"w": rng.normal(size=5).astype(dtype), "b": np.asarray(0.3, dtype=dtype)}
    r = check_gradient(logistic_grad, logistic_loss, p, d)
    assert r.ok, str(r)
    assert r.blame is None
    assert r.dtype == np.dtype(dtype).name


@pytest.mark.parametrize(
    ("wrong", "quantity"),
    [
        (lambda p, d: logistic_grad(p, d, factor=1.001), "dw"),
        (lambda p, d: logistic_grad(p, d, weights=False), "dw"),
    ],
)
@pytest.mark.parametrize("mode", ["full", "sampled", "directional"])
def test_a_wrong_gradient_fails_and_is_blamed_on_analytic(wrong, quantity, mode):
    d = logistic_problem(4, n=40, dim=5)
    rng = np.random.default_rng(4)
    p = {"w": rng.normal(size=5), "b": np.asarray(-0.2)}
    r = check_gradient(wrong, logistic_loss, p, d, mode=mode)
    assert (r.ok, r.blame) == (False, "ANALYTIC"), str(r)
    assert quantity in r.diagnosis


def test_a_factor_1001_is_seen_by_the_taylor_test():
    d = logistic_problem(5, n=40, dim=5)
    p = {"w": np.linspace(-1, 1, 5), "b": np.asarray(0.1)}
    good = check_gradient(logistic_grad, logistic_loss, p, d)
    assert [(t.side, t.verdict) for t in good.taylor] == [("ANALYTIC", "pass"), ("JAX", "pass")]
    bad = check_gradient(lambda p, d: logistic_grad(p, d, factor=1.001), logistic_loss, p, d)
    assert [(t.side, t.verdict) for t in bad.taylor] == [("ANALYTIC", "fail"), ("JAX", "pass")]
    assert bad.evidence.startswith("The Taylor remainder test agrees")
    assert all(1.0 - 0.25 < s < 1.0 + 0.25 for s in bad.taylor[0].slopes)


def test_the_taylor_test_cannot_decide_at_a_kink():
    # |w| summed: a kink at w[0] = 0 on every direction's line through the point.
    def loss(p, d):
        return jnp.sum(jnp.abs(p["w"]))

    def wrong(p, d):
        return float(np.sum(np.abs(p["w"]))), {"w": 1.5 * np.sign(p["w"])}

    r = check_gradient(wrong, loss, {"w": np.array([0.0, 1.0, -2.0])})
    jax_taylor = next(t for t in r.taylor if t.side == "JAX")
    assert jax_taylor.verdict == "fail"
    assert "cannot decide" in r.evidence


# --- at the optimum ---------------------------------------------------------------------


def test_a_correct_gradient_passes_at_the_optimum(at_optimum):
    p, d = at_optimum
    r = check_gradient(logistic_grad, logistic_loss, p, d)
    assert r.ok, str(r)
    assert r.blame is None


def test_the_optimum_is_a_hard_case_for_bounds_scaled_by_the_gradient(at_optimum):
    # Meta-test: with the rounding scale taken from the gradient's own size, as
    # the check did before it measured rounding, the correct gradient fails here.
    p, d = at_optimum
    _, g = logistic_grad(p, d)
    scales = {k: np.abs(v).max() for k, v in g.items()}
    r = check_gradient(logistic_grad, logistic_loss, p, d, scales=scales)
    assert not r.ok


def test_a_correct_gradient_passes_at_the_optimum_through_check_with_a_float64_oracle(
    at_optimum,
):
    p, d = at_optimum
    vg = jax.jit(jax.value_and_grad(logistic_loss))

    def oracle(q):
        with float64_scope():
            value, grads = vg(q, d)
            return float(value), {k: np.asarray(v) for k, v in grads.items()}

    r = check(lambda q: logistic_grad(q, d), oracle, p)
    assert r.ok, str(r)


@pytest.mark.parametrize(
    "wrong",
    [
        lambda p, d: logistic_grad(p, d, factor=1.001),
        lambda p, d: logistic_grad(p, d, weights=False),
    ],
)
def test_a_wrong_gradient_fails_at_the_optimum(at_optimum, wrong):
    p, d = at_optimum
    r = check_gradient(wrong, logistic_loss, p, d)
    assert (r.ok, r.blame) == (False, "ANALYTIC"), str(r)


# --- lower-precision oracles ------------------------------------------------------------


def _float32_oracle(d):
    """A user's own oracle written without x64: JAX computes it in float32."""
    vg = jax.jit(jax.value_and_grad(logistic_loss))

    def oracle(q):
        value, grads = vg(q, d)
        return value, {k: np.asarray(v) for k, v in grads.items()}

    return oracle


def test_a_float32_oracle_does_not_blame_a_correct_gradient():
    d = logistic_problem(6, n=40, dim=5)
    p = {"w": np.linspace(-0.5, 0.5, 5), "b": np.asarray(0.2)}
    r = check(lambda q: logistic_grad(q, d), _float32_oracle(d), p)
    assert r.ok, str(r)
    assert r.blame is None
    assert r.diagnosis.startswith("inconclusive: the oracle computes in float32")
    assert any("float32" in n for n in r.notes)
    assert any(c.verdict == "inconclusive" for c in r.comparisons if c.pair == ("ANALYTIC", "JAX"))


def test_a_float32_oracle_still_catches_a_factor_1001():
    d = logistic_problem(6, n=40, dim=5)
    p = {"w": np.linspace(-0.5, 0.5, 5), "b": np.asarray(0.2)}
    r = check(lambda q: logistic_grad(q, d, factor=1.001), _float32_oracle(d), p)
    assert (r.ok, r.blame) == (False, "ANALYTIC"), str(r)


def test_without_the_precision_rule_the_float32_oracle_blames_analytic():
    # Meta-test: the same float32 values, handed over as float64 so the check
    # cannot see their precision, fail the correct gradient and blame it.
    d = logistic_problem(6, n=40, dim=5)
    p = {"w": np.linspace(-0.5, 0.5, 5), "b": np.asarray(0.2)}
    inner = _float32_oracle(d)

    def disguised(q):
        value, grads = inner(q)
        return float(value), {k: v.astype(np.float64) for k, v in grads.items()}

    r = check(lambda q: logistic_grad(q, d), disguised, p)
    assert (r.ok, r.blame) == (False, "ANALYTIC")


def test_a_loss_computing_in_float32_inside_check_gradient_is_reported():
    def loss32(p, d):
        q = {k: v.astype(jnp.float32) for k, v in p.items()}
        return logistic_loss(q, {k: v.astype(jnp.float32) for k, v in d.items()})

    d = logistic_problem(7, n=40, dim=5)
    p = {"w": np.linspace(-0.5, 0.5, 5), "b": np.asarray(0.2)}
    r = check_gradient(logistic_grad, loss32, p, d)
    assert r.ok, str(r)
    assert r.blame is None
    assert "float32" in r.diagnosis


def test_a_float32_fd_function_is_not_blamed_either():
    d = logistic_problem(6, n=40, dim=5)
    p = {"w": np.linspace(-0.5, 0.5, 5), "b": np.asarray(0.2)}
    vg = jax.jit(jax.value_and_grad(logistic_loss))

    def oracle(q):
        with float64_scope():
            value, grads = vg(q, d)
            return float(value), {k: np.asarray(v) for k, v in grads.items()}

    def forward32(q):
        return np.float32(logistic_grad(q, d)[0])

    r = check(lambda q: logistic_grad(q, d), oracle, p, fd_function=forward32)
    assert r.ok, str(r)
    assert r.blame is None
    assert r.diagnosis.startswith("inconclusive: the fd_function computes in float32")


def test_a_float16_oracle_is_refused_naming_the_oracle():
    def oracle(q):
        return np.float16(1.0), {"w": np.zeros(2, np.float16)}

    with pytest.raises(ValueError, match="oracle returned float16"):
        check(lambda q: (1.0, {"w": np.zeros(2)}), oracle, {"w": np.zeros(2)})


# --- two different functions --------------------------------------------------------------


def test_a_constant_apart_is_two_different_functions_not_a_wrong_gradient():
    d = logistic_problem(8, n=30, dim=3)
    p = {"w": np.array([0.1, -0.2, 0.3]), "b": np.asarray(0.0)}

    def shifted(q, dd):
        loss, grads = logistic_grad(q, dd)
        return loss + 0.5, grads

    r = check_gradient(shifted, logistic_loss, p, d)
    assert (r.ok, r.blame) == (False, "ANALYTIC")
    assert "two different functions" in r.diagnosis
    assert "not on the gradient" in r.diagnosis
    assert all(c.verdict != "fail" for c in r.comparisons if c.quantity != "loss")


def test_a_different_function_with_its_own_gradient_is_named_so():
    # The analytic side is the unweighted mean, loss and gradient: consistent
    # with itself, a different function from the oracle's.
    d = logistic_problem(9, n=30, dim=3)
    p = {"w": np.array([0.1, -0.2, 0.3]), "b": np.asarray(0.0)}

    def unweighted(q, dd):
        return logistic_grad(q, {**dd, "s": np.ones_like(dd["s"])})

    r = check_gradient(unweighted, logistic_loss, p, d)
    assert (r.ok, r.blame) == (False, "ANALYTIC")
    assert r.diagnosis.startswith("ANALYTIC disagrees with JAX and FD")
    assert "two different functions" in r.diagnosis


# --- failure patterns ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "pattern", "count"),
    [
        ((slice(None), 2), "column 2", 4),
        ((1, slice(None)), "row 1", 3),
        ((3, 0), "single entry", 1),
        ((slice(None), slice(None)), "everything", 12),
    ],
)
def test_the_report_names_the_failing_pattern(index, pattern, count):
    def loss(p, dd):
        return jnp.sum(jnp.sin(p["M"]) * dd["A"])

    def grad(p, dd, off=None):
        g = np.cos(p["M"]) * dd["A"]
        if off is not None:
            g = g.copy()
            g[off] += 0.01
        return float(np.sum(np.sin(p["M"]) * dd["A"])), {"M": g}

    rng = np.random.default_rng(11)
    p, d = {"M": rng.normal(size=(4, 3))}, {"A": rng.uniform(1, 2, size=(4, 3))}
    r = check_gradient(lambda q, dd: grad(q, dd, index), loss, p, d)
    aj = next(c for c in r.comparisons if c.quantity == "dM" and c.pair == ("ANALYTIC", "JAX"))
    assert (aj.n_failed, aj.pattern) == (count, pattern)
    assert f"{count} of 12, {pattern}" in str(r)
    assert r.to_dict()["comparisons"][1]["pattern"] == pattern
    if count > 1:
        assert f"({count} of 12, {pattern})" in r.diagnosis


def test_scattered_failures_are_called_scattered():
    fail = np.zeros((3, 3), bool)
    fail[0, 0] = fail[2, 1] = True
    assert failure_pattern(fail, np.ones((3, 3), bool)) == "scattered"
    assert failure_pattern(np.zeros(4, bool), np.ones(4, bool)) == ""


# --- bad input ------------------------------------------------------------------------------


def test_bad_inputs_are_named():
    p = {"w": np.zeros(2)}
    with pytest.raises(TypeError, match=r"data must be a dict of named arrays .*got list"):
        check_gradient(lambda q, d: (0.0, {"w": np.zeros(2)}), lambda q, d: 0.0, p, [1, 2])
    with pytest.raises(TypeError, match="loss must be a function; got int"):
        check_gradient(lambda q, d: (0.0, {"w": np.zeros(2)}), 3, p)
    with pytest.raises(TypeError, match=r"data\['s'\] must hold numbers"):
        check_gradient(lambda q, d: (0.0, {"w": np.zeros(2)}), lambda q, d: 0.0, p, {"s": "x"})
    with pytest.raises(TypeError, match="params must be a non-empty dict"):
        check_gradient(lambda q, d: (0.0, {}), lambda q, d: 0.0, {})
