"""RandomGaussianBlur, RandomErasing and RandomColorJitter (Keras 3's draws), in training only.

Blur is a depthwise convolution and erasing a masked select, both written with ops; the
jitter chains this package's RandomBrightness, RandomContrast, RandomSaturation and RandomHue,
all drawing from the jitter's one generator.
"""
import numbers

import numpy as np

from .. import _validate, ops
from .augment_base import ColorLayer, factor_pair
from .augment_color import RandomHue, RandomSaturation
from .augment_geometry import gaussian_kernel
from .base import register
from .preprocessing_image_more import RandomBrightness, RandomContrast


def _odd_sizes(value, owner):
    items = (value, value) if isinstance(value, numbers.Integral) else value
    if not (isinstance(items, (list, tuple)) and len(items) == 2 and all(
            isinstance(k, numbers.Integral) and not isinstance(k, bool) and k > 0 and k % 2
            for k in items)):
        raise ValueError(f"{_validate.describe(owner)}: argument `kernel_size` must be an odd "
                         f"positive int or a pair of them. Received: kernel_size={value!r}")
    return [int(k) for k in items]


@register
class RandomGaussianBlur(ColorLayer):
    """Blurs each image with a Gaussian filter with a random probability, in training only.
    The two standard deviations are drawn once per call in the `sigma` range; the result is
    clipped to `value_range`.

    Args:
        factor: a number `p` in [0, 1] (the probability is drawn in `[0, p]`) or a pair in
            [0, 1]. Defaults to 1.0.
        kernel_size: odd int or pair of odd ints `(kx, ky)`: the filter's width and height.
            Defaults to 3.
        sigma: a number `s` in [0, 1] (drawn in `[0, s]`) or a pair in [0, 1]. Defaults to 1.0.
        value_range: `(low, high)`, the range of the pixel values. Defaults to `(0, 255)`.
        data_format: None or `"channels_last"`.
        seed: optional int seed for this layer's generator.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> blur = keras.layers.RandomGaussianBlur(factor=(1.0, 1.0), sigma=(1.0, 1.0))
        >>> x = np.zeros((1, 3, 3, 1)); x[0, 1, 1] = 255.0
        >>> blur(x, training=True)[0, :, :, 0].round(1)
        array([[19.2, 31.6, 19.2],
               [31.6, 52.1, 31.6],
               [19.2, 31.6, 19.2]])
    """

    _bounds, _rgb = (0.0, 1.0), False

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255),
                 data_format=None, seed=None, **kwargs):
        super().__init__(factor, value_range, seed=seed, data_format=data_format, **kwargs)
        self.kernel_size = _odd_sizes(kernel_size, self)
        self.sigma = factor_pair(sigma, (0, 1), "sigma", self)

    def _apply(self, t, x, n):
        p = self._uniform(n)
        apply = (self._rng.random(n) < p).reshape(-1, 1, 1, 1)
        sx, sy = self._rng.uniform(*self.sigma, size=2) + 1e-6
        kx, ky = self.kernel_size
        k2 = np.outer(gaussian_kernel(ky, sy), gaussian_kernel(kx, sx))   # (rows, cols)
        kernel = np.repeat(k2[:, :, None, None], x.shape[-1], axis=2).astype(x.dtype)
        blurred = ops.depthwise_conv(t, kernel, padding="same")
        return ops.clip(ops.where(apply, blurred, t), *self.value_range)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(kernel_size=self.kernel_size, sigma=self.sigma)
        return cfg


