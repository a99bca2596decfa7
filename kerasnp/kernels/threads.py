"""kerasnp's thread policy: how many threads, and who runs them.

One number, `num_threads()`, sets how many cores kerasnp computes on: `set_num_threads(n)`
(also `kerasnp.config.set_num_threads`), else the `KERASNP_NUM_THREADS` environment variable,
else the CPUs this process may run on (its affinity mask, further limited by a cgroup CPU quota
such as `docker --cpus=2`), not the machine's count.

Where kerasnp runs its own threads (the recurrent kernels over row blocks, `parallel_rows`),
those threads and BLAS must not both want the same cores: OpenBLAS's worker threads keep
spinning for a while after each product, so a kernel thread started next to them waits for a
core that looks busy but does nothing. On the 2-core reference machine an LSTM epoch took
0.42 s with two BLAS threads and one kernel thread, 0.34 s with BLAS on one thread and two
kernel threads, and on a loaded machine the spinning workers made epochs 4-8x slower. So a
region that runs kerasnp's threads first limits BLAS to one thread (`single_threaded_blas`) and
restores it afterwards: one pool of threads at a time, the size of the budget. Pool threads block
while idle, they never spin.

Changing the BLAS library's thread count at run time needs `threadpoolctl` (the small
pure-Python package scikit-learn uses for the same job): it finds the OpenBLAS, MKL or BLIS that
NumPy loaded and calls its own `set_num_threads`, where environment variables such as
`OPENBLAS_NUM_THREADS` only act before NumPy is imported.
"""
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

_state = {"threads": None, "blas": None, "modules": 0}
_lock = threading.Lock()
_pool = [None]


def _cgroup_quota():
    """The CPU quota of this process's cgroup (v2 `cpu.max`, v1 `cfs_quota_us`), or None."""
    for path, period_path in (("/sys/fs/cgroup/cpu.max", None),
                              ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
                               "/sys/fs/cgroup/cpu/cpu.cfs_period_us")):
        try:
            with open(path) as f:
                fields = f.read().split()
            if period_path is not None:
                with open(period_path) as f:
                    fields.append(f.read().strip())
        except (OSError, ValueError):
            continue
        if len(fields) >= 2 and fields[0] not in ("max", "-1"):
            try:
                quota, period = int(fields[0]), int(fields[1])
            except ValueError:
                return None
            if quota > 0 and period > 0:
                return max(1, -(-quota // period))
        return None
    return None


def available_cpus():
    """The CPUs this process may use: its affinity mask, capped by a cgroup CPU quota. Found
    once per process (reading the cgroup files costs 0.1 ms, and every op asks)."""
    if _state.get("cpus") is None or _state.get("cpus_pid") != os.getpid():
        _state["cpus"], _state["cpus_pid"] = _find_cpus(), os.getpid()
    return _state["cpus"]


def _find_cpus():
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(n, quota) if quota else n)


def _check(n, where):
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{where} must be a positive integer (a number of threads). "
                         f"Received: {n!r}")
    return n


def num_threads():
    """The thread budget: `set_num_threads`, else `KERASNP_NUM_THREADS`, else
    `available_cpus()`."""
    if _state["threads"] is not None:
        return _state["threads"]
    env = os.environ.get("KERASNP_NUM_THREADS", "").strip()
    if env:
        if not env.isdigit() or int(env) < 1:
            raise ValueError("The environment variable KERASNP_NUM_THREADS must be a positive "
                             f"integer. Received: KERASNP_NUM_THREADS={env!r}")
        return int(env)
    return available_cpus()


def set_num_threads(n):
    """Set the thread budget of every kerasnp computation (None: back to the default). Also
    limits NumPy's BLAS and Numba's pool to `n` threads, so that no library uses more."""
    _state["threads"] = None if n is None else _check(n, "set_num_threads(n): n")
    n = num_threads()
    blas = _blas()
    if blas is not None:
        blas.limit(limits=n)          # kept: the returned limiter is not used as a context
    try:
        import numba
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    except ImportError:
        pass


def _blas():
    """threadpoolctl's controller of the loaded BLAS libraries (None without threadpoolctl).

    Found again whenever Python has imported modules since (a new module may have loaded
    another BLAS, e.g. SciPy's, which then also gets limited); looking costs a few milliseconds,
    the check on `sys.modules` nothing."""
    if _state["blas"] is None or (_state["blas"] and _state["modules"] != len(sys.modules)):
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _state["blas"] = False
        else:
            _state["blas"] = ThreadpoolController().select(user_api="blas")
            _state["modules"] = len(sys.modules)
    return _state["blas"] or None


@contextmanager
def single_threaded_blas():
    """BLAS on one thread inside the block (kerasnp's own threads take the cores), restored
    after it. Free when the budget is one thread: nothing to share then."""
    blas = _blas() if num_threads() > 1 else None
    if blas is None:
        yield
        return
    libs = [lib for lib in blas.lib_controllers if lib.num_threads != 1]
    saved = [lib.num_threads for lib in libs]
    for lib in libs:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, n in zip(libs, saved):
            lib.set_num_threads(n)


def _forget_pool():
    """A forked child has none of the parent's threads: it starts its own pool."""
    global _lock
    _lock = threading.Lock()
    _pool[0] = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def executor(n):
    """kerasnp's thread pool, with at least `n` workers."""
    with _lock:
        pool = _pool[0]
        if pool is None or pool._max_workers < n:
            pool = _pool[0] = ThreadPoolExecutor(n, thread_name_prefix="kerasnp")
        return pool


def run_parallel(calls):
    """Run the zero-argument callables `calls`, the first on this thread and the others on the
    pool; returns their results in order once all are done (re-raising the first error)."""
    if len(calls) == 1:
        return [calls[0]()]
    futures = [executor(len(calls) - 1).submit(c) for c in calls[1:]]
    first = calls[0]()
    return [first] + [f.result() for f in futures]


__all__ = ["available_cpus", "executor", "num_threads", "run_parallel", "set_num_threads",
           "single_threaded_blas"]
