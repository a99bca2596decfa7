"""Distributed training and inference (Keras 3's `keras.distribution`, over MPI processes).

`set_distribution(DataParallel())` makes `fit`, `evaluate` and `predict` data-parallel across
the processes of an `mpiexec` (or `srun`) launch: see `docs/src/distributed.md`. Without MPI,
or with one process, nothing changes. mpi4py is optional (`pip install kerasnp[mpi]`).
"""
import os

from . import _state
from ._comm import DistributionTimeoutError
from .batch_norm import batch_norm_train_global
from .data_parallel import DataParallel

__all__ = ["DataParallel", "DistributionTimeoutError", "batch_norm_train_global",
           "distribution", "initialize", "list_devices", "set_distribution"]

_COMM = []            # the one Comm of this process (made by initialize)

def initialize(job_addresses=None, num_processes=None, process_id=None, timeout=300.0):
    """Join the MPI job this process belongs to (once); returns its communicator or None.

    With mpi4py installed, the processes are those of `MPI.COMM_WORLD` (started by `mpiexec`
    or `srun`); without it, there is one process. Keras's arguments are checked against MPI's
    view (`num_processes`, `process_id`) or ignored (`job_addresses`: MPI knows its hosts).

    Example:
        >>> import kerasnp as keras
        >>> keras.distribution.initialize() is None or True
        True
    """
    if not _COMM:
        comm = MPI = None
        if _launched_by_mpi():      # else one process: MPI is not even initialised
            try:
                from mpi4py import MPI
            except ImportError:
                MPI = None
        if MPI is not None and MPI.COMM_WORLD.Get_size() > 1:
            from ._comm import Comm
            comm = Comm(MPI.COMM_WORLD, timeout)
        _COMM.append(comm)
    comm = _COMM[0]
    if comm is not None:
        comm.timeout = timeout
    size, rank = (1, 0) if comm is None else (comm.size, comm.rank)
    for name, given, actual in (("num_processes", num_processes, size),
                                ("process_id", process_id, rank)):
        if given is not None and given != actual:
            raise ValueError(f"initialize(): {name}={given} does not match the MPI launch "
                             f"({name} is {actual}). Received: {name}={given!r}")
    return comm

# What MPICH/Intel MPI (PMI_*), Open MPI (OMPI_*), PMIx and Slurm's srun set in each process
_LAUNCHER_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "SLURM_NTASKS",
                  "MPI_LOCALNRANKS")


def _launched_by_mpi():
    return any(os.environ.get(v) for v in _LAUNCHER_VARS)


def list_devices(device_type=None):
    """The replicas training runs on: one `"cpu:<rank>"` per MPI process.

    Example:
        >>> import kerasnp as keras
        >>> keras.distribution.list_devices()[0]
        'cpu:0'
    """
    if device_type not in (None, "cpu", "CPU"):
        raise ValueError("list_devices: kerasnp runs on CPUs only. Valid: None, 'cpu'. "
                         f"Received: device_type={device_type!r}")
    comm = initialize()
    return [f"cpu:{r}" for r in range(1 if comm is None else comm.size)]

def set_distribution(value):
    """Set the distribution `fit`, `evaluate` and `predict` use (None: a single process).

    Example:
        >>> import kerasnp as keras
        >>> keras.distribution.set_distribution(keras.distribution.DataParallel())
        >>> keras.distribution.set_distribution(None)
    """
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError("set_distribution expects a kerasnp.distribution.DataParallel or "
                        f"None. Received: {type(value).__name__}")
    _state.current = value
    _state.active = value if value is not None and value.num_processes > 1 else None

def distribution():
    """The distribution set by `set_distribution` (None when none is).

    Example:
        >>> import kerasnp as keras
        >>> keras.distribution.distribution() is None
        True
    """
    return _state.current
