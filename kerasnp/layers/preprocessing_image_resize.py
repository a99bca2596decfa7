"""Resizing and cropping layers: Resizing, CenterCrop, RandomCrop.

Resizing follows Keras 3's NumPy/JAX backends (`jax.image.resize`): each spatial axis is resized
by a dense weight matrix whose columns sample the input at pixel centres `(i + 0.5)·in/out - 0.5`
through the interpolation kernel (optionally widened by `antialias` when shrinking), so the whole
resize is `y = Whᵀ·x·Ww` per image and channel: two BLAS products forward, and the transposed
products backward. Crops are slices (their adjoint pads `dy` with zeros).
"""
import numpy as np

from .. import _validate
from ..autodiff.tape import record, unwrap
from .base import Layer, register
from .pooling import check_data_format, check_rank
from .preprocessing import float_call_input
from .preprocessing_image import _RandomImageLayer

_EPS32 = float(np.finfo(np.float32).eps)


def _triangle(x):
    return np.maximum(0.0, 1.0 - np.abs(x))


def _keys_cubic(x):                                    # Keys' cubic, a = -0.5
    out = ((1.5 * x - 2.5) * x) * x + 1.0
    out = np.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0, out)
    return np.where(x >= 2.0, 0.0, out)


def _lanczos(radius):
    def kernel(x):
        y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius)
        out = np.where(x > 1e-3, y / np.where(x != 0, np.pi ** 2 * x ** 2, 1.0), 1.0)
        return np.where(x > radius, 0.0, out)
    return kernel


_KERNELS = {"bilinear": _triangle, "bicubic": _keys_cubic, "lanczos3": _lanczos(3.0),
            "lanczos5": _lanczos(5.0)}
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5")


def resize_matrix(n_in, n_out, interpolation, antialias):
    """`(n_in, n_out)` float64 weights: output pixel j = Σᵢ W[i, j]·input pixel i (Keras's)."""
    if interpolation == "nearest":                     # floor((j + 0.5)·in/out), in float32
        src = np.floor((np.arange(n_out, dtype=np.float32) + 0.5) * n_in / n_out)
        w = np.zeros((n_in, n_out))
        w[src.astype(np.int64), np.arange(n_out)] = 1.0
        return w
    inv = n_in / n_out
    widen = max(inv, 1.0) if antialias else 1.0        # antialias: a wider kernel to shrink
    centre = (np.arange(n_out) + 0.5) * inv - 0.5
    w = _KERNELS[interpolation](np.abs(centre[None, :] - np.arange(n_in)[:, None]) / widen)
    total = w.sum(axis=0, keepdims=True)
    w = np.where(np.abs(total) > 1000.0 * _EPS32, w / np.where(total != 0, total, 1.0), 0.0)
    return np.where(((centre >= -0.5) & (centre <= n_in - 0.5))[None, :], w, 0.0)


def resize(x, src, height, width, interpolation, antialias):
    """Resize `(n, h, w, c)` images to `(n, height, width, c)`: one tape node."""
    n, h, w, c = x.shape
    wh = resize_matrix(h, height, interpolation, antialias).astype(x.dtype)
    ww = resize_matrix(w, width, interpolation, antialias).astype(x.dtype)
    t = np.matmul(wh.T, x.reshape(n, h, w * c))                       # rows: (n, H, w·c)
    y = np.matmul(ww.T, t.reshape(n * height, w, c)).reshape(n, height, width, c)

    def vjp(dy):
        dt = np.matmul(ww, dy.reshape(n * height, width, c))         # dT = Ww·dY
        return np.matmul(wh, dt.reshape(n, height, w * c)).reshape(x.shape)   # dX = Wh·dT
    return record(y, vjp, src)


def crop(x, src, top, left, height, width):
    """`x[:, top:top + height, left:left + width]` as one tape node (adjoint: zero padding)."""
    y = x[:, top:top + height, left:left + width]

    def vjp(dy):
        dx = np.zeros(x.shape, dy.dtype)
        dx[:, top:top + height, left:left + width] = dy
        return dx
    return record(np.ascontiguousarray(y), vjp, src)


def pad(x, src, top, left, height, width, fill_value):
    """`x` placed at (top, left) on a `(height, width)` canvas of `fill_value`."""
    n, h, w, c = x.shape
    y = np.full((n, height, width, c), fill_value, x.dtype)
    y[:, top:top + h, left:left + w] = x
    return record(y, lambda dy: np.ascontiguousarray(dy[:, top:top + h, left:left + w]), src)


def aspect_crop_box(h, w, height, width):
    """Keras's largest centred window of `h x w` with the aspect ratio of `height x width`."""
    ch = max(min(h, int(float(w * height) / width)), 1)
    cw = max(min(w, int(float(h * width) / height)), 1)
    return int(float(h - ch) / 2), int(float(w - cw) / 2), ch, cw


def crop_then_resize(x, src, height, width, interpolation="bilinear", antialias=False):
    """Keras's `smart_resize`: the centred crop of the target's aspect ratio, then resized."""
    top, left, ch, cw = aspect_crop_box(x.shape[1], x.shape[2], height, width)
    if (ch, cw) != x.shape[1:3]:
        src = crop(x, src, top, left, ch, cw)
        x = unwrap(src)
    if (ch, cw) == (height, width):
        return src
    return resize(x, src, height, width, interpolation, antialias)


def _size(value, arg, owner):
    return _validate.positive_int(value, arg, owner)


