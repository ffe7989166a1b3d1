"""Kinks: FD never fails a correct derivative at a kink, and still catches a wrong one.

Each case is a 1-D function of a kink of known jump ``J`` at a known distance
from the point: ``phi(v) = g(v) + J max(v - c, 0)`` with ``g`` smooth (its
derivative known in closed form) and ``c = x0 + t h``, ``t`` steps of FD away
from ``x0``. Its derivative at ``x0`` is ``g'(x0)`` when the kink lies to the
right (``t > 0``) and ``g'(x0) + J`` when it lies to the left (``t < 0``); at
``t = 0`` both one-sided derivatives are correct (a ReLU network takes one of
them by convention).

The sweep: ``J`` = +-1e-12 .. +-1 (every decade), ``t`` from -5 to 5 every
1/4 plus the positions where the kink test or the bound is weakest (0.44,
0.5, 0.57, 0.62, 1.75, 1.8, 1.89: worked out in verification/finite_diff.py's
notes), on four backgrounds ``g``. The cases sit side by side as the
coordinates of one vector ``x`` (all equal to ``x0``), with
``f(x) = sum_i (phi_i(x_i) - phi_i(x0))``: FD moves one coordinate at a time
and every other term is then exactly 0, so each entry is the derivative of its
own 1-D function, with the rounding of a 1-D call (``f_scale`` = the size of
``g``), at the cost of one call.
"""

from __future__ import annotations

import numpy as np
import pytest

from verification import check
from verification.finite_diff import numerical_gradient
from verification.tolerances import tolerances_for

EPS = tolerances_for(np.float64).eps
X0 = 0.3
# (g, g', max |g''''| near X0, size of g's terms near X0 for f_scale)
BACKGROUNDS = {
    "sin": (np.sin, np.cos, 1.0, 1.0),
    "quadratic": (lambda v: 0.5 * v * v - v, lambda v: v - 1.0, 0.0, 1.0),
    # f'''' = 25 cos(5 v): a large h^3 term, hiding small jumps from the kink test
    "wiggle": (lambda v: np.cos(5 * v) / 25, lambda v: -np.sin(5 * v) / 5, 25.0, 0.04),
    "exp": (lambda v: np.exp(2 * v), lambda v: 2 * np.exp(2 * v), 16 * np.exp(0.7), 2.0),
}
JUMPS = np.concatenate([10.0 ** np.arange(-12, 1), -(10.0 ** np.arange(-12, 1))])
WEAK = [0.4445, 0.5, 0.571, 0.622, 1.75, 1.8, 1.895]
POSITIONS = np.unique(np.concatenate([np.arange(-20, 21) / 4, WEAK, np.negative(WEAK)]))


class Sweep:
    """Every (J, t) case on one background, as the coordinates of one vector."""

    def __init__(self, background: str):
        self.name = background
        self.g, self.dg, self.g4, self.scale = BACKGROUNDS[background]
        J, t = np.meshgrid(JUMPS, POSITIONS, indexing="ij")
        self.J, self.t = J.ravel(), t.ravel()
        self.x = np.full(self.J.size, X0)
        # The step numerical_gradient takes at x0 (default step scale max(1, |x|) = 1).
        self.h = EPS ** (1 / 5)
        self.c = X0 + self.t * self.h
        self.base = self._phi(self.x, np.arange(self.x.size))

    def _phi(self, v: np.ndarray, i: np.ndarray) -> np.ndarray:
        return self.g(v) + self.J[i] * np.maximum(v - self.c[i], 0.0)

    def f(self, points: np.ndarray) -> np.ndarray:
        """Batched f: each point moves one coordinate (or none), so one term is nonzero."""
        out = np.zeros(points.shape[0])
        rows, cols = np.nonzero(points != self.x)
        out[rows] = self._phi(points[rows, cols], cols) - self.base[cols]
        return out

    def one_sided(self) -> tuple[np.ndarray, np.ndarray]:
        """The derivative at x0 from the left and from the right of x0."""
        g1 = self.dg(self.x)
        # The ramp max(v - c, 0) is on just left of x0 when c < x0, just right when c <= x0.
        left = g1 + np.where(self.c < X0, self.J, 0.0)
        right = g1 + np.where(self.c <= X0, self.J, 0.0)
        return left, right

    def fd(self):
        return numerical_gradient(self.f, self.x, batched=True, f_scale=self.scale)

    def noise_over_h(self) -> float:
        """The rounding FD allows one evaluation, over the step (an upper bound)."""
        # 16 eps f_scale, plus the rounding of the points x0 + k h (at most the same again).
        return 2 * tolerances_for(np.float64).fd_roundoff_factor * EPS * self.scale / self.h


@pytest.fixture(scope="module", params=sorted(BACKGROUNDS))
def sweep(request):
    s = Sweep(request.param)
    return s, s.fd()


def test_the_cases_are_what_they_claim(sweep):
    s, r = sweep
    assert np.all(r.step == s.h)
    # Each kink lies on the side of x0 that t says, and exactly at x0 for t = 0,
    # where (and only where) the two one-sided derivatives differ.
    np.testing.assert_array_equal(np.sign(s.c - X0), np.sign(s.t))
    left, right = s.one_sided()
    np.testing.assert_array_equal(left != right, s.t == 0)


def test_a_correct_derivative_is_never_failed(sweep):
    s, r = sweep
    for true in s.one_sided():
        err = np.abs(r.grad - true)
        ok = r.kink | (err <= r.error_bound + r.kink_allowance)
        bad = np.flatnonzero(~ok)
        assert not bad.size, [(s.J[i], s.t[i], err[i], r.error_bound[i]) for i in bad[:5]]
        # The allowance is what makes this hold: without it some would fail.
        assert np.any(~r.kink & (err > r.error_bound))


