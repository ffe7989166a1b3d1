"""``softmax-ref verify``: the three-way check of a gradient from the command line.

Two uses:

- **Any loss.** ``--analytic FILE_OR_MODULE:fn --loss FILE_OR_MODULE:fn
  --point point.npz --params W,b`` checks the user's NumPy
  ``fn(params, data) -> (loss, grads)`` against their ``jax.numpy``
  ``fn(params, data) -> loss`` at the arrays of ``point.npz``: the names in
  ``--params`` are the parameters, every other array is data
  (:func:`verification.check_gradient`).
- **Softmax cross-entropy.** Without ``--loss``, the function checked is
  ``(W, b, X, y, reg) -> (loss, dW, db)`` (``--analytic``, or the program's
  default) and the reference is softmax cross-entropy, on seeded random
  problems or at the arrays of ``--npz`` / ``--point``.

Prints each report and exits 0 when every check passes, 1 when any
disagrees (the report names the entries), 2 on a usage error (bad file, bad
function, a function that raised). Only argparse and NumPy are imported at
top level, so building the ``softmax-ref`` parser stays cheap; JAX loads when
a check runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["configure_parser", "run_verify", "run_verify_loss"]

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
        "Check a gradient three ways (ANALYTIC, JAX, finite differences) and print the\n"
        "report. With --loss: your NumPy (params, data) -> (loss, grads) against your\n"
        "jax.numpy (params, data) -> loss, at the arrays of --point. Without --loss: a\n"
        "(W, b, X, y, reg) -> (loss, dW, db) function checked against softmax\n"
        "cross-entropy. Exit status: 0 all agree, 1 a disagreement, 2 a usage error."
    )
    parser.epilog = (
        "examples:\n"
        "  softmax-ref verify --analytic mine.py:loss_and_grad --loss mine.py:loss \\\n"
        "      --point point.npz --params w,b\n"
        "  softmax-ref verify --analytic mine.py:loss_and_grad --count 1   "
        "# softmax cross-entropy\n"
    )
    formatter: Any = parser.formatter_class
    if not (
        isinstance(formatter, type) and issubclass(formatter, argparse.RawDescriptionHelpFormatter)
    ):
        parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the examples
    own = parser.add_argument_group("any loss")
    own.add_argument(
        "--loss",
        metavar="MODULE:FUNCTION",
        help="your loss in jax.numpy, (params, data) -> scalar: the reference --analytic "
        "(then (params, data) -> (loss, grads)) is checked against; needs --point and "
        "--params (default: none, the reference is softmax cross-entropy)",
    )
    own.add_argument(
        "--point",
        metavar="FILE",
        help="the .npz file of arrays to check at: with --loss, the parameters named by "
        "--params and the data (every other array); without, W, b, X, y and optional reg",
    )
    own.add_argument(
        "--params",
        metavar="NAMES",
        help="with --loss: comma-separated names of the arrays of --point that are "
        "parameters, e.g. W,b (no default)",
    )
    src = parser.add_argument_group("softmax problems (without --loss)")
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
        "--dtype",
        choices=("float64", "float32"),
        default="float64",
        help="precision of the random problems (default float64)",
    )
    src.add_argument(
        "--npz",
        metavar="FILE",
        help="check at the arrays W, b, X, y (and optional reg) of FILE instead of "
        "random problems (default: random problems)",
    )
    how = parser.add_argument_group("check")
    how.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the random problems and of the check's samples and directions (default 0)",
    )
    how.add_argument(
        "--analytic",
        metavar="MODULE:FUNCTION",
        help="the function to check: with --loss, (params, data) -> (loss, grads); "
        "without, (W, b, X, y, reg) -> (loss, dW, db), checked against softmax "
        "cross-entropy"
        + (f" (default: {default_name})" if default_name else "")
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
    how.add_argument(
        "--json", action="store_true", help="print one JSON document instead (default: text)"
    )


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


def load_arrays(path: str, flag: str = "--point") -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` file ``path``, by name (no pickled objects).

    Raises:
        UsageError: naming ``flag``, the file and what is wrong with it.

    Example:
        >>> import tempfile, os
        >>> f = os.path.join(tempfile.mkdtemp(), "p.npz")
        >>> np.savez(f, w=np.zeros(2), X=np.ones((3, 2)))
        >>> sorted((k, v.shape) for k, v in load_arrays(f).items())
        [('X', (3, 2)), ('w', (2,))]
    """
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise UsageError(f"{flag} {path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{flag} {path}: not a readable .npz file ({exc})") from None
    if not hasattr(archive, "files"):
        raise UsageError(
            f"{flag} {path}: holds a single array, not an .npz archive of named arrays "
            "(save it with np.savez(path, W=W, b=b, X=X, ...))"
        )
    with archive:
        try:
            return {k: archive[k] for k in archive.files}
        except ValueError as exc:  # object arrays need pickle, which is refused
            raise UsageError(f"{flag} {path}: {exc}") from None


