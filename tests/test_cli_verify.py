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


# --- any loss: --loss, --point, --params ---------------------------------------------

OWN_LOSS = textwrap.dedent(
    """
    import jax.numpy as jnp
    import numpy as np

    def loss(p, d):
        z = d["X"] @ p["W"] + p["b"]
        return jnp.mean(d["s"] * (jnp.logaddexp(0.0, z) - d["y"] * z))

    def grad(p, d, column=None):
        z = d["X"] @ p["W"] + p["b"]
        q = 1.0 / (1.0 + np.exp(-z))
        r = d["s"] * (q - d["y"]) / q.size
        dW = d["X"].T @ r
        if column is not None:
            dW[:, column] *= 1.001
        loss = np.mean(d["s"] * (np.logaddexp(0.0, z) - d["y"] * z))
        return loss, {"W": dW, "b": r.sum(axis=0)}

    def column_1_off(p, d):
        return grad(p, d, column=1)

    def raises(p, d):
        raise KeyError("no such array")
    """
)


@pytest.fixture
def own_loss(tmp_path, monkeypatch):
    (tmp_path / "own.py").write_text(OWN_LOSS)
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "point.npz",
        W=rng.normal(size=(3, 2)),
        b=rng.normal(size=2),
        X=rng.normal(size=(8, 3)),
        y=(rng.uniform(size=(8, 2)) < 0.5).astype(float),
        s=rng.uniform(0.5, 2.0, size=(8, 1)),
    )
    return ["--loss", "own.py:loss", "--point", "point.npz", "--params", "W,b"]


def test_own_loss_correct_exits_zero(capsys, own_loss):
    assert main(["verify", "--analytic", "own.py:grad", *own_loss]) == 0
    out = capsys.readouterr().out
    assert "== point.npz: params W (3, 2), b (2,); data X (8, 3), s (8, 1), y (8, 2)" in out
    assert "three-way gradient check: OK" in out
    assert "all agree: own.py:grad checked against own.py:loss" in out
    assert "softmax" not in out


def test_own_loss_wrong_column_exits_one_naming_the_entries(capsys, own_loss):
    assert main(["verify", "--analytic", "own.py:column_1_off", *own_loss]) == 1
    out = capsys.readouterr().out
    assert "ANALYTIC disagrees with JAX and FD, which agree: dW[" in out
    assert "(3 of 6, column 1)" in out
    assert "disagreement: own.py:column_1_off checked against own.py:loss: dW" in out


@pytest.mark.parametrize("mode", ["sampled", "directional"])
def test_own_loss_modes_and_json(capsys, own_loss, mode):
    args = ["verify", "--analytic", "own.py:column_1_off", "--mode", mode, "--json", *own_loss]
    assert main(args) == 1
    doc = json.loads(capsys.readouterr().out)
    assert (doc["ok"], doc["loss"], doc["params"]) == (
        False,
        "own.py:loss",
        {"W": [3, 2], "b": [2]},
    )
    assert doc["report"]["blame"] == "ANALYTIC"
    assert doc["report"]["mode"] == mode


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--params", "W,c"], "--params W,c: c not in point.npz, which holds W, X, b, s, y"),
        (["--params", "W,b,y"], "point.npz: KeyError: 'y'"),  # y is no longer data
        (["--params", ""], "missing --params"),
        (["--loss", "own.py:nothing"], "--loss own.py:nothing: own.py has no function 'nothing'"),
        (["--loss", "own"], "--loss must look like module:function; got 'own'"),
        (["--point", "absent.npz"], "--point absent.npz: no such file"),
        (["--analytic", "own.py:raises"], "point.npz: KeyError"),
        (["--npz", "point.npz"], "with --loss give the arrays by --point"),
    ],
)
def test_own_loss_usage_errors_exit_two(capsys, own_loss, change, message):
    args = dict(zip(own_loss[::2], own_loss[1::2], strict=True))
    args["--analytic"] = "own.py:grad"
    extra = []
    for flag, value in zip(change[::2], change[1::2], strict=True):
        if flag in args:
            args[flag] = value
        else:
            extra += [flag, value]
    flat = [x for kv in args.items() for x in kv if kv[1] != ""] + extra
    assert main(["verify", *flat]) == 2
    err = capsys.readouterr().err
    assert message in err, err


def test_own_loss_integer_parameter_is_refused(tmp_path, capsys, own_loss):
    np.savez(tmp_path / "int.npz", W=np.zeros((3, 2), dtype=int), b=np.zeros(2), X=np.ones((8, 3)))
    args = ["verify", "--analytic", "own.py:grad", "--loss", "own.py:loss"]
    assert main([*args, "--point", "int.npz", "--params", "W,b"]) == 2
    assert (
        "W in int.npz has dtype int64; a parameter must be a float array" in capsys.readouterr().err
    )


def test_without_loss_the_output_and_help_name_softmax_cross_entropy(capsys):
    assert main(["verify", "--count", "1", *SMALL]) == 0
    assert "checked against softmax cross-entropy" in capsys.readouterr().out
    from softmax_ref.cli import build_parser

    sub = build_parser()._subparsers._group_actions[0].choices["verify"]
    text = " ".join(sub.format_help().split())
    assert "Without --loss: a (W, b, X, y, reg) -> (loss, dW, db) function checked against" in text
    assert "softmax cross-entropy" in text


def test_point_holds_a_softmax_problem_without_loss(tmp_path, capsys):
    rng = np.random.default_rng(1)
    np.savez(
        tmp_path / "p.npz",
        W=rng.normal(size=(3, 4)),
        b=rng.normal(size=4),
        X=rng.normal(size=(6, 3)),
        y=np.arange(6) % 4,
    )
    assert main(["verify", "--point", str(tmp_path / "p.npz")]) == 0
    assert "three-way gradient check: OK" in capsys.readouterr().out


def test_version(capsys):
    import softmax_ref

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"softmax-ref {softmax_ref.__version__}"


def test_every_subcommand_help_has_an_example_and_states_its_defaults():
    import argparse

    from softmax_ref.cli import build_parser

    subs = build_parser()._subparsers._group_actions[0].choices
    assert set(subs) == {"demo", "train", "predict", "verify"}
    for name, sub in subs.items():
        text = sub.format_help()
        assert "example" in text, name
        assert f"softmax-ref {name}" in text, name
        formatter = sub._get_formatter()
        for action in sub._actions:
            if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
                assert "default" in formatter._get_help_string(action), (name, action.dest)