def test_exact_kinks_above_the_resolution_are_classified(sweep):
    # At t = 0 the kink test sees K(h) = J + a and |K(2h) - K(h)| = 7|a| with
    # a = -h^3 g''''/2 (plus rounding): a jump above 8|a| + 17 noise/h is a kink.
    s, r = sweep
    resolution = 8 * s.h**3 * s.g4 / 2 + 17 * s.noise_over_h()
    exact = s.t == 0
    assert np.all(r.kink[exact & (np.abs(s.J) > 2 * resolution)])
    assert np.any(r.kink[exact & (np.abs(s.J) >= 1e-8)])
    # and a kink is never claimed farther than 4 steps away, where f is smooth on the stencil
    assert not np.any(r.kink[np.abs(s.t) > 4])


def test_the_undecided_band_is_at_most_the_jump_and_the_smooth_terms(sweep):
    # Unclassified entries: an error up to kink_allowance beyond the bound is not a
    # failure. That band is at most 3/4 |J| + 3.5 h^3 |g''''| + 28.25 noise/h.
    s, r = sweep
    band = np.abs(s.J) + 4 * s.h**3 * s.g4 + 30 * s.noise_over_h()
    assert np.all(r.kink_allowance[~r.kink] <= band[~r.kink])
    # For a smooth function (no jump) it is far below a derivation-sized error.
    assert np.all(r.kink_allowance[~r.kink & (np.abs(s.J) <= 1e-12)] < 1e-7)


def _check(s: Sweep, analytic_grad: np.ndarray, oracle_grad: np.ndarray):
    def analytic(p):
        return 0.0, {"x": analytic_grad}

    def oracle(p):
        return 0.0, {"x": oracle_grad}

    report = check(
        analytic,
        oracle,
        {"x": s.x},
        fd_function=lambda p: s.f(p["x"]),
        fd_batched=True,
        loss_scale=s.scale,
        scales={"x": 1.0},
    )
    return report, next(c for c in report.comparisons if c.pair == ("ANALYTIC", "FD"))


def test_check_passes_the_correct_derivative_on_every_kink(sweep):
    s, r = sweep
    for true in s.one_sided():
        report, fd = _check(s, true, true)
        assert report.ok, str(report)
        assert fd.n_failed == 0
        assert fd.n_kinks == int(r.kink.sum())
        # entries FD cannot decide are reported, not passed
        beyond = ~r.kink & (np.abs(r.grad - true) > r.error_bound)
        assert fd.n_inconclusive >= int(beyond.sum())


def test_check_fails_every_unclassified_entry_wrong_by_bound_plus_jump(sweep):
    # A derivative wrong by more than twice (bound + |J| + the smooth and rounding
    # terms of the band above) fails wherever the entry is not a kink; kink entries
    # are not compared (FD has no single derivative to offer there).
    s, r = sweep
    true, _ = s.one_sided()
    delta = 2 * (r.error_bound + np.abs(s.J) + 4 * s.h**3 * s.g4 + 30 * s.noise_over_h())
    sign = np.where(np.arange(s.x.size) % 2 == 0, 1.0, -1.0)
    report, fd = _check(s, true + sign * delta, true)
    assert not report.ok
    assert report.blame == "ANALYTIC"
    assert fd.n_failed == int((~r.kink).sum())


def test_the_sweep_catches_the_old_kink_test(sweep):
    # The kink test this harness had before (second-order one-sided differences,
    # each with its own error estimated at 2h: resolution ~h^2 |g'''|, about 1e-6)
    # and no allowance, restated here from f's values on the stencil: it fails
    # correct derivatives at exact kinks whose jumps lie between its resolution and
    # FD's bound. The sweep catches that; now each of them is a kink or allowed for.
    s, r = sweep
    h, x = s.h, s.x
    exact = np.flatnonzero(s.t == 0)

    def at(k):  # f with each exact-kink coordinate moved by k steps, in turn
        points = np.repeat(x[None, :], exact.size, axis=0)
        points[np.arange(exact.size), exact] += k * h
        return s.f(points)

    f0 = s.f(x[None, :])[0]
    fm4, fm2, fm1, fp1, fp2, fp4 = (at(k) for k in (-4, -2, -1, 1, 2, 4))
    noise = tolerances_for(np.float64).fd_roundoff_factor * EPS * s.scale
    fwd_h, bwd_h = (-3 * f0 + 4 * fp1 - fp2) / (2 * h), (3 * f0 - 4 * fm1 + fm2) / (2 * h)
    fwd_2h, bwd_2h = (-3 * f0 + 4 * fp2 - fp4) / (4 * h), (3 * f0 - 4 * fm2 + fm4) / (4 * h)
    smooth = np.abs(fwd_h - fwd_2h) + np.abs(bwd_h - bwd_2h) + 8 * noise / h
    old_kink = np.abs(fwd_h - bwd_h) > smooth
    left, _ = s.one_sided()
    err = np.abs(r.grad[exact] - left[exact])
    failed = ~old_kink & (err > r.error_bound[exact])
    # Its blind spot was the h^2 g''' term of each one-sided difference: with
    # g''' = 0 (the quadratic) it missed nothing.
    assert np.any(failed) == (s.name != "quadratic")
    i = exact[failed]
    assert np.all(r.kink[i] | (err[failed] <= r.error_bound[i] + r.kink_allowance[i]))
