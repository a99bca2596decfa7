"""Masking: marks the time steps whose features all equal `mask_value` as padding."""
import numpy as np

from .. import _validate
from ..autodiff.tape import record
from ..ops._dispatch import value
from .base import Layer, register


def _keep(x, mask_value):
    """`(batch, steps, 1)` booleans: True where some feature differs from `mask_value`."""
    return np.any(x != mask_value, axis=-1, keepdims=True)


@register
class Masking(Layer):
    """Masks a sequence's time steps: a step is skipped downstream when every feature of it
    equals `mask_value`.

    The output is the input with the skipped steps set to 0; the layers after it receive the
    mask `(batch, steps)` (True = a real step), as from `Embedding(mask_zero=True)`.

    Args:
        mask_value: the padding value (default 0.0).

    Input shape: `(batch, steps, features)` (any rank >= 2; the last axis is the features).
    Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]])
        >>> layer = keras.layers.Masking(mask_value=0.0)
        >>> layer.compute_mask(x).tolist()
        [[True, False, True]]
    """

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = _validate.number(mask_value, "mask_value", self)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        return _keep(np.asarray(value(inputs)), self.mask_value)[..., 0]

    def call(self, inputs):
        x = value(inputs)
        keep = _keep(x, self.mask_value).astype(x.dtype)
        # y = x·m with m = any(x != v) constant almost everywhere, so dx = dy·m
        return record(x * keep, lambda dy: dy * keep, inputs)

    def get_config(self):
        cfg = super().get_config()
        cfg["mask_value"] = self.mask_value
        return cfg
