"""Would the property suite, as configured, find a wrong gradient? The machinery.

Used by tests/meta/test_pipeline.py (each mutant is found within the ci budget)
and tests/meta/pipeline_rates.py (the share of each family's draws that exposes
each mutant, for docs/property-suite.md).

Two kinds of mutant:

* the wrong derivations of wrong_gradients.CATALOG (the linear model) and of
  test_two_layer_mutants.MUTATIONS (the network), passed to the property tests'
  own assertion in place of the analytic gradient;
* kernel-level mutants (KERNEL_MUTATIONS): softmax_ref/_kernels.py with one
  line changed, compiled into a module of its own and swapped in where
  ``loss_and_grad``, ``loss`` and the streaming form look the kernel up, so the
  property tests' own entry points run it. A mutation that no longer matches
  exactly one line of the kernel raises: the catalog follows the code.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import Phase, find, settings
from hypothesis.errors import NoSuchExample

import softmax_ref.loss
import softmax_ref.streaming  # noqa: F401  (loaded, so that sys.modules has it)
from softmax_ref import _kernels

TESTS = Path(__file__).resolve().parents[1]
for folder in (TESTS, TESTS / "meta"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import test_properties as linear  # noqa: E402
import test_two_layer_mutants as tl_mutants  # noqa: E402
import test_two_layer_properties as two_layer  # noqa: E402
from wrong_gradients import CATALOG, correct  # noqa: E402

from verification.strategies import FAMILIES, TWO_LAYER_FAMILIES  # noqa: E402

# name -> (regex of the line in softmax_ref/_kernels.py, its replacement, what is wrong)
KERNEL_MUTATIONS: dict[str, tuple[str, str, str]] = {
    "float32_no_shift": (
        r"^(\s*)S -= m$",
        r"\1if S.dtype != np.float32:\n\1    S -= m",
        "float32 scores not shifted by their row max before exp",
    ),
    "float32_accumulation": (
        r"np\.add\.reduce\(shifted_y, dtype=np\.float64\)",
        "np.add.reduce(shifted_y, dtype=None)",
        "a block's float32 loss terms F_y - m summed in float32, not float64",
    ),
    "lane_reduction_scaled": (
        r"^(\s*)GX \+= lane\.GX$",
        r"\1GX += lane.GX * 1.001",
        "the lanes' dW sums reduced with a factor 1.001 on every lane but the first",
    ),
    "float32_row_sums_in_float64": (
        r"^(\s*)s = np\.empty\(n_rows, dtype=W\.dtype\)$",
        r"\1s = np.empty(n_rows, dtype=None)",
        "the one-block route's row sums (and so P) computed in float64 for float32 input",
    ),
    "lane_errstate_dropped": (
        r"(# np\.errstate is per thread, so each lane sets it\.\n\s*)"
        r'with np\.errstate\(over="ignore", invalid="ignore", divide="ignore"\):',
        r'\1with np.errstate(divide="ignore"):',
        "a lane's thread without np.errstate for overflow and inf - inf (NumPy warns)",
    ),
    "lanes_reduced_twice": (
        r"^(\s*)self\._reduced = True$",
        r"\1self._reduced = False",
        "grad_sums() does not record that it reduced the lanes: a second call adds them again",
    ),
    "sub_gemm_forward_tail_dropped": (
        r"^(\s*)np\.matmul\(WT, Xb\[head:\]\.T, out=S\[:, head:\]\)$",
        r"\1S[:, head:] = 0",
        "the scores of the rows after a block's last whole sub-GEMM never computed (left 0)",
    ),
    "sub_gemm_backward_tail_dropped": (
        r"^(\s*)part \+= S\[:, head:\] @ Xb\[head:\]$",
        r"\1pass",
        "the rows after a block's last whole sub-GEMM left out of (P - Y)^T X",
    ),
    "block_dropped": (
        r"range\(\(k - first\) % L, n_blocks, L\)",
        "range((k - first) % L, n_blocks - 1, L)",
        "the last block of a multi-block call never added",
    ),
}

# Where softmax_ref looks the kernel up (by module: the package's attribute ``loss``
# is the function of that name), and the kernel module itself, for the tests that
# call it directly.
_USERS = (
    sys.modules["softmax_ref._accumulator"],
    sys.modules["softmax_ref.loss"],
    sys.modules["softmax_ref.streaming"],
    sys.modules["softmax_ref._kernels"],
)
_NAMES = ("BlockedSums", "one_block", "one_block_sums")


@functools.cache
def mutated_kernel(name: str) -> types.ModuleType:
    """softmax_ref/_kernels.py with the named line changed, as a module of its own."""
    pattern, replacement, _ = KERNEL_MUTATIONS[name]
    source = Path(_kernels.__file__).read_text()
    mutated, count = re.subn(pattern, replacement, source, flags=re.MULTILINE)
    if count != 1:
        raise AssertionError(
            f"kernel mutation {name!r} matches {count} lines of softmax_ref/_kernels.py, "
            "not 1: update KERNEL_MUTATIONS in tests/meta/pipeline.py"
        )
    module = types.ModuleType(f"softmax_ref._kernels_mutant_{name}")
    module.__file__ = f"<kernel mutant {name}>"
    exec(compile(mutated, module.__file__, "exec"), module.__dict__)
    return module


@contextlib.contextmanager
def kernel_mutant(name: str | None) -> Iterator[None]:
    """Run softmax_ref's entry points on the mutated kernel (None: the real one)."""
    if name is None:
        yield
        return
    module = mutated_kernel(name)
    saved = []
    for user in _USERS:
        for attr in _NAMES:
            if hasattr(user, attr):
                saved.append((user, attr, getattr(user, attr)))
                setattr(user, attr, getattr(module, attr))
    try:
        yield
    finally:
        for user, attr, value in saved:
            setattr(user, attr, value)


