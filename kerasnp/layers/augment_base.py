"""Shared pieces of Keras 3's image-augmentation layers: factor and value-range parsing, the
color-layer base class, and RGB <-> HSV written with ops (so gradients flow through them).

Keras reads a `factor` as a number `f` (the range `(max(-f, low bound), f)`) or a pair
`(low, high)`, each inside the layer's bounds; the config keeps the parsed pair (a list here,
as JSON gives back). Pixel formulas work in a fixed range (0-255 or 0-1): `to_range` moves
values between `value_range` and that range.
"""
import numbers

import numpy as np

from .. import _validate, ops
from ..autodiff.tape import record
from ..ops._dispatch import value
from .preprocessing import float_call_input
from .preprocessing_image import _RandomImageLayer
from .preprocessing_image_more import _value_range

GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)          # Keras's rgb_to_grayscale weights


def _real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def factor_pair(value, bounds, arg, owner, number_low=None):
    """Keras's factor forms -> `[low, high]` within `bounds`, with a clear error otherwise.

    A number `f` gives `[number_low, f]` when `number_low` is set (Solarization reads `f` as
    `(0, f)`), else `[max(-|f|, bounds[0]), |f|]`; a pair is sorted.
    """
    lo, hi = bounds
    items = (value,) if _real(value) else tuple(value) if isinstance(value, (list, tuple)) else ()
    if not (_real(value) or len(items) == 2) or not all(_real(v) and lo <= v <= hi
                                                         for v in items):
        raise ValueError(f"{_validate.describe(owner)}: argument `{arg}` must be a number or a "
                         f"pair (low, high) of numbers in [{lo:g}, {hi:g}]. "
                         f"Received: {arg}={value!r}")
    if _real(value):
        f = abs(value)
        return [number_low if number_low is not None else max(-f, lo), f]
    return sorted(items)


def to_range(x, src_range, dst_range):
    """Affine map of pixel values from `src_range` onto `dst_range` (works on Tensors too)."""
    (a, b), (c, d) = src_range, dst_range
    if (a, b) == (c, d):
        return x
    return (x - a) * ((d - c) / (b - a)) + c


class ColorLayer(_RandomImageLayer):
    """Base of the color augmentations: `factor` within `_bounds`, `value_range`, a 3-channel
    check when `_rgb`, and `call` that returns the input unchanged outside training (or always
    applies, when `_always`). Subclasses implement `_apply(t, x, n)`: `t` is the input to record
    against (a Tensor under a tape, else `x`), `x` its float values, `n` the batch size."""

    _bounds = (-1.0, 1.0)
    _rgb = True
    _always = False

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_pair(factor, self._bounds, "factor", self)
        self.value_range = _value_range(value_range, self)

    def build(self, input_shape):
        super().build(input_shape)
        if self._rgb and input_shape[-1] not in (None, 3):
            raise ValueError(f"{_validate.describe(self)} expects RGB images: 3 channels on the "
                             f"last axis. Received: input shape {tuple(input_shape)}")

    def call(self, inputs, training=None):
        x, src = float_call_input(self, inputs)
        if not (training or self._always):
            return src
        # A watched ndarray only records through ops: start from a Tensor so operators do too.
        return self._apply(record(x, lambda dy: dy, src), x, len(x))

    def _uniform(self, n, low=None, high=None):
        low = self.factor[0] if low is None else low
        high = self.factor[1] if high is None else high
        return self._rng.uniform(low, high, size=n)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(factor=self.factor, value_range=self.value_range,
                   data_format=self.data_format or "channels_last")       # as Keras writes it
        return cfg


def grayscale(t, dtype):
    """`(n, h, w, 1)` luma of RGB images: the Keras weights on the last axis."""
    w = np.asarray(GRAY_WEIGHTS, dtype=dtype).reshape(3, 1)
    return ops.matmul(t, w)


def rgb_to_hsv(t):
    """RGB -> (hue in [0, 1), saturation, value) planes, each `(n, h, w)`; any scale of RGB."""
    r, g, b = t[..., 0], t[..., 1], t[..., 2]
    v = ops.maximum(ops.maximum(r, g), b)
    rng = v - ops.minimum(ops.minimum(r, g), b)
    vv, rv = value(v), value(rng)
    safe_v = ops.where(vv > 0, v, 1.0)
    safe_rng = ops.where(rv > 0, rng, 1.0)
    s = ops.where(vv > 0, rng / safe_v, 0.0)
    rn, gn = value(r), value(g)
    # The hue sector is picked by which channel holds the maximum (red first, then green).
    h = ops.where(vv == gn, (b - r) / (6.0 * safe_rng) + 2.0 / 6.0,
                  (r - g) / (6.0 * safe_rng) + 4.0 / 6.0)
    h = ops.where(vv == rn, (g - b) / (6.0 * safe_rng), h)
    h = ops.where(rv > 0, h, 0.0)
    h = ops.where(value(h) < 0, h + 1.0, h)
    return h, s, v


def hsv_to_rgb(h, s, v):
    """(hue, saturation, value) planes -> `(n, h, w, 3)` RGB images (inverse of rgb_to_hsv)."""
    dh = ops.mod(h, 1.0) * 6.0
    dr = ops.clip(ops.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = ops.clip(2.0 - ops.abs(dh - 2.0), 0.0, 1.0)
    db = ops.clip(2.0 - ops.abs(dh - 4.0), 0.0, 1.0)
    one_minus_s = 1.0 - s
    return ops.stack([v * (one_minus_s + s * d) for d in (dr, dg, db)], axis=-1)
