"""Global pooling layers: average or max over all spatial positions, per channel (channels-last).

Every variant views its input as `(batch, positions, channels)` (a free reshape of a contiguous
NHWC or NSC array) and reduces the middle axis, as one fused op (one tape node).
"""
from .. import _validate
from ..ops._conv_pool import global_pool
from .base import Layer, register
from .pooling import check_data_format, check_rank


class _GlobalPooling(Layer):
    """Shared validation, shapes, call and config; subclasses set `_mode` ("avg" or "max")."""

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

    def call(self, inputs, training=None):
        return global_pool(inputs, self._mode, self.keepdims)                # one node

    def get_config(self):
        cfg = super().get_config()
        cfg.update(data_format=self.data_format, keepdims=self.keepdims)
        return cfg


class _GlobalAverage(_GlobalPooling):
    _mode = "avg"


class _GlobalMax(_GlobalPooling):
    _mode = "max"


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
