"""Array creation (Keras 3 names and dtype rules): `dtype=None` means floatx for ones, zeros,
full, eye and identity, the input's dtype for the `*_like` ops, and int32 / floatx inferred from
the arguments for arange and linspace. None of these carries a gradient."""
import numpy as np

from ._dispatch import op, value
from ._helpers import floatx


def _dtype(dtype):
    return np.dtype(floatx() if dtype is None else dtype)


def _shape(shape):
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)


@op
def zeros(shape, dtype=None):
    """An array of zeros (floatx unless `dtype` is given)."""
    return np.zeros(_shape(shape), dtype=_dtype(dtype))


@op
def ones(shape, dtype=None):
    """An array of ones (floatx unless `dtype` is given)."""
    return np.ones(_shape(shape), dtype=_dtype(dtype))


@op
def full(shape, fill_value, dtype=None):
    """An array filled with `fill_value` (floatx unless `dtype` is given)."""
    return np.full(_shape(shape), value(fill_value), dtype=_dtype(dtype))


@op
def zeros_like(x, dtype=None):
    """Zeros with the shape (and, unless `dtype` is given, the dtype) of `x`."""
    return np.zeros_like(value(x), dtype=dtype)


@op
def ones_like(x, dtype=None):
    """Ones with the shape (and, unless `dtype` is given, the dtype) of `x`."""
    return np.ones_like(value(x), dtype=dtype)


@op
def full_like(x, fill_value, dtype=None):
    """`fill_value` with the shape (and, unless `dtype` is given, the dtype) of `x`."""
    return np.full_like(value(x), value(fill_value), dtype=dtype)


@op
def eye(N, M=None, k=0, dtype=None):
    """A 2-D array with ones on the `k`-th diagonal (floatx unless `dtype` is given)."""
    return np.eye(int(N), None if M is None else int(M), int(k), dtype=_dtype(dtype))


@op
def identity(n, dtype=None):
    """The `n` × `n` identity matrix (floatx unless `dtype` is given)."""
    return np.identity(int(n), dtype=_dtype(dtype))


def _inferred(*numbers):
    """int32 when every argument is an integer, floatx otherwise (as Keras infers)."""
    if all(np.result_type(value(v)).kind in "iub" for v in numbers if v is not None):
        return np.dtype("int32")
    return np.dtype(floatx())


@op
def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in `[start, stop)` (`arange(stop)` starts at 0)."""
    if stop is None:
        start, stop = 0, start
    dt = _inferred(start, stop, step) if dtype is None else np.dtype(dtype)
    return np.arange(value(start), value(stop), value(step), dtype=dt)


@op
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """`num` evenly spaced values from `start` to `stop` (floatx unless `dtype` is given)."""
    dt = np.dtype(floatx()) if dtype is None else np.dtype(dtype)
    return np.linspace(value(start), value(stop), int(num), endpoint=endpoint, retstep=retstep,
                       dtype=dt, axis=axis)


__all__ = ["arange", "eye", "full", "full_like", "identity", "linspace", "ones", "ones_like",
           "zeros", "zeros_like"]
