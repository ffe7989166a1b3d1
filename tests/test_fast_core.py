"""The blocked, threaded core against the simple formulas, and its streaming form.

``loss_and_grad`` cuts X into blocks of rows, deals them to lanes (threads) and
adds the partial sums in a fixed order. Each test here pins one way that could
go wrong: a block boundary (N smaller than, equal to, or not a multiple of the
block), a lane that gets no block, float32 accumulation, a memmap, chunks fed
through ``loss_and_grad_streaming``, results that change from run to run or
when other threads call at the same time, a BLAS setting changed under the
caller's other threads, or memory that grows with N.

The reference is the textbook dense computation in float64 (``dense_reference``),
written from the derivation page's formulas, not from the kernel.
"""

from __future__ import annotations

import functools
import importlib
import sys
import threading
import tracemalloc
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import softmax_ref as sr
from softmax_ref import _kernels
from softmax_ref._validation import check_problem
from verification.tolerances import tolerances_for

D, C = 6, 5
B = 64  # rows per block in these tests (the kernel's smallest default)


def problem(seed: int, n: int, d: int = D, c: int = C, dtype=np.float64, reg: float = 0.3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    W = rng.normal(scale=0.5, size=(d, c)).astype(dtype)
    b = rng.normal(size=c).astype(dtype)
    y = rng.integers(0, c, size=n)
    return W, b, X, y, reg


def dense_reference(W, b, X, y, reg):
    """The derivation page's formulas on whole (N, C) arrays, in float64."""
    W, b, X = (np.asarray(a, dtype=np.float64) for a in (W, b, X))
    n = X.shape[0]
    F = X @ W + b
    m = F.max(axis=1, keepdims=True)
    E = np.exp(F - m)
    s = E.sum(axis=1, keepdims=True)
    # loss = mean_n [logsumexp(F_n) - F_n,y_n] + 0.5 reg ||W||^2
    loss = np.mean(np.log(s[:, 0]) + m[:, 0] - F[np.arange(n), y]) + 0.5 * reg * np.sum(W * W)
    G = E / s
    G[np.arange(n), y] -= 1  # P - Y
    return loss, X.T @ G / n + reg * W, G.sum(axis=0) / n


def assert_matches(out, ref, dtype):
    tol = tolerances_for(dtype)
    L, dW, db = out
    assert L.dtype == dW.dtype == db.dtype == dtype
    np.testing.assert_allclose(L, ref[0], rtol=tol.paths_rtol)
    np.testing.assert_allclose(dW, ref[1], rtol=tol.paths_rtol, atol=tol.paths_atol)
    np.testing.assert_allclose(db, ref[2], rtol=tol.paths_rtol, atol=tol.paths_atol)


def assert_identical(a, b):
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)


@pytest.fixture
def blocks_of(monkeypatch):
    """Set the block size (in rows of X) and thread count that loss_and_grad reads."""

    def set_(rows: int, threads: int, d: int = D, itemsize: int = 8) -> None:
        monkeypatch.setenv(_kernels.BLOCK_ENV, str(rows * d * itemsize))
        monkeypatch.setenv(_kernels.THREADS_ENV, str(threads))
        # Let even these small problems use every lane (the default keeps one
        # lane for small problems, where a thread costs more than it saves).
        monkeypatch.setattr(_kernels, "MIN_WORK_FOR_THREADS", 0)

    return set_


# --- block boundaries ----------------------------------------------------------

# N around one, two and three blocks of B rows: smaller than a block, exactly
# one, one row over, several, a multiple, a multiple plus one.
BOUNDARY_N = [1, 2, B - 1, B, B + 1, 2 * B - 1, 2 * B, 2 * B + 1, 3 * B, 3 * B + 1, 7 * B + 5]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("n", BOUNDARY_N)
def test_block_boundaries_match_dense_formulas(blocks_of, n, threads):
    blocks_of(B, threads)
    W, b, X, y, reg = problem(n, n)
    assert_matches(sr.loss_and_grad(W, b, X, y, reg), dense_reference(W, b, X, y, reg), np.float64)
    np.testing.assert_allclose(
        sr.loss(W, b, X, y, reg), dense_reference(W, b, X, y, reg)[0], rtol=1e-12
    )


