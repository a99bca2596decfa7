"""`ops.nn` rearrangements and pools (Keras 3 names): depth_to_space, space_to_depth,
adaptive_average_pool, adaptive_max_pool, unfold, fold. One tape node each; these are linear
maps (or gathers), so each VJP is the adjoint map."""
import numpy as np

from ._dispatch import is_tracked, op
from ._helpers import floating, record
from ._image_extra import image_format as _format


def _d2s(a, b, fmt):
    """depth_to_space on a 4-D array: channels-last splits channels as (bh, bw, c), channels-
    first as (c, bh, bw), as Keras (and TF / torch's pixel_shuffle) do."""
    if fmt == "channels_last":
        n, h, w, c = a.shape
        y = a.reshape(n, h, w, b, b, c // (b * b)).transpose(0, 1, 3, 2, 4, 5)
        return y.reshape(n, h * b, w * b, c // (b * b))
    n, c, h, w = a.shape
    y = a.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
    return y.reshape(n, c // (b * b), h * b, w * b)


def _s2d(a, b, fmt):
    if fmt == "channels_last":
        n, h, w, c = a.shape
        y = a.reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5)
        return y.reshape(n, h // b, w // b, b * b * c)
    n, c, h, w = a.shape
    y = a.reshape(n, c, h // b, b, w // b, b).transpose(0, 1, 3, 5, 2, 4)
    return y.reshape(n, c * b * b, h // b, w // b)


def _block(x, block_size, data_format, name, to_depth):
    a, diff = floating(x)
    fmt = _format(data_format, name)
    b = int(block_size)
    if a.ndim != 4 or b < 1:
        raise ValueError(f"{name}: expected a 4-D input and block_size >= 1. Received: "
                         f"x.shape={a.shape}, block_size={block_size!r}")
    c = a.shape[-1] if fmt == "channels_last" else a.shape[1]
    sp = a.shape[1:3] if fmt == "channels_last" else a.shape[2:]
    if (not to_depth and c % (b * b)) or (to_depth and (sp[0] % b or sp[1] % b)):
        what = "the channels" if not to_depth else "height and width"
        raise ValueError(f"{name}: {what} must be divisible by {b * b if not to_depth else b} "
                         f"(block_size={b}). Received: x.shape={a.shape}, data_format={fmt!r}")
    fwd, back = (_s2d, _d2s) if to_depth else (_d2s, _s2d)
    y = fwd(a, b, fmt)
    if not (diff and is_tracked(x)):
        return y
    return record(y, lambda dy: back(np.asarray(dy), b, fmt), x)     # a permutation


@op
def depth_to_space(x, block_size, data_format="channels_last"):
    """Move channel blocks into `block_size × block_size` spatial blocks (4-D input).

    Example:
        >>> ops.depth_to_space(np.zeros((1, 2, 3, 8)), 2).shape
        (1, 4, 6, 2)
    """
    return _block(x, block_size, data_format, "depth_to_space", False)


@op
def space_to_depth(x, block_size, data_format="channels_last"):
    """Move `block_size × block_size` spatial blocks into channels (4-D input)."""
    return _block(x, block_size, data_format, "space_to_depth", True)


def _bins(n_in, n_out):
    """torch's adaptive bins: `[floor(i·L/out), ceil((i+1)·L/out))`."""
    i = np.arange(n_out)
    return (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)


def _adaptive(inputs, output_size, data_format, name, kind):
    a, diff = floating(inputs)
    fmt = _format(data_format, name)
    nsp = a.ndim - 2
    if nsp not in (1, 2, 3):
        raise ValueError(f"{name}: expected a 3-D, 4-D or 5-D input (batch, spatial..., "
                         f"channels). Received: inputs.shape={a.shape}")
    out = (output_size,) * nsp if np.isscalar(output_size) else tuple(output_size)
    if len(out) != nsp or any(int(o) < 1 for o in out):
        raise ValueError(f"{name}: output_size must be a positive int or {nsp} of them. "
                         f"Received: output_size={output_size!r}")
    x = a if fmt == "channels_last" else np.moveaxis(a, 1, -1)
    steps = []                         # per spatial axis: (axis, matrix or index array)
    y = x
    for d, o in enumerate(out):
        ax, n = 1 + d, x.shape[1 + d]
        start, stop = _bins(n, int(o))
        if kind == "average":
            w = np.zeros((int(o), n), dtype=a.dtype)
            for i, (s, e) in enumerate(zip(start, stop)):
                w[i, s:e] = 1.0 / (e - s)
            y = np.moveaxis(np.tensordot(w, y, (1, ax)), 0, ax)
            steps.append((ax, w))
        else:
            width = int((stop - start).max())
            idx = np.minimum(start[:, None] + np.arange(width), stop[:, None] - 1)  # repeat last
            g = np.take(y, idx.ravel(), axis=ax)
            g = g.reshape(y.shape[:ax] + (int(o), width) + y.shape[ax + 1:])
            arg = np.argmax(g, axis=ax + 1)
            y = np.take_along_axis(g, np.expand_dims(arg, ax + 1), axis=ax + 1).squeeze(ax + 1)
            rows = np.arange(int(o)).reshape((-1,) + (1,) * (y.ndim - ax - 1))
            src = idx[rows, arg]                     # the input index each output came from
            steps.append((ax, (src, n)))
    out_y = y if fmt == "channels_last" else np.moveaxis(y, -1, 1)
    if not (diff and is_tracked(inputs)):
        return out_y

    def vjp(dy):
        g = np.asarray(dy) if fmt == "channels_last" else np.moveaxis(np.asarray(dy), 1, -1)
        for ax, s in reversed(steps):
            if kind == "average":
                g = np.moveaxis(np.tensordot(s.T, g, (1, ax)), 0, ax)
            else:
                src, n = s
                shape = list(g.shape)
                shape[ax] = n
                full = np.zeros(shape, dtype=g.dtype)
                _scatter_add(full, src, g, ax)
                g = full
        return g if fmt == "channels_last" else np.moveaxis(g, -1, 1)
    return record(out_y, vjp, inputs)


def _scatter_add(full, src, g, ax):
    """`full[..., src[...], ...] += g` along `ax` (duplicates accumulate)."""
    idx = list(np.indices(g.shape, sparse=True))
    idx[ax] = src
    np.add.at(full, tuple(idx), g)


@op
def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed `output_size` (1-D to 3-D, channels-last by default): output
    cell `i` averages input cells `floor(i·L/out)` to `ceil((i+1)·L/out) - 1`, as torch.

    Example:
        >>> ops.adaptive_average_pool(np.arange(5.0).reshape(1, 5, 1), 2)[0, :, 0]
        array([1., 3.])
    """
    return _adaptive(inputs, output_size, data_format, "adaptive_average_pool", "average")


@op
def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed `output_size` (bins as `adaptive_average_pool`)."""
    return _adaptive(inputs, output_size, data_format, "adaptive_max_pool", "max")


def _pair(v, arg, name):
    p = (v, v) if np.isscalar(v) else tuple(v)
    if len(p) != 2 or any(int(i) < 0 for i in p):
        raise ValueError(f"{name}: {arg} must be a non-negative int or a pair. "
                         f"Received: {arg}={v!r}")
    return tuple(int(i) for i in p)


def _geometry(size, k, d, p, s):
    return tuple((size[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))


def _unfold(a, k, d, p, s):
    """(N, C, H, W) -> (N, C·kh·kw, L): each column one (dilated, strided) patch."""
    n, c, h, w = a.shape
    oh, ow = _geometry((h, w), k, d, p, s)
    xp = np.pad(a, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    cols = np.empty((n, c, k[0], k[1], oh, ow), dtype=a.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            cols[:, :, i, j] = xp[:, :, i * d[0]:i * d[0] + s[0] * (oh - 1) + 1:s[0],
                                  j * d[1]:j * d[1] + s[1] * (ow - 1) + 1:s[1]]
    return cols.reshape(n, c * k[0] * k[1], oh * ow)


def _fold(cols, size, k, d, p, s):
    """The adjoint of `_unfold`: patches summed back into an (N, C, H, W) image."""
    n = cols.shape[0]
    c = cols.shape[1] // (k[0] * k[1])
    oh, ow = _geometry(size, k, d, p, s)
    cols = cols.reshape(n, c, k[0], k[1], oh, ow)
    xp = np.zeros((n, c, size[0] + 2 * p[0], size[1] + 2 * p[1]), dtype=cols.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            xp[:, :, i * d[0]:i * d[0] + s[0] * (oh - 1) + 1:s[0],
               j * d[1]:j * d[1] + s[1] * (ow - 1) + 1:s[1]] += cols[:, :, i, j]
    return xp[:, :, p[0]:p[0] + size[0], p[1]:p[1] + size[1]]


@op
def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding patches of a channels-first `(N, C, H, W)` input as columns:
    `(N, C·kh·kw, L)` (torch's `unfold`).

    Example:
        >>> ops.unfold(np.zeros((1, 3, 4, 4)), 2).shape
        (1, 12, 9)
    """
    a, diff = floating(x)
    if a.ndim != 4:
        raise ValueError(f"unfold: expected a 4-D (N, C, H, W) input. Received: x.shape={a.shape}")
    k, d = _pair(kernel_size, "kernel_size", "unfold"), _pair(dilation, "dilation", "unfold")
    p, s = _pair(padding, "padding", "unfold"), _pair(stride, "stride", "unfold")
    if min(_geometry(a.shape[2:], k, d, p, s)) < 1 or min(k + d + s) < 1:
        raise ValueError(f"unfold: no patch fits. Received: x.shape={a.shape}, "
                         f"kernel_size={kernel_size!r}, dilation={dilation!r}, "
                         f"padding={padding!r}, stride={stride!r}")
    y = _unfold(a, k, d, p, s)
    if not (diff and is_tracked(x)):
        return y
    return record(y, lambda dy: _fold(np.asarray(dy), a.shape[2:], k, d, p, s), x)


@op
def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The inverse layout of `unfold`: columns `(N, C·kh·kw, L)` summed into an
    `(N, C, *output_size)` image (overlaps add up; torch's `fold`)."""
    a, diff = floating(x)
    k, d = _pair(kernel_size, "kernel_size", "fold"), _pair(dilation, "dilation", "fold")
    p, s = _pair(padding, "padding", "fold"), _pair(stride, "stride", "fold")
    size = _pair(output_size, "output_size", "fold")
    oh, ow = _geometry(size, k, d, p, s)
    if a.ndim != 3 or a.shape[1] % (k[0] * k[1]) or a.shape[2] != oh * ow:
        raise ValueError(f"fold: expected input (N, C·{k[0]}·{k[1]}, {oh * ow}) for "
                         f"output_size={size}. Received: x.shape={a.shape}")
    y = _fold(a, size, k, d, p, s)
    if not (diff and is_tracked(x)):
        return y
    return record(y, lambda dy: _unfold(np.asarray(dy), k, d, p, s), x)


__all__ = ["adaptive_average_pool", "adaptive_max_pool", "depth_to_space", "fold",
           "space_to_depth", "unfold"]
