"""Tone-curve augmentations (Keras 3's formulas): RandomPosterization, Solarization (random,
training only), AutoContrast (always applied) and Equalization (training only).

Posterization and equalization map pixels through integer lookups: piecewise constant, so they
carry no gradient (as in Keras, where the cast to integers stops it). Solarization and
AutoContrast are written with ops, so the tape differentiates them.
"""
import numbers

import numpy as np

from .. import _validate, ops
from ..ops._dispatch import value
from .augment_base import ColorLayer, factor_pair, to_range
from .base import register

_BYTE = (0.0, 255.0)


class _NoRandomness(ColorLayer):
    """AutoContrast and Equalization: no factor, no seed (Keras's config has neither)."""

    def __init__(self, value_range=(0, 255), data_format=None, **kwargs):
        kwargs.pop("seed", None)
        super().__init__(0.0, value_range, data_format=data_format, **kwargs)
        self.factor = None

    def get_config(self):
        cfg = super().get_config()
        for key in ("factor", "seed"):
            del cfg[key]
        return cfg


@register
class RandomPosterization(ColorLayer):
    """Keeps only the top `b` bits of each 8-bit pixel value, `b` drawn per image as an
    integer in `[low, high)` of the factor range (or `low` when the two are equal).

    Args:
        factor: an int `b` in [1, 8] (bits drawn in `[1, b)`) or a pair `(low, high)` in [1, 8].
        value_range: `(low, high)`, the range of the pixel values (mapped to 0-255 for the bit
            operation and back). Defaults to `(0, 255)`.
        data_format: None or `"channels_last"`.
        seed: optional int seed for this layer's generator.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> post = keras.layers.RandomPosterization((2, 2))
        >>> post(np.array([[[[0.0], [100.0], [200.0], [255.0]]]]), training=True).ravel()
        array([  0.,  64., 192., 192.])
    """

    _bounds, _rgb = (1, 8), False

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor, value_range, seed=seed, data_format=data_format, **kwargs)

    def _apply(self, t, x, n):
        lo, hi = (int(f) for f in self.factor)
        bits = np.full(n, lo) if lo == hi else self._rng.integers(lo, hi, size=n)
        shift = (8 - bits).astype(np.uint8).reshape(-1, 1, 1, 1)
        b = np.clip(to_range(x, self.value_range, _BYTE), 0, 255).astype(np.uint8)
        b = np.left_shift(np.right_shift(b, shift), shift)
        return to_range(b.astype(x.dtype), _BYTE, self.value_range).astype(x.dtype)


@register
class Solarization(ColorLayer):
    """Adds a random offset then inverts the pixels at or above a random threshold, in 0-255
    units: `z = clip(x + a, 0, 255)`, `y = z if z < t else 255 - z`, with `a` drawn in
    `[addition_factor[0], 255 * addition_factor[1]]` and `t` in
    `[threshold_factor[0], 255 * threshold_factor[1]]` per image (Keras's draw).

    Args:
        addition_factor: a number `f` in [0, 1] (the range `(0, f)`) or a pair in [0, 1].
            Defaults to 0.0 (no offset).
        threshold_factor: the same for the threshold. Defaults to 0.0 (every pixel inverted).
        value_range: `(low, high)`, the range of the pixel values. Defaults to `(0, 255)`.
        seed: optional int seed for this layer's generator.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> sol = keras.layers.Solarization()          # threshold 0: every pixel inverted
        >>> sol(np.array([[[[10.0], [100.0], [200.0]]]]), training=True).ravel()
        array([245., 155.,  55.])
    """

    _rgb = False

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255),
                 seed=None, **kwargs):
        super().__init__(0.0, value_range, seed=seed, **kwargs)
        self.addition_factor = factor_pair(addition_factor, (0, 1), "addition_factor", self, 0)
        self.threshold_factor = factor_pair(threshold_factor, (0, 1), "threshold_factor", self,
                                            0)

    def _apply(self, t, x, n):
        shape = (n, 1, 1, 1)
        (a0, a1), (t0, t1) = self.addition_factor, self.threshold_factor
        add = self._rng.uniform(a0, a1 * 255, size=shape).astype(x.dtype)
        thr = self._rng.uniform(t0, t1 * 255, size=shape).astype(x.dtype)
        z = ops.clip(to_range(t, self.value_range, _BYTE) + add, 0.0, 255.0)
        y = ops.where(value(z) < thr, z, 255.0 - z)
        return to_range(y, _BYTE, self.value_range)

    def get_config(self):
        cfg = super().get_config()
        del cfg["factor"]
        cfg.update(addition_factor=self.addition_factor, threshold_factor=self.threshold_factor)
        return cfg