def test_boundary_check_catches_a_dropped_tail_block(blocks_of, monkeypatch):
    # Meta: a kernel that loses the last, short block (an off-by-one in the block
    # count) fails the comparison used above.
    blocks_of(B, 2)
    run = _kernels._Lane.run

    def run_without_short_blocks(self, WT, b, blocks, grad):
        return run(self, WT, b, ((Xb, yb) for Xb, yb in blocks if Xb.shape[0] == B), grad)

    monkeypatch.setattr(_kernels._Lane, "run", run_without_short_blocks)
    W, b, X, y, reg = problem(2 * B + 1, 2 * B + 1)
    with pytest.raises(AssertionError):
        assert_matches(
            sr.loss_and_grad(W, b, X, y, reg), dense_reference(W, b, X, y, reg), np.float64
        )


def test_boundary_check_catches_a_lost_lane(blocks_of, monkeypatch):
    # Meta: a reduction that forgets every lane but the first fails it too.
    blocks_of(B, 2)
    monkeypatch.setattr(
        _kernels.BlockedSums, "grad_sums", lambda self: (self._lanes[0].GX, self._lanes[0].db)
    )
    W, b, X, y, reg = problem(3 * B, 3 * B)
    with pytest.raises(AssertionError):
        assert_matches(
            sr.loss_and_grad(W, b, X, y, reg), dense_reference(W, b, X, y, reg), np.float64
        )


@pytest.mark.parametrize("n", [B - 1, B, 2 * B + 1, 5 * B])
def test_block_boundaries_float32(blocks_of, n):
    blocks_of(B, 2, itemsize=4)
    W, b, X, y, reg = problem(10 + n, n, dtype=np.float32)
    assert_matches(sr.loss_and_grad(W, b, X, y, reg), dense_reference(W, b, X, y, reg), np.float32)


def test_default_block_rule_matches_naive_loops():
    # The shipped rule and thread default, on a problem of several blocks:
    # 600 rows of width 300 are 1.4 MiB of X, cut in 8 MiB blocks (one) and
    # then checked against the derivation's loops.
    W, b, X, y, reg = problem(5, 600, d=300, c=4)
    assert_matches(
        sr.loss_and_grad(W, b, X, y, reg), sr.loss_and_grad_naive(W, b, X, y, reg), np.float64
    )


@pytest.mark.parametrize("n", [B, 4 * B + 3])
def test_non_contiguous_X_in_blocks(blocks_of, n):
    blocks_of(B, 2)
    W, b, X, y, reg = problem(20, n)
    ref = dense_reference(W, b, X, y, reg)
    for Xv in (np.asfortranarray(X), np.repeat(X, 2, axis=1)[:, ::2]):
        assert_matches(sr.loss_and_grad(W, b, Xv, y, reg), ref, np.float64)


def test_extreme_scores_in_a_late_block(blocks_of):
    # Scores of +-1e5 in the last block only: the shift by the max must be per
    # sample in every block, else exp overflows there.
    blocks_of(B, 2)
    W, b, X, y, reg = problem(21, 3 * B + 7)
    X[-3:] *= 1e5
    L, dW, db = sr.loss_and_grad(W, b, X, y, reg)
    assert np.isfinite(L)
    assert_matches((L, dW, db), dense_reference(W, b, X, y, reg), np.float64)


def test_nan_in_a_late_block_is_reported(blocks_of):
    blocks_of(B, 2)
    W, b, X, y, reg = problem(22, 5 * B)
    X[5 * B - 1, 2] = np.nan
    with pytest.raises(ValueError, match=rf"X must be finite; got nan at X\[{5 * B - 1}, 2\]"):
        sr.loss_and_grad(W, b, X, y, reg)


# --- determinism and threads -------------------------------------------------------


def test_bitwise_identical_run_to_run(blocks_of):
    blocks_of(B, 2)
    W, b, X, y, reg = problem(30, 40 * B + 17, d=20, c=10)
    first = sr.loss_and_grad(W, b, X, y, reg)
    for _ in range(5):
        assert_identical(sr.loss_and_grad(W, b, X, y, reg), first)


def test_thread_counts_agree(blocks_of):
    W, b, X, y, reg = problem(31, 20 * B + 1, d=20, c=10)
    outs = []
    for threads in (1, 2, 4):
        blocks_of(B, threads, d=20)
        outs.append(sr.loss_and_grad(W, b, X, y, reg))
    for out in outs[1:]:
        assert_matches(out, outs[0], np.float64)


@functools.cache
def _blas_controllers() -> list:
    from threadpoolctl import ThreadpoolController

    with warnings.catch_warnings():
        # Its warnings (e.g. two OpenMP runtimes loaded) concern other libraries.
        warnings.simplefilter("ignore")
        return list(ThreadpoolController().select(user_api="blas").lib_controllers)


def blas_threads() -> list[int]:
    """Every loaded BLAS's current thread count (a cheap call: readable in a loop)."""
    return [lib.get_num_threads() for lib in _blas_controllers()]


