"""Core ops: conversion, cast, stop_gradient and shape queries (Keras 3 names and signatures).

The numpy-like ops live in topic modules (`_arith`, `_elementwise`, `_linalg`, `_reduce`,
`_shape`, `_indexing`, `_create`, `_control`); they share one pattern: compute with NumPy on
`value(x)`, then `record(y, vjp, *inputs)`, where `vjp(dy)` returns one gradient per input,
summed back to the input's shape under broadcasting. Outside a tape `record` returns `y` as it
is, so the ops are plain NumPy calls.
"""
import numpy as np

from ._dispatch import OPS, SymbolicTensor, op, value
from ._helpers import record
from ..autodiff.tape import Tensor
from ..variables import Variable


@op
def convert_to_tensor(x, dtype=None, sparse=None):
    """`x` as an array. A Tensor stays a Tensor; a Variable gives its value, still on the tape
    when the variable is tracked (so `ops.convert_to_tensor(self.kernel)` keeps its gradient)."""
    if type(x) is Tensor or isinstance(x, Variable):
        if dtype is not None and np.dtype(dtype) != x.dtype:
            return cast.raw(x, dtype)
        return x if type(x) is Tensor else record(x.value, lambda dy: dy, x)
    a = value(x)
    return np.asarray(a) if dtype is None else np.asarray(a).astype(dtype, copy=False)


def convert_to_numpy(x):
    """The NumPy array behind `x` (a tensor, variable, list or array)."""
    return np.asarray(value(x))


def is_tensor(x):
    """Whether `x` is a tensor of this backend (a NumPy array or a tape `Tensor`)."""
    return isinstance(x, (np.ndarray, Tensor))


@op
def cast(x, dtype):
    """`x` converted to `dtype` (the gradient flows between float types)."""
    a = value(x)
    dtype = np.dtype(dtype)
    y = np.asarray(a).astype(dtype)
    if dtype.kind not in "fc" or np.result_type(a).kind not in "fc":
        return y
    src = np.result_type(a)
    return record(y, lambda dy: np.asarray(dy).astype(src), x)


@op
def stop_gradient(variable):
    """The same values, with no gradient flowing back."""
    return value(variable)


def _query(fn):
    """Register a shape query: on a symbolic tensor it answers from the static shape (a tuple
    with None for unknown sizes, as Keras), so it needs no graph node."""
    fn.raw = fn
    OPS[fn.__name__] = fn
    return fn


@_query
def shape(x):
    """The shape of `x` as a tuple of ints (None for unknown sizes of a symbolic tensor)."""
    if isinstance(x, SymbolicTensor):
        return tuple(x.shape)
    return tuple(int(d) for d in np.shape(value(x)))


@_query
def ndim(x):
    """The rank of `x`."""
    if isinstance(x, SymbolicTensor):
        return len(x.shape)
    return int(np.ndim(value(x)))


@op
def size(x):
    """The number of elements of `x`."""
    return int(np.size(value(x)))


__all__ = ["cast", "convert_to_numpy", "convert_to_tensor", "is_tensor", "ndim", "shape",
           "size", "stop_gradient"]
