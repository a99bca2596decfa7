"""Weight initializers: Keras 3 names, arguments and formulas, drawn with NumPy generators.

An initializer is called as `init(shape, dtype=None, rng=None)` and returns a fresh array. The
random source is, in order: the initializer's own `seed` (a new `default_rng(seed)` per call, so a
seeded initializer gives the same values every call, as in Keras 3), else the `rng` the layer
passes, else a new generator from `kerasnp.random.make_generator()`.
"""
import math

import numpy as np

from . import _validate, config
from . import random as _random
from ._registry import Registry, get_object, serialize_object

_REGISTRY = Registry("initializer")
_TRUNC_STD = 0.87962566103423978  # std of a standard normal truncated to [-2, 2]


def compute_fans(shape):
    """Return `(fan_in, fan_out)` for a weight shape, as Keras computes them.

    Scalars count as 1; a 1-D shape `(n,)` has both fans `n`; 2-D is `(in, out)`; N-D shapes are
    convolution kernels `(*spatial, in, out)` whose receptive field multiplies both fans.
    """
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    rf = math.prod(shape[:-2])
    return int(shape[-2] * rf), int(shape[-1] * rf)


def _shape(shape, owner):
    return _validate.shape(shape, "shape", type(owner).__name__)


def _dtype(dtype, owner, floating=False):
    dt = np.dtype(config.floatx() if dtype is None else dtype)
    if floating and not np.issubdtype(dt, np.floating):
        raise ValueError(f"{type(owner).__name__} draws random floats: `dtype` must be a float "
                         f"type (float16, float32, float64). Received: dtype={dtype!r}")
    return dt


class Initializer:
    """Base class: subclasses implement `__call__(shape, dtype=None, rng=None)`."""

    def __call__(self, shape, dtype=None, rng=None):
        raise NotImplementedError(f"{type(self).__name__} must implement `__call__(shape, dtype, "
                                  f"rng)`.")

    def get_config(self):
        """Return the constructor arguments as a JSON-friendly dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Rebuild an initializer from `get_config()`'s output."""
        return cls(**config)

    def clone(self):
        """Return a new initializer with the same configuration."""
        return type(self).from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class RandomInitializer(Initializer):
    """Base of the random initializers: owns the optional `seed` and picks the generator."""

    def __init__(self, seed=None):
        self.seed = None if seed is None else _validate.non_negative_int(seed, "seed", self)

    def _generator(self, rng):
        if self.seed is not None:
            return np.random.default_rng(self.seed)
        if rng is None:
            return _random.make_generator()
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"{type(self).__name__}: `rng` must be a numpy.random.Generator or "
                            f"None. Received: rng={rng!r}")
        return rng

    def _draw(self, shape, dtype, rng):
        """Shape, dtype, generator and the dtype to draw in (float16 is drawn as float32)."""
        shape, dt = _shape(shape, self), _dtype(dtype, self, floating=True)
        draw_dt = dt if dt in (np.float32, np.float64) else np.dtype(np.float32)
        return shape, dt, self._generator(rng), draw_dt

    def get_config(self):
        return {"seed": self.seed}


def _uniform(gen, shape, dt, low, high):
    x = gen.random(shape, dtype=dt)
    x *= high - low
    x += low
    return x


def _truncated_normal(gen, shape, dt, mean, stddev):
    """Normal samples with those beyond 2 standard deviations redrawn (as Keras does)."""
    z = gen.standard_normal(shape, dtype=dt)
    flat = z.reshape(-1)
    idx = np.flatnonzero(np.abs(flat) > 2.0)
    while idx.size:
        new = gen.standard_normal(idx.size, dtype=dt)
        flat[idx] = new
        idx = idx[np.abs(new) > 2.0]
    z *= stddev
    z += mean
    return z


@_REGISTRY.register("zeros", "zero")
class Zeros(Initializer):
    """Initializer that fills the array with 0."""

    def __call__(self, shape, dtype=None, rng=None):
        return np.zeros(_shape(shape, self), dtype=_dtype(dtype, self))


@_REGISTRY.register("ones", "one")
class Ones(Initializer):
    """Initializer that fills the array with 1."""

    def __call__(self, shape, dtype=None, rng=None):
        return np.ones(_shape(shape, self), dtype=_dtype(dtype, self))


