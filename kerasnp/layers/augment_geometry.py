"""Random warps (Keras 3's draws and conventions), in training only: RandomShear,
RandomPerspective, RandomElasticTransform.

Each computes, for every output pixel, the input (row, col) it reads, then resamples through the
shared plan of `image_sampling.py` (`_RandomAffine.call`), whose backward pass is the exact
adjoint. Coordinates follow Keras's `affine_transform`: `x` is the column, `y` the row, and the
origin is the top-left pixel.
"""
import numpy as np

from .. import _validate, ops
from .augment_base import _real, factor_pair
from .base import register
from .preprocessing_image import _RandomAffine
from .preprocessing_image_more import _value_range


def _grid(h, w):
    return (np.arange(h, dtype=np.float64)[None, :, None],
            np.arange(w, dtype=np.float64)[None, None, :])


def gaussian_kernel(size, sigma):
    """Normalised 1-D Gaussian taps of odd `size` (Keras's gaussian_blur kernel)."""
    t = np.arange(size, dtype=np.float64) - (size - 1) / 2
    k = np.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


def blur_planes(a, krow, kcol):
    """Zero-padded separable blur of `(n, h, w)` planes (rows by `krow`, columns by `kcol`)."""
    ph, pw = len(krow) // 2, len(kcol) // 2
    p = np.pad(a, ((0, 0), (ph, ph), (0, 0)))
    a = sum(krow[i] * p[:, i:i + a.shape[1]] for i in range(len(krow)))
    p = np.pad(a, ((0, 0), (0, 0), (pw, pw)))
    return sum(kcol[j] * p[:, :, j:j + a.shape[2]] for j in range(len(kcol)))


@register
class RandomShear(_RandomAffine):
    """Shears each image by random amounts along x and y, in training only: the output pixel
    (row r, col c) reads the input at `(r + sy·c, c + sx·r)`, with `sx`, `sy` drawn in the
    factor ranges and one random sign per image for both.

    Args:
        x_factor: a number `f` in [0, 1] (drawn in `[-f, f]`) or a pair in [-1, 1]. Defaults
            to 0.0 (no horizontal shear).
        y_factor: the same for the vertical shear. Defaults to 0.0.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"reflect"` (default), `"wrap"`, `"constant"` or `"nearest"`.
        fill_value: the value of `fill_mode="constant"`. Defaults to 0.0.
        data_format: None or `"channels_last"`.
        seed: optional int seed for this layer's generator.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> shear = keras.layers.RandomShear(x_factor=(1.0, 1.0), fill_mode="constant",
        ...                                  interpolation="nearest", seed=1)
        >>> shear(np.arange(9.0).reshape(1, 3, 3, 1), training=True)[0, :, :, 0]
        array([[0., 1., 2.],
               [0., 3., 4.],
               [0., 0., 6.]])
    """

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear",
                 fill_mode="reflect", fill_value=0.0, data_format=None, seed=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        # A number f in [0, 1] means [-f, f]; pairs may be signed (the config keeps [-f, f]).
        self.x_factor = factor_pair(x_factor, (0, 1) if _real(x_factor) else (-1, 1),
                                    "x_factor", self)
        self.y_factor = factor_pair(y_factor, (0, 1) if _real(y_factor) else (-1, 1),
                                    "y_factor", self)
        if _real(x_factor):
            self.x_factor = [-abs(x_factor), abs(x_factor)]
        if _real(y_factor):
            self.y_factor = [-abs(y_factor), abs(y_factor)]

    def _coordinates(self, n, h, w):
        sign = np.where(self._rng.random(n) > 0.5, -1.0, 1.0)[:, None, None]
        sy = self._rng.uniform(*self.y_factor, size=n)[:, None, None] * sign
        sx = self._rng.uniform(*self.x_factor, size=n)[:, None, None] * sign
        r, c = _grid(h, w)
        return r + sy * c, c + sx * r

    def get_config(self):
        cfg = super().get_config()
        # Keras writes (-f, f) but its own constructor refuses negative pair entries: write the
        # number f for a symmetric range, which Keras and this layer both read as [-f, f].
        sym = lambda r: r[1] if r[0] == -r[1] else r                   # noqa: E731
        cfg.update(x_factor=sym(self.x_factor), y_factor=sym(self.y_factor),
                   data_format=self.data_format or "channels_last")
        return cfg


def homography(src, dst):
    """`(n, 8)` coefficients `a` with `src = ((a0 x + a1 y + a2), (a3 x + a4 y + a5)) /
    (a6 x + a7 y + 1)` at each of the 4 `dst` points `(x, y)` (shapes `(n, 4, 2)`)."""
    n = len(src)
    m = np.zeros((n, 8, 8))
    rhs = np.zeros((n, 8))
    for k in range(4):
        (sx, sy), (ex, ey) = src[:, k].T, dst[:, k].T
        one, zero = np.ones(n), np.zeros(n)
        m[:, 2 * k] = np.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], -1)
        m[:, 2 * k + 1] = np.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], -1)
        rhs[:, 2 * k], rhs[:, 2 * k + 1] = sx, sy
    return np.linalg.solve(m, rhs[..., None])[..., 0]


