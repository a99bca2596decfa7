"""Running a recurrent kernel over the batch in parallel.

The recurrences of different sequences are independent, so a batch splits into row blocks
that run the whole time loop without any synchronisation between steps: one block per thread,
the kernels release the GIL. Plain threads, not Numba's pool: they block (never spin) while
idle, so they do not fight the BLAS threads that the products around the kernels use (see
`kernels/_jit.py`). Blocks have at least `MIN_ROWS` rows; `KERASNP_RNN_THREADS` caps the
number of threads (default: the number of cores; 1 runs every kernel on the calling thread).
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
    """The thread budget: `KERASNP_RNN_THREADS` if set, else the number of cores."""
    env = os.environ.get("KERASNP_RNN_THREADS", "")
    n = int(env) if env.strip().isdigit() else (os.cpu_count() or 1)
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
