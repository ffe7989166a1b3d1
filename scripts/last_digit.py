"""Relative error of the loss and of dL/db_y against the score gap: ours and the peers.

One sample, two classes, scores [g, 0], label on the winner: the loss is
log(1 + e^-g) and dL/db_y = -e^-g / (1 + e^-g), both about e^-g. Each
implementation's float64 result is compared with the 50-digit truth of
verification/truth.py. Peers: JAX (``logsumexp`` and ``grad``), scikit-learn's
``HalfMultinomialLoss``, the blog post's NumPy code (benchmarks/post_softmax.py)
and PyTorch's ``cross_entropy`` where torch is installed. Writes the figure the
derivation page shows and the table of errors at gaps 20, 30 and 40 it
includes (and prints the table)::

    python scripts/last_digit.py [--out docs/last-digit.png] [--table docs/last-digit-table.out]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

GAPS = np.arange(1.0, 61.0, 1.0)
TABLE_GAPS = (20.0, 30.0, 40.0)

# (loss, dL/db_y) of one sample with scores [g, 0] and label 0.
Impl = Callable[[float], tuple[float, float]]


def _ours(g: float) -> tuple[float, float]:
    import softmax_ref as sr

    L, _, db = sr.loss_and_grad(np.zeros((1, 2)), np.array([g, 0.0]), np.zeros((1, 1)), [0])
    return float(L), float(db[0])


def _ours_naive(g: float) -> tuple[float, float]:
    import softmax_ref as sr

    L, _, db = sr.loss_and_grad_naive(np.zeros((1, 2)), np.array([g, 0.0]), np.zeros((1, 1)), [0])
    return float(L), float(db[0])


def _jax(g: float) -> tuple[float, float]:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

    def loss(b: Any) -> Any:
        return jax.nn.logsumexp(b) - b[0]

    L, grad = jax.value_and_grad(loss)(jnp.array([g, 0.0]))
    return float(L), float(grad[0])


def _sklearn(g: float) -> tuple[float, float]:
    from sklearn._loss.loss import HalfMultinomialLoss

    loss, grad = HalfMultinomialLoss(n_classes=2).loss_gradient(
        y_true=np.array([0.0]), raw_prediction=np.array([[g, 0.0]])
    )
    return float(loss[0]), float(grad[0, 0])


def _post(g: float) -> tuple[float, float]:
    from post_softmax import softmax_loss

    with np.errstate(divide="ignore"):
        L, _, db = softmax_loss(np.zeros((1, 2)), np.array([g, 0.0]), np.zeros((1, 1)), [0], 0.0)
    return float(L), float(db[0, 0])


def _torch(g: float) -> tuple[float, float]:
    import torch

    f = torch.tensor([[g, 0.0]], dtype=torch.float64, requires_grad=True)
    L = torch.nn.functional.cross_entropy(f, torch.tensor([0]))
    L.backward()
    assert f.grad is not None
    return float(L), float(f.grad[0, 0])


def implementations() -> dict[str, Impl]:
    """The implementations that import here (PyTorch only where installed)."""
    impls: dict[str, Impl] = {
        "ours (loss_and_grad)": _ours,
        "ours (naive loops)": _ours_naive,
        "JAX logsumexp + grad": _jax,
        "scikit-learn HalfMultinomialLoss": _sklearn,
        "the post's code": _post,
    }
    try:
        import torch  # noqa: F401

        impls["PyTorch cross_entropy"] = _torch
    except ImportError:
        pass
    return impls


def relative_errors(impl: Impl, gaps: np.ndarray) -> np.ndarray:
    """(len(gaps), 2): relative errors of the loss and of dL/db_y (capped at 1)."""
    from verification.truth import softmax_truth

    out = np.empty((len(gaps), 2))
    for i, g in enumerate(gaps):
        L, _, db, _ = softmax_truth(np.zeros((1, 2)), np.array([g, 0.0]), np.zeros((1, 1)), [0])
        got_L, got_db = impl(float(g))
        out[i] = [abs(got_L - L) / abs(L), abs(got_db - db[0]) / abs(db[0])]
    return np.minimum(out, 1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "last-digit.png"))
    parser.add_argument("--table", default=str(ROOT / "docs" / "last-digit-table.out"))
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    impls = implementations()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    eps = float(np.finfo(np.float64).eps)
    rows = [
        "| implementation | gap | loss, relative error | dL/db_y, relative error |",
        "|---|---|---|---|",
    ]
    peer_styles = iter(["--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 3))])
    for name, impl in impls.items():
        errs = relative_errors(impl, GAPS)
        table = relative_errors(impl, np.array(TABLE_GAPS))
        for g, (e_loss, e_db) in zip(TABLE_GAPS, table, strict=True):
            rows.append(f"| {name} | {g:.0f} | {e_loss:.1e} | {e_db:.1e} |")
        style = "-" if name.startswith("ours") else next(peer_styles)
        for ax, col in zip(axes, (0, 1), strict=True):
            # Exact results (error 0) are drawn at eps / 10, below every rounding error.
            ax.semilogy(GAPS, np.maximum(errs[:, col], eps / 10), style, label=name)
    for ax, what in zip(axes, ("loss", "dL/db_y"), strict=True):
        ax.set_title(f"{what}: relative error vs a 50-digit truth")
        ax.set_xlabel("score gap g (scores [g, 0], label on the winner)")
        ax.axhline(eps, color="grey", lw=0.5)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("relative error (capped at 1; 0 drawn at eps/10)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    Path(args.table).write_text("\n".join(rows) + "\n", encoding="utf-8")
    print("\n".join(rows))
    print(f"\nwrote {args.out} and {args.table}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
