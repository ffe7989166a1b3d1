"""softmax_ref.distributed on a real dask.distributed LocalCluster of worker processes.

One cluster for the module: 2 worker processes, one thread each, each with a
memory limit of ``MEMORY_LIMIT`` (dask pauses a worker at 80 % of it and kills
it at 95 %). On it: the dask form against the in-memory core for several
chunkings, a fit, a worker killed mid-computation, and a data set of four
workers' worth of memory read from ``.npy`` shards. Starting the cluster takes
a few seconds; the module runs in ``make test``.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import softmax_ref as sr

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
cloudpickle = pytest.importorskip("cloudpickle")

from test_distributed import (  # noqa: E402 (after the skips: needs dask)
    assert_same_optimum,
    assert_within_merge_bound,
    chunked,
    problem,
    separable_ish,
)

MEMORY_LIMIT = 160 * 2**20  # bytes per worker; a worker process itself holds ~100 MiB

# The workers cannot import this file (tests/ is not a package on their path): the
# few functions they run from it travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        memory_limit=MEMORY_LIMIT,
        dashboard_address=None,
    )
    with cluster, distributed.Client(cluster) as c:
        yield c


def worker_pids(client):
    return set(client.run(os.getpid).values())


@pytest.mark.parametrize("chunks", [2000, 300, (1999, 1)])
def test_cluster_matches_in_memory(client, chunks):
    W, b, X, y = problem(20, 2000, d=7, c=5)
    out = sr.distributed.loss_and_grad(W, b, *chunked(X, y, chunks), 0.1)
    assert_within_merge_bound(out, W, b, X, y, 0.1)
    if chunks == 2000:  # one chunk: the in-memory bits, computed on a worker
        assert out[0] == sr.loss_and_grad(W, b, X, y, 0.1)[0]


def test_cluster_reports_a_nan_chunk_by_its_rows(client):
    W, b, X, y = problem(21, 400)
    X[250, 0] = np.inf
    with pytest.raises(ValueError, match=r"rows 200:300 of X and y.*inf at X\[50, 0\]"):
        sr.distributed.loss_and_grad(W, b, *chunked(X, y, 100))


def test_cluster_fit_reaches_the_in_memory_optimum(client):
    X, labels = separable_ish(22, 1200)
    reg, tol = 1e-2, 1e-6
    mem = sr.SoftmaxClassifier(reg=reg, tol=tol, random_state=0).fit(X, labels)
    dist = sr.SoftmaxClassifier(reg=reg, tol=tol, random_state=0).fit(*chunked(X, labels, 300))
    assert_same_optimum(dist, mem, X, np.searchsorted(mem.classes_, labels), reg, tol)
    np.testing.assert_array_equal(
        dist.predict(da.from_array(X, chunks=(400, 4))).compute(), mem.predict(X)
    )


# --- a worker killed mid-computation ----------------------------------------------------

N_SLOW, ROWS_SLOW, D_SLOW, C_SLOW = 24, 200, 5, 4


def chunk_data(i: int, kind: str) -> np.ndarray:
    """Chunk i of a seeded data set: its rows (``kind="X"``) or its labels."""
    rng = np.random.default_rng(1000 + i)
    X = rng.normal(size=(ROWS_SLOW, D_SLOW))
    return X if kind == "X" else rng.integers(0, C_SLOW, size=ROWS_SLOW)


def slow_chunk(i: int, log: str, kind: str) -> np.ndarray:
    """:func:`chunk_data`, slowly, logging each computation (runs on a worker)."""
    with open(log, "a") as f:
        f.write(f"{kind}{i}\n")
    time.sleep(0.15)
    return chunk_data(i, kind)


def slow_data(log: str):
    def lazy(i, kind, shape, dtype):
        return da.from_delayed(dask.delayed(slow_chunk, pure=True)(i, log, kind), shape, dtype)

    Xd = da.concatenate([lazy(i, "X", (ROWS_SLOW, D_SLOW), np.float64) for i in range(N_SLOW)])
    yd = da.concatenate([lazy(i, "y", (ROWS_SLOW,), np.int64) for i in range(N_SLOW)])
    X = np.concatenate([chunk_data(i, "X") for i in range(N_SLOW)])
    y = np.concatenate([chunk_data(i, "y") for i in range(N_SLOW)])
    return Xd, yd, X, y


def count_lines(path: str) -> int:
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return len(f.readlines())


def test_worker_killed_mid_computation_is_recomputed(client, tmp_path):
    log = str(tmp_path / "computed.log")
    Xd, yd, X, y = slow_data(log)
    rng = np.random.default_rng(23)
    W, b = rng.normal(size=(D_SLOW, C_SLOW)), rng.normal(size=C_SLOW)
    before = client.run(os.getpid)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(sr.distributed.loss_and_grad, W, b, Xd, yd, 0.1)
        # Wait until a quarter of the chunk loads have started, then kill a worker.
        deadline = time.monotonic() + 120
        while count_lines(log) < N_SLOW // 2:
            assert time.monotonic() < deadline, "the computation never started"
            time.sleep(0.02)
        assert not future.done()
        victim = next(iter(before.values()))
        os.kill(victim, signal.SIGKILL)
        out = future.result(timeout=300)
    computed = count_lines(log)
    # Every chunk is read twice (X and y): more reads than that means lost ones were redone.
    assert computed > 2 * N_SLOW
    assert_within_merge_bound(out, W, b, X, y, 0.1)
    client.wait_for_workers(2, timeout=120)
    assert victim not in worker_pids(client)


# --- larger than the workers' memory, from .npy shards -----------------------------------

SHARD_BYTES = 4 * 2**20
D_BIG, C_BIG = 20, 4


def load(path: str) -> np.ndarray:
    """One shard, memory-mapped: read where the task runs (runs on a worker)."""
    return np.load(path, mmap_mode="r")


def test_data_larger_than_the_workers_memory_from_npy_shards(client, tmp_path):
    total_bytes = 4 * MEMORY_LIMIT  # four workers' worth, on two workers
    rows = -(-SHARD_BYTES // (8 * D_BIG))
    n_shards = total_bytes // SHARD_BYTES
    rng = np.random.default_rng(24)
    W, b = rng.normal(size=(D_BIG, C_BIG)), rng.normal(size=C_BIG)
    Xs, ys, X_parts, y_parts = [], [], [], []
    for k in range(n_shards):
        X_k = rng.random((rows, D_BIG)) - 0.5
        y_k = rng.integers(0, C_BIG, size=rows)
        np.save(tmp_path / f"X_{k}.npy", X_k)
        np.save(tmp_path / f"y_{k}.npy", y_k)
        X_parts.append(X_k)
        y_parts.append(y_k)
        Xs.append(
            da.from_delayed(
                dask.delayed(load)(str(tmp_path / f"X_{k}.npy")), (rows, D_BIG), np.float64
            )
        )
        ys.append(
            da.from_delayed(dask.delayed(load)(str(tmp_path / f"y_{k}.npy")), (rows,), np.int64)
        )
    Xd, yd = da.concatenate(Xs), da.concatenate(ys)
    assert Xd.nbytes >= total_bytes
    pids = worker_pids(client)
    out = sr.distributed.loss_and_grad(W, b, Xd, yd, 0.01)
    # No worker was killed for its memory (a restarted worker has a new process).
    assert worker_pids(client) == pids
    X, y = np.concatenate(X_parts), np.concatenate(y_parts)
    del X_parts, y_parts
    assert_within_merge_bound(out, W, b, X, y, 0.01)
