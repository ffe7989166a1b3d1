"""The blocked, threaded kernel behind ``loss_and_grad`` and its streaming form (private).

It is an optimisation of the dense form ``loss_and_grad_dense`` (softmax_ref/loss.py):
the same formulas, computed in one pass over X in blocks of rows.

Rows of X are processed in blocks. Each block's scores live in one reusable
buffer laid out class-major, ``S = (X_b W + b)^T`` of shape ``(C, B)``: the
reductions over classes (row max, sum of exponentials) then run over
contiguous vectors of length B, which NumPy does about ten times faster than
reducing a short last axis, and the backward GEMM is ``(P - Y)^T X_b`` (C, D),
the orientation OpenBLAS is fastest at for these skinny shapes. Extra memory
is one score buffer and one (C, D) accumulator per lane, whatever N is. Where
X is narrow, a block's GEMMs are cut into sub-GEMMs small enough for BLAS to
run on the lane's own thread (``sub_gemm_rows``), each one batched call; the
backward's products of one block, about C arrays of (C, D) at the default
sizes, are summed before the next block, so the memory still does not grow
with N.

Determinism: blocks are numbered 0, 1, 2, ... in row order and dealt
round-robin to a fixed number of *lanes*; a lane adds its blocks in order, and
the lanes are added in order 0, 1, ... at the end. A result is therefore
bitwise identical from run to run for a given block size, lane count and BLAS
thread count, whichever thread runs first, and whether or not other Python
threads call the kernel at the same time: a call changes no process-wide
setting. Each lane runs on its own thread when there are several; NumPy's
ufuncs and BLAS release the GIL, so the element-wise work (which NumPy runs on
one core) is spread over the cores.

BLAS's own thread count is left as the caller set it. It is process-wide
(OpenBLAS has no per-thread setting that holds in its pthreads build), so
lowering it for the duration of a call would slow, and change the last bits
of, whatever the caller's other threads compute meanwhile. Lanes are used
where the element-wise work dominates (narrow X, D < ``LANES_MAX_FEATURES``);
for wide X the GEMMs dominate and one lane leaves the parallel work to BLAS's
threads, whose barriers then come once per large block.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

__all__ = [
    "BLOCK_ENV",
    "SUB_GEMM_ENV",
    "THREADS_ENV",
    "BlockedSums",
    "aligned",
    "class_major_scores",
    "default_block_rows",
    "default_threads",
    "gemm_sum",
    "int_env",
    "one_block",
    "one_block_sums",
    "sub_gemm_rows",
]

#: Environment variables overriding the defaults, read at each call so that a
#: benchmark or a user can change them without touching code.
THREADS_ENV = "SOFTMAX_REF_NUM_THREADS"
BLOCK_ENV = "SOFTMAX_REF_BLOCK_BYTES"
SUB_GEMM_ENV = "SOFTMAX_REF_SUB_GEMM_ROWS"

#: Below this much work, N C (D + 16) (the GEMMs' multiply-adds plus ~16 for the
#: element-wise steps per score), one lane on the calling thread is fastest:
#: handing work to a thread costs tens of microseconds, ~1e5 multiply-adds.
MIN_WORK_FOR_THREADS = 1 << 20

#: Most multiply-adds (m n k) of one sub-GEMM. NumPy's BLAS (OpenBLAS) runs a GEMM
#: this small on the calling thread, and on AVX-512 machines its small-matrix
#: kernels read the operands in place instead of packing them. Two lanes then
#: compute two blocks' GEMMs at once, where one GEMM per block would start BLAS's
#: own threads inside each lane and the lanes' GEMMs would queue behind each
#: other: tall (10^6 x 32 x 10, float64) takes 0.17 of the post's time in
#: sub-GEMMs of 819 rows and 0.47 in one GEMM per block of 8192 rows
#: (``scripts/tune_block.py --sub-gemm``).
SUB_GEMM_WORK = 1 << 18

#: Fewer rows than this per sub-GEMM and the calls' overhead outweighs the gain:
#: a block's GEMMs are then one call each.
MIN_SUB_GEMM_ROWS = 64

#: From this width of X on, the GEMMs (4 D multiply-adds per score) outweigh the
#: element-wise steps (~16 per score, exp above all), and BLAS's own threads do
#: the parallel work better than lanes whose GEMMs would compete with them.
LANES_MAX_FEATURES = 256


def int_env(name: str, minimum: int) -> int | None:
    """The integer in ``$name`` (None if unset or empty); anything below ``minimum`` is an error."""
    value = os.environ.get(name)
    if not value:
        return None
    try:
        n = int(value)
    except ValueError:
        n = minimum - 1
    if n < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return n


def _positive_int_env(name: str) -> int | None:
    return int_env(name, 1)


@functools.cache
def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_threads(n_features: int | None = None) -> int:
    """Lanes (threads) for a call: ``$SOFTMAX_REF_NUM_THREADS``, else min(2, usable cores).

    Two threads is what the element-wise work needs to use a 2-core machine,
    and more than two lanes rarely pays: BLAS work is the same total either
    way, and every lane adds a (C, D) accumulator. Without the variable, X of
    ``n_features >= LANES_MAX_FEATURES`` columns gets one lane: its GEMMs
    dominate, and BLAS threads them.
    """
    n = _positive_int_env(THREADS_ENV)
    if n is not None:
        return n
    if n_features is not None and n_features >= LANES_MAX_FEATURES:
        return 1
    return max(1, min(2, _usable_cores()))


def default_block_rows(n_features: int, itemsize: int) -> int:
    """Rows per block for X of this width (the tuning rule; see scripts/tune_block.py).

    ``$SOFTMAX_REF_BLOCK_BYTES`` bytes of X if set, else 2 MiB for narrow X
    (D < ``LANES_MAX_FEATURES``, two lanes) and 32 MiB for wide X (one lane,
    BLAS's threads); never fewer than 64 rows. Narrow X, measured with two
    lanes on the project's 2-core machine (time relative to the post's code,
    side by side, float64): tall (D = 32) 0.39, 0.24, 0.21, 0.20, 0.19, 0.22
    at 256 KiB, 512 KiB, 1, 2, 4, 8 MiB (float32 flat from 1 MiB on): small
    blocks pay NumPy's per-call overhead ~20 times per block, and 2 MiB of X
    keeps the block's scores (C = 10) in L2. Wide X: every block costs two
    threaded GEMMs, each with a barrier of BLAS's threads, so blocks are long;
    at cs231n shapes (D = 3073) 8 and 32 MiB measured alike on a loaded
    machine, and 32 MiB holds cs231n-dev (500 rows, 12 MiB) in one block. The
    scores of a block are C / D of its bytes of X.
    """
    block_bytes = _positive_int_env(BLOCK_ENV)
    if block_bytes is None:
        block_bytes = (2 if n_features < LANES_MAX_FEATURES else 32) * 1024 * 1024
    return max(64, block_bytes // (n_features * itemsize))


def sub_gemm_rows(n_features: int, n_classes: int) -> int:
    """Rows per sub-GEMM for W of shape (D, C), or 0 for one GEMM per block.

    ``$SOFTMAX_REF_SUB_GEMM_ROWS`` if set (0: none), else the most rows whose
    GEMM (rows x D times D x C) stays within ``SUB_GEMM_WORK`` multiply-adds,
    if that is at least ``MIN_SUB_GEMM_ROWS``: 819 rows at D = 32, C = 10
    (tall); none at D = 3073 (cs231n), whose GEMMs BLAS threads. A block is
    cut only if it holds at least two sub-GEMMs' rows.
    """
    rows = int_env(SUB_GEMM_ENV, 0)
    if rows is not None:
        return rows
    rows = SUB_GEMM_WORK // max(1, n_features * n_classes)
    return rows if rows >= MIN_SUB_GEMM_ROWS else 0


_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _forget_threads_after_fork() -> None:
    # A forked child has none of the parent's threads: an inherited pool would
    # queue work that no thread runs (a hang), and an inherited lock may be held.
    _pools.clear()
    global _pools_lock
    _pools_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_threads_after_fork)


def _pool(n_threads: int) -> ThreadPoolExecutor:
    # One long-lived pool per thread count: starting threads costs more than a small call.
    with _pools_lock:
        pool = _pools.get(n_threads)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="softmax_ref")
            _pools[n_threads] = pool
        return pool


@functools.lru_cache(maxsize=16)
def _arange(stop: int, step: int) -> np.ndarray:
    # Read-only index vectors shared by every call with the same block length.
    a = np.arange(0, stop, step)
    a.flags.writeable = False
    return a


def aligned(Xb: np.ndarray) -> np.ndarray:
    """``Xb`` itself, or an aligned copy if its data is not aligned to its itemsize.

    NumPy's ufuncs and BLAS run slowly on misaligned data, and X received
    through a pickle-5 buffer (a dask worker's chunk) can start at any byte: a
    2-process dask cluster took 1.49 s instead of 2.20 s per call at 10^7 x 32
    x 10 with this copy (docs/distributed.md). The copy of a block costs one
    pass over it, and only misaligned blocks pay it.
    """
    return Xb if Xb.flags.aligned else Xb.copy()


def class_major_scores(
    W: np.ndarray, b: np.ndarray, Xb: np.ndarray, S: np.ndarray, rows: int
) -> None:
    """S = (X_b W + b)^T (C, B), class-major, as W^T X_b^T; ``rows`` as in ``sub_gemm_rows``.

    With sub-GEMMs (``rows`` > 0), one batched call computes S's column
    blocks W^T X_k^T, k = 0, 1, ..., and one more call the tail.
    """
    nb, n_features = Xb.shape
    n_classes = W.shape[1]
    WT = W.T
    if rows and nb >= 2 * rows:
        k = nb // rows
        head = k * rows
        np.matmul(
            WT,
            Xb[:head].reshape(k, rows, n_features).transpose(0, 2, 1),
            out=S[:, :head].reshape(n_classes, k, rows).transpose(1, 0, 2),
        )
        if head < nb:
            np.matmul(WT, Xb[head:].T, out=S[:, head:])
    else:
        np.matmul(WT, Xb.T, out=S)
    S += b[:, None]


def gemm_sum(S: np.ndarray, Xb: np.ndarray, rows: int, out: np.ndarray, accumulate: bool) -> None:
    """``(P - Y)^T X_b`` (C, D) from ``S`` = (P - Y)^T (C, B): into ``out``, or added to it.

    ``rows`` > 0 sums sub-GEMMs of that many rows (one batched call, then a
    sum over the sub-blocks in row order), as in :func:`class_major_scores`.
    """
    nb, n_features = Xb.shape
    n_classes = S.shape[0]
    if rows and nb >= 2 * rows:
        k = nb // rows
        head = k * rows
        parts = np.matmul(
            S[:, :head].reshape(n_classes, k, rows).transpose(1, 0, 2),
            Xb[:head].reshape(k, rows, n_features),
        )
        part = np.add.reduce(parts, axis=0)
        if head < nb:
            part += S[:, head:] @ Xb[head:]
    elif accumulate:
        part = S @ Xb
    else:
        np.matmul(S, Xb, out=out)
        return
    if accumulate:
        out += part
    else:
        out[...] = part


def _block(
    W: np.ndarray,
    b: np.ndarray,
    Xb: np.ndarray,
    yb: np.ndarray,
    S: np.ndarray,
    m: np.ndarray,
    s: np.ndarray,
    grad: bool,
    rows: int,
) -> float:
    """The arithmetic of one block, the only place it is written (both routes use it).

    ``Xb`` (B, D), ``yb`` (B,), ``W`` (D, C); scratch ``S`` (C, B) and ``m``,
    ``s`` (B,) in W's dtype; ``rows`` as in ``sub_gemm_rows``.
    Returns ``sum_n [logsumexp(F_n) - F_{n,y_n}]`` over the block (float64)
    and, when ``grad``, leaves ``(P - Y)^T`` in ``S``. The caller sets
    np.errstate (overflow is reported through the result).

    Every sample's scores are shifted by their maximum m_n, so the winning term
    of s_n = sum_j exp(F_nj - m_n) is exactly 1. With u_n = sum_{j != y_n}
    exp(F_nj - m_n), the sum of the terms off the label:

        loss_n = log1p(u_n + (e_n - 1)) - (F_{n,y_n} - m_n),  e_n = exp(F_{n,y_n} - m_n)
        (P - Y)_{n,y_n} = -u_n / (u_n + e_n)

    Where the label wins (e_n = 1, the confident and correct case), u_n is the sum
    over the other classes exactly as it is formed, so a tiny u_n keeps all its
    digits: log(1 + u_n) would round 1 + u_n first, and 1 / (1 + u_n) - 1 would
    cancel. Where the label does not win, the loss is at least log 2, so the
    absolute rounding of u_n + (e_n - 1) costs no relative accuracy, and
    -u_n / (u_n + e_n) has no cancellation in either case. No argmax is needed.
    """
    nb = S.shape[1]
    # S = (X_b W + b)^T, class-major: row c holds class c's score for every sample.
    class_major_scores(W, b, Xb, S, rows)
    # Shift each sample's scores by their max m_n: softmax is unchanged, exp
    # cannot overflow, and the winning term is exactly exp(0) = 1.
    np.maximum.reduce(S, axis=0, out=m)
    S -= m
    # F_{n,y_n} - m_n, read before S is overwritten: entry (y_n, n) of S.
    at_label = yb * nb + _arange(nb, 1)
    S_flat = S.reshape(-1)
    shifted_y = S_flat[at_label]
    np.exp(S, out=S)
    # e_n, then u_n: the label's term is left out of the sum, not subtracted from it.
    e_y = S_flat[at_label]
    S_flat[at_label] = 0
    np.add.reduce(S, axis=0, out=s)
    # log1p(u + (e - 1)) = log sum_j exp(F_nj - m_n); e - 1 is exact, and 0 where y_n wins.
    e_y -= 1
    e_y += s
    loss = float(np.add.reduce(np.log1p(e_y), dtype=np.float64)) - float(
        np.add.reduce(shifted_y, dtype=np.float64)
    )
    if grad:
        # P - Y: P = exp(F - m) / sum_j exp(F_j - m) off the label; at the label
        # P - 1 = -u / (u + e), the derivation's case i = y_n without its cancellation.
        e_y += 1
        np.reciprocal(e_y, out=m)
        S *= m
        np.multiply(s, m, out=s)
        S_flat[at_label] = -s
    return loss


def one_block(n_rows: int, n_features: int, n_classes: int, itemsize: int) -> bool:
    """Whether a call is small enough for :func:`one_block_sums`: one block, one lane.

    The default choice of :class:`BlockedSums` for X of this shape would be a
    single block on a single lane (too little work to hand to a thread, or X wide
    enough that BLAS threads the GEMMs): then the blocked machinery (lanes, their
    accumulators, the iteration over blocks) is skipped, not merely not used.
    """
    # Both settings are read (and a bad value reported) whichever way it goes.
    threads = default_threads(n_features)
    if n_rows > default_block_rows(n_features, itemsize):
        return False
    return threads == 1 or n_rows * n_classes * (n_features + 16) < MIN_WORK_FOR_THREADS


def one_block_sums(
    W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray, grad: bool = True
) -> tuple[float, np.ndarray, np.ndarray]:
    """All of X as one block on the calling thread: what BlockedSums gives for one block.

    Returns the loss sum (float64), ``(P - Y)^T X`` (C, D) in W's dtype and
    ``sum_n (P - Y)_n`` (C,) in float64, bitwise as :class:`BlockedSums` gives
    them when X is one block of one lane (the same :func:`_block`, the same
    GEMMs). Without ``grad`` the two arrays are empty.
    """
    (n_rows, n_features), n_classes = X.shape, W.shape[1]
    rows = sub_gemm_rows(n_features, n_classes)
    X = aligned(X)
    S = np.empty((n_classes, n_rows), dtype=W.dtype)
    m = np.empty(n_rows, dtype=W.dtype)
    s = np.empty(n_rows, dtype=W.dtype)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        loss = _block(W, b, X, y, S, m, s, grad, rows)
        if not grad:
            return loss, S[:, :0], s[:0].astype(np.float64)
        db = np.add.reduce(S, axis=1).astype(np.float64, copy=False)
        GX = np.empty((n_classes, n_features), dtype=W.dtype)
        gemm_sum(S, X, rows, GX, accumulate=False)
        return loss, GX, db


class _Lane:
    """One lane's running sums and scratch buffers.

    ``loss`` sums ``logsumexp(F_n) - F_{n, y_n}`` over the lane's samples in
    float64; ``GX`` (C, D) sums ``(P - Y)^T X_b`` and ``db`` (C,) the columns
    of ``(P - Y)^T``, neither yet divided by N.
    """

    def __init__(self, n_features: int, n_classes: int, block_rows: int, dtype: np.dtype) -> None:
        self.loss = 0.0
        self.GX = np.zeros((n_classes, n_features), dtype=dtype)
        self.db = np.zeros(n_classes, dtype=np.float64)
        self.n_blocks = 0
        self.rows = sub_gemm_rows(n_features, n_classes)
        self._scores = np.empty(n_classes * block_rows, dtype=dtype)
        self._m = np.empty(block_rows, dtype=dtype)
        self._s = np.empty(block_rows, dtype=dtype)

    def add(self, W: np.ndarray, b: np.ndarray, Xb: np.ndarray, yb: np.ndarray, grad: bool) -> None:
        """Add one block: rows ``Xb`` (B, D), labels ``yb`` (B,); ``W`` is (D, C)."""
        n_classes, nb = W.shape[1], Xb.shape[0]
        Xb = aligned(Xb)
        S = self._scores[: n_classes * nb].reshape(n_classes, nb)
        self.loss += _block(W, b, Xb, yb, S, self._m[:nb], self._s[:nb], grad, self.rows)
        self.n_blocks += 1
        if not grad:
            return
        # db += sum_n (P - Y)_n ; dW^T += (P - Y)^T X_b, the (C, D) orientation.
        self.db += np.add.reduce(S, axis=1)
        gemm_sum(S, Xb, self.rows, self.GX, accumulate=self.n_blocks > 1)

    def run(
        self,
        W: np.ndarray,
        b: np.ndarray,
        blocks: Iterator[tuple[np.ndarray, np.ndarray]],
        grad: bool,
    ) -> None:
        # Overflow to inf and inf - inf are reported through the result's finiteness;
        # np.errstate is per thread, so each lane sets it.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for Xb, yb in blocks:
                self.add(W, b, Xb, yb, grad)


class BlockedSums:
    """Sums of the loss and gradient over blocks of rows, fed one chunk of rows at a time.

    A chunk (X_c, y_c) is cut into blocks of ``block_rows`` rows; block k (counted
    over all chunks so far) goes to lane ``k % n_lanes``. The lanes run in
    parallel on a chunk and are joined before the next chunk, so chunks may come
    from an iterator that can only be read on one thread. One :meth:`add` of all
    of X is the in-memory ``loss_and_grad`` (whose small calls take
    :func:`one_block_sums` instead, with the same bits); chunks whose lengths are
    multiples of ``block_rows``, with the same lane count, give bitwise the same
    numbers.

    ``n_rows``, when known (the in-memory call), sizes the buffers, picks one
    lane for problems too small to be worth a thread, and evens out the blocks
    when there are fewer than four per lane, so that no lane idles while another
    works through a long block: 500 rows in blocks of 341 become two of 250.
    """

    def __init__(
        self,
        W: np.ndarray,
        b: np.ndarray,
        *,
        grad: bool = True,
        n_rows: int | None = None,
        block_rows: int | None = None,
        n_threads: int | None = None,
    ) -> None:
        n_features, n_classes = W.shape
        if block_rows is None:
            block_rows = default_block_rows(n_features, W.dtype.itemsize)
        if n_threads is None:
            n_threads = default_threads(n_features)
        if block_rows < 1 or n_threads < 1:
            raise ValueError(
                f"block_rows and n_threads must be >= 1; got {block_rows} and {n_threads}"
            )
        n_lanes = n_threads
        if n_rows is not None:
            if n_rows * n_classes * (n_features + 16) < MIN_WORK_FOR_THREADS:
                n_lanes = 1
            n_lanes = max(1, min(n_lanes, n_rows))
            n_blocks = -(-n_rows // block_rows)
            if n_lanes > 1 and n_blocks < 4 * n_lanes:
                n_blocks = -(-n_blocks // n_lanes) * n_lanes
                block_rows = -(-n_rows // n_blocks)
            block_rows = min(block_rows, n_rows)
        self.grad = grad
        self.dtype = W.dtype
        self.block_rows = block_rows
        self.n_lanes = n_lanes
        self.n_samples = 0
        self._W = W
        self._b = b
        self._lanes = [_Lane(n_features, n_classes, block_rows, W.dtype) for _ in range(n_lanes)]
        self._next_block = 0
        self._reduced = False

    def add(self, X: np.ndarray, y: np.ndarray) -> None:
        """Add the rows of ``X`` (n, D) with labels ``y`` (n,), validated, in W's dtype."""
        n = X.shape[0]
        if n == 0:
            return
        if self._reduced:
            raise RuntimeError("grad_sums() was called: no more rows can be added")
        B, L = self.block_rows, self.n_lanes
        n_blocks = -(-n // B)
        first = self._next_block
        if n_blocks == 1 and L == 1:
            # One block on this thread (small problems): no generator, no pool.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                self._lanes[0].add(self._W, self._b, X, y, self.grad)
            self._next_block += 1
            self.n_samples += n
            return

        def lane_blocks(k: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
            # The blocks of this chunk that fall to lane k, in row order.
            for j in range((k - first) % L, n_blocks, L):
                yield X[j * B : (j + 1) * B], y[j * B : (j + 1) * B]

        if L == 1:
            self._lanes[0].run(self._W, self._b, lane_blocks(0), self.grad)
        else:
            pool = _pool(L)
            futures = [
                pool.submit(lane.run, self._W, self._b, lane_blocks(k), self.grad)
                for k, lane in enumerate(self._lanes)
            ]
            # Let every lane finish before any error surfaces, so that none is
            # still writing to its sums when the caller sees the error.
            wait(futures)
            for f in futures:
                f.result()
        self._next_block += n_blocks
        self.n_samples += n

    def loss_sum(self) -> float:
        """Sum over the samples so far of ``logsumexp(F_n) - F_{n, y_n}`` (float64)."""
        total = 0.0
        for lane in self._lanes:  # in lane order: reproducible
            total += lane.loss
        return total

    def grad_sums(self) -> tuple[np.ndarray, np.ndarray]:
        """``(P - Y)^T X`` (C, D) in W's dtype and ``sum_n (P - Y)_n`` (C,) in float64.

        Sums over all the samples, not yet divided by N: call after the last
        :meth:`add`. The other lanes are added into lane 0's arrays, in lane order
        (once: no copy of a (C, D) array).
        """
        GX, db = self._lanes[0].GX, self._lanes[0].db
        if not self._reduced:
            for lane in self._lanes[1:]:
                GX += lane.GX
                db += lane.db
            self._reduced = True
        return GX, db
