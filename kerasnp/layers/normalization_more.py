"""More normalization layers: GroupNormalization, RMSNormalization, UnitNormalization.

Each call is one tape node whose VJP is written under its forward.
"""
import numbers

import numpy as np

from .. import _validate, config
from ..autodiff.tape import is_tracked, record
from ..ops._dispatch import value
from .base import Layer, _serialize, register
from .batch_norm import add_affine_weights, set_affine_args


def _floats(x):
    a = value(x)
    return a if a.dtype.kind == "f" else a.astype(config.floatx())


def _axes(axis, ndim, owner, shape):
    """Sorted non-batch axes named by `axis` (int or list), or a clear error."""
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    norm = sorted({int(a) % ndim for a in axes if -ndim <= int(a) < ndim})
    if len(norm) != len(axes) or 0 in norm:
        raise ValueError(f"{_validate.describe(owner)}: axis must name non-batch axes of an "
                         f"input of shape {shape}. Received: axis={axis!r}")
    return tuple(norm)


@register
class GroupNormalization(Layer):
    """Normalizes each sample over groups of channels (and all other non-batch axes).

    The `channels` of `axis` are split into `groups` contiguous groups; each group of each
    sample is shifted to zero mean and scaled to unit variance, then scaled by `gamma` and
    shifted by `beta` (one value per channel). `groups=1` is LayerNormalization over all
    non-batch axes; `groups=-1` (one group per channel) is instance normalization.

    Args:
        groups: positive int dividing the number of channels, or -1 (= channels).
        axis: int, the channel axis (default the last).
        epsilon: small float added to the variance.
        center, scale: whether to learn `beta` and `gamma`.
        beta_initializer, gamma_initializer, *_regularizer, *_constraint: for the weights.

    Input shape: any, with a known channel axis.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> y = keras.layers.GroupNormalization(groups=2)(np.random.rand(2, 5, 4))
        >>> bool(abs(y[0, :, :2].mean()) < 1e-5)
        True
    """

    supports_masking = True

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if (isinstance(groups, bool) or not isinstance(groups, numbers.Integral)
                or (groups <= 0 and groups != -1)):
            raise ValueError(f"{_validate.describe(self)}: argument `groups` must be a positive "
                             "integer (or -1 for instance normalization). "
                             f"Received: groups={groups!r}")
        self.groups = int(groups)
        self.axis = int(axis)
        set_affine_args(self, epsilon, center, scale, beta_initializer, gamma_initializer,
                        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint)

    def build(self, input_shape):
        ndim = len(input_shape)
        (axis,) = _axes(self.axis, ndim, self, input_shape)
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"{_validate.describe(self)}: axis {self.axis} of the input must "
                             f"have a known size. Received input shape {input_shape}.")
        groups = channels if self.groups == -1 else self.groups
        if groups > channels or channels % groups:
            raise ValueError(f"{_validate.describe(self)}: the number of channels ({channels}) "
                             f"must be divisible by groups ({groups}). Received: groups="
                             f"{self.groups}, input shape {input_shape}")
        self._axis, self._g = axis, groups
        add_affine_weights(self, (channels,))
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        return _group_norm(inputs, self.gamma, self.beta, self._axis, self._g, self.epsilon)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(groups=self.groups, axis=self.axis, epsilon=self.epsilon, center=self.center,
                   scale=self.scale, beta_initializer=_serialize(self.beta_initializer),
                   gamma_initializer=_serialize(self.gamma_initializer),
                   beta_regularizer=_serialize(self.beta_regularizer),
                   gamma_regularizer=_serialize(self.gamma_regularizer),
                   beta_constraint=_serialize(self.beta_constraint),
                   gamma_constraint=_serialize(self.gamma_constraint))
        return cfg


