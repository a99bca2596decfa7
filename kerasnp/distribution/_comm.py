"""MPI collectives with timeouts, on NumPy buffers only (never pickled objects).

mpi4py's blocking collectives cannot be interrupted, so each one here is started non-blocking
and polled until it completes or its deadline passes; then `DistributionTimeoutError` is raised
(a rank that died or raised an exception leaves the others waiting: they stop with this error
instead of hanging). The poll sleeps a little between tests, so a waiting rank leaves its core
alone. Limits: MPI cannot cancel a started collective, so after a timeout the communicator is
unusable (let the process end; `mpiexec` then ends the job); a rank stuck in a long computation
of its own is indistinguishable from a dead one once the timeout passes.
"""
import time

import numpy as np


class DistributionTimeoutError(TimeoutError):
    """A collective operation waited longer than the distribution's `timeout`: another process
    failed, was killed or is stuck."""


class Comm:
    """`size`, `rank` and timed collectives over an mpi4py communicator."""

    def __init__(self, mpi_comm, timeout):
        self.comm, self.timeout = mpi_comm, timeout
        self.size, self.rank = mpi_comm.Get_size(), mpi_comm.Get_rank()
        from mpi4py import MPI
        self._mpi = MPI

    def _wait(self, req, what):
        if req.Test():
            return
        deadline = time.monotonic() + self.timeout
        pause = 1e-6
        while not req.Test():
            if time.monotonic() > deadline:
                raise DistributionTimeoutError(
                    f"Process {self.rank} of {self.size} waited more than {self.timeout:g} s in "
                    f"{what}: another process failed, was killed or is stuck. Its own error (if "
                    "any) is in its output; raise DataParallel(timeout=...) for slow steps.")
            time.sleep(pause)
            pause = min(pause * 2, 1e-3)

    def all_reduce(self, buf, op="sum"):
        """Sum (or max) `buf` over all processes, in place; returns it."""
        mop = self._mpi.SUM if op == "sum" else self._mpi.MAX
        self._wait(self.comm.Iallreduce(self._mpi.IN_PLACE, buf, op=mop), "an all-reduce")
        return buf

    def all_gather_rows(self, local, counts):
        """Concatenate each process's rows (`counts[r]` rows from process r), on every process."""
        local = np.ascontiguousarray(local)
        inner = int(np.prod(local.shape[1:], dtype=np.int64))
        out = np.empty((int(sum(counts)),) + local.shape[1:], local.dtype)
        sizes = [int(c) * inner for c in counts]
        displs = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist()
        self._wait(self.comm.Iallgatherv(local, [out, sizes, displs, self._mpi._typedict[
            local.dtype.char]]), "an all-gather")
        return out

    def barrier(self):
        self._wait(self.comm.Ibarrier(), "a barrier")
