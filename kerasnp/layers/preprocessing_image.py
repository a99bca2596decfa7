"""Random image augmentation in training only: RandomFlip, RandomTranslation, RandomRotation.

Each draws its parameters per sample from the layer's own generator (`seed=` makes it
reproducible) and is the identity in inference. Translation and rotation resample the image: every
output pixel reads the input at a computed (row, col) coordinate, through `interpolation` taps and
the `fill_mode` rule for coordinates outside the image. That map is linear in the input, so the
backward pass is its exact adjoint: a scatter-add of `dy` with the same indices and weights.
"""
import numbers

import numpy as np

from .. import _validate
from ..autodiff.tape import record
from .base import Layer, register
from .image_sampling import FILL_MODES, INTERPOLATIONS, resample, resample_adjoint, sampling_plan
from .pooling import check_data_format, check_rank
from .preprocessing import float_call_input


def _factor_range(value, arg, owner):
    """Keras's factor forms: `f` -> (-|f|, |f|); `(low, high)` -> sorted; all within [-1, 1]."""
    real = lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool)   # noqa: E731
    items = (value,) if real(value) else tuple(value) if isinstance(value, (list, tuple)) else ()
    if not (real(value) or len(items) == 2) or not all(
            real(v) and -1.0 <= v <= 1.0 for v in items):
        raise ValueError(f"{_validate.describe(owner)}: argument `{arg}` must be a number or a "
                         f"pair (low, high) of numbers in [-1, 1]. Received: {arg}={value!r}")
    if real(value):
        return -abs(float(value)), abs(float(value))
    return tuple(sorted(float(v) for v in items))


class _RandomImageLayer(Layer):
    """Shared seed, data format, rank check and config of the random image layers."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        if seed is not None:
            self._rng = np.random.default_rng(_validate.non_negative_int(seed, "seed", self))
        self.data_format = check_data_format(data_format, self)

    def build(self, input_shape):
        check_rank(self, input_shape, 2)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(seed=self.seed, data_format=self.data_format)
        return cfg


@register
class RandomFlip(_RandomImageLayer):
    """Flips each image left-right and/or upside down with probability 1/2, in training only.

    Args:
        mode: `"horizontal"` (left-right), `"vertical"` (upside down) or
            `"horizontal_and_vertical"` (each flip drawn independently). Defaults to
            `"horizontal_and_vertical"`.
        seed: optional int seed for this layer's generator.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> flip = keras.layers.RandomFlip("horizontal", seed=2)
        >>> x = np.arange(4.0).reshape(1, 1, 4, 1)
        >>> flip(x, training=True).ravel(), flip(x).ravel()
        (array([3., 2., 1., 0.]), array([0., 1., 2., 3.]))
    """

    _AXES = {"horizontal": (2,), "vertical": (1,), "horizontal_and_vertical": (2, 1)}

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = _validate.choice(mode, "mode", tuple(self._AXES), self)

    def call(self, inputs, training=None):
        x, src = float_call_input(self, inputs)
        if not training:
            return src
        flips = [(axis, self._rng.random(len(x)) < 0.5) for axis in self._AXES[self.mode]]
        # The flips commute and each is its own inverse: the adjoint flips dy the same way.
        return record(_flip(x, flips), lambda dy: _flip(dy, flips), src)   # dx = flip(dy)

    def get_config(self):
        cfg = super().get_config()
        cfg["mode"] = self.mode
        return cfg


def _flip(a, flips):
    for axis, mask in flips:                           # y = flip(x) where drawn, else x
        a = np.where(mask[:, None, None, None], np.flip(a, axis), a)
    return a


class _RandomAffine(_RandomImageLayer):
    """Resampling layers: subclasses return input coordinates from `_coordinates(n, h, w)`."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.fill_mode = _validate.choice(fill_mode, "fill_mode", tuple(FILL_MODES), self)
        self.interpolation = _validate.choice(interpolation, "interpolation",
                                              tuple(INTERPOLATIONS), self)
        self.fill_value = _validate.number(fill_value, "fill_value", self)

    def call(self, inputs, training=None):
        x, src = float_call_input(self, inputs)
        if not training:
            return src
        rows, cols = self._coordinates(*x.shape[:3])
        plan = sampling_plan(rows, cols, x.shape, self.fill_mode, self.interpolation, x.dtype)
        y = resample(x, plan, self.fill_value)                          # y = S·x (+ fill)
        return record(y, lambda dy: resample_adjoint(dy, plan, x.shape), src)   # dx = Sᵀ·dy

    def get_config(self):
        cfg = super().get_config()
        cfg.update(fill_mode=self.fill_mode, interpolation=self.interpolation,
                   fill_value=self.fill_value)
        return cfg


@register
class RandomTranslation(_RandomAffine):
    """Shifts each image by a random fraction of its size, in training only.

    Args:
        height_factor: float `f` (shift by up to `f * rows` pixels either way) or a pair
            `(low, high)` of fractions in [-1, 1]; positive values shift the image down.
        width_factor: the same for columns; positive values shift the image right.
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
        >>> shift = keras.layers.RandomTranslation(0.0, (0.5, 0.5), fill_mode="constant")
        >>> shift(np.arange(1.0, 5.0).reshape(1, 1, 4, 1), training=True).ravel()
        array([0., 0., 1., 2.])
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self._h_range = _factor_range(height_factor, "height_factor", self)
        self._w_range = _factor_range(width_factor, "width_factor", self)
        self.height_factor = list(height_factor) if isinstance(height_factor, tuple) \
            else height_factor
        self.width_factor = list(width_factor) if isinstance(width_factor, tuple) \
            else width_factor

    def _coordinates(self, n, h, w):
        dr = self._rng.uniform(*self._h_range, size=n) * h            # shift in pixels
        dc = self._rng.uniform(*self._w_range, size=n) * w
        rows = np.arange(h, dtype=np.float64)[None, :, None] - dr[:, None, None]
        cols = np.arange(w, dtype=np.float64)[None, None, :] - dc[:, None, None]
        return rows, cols                              # y[r, c] = x[r - dr, c - dc]

    def get_config(self):
        cfg = super().get_config()
        cfg.update(height_factor=self.height_factor, width_factor=self.width_factor)
        return cfg


@register
class RandomRotation(_RandomAffine):
    """Rotates each image about its centre by a random angle, in training only.

    Args:
        factor: float `f` (rotate by up to `f * 2π` either way) or a pair `(low, high)` of
            fractions of a full turn in [-1, 1]; positive angles turn counter-clockwise, so
            `factor=(0.25, 0.25)` equals `np.rot90` on square images.
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
        >>> rot = keras.layers.RandomRotation((0.25, 0.25), interpolation="nearest")
        >>> rot(np.arange(4.0).reshape(1, 2, 2, 1), training=True)[0, :, :, 0]
        array([[1., 3.],
               [0., 2.]])
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self._range = _factor_range(factor, "factor", self)
        self.factor = list(factor) if isinstance(factor, tuple) else factor

    def _coordinates(self, n, h, w):
        theta = self._rng.uniform(*self._range, size=n) * (2.0 * np.pi)
        cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
        cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
        r = np.arange(h, dtype=np.float64)[None, :, None] - cy
        c = np.arange(w, dtype=np.float64)[None, None, :] - cx
        return sin * c + cos * r + cy, cos * c - sin * r + cx   # source of each output pixel

    def get_config(self):
        cfg = super().get_config()
        cfg["factor"] = self.factor
        return cfg
