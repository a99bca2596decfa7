"""Adaptive 3-D pooling: AdaptiveAveragePooling3D and AdaptiveMaxPooling3D.

Each spatial axis is cut into `output_size` bins as the 1-D layers do (bin `i` of `O` over `L`
positions covers `floor(i·L/O)` up to `ceil((i+1)·L/O)`, PyTorch's and Keras's bins). The
average is separable: `y = x ×_d A_d ×_h A_h ×_w A_w` with `A[i, t] = [t in bin i] / |bin i|`, one
einsum whose adjoint is the same einsum with the matrices transposed. Each call is one tape node.
"""
import itertools
import numbers

import numpy as np

from .. import _validate
from ..autodiff.tape import record
from ..ops._dispatch import value
from .base import Layer, register
from .pooling import check_data_format
from .pooling3d import check_rank_3d
from .pooling_adaptive import _average_weights, _bins


class _Adaptive3D(Layer):
    """Shared validation, shapes and config."""

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(output_size, numbers.Integral) and not isinstance(output_size, bool):
            output_size = (output_size,) * 3
        elif not isinstance(output_size, (list, tuple)) or len(output_size) != 3 or any(
                isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in output_size):
            raise TypeError(f"{_validate.describe(self)}: argument `output_size` must be an "
                            f"integer or a tuple of 3 integers. Received: output_size="
                            f"{output_size!r}")
        self.output_size = _validate.int_tuple(output_size, 3, "output_size", self)
        self.data_format = check_data_format(data_format, self)

    def build(self, input_shape):
        check_rank_3d(self, input_shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.output_size, input_shape[-1])

    def get_config(self):
        cfg = super().get_config()
        cfg.update(output_size=list(self.output_size), data_format=self.data_format)
        return cfg


_DOC = """Adaptive {what} pooling over volumes: `output_size` bins per spatial axis for any input
    size.

    Along each axis, bin `i` of `O` covers positions `floor(i·L/O)` up to `ceil((i+1)·L/O)`
    (bins may overlap by one position when `O` does not divide `L`).{note}

    Args:
        output_size: positive int or tuple of 3 ints `(depth, rows, cols)` of the output.
        data_format: None or `"channels_last"` (the only layout kerasnp supports).

    Input shape: `(batch, depth, rows, cols, channels)`.
    Output shape: `(batch, *output_size, channels)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> x = np.arange(8.0).reshape(1, 2, 2, 2, 1)
        >>> keras.layers.{name}((1, 1, 2))(x).ravel().tolist()
        {example}
    """


@register
class AdaptiveAveragePooling3D(_Adaptive3D):
    __doc__ = _DOC.format(what="average", name="AdaptiveAveragePooling3D", note="",
                          example="[3.0, 4.0]")

    def call(self, inputs):
        x = value(inputs)
        a, b, c = (_average_weights(n, o, x.dtype) for n, o in zip(x.shape[1:4],
                                                                    self.output_size))
        y = np.einsum("ad,bh,cw,ndhwk->nabck", a, b, c, x, optimize=True)   # y = x ×A_d ×A_h ×A_w
        return record(y, lambda dy: np.einsum("ad,bh,cw,nabck->ndhwk", a, b, c, dy,
                                              optimize=True), inputs)       # dx = dy ×Aᵀ each


@register
class AdaptiveMaxPooling3D(_Adaptive3D):
    __doc__ = _DOC.format(what="max", name="AdaptiveMaxPooling3D",
                          note=" The gradient goes to each bin's first maximum.",
                          example="[6.0, 7.0]")

    def call(self, inputs):
        x = value(inputs)
        n, d, h, w, c = x.shape
        bins = [list(zip(*_bins(size, o))) for size, o in zip((d, h, w), self.output_size)]
        y = np.empty((n, *self.output_size, c), dtype=x.dtype)
        arg = np.empty((n, *self.output_size, c), dtype=np.intp)   # flat index into d·h·w
        grid = np.arange(d * h * w).reshape(d, h, w)
        for (i, (d0, d1)), (j, (h0, h1)), (k, (w0, w1)) in itertools.product(
                *(enumerate(b) for b in bins)):
            block = x[:, d0:d1, h0:h1, w0:w1].reshape(n, -1, c)
            first = block.argmax(axis=1)                               # first maximum
            y[:, i, j, k] = np.take_along_axis(block, first[:, None], axis=1)[:, 0]
            arg[:, i, j, k] = grid[d0:d1, h0:h1, w0:w1].reshape(-1)[first]

        def vjp(dy):
            dx = np.zeros((n, d * h * w, c), dtype=dy.dtype)
            rows = np.arange(n)[:, None]
            chans = np.arange(c)[None, :]
            for pos in np.ndindex(*self.output_size):                  # dx[argmax] += dy
                np.add.at(dx, (rows, arg[(slice(None), *pos)], chans), dy[(slice(None), *pos)])
            return dx.reshape(x.shape)
        return record(y, vjp, inputs)
