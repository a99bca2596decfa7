"""Spatial reshaping layers for channels-last images: ZeroPadding2D, Cropping2D, UpSampling2D."""
import numbers

import numpy as np

from .. import _validate
from ..autodiff.tape import record
from ..ops._dispatch import value
from .base import Layer, register
from .pooling import check_data_format, check_rank

INTERPOLATIONS = ("nearest",)


def _pairs(value, arg, owner, rank=2):
    """Keras's amount forms for `rank` spatial axes -> `rank` `(before, after)` pairs of
    non-negative ints (Zero/Cropping 2D and 3D).

    An int `a` means `((a, a),) * rank`; `rank` ints mean one symmetric pair per axis; `rank`
    pairs are taken as they are.
    """
    expected = f"an int, a tuple of {rank} ints or a tuple of {rank} tuples of 2 ints"
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        a = _validate.non_negative_int(value, arg, owner)
        return ((a, a),) * rank
    try:
        items = tuple(value)
    except TypeError:
        items = ()
    if len(items) != rank:
        _bad(owner, arg, expected, value)
    out = []
    for item in items:
        if isinstance(item, numbers.Integral) and not isinstance(item, bool):
            a = _validate.non_negative_int(item, arg, owner)
            out.append((a, a))
        else:
            try:
                out.append(_validate.int_tuple(item, 2, arg, owner, allow_zero=True))
            except (TypeError, ValueError):
                _bad(owner, arg, expected, value)
    return tuple(out)


def _bad(owner, arg, expected, value):
    raise ValueError(f"{_validate.describe(owner)}: argument `{arg}` must be {expected}. "
                     f"Received: {arg}={value!r}") from None


@register
class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around each image.

    Args:
        padding: int (same on all four sides), tuple of 2 ints `(rows, cols)` (symmetric), or
            `((top, bottom), (left, right))`. Defaults to `(1, 1)`.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, channels)`.
    Output shape: `(batch, rows + top + bottom, cols + left + right, channels)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.ZeroPadding2D(((1, 0), (0, 2)))(np.ones((1, 2, 2, 3))).shape
        (1, 3, 4, 3)
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding, "padding", self)
        self.data_format = check_data_format(data_format, self)

    def build(self, input_shape):
        check_rank(self, input_shape, 2)

    def compute_output_shape(self, input_shape):
        (t, b), (l, r) = self.padding
        grow = lambda d, k: None if d is None else d + k                 # noqa: E731
        return (input_shape[0], grow(input_shape[1], t + b), grow(input_shape[2], l + r),
                input_shape[3])

    def call(self, inputs):
        (t, b), (l, r) = self.padding
        x = value(inputs)
        n, h, w, c = x.shape
        y = np.zeros((n, h + t + b, w + l + r, c), dtype=x.dtype)
        y[:, t:t + h, l:l + w, :] = x                                    # y = pad(x, 0)
        return record(y, lambda dy: np.ascontiguousarray(dy[:, t:t + h, l:l + w, :]),
                      inputs)                                            # dx = crop(dy)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(padding=[list(p) for p in self.padding], data_format=self.data_format)
        return cfg


@register
class Cropping2D(Layer):
    """Removes rows and columns at the borders of each image.

    Args:
        cropping: int (same on all four sides), tuple of 2 ints `(rows, cols)` (symmetric), or
            `((top, bottom), (left, right))`. Defaults to `((0, 0), (0, 0))`.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, channels)`.
    Output shape: `(batch, rows - top - bottom, cols - left - right, channels)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.Cropping2D(((1, 0), (0, 2)))(np.ones((1, 4, 4, 3))).shape
        (1, 3, 2, 3)
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs(cropping, "cropping", self)
        self.data_format = check_data_format(data_format, self)

    def build(self, input_shape):
        check_rank(self, input_shape, 2)
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        out = [input_shape[0]]
        for d, (a, b) in zip(input_shape[1:3], self.cropping):
            if d is not None and a + b >= d:
                raise ValueError(f"{_validate.describe(self)}: cropping {self.cropping} leaves "
                                 f"nothing of an input of shape {tuple(input_shape)}; each "
                                 f"axis must keep at least one row/column. Received: cropping="
                                 f"{self.cropping}")
            out.append(None if d is None else d - a - b)
        return tuple(out) + (input_shape[3],)

    def call(self, inputs):
        (t, b), (l, r) = self.cropping
        x = value(inputs)
        h, w = x.shape[1:3]
        y = np.ascontiguousarray(x[:, t:h - b, l:w - r, :])               # y = crop(x)

        def vjp(dy):
            dx = np.zeros(x.shape, dtype=dy.dtype)
            dx[:, t:h - b, l:w - r, :] = dy                               # dx = pad(dy, 0)
            return dx
        return record(y, vjp, inputs)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(cropping=[list(p) for p in self.cropping], data_format=self.data_format)
        return cfg


@register
class UpSampling2D(Layer):
    """Repeats each row `size[0]` times and each column `size[1]` times (nearest neighbour).

    Args:
        size: int or tuple of 2 ints, the upsampling factors `(rows, cols)`. Defaults to `(2, 2)`.
        data_format: None or `"channels_last"`.
        interpolation: `"nearest"` (the only mode kerasnp implements).

    Input shape: `(batch, rows, cols, channels)`.
    Output shape: `(batch, rows·size[0], cols·size[1], channels)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> x = np.array([[1.0, 2.0]]).reshape(1, 1, 2, 1)
        >>> keras.layers.UpSampling2D((1, 2))(x)[0, 0, :, 0].tolist()
        [1.0, 1.0, 2.0, 2.0]
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = _validate.int_tuple(size, 2, "size", self)
        self.data_format = check_data_format(data_format, self)
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"{_validate.describe(self)}: interpolation={interpolation!r} is not "
                             f"supported by kerasnp. Valid: {', '.join(map(repr, INTERPOLATIONS))}"
                             f". Received: interpolation={interpolation!r}")
        self.interpolation = interpolation

    def build(self, input_shape):
        check_rank(self, input_shape, 2)

    def compute_output_shape(self, input_shape):
        grow = lambda d, k: None if d is None else d * k                 # noqa: E731
        return (input_shape[0], grow(input_shape[1], self.size[0]),
                grow(input_shape[2], self.size[1]), input_shape[3])

    def call(self, inputs):
        x = value(inputs)
        n, h, w, c = x.shape
        sh, sw = self.size
        # y[i, a·sh + p, b·sw + q] = x[i, a, b]: one broadcast copy instead of two repeats
        y = np.empty((n, h, sh, w, sw, c), dtype=x.dtype)
        y[...] = x[:, :, None, :, None, :]
        return record(y.reshape(n, h * sh, w * sw, c),
                      lambda dy: dy.reshape(n, h, sh, w, sw, c).sum(axis=(2, 4)),
                      inputs)                                            # dx = Σ over each block

    def get_config(self):
        cfg = super().get_config()
        cfg.update(size=list(self.size), data_format=self.data_format,
                   interpolation=self.interpolation)
        return cfg
