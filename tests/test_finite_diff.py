"""Finite differences: estimates within their bounds, tight bounds, kinks, modes, counts."""

from __future__ import annotations

import numpy as np
import pytest

from verification.finite_diff import (
    directional_derivatives,
    numerical_gradient,
    random_directions,
    sample_coordinates,
)

# Smooth test functions with derivatives known in closed form (independent of FD).
FUNCTIONS = {
    "sin": (lambda v: np.sum(np.sin(v)), np.cos),
    "exp": (lambda v: np.sum(np.exp(v)), np.exp),
    "log1p_sq": (lambda v: np.sum(np.log1p(v**2)), lambda v: 2 * v / (1 + v**2)),
    "cubic": (lambda v: np.sum(v**3 - 2 * v), lambda v: 3 * v**2 - 2),
}


class Counter:
    """Wraps f and counts the points it is evaluated at."""

    def __init__(self, f, batched=False):
        self.f, self.batched, self.points = f, batched, 0

    def __call__(self, v):
        if self.batched:
            self.points += v.shape[0]
            return np.array([self.f(p) for p in v])
        self.points += 1
        return self.f(v)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_estimate_within_bound_and_bound_is_tight(name, seed):
    f, df = FUNCTIONS[name]
    x = np.random.default_rng(seed).uniform(-3, 3, size=7)
    r = numerical_gradient(f, x)
    err = np.abs(r.grad - df(x))
    assert np.all(err <= r.error_bound), (err, r.error_bound)
    # Tight enough to be useful: far below a 1e-6 relative error of the gradient's scale.
    assert np.all(r.error_bound <= 1e-8 * np.maximum(1.0, np.abs(df(x))))
    assert not r.kink.any()


def test_quartic_is_differentiated_exactly_up_to_rounding():
    # D(h) is exact for polynomials of degree <= 4: only round-off is left, and
    # the bound (whose truncation part is then pure noise) still covers it.
    f = lambda v: float(np.sum(v**4 - v**2))  # noqa: E731
    x = np.array([0.3, -1.7, 2.5])
    r = numerical_gradient(f, x)
    assert np.all(np.abs(r.grad - (4 * x**3 - 2 * x)) <= r.error_bound)


def test_bound_grows_with_truncation_and_still_covers_it():
    # A step 1000 times too large: the truncation estimate |D(h) - D(2h)| must
    # grow to cover the larger error instead of claiming a precision it lacks.
    f, df = FUNCTIONS["sin"]
    x = np.array([0.4, 1.3])
    fine = numerical_gradient(f, x)
    coarse = numerical_gradient(f, x, step_scale=100.0)
    err = np.abs(coarse.grad - df(x))
    assert np.all(err <= coarse.error_bound)
    assert np.all(coarse.error_bound > 100 * fine.error_bound)
    assert np.all(err > fine.error_bound)  # the coarse estimate is really worse


def test_noise_enters_the_bound():
    # f with deterministic noise of amplitude 1e-9: told so via f_noise, the bound covers it;
    # the same noise unannounced would break the default bound (this is what f_noise is for).
    rng = np.random.default_rng(5)
    table = {}

    def noisy(v):
        key = v.tobytes()
        if key not in table:
            table[key] = rng.uniform(-1e-9, 1e-9)
        return float(np.sum(np.sin(v))) + table[key]

    x = np.linspace(-1, 1, 8)
    r = numerical_gradient(noisy, x, f_noise=1e-9)
    assert np.all(np.abs(r.grad - np.cos(x)) <= r.error_bound)
    quiet = numerical_gradient(noisy, x)
    assert np.any(np.abs(quiet.grad - np.cos(x)) > quiet.error_bound)


@pytest.mark.parametrize(
    ("f", "x", "kinks", "smooth_grad"),
    [
        (lambda v: float(np.abs(v).sum()), np.array([0.0, 1.0]), [True, False], 1.0),
        (lambda v: float(np.maximum(v, 0).sum()), np.array([0.0, -2.0]), [True, False], 0.0),
        (lambda v: float(np.max(v)), np.array([1.5, 1.5]), [True, True], None),
    ],
)
def test_kinks_are_flagged_where_they_are(f, x, kinks, smooth_grad):
    r = numerical_gradient(f, x)
    assert r.kink.tolist() == kinks
    if smooth_grad is not None:  # away from the kink the estimate is as good as ever
        assert abs(r.grad[1] - smooth_grad) <= r.error_bound[1]


def test_smooth_functions_are_never_kinks():
    rng = np.random.default_rng(11)
    for name, (f, _) in FUNCTIONS.items():
        x = rng.uniform(-3, 3, size=50)
        assert not numerical_gradient(f, x).kink.any(), name


def test_counts_every_evaluation_and_batched_equals_unbatched():
    f, _ = FUNCTIONS["exp"]
    x = np.array([[0.1, 0.2], [0.3, -0.4]])
    plain, batch = Counter(f), Counter(f, batched=True)
    r1 = numerical_gradient(plain, x)
    r2 = numerical_gradient(batch, x, batched=True)
    assert r1.n_evals == plain.points == 1 + 6 * x.size
    assert r2.n_evals == batch.points == r1.n_evals
    np.testing.assert_array_equal(r1.grad, r2.grad)
    np.testing.assert_array_equal(r1.error_bound, r2.error_bound)
    assert r1.grad.shape == x.shape


