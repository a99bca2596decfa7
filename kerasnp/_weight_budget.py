"""A byte budget for the weights a model rebuilt from an untrusted config may create.

Inside `weight_budget(limit, what)`, every `Layer.add_weight` of the current thread calls
`charge` with the weight's final shape and dtype before its array is allocated; a weight larger
than what is left of `limit` (in bytes) raises `ConfigError` instead. So a file that stores 400
bytes of weights cannot make kerasnp allocate gigabytes by declaring `Dense(10**9)` (or a weight
dtype of 1 GB items), whichever layer (or sublayer made in `build`) asks for it.

The budget is thread-local (another thread building layers at the same time is not charged) and
outside a budget `charge` returns at once. It sits below layers so that `Layer.add_weight` can
consult it without knowing anything about files; `kerasnp.saving` opens the budget.
"""
import contextlib
import threading

import numpy as np

from ._serializable import ConfigError

_local = threading.local()


@contextlib.contextmanager
def weight_budget(limit, what):
    """Within `with`, the layers built in this thread may create at most `limit` bytes of
    weights; `what` completes the error message ("... exceeds what <what> (N bytes in all)")."""
    previous = getattr(_local, "budget", None)
    _local.budget = _Budget(limit, what)
    try:
        yield _local.budget
    finally:
        _local.budget = previous


def charge(layer, name, shape, dtype):
    """Take the bytes of weight `name` (a tuple of ints `shape`, a NumPy `dtype`) of `layer` from
    the active budget, or raise `ConfigError` without allocating; no-op outside a budget."""
    budget = getattr(_local, "budget", None)
    if budget is not None:
        budget.take(layer, name, shape, dtype)


class _Budget:
    def __init__(self, limit, what):
        self.limit, self.left, self.what = limit, limit, what

    def take(self, layer, name, shape, dtype):
        nbytes = np.dtype(dtype).itemsize
        for d in shape:
            nbytes *= max(int(d), 0)       # Python ints: no overflow; a negative dim fails later
        if nbytes > self.left:
            raise ConfigError(
                f"layer '{layer.name}' ({type(layer).__name__}) weight '{name}' of shape "
                f"{tuple(shape)} ({nbytes} bytes) exceeds what {self.what} "
                f"({self.limit} bytes in all, {self.left} left); refusing to allocate it.")
        self.left -= nbytes
