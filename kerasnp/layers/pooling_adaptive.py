"""Adaptive 1-D pooling: AdaptiveAveragePooling1D and AdaptiveMaxPooling1D.

The output has `output_size` steps whatever the input length: bin `i` covers the input steps
`floor(i·L / O)` to `ceil((i + 1)·L / O)` (exclusive), as in PyTorch's adaptive pooling, so bins
may overlap by one step when `O` does not divide `L`. Each call is one tape node.
"""
import numbers

import numpy as np

from .. import _validate
from ..autodiff.tape import record
from ..ops._dispatch import value
from .base import Layer, register
from .pooling import check_data_format, check_rank


def _bins(length, out):
    """`(starts, ends)` of the `out` bins over `length` steps."""
    i = np.arange(out)
    return (i * length) // out, -((-(i + 1) * length) // out)         # floor, ceil


def _average_weights(length, out, dtype):
    """`W[i, t] = [t in bin i] / |bin i|`, so that averaging along one axis is `W·x` (shared by
    the 1-D, 2-D and 3-D adaptive average poolings)."""
    starts, ends = _bins(length, out)
    steps = np.arange(length)
    inside = (steps >= starts[:, None]) & (steps < ends[:, None])
    return (inside / (ends - starts)[:, None]).astype(dtype)


class _Adaptive1D(Layer):
    """Shared validation, shapes and config."""

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(output_size, (list, tuple)) and len(output_size) == 1:
            output_size = output_size[0]               # Keras stores it as a 1-tuple
        if isinstance(output_size, bool) or not isinstance(output_size, numbers.Integral):
            raise TypeError(f"{_validate.describe(self)}: argument `output_size` must be an "
                            f"integer. Received: output_size={output_size!r}")
        self.output_size = (_validate.positive_int(output_size, "output_size", self),)
        self.data_format = check_data_format(data_format, self)

    def build(self, input_shape):
        check_rank(self, input_shape, 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_size[0], input_shape[-1])

    def get_config(self):
        cfg = super().get_config()
        cfg.update(output_size=list(self.output_size), data_format=self.data_format)
        return cfg


_DOC = """Adaptive {what} pooling over sequences: `output_size` steps out for any input length.

    Bin `i` of `O` covers input steps `floor(i·L/O)` up to `ceil((i+1)·L/O)` (PyTorch's bins).{note}

    Args:
        output_size: positive int (or a 1-tuple), the number of output steps.
        data_format: None or `"channels_last"` (the only layout kerasnp supports).

    Input shape: `(batch, steps, channels)`.  Output shape: `(batch, output_size, channels)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> x = np.arange(1.0, 7.0).reshape(1, 6, 1)
        >>> keras.layers.{name}(2)(x)[0, :, 0].tolist()
        {example}
    """


@register
class AdaptiveAveragePooling1D(_Adaptive1D):
    __doc__ = _DOC.format(what="average", name="AdaptiveAveragePooling1D", note="",
                          example="[2.0, 5.0]")

    def call(self, inputs):
        x = value(inputs)
        w = _average_weights(x.shape[1], self.output_size[0], x.dtype)
        y = np.einsum("ot,ntc->noc", w, x)                               # y = W·x
        return record(y, lambda dy: np.einsum("ot,noc->ntc", w, dy), inputs)   # dx = Wᵀ·dy


@register
class AdaptiveMaxPooling1D(_Adaptive1D):
    __doc__ = _DOC.format(what="max", name="AdaptiveMaxPooling1D",
                          note=" The gradient goes to\n    each bin's first maximum.",
                          example="[3.0, 6.0]")

    def call(self, inputs):
        x = value(inputs)
        n, t, c = x.shape
        starts, ends = _bins(t, self.output_size[0])
        arg = np.stack([x[:, a:b].argmax(axis=1) + a for a, b in zip(starts, ends)], axis=1)
        y = np.take_along_axis(x, arg, axis=1)                           # y = max over each bin

        def vjp(dy):
            dx = np.zeros(x.shape, dtype=dy.dtype)
            rows = np.arange(n)[:, None, None]
            cols = np.arange(c)[None, None, :]
            np.add.at(dx, (rows, arg, cols), dy)                         # dx[argmax] += dy
            return dx
        return record(y, vjp, inputs)
