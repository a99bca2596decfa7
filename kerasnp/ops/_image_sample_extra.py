"""`ops.image` patches, blur and coordinate sampling (Keras 3 names): extract_patches,
gaussian_blur, map_coordinates, affine_transform.

All are linear in the image, so the image's VJP is the adjoint map (a fold, the transposed
blur matrices, a scatter of the interpolation weights). `map_coordinates` with `order=1` also
differentiates its coordinates.
"""
import numpy as np

from ._dispatch import is_tracked, op, value
from ._helpers import floating, need, record
from ._image_extra import image_format, image_rank, separable
from ._nn_pool_extra import _fold, _unfold

_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _same_pad(n, k, s, d):
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


@op(name="image.extract_patches")
def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                    data_format=None):
    """Patches of `size = (h, w)` (or an int) every `strides` (default: `size`), flattened into
    the channel axis in (row, column, channel) order: `(N, out_h, out_w, h·w·C)` channels-last.
    `padding`: `"valid"` or `"same"` (zeros, TF's split).

    Example:
        >>> ops.image.extract_patches(np.zeros((1, 6, 6, 3)), 2).shape
        (1, 3, 3, 12)
    """
    fmt = image_format(data_format, "extract_patches")
    a, diff = floating(images)
    image_rank(a, "extract_patches")
    if padding not in ("valid", "same"):
        raise ValueError("extract_patches: padding must be 'valid' or 'same'. "
                         f"Received: padding={padding!r}")
    k = (size, size) if np.isscalar(size) else tuple(size)
    s = k if strides is None else ((strides,) * 2 if np.isscalar(strides) else tuple(strides))
    d = (dilation_rate,) * 2 if np.isscalar(dilation_rate) else tuple(dilation_rate)
    if len(k) != 2 or len(s) != 2 or len(d) != 2 or min(k + s + d) < 1:
        raise ValueError("extract_patches: size, strides and dilation_rate must be positive "
                         f"ints or pairs. Received: size={size!r}, strides={strides!r}, "
                         f"dilation_rate={dilation_rate!r}")
    single = a.ndim == 3
    x = a[None] if single else a
    x = np.moveaxis(x, -1, 1) if fmt == "channels_last" else x        # (N, C, H, W)
    n, c, h, w = x.shape
    pads = [(0, 0), (0, 0)]
    if padding == "same":
        pads = [_same_pad(h, k[0], s[0], d[0]), _same_pad(w, k[1], s[1], d[1])]
    xp = np.pad(x, [(0, 0), (0, 0)] + pads)
    cols = _unfold(xp, k, d, (0, 0), s)
    hp, wp = xp.shape[2:]
    oh = (hp - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (wp - d[1] * (k[1] - 1) - 1) // s[1] + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"extract_patches: no patch fits the image. Received: "
                         f"images.shape={a.shape}, size={size!r}")
    y = cols.reshape(n, c, k[0], k[1], oh, ow).transpose(0, 4, 5, 2, 3, 1)
    y = y.reshape(n, oh, ow, k[0] * k[1] * c)
    if fmt == "channels_first":
        y = np.moveaxis(y, -1, 1)
    y = y[0] if single else y
    if not (diff and is_tracked(images)):
        return y

    def vjp(dy):
        g = np.asarray(dy)[None] if single else np.asarray(dy)
        g = np.moveaxis(g, 1, -1) if fmt == "channels_first" else g
        g = g.reshape(n, oh, ow, k[0], k[1], c).transpose(0, 5, 3, 4, 1, 2)
        full = _fold(g.reshape(n, c * k[0] * k[1], oh * ow), (hp, wp), k, d, (0, 0), s)
        full = full[:, :, pads[0][0]:pads[0][0] + h, pads[1][0]:pads[1][0] + w]
        full = np.moveaxis(full, 1, -1) if fmt == "channels_last" else full
        return full[0] if single else full
    return record(y, vjp, images)


def _blur_matrix(n, size, sigma, dtype):
    """`(n, n)`: zero-padded 'same' correlation with a normalised Gaussian of `size` taps."""
    t = np.arange(size) - (size - 1) / 2
    kern = np.exp(-0.5 * (t / sigma) ** 2)
    kern /= kern.sum()
    m = np.zeros((n, n), dtype=dtype)
    before = (size - 1) // 2
    for j, kv in enumerate(kern):
        off = j - before
        idx = np.arange(n)
        ok = (idx + off >= 0) & (idx + off < n)
        m[idx[ok], idx[ok] + off] += kv
    return m


