"""``softmax-ref verify``: random problems, .npz files, a user's function, JSON, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from softmax_ref.cli import main

SMALL = ["--n", "6", "--d", "3", "--c", "4"]

WRONG_MODULE = textwrap.dedent(
    """
    import numpy as np
    import softmax_ref as sr

    def one_entry_off(W, b, X, y, reg):
        L, dW, db = sr.loss_and_grad(W, b, X, y, reg)
        dW = dW.copy()
        dW[1, 2] *= 1.0001
        return L, dW, db

    def transposed(W, b, X, y, reg):
        L, dW, db = sr.loss_and_grad(W, b, X, y, reg)
        return L, dW.T, db

    def crashes(W, b, X, y, reg):
        raise IndexError("my derivation has a bug")

    NOT_A_FUNCTION = 3
    """
)


def npy_bytes(a):
    """A lone .npy array (np.save would append .npy to a name ending in .npz)."""
    import io

    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "my_softmax.py").write_text(WRONG_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "my_softmax.py"


def test_correct_gradient_exits_zero(capsys):
    assert main(["verify", "--count", "2", *SMALL]) == 0
    out = capsys.readouterr().out
    assert out.count("three-way gradient check: OK") == 2
    assert "2 of 2 checks passed for softmax_ref.loss_and_grad" in out


@pytest.mark.parametrize("mode", ["sampled", "directional"])
def test_modes_and_float32(capsys, mode):
    assert main(["verify", "--count", "1", "--dtype", "float32", "--mode", mode, *SMALL]) == 0
    out = capsys.readouterr().out
    assert f"mode={mode}" in out
    assert "dtype=float32" in out


def test_wrong_gradient_exits_one_and_names_the_wrong_entry(capsys, user_module):
    code = main(["verify", "--count", "1", "--analytic", "my_softmax:one_entry_off", *SMALL])
    assert code == 1
    out = capsys.readouterr().out
    assert "ANALYTIC disagrees with JAX and FD, which agree: dW[1, 2]" in out
    assert "0 of 1 checks passed for my_softmax:one_entry_off" in out


def test_analytic_given_as_a_file_path(capsys, user_module):
    spec = f"{user_module}:one_entry_off"
    assert main(["verify", "--count", "1", "--analytic", spec, *SMALL]) == 1
    assert "dW[1, 2]" in capsys.readouterr().out


def test_json_output(capsys, user_module):
    code = main(
        ["verify", "--count", "2", "--json", "--analytic", "my_softmax:one_entry_off", *SMALL]
    )
    assert code == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False
    assert len(doc["problems"]) == 2
    first = doc["problems"][0]
    assert first["problem"] == {"N": 6, "D": 3, "C": 4, "reg": 0.1, "dtype": "float64"}
    assert first["report"]["blame"] == "ANALYTIC"
    assert first["report"]["diagnosis"].endswith("dW[1, 2]")


def test_npz_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    path = tmp_path / "point.npz"
    np.savez(
        path,
        W=rng.normal(size=(3, 2)),
        b=np.zeros(2),
        X=rng.normal(size=(5, 3)),
        y=np.array([0, 1, 1, 0, 1]),
        reg=np.float64(0.5),
    )
    assert main(["verify", "--npz", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"== file {path}: N=5 D=3 C=2 reg=0.5 dtype=float64" in out


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.write_text("not an archive"), "not a readable .npz file"),
        (lambda p: p.write_bytes(npy_bytes(np.zeros(3))), "holds a single array"),
        (lambda p: np.savez(p, W=np.zeros((2, 2)), b=np.zeros(2)), "missing array(s) X, y"),
        (
            lambda p: np.savez(
                p, W=np.zeros((2, 2)), b=np.zeros(2), X=np.zeros((3, 2)), y=[0, 5, 1]
            ),
            "y must hold labels in [0, 2)",
        ),
        (
            lambda p: np.savez(
                p, W=np.zeros((2, 2)), b=np.zeros(2), X=np.zeros((3, 2)), y=[0, 1, 1], reg=[1, 2]
            ),
            "reg must be one real number",
        ),
        (
            lambda p: np.savez(
                p,
                W=np.array([None, 1], dtype=object),
                b=np.zeros(2),
                X=np.zeros((3, 2)),
                y=[0, 1, 1],
            ),
            "pickle",
        ),
    ],
)
def test_bad_npz_files_exit_two_with_a_clear_error(tmp_path, capsys, make, message):
    path = tmp_path / "bad.npz"
    make(path)
    assert main(["verify", "--npz", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("softmax-ref verify: error: ")
    assert message in err
    assert str(path) in err


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("my_softmax", "must look like module:function"),
        ("no_such_module_xyz:f", "importing no_such_module_xyz failed: ModuleNotFoundError"),
        ("my_softmax:missing", "has no function 'missing'"),
        ("my_softmax:NOT_A_FUNCTION", "has no function 'NOT_A_FUNCTION'"),
        ("my_softmax:transposed", "grads['W'] of shape (4, 3); expected (3, 4)"),
        ("my_softmax:crashes", "IndexError: my derivation has a bug"),
        ("nowhere/file.py:f", "no such file nowhere/file.py"),
    ],
)
def test_bad_analytic_exits_two_with_a_clear_error(capsys, user_module, spec, message):
    assert main(["verify", "--count", "1", "--analytic", spec, *SMALL]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "args", [["--count", "0"], ["--c", "1"], ["--reg", "-1"], ["--dtype", "float16"]]
)
def test_bad_options_are_argparse_errors(args, capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["verify", *args])
    assert excinfo.value.code == 2
    assert "error" in capsys.readouterr().err


def test_cli_module_imports_only_argparse_and_numpy():
    # Building the softmax-ref parser must not pull in JAX (slow) or anything heavy.
    code = (
        "import sys, verification.cli; "
        "heavy = [m for m in ('jax', 'scipy', 'sklearn', 'matplotlib', 'hypothesis') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_run_verify_without_a_function_to_check_is_a_usage_error(capsys):
    # verification/cli.py has no default of its own: softmax_ref's command gives one.
    import argparse

    from verification.cli import configure_parser, run_verify

    parser = argparse.ArgumentParser()
    configure_parser(parser)
    assert run_verify(parser.parse_args(["--count", "1"])) == 2
    assert "no function to check: pass --analytic MODULE:FUNCTION" in capsys.readouterr().err
