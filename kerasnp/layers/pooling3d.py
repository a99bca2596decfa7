"""Volumetric pooling layers (channels-last `(batch, depth, rows, cols, channels)`):
MaxPooling3D, AveragePooling3D, GlobalMaxPooling3D, GlobalAveragePooling3D and their aliases.

Local pools are one fused op per call (`kerasnp.ops._conv3d.pool3d`): padded positions never win
a max and are not counted by an average (Keras's "same"); global pools share the 1-D/2-D ones'
reduction over `(batch, positions, channels)`.
"""
from .. import _validate
from ..ops._conv3d import pads_3d, pool3d
from .base import register
from .global_pooling import _MAX_NOTE, _DOC as _GLOBAL_DOC, _GlobalAverage, _GlobalMax
from .pooling import _Pooling


def check_rank_3d(layer, input_shape):
    """Refuse inputs that are not `(batch, depth, rows, cols, channels)`."""
    if len(input_shape) != 5:
        raise ValueError(f"{_validate.describe(layer)} expected input of rank 5 (batch, depth, "
                         f"rows, cols, channels), received shape {tuple(input_shape)}.")


class _Pooling3D(_Pooling):
    """Shared build, call and config of the local 3-D pools (`_mode` "max" or "avg")."""

    _rank = 3

    def build(self, input_shape):
        check_rank_3d(self, input_shape)
        self.compute_output_shape(input_shape)

    def call(self, inputs, training=None):
        pads = pads_3d(inputs.shape[1:4], self.pool_size, self.strides, self.padding)
        return pool3d(inputs, self._mode, self.pool_size, self.strides, pads)   # one node

    def get_config(self):
        cfg = super().get_config()
        cfg.update(pool_size=list(self.pool_size), strides=list(self.strides))
        return cfg


_DOC_3D = """{what} pooling over 3-D windows of a channels-last volume batch.

    Args:
        pool_size: int or tuple of 3 ints, the window `(depth, rows, cols)`.{default}
        strides: int, tuple of 3 ints or None (then equal to `pool_size`).
        padding: `"valid"` (no padding) or `"same"` (output `ceil(input / stride)`, the extra
            padding at the end of each axis; padded positions {pad_note}).
        data_format: None or `"channels_last"` (the only layout kerasnp supports).

    Input shape: `(batch, depth, rows, cols, channels)`.
    Output shape: `(batch, pooled_depth, pooled_rows, pooled_cols, channels)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> x = np.arange(8, dtype="float32").reshape(1, 2, 2, 2, 1)
        >>> keras.layers.{name}(2)(x).ravel().tolist()
        {example}
    """


@register
class MaxPooling3D(_Pooling3D):
    __doc__ = _DOC_3D.format(what="Max", name="MaxPooling3D", pad_note="never win",
                             default=" Defaults to `(2, 2, 2)`.", example="[7.0]")
    _mode = "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@register
class AveragePooling3D(_Pooling3D):
    __doc__ = _DOC_3D.format(what="Average", name="AveragePooling3D",
                             pad_note="are not counted in the average",
                             default=" Required, as in Keras.", example="[3.5]")
    _mode = "avg"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


_SHAPE_3D = dict(where="depth, rows and columns", shape="(batch, depth, rows, cols, channels)",
                 kept="(batch, 1, 1, 1, channels)")


class _Global3D:
    _rank = 3

    def build(self, input_shape):
        check_rank_3d(self, input_shape)


@register
class GlobalAveragePooling3D(_Global3D, _GlobalAverage):
    __doc__ = _GLOBAL_DOC.format(what="average", extra="", **_SHAPE_3D)


@register
class GlobalMaxPooling3D(_Global3D, _GlobalMax):
    __doc__ = _GLOBAL_DOC.format(what="max", extra=_MAX_NOTE, **_SHAPE_3D)


# Keras's short aliases.
MaxPool3D, AvgPool3D = MaxPooling3D, AveragePooling3D
GlobalMaxPool3D, GlobalAvgPool3D = GlobalMaxPooling3D, GlobalAveragePooling3D
