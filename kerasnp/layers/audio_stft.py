"""STFTSpectrogram: Keras 3's spectrogram layer, a strided 1-D convolution of each channel with
STFT kernels (`kerasnp.initializers.STFT`), so the DFT basis is a pair of trainable weights.

The output is the real part, imaginary part, both, the angle, the magnitude, its log, or the
one-sided power spectral density, per frame and frequency bin.
"""
import math
import warnings

import numpy as np

from .. import _validate, config, initializers, ops
from .base import Layer, register
from .pooling import check_data_format

MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")


@register
class STFTSpectrogram(Layer):
    """Short-time Fourier transform of each channel of a signal, as a convolution whose
    kernels (`real_kernel`, `imag_kernel`, shape `(frame_length, 1, fft_length // 2 + 1)`) hold
    the windowed DFT basis (trainable, as in Keras).

    Args:
        mode: `"log"` (default: log magnitude), `"magnitude"`, `"psd"` (one-sided power
            spectral density: power with bins other than DC and Nyquist doubled), `"real"`,
            `"imag"`, `"angle"` or `"stft"` (real then imaginary bins).
        frame_length: samples per frame. Defaults to 256.
        frame_step: hop between frames, in [1, frame_length]; None means `frame_length // 2`.
        fft_length: DFT size, at least `frame_length`; None means the next power of two.
        window: `"hann"` (default), `"hamming"`, another name of `kerasnp.initializers.STFT`,
            an array of `frame_length` values, or None.
        periodic: whether the named window is periodic. Defaults to False.
        scaling: `"density"` (default), `"spectrum"` or None: the window normalisation.
        padding: `"valid"` (default) or `"same"`, as a convolution's.
        expand_dims: if True, keep channels apart: `(batch, frames, bins, channels)`.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, time, channels)`.
    Output shape: `(batch, frames, channels * bins)` (`bins` doubled in `"stft"` mode), or
    `(batch, frames, bins, channels)` with `expand_dims=True`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> layer = keras.layers.STFTSpectrogram(mode="magnitude", frame_length=8,
        ...                                      window=None, scaling=None)
        >>> t = np.arange(32.0)
        >>> spec = layer(np.cos(2 * np.pi * t / 4).reshape(1, 32, 1))
        >>> spec.shape, int(spec[0, 0].argmax())           # bin 2 of 5 = a period of 4
        ((1, 7, 5), 2)
    """

    def __init__(self, mode="log", frame_length=256, frame_step=None, fft_length=None,
                 window="hann", periodic=False, scaling="density", padding="valid",
                 expand_dims=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.mode = _validate.choice(mode, "mode", MODES, self)
        self.frame_length = _validate.positive_int(frame_length, "frame_length", self)
        if frame_step is not None and not (isinstance(frame_step, int)
                                           and 1 <= frame_step <= frame_length):
            raise ValueError(f"{_validate.describe(self)}: `frame_step` must be an int in "
                             f"[1, frame_length={frame_length}] or None. "
                             f"Received: frame_step={frame_step!r}")
        if fft_length is not None and not (isinstance(fft_length, int)
                                           and fft_length >= frame_length):
            raise ValueError(f"{_validate.describe(self)}: `fft_length` must be an int not "
                             f"less than frame_length={frame_length}, or None. "
                             f"Received: fft_length={fft_length!r}")
        if fft_length is not None and fft_length & (fft_length - 1):
            warnings.warn(f"STFTSpectrogram: `fft_length` is best a power of two. "
                          f"Received: fft_length={fft_length}", stacklevel=2)
        self.frame_step, self.fft_length = frame_step, fft_length
        self._step = frame_step or frame_length // 2
        self._fft = fft_length or 2 ** math.ceil(math.log2(frame_length))
        if scaling is not None:
            scaling = _validate.choice(scaling, "scaling", ("density", "spectrum"), self)
        if isinstance(window, str):
            initializers.get_window(window, 1, owner=f"{_validate.describe(self)}")
        self.window = window.tolist() if isinstance(window, np.ndarray) else window
        self.periodic = _validate.boolean(periodic, "periodic", self)
        self.scaling = scaling
        self.padding = _validate.choice(padding, "padding", ("valid", "same"), self)
        self.expand_dims = _validate.boolean(expand_dims, "expand_dims", self)
        self.data_format = check_data_format(data_format, self)

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{_validate.describe(self)} expected input of rank 3 (batch, "
                             f"time, channels). Received: input shape {tuple(input_shape)}")
        shape = (self.frame_length, 1, self._fft // 2 + 1)
        for side in ("real", "imag"):
            if self.mode != {"real": "imag", "imag": "real"}.get(side):
                init = initializers.STFT(side, self.window, self.scaling, self.periodic)
                setattr(self, f"{side}_kernel",
                        self.add_weight(shape=shape, initializer=init, name=f"{side}_kernel"))

    def _conv(self, x, kernel):
        n, steps, c = x.shape
        cols = ops.reshape(ops.transpose(x, (0, 2, 1)), (n * c, steps, 1))   # channel -> batch
        y = ops.conv(cols, ops.cast(kernel, x.dtype), strides=self._step, padding=self.padding)
        frames, bins = y.shape[1], y.shape[2]
        return ops.reshape(y, (n, c, frames, bins))                     # (n, c, frames, bins)

    def _layout(self, y):
        n, c, frames, bins = y.shape
        if self.expand_dims:
            return ops.transpose(y, (0, 2, 3, 1))                       # (n, frames, bins, c)
        return ops.reshape(ops.transpose(y, (0, 2, 1, 3)), (n, frames, c * bins))

    def call(self, inputs):
        x = inputs if ops.convert_to_numpy(inputs).dtype.kind == "f" else \
            ops.cast(inputs, self.dtype or config.floatx())
        re = self._conv(x, self.real_kernel) if self.mode != "imag" else None
        im = self._conv(x, self.imag_kernel) if self.mode != "real" else None
        if self.mode in ("real", "imag"):
            return self._layout(re if self.mode == "real" else im)
        if self.mode == "angle":
            return self._layout(ops.arctan2(im, re))
        if self.mode == "stft":
            return self._layout(ops.concatenate([re, im], axis=3))
        power = ops.square(re) + ops.square(im)
        if self.mode == "psd":                   # one-sided: fold the negative frequencies in
            return self._layout(power + ops.pad(power[..., 1:-1], [(0, 0)] * 3 + [(1, 1)]))
        eps = config.epsilon()
        magnitude = self._layout(ops.sqrt(ops.maximum(power, eps)))
        return magnitude if self.mode == "magnitude" else ops.log(ops.maximum(magnitude, eps))

    def compute_output_shape(self, input_shape):
        n, steps, c = input_shape
        if steps is None:
            frames = None
        elif self.padding == "same":
            frames = -(-steps // self._step)
        else:
            frames = (steps - self.frame_length) // self._step + 1
        bins = (self._fft // 2 + 1) * (2 if self.mode == "stft" else 1)
        if self.expand_dims:
            return (n, frames, bins, c)
        return (n, frames, None if c is None else c * bins)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(mode=self.mode, frame_length=self.frame_length, frame_step=self.frame_step,
                   fft_length=self.fft_length, window=self.window, periodic=self.periodic,
                   scaling=self.scaling, padding=self.padding,
                   data_format=self.data_format or "channels_last",
                   expand_dims=self.expand_dims)
        return cfg