class _SizedLayer(Layer):
    """Shared `height`/`width`, data format, rank check and output shape."""

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = _size(height, "height", self)
        self.width = _size(width, "width", self)
        self.data_format = check_data_format(data_format, self)

    def build(self, input_shape):
        check_rank(self, input_shape, 2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, input_shape[-1])

    def get_config(self):
        cfg = super().get_config()
        cfg.update(height=self.height, width=self.width, data_format=self.data_format)
        return cfg


@register
class Resizing(_SizedLayer):
    """Resizes images to `(height, width)`, as Keras 3 (`jax.image.resize` semantics).

    Args:
        height, width: positive ints, the output size.
        interpolation: `"bilinear"` (default), `"nearest"`, `"bicubic"`, `"lanczos3"` or
            `"lanczos5"`.
        crop_to_aspect_ratio: crop the largest centred window of the output's aspect ratio
            first, so the image is not distorted.
        pad_to_aspect_ratio: pad the image evenly on both sides with `fill_value` to the
            output's aspect ratio first (at most one of the two).
        fill_mode: how padding is filled: only `"constant"`.
        fill_value: the padding value. Defaults to 0.0.
        antialias: widen the kernel when shrinking, so no pixel is skipped.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, channels)` (integer images give floats).
    Output shape: `(batch, height, width, channels)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> x = np.array([0.0, 1.0, 2.0, 3.0]).reshape(1, 2, 2, 1)
        >>> keras.layers.Resizing(3, 3)(x)[0, :, :, 0].round(3)
        array([[0. , 0.5, 1. ],
               [1. , 1.5, 2. ],
               [2. , 2.5, 3. ]])
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(height, width, data_format, **kwargs)
        self.interpolation = _validate.choice(interpolation, "interpolation", INTERPOLATIONS,
                                              self)
        self.crop_to_aspect_ratio = _validate.boolean(crop_to_aspect_ratio,
                                                      "crop_to_aspect_ratio", self)
        self.pad_to_aspect_ratio = _validate.boolean(pad_to_aspect_ratio, "pad_to_aspect_ratio",
                                                     self)
        if self.crop_to_aspect_ratio and self.pad_to_aspect_ratio:
            raise ValueError(f"{_validate.describe(self)}: only one of crop_to_aspect_ratio and "
                             "pad_to_aspect_ratio can be True. Received: both True")
        self.fill_mode = _validate.choice(fill_mode, "fill_mode", ("constant",), self)
        self.fill_value = _validate.number(fill_value, "fill_value", self)
        self.antialias = _validate.boolean(antialias, "antialias", self)

    def call(self, inputs):
        x, src = float_call_input(self, inputs)
        h, w = x.shape[1:3]
        if self.crop_to_aspect_ratio:
            return crop_then_resize(x, src, self.height, self.width, self.interpolation,
                                    self.antialias)
        if self.pad_to_aspect_ratio:
            ph = max(h, int(float(w * self.height) / self.width))
            pw = max(w, int(float(h * self.width) / self.height))
            top, left = int(float(ph - h) / 2), int(float(pw - w) / 2)
            if top or left:     # Keras pads the same amount on both sides
                src = pad(x, src, top, left, h + 2 * top, w + 2 * left, self.fill_value)
                x = unwrap(src)
        return resize(x, src, self.height, self.width, self.interpolation, self.antialias)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(interpolation=self.interpolation,
                   crop_to_aspect_ratio=self.crop_to_aspect_ratio,
                   pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_mode=self.fill_mode,
                   fill_value=self.fill_value, antialias=self.antialias)
        return cfg


@register
class CenterCrop(_SizedLayer):
    """Crops the centre `(height, width)` of each image; an image smaller than that along
    either axis is instead cropped to the target's aspect ratio and resized (bilinear), as Keras.

    Args:
        height, width: positive ints, the output size.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: `(batch, height, width,
    channels)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
        >>> keras.layers.CenterCrop(2, 2)(x)[0, :, :, 0]
        array([[ 5.,  6.],
               [ 9., 10.]])
    """

    def call(self, inputs):
        x, src = float_call_input(self, inputs)
        h, w = x.shape[1:3]
        if h >= self.height and w >= self.width:
            return crop(x, src, (h - self.height) // 2, (w - self.width) // 2, self.height,
                        self.width)
        return crop_then_resize(x, src, self.height, self.width)


@register
class RandomCrop(_RandomImageLayer):
    """Crops a random `(height, width)` window in training (one position for the whole batch,
    as Keras); in inference, and for images not larger than the window along both axes, the
    largest centred window of the target's aspect ratio, resized to `(height, width)`.

    Keras 3's current code returns inference inputs uncropped, unlike its documentation and its
    own `compute_output_shape`; here the output always has the documented shape.

    Args:
        height, width: positive ints, the output size.
        seed: optional int seed for this layer's generator.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: `(batch, height, width,
    channels)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> crop = keras.layers.RandomCrop(2, 2, seed=0)
        >>> crop(np.ones((3, 5, 5, 1)), training=True).shape
        (3, 2, 2, 1)
    """

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height = _size(height, "height", self)
        self.width = _size(width, "width", self)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, input_shape[-1])

    def call(self, inputs, training=None):
        x, src = float_call_input(self, inputs)
        h, w = x.shape[1:3]
        if training and h > self.height and w > self.width:
            top = int(self._rng.uniform(0, h - self.height + 1))
            left = int(self._rng.uniform(0, w - self.width + 1))
            return crop(x, src, top, left, self.height, self.width)
        return crop_then_resize(x, src, self.height, self.width)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(height=self.height, width=self.width)
        return cfg
