"""The one registry of timed implementations.

Read by the pytest-benchmark suite (test_bench_loss.py) and by the scripts
(``scripts/bench_sidebyside.py``, ``bench_table.py``, ``bench_regress.py``,
``bench_memory.py``): an implementation added here is timed, checked,
compared and put on the benchmarks page by all of them, with no other edit.

An entry is an :class:`Impl`: a name, a *factory* that takes a problem
(benchmarks/problems.py), does its set-up (compilation, device transfer,
buffers) and returns a zero-argument callable, and a function turning that
callable's result into NumPy ``(loss, dW, db)`` so it can be checked against
``softmax_ref.loss_and_grad`` in float64 before it is timed. To add yours::

    def mine(p):
        return lambda: my_loss_and_grad(p.W, p.b, p.X, p.y, p.reg)

    register(Impl("mine", mine))

The docs page "Guard your own implementation" walks through it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from post_softmax import softmax_loss as post_softmax_loss
from problems import Problem

import softmax_ref as sr


def _as_triple(out: Any) -> tuple[Any, Any, Any]:
    loss, dW, db = out
    return loss, dW, db


@dataclass(frozen=True)
class Impl:
    """One timed implementation of the loss and gradient.

    ``factory(problem)`` returns the zero-argument call to time; ``result`` maps
    its return value to ``(loss, dW, db)``; ``sizes`` limits it to some problem
    names (None: all); ``check=False`` marks a roofline reference that computes
    something else; ``memory=True`` asks for its peak memory on the page.
    """

    name: str
    factory: Callable[[Problem], Callable[[], Any]]
    result: Callable[[Any], tuple[Any, Any, Any]] = _as_triple
    sizes: frozenset[str] | None = None
    check: bool = True
    memory: bool = False
    label: str = ""
    requires: tuple[str, ...] = field(default=())

    def runs_on(self, problem_name: str) -> bool:
        return self.sizes is None or problem_name in self.sizes

    def available(self) -> bool:
        """Whether the modules it needs can be imported here."""
        import importlib.util

        return all(importlib.util.find_spec(m) is not None for m in self.requires)


REGISTRY: dict[str, Impl] = {}

#: The implementation every ratio is taken against, and the one under test.
BASELINE = "post"
OURS = "ours"


def register(impl: Impl) -> Impl:
    if impl.name in REGISTRY:
        raise ValueError(f"an implementation named {impl.name!r} is registered already")
    REGISTRY[impl.name] = impl
    return impl


def select(names: Iterable[str] | None = None, problem_name: str | None = None) -> list[Impl]:
    """Registered implementations (all, or ``names`` in registry order) that can run here."""
    wanted = None if names is None else set(names)
    if wanted is not None and (unknown := wanted - REGISTRY.keys()):
        raise SystemExit(
            f"unknown implementation(s) {sorted(unknown)}; registered: {sorted(REGISTRY)}"
        )
    return [
        impl
        for impl in REGISTRY.values()
        if (wanted is None or impl.name in wanted)
        and (problem_name is None or impl.runs_on(problem_name))
        and impl.available()
    ]


# --- the implementations --------------------------------------------------------


def ours(p: Problem) -> Callable[[], Any]:
    return lambda: sr.loss_and_grad(p.W, p.b, p.X, p.y, p.reg)


def post(p: Problem) -> Callable[[], Any]:
    return lambda: post_softmax_loss(p.W, p.b, p.X, p.y, p.reg)


def naive(p: Problem) -> Callable[[], Any]:
    return lambda: sr.loss_and_grad_naive(p.W, p.b, p.X, p.y, p.reg)


def jax_value_and_grad(p: Problem) -> Callable[[], Any]:
    """jit(value_and_grad) of the project's loss; compiled here, inputs on the device.

    JAX's float64 flag must be on before this runs (``import verification.oracle``).
    """
    import jax
    import jax.numpy as jnp

    import verification.oracle  # noqa: F401  (JAX's float64 flag, before any array)

    def loss(W, b, X, y, reg):
        # mean_n [logsumexp(F_n) - F_n,y_n] + 0.5 reg ||W||^2
        F = X @ W + b
        F_y = jnp.take_along_axis(F, y[:, None], axis=1)[:, 0]
        return jnp.mean(jax.nn.logsumexp(F, axis=1) - F_y) + 0.5 * reg * jnp.sum(W * W)

    f = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
    args = [jax.device_put(a) for a in (p.W, p.b, p.X, p.y)]
    args.append(jnp.asarray(p.reg, dtype=p.dtype))
    jax.block_until_ready(f(*args))  # compile outside the timing
    return lambda: jax.block_until_ready(f(*args))


def _jax_result(out: Any) -> tuple[Any, Any, Any]:
    value, (dW, db) = out
    return np.asarray(value), np.asarray(dW), np.asarray(db)


def sklearn_half_multinomial(p: Problem, threads: int) -> Callable[[], Any]:
    """HalfMultinomialLoss.loss_gradient plus the same two GEMMs as ours.

    Its conventions: float labels, per-sample losses, a per-sample gradient
    P - Y not divided by N. Output buffers are allocated once, here.
    """
    from sklearn._loss.loss import HalfMultinomialLoss

    n, _, c = p.shape
    hml = HalfMultinomialLoss(n_classes=c)
    y_float = p.y.astype(p.dtype)
    raw = np.empty((n, c), dtype=p.dtype)
    loss_out = np.empty(n, dtype=p.dtype)
    grad_out = np.empty((n, c), dtype=p.dtype)

    def call():
        np.matmul(p.X, p.W, out=raw)
        np.add(raw, p.b, out=raw)
        per_sample, G = hml.loss_gradient(
            y_true=y_float,
            raw_prediction=raw,
            loss_out=loss_out,
            gradient_out=grad_out,
            n_threads=threads,
        )
        loss = np.mean(per_sample, dtype=np.float64) + 0.5 * p.reg * np.sum(p.W * p.W)
        dW = (G.T @ p.X).T / n + p.reg * p.W
        db = G.sum(axis=0) / n
        return p.dtype.type(loss), dW, db

    return call


def read_bound(p: Problem) -> Callable[[], Any]:
    # One GEMV reads X once: no loss and gradient can take less.
    v = np.ones(p.shape[1], dtype=p.dtype)
    return lambda: p.X @ v


def _post_result(out: Any) -> tuple[Any, Any, Any]:
    loss, dW, db = out
    return dW.dtype.type(loss), dW, np.reshape(db, -1)


register(Impl(OURS, ours, memory=True, label="softmax_ref.loss_and_grad"))
register(Impl(BASELINE, post, _post_result, memory=True, label="the post's NumPy code"))
register(Impl("naive", naive, sizes=frozenset({"toy"}), label="loss_and_grad_naive"))
register(
    Impl("jax", jax_value_and_grad, _jax_result, requires=("jax",), label="JAX jit", memory=True)
)
for _t in (1, 2):
    register(
        Impl(
            f"sklearn-t{_t}",
            lambda p, t=_t: sklearn_half_multinomial(p, t),
            requires=("sklearn",),
            label=f"scikit-learn, {_t} OpenMP thread(s)",
        )
    )
register(Impl("read-bound", read_bound, check=False, label="GEMV over X (reads X once)"))
