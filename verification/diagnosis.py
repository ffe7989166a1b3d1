r"""The diagnosis of a three-way check: who is blamed, and the sentence that says why.

With the set of pairs that disagree (a pair disagrees when one of its
comparisons fails; kinks and inconclusive entries are not failures):

=========================================  =============  =======================
disagreeing pairs                          blame          meaning
=========================================  =============  =======================
none                                       None           all three agree
ANALYTIC-JAX and ANALYTIC-FD               ANALYTIC       two of three outvote it
ANALYTIC-JAX only                          ANALYTIC       the oracle outvotes it;
                                                          FD is too coarse to tell
ANALYTIC-JAX and JAX-FD                    JAX            two of three outvote it
ANALYTIC-FD and JAX-FD (or only one)       FD             the exact two agree
all three                                  None           no majority, unless the
                                                          Taylor test decides
=========================================  =============  =======================

**Two different functions.** When the loss values disagree, the diagnosis
says that ANALYTIC and the oracle state two different functions, which is
not the same finding as a wrong gradient of the right function: with the
gradients in agreement it says so alone (the loss computed wrongly, or the
two a constant apart); with the gradient wrong as well it adds the losses'
values and asks whether the oracle is the function meant. The oracle is the
reference definition, so the blame stays on ANALYTIC.

**The Taylor test** (:mod:`verification.taylor`) joins as supporting
evidence, a sentence of its own after the diagnosis: it confirms the blame
(ANALYTIC's remainder shrinks like h, JAX's like :math:`h^2`), says it cannot
resolve the error, or that it cannot decide (JAX's own remainder is not
:math:`O(h^2)`: a kink); and it breaks a three-way disagreement when it
separates ANALYTIC from JAX.

**Failing entries** are named per quantity with their count and pattern
("dW: 5 of 20, column 2, worst dW[3, 2]").
"""

from __future__ import annotations

from collections.abc import Sequence

from .report import ANALYTIC, FD, JAX, PAIRS, Comparison
from .taylor import TaylorResult

__all__ = ["diagnose"]


def _where(comparisons: Sequence[Comparison], *sides: str) -> str:
    # One location per quantity: the first failing comparison that involves the
    # sides (ANALYTIC vs JAX comes first, the tightest), its count and pattern.
    spots: dict[str, str] = {}
    for c in comparisons:
        if c.verdict == "fail" and all(s in c.pair for s in sides) and c.quantity != "loss":
            if c.n_failed > 1:
                spots.setdefault(c.quantity, f"{c.where} ({c.failing})")
            else:
                spots.setdefault(c.quantity, c.where)
    return ", ".join(spots.values())


def _taylor_sentence(blame: str | None, taylor: Sequence[TaylorResult]) -> str:
    by_side = {t.side: t for t in taylor}
    a, j = by_side.get(ANALYTIC), by_side.get(JAX)
    if a is None or j is None:
        return ""

    def slopes(t: TaylorResult) -> str:
        return ", ".join("-" if s != s else f"{s:.1f}" for s in t.slopes)

    if j.verdict == "fail":
        return (
            " The Taylor remainder test cannot decide here: JAX's own remainder is not "
            f"O(h^2) (slopes {slopes(j)}; a kink along its directions?)."
        )
    if blame == ANALYTIC and a.verdict == "fail" and j.verdict == "pass":
        return (
            " The Taylor remainder test agrees: ANALYTIC's remainder shrinks like h "
            f"(slopes {slopes(a)}), JAX's like h^2 ({slopes(j)})."
        )
    if blame == ANALYTIC and a.verdict != "fail":
        return (
            " The Taylor remainder test does not resolve the error along its directions "
            f"(ANALYTIC's slopes {slopes(a)}): too small for it, which is no acquittal."
        )
    if blame is None and a.verdict == "fail" and j.verdict != "fail":
        return (
            f" The Taylor remainder test finds ANALYTIC's remainder linear in h (slopes "
            f"{slopes(a)})."
        )
    return ""


