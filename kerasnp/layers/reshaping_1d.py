"""Reshaping layers for sequences `(batch, steps, features)`: ZeroPadding1D, Cropping1D,
UpSampling1D. Each call is one tape node whose VJP is the adjoint copy (crop <-> pad, repeat ->
sum over the repeats)."""
import numpy as np

from .. import _validate
from ..autodiff.tape import record
from ..ops._dispatch import value
from .base import Layer, register
from .pooling import check_data_format, check_rank


def _grow(d, k):
    return None if d is None else d + k


@register
class ZeroPadding1D(Layer):
    """Adds zeros at the start and the end of each sequence (axis 1).

    Args:
        padding: int (the same at both ends) or tuple of 2 ints `(start, end)`. Defaults to 1.
        data_format: None or `"channels_last"` (the only layout kerasnp supports).

    Input shape: `(batch, steps, features)`.
    Output shape: `(batch, start + steps + end, features)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.ZeroPadding1D((1, 2))(np.ones((1, 3, 1)))[0, :, 0].tolist()
        [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    """

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _validate.int_tuple(padding, 2, "padding", self, allow_zero=True)
        self.data_format = check_data_format(data_format, self)

    def build(self, input_shape):
        check_rank(self, input_shape, 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], _grow(input_shape[1], sum(self.padding)), input_shape[2])

    def call(self, inputs):
        a, b = self.padding
        x = value(inputs)
        n, t, c = x.shape
        y = np.zeros((n, a + t + b, c), dtype=x.dtype)
        y[:, a:a + t] = x                                                # y = pad(x, 0)
        return record(y, lambda dy: np.ascontiguousarray(dy[:, a:a + t]), inputs)  # dx = crop(dy)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(padding=list(self.padding), data_format=self.data_format)
        return cfg


@register
class Cropping1D(Layer):
    """Removes steps at the start and the end of each sequence (axis 1).

    Args:
        cropping: int (the same at both ends) or tuple of 2 ints `(start, end)`. Defaults to
            `(1, 1)`.

    Input shape: `(batch, steps, features)`.
    Output shape: `(batch, steps - start - end, features)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> x = np.arange(5.0).reshape(1, 5, 1)
        >>> keras.layers.Cropping1D((1, 2))(x)[0, :, 0].tolist()
        [1.0, 2.0]
    """

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = _validate.int_tuple(cropping, 2, "cropping", self, allow_zero=True)

    def build(self, input_shape):
        check_rank(self, input_shape, 1)
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        t = input_shape[1]
        if t is not None and sum(self.cropping) >= t:
            raise ValueError(f"{_validate.describe(self)}: cropping {self.cropping} leaves "
                             f"nothing of an input of shape {tuple(input_shape)}; at least one "
                             f"step must remain. Received: cropping={self.cropping}")
        return (input_shape[0], _grow(t, -sum(self.cropping)), input_shape[2])

    def call(self, inputs):
        a, b = self.cropping
        x = value(inputs)
        t = x.shape[1]
        y = np.ascontiguousarray(x[:, a:t - b])                          # y = crop(x)

        def vjp(dy):
            dx = np.zeros(x.shape, dtype=dy.dtype)
            dx[:, a:t - b] = dy                                          # dx = pad(dy, 0)
            return dx
        return record(y, vjp, inputs)

    def get_config(self):
        cfg = super().get_config()
        cfg["cropping"] = list(self.cropping)
        return cfg


@register
class UpSampling1D(Layer):
    """Repeats each step `size` times along the time axis.

    Args:
        size: positive int, the upsampling factor. Defaults to 2.

    Input shape: `(batch, steps, features)`.  Output shape: `(batch, steps·size, features)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> x = np.array([1.0, 2.0]).reshape(1, 2, 1)
        >>> keras.layers.UpSampling1D(2)(x)[0, :, 0].tolist()
        [1.0, 1.0, 2.0, 2.0]
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = _validate.positive_int(size, "size", self)

    def build(self, input_shape):
        check_rank(self, input_shape, 1)

    def compute_output_shape(self, input_shape):
        t = input_shape[1]
        return (input_shape[0], None if t is None else t * self.size, input_shape[2])

    def call(self, inputs):
        x = value(inputs)
        n, t, c = x.shape
        k = self.size
        y = np.empty((n, t, k, c), dtype=x.dtype)
        y[...] = x[:, :, None, :]                                        # y[i, a·k + p] = x[i, a]
        return record(y.reshape(n, t * k, c),
                      lambda dy: dy.reshape(n, t, k, c).sum(axis=2),    # dx = Σ over each block
                      inputs)

    def get_config(self):
        cfg = super().get_config()
        cfg["size"] = self.size
        return cfg