@pytest.fixture
def blas_at_two_threads():
    """BLAS set to 2 threads for the test, so that a change to 1 would be seen."""
    from threadpoolctl import threadpool_limits

    if not _blas_controllers():
        pytest.skip("threadpoolctl finds no BLAS library to set")
    with threadpool_limits(2, user_api="blas"):
        if blas_threads() != [2] * len(_blas_controllers()):
            pytest.skip(f"BLAS cannot be set to 2 threads here (it runs {blas_threads()})")
        yield


def concurrency_problems() -> list[tuple]:
    # Every route through the kernel: one block on the caller's thread, several
    # blocks on two lanes (narrow X; at 20,000 x 32 x 10 each block's GEMMs in
    # sub-GEMMs), several blocks on one lane (wide X, GEMMs threaded by BLAS), and
    # a float32 one.
    shapes = [(50, 5, 3), (700, 40, 10), (20_000, 32, 10), (3_000, 300, 10), (2_000, 400, 30)]
    out = []
    for i in range(16):
        n, d, c = shapes[i % len(shapes)]
        dtype = np.float32 if i % 4 == 3 else np.float64
        out.append(problem(100 + i, n, d=d, c=c, dtype=dtype))
    return out


def test_concurrent_calls_give_the_serial_bits(monkeypatch, blas_at_two_threads):
    # loss_and_grad's docstring: bitwise identical whether or not other threads
    # call at the same time. 8 callers over 16 problems, against serial calls.
    monkeypatch.setenv(_kernels.BLOCK_ENV, str(1 << 20))  # several blocks at these sizes
    monkeypatch.delenv(_kernels.THREADS_ENV, raising=False)
    problems = concurrency_problems()
    serial = [sr.loss_and_grad(*p) for p in problems]
    for _ in range(3):
        with ThreadPoolExecutor(max_workers=8) as ex:
            concurrent = list(ex.map(lambda p: sr.loss_and_grad(*p), problems))
        for out, expected in zip(concurrent, serial, strict=True):
            assert_identical(out, expected)


def watch_blas_while(calls: Callable[[], None]) -> set[tuple[int, ...]]:
    """The BLAS thread counts seen by another thread while ``calls`` runs."""
    seen: set[tuple[int, ...]] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.add(tuple(blas_threads()))

    # A short switch interval lets the watcher read often while the callers run.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        calls()
    finally:
        done.set()
        watcher.join()
        sys.setswitchinterval(interval)
    seen.add(tuple(blas_threads()))
    return seen


def blocked_calls(blocks_of) -> Callable[[], None]:
    # Calls of many blocks on two lanes, made from this (the main) thread: OpenBLAS
    # ignores a thread count set from another thread once the main thread has set
    # one, so a kernel that changed it would do so from here.
    blocks_of(B, 2, d=20)
    args = problem(32, 200 * B, d=20, c=10)

    def calls() -> None:
        for _ in range(12):
            sr.loss_and_grad(*args)

    return calls


def test_blas_setting_untouched_while_calls_run(blocks_of, blas_at_two_threads):
    # The caller's BLAS setting holds for its other threads during the calls, not
    # only after them: a watcher thread reads it all the while.
    before = tuple(blas_threads())
    assert watch_blas_while(blocked_calls(blocks_of)) == {before}


def test_blas_watch_catches_a_kernel_that_limits_blas(blocks_of, blas_at_two_threads, monkeypatch):
    # Meta: a kernel that holds BLAS at one thread while its lanes run (a
    # process-wide change, restored after) is seen by the watcher above.
    add = _kernels.BlockedSums.add

    def add_with_one_blas_thread(self, X, y):
        saved = [(lib, lib.get_num_threads()) for lib in _blas_controllers()]
        for lib, _ in saved:
            lib.set_num_threads(1)
        try:
            return add(self, X, y)
        finally:
            for lib, n in saved:
                lib.set_num_threads(n)

    monkeypatch.setattr(_kernels.BlockedSums, "add", add_with_one_blas_thread)
    seen = watch_blas_while(blocked_calls(blocks_of))
    assert any(1 in counts for counts in seen), seen


