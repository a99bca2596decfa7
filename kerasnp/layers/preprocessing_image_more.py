"""More random image augmentations, in training only: RandomZoom, RandomContrast,
RandomBrightness (Keras 3's arguments and formulas).

Each draws one value per image from the layer's generator (`seed=` or `kerasnp.random.
set_random_seed` make it reproducible) and is the identity in inference. Zoom resamples like
RandomTranslation (see `image_sampling.py`); contrast and brightness are affine maps of each image
followed by a clip to `value_range`, so their gradients are the affine map's, zeroed where
clipped.
"""
import numbers

import numpy as np

from .. import _validate
from ..autodiff.tape import record
from .base import register
from .preprocessing import float_call_input
from .preprocessing_image import _RandomAffine, _RandomImageLayer


def _real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _zoom_range(value, arg, owner):
    """Keras's zoom factor forms: `f` -> (-|f|, |f|), `(low, high)` sorted; each in (-1, 1]."""
    items = (value,) if _real(value) else tuple(value) if isinstance(value, (list, tuple)) \
        else ()
    if not (_real(value) or len(items) == 2) or not all(
            _real(v) and -1.0 < v <= 1.0 for v in items):
        raise ValueError(f"{_validate.describe(owner)}: argument `{arg}` must be a number or a "
                         f"pair (low, high) of numbers in (-1, 1]. Received: {arg}={value!r}")
    if _real(value):
        return -abs(float(value)), abs(float(value))
    return tuple(sorted(float(v) for v in items))


def _value_range(value, owner):
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(
            _real(v) for v in value):
        raise ValueError(f"{_validate.describe(owner)}: argument `value_range` must be a pair "
                         f"(low, high) of numbers. Received: value_range={value!r}")
    return sorted(float(v) for v in value)


def _listed(value):
    """A factor as the config keeps it (tuples become lists, as JSON would)."""
    return list(value) if isinstance(value, tuple) else value


@register
class RandomZoom(_RandomAffine):
    """Zooms each image in or out about its centre by a random amount, in training only.

    Args:
        height_factor: float `f` (a vertical zoom drawn in [-f, f]) or a pair `(low, high)`,
            each in (-1, 1]. A zoom `z` reads the input over `1 + z` times the output's extent:
            positive values zoom out (the image shrinks), negative values zoom in.
        width_factor: the same for columns; None (default) zooms both axes by the same amount,
            keeping the aspect ratio.
        fill_mode: how pixels outside the input are read: `"reflect"` (d c b a | a b c d),
            `"wrap"` (a b c d | a b c d), `"constant"` (k k k k | a b c d, k = `fill_value`) or
            `"nearest"` (a a a a | a b c d). Defaults to `"reflect"`.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        seed: optional int seed for this layer's generator.
        fill_value: the value k of `fill_mode="constant"`. Defaults to 0.0.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> zoom = keras.layers.RandomZoom((-0.5, -0.5), interpolation="nearest")
        >>> zoom(np.arange(16.0).reshape(1, 4, 4, 1), training=True)[0, :, :, 0]
        array([[ 5.,  5.,  6.,  6.],
               [ 5.,  5.,  6.,  6.],
               [ 9.,  9., 10., 10.],
               [ 9.,  9., 10., 10.]])
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self._h_range = _zoom_range(height_factor, "height_factor", self)
        self._w_range = (None if width_factor is None
                         else _zoom_range(width_factor, "width_factor", self))
        self.height_factor = _listed(height_factor)
        self.width_factor = _listed(width_factor)

    def _coordinates(self, n, h, w):
        zy = 1.0 + self._rng.uniform(*self._h_range, size=n)
        zx = zy if self._w_range is None else 1.0 + self._rng.uniform(*self._w_range, size=n)
        cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
        rows = zy[:, None, None] * (np.arange(h, dtype=np.float64)[None, :, None] - cy) + cy
        cols = zx[:, None, None] * (np.arange(w, dtype=np.float64)[None, None, :] - cx) + cx
        return rows, cols                        # y[r, c] = x[cy + zy(r - cy), cx + zx(c - cx)]

    def get_config(self):
        cfg = super().get_config()
        cfg.update(height_factor=self.height_factor, width_factor=self.width_factor)
        return cfg


class _ValueRangeLayer(_RandomImageLayer):
    """Shared `factor`, `value_range` and config of RandomContrast and RandomBrightness."""

    _bounds = (-1.0, 1.0)

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.lower, self.upper = self._factor(factor)
        self.factor = _listed(factor)
        self.value_range = _value_range(value_range, self)

    def _factor(self, factor):
        """Keras's rule: `f` -> (max(-|f|, low bound), |f|); a pair is sorted; within bounds."""
        lo, hi = self._bounds
        items = (factor,) if _real(factor) else tuple(factor) \
            if isinstance(factor, (list, tuple)) else ()
        if not (_real(factor) or len(items) == 2) or not all(
                _real(v) and lo <= v <= hi for v in items):
            raise ValueError(f"{_validate.describe(self)}: argument `factor` must be a number or "
                             f"a pair (low, high) of numbers in [{lo:g}, {hi:g}]. "
                             f"Received: factor={factor!r}")
        if _real(factor):
            return max(-abs(float(factor)), lo), abs(float(factor))
        return tuple(sorted(float(v) for v in items))

    def call(self, inputs, training=None):
        x, src = float_call_input(self, inputs)
        if not training:
            return src
        return self._apply(x, src, self._draw(len(x)).astype(x.dtype))

    def _draw(self, n):
        return self._rng.uniform(self.lower, self.upper, size=(n, 1, 1, 1))

    def get_config(self):
        cfg = super().get_config()
        cfg.update(factor=self.factor, value_range=self.value_range)
        return cfg


