"""The figures the documentation pages state, computed, so that a page cannot drift from them.

Each test works a number out (from the code, from NumPy, or in exact rational
or decimal arithmetic) and then checks that the page states it, in the form
the page writes it. A page edited to a different figure fails here, and so does
code whose behaviour moves away from what the page says.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, getcontext
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import softmax_ref as sr
from softmax_ref import two_layer
from softmax_ref.datasets import blog_2016
from verification import check_softmax
from verification.finite_diff import numerical_gradient

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
POST_TITLE = "Gradient descent on a Softmax cross-entropy cost function"


def _page(name: str) -> str:
    """The page's text with every run of whitespace (line breaks included) made one space."""
    return re.sub(r"\s+", " ", (DOCS / name).read_text(encoding="utf-8"))


def _states(name: str, *phrases: str) -> None:
    text = _page(name)
    for phrase in phrases:
        assert re.sub(r"\s+", " ", phrase) in text, f"docs/{name} does not state {phrase!r}"


def _tex_sci(x: float, digits: int = 2) -> str:
    r"""``8.1\cdot10^{-17}``: x to ``digits`` significant digits, as the pages write it."""
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return rf"{mantissa}\cdot10^{{{int(exponent)}}}"


# --- derivation.md: where exp overflows and underflows ------------------------------


def test_exp_overflow_and_underflow_thresholds():
    big = np.finfo(np.float64).max
    smallest_subnormal = np.nextafter(0.0, 1.0)
    overflow = math.log(big)
    # exp(x) rounds to 0 once it is below half the smallest subnormal, 2^-1075.
    underflow = -1075 * math.log(2.0)
    assert smallest_subnormal == 2.0**-1074
    with np.errstate(over="ignore", under="ignore"):
        assert np.isfinite(np.exp(overflow - 1e-9))
        assert np.exp(overflow + 1e-9) == np.inf
        assert np.exp(underflow + 1e-9) == smallest_subnormal
        assert np.exp(underflow - 1e-9) == 0.0
        assert np.exp(-745.0) == smallest_subnormal  # the page's example
    # The log of the smallest subnormal is not the threshold: exp still gives it below that.
    assert math.log(smallest_subnormal) > underflow + 0.69
    _states(
        "derivation.md",
        f"overflows for scores above about {overflow:.2f}",
        f"underflows to 0 below about ${underflow:.2f}$",
        f"= e^{{{math.log(smallest_subnormal):.2f}}}$",
        "`np.exp(-745.0)` is still `5e-324`",
        # Correction 2's figure: the smallest positive double as a power of e.
        f"= e^{{{math.log(smallest_subnormal):.1f}}}$",
    )


# --- property-suite.md: the loss of scores [3, -6] ----------------------------------


def test_loss_error_at_scores_3_minus_6():
    W = np.array([[0.0, 0.0], [0.0, 0.0], [-1.0, 2.0]])
    b = np.zeros(2)
    X = np.array([[0.0, 0.0, -3.0]])
    y = np.array([0])
    assert (X @ W + b).tolist() == [[3.0, -6.0]]
    getcontext().prec = 50
    exact = (1 + Decimal(-9).exp()).ln()
    values = [
        float(sr.loss_and_grad(W, b, X, y, 0.0)[0]),
        float(sr.loss(W, b, X, y, 0.0)),
        float(sr.loss_and_grad_naive(W, b, X, y, 0.0)[0]),
    ]
    assert len(set(values)) == 1, values
    value = values[0]
    # log1p of the non-maximal term: the double nearest the truth (within half an ulp
    # and the ulp a libm log1p may add).
    assert abs(float(Decimal(value) - exact)) <= float(np.spacing(value))
    # The textbook log(1 + e^-9) the page states: the rounding of 1 + e^-9 to a double,
    # at most half an ulp of 1.
    textbook = float(np.log(1.0 + np.exp(-9.0)))
    abs_err = float(Decimal(textbook) - exact)
    rel_err = abs_err / float(exact)
    assert 0 < abs_err <= 2.0**-53
    text = _page("property-suite.md")
    # The value returned: the page's figure within the 1 ulp a libm log may differ by.
    m = re.search(r"return \$(\d\.\d{16})\\cdot10\^\{-4\}\$", text)
    g = re.search(r"giving \$(\d\.\d{16})\\cdot10\^\{-4\}\$", text)
    assert g, "property-suite.md does not state the textbook formula's value"
    assert abs(float(g.group(1)) * 1e-4 - textbook) <= np.spacing(textbook)
    assert m, "property-suite.md does not state the value the entry points return"
    assert abs(float(m.group(1)) * 1e-4 - value) <= np.spacing(value)
    _states(
        "property-suite.md",
        rf"\log(1 + e^{{-9}}) = {float(exact) * 1e4:.15f}\cdot10^{{-4}}",
        f"off by ${_tex_sci(abs_err)}$ absolute, ${_tex_sci(rel_err)}$ relative",
    )