def split_point(
    arrays: dict[str, np.ndarray], names: str, path: str
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``(params, data)``: the arrays named in ``names`` (comma-separated), and the rest.

    Raises:
        UsageError: a name not in the file, or a parameter that is not a float array.

    Example:
        >>> arrays = {"W": np.zeros((2, 3)), "b": np.zeros(3), "X": np.ones((4, 2))}
        >>> params, data = split_point(arrays, "W,b", "p.npz")
        >>> sorted(params), sorted(data)
        (['W', 'b'], ['X'])
    """
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    if not wanted:
        raise UsageError(f"--params must name at least one array of {path}; got {names!r}")
    missing = [n for n in wanted if n not in arrays]
    if missing:
        raise UsageError(
            f"--params {names}: {', '.join(missing)} not in {path}, which holds "
            f"{', '.join(sorted(arrays)) or 'nothing'}"
        )
    for n in wanted:
        if arrays[n].dtype.kind != "f":
            raise UsageError(
                f"--params {names}: {n} in {path} has dtype {arrays[n].dtype}; a parameter "
                "must be a float array"
            )
    params = {n: arrays[n] for n in wanted}
    data = {k: v for k, v in arrays.items() if k not in params}
    return params, data


def load_function(spec: str, flag: str = "--analytic") -> Any:
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
        raise UsageError(f"{flag} must look like module:function; got {spec!r}")
    try:
        if module_name.endswith(".py"):
            if not os.path.isfile(module_name):
                raise UsageError(f"{flag} {spec}: no such file {module_name}")
            name = os.path.splitext(os.path.basename(module_name))[0]
            file_spec = importlib.util.spec_from_file_location(name, module_name)
            if file_spec is None or file_spec.loader is None:
                raise UsageError(f"{flag} {spec}: cannot load {module_name}")
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
            f"{flag} {spec}: importing {module_name} failed: {type(exc).__name__}: {exc}"
        ) from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise UsageError(f"{flag} {spec}: {module_name} has no function {attr!r}")
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

    With ``--loss``, :func:`run_verify_loss` runs instead.

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
        1 of 1 checks passed for ...mine.py:grad, checked against softmax cross-entropy (...)
        0
        >>> doubled = p.parse_args([*small, "--analytic", f"{mine}:doubled"])
        >>> run_verify(doubled)  # doctest: +ELLIPSIS
        == problem 0 (seed 0): N=4 D=2 C=3 reg=0.1 dtype=float64
        three-way gradient check: FAIL  (mode=full, seed=0, dtype=float64, ...)
        ANALYTIC disagrees with JAX and FD, which agree: dW...
        0 of 1 checks passed for ...mine.py:doubled, checked against softmax cross-entropy (...)
        1
        >>> tmp.cleanup()
    """
    if getattr(args, "loss", None) or getattr(args, "params", None):
        return run_verify_loss(args)
    try:
        if args.analytic:
            analytic = load_function(args.analytic)
            who = args.analytic
        elif default_analytic is not None:
            analytic = default_analytic
            who = default_name or f"{analytic.__module__}.{analytic.__qualname__}"
        else:
            raise UsageError("no function to check: pass --analytic MODULE:FUNCTION")
        if args.npz and getattr(args, "point", None):
            raise UsageError("give the point with --npz or --point, not both")
        if args.npz or getattr(args, "point", None):
            path = args.npz or args.point
            problems = [("file " + path, load_point(path))]
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
        print(
            f"{n_ok} of {len(results)} checks passed for {who}, checked against softmax "
            "cross-entropy (pass --loss to check against your own loss)"
        )
    return EXIT_OK if all_ok else EXIT_DISAGREE


def run_verify_loss(args: argparse.Namespace) -> int:
    """``verify --analytic A --loss L --point P --params NAMES``: any loss, at one point.

    Loads both functions and the arrays of ``--point``, splits them into
    parameters (``--params``) and data, runs
    :func:`verification.check_gradient` and prints the report (or, with
    ``--json``, one JSON document). Returns 0 when all agree, 1 on a
    disagreement, 2 on a usage error (reported on stderr).

    Example:
        A weighted least squares with its gradient written twice, right and
        with the weights forgotten:

        >>> import pathlib, tempfile
        >>> tmp = pathlib.Path(tempfile.mkdtemp()); mine = tmp / "wls.py"
        >>> _ = mine.write_text(
        ...     "import numpy as np, jax.numpy as jnp\\n"
        ...     "def loss(p, d):\\n"
        ...     "    return 0.5 * jnp.sum(d['s'] * (d['X'] @ p['w'] - d['y']) ** 2)\\n"
        ...     "def grad(p, d, s=True):\\n"
        ...     "    r = d['X'] @ p['w'] - d['y']\\n"
        ...     "    g = d['X'].T @ (d['s'] * r if s else r)\\n"
        ...     "    return 0.5 * np.sum(d['s'] * r**2), {'w': g}\\n"
        ...     "def unweighted(p, d):\\n"
        ...     "    return grad(p, d, s=False)\\n")
        >>> rng = np.random.default_rng(0)
        >>> np.savez(tmp / "point.npz", w=rng.normal(size=3), X=rng.normal(size=(5, 3)),
        ...          y=rng.normal(size=5), s=rng.uniform(size=5))
        >>> p = argparse.ArgumentParser(); configure_parser(p)
        >>> common = ["--loss", f"{mine}:loss", "--point", str(tmp / "point.npz"), "--params", "w"]
        >>> run_verify(p.parse_args(["--analytic", f"{mine}:grad", *common]))  # doctest: +ELLIPSIS
        == ...point.npz: params w (3,); data X (5, 3), s (5,), y (5,)
        three-way gradient check: OK  (mode=full, seed=0, dtype=float64, ...)
        ...
        all agree: ...wls.py:grad checked against ...wls.py:loss
        0
        >>> wrong = p.parse_args(["--analytic", f"{mine}:unweighted", *common])
        >>> run_verify(wrong)  # doctest: +ELLIPSIS
        == ...
        ANALYTIC disagrees with JAX and FD, which agree: dw[...] (3 of 3, everything)
        ...
        disagreement: ...wls.py:unweighted checked against ...wls.py:loss: dw
        1
    """
    try:
        missing = [
            flag
            for flag, value in (
                ("--analytic", args.analytic),
                ("--loss", getattr(args, "loss", None)),
                ("--point", getattr(args, "point", None)),
                ("--params", getattr(args, "params", None)),
            )
            if not value
        ]
        if missing:
            raise UsageError(
                "checking your own loss needs --analytic, --loss, --point and --params; "
                f"missing {', '.join(missing)}"
            )
        if args.npz:
            raise UsageError(
                "--npz holds a softmax problem; with --loss give the arrays by --point"
            )
        analytic = load_function(args.analytic, "--analytic")
        loss = load_function(args.loss, "--loss")
        params, data = split_point(load_arrays(args.point), args.params, args.point)
        from .gradient import check_gradient

        try:
            report = check_gradient(analytic, loss, params, data, mode=args.mode, seed=args.seed)
        except Exception as exc:  # a function that raised, or returned the wrong things
            raise UsageError(f"{args.point}: {type(exc).__name__}: {exc}") from None
    except UsageError as exc:
        print(f"softmax-ref verify: error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    def shapes(arrays: dict[str, np.ndarray]) -> str:
        return ", ".join(f"{k} {tuple(v.shape)}" for k, v in sorted(arrays.items())) or "none"

    if args.json:
        doc = {
            "ok": report.ok,
            "analytic": args.analytic,
            "loss": args.loss,
            "point": args.point,
            "params": {k: list(v.shape) for k, v in params.items()},
            "data": {k: list(v.shape) for k, v in data.items()},
            "report": report.to_dict(),
        }
        print(json.dumps(doc, indent=2, allow_nan=False))
    else:
        print(f"== {args.point}: params {shapes(params)}; data {shapes(data)}")
        print(report)
        print()
        who = f"{args.analytic} checked against {args.loss}"
        if report.ok:
            print(f"all agree: {who}")
        else:
            failing = sorted({c.quantity for c in report.failures()}, key=str)
            print(f"disagreement: {who}: {', '.join(failing)}")
    return EXIT_OK if report.ok else EXIT_DISAGREE