@register
class RandomErasing(ColorLayer):
    """Replaces a random rectangle of each image with a random probability, in training only.
    The rectangle's sides are `sqrt(s)` of the image's, `s` drawn in `scale` per side; the
    fill is `fill_value` or, when None, Gaussian noise times `value_range[1]`, clipped to
    `value_range`.

    Args:
        factor: a number `p` in [0, 1] (the probability is drawn in `[0, p]`) or a pair in
            [0, 1]. Defaults to 1.0.
        scale: a pair `(low, high)` in [0, 1] (or a number `s`: `[0, s]`): the area fraction
            range of each side. Defaults to `(0.02, 0.33)`.
        fill_value: None (noise), a number, or one number per channel. Defaults to None.
        value_range: `(low, high)`, the range of the pixel values. Defaults to `(0, 255)`.
        seed: optional int seed for this layer's generator.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> erase = keras.layers.RandomErasing((1.0, 1.0), scale=(1.0, 1.0), fill_value=7.0)
        >>> erase(np.ones((1, 2, 3, 1)), training=True)[0, :, :, 0]
        array([[7., 7., 7.],
               [7., 7., 7.]])
    """

    _bounds, _rgb = (0.0, 1.0), False

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):
        super().__init__(factor, value_range, seed=seed, data_format=data_format, **kwargs)
        self.scale = factor_pair(scale, (0, 1), "scale", self)
        if fill_value is not None:
            try:
                arr = np.asarray(fill_value, dtype=np.float64)
            except (TypeError, ValueError):
                arr = np.array([np.nan])
            if arr.ndim > 1 or not np.all(np.isfinite(arr)):
                raise ValueError(f"{_validate.describe(self)}: argument `fill_value` must be "
                                 f"None, a number or one number per channel. "
                                 f"Received: fill_value={fill_value!r}")
            fill_value = arr.tolist()
        self.fill_value = fill_value

    def _apply(self, t, x, n):
        n, h, w, c = x.shape
        side = np.sqrt(self._rng.uniform(*self.scale, size=(n, 2)))
        bounds = []
        for k, size in ((0, w), (1, h)):
            length = side[:, k] * size
            start = self._rng.random(n) * (size - length)
            bounds.append((start, start + length))
        (x0, x1), (y0, y1) = bounds
        cols, rows = np.arange(w)[None, None, :], np.arange(h)[None, :, None]
        box = ((cols >= x0[:, None, None]) & (cols < x1[:, None, None])
               & (rows >= y0[:, None, None]) & (rows < y1[:, None, None]))
        p = self._uniform(n)
        apply = (self._rng.random(n) < p)[:, None, None]
        if self.fill_value is None:
            fill = self._rng.standard_normal(x.shape) * self.value_range[1]
        else:
            fill = np.broadcast_to(np.asarray(self.fill_value), x.shape)
        fill = np.clip(fill, *self.value_range).astype(x.dtype)
        return ops.where((box & apply)[..., None], fill, t)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(scale=self.scale, fill_value=self.fill_value)
        return cfg


@register
class RandomColorJitter(ColorLayer):
    """Random brightness, contrast, saturation and hue changes, in that order, in training
    only; each factor that is None is skipped (see RandomBrightness, RandomContrast,
    RandomSaturation and RandomHue for their meaning).

    Args:
        value_range: `(low, high)`, the range of the pixel values. Defaults to `(0, 255)`.
        brightness_factor, contrast_factor, saturation_factor, hue_factor: the `factor` of
            each step, or None (default) to skip it.
        seed: optional int seed for this layer's generator.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, 3)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> jitter = keras.layers.RandomColorJitter(brightness_factor=(0.1, 0.1))
        >>> jitter(np.full((1, 1, 1, 3), 100.0), training=True).ravel()
        array([125.5, 125.5, 125.5])
    """

    _STEPS = (("brightness_factor", RandomBrightness), ("contrast_factor", RandomContrast),
              ("saturation_factor", RandomSaturation), ("hue_factor", RandomHue))

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None,
                 saturation_factor=None, hue_factor=None, seed=None, data_format=None,
                 **kwargs):
        super().__init__(0.0, value_range, seed=seed, data_format=data_format, **kwargs)
        given = dict(brightness_factor=brightness_factor, contrast_factor=contrast_factor,
                     saturation_factor=saturation_factor, hue_factor=hue_factor)
        self._steps = []
        for arg, cls in self._STEPS:
            factor = given[arg]
            setattr(self, arg, list(factor) if isinstance(factor, tuple) else factor)
            if factor is not None:
                self._steps.append(cls(factor, value_range=value_range, name=f"{arg[:-7]}"))

    def _apply(self, t, x, n):
        for step in self._steps:
            step._rng = self._rng                # one generator: one saved random state
            t = step.call(t, training=True)
        return t

    def get_config(self):
        cfg = super().get_config()
        del cfg["factor"]
        cfg.update({arg: getattr(self, arg) for arg, _ in self._STEPS})
        return cfg
