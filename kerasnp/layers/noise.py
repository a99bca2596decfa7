"""Regularization-by-noise layers: GaussianNoise."""
import numpy as np

from .. import _validate
from .base import Layer, register


@register
class GaussianNoise(Layer):
    """Adds zero-mean Gaussian noise of standard deviation `stddev` in training only.

    Args:
        stddev: non-negative float.
        seed: optional int seed for this layer's noise generator.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = _validate.number(stddev, "stddev", self, low=0.0)
        self.seed = seed
        if seed is not None:
            self._rng = np.random.default_rng(_validate.non_negative_int(seed, "seed", self))

    def forward(self, x, training=False):
        if not training or self.stddev == 0.0:
            return x
        noise = self._rng.standard_normal(x.shape, dtype=np.float64 if x.dtype == np.float64
                                          else np.float32)
        return x + noise.astype(x.dtype, copy=False) * x.dtype.type(self.stddev)

    def backward(self, dy):
        return dy                                                       # d(x + ε)/dx = 1

    def get_config(self):
        cfg = super().get_config()
        cfg.update(stddev=self.stddev, seed=self.seed)
        return cfg