# --- two_layer.md: He initialisation --------------------------------------------------


def _he_ratios(d: int, seeds: int = 200, m: int = 100, c: int = 3) -> dict[str, np.ndarray]:
    """Per seed, E[Z^2], E[H^2] and E[F^2] over a fixed sample, each over E[x^2]."""
    X = np.random.default_rng(0).standard_normal((200, d))
    ex2 = np.mean(X * X)
    out: dict[str, list[float]] = {"Z": [], "H": [], "F": []}
    for seed in range(seeds):
        p = two_layer.init_params(d, m, c, seed=seed)
        Z = X @ p["W1"] + p["b1"]
        H = np.maximum(Z, 0.0)
        F = H @ p["W2"] + p["b2"]
        for name, A in (("Z", Z), ("H", H), ("F", F)):
            out[name].append(float(np.mean(A * A)) / ex2)
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("d", [2, 50])
def test_he_init_second_moments(d):
    ratios = _he_ratios(d)
    expected = {"Z": 2.0, "H": 1.0, "F": 1.0}  # E[Z^2] = 2 E[x^2]; half through the ReLU
    for name, r in ratios.items():
        mean, se = r.mean(), r.std(ddof=1) / math.sqrt(r.size)
        # Seeds are independent draws: a mean further than 5 standard errors from
        # its expectation would be a 1-in-a-million event, not noise.
        assert abs(mean - expected[name]) < 5 * se, (name, mean, se)
    # The pre-activation does not have the input's second moment (the old claim).
    z = ratios["Z"]
    assert z.mean() - 1.0 > 20 * z.std(ddof=1) / math.sqrt(z.size)
    stated = ", ".join(f"{ratios[k].mean():.1f}" for k in "ZH") + f" and {ratios['F'].mean():.1f}"
    _states("two_layer.md", f"{stated} at $D = {d}$")


def test_initial_loss_is_of_order_log_c():
    data = blog_2016()
    X, y = data.X, data.y
    losses = [
        two_layer.loss_and_grad(two_layer.init_params(2, 100, 3, seed=s), X, y, 0.0)[0]
        for s in range(10)
    ]
    lo, hi = min(losses), max(losses)
    assert lo < math.log(3) < hi  # of order log C, and not near it
    _states(
        "two_layer.md",
        rf"$\overline{{x^2}} = {np.mean(X * X):.2f}$",
        f"seeds 0 to 9 start at losses from {lo:.2f} to {hi:.2f}",
        rf"$\log 3 = {math.log(3):.2f}$",
    )


# --- verification.md and two_layer.md: FD at a kink -----------------------------------


def _central(f, h):
    return (f(h) - f(-h)) / (2 * h)


def _d(f, h):
    """D(h) = (4 c(h) - c(2h)) / 3, the page's five-point estimate of f'(0)."""
    return (4 * _central(f, h) - _central(f, 2 * h)) / 3


