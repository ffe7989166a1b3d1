r"""What a three-way check returns: a :class:`Report` of :class:`Comparison` rows.

A :class:`Report` is what :func:`verification.check` returns: every
comparison, the diagnosis (which side is blamed) and how the check ran.
``str(report)`` is the table the command line prints; :meth:`Report.to_dict`
and :meth:`Report.to_json` give the same as data.

The examples use the pair of functions that :func:`verification.check`'s
example writes out: ``oracle`` (the loss :math:`\sum_i (w_i - t_i)^2` and its
gradient) and ``wrong`` (the same loss with the gradient's factor 2 forgotten).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .taylor import TaylorResult

__all__ = ["Comparison", "Report"]

ANALYTIC, JAX, FD = "ANALYTIC", "JAX", "FD"
"""The three witnesses, as labelled in every report."""
PAIRS = ((ANALYTIC, JAX), (ANALYTIC, FD), (JAX, FD))
"""The compared pairs, in the order of a report's table."""


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
        pattern: where the failing entries lie: ``""`` when none fails, else
            ``"single entry"``, ``"row i"`` or ``"column j"`` (every failing
            entry of a 2-D quantity in that row or column), ``"everything"``
            (every compared entry) or ``"scattered"``; see :func:`failure_pattern`.

    Example:
        The second comparison of a check whose gradient misses a factor 2:

        >>> r = check(wrong, oracle, {"w": np.array([0.5, 0.5])})
        >>> c = r.comparisons[1]
        >>> c.quantity, c.pair, c.verdict, c.worst_index, c.values
        ('dw', ('ANALYTIC', 'JAX'), 'fail', (1,), {'ANALYTIC': 2.5, 'JAX': 5.0, 'FD': None})
        >>> c.max_abs_err, c.max_rel_err, c.n_compared, c.n_failed
        (2.5, 0.5, 2, 2)
        >>> c.where, r.comparisons[0].where   # the loss has no index
        ('dw[1]', 'loss')
        >>> c.to_dict()["pair"], c.to_dict()["worst_index"]   # JSON-ready: lists, not tuples
        (['ANALYTIC', 'JAX'], [1])
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
    pattern: str = ""

    @property
    def failing(self) -> str:
        """How many entries fail and their pattern, e.g. ``"5 of 20, column 2"``; ``""`` if none.

        Counted over the entries of the quantity's shape that were compared.

        Example:
            >>> check(wrong, oracle, {"w": np.array([0.5, 0.5])}).comparisons[1].failing
            '2 of 2, everything'
        """
        if not self.n_failed:
            return ""
        return f"{self.n_failed} of {self.n_compared}, {self.pattern}"

    @property
    def where(self) -> str:
        """``quantity[index]``, e.g. ``dW[3, 1]``; the loss is just ``loss``.

        The index is :attr:`worst_index`, into the quantity's shape (``(D, C)``
        for dW, ``()`` for the loss).
        """
        if not self.worst_index:
            return self.quantity
        return f"{self.quantity}[{', '.join(map(str, self.worst_index))}]"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: non-finite floats become the strings "NaN", "Infinity", "-Infinity".

        Example:
            A comparison whose bound is infinite (FD could not bound its error):

            >>> import dataclasses
            >>> c = check(wrong, oracle, {"w": np.array([0.5, 0.5])}).comparisons[1]
            >>> d = dataclasses.replace(c, bound=float("inf")).to_dict()
            >>> d["bound"], d["where"], d["values"]["FD"]
            ('Infinity', 'dw[1]', None)
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
            "pattern": self.pattern,
        }


