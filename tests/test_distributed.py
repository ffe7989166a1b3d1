"""softmax_ref.distributed on dask arrays, under dask's in-process schedulers.

The dask form computes the sums of softmax_ref/_accumulator.py per chunk and
merges them up a tree; it must give the in-memory answer within the summation
bound of docs/distributed.md (``merge_bound`` below is that bound, entry by
entry), bitwise when X is one chunk, and report bad chunks by their rows. The
same on a real cluster of worker processes: tests/test_distributed_cluster.py.
"""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import softmax_ref as sr
from softmax_ref import _accumulator
from softmax_ref._accumulator import Sums
from softmax_ref._validation import check_problem

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

U = np.finfo(np.float64).eps / 2  # the unit roundoff of float64


@pytest.fixture(autouse=True)
def synchronous_scheduler():
    # One thread: Hypothesis's many small examples without a pool's start-up; the
    # threaded default is exercised by its own test below.
    with dask.config.set(scheduler="synchronous"):
        yield


def problem(seed, n, d=4, c=5, scale=1.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = (scale * rng.normal(size=(n, d))).astype(dtype)
    y = rng.integers(0, c, size=n)
    W = rng.normal(size=(d, c)).astype(dtype)
    b = rng.normal(size=c).astype(dtype)
    return W, b, X, y


def chunked(X, y, chunks):
    return da.from_array(X, chunks=(chunks, X.shape[1])), da.from_array(y, chunks=(chunks,))


def merge_bound(W, b, X, y, reg):
    """The bound of docs/distributed.md on |distributed - in-memory|, entry by entry.

    Two groupings of the same N per-row terms t_n differ by at most
    2 u sum_n |t_n|max (N + C + 6 + 2 (D + 1) A_n), first order in the unit
    roundoff u: (N - 1) u sum |t_n| for any order of summation, plus each
    term's own rounding, whose score part is (D + 1) u A_n with
    A_n = max_c sum_d |X_nd W_dc| + |b_c|. The terms' magnitudes: |X_nd| for
    dW (|P - Y| <= 1), 1 for db, log C + 2 A_n for the loss. Then the mean and
    the penalty: 4 u |result|. Returns the bounds on (loss, dW, db).
    """
    n, d = X.shape
    c = W.shape[1]
    A = (np.abs(X) @ np.abs(W) + np.abs(b)).max(axis=1)  # (N,)
    per_row = n + c + 6 + 2 * (d + 1) * A  # (N,)
    bound_dW = 2 * U * np.repeat((np.abs(X).T @ per_row)[:, None], c, axis=1) / n
    bound_db = np.full(c, 2 * U * per_row.sum() / n)
    bound_loss = 2 * U * float(((np.log(c) + 2 * A) * per_row).sum()) / n
    L, dW, db = sr.loss_and_grad(W, b, X, y, reg)
    return (
        bound_loss + 4 * U * abs(float(L)),
        bound_dW + 4 * U * np.abs(dW),
        bound_db + 4 * U * np.abs(db),
    )


def assert_within_merge_bound(out, W, b, X, y, reg):
    ref = sr.loss_and_grad(W, b, X, y, reg)
    bounds = merge_bound(W, b, X, y, reg)
    for name, got, want, bound in zip(("loss", "dW", "db"), out, ref, bounds, strict=True):
        excess = np.abs(np.asarray(got, dtype=np.float64) - want) - bound
        assert np.all(excess <= 0), f"{name} differs beyond the merge bound by {excess.max()}"


# --- the same answer as in memory -------------------------------------------------------


@pytest.mark.parametrize("chunks", [1000, 250, 333, 7, (500, 1, 499)])
def test_matches_in_memory_for_any_chunking(chunks):
    W, b, X, y = problem(0, 1000)
    Xd, yd = chunked(X, y, chunks)
    out = sr.distributed.loss_and_grad(W, b, Xd, yd, 0.1)
    assert_within_merge_bound(out, W, b, X, y, 0.1)
    assert sr.distributed.loss(W, b, Xd, yd, 0.1).dtype == np.float64


def test_one_chunk_gives_the_in_memory_bits():
    for n, d in ((300, 3), (20_000, 8)):  # the one-block route, then the blocked one
        W, b, X, y = problem(1, n, d=d)
        out = sr.distributed.loss_and_grad(W, b, *chunked(X, y, n), 0.2)
        ref = sr.loss_and_grad(W, b, X, y, 0.2)
        assert out[0] == ref[0]
        np.testing.assert_array_equal(out[1], ref[1])
        np.testing.assert_array_equal(out[2], ref[2])
        assert sr.distributed.loss(W, b, *chunked(X, y, n), 0.2) == sr.loss(W, b, X, y, 0.2)


def test_threaded_scheduler_and_numpy_labels():
    W, b, X, y = problem(2, 5000, d=6, c=3)
    Xd = da.from_array(X, chunks=(800, 6))
    with dask.config.set(scheduler="threads"):
        out = sr.distributed.loss_and_grad(W, b, Xd, y, 0.0)  # y as NumPy: chunked like X
        again = sr.distributed.loss_and_grad(W, b, Xd, y, 0.0)
    assert_within_merge_bound(out, W, b, X, y, 0.0)
    # The merge tree is fixed by the chunking, not by which thread finished first.
    assert out[0] == again[0]
    np.testing.assert_array_equal(out[1], again[1])


def test_float32_in_float32_out():
    W, b, X, y = problem(3, 600, dtype=np.float32)
    L, dW, db = sr.distributed.loss_and_grad(W, b, *chunked(X, y, 150), 0.1)
    ref = sr.loss_and_grad(W, b, X, y, 0.1)
    assert (L.dtype, dW.dtype, db.dtype) == (np.float32,) * 3
    # float32 terms: the bound with float32's unit roundoff, from the float64 bound.
    bounds = merge_bound(*(a.astype(np.float64) for a in (W, b, X)), y, 0.1)
    scale = np.finfo(np.float32).eps / np.finfo(np.float64).eps
    for got, want, bound in zip((L, dW, db), ref, bounds, strict=True):
        assert np.all(np.abs(np.float64(got) - want) <= scale * bound)


# --- numerical honesty: chunkings and merge orders (Hypothesis) -----------------------


@st.composite
def chunkings(draw):
    n = draw(st.integers(1, 200))
    cuts = draw(st.lists(st.integers(1, max(1, n - 1)), max_size=8, unique=True))
    edges = [0, *sorted(c for c in cuts if c < n), n]
    return n, tuple(b - a for a, b in itertools.pairwise(edges))


@given(
    chunks=chunkings(),
    d=st.integers(1, 6),
    c=st.integers(2, 6),
    scale=st.sampled_from([1e-3, 1.0, 30.0]),
    split_every=st.integers(2, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_result_within_the_merge_bound_for_any_chunking(chunks, d, c, scale, split_every, seed):
    n, sizes = chunks
    W, b, X, y = problem(seed, n, d=d, c=c, scale=scale)
    Xd, yd = chunked(X, y, sizes)
    out = sr.distributed.loss_and_grad(W, b, Xd, yd, 0.05, split_every=split_every)
    assert_within_merge_bound(out, W, b, X, y, 0.05)


def merged_in_order(parts, order, tree):
    """Merge ``parts`` in the permuted ``order``, pairing by the drawn ``tree`` choices."""
    pending = [parts[i] for i in order]
    for pick in tree:
        if len(pending) == 1:
            break
        i = pick % (len(pending) - 1)
        pending[i : i + 2] = [pending[i].merge(pending[i + 1])]
    while len(pending) > 1:
        pending[0:2] = [pending[0].merge(pending[1])]
    return pending[0]


@given(
    chunks=chunkings(),
    data=st.data(),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_merge_order_is_within_the_merge_bound(chunks, data, seed):
    n, sizes = chunks
    W, b, X, y = problem(seed, n, d=3, c=4, scale=3.0)
    edges = np.cumsum((0, *sizes))
    parts = [Sums.of_rows(W, b, X[s:e], y[s:e]) for s, e in itertools.pairwise(edges)]
    order = data.draw(st.permutations(range(len(parts))))
    tree = data.draw(st.lists(st.integers(0, 100), max_size=len(parts)))
    total = merged_in_order(parts, order, tree)
    assert total.n == n
    assert_within_merge_bound(total.finish(W, 0.05), W, b, X, y, 0.05)


@pytest.mark.parametrize("flaw", ["float32-merge", "lost-chunk"])
def test_merge_bound_catches_a_flawed_merge(monkeypatch, flaw):
    # Meta: a merge that rounds the partial sums through float32, or that drops its
    # second argument, fails the bound the property tests hold the results to.
    real = Sums.merge

    def flawed(self, other):
        if flaw == "lost-chunk":
            return Sums(self.loss, self.GX, self.col_sums, self.n + other.n)
        out = real(self, other)
        return Sums(out.loss, out.GX.astype(np.float32).astype(np.float64), out.col_sums, out.n)

    monkeypatch.setattr(_accumulator.Sums, "merge", flawed)
    W, b, X, y = problem(5, 200, d=3, c=4, scale=3.0)
    out = sr.distributed.loss_and_grad(W, b, *chunked(X, y, 50), 0.05)
    with pytest.raises(AssertionError, match="beyond the merge bound"):
        assert_within_merge_bound(out, W, b, X, y, 0.05)


def test_sums_zero_merges_exactly_and_mismatches_are_refused():
    W, b, X, y = problem(6, 100)
    W, b, X, y, _ = check_problem(W, b, X, y, 0.0)
    s = Sums.of_rows(W, b, X, y)
    z = Sums.zero(X.shape[1], W.shape[1])
    for merged in (z.merge(s), s.merge(z), z.add(W, b, X, y)):
        assert merged.loss == s.loss
        assert merged.n == s.n
        np.testing.assert_array_equal(merged.GX, s.GX)
    with pytest.raises(ValueError, match="loss alone"):
        s.merge(Sums.zero(X.shape[1], W.shape[1], grad=False))
    with pytest.raises(ValueError, match="not the same problem"):
        s.merge(Sums.zero(X.shape[1] + 1, W.shape[1]))


# --- errors ---------------------------------------------------------------------------


def test_misaligned_chunks_are_refused():
    W, b, X, y = problem(7, 100)
    Xd = da.from_array(X, chunks=(30, 4))
    with pytest.raises(ValueError, match=r"chunks of y \(40, 40, 20\) do not line up"):
        sr.distributed.loss_and_grad(W, b, Xd, da.from_array(y, chunks=40))


def test_chunked_feature_axis_is_refused():
    W, b, X, y = problem(8, 100)
    with pytest.raises(ValueError, match=r"feature axis \(D = 4\) is split into chunks \(2, 2\)"):
        sr.distributed.loss_and_grad(W, b, da.from_array(X, chunks=(50, 2)), y)


def test_numpy_x_and_bad_shapes_are_refused():
    W, b, X, y = problem(9, 10)
    with pytest.raises(TypeError, match=r"X must be a dask\.array\.Array; got ndarray"):
        sr.distributed.loss_and_grad(W, b, X, y)
    with pytest.raises(ValueError, match=r"y must have shape \(N,\) = \(10,\)"):
        sr.distributed.loss_and_grad(W, b, da.from_array(X, chunks=5), y[:9])
    with pytest.raises(ValueError, match="W must have shape"):
        sr.distributed.loss_and_grad(W[:2], b, da.from_array(X, chunks=5), y)
    Xu = da.from_array(X, chunks=5)
    with pytest.raises(ValueError, match="unknown length"):
        sr.distributed.loss_and_grad(W, b, Xu[Xu[:, 0] > 0], y)


def test_nan_in_a_chunk_is_reported_with_its_rows():
    W, b, X, y = problem(10, 100)
    X[63, 2] = np.nan
    with pytest.raises(ValueError, match=r"rows 60:80 of X and y.*nan at X\[3, 2\]"):
        sr.distributed.loss_and_grad(W, b, *chunked(X, y, 20))


def test_bad_labels_in_a_chunk_are_reported_with_their_rows():
    W, b, X, y = problem(11, 100)
    y[95] = 99
    with pytest.raises(ValueError, match=r"rows 80:100 of X and y"):
        sr.distributed.loss(W, b, *chunked(X, y, 20))


# --- the estimator on dask arrays ------------------------------------------------------


def separable_ish(seed, n):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    X = rng.normal(size=(n, 4)) + y[:, None]
    return X, np.array(["cat", "dog", "eel"])[y]


def test_fit_on_one_chunk_is_the_in_memory_fit():
    X, labels = separable_ish(12, 400)
    mem = sr.SoftmaxClassifier(reg=1e-2, random_state=0).fit(X, labels)
    dist = sr.SoftmaxClassifier(reg=1e-2, random_state=0).fit(*chunked(X, labels, 400))
    np.testing.assert_array_equal(dist.coef_, mem.coef_)
    np.testing.assert_array_equal(dist.intercept_, mem.intercept_)
    assert dist.classes_.tolist() == ["cat", "dog", "eel"]


def assert_same_optimum(dist, mem, X, y_enc, reg, tol):
    """The dask fit is an optimum of the in-memory problem to the solver's tolerance.

    ``tol`` bounds the gradient L-BFGS-B stopped at, up to the routes' difference at
    that point; and with L convex and reg-strongly convex in W,
    reg ||W_d - W_m||^2 <= (g_d - g_m) . (theta_d - theta_m).
    """
    theta = {
        k: np.concatenate([m.params_["W"].ravel(), m.params_["b"]])
        for k, m in (("d", dist), ("m", mem))
    }
    grads = {}
    for k, m in (("d", dist), ("m", mem)):
        _, dW, db = sr.loss_and_grad(m.params_["W"], m.params_["b"], X, y_enc, reg)
        grads[k] = np.concatenate([dW.ravel(), db])
    assert np.abs(grads["d"]).max() <= tol + 1e-12
    dtheta = theta["d"] - theta["m"]
    dW = dist.params_["W"] - mem.params_["W"]
    assert reg * np.sum(dW**2) <= max(0.0, (grads["d"] - grads["m"]) @ dtheta) + 1e-15


def test_fit_on_chunks_reaches_the_in_memory_optimum():
    X, labels = separable_ish(13, 900)
    reg, tol = 1e-2, 1e-6
    mem = sr.SoftmaxClassifier(reg=reg, tol=tol, random_state=0).fit(X, labels)
    dist = sr.SoftmaxClassifier(reg=reg, tol=tol, random_state=0).fit(*chunked(X, labels, 250))
    y_enc = np.searchsorted(mem.classes_, labels)
    assert_same_optimum(dist, mem, X, y_enc, reg, tol)
    Xd = da.from_array(X, chunks=(300, 4))
    proba, pred = dist.predict_proba(Xd), dist.predict(Xd)
    assert isinstance(proba, da.Array)
    assert isinstance(pred, da.Array)
    assert proba.shape == (900, 3)
    assert pred.shape == (900,)
    np.testing.assert_array_equal(pred.compute(), dist.predict(X))
    # Chunk by chunk, the same operations as in memory on each chunk's rows.
    W, b = dist.params_["W"], dist.params_["b"]
    by_chunk = [sr.softmax(X[i : i + 300] @ W + b) for i in range(0, 900, 300)]
    np.testing.assert_array_equal(proba.compute(), np.concatenate(by_chunk))
    assert isinstance(dist.predict_log_proba(Xd), da.Array)


def test_fit_refuses_what_it_cannot_do_on_dask():
    X, labels = separable_ish(14, 100)
    Xd, yd = chunked(X, labels, 50)
    with pytest.raises(ValueError, match="solver='sgd' needs X in memory"):
        sr.SoftmaxClassifier(solver="sgd").fit(Xd, yd)
    with pytest.raises(ValueError, match="early stopping is not available with dask"):
        sr.SoftmaxClassifier().fit(Xd, yd, X_val=X[:10], y_val=labels[:10])
    with pytest.raises(ValueError, match="at least 2 classes"):
        sr.SoftmaxClassifier().fit(Xd, da.zeros(100, chunks=50))
    fitted = sr.SoftmaxClassifier(reg=0.1).fit(Xd, yd)
    with pytest.raises(ValueError, match="fitted with 4"):
        fitted.predict(da.zeros((10, 3), chunks=5))


def test_import_softmax_ref_does_not_load_dask():
    code = (
        "import sys, softmax_ref, softmax_ref.distributed; "
        "from softmax_ref import SoftmaxClassifier; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
