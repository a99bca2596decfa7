"""Compound augmentation policies (Keras 3's), in training only: RandAugment and AugMix.

Both compose this package's own augmentation layers, built with the policy's `factor`
(Keras's choice of arguments per layer), and all draw from the policy's one generator so one
seed (and one saved random state) fixes the whole policy.
"""
import numbers

import numpy as np

from .. import _validate, ops
from .augment_base import ColorLayer
from .augment_color import RandomColorDegeneration, RandomSharpness
from .augment_geometry import RandomShear
from .augment_tone import AutoContrast, Equalization, RandomPosterization, Solarization
from .base import register
from .image_sampling import INTERPOLATIONS
from .preprocessing_image import RandomRotation, RandomTranslation
from .preprocessing_image_more import RandomBrightness, RandomContrast

# Keras's op lists, in its order: geometric and tone ops, then the four "all_ops" color ops.
_BASE_OPS = ("random_shear", "random_translation", "random_rotation", "random_posterization",
             "solarization", "auto_contrast", "equalization")
_COLOR_OPS = ("random_brightness", "random_color_degeneration", "random_contrast",
              "random_sharpness")
_RAND_AUGMENT_OPS = _BASE_OPS[:3] + _COLOR_OPS + _BASE_OPS[3:]


def _make_ops(names, factor, value_range, interpolation):
    f, vr = list(factor), list(value_range)
    make = {
        "random_shear": lambda: RandomShear(f, f, interpolation=interpolation),
        "random_translation": lambda: RandomTranslation(f, f, interpolation=interpolation),
        "random_rotation": lambda: RandomRotation(f, interpolation=interpolation),
        "random_posterization": lambda: RandomPosterization(max(1, int(8 * f[1])),
                                                            value_range=vr),
        "solarization": lambda: Solarization(f, f, value_range=vr),
        "auto_contrast": lambda: AutoContrast(value_range=vr),
        "equalization": lambda: Equalization(value_range=vr),
        "random_brightness": lambda: RandomBrightness(f, value_range=vr),
        "random_color_degeneration": lambda: RandomColorDegeneration(f, value_range=vr),
        "random_contrast": lambda: RandomContrast(f, value_range=vr),
        "random_sharpness": lambda: RandomSharpness(f, value_range=vr),
    }
    return [make[name]() for name in names]


class _Policy(ColorLayer):
    """Shared arguments, sublayers and config of RandAugment and AugMix."""

    _bounds, _rgb = (0.0, 1.0), False

    def __init__(self, factor, value_range, interpolation, names, seed=None, data_format=None,
                 **kwargs):
        super().__init__(factor, value_range, seed=seed, data_format=data_format, **kwargs)
        self.interpolation = _validate.choice(interpolation, "interpolation",
                                              tuple(INTERPOLATIONS), self)
        self._ops = _make_ops(names, self.factor, self.value_range, interpolation)

    def build(self, input_shape):
        super().build(input_shape)
        for op in self._ops:
            op.build(input_shape)                 # a color op refuses non-RGB images here

    def _run(self, op, t):
        op._rng = self._rng                      # one generator for the whole policy
        return op.call(t, training=True)

    def get_config(self):
        cfg = super().get_config()
        cfg["interpolation"] = self.interpolation
        return cfg


def _count(value, arg, owner, low=1):
    if not (isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low):
        raise ValueError(f"{_validate.describe(owner)}: argument `{arg}` must be an int >= "
                         f"{low}. Received: {arg}={value!r}")
    return int(value)


