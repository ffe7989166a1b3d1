"""The post's API needs NumPy alone: ``from softmax_ref import Softmax`` in a bare virtualenv.

The test builds a virtualenv with ``pip install numpy`` and this repository
installed with ``--no-deps`` (so none of the extras: no scikit-learn, SciPy,
JAX or matplotlib), then runs the post's ``train``, ``train_early_stopping``
and ``predict`` there. It takes a few seconds with a warm pip cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs inside the bare virtualenv; prints one line the test reads back.
SCRIPT = textwrap.dedent(
    """
    import importlib.util, sys
    import numpy as np
    from softmax_ref import Softmax

    extras = ["sklearn", "scipy", "jax", "matplotlib", "hypothesis"]
    installed = [name for name in extras if importlib.util.find_spec(name) is not None]
    assert not installed, f"the virtualenv is not NumPy-only: {installed}"

    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-2.0, 1.0, (40, 2)), rng.normal(2.0, 1.0, (40, 2))])
    y = np.repeat([0, 1], 40)
    s = Softmax()
    record = s.train(X, y, learning_rate=0.5, reg=0.01, num_iters=50)
    early = Softmax()
    stopped = early.train_early_stopping(
        X[::2], y[::2], X[1::2], y[1::2], learning_rate=0.5, reg=0.01, early_stopping_rounds=5
    )
    accuracy = float(np.mean(s.predict(X) == y))
    loaded = sorted(m.split(".")[0] for m in sys.modules if m.split(".")[0] in extras)
    print(len(record.loss_curve), stopped.best_iteration is not None, accuracy, loaded)
    """
)


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_softmax_runs_in_a_numpy_only_virtualenv(tmp_path):
    venv = tmp_path / "venv"
    made = run(sys.executable, "-m", "venv", venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    for step in (
        ("-m", "pip", "install", "--quiet", "numpy"),
        ("-m", "pip", "install", "--quiet", "--no-deps", "-e", ROOT),
    ):
        done = run(python, *step)
        assert done.returncode == 0, f"pip {' '.join(map(str, step[2:]))}:\n{done.stderr}"
    # Run from an empty directory, so that the import resolves through the install.
    out = run(python, "-c", SCRIPT, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    n_iters, early_stopped, accuracy, loaded = out.stdout.strip().split(" ", 3)
    assert n_iters == "50"
    assert early_stopped == "True"
    # Two well-separated blobs: gradient descent separates nearly all of them.
    assert float(accuracy) >= 0.9
    assert loaded == "[]"
