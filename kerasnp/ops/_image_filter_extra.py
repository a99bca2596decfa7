"""`ops.image` filters (Keras 3 names): sobel_edges and ssim; extract_patches_3d and
scale_and_translate.

Both are built on separable per-axis matrices (a filter along the height times one along the
width), so the linear parts are one tape node whose VJP is the transposed matrices; ssim's
formula on top is written with ops.
"""
import numpy as np

from ._dispatch import is_tracked, op, value
from ._helpers import floating, record
from ._arith import add, divide, multiply, subtract
from ._image_extra import image_format, image_rank
from ._image_sample_extra import _same_pad
from ._reduce import mean
from ._shape import moveaxis, reshape


def _band(n, taps, before, valid=False):
    """The matrix of a 1-D correlation with `taps`: 'same' size with zero padding (`before`
    samples of the window left of the centre), or 'valid' (`valid=True`)."""
    k = len(taps)
    if valid:
        m = np.zeros((n - k + 1, n))
        for j, t in enumerate(taps):
            m[np.arange(n - k + 1), np.arange(n - k + 1) + j] += t
        return m
    m = np.zeros((n, n))
    idx = np.arange(n)
    for j, t in enumerate(taps):
        src = idx + j - before
        ok = (src >= 0) & (src < n)
        m[idx[ok], src[ok]] += t
    return m


def _separable(a, mh, mw, hx, wx):
    out = np.moveaxis(np.tensordot(mh, a, (1, hx)), 0, hx)
    return np.moveaxis(np.tensordot(mw, out, (1, wx)), 0, wx)


@op(name="image.sobel_edges")
def sobel_edges(images, data_format=None):
    """Sobel gradients of each channel (zero padding, same size), stacked on a new last axis
    as `[d/dy, d/dx]`: `(N, H, W, C, 2)` channels-last, `(N, C, H, W, 2)` channels-first."""
    fmt = image_format(data_format, "sobel_edges")
    a, diff = floating(images)
    image_rank(a, "sobel_edges")
    hx, wx = (a.ndim - 3, a.ndim - 2) if fmt == "channels_last" else (a.ndim - 2, a.ndim - 1)
    smooth, deriv = [1.0, 2.0, 1.0], [-1.0, 0.0, 1.0]
    mats = [(_band(a.shape[hx], deriv, 1), _band(a.shape[wx], smooth, 1)),     # d/dy
            (_band(a.shape[hx], smooth, 1), _band(a.shape[wx], deriv, 1))]     # d/dx
    mats = [(m1.astype(a.dtype), m2.astype(a.dtype)) for m1, m2 in mats]
    y = np.stack([_separable(a, m1, m2, hx, wx) for m1, m2 in mats], axis=-1)
    if not (diff and is_tracked(images)):
        return y

    def vjp(dy):
        dy = np.asarray(dy)
        return sum(_separable(dy[..., i], m1.T, m2.T, hx, wx) for i, (m1, m2) in enumerate(mats))
    return record(y, vjp, images)


def _gaussian_valid(x, size, sigma):
    """Valid 2-D Gaussian filtering of `(B, H, W)` as one node (separable matrices)."""
    a = np.asarray(value(x))
    t = np.arange(size) - (size - 1) / 2
    g = np.exp(-t * t / (2.0 * sigma * sigma))
    g /= g.sum()
    mh = _band(a.shape[1], g, 0, valid=True).astype(a.dtype)
    mw = _band(a.shape[2], g, 0, valid=True).astype(a.dtype)
    y = _separable(a, mh, mw, 1, 2)
    return record(y, lambda dy: _separable(np.asarray(dy), mh.T, mw.T, 1, 2), x)


