"""Keras's small tensor helpers: `is_keras_tensor`, `get_source_inputs`, `standardize_dtype`."""
import numpy as np

__all__ = ["get_source_inputs", "is_keras_tensor", "standardize_dtype"]

_DTYPES = ("float16", "float32", "float64", "bfloat16", "uint8", "uint16", "uint32", "uint64",
           "int8", "int16", "int32", "int64", "bool", "string", "complex64", "complex128")


def is_keras_tensor(x):
    """True for a symbolic tensor of a model being built (`kerasnp.Input(...)` and the
    outputs of layers called on it), False for arrays and anything else.

    Example:
        >>> import kerasnp as keras, numpy as np
        >>> keras.utils.is_keras_tensor(keras.Input((3,))), keras.utils.is_keras_tensor(np.ones(3))
        (True, False)
    """
    from ..models.graph import KerasTensor
    return isinstance(x, KerasTensor)


def get_source_inputs(tensor):
    """The `Input` tensors a symbolic tensor was computed from, in the order they are met.

    A value that is not a symbolic tensor is returned as it is (as Keras does).

    Example:
        >>> import kerasnp as keras
        >>> a, b = keras.Input((2,)), keras.Input((2,))
        >>> keras.utils.get_source_inputs(keras.layers.Add()([a, b])) == [a, b]
        True
    """
    if not is_keras_tensor(tensor):
        return tensor
    out, seen, stack = [], set(), [tensor]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if not t._inputs:
            out.append(t)
        stack.extend(reversed(t._inputs))
    return out


def standardize_dtype(dtype):
    """Keras's name of a dtype: None gives `floatx()`, Python `int`/`float`/`bool`/`str` give
    `"int32"`, `"float32"`, `"bool"`, `"string"`; NumPy dtypes and types give their name.

    Raises:
        ValueError: a name that is not a dtype (the message lists the valid ones).

    Example:
        >>> import numpy as np
        >>> from kerasnp.utils import standardize_dtype
        >>> standardize_dtype(int), standardize_dtype(np.float64), standardize_dtype(None)
        ('int32', 'float64', 'float32')
    """
    from .. import config
    if dtype is None:
        return config.floatx()
    if dtype is int or (isinstance(dtype, str) and dtype == "int"):   # np.dtype == "int" too
        return "int32"
    if dtype is float:
        return "float32"
    if dtype is bool:
        return "bool"
    if dtype is str:
        return "string"
    name = getattr(dtype, "name", None)
    if not isinstance(name, str):
        if isinstance(dtype, type) and issubclass(dtype, np.generic):
            name = np.dtype(dtype).name
        elif isinstance(dtype, str):
            name = dtype
    if name in _DTYPES:
        return name
    raise ValueError(f"Invalid dtype: {dtype!r}. Valid: {', '.join(_DTYPES)} (or Python int, "
                     "float, bool, str, a NumPy dtype, or None for floatx).")
