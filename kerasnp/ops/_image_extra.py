"""`ops.image` colour, crop/pad and resize ops (Keras 3 names, channels-last by default).

Images are `(H, W, C)` or a batch `(N, H, W, C)` (`data_format="channels_first"`: channels
before the spatial axes). Resizing is separable and linear: one weight matrix per spatial axis
(torch's kernels, which Keras's torch backend calls), so its VJP is the transposed matrices.
"""
import numpy as np

from .. import config
from ._dispatch import is_tracked, op, value
from ._helpers import floating, record
from ._arith import add, divide, equal, maximum, minimum, mod, multiply, subtract, where
from ._indexing import get_item
from ._shape import pad, stack


def image_format(data_format, name):
    fmt = data_format or config.image_data_format()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"{name}: data_format must be 'channels_last' or 'channels_first'. "
                         f"Received: data_format={data_format!r}")
    return fmt


def image_rank(a, name):
    if np.ndim(a) not in (3, 4):
        raise ValueError(f"{name}: expected rank 3 (one image) or rank 4 (a batch of images). "
                         f"Received: images.shape={np.shape(a)}")


def _channel_axis(a, fmt):
    return -1 if fmt == "channels_last" else -3


def _hw_axes(ndim, fmt):
    return (ndim - 3, ndim - 2) if fmt == "channels_last" else (ndim - 2, ndim - 1)


@op(name="image.rgb_to_grayscale")
def rgb_to_grayscale(images, data_format=None):
    """Luma `0.2989·R + 0.5870·G + 0.1140·B`, keeping a channel axis of size 1."""
    fmt = image_format(data_format, "rgb_to_grayscale")
    a, diff = floating(images)
    image_rank(a, "rgb_to_grayscale")
    ax = _channel_axis(a, fmt)
    if a.shape[ax] != 3:
        raise ValueError(f"rgb_to_grayscale: expected 3 channels. Received: images.shape="
                         f"{a.shape}, data_format={fmt!r}")
    w = np.array([0.2989, 0.5870, 0.1140], dtype=a.dtype)
    shape = [1] * a.ndim
    shape[ax] = 3
    w = w.reshape(shape)
    y = (a * w).sum(axis=ax, keepdims=True)
    if not (diff and is_tracked(images)):
        return y
    return record(y, lambda dy: dy * w, images)


def _split_channels(x, fmt):
    ax = _channel_axis(np.asarray(value(x)), fmt)
    key = [slice(None)] * np.ndim(value(x))
    parts = []
    for c in range(3):
        key[ax] = c
        parts.append(get_item(x, tuple(key)))
    return parts, ax


@op(name="image.rgb_to_hsv")
def rgb_to_hsv(images, data_format=None):
    """RGB in [0, 1] to HSV (hue in [0, 1)), written with ops so the tape differentiates it
    (away from the hue's discontinuities)."""
    fmt = image_format(data_format, "rgb_to_hsv")
    image_rank(value(images), "rgb_to_hsv")
    (r, g, b), ax = _split_channels(images, fmt)
    v = maximum(maximum(r, g), b)
    c = subtract(v, minimum(minimum(r, g), b))
    safe_c = where(equal(c, 0), 1.0, c)
    s = where(equal(v, 0), 0.0, divide(c, where(equal(v, 0), 1.0, v)))
    h = where(equal(v, r), divide(subtract(g, b), safe_c),
              where(equal(v, g), add(divide(subtract(b, r), safe_c), 2.0),
                    add(divide(subtract(r, g), safe_c), 4.0)))
    h = where(equal(c, 0), 0.0, mod(divide(h, 6.0), 1.0))
    return stack([h, s, v], axis=ax)


