"""Volumetric reshaping and spatial dropout (channels-last `(batch, depth, rows, cols, channels)`):
ZeroPadding3D, Cropping3D, UpSampling3D, SpatialDropout3D. Each call is one tape node."""
import numpy as np

from .. import _validate
from ..autodiff.tape import record
from ..ops._dispatch import value
from .base import Layer, register
from .pooling import check_data_format
from .pooling3d import check_rank_3d
from .reshaping import _pairs
from .spatial_dropout import _SpatialDropout


class _Volume(Layer):
    """Shared data_format check, rank check and config."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, self)

    def build(self, input_shape):
        check_rank_3d(self, input_shape)
        self.compute_output_shape(input_shape)

    def get_config(self):
        cfg = super().get_config()
        cfg["data_format"] = self.data_format
        return cfg


@register
class ZeroPadding3D(_Volume):
    """Adds planes, rows and columns of zeros around each volume.

    Args:
        padding: int (same on all six sides), tuple of 3 ints (symmetric per axis) or
            `((front, back), (top, bottom), (left, right))`. Defaults to `((1, 1),) * 3`.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, d, h, w, c)`.  Output shape: `(batch, d + pads, h + pads, w + pads, c)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.ZeroPadding3D(((1, 0), (0, 2), 1))(np.ones((1, 2, 2, 2, 3))).shape
        (1, 3, 4, 4, 3)
    """

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = _pairs(padding, "padding", self, 3)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(None if n is None else n + a + b
                                  for n, (a, b) in zip(input_shape[1:4], self.padding)),
                input_shape[-1])

    def call(self, inputs):
        x = value(inputs)
        inner = (slice(None),) + tuple(slice(a, a + n) for n, (a, _) in zip(x.shape[1:4],
                                                                            self.padding))
        y = np.zeros(self.compute_output_shape(x.shape), dtype=x.dtype)
        y[inner] = x                                                     # y = pad(x, 0)
        return record(y, lambda dy: np.ascontiguousarray(dy[inner]), inputs)   # dx = crop(dy)

    def get_config(self):
        cfg = super().get_config()
        cfg["padding"] = [list(p) for p in self.padding]
        return cfg


@register
class Cropping3D(_Volume):
    """Removes planes, rows and columns at the borders of each volume.

    Args:
        cropping: int (same on all six sides), tuple of 3 ints (symmetric per axis) or
            `((front, back), (top, bottom), (left, right))`. Defaults to `((1, 1),) * 3`.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, d, h, w, c)`.  Output shape: each spatial axis minus its croppings.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.Cropping3D(((1, 0), (0, 2), 1))(np.ones((1, 4, 4, 4, 3))).shape
        (1, 3, 2, 2, 3)
    """

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.cropping = _pairs(cropping, "cropping", self, 3)

    def compute_output_shape(self, input_shape):
        out = []
        for n, (a, b) in zip(input_shape[1:4], self.cropping):
            if n is not None and a + b >= n:
                raise ValueError(f"{_validate.describe(self)}: cropping {self.cropping} leaves "
                                 f"nothing of an input of shape {tuple(input_shape)}; each "
                                 f"axis must keep at least one position. Received: cropping="
                                 f"{self.cropping}")
            out.append(None if n is None else n - a - b)
        return (input_shape[0], *out, input_shape[-1])

    def call(self, inputs):
        x = value(inputs)
        inner = (slice(None),) + tuple(slice(a, n - b) for n, (a, b) in zip(x.shape[1:4],
                                                                            self.cropping))
        y = np.ascontiguousarray(x[inner])                               # y = crop(x)

        def vjp(dy):
            dx = np.zeros(x.shape, dtype=dy.dtype)
            dx[inner] = dy                                               # dx = pad(dy, 0)
            return dx
        return record(y, vjp, inputs)

    def get_config(self):
        cfg = super().get_config()
        cfg["cropping"] = [list(p) for p in self.cropping]
        return cfg


@register
class UpSampling3D(_Volume):
    """Repeats each plane, row and column `size` times (nearest neighbour).

    Args:
        size: int or tuple of 3 ints, the factors `(depth, rows, cols)`. Defaults to `(2, 2, 2)`.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, d, h, w, c)`.  Output shape: `(batch, d·s0, h·s1, w·s2, c)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.UpSampling3D((1, 2, 3))(np.ones((1, 2, 2, 2, 1))).shape
        (1, 2, 4, 6, 1)
    """

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.size = _validate.int_tuple(size, 3, "size", self)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(None if n is None else n * k
                                  for n, k in zip(input_shape[1:4], self.size)), input_shape[-1])

    def call(self, inputs):
        x = value(inputs)
        n, d, h, w, c = x.shape
        sd, sh, sw = self.size
        # y[i, a·sd + p, b·sh + q, e·sw + r] = x[i, a, b, e]: one broadcast copy
        y = np.empty((n, d, sd, h, sh, w, sw, c), dtype=x.dtype)
        y[...] = x[:, :, None, :, None, :, None, :]
        return record(y.reshape(n, d * sd, h * sh, w * sw, c),
                      lambda dy: dy.reshape(n, d, sd, h, sh, w, sw, c).sum(axis=(2, 4, 6)),
                      inputs)                                            # dx = Σ over each block

    def get_config(self):
        cfg = super().get_config()
        cfg["size"] = list(self.size)
        return cfg


@register
class SpatialDropout3D(_SpatialDropout):
    """Drops whole channels of a volume batch in training (mask shape `(batch, 1, 1, 1,
    channels)`), scaling the kept ones by 1/(1-rate). Does nothing in inference.

    Args:
        rate: float in [0, 1), the fraction of channels to drop.
        data_format: None or `"channels_last"`.
        seed: optional int seed for this layer's mask generator.

    Input shape: `(batch, d, h, w, c)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> y = keras.layers.SpatialDropout3D(0.5, seed=0)(np.ones((1, 2, 2, 2, 8)), training=True)
        >>> sorted(set(y.ravel().tolist())) in ([0.0, 2.0], [0.0], [2.0])
        True
    """

    _rank = 3

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, data_format=data_format, seed=seed, **kwargs)

    def build(self, input_shape):
        check_rank_3d(self, input_shape)

    def get_config(self):
        cfg = super().get_config()
        cfg["data_format"] = self.data_format
        return cfg
