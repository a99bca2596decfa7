"""Fourier transforms (Keras 3 names): fft, fft2, ifft2, rfft, irfft, stft, istft.

kerasnp's arrays are real, so complex values travel as Keras passes them: a `(real, imag)`
pair of float arrays. Every transform is linear, so its VJP is the adjoint transform (the
cotangents of the two output parts are `g = g_real + i·g_imag`).
"""
import numpy as np

from ._dispatch import is_tracked, op, value
from ._helpers import floating, record
from ._linalg_extra import record_outputs


def _pair(x, name):
    """`(re, im)` float arrays of a Keras complex pair, checked."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{name}: x must be a tuple (real, imag) of two float tensors of the "
                         f"same shape. Received: x of type {type(x).__name__}")
    re, im = (np.asarray(value(p)) for p in x)
    if re.shape != im.shape:
        raise ValueError(f"{name}: the real and imaginary parts must have the same shape. "
                         f"Received: x[0].shape={re.shape}, x[1].shape={im.shape}")
    if re.dtype.kind != "f" or im.dtype.kind != "f":
        raise ValueError(f"{name}: the real and imaginary parts must be floating. "
                         f"Received: x[0].dtype={re.dtype}, x[1].dtype={im.dtype}")
    return re, im


def _cot(gr, gi, shape):
    """The complex cotangent of a `(real, imag)` output (None parts are zeros)."""
    g = np.zeros(shape, dtype=complex)
    if gr is not None:
        g = g + gr
    if gi is not None:
        g = g + 1j * np.asarray(gi)
    return g


def _complex_op(x, name, f, adjoint):
    """`(real, imag)` of `f(re + i·im)`, recorded with `adjoint(g)` for the two input parts."""
    re, im = _pair(x, name)
    dtype = np.result_type(re, im)
    y = f(re + 1j * im)
    outs = (y.real.astype(dtype), y.imag.astype(dtype))

    def vjp(gr, gi):
        d = adjoint(_cot(gr, gi, y.shape))
        return d.real.astype(dtype), d.imag.astype(dtype)
    return record_outputs(outs, vjp, tuple(x))


@op
def fft(x):
    """The discrete Fourier transform over the last axis of a `(real, imag)` pair.

    Example:
        >>> re, im = ops.fft((np.array([1.0, 0.0, 0.0, 0.0]), np.zeros(4)))
        >>> re
        array([1., 1., 1., 1.])
    """
    n = np.shape(value(x[0]))[-1] if isinstance(x, (tuple, list)) and len(x) == 2 else 0
    return _complex_op(x, "fft", np.fft.fft, lambda g: n * np.fft.ifft(g))   # Fᴴ = n·F⁻¹


@op
def fft2(x):
    """The 2-D discrete Fourier transform over the last two axes of a `(real, imag)` pair."""
    def adjoint(g):
        return g.shape[-1] * g.shape[-2] * np.fft.ifft2(g)
    return _complex_op(x, "fft2", np.fft.fft2, adjoint)


@op
def ifft2(x):
    """The inverse 2-D discrete Fourier transform over the last two axes."""
    def adjoint(g):
        return np.fft.fft2(g) / (g.shape[-1] * g.shape[-2])
    return _complex_op(x, "ifft2", np.fft.ifft2, adjoint)


def _fit(a, n):
    """`a` cut or zero-padded to length `n` on the last axis."""
    if a.shape[-1] >= n:
        return a[..., :n]
    return np.concatenate([a, np.zeros(a.shape[:-1] + (n - a.shape[-1],), a.dtype)], axis=-1)


def _rfft_adjoint(g, n, length):
    """Adjoint of `rfft(x, n)` for an `x` of `length` samples: Re(n·ifft(g zero-padded to n))."""
    return _fit(np.real(n * np.fft.ifft(g, n=n)), length)


def _irfft_adjoint(g, n, m_in):
    """Adjoint of `irfft(c, n)` for `c` of `m_in` bins: (w/n)·rfft(g), w = 2 except at DC and
    Nyquist (w = 1, imaginary parts unread)."""
    c = np.fft.rfft(g, n=n) / n
    c[..., 1:(n + 1) // 2] *= 2
    c[..., 0] = c[..., 0].real
    if n % 2 == 0:
        c[..., -1] = c[..., -1].real
    return _fit(c, m_in)


def _check_length(n, arg, name):
    if n is not None and (not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"{name}: {arg} must be a positive integer or None. "
                         f"Received: {arg}={n!r}")


@op
def rfft(x, fft_length=None):
    """The real-input FFT over the last axis (cut or zero-padded to `fft_length`): a
    `(real, imag)` pair with `fft_length // 2 + 1` bins."""
    _check_length(fft_length, "fft_length", "rfft")
    a, _ = floating(x)
    n = a.shape[-1] if fft_length is None else int(fft_length)
    y = np.fft.rfft(a, n=n)
    outs = (y.real.astype(a.dtype), y.imag.astype(a.dtype))
    return record_outputs(outs, lambda gr, gi: _rfft_adjoint(_cot(gr, gi, y.shape), n,
                                                             a.shape[-1]).astype(a.dtype), (x,))


@op
def irfft(x, fft_length=None):
    """The inverse of `rfft`: a real signal of `fft_length` samples (default
    `2·(bins - 1)`) from a `(real, imag)` pair of bins."""
    _check_length(fft_length, "fft_length", "irfft")
    re, im = _pair(x, "irfft")
    m_in = re.shape[-1]
    n = 2 * (m_in - 1) if fft_length is None else int(fft_length)
    y = np.fft.irfft(re + 1j * im, n=n).astype(re.dtype)
    if not any(is_tracked(p) for p in x):
        return y

    def vjp(dy):
        c = _irfft_adjoint(np.asarray(dy), n, m_in)
        return c.real.astype(re.dtype), c.imag.astype(re.dtype)
    return record(y, vjp, *x)


def _window(window, sequence_length, fft_length, dtype, name):
    """The analysis window, zero-padded to `fft_length` (centred), as Keras: `"hann"` and
    `"hamming"` are periodic (scipy's `get_window`), None is rectangular."""
    if window is None:
        return np.ones(fft_length, dtype)
    if isinstance(window, str):
        t = 2 * np.pi * np.arange(sequence_length) / sequence_length
        if window == "hann":
            w = 0.5 - 0.5 * np.cos(t)
        elif window == "hamming":
            w = 0.54 - 0.46 * np.cos(t)
        else:
            raise ValueError(f"{name}: a string window must be 'hann' or 'hamming'. "
                             f"Received: window={window!r}")
    else:
        w = np.asarray(value(window), dtype=dtype)
        if w.shape != (sequence_length,):
            raise ValueError(f"{name}: window must have shape (sequence_length,) = "
                             f"({sequence_length},). Received: window.shape={w.shape}")
    left = (fft_length - sequence_length) // 2
    return np.pad(w.astype(dtype), (left, fft_length - sequence_length - left))


def _check_frames(sequence_length, sequence_stride, fft_length, name):
    for arg, v in (("sequence_length", sequence_length), ("sequence_stride", sequence_stride),
                   ("fft_length", fft_length)):
        _check_length(v, arg, name)
    if fft_length < sequence_length:
        raise ValueError(f"{name}: fft_length must be >= sequence_length. Received: "
                         f"sequence_length={sequence_length}, fft_length={fft_length}")


def _reflect_index(n, pad):
    """Indices of a reflect-padded axis of length `n` (NumPy's 'reflect' mode)."""
    i = np.arange(-pad, n + pad)
    period = 2 * (n - 1)
    i = np.abs(i) % period if period else np.zeros_like(i)
    return np.where(i >= n, period - i, i)


@op
def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """The short-time Fourier transform over the last axis: frames of `fft_length` samples
    every `sequence_stride` (the window of `sequence_length` centred in each; `center=True`
    reflect-pads `fft_length // 2` on both sides first). Returns a `(real, imag)` pair of shape
    `(..., frames, fft_length // 2 + 1)`.

    Example:
        >>> re, im = ops.stft(np.zeros(16), 8, 4, 8)
        >>> re.shape
        (5, 5)
    """
    _check_frames(sequence_length, sequence_stride, fft_length, "stft")
    a, _ = floating(x)
    n = a.shape[-1]
    win = _window(window, sequence_length, fft_length, a.dtype, "stft")
    src = _reflect_index(n, fft_length // 2) if center else np.arange(n)
    if center and n < fft_length // 2 + 1:
        raise ValueError(f"stft: center=True reflect-pads {fft_length // 2} samples, so x needs "
                         f"more than that on its last axis. Received: x.shape={a.shape}")
    frames = (len(src) - fft_length) // sequence_stride + 1
    if frames < 1:
        raise ValueError(f"stft: x is shorter than one frame of fft_length={fft_length}. "
                         f"Received: x.shape={a.shape}")
    idx = src[np.arange(frames)[:, None] * sequence_stride + np.arange(fft_length)]
    y = np.fft.rfft(a[..., idx] * win, n=fft_length)
    outs = (y.real.astype(a.dtype), y.imag.astype(a.dtype))

    def vjp(gr, gi):
        d = _rfft_adjoint(_cot(gr, gi, y.shape), fft_length, fft_length) * win
        dx = np.zeros(a.shape, dtype=a.dtype)
        np.add.at(dx, (Ellipsis, idx), d)                 # frames and padding overlap-add back
        return dx
    return record_outputs(outs, vjp, (x,))


@op
def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann",
          center=True):
    """The inverse of `stft`: each frame's `irfft` times the window, overlap-added and divided
    by the summed squared window, then cut (`center`'s padding removed, `length` samples if
    given). `x` is a `(real, imag)` pair `(..., frames, fft_length//2+1)`. As Keras (torch
    backend): with `sequence_length == fft_length`, `center=True` and a window, the division is
    by the actual overlap envelope (torch.istft); otherwise by its steady-state value, so the
    first and last frames come out tapered; with `window=None` there is no division."""
    _check_frames(sequence_length, sequence_stride, fft_length, "istft")
    _check_length(length, "length", "istft")
    re, im = _pair(x, "istft")
    if re.ndim < 2:
        raise ValueError(f"istft: x must have shape (..., frames, bins). Received: "
                         f"x[0].shape={re.shape}")
    frames = re.shape[-2]
    win = _window(window, sequence_length, fft_length, re.dtype, "istft")
    total = fft_length + sequence_stride * (frames - 1)
    idx = np.arange(frames)[:, None] * sequence_stride + np.arange(fft_length)
    scale = np.ones(total)
    if window is not None and sequence_length == fft_length and center:
        env = np.zeros(total)                        # torch.istft: the actual envelope
        np.add.at(env, idx, np.broadcast_to(win * win, idx.shape))
        scale = 1 / np.where(env > 1e-10, env, 1.0)
    elif window is not None:
        # Keras's other path (TF's inverse_stft_window_fn): the window over the steady-state
        # envelope, i.e. Σ win² over the frames that overlap a position, taken periodically.
        hops = -(-fft_length // sequence_stride)
        sq = np.pad(win * win, (0, hops * sequence_stride - fft_length))
        denom = np.tile(sq.reshape(hops, sequence_stride).sum(0), hops)[:fft_length]
        win = win / np.where(denom > 1e-10, denom, 1.0)
    start = fft_length // 2 if center else 0
    stop = start + length if length is not None else (total - fft_length // 2 if center else total)
    seg = np.fft.irfft(re + 1j * im, n=fft_length) * win
    full = np.zeros(re.shape[:-2] + (total,))
    np.add.at(full, (Ellipsis, idx), seg)
    y = _fit((full * scale)[..., start:], stop - start).astype(re.dtype)
    if not any(is_tracked(p) for p in x):
        return y

    def vjp(dy):
        g = np.zeros(re.shape[:-2] + (total,))
        g[..., start:min(stop, total)] = np.asarray(dy)[..., :min(stop, total) - start]
        c = _irfft_adjoint((g * scale)[..., idx] * win, fft_length, re.shape[-1])
        return c.real.astype(re.dtype), c.imag.astype(re.dtype)
    return record(y, vjp, *x)


__all__ = ["fft", "fft2", "ifft2", "irfft", "istft", "rfft", "stft"]
