r"""The three-way check: ANALYTIC vs JAX vs finite differences (FD), the engine.

Three pairs are compared for every parameter's gradient, entry by entry:

=================  ===============================================================
ANALYTIC vs JAX    tight: both are exact formulas, they may differ by rounding only.
                   Per entry ``exact_rtol * |JAX| + exact_atol_factor * eps * scale``
                   (verification/tolerances.py), ``eps`` of the analytic's dtype,
                   ``scale`` the size of the terms that round into the entry. Always
                   over every entry, whatever the mode: both gradients are at hand.
ANALYTIC vs FD     FD's own per-entry error bound plus the analytic's rounding.
JAX vs FD          FD's bound plus JAX's (float64) rounding.
=================  ===============================================================

and the loss values ANALYTIC vs JAX, with the same tight rule. Tolerances are
never scaled by the number of entries. FD entries classified as kinks are not
compared; an FD error beyond the bound but within the entry's kink allowance
(what a kink too small for FD's kink test could explain, see
verification.finite_diff) is inconclusive, not a failure.

**What FD differentiates.** By default the *oracle's* forward: the oracle is
the reference definition of the loss. A derivation that changes loss and
gradient consistently (the regulariser doubled in both, say) is then still
caught, by the loss comparison and by FD agreeing with JAX, and blamed on the
analytic side, which is where such an error lives. ``fd_function`` can point
FD elsewhere (for example at the analytic's own forward, to ask only whether a
gradient is consistent with its loss).

**Diagnosis.** A pair *agrees* when none of its comparisons fails (kinks and
inconclusive entries are not failures); the set of disagreeing pairs decides
who is blamed, as the table of :mod:`verification.diagnosis` says, where a
loss that differs is told apart as "two different functions" and the Taylor
remainder test (:mod:`verification.taylor`) joins as supporting evidence.

**Rounding scales.** Unless ``scales`` is given, each entry's scale is
measured by probing the oracle at points moved by a few ulps
(:mod:`verification.rounding`), never below the parameter's largest entry:
near a stationary point the gradient is tiny and its rounding is not.

**A lower-precision oracle.** The oracle's results (and FD's function's) are
read for their dtype. A float32 oracle for float64 parameters makes JAX
only as precise as float32: an ANALYTIC vs JAX difference within float32's
rounding of the entry is inconclusive, not a failure, FD differentiates with
float32's noise, and the report says so in a note and in the diagnosis. An
error beyond float32's rounding (a factor of 1.001) still fails. Below
float32 (float16, bfloat16) the check refuses, naming the oracle.

**Underflow.** XLA on CPU treats subnormal numbers as zero, in and out, so
the oracle is exact only down to the smallest normal float (``tiny``); the
exact comparisons add a floor of ``tiny`` (for softmax, ``tiny`` times the
sensitivity of each quantity to inputs moved by ``tiny``, see
:func:`verification.models.softmax_scales`).

**Float32.** The analytic side runs in float32; JAX and FD run in float64 at
the same point (float32 values are exact in float64), so JAX is the float64
truth. ANALYTIC vs JAX then uses the float32 row of the tolerance table: it
measures float32 rounding against the truth. FD is never run in float32.

**Where things are.** The report types are in :mod:`verification.report`;
the checks of this project's models, which wire a model's oracle, its FD
forward and its rounding scales to :func:`check`, are in
:mod:`verification.models`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .diagnosis import diagnose
from .finite_diff import (
    directional_derivatives,
    numerical_gradient,
    random_directions,
    sample_coordinates,
)
from .report import ANALYTIC, FD, JAX, PAIRS, Comparison, Report, failure_pattern
from .rounding import measure_rounding
from .taylor import taylor_test
from .tolerances import Tolerances, tolerances_for

__all__ = ["Comparison", "Report", "check"]

MODES = ("full", "sampled", "directional")

GradFn = Callable[[dict[str, np.ndarray]], tuple[Any, Mapping[str, Any]]]


def __getattr__(name: str) -> Any:
    # ``verification.compare.check_softmax`` and ``softmax_scales`` stay importable
    # from here; they live in verification.models, which imports this module, so
    # they are looked up on first use rather than imported at the top.
    if name in ("check_softmax", "softmax_scales"):
        from . import models

        return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- comparing arrays -------------------------------------------------------------


def _compare(
    quantity: str,
    pair: tuple[str, str],
    a: np.ndarray,
    b: np.ndarray,
    tol: np.ndarray,
    values: Mapping[str, np.ndarray | None],
    *,
    checked: np.ndarray | None = None,
    kink: np.ndarray | None = None,
    unresolved: np.ndarray | None = None,
    allowance: np.ndarray | None = None,
) -> Comparison:
    """Entry-wise ``|a - b| <= tol``; ``unresolved`` entries (FD too coarse) cannot pass.

    ``allowance`` (FD's ``kink_allowance``): an error above ``tol`` but within
    ``tol + allowance`` could come from a kink too small for FD to classify,
    so it is inconclusive, not a failure.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    shape = a.shape
    tol = np.broadcast_to(np.asarray(tol, dtype=np.float64), shape)
    checked = np.ones(shape, bool) if checked is None else checked
    kink = np.zeros(shape, bool) if kink is None else (kink & checked)
    unresolved = np.zeros(shape, bool) if unresolved is None else unresolved
    slack = np.zeros(shape) if allowance is None else np.broadcast_to(allowance, shape)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        err = np.abs(a - b)
        # A non-finite value on either side (NaN, inf from overflow) is an
        # infinite error; identical infinities are no agreement either.
        err = np.where(np.isfinite(a) & np.isfinite(b), err, np.inf)
        # FD that could not be evaluated (non-finite estimate or bound) decides nothing.
        usable = np.isfinite(tol)
        beyond = checked & ~kink & usable & ~(err <= tol)
        # NaN slack (an unchecked entry) is no slack.
        fail = beyond & ~(err <= tol + np.nan_to_num(slack))
        inconclusive = checked & ~kink & ~fail & (~usable | unresolved | beyond)
        mag = np.maximum(np.abs(a), np.abs(b))
        rel = np.where(err == 0, 0.0, err / mag)
        ratio = np.where(err == 0, 0.0, err / tol)
    compared = checked & ~kink
    pool = fail if fail.any() else (compared if compared.any() else checked)
    if pool.any():
        score = np.where(pool, np.nan_to_num(ratio, nan=np.inf), -1.0)
        worst = np.unravel_index(int(np.argmax(score)), shape) if shape else ()
    else:
        worst = ()
    if fail.any():
        verdict = "fail"
    elif inconclusive.any():
        verdict = "inconclusive"
    elif kink.any():
        verdict = "kink"
    else:
        verdict = "pass"
    w = tuple(int(i) for i in worst)

    def at(arr: np.ndarray | None) -> float | None:
        if arr is None:
            return None
        v = float(np.asarray(arr, dtype=np.float64)[w])
        return None if (math.isnan(v) and not checked[w]) else v

    comp_err = err[compared] if compared.any() else np.zeros(0)
    comp_rel = rel[compared] if compared.any() else np.zeros(0)
    return Comparison(
        quantity=quantity,
        pair=pair,
        verdict=verdict,
        max_abs_err=float(comp_err.max()) if comp_err.size else 0.0,
        max_rel_err=float(comp_rel.max()) if comp_rel.size else 0.0,
        worst_index=w,
        values={k: at(v) for k, v in values.items()},
        bound=float(tol[w]) if pool.any() else math.nan,
        n_compared=int(checked.sum()),
        n_failed=int(fail.sum()),
        n_kinks=int(kink.sum()),
        n_inconclusive=int(inconclusive.sum()),
        pattern=failure_pattern(fail, compared),
    )


# --- the generic check -------------------------------------------------------------


def _scalar(who: str, value: Any) -> float:
    a = np.asarray(value)
    if a.size != 1 or a.dtype.kind not in "biuf":
        raise TypeError(f"{who} must return a real scalar loss; got {a.dtype} of shape {a.shape}")
    return float(a.reshape(()))


def _precision(who: str, value: Any, arrays: Any) -> np.dtype:
    """The lowest floating precision among a function's results (float64 for Python floats).

    Raises:
        ValueError: below float32 (float16, bfloat16), which no tolerance row covers.
    """
    found: np.dtype = np.dtype(np.float64)
    for a in [value, *arrays]:
        dt = np.asarray(a).dtype
        if dt.kind in "biu" or (dt.kind == "f" and dt.itemsize >= 8):
            continue
        if dt == np.float32:
            found = np.dtype(np.float32)
            continue
        raise ValueError(
            f"{who} returned {dt} results; the check needs float32 or float64 (compute "
            "the oracle in float64: check_gradient builds it so)"
        )
    return found


def _grads(who: str, out: Any, params: Mapping[str, np.ndarray]) -> tuple[float, dict[str, Any]]:
    if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], Mapping)):
        raise TypeError(f"{who} must return (loss, grads dict); got {type(out).__name__}")
    loss, grads = out
    if set(grads) != set(params):
        raise ValueError(
            f"{who} returned gradients for {sorted(grads)}; expected the keys of params "
            f"{sorted(params)}"
        )
    result = {}
    for name, p in params.items():
        g = np.asarray(grads[name])
        if g.shape != p.shape:
            raise ValueError(
                f"{who} returned grads[{name!r}] of shape {g.shape}; expected {p.shape} "
                f"like params[{name!r}]"
            )
        result[name] = g
    return _scalar(who, loss), result


