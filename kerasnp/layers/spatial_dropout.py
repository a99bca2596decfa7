"""Spatial dropout: drop whole feature maps (channels) instead of single activations."""
import numpy as np

from .. import _validate
from ..ops._conv_norm import channel_mask
from ..ops._dispatch import value
from .base import Layer, register
from .pooling import check_data_format, check_rank


class _SpatialDropout(Layer):
    """Shared code: one keep/drop draw per (sample, channel), broadcast over positions."""

    supports_masking = True        # passes the mask on (Keras)

    _rank = 2

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _validate.rate(rate, "rate", self)
        self.data_format = check_data_format(data_format, self)
        self.seed = seed
        if seed is not None:
            self._rng = np.random.default_rng(_validate.non_negative_int(seed, "seed", self))

    def build(self, input_shape):
        check_rank(self, input_shape, self._rank)

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        a = value(inputs)
        shape = (a.shape[0],) + (1,) * self._rank + (a.shape[-1],)        # (n, 1, 1, c)
        keep = self._rng.random(shape, dtype=np.float32) >= self.rate
        mask = keep.astype(a.dtype) * a.dtype.type(1.0 / (1.0 - self.rate))
        return channel_mask(inputs, mask)                 # y = x·m/(1-rate), one node

    def get_config(self):
        cfg = super().get_config()
        cfg.update(rate=self.rate, seed=self.seed)
        if self._rank == 2:
            cfg["data_format"] = self.data_format
        return cfg


@register
class SpatialDropout2D(_SpatialDropout):
    """Drops whole channels of an image batch in training, scaling the kept ones by 1/(1-rate).

    Each (sample, channel) pair is kept or dropped as a unit (mask shape `(batch, 1, 1,
    channels)`), which suits convolutional feature maps whose neighbouring pixels are correlated.
    Does nothing in inference.

    Args:
        rate: float in [0, 1), the fraction of channels to drop.
        data_format: None or `"channels_last"`.
        seed: optional int seed for this layer's mask generator.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> y = keras.layers.SpatialDropout2D(0.5, seed=0)(np.ones((1, 2, 2, 8)), training=True)
        >>> sorted(set(y.ravel().tolist())) in ([0.0, 2.0], [0.0], [2.0])
        True
    """

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, data_format=data_format, seed=seed, **kwargs)


@register
class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of a sequence batch in training (mask shape `(batch, 1, channels)`).

    Args:
        rate: float in [0, 1), the fraction of channels to drop.
        seed: optional int seed for this layer's mask generator.

    Input shape: `(batch, steps, channels)`.  Output shape: same as input.
    """

    _rank = 1

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
