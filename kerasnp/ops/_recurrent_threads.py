"""Running a recurrent kernel over the batch in parallel.

The recurrences of different sequences are independent, so a batch splits into row blocks
that run the whole time loop without any synchronisation between steps: one block per thread,
the kernels release the GIL. Plain threads, not Numba's pool: they block (never spin) while
idle. Blocks have at least `MIN_ROWS` rows; `KERASNP_RNN_THREADS` sets the number of threads.

The default is ONE thread (the kernels run on the calling thread), from measurements on the
2-core reference machine (LSTM(64), batch 64, 50 steps, float32): alone, two threads halve a
kernel (forward 2.5 -> 1.3 ms per batch), but in training the BLAS products around the kernels
(input projection, the VJP's weight gradients) leave OpenBLAS's worker threads spinning for a
long while after each product, on the very cores a second kernel thread needs. A training epoch
took 0.33 s with one thread and 0.37-0.47 s with two (its CPU time is about twice its wall
time even with one thread: the spinning BLAS worker). Set `KERASNP_RNN_THREADS=N` where the
kernels dominate and cores are free (many cores, BLAS limited to a few threads, or
`OPENBLAS_THREAD_TIMEOUT` shortening the spin).
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

MIN_ROWS = 16

_lock = threading.Lock()
_pool = [None]


def _forget_pool():
    """A forked child has none of the parent's threads: it starts its own pool."""
    global _lock
    _lock = threading.Lock()
    _pool[0] = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def max_threads():
    """The thread budget: `KERASNP_RNN_THREADS` if set, else 1 (see the module's note)."""
    env = os.environ.get("KERASNP_RNN_THREADS", "")
    n = int(env) if env.strip().isdigit() else 1
    return max(1, n)


def _executor(n):
    with _lock:
        pool = _pool[0]
        if pool is None or pool._max_workers < n:
            pool = _pool[0] = ThreadPoolExecutor(n, thread_name_prefix="kerasnp-rnn")
        return pool


def run_rows(kernel, n_rows, *args):
    """`kernel(b0, b1, *args)` for row blocks covering `0:n_rows`, the first on this thread
    and the others on pool threads; returns when all are done (re-raising any error)."""
    blocks = min(max_threads(), max(1, n_rows // MIN_ROWS))
    if blocks == 1:
        kernel(0, n_rows, *args)
        return
    bounds = [n_rows * k // blocks for k in range(blocks + 1)]
    pool = _executor(blocks - 1)
    futures = [pool.submit(kernel, bounds[k], bounds[k + 1], *args) for k in range(1, blocks)]
    kernel(bounds[0], bounds[1], *args)
    for f in futures:
        f.result()
