r"""The three-way check: ANALYTIC vs JAX vs finite differences (FD), and its report.

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
inconclusive entries are not failures). With the set of disagreeing pairs:

=========================================  =============  =======================
disagreeing pairs                          blame          meaning
=========================================  =============  =======================
none                                       None           all three agree
ANALYTIC-JAX and ANALYTIC-FD               ANALYTIC       two of three outvote it
ANALYTIC-JAX only                          ANALYTIC       the oracle outvotes it;
                                                          FD is too coarse to tell
ANALYTIC-JAX and JAX-FD                    JAX            two of three outvote it
ANALYTIC-FD and JAX-FD (or only one)       FD             the exact two agree
all three                                  None           no majority
=========================================  =============  =======================

**Underflow.** XLA on CPU treats subnormal numbers as zero, in and out, so
the oracle is exact only down to the smallest normal float (``tiny``); the
exact comparisons add a floor of ``tiny`` (for softmax, ``tiny`` times the
sensitivity of each quantity to inputs moved by ``tiny``, see
:func:`softmax_scales`).

**Float32.** The analytic side runs in float32; JAX and FD run in float64 at
the same point (float32 values are exact in float64), so JAX is the float64
truth. ANALYTIC vs JAX then uses the float32 row of the tolerance table: it
measures float32 rounding against the truth. FD is never run in float32.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from verification.finite_diff import (
    directional_derivatives,
    numerical_gradient,
    random_directions,
    sample_coordinates,
)
from verification.tolerances import Tolerances, tolerances_for

__all__ = ["Comparison", "Report", "check", "check_softmax"]

ANALYTIC, JAX, FD = "ANALYTIC", "JAX", "FD"
PAIRS = ((ANALYTIC, JAX), (ANALYTIC, FD), (JAX, FD))
VERDICTS = ("pass", "fail", "kink", "inconclusive")
MODES = ("full", "sampled", "directional")

GradFn = Callable[[dict[str, np.ndarray]], tuple[Any, Mapping[str, Any]]]


@dataclass(frozen=True)
class Comparison:
    r"""One quantity compared between two of ANALYTIC, JAX and FD.

    Over the compared entries :math:`i` of the quantity (a loss of shape
    ``()``, a gradient such as dW ``(D, C)``, or the ``(k,)`` directional
    derivatives), with :math:`a` and :math:`b` the pair's two values:

    .. math::
        \texttt{max\_abs\_err} = \max_i |a_i - b_i|, \qquad
        \texttt{max\_rel\_err} = \max_i \frac{|a_i - b_i|}{\max(|a_i|, |b_i|)}

    Attributes:
        quantity: ``"loss"``, ``"d" + name`` for a parameter's gradient (``"dW"``),
            or ``"grad.v"`` for directional derivatives (index = direction).
        pair: e.g. ``("ANALYTIC", "JAX")``.
        verdict: ``"fail"`` if any entry is out of bounds; else ``"inconclusive"``
            if FD could not resolve some entry (its bound too wide, or an error
            beyond it but within FD's kink allowance); else ``"kink"`` if some
            entry sits on a kink; else ``"pass"``.
        max_abs_err, max_rel_err: over the compared entries (kinks excluded);
            relative to the larger of the two magnitudes.
        worst_index: the entry with the largest error-to-bound ratio (a failing
            one when there is any).
        values: ANALYTIC, JAX and FD values at ``worst_index`` (None where that
            side has no value, e.g. FD for the loss or for an unsampled entry).
        bound: the tolerance used at ``worst_index``.
        n_compared, n_failed, n_kinks, n_inconclusive: entry counts.

    Example:
        The second comparison of a check whose gradient misses a factor 2:

        >>> t = np.array([1.0, -2.0])
        >>> def oracle(p):
        ...     return float(np.sum((p["w"] - t) ** 2)), {"w": 2 * (p["w"] - t)}
        >>> def wrong(p):   # a derivation that forgot the factor 2
        ...     return oracle(p)[0], {"w": p["w"] - t}
        >>> r = check(wrong, oracle, {"w": np.array([0.5, 0.5])})
        >>> c = r.comparisons[1]
        >>> c.quantity, c.pair, c.verdict, c.worst_index, c.values
        ('dw', ('ANALYTIC', 'JAX'), 'fail', (1,), {'ANALYTIC': 2.5, 'JAX': 5.0, 'FD': None})
        >>> c.max_abs_err, c.max_rel_err, c.n_compared, c.n_failed
        (2.5, 0.5, 2, 2)
    """

    quantity: str
    pair: tuple[str, str]
    verdict: str
    max_abs_err: float
    max_rel_err: float
    worst_index: tuple[int, ...]
    values: dict[str, float | None]
    bound: float
    n_compared: int
    n_failed: int
    n_kinks: int
    n_inconclusive: int

    @property
    def where(self) -> str:
        """``quantity[index]``, e.g. ``dW[3, 1]``; the loss is just ``loss``.

        The index is :attr:`worst_index`, into the quantity's shape (``(D, C)``
        for dW, ``()`` for the loss).

        Example:
            >>> t = np.array([1.0, -2.0])
            >>> def oracle(p):
            ...     return float(np.sum((p["w"] - t) ** 2)), {"w": 2 * (p["w"] - t)}
            >>> def wrong(p):   # a derivation that forgot the factor 2
            ...     return oracle(p)[0], {"w": p["w"] - t}
            >>> r = check(wrong, oracle, {"w": np.array([0.5, 0.5])})
            >>> r.comparisons[0].where, r.comparisons[1].where
            ('loss', 'dw[1]')
        """
        if not self.worst_index:
            return self.quantity
        return f"{self.quantity}[{', '.join(map(str, self.worst_index))}]"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: non-finite floats become the strings "NaN", "Infinity", "-Infinity".

        Example:
            >>> import dataclasses
            >>> t = np.array([1.0, -2.0])
            >>> def oracle(p):
            ...     return float(np.sum((p["w"] - t) ** 2)), {"w": 2 * (p["w"] - t)}
            >>> def wrong(p):   # a derivation that forgot the factor 2
            ...     return oracle(p)[0], {"w": p["w"] - t}
            >>> r = check(wrong, oracle, {"w": np.array([0.5, 0.5])})
            >>> d = r.comparisons[1].to_dict()
            >>> d["pair"], d["where"], d["worst_index"], d["values"]["FD"]
            (['ANALYTIC', 'JAX'], 'dw[1]', [1], None)
            >>> dataclasses.replace(r.comparisons[1], bound=float("inf")).to_dict()["bound"]
            'Infinity'
        """
        return {
            "quantity": self.quantity,
            "pair": list(self.pair),
            "verdict": self.verdict,
            "max_abs_err": _json_float(self.max_abs_err),
            "max_rel_err": _json_float(self.max_rel_err),
            "worst_index": list(self.worst_index),
            "where": self.where,
            "values": {k: _json_float(v) for k, v in self.values.items()},
            "bound": _json_float(self.bound),
            "n_compared": self.n_compared,
            "n_failed": self.n_failed,
            "n_kinks": self.n_kinks,
            "n_inconclusive": self.n_inconclusive,
        }