@register
class AutoContrast(_NoRandomness):
    """Stretches each channel of each image to the full `value_range`: its minimum maps to
    `low` and its maximum to `high` (a constant channel is kept). Applied in training and
    inference alike, as in Keras.

    Args:
        value_range: `(low, high)`, the range of the pixel values. Defaults to `(0, 255)`.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.AutoContrast()(np.array([[[[50.0], [100.0], [150.0]]]])).ravel()
        array([  0. , 127.5, 255. ])
    """

    _rgb, _always = False, True

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(value_range, **kwargs)

    def _apply(self, t, x, n):
        low = ops.min(t, axis=(1, 2), keepdims=True)
        high = ops.max(t, axis=(1, 2), keepdims=True)
        flat = value(high) == value(low)
        span = ops.where(flat, 1.0, high - low)
        lo, hi = self.value_range
        y = ops.clip((t - low) * ((hi - lo) / span) + lo, lo, hi)
        return ops.where(flat, t, y)


@register
class Equalization(_NoRandomness):
    """Histogram equalization of each channel of each image, in training only: pixel values
    (in 0-255 units) fall in `bins` bins and are mapped through the rounded, rescaled
    cumulative histogram, so the output levels spread over the full range.

    Args:
        value_range: `(low, high)`, the range of the pixel values. Defaults to `(0, 255)`.
        bins: number of histogram bins, an int in [2, 256]. Defaults to 256.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Keras 3 pools the histogram over the whole batch; this layer equalizes each image on its
    own (the same result for a batch of one).

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> eq = keras.layers.Equalization()
        >>> eq(np.array([[[[10.0], [10.0], [20.0], [30.0]]]]), training=True).ravel()
        array([  0.,   0., 128., 255.])
    """

    _rgb = False

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(value_range, data_format=data_format, **kwargs)
        if not (isinstance(bins, numbers.Integral) and not isinstance(bins, bool)
                and 2 <= bins <= 256):
            raise ValueError(f"{_validate.describe(self)}: argument `bins` must be an int in "
                             f"[2, 256]. Received: bins={bins!r}")
        self.bins = int(bins)

    def _apply(self, t, x, n):
        b = to_range(x.astype(np.float64), self.value_range, _BYTE)
        idx = np.clip(b * ((self.bins - 1) / 255.0), 0, self.bins - 1).astype(np.int64)
        out = np.empty_like(b)
        for i, ch in np.ndindex(n, x.shape[-1]):
            out[i, ..., ch] = _equalize(b[i, ..., ch], idx[i, ..., ch], self.bins)
        return to_range(out, _BYTE, self.value_range).astype(x.dtype)

    def get_config(self):
        cfg = super().get_config()
        cfg["bins"] = self.bins
        return cfg


def _equalize(channel, idx, bins):
    """One channel through its equalizing lookup table (kept when it has a single level)."""
    hist = np.bincount(idx.ravel(), minlength=bins)
    if np.count_nonzero(hist) <= 1:
        return channel
    cdf = np.cumsum(hist)
    cdf_min = cdf[np.flatnonzero(cdf)[0]]
    denom = max(cdf[-1] - cdf_min, 1)
    lut = np.clip(np.round((cdf - cdf_min) * 255.0 / denom), 0, 255)
    return lut[idx]

