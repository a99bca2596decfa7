"""Local pooling layers: Max/Min/Average pooling in 1-D and 2-D (channels-last).

Geometry follows Keras/TensorFlow exactly: "valid" gives `out = floor((in - pool) / stride) + 1`;
"same" gives `out = ceil(in / stride)` with the total padding
`max((out - 1)·stride + pool - in, 0)` split so the extra row/column goes to the bottom/right.
Padded positions never win a max/min and are not counted by an average. 1-D layers view
`(batch, steps, channels)` as `(batch, 1, steps, channels)` and call the same 2-D kernels.
Each call is one fused op (`kerasnp.ops._conv_pool.pool`): one tape node, the winners' indices
kept in its closure.
"""
from .. import _validate
from ..ops._conv_pool import pool
from ._padding import output_length, pads_2d
from .base import Layer, register

PADDINGS = ("valid", "same")
DATA_FORMATS = (None, "channels_last")


def check_data_format(value, owner):
    """Accept `None`/`"channels_last"`; refuse `"channels_first"` (kerasnp layers are NHWC)."""
    if value == "channels_first":
        raise ValueError(f"{_validate.describe(owner)}: data_format='channels_first' is not "
                         "supported; kerasnp layers are channels-last only. Valid: None, "
                         f"'channels_last'. Received: data_format={value!r}")
    return _validate.choice(value, "data_format", DATA_FORMATS, owner)


def check_rank(layer, input_shape, rank):
    """Refuse inputs that are not `(batch, <rank spatial axes>, channels)`."""
    if len(input_shape) != rank + 2:
        axes = "rows, cols" if rank == 2 else "steps"
        raise ValueError(f"{_validate.describe(layer)} expected input of rank {rank + 2} "
                         f"(batch, {axes}, channels), received shape {tuple(input_shape)}.")


def check_padding(value, owner):
    """`"valid"` or `"same"` (case-insensitive, as in Keras) -> lower-case string."""
    key = value.lower() if isinstance(value, str) else value
    return _validate.choice(key, "padding", PADDINGS, owner)


class _Pooling(Layer):
    """Shared validation, shapes and config of the local pooling layers (`_rank` 1 or 2)."""

    _rank = 2

    def __init__(self, pool_size, strides, padding, data_format, **kwargs):
        super().__init__(**kwargs)
        r = self._rank
        self.pool_size = _validate.int_tuple(pool_size, r, "pool_size", self)
        self.strides = (self.pool_size if strides is None
                        else _validate.int_tuple(strides, r, "strides", self))
        self.padding = check_padding(padding, self)
        self.data_format = check_data_format(data_format, self)
        # The kernels are 2-D: a 1-D pool is a (1, p) pool over a height-1 image.
        self._pool2 = self.pool_size if r == 2 else (1,) + self.pool_size
        self._strides2 = self.strides if r == 2 else (1,) + self.strides

    def build(self, input_shape):
        check_rank(self, input_shape, self._rank)
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        spatial = tuple(input_shape[1:1 + self._rank])
        out = tuple(output_length(d, k, s, self.padding)
                    for d, k, s in zip(spatial, self.pool_size, self.strides))
        if any(o is not None and o <= 0 for o in out):
            raise ValueError(f"{_validate.describe(self)}: pool_size {self.pool_size} does not fit "
                             f"the input's spatial size {spatial} with padding='valid'. Use a "
                             f"smaller pool or padding='same'. Received: input_shape="
                             f"{tuple(input_shape)}")
        return (input_shape[0],) + out + (input_shape[-1],)

    def call(self, inputs, training=None):
        shape = inputs.shape
        h, w = (shape[1], shape[2]) if self._rank == 2 else (1, shape[1])
        pads = pads_2d(h, w, self._pool2, self._strides2, self.padding)
        return pool(inputs, self._mode, self._pool2, self._strides2, pads)   # one node

    def get_config(self):
        cfg = super().get_config()
        unwrap = (lambda t: list(t)) if self._rank == 2 else (lambda t: t[0])
        cfg.update(pool_size=unwrap(self.pool_size), strides=unwrap(self.strides),
                   padding=self.padding, data_format=self.data_format)
        return cfg


class _ExtremumPooling(_Pooling):
    """Max or min pooling: the gradient goes to each window's winner (the first on ties)."""

    _mode = "max"


class _AveragePooling(_Pooling):
    """Average pooling over each window's in-bounds elements."""

    _mode = "avg"


_DOC_2D = """{what} pooling over 2-D windows of a channels-last image batch.

    Args:
        pool_size: int or tuple of 2 ints, the window `(rows, cols)`. Defaults to `(2, 2)`.
        strides: int, tuple of 2 ints or None (then equal to `pool_size`).
        padding: `"valid"` (no padding) or `"same"` (output `ceil(input / stride)`, extra padding
            at the bottom/right; padded positions {pad_note}).
        data_format: None or `"channels_last"` (the only layout kerasnp supports).

    Input shape: `(batch, rows, cols, channels)`.
    Output shape: `(batch, pooled_rows, pooled_cols, channels)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
        >>> keras.layers.{name}()(x)[0, :, :, 0].tolist()
        {example}
    """

_DOC_1D = """{what} pooling over windows of a channels-last sequence batch.

    Args:
        pool_size: positive int, the window length. Defaults to 2.
        strides: positive int or None (then equal to `pool_size`).
        padding: `"valid"` or `"same"` (output `ceil(steps / stride)`, extra padding at the end).
        data_format: None or `"channels_last"` (the only layout kerasnp supports).

    Input shape: `(batch, steps, channels)`.  Output shape: `(batch, pooled_steps, channels)`.
    """


@register
class MaxPooling2D(_ExtremumPooling):
    __doc__ = _DOC_2D.format(what="Max", name="MaxPooling2D", pad_note="never win",
                             example="[[5.0, 7.0], [13.0, 15.0]]")
    _mode = "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@register
class MinPooling2D(_ExtremumPooling):
    __doc__ = _DOC_2D.format(what="Min (kerasnp's own; Keras has no min pooling)",
                             name="MinPooling2D", pad_note="never win",
                             example="[[0.0, 2.0], [8.0, 10.0]]")
    _mode = "min"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@register
class AveragePooling2D(_AveragePooling):
    __doc__ = _DOC_2D.format(what="Average", name="AveragePooling2D",
                             pad_note="are not counted in the average",
                             example="[[2.5, 4.5], [10.5, 12.5]]")

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@register
class MaxPooling1D(_ExtremumPooling):
    __doc__ = _DOC_1D.format(what="Max")
    _rank, _mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@register
class MinPooling1D(_ExtremumPooling):
    __doc__ = _DOC_1D.format(what="Min (kerasnp's own)")
    _rank, _mode = 1, "min"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


@register
class AveragePooling1D(_AveragePooling):
    __doc__ = _DOC_1D.format(what="Average")
    _rank = 1

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


# Keras's short aliases.
MaxPool2D, MinPool2D, AvgPool2D = MaxPooling2D, MinPooling2D, AveragePooling2D
MaxPool1D, MinPool1D, AvgPool1D = MaxPooling1D, MinPooling1D, AveragePooling1D