def failure_pattern(fail: np.ndarray, compared: np.ndarray) -> str:
    r"""Where the failing entries of a quantity lie, in words.

    With :math:`F` the set of failing indices: ``row i`` when :math:`|F| > 1`
    and every :math:`(r, c) \in F` has :math:`r = i`; ``column j`` likewise.

    Args:
        fail: bool, the quantity's shape: the failing entries.
        compared: bool, same shape: the entries that were compared.

    Returns:
        ``""`` (none fails), ``"single entry"``, ``"everything"`` (every
        compared entry, more than one), ``"row i"`` / ``"column j"`` (a 2-D
        quantity whose failing entries, more than one, share a row or a
        column), else ``"scattered"``.

    Example:
        >>> f = np.zeros((4, 5), bool); f[:, 2] = True
        >>> failure_pattern(f, np.ones((4, 5), bool))
        'column 2'
        >>> f[1, 3] = True
        >>> failure_pattern(f, np.ones((4, 5), bool))
        'scattered'
    """
    n = int(fail.sum())
    if n == 0:
        return ""
    if n == 1:
        return "single entry"
    if n == int(compared.sum()):
        return "everything"
    if fail.ndim == 2:
        rows, cols = np.nonzero(fail)
        if np.all(rows == rows[0]):
            return f"row {int(rows[0])}"
        if np.all(cols == cols[0]):
            return f"column {int(cols[0])}"
    return "scattered"


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
        n_function_evals: evaluations of the function FD differentiates, by FD.
        mode, seed, dtype: how the check ran.
        notes: sentences on how to read the table (sampling, precision).
        taylor: the Taylor remainder test of ANALYTIC's and JAX's gradients
            (:mod:`verification.taylor`), supporting evidence for the diagnosis.
        evidence: what the Taylor test adds to the diagnosis, one sentence
            ("" when it adds nothing).
        n_taylor_evals: evaluations of FD's function the Taylor test made.

    Example:
        >>> r = check(wrong, oracle, {"w": np.array([0.5, 0.5])})
        >>> r.ok, r.blame
        (False, 'ANALYTIC')
        >>> r.diagnosis
        'ANALYTIC disagrees with JAX and FD, which agree: dw[1] (2 of 2, everything)'

        >>> [(c.quantity, c.pair[0], c.pair[1], c.verdict) for c in r.comparisons]
        [('loss', 'ANALYTIC', 'JAX', 'pass'), ('dw', 'ANALYTIC', 'JAX', 'fail'),
         ('dw', 'ANALYTIC', 'FD', 'fail'), ('dw', 'JAX', 'FD', 'pass')]
        >>> [(c.where, c.pair) for c in r.failures()]
        [('dw[1]', ('ANALYTIC', 'JAX')), ('dw[1]', ('ANALYTIC', 'FD'))]
        >>> r.mode, r.dtype, r.n_function_evals, r.n_taylor_evals   # 1 + 6 per entry
        ('full', 'float64', 13, 53)
        >>> [(t.side, t.verdict) for t in r.taylor]
        [('ANALYTIC', 'fail'), ('JAX', 'pass')]
        >>> d = r.to_dict()
        >>> d["ok"], d["blame"], len(d["comparisons"])
        (False, 'ANALYTIC', 4)
        >>> check(oracle, oracle, {"w": np.array([0.5, 0.5])}).ok
        True
    """

    comparisons: tuple[Comparison, ...]
    blame: str | None
    diagnosis: str
    n_function_evals: int
    mode: str
    seed: int
    dtype: str
    notes: tuple[str, ...] = field(default=())
    taylor: tuple[TaylorResult, ...] = field(default=())
    evidence: str = ""
    n_taylor_evals: int = 0

    @property
    def ok(self) -> bool:
        """True when no comparison failed (kinks and inconclusive entries are not failures)."""
        return all(c.verdict != "fail" for c in self.comparisons)

    def failures(self) -> list[Comparison]:
        """The failing comparisons."""
        return [c for c in self.comparisons if c.verdict == "fail"]

    def to_dict(self) -> dict[str, Any]:
        """Everything in the report as JSON-serialisable Python objects.

        The keys: ``ok``, ``blame``, ``diagnosis``, ``mode``, ``seed``, ``dtype``,
        ``n_function_evals``, ``notes``, ``evidence``, ``n_taylor_evals``, ``comparisons`` (each
        :meth:`Comparison.to_dict`) and ``taylor`` (each
        :meth:`~verification.taylor.TaylorResult.to_dict`).
        """
        return {
            "ok": self.ok,
            "blame": self.blame,
            "diagnosis": self.diagnosis,
            "mode": self.mode,
            "seed": self.seed,
            "dtype": self.dtype,
            "n_function_evals": self.n_function_evals,
            "notes": list(self.notes),
            "evidence": self.evidence,
            "n_taylor_evals": self.n_taylor_evals,
            "comparisons": [c.to_dict() for c in self.comparisons],
            "taylor": [t.to_dict() for t in self.taylor],
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as strict JSON (no NaN literals).

        Example:
            >>> import json
            >>> doc = json.loads(check(wrong, oracle, {"w": np.array([0.5, 0.5])}).to_json())
            >>> doc["comparisons"][1]["verdict"], doc["comparisons"][1]["values"]
            ('fail', {'ANALYTIC': 2.5, 'JAX': 5.0, 'FD': None})
        """
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    def assert_ok(self) -> None:
        """Raise AssertionError with the report's table as message unless :attr:`ok`.

        Example:
            >>> try:
            ...     check(wrong, oracle, {"w": np.array([0.5, 0.5])}).assert_ok()
            ... except AssertionError as e:
            ...     print(*str(e).splitlines()[1:3], sep="\\n")
            three-way gradient check: FAIL  (mode=full, seed=0, dtype=float64, 13 function evaluations)
            ANALYTIC disagrees with JAX and FD, which agree: dw[1] (2 of 2, everything)
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
            "failing",
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
                    c.failing or "-",
                    *(_fmt(c.values.get(k), 16) for k in (ANALYTIC, JAX, FD)),
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = [head, self.diagnosis, *([self.evidence] if self.evidence else []), ""]
        lines += [
            "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
            for r in rows
        ]
        for t in self.taylor:
            slopes = ", ".join("-" if math.isnan(v) else f"{v:.2f}" for v in t.slopes)
            lines.append(
                f"Taylor remainder test, {t.side}: {t.verdict} (slopes {slopes}; "
                "2 for a gradient, 1 for a wrong one)"
            )
        lines += list(self.notes)
        return "\n".join(lines)


def _fmt(v: float | None, digits: int) -> str:
    if v is None:
        return "-"
    return f"{float(v):.{digits}e}" if math.isfinite(v) else str(float(v))