@_REGISTRY.register("constant")
class Constant(Initializer):
    """Initializer that fills the array with `value` (a number, or an array broadcast to shape).

    Args:
        value: number or array-like, the fill value. Defaults to 0.0.
    """

    def __init__(self, value=0.0):
        arr = np.asarray(value)
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise ValueError(f"Constant: `value` must be a number or a numeric array. "
                             f"Received: value={value!r}")
        self.value = value if arr.ndim == 0 else arr

    def __call__(self, shape, dtype=None, rng=None):
        shape, dt = _shape(shape, self), _dtype(dtype, self)
        if np.ndim(self.value) == 0:
            return np.full(shape, self.value, dtype=dt)
        try:
            return np.broadcast_to(np.asarray(self.value, dtype=dt), shape).copy()
        except ValueError:
            raise ValueError(f"Constant: `value` of shape {np.shape(self.value)} cannot be "
                             f"broadcast to the weight shape. Received: shape={shape}") from None

    def get_config(self):
        v = self.value
        return {"value": v.tolist() if isinstance(v, np.ndarray) else v}


@_REGISTRY.register("random_normal", "normal")
class RandomNormal(RandomInitializer):
    """Normal samples with the given `mean` and `stddev`.

    Args:
        mean: mean of the samples. Defaults to 0.0.
        stddev: positive standard deviation. Defaults to 0.05.
        seed: optional non-negative int; a seeded initializer returns the same values every call.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = _validate.number(mean, "mean", self)
        self.stddev = _validate.number(stddev, "stddev", self, low=0.0, low_open=True)
        super().__init__(seed)

    def __call__(self, shape, dtype=None, rng=None):
        shape, dt, gen, draw_dt = self._draw(shape, dtype, rng)
        x = gen.standard_normal(shape, dtype=draw_dt)
        x *= self.stddev
        x += self.mean
        return x.astype(dt, copy=False)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


@_REGISTRY.register("truncated_normal")
class TruncatedNormal(RandomNormal):
    """Normal samples where values more than 2 `stddev` from `mean` are discarded and redrawn.

    Args: as `RandomNormal`.
    """

    def __call__(self, shape, dtype=None, rng=None):
        shape, dt, gen, draw_dt = self._draw(shape, dtype, rng)
        return _truncated_normal(gen, shape, draw_dt, self.mean, self.stddev).astype(dt, copy=False)


@_REGISTRY.register("random_uniform", "uniform")
class RandomUniform(RandomInitializer):
    """Uniform samples in `[minval, maxval)`.

    Args:
        minval: lower bound (inclusive). Defaults to -0.05.
        maxval: upper bound (exclusive), `>= minval`. Defaults to 0.05.
        seed: optional non-negative int; a seeded initializer returns the same values every call.
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = _validate.number(minval, "minval", self)
        self.maxval = _validate.number(maxval, "maxval", self, low=self.minval)
        super().__init__(seed)

    def __call__(self, shape, dtype=None, rng=None):
        shape, dt, gen, draw_dt = self._draw(shape, dtype, rng)
        return _uniform(gen, shape, draw_dt, self.minval, self.maxval).astype(dt, copy=False)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


