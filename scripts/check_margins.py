"""How close a correct gradient comes to the three-way check's tolerances.

Run: .venv/bin/python scripts/check_margins.py [--problems 300] [--seed 0]

Draws random softmax problems from several families (ordinary, extreme logits
of order 1e3-1e5, tied scores, a single sample, a single feature, large reg,
float32), checks softmax_ref.loss_and_grad with check_softmax in full mode and
prints, per family, the largest ratio error / tolerance of each pair. A ratio
of 1 would fail; the tolerance table's comments quote these figures. It also
prints the largest |ANALYTIC - JAX| in units of eps * scale (the rounding floor
of the tight comparison) and whether any check failed.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np

import softmax_ref as sr
from verification import check_softmax, oracle
from verification.models import softmax_scales
from verification.tolerances import tolerances_for


def draw(rng: np.random.Generator, family: str):
    n = int(rng.integers(1, 21)) if family != "single_sample" else 1
    d = int(rng.integers(1, 7)) if family != "single_feature" else 1
    c = int(rng.integers(2, 7))
    X = rng.uniform(-5, 5, size=(n, d))
    W = rng.uniform(-2, 2, size=(d, c))
    b = rng.uniform(-5, 5, size=c)
    reg = float(rng.choice([0.0, rng.uniform(0, 1)]))
    if family == "extreme":
        scale = 10 ** rng.uniform(3, 5)
        W = W * scale / 10
        b = b * scale / 5
    elif family == "tied":
        j = int(rng.integers(1, c))
        W[:, j] = W[:, 0]
        b[j] = b[0]
    elif family == "large_reg":
        reg = float(10 ** rng.uniform(1, 3))
    y = rng.integers(0, c, size=n)
    if family == "float32":
        X, W, b = (a.astype(np.float32) for a in (X, W, b))
    return W, b, X, y, reg


FAMILIES = [
    "ordinary",
    "extreme",
    "tied",
    "single_sample",
    "single_feature",
    "large_reg",
    "float32",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    worst: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    floor_units: dict[str, float] = defaultdict(float)
    verdicts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    failures = 0
    for i in range(args.problems):
        family = FAMILIES[i % len(FAMILIES)]
        W, b, X, y, reg = draw(rng, family)
        report = check_softmax(W, b, X, y, reg, analytic=sr.loss_and_grad)
        failures += not report.ok
        if not report.ok:
            print(report)
        for c in report.comparisons:
            key = f"{c.quantity} {c.pair[0]}-{c.pair[1]}"
            if np.isfinite(c.bound) and c.bound > 0:
                ratio = abs(c.values[c.pair[0]] - c.values[c.pair[1]]) / c.bound
                worst[family][key] = max(worst[family][key], ratio)
            verdicts[family][c.verdict] += 1
        # |ANALYTIC - JAX| in units of eps * scale, the tight comparison's floor.
        dt = X.dtype
        eps = tolerances_for(dt).eps
        scales, _, _, _ = softmax_scales(W, b, X, y, reg)
        _, dW, db = sr.loss_and_grad(W, b, X, y, reg)
        _, jW, jb = oracle.loss_and_grad(W, b, X.astype(np.float64), y, reg)
        for name, a, j in (("W", dW, jW), ("b", db, jb)):
            s = np.asarray(scales[name])
            units = np.max(np.abs(a.astype(np.float64) - j) / (eps * s))
            floor_units[family] = max(floor_units[family], float(units))
    for family in FAMILIES:
        print(
            f"{family:15s} |A-J|/(eps*scale) max {floor_units[family]:8.3f}   verdicts "
            f"{dict(verdicts[family])}"
        )
        for key, ratio in sorted(worst[family].items()):
            print(f"    {key:22s} max err/bound at the worst entry {ratio:.3g}")
    print(f"problems: {args.problems}, failed checks: {failures}")


if __name__ == "__main__":
    main()
