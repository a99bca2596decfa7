"""Global pooling layers: average or max over all spatial positions, per channel (channels-last).

Every variant views its input as `(batch, positions, channels)` (a free reshape of a contiguous
NHWC or NSC array) and reduces the middle axis, as one fused op (one tape node).
"""
import numpy as np

from .. import _validate
from ..autodiff.tape import record
from ..ops._conv_pool import global_pool
from ..ops._dispatch import value
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


class _Masked1D:
    """The 1-D variants take a mask `(batch, steps)` and consume it (their output has no time
    axis, so no mask goes further)."""

    _rank = 1
    supports_masking = True

    def compute_mask(self, inputs, previous_mask=None):
        return None

    def call(self, inputs, mask=None):
        if mask is None:
            return global_pool(inputs, self._mode, self.keepdims)           # one node
        return masked_global_pool_1d(self, inputs, mask)


_MASK_NOTE = """
    Call arguments:
        mask: optional booleans `(batch, steps)`, True for real steps (an earlier layer's mask,
            e.g. from `Embedding(mask_zero=True)`). {how}
            A sequence without real steps gives 0.
"""


@register
class GlobalAveragePooling1D(_Masked1D, _GlobalAverage):
    __doc__ = _DOC.format(what="average", **_SHAPE_1D, extra=_MASK_NOTE.format(
        how="The average is over the real steps only, as in Keras."))


@register
class GlobalMaxPooling1D(_Masked1D, _GlobalMax):
    __doc__ = _DOC.format(what="max", **_SHAPE_1D, extra=_MAX_NOTE + _MASK_NOTE.format(
        how="The maximum is over the real steps only (kerasnp's\n            choice: Keras's "
            "GlobalMaxPooling1D ignores masks)."))


def masked_global_pool_1d(layer, inputs, mask):
    """Average or max over the real steps of `(n, t, c)` as one node (`mask` `(n, t)`)."""
    x = value(inputs)
    m = np.asarray(value(mask))
    if m.shape != x.shape[:2]:
        raise ValueError(f"{_validate.describe(layer)} expected a mask of shape (batch, steps) "
                         f"= {x.shape[:2]}, received shape {m.shape}.")
    m = m.astype(bool)
    n, t, c = x.shape
    keep = (n, 1, c) if layer.keepdims else (n, c)
    if layer._mode == "avg":
        w = m.astype(x.dtype)[:, :, None] / np.maximum(m.sum(1), 1).astype(x.dtype)[:, None, None]
        y = np.einsum("ntc,ntc->nc", x, np.broadcast_to(w, x.shape))    # y = Σ_t x·m / Σ_t m
        return record(y.reshape(keep), lambda dy: dy.reshape(n, 1, c) * w, inputs)   # dx = dy·w
    arg = np.where(m[:, :, None], x, -np.inf).argmax(axis=1)[:, None, :]   # first real maximum
    real = m.any(axis=1)[:, None]                                        # rows with a real step
    y = np.where(real, np.take_along_axis(x, arg, axis=1)[:, 0, :], 0).astype(x.dtype)

    def vjp(dy):
        dx = np.zeros(x.shape, dtype=dy.dtype)
        np.put_along_axis(dx, arg, (dy.reshape(n, c) * real)[:, None, :], axis=1)  # dx[argmax] = dy
        return dx
    return record(y.reshape(keep), vjp, inputs)


# Keras's short aliases.
GlobalAvgPool2D, GlobalMaxPool2D = GlobalAveragePooling2D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalMaxPool1D = GlobalAveragePooling1D, GlobalMaxPooling1D
