"""MelSpectrogram: Keras 3's mel-scale spectrogram, with the STFT taken by `numpy.fft`.

The framing (reflect padding by `fft_length // 2` on both sides, frames every
`sequence_stride` samples), the window (periodic, centred in `fft_length`) and the real FFT
are one tape node; its VJP is the adjoint: an inverse real FFT with the interior bins halved
(`du = N · irfft(g · h)`), times the window, scattered back onto the samples. The magnitude, mel
filterbank (HTK mel scale, triangles of peak 1) and decibel scale follow as ops.
"""
import numpy as np

from .. import _validate, config, ops
from ..autodiff.tape import record
from ..initializers import get_window
from ..ops._dispatch import value
from .base import Layer, register

_MEL_BREAK_HZ, _MEL_Q = 700.0, 1127.0


def hertz_to_mel(f):
    """The HTK mel scale: `1127 ln(1 + f / 700)`."""
    return _MEL_Q * np.log1p(np.asarray(f, dtype=np.float64) / _MEL_BREAK_HZ)


def mel_filterbank(num_mel_bins, num_spectrogram_bins, sampling_rate, low_hz, high_hz):
    """`(num_spectrogram_bins, num_mel_bins)` triangular filters, equally spaced in mel between
    `low_hz` and `high_hz`, peak 1; the DC bin gets no weight (as Keras / TensorFlow)."""
    freqs = np.linspace(0.0, sampling_rate / 2.0, num_spectrogram_bins)[1:]
    mel = hertz_to_mel(freqs)[:, None]
    edges = np.linspace(hertz_to_mel(low_hz), hertz_to_mel(high_hz), num_mel_bins + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    weights = np.maximum(0.0, np.minimum((mel - lower) / (center - lower),
                                         (upper - mel) / (upper - center)))
    return np.pad(weights, [(1, 0), (0, 0)])


def stft_frames(x, win, stride, n_fft):
    """`(..., frames, bins, 2)`: real and imaginary parts of the centred, windowed real FFT of
    each frame of `x` (`(..., time)`), one tape node."""
    a = value(x)
    steps = a.shape[-1]
    half = n_fft // 2
    if steps <= half:
        raise ValueError(f"MelSpectrogram: the signal needs more than fft_length // 2 = {half} "
                         f"samples for the reflect padding. Received: {steps} samples")
    # Index of the sample read by each padded position (reflect padding without the edge).
    pos = np.arange(-half, steps + half)
    pos = np.abs(pos)
    pos = np.where(pos >= steps, 2 * (steps - 1) - pos, pos)
    frames = 1 + (steps + 2 * half - n_fft) // stride
    idx = pos[np.arange(frames)[:, None] * stride + np.arange(n_fft)[None, :]]   # (F, N)
    w = win.astype(a.dtype)
    spec = np.fft.rfft(a[..., idx] * w, n=n_fft, axis=-1)
    y = np.stack([spec.real, spec.imag], axis=-1).astype(a.dtype)
    bins = spec.shape[-1]
    h = np.full(bins, 0.5)
    h[0] = 1.0
    if n_fft % 2 == 0:
        h[-1] = 1.0

    def vjp(dy):
        g = (dy[..., 0] + 1j * dy[..., 1]) * h                  # du = N·irfft(g·h)
        du = np.fft.irfft(g, n=n_fft, axis=-1) * n_fft * w
        flat = du.reshape(-1, frames * n_fft)
        dx = np.stack([np.bincount(idx.ravel(), r, minlength=steps) for r in flat])
        return dx.reshape(a.shape).astype(dy.dtype)             # scatter back the frames
    return record(y, vjp, x)


@register
class MelSpectrogram(Layer):
    """Mel-scale spectrogram of a batch of signals: `|STFT|^mag_exp` through a triangular mel
    filterbank, then (by default) in decibels relative to `ref_power`, floored `top_db` below
    the batch maximum.

    Args:
        fft_length: FFT size. Defaults to 2048.
        sequence_stride: samples between frames. Defaults to 512.
        sequence_length: window length, at most `fft_length`; None means `fft_length`.
        window: `"hann"` (default), `"hamming"`, another window name, an array of
            `sequence_length` values, or None (periodic windows, as Keras's stft).
        sampling_rate: samples per second. Defaults to 16000.
        num_mel_bins: number of mel bands. Defaults to 128.
        min_freq: lower edge of the lowest band, in Hz. Defaults to 20.0.
        max_freq: upper edge of the highest band; None means `sampling_rate / 2`.
        power_to_db: if True (default), convert to decibels.
        top_db: dynamic range kept below the maximum, in dB. Defaults to 80.0.
        mag_exp: exponent of the magnitude (2.0: power). Defaults to 2.0.
        min_power: floor of the power before the log. Defaults to 1e-10.
        ref_power: the power mapped to 0 dB. Defaults to 1.0.

    Input shape: `(batch, time)`.  Output shape: `(batch, num_mel_bins, frames)` with
    `frames = 1 + time // sequence_stride` (even `fft_length`).

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> mel = keras.layers.MelSpectrogram(fft_length=64, sequence_stride=16,
        ...                                   num_mel_bins=8)
        >>> mel(np.random.default_rng(0).standard_normal((2, 100))).shape
        (2, 8, 7)
    """

    def __init__(self, fft_length=2048, sequence_stride=512, sequence_length=None,
                 window="hann", sampling_rate=16000, num_mel_bins=128, min_freq=20.0,
                 max_freq=None, power_to_db=True, top_db=80.0, mag_exp=2.0, min_power=1e-10,
                 ref_power=1.0, **kwargs):
        super().__init__(**kwargs)
        self.fft_length = _validate.positive_int(fft_length, "fft_length", self)
        self.sequence_stride = _validate.positive_int(sequence_stride, "sequence_stride", self)
        self.sequence_length = _validate.positive_int(sequence_length or fft_length,
                                                      "sequence_length", self)
        if self.sequence_length > self.fft_length:
            raise ValueError(f"{_validate.describe(self)}: `fft_length` must be at least "
                             f"`sequence_length`. Received: sequence_length={sequence_length}, "
                             f"fft_length={fft_length}")
        self._win = get_window(window, self.sequence_length, periodic=True,
                               owner=_validate.describe(self))
        self.window = window.tolist() if isinstance(window, np.ndarray) else window
        self.sampling_rate = _validate.number(sampling_rate, "sampling_rate", self, low=0.0)
        self.num_mel_bins = _validate.positive_int(num_mel_bins, "num_mel_bins", self)
        self.min_freq = _validate.number(min_freq, "min_freq", self, low=0.0)
        self.max_freq = max_freq or int(sampling_rate / 2)
        if not self.min_freq < self.max_freq <= sampling_rate / 2:
            raise ValueError(f"{_validate.describe(self)}: need min_freq < max_freq <= "
                             f"sampling_rate / 2. Received: min_freq={min_freq}, "
                             f"max_freq={max_freq}, sampling_rate={sampling_rate}")
        self.power_to_db = _validate.boolean(power_to_db, "power_to_db", self)
        self.top_db = None if top_db is None else _validate.number(top_db, "top_db", self,
                                                                   low=0.0)
        self.mag_exp = _validate.number(mag_exp, "mag_exp", self)
        self.min_power = _validate.number(min_power, "min_power", self, low=0.0)
        self.ref_power = _validate.number(ref_power, "ref_power", self)

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"{_validate.describe(self)} expected input of rank 2 (batch, "
                             f"time). Received: input shape {tuple(input_shape)}")

    def call(self, inputs):
        a = value(inputs)
        x = inputs if a.dtype in (np.float32, np.float64) else \
            np.asarray(a, dtype=self.dtype or config.floatx())
        left = (self.fft_length - self.sequence_length) // 2
        win = np.zeros(self.fft_length)
        win[left:left + self.sequence_length] = self._win        # centred in the FFT frame
        ri = stft_frames(x, win, self.sequence_stride, self.fft_length)
        power = ops.square(ri[..., 0]) + ops.square(ri[..., 1])
        spec = ops.power(ops.sqrt(power), self.mag_exp) if self.mag_exp != 2.0 else power
        bank = mel_filterbank(self.num_mel_bins, self.fft_length // 2 + 1, self.sampling_rate,
                              self.min_freq, self.max_freq).astype(value(ri).dtype)
        out = ops.matmul(spec, bank)                                   # (batch, frames, mel)
        if self.power_to_db:
            ref = float(10.0 * np.log10(max(abs(self.ref_power), self.min_power)))
            out = 10.0 * ops.log10(ops.maximum(out, self.min_power)) - ref
            if self.top_db is not None:
                out = ops.maximum(out, float(np.max(value(out))) - self.top_db)
        return ops.transpose(out, (0, 2, 1))

    def compute_output_shape(self, input_shape):
        n, steps = input_shape
        half = self.fft_length // 2
        frames = None if steps is None else \
            1 + (steps + 2 * half - self.fft_length) // self.sequence_stride
        return (n, self.num_mel_bins, frames)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(fft_length=self.fft_length, sequence_stride=self.sequence_stride,
                   sequence_length=self.sequence_length, window=self.window,
                   sampling_rate=self.sampling_rate, num_mel_bins=self.num_mel_bins,
                   min_freq=self.min_freq, max_freq=self.max_freq,
                   power_to_db=self.power_to_db, top_db=self.top_db, mag_exp=self.mag_exp,
                   min_power=self.min_power, ref_power=self.ref_power)
        return cfg