def _rounding_tol(
    tol: Tolerances, reference: np.ndarray, scale: Any, floor: Any = 0.0
) -> np.ndarray:
    return (
        tol.exact_rtol * np.abs(reference)
        + tol.exact_atol_factor * tol.eps * np.asarray(scale)
        + np.asarray(floor)
    )


def check(
    analytic: GradFn,
    oracle: GradFn,
    params: Mapping[str, Any],
    *,
    fd_function: Callable[[dict[str, np.ndarray]], Any] | None = None,
    fd_batched: bool = False,
    mode: str = "full",
    seed: int = 0,
    n_coords: int | None = None,
    n_directions: int = 4,
    scales: Mapping[str, Any] | None = None,
    loss_scale: float | None = None,
    step_scale: Mapping[str, Any] | None = None,
    underflow: Mapping[str, Any] | None = None,
    taylor: bool = True,
) -> Report:
    r"""Check a model's gradient three ways at one point: ANALYTIC, JAX and FD.

    For every entry :math:`i` of every parameter's gradient (the parameter's
    shape, e.g. dW ``(D, C)``), with :math:`A`, :math:`J`, :math:`F` the
    ANALYTIC, JAX and FD values:

    .. math::
        \begin{aligned}
        |A_i - J_i| &\le \tau_i, \qquad
            \tau_i = r\,|J_i| + k\,\varepsilon\,s_i + u_i, \\
        |A_i - F_i| &\le \beta_i + \tau_i, \qquad
        |J_i - F_i| \le \beta_i + \tau^{64}_i,
        \end{aligned}

    and the loss :math:`|A - J| \le \tau`. Here :math:`r` and :math:`k` are
    ``exact_rtol`` and ``exact_atol_factor`` of the analytic dtype's row of
    the tolerance table (:math:`\tau^{64}`: of float64's), :math:`\varepsilon`
    its machine epsilon, :math:`s_i` the ``scales``, :math:`u_i` the
    ``underflow`` floor and :math:`\beta_i` FD's error bound. FD entries on a
    kink are not compared; an FD error between the bound and the bound plus
    FD's kink allowance is inconclusive, as is any entry FD cannot resolve.

    Args:
        analytic: ``analytic(params) -> (loss, grads)``, ``grads`` a dict with
            the keys and shapes of ``params``: the hand-derived gradient.
        oracle: the same signature: the JAX oracle, called with float64 copies.
        params: named parameter arrays, e.g. ``{"W": W, "b": b}``; never
            modified (each side gets its own copy). float32 when all are float32.
        fd_function: the scalar function FD differentiates, ``f(params) ->
            float``; with ``fd_batched=True`` it takes each array with a
            leading axis of K points and returns ``(K,)``. Default: the
            oracle's loss, ``oracle(params)[0]``.
        fd_batched: see ``fd_function``.
        mode: ``"full"`` (FD on every entry), ``"sampled"`` (``n_coords``
            seeded entries, every parameter covered, no entry twice) or
            ``"directional"`` (``n_directions`` seeded unit directions; cost
            independent of the number of parameters). ANALYTIC vs JAX always
            compares every entry.
        seed: for the sampled entries or directions.
        n_coords: sampled mode's number of entries; default ``max(#params, 32)``.
        n_directions: directional mode's number of directions.
        scales: per parameter, scalar or array of its shape: the size of the
            terms whose rounding enters each gradient entry (the absolute floor
            of the tight comparison). Default: measured by probing the
            oracle at points moved by a few ulps
            (:func:`~verification.rounding.measure_rounding`), never below the
            parameter's largest gradient entry; near a stationary point the
            gradient is small but the rounding of its terms is not.
        loss_scale: the same for the loss (and f_scale for FD); default
            measured likewise, never below |loss|.
        step_scale: per parameter, FD's step scale (see
            :func:`~verification.finite_diff.numerical_gradient`).
        underflow: per parameter (and ``"loss"``), an absolute floor added to
            the exact comparisons for values lost below the smallest normal
            float: XLA on CPU flushes subnormal inputs and results to zero, and
            a float32 analytic underflows where float64 does not. Default: the
            smallest normal number of the analytic's dtype, for every entry.
        taylor: run the Taylor remainder test (:mod:`verification.taylor`)
            along two seeded directions, 52 evaluations of FD's function; its
            verdicts join the diagnosis as supporting evidence.

    Returns:
        A :class:`Report`.

    Example:
        >>> t = np.array([1.0, -2.0])
        >>> def oracle(p):
        ...     return float(np.sum((p["w"] - t) ** 2)), {"w": 2 * (p["w"] - t)}
        >>> def wrong(p):   # a derivation that forgot the factor 2
        ...     return oracle(p)[0], {"w": p["w"] - t}
        >>> r = check(wrong, oracle, {"w": np.array([0.5, 0.5])})
        >>> r.ok, r.blame
        (False, 'ANALYTIC')
        >>> r.diagnosis
        'ANALYTIC disagrees with JAX and FD, which agree: dw[1] (2 of 2, everything)'
        >>> print(r.evidence)   # doctest: +NORMALIZE_WHITESPACE
        The Taylor remainder test agrees: ANALYTIC's remainder shrinks like h
        (slopes 1.0, 1.0), JAX's like h^2 (2.0, 2.0).
        >>> check(oracle, oracle, {"w": np.array([0.5, 0.5])}).ok
        True
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
    dtype, p_analytic, p64 = _read_params(params)
    tol_a, tol_64 = tolerances_for(dtype), tolerances_for(np.float64)

    a_loss, a_grads = _grads("analytic", analytic(p_analytic), p_analytic)
    j_raw = oracle({k: v.copy() for k, v in p64.items()})
    j_loss, j_grads = _grads("oracle", j_raw, p64)
    # The oracle's own precision: a float32 oracle for float64 parameters makes
    # JAX (and FD of its forward) only as precise as float32, whatever ANALYTIC is.
    j_dtype = _precision("oracle", j_raw[0], j_grads.values())
    tol_j = tolerances_for(j_dtype)
    a_grads = {k: np.asarray(v, dtype=np.float64) for k, v in a_grads.items()}
    j_grads = {k: np.asarray(v, dtype=np.float64) for k, v in j_grads.items()}

    # FD works on one flat vector of every parameter's entries.
    flat = _Flat.of(p64)
    f_flat, batched = _fd_objective(flat, oracle, fd_function, fd_batched)
    x = flat.join(p64)
    f0_raw = f_flat(x[None]) if batched else f_flat(x)
    fd_dtype = _precision("fd_function" if fd_function else "oracle", f0_raw, [])
    f0 = _scalar("fd_function", np.asarray(f0_raw).reshape(-1)[0])
    low = max((j_dtype, fd_dtype), key=lambda t: tolerances_for(t).eps)
    precision = str(low) if low != np.float64 else None
    source = "oracle" if j_dtype != np.float64 or fd_function is None else "fd_function"

    measured = None
    if (scales is None or loss_scale is None) and j_dtype == np.float64:
        measured = measure_rounding(lambda p, d: oracle(p), p64, seed=seed)
    if scales is None and measured is not None:
        scales = measured.grad_scales
    scale = _gradient_scales(scales or {}, j_grads, p64)
    if loss_scale is not None:
        l_scale = float(loss_scale)
    else:
        l_scale = measured.loss_scale if measured is not None else abs(j_loss)
    tiny = float(np.finfo(dtype).tiny)
    underflow = dict(underflow or {})
    floor = {k: np.broadcast_to(np.asarray(underflow.get(k, tiny)), p64[k].shape) for k in p64}
    loss_floor = float(underflow.get("loss", tiny))

    def exact(value_a: np.ndarray, value_j: np.ndarray, s: Any, fl: Any) -> dict[str, Any]:
        # The tight rule; with a lower-precision oracle, what its own rounding
        # could explain beyond that is inconclusive, not a failure.
        out: dict[str, Any] = {"tol": _rounding_tol(tol_a, value_j, s, fl)}
        if j_dtype != np.float64:
            out["allowance"] = _rounding_tol(tol_j, value_j, s, fl)
        return out

    loss_tol = exact(np.asarray(a_loss), np.asarray(j_loss), l_scale, loss_floor)
    comparisons = [
        _compare(
            "loss",
            (ANALYTIC, JAX),
            np.asarray(a_loss),
            np.asarray(j_loss),
            loss_tol["tol"],
            {ANALYTIC: np.asarray(a_loss), JAX: np.asarray(j_loss), FD: None},
            allowance=loss_tol.get("allowance"),
        )
    ]
    for k in p64:
        t = exact(a_grads[k], j_grads[k], scale[k], floor[k])
        comparisons.append(
            _compare(
                f"d{k}",
                (ANALYTIC, JAX),
                a_grads[k],
                j_grads[k],
                t["tol"],
                {ANALYTIC: a_grads[k], JAX: j_grads[k], FD: None},
                allowance=t.get("allowance"),
            )
        )

    steps = None
    if step_scale is not None:
        # Parameters without an entry keep the default scale max(1, |x|).
        steps = flat.join(
            {
                k: np.asarray(step_scale[k], dtype=np.float64)
                if k in step_scale
                else np.maximum(1.0, np.abs(p64[k]))
                for k in flat.names
            }
        )
    scale_flat = flat.join(scale)
    # FD's resolution is judged against each parameter's own gradient size.
    resolution = flat.join({k: np.max(np.abs(j_grads[k]), initial=0.0) for k in flat.names})
    j_flat = flat.join(j_grads)
    floor_flat = flat.join(floor)
    fd_tol = {
        ANALYTIC: _rounding_tol(tol_a, j_flat, scale_flat, floor_flat)
        + (0.0 if j_dtype == np.float64 else _rounding_tol(tol_j, j_flat, scale_flat, floor_flat)),
        JAX: _rounding_tol(
            tol_j if j_dtype != np.float64 else tol_64, j_flat, scale_flat, floor_flat
        ),
    }
    grads = {ANALYTIC: a_grads, JAX: j_grads}
    fd_args = (f_flat, x, steps, l_scale, batched, resolution, tol_64.fd_inconclusive_rtol)

    notes = []
    if mode in ("full", "sampled"):
        coords = None
        if mode == "sampled":
            n = max(len(flat.names), 32) if n_coords is None else n_coords
            coords = sample_coordinates(flat.sizes, n, seed)
        n_evals, fd_rows = _fd_entries(
            flat, grads, fd_tol, *fd_args, coords=coords, f_dtype=fd_dtype
        )
        if mode == "sampled":
            n_checked = sum(c.n_compared for c in fd_rows if c.pair == (ANALYTIC, FD))
            notes.append(
                f"FD sampled {n_checked} of {x.size} entries (seed {seed}); "
                "ANALYTIC vs JAX compared every entry."
            )
    else:
        V = random_directions(x.shape, n_directions, seed)
        n_evals, fd_rows = _fd_directions(flat, grads, fd_tol, *fd_args, V=V, f_dtype=fd_dtype)
        notes = [
            f"FD along {n_directions} random unit directions (seed {seed}); "
            "ANALYTIC vs JAX compared every entry."
        ]
    comparisons += fd_rows
    n_taylor = 1  # the evaluation at x that read f's precision
    taylor_results: list[Any] = []
    if taylor:
        s_flat = steps if steps is not None else np.maximum(1.0, np.abs(x))
        Z = random_directions(x.shape, 2, seed + 1)
        eps_fd = tolerances_for(fd_dtype).eps
        g_abs = np.nan_to_num(np.abs(j_flat), posinf=0.0)
        f_noise = tol_64.fd_roundoff_factor * eps_fd * l_scale + eps_fd * float(np.abs(x) @ g_abs)
        taylor_results, n_t = taylor_test(
            f_flat,
            x,
            {ANALYTIC: flat.join(a_grads), JAX: j_flat},
            Z * s_flat,
            f_noise=f_noise,
            grad_tol=fd_tol,
            batched=batched,
            f0=f0,
        )
        n_taylor += n_t
    if precision:
        exact_part = (
            f"ANALYTIC vs JAX is decided only beyond {precision} rounding (the rest is "
            "inconclusive), and "
            if j_dtype != np.float64
            else ""
        )
        notes.append(
            f"The {source} computes in {precision} for float64 parameters: {exact_part}"
            f"FD of a {precision} function resolves little."
        )

    order = {pair: i for i, pair in enumerate(PAIRS)}
    comparisons.sort(key=lambda c: (c.quantity != "loss", order[c.pair]))
    blame, diagnosis, evidence = diagnose(
        comparisons, taylor_results, precision=precision, source=source
    )
    return Report(
        comparisons=tuple(comparisons),
        blame=blame,
        diagnosis=diagnosis,
        n_function_evals=n_evals,
        mode=mode,
        seed=seed,
        dtype=str(dtype),
        notes=tuple(notes),
        taylor=tuple(taylor_results),
        evidence=evidence,
        n_taylor_evals=n_taylor,
    )


# --- the steps of the check ---------------------------------------------------------


def _read_params(
    params: Mapping[str, Any],
) -> tuple[np.dtype, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Validate ``params``; return the analytic's dtype, its copies and float64 copies."""
    if not isinstance(params, Mapping) or not params:
        raise TypeError("params must be a non-empty dict of named arrays")
    user: dict[str, np.ndarray] = {}
    for name, value in params.items():
        a = np.array(value)  # a copy
        if a.dtype.kind not in "biuf":
            raise TypeError(f"params[{name!r}] must hold real numbers; got dtype {a.dtype}")
        if a.dtype.kind != "f":
            a = a.astype(np.float64)
        if not np.all(np.isfinite(a)):
            raise ValueError(f"params[{name!r}] must be finite")
        user[name] = a
    all32 = all(a.dtype == np.float32 for a in user.values())
    dtype = np.dtype(np.float32) if all32 else np.dtype(np.float64)
    p_analytic = {k: v.astype(dtype) for k, v in user.items()}
    p64 = {k: v.astype(np.float64) for k, v in user.items()}
    return dtype, p_analytic, p64