@pytest.mark.parametrize("jump", [Fraction(0), Fraction(1, 3), Fraction(-5)])
def test_curvature_jump_makes_the_bound_equal_the_error(jump):
    A, h = Fraction(7, 2), Fraction(1, 1000)

    def f(t):
        return jump * max(t, 0) + A / 2 * max(t, 0) ** 2

    d_h, d_2h = _d(f, h), _d(f, 2 * h)
    assert d_h == jump / 2 + A * h / 6
    assert d_2h == jump / 2 + A * h / 3
    # The jump cancels from the error estimate; the curvature's jump does not.
    assert abs(d_h - d_2h) == A * h / 6
    if jump == 0:
        # f'(0) = 0: the estimate equals the error, a safety factor of 1, not 15.
        assert abs(d_h - d_2h) / abs(d_h - 0) == 1
    for page in ("verification.md", "two_layer.md"):
        _states(page, "D(h) = Ah/6", "D(2h) = Ah/3", "a safety factor of")


def test_curvature_jump_through_the_projects_finite_differences():
    """The same f through numerical_gradient: its bound is the error plus rounding."""
    A = 3.0

    def f(x):
        t = x[0]
        return 0.5 * A * max(t, 0.0) ** 2

    res = numerical_gradient(f, np.zeros(1), f_scale=1.0)
    h = float(res.step[0])
    error = abs(float(res.grad[0]) - 0.0)
    # Rounding of f's values (about 1e-6) moves D(h) by some eps f / h, 1e-15 of it.
    assert error == pytest.approx(A * h / 6, rel=1e-12)
    # A smooth f would give a bound about 15 times its error; here the bound's
    # truncation part is the error itself, and the rest is rounding.
    rounding = float(res.error_bound[0]) - A * h / 6
    assert 0 < rounding < error


def _k(f, h):
    """K(h) = (4 Delta(h) - Delta(2h)) / 2h, Delta(h) = f(h) + f(-h) - 2 f(0)."""

    def delta(s):
        return f(s) + f(-s) - 2 * f(0)

    return (4 * delta(h) - delta(2 * h)) / (2 * h)


def test_where_the_kink_test_is_blind():
    h, jump = Fraction(1), Fraction(1)
    grid = [Fraction(i, 126) for i in range(1, 252)]  # c/h in (0, 2); 126 = 2 * 63
    for r in grid:

        def f(t, c=r * h):
            return jump * max(t - c, 0)

        k_h, k_2h = _k(f, h), _k(f, 2 * h)
        expected = jump * (2 * h - 3 * r * h) / (2 * h) if r < 1 else -jump * (2 - r) / 2
        assert k_h == expected
        detected = abs(k_h) > abs(k_2h - k_h)
        assert detected == (r < Fraction(4, 9) or Fraction(4, 3) < r < Fraction(12, 7)), r
        assert (k_h > 0) == (r < Fraction(2, 3))
        assert (k_h == 0) == (r == Fraction(2, 3))
    _states(
        "verification.md",
        "$K(h) = J(2h - 3t_0)/2h$",
        "changes sign at $t_0 = 2h/3$",
        "$K(h) = -J(2h - t_0)/2h$",
        "from $t_0 = 4h/9$ to $4h/3$ and from $12h/7$ to $2h$",
    )


@pytest.mark.parametrize(("r", "kink"), [(0.2, True), (0.6, False), (1.0, False), (1.5, True)])
def test_the_code_classifies_kinks_as_the_page_says(r, kink):
    """The project's kink test, on a jump of 1 at r steps: the exact analysis above."""
    x0 = 0.0
    probe = numerical_gradient(lambda x: 0.0, np.array([x0]), f_scale=1.0)
    h = float(probe.step[0])
    c = x0 + r * h

    def f(x):
        return max(float(x[0]) - c, 0.0)

    res = numerical_gradient(f, np.array([x0]), f_scale=1.0)
    assert float(res.step[0]) == h
    assert bool(res.kink[0]) is kink


def test_fd_step_figures():
    eps = np.finfo(np.float64).eps
    h = eps**0.2
    _states(
        "verification.md",
        rf"$\varepsilon^{{1/5}} \approx {h * 1e4:.1f} \times 10^{{-4}}$",
        rf"$h^2 = {h * h * 1e7:.0f}\times10^{{-7}}$",
        rf"$2h^3 = {2 * h**3 * 1e10:.0f}\times10^{{-10}}$",
    )