@register
class RandomContrast(_ValueRangeLayer):
    """Scales each image's contrast by a random factor, in training only:
    `y = clip((x - mean) * c + mean, *value_range)`, with `mean` the per-channel mean over the
    image's pixels and `c` drawn in `[1 - lower, 1 + upper]`.

    Args:
        factor: float `f` in [0, 1] (Keras reads it as the range (0, f), so `c` is in
            `[1, 1 + f]`) or a pair `(lower, upper)` in [0, 1] (`c` in
            `[1 - lower, 1 + upper]`).
        value_range: `(low, high)`, the range of the pixel values; outputs are clipped to it.
            Defaults to `(0, 255)`.
        seed: optional int seed for this layer's generator.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> layer = keras.layers.RandomContrast((0.5, 0.5), value_range=(0, 1), seed=0)
        >>> x = np.array([0.2, 0.4, 0.6, 0.8]).reshape(1, 2, 2, 1)
        >>> float(np.ptp(layer(x, training=True))) <= 0.9      # contrast within [0.5, 1.5]
        True
    """

    _bounds = (0.0, 1.0)

    def _draw(self, n):
        return self._rng.uniform(1.0 - self.lower, 1.0 + self.upper, size=(n, 1, 1, 1))

    def _apply(self, x, src, c):
        mean = x.mean(axis=(1, 2), keepdims=True)
        z = (x - mean) * c + mean
        low, high = self.value_range
        inside = (z >= low) & (z <= high)
        y = np.clip(z, low, high)

        def vjp(dy):
            dz = dy * inside                             # the clip passes gradients inside
            return c * dz + (1 - c) * dz.mean(axis=(1, 2), keepdims=True)  # c·dz + (1-c)·mean dz
        return record(y, vjp, src)


@register
class RandomBrightness(_ValueRangeLayer):
    """Adds a random brightness offset to each image, in training only:
    `y = clip(x + d * (high - low), low, high)` with `(low, high) = value_range` and `d` drawn
    in the factor's range.

    Args:
        factor: float `f` in [-1, 1] (`d` drawn in [-|f|, |f|]) or a pair `(lower, upper)` in
            [-1, 1]: the offset as a fraction of the value range.
        value_range: `(low, high)`, the range of the pixel values; outputs are clipped to it.
            Defaults to `(0, 255)`.
        seed: optional int seed for this layer's generator.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> layer = keras.layers.RandomBrightness((0.1, 0.1), value_range=(0, 1))
        >>> layer(np.full((1, 1, 2, 1), 0.5), training=True).ravel()
        array([0.6, 0.6])
    """

    def _apply(self, x, src, d):
        low, high = self.value_range
        z = x + d * x.dtype.type(high - low)
        inside = (z >= low) & (z <= high)
        return record(np.clip(z, low, high), lambda dy: dy * inside, src)   # dx = dy where kept
