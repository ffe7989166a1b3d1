r"""Finite differences with a per-entry error bound, kink detection and cheap modes.

For a coordinate (or direction) with step :math:`h`, ``f`` is evaluated at
:math:`x \pm h, x \pm 2h, x \pm 4h` and once at :math:`x`. From central
differences :math:`c_k = (f(x+kh) - f(x-kh)) / 2kh` Richardson's step
combines two of them into a 4th-order estimate (the 5-point stencil scikit-
learn's loss tests use)

.. math::
    D(h) = \frac{4 c_1 - c_2}{3} = f'(x) - \frac{h^4}{30} f^{(5)}(x) + O(h^6),

and the estimate at the doubled step, :math:`D(2h)`, whose error is 16 times
larger, measures the truncation error: :math:`|D(h) - D(2h)| \approx 15\,
|f'(x) - D(h)|`; using the difference itself as the bound gives a factor 15
of safety for steps not yet deep in the asymptotic regime. Round-off adds
:math:`1.5\,\delta / h`, where :math:`\delta` bounds the error of one
evaluation of ``f`` (the stencil's coefficients sum to 1.5 in absolute value):

.. math::
    \text{bound} = |D(h) - D(2h)| + 1.5\,\frac{\delta_f + \delta_x}{h},
    \qquad \delta_f = k\,\varepsilon\,f_\text{scale}

with :math:`k` = ``fd_roundoff_factor`` of the tolerance table and
:math:`f_\text{scale}` the magnitude of the terms whose rounding makes up f's
error (``|f(x)|`` by default; larger when f is a small difference of large
terms; the largest |f| met on the stencil if that is larger).
:math:`\delta_x = \varepsilon\,(|x| + 4h)\,|f'|` accounts for the
points :math:`x + kh` themselves being rounded.

The step is :math:`h = \varepsilon^{1/5} s` with :math:`s` = ``step_scale``
(default :math:`\max(1, |x|)`): :math:`\varepsilon^{1/5}` balances an
:math:`h^4` truncation against an :math:`\varepsilon/h` round-off.

**Kinks.** The second-order one-sided differences

.. math::
    D_\pm(h) = \pm\,\frac{-3 f(x) + 4 f(x \pm h) - f(x \pm 2h)}{2h}

share their :math:`h^2` error term where f is smooth, so their gap

.. math::
    K(h) = D_+(h) - D_-(h) = \frac{4 s_1 - s_2}{2h}, \qquad
    s_k = f(x + kh) + f(x - kh) - 2 f(x),

is :math:`-h^3 f^{(4)}(x)/2 + O(h^5)`, and :math:`K(2h)` eight times that;
at a kink at x, where the derivative jumps by J, both are J. An entry is a
**kink** when

.. math::
    |K(h)| > \rho, \qquad \rho = |K(2h) - K(h)| + 17\,\frac{\delta}{h}

(for smooth f, :math:`|K(2h) - K(h)|` is 7 times :math:`|K(h)|`; rounding
moves :math:`K(h)` by at most :math:`8\delta/h` and :math:`K(2h) - K(h)` by
:math:`9\delta/h`). A kink is reported, not counted as a failure. Comparing
the one-sided differences at two steps cancels their :math:`h^2` terms, so
:math:`\rho` is of order :math:`h^3 f^{(4)}` plus rounding, not :math:`h^2 f'''`.

**What the test cannot decide.** Near x, :math:`D(h)` averages the slopes on
both sides of a kink: it is off by at most half the jump. A jump below
:math:`\rho` escapes the test, and so does a larger one about h/2 or 1.8h
from x, where :math:`K(h)` changes sign and the bound :math:`|D(h) - D(2h)|`
does not grow enough either. Every entry that is not a kink therefore carries
an allowance

.. math::
    a = \tfrac12\big(|K(h)| + \rho\big) + 2.25\,\frac{\delta}{h}
      \;\le\; \rho + 2.25\,\frac{\delta}{h}

(half the largest jump consistent with the test; :math:`2.25\,\delta/h` is the
rounding of :math:`D(h) - D(2h)`, which the bound takes at face value). An
error beyond the bound but within bound + allowance can come from a kink FD
cannot see; ``verification.compare`` reports it inconclusive, not failed.
For smooth f the allowance is about :math:`2 h^3 |f^{(4)}| + 11\delta/h`
(:math:`2h^3 = 8 \times 10^{-10}` at the default step, in units of the step
scale): far below any derivation error.
This holds for one kink within the stencil (tests/test_kinks.py sweeps jumps
from :math:`10^{-12}` to 1 over positions 0 to 5 steps away); several kinks
within :math:`4h` of each other can cancel in any statistic of seven values.

**Cost.** 6 evaluations per coordinate plus one at x. :func:`numerical_gradient`
does every coordinate or a sampled subset (:func:`sample_coordinates`);
:func:`directional_derivatives` does k directions whatever the size of x.
With ``batched=True``, ``f`` receives a stack of points ``(K, *x.shape)`` and
returns K values, so one call evaluates a whole stencil.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .tolerances import tolerances_for

__all__ = [
    "DirectionalResult",
    "FDResult",
    "directional_derivatives",
    "numerical_gradient",
    "random_directions",
    "sample_coordinates",
]

# Multiples of the step at which f is evaluated, in the order the values are stored.
_OFFSETS = np.array([-4.0, -2.0, -1.0, 1.0, 2.0, 4.0])

# Points built at once, bounding the memory of the stacked points at ~8 MB.
_MAX_POINT_ENTRIES = 2**20


@dataclass(frozen=True)
class FDResult:
    r"""Finite-difference gradient of a scalar function, entry by entry.

    Attributes:
        grad: the estimate :math:`D(h)`, shape of ``x``; NaN where not checked.
        error_bound: a bound on ``|grad - true gradient|`` per entry (NaN where
            not checked; non-finite where f was not finite near x).
        kink: True where the one-sided differences disagree beyond what
            smoothness allows: f is not differentiable there (or nearly so at
            this step).
        kink_allowance: per entry not classified a kink, the most that a kink
            too small (or too far from x) for the test could move ``grad``
            beyond ``error_bound``; 0 on kinks, NaN where not checked. An error
            between ``error_bound`` and ``error_bound + kink_allowance`` is
            undecided, not a failure (see the module notes).
        checked: True for the entries that were differentiated.
        step: the step :math:`h` per entry (NaN where not checked).
        f0: f(x).
        n_evals: evaluations of f.

    Example:
        Two of the four entries of a ``(2, 2)`` point, where
        :math:`\partial_i \sum_j x_j^3 = 3 x_i^2`:

        >>> x = np.array([[1.0, 2.0], [0.0, -1.0]])
        >>> r = numerical_gradient(lambda v: float(np.sum(v**3)), x, coords=[0, 3])
        >>> r.grad
        array([[ 3., nan],
               [nan,  3.]])
        >>> r.checked, r.kink
        (array([[ True, False],
               [False,  True]]), array([[False, False],
               [False, False]]))
        >>> bool(np.nanmax(r.error_bound) < 1e-10), r.f0, r.n_evals   # 1 + 6 per entry
        (True, 8.0, 13)
    """

    grad: np.ndarray
    error_bound: np.ndarray
    kink: np.ndarray
    kink_allowance: np.ndarray
    checked: np.ndarray
    step: np.ndarray
    f0: float
    n_evals: int


@dataclass(frozen=True)
class DirectionalResult:
    """Finite-difference derivatives of f along k directions.

    Attributes:
        directions: ``(k, *x.shape)``, each of unit Euclidean norm.
        value: ``(k,)`` estimates of :math:`\\langle \\nabla f(x), v_k \\rangle`.
        error_bound: ``(k,)`` bounds on their errors.
        kink: ``(k,)`` True where f has a kink along the direction.
        kink_allowance: ``(k,)`` as in :class:`FDResult`.
        step: ``(k,)`` the step along each direction.
        f0: f(x).
        n_evals: evaluations of f.

    Example:
        Three directions :math:`v_k` at x = (1, 2), where
        :math:`\\langle \\nabla (x \\cdot x), v_k \\rangle = 2\\, x \\cdot v_k`:

        >>> V = random_directions((2,), 3, seed=0)
        >>> r = directional_derivatives(lambda v: float(v @ v), np.array([1.0, 2.0]), V)
        >>> r.directions.shape, r.value.shape, r.n_evals   # 1 + 6 per direction
        ((3, 2), (3,), 19)
        >>> bool(np.all(np.abs(r.value - V @ np.array([2.0, 4.0])) <= r.error_bound))
        True
    """

    directions: np.ndarray
    value: np.ndarray
    error_bound: np.ndarray
    kink: np.ndarray
    kink_allowance: np.ndarray
    step: np.ndarray
    f0: float
    n_evals: int


@dataclass(frozen=True)
class _Stencil:
    estimate: np.ndarray
    bound: np.ndarray
    kink: np.ndarray
    allowance: np.ndarray
    f0: float
    n_evals: int


def _evaluate(
    f: Callable[[np.ndarray], Any], points: np.ndarray, batched: bool, shape: tuple[int, ...]
) -> np.ndarray:
    if batched:
        values = np.asarray(f(points.reshape(-1, *shape)), dtype=np.float64)
        if values.shape != (points.shape[0],):
            raise ValueError(
                f"a batched f must return one value per point, shape ({points.shape[0]},); "
                f"got shape {values.shape}"
            )
        return values
    return np.array([float(f(p.reshape(shape))) for p in points])


def _stencil(
    f: Callable[[np.ndarray], Any],
    x: np.ndarray,
    directions: np.ndarray | None,
    steps: np.ndarray,
    *,
    batched: bool,
    f_noise: float | None,
    f_scale: float | None,
    point_noise: Callable[[np.ndarray], np.ndarray],
    roundoff_factor: float,
    eps: float,
    coords: np.ndarray | None = None,
) -> _Stencil:
    """Derivatives of f at x along K rows of ``directions`` (K, n) with ``steps`` (K,).

    ``directions=None`` with ``coords`` (K,) means the unit vectors of those flat
    indices, without building a K x n matrix.
    """
    shape = x.shape
    flat = x.reshape(-1)
    k = steps.shape[0]
    values = np.empty((k, len(_OFFSETS)))
    per_chunk = max(1, _MAX_POINT_ENTRIES // max(1, flat.size * len(_OFFSETS)))
    f0 = math.nan
    for start in range(0, max(k, 1), per_chunk):
        stop = min(start + per_chunk, k)
        moves = steps[start:stop, None] * _OFFSETS[None, :]  # (chunk, 6)
        if directions is None:
            assert coords is not None
            points = np.repeat(flat[None, None, :], stop - start, axis=0)
            points = np.repeat(points, len(_OFFSETS), axis=1)
            rows = np.arange(stop - start)
            points[rows, :, coords[start:stop]] += moves
        else:
            points = flat[None, None, :] + moves[:, :, None] * directions[start:stop, None, :]
        points = points.reshape(-1, flat.size)
        if start == 0:  # x itself rides along with the first chunk: one call fewer
            points = np.concatenate([flat[None], points])
        out = _evaluate(f, points, batched, shape)
        if start == 0:
            f0, out = float(out[0]), out[1:]
        values[start:stop] = out.reshape(stop - start, len(_OFFSETS))
    fm4, fm2, fm1, fp1, fp2, fp4 = values.T
    h = steps
    with np.errstate(invalid="ignore", over="ignore"):
        c1 = (fp1 - fm1) / (2 * h)
        c2 = (fp2 - fm2) / (4 * h)
        c4 = (fp4 - fm4) / (8 * h)
        d_h = (4 * c1 - c2) / 3
        d_2h = (4 * c2 - c4) / 3
        if f_noise is None:
            # The terms of f at the stencil's far points can be larger than at x.
            scale = np.maximum(
                abs(f0) if f_scale is None else f_scale, np.max(np.abs(values), axis=1)
            )
            noise = roundoff_factor * eps * scale
        else:
            noise = np.full(k, float(f_noise))
        noise = noise + point_noise(np.abs(d_h))
        bound = np.abs(d_h - d_2h) + 1.5 * noise / h
        # K(h) = D+(h) - D-(h), the gap between the one-sided second-order
        # differences, and K(2h) (see the module notes): -h^3 f''''/2 and 8 times
        # that where f is smooth, the jump J at both steps at a kink.
        k_h = (4 * (fp1 + fm1 - 2 * f0) - (fp2 + fm2 - 2 * f0)) / (2 * h)
        k_2h = (4 * (fp2 + fm2 - 2 * f0) - (fp4 + fm4 - 2 * f0)) / (4 * h)
        # Rounding moves K(h) by up to 8 noise/h and K(2h) - K(h) by up to 9 noise/h.
        resolution = np.abs(k_2h - k_h) + 17 * noise / h
        kink = np.abs(k_h) > resolution
        # A kink the test misses has a jump of at most |K(h)| + resolution and
        # moves D(h) by at most half its jump; 2.25 noise/h is the rounding of
        # D(h) - D(2h), which the bound takes at face value.
        allowance = np.where(kink, 0.0, 0.5 * (np.abs(k_h) + resolution) + 2.25 * noise / h)
    return _Stencil(d_h, bound, kink, allowance, f0, 1 + k * len(_OFFSETS))


def _default_steps(x: np.ndarray, step_scale: Any, eps: float) -> np.ndarray:
    if step_scale is None:
        scale = np.maximum(1.0, np.abs(x))
    else:
        scale = np.broadcast_to(np.asarray(step_scale, dtype=np.float64), x.shape)
        if not (np.all(np.isfinite(scale)) and np.all(scale > 0)):
            raise ValueError("step_scale must be finite and > 0 everywhere")
    # eps^(1/5) balances h^4 truncation against eps/h round-off; the floor keeps
    # the step far above the spacing of floats at x, so x + h is not mostly rounding.
    return np.maximum(eps ** (1 / 5) * scale, 1024 * eps * np.abs(x))


def _as_point(x: Any) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"x must hold real numbers; got dtype {a.dtype}")
    if not np.all(np.isfinite(a)):
        raise ValueError("x must be finite")
    # Differences are taken in float64 whatever x is: a float32 verdict means nothing.
    return a.astype(np.float64)  # a copy: f may not modify the caller's x


def numerical_gradient(
    f: Callable[[np.ndarray], Any],
    x: Any,
    *,
    coords: Sequence[int] | np.ndarray | None = None,
    step_scale: Any = None,
    f_scale: float | None = None,
    f_noise: float | None = None,
    batched: bool = False,
    f_dtype: Any = np.float64,
) -> FDResult:
    r"""Gradient of a scalar f at x by 4th-order central differences, with error bounds.

    Args:
        f: ``f(x) -> float``; with ``batched=True``, ``f(points) -> (K,)`` for
            ``points`` of shape ``(K, *x.shape)``.
        x: the point, any shape; differentiated in float64 (a float32 x is
            exact in float64).
        coords: flat indices of the entries to differentiate (sampled mode);
            default every entry.
        step_scale: the scale of each entry, scalar or shape of x: the step is
            :math:`\varepsilon^{1/5}` times it. Default :math:`\max(1, |x|)`.
            Pass the distance over which f changes appreciably when |x| is a
            poor guide (e.g. weights multiplying large inputs).
        f_scale: magnitude of the terms whose rounding makes up f's error;
            default :math:`|f(x)|`.
        f_noise: the absolute error of one evaluation of f, overriding
            ``f_scale``.
        batched: whether f takes a stack of points.
        f_dtype: the precision f computes in (sets :math:`\varepsilon`).

    Returns:
        :class:`FDResult`, every array of the shape of ``x``.

    Example:
        >>> r = numerical_gradient(lambda v: np.sum(np.sin(v)), np.array([0.0, 1.0]))
        >>> bool(np.all(np.abs(r.grad - np.cos([0.0, 1.0])) <= r.error_bound))
        True
        >>> bool(r.error_bound.max() < 1e-10), r.n_evals   # 1 + 6 per entry
        (True, 13)
        >>> numerical_gradient(lambda v: abs(v[0]), np.array([0.0])).kink
        array([ True])
    """
    point = _as_point(x)
    eps = tolerances_for(f_dtype).eps
    factor = tolerances_for(np.float64).fd_roundoff_factor
    n = point.size
    if coords is None:
        idx = np.arange(n)
    else:
        idx = np.asarray(coords, dtype=np.intp).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise ValueError(
                f"coords must be flat indices in [0, {n}); got {idx.min()}..{idx.max()}"
            )
        if np.unique(idx).size != idx.size:
            raise ValueError("coords must not repeat an index")
    flat = point.reshape(-1)
    steps_all = _default_steps(point, step_scale, eps).reshape(-1)
    steps = steps_all[idx]
    x_abs = np.abs(flat[idx])

    def point_noise(grad_abs: np.ndarray) -> np.ndarray:
        return eps * (x_abs + 4 * steps) * grad_abs

    st = _stencil(
        f,
        point,
        None,
        steps,
        batched=batched,
        f_noise=f_noise,
        f_scale=f_scale,
        point_noise=point_noise,
        roundoff_factor=factor,
        eps=eps,
        coords=idx,
    )
    grad = np.full(n, np.nan)
    bound = np.full(n, np.nan)
    kink = np.zeros(n, dtype=bool)
    allowance = np.full(n, np.nan)
    checked = np.zeros(n, dtype=bool)
    step = np.full(n, np.nan)
    grad[idx], bound[idx], kink[idx], allowance[idx], checked[idx], step[idx] = (
        st.estimate,
        st.bound,
        st.kink,
        st.allowance,
        True,
        steps,
    )
    shape = point.shape
    return FDResult(
        grad=grad.reshape(shape),
        error_bound=bound.reshape(shape),
        kink=kink.reshape(shape),
        kink_allowance=allowance.reshape(shape),
        checked=checked.reshape(shape),
        step=step.reshape(shape),
        f0=st.f0,
        n_evals=st.n_evals,
    )


def random_directions(shape: tuple[int, ...], k: int, seed: int) -> np.ndarray:
    r"""``k`` seeded random directions of unit Euclidean norm, shape ``(k, *shape)``.

    Uniform on the sphere (normalised Gaussian vectors), so every entry is
    nonzero almost surely: an error anywhere in a gradient shows in every
    directional derivative.

    .. math::
        v_k = \frac{z_k}{\lVert z_k \rVert_2}, \qquad
        z_k \sim \mathcal N(0, I_n), \quad n = \textstyle\prod \texttt{shape},

    drawn from ``np.random.default_rng(seed)``.

    Example:
        >>> V = random_directions((2, 3), 4, seed=0)
        >>> V.shape, np.allclose(np.sum(V**2, axis=(1, 2)), 1.0)
        ((4, 2, 3), True)
    """
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((k, int(np.prod(shape, dtype=np.int64))))
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    return z.reshape(k, *shape)


def directional_derivatives(
    f: Callable[[np.ndarray], Any],
    x: Any,
    directions: np.ndarray,
    *,
    step_scale: Any = None,
    f_scale: float | None = None,
    f_noise: float | None = None,
    grad_magnitude: Any = None,
    batched: bool = False,
    f_dtype: Any = np.float64,
) -> DirectionalResult:
    r"""Derivatives of f at x along each of k directions; cost 1 + 6k, whatever x's size.

    The step along :math:`v` is :math:`t = \varepsilon^{1/5} / \lVert v / s \rVert`
    with :math:`s` = ``step_scale``, so no entry moves by more than
    :math:`\varepsilon^{1/5} s_i`. The error bound is that of
    :func:`numerical_gradient` applied to :math:`g(t) = f(x + t v)`; rounding
    of the points :math:`x + t v` adds :math:`\varepsilon \sum_i m_i (|x_i| + 4t|v_i|)`
    to the noise when ``grad_magnitude`` (:math:`m`, an estimate of
    :math:`|\partial f / \partial x_i|`, scalar or shape of x) is given; with
    the default step scale that term is below :math:`\varepsilon^{4/5}` of the
    derivative's scale and is omitted otherwise.

    Args:
        f, x, step_scale, f_scale, f_noise, batched, f_dtype: as in
            :func:`numerical_gradient`.
        directions: ``(k, *x.shape)``, e.g. from :func:`random_directions`.
        grad_magnitude: optional, see above.

    Returns:
        :class:`DirectionalResult`.

    Example:
        >>> x = np.array([1.0, 2.0]); V = np.array([[0.6, 0.8]])
        >>> r = directional_derivatives(lambda v: v[0] * v[1] ** 2, x, V)
        >>> bool(abs(r.value[0] - (0.6 * 4 + 0.8 * 4)) <= r.error_bound[0]), r.n_evals
        (True, 7)
    """
    point = _as_point(x)
    V = np.asarray(directions, dtype=np.float64)
    if V.shape[1:] != point.shape:
        raise ValueError(
            f"directions must have shape (k, *x.shape) = (k, {', '.join(map(str, point.shape))}); "
            f"got {V.shape}"
        )
    eps = tolerances_for(f_dtype).eps
    factor = tolerances_for(np.float64).fd_roundoff_factor
    k = V.shape[0]
    Vf = V.reshape(k, -1)
    scale = (
        np.maximum(1.0, np.abs(point))
        if step_scale is None
        else np.broadcast_to(np.asarray(step_scale, dtype=np.float64), point.shape)
    ).reshape(-1)
    if not (np.all(np.isfinite(scale)) and np.all(scale > 0)):
        raise ValueError("step_scale must be finite and > 0 everywhere")
    steps = eps ** (1 / 5) / np.linalg.norm(Vf / scale, axis=1)
    x_abs = np.abs(point.reshape(-1))
    if grad_magnitude is None:

        def point_noise(grad_abs: np.ndarray) -> np.ndarray:
            return np.zeros_like(grad_abs)

    else:
        m = np.broadcast_to(np.asarray(grad_magnitude, dtype=np.float64), point.shape).reshape(-1)

        def point_noise(grad_abs: np.ndarray) -> np.ndarray:
            return eps * ((m * x_abs).sum() + 4 * steps * (np.abs(Vf) * m).sum(axis=1))

    st = _stencil(
        f,
        point,
        Vf,
        steps,
        batched=batched,
        f_noise=f_noise,
        f_scale=f_scale,
        point_noise=point_noise,
        roundoff_factor=factor,
        eps=eps,
    )
    return DirectionalResult(
        directions=V,
        value=st.estimate,
        error_bound=st.bound,
        kink=st.kink,
        kink_allowance=st.allowance,
        step=steps,
        f0=st.f0,
        n_evals=st.n_evals,
    )


def sample_coordinates(block_sizes: Sequence[int], n: int, seed: int) -> np.ndarray:
    r"""``n`` distinct flat indices into consecutive blocks, at least one in every block.

    The blocks (e.g. the entries of W, then of b) are laid end to end; each
    gets one index first, the rest are shared in proportion to block size,
    all drawn without replacement. ``n`` at least the total returns everything.
    For blocks of sizes :math:`m_1, \dots, m_B` (W ``(D, C)`` and b ``(C,)``
    give :math:`m = (DC, C)`), block :math:`j` gets

    .. math::
        c_j = 1 + \Big\lfloor (n - B)\, \frac{m_j - 1}{\sum_l (m_l - 1)} \Big\rfloor
        \;(+1 \text{ for the largest remainders, until } \textstyle\sum_j c_j = n)

    indices, drawn seeded from ``np.random.default_rng(seed)``. Returns the
    sorted indices, shape ``(n,)`` (or every index when ``n`` is at least
    :math:`\sum_j m_j`).

    Example:
        >>> idx = sample_coordinates([12, 3], 5, seed=0)
        >>> len(idx), len(set(idx.tolist())), bool((idx >= 12).any() and (idx < 12).any())
        (5, 5, True)
    """
    sizes = np.asarray(block_sizes, dtype=np.int64)
    if sizes.ndim != 1 or np.any(sizes < 1):
        raise ValueError(f"block_sizes must be positive integers; got {list(block_sizes)}")
    total = int(sizes.sum())
    if n < len(sizes):
        raise ValueError(
            f"n must be at least the number of blocks ({len(sizes)}) to cover each; got {n}"
        )
    if n >= total:
        return np.arange(total)
    rng = np.random.default_rng(seed)
    # One per block, then the remainder by largest share of the remaining room.
    counts = np.ones(len(sizes), dtype=np.int64)
    room = sizes - 1
    extra = n - len(sizes)
    share = np.floor(extra * room / max(1, room.sum())).astype(np.int64)
    counts += share
    left = extra - int(share.sum())
    order = np.argsort(-(extra * room / max(1, room.sum()) - share), kind="stable")
    for i in order:
        if left == 0:
            break
        if counts[i] < sizes[i]:
            counts[i] += 1
            left -= 1
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    picks = [
        off + rng.choice(size, size=int(c), replace=False)
        for off, size, c in zip(offsets, sizes, counts, strict=True)
    ]
    return np.sort(np.concatenate(picks))