# --- derivation.md: what the three-way check does with a (1, C) db -----------------------


def test_db_of_shape_1_by_c_is_refused_before_the_vote():
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    X, y = rng.normal(size=(8, 3)), rng.integers(0, 4, size=8)

    def row_db(W, b, X, y, reg=0.0):
        L, dW, db = sr.loss_and_grad(W, b, X, y, reg)
        return L, dW, db[None, :]

    with pytest.raises(ValueError, match=r"\(1, 4\).*\(4,\)"):
        check_softmax(W, b, X, y, reg=0.1, analytic=row_db)
    _states("derivation.md", "the check refuses a gradient whose shape is not its parameter's")


# --- the corrections quote the post ---------------------------------------------------


def _admonitions(text: str) -> list[tuple[str, str]]:
    out = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r'!!! \w+ "(.*)"$', line)
        if not m:
            continue
        body = []
        for nxt in lines[i + 1 :]:
            if nxt.strip() and not nxt.startswith("    "):
                break
            body.append(nxt[4:])
        out.append((m.group(1), "\n".join(body)))
    return out


def _quotes(body: str) -> list[str]:
    """The blockquotes of a box, their '> ' stripped."""
    blocks, cur = [], []
    for line in [*body.splitlines(), ""]:
        if line.startswith(">"):
            cur.append(line[1:].removeprefix(" "))
        elif cur:
            blocks.append("\n".join(cur))
            cur = []
    return blocks


def test_every_correction_quotes_the_post_by_title():
    text = (DOCS / "derivation.md").read_text(encoding="utf-8")
    corrections = [(t, b) for t, b in _admonitions(text) if t.startswith("Correction ")]
    assert len(corrections) == 6
    for title, body in corrections:
        quotes = _quotes(body)
        assert quotes, f"{title}: no quote of the post"
        assert any(
            POST_TITLE in q and q.rstrip().splitlines()[-1].startswith("—") for q in quotes
        ), title


# --- meta: a page carrying a wrong figure or a wrong quote fails the tests above ----------

POST_ATTRIBUTION = f"— *{POST_TITLE}*, its gradient code"


@pytest.mark.parametrize(
    ("page", "right", "wrong", "test"),
    [
        (
            "derivation.md",
            "below about $-745.13$",
            "below about $-744.4$",
            test_exp_overflow_and_underflow_thresholds,
        ),
        (
            "property-suite.md",
            r"6.6\cdot10^{-13}$ relative",
            r"1.3\cdot10^{-12}$ relative",
            test_loss_error_at_scores_3_minus_6,
        ),
        (
            "two_layer.md",
            "2.0, 1.0 and 1.0 at $D = 2$",
            "1.0, 1.0 and 1.0 at $D = 2$",
            lambda: test_he_init_second_moments(2),
        ),
        (
            "two_layer.md",
            "from 0.87 to 2.72",
            "from 1.38 to 1.40",
            test_initial_loss_is_of_order_log_c,
        ),
        (
            "verification.md",
            "changes sign at $t_0 = 2h/3$",
            "changes sign at $t_0 = h/2$",
            test_where_the_kink_test_is_blind,
        ),
        (
            "derivation.md",
            POST_ATTRIBUTION,
            "— the post, its gradient code",
            test_every_correction_quotes_the_post_by_title,
        ),
    ],
    ids=[
        "underflow",
        "3-6-error",
        "he-moments",
        "initial-loss",
        "kink-sign",
        "quote-title",
    ],
)
def test_meta_a_wrong_page_fails(tmp_path, monkeypatch, page, right, wrong, test):
    for path in DOCS.glob("*.md"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    text = (tmp_path / page).read_text(encoding="utf-8")
    assert text.count(right) == 1, right
    (tmp_path / page).write_text(text.replace(right, wrong), encoding="utf-8")
    test()  # the real pages pass
    monkeypatch.setattr(f"{__name__}.DOCS", tmp_path)
    with pytest.raises(AssertionError):
        test()
