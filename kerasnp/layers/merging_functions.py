"""Keras's functional forms of the merging layers: `add([x1, x2])` is `Add()([x1, x2])`.

Each makes a fresh layer (keyword arguments such as `name` go to it) and calls it on the list, so
it works on symbolic tensors inside a functional model and on arrays eagerly, as in Keras.
"""
from .merging import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from .merging_dot import Dot


def add(inputs, **kwargs):
    """Element-wise sum of a list of tensors: `Add(**kwargs)(inputs)`.

    Args:
        inputs: a list of at least 2 tensors of the same shape.
        **kwargs: standard layer keyword arguments (`name`, `dtype`).

    Returns:
        The sum, a tensor of the inputs' shape.

    Example:
        >>> import kerasnp as keras
        >>> a, b = keras.Input((4,)), keras.Input((4,))
        >>> keras.layers.add([a, b]).shape
        (None, 4)
    """
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """`inputs[0] - inputs[1]` for a list of exactly 2 tensors: `Subtract(**kwargs)(inputs)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.subtract([np.ones((1, 2)), np.ones((1, 2))]).tolist()
        [[0.0, 0.0]]
    """
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Element-wise product of a list of tensors: `Multiply(**kwargs)(inputs)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.multiply([np.full((1, 2), 2.0), np.full((1, 2), 3.0)]).tolist()
        [[6.0, 6.0]]
    """
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Element-wise mean of a list of tensors: `Average(**kwargs)(inputs)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.average([np.zeros((1, 2)), np.full((1, 2), 4.0)]).tolist()
        [[2.0, 2.0]]
    """
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Element-wise maximum of a list of tensors: `Maximum(**kwargs)(inputs)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.maximum([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).tolist()
        [[3.0, 5.0]]
    """
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Element-wise minimum of a list of tensors: `Minimum(**kwargs)(inputs)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.minimum([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).tolist()
        [[1.0, 2.0]]
    """
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Concatenation of a list of tensors along `axis`: `Concatenate(axis, **kwargs)(inputs)`.

    Args:
        inputs: a list of tensors whose shapes agree except along `axis`.
        axis: the axis to join along. Defaults to -1 (the last).
        **kwargs: standard layer keyword arguments.

    Example:
        >>> import kerasnp as keras
        >>> a, b = keras.Input((4,)), keras.Input((3,))
        >>> keras.layers.concatenate([a, b]).shape
        (None, 7)
    """
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """Dot product of the samples of 2 tensors along `axes`: `Dot(axes, **kwargs)(inputs)`.

    Args:
        inputs: a list of 2 tensors.
        axes: int or pair of ints, the axis (per input) summed over; not the batch axis.
            Defaults to -1.
        **kwargs: `normalize` (L2-normalise both along `axes` first, giving cosine
            similarities) and standard layer keyword arguments.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.dot([np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])], axes=1).tolist()
        [[11.0]]
    """
    return Dot(axes=axes, **kwargs)(inputs)
