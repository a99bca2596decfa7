"""Running a recurrent kernel over the batch in parallel.

The recurrences of different sequences are independent, so a batch splits into row blocks
that run the whole time loop without any synchronisation between steps: one block per thread of
kerasnp's pool (`kernels/threads.py`), the kernels release the GIL. Blocks have at least
`MIN_ROWS` rows. The thread budget is kerasnp's (`kerasnp.config.set_num_threads`,
`KERASNP_NUM_THREADS`, else the CPUs the process may use); `KERASNP_RNN_THREADS` overrides it for
the recurrent kernels alone.

The recurrent ops run inside `in_parallel_region`: BLAS on one thread while kerasnp's threads
have the cores (see the thread policy in `kernels/threads.py`); the VJP's weight products are
shared out by columns (`_recurrent._weight_products`).
"""
import functools
import os

from ..kernels.threads import num_threads, run_parallel, single_threaded_blas

MIN_ROWS = 16


def max_threads():
    """The thread budget: `KERASNP_RNN_THREADS` if set, else kerasnp's `num_threads()`."""
    env = os.environ.get("KERASNP_RNN_THREADS", "").strip()
    if env:
        if not env.isdigit() or int(env) < 1:
            raise ValueError("The environment variable KERASNP_RNN_THREADS must be a positive "
                             f"integer. Received: KERASNP_RNN_THREADS={env!r}")
        return int(env)
    return num_threads()


def in_parallel_region(func):
    """`func` (a recurrent op or its VJP) computed with BLAS single-threaded whenever kerasnp's
    threads may run (a budget above one thread)."""
    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        if max_threads() == 1:
            return func(*args, **kwargs)
        with single_threaded_blas():
            return func(*args, **kwargs)
    return wrapped


def run_rows(kernel, n_rows, *args):
    """`kernel(b0, b1, *args)` for row blocks covering `0:n_rows`, the first on this thread
    and the others on pool threads; returns when all are done (re-raising any error)."""
    blocks = min(max_threads(), max(1, n_rows // MIN_ROWS))
    if blocks == 1:
        kernel(0, n_rows, *args)
        return
    bounds = [n_rows * k // blocks for k in range(blocks + 1)]
    run_parallel([(lambda k=k: kernel(bounds[k], bounds[k + 1], *args))
                  for k in range(blocks)])