@pytest.mark.parametrize(
    ("name", "value"), [(_kernels.THREADS_ENV, "0"), (_kernels.BLOCK_ENV, "x")]
)
def test_bad_settings_are_named(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    W, b, X, y, reg = problem(33, 10)
    with pytest.raises(ValueError, match=name):
        sr.loss_and_grad(W, b, X, y, reg)


def _call_in_forked_child(q, problem_args, stale_pools, wait_s) -> None:
    # Runs in a forked child: put ("ok", loss), ("error", message) when the call
    # raised, or ("hung", None) when it did not end within wait_s.
    if stale_pools:  # the bug the at-fork hook prevents: the parent's pools, now threadless
        _kernels._pools.update(stale_pools)
    out: list = []

    def call() -> None:
        try:
            out.append(("ok", float(sr.loss_and_grad(*problem_args)[0])))
        except Exception as exc:
            out.append(("error", f"{type(exc).__name__}: {exc}"))

    t = threading.Thread(target=call, daemon=True)
    t.start()
    t.join(wait_s)
    q.put(out[0] if out else ("hung", None))


def forked_loss(problem_args, stale_pools=None, wait_s=30.0) -> tuple[str, object]:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    child = ctx.Process(target=_call_in_forked_child, args=(q, problem_args, stale_pools, wait_s))
    with warnings.catch_warnings():
        # When JAX is loaded in this process (other test modules import it), its
        # fork hook warns that a forked JAX may deadlock; the child never uses JAX.
        warnings.filterwarnings(
            "ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning
        )
        child.start()
    result = q.get(timeout=60)
    child.join(10)
    return result


def test_threaded_call_works_in_a_forked_child(blocks_of):
    # multiprocessing's default on Linux forks: the child inherits the pool
    # objects but none of their threads.
    blocks_of(B, 2)
    args = problem(60, 20 * B, d=20, c=10)
    L, _, _ = sr.loss_and_grad(*args)  # the parent's pool now has threads
    assert forked_loss(args) == ("ok", float(L))


def test_fork_check_catches_stale_pools(blocks_of):
    # Meta: a child that keeps the parent's (threadless) pools hangs, and the
    # check above sees it as a hang, not as an error.
    blocks_of(B, 2)
    args = problem(61, 20 * B, d=20, c=10)
    sr.loss_and_grad(*args)
    # The call takes milliseconds; 3 s without an answer is a hang.
    assert forked_loss(args, stale_pools=dict(_kernels._pools), wait_s=3.0) == ("hung", None)


def test_fork_check_tells_an_error_from_a_hang(blocks_of):
    # Meta: a call that raises in the child is reported as that error, not as a hang.
    blocks_of(B, 2)
    W, b, X, y, reg = problem(62, 20 * B, d=20, c=10)
    X[7, 3] = np.nan
    status, message = forked_loss((W, b, X, y, reg), wait_s=3.0)
    assert status == "error"
    assert "X must be finite" in str(message)


# --- memmap and streaming -----------------------------------------------------------


def test_memmap_gives_the_in_memory_numbers(blocks_of, tmp_path):
    blocks_of(B, 2)
    W, b, X, y, reg = problem(40, 9 * B + 3)
    path = tmp_path / "X.npy"
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=X.dtype, shape=X.shape)
    mm[:] = X
    mm.flush()
    del mm
    X_disk = np.load(path, mmap_mode="r")
    assert isinstance(X_disk, np.memmap)
    assert_identical(sr.loss_and_grad(W, b, X_disk, y, reg), sr.loss_and_grad(W, b, X, y, reg))


def chunks(X, y, sizes):
    lo = 0
    for size in sizes:
        yield X[lo : lo + size], y[lo : lo + size]
        lo += size
    assert lo == X.shape[0]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(
    "sizes",
    [[7 * B + 5], [B, B, 5 * B + 5], [2 * B, 0, 4 * B, B + 5], [3 * B, 4 * B + 5]],
    ids=["one-chunk", "single-blocks", "empty-chunk", "uneven-multiples"],
)
def test_streaming_equals_in_memory_bitwise(blocks_of, sizes, threads):
    # Chunks whose lengths are multiples of the block (all but the last) are cut
    # into exactly the in-memory call's blocks, dealt to the same lanes.
    blocks_of(B, threads)
    W, b, X, y, reg = problem(41, 7 * B + 5)
    streamed = sr.loss_and_grad_streaming(W, b, chunks(X, y, sizes), reg)
    assert_identical(streamed, sr.loss_and_grad(W, b, X, y, reg))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sizes", [[1] * 9 + [3 * B], [B - 1, B + 1, 37, 2 * B + 50]])
def test_streaming_ragged_chunks_match_dense_formulas(blocks_of, sizes, dtype):
    blocks_of(B, 2, itemsize=np.dtype(dtype).itemsize)
    n = sum(sizes)
    W, b, X, y, reg = problem(42, n, dtype=dtype)
    out = sr.loss_and_grad_streaming(W, b, chunks(X, y, sizes), reg)
    assert_matches(out, dense_reference(W, b, X, y, reg), dtype)


