"""Random color augmentations (Keras 3's formulas), in training only: RandomGrayscale,
RandomInvert, RandomHue, RandomSaturation, RandomColorDegeneration, RandomSharpness.

Each draws one value per image from the layer's generator (`seed=` or `kerasnp.random.
set_random_seed` make it reproducible). They are written with ops, so a tape differentiates them.
"""
import numbers

import numpy as np

from .. import ops
from .augment_base import ColorLayer, grayscale, hsv_to_rgb, rgb_to_hsv, to_range
from .base import register


def _per_image(a, dtype):
    return np.asarray(a, dtype=dtype).reshape(-1, 1, 1, 1)


@register
class RandomGrayscale(ColorLayer):
    """Turns each image to grayscale (kept as 3 equal channels) with probability `factor`.

    Args:
        factor: probability in [0, 1] that an image is converted. Defaults to 0.5.
        data_format: None or `"channels_last"`.
        seed: optional int seed for this layer's generator.

    Input shape: `(batch, rows, cols, 3)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> gray = keras.layers.RandomGrayscale(factor=1.0)
        >>> gray(np.array([[[[255.0, 0.0, 0.0]]]]), training=True).round(2).ravel()
        array([76.22, 76.22, 76.22])
    """

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        if not (isinstance(factor, numbers.Real) and not isinstance(factor, bool)
                and 0 <= factor <= 1):
            raise ValueError(f"RandomGrayscale: argument `factor` must be a number in [0, 1] "
                             f"(the probability of converting an image). "
                             f"Received: factor={factor!r}")
        super().__init__(0.0, seed=seed, data_format=data_format, **kwargs)
        self.factor = factor

    def _apply(self, t, x, n):
        apply = _per_image(self._rng.random(n) < self.factor, bool)
        return ops.where(apply, grayscale(t, x.dtype), t)       # gray broadcasts over channels

    def get_config(self):
        cfg = super().get_config()
        del cfg["value_range"]
        return cfg


@register
class RandomInvert(ColorLayer):
    """Inverts each image (`low + high - x` with `(low, high) = value_range`) with a random
    probability drawn in the `factor` range.

    Args:
        factor: a number `p` in [0, 1] (the probability is drawn in `[0, p]`) or a pair
            `(low, high)` in [0, 1]. Defaults to 1.0.
        value_range: `(low, high)`, the range of the pixel values. Defaults to `(0, 255)`.
        seed: optional int seed for this layer's generator.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> inv = keras.layers.RandomInvert(factor=(1.0, 1.0))
        >>> inv(np.array([[[[0.0], [55.0]]]]), training=True).ravel()
        array([255., 200.])
    """

    _bounds, _rgb = (0.0, 1.0), False

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(factor, value_range, seed=seed, data_format=data_format, **kwargs)

    def _apply(self, t, x, n):
        p = self._uniform(n)
        apply = _per_image(self._rng.random(n) < p, bool)
        low, high = self.value_range
        return ops.where(apply, (low + high) - t, t)


@register
class RandomHue(ColorLayer):
    """Rotates each image's hue by a random amount: a shift in `[-f/2, f/2]` of the color
    wheel, with `f` drawn in the factor range and a random sign.

    Args:
        factor: a number `f` in [0, 1] (drawn in `[0, f]`) or a pair `(low, high)` in [0, 1].
            1.0 allows shifts up to half a turn.
        value_range: `(low, high)`, the range of the pixel values. Defaults to `(0, 255)`.
        data_format: None or `"channels_last"`.
        seed: optional int seed for this layer's generator.

    Input shape: `(batch, rows, cols, 3)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> hue = keras.layers.RandomHue((2 / 3, 2 / 3), value_range=(0, 1), seed=2)
        >>> hue(np.array([[[[1.0, 0.0, 0.0]]]]), training=True).round(6).ravel()  # red -> green
        array([0., 1., 0.])
    """

    _bounds = (0.0, 1.0)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor, value_range, seed=seed, data_format=data_format, **kwargs)

    def _apply(self, t, x, n):
        sign = np.where(self._rng.random(n) > 0.5, -1.0, 1.0)
        shift = np.asarray(sign * self._uniform(n) * 0.5, x.dtype).reshape(-1, 1, 1)
        h, s, v = rgb_to_hsv(to_range(t, self.value_range, (0, 1)))
        h = h + shift
        rgb = ops.clip(hsv_to_rgb(h, s, v), 0.0, 1.0)
        return to_range(rgb, (0, 1), self.value_range)