def _json_float(v: float | None) -> float | str | None:
    if v is None:
        return None
    v = float(v)
    if math.isfinite(v):
        return v
    return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")


@dataclass(frozen=True)
class Report:
    """The outcome of a three-way check.

    One :class:`Comparison` per quantity and pair: the loss (ANALYTIC vs JAX),
    then each parameter's gradient, of that parameter's shape (e.g. dW
    ``(D, C)``), for each of the three pairs. ``str(report)`` is the table
    the command line prints.

    Attributes:
        comparisons: every :class:`Comparison`, loss first, then each
            parameter's gradient for each pair.
        blame: ``"ANALYTIC"``, ``"JAX"``, ``"FD"`` or None (see the module's
            diagnosis table).
        diagnosis: one sentence naming the culprit and where it is wrong.
        n_function_evals: evaluations of the function FD differentiates.
        mode, seed, dtype: how the check ran.

    Example:
        >>> t = np.array([1.0, -2.0])
        >>> def oracle(p):
        ...     return float(np.sum((p["w"] - t) ** 2)), {"w": 2 * (p["w"] - t)}
        >>> def wrong(p):   # a derivation that forgot the factor 2
        ...     return oracle(p)[0], {"w": p["w"] - t}
        >>> r = check(wrong, oracle, {"w": np.array([0.5, 0.5])})
        >>> r.ok, r.blame, r.diagnosis
        (False, 'ANALYTIC', 'ANALYTIC disagrees with JAX and FD, which agree: dw[1]')
        >>> [(c.quantity, c.pair[0], c.pair[1], c.verdict) for c in r.comparisons]
        [('loss', 'ANALYTIC', 'JAX', 'pass'), ('dw', 'ANALYTIC', 'JAX', 'fail'),
         ('dw', 'ANALYTIC', 'FD', 'fail'), ('dw', 'JAX', 'FD', 'pass')]
        >>> r.mode, r.dtype, r.n_function_evals   # full mode: 1 + 6 per entry
        ('full', 'float64', 13)
    """

    comparisons: tuple[Comparison, ...]
    blame: str | None
    diagnosis: str
    n_function_evals: int
    mode: str
    seed: int
    dtype: str
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when no comparison failed (kinks and inconclusive entries are not failures).

        Example:
            >>> t = np.array([1.0, -2.0])
            >>> def oracle(p):
            ...     return float(np.sum((p["w"] - t) ** 2)), {"w": 2 * (p["w"] - t)}
            >>> def wrong(p):   # a derivation that forgot the factor 2
            ...     return oracle(p)[0], {"w": p["w"] - t}
            >>> r = check(wrong, oracle, {"w": np.array([0.5, 0.5])})
            >>> r.ok, check(oracle, oracle, {"w": np.array([0.5, 0.5])}).ok
            (False, True)
        """
        return all(c.verdict != "fail" for c in self.comparisons)

    def failures(self) -> list[Comparison]:
        """The failing comparisons.

        Example:
            >>> t = np.array([1.0, -2.0])
            >>> def oracle(p):
            ...     return float(np.sum((p["w"] - t) ** 2)), {"w": 2 * (p["w"] - t)}
            >>> def wrong(p):   # a derivation that forgot the factor 2
            ...     return oracle(p)[0], {"w": p["w"] - t}
            >>> r = check(wrong, oracle, {"w": np.array([0.5, 0.5])})
            >>> [(c.where, c.pair) for c in r.failures()]
            [('dw[1]', ('ANALYTIC', 'JAX')), ('dw[1]', ('ANALYTIC', 'FD'))]
        """
        return [c for c in self.comparisons if c.verdict == "fail"]

    def to_dict(self) -> dict[str, Any]:
        """Everything in the report as JSON-serialisable Python objects.

        Example:
            >>> t = np.array([1.0, -2.0])
            >>> def oracle(p):
            ...     return float(np.sum((p["w"] - t) ** 2)), {"w": 2 * (p["w"] - t)}
            >>> def wrong(p):   # a derivation that forgot the factor 2
            ...     return oracle(p)[0], {"w": p["w"] - t}
            >>> r = check(wrong, oracle, {"w": np.array([0.5, 0.5])})
            >>> d = r.to_dict()
            >>> sorted(d)
            ['blame', 'comparisons', 'diagnosis', 'dtype', 'mode', 'n_function_evals', 'notes', 'ok', 'seed']
            >>> d["ok"], d["blame"], len(d["comparisons"])
            (False, 'ANALYTIC', 4)
        """  # noqa: E501  (an output line of the example, which doctest compares whole)
        return {
            "ok": self.ok,
            "blame": self.blame,
            "diagnosis": self.diagnosis,
            "mode": self.mode,
            "seed": self.seed,
            "dtype": self.dtype,
            "n_function_evals": self.n_function_evals,
            "notes": list(self.notes),
            "comparisons": [c.to_dict() for c in self.comparisons],
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as strict JSON (no NaN literals).

        Example:
            >>> import json
            >>> t = np.array([1.0, -2.0])
            >>> def oracle(p):
            ...     return float(np.sum((p["w"] - t) ** 2)), {"w": 2 * (p["w"] - t)}
            >>> def wrong(p):   # a derivation that forgot the factor 2
            ...     return oracle(p)[0], {"w": p["w"] - t}
            >>> r = check(wrong, oracle, {"w": np.array([0.5, 0.5])})
            >>> doc = json.loads(r.to_json())
            >>> doc["comparisons"][1]["verdict"], doc["comparisons"][1]["values"]
            ('fail', {'ANALYTIC': 2.5, 'JAX': 5.0, 'FD': None})
        """
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    def assert_ok(self) -> None:
        """Raise AssertionError with the report's table as message unless :attr:`ok`.

        Example:
            >>> t = np.array([1.0, -2.0])
            >>> def oracle(p):
            ...     return float(np.sum((p["w"] - t) ** 2)), {"w": 2 * (p["w"] - t)}
            >>> def wrong(p):   # a derivation that forgot the factor 2
            ...     return oracle(p)[0], {"w": p["w"] - t}
            >>> r = check(wrong, oracle, {"w": np.array([0.5, 0.5])})
            >>> try:
            ...     r.assert_ok()
            ... except AssertionError as e:
            ...     print(*str(e).splitlines()[1:3], sep="\\n")
            three-way gradient check: FAIL  (mode=full, seed=0, dtype=float64, 13 function evaluations)
            ANALYTIC disagrees with JAX and FD, which agree: dw[1]
        """  # noqa: E501  (an output line of the example, which doctest compares whole)
        if not self.ok:
            raise AssertionError("\n" + str(self))

    def __str__(self) -> str:
        head = (
            f"three-way gradient check: {'OK' if self.ok else 'FAIL'}  "
            f"(mode={self.mode}, seed={self.seed}, dtype={self.dtype}, "
            f"{self.n_function_evals} function evaluations)"
        )
        header = (
            "quantity",
            "pair",
            "verdict",
            "max abs err",
            "max rel err",
            "bound",
            "at",
            ANALYTIC,
            JAX,
            FD,
        )
        rows: list[tuple[str, ...]] = [header]
        for c in self.comparisons:
            rows.append(
                (
                    c.quantity,
                    f"{c.pair[0]} vs {c.pair[1]}",
                    c.verdict.upper() if c.verdict == "fail" else c.verdict,
                    _fmt(c.max_abs_err, 2),
                    _fmt(c.max_rel_err, 2),
                    _fmt(c.bound, 2),
                    c.where,
                    *(_fmt(c.values.get(k), 16) for k in (ANALYTIC, JAX, FD)),
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = [head, self.diagnosis, ""]
        lines += [
            "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
            for r in rows
        ]
        lines += list(self.notes)
        return "\n".join(lines)


def _fmt(v: float | None, digits: int) -> str:
    if v is None:
        return "-"
    return f"{float(v):.{digits}e}" if math.isfinite(v) else str(float(v))


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
    )


def _diagnose(comparisons: list[Comparison]) -> tuple[str | None, str]:
    failing = {c.pair for c in comparisons if c.verdict == "fail"}

    def where(*sides: str) -> str:
        # One location per quantity: the worst entry of its first failing comparison
        # (ANALYTIC vs JAX comes first, the tightest).
        spots: dict[str, str] = {}
        for c in comparisons:
            if c.verdict == "fail" and all(s in c.pair for s in sides):
                spots.setdefault(c.quantity, c.where)
        return ", ".join(spots.values())

    aj, af, jf = PAIRS
    if not failing:
        kinds = sorted({c.verdict for c in comparisons} - {"pass"})
        extra = f" ({' and '.join(kinds)} entries noted in the table)" if kinds else ""
        return None, f"all three agree{extra}"
    if failing == {aj, af}:
        return ANALYTIC, f"ANALYTIC disagrees with JAX and FD, which agree: {where(ANALYTIC)}"
    if failing == {aj}:
        return ANALYTIC, (
            "ANALYTIC disagrees with JAX beyond rounding; FD agrees with both within its "
            f"error bound, too coarse to tell them apart: {where(ANALYTIC, JAX)}"
        )
    if failing == {aj, jf}:
        return JAX, f"JAX disagrees with ANALYTIC and FD, which agree: {where(JAX)}"
    if failing in ({af, jf}, {af}, {jf}):
        return FD, (
            "FD disagrees with ANALYTIC and JAX, which agree: its error bound is too "
            "optimistic here (is f noisier than f_scale says, or has it several kinks "
            f"within a step or two of the point?): {where(FD)}"
        )
    return None, f"all three disagree, no two-of-three majority: {where(ANALYTIC)}"


# --- the generic check -------------------------------------------------------------


def _scalar(who: str, value: Any) -> float:
    a = np.asarray(value)
    if a.size != 1 or a.dtype.kind not in "biuf":
        raise TypeError(f"{who} must return a real scalar loss; got {a.dtype} of shape {a.shape}")
    return float(a.reshape(()))


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
            of the tight comparison and FD's resolution scale). Default: the
            largest gradient entry of that parameter. Pass it near stationary
            points, where the gradient is small but its terms are not.
        loss_scale: the same for the loss (and f_scale for FD); default |loss|.
        step_scale: per parameter, FD's step scale (see
            :func:`~verification.finite_diff.numerical_gradient`).
        underflow: per parameter (and ``"loss"``), an absolute floor added to
            the exact comparisons for values lost below the smallest normal
            float: XLA on CPU flushes subnormal inputs and results to zero, and
            a float32 analytic underflows where float64 does not. Default: the
            smallest normal number of the analytic's dtype, for every entry.

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
        'ANALYTIC disagrees with JAX and FD, which agree: dw[1]'
        >>> check(oracle, oracle, {"w": np.array([0.5, 0.5])}).ok
        True
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
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
    tol_a, tol_64 = tolerances_for(dtype), tolerances_for(np.float64)

    a_loss, a_grads = _grads("analytic", analytic(p_analytic), p_analytic)
    j_loss, j_grads = _grads("oracle", oracle({k: v.copy() for k, v in p64.items()}), p64)
    a_grads = {k: np.asarray(v, dtype=np.float64) for k, v in a_grads.items()}
    j_grads = {k: np.asarray(v, dtype=np.float64) for k, v in j_grads.items()}

    if scales is None:
        scales = {}
    scale = {}
    for k in p64:
        if k in scales:
            scale[k] = np.broadcast_to(np.asarray(scales[k], dtype=np.float64), p64[k].shape)
        else:
            finite = np.abs(j_grads[k][np.isfinite(j_grads[k])])
            scale[k] = np.full(p64[k].shape, finite.max() if finite.size else 0.0)
    l_scale = abs(j_loss) if loss_scale is None else float(loss_scale)
    tiny = float(np.finfo(dtype).tiny)
    underflow = dict(underflow or {})
    floor = {k: np.broadcast_to(np.asarray(underflow.get(k, tiny)), p64[k].shape) for k in p64}
    loss_floor = float(underflow.get("loss", tiny))

    comparisons = [
        _compare(
            "loss",
            (ANALYTIC, JAX),
            np.asarray(a_loss),
            np.asarray(j_loss),
            _rounding_tol(tol_a, np.asarray(j_loss), l_scale, loss_floor),
            {ANALYTIC: np.asarray(a_loss), JAX: np.asarray(j_loss), FD: None},
        )
    ]
    for k in p64:
        comparisons.append(
            _compare(
                f"d{k}",
                (ANALYTIC, JAX),
                a_grads[k],
                j_grads[k],
                _rounding_tol(tol_a, j_grads[k], scale[k], floor[k]),
                {ANALYTIC: a_grads[k], JAX: j_grads[k], FD: None},
            )
        )

    # FD over the flattened parameters.
    names = list(p64)
    shapes = [p64[k].shape for k in names]
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    bounds = np.cumsum([0, *sizes])
    x = np.concatenate([p64[k].reshape(-1) for k in names])

    def unflatten(v: np.ndarray, lead: tuple[int, ...] = ()) -> dict[str, np.ndarray]:
        return {
            k: v[..., bounds[i] : bounds[i + 1]].reshape(*lead, *shapes[i])
            for i, k in enumerate(names)
        }

    if fd_function is None:

        def f_flat(v: np.ndarray) -> Any:
            return _scalar("oracle", oracle(unflatten(v))[0])

        batched = False
    elif fd_batched:
        fd_b = fd_function

        def f_flat(v: np.ndarray) -> Any:
            return fd_b(unflatten(v, (v.shape[0],)))

        batched = True
    else:
        fd_s = fd_function

        def f_flat(v: np.ndarray) -> Any:
            return fd_s(unflatten(v))

        batched = False

    steps = None
    if step_scale is not None:
        # Parameters without an entry keep the default scale max(1, |x|).
        steps = np.concatenate(
            [
                np.broadcast_to(
                    np.asarray(step_scale[k], dtype=np.float64)
                    if k in step_scale
                    else np.maximum(1.0, np.abs(p64[k])),
                    p64[k].shape,
                ).reshape(-1)
                for k in names
            ]
        )
    scale_flat = np.concatenate([scale[k].reshape(-1) for k in names])
    # FD's resolution is judged against each parameter's own gradient size.
    resolution = np.concatenate(
        [
            np.full(sz, np.max(np.abs(j_grads[k]), initial=0.0))
            for k, sz in zip(names, sizes, strict=True)
        ]
    )
    a_flat = np.concatenate([a_grads[k].reshape(-1) for k in names])
    j_flat = np.concatenate([j_grads[k].reshape(-1) for k in names])
    floor_flat = np.concatenate([floor[k].reshape(-1) for k in names])
    tol_a_flat = _rounding_tol(tol_a, j_flat, scale_flat, floor_flat)
    tol_j_flat = _rounding_tol(tol_64, j_flat, scale_flat, floor_flat)
    notes: list[str] = []

    if mode in ("full", "sampled"):
        coords = None
        if mode == "sampled":
            n = max(len(names), 32) if n_coords is None else n_coords
            coords = sample_coordinates(sizes, n, seed)
        fd = numerical_gradient(
            f_flat, x, coords=coords, step_scale=steps, f_scale=l_scale, batched=batched
        )
        n_evals = fd.n_evals
        unresolved = fd.error_bound > tol_64.fd_inconclusive_rtol * resolution
        for i, k in enumerate(names):
            sl = slice(bounds[i], bounds[i + 1])
            shp = shapes[i]
            view = {
                "checked": fd.checked[sl].reshape(shp),
                "kink": fd.kink[sl].reshape(shp),
                "unresolved": unresolved[sl].reshape(shp),
                "allowance": fd.kink_allowance[sl].reshape(shp),
            }
            fd_g = fd.grad[sl].reshape(shp)
            fd_b_ = fd.error_bound[sl].reshape(shp)
            vals = {ANALYTIC: a_grads[k], JAX: j_grads[k], FD: fd_g}
            comparisons.append(
                _compare(
                    f"d{k}",
                    (ANALYTIC, FD),
                    a_grads[k],
                    fd_g,
                    fd_b_ + tol_a_flat[sl].reshape(shp),
                    vals,
                    **view,
                )
            )
            comparisons.append(
                _compare(
                    f"d{k}",
                    (JAX, FD),
                    j_grads[k],
                    fd_g,
                    fd_b_ + tol_j_flat[sl].reshape(shp),
                    vals,
                    **view,
                )
            )
        if mode == "sampled":
            notes.append(
                f"FD sampled {int(fd.checked.sum())} of {x.size} entries (seed {seed}); "
                "ANALYTIC vs JAX compared every entry."
            )
    else:
        V = random_directions(x.shape, n_directions, seed)
        magnitude = np.maximum(np.abs(a_flat), np.abs(j_flat))
        magnitude = np.where(np.isfinite(magnitude), magnitude, 0.0)
        dd = directional_derivatives(
            f_flat,
            x,
            V,
            step_scale=steps,
            f_scale=l_scale,
            grad_magnitude=magnitude,
            batched=batched,
        )
        n_evals = dd.n_evals
        with np.errstate(invalid="ignore", over="ignore"):
            a_dir = V @ a_flat
            j_dir = V @ j_flat
            absV = np.abs(V)
            unresolved = dd.error_bound > tol_64.fd_inconclusive_rtol * (absV @ resolution)
            vals = {ANALYTIC: a_dir, JAX: j_dir, FD: dd.value}
            view = {"kink": dd.kink, "unresolved": unresolved, "allowance": dd.kink_allowance}
            comparisons.append(
                _compare(
                    "grad.v",
                    (ANALYTIC, FD),
                    a_dir,
                    dd.value,
                    dd.error_bound + absV @ tol_a_flat,
                    vals,
                    **view,
                )
            )
            comparisons.append(
                _compare(
                    "grad.v",
                    (JAX, FD),
                    j_dir,
                    dd.value,
                    dd.error_bound + absV @ tol_j_flat,
                    vals,
                    **view,
                )
            )
        notes.append(
            f"FD along {n_directions} random unit directions (seed {seed}); "
            "ANALYTIC vs JAX compared every entry."
        )

    order = {ANALYTIC + JAX: 0, ANALYTIC + FD: 1, JAX + FD: 2}
    comparisons.sort(key=lambda c: (c.quantity != "loss", order[c.pair[0] + c.pair[1]]))
    blame, diagnosis = _diagnose(comparisons)
    return Report(
        comparisons=tuple(comparisons),
        blame=blame,
        diagnosis=diagnosis,
        n_function_evals=n_evals,
        mode=mode,
        seed=seed,
        dtype=str(dtype),
        notes=tuple(notes),
    )