def test_streaming_from_memmap_shards(tmp_path):
    W, b, X, y, reg = problem(43, 1000)
    shards = []
    for i, lo in enumerate(range(0, 1000, 300)):
        path = tmp_path / f"shard{i}.npy"
        np.save(path, X[lo : lo + 300])
        shards.append((np.load(path, mmap_mode="r"), y[lo : lo + 300]))
    out = sr.loss_and_grad_streaming(W, b, shards, reg, n_threads=2, block_rows=100)
    assert_matches(out, dense_reference(W, b, X, y, reg), np.float64)


def bad_stream_cases():
    W, b, X, y, _ = problem(44, 30)
    y_bad = y.copy()
    y_bad[-1] = C
    X_nan = X.copy()
    X_nan[25, 1] = np.nan
    W32, b32, X32 = W.astype(np.float32), b.astype(np.float32), X.astype(np.float32)
    return {
        "labels": (W, b, [(X[:20], y[:20]), (X[20:], y_bad[20:])], ValueError, "chunk 1 .*y must"),
        "width": (W, b, [(X, y), (X[:, :2], y)], ValueError, "chunk 1 .*W must have shape"),
        "nan": (W, b, [(X[:20], y[:20]), (X_nan[20:], y[20:])], ValueError, "chunk 1 .*X must be"),
        # float32 W, b and chunk 0 fix float32 sums; a float64 chunk would need float64.
        "dtype": (W32, b32, [(X32, y), (X, y)], TypeError, "chunk 1 of blocks gives dtype float64"),
        "not-a-pair": (W, b, [(X, y), X], TypeError, "chunk 1 is ndarray"),
        "nothing": (W, b, [], ValueError, "at least one"),
        "only-empty": (W, b, [(X[:0], y[:0])], ValueError, "at least one"),
    }


@pytest.mark.parametrize("case", list(bad_stream_cases()))
def test_streaming_errors_name_the_chunk(case):
    W, b, stream, exc, message = bad_stream_cases()[case]
    with pytest.raises(exc, match=message):
        sr.loss_and_grad_streaming(W, b, stream, 0.1)


def test_streaming_reads_the_iterable_once_in_order():
    W, b, X, y, reg = problem(45, 200)
    seen = []

    def gen():
        for lo in range(0, 200, 50):
            seen.append(lo)
            yield X[lo : lo + 50], y[lo : lo + 50]

    out = sr.loss_and_grad_streaming(W, b, gen(), reg, n_threads=2, block_rows=20)
    assert seen == [0, 50, 100, 150]
    assert_matches(out, dense_reference(W, b, X, y, reg), np.float64)


# --- memory ------------------------------------------------------------------------


