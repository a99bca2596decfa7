"""What every op shares: the `@op` decorator (symbolic dispatch and the registry), argument
unwrapping and the broadcasting rule for gradients.

An op is a plain function of arrays. `@op` registers it by name in `OPS` and, when any argument is
a symbolic tensor (`keras.Input(...)` and what layers make from it), turns the call into a node
of the functional graph instead of computing (as Keras does), so `x + y`, `x[:, 0]` and
`ops.mean(x, axis=1)` work while building a functional model.
"""
import functools

import numpy as np

from ..autodiff.tape import Tensor, is_tracked, record, unwrap  # noqa: F401  (re-exported)
from ..variables import Variable

OPS = {}


class SymbolicTensor:
    """Marker base of the functional API's symbolic tensors (`KerasTensor`)."""

    __slots__ = ()


def _any_symbolic(args, kwargs):
    for a in args:
        if isinstance(a, SymbolicTensor):
            return True
        if type(a) in (list, tuple) and any(isinstance(b, SymbolicTensor) for b in a):
            return True
    return any(isinstance(v, SymbolicTensor) for v in kwargs.values()) if kwargs else False


def op(fn=None, *, name=None):
    """Register `fn` as an op; symbolic arguments make it a graph node (see module doc)."""
    if fn is None:
        return functools.partial(op, name=name)
    key = name or fn.__name__

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _any_symbolic(args, kwargs):
            # Late import: the graph node is a layer, and layers sit above ops.
            from ..layers.op_layer import symbolic_op_call
            return symbolic_op_call(key, args, kwargs)
        return fn(*args, **kwargs)

    wrapper.raw = fn
    OPS[key] = wrapper
    return wrapper


def value(x):
    """NumPy view of an op argument: Tensor/Variable values, arrays and Python scalars as they
    are (scalars stay "weak" so `x * 2` keeps x's float32), lists through `np.asarray`."""
    if type(x) is np.ndarray:
        return x
    if type(x) is Tensor or isinstance(x, Variable):
        return x.value
    if isinstance(x, (int, float, complex, bool, np.generic)):
        return x
    return np.asarray(x)


def unbroadcast(g, shape):
    """Sum `g` down to `shape` (the gradient rule of NumPy broadcasting)."""
    g = np.asarray(g)
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def is_float(a):
    return a.dtype.kind in "fc"


def grad_for(x, g):
    """`g` if `x` can carry a gradient (floating, tracked), else None."""
    return g if is_tracked(x) else None