def _group_norm(x, gamma, beta, axis, groups, epsilon):
    """Group normalization as one node: the input is viewed as `(n, positions, groups, cg)`
    and normalized over axes 1 and 3."""
    a = np.moveaxis(_floats(x), axis, -1)
    moved = a.shape
    n, c = moved[0], moved[-1]
    a = a.reshape(n, -1, groups, c // groups)
    mu = a.mean(axis=(1, 3), keepdims=True)
    xhat = a - mu
    inv = 1.0 / np.sqrt(np.mean(xhat * xhat, axis=(1, 3), keepdims=True)
                        + a.dtype.type(epsilon))                     # 1/σ per (sample, group)
    xhat *= inv                                                      # x̂ = (x - μ)/σ
    g = None if gamma is None else value(gamma).reshape(groups, -1)
    y = xhat * g if g is not None else xhat.copy()
    if beta is not None:
        y += value(beta).reshape(groups, -1)
    need_dx = is_tracked(x)

    def back(t):
        return np.moveaxis(t.reshape(moved), -1, axis)

    def vjp(dy):
        d = np.moveaxis(dy, axis, -1).reshape(xhat.shape)
        grads = [None]
        if need_dx:
            gh = d * g if g is not None else d                      # dx̂ = dy·γ
            m1 = gh.mean(axis=(1, 3), keepdims=True)
            m2 = (gh * xhat).mean(axis=(1, 3), keepdims=True)
            grads[0] = back((gh - m1 - xhat * m2) * inv)             # dx = (dx̂ - m1 - x̂·m2)/σ
        if gamma is not None:
            grads.append((d * xhat).sum(axis=(0, 1)).reshape(-1))   # dγ = Σ dy·x̂
        if beta is not None:
            grads.append(d.sum(axis=(0, 1)).reshape(-1))            # dβ = Σ dy
        return tuple(grads)
    return record(back(y), vjp, x, *(p for p in (gamma, beta) if p is not None))


@register
class RMSNormalization(Layer):
    """Root-mean-square normalization: `x / sqrt(mean(x², axis) + epsilon) · scale`.

    Unlike LayerNormalization it neither subtracts the mean nor adds a shift.

    Args:
        axis: int or list of ints, the axes normalized (default the last); the learned `scale`
            has the size of these axes.
        epsilon: small float added to the mean square.

    Input shape: any.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.RMSNormalization()(np.array([[3.0, 4.0]])).round(3).tolist()
        [[0.849, 1.131]]
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = [int(a) for a in axis] if isinstance(axis, (list, tuple)) else [int(axis)]
        self.epsilon = _validate.number(epsilon, "epsilon", self, low=0.0)

    def build(self, input_shape):
        self._axes = _axes(self.axis, len(input_shape), self, input_shape)
        shape = tuple(input_shape[a] for a in self._axes)
        self._bshape = tuple(input_shape[a] if a in self._axes else 1
                             for a in range(1, len(input_shape)))
        self._sum_axes = tuple(a for a in range(len(input_shape)) if a not in self._axes)
        self.scale = self.add_weight(shape=shape, initializer="ones", name="scale")
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        a = _floats(inputs)
        axes = self._axes
        inv = 1.0 / np.sqrt(np.mean(a * a, axis=axes, keepdims=True)
                            + a.dtype.type(self.epsilon))            # 1/r
        xhat = a * inv
        s = value(self.scale).reshape(self._bshape)
        need_dx, scale, sum_axes = is_tracked(inputs), self.scale, self._sum_axes

        def vjp(dy):
            dx = None
            if need_dx:
                gh = dy * s                                           # dx̂ = dy·s
                # dx = (dx̂ - x̂·mean(dx̂·x̂)) / r
                dx = (gh - xhat * (gh * xhat).mean(axis=axes, keepdims=True)) * inv
            return dx, (dy * xhat).sum(axis=sum_axes).reshape(scale.shape)   # ds = Σ dy·x̂
        return record(xhat * s, vjp, inputs, scale)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(axis=list(self.axis), epsilon=self.epsilon)
        return cfg


@register
class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over `axis`: `x / max(‖x‖₂, 1e-12)`.

    Args:
        axis: int or list of ints (default the last).

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.UnitNormalization()(np.array([[3.0, 4.0]])).round(6).tolist()
        [[0.6, 0.8]]
    """

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = [int(a) for a in axis] if isinstance(axis, (list, tuple)) else int(axis)

    def build(self, input_shape):
        self._axes = _axes(self.axis, len(input_shape), self, input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        a = _floats(inputs)
        axes = self._axes
        norm = np.sqrt(np.sum(a * a, axis=axes, keepdims=True))
        floor = norm < 1e-12                     # clamped: the norm is a constant there
        inv = 1.0 / np.maximum(norm, a.dtype.type(1e-12))
        y = a * inv

        def vjp(dy):
            # dx = (dy - y·Σ(dy·y)) / ‖x‖ where the norm is not clamped, dy/1e-12 where it is
            proj = np.where(floor, 0.0, (dy * y).sum(axis=axes, keepdims=True))
            return (dy - y * proj) * inv
        return record(y, vjp, inputs)

    def get_config(self):
        cfg = super().get_config()
        cfg["axis"] = self.axis
        return cfg