def traced_peak(fn: Callable[[], object]) -> int:
    """Peak bytes allocated (and traced) while fn runs, above what was live before."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


N_SMALL, N_LARGE, C_MEM, B_MEM = 8_000, 200_000, 10, 512
BLOCK_OF_SCORES = C_MEM * B_MEM * 8  # bytes


def peaks(fn, blocks_of, threads):
    """Worst peak of three calls, at N_SMALL and at N_LARGE rows."""
    blocks_of(B_MEM, threads, d=8)
    out = []
    for n in (N_SMALL, N_LARGE):
        W, b, X, y, reg = problem(50, n, d=8, c=C_MEM)
        fn(W, b, X, y, reg)  # warm: the thread pool, NumPy's caches
        out.append(
            max(traced_peak(lambda W=W, b=b, X=X, y=y, reg=reg: fn(W, b, X, y, reg)) for _ in "abc")
        )
    return out


@pytest.mark.parametrize("threads", [1, 2])
def test_peak_memory_does_not_grow_with_n(blocks_of, threads):
    small, large = peaks(sr.loss_and_grad, blocks_of, threads)
    # N grows 25-fold: anything held per sample would add at least
    # (N_LARGE - N_SMALL) * 8 bytes (1.5 MB), per score 15 MB. The slack: one block
    # of scores, plus per lane the buffer NumPy's iterator allocates for the length
    # of a broadcasting in-place op (np.getbufsize() elements): with two lanes the
    # peak depends on whether both hold theirs at the same moment.
    slack = BLOCK_OF_SCORES + threads * np.getbufsize() * 8
    assert large <= small + slack
    # And the whole call needs less than one (N, C) array of the small problem.
    assert large < N_SMALL * C_MEM * 8


def test_peak_memory_check_catches_dense_code(blocks_of):
    # Meta: the same measurement on the dense formulas (the post's layout, whole
    # (N, C) arrays) fails the assertion above, so that assertion can fail.
    small, large = peaks(dense_reference, blocks_of, 1)
    assert large > small + BLOCK_OF_SCORES + 2 * np.getbufsize() * 8
    # F and exp(F - m) are alive together: at least two (N, C) float64 arrays.
    assert large >= 2 * N_LARGE * C_MEM * 8


# --- sub-GEMMs ------------------------------------------------------------------

R = 8  # rows per sub-GEMM in these tests


@pytest.fixture
def sub_gemms_of(monkeypatch):
    """Cut every block's GEMMs into sub-GEMMs of ``rows`` rows.

    The default does so only where a block holds hundreds of rows (819 at D = 32,
    C = 10); these problems are cut the same way at a size a test can afford.
    """

    def set_(rows: int, d: int = D, c: int = C) -> None:
        monkeypatch.setenv(_kernels.SUB_GEMM_ENV, str(rows))
        assert _kernels.sub_gemm_rows(d, c) == rows

    return set_


# Rows per block around the sub-GEMMs: one short of two (one GEMM), exactly two,
# a tail of one, a multiple, a multiple plus a tail; and several blocks of B rows.
SUB_N = [2 * R - 1, 2 * R, 2 * R + 1, 5 * R, 5 * R + 3, 4 * B + 7]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n", SUB_N)
def test_sub_gemms_match_dense_formulas(blocks_of, sub_gemms_of, n, threads, dtype):
    blocks_of(B, threads, itemsize=np.dtype(dtype).itemsize)
    sub_gemms_of(R)
    W, b, X, y, reg = problem(n, n, dtype=dtype)
    assert_matches(sr.loss_and_grad(W, b, X, y, reg), dense_reference(W, b, X, y, reg), dtype)


def test_sub_gemms_give_the_same_bits_on_every_route(blocks_of, sub_gemms_of):
    # One block on one lane: the small calls' route and BlockedSums agree bitwise
    # with sub-GEMMs too, and a second call gives the same bits.
    sub_gemms_of(R)
    W, b, X, y, reg = problem(72, 5 * R + 3)
    out = sr.loss_and_grad(W, b, X, y, reg)
    blocked = sr.loss_and_grad_streaming(W, b, [(X, y)], reg, n_threads=1, block_rows=5 * R + 3)
    assert_identical(out, blocked)
    blocks_of(B, 2)
    W, b, X, y, reg = problem(73, 9 * B + 5)
    assert_identical(sr.loss_and_grad(W, b, X, y, reg), sr.loss_and_grad(W, b, X, y, reg))


@pytest.mark.parametrize("which", ["forward", "backward"])
def test_sub_gemm_check_catches_a_dropped_tail(blocks_of, sub_gemms_of, monkeypatch, which):
    # Meta: sub-GEMMs that lose the rows after the last whole sub-GEMM (the forward's
    # scores of those rows left as they were, or their share of (P - Y)^T X not
    # added) fail the comparison above.
    blocks_of(B, 1)
    sub_gemms_of(R)

    def head_only(X):
        return X[: X.shape[0] // R * R]

    if which == "forward":
        real = _kernels.class_major_scores

        def without_tail(W, b, Xb, S, rows):
            head = head_only(Xb).shape[0]
            real(W, b, Xb[:head], S[:, :head], rows)
            S[:, head:] = 0.0

        monkeypatch.setattr(_kernels, "class_major_scores", without_tail)
    else:
        real_sum = _kernels.gemm_sum

        def without_tail(S, Xb, rows, out, accumulate):
            head = head_only(Xb).shape[0]
            real_sum(S[:, :head], Xb[:head], rows, out, accumulate)

        monkeypatch.setattr(_kernels, "gemm_sum", without_tail)
    W, b, X, y, reg = problem(74, 5 * R + 3)
    with pytest.raises(AssertionError):
        assert_matches(
            sr.loss_and_grad(W, b, X, y, reg), dense_reference(W, b, X, y, reg), np.float64
        )


class _MatmulShapes:
    """NumPy as _kernels sees it, recording the operand shapes of every np.matmul call."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[int, ...], tuple[int, ...]]] = []

    def __getattr__(self, name):
        return getattr(np, name)

    def matmul(self, a, b, *args, **kwargs):
        self.calls.append((a.shape, b.shape))
        return np.matmul(a, b, *args, **kwargs)