@op(name="image.hsv_to_rgb")
def hsv_to_rgb(images, data_format=None):
    """HSV (hue in [0, 1]) to RGB, written with ops (differentiable)."""
    fmt = image_format(data_format, "hsv_to_rgb")
    image_rank(value(images), "hsv_to_rgb")
    (h, s, v), ax = _split_channels(images, fmt)

    def channel(n):          # v - v·s·clip(min(k, 4 - k), 0, 1), k = (n + 6h) mod 6
        k = mod(add(multiply(h, 6.0), n), 6.0)
        t = minimum(maximum(minimum(k, subtract(4.0, k)), 0.0), 1.0)
        return subtract(v, multiply(multiply(v, s), t))
    return stack([channel(5.0), channel(3.0), channel(1.0)], axis=ax)


def _sides(first, last, target, size, what, name):
    """Keras's rule: exactly two of (top, bottom, target) are given; returns (first, last)."""
    given = sum(v is not None for v in (first, last, target))
    if given != 2:
        raise ValueError(f"{name}: give exactly two of the {what} arguments (before, after, "
                         f"target). Received: {first!r}, {last!r}, target={target!r}")
    if first is None:
        first = target - last - size if what == "padding" else size - last - target
    if last is None:
        last = target - first - size if what == "padding" else size - first - target
    left = size - first - last if what == "cropping" else 1
    for v in (first, last, left - 1):
        if v < 0:
            raise ValueError(f"{name}: the {what} must be >= 0 and fit the image (size "
                             f"{size}). Received: before={first}, after={last}, "
                             f"target={target}")
    return int(first), int(last)


@op(name="image.pad_images")
def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None, data_format=None):
    """Zero-pad images: for each axis give two of (before, after, target size)."""
    fmt = image_format(data_format, "pad_images")
    a = value(images)
    image_rank(a, "pad_images")
    hx, wx = _hw_axes(np.ndim(a), fmt)
    top, bottom = _sides(top_padding, bottom_padding, target_height, np.shape(a)[hx], "padding",
                         "pad_images")
    left, right = _sides(left_padding, right_padding, target_width, np.shape(a)[wx], "padding",
                         "pad_images")
    widths = [(0, 0)] * np.ndim(a)
    widths[hx], widths[wx] = (top, bottom), (left, right)
    return pad(images, widths)


@op(name="image.crop_images")
def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None, data_format=None):
    """Crop images: for each axis give two of (before, after, target size)."""
    fmt = image_format(data_format, "crop_images")
    a = value(images)
    image_rank(a, "crop_images")
    hx, wx = _hw_axes(np.ndim(a), fmt)
    h, w = np.shape(a)[hx], np.shape(a)[wx]
    top, bottom = _sides(top_cropping, bottom_cropping, target_height, h, "cropping",
                         "crop_images")
    left, right = _sides(left_cropping, right_cropping, target_width, w, "cropping",
                         "crop_images")
    key = [slice(None)] * np.ndim(a)
    key[hx], key[wx] = slice(top, h - bottom), slice(left, w - right)
    return get_item(images, tuple(key))


def _cubic(x, a):
    x = np.abs(x)
    return np.where(x <= 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0.0))


def resize_matrix(n_in, n_out, method, antialias):
    """The `(n_out, n_in)` matrix of a 1-D resize, as torch's `interpolate(align_corners=
    False)`: `nearest` is "nearest-exact"; `antialias` widens the bilinear/bicubic kernel by
    the downscale factor (torch's separable AA path)."""
    scale = n_in / n_out
    w = np.zeros((n_out, n_in))
    i = np.arange(n_out)
    if method == "nearest":
        w[i, np.minimum(np.floor((i + 0.5) * scale).astype(int), n_in - 1)] = 1.0
        return w
    if antialias:
        size = 2 if method == "bilinear" else 4
        support = size / 2 * scale if scale >= 1 else size / 2
        inv = 1 / scale if scale >= 1 else 1.0
        for o in range(n_out):
            center = scale * (o + 0.5)
            lo = max(int(center - support + 0.5), 0)
            hi = min(int(center + support + 0.5), n_in)
            t = (np.arange(lo, hi) - center + 0.5) * inv
            k = np.maximum(1 - np.abs(t), 0) if method == "bilinear" else _cubic(t, -0.5)
            w[o, lo:hi] = k / k.sum()
        return w
    src = (i + 0.5) * scale - 0.5
    if method == "bilinear":
        src = np.maximum(src, 0)
        i0 = np.floor(src).astype(int)
        frac = src - i0
        np.add.at(w, (i, np.minimum(i0, n_in - 1)), 1 - frac)
        np.add.at(w, (i, np.minimum(i0 + 1, n_in - 1)), frac)
        return w
    i0 = np.floor(src).astype(int)
    t = src - i0
    for off in (-1, 0, 1, 2):
        np.add.at(w, (i, np.clip(i0 + off, 0, n_in - 1)), _cubic(t - off, -0.75))
    return w