# --- the softmax classifier ---------------------------------------------------------


def softmax_scales(
    W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float, *, tiny: float = 0.0
) -> tuple[dict[str, np.ndarray], float, dict[str, np.ndarray], dict[str, Any]]:
    r"""Rounding scales and FD steps of the softmax problem, from the math.

    With :math:`|F|_{nc} = \sum_d |X_{nd}||W_{dc}| + |b_c|` the size of the
    terms of each score and :math:`\kappa_n = \max_c |F|_{nc}`: a score carries
    an absolute error :math:`\sim\varepsilon\kappa_n`, which moves each
    probability by the same *relative* amount, so :math:`(P - Y)_{nc}` is
    known to :math:`\sim\varepsilon(1 + 2\kappa_n)`. Hence

    .. math::
        S_W[d, c] = \frac1N \sum_n |X_{nd}|(1 + 2\kappa_n) + \lambda |W_{dc}|, \quad
        S_b[c] = \frac1N \sum_n (1 + 2\kappa_n), \quad
        S_L = \frac1N \sum_n (1 + 2\kappa_n + \log C) + \frac\lambda2 \lVert W\rVert^2.

    FD steps: a step in :math:`W_{dc}` moves the scores by :math:`X_{nd}` times
    it, so its scale is :math:`1/\max_n |X_{nd}|` (capped by
    :math:`\max(1, |W_{dc}|)`, the scale of the penalty); a step in
    :math:`b_c` moves scores one for one, scale 1.

    Underflow: XLA on CPU reads subnormal inputs as 0 and flushes subnormal
    results to 0 (and float32 underflows below its ``tiny``). Moving each input
    by up to ``tiny`` moves a score by at most :math:`D\,\text{tiny}
    (\max|X| + \max|W| + 1)`, a probability by twice that, so the floors are
    ``tiny`` times :math:`1 + \lambda + 2w + 2D x (x + w + 1)` for dW,
    :math:`1 + 2D(x + w + 1)` for db and :math:`2 + 2D(x + w + 1) + \lambda w`
    for the loss (:math:`x, w` the largest :math:`|X|, |W|`). The :math:`2w`:
    JAX differentiates the penalty as :math:`(\lambda/2) \cdot 2W`, and where
    :math:`\lambda/2` is subnormal (:math:`\lambda < 2\,\text{tiny}`) it is
    flushed and all of :math:`\lambda W` (at most :math:`2\,\text{tiny}\,w`) lost.

    Returns:
        ``(scales, loss_scale, step_scale, underflow)``.
    """
    X, W, b = (np.asarray(a, dtype=np.float64) for a in (X, W, b))
    n, c = X.shape[0], W.shape[1]
    absX = np.abs(X)
    kappa = np.max(absX @ np.abs(W) + np.abs(b), axis=1)
    weight = 1.0 + 2.0 * kappa
    s_w = (absX.T @ weight)[:, None] / n + reg * np.abs(W)
    s_b = np.full(c, weight.mean())
    loss_scale = float(np.mean(weight + math.log(c)) + 0.5 * reg * np.sum(W * W))
    xmax = absX.max(axis=0)
    w_scale = np.maximum(1.0, np.abs(W))
    # 1 / a subnormal max|X| overflows to inf, and the minimum then keeps w_scale.
    with np.errstate(divide="ignore", over="ignore"):
        step_w = np.minimum(w_scale, 1.0 / xmax[:, None])
    d = X.shape[1]
    x_big, w_big = float(absX.max()), float(np.abs(W).max())
    spread = 2.0 * d * (x_big + w_big + 1.0)
    underflow = {
        "W": tiny * (1.0 + reg + 2.0 * w_big + spread * x_big),
        "b": tiny * (1.0 + spread),
        "loss": tiny * (2.0 + spread + reg * w_big),
    }
    return (
        {"W": np.broadcast_to(s_w, W.shape), "b": s_b},
        loss_scale,
        {"W": step_w, "b": np.ones(c)},
        underflow,
    )