@pytest.mark.parametrize(
    ("n", "cut"), [(2 * R - 1, None), (2 * R, (2, 0)), (2 * R + 1, (2, 1)), (5 * R + 3, (5, 3))]
)
def test_a_block_is_cut_once_it_holds_two_sub_gemms(monkeypatch, sub_gemms_of, n, cut):
    # The rule of sub_gemm_rows's docstring: a block of n rows is cut into n // R
    # sub-GEMMs of R rows (one batched call) and a tail, once n >= 2 R; below, one GEMM.
    sub_gemms_of(R)
    shapes = _MatmulShapes()
    monkeypatch.setattr(_kernels, "np", shapes)
    W, b, X, _y, _ = problem(75, n)
    S = np.empty((C, n))
    _kernels.class_major_scores(W, b, X, S, R)
    GX = np.empty((C, D))
    _kernels.gemm_sum(S, X, R, GX, accumulate=False)
    if cut is None:
        assert shapes.calls == [((C, D), (D, n)), ((C, n), (n, D))]
        return
    k, tail = cut
    forward = [((C, D), (k, D, R))] + ([((C, D), (D, tail))] if tail else [])
    assert shapes.calls == [*forward, ((k, C, R), (k, R, D))]  # the backward's tail uses @


def test_sub_gemm_rule_at_its_smallest_cut(monkeypatch):
    # 2^18 multiply-adds over D C = 4096 are 64 rows, MIN_SUB_GEMM_ROWS: cut; one more
    # column and a sub-GEMM would hold 63 rows: no cut.
    monkeypatch.delenv(_kernels.SUB_GEMM_ENV, raising=False)
    assert _kernels.sub_gemm_rows(64, 64) == _kernels.MIN_SUB_GEMM_ROWS == 64
    assert _kernels.sub_gemm_rows(65, 64) == 0
    assert _kernels.sub_gemm_rows(1, 1) == _kernels.SUB_GEMM_WORK


def test_sub_gemms_are_the_default_only_where_a_block_holds_hundreds_of_rows(monkeypatch):
    monkeypatch.delenv(_kernels.SUB_GEMM_ENV, raising=False)
    assert _kernels.sub_gemm_rows(32, 10) == 819  # tall: 2 MiB blocks of 8192 rows
    assert _kernels.sub_gemm_rows(2, 3) == 43690  # toy: its 1000 rows are one GEMM
    assert _kernels.sub_gemm_rows(3073, 10) == 0  # cs231n: BLAS threads its GEMMs
    monkeypatch.setenv(_kernels.SUB_GEMM_ENV, "0")
    assert _kernels.sub_gemm_rows(32, 10) == 0
    for bad in ("-1", "many"):
        monkeypatch.setenv(_kernels.SUB_GEMM_ENV, bad)
        with pytest.raises(ValueError, match="SOFTMAX_REF_SUB_GEMM_ROWS must be an integer >= 0"):
            _kernels.sub_gemm_rows(32, 10)


# --- misaligned X -------------------------------------------------------------------


def misaligned(a: np.ndarray) -> np.ndarray:
    """A copy of ``a`` whose data starts one byte past an aligned address (as a pickle-5
    buffer received by a dask worker can)."""
    raw = np.zeros(a.nbytes + 1, dtype=np.uint8)
    out = np.frombuffer(raw.data, dtype=a.dtype, offset=1, count=a.size).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


@pytest.mark.parametrize(("n", "threads"), [(50, 1), (9 * B + 5, 2)])
def test_misaligned_x_is_computed_on_an_aligned_copy(blocks_of, monkeypatch, n, threads):
    # NumPy and BLAS are several times slower on misaligned data (softmax_ref._kernels.aligned):
    # every block reaches the arithmetic aligned, and the numbers are those of aligned X.
    blocks_of(B, threads)
    W, b, X, y, reg = problem(76, n)
    expected = sr.loss_and_grad(W, b, X, y, reg)
    seen = []
    real = _kernels.class_major_scores

    def spy(W, b, Xb, S, rows):
        seen.append(Xb.flags.aligned)
        real(W, b, Xb, S, rows)

    monkeypatch.setattr(_kernels, "class_major_scores", spy)
    out = sr.loss_and_grad(W, b, misaligned(X), y, reg)
    assert seen
    assert all(seen)
    assert_identical(out, expected)


def test_misaligned_check_catches_a_kernel_that_skips_the_copy(blocks_of, monkeypatch):
    # Meta: without the copy, the spy above sees misaligned blocks.
    blocks_of(B, 1)
    monkeypatch.setattr(_kernels, "aligned", lambda Xb: Xb)
    seen = []
    real = _kernels.class_major_scores
    monkeypatch.setattr(
        _kernels, "class_major_scores", lambda *a: seen.append(a[2].flags.aligned) or real(*a)
    )
    W, b, X, y, reg = problem(77, 50)
    sr.loss_and_grad(W, b, misaligned(X), y, reg)
    assert seen
    assert not any(seen)