@op(name="image.ssim")
def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         data_format=None):
    """Structural similarity of two images (or batches): local statistics under a valid
    `filter_size` Gaussian window, the SSIM map averaged over space and channels; one value per
    image (a scalar for single images). Differentiable in both images."""
    fmt = image_format(data_format, "ssim")
    a, _ = floating(image1)
    b, _ = floating(image2)
    image_rank(a, "ssim")
    if a.shape != b.shape:
        raise ValueError("ssim: image1 and image2 must have the same shape. Received: "
                         f"image1.shape={a.shape}, image2.shape={b.shape}")
    hw = a.shape[-3:-1] if fmt == "channels_last" else a.shape[-2:]
    if min(hw) < filter_size:
        raise ValueError(f"ssim: the images ({hw[0]}x{hw[1]}) must be at least filter_size="
                         f"{filter_size} in height and width. Received: image1.shape={a.shape}")
    single = a.ndim == 3
    x1, x2 = image1, image2
    if single:
        x1, x2 = reshape(x1, (1,) + a.shape), reshape(x2, (1,) + b.shape)
    if fmt == "channels_last":                     # (B, H, W, C) -> (B, C, H, W)
        x1, x2 = moveaxis(x1, -1, 1), moveaxis(x2, -1, 1)
    shape = np.shape(value(x1))
    n, c = shape[0], shape[1]
    x1, x2 = reshape(x1, (n * c,) + shape[2:]), reshape(x2, (n * c,) + shape[2:])

    def filt(v):
        return _gaussian_valid(v, filter_size, filter_sigma)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mu1, mu2 = filt(x1), filt(x2)
    mu11, mu22, mu12 = multiply(mu1, mu1), multiply(mu2, mu2), multiply(mu1, mu2)
    s11 = subtract(filt(multiply(x1, x1)), mu11)
    s22 = subtract(filt(multiply(x2, x2)), mu22)
    s12 = subtract(filt(multiply(x1, x2)), mu12)
    num = multiply(add(multiply(mu12, 2.0), c1), add(multiply(s12, 2.0), c2))
    den = multiply(add(add(mu11, mu22), c1), add(add(s11, s22), c2))
    per = mean(reshape(mean(divide(num, den), axis=(1, 2)), (n, c)), axis=-1)
    return reshape(per, ()) if single else per


def _triple(v, arg):
    t = (v,) * 3 if np.isscalar(v) else tuple(v)
    if len(t) != 3 or any(int(i) < 1 for i in t):
        raise ValueError(f"extract_patches_3d: {arg} must be a positive int or 3 of them. "
                         f"Received: {arg}={v!r}")
    return tuple(int(i) for i in t)


@op(name="image.extract_patches_3d")
def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid",
                       data_format=None):
    """Patches of `size = (d, h, w)` (or an int) from volumes `(N, D, H, W, C)` (channels-last)
    every `strides` (default: `size`), flattened in (depth, row, column, channel) order:
    `(N, out_d, out_h, out_w, d·h·w·C)`. `padding`: `"valid"` or `"same"` (zeros, TF's split)."""
    fmt = image_format(data_format, "extract_patches_3d")
    a, diff = floating(volumes)
    if a.ndim not in (4, 5):
        raise ValueError("extract_patches_3d: expected rank 4 (one volume) or 5 (a batch). "
                         f"Received: volumes.shape={a.shape}")
    if padding not in ("valid", "same"):
        raise ValueError("extract_patches_3d: padding must be 'valid' or 'same'. "
                         f"Received: padding={padding!r}")
    k = _triple(size, "size")
    st = k if strides is None else _triple(strides, "strides")
    dl = _triple(dilation_rate, "dilation_rate")
    single = a.ndim == 4
    x = a[None] if single else a
    x = np.moveaxis(x, 1, -1) if fmt == "channels_first" else x          # (N, D, H, W, C)
    pads = [(0, 0)] * 3
    if padding == "same":
        pads = [_same_pad(x.shape[1 + i], k[i], st[i], dl[i]) for i in range(3)]
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    outs = [(xp.shape[1 + i] - dl[i] * (k[i] - 1) - 1) // st[i] + 1 for i in range(3)]
    if min(outs) < 1:
        raise ValueError(f"extract_patches_3d: no patch fits the volume. Received: "
                         f"volumes.shape={a.shape}, size={size!r}")
    windows = []
    for off in np.ndindex(*k):
        windows.append(tuple(slice(off[i] * dl[i], off[i] * dl[i] + st[i] * (outs[i] - 1) + 1,
                                   st[i]) for i in range(3)))
    y = np.stack([xp[(slice(None),) + w] for w in windows], axis=-2)
    y = y.reshape(y.shape[:4] + (-1,))
    y = np.moveaxis(y, -1, 1) if fmt == "channels_first" else y
    y = y[0] if single else y
    if not (diff and is_tracked(volumes)):
        return y

    def vjp(dy):
        g = np.asarray(dy)[None] if single else np.asarray(dy)
        g = np.moveaxis(g, 1, -1) if fmt == "channels_first" else g
        g = g.reshape(g.shape[:4] + (len(windows), x.shape[-1]))
        full = np.zeros(xp.shape, dtype=g.dtype)
        for j, w in enumerate(windows):
            full[(slice(None),) + w] += g[..., j, :]
        full = full[(slice(None),) + tuple(slice(p[0], p[0] + x.shape[1 + i])
                                           for i, p in enumerate(pads))]
        full = np.moveaxis(full, -1, 1) if fmt == "channels_first" else full
        return full[0] if single else full
    return record(y, vjp, volumes)


def _kernel(method, x):
    """Resampling kernels of `scale_and_translate` at distances `x >= 0`."""
    if method == "linear":
        return np.maximum(0.0, 1 - x)
    if method == "cubic":                               # Keys, a = -0.5
        near = ((1.5 * x - 2.5) * x) * x + 1.0
        far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
        return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, far, near))
    r = 3.0 if method == "lanczos3" else 5.0
    with np.errstate(divide="ignore", invalid="ignore"):
        y = r * np.sin(np.pi * x) * np.sin(np.pi * x / r) / (np.pi * np.pi * x * x)
    return np.where(x > r, 0.0, np.where(x > 1e-3, y, 1.0))