def check_softmax(
    W: Any,
    b: Any,
    X: Any,
    y: Any,
    reg: float = 0.0,
    *,
    analytic: Callable[..., Any] | None = None,
    **check_kwargs: Any,
) -> Report:
    r"""Three-way check of the softmax classifier's gradient at (W, b) on (X, y, reg).

    Args:
        W: ``(D, C)``; b: ``(C,)``; X: ``(N, D)``; y: ``(N,)`` ints in ``[0, C)``;
            reg: :math:`\lambda \ge 0`. float32 when W, b and X all are.
        analytic: any function with ``softmax_ref.loss_and_grad``'s signature,
            ``(W, b, X, y, reg) -> (loss, dW, db)``; default
            ``softmax_ref.loss_and_grad``.
        check_kwargs: passed to :func:`check` (``mode``, ``seed``, ...).

    Returns:
        A :class:`Report`; FD differentiates ``verification.oracle.loss_batch``
        (the oracle's forward) in float64.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> W, b, X = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(6, 3))
        >>> y = np.array([0, 1, 2, 3, 0, 1])
        >>> check_softmax(W, b, X, y, reg=0.1).ok
        True
        >>> def wrong(W, b, X, y, reg):   # the -1 on the correct class forgotten in db
        ...     from softmax_ref import loss_and_grad, softmax
        ...     L, dW, db = loss_and_grad(W, b, X, y, reg)
        ...     return L, dW, softmax(X @ W + b).mean(axis=0)
        >>> r = check_softmax(W, b, X, y, reg=0.1, analytic=wrong)
        >>> r.ok, r.blame, r.diagnosis.split(": ")[0]
        (False, 'ANALYTIC', 'ANALYTIC disagrees with JAX and FD, which agree')
    """
    from verification import oracle as jax_oracle

    W, b, X, y, reg = jax_oracle.check_softmax_inputs(W, b, X, y, reg)
    dtype = np.float32 if all(a.dtype == np.float32 for a in (W, b, X)) else np.float64
    W, b, X = (a.astype(dtype) for a in (W, b, X))
    X64 = X.astype(np.float64)
    if analytic is None:
        from softmax_ref import loss_and_grad

        user_fn: Callable[..., Any] = loss_and_grad
    else:
        user_fn = analytic

    def analytic_fn(p: dict[str, np.ndarray]) -> tuple[Any, dict[str, Any]]:
        out = user_fn(p["W"], p["b"], X.copy(), y.copy(), reg)
        if not (isinstance(out, tuple) and len(out) == 3):
            raise TypeError(
                "analytic must return (loss, dW, db) like softmax_ref.loss_and_grad; "
                f"got {type(out).__name__}"
                + (f" of length {len(out)}" if isinstance(out, tuple) else "")
            )
        return out[0], {"W": out[1], "b": out[2]}

    def oracle_fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        value, dW, db = jax_oracle.loss_and_grad(p["W"], p["b"], X64, y, reg)
        return value, {"W": dW, "b": db}

    def forward(p: dict[str, np.ndarray]) -> np.ndarray:
        return jax_oracle.loss_batch(p["W"], p["b"], X64, y, reg)

    tiny = float(np.finfo(dtype).tiny)  # float32's is the larger: it underflows first
    scales, loss_scale, step_scale, underflow = softmax_scales(W, b, X64, y, reg, tiny=tiny)
    kwargs: dict[str, Any] = {
        "fd_function": forward,
        "fd_batched": True,
        "scales": scales,
        "loss_scale": loss_scale,
        "step_scale": step_scale,
        "underflow": underflow,
    }
    kwargs.update(check_kwargs)
    return check(analytic_fn, oracle_fn, {"W": W, "b": b}, **kwargs)