# --- the one-block route of small problems -----------------------------------------


@pytest.mark.parametrize(
    ("n", "d", "c", "dtype"),
    [
        (1000, 2, 3, np.float64),
        (500, 300, 10, np.float64),
        (1000, 2, 3, np.float32),
        (1, 1, 1, np.float64),
    ],
)
def test_one_block_route_gives_the_blocked_bits(monkeypatch, n, d, c, dtype):
    # Small calls skip BlockedSums; the same arithmetic (_kernels._block) and GEMM
    # must give bitwise what BlockedSums gives for one block on one lane, and the
    # dense formulas to the paths' tolerance.
    monkeypatch.delenv(_kernels.THREADS_ENV, raising=False)
    monkeypatch.delenv(_kernels.BLOCK_ENV, raising=False)
    W, b, X, y, reg = problem(70, n, d=d, c=c, dtype=dtype)
    assert _kernels.one_block(n, d, c, np.dtype(dtype).itemsize)
    out = sr.loss_and_grad(W, b, X, y, reg)
    # The streaming form always runs BlockedSums: here one chunk, one block, one lane.
    blocked = sr.loss_and_grad_streaming(W, b, [(X, y)], reg, n_threads=1, block_rows=n)
    assert_identical(out, blocked)
    assert_matches(out, dense_reference(W, b, X, y, reg), dtype)
    assert sr.loss(W, b, X, y, reg) == out[0]


def test_one_block_check_catches_a_route_that_drifts(monkeypatch):
    # Meta: a one-block route whose gradient sum is off by 1e-3 relative (or by one
    # rounding) fails the bitwise comparison with BlockedSums above.
    real = _kernels.one_block_sums

    def drifting(W, b, X, y, grad=True):
        loss, GX, db = real(W, b, X, y, grad)
        return loss, GX * (1 + 1e-3), db

    # The module that routes small calls (softmax_ref/_accumulator.py).
    monkeypatch.setattr(
        importlib.import_module("softmax_ref._accumulator"), "one_block_sums", drifting
    )
    W, b, X, y, reg = problem(71, 1000, d=2, c=3)
    blocked = sr.loss_and_grad_streaming(W, b, [(X, y)], reg, n_threads=1, block_rows=1000)
    with pytest.raises(AssertionError):
        assert_identical(sr.loss_and_grad(W, b, X, y, reg), blocked)


def test_one_block_route_is_taken_only_where_the_rule_says(monkeypatch):
    monkeypatch.delenv(_kernels.THREADS_ENV, raising=False)
    monkeypatch.delenv(_kernels.BLOCK_ENV, raising=False)
    # Narrow X with enough work for two lanes, or more rows than a block: blocked.
    assert not _kernels.one_block(20_000, 32, 10, 8)
    assert not _kernels.one_block(20_000, 300, 10, 8)
    # cs231n-dev: wide X, one block, BLAS threads the GEMMs.
    assert _kernels.one_block(500, 3073, 10, 8)
    # Two threads asked for explicitly: enough work for them, so blocked.
    monkeypatch.setenv(_kernels.THREADS_ENV, "2")
    assert not _kernels.one_block(500, 3073, 10, 8)


# --- check_problem's quick route ------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64])
@pytest.mark.parametrize("bad", ["negative", "too-large"])
def test_labels_out_of_range_rejected_for_every_integer_dtype(dtype, bad):
    # The quick route reads both bounds of y in one pass (labels viewed as
    # unsigned); every integer dtype must still be refused, with the full message.
    W, b, X = np.zeros((2, 3)), np.zeros(3), np.zeros((4, 2))
    y = np.array([0, 1, 2, 0])
    if bad == "negative":
        if np.dtype(dtype).kind == "u":
            pytest.skip("unsigned labels cannot be negative")
        y[2] = -1
    else:
        y[2] = 3
    with pytest.raises(ValueError, match=r"y must hold labels in \[0, 3\).*y\[2\]"):
        sr.loss_and_grad(W, b, X, y.astype(dtype), 0.0)


def test_quick_route_returns_the_inputs_unchanged():
    rng = np.random.default_rng(0)
    W, b, X = rng.normal(size=(2, 3)), np.zeros(3), rng.normal(size=(4, 2))
    y = np.array([0, 1, 2, 0])
    W2, b2, X2, y2, reg = check_problem(W, b, X, y, 0.5)
    assert W2 is W
    assert b2 is b
    assert X2 is X
    assert reg == 0.5
    assert y2.dtype == np.intp
    np.testing.assert_array_equal(y2, y)
