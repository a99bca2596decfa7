"""Adaptive 2-D pooling: AdaptiveAveragePooling2D and AdaptiveMaxPooling2D.

The output has `output_size` rows and columns whatever the input size; along each axis bin `i`
of `O` covers input positions `floor(i·L/O)` to `ceil((i + 1)·L/O)` (exclusive), as in
PyTorch's adaptive pooling (and Keras's), so bins may overlap by one position. Each call is one
tape node.
"""
import numbers

import numpy as np

from .. import _validate
from ..autodiff.tape import record
from ..ops._dispatch import value
from .base import Layer, register
from .pooling import check_data_format, check_rank
from .pooling_adaptive import _average_weights, _bins


class _Adaptive2D(Layer):
    """Shared validation, shapes and config."""

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        size = (output_size, output_size) if isinstance(output_size, numbers.Integral) \
            and not isinstance(output_size, bool) else output_size
        if (not isinstance(size, (list, tuple)) or len(size) != 2
                or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) for s in size)):
            raise TypeError(f"{_validate.describe(self)}: argument `output_size` must be an "
                            f"integer or a tuple of 2 integers. Received: output_size="
                            f"{output_size!r}")
        self.output_size = _validate.int_tuple(size, 2, "output_size", self)
        self.data_format = check_data_format(data_format, self) or "channels_last"

    def build(self, input_shape):
        check_rank(self, input_shape, 2)
        self.built = True

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.output_size, input_shape[-1])

    def get_config(self):
        cfg = super().get_config()
        cfg.update(output_size=list(self.output_size), data_format=self.data_format)
        return cfg


_DOC = """Adaptive {what} pooling over images: `output_size` rows and columns out for any input.

    Along each axis, bin `i` of `O` covers positions `floor(i·L/O)` up to `ceil((i+1)·L/O)`
    (PyTorch's and Keras's bins).{note}

    Args:
        output_size: positive int or a tuple `(rows, cols)`.
        data_format: None or `"channels_last"` (the only layout kerasnp supports).

    Input shape: `(batch, h, w, channels)`.  Output shape: `(batch, rows, cols, channels)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
        >>> keras.layers.{name}(2)(x)[0, :, :, 0].tolist()
        {example}
    """


@register
class AdaptiveAveragePooling2D(_Adaptive2D):
    __doc__ = _DOC.format(what="average", name="AdaptiveAveragePooling2D", note="",
                          example="[[2.5, 4.5], [10.5, 12.5]]")

    def call(self, inputs):
        x = value(inputs)
        wh = _average_weights(x.shape[1], self.output_size[0], x.dtype)
        ww = _average_weights(x.shape[2], self.output_size[1], x.dtype)
        y = np.einsum("ih,nhwc,jw->nijc", wh, x, ww, optimize=True)       # y = Wh·x·Wwᵀ
        return record(y, lambda dy: np.einsum("ih,nijc,jw->nhwc", wh, dy, ww, optimize=True),
                      inputs)                                             # dx = Whᵀ·dy·Ww


@register
class AdaptiveMaxPooling2D(_Adaptive2D):
    __doc__ = _DOC.format(what="max", name="AdaptiveMaxPooling2D",
                          note=" The gradient goes to each\n    bin's first maximum.",
                          example="[[5.0, 7.0], [13.0, 15.0]]")

    def call(self, inputs):
        x = value(inputs)
        n, h, w, c = x.shape
        oh, ow = self.output_size
        (rs, re), (cs, ce) = _bins(h, oh), _bins(w, ow)
        y = np.empty((n, oh, ow, c), dtype=x.dtype)
        flat = np.empty((n, oh, ow, c), dtype=np.intp)       # argmax as an index into h·w
        for i in range(oh):
            for j in range(ow):
                patch = x[:, rs[i]:re[i], cs[j]:ce[j]].reshape(n, -1, c)
                k = patch.argmax(axis=1)                      # first maximum, row-major
                y[:, i, j] = np.take_along_axis(patch, k[:, None], axis=1)[:, 0]
                bw = ce[j] - cs[j]
                flat[:, i, j] = (rs[i] + k // bw) * w + cs[j] + k % bw

        def vjp(dy):
            dx = np.zeros((n, h * w, c), dtype=dy.dtype)
            rows = np.arange(n)[:, None, None, None]
            cols = np.arange(c)[None, None, None, :]
            np.add.at(dx, (rows, flat, cols), dy)                        # dx[argmax] += dy
            return dx.reshape(x.shape)
        return record(y, vjp, inputs)
