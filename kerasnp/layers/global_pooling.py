"""Global pooling layers: average or max over all spatial positions, per channel (channels-last).

Every variant views its input as `(batch, positions, channels)` (a free reshape of a contiguous
NHWC or NSC array) and reduces the middle axis.
"""
import numpy as np

from .. import _validate
from .base import Layer, register
from .pooling import check_data_format, check_rank


class _GlobalPooling(Layer):
    """Shared validation, shapes and config; subclasses define `_reduce` / `_spread`."""

    _rank = 2

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, self)
        self.keepdims = _validate.boolean(keepdims, "keepdims", self)

    def build(self, input_shape):
        check_rank(self, input_shape, self._rank)

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return (input_shape[0],) + (1,) * self._rank + (input_shape[-1],)
        return (input_shape[0], input_shape[-1])

    def forward(self, x, training=False):
        self._in_shape = x.shape
        n, c = x.shape[0], x.shape[-1]
        y = self._reduce(x.reshape(n, -1, c))                          # (n, c)
        return y.reshape((n,) + (1,) * self._rank + (c,)) if self.keepdims else y

    def backward(self, dy):
        if not self._needs_dx:
            return None
        n, c = self._in_shape[0], self._in_shape[-1]
        dx = self._spread(dy.reshape(n, c), n, c)                       # (n, positions, c)
        return dx.reshape(self._in_shape)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(data_format=self.data_format, keepdims=self.keepdims)
        return cfg


class _GlobalAverage(_GlobalPooling):
    def _reduce(self, x3):
        self._count = x3.shape[1]
        # y = Σ_p x / P (einsum is several times faster than mean(axis=1) on this layout)
        return np.einsum("npc->nc", x3) / x3.dtype.type(self._count)

    def _spread(self, dy, n, c):
        dx = np.empty((n, self._count, c), dtype=dy.dtype)
        dx[...] = (dy / dy.dtype.type(self._count))[:, None, :]          # dx = dy / P everywhere
        return dx


class _GlobalMax(_GlobalPooling):
    def _reduce(self, x3):
        self._count = x3.shape[1]
        self._arg = x3.argmax(axis=1)[:, None, :]                       # first maximum (n, 1, c)
        return np.take_along_axis(x3, self._arg, axis=1)[:, 0, :]       # y = max_p x

    def _spread(self, dy, n, c):
        dx = np.zeros((n, self._count, c), dtype=dy.dtype)
        np.put_along_axis(dx, self._arg, dy[:, None, :], axis=1)        # dx[argmax] = dy
        return dx


_DOC = """Global {what} pooling: one value per channel over all {where}.

    Args:
        data_format: None or `"channels_last"` (the only layout kerasnp supports).
        keepdims: keep the reduced axes with length 1 (output `{kept}`). Defaults to False.
{extra}
    Input shape: `{shape}`.  Output shape: `(batch, channels)`, or `{kept}` with keepdims.
    """
_SHAPE_2D = dict(where="rows and columns", shape="(batch, rows, cols, channels)",
                 kept="(batch, 1, 1, channels)")
_SHAPE_1D = dict(where="steps", shape="(batch, steps, channels)", kept="(batch, 1, channels)")
_MAX_NOTE = "    The gradient goes to one maximum per channel (the first one on ties).\n"


@register
class GlobalAveragePooling2D(_GlobalAverage):
    __doc__ = _DOC.format(what="average", extra="", **_SHAPE_2D)


@register
class GlobalMaxPooling2D(_GlobalMax):
    __doc__ = _DOC.format(what="max", extra=_MAX_NOTE, **_SHAPE_2D)


@register
class GlobalAveragePooling1D(_GlobalAverage):
    __doc__ = _DOC.format(what="average", extra="", **_SHAPE_1D)
    _rank = 1


@register
class GlobalMaxPooling1D(_GlobalMax):
    __doc__ = _DOC.format(what="max", extra=_MAX_NOTE, **_SHAPE_1D)
    _rank = 1


# Keras's short aliases.
GlobalAvgPool2D, GlobalMaxPool2D = GlobalAveragePooling2D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalMaxPool1D = GlobalAveragePooling1D, GlobalMaxPooling1D
