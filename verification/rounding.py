r"""How much rounding enters each entry of a gradient, measured on the oracle.

The three-way check allows ANALYTIC and JAX to differ, entry by entry, by a
multiple of :math:`\varepsilon\,s_i`, where :math:`s_i` is the size of the
terms whose rounding makes up entry :math:`i`. For the models of this
project :math:`s_i` is derived from the math (``verification.models``). For a
function the tool knows nothing of, it is measured here.

**The probe.** Evaluate the oracle at the point :math:`x` and at :math:`K`
copies :math:`x^{(k)}` whose every floating input (parameters and, where the
oracle takes them, data) is moved by a random relative amount of up to
:math:`4\varepsilon`, a few units in the last place:

.. math::
    x^{(k)}_j = x_j\,(1 + \varepsilon\,u^{(k)}_j), \quad u^{(k)}_j \sim U[-4, 4],
    \qquad
    m_i = \max_k \frac{|g_i(x^{(k)}) - g_i(x)|}{\varepsilon}.

Moving the inputs by an ulp changes every rounding downstream of them, and
each rounding error of a term :math:`t` is up to :math:`\varepsilon |t|`,
with a sign that changes with the inputs. So :math:`\varepsilon m_i` is the
size of the rounding noise of entry :math:`i` in this very computation, plus
the smooth part :math:`|H \Delta x|`, the gradient's response to inputs
rounded once more (no larger than the rounding of the inputs themselves
contributes). For a sum of :math:`N` terms of size :math:`t` the noise is
about :math:`\varepsilon\,t\sqrt N`; the maximum over :math:`K = 8` probes
makes a chance cancellation at one entry in all of them negligible (each
probe's change at an entry has a sign and size of its own).

**Why not the gradient's size.** Near a stationary point a gradient entry is
a near-cancelling sum of terms far larger than itself: weighted logistic
regression at its optimum has entries of 3e-11 made of terms of order 0.5.
Rounding is :math:`\varepsilon` times the terms, 1e-16 or so, not
:math:`\varepsilon` times the sum, 1e-27. The probe sees the terms' noise
without knowing the terms.

**What it cannot see.** Rounding that does not depend on the probed inputs
(terms computed from data the oracle closes over, when only the parameters
can be moved): such terms round the same way in every probe. The returned
scale is therefore never below the parameter's largest gradient entry, the
scale the check uses when nothing is known.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MeasuredRounding", "measure_rounding"]

# Probes: each costs one oracle call. With 8 the chance that an entry's noise
# happens to be below 1/64 of its size in every probe is below 1e-10 for
# independent signs and sizes.
N_PROBES = 8
# The relative move of each input: up to 4 units of eps, so that each input
# changes by a few ulps whatever its position within its binade.
JITTER_ULPS = 4.0


@dataclass(frozen=True)
class MeasuredRounding:
    """The measured rounding scales of a gradient and its loss.

    Attributes:
        grad_scales: per parameter, an array of its shape: :math:`s_i`, in
            the units of the values (the rounding is about eps times it).
        loss_scale: the same for the loss.
        noise: per parameter, the measured :math:`m_i` alone (before the
            floor of the parameter's largest gradient entry).
        n_evals: oracle calls made.
    """

    grad_scales: dict[str, np.ndarray]
    loss_scale: float
    noise: dict[str, np.ndarray]
    n_evals: int


def _jitter(a: np.ndarray, rng: np.random.Generator, eps: float) -> np.ndarray:
    if a.dtype.kind != "f":
        return a
    return a * (1.0 + eps * rng.uniform(-JITTER_ULPS, JITTER_ULPS, size=a.shape))


def measure_rounding(
    value_and_grad: Callable[[dict[str, np.ndarray], dict[str, np.ndarray]], Any],
    params: Mapping[str, np.ndarray],
    data: Mapping[str, np.ndarray] | None = None,
    *,
    seed: int = 0,
    n_probes: int = N_PROBES,
) -> MeasuredRounding:
    r"""Probe ``value_and_grad`` at ``n_probes`` jittered copies of the point (module notes).

    Args:
        value_and_grad: ``(params, data) -> (loss, grads)``, float64.
        params: ``{name: array}`` float64, the point.
        data: ``{name: array}``; its floating arrays are jittered as well.
        seed: seeds ``np.random.default_rng`` for the jitter.
        n_probes: :math:`K`.

    Returns:
        :class:`MeasuredRounding`: per parameter
        :math:`s_i = \max(m_i, \max_j |g_j|)` over that parameter's entries
        :math:`j`, and :math:`s_L = \max(m_L, |L|)` for the loss.

    Example:
        :math:`\sum_n (x_n \theta - y_n)^2`'s gradient at the least-squares
        solution is tiny; its rounding is not:

        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.normal(size=(50, 2)), rng.normal(size=50)
        >>> theta = np.linalg.lstsq(X, y, rcond=None)[0]
        >>> def vg(p, d):
        ...     r = d["X"] @ p["t"] - d["y"]
        ...     return float(r @ r), {"t": 2 * d["X"].T @ r}
        >>> m = measure_rounding(vg, {"t": theta}, {"X": X, "y": y})
        >>> g = vg({"t": theta}, {"X": X, "y": y})[1]["t"]
        >>> bool(np.all(np.abs(g) < 1e-13)), bool(np.all(m.grad_scales["t"] > 1.0))
        (True, True)
    """
    eps = float(np.finfo(np.float64).eps)
    data = dict(data or {})
    rng = np.random.default_rng(seed)
    p0 = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    loss0, grads0 = value_and_grad(dict(p0), data)
    loss0 = float(np.asarray(loss0, dtype=np.float64))
    g0 = {k: np.asarray(grads0[k], dtype=np.float64) for k in p0}
    dev = {k: np.zeros(v.shape) for k, v in p0.items()}
    loss_dev = 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        for _ in range(n_probes):
            pk = {k: _jitter(v, rng, eps) for k, v in p0.items()}
            dk = {k: _jitter(np.asarray(v), rng, eps) for k, v in data.items()}
            loss_k, grads_k = value_and_grad(pk, dk)
            d_loss = abs(float(np.asarray(loss_k, dtype=np.float64)) - loss0)
            if np.isfinite(d_loss):
                loss_dev = max(loss_dev, d_loss)
            for k in p0:
                change = np.abs(np.asarray(grads_k[k], dtype=np.float64) - g0[k])
                # A probe that leaves the finite range says nothing about rounding.
                dev[k] = np.maximum(dev[k], np.where(np.isfinite(change), change, 0.0))
    noise = {k: v / eps for k, v in dev.items()}
    scales = {}
    for k, g in g0.items():
        finite = np.abs(g[np.isfinite(g)])
        scales[k] = np.maximum(noise[k], finite.max() if finite.size else 0.0)
    loss_scale = max(loss_dev / eps, abs(loss0) if np.isfinite(loss0) else 0.0)
    return MeasuredRounding(scales, loss_scale, noise, 1 + n_probes)
