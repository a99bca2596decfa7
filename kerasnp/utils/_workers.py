"""Worker processes that prefetch PyDataset batches, and that never outlive or hang training.

`ProcessPool(workers, dataset)` is a `ProcessPoolExecutor` of forked workers, each holding the
dataset it inherited, so only an index goes to a worker (`submit(getitem, i)`). Three
guarantees on top of the executor's:

- a worker whose parent dies (SIGKILL, OOM killer) exits within `_POLL` seconds: a daemon
  thread in it watches `os.getppid()`. Without it, idle workers wait forever on the task queue,
  whose write end they inherited themselves, so it never reports the parent's death;
- workers ignore SIGINT: Ctrl-C in a terminal reaches the whole process group, and is the
  training loop's to handle; it then shuts the pool down;
- `shutdown` never blocks for long: pending batches are cancelled, workers get `_GRACE`
  seconds to finish the batch in hand, then are terminated (then killed). The pools still
  open at interpreter exit are stopped the same way, before `concurrent.futures` joins them.
"""
import concurrent.futures as cf
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
import weakref

_POLL = 0.2           # seconds between a worker's checks that its parent is alive
_GRACE = 2.0          # seconds a worker gets to finish its batch when the pool shuts down
_OPEN = weakref.WeakSet()
_dataset = None       # in a worker: the dataset it serves


class ProcessPool(cf.ProcessPoolExecutor):
    """`workers` forked processes serving `dataset[i]` through `submit(getitem, i)`."""

    def __init__(self, workers, dataset):
        super().__init__(workers, mp_context=multiprocessing.get_context("fork"),
                         initializer=_start_worker, initargs=(os.getpid(), dataset))
        self._owner = os.getpid()
        _OPEN.add(self)

    def shutdown(self, wait=True, *, cancel_futures=False):
        """Stop the pool; with `wait`, return once every worker has exited (at most about
        `_GRACE` seconds, however long a batch in hand would take)."""
        manager = self._executor_manager_thread
        processes = list((self._processes or {}).values())
        super().shutdown(wait=False, cancel_futures=cancel_futures)
        _OPEN.discard(self)
        if wait and manager is not None:
            _stop(manager, processes, _GRACE)


def getitem(index):
    """Runs in a worker: batch `index` of the dataset the worker was forked with."""
    return _dataset[index]


def _start_worker(parent, dataset):
    global _dataset
    _dataset = dataset
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True,
                     name="kerasnp-parent-watch").start()


def _exit_with_parent(parent):
    while os.getppid() == parent:
        time.sleep(_POLL)
    os._exit(1)           # orphaned: nobody will ever ask for the batches in hand


def _stop(manager, processes, grace):
    """Give the executor's manager thread `grace` seconds to end the workers and join them;
    then terminate, then kill, the workers still running, so that it can finish. An interrupt
    (a second Ctrl-C) during the wait still stops them.

    Only the manager thread joins (reaps) the workers: two threads waiting on one process race,
    and a reaped pid may be reused. A worker that has not exited yet cannot have been reaped.
    """
    try:
        manager.join(grace)
    finally:
        for signum in (signal.SIGTERM, signal.SIGKILL):
            if not manager.is_alive():
                break
            for p in processes:
                if not _exited(p):
                    os.kill(p.pid, signum)
            manager.join(1.0)


def _exited(process):
    try:
        return bool(multiprocessing.connection.wait([process.sentinel], 0))
    except (ValueError, OSError):           # closed by the executor: it has been joined
        return True


def _stop_open_pools():
    for pool in list(_OPEN):
        # A forked worker inherits the set, and runs threading's exit hooks when it ends.
        if pool._owner == os.getpid():
            pool.shutdown(wait=True, cancel_futures=True)


# concurrent.futures joins its pools' workers at exit through threading's exit hooks, which run
# last-registered first: registered after it (it is imported above), this stops ours first, so
# that join cannot wait on a stuck worker.
_register = getattr(threading, "_register_atexit", None)
if _register is not None:
    _register(_stop_open_pools)
