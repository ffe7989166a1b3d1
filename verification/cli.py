"""``softmax-ref verify``: the three-way check of a softmax gradient from the command line.

Checks a function ``(W, b, X, y, reg) -> (loss, dW, db)``, given with
``--analytic module:function`` or by the program that runs this command as
its default, on seeded random problems or at the arrays of an ``.npz`` file;
prints each report and exits 0 when every check passes, 1 when any
disagrees, 2 on a usage error (bad file, bad function). Only argparse and
NumPy are imported at top level, so building the ``softmax-ref`` parser stays
cheap; JAX loads when a check runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["configure_parser", "run_verify"]

EXIT_OK, EXIT_DISAGREE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with the command's inputs: reported on stderr, exit status 2."""


def configure_parser(parser: argparse.ArgumentParser, *, default_name: str | None = None) -> None:
    """Add the ``verify`` options to ``parser``.

    ``default_name`` names the function checked when ``--analytic`` is not
    given (the ``default_analytic`` of :func:`run_verify`), for the help text.

    Example:
        >>> p = argparse.ArgumentParser(); configure_parser(p)
        >>> a = p.parse_args(["--count", "2", "--dtype", "float32"])
        >>> a.count, a.dtype, a.mode, a.seed
        (2, 'float32', 'full', 0)
    """
    parser.description = (
        "Check a softmax gradient three ways (ANALYTIC, JAX, finite differences) and "
        "print the report. Exit status: 0 all agree, 1 a disagreement, 2 a usage error."
    )
    src = parser.add_argument_group("problems")
    src.add_argument("--seed", type=int, default=0, help="seed of the random problems (default 0)")
    src.add_argument(
        "--count", type=_positive, default=3, help="number of random problems (default 3)"
    )
    src.add_argument("--n", type=_positive, default=20, help="samples N (default 20)")
    src.add_argument("--d", type=_positive, default=5, help="features D (default 5)")
    src.add_argument("--c", type=_at_least_two, default=4, help="classes C (default 4)")
    src.add_argument(
        "--reg", type=_non_negative, default=0.1, help="L2 strength on W (default 0.1)"
    )
    src.add_argument(
        "--dtype", choices=("float64", "float32"), default="float64", help="(default float64)"
    )
    src.add_argument(
        "--npz",
        metavar="FILE",
        help="check at the arrays W, b, X, y (and optional reg) of FILE instead",
    )
    how = parser.add_argument_group("check")
    how.add_argument(
        "--analytic",
        metavar="MODULE:FUNCTION",
        help="check your own (W, b, X, y, reg) -> (loss, dW, db)"
        + (f" instead of {default_name}" if default_name else "")
        + "; MODULE may be a dotted name importable from the current directory or a "
        "path to a .py file",
    )
    how.add_argument(
        "--mode",
        choices=("full", "sampled", "directional"),
        default="full",
        help="finite differences on every entry, a seeded sample, or along random "
        "directions (default full)",
    )
    how.add_argument("--json", action="store_true", help="print one JSON document instead")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text}")
    return value


def _at_least_two(text: str) -> int:
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be an integer >= 2 classes; got {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if not (np.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0; got {text}")
    return value


def random_problem(
    seed: int, index: int, n: int, d: int, c: int, reg: float, dtype: str
) -> dict[str, Any]:
    """Problem ``index`` of the stream ``seed``: standard normal X and b, W ~ N(0, 1/D).

    Example:
        >>> p = random_problem(0, 1, n=4, d=2, c=3, reg=0.1, dtype="float32")
        >>> p["X"].shape, p["W"].dtype, p["y"].shape, p["reg"]
        ((4, 2), dtype('float32'), (4,), 0.1)
    """
    rng = np.random.default_rng([seed, index])
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d, c)) / np.sqrt(d)
    b = rng.standard_normal(c)
    y = rng.integers(0, c, size=n)
    return {
        "W": W.astype(dtype),
        "b": b.astype(dtype),
        "X": X.astype(dtype),
        "y": y,
        "reg": reg,
    }


