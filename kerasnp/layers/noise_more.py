"""More regularization layers: GaussianDropout, AlphaDropout, ActivityRegularization.

The dropouts act in training only (`training=True`) and draw from the layer's own generator
(seeded by `seed`, else by `kerasnp.utils.set_random_seed`), saved with the model.
"""
import numpy as np

from .. import _validate, regularizers
from ..autodiff.tape import record
from ..ops._dispatch import value
from .base import Layer, register

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class _Noise(Layer):
    supports_masking = True

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _validate.rate(rate, "rate", self)
        self.seed = seed
        if seed is not None:
            self._rng = np.random.default_rng(_validate.non_negative_int(seed, "seed", self))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(rate=self.rate, seed=self.seed)
        return cfg


@register
class GaussianDropout(_Noise):
    """Multiplies the input by noise drawn from `N(1, rate / (1 - rate))` in training.

    Args:
        rate: float in [0, 1), the drop probability of the equivalent Dropout; the noise's
            standard deviation is `sqrt(rate / (1 - rate))`.
        seed: optional int seed for this layer's noise generator.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> layer = keras.layers.GaussianDropout(0.5, seed=0)
        >>> layer(np.ones((1, 3))).tolist()             # inference: unchanged
        [[1.0, 1.0, 1.0]]
    """

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        x = value(inputs)
        std = np.sqrt(self.rate / (1.0 - self.rate))
        noise = self._rng.standard_normal(x.shape, dtype=np.float64 if x.dtype == np.float64
                                          else np.float32)
        m = (noise * std + 1.0).astype(x.dtype, copy=False)
        return record(x * m, lambda dy: dy * m, inputs)                  # dx = dy·m


@register
class AlphaDropout(_Noise):
    """Dropout that keeps the mean and variance of SELU activations, in training only.

    Dropped units are set to SELU's negative saturation `-α·λ`, then the whole output is
    rescaled affinely (`a·x + b`) so that a zero-mean, unit-variance input keeps those moments.

    Args:
        rate: float in [0, 1), the drop probability.
        noise_shape: optional shape of the keep/drop mask (broadcast over the input; `None`
            entries take the input's size), e.g. `(batch, 1, features)` to drop the same
            features at every step.
        seed: optional int seed for this layer's mask generator.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.AlphaDropout(0.2)(np.ones((1, 2))).tolist()   # inference: unchanged
        [[1.0, 1.0]]
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.noise_shape = (None if noise_shape is None else
                            tuple(None if d is None else int(d) for d in noise_shape))

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        x = value(inputs)
        shape = x.shape
        if self.noise_shape is not None:
            if len(self.noise_shape) != x.ndim:
                raise ValueError(f"{_validate.describe(self)}: noise_shape must have the "
                                 f"input's rank {x.ndim}. Received: noise_shape="
                                 f"{self.noise_shape}, input shape {x.shape}")
            shape = tuple(s if d is None else d for d, s in zip(self.noise_shape, x.shape))
        keep = self._rng.random(shape, dtype=np.float32) >= self.rate
        p, alpha_p = self.rate, -_SELU_ALPHA * _SELU_SCALE
        a = ((1.0 - p) * (1.0 + p * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * p
        y = np.where(keep, x, x.dtype.type(alpha_p)) * x.dtype.type(a) + x.dtype.type(b)
        gain = (keep * a).astype(x.dtype)
        return record(y.astype(x.dtype, copy=False),
                      lambda dy: dy * gain, inputs)                      # dx = a·[kept]·dy

    def get_config(self):
        cfg = super().get_config()
        cfg["noise_shape"] = None if self.noise_shape is None else list(self.noise_shape)
        return cfg


@register
class ActivityRegularization(Layer):
    """Passes its input through and adds `(l1·Σ|x| + l2·Σx²) / batch_size` to the losses.

    Args:
        l1, l2: non-negative factors.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> layer = keras.layers.ActivityRegularization(l1=1.0)
        >>> _ = layer(np.ones((2, 3)))
        >>> float(layer.losses[0])
        3.0
    """

    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)        # ours is l1/l2 (Keras drops it too)
        super().__init__(**kwargs)
        self.l1 = _validate.number(l1, "l1", self, low=0.0)
        self.l2 = _validate.number(l2, "l2", self, low=0.0)
        self._reg = regularizers.L1L2(l1=self.l1, l2=self.l2)

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        a = value(inputs)
        n = a.shape[0] if a.ndim else 1                 # Keras averages over the batch
        reg = self._reg
        penalty = np.asarray(reg(a) / n, dtype=a.dtype if a.dtype.kind == "f" else None)
        self.add_loss(record(penalty, lambda g: g * reg.gradient(a) / n, inputs))
        return inputs

    def get_config(self):
        cfg = super().get_config()
        cfg.update(l1=self.l1, l2=self.l2)
        return cfg