@register
class RandomPerspective(_RandomAffine):
    """Applies a random perspective warp to each image with a random probability, in training
    only: each corner moves by up to `scale / 2` times its own coordinates (Keras's draw), and
    the output reads the input through the homography that maps the moved corners back.
    Pixels from outside the image read `fill_value`.

    Args:
        factor: a number `p` in [0, 1] (the probability is drawn in `[0, p]`) or a pair in
            [0, 1]. Defaults to 1.0.
        scale: the strength of the warp, in [0, 1]. Defaults to 1.0.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_value: the value read outside the input. Defaults to 0.0.
        seed: optional int seed for this layer's generator.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> warp = keras.layers.RandomPerspective(factor=(1.0, 1.0), scale=0.0)  # no warp
        >>> x = np.arange(12.0).reshape(1, 3, 4, 1)
        >>> bool(np.allclose(warp(x, training=True), x))
        True
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0,
                 seed=None, data_format=None, **kwargs):
        super().__init__("constant", interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor_pair(factor, (0, 1), "factor", self)
        self.scale = _validate.number(scale, "scale", self, low=0.0, high=1.0)

    def _coordinates(self, n, h, w):
        p = self._rng.uniform(*self.factor, size=n)
        apply = self._rng.random(n) < p
        move = self._rng.uniform(-0.5 * self.scale, 0.5 * self.scale, size=(n, 4, 2))
        start = np.tile(np.array([[0.0, 0.0], [w - 1, 0.0], [0.0, h - 1], [w - 1, h - 1]]),
                        (n, 1, 1))
        end = start + start * move
        a = homography(start, end)
        a[~apply] = [1, 0, 0, 0, 1, 0, 0, 0]                   # the identity map
        a = a[:, :, None, None]
        y, x = _grid(h, w)
        den = a[:, 6] * x + a[:, 7] * y + 1.0
        return (a[:, 3] * x + a[:, 4] * y + a[:, 5]) / den, (a[:, 0] * x + a[:, 1] * y
                                                             + a[:, 2]) / den

    def get_config(self):
        cfg = super().get_config()
        del cfg["fill_mode"]
        cfg.update(factor=self.factor, scale=self.scale,
                   data_format=self.data_format or "channels_last")
        return cfg


@register
class RandomElasticTransform(_RandomAffine):
    """Displaces each pixel by a smooth random field with a random probability, in training
    only: Gaussian noise blurred with `sigma = 0.05 s · min(rows, cols)` (kernel size
    `int(6 sigma) | 1`), scaled by `alpha = 0.1 s · max(rows, cols)`, `s` drawn once per call
    in the `scale` range; the result is clipped to `value_range`.

    Args:
        factor: a number `p` in [0, 1] (the probability is drawn in `[0, p]`) or a pair in
            [0, 1]. Defaults to 1.0.
        scale: the distortion strength, a number in [0, 1] (drawn in `[0, scale]`) or a pair.
            Defaults to 1.0.
        interpolation: `"bilinear"` (default) or `"nearest"`.
        fill_mode: `"reflect"` (default), `"wrap"`, `"constant"` or `"nearest"`.
        fill_value: the value of `fill_mode="constant"`. Defaults to 0.0.
        value_range: `(low, high)`, the range of the pixel values. Defaults to `(0, 255)`.
        seed: optional int seed for this layer's generator.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> warp = keras.layers.RandomElasticTransform(seed=0)
        >>> x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3))
        >>> warp(x, training=True).shape
        (2, 32, 32, 3)
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_mode="reflect",
                 fill_value=0.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor_pair(factor, (0, 1), "factor", self)
        self.scale = factor_pair(scale, (0, 1), "scale", self)
        self.value_range = _value_range(value_range, self)

    def _coordinates(self, n, h, w):
        p = self._rng.uniform(*self.factor, size=n)
        apply = (self._rng.random(n) < p)[:, None, None]
        s = self._rng.uniform(*self.scale)
        alpha, sigma = max(h, w) * 0.1 * s, min(h, w) * 0.05 * s
        r, c = _grid(h, w)
        if sigma <= 0:
            return r + 0.0 * c, c + 0.0 * r
        k = gaussian_kernel(int(6 * sigma) | 1, sigma)
        dx = blur_planes(self._rng.standard_normal((n, h, w)) * sigma, k, k)
        dy = blur_planes(self._rng.standard_normal((n, h, w)) * sigma, k, k)
        return r + alpha * dy * apply, c + alpha * dx * apply

    def call(self, inputs, training=None):
        y = super().call(inputs, training=training)
        return ops.clip(y, *self.value_range) if training else y

    def get_config(self):
        cfg = super().get_config()
        cfg.update(factor=self.factor, scale=self.scale, value_range=self.value_range,
                   data_format=self.data_format or "channels_last")
        return cfg