@register
class RandomSaturation(ColorLayer):
    """Scales each image's saturation by `f / (1 - f)`, `f` drawn in the factor range
    (0.5 keeps the image, 0 makes it gray, values near 1 saturate it fully); the new
    saturation is clipped to [0, 1].

    Args:
        factor: a number `f` in [-1, 1] (drawn in `[-|f|, |f|]`; negative draws give gray) or
            a pair `(low, high)` in [-1, 1].
        value_range: `(low, high)`, the range of the pixel values. Defaults to `(0, 255)`.
        data_format: None or `"channels_last"`.
        seed: optional int seed for this layer's generator.

    Input shape: `(batch, rows, cols, 3)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> sat = keras.layers.RandomSaturation((0.0, 0.0))
        >>> sat(np.array([[[[200.0, 100.0, 50.0]]]]), training=True).ravel()
        array([200., 200., 200.])
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor, value_range, seed=seed, data_format=data_format, **kwargs)

    def _apply(self, t, x, n):
        f = self._uniform(n)
        scale = np.asarray(f / (1.0 - f + 1e-7), x.dtype).reshape(-1, 1, 1)
        h, s, v = rgb_to_hsv(t)
        return hsv_to_rgb(h, ops.clip(s * scale, 0.0, 1.0), v)


@register
class RandomColorDegeneration(ColorLayer):
    """Blends each image toward its grayscale version: `y = clip(x + f (gray - x))`, `f` drawn
    in the factor range (negative values push colors away from gray).

    Args:
        factor: a number `f` in [-1, 1] (drawn in `[-|f|, |f|]`) or a pair `(low, high)` in
            [-1, 1].
        value_range: `(low, high)`, the range of the pixel values; outputs are clipped to it.
            Defaults to `(0, 255)`.
        data_format: None or `"channels_last"`.
        seed: optional int seed for this layer's generator.

    Input shape: `(batch, rows, cols, 3)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> deg = keras.layers.RandomColorDegeneration((1.0, 1.0))
        >>> deg(np.array([[[[255.0, 0.0, 0.0]]]]), training=True).round(2).ravel()
        array([76.22, 76.22, 76.22])
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor, value_range, seed=seed, data_format=data_format, **kwargs)

    def _apply(self, t, x, n):
        f = _per_image(self._uniform(n), x.dtype)
        y = t + f * (grayscale(t, x.dtype) - t)
        return ops.clip(y, *self.value_range)


@register
class RandomSharpness(ColorLayer):
    """Sharpens or blurs each image: `y = clip(x + (1 - 2f) (smooth(x) - x))` where `smooth`
    is a 3x3 filter (center 5/13, others 1/13, zero padding) and `f` is drawn in the factor
    range (f = 0.5 keeps the image, 0 smooths it, 1 sharpens it).

    Args:
        factor: a number `f` in [0, 1] (drawn in `[0, f]`) or a pair `(low, high)` in [0, 1].
        value_range: `(low, high)`, the range of the pixel values; outputs are clipped to it.
            Defaults to `(0, 255)`.
        data_format: None or `"channels_last"`.
        seed: optional int seed for this layer's generator.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> sharp = keras.layers.RandomSharpness((0.5, 0.5))
        >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
        >>> bool(np.allclose(sharp(x, training=True), x))
        True
    """

    _bounds, _rgb = (0.0, 1.0), False

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor, value_range, seed=seed, data_format=data_format, **kwargs)

    def _apply(self, t, x, n):
        f = _per_image(2.0 * self._uniform(n), x.dtype)
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = np.full((3, 3, x.shape[-1], 1), a, dtype=x.dtype)
        kernel[1, 1] = b
        smooth = ops.depthwise_conv(t, kernel, padding="same")
        return ops.clip(t + (1.0 - f) * (smooth - t), *self.value_range)