def _gradient_scales(
    scales: Mapping[str, Any], j_grads: dict[str, np.ndarray], p64: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Each parameter's rounding scale: the caller's, or its largest finite JAX entry."""
    out = {}
    for k in p64:
        if k in scales:
            out[k] = np.broadcast_to(np.asarray(scales[k], dtype=np.float64), p64[k].shape)
        else:
            finite = np.abs(j_grads[k][np.isfinite(j_grads[k])])
            out[k] = np.full(p64[k].shape, finite.max() if finite.size else 0.0)
    return out


@dataclass(frozen=True)
class _Flat:
    """The parameters laid end to end in one vector, in the order of ``names``."""

    names: list[str]
    shapes: list[tuple[int, ...]]
    sizes: list[int]
    bounds: np.ndarray

    @classmethod
    def of(cls, params: Mapping[str, np.ndarray]) -> _Flat:
        names = list(params)
        shapes = [params[k].shape for k in names]
        sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
        return cls(names, shapes, sizes, np.cumsum([0, *sizes]))

    def join(self, arrays: Mapping[str, Any]) -> np.ndarray:
        """One vector of every parameter's entries (a scalar fills its parameter)."""
        return np.concatenate(
            [
                np.broadcast_to(np.asarray(arrays[k], dtype=np.float64), shape).reshape(-1)
                for k, shape in zip(self.names, self.shapes, strict=True)
            ]
        )

    def part(self, i: int) -> slice:
        return slice(int(self.bounds[i]), int(self.bounds[i + 1]))

    def split(self, v: np.ndarray, lead: tuple[int, ...] = ()) -> dict[str, np.ndarray]:
        """The inverse of :meth:`join`; ``lead`` axes of ``v`` (a batch) come first."""
        return {
            k: v[..., self.part(i)].reshape((*lead, *self.shapes[i]))
            for i, k in enumerate(self.names)
        }


def _fd_objective(
    flat: _Flat,
    oracle: GradFn,
    fd_function: Callable[[dict[str, np.ndarray]], Any] | None,
    fd_batched: bool,
) -> tuple[Callable[[np.ndarray], Any], bool]:
    """The function FD differentiates, of the flat vector; and whether it takes a batch."""
    if fd_function is None:

        def f_oracle(v: np.ndarray) -> Any:
            value = oracle(flat.split(v))[0]
            _scalar("oracle", value)
            return value  # unconverted: the check reads its precision

        return f_oracle, False
    fd = fd_function
    if fd_batched:

        def f_batch(v: np.ndarray) -> Any:
            return fd(flat.split(v, (v.shape[0],)))

        return f_batch, True

    def f_single(v: np.ndarray) -> Any:
        return fd(flat.split(v))

    return f_single, False


def _fd_entries(
    flat: _Flat,
    grads: dict[str, dict[str, np.ndarray]],
    fd_tol: dict[str, np.ndarray],
    f_flat: Callable[[np.ndarray], Any],
    x: np.ndarray,
    steps: np.ndarray | None,
    f_scale: float,
    batched: bool,
    resolution: np.ndarray,
    rtol: float,
    *,
    coords: np.ndarray | None,
    f_dtype: Any = np.float64,
) -> tuple[int, list[Comparison]]:
    """FD on every entry (or the sampled ``coords``), compared with ANALYTIC and with JAX.

    An entry whose FD error bound exceeds ``rtol * resolution`` is unresolved.
    """
    fd = numerical_gradient(
        f_flat,
        x,
        coords=coords,
        step_scale=steps,
        f_scale=f_scale,
        batched=batched,
        f_dtype=f_dtype,
    )
    unresolved = fd.error_bound > rtol * resolution
    rows = []
    for i, k in enumerate(flat.names):
        sl, shp = flat.part(i), flat.shapes[i]
        view = {
            "checked": fd.checked[sl].reshape(shp),
            "kink": fd.kink[sl].reshape(shp),
            "unresolved": unresolved[sl].reshape(shp),
            "allowance": fd.kink_allowance[sl].reshape(shp),
        }
        fd_g = fd.grad[sl].reshape(shp)
        fd_bound = fd.error_bound[sl].reshape(shp)
        vals = {ANALYTIC: grads[ANALYTIC][k], JAX: grads[JAX][k], FD: fd_g}
        for side in (ANALYTIC, JAX):
            bound = fd_bound + fd_tol[side][sl].reshape(shp)
            rows.append(_compare(f"d{k}", (side, FD), grads[side][k], fd_g, bound, vals, **view))
    return fd.n_evals, rows


def _fd_directions(
    flat: _Flat,
    grads: dict[str, dict[str, np.ndarray]],
    fd_tol: dict[str, np.ndarray],
    f_flat: Callable[[np.ndarray], Any],
    x: np.ndarray,
    steps: np.ndarray | None,
    f_scale: float,
    batched: bool,
    resolution: np.ndarray,
    rtol: float,
    *,
    V: np.ndarray,
    f_dtype: Any = np.float64,
) -> tuple[int, list[Comparison]]:
    """FD along the rows of ``V``, compared with ANALYTIC's and JAX's ``V @ grad``."""
    a_flat, j_flat = flat.join(grads[ANALYTIC]), flat.join(grads[JAX])
    magnitude = np.maximum(np.abs(a_flat), np.abs(j_flat))
    magnitude = np.where(np.isfinite(magnitude), magnitude, 0.0)
    dd = directional_derivatives(
        f_flat,
        x,
        V,
        step_scale=steps,
        f_scale=f_scale,
        grad_magnitude=magnitude,
        batched=batched,
        f_dtype=f_dtype,
    )
    with np.errstate(invalid="ignore", over="ignore"):
        along = {ANALYTIC: V @ a_flat, JAX: V @ j_flat}
        absV = np.abs(V)
        unresolved = dd.error_bound > rtol * (absV @ resolution)
        vals = {ANALYTIC: along[ANALYTIC], JAX: along[JAX], FD: dd.value}
        view = {"kink": dd.kink, "unresolved": unresolved, "allowance": dd.kink_allowance}
        rows = [
            _compare(
                "grad.v",
                (side, FD),
                along[side],
                dd.value,
                dd.error_bound + absV @ fd_tol[side],
                vals,
                **view,
            )
            for side in (ANALYTIC, JAX)
        ]
    return dd.n_evals, rows