def test_sampled_coordinates_only():
    f, df = FUNCTIONS["sin"]
    x = np.linspace(-1, 1, 10)
    counter = Counter(f)
    r = numerical_gradient(counter, x, coords=[1, 7])
    assert r.n_evals == counter.points == 1 + 6 * 2
    assert r.checked.tolist() == [i in (1, 7) for i in range(10)]
    assert np.isnan(r.grad[0])
    assert np.all(np.abs(r.grad[[1, 7]] - df(x[[1, 7]])) <= r.error_bound[[1, 7]])


def test_coords_are_validated():
    with pytest.raises(ValueError, match="coords must be flat indices"):
        numerical_gradient(np.sum, np.zeros(3), coords=[3])
    with pytest.raises(ValueError, match="must not repeat"):
        numerical_gradient(np.sum, np.zeros(3), coords=[1, 1])


def test_x_is_not_modified_and_float32_is_differentiated_in_float64():
    seen = []

    def f(v):
        seen.append(v.dtype)
        v += 1.0  # a careless f writing into its argument
        return float(np.sum(v))

    x = np.array([1.0, 2.0], dtype=np.float32)
    numerical_gradient(f, x)
    np.testing.assert_array_equal(x, np.array([1.0, 2.0], dtype=np.float32))
    assert set(seen) == {np.dtype(np.float64)}


def test_sample_coordinates_covers_every_block_without_replacement():
    for seed in range(20):
        idx = sample_coordinates([40, 5, 1], 8, seed)
        assert len(idx) == len(set(idx.tolist())) == 8
        assert (idx < 40).any()
        assert ((idx >= 40) & (idx < 45)).any()
        assert (idx == 45).any()
    np.testing.assert_array_equal(
        sample_coordinates([40, 5], 6, 3), sample_coordinates([40, 5], 6, 3)
    )
    assert not np.array_equal(sample_coordinates([40, 5], 6, 3), sample_coordinates([40, 5], 6, 4))
    np.testing.assert_array_equal(sample_coordinates([2, 3], 10, 0), np.arange(5))
    with pytest.raises(ValueError, match="at least the number of blocks"):
        sample_coordinates([2, 3, 4], 2, 0)


def test_random_directions_are_seeded_unit_vectors():
    V = random_directions((3, 2), 5, seed=7)
    assert V.shape == (5, 3, 2)
    np.testing.assert_allclose(np.linalg.norm(V.reshape(5, -1), axis=1), 1.0, rtol=1e-15)
    np.testing.assert_array_equal(V, random_directions((3, 2), 5, seed=7))
    assert not np.array_equal(V, random_directions((3, 2), 5, seed=8))


@pytest.mark.parametrize("size", [3, 3000])
def test_directional_cost_does_not_grow_with_size(size):
    f, df = FUNCTIONS["log1p_sq"]
    x = np.random.default_rng(size).uniform(-2, 2, size=size)
    V = random_directions(x.shape, 4, seed=0)
    counter = Counter(f, batched=True)
    r = directional_derivatives(counter, x, V, batched=True)
    assert r.n_evals == counter.points == 1 + 6 * 4
    exact = V @ df(x)
    assert np.all(np.abs(r.value - exact) <= r.error_bound)
    assert np.all(r.error_bound <= 1e-8 * np.abs(V) @ np.maximum(1, np.abs(df(x))))


def test_directional_kink():
    # |v| along a direction through the kink at 0 is |t| * |v|: one-sided slopes differ.
    r = directional_derivatives(lambda v: float(np.abs(v).sum()), np.zeros(2), np.eye(2)[:1])
    assert r.kink[0]


def test_directional_rejects_mismatched_directions():
    with pytest.raises(ValueError, match="directions must have shape"):
        directional_derivatives(np.sum, np.zeros(3), np.ones((2, 4)))


def test_f_scale_covers_a_sum_that_cancels():
    # f = sum of 20000 sines of an antisymmetric grid: f(x) = 0, but each evaluation
    # rounds terms of size ~1, 20000 of them. |f(x)| as the scale claims a precision
    # f does not have; the size of its terms, passed as f_scale, restores the bound.
    # Sampled coordinates keep the stacked points small.
    x = np.linspace(-1, 1, 20000)
    coords = np.arange(0, x.size, 400)

    def f(points):
        return np.sin(points).sum(axis=1)

    naive = numerical_gradient(f, x, coords=coords, batched=True)
    assert np.nanmax(np.abs(naive.grad - np.cos(x)) - naive.error_bound) > 0
    scaled = numerical_gradient(
        f, x, coords=coords, batched=True, f_scale=float(np.abs(np.sin(x)).sum())
    )
    err = np.abs(scaled.grad - np.cos(x))[coords]
    assert np.all(err <= scaled.error_bound[coords])
    assert np.all(scaled.error_bound[coords] < 1e-6)
