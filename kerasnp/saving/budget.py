"""Metering of weight allocation while a model is rebuilt from an untrusted config.

Inside `weight_budget(limit, what)`, every layer made from a config (`watch`) has its
`add_weight` wrapped so that creating a weight larger than what is left of `limit` (in bytes)
raises `ConfigError` before the array is allocated. A file that stores 400 bytes of weights cannot
make kerasnp allocate gigabytes by declaring `Dense(10**9)` (or a weight dtype of 1 GB items).
"""
import contextlib
import threading

import numpy as np

from .. import config
from .._serializable import ConfigError

_local = threading.local()


@contextlib.contextmanager
def weight_budget(limit, what):
    """Within `with`, layers built from configs may create at most `limit` bytes of weights;
    `what` completes the error message ("... exceeds what <what> (N bytes in all)")."""
    previous = getattr(_local, "budget", None)
    budget = _Budget(limit, what)
    _local.budget = budget
    try:
        yield budget
    finally:
        _local.budget = previous
        budget.release()


class _Budget:
    def __init__(self, limit, what):
        self.limit, self.left, self.what, self.watched = limit, limit, what, []

    def take(self, layer, name, shape, dtype):
        try:
            nbytes = np.dtype(dtype or layer.dtype or config.floatx()).itemsize
            for d in shape:
                nbytes *= int(d)
        except (TypeError, ValueError):
            return                                    # add_weight itself reports a bad shape
        if nbytes > self.left:
            raise ConfigError(
                f"layer '{layer.name}' ({type(layer).__name__}) weight '{name}' of shape "
                f"{tuple(shape)} ({nbytes} bytes) exceeds what {self.what} "
                f"({self.limit} bytes in all, {self.left} left); refusing to allocate it.")
        self.left -= nbytes

    def release(self):
        for layer in self.watched:
            layer.__dict__.pop("add_weight", None)
        self.watched = []


def watch(layer):
    """Meter `add_weight` of `layer` and its unbuilt sublayers (no-op outside a budget)."""
    budget = getattr(_local, "budget", None)
    if budget is None:
        return
    stack = [layer]
    while stack:
        item = stack.pop()
        if "add_weight" in item.__dict__:
            continue
        if not item.built:
            original = item.add_weight

            def add_weight(*args, _layer=item, _orig=original, **kwargs):
                name, shape, dtype = _request(args, kwargs)
                budget.take(_layer, name, shape, dtype)
                return _orig(*args, **kwargs)
            object.__setattr__(item, "add_weight", add_weight)
            budget.watched.append(item)
        stack.extend(item.__dict__.get("_sublayers", ()))


_KERAS_ORDER = ("shape", "initializer", "dtype", "trainable", "regularizer", "constraint", "name")
_FIRST_ORDER = ("name", "shape", "initializer", "trainable", "regularizer", "constraint", "dtype")


def _request(args, kwargs):
    """(name, shape, dtype) of an `add_weight` call, in either argument order it accepts."""
    order = _FIRST_ORDER if args and isinstance(args[0], str) else _KERAS_ORDER
    given = dict(zip(order, args), **kwargs)
    shape = given.get("shape")
    shape = () if shape is None else (tuple(shape) if isinstance(shape, (list, tuple))
                                      else (shape,))
    return given.get("name") or "variable", shape, given.get("dtype")