@_REGISTRY.register("variance_scaling")
class VarianceScaling(RandomInitializer):
    """Samples whose variance is `scale / n`, `n` being fan_in, fan_out or their average.

    `"truncated_normal"` draws a normal truncated at 2 std whose std *after* truncation is
    `sqrt(scale / n)`; `"untruncated_normal"` a plain normal with that std; `"uniform"` draws from
    `[-limit, limit)` with `limit = sqrt(3 * scale / n)`. `"normal"` means `"truncated_normal"`.

    Args:
        scale: positive scaling factor. Defaults to 1.0.
        mode: `"fan_in"`, `"fan_out"` or `"fan_avg"`. Defaults to `"fan_in"`.
        distribution: `"truncated_normal"`, `"untruncated_normal"` or `"uniform"`.
        seed: optional non-negative int; a seeded initializer returns the same values every call.

    Example:
        >>> w = VarianceScaling(2.0, "fan_in", "uniform", seed=0)((784, 256))
        >>> bool(abs(w).max() < (6 / 784) ** 0.5)
        True
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        self.scale = _validate.number(scale, "scale", self, low=0.0, low_open=True)
        self.mode = _validate.choice(mode, "mode", _MODES, self)
        if isinstance(distribution, str):
            distribution = distribution.lower()
            distribution = "truncated_normal" if distribution == "normal" else distribution
        self.distribution = _validate.choice(distribution, "distribution", _DISTRIBUTIONS, self)
        super().__init__(seed)

    def __call__(self, shape, dtype=None, rng=None):
        shape, dt, gen, draw_dt = self._draw(shape, dtype, rng)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        var = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            x = _truncated_normal(gen, shape, draw_dt, 0.0, math.sqrt(var) / _TRUNC_STD)
        elif self.distribution == "untruncated_normal":
            x = gen.standard_normal(shape, dtype=draw_dt)
            x *= math.sqrt(var)
        else:
            limit = math.sqrt(3.0 * var)
            x = _uniform(gen, shape, draw_dt, -limit, limit)
        return x.astype(dt, copy=False)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}


class _Preset(VarianceScaling):
    """A VarianceScaling with fixed `(scale, mode, distribution)`; its config is just `seed`."""
    _args = ()

    def __init__(self, seed=None):
        super().__init__(*self._args, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


@_REGISTRY.register("glorot_uniform")
class GlorotUniform(_Preset):
    """Glorot (Xavier) uniform: `U(-limit, limit)`, `limit = sqrt(6 / (fan_in + fan_out))`.

    Args: `seed` as in `VarianceScaling`.
    """
    _args = (1.0, "fan_avg", "uniform")


@_REGISTRY.register("glorot_normal")
class GlorotNormal(_Preset):
    """Glorot (Xavier) normal: truncated normal with std `sqrt(2 / (fan_in + fan_out))`.

    Args: `seed` as in `VarianceScaling`.
    """
    _args = (1.0, "fan_avg", "truncated_normal")


@_REGISTRY.register("he_uniform")
class HeUniform(_Preset):
    """He uniform: `U(-limit, limit)`, `limit = sqrt(6 / fan_in)`.

    Args: `seed` as in `VarianceScaling`.
    """
    _args = (2.0, "fan_in", "uniform")


@_REGISTRY.register("he_normal")
class HeNormal(_Preset):
    """He normal: truncated normal with std `sqrt(2 / fan_in)`.

    Args: `seed` as in `VarianceScaling`.
    """
    _args = (2.0, "fan_in", "truncated_normal")


@_REGISTRY.register("lecun_uniform")
class LecunUniform(_Preset):
    """LeCun uniform: `U(-limit, limit)`, `limit = sqrt(3 / fan_in)`.

    Args: `seed` as in `VarianceScaling`.
    """
    _args = (1.0, "fan_in", "uniform")


@_REGISTRY.register("lecun_normal")
class LecunNormal(_Preset):
    """LeCun normal: truncated normal with std `sqrt(1 / fan_in)`.

    Args: `seed` as in `VarianceScaling`.
    """
    _args = (1.0, "fan_in", "truncated_normal")


@_REGISTRY.register("orthogonal", "orthogonal_initializer")
class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix from the QR decomposition of a normal sample, times `gain`.

    Shapes with more than 2 axes are treated as `(prod(shape[:-1]), shape[-1])`. The result has
    orthonormal columns when it has at least as many rows as columns, orthonormal rows otherwise.

    Args:
        gain: multiplicative factor. Defaults to 1.0.
        seed: optional non-negative int; a seeded initializer returns the same values every call.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = _validate.number(gain, "gain", self)
        super().__init__(seed)

    def __call__(self, shape, dtype=None, rng=None):
        shape, dt, gen, draw_dt = self._draw(shape, dtype, rng)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: the weight must be at least 2-D. "
                             f"Received: shape={shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = gen.standard_normal((max(rows, cols), min(rows, cols)), dtype=draw_dt)
        q, r = np.linalg.qr(a)
        q *= np.where(np.diagonal(r) < 0, -1.0, 1.0).astype(draw_dt)  # unique, uniform Q
        if rows < cols:
            q = q.T
        q *= self.gain
        return q.reshape(shape).astype(dt, copy=False)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


@_REGISTRY.register("identity", "identity_initializer")
class Identity(Initializer):
    """`gain` times the identity matrix (2-D shapes only; rectangular shapes get `eye(n, m)`).

    Args:
        gain: multiplicative factor. Defaults to 1.0.
    """

    def __init__(self, gain=1.0):
        self.gain = _validate.number(gain, "gain", self)

    def __call__(self, shape, dtype=None, rng=None):
        shape, dt = _shape(shape, self), _dtype(dtype, self)
        if len(shape) != 2:
            raise ValueError(f"Identity: the identity initializer only makes 2-D matrices. "
                             f"Received: shape={shape}")
        x = np.eye(*shape, dtype=dt)
        return x if self.gain == 1.0 else (x * self.gain).astype(dt, copy=False)

    def get_config(self):
        return {"gain": self.gain}


OrthogonalInitializer = Orthogonal
IdentityInitializer = Identity


# Windows as `scipy.signal.get_window(name, n, fftbins=periodic)` gives them: a periodic window
# is the symmetric one of length n + 1 without its last point (one DFT period).
_WINDOWS = {"hann": np.hanning, "hanning": np.hanning, "hamming": np.hamming,
            "blackman": np.blackman, "bartlett": np.bartlett,
            "boxcar": np.ones, "rectangular": np.ones, "ones": np.ones}


def get_window(window, length, periodic=False, owner="STFT"):
    """The window values of length `length`: a name in `_WINDOWS`, an array-like or None (ones).

    A clear error names `owner` for unknown names and for arrays of the wrong length.
    """
    if window is None:
        return np.ones(length)
    if isinstance(window, str):
        if window not in _WINDOWS:
            raise ValueError(f"{owner}: unknown `window` {window!r}. Valid: "
                             f"{', '.join(sorted(_WINDOWS))}, an array of values, or None. "
                             f"Received: window={window!r}")
        return np.asarray(_WINDOWS[window](length + 1)[:-1] if periodic
                          else _WINDOWS[window](length), dtype=np.float64)
    win = np.asarray(window, dtype=np.float64)
    if win.shape != (length,):
        raise ValueError(f"{owner}: the `window` values must have shape ({length},) (the frame "
                         f"length). Received: window of shape {win.shape}")
    return win


@_REGISTRY.register("stft", "STFTInitializer", "STFT")
class STFT(Initializer):
    """Kernels of a convolution that computes a windowed DFT (the STFT): weight shape
    `(frame_length, 1, bins)` with `bins = fft_length // 2 + 1`; entry `[t, 0, k]` is
    `cos(-2π t k / fft_length)` (`side="real"`) or its `sin` (`side="imag"`), times the window
    and divided by the window's L2 norm (`scaling="density"`) or L1 norm (`"spectrum"`).

    Args:
        side: `"real"` (default) or `"imag"`: which part of the DFT the kernel computes.
        window: `"hann"` (default), `"hamming"`, `"blackman"`, `"bartlett"`, `"boxcar"`, an
            array of `frame_length` values, or None (no window).
        scaling: `"density"` (default), `"spectrum"` or None (no scaling).
        periodic: if True the named window is periodic (one DFT period), else symmetric.

    Example:
        >>> import kerasnp as keras
        >>> keras.initializers.STFT("real", "hann")((8, 1, 5)).shape
        (8, 1, 5)
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        self.side = _validate.choice(side, "side", ("real", "imag"), self)
        if isinstance(window, str):
            get_window(window, 1, owner="STFT")      # unknown names fail here, as in Keras
        self.window = window
        if scaling is not None:
            scaling = _validate.choice(scaling, "scaling", ("density", "spectrum"), self)
        self.scaling = scaling
        self.periodic = _validate.boolean(periodic, "periodic", self)

    def __call__(self, shape, dtype=None, rng=None):
        shape, dt = _shape(shape, self), _dtype(dtype, self)
        if len(shape) != 3:
            raise ValueError(f"STFT: the kernel shape must be (frame_length, 1, bins). "
                             f"Received: shape={shape}")
        length, _, bins = shape
        t = np.arange(length, dtype=np.float64)[:, None, None]
        k = np.arange(bins, dtype=np.float64)[None, None, :]
        args = -2.0 * np.pi * t * k / max(2 * (bins - 1), 1)     # fft_length = 2 (bins - 1)
        kernel = np.cos(args) if self.side == "real" else np.sin(args)
        if self.window is not None:
            win = get_window(self.window, length, self.periodic)
            norm = {"density": np.sqrt(np.sum(win ** 2)), "spectrum": np.sum(np.abs(win)),
                    None: 1.0}[self.scaling]
            kernel = kernel * win[:, None, None] / norm
        return np.broadcast_to(kernel, shape).astype(dt)

    def get_config(self):
        window = self.window.tolist() if isinstance(self.window, np.ndarray) else self.window
        return {"side": self.side, "window": window, "periodic": self.periodic,
                "scaling": self.scaling}


STFTInitializer = STFT
stft = STFT

# Keras 3's lowercase aliases: the classes themselves under their snake_case names.
constant, zeros, ones, identity = Constant, Zeros, Ones, Identity
glorot_normal, glorot_uniform, he_normal, he_uniform = (GlorotNormal, GlorotUniform, HeNormal,
                                                         HeUniform)
lecun_normal, lecun_uniform, orthogonal = LecunNormal, LecunUniform, Orthogonal
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling = VarianceScaling


def get(identifier):
    """Resolve an initializer: `None`, a name, a config dict, a class, an instance or a callable.

    Names are the snake_case ones (`"glorot_uniform"`, `"he_normal"`, `"zeros"`, ...) or the class
    names (`"GlorotUniform"`). Instances and plain callables `f(shape, dtype)` pass through.
    """
    return get_object(identifier, _REGISTRY, Initializer, "initializer")


def serialize(initializer):
    """Return `{"class_name": ..., "config": ...}` for an `Initializer` instance."""
    return serialize_object(initializer, Initializer, "initializer")


def deserialize(config):
    """Inverse of `serialize`: a config dict (or a name) -> a new initializer."""
    return get(config)