_METHODS = ("bilinear", "nearest", "bicubic")


@op(name="image.resize")
def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """Resize images to `size = (height, width)` with `bilinear`, `nearest` or `bicubic`
    interpolation (half-pixel centres; `antialias` filters when downscaling).
    `crop_to_aspect_ratio` / `pad_to_aspect_ratio` first centre-crop / pad (with `fill_value`)
    to the target's aspect ratio.

    Example:
        >>> ops.image.resize(np.ones((1, 8, 8, 3)), (4, 4)).shape
        (1, 4, 4, 3)
    """
    fmt = image_format(data_format, "resize")
    if interpolation not in _METHODS:
        raise ValueError(f"resize: interpolation must be one of {_METHODS} (lanczos is not "
                         f"offered). Received: interpolation={interpolation!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize: only one of crop_to_aspect_ratio and pad_to_aspect_ratio "
                         "can be True.")
    if fill_mode != "constant":
        raise ValueError(f"resize: fill_mode must be 'constant'. Received: fill_mode={fill_mode!r}")
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"resize: size must be (height, width) of positive ints. "
                         f"Received: size={size!r}")
    image_rank(value(images), "resize")
    x = images
    hx, wx = _hw_axes(np.ndim(value(x)), fmt)
    h, w = np.shape(value(x))[hx], np.shape(value(x))[wx]
    th, tw = int(size[0]), int(size[1])
    if crop_to_aspect_ratio:
        ch = max(min(h, int(w * th / tw)), 1)
        cw = max(min(w, int(h * tw / th)), 1)
        t0, l0 = int((h - ch) / 2), int((w - cw) / 2)
        x = crop_images.raw(x, t0, l0, None, None, ch, cw, data_format=fmt)
    elif pad_to_aspect_ratio:
        ph, pw = max(h, int(w * th / tw)), max(w, int(h * tw / th))
        t0, l0 = int((ph - h) / 2), int((pw - w) / 2)
        if t0 > 0 or l0 > 0:
            widths = [(0, 0)] * np.ndim(value(x))
            widths[hx], widths[wx] = (t0, t0), (l0, l0)
            x = pad(x, widths, constant_values=fill_value)
    a, diff = floating(x)
    mh = resize_matrix(a.shape[hx], th, interpolation, antialias).astype(a.dtype)
    mw = resize_matrix(a.shape[wx], tw, interpolation, antialias).astype(a.dtype)
    return separable(x, a, diff, mh, mw, hx, wx)



def separable(x, a, diff, mh, mw, hx, wx):
    """`a` (the float value of input `x`) times `mh` along axis `hx` and `mw` along axis `wx`
    (resize, gaussian_blur): one node, whose VJP applies the transposed matrices."""
    def apply(arr, m1, m2):
        out = np.moveaxis(np.tensordot(m1, arr, (1, hx)), 0, hx)
        return np.moveaxis(np.tensordot(m2, out, (1, wx)), 0, wx)
    y = apply(a, mh, mw)
    if not (diff and is_tracked(x)):
        return y
    return record(y, lambda dy: apply(np.asarray(dy), mh.T, mw.T), x)

__all__ = ["crop_images", "hsv_to_rgb", "pad_images", "resize", "rgb_to_grayscale",
           "rgb_to_hsv"]
