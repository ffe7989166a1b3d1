"""The dask form against the in-memory core: the overhead of one iteration (loss and gradient).

One call of ``softmax_ref.distributed.loss_and_grad`` is one iteration of a
fit; its time minus that of ``softmax_ref.loss_and_grad`` on the same rows in
memory is the price of distribution: building the graph, scheduling a task per
chunk and per merge, shipping W out and the (C, D) sums back. Tall narrow X
(D = 32, C = 10, float64) at 10^5, 10^6 and 10^7 rows (10^7 is 2.4 GiB of X),
chunks of 2^17 rows (32 MiB), three ways:

* ``memory``: ``softmax_ref.loss_and_grad`` on a NumPy array;
* ``threads``: the dask form under dask's threaded scheduler, X already in memory;
* ``cluster``: a ``LocalCluster`` of 2 worker processes (one thread each), X
  persisted on the workers, as a fit holds it.

Every test is marked ``slow``: ``make test`` (the smoke run) and ``make bench``
leave them out; docs/distributed.md has the command that runs them and the
measured table.
"""

from __future__ import annotations

import numpy as np
import pytest

import softmax_ref as sr

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow

D, C = 32, 10
CHUNK_ROWS = 1 << 17
ROWS = [10**5, 10**6, 10**7]


@pytest.fixture(scope="module", params=ROWS, ids=[f"N={n:.0e}" for n in ROWS])
def data(request):
    n = request.param
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, D))
    y = rng.integers(0, C, size=n)
    W, b = 0.01 * rng.normal(size=(D, C)), np.zeros(C)
    return W, b, X, y


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster, set_as_default=False) as c:
        yield c


def rounds(benchmark, fn, W, b, X, y):
    """Time ``fn`` with a new W each round, as in a fit: a repeated W would let the
    cluster answer from the previous round's results (the tasks' keys hash W)."""
    rng = np.random.default_rng(1)

    def fresh():
        return (W + 1e-6 * rng.normal(size=W.shape), b, X, y, 1e-3), {}

    benchmark.pedantic(fn, setup=fresh, rounds=7, warmup_rounds=1)


def chunked(X, y):
    return da.from_array(X, chunks=(CHUNK_ROWS, D)), da.from_array(y, chunks=(CHUNK_ROWS,))


def test_memory(benchmark, data):
    W, b, X, y = data
    benchmark.group = f"distributed N={X.shape[0]:.0e}"
    rounds(benchmark, sr.loss_and_grad, W, b, X, y)


def test_threads(benchmark, data):
    W, b, X, y = data
    benchmark.group = f"distributed N={X.shape[0]:.0e}"
    Xd, yd = chunked(X, y)
    with dask.config.set(scheduler="threads"):
        rounds(benchmark, sr.distributed.loss_and_grad, W, b, Xd, yd)


# Persisting X sends its chunks out once, from the graph: dask warns of the graph's size.
@pytest.mark.filterwarnings("ignore:Sending large graph:UserWarning")
def test_cluster(benchmark, data, client):
    W, b, X, y = data
    benchmark.group = f"distributed N={X.shape[0]:.0e}"
    with client.as_current():
        Xd, yd = dask.persist(*chunked(X, y))
        distributed.wait([Xd, yd])
        rounds(benchmark, sr.distributed.loss_and_grad, W, b, Xd, yd)
        del Xd, yd
