"""Preprocessing layers that sit inside a model: Rescaling and Normalization (with `adapt`).

Both are differentiable affine maps of their input (one tape node each), so they train like any
other layer. The random image augmentations live in `preprocessing_image.py`.
"""
import numbers

import numpy as np

from .. import _validate, config
from ..autodiff.tape import record
from ..ops._dispatch import value
from . import _fused_basic
from .base import Layer, register
from .preprocessing_adapt import iter_batches


def float_input(layer, x):
    """`x` itself when floating point, else cast to the layer's dtype (uint8 images -> floatx)."""
    if x.dtype.kind == "f":
        return x
    return x.astype(layer.dtype or config.floatx())


def float_call_input(layer, inputs):
    """`(x, src)`: the input's float NumPy values, and what to record them against — the input
    itself when it was float already, else the (untracked) cast array."""
    a = np.asarray(value(inputs))
    x = float_input(layer, a)
    return x, (inputs if x is a else x)


def _number_or_list(value, arg, owner):
    """A finite number, or a non-empty 1-D sequence of them (one per channel) -> float or list."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return _validate.number(value, arg, owner)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.array([])
    if arr.ndim != 1 or not arr.size or not np.all(np.isfinite(arr)):
        raise ValueError(f"{_validate.describe(owner)}: argument `{arg}` must be a finite number "
                         f"or a 1-D list of them (one per channel). Received: {arg}={value!r}")
    return arr.tolist()


@register
class Rescaling(Layer):
    """Rescales inputs: `y = x * scale + offset` (e.g. `Rescaling(1 / 255)` for 8-bit images).

    Args:
        scale: float, or a list with one value per channel (last axis).
        offset: float, or a list with one value per channel. Defaults to 0.0.

    Input shape: any (integer inputs are cast to floats).  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.Rescaling(0.5, offset=-1.0)(np.array([[0, 4]], "uint8"))
        array([[-1.,  1.]], dtype=float32)
    """

    supports_masking = True        # passes the mask on (Keras)

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _number_or_list(scale, "scale", self)
        self.offset = _number_or_list(offset, "offset", self)

    def build(self, input_shape):
        for arg in ("scale", "offset"):
            value = getattr(self, arg)
            if isinstance(value, list) and len(value) not in (1, input_shape[-1]):
                raise ValueError(f"{_validate.describe(self)}: `{arg}` has {len(value)} values "
                                 f"but the input has {input_shape[-1]} channels (last axis of "
                                 f"{tuple(input_shape)}). Received: {arg}={value!r}")

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        x, src = float_call_input(self, inputs)
        s = np.asarray(self.scale, dtype=x.dtype)
        return _fused_basic.scale(src, s, np.asarray(self.offset, dtype=x.dtype))  # y = x·s + o

    def get_config(self):
        cfg = super().get_config()
        cfg.update(scale=self.scale, offset=self.offset)
        return cfg


@register
class Normalization(Layer):
    """Standardizes features: `y = (x - mean) / max(sqrt(variance), epsilon)`.

    The statistics are either given (`mean`, `variance`) or learned from data with `adapt()`,
    which stores them as the non-trainable weights `mean` and `variance` (so saving keeps them;
    `mean` holds NaN until the layer is adapted).

    Args:
        axis: int, tuple of ints or None: the axes that keep separate statistics (the feature
            axes); every other axis is averaged over. None means one scalar mean and variance.
            Defaults to -1 (one statistic per last-axis feature). May not include the batch axis.
        mean, variance: optional values (scalars, or arrays broadcastable to the kept axes);
            give both or neither.
        invert: if True, undo the normalization: `y = x * max(sqrt(variance), epsilon) + mean`.

    Input shape: any, with the kept axes known.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> norm = keras.layers.Normalization()
        >>> norm.adapt(np.array([[0., 7.], [2., 9.]]))
        >>> norm(np.array([[0., 7.]]))
        array([[-1., -1.]])
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            axis = (int(axis),)
        try:
            axis = tuple(axis)
            ok = all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis)
        except TypeError:
            ok = False
        if not ok or 0 in axis or len(set(axis)) != len(axis):
            raise ValueError(f"{_validate.describe(self)}: argument `axis` must be None, an int or "
                             "a tuple of distinct ints, not including the batch axis 0. "
                             f"Received: axis={axis!r}")
        self.axis = tuple(int(a) for a in axis)
        if (mean is None) != (variance is None):
            raise ValueError(f"{_validate.describe(self)}: give both `mean` and `variance`, or "
                             f"neither (then call adapt()). Received: mean={mean!r}, "
                             f"variance={variance!r}")
        self.input_mean = self._stat(mean, "mean")
        self.input_variance = self._stat(variance, "variance")
        if self.input_variance is not None and np.any(self.input_variance < 0):
            raise ValueError(f"{_validate.describe(self)}: `variance` must be non-negative. "
                             f"Received: variance={variance!r}")
        self.invert = _validate.boolean(invert, "invert", self)

    def _stat(self, value, arg):
        if value is None:
            return None
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            arr = np.array(np.nan)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{_validate.describe(self)}: `{arg}` must be a finite number or an "
                             f"array of them. Received: {arg}={value!r}")
        return arr

    # -- shapes -------------------------------------------------------------------------------
    def build(self, input_shape):
        ndim = len(input_shape)
        if any(not -ndim <= a < ndim for a in self.axis):
            raise ValueError(f"{_validate.describe(self)}: every `axis` must be in [-{ndim}, "
                             f"{ndim}) for inputs of shape {tuple(input_shape)}. "
                             f"Received: axis={self.axis}")
        keep = tuple(sorted(a % ndim for a in self.axis))
        if 0 in keep or any(input_shape[a] is None for a in keep):
            raise ValueError(f"{_validate.describe(self)}: the kept axes {keep} must be known "
                             f"feature axes (not the batch axis) of the input shape "
                             f"{tuple(input_shape)}. Received: axis={self.axis}")
        self._build_shape, self._keep = (None,) + tuple(input_shape[1:]), keep
        self._reduce = tuple(a for a in range(ndim) if a not in keep)
        self._stat_shape = tuple(int(input_shape[a]) for a in keep)
        self._bcast = tuple(int(input_shape[a]) if a in keep else 1 for a in range(ndim))
        if self.input_mean is None:
            self.mean = self.add_weight(shape=self._stat_shape, initializer="zeros",
                                        trainable=False, name="mean")
            self.variance = self.add_weight(shape=self._stat_shape, initializer="ones",
                                            trainable=False, name="variance")
            self.mean.value.fill(np.nan)          # NaN = "not adapted yet" (set_weights clears it)
        else:
            self._given = [self._broadcast(s, arg, input_shape) for s, arg in
                           ((self.input_mean, "mean"), (self.input_variance, "variance"))]
        self.built = True                       # so a direct build() then set_weights() works

    def _broadcast(self, stat, arg, input_shape):
        if stat.shape == self._stat_shape:
            return stat.reshape(self._bcast)
        try:
            return np.broadcast_to(stat, self._bcast)
        except ValueError:
            raise ValueError(f"{_validate.describe(self)}: `{arg}` of shape {stat.shape} does not "
                             f"match the kept axes {self._keep} of the input shape "
                             f"{tuple(input_shape)}: expected shape {self._stat_shape} or a "
                             f"scalar.") from None

    def _stats(self, dtype):
        """Mean and scale `max(sqrt(var), eps)`, shaped to broadcast against the input."""
        if self.input_mean is not None:
            mean, var = self._given
        else:
            if np.isnan(self.mean.value).any():
                raise ValueError(f"{_validate.describe(self)} has no mean and variance yet: call "
                                 "layer.adapt(data) first, or pass mean= and variance= to the "
                                 "constructor.")
            mean = self.mean.value.reshape(self._bcast)
            var = self.variance.value.reshape(self._bcast)
        std = np.maximum(np.sqrt(var, dtype=np.float64), config.epsilon())
        return mean.astype(dtype, copy=False), std.astype(dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    # -- call ---------------------------------------------------------------------------------
    def call(self, inputs):
        x, src = float_call_input(self, inputs)
        mean, std = self._stats(x.dtype)
        if self.invert:
            return _fused_basic.scale(src, std, mean)                   # y = x·σ + μ
        inv = 1.0 / std
        return record((x - mean) * inv, lambda dy: dy * inv, src)       # y = (x - μ)/σ, dx = dy/σ

    # -- adapt --------------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None):
        """Compute the mean and variance of `data` over every axis except `axis`.

        The statistics are merged batch by batch (Chan et al.'s parallel update, in float64), so
        data larger than memory (a memory-mapped array, a dataset) streams through once.

        Args:
            data: a NumPy array (or array-like) of inputs; or an object with `__len__` and
                `__getitem__(i)` returning batches `x` or tuples `(x, y, ...)` (a `PyDataset`,
                a Keras `Sequence`); or an iterator/generator of such batches.
            batch_size: rows per chunk when `data` is an array (default: about a million
                values per chunk). Not allowed with batched data.
            steps: number of batches to use (default: all of them).
        """
        if self.input_mean is not None:
            raise ValueError(f"{_validate.describe(self)} was given `mean` and `variance` at "
                             "construction, so it cannot adapt(). Create it without them.")
        if steps is not None:
            steps = _validate.positive_int(steps, "steps", self)
        n, mean, m2 = 0, None, None
        for batch in iter_batches(self, data, batch_size, steps):
            b = np.asarray(batch, dtype=np.float64)
            self._check_adapt_shape(b.shape)
            nb = int(np.prod([b.shape[a] for a in self._reduce], dtype=np.int64))
            if nb == 0:
                continue
            mean_b = b.mean(axis=self._reduce, keepdims=True)
            m2_b = np.square(b - mean_b).sum(axis=self._reduce, keepdims=True)
            if n == 0:
                n, mean, m2 = nb, mean_b, m2_b
                continue
            total = n + nb                                 # Chan: merge (n, μ, M2) with a batch
            delta = mean_b - mean
            mean = mean + delta * (nb / total)
            m2 = m2 + m2_b + np.square(delta) * (n * nb / total)
            n = total
        if n == 0:
            raise ValueError(f"{_validate.describe(self)}.adapt() received no data. "
                             f"Received: data={type(data).__name__}")
        self.mean.assign(mean.reshape(self.mean.shape))
        self.variance.assign((m2 / n).reshape(self.variance.shape))

    def _check_adapt_shape(self, shape):
        if not self.built:
            self._build_once((None,) + tuple(shape[1:]))
            return
        seen = self._build_shape
        if len(shape) != len(seen) or any(shape[a] != seen[a] for a in self._keep):
            expected = tuple("?" if a not in self._keep else seen[a] for a in range(len(seen)))
            raise ValueError(f"{_validate.describe(self)} was built for inputs of shape "
                             f"{tuple(seen)}, so adapt() needs batches of shape {expected} "
                             f"(? = any size). Received a batch of shape {tuple(shape)}.")

    # -- serialisation ------------------------------------------------------------------------
    def get_config(self):
        cfg = super().get_config()
        as_list = lambda s: None if s is None else s.tolist()                   # noqa: E731
        cfg.update(axis=self.axis[0] if len(self.axis) == 1 else list(self.axis) or None,
                   mean=as_list(self.input_mean), variance=as_list(self.input_variance),
                   invert=self.invert)
        return cfg