@op(name="image.gaussian_blur")
def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Blur each channel with a Gaussian (zero padding, same size). As Keras's reference
    backend, `kernel_size[0]` and `sigma[0]` act along the width, `[1]` along the height."""
    fmt = image_format(data_format, "gaussian_blur")
    a, diff = floating(images)
    image_rank(a, "gaussian_blur")
    ks = (kernel_size,) * 2 if np.isscalar(kernel_size) else kernel_size
    ks = tuple(int(v) for v in ks)
    sg = tuple(float(v) for v in (sigma if not np.isscalar(sigma) else (sigma,) * 2))
    if len(ks) != 2 or len(sg) != 2 or min(ks) < 1 or min(sg) <= 0:
        raise ValueError("gaussian_blur: kernel_size must be two positive ints and sigma two "
                         f"positive numbers. Received: kernel_size={kernel_size!r}, "
                         f"sigma={sigma!r}")
    hx, wx = (a.ndim - 3, a.ndim - 2) if fmt == "channels_last" else (a.ndim - 2, a.ndim - 1)
    mh = _blur_matrix(a.shape[hx], ks[1], sg[1], a.dtype)
    mw = _blur_matrix(a.shape[wx], ks[0], sg[0], a.dtype)
    return separable(images, a, diff, mh, mw, hx, wx)


def _map_index(i, n, mode):
    """`(index, valid)` of integer grid indices `i` on an axis of size `n` under `mode`."""
    if mode == "constant":
        return np.clip(i, 0, n - 1), (i >= 0) & (i < n)
    if mode == "nearest":
        i = np.clip(i, 0, n - 1)
    elif mode == "wrap":
        i = np.mod(i, n)
    elif mode == "mirror":
        p = 2 * (n - 1)
        i = np.zeros_like(i) if p == 0 else np.mod(i, p)
        i = np.where(i >= n, p - i, i)
    else:                                                # reflect: the edge sample repeats
        i = np.mod(i, 2 * n)
        i = np.where(i >= n, 2 * n - 1 - i, i)
    return i, np.ones(i.shape, dtype=bool)


def _sample(a, coords, order, mode, fill):
    """Values of `a` (spatial axes first, then any trailing axes) at float `coords` (one array
    per spatial axis), with the corner indices and weights for the VJPs."""
    nd = len(coords)
    base = [np.floor(c).astype(np.int64) if order == 1 else np.round(c).astype(np.int64)
            for c in coords]
    frac = [c - b for c, b in zip(coords, base)]
    corners = []
    for bits in np.ndindex(*([2] * nd)) if order == 1 else [(0,) * nd]:
        idx, valid, w = [], True, 1.0
        for ax in range(nd):
            i, ok = _map_index(base[ax] + bits[ax], a.shape[ax], mode)
            idx.append(i)
            valid = valid & ok
            if order == 1:
                w = w * (frac[ax] if bits[ax] else 1 - frac[ax])
        corners.append((tuple(idx), valid, w, bits))
    extra = (1,) * (a.ndim - nd)                 # trailing (channel) axes broadcast
    out = 0
    for idx, valid, w, _ in corners:
        v = np.where(valid.reshape(valid.shape + extra), a[idx], fill)
        out = out + np.asarray(w).reshape(np.shape(w) + extra) * v
    return out, corners, frac


def _check_sampling(order, mode, name):
    if order not in (0, 1):
        raise ValueError(f"{name}: order must be 0 or 1. Received: order={order!r}")
    if mode not in _FILL_MODES:
        raise ValueError(f"{name}: fill_mode must be one of {_FILL_MODES}. "
                         f"Received: fill_mode={mode!r}")


@op(name="image.map_coordinates")
def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """`inputs` sampled at `coordinates` (shape `(inputs.ndim, ...)`), with nearest (`order=0`,
    halves rounded to even as Keras) or linear (`order=1`) interpolation; outside the grid
    per `fill_mode`: `constant` (`fill_value` for each outside neighbour), `nearest`, `wrap`,
    `mirror`, `reflect`."""
    _check_sampling(order, fill_mode, "map_coordinates")
    a, diff = floating(inputs)
    c, _ = floating(coordinates)
    if c.ndim < 1 or c.shape[0] != a.ndim:
        raise ValueError(f"map_coordinates: coordinates must have shape ({a.ndim}, ...), one "
                         f"row per input axis. Received: coordinates.shape={c.shape}, "
                         f"inputs.shape={a.shape}")
    y, corners, frac = _sample(a, list(c), order, fill_mode, fill_value)
    y = np.asarray(y, dtype=a.dtype)
    n1 = diff and is_tracked(inputs)
    n2 = order == 1 and need(coordinates, c)
    if not (n1 or n2):
        return y

    def vjp(dy):
        dy = np.asarray(dy)
        da = np.zeros_like(a) if n1 else None
        dc = np.zeros_like(c) if n2 else None
        for idx, valid, w, bits in corners:
            if n1:
                np.add.at(da, tuple(i[valid] for i in idx), (w * dy)[valid])
            if n2:
                v = np.where(valid, a[idx], fill_value)
                for ax in range(a.ndim):          # d w / d coord_ax = ±(product of the others)
                    other = np.ones_like(frac[0])
                    for e in range(a.ndim):
                        if e != ax:
                            other = other * (frac[e] if bits[e] else 1 - frac[e])
                    dc[ax] += dy * v * other * (1 if bits[ax] else -1)
        return da, dc
    return record(y, vjp, inputs, coordinates)


@op(name="image.affine_transform")
def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0, data_format=None):
    """Warp images by projective transforms `[a0, a1, a2, b0, b1, b2, c0, c1]` (one, or one per
    image): output pixel `(x, y)` reads the input at `((a0·x + a1·y + a2) / k, (b0·x + b1·y +
    b2) / k)`, `k = c0·x + c1·y + 1`. `interpolation`: `"bilinear"` or `"nearest"`."""
    fmt = image_format(data_format, "affine_transform")
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError("affine_transform: interpolation must be 'bilinear' or 'nearest'. "
                         f"Received: interpolation={interpolation!r}")
    _check_sampling(0, fill_mode, "affine_transform")
    a, diff = floating(images)
    image_rank(a, "affine_transform")
    t = np.asarray(value(transform), dtype=np.float64)
    single = a.ndim == 3
    x = a[None] if single else a
    x = np.moveaxis(x, 1, -1) if fmt == "channels_first" else x        # (N, H, W, C)
    t = t[None] if t.ndim == 1 else t
    if t.ndim != 2 or t.shape[1] != 8 or t.shape[0] not in (1, x.shape[0]):
        raise ValueError("affine_transform: transform must have shape (8,) or (batch, 8). "
                         f"Received: transform.shape={np.shape(value(transform))}")
    t = np.broadcast_to(t, (x.shape[0], 8))
    order = 1 if interpolation == "bilinear" else 0
    yy, xx = np.meshgrid(np.arange(x.shape[1]), np.arange(x.shape[2]), indexing="ij")

    def coords(b):
        a0, a1, a2, b0, b1, b2, c0, c1 = t[b]
        k = c0 * xx + c1 * yy + 1
        return [(b0 * xx + b1 * yy + b2) / k, (a0 * xx + a1 * yy + a2) / k]
    return _warp_sampled(images, a, x, coords, order, fill_mode, fill_value, fmt, single, diff)


def _warp_sampled(images, a, x, coords, order, fill_mode, fill_value, fmt, single, diff):
    """Shared by the per-image warps: sample each image `x[b]` (`x`: `(N, H, W, C)`) at
    `coords(b)` (called once per image, in order), restore `a`'s layout and dtype, and record
    one node whose VJP scatters the interpolation weights back onto the images."""
    outs, saved = [], []
    for b in range(x.shape[0]):
        out, corners, _ = _sample(x[b], coords(b), order, fill_mode, fill_value)
        outs.append(out)
        saved.append(corners)
    y = np.stack(outs).astype(a.dtype)
    y = np.moveaxis(y, -1, 1) if fmt == "channels_first" else y
    y = y[0] if single else y
    if not (diff and is_tracked(images)):
        return y

    def vjp(dy):
        g = np.asarray(dy)[None] if single else np.asarray(dy)
        g = np.moveaxis(g, 1, -1) if fmt == "channels_first" else g
        dx = np.zeros_like(x)
        for b, corners in enumerate(saved):
            for idx, valid, w, _ in corners:
                np.add.at(dx[b], tuple(i[valid] for i in idx),
                          (np.asarray(w)[..., None] * g[b])[valid])
        dx = np.moveaxis(dx, -1, 1) if fmt == "channels_first" else dx
        return dx[0] if single else dx
    return record(y, vjp, images)


__all__ = ["affine_transform", "extract_patches", "gaussian_blur", "map_coordinates"]