def load_point(path: str) -> dict[str, Any]:
    """The point to check, stored in the ``.npz`` file ``path``: W, b, X, y and an optional reg.

    Returns ``{"W", "b", "X", "y", "reg"}`` with the arrays as stored and
    ``reg`` a float (0 when the file has none).

    Raises:
        UsageError: naming the file and what is wrong with it.
    """
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise UsageError(f"--npz {path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"--npz {path}: not a readable .npz file ({exc})") from None
    if not hasattr(archive, "files"):
        raise UsageError(
            f"--npz {path}: holds a single array, not an .npz archive of W, b, X, y "
            "(save it with np.savez(path, W=W, b=b, X=X, y=y))"
        )
    with archive:
        missing = [k for k in ("W", "b", "X", "y") if k not in archive.files]
        if missing:
            raise UsageError(
                f"--npz {path}: missing array(s) {', '.join(missing)}; the file holds "
                f"{', '.join(archive.files) or 'nothing'} (expected W, b, X, y and optional reg)"
            )
        try:
            problem: dict[str, Any] = {k: archive[k] for k in ("W", "b", "X", "y")}
            reg = archive["reg"] if "reg" in archive.files else np.asarray(0.0)
        except ValueError as exc:  # object arrays need pickle, which is refused
            raise UsageError(f"--npz {path}: {exc}") from None
    if reg.shape not in ((), (1,)) or reg.dtype.kind not in "iuf":
        raise UsageError(
            f"--npz {path}: reg must be one real number; got dtype {reg.dtype} shape {reg.shape}"
        )
    problem["reg"] = float(reg.reshape(()))
    return problem


def load_function(spec: str) -> Any:
    """``module:function`` (or ``path/to/file.py:function``) -> the function.

    Raises:
        UsageError: when the spec is malformed, the module cannot be imported or
            the attribute is missing or not callable.
    """
    import importlib
    import importlib.util
    import os

    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"--analytic must look like module:function; got {spec!r}")
    try:
        if module_name.endswith(".py"):
            if not os.path.isfile(module_name):
                raise UsageError(f"--analytic {spec}: no such file {module_name}")
            name = os.path.splitext(os.path.basename(module_name))[0]
            file_spec = importlib.util.spec_from_file_location(name, module_name)
            if file_spec is None or file_spec.loader is None:
                raise UsageError(f"--analytic {spec}: cannot load {module_name}")
            module = importlib.util.module_from_spec(file_spec)
            file_spec.loader.exec_module(module)
        else:
            # As `python -m` does: modules in the current directory are importable.
            if os.getcwd() not in sys.path and "" not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_name)
    except UsageError:
        raise
    except Exception as exc:  # any import-time failure of the user's module
        raise UsageError(
            f"--analytic {spec}: importing {module_name} failed: {type(exc).__name__}: {exc}"
        ) from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise UsageError(f"--analytic {spec}: {module_name} has no function {attr!r}")
    return fn


def _describe(problem: dict[str, Any]) -> dict[str, Any]:
    X, W = np.asarray(problem["X"]), np.asarray(problem["W"])
    shape = X.shape if X.ndim == 2 else (None, None)
    return {
        "N": shape[0],
        "D": shape[1],
        "C": W.shape[-1] if W.ndim else None,
        "reg": problem["reg"],
        "dtype": str(W.dtype),
    }