_SCALE_METHODS = {"linear": "linear", "bilinear": "linear", "trilinear": "linear",
                  "triangle": "linear", "cubic": "cubic", "bicubic": "cubic",
                  "tricubic": "cubic", "lanczos3": "lanczos3", "lanczos5": "lanczos5"}


def _scale_matrix(n_in, n_out, scale, shift, method, antialias):
    """`(n_out, n_in)`: output sample `o` sits at input position `(o + ½)/scale - shift/scale
    - ½`; the kernel is widened by `1/scale` when shrinking with `antialias`, weights are
    normalised, and samples outside `[-½, n_in - ½]` are zero."""
    inv = 1.0 / scale
    width = max(inv, 1.0) if antialias else 1.0
    pos = (np.arange(n_out) + 0.5) * inv - shift * inv - 0.5
    w = _kernel(method, np.abs(pos[:, None] - np.arange(n_in)[None, :]) / width)
    total = w.sum(axis=1, keepdims=True)
    w = np.where(np.abs(total) > 1000.0 * np.finfo(np.float32).eps,
                 w / np.where(total != 0, total, 1.0), 0.0)
    return np.where(((pos >= -0.5) & (pos <= n_in - 0.5))[:, None], w, 0.0)


@op(name="image.scale_and_translate")
def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method,
                        antialias=True):
    """Resample `images` along `spatial_dims` to `output_shape` with a per-axis `scale` and
    `translation` (JAX's definition): `method` is `"linear"` (also `"bilinear"`,
    `"trilinear"`, `"triangle"`), `"cubic"` (`"bicubic"`, `"tricubic"`), `"lanczos3"` or
    `"lanczos5"`. Linear in the images (one node, transposed matrices as VJP); no gradient for
    `scale`/`translation`."""
    if method not in _SCALE_METHODS:
        raise ValueError(f"scale_and_translate: method must be one of {sorted(_SCALE_METHODS)}. "
                         f"Received: method={method!r}")
    a, diff = floating(images)
    dims = [int(d) % a.ndim for d in spatial_dims]
    sc = np.atleast_1d(np.asarray(value(scale), dtype=np.float64))
    tr = np.atleast_1d(np.asarray(value(translation), dtype=np.float64))
    if len(output_shape) != a.ndim or len(sc) != len(dims) or len(tr) != len(dims):
        raise ValueError("scale_and_translate: output_shape needs one size per image axis and "
                         "scale/translation one value per spatial dim. Received: "
                         f"images.shape={a.shape}, output_shape={tuple(output_shape)}, "
                         f"spatial_dims={tuple(spatial_dims)}, scale={sc.tolist()}, "
                         f"translation={tr.tolist()}")
    kind = _SCALE_METHODS[method]
    mats = [(d, _scale_matrix(a.shape[d], int(output_shape[d]), sc[i], tr[i], kind,
                              antialias).astype(a.dtype)) for i, d in enumerate(dims)]

    def apply(arr, transpose):
        for d, m in (reversed(mats) if transpose else mats):
            arr = np.moveaxis(np.tensordot(m.T if transpose else m, arr, (1, d)), 0, d)
        return arr
    y = apply(a, False)
    if not (diff and is_tracked(images)):
        return y
    return record(y, lambda dy: apply(np.asarray(dy), True), images)


__all__ = ["extract_patches_3d", "scale_and_translate", "sobel_edges", "ssim"]