def in_dtype(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A float64 derivation's results in the problem's dtype, so a float32 problem tests
    the flaw, not a dtype mismatch."""

    def wrapped(W, b, X, y, reg=0.0):
        L, dW, db = fn(W, b, X, y, reg)
        dt = np.asarray(W).dtype
        return dt.type(L), np.asarray(dW).astype(dt), np.asarray(db).astype(dt)

    return wrapped


# A mutant of the linear model: (how the property assertion is run, kernel mutation).
LINEAR_MUTANTS: dict[str, tuple[Callable[..., Any] | None, str | None]] = {
    **{name: (in_dtype(fn), None) for name, (fn, _, _) in CATALOG.items()},
    **{name: (None, name) for name in KERNEL_MUTATIONS},
}


def linear_fails(problem, mutant: str | None) -> bool:
    """Does tests/test_properties.py's three-way assertion fail on ``problem`` for ``mutant``?

    None is the real code; "correct" is the catalog's flawless derivation.
    """
    if mutant == "correct":
        analytic, kernel = in_dtype(correct), None
    elif mutant is None:
        analytic, kernel = None, None
    else:
        analytic, kernel = LINEAR_MUTANTS[mutant]
    with kernel_mutant(kernel):
        try:
            linear.assert_three_way(problem, analytic=analytic)
        except Exception:
            return True
    return False


def two_layer_fails(problem, mutant: str | None) -> bool:
    """Does tests/test_two_layer_properties.py's three-way assertion fail for ``mutant``?"""
    fn = None if mutant is None else tl_mutants.mutant(mutant)
    try:
        two_layer.assert_three_way(problem, note=lambda _: None, analytic=fn)
    except Exception:
        return True
    return False


def ci_settings(max_examples: int) -> settings:
    """What the ci profile runs: derandomized, no database; generation only (no shrinking:
    whether a failure is found is decided before shrinking starts)."""
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        deadline=None,
    )


def first_failure(strategy, fails: Callable[[Any], bool], max_examples: int) -> Any | None:
    """The first problem of ``strategy`` on which ``fails``, within ``max_examples``, or None."""
    try:
        return find(strategy, fails, settings=ci_settings(max_examples))
    except NoSuchExample:
        return None


def linear_budget() -> int:
    """Examples per family of test_three_way_agree_per_family under the active profile."""
    return linear.examples(linear.PER_FAMILY_SHARE).max_examples


def two_layer_budget() -> int:
    """Examples per family of the two-layer test_three_way_per_family under the active profile."""
    return two_layer.examples(two_layer.PER_FAMILY_SHARE).max_examples


__all__ = [
    "FAMILIES",
    "KERNEL_MUTATIONS",
    "LINEAR_MUTANTS",
    "TWO_LAYER_FAMILIES",
    "ci_settings",
    "first_failure",
    "kernel_mutant",
    "linear_budget",
    "linear_fails",
    "two_layer_budget",
    "two_layer_fails",
]