@register
class RandAugment(_Policy):
    """Applies `num_ops` augmentations chosen at random (per call, with repeats) from shear,
    translation, rotation, posterization, solarization, auto-contrast, equalization,
    brightness, color degeneration, contrast and sharpness, each with strength `factor`.

    Args:
        value_range: `(low, high)`, the range of the pixel values. Defaults to `(0, 255)`.
        num_ops: how many augmentations to apply. Defaults to 2.
        factor: a number `f` in [0, 1] (the range `[0, f]`) or a pair in [0, 1]: the factor
            of every augmentation (posterization keeps `max(1, int(8 f))` bits at most).
            Defaults to 0.5.
        interpolation: `"bilinear"` (default) or `"nearest"`, for the geometric ops.
        seed: optional int seed for this layer's generator.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, 3)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> aug = keras.layers.RandAugment(num_ops=3, seed=0)
        >>> x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3))
        >>> y = aug(x, training=True)
        >>> y.shape, bool(np.array_equal(aug(x), x))
        ((2, 8, 8, 3), True)
    """

    _rgb = True                                   # its color ops need RGB images

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear",
                 seed=None, data_format=None, **kwargs):
        super().__init__(factor, value_range, interpolation, _RAND_AUGMENT_OPS, seed=seed,
                         data_format=data_format, **kwargs)
        self.num_ops = _count(num_ops, "num_ops", self, low=0)

    def _apply(self, t, x, n):
        for i in self._rng.integers(0, len(self._ops), size=self.num_ops):
            t = self._run(self._ops[i], t)
        return t

    def get_config(self):
        cfg = super().get_config()
        cfg["num_ops"] = self.num_ops
        return cfg


@register
class AugMix(_Policy):
    """AugMix: `num_chains` chains of up to `chain_depth` random augmentations (each step picks
    one op or none), mixed with Dirichlet(`alpha`) weights, then blended with the input by a
    Beta(`alpha`, `alpha`) weight and clipped to `value_range`.

    Args:
        value_range: `(low, high)`, the range of the pixel values. Defaults to `(0, 255)`.
        num_chains: number of chains. Defaults to 3.
        chain_depth: the most augmentations per chain. Defaults to 3.
        factor: a number `f` in [0, 1] (the range `[0, f]`) or a pair in [0, 1]: the factor
            of every augmentation. Defaults to 0.3.
        alpha: positive float, the Dirichlet and Beta parameter. Defaults to 1.0.
        all_ops: if True (default), also use brightness, color degeneration, contrast and
            sharpness; else only shear, translation, rotation, posterization, solarization,
            auto-contrast and equalization.
        interpolation: `"bilinear"` (default) or `"nearest"`, for the geometric ops.
        seed: optional int seed for this layer's generator.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, channels)` (3 channels with `all_ops=True`).
    Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> aug = keras.layers.AugMix(seed=0)
        >>> x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3))
        >>> y = aug(x, training=True)
        >>> y.shape, bool(0 <= y.min() and y.max() <= 255)
        ((2, 8, 8, 3), True)
    """

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3,
                 alpha=1.0, all_ops=True, interpolation="bilinear", seed=None,
                 data_format=None, **kwargs):
        all_ops = _validate.boolean(all_ops, "all_ops", "AugMix")
        super().__init__(factor, value_range, interpolation,
                         _BASE_OPS + (_COLOR_OPS if all_ops else ()), seed=seed,
                         data_format=data_format, **kwargs)
        self.all_ops = all_ops
        self._rgb = all_ops
        self.num_chains = _count(num_chains, "num_chains", self)
        self.chain_depth = _count(chain_depth, "chain_depth", self)
        if not (isinstance(alpha, numbers.Real) and not isinstance(alpha, bool) and alpha > 0):
            raise ValueError(f"{_validate.describe(self)}: argument `alpha` must be a positive "
                             f"number. Received: alpha={alpha!r}")
        self.alpha = alpha

    def _apply(self, t, x, n):
        weights = self._rng.dirichlet(np.full(self.num_chains, float(self.alpha)))
        blend = float(self._rng.beta(self.alpha, self.alpha))
        mixed = 0.0
        for w in weights:
            chain = t
            for pick in self._rng.integers(0, len(self._ops) + 1, size=self.chain_depth):
                if pick < len(self._ops):                  # the last choice means "skip"
                    chain = self._run(self._ops[pick], chain)
            mixed = mixed + float(w) * chain
        return ops.clip(blend * t + (1.0 - blend) * mixed, *self.value_range)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(num_chains=self.num_chains, chain_depth=self.chain_depth, alpha=self.alpha,
                   all_ops=self.all_ops)
        return cfg
