"""Data sets: the post's data then and now, the restated generator, and the file loaders.

Independent sources: scikit-learn's own ``make_classification`` (today's
vertex selection must reproduce it bit for bit); the account of
scikit-learn 0.18.0 (five draws of ``randint(4)`` giving vertices 3, 2, 1 for
seed 2016); and the post's figures, whose axes span about [-4.5, 3.5] and
[-4.5, 5.5]. The post's accuracies are checked in test_reproduce_post.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification

from softmax_ref import data_files, datasets, legacy_generator
from softmax_ref.datasets import (
    Dataset,
    blog_2016,
    load_csv,
    load_data,
    load_npz,
    make_classification_legacy,
    toy,
)

POST_CALL = {
    "n_samples": 1000,
    "n_features": 2,
    "n_redundant": 0,
    "random_state": 2016,
    "n_clusters_per_class": 1,
    "n_classes": 3,
}

# --- where the names live ----------------------------------------------------------


def test_the_generator_and_the_loaders_are_importable_from_datasets():
    # They live in legacy_generator and data_files; datasets re-exports them, the same objects.
    assert datasets.make_classification_legacy is legacy_generator.make_classification_legacy
    for name in data_files.__all__:
        assert getattr(datasets, name) is getattr(data_files, name)
    assert set(legacy_generator.__all__) | set(data_files.__all__) <= set(datasets.__all__)


# --- the post's data, then and now ------------------------------------------------


def test_toy_is_todays_make_classification_split_800_200():
    X, y = make_classification(**POST_CALL)
    d = toy()
    np.testing.assert_array_equal(d.X, X)
    np.testing.assert_array_equal(d.y, y)
    X_train, y_train, X_val, y_val = d
    np.testing.assert_array_equal(X_train, X[:800])
    np.testing.assert_array_equal(y_train, y[:800])
    np.testing.assert_array_equal(X_val, X[800:])
    np.testing.assert_array_equal(y_val, y[800:])


def test_vertices_of_0_18_0_for_seed_2016_take_five_draws():
    # The issue: randint(4) drawn until 3 distinct values: 3, 2, 2, 3, 1.
    rng = np.random.RandomState(2016)
    cube = legacy_generator._hypercube(3, 2, rng, "0.18.0")
    # Vertex codes 3, 2, 1 in binary, most significant digit first.
    np.testing.assert_array_equal(cube, [[1, 1], [1, 0], [0, 1]])
    replay = np.random.RandomState(2016)
    for _ in range(5):
        replay.randint(4)
    # The stream continues exactly where five draws leave it.
    assert rng.standard_normal() == replay.standard_normal()


def test_blog_2016_spans_the_ranges_of_the_posts_figures():
    # Read off the post's figure axes: about [-4.5, 3.5] and [-4.5, 5.5];
    # "about" is the resolution of a tick label read by eye, 0.25.
    d = blog_2016()
    assert d.X.shape == (1000, 2)
    assert d.n_train == 800
    np.testing.assert_allclose(d.X.min(axis=0), [-4.5, -4.5], atol=0.25)
    np.testing.assert_allclose(d.X.max(axis=0), [3.5, 5.5], atol=0.25)
    # Today's data set does not: the data moved under the post.
    t = toy()
    assert not np.allclose(t.X.max(axis=0), [3.5, 5.5], atol=0.25)


def test_blog_2016_balanced_classes_up_to_label_flips():
    # 334 / 333 / 333 samples per cluster, then about 1% of labels redrawn.
    counts = np.bincount(blog_2016().y)
    assert counts.sum() == 1000
    assert np.all(np.abs(counts - np.array([334, 333, 333])) <= 10)


def test_blog_2016_is_a_fresh_copy_each_call():
    a = blog_2016()
    a.X[0, 0] = 1e9
    assert blog_2016().X[0, 0] != 1e9


# --- the restated generator equals scikit-learn's ---------------------------------

# Parameter sets covering every branch: each vertex-selection route of today's
# sample_without_replacement (permutation; draw-until-distinct below ratio 0.01;
# reservoir at ratio 1), more than 30 informative features, a random polytope,
# redundant, repeated and noise features, weights, no flips, random shift and
# scale, no shuffle.
GENERATOR_CASES = [
    pytest.param(POST_CALL, id="post-call"),
    pytest.param({"n_samples": 50, "random_state": 0}, id="defaults"),
    pytest.param(
        {"n_samples": 40, "n_features": 4, "n_classes": 2, "random_state": 1},
        id="ratio-1-reservoir",
    ),
    pytest.param(
        {"n_samples": 40, "n_features": 10, "n_informative": 8, "random_state": 2},
        id="ratio-below-0.01-rejection",
    ),
    pytest.param(
        {
            "n_samples": 30,
            "n_features": 33,
            "n_informative": 31,
            "n_redundant": 0,
            "random_state": 3,
        },
        id="more-than-30-informative",
    ),
    pytest.param(
        {
            "n_samples": 60,
            "n_features": 9,
            "n_informative": 3,
            "n_redundant": 2,
            "n_repeated": 2,
            "n_classes": 4,
            "n_clusters_per_class": 2,
            "hypercube": False,
            "shift": None,
            "scale": None,
            "random_state": 4,
        },
        id="polytope-repeated-shift-scale",
    ),
    pytest.param(
        {
            "n_samples": 77,
            "n_classes": 3,
            "n_clusters_per_class": 1,
            "weights": [0.5, 0.3],
            "flip_y": 0.0,
            "random_state": 5,
        },
        id="weights-no-flips",
    ),
    pytest.param({"n_samples": 20, "shuffle": False, "random_state": 6}, id="no-shuffle"),
]


@pytest.mark.parametrize("kwargs", GENERATOR_CASES)
def test_current_vertex_selection_reproduces_make_classification(kwargs):
    X, y = make_classification_legacy(**kwargs, vertex_selection="current")
    X_sk, y_sk = make_classification(**kwargs)
    np.testing.assert_array_equal(X, X_sk)
    np.testing.assert_array_equal(y, y_sk)


def test_random_state_object_is_advanced_like_scikit_learns():
    ours, theirs = np.random.RandomState(7), np.random.RandomState(7)
    make_classification_legacy(n_samples=30, random_state=ours, vertex_selection="current")
    make_classification(n_samples=30, random_state=theirs)
    assert ours.randint(2**31) == theirs.randint(2**31)


def test_meta_the_equality_check_sees_the_vertex_selection():
    # The comparison above can fail: the 0.18.0 vertices give another data set.
    X_old, _ = make_classification_legacy(**POST_CALL, vertex_selection="0.18.0")
    X_sk, _ = make_classification(**POST_CALL)
    assert not np.array_equal(X_old, X_sk)


@pytest.mark.parametrize(
    ("kwargs", "exc", "text"),
    [
        ({"random_state": None}, TypeError, "random_state must be an int seed"),
        ({"random_state": True}, TypeError, "random_state must be an int seed"),
        ({"random_state": 0, "vertex_selection": "0.18.1"}, ValueError, "vertex_selection"),
        ({"random_state": 0, "n_informative": 19}, ValueError, "must be <= n_features"),
        ({"random_state": 0, "n_classes": 5, "n_redundant": 0}, ValueError, "2**n_informative"),
        ({"random_state": 0, "weights": [0.1, 0.2, 0.7]}, ValueError, "weights must have"),
    ],
)
def test_generator_bad_arguments(kwargs, exc, text):
    with pytest.raises(exc, match=text.replace("*", r"\*")):
        make_classification_legacy(**kwargs)


# --- CSV ------------------------------------------------------------------------


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_with_header_label_last(tmp_path):
    p = write(tmp_path, "d.csv", "x1,x2,label\n0.5,1.0,0\n-1.5,2e3,2\n")
    X, y = load_csv(p)
    np.testing.assert_array_equal(X, [[0.5, 1.0], [-1.5, 2000.0]])
    np.testing.assert_array_equal(y, [0, 2])
    assert y.dtype == np.int64


def test_csv_without_header_blank_lines_skipped(tmp_path):
    p = write(tmp_path, "d.csv", "1,2,0\n\n3,4,1\n\n")
    X, y = load_csv(p)
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(y, [0, 1])


def test_csv_label_by_name_and_by_index(tmp_path):
    p = write(tmp_path, "d.csv", "species,a,b\ncat,1,2\ndog,3,4\n")
    X, y = load_csv(p, label_column="species")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert y.tolist() == ["cat", "dog"]
    X0, y0 = load_csv(p, label_column=0)
    np.testing.assert_array_equal(X0, X)
    np.testing.assert_array_equal(y0, y)


def test_csv_float_labels_and_features_only(tmp_path):
    p = write(tmp_path, "d.csv", "1,2,0.5\n3,4,1.5\n")
    _, y = load_csv(p)
    assert y.dtype == np.float64
    X, y_none = load_csv(p, label_column=None)
    assert y_none is None
    assert X.shape == (2, 3)


def test_csv_n_features_makes_labels_optional(tmp_path):
    p = write(tmp_path, "d.csv", "1,2\n3,4\n")
    X, y = load_csv(p, n_features=2)
    assert y is None
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    labelled = write(tmp_path, "l.csv", "1,2,0\n3,4,1\n")
    _, y = load_csv(labelled, n_features=2)
    np.testing.assert_array_equal(y, [0, 1])


def test_csv_byte_order_mark(tmp_path):
    p = tmp_path / "excel.csv"
    p.write_bytes(b"\xef\xbb\xbf1.5,2,0\n3,4,1\n")
    X, _ = load_csv(p)
    assert X[0, 0] == 1.5


def test_csv_other_delimiter(tmp_path):
    p = write(tmp_path, "d.tsv", "1\t2\t0\n")
    X, y = load_csv(p, delimiter="\t")
    np.testing.assert_array_equal(X, [[1, 2]])
    np.testing.assert_array_equal(y, [0])


CSV_ERRORS = [
    ("empty", "", {}, "the file is empty"),
    ("blank-only", "\n\n", {}, "the file is empty"),
    ("header-only", "a,b,label\n", {}, "header row but no data rows"),
    ("ragged", "1,2,0\n3,4,1\n5,1\n", {}, r"line 3: has 2 fields; expected 3 like line 1"),
    (
        "text-feature",
        "1,2,0\nabc,4,1\n",
        {},
        r"line 2, field 1: expected a finite number; got 'abc'",
    ),
    ("empty-feature", "1,2,0\n3,,1\n", {}, r"line 2, field 2: expected a finite number; got ''"),
    ("nan-feature", "x,y,l\n1,nan,0\n", {}, r"line 2, field 2 \('y'\): expected a finite number"),
    ("inf-feature", "1,inf,0\n", {}, "expected a finite number; got 'inf'"),
    ("header-half-numeric", "x1,2,label\n1,2,0\n", {}, "if this row is a header, pass header=True"),
    ("missing-label", "1,2,0\n3,4, \n", {}, r"line 2, field 3: expected a label"),
    ("no-such-name", "a,b,l\n1,2,0\n", {"label_column": "class"}, "no column named 'class'"),
    ("name-no-header", "1,2,0\n", {"label_column": "class"}, "the file has no header row"),
    ("index-range", "1,2,0\n", {"label_column": 3}, "label_column=3 is out of range"),
    ("n-features", "1,2,3,0\n", {"n_features": 2}, "has 4 columns; expected 2 features"),
    ("only-label", "0\n1\n", {}, "no feature columns"),
]


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [pytest.param(t, k, m, id=i) for i, t, k, m in CSV_ERRORS],
)
def test_csv_malformed_files_name_file_and_place(tmp_path, text, kwargs, message):
    p = write(tmp_path, "bad.csv", text)
    with pytest.raises(ValueError, match=message) as info:
        load_csv(p, **kwargs)
    assert str(p) in str(info.value)


def test_csv_not_text(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_bytes(b"\xff\xfe\x00\x81binary")
    with pytest.raises(ValueError, match="could not be read as delimited text") as info:
        load_csv(p)
    assert str(p) in str(info.value)


def test_csv_label_column_type():
    with pytest.raises(TypeError, match="label_column must be"):
        data_files._resolve_label_column("f.csv", 1.5, None, 3, None)  # type: ignore[arg-type]


def test_missing_file():
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        load_csv("nope.csv")
    with pytest.raises(FileNotFoundError, match=r"nope\.npz"):
        load_npz("nope.npz")


# --- NPZ ------------------------------------------------------------------------


def test_npz_round_trip_and_integer_features(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, X=np.array([[1, 2], [3, 4]]), y=np.array(["a", "b"]))
    X, y = load_npz(p)
    assert X.dtype == np.float64
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert y.tolist() == ["a", "b"]


def test_npz_custom_keys_and_optional_labels(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, features=np.eye(3))
    X, y = load_npz(p, x_key="features", n_features=3)
    assert y is None
    np.testing.assert_array_equal(X, np.eye(3))


def npz_with(tmp_path, **arrays):
    p = tmp_path / "bad.npz"
    np.savez(p, **arrays)
    return p


NPZ_ERRORS = [
    ("no-X", {"y": np.zeros(2)}, {}, r"has no array 'X'; it holds \['y'\]"),
    ("no-y", {"X": np.zeros((2, 2))}, {}, r"has no array 'y'; it holds \['X'\]"),
    ("object", {"X": np.array([[1, "a"]], dtype=object), "y": np.zeros(1)}, {}, "needs pickle"),
    ("X-1d", {"X": np.zeros(3), "y": np.zeros(3)}, {}, r"array 'X': expected 2 dimensions"),
    ("X-3d", {"X": np.zeros((3, 1, 1)), "y": np.zeros(3)}, {}, "expected 2 dimensions"),
    ("X-empty", {"X": np.zeros((0, 2)), "y": np.zeros(0)}, {}, "at least one sample"),
    ("X-text", {"X": np.array([["a", "b"]]), "y": np.zeros(1)}, {}, "expected numbers; got dtype"),
    ("X-nan", {"X": np.array([[1.0, np.nan]]), "y": np.zeros(1)}, {}, r"nan at X\[0, 1\]"),
    ("y-2d", {"X": np.zeros((2, 2)), "y": np.zeros((2, 1))}, {}, r"array 'y': expected 1 dim"),
    ("y-length", {"X": np.zeros((2, 2)), "y": np.zeros(3)}, {}, "one label per row"),
    ("n-features", {"X": np.zeros((2, 3)), "y": np.zeros(2)}, {"n_features": 2}, "expected 2 feat"),
]


@pytest.mark.parametrize(
    ("arrays", "kwargs", "message"),
    [pytest.param(a, k, m, id=i) for i, a, k, m in NPZ_ERRORS],
)
def test_npz_malformed_archives_name_file_and_array(tmp_path, arrays, kwargs, message):
    p = npz_with(tmp_path, **arrays)
    with pytest.raises(ValueError, match=message) as info:
        load_npz(p, **kwargs)
    assert str(p) in str(info.value)


def test_npz_foreign_files(tmp_path):
    garbage = tmp_path / "g.npz"
    garbage.write_text("not an archive")
    with pytest.raises(ValueError, match=r"is not a NumPy \.npz archive"):
        load_npz(garbage)
    npy = tmp_path / "a.npz"
    with open(npy, "wb") as handle:
        np.save(handle, np.zeros(3))
    with pytest.raises(ValueError, match=r"holds a single array \(a .npy file\)"):
        load_npz(npy)


def test_load_data_dispatches_on_extension(tmp_path):
    n = tmp_path / "d.npz"
    np.savez(n, X=np.eye(2), y=np.array([0, 1]))
    c = write(tmp_path, "d.csv", "1,0,0\n0,1,1\n")
    for path in (n, c):
        X, y = load_data(path)
        np.testing.assert_array_equal(X, np.eye(2))
        np.testing.assert_array_equal(y, [0, 1])


def test_dataset_is_frozen():
    d = Dataset("x", np.zeros((2, 1)), np.zeros(2, dtype=int), 1)
    with pytest.raises(AttributeError):
        d.n_train = 2  # type: ignore[misc]