def diagnose(
    comparisons: Sequence[Comparison],
    taylor: Sequence[TaylorResult] = (),
    *,
    precision: str | None = None,
    source: str = "oracle",
) -> tuple[str | None, str, str]:
    r"""The blame, the diagnosis and the Taylor test's evidence for a check's comparisons.

    The set :math:`S \subseteq \{AJ, AF, JF\}` of disagreeing pairs decides
    the blame (the module's table); each comparison is of a quantity's shape
    (``()`` for the loss, e.g. ``(D, C)`` for dW).

    Args:
        comparisons: every comparison of the report, the loss first.
        taylor: the Taylor remainder test's results for ANALYTIC and JAX.
        precision: when the oracle (or FD's function) computes in a lower
            precision than the parameters, its dtype's name: a check that
            finds no failure is then called inconclusive, not a pass.
        source: which computes in that precision, ``"oracle"`` or ``"fd_function"``.

    Returns:
        ``(blame, diagnosis, evidence)``: blame ``"ANALYTIC"``, ``"JAX"``,
        ``"FD"`` or None; the diagnosis names the culprit, then the failing
        locations; ``evidence`` is what the Taylor test adds ("" if nothing).

    Example:
        >>> r = check(wrong, oracle, {"w": np.array([0.5, 0.5])})
        >>> blame, diagnosis, evidence = diagnose(r.comparisons, r.taylor)
        >>> blame, diagnosis
        ('ANALYTIC', 'ANALYTIC disagrees with JAX and FD, which agree: dw[1] (2 of 2, everything)')
        >>> print(evidence)   # doctest: +NORMALIZE_WHITESPACE
        The Taylor remainder test agrees: ANALYTIC's remainder shrinks like h
        (slopes 1.0, 1.0), JAX's like h^2 (2.0, 2.0).
    """
    failing = {c.pair for c in comparisons if c.verdict == "fail"}
    grad_failing = {c.pair for c in comparisons if c.verdict == "fail" and c.quantity != "loss"}
    loss_rows = [c for c in comparisons if c.quantity == "loss"]
    loss_differs = any(c.verdict == "fail" for c in loss_rows)
    aj, af, jf = PAIRS
    blame: str | None
    if not failing:
        kinds = sorted({c.verdict for c in comparisons} - {"pass"})
        extra = f" ({' and '.join(kinds)} entries noted in the table)" if kinds else ""
        if precision:
            return (
                None,
                (
                    f"inconclusive: the {source} computes in {precision}, below the "
                    f"parameters' float64, so ANALYTIC agrees with JAX and FD only to "
                    f"{precision}'s rounding; compute the {source} in float64 "
                    f"(check_gradient builds both so) to check to float64's{extra}"
                ),
                "",
            )
        return None, f"all three agree{extra}", ""
    if loss_differs and not grad_failing:
        c = loss_rows[0]
        return (
            ANALYTIC,
            (
                "ANALYTIC disagrees with JAX on the loss's value, not on the gradient: two "
                f"different functions ({c.values.get(ANALYTIC)!r} vs {c.values.get(JAX)!r}), "
                "the loss computed wrongly on one side or the two a constant apart: loss"
            ),
            "",
        )
    pairs = failing
    if pairs == {aj, af}:
        blame, why = (
            ANALYTIC,
            f"ANALYTIC disagrees with JAX and FD, which agree: {_where(comparisons, ANALYTIC)}",
        )
    elif pairs == {aj}:
        blame, why = (
            ANALYTIC,
            (
                "ANALYTIC disagrees with JAX beyond rounding; FD agrees with both within its "
                f"error bound, too coarse to tell them apart: {_where(comparisons, ANALYTIC, JAX)}"
            ),
        )
    elif pairs == {aj, jf}:
        blame, why = (
            JAX,
            f"JAX disagrees with ANALYTIC and FD, which agree: {_where(comparisons, JAX)}",
        )
    elif pairs in ({af, jf}, {af}, {jf}):
        blame, why = (
            FD,
            (
                "FD disagrees with ANALYTIC and JAX, which agree: its error bound is too "
                "optimistic here (is f noisier than f_scale says, or has it several kinks "
                f"within a step or two of the point?): {_where(comparisons, FD)}"
            ),
        )
    else:
        blame, why = (
            None,
            (f"all three disagree, no two-of-three majority: {_where(comparisons, ANALYTIC)}"),
        )
        by_side = {t.side: t.verdict for t in taylor}
        if by_side.get(ANALYTIC) == "fail" and by_side.get(JAX) == "pass":
            blame = ANALYTIC
    if loss_differs:
        c = loss_rows[0]
        why += (
            f". The losses differ too ({c.values.get(ANALYTIC)!r} vs {c.values.get(JAX)!r}): "
            "two different functions; is the oracle the function you meant?"
        )
    return blame, why, _taylor_sentence(blame, taylor).strip()
