"""ContrastLimitedAdaptiveHistogramEqualization (CLAHE), with Keras 3's tiling, clipping and
interpolation; applied in training and inference alike, as in Keras. (Keras's torch backend
truncates the clip limit to an integer count; this layer keeps it fractional, as the formula
reads and as Keras's float histograms do.)

Each image is cut into `tile_grid_size` tiles (padded symmetrically to a whole number of
tiles); each tile's 256-bin histogram is clipped at `clip_limit` times the mean bin count, the
excess spread evenly, and turned into a lookup table. Every pixel reads the four nearest tiles'
tables and blends them bilinearly by its position between tile centres. The map is a lookup on
integer levels, so it carries no gradient.
"""
import numbers

import numpy as np

from .. import _validate
from .augment_base import ColorLayer, to_range
from .base import register

_BYTE = (0.0, 255.0)


def _tile_luts(tiles, clip_limit):
    """`(..., pixels)` integer levels -> `(..., 256)` normalised cumulative histograms."""
    count = tiles.shape[-1]
    flat = tiles.reshape(-1, count)
    keys = (np.arange(len(flat))[:, None] * 256 + flat).ravel()      # one bincount for all
    hist = np.bincount(keys, minlength=len(flat) * 256).reshape(-1, 256).astype(np.float64)
    if clip_limit > 0:
        limit = clip_limit * count / 256.0
        clipped = np.minimum(hist, limit)
        hist = clipped + (hist - clipped).sum(axis=-1, keepdims=True) / 256.0
    cdf = np.cumsum(hist, axis=-1)
    cdf_min = cdf.min(axis=-1, keepdims=True)
    denom = count - cdf_min
    denom = np.where(denom == 0, 1.0, denom)
    return np.clip((cdf - cdf_min) * 255.0 / denom, 0, 255).reshape(tiles.shape[:-1] + (256,))


def _blend_axis(size, tile, grid):
    """Neighbouring tile rows (in the edge-padded grid) and the weight of the second one."""
    g = (np.arange(size, dtype=np.float64) - tile / 2.0) / tile + 1.0
    i0 = np.floor(g)
    w = g - i0
    return (np.clip(i0, 0, grid + 1).astype(np.int64),
            np.clip(i0 + 1, 0, grid + 1).astype(np.int64), w)


def clahe(x, clip_limit, grid):
    """CLAHE of `(n, h, w, c)` images in 0-255 units (float64 in, float64 out)."""
    n, h, w, c = x.shape
    gh, gw = grid
    th, tw = -(-h // gh), -(-w // gw)
    p = np.pad(x, ((0, 0), (0, th * gh - h), (0, tw * gw - w), (0, 0)), mode="symmetric")
    levels = np.clip(p, 0, 255).astype(np.int64)
    tiles = levels.reshape(n, gh, th, gw, tw, c).transpose(0, 1, 3, 5, 2, 4)
    luts = _tile_luts(tiles.reshape(n, gh, gw, c, th * tw), clip_limit)   # (n, gh, gw, c, 256)
    luts = np.pad(luts, ((0, 0), (1, 1), (1, 1), (0, 0), (0, 0)), mode="edge")
    y0, y1, wy = _blend_axis(th * gh, th, gh)
    x0, x1, wx = _blend_axis(tw * gw, tw, gw)
    b = np.arange(n)[:, None, None, None]
    ch = np.arange(c)[None, None, None, :]

    def read(yi, xi):
        return luts[b, yi[None, :, None, None], xi[None, None, :, None], ch, levels]

    wy, wx = wy[None, :, None, None], wx[None, None, :, None]
    top = read(y0, x0) * (1 - wx) + read(y0, x1) * wx
    bottom = read(y1, x0) * (1 - wx) + read(y1, x1) * wx
    return (top * (1 - wy) + bottom * wy)[:, :h, :w]


@register
class ContrastLimitedAdaptiveHistogramEqualization(ColorLayer):
    """Contrast-limited adaptive histogram equalization (CLAHE) of each channel of each image,
    applied in training and inference alike (as in Keras).

    Args:
        value_range: `(low, high)`, the range of the pixel values. Defaults to `(0, 255)`.
        clip_limit: clip each tile's histogram at this multiple of its mean bin count (0 or
            less: no clipping). Defaults to 4.0.
        tile_grid_size: `(rows, cols)` of tiles. Defaults to `(8, 8)`.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, channels)`.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> clahe = keras.layers.ContrastLimitedAdaptiveHistogramEqualization(
        ...     tile_grid_size=(1, 1), clip_limit=0.0)
        >>> clahe(np.array([[[[10.0], [10.0], [20.0], [30.0]]]])).ravel()
        array([127.5 , 127.5 , 191.25, 255.  ])
    """

    _rgb, _always = False, True

    def __init__(self, value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8),
                 data_format=None, **kwargs):
        kwargs.pop("seed", None)
        super().__init__(0.0, value_range, data_format=data_format, **kwargs)
        self.clip_limit = _validate.number(clip_limit, "clip_limit", self)
        if not (isinstance(tile_grid_size, (list, tuple)) and len(tile_grid_size) == 2 and all(
                isinstance(g, numbers.Integral) and not isinstance(g, bool) and g > 0
                for g in tile_grid_size)):
            raise ValueError(f"{_validate.describe(self)}: argument `tile_grid_size` must be a "
                             f"pair of positive ints. Received: tile_grid_size={tile_grid_size!r}")
        self.tile_grid_size = [int(g) for g in tile_grid_size]

    def _apply(self, t, x, n):
        b = to_range(x.astype(np.float64), self.value_range, _BYTE)
        y = clahe(b, self.clip_limit, self.tile_grid_size)
        return to_range(y, _BYTE, self.value_range).astype(x.dtype)

    def get_config(self):
        cfg = super().get_config()
        for key in ("factor", "seed"):
            del cfg[key]
        cfg.update(clip_limit=self.clip_limit, tile_grid_size=self.tile_grid_size)
        return cfg
