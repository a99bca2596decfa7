"""Regularization-by-noise layers: GaussianNoise."""
import numpy as np

from .. import _validate
from ..ops._dispatch import value
from . import _fused_basic
from .base import Layer, register


@register
class GaussianNoise(Layer):
    """Adds zero-mean Gaussian noise of standard deviation `stddev` in training only.

    Args:
        stddev: non-negative float.
        seed: optional int seed for this layer's noise generator.
    """

    supports_masking = True        # passes the mask on (Keras)

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = _validate.number(stddev, "stddev", self, low=0.0)
        self.seed = seed
        if seed is not None:
            self._rng = np.random.default_rng(_validate.non_negative_int(seed, "seed", self))

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs, training=None):
        if not training or self.stddev == 0.0:
            return inputs
        x = value(inputs)
        noise = self._rng.standard_normal(x.shape, dtype=np.float64 if x.dtype == np.float64
                                          else np.float32)
        noise = noise.astype(x.dtype, copy=False) * x.dtype.type(self.stddev)
        return _fused_basic.shift(inputs, noise)                       # d(x + ε)/dx = 1

    def get_config(self):
        cfg = super().get_config()
        cfg.update(stddev=self.stddev, seed=self.seed)
        return cfg