def run_verify(
    args: argparse.Namespace,
    *,
    default_analytic: Callable[..., Any] | None = None,
    default_name: str | None = None,
) -> int:
    """Run the checks that ``args`` describe; print the reports; return the exit status.

    ``args`` holds the options of :func:`configure_parser`. The function
    checked is ``--analytic``'s, else ``default_analytic`` (named
    ``default_name`` in the output, by default its module and name); with
    neither, a usage error. Exit status 0 when every check passes, 1 when any
    disagrees, 2 on a usage error (reported on stderr).

    Example:
        A gradient written in a file, checked on one seeded problem with N=4,
        D=2, C=3; then the same file's gradient with dW doubled, which the
        check blames on ANALYTIC:

        >>> import pathlib, tempfile
        >>> tmp = tempfile.TemporaryDirectory(); mine = pathlib.Path(tmp.name) / "mine.py"
        >>> _ = mine.write_text(
        ...     "import numpy as np\\n"
        ...     "def grad(W, b, X, y, reg, factor=1.0):\\n"
        ...     "    F = X @ W + b\\n"
        ...     "    P = np.exp(F - F.max(axis=1, keepdims=True))\\n"
        ...     "    P /= P.sum(axis=1, keepdims=True)\\n"
        ...     "    G = P.copy(); G[np.arange(len(y)), y] -= 1; G /= len(y)\\n"
        ...     "    L = -np.mean(np.log(P[np.arange(len(y)), y])) + 0.5 * reg * np.sum(W * W)\\n"
        ...     "    return L, factor * (X.T @ G + reg * W), G.sum(axis=0)\\n"
        ...     "def doubled(W, b, X, y, reg):\\n"
        ...     "    return grad(W, b, X, y, reg, factor=2.0)\\n")
        >>> p = argparse.ArgumentParser(); configure_parser(p)
        >>> small = ["--count", "1", "--n", "4", "--d", "2", "--c", "3"]
        >>> run_verify(p.parse_args([*small, "--analytic", f"{mine}:grad"]))  # doctest: +ELLIPSIS
        == problem 0 (seed 0): N=4 D=2 C=3 reg=0.1 dtype=float64
        three-way gradient check: OK  (mode=full, seed=0, dtype=float64, ...)
        all three agree
        ...
        1 of 1 checks passed for ...mine.py:grad
        0
        >>> doubled = p.parse_args([*small, "--analytic", f"{mine}:doubled"])
        >>> run_verify(doubled)  # doctest: +ELLIPSIS
        == problem 0 (seed 0): N=4 D=2 C=3 reg=0.1 dtype=float64
        three-way gradient check: FAIL  (mode=full, seed=0, dtype=float64, ...)
        ANALYTIC disagrees with JAX and FD, which agree: dW...
        0 of 1 checks passed for ...mine.py:doubled
        1
        >>> tmp.cleanup()
    """
    try:
        if args.analytic:
            analytic = load_function(args.analytic)
            who = args.analytic
        elif default_analytic is not None:
            analytic = default_analytic
            who = default_name or f"{analytic.__module__}.{analytic.__qualname__}"
        else:
            raise UsageError("no function to check: pass --analytic MODULE:FUNCTION")
        if args.npz:
            problems = [("file " + args.npz, load_point(args.npz))]
        else:
            problems = [
                (
                    f"problem {i} (seed {args.seed})",
                    random_problem(args.seed, i, args.n, args.d, args.c, args.reg, args.dtype),
                )
                for i in range(args.count)
            ]
        from .models import check_softmax

        results = []
        for label, problem in problems:
            try:
                report = check_softmax(
                    problem["W"],
                    problem["b"],
                    problem["X"],
                    problem["y"],
                    problem["reg"],
                    analytic=analytic,
                    mode=args.mode,
                    seed=args.seed,
                )
            except Exception as exc:  # a malformed file or a user's function that raised
                raise UsageError(f"{label}: {type(exc).__name__}: {exc}") from None
            results.append((label, problem, report))
    except UsageError as exc:
        print(f"softmax-ref verify: error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    all_ok = all(report.ok for _, _, report in results)
    if args.json:
        doc = {
            "ok": all_ok,
            "analytic": who,
            "problems": [
                {"label": label, "problem": _describe(problem), "report": report.to_dict()}
                for label, problem, report in results
            ],
        }
        print(json.dumps(doc, indent=2, allow_nan=False))
    else:
        for label, problem, report in results:
            d = _describe(problem)
            print(f"== {label}: N={d['N']} D={d['D']} C={d['C']} reg={d['reg']} dtype={d['dtype']}")
            print(report)
            print()
        n_ok = sum(report.ok for _, _, report in results)
        print(f"{n_ok} of {len(results)} checks passed for {who}")
    return EXIT_OK if all_ok else EXIT_DISAGREE
