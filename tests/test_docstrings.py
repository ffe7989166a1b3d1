"""Every public object's docstring has an example that runs, and shapes and math where they apply.

scripts/docs_plugins/audit_docstrings.py reads the docstrings of softmax_ref and
verification from source and lists what each lacks; here it is a gate, so a
public function added without an example (or a formula that loses its math
block) fails the suite. The examples themselves run as doctests
(``--doctest-modules`` in pyproject.toml); the test below also checks that
doctest collects every example the audit counts, so an example cannot sit in a
docstring that never runs. The meta-tests show the audit reporting what it
should on synthetic modules.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


audit = _load(ROOT / "scripts" / "docs_plugins" / "audit_docstrings.py", "audit_docstrings")
FOUND = audit.entries()


# --- the gate ---------------------------------------------------------------------


def test_the_audit_sees_the_public_api():
    # Not vacuous: the package's main public names are among what it audits.
    names = {e.name for e in FOUND}
    assert {
        "softmax_ref.loss.loss_and_grad",
        "softmax_ref.loss.softmax",
        "softmax_ref.classifier.SoftmaxClassifier",
        "softmax_ref.estimator.BaseGradientClassifier.fit",
        "softmax_ref.post.Softmax.train_early_stopping",
        "verification.compare.check",
        "verification.models.check_softmax",
        "verification.report.Report",
        "verification.finite_diff.numerical_gradient",
        "verification.oracle.loss_and_grad",
    } <= names
    assert {e.kind for e in FOUND} == {"function", "class", "method"}


def test_every_public_docstring_is_complete():
    gaps = audit.gaps(FOUND)
    report = "\n".join(f"  {name}: no {', no '.join(lacks)}" for name, lacks in gaps.items())
    assert not gaps, f"{len(gaps)} public docstrings are incomplete:\n{report}"


def test_every_exemption_names_a_public_object_that_needs_it():
    assert audit.stale_exemptions(FOUND) == []
    assert set(audit.EXEMPT) <= set(audit.KINDS)


def _module_of(name: str) -> str:
    # The longest dotted prefix that is a module: "verification.strategies.softmax.Problem.args"
    # -> "verification.strategies.softmax".
    parts = name.split(".")
    module = parts[0]
    for part in parts[1:-1]:
        if importlib.util.find_spec(f"{module}.{part}") is None:
            break
        module = f"{module}.{part}"
        if not hasattr(importlib.import_module(module), "__path__"):
            break  # a module, not a package: the rest is a qualname
    return module


def test_every_counted_example_runs_as_a_doctest():
    """The audit counts ``>>>`` in the source; doctest must collect each of those examples."""
    collected: dict[str, int] = {}
    finder = doctest.DocTestFinder()
    for module_name in sorted({_module_of(e.name) for e in FOUND}):
        module = importlib.import_module(module_name)
        for test in finder.find(module, module_name):
            collected[test.name] = len(test.examples)
    not_run = [e.name for e in FOUND if e.has_example and collected.get(e.name, 0) == 0]
    assert not not_run, f"examples doctest does not collect: {not_run}"


def test_audit_script_examples():
    # scripts/ is outside --doctest-modules; its own examples run here.
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(audit, "audit_docstrings") if t.examples]
    assert len(tests) >= 2
    for test in tests:
        runner.run(test)
    assert runner.failures == 0


# --- meta-tests: the audit reports what is missing ---------------------------------

_COMPLETE = '''
r"""A module."""
__all__ = ["scale"]


def scale(x, a):
    r"""Multiply.

    .. math::
        y = a x

    Args:
        x: shape ``(N, D)``.

    Example:
        >>> scale(2, 3)
        6
    """
    return a * x
'''


def _audit(source: str, listed: dict[str, str] | None = None):
    return {e.name: e for e in audit.audit_source(source, "synthetic", listed or {})}


def test_a_complete_docstring_passes():
    entries = _audit(_COMPLETE)
    assert entries["synthetic.scale"].missing() == []


def test_a_public_function_without_an_example_is_reported():
    source = _COMPLETE.replace("    Example:\n        >>> scale(2, 3)\n        6\n", "")
    entries = _audit(source)
    assert entries["synthetic.scale"].missing() == ["example"]
    assert audit.gaps(list(entries.values())) == {"synthetic.scale": ["example"]}


def test_missing_shapes_math_and_docstrings_are_reported():
    source = _COMPLETE.replace("shape ``(N, D)``", "an array").replace(
        ".. math::\n        y = a x", "Nothing here."
    )
    assert _audit(source)["synthetic.scale"].missing() == ["shapes", "math"]
    bare = (
        '__all__ = ["f", "K"]\ndef f(x):\n    return x\nclass K:\n    def m(self):\n        pass\n'
    )
    entries = _audit(bare)
    assert entries["synthetic.f"].missing() == ["docstring"]
    assert entries["synthetic.K"].missing() == ["docstring"]
    assert entries["synthetic.K.m"].missing() == ["docstring"]


def test_a_public_method_needs_an_example_and_shapes_but_not_math():
    source = '''
__all__ = ["Rule"]
class Rule:
    r"""A rule :math:`x`, shape ``(N,)``.

    >>> Rule()
    <...>
    """
    def step(self, params):
        """Update ``params``."""
    def _private(self):
        pass
'''
    entries = _audit(source)
    assert entries["synthetic.Rule.step"].missing() == ["example", "shapes"]
    assert "synthetic.Rule._private" not in entries


def test_a_method_the_class_example_calls_needs_no_example_of_its_own():
    source = '''
__all__ = ["Rule"]
class Rule:
    r"""A rule :math:`x`, shape ``(N,)``.

    >>> Rule().step([1.0])
    [1.0]
    """
    def step(self, params):
        """Update ``params`` of shape ``(N,)``."""
    def reset(self):
        """Forget the state of shape ``(N,)``; the class example never calls it."""
'''
    entries = _audit(source)
    assert entries["synthetic.Rule.step"].missing() == []
    assert entries["synthetic.Rule.reset"].missing() == ["example"]
    # A mention in the prose is no call: only example lines count.
    prose_only = source.replace(">>> Rule().step([1.0])\n    [1.0]", "Call step.\n    >>> Rule()")
    assert _audit(prose_only)["synthetic.Rule.step"].missing() == ["example"]


def test_subpackages_are_audited_with_their_dotted_names():
    names = {e.name for e in FOUND}
    assert "verification.strategies.softmax.problems" in names
    assert "verification.strategies.blocks.find_example" in names
    assert not any(".__init__" in name or ".conftest" in name for name in names)


def test_only_names_in_all_are_audited():
    source = _COMPLETE + "\ndef helper(x):\n    return x\n"
    assert set(_audit(source)) == {"synthetic.scale"}


def test_a_printed_tuple_in_an_example_is_no_stated_shape():
    source = _COMPLETE.replace("shape ``(N, D)``", "an array").replace(
        ">>> scale(2, 3)\n        6", ">>> (scale(2, 3), 1)\n        (6, 1)"
    )
    assert _audit(source)["synthetic.scale"].missing() == ["shapes"]


def test_errors_and_cli_plumbing_are_recognised_and_still_need_an_example():
    source = '''
import argparse
__all__ = ["Oops", "run"]
class Oops(ValueError):
    """Bad input."""
def run(args: argparse.Namespace) -> int:
    """Run the command."""
'''
    entries = _audit(source)
    assert entries["synthetic.Oops"].category == "error"
    assert entries["synthetic.run"].category == "cli"
    assert entries["synthetic.Oops"].missing() == ["example"]
    assert entries["synthetic.run"].missing() == ["example"]


def test_a_listed_kind_waives_only_what_it_says():
    no_math = _COMPLETE.replace(".. math::\n        y = a x", "Nothing here.")
    assert _audit(no_math, {"synthetic.scale": "io"})["synthetic.scale"].missing() == []
    no_shapes = no_math.replace("shape ``(N, D)``", "an array")
    # "io" waives the math, not the shapes of the arrays read or written.
    assert _audit(no_shapes, {"synthetic.scale": "io"})["synthetic.scale"].missing() == ["shapes"]
    assert _audit(no_shapes, {"synthetic.scale": "plain"})["synthetic.scale"].missing() == []


def test_a_stale_or_needless_exemption_is_reported(monkeypatch):
    monkeypatch.setitem(audit.EXEMPT, "io", (*audit.EXEMPT["io"], "softmax_ref.gone"))
    assert audit.stale_exemptions(FOUND) == ["softmax_ref.gone"]
    # softmax has its math: exempting it from math would only hide a future loss of it.
    monkeypatch.setitem(audit.EXEMPT, "io", (*audit.EXEMPT["io"], "softmax_ref.loss.softmax"))
    assert audit.stale_exemptions(FOUND) == ["softmax_ref.gone", "softmax_ref.loss.softmax"]


def test_check_mode_exits_1_on_a_gap(monkeypatch, capsys):
    source = _COMPLETE.replace("    Example:\n        >>> scale(2, 3)\n        6\n", "")
    monkeypatch.setattr(audit, "entries", lambda: audit.audit_source(source, "synthetic", {}))
    monkeypatch.setattr(audit, "EXEMPT", {})  # no stale exemptions: the gap alone fails it
    assert audit.main(["--check"]) == 1
    assert "  synthetic.scale" in capsys.readouterr().out
    assert audit.main([]) == 0  # without --check it only reports


def test_a_math_block_broken_by_a_blank_line_is_reported():
    # A blank line right after ".. math::" is reST's usual layout; one inside the
    # formula splits it into two paragraphs on the API page, typeset as neither.
    spaced = _COMPLETE.replace(".. math::\n        y = a x", ".. math::\n\n        y = a x")
    assert _audit(spaced)["synthetic.scale"].missing() == []
    broken = _COMPLETE.replace("        y = a x\n", "        y = a x,\n\n        z = y\n")
    assert _audit(broken)["synthetic.scale"].missing() == ["rendering math"]
