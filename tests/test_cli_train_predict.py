"""``softmax-ref train`` and ``softmax-ref predict`` on a user's files, through ``main([...])``.

Each command's output is checked against the library called directly on the
same data (the command adds reading, writing and reporting, nothing else),
and every failure path must give exit code 1, a one-line message naming the
file or parameter on stderr, and no model file.
"""

from __future__ import annotations

import numpy as np
import pytest

from softmax_ref import SoftmaxClassifier
from softmax_ref.cli import main
from softmax_ref.datasets import blog_2016


@pytest.fixture(scope="module")
def post_data():
    d = blog_2016()
    return d.X[:300], d.y[:300]


def write_csv(path, X, y=None, header=None):
    lines = [",".join(header)] if header else []
    for i, row in enumerate(X):
        fields = [repr(float(v)) for v in row]
        if y is not None:
            fields.append(str(y[i]))
        lines.append(",".join(fields))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_train_then_predict_csv(tmp_path, capsys, post_data):
    X, y = post_data
    data = write_csv(tmp_path / "train.csv", X, y, header=["x1", "x2", "label"])
    model = tmp_path / "model.npz"
    assert main(["train", str(data), "--model", str(model), "--reg", "0.1"]) == 0
    out = capsys.readouterr().out
    direct = SoftmaxClassifier(reg=0.1, random_state=0).fit(X, y)
    assert f"training accuracy: {direct.score(X, y):.4f}" in out
    assert "300 samples, 2 features, 3 classes (0, 1, 2)" in out
    assert f"model saved to {model}" in out

    # The same file holds labels: predictions on stdout, accuracy on stderr.
    assert main(["predict", str(model), str(data)]) == 0
    captured = capsys.readouterr()
    predicted = np.array(captured.out.split(), dtype=int)
    np.testing.assert_array_equal(predicted, direct.predict(X))
    correct = int(np.sum(predicted == y))
    assert f"({correct} / 300)" in captured.err


def test_predict_proba_and_unlabelled_data(tmp_path, capsys, post_data):
    X, y = post_data
    model = tmp_path / "m.npz"
    assert main(["train", str(write_csv(tmp_path / "t.csv", X, y)), "-m", str(model)]) == 0
    capsys.readouterr()
    features = write_csv(tmp_path / "features.csv", X[:5])
    assert main(["predict", str(model), str(features), "--proba"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == "0,1,2"
    P = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    expected = SoftmaxClassifier.load(model).predict_proba(X[:5])
    np.testing.assert_allclose(P, expected, atol=5e-7)  # printed with 6 decimals
    assert captured.err == ""  # no labels, no accuracy


def test_npz_with_string_labels_and_output_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-2, 1, size=(20, 3)), rng.normal(2, 1, size=(20, 3))])
    y = np.array(["cold"] * 20 + ["hot"] * 20)
    data = tmp_path / "d.npz"
    np.savez(data, X=X, y=y)
    model = tmp_path / "m.npz"
    args = ["train", str(data), "-m", str(model), "--solver", "adam", "--max-iter", "50"]
    assert main([*args, "--learning-rate", "0.1", "--early-stopping", "--patience", "5"]) == 0
    out = capsys.readouterr().out
    assert "early stopping: best validation accuracy" in out
    predictions = tmp_path / "p.txt"
    assert main(["predict", str(model), str(data), "-o", str(predictions)]) == 0
    direct = SoftmaxClassifier.load(model).predict(X)
    assert predictions.read_text().split() == direct.tolist()
    assert "accuracy on" in capsys.readouterr().err


def test_label_column_by_name(tmp_path, capsys, post_data):
    X, y = post_data
    path = tmp_path / "d.csv"
    rows = ["label,a,b"] + [
        f"{c},{float(a)!r},{float(b)!r}" for (a, b), c in zip(X, y, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")
    model = tmp_path / "m.npz"
    assert main(["train", str(path), "-m", str(model), "--label-column", "label"]) == 0
    assert "300 samples, 2 features, 3 classes" in capsys.readouterr().out


def failing(capsys, argv, *needles):
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert err.startswith(f"softmax-ref {argv[0]}: error: ")
    assert "\n" not in err
    for needle in needles:
        assert needle in err
    return err


def test_train_errors_leave_no_model(tmp_path, capsys, post_data):
    X, y = post_data
    model = tmp_path / "m.npz"
    failing(capsys, ["train", str(tmp_path / "nope.csv"), "-m", str(model)], "nope.csv")
    ragged = tmp_path / "r.csv"
    ragged.write_text("1,2,0\n3,1\n")
    failing(capsys, ["train", str(ragged), "-m", str(model)], str(ragged), "line 2")
    good = write_csv(tmp_path / "g.csv", X, y)
    failing(capsys, ["train", str(good), "-m", str(model), "--solver", "newton"], "solver")
    failing(capsys, ["train", str(good), "-m", str(model), "--reg", "-1"], "reg")
    # A learning rate that makes gradient descent diverge: the error names the iteration.
    err = failing(
        capsys,
        ["train", str(good), "-m", str(model), "--solver", "gd", "--learning-rate", "1e300"],
        "learning_rate",
    )
    assert "iteration" in err
    assert not model.exists()


def test_predict_errors(tmp_path, capsys, post_data):
    X, y = post_data
    model = tmp_path / "m.npz"
    data = write_csv(tmp_path / "d.csv", X, y)
    assert main(["train", str(data), "-m", str(model)]) == 0
    capsys.readouterr()
    failing(capsys, ["predict", str(tmp_path / "none.npz"), str(data)], "none.npz")
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, X=X)
    failing(capsys, ["predict", str(foreign), str(data)], str(foreign))
    wide = write_csv(tmp_path / "wide.csv", np.hstack([X, X]), y)
    failing(capsys, ["predict", str(model), str(wide)], str(wide), "expected 2 features")
    text = tmp_path / "t.csv"
    text.write_text("1,abc\n")
    failing(capsys, ["predict", str(model), str(text)], "line 1, field 2", "'abc'")


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train"])
    assert info.value.code == 2
    assert "--model" in capsys.readouterr().err
