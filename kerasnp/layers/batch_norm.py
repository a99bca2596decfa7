"""BatchNormalization with Keras 3 semantics.

Training (`training=True` and the layer trainable): normalise with the batch mean and the biased
batch variance over every axis but `axis`, and update
`moving = momentum·moving + (1 - momentum)·batch_statistic` (Keras uses the biased variance here
too, unlike PyTorch's running_var). Inference, or a frozen layer (`trainable=False`, even inside
`fit`, as in Keras 3): normalise with the moving statistics.
"""
import numpy as np

from .. import _validate, constraints, initializers, regularizers
from .base import Layer, _serialize, register


@register
class BatchNormalization(Layer):
    """Normalises each feature with batch statistics in training and moving ones in inference.

    `y = gamma · (x - mean) / sqrt(variance + epsilon) + beta`.

    Args:
        axis: int, the feature axis (default -1, the channels of an NHWC image or the units of a
            Dense output); statistics are taken over all the other axes.
        momentum: float in [0, 1], weight of the old value in the moving averages.
        epsilon: positive float added to the variance.
        center, scale: whether to learn `beta` (shift) and `gamma` (scale).
        beta_initializer, gamma_initializer: initializer names or objects.
        moving_mean_initializer, moving_variance_initializer: initializers of the statistics.
        beta_regularizer, gamma_regularizer: optional regularizers.
        beta_constraint, gamma_constraint: optional constraints.
        synchronized: accepted for Keras compatibility (a single process has nothing to sync).

    Weights: `gamma`, `beta` (trainable), `moving_mean`, `moving_variance` (non-trainable), each
    of shape `(features,)`, in that order.

    Input shape: any rank >= 2.  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> bn = keras.layers.BatchNormalization()
        >>> y = bn(np.array([[0.0], [2.0]], "float32"), training=True)
        >>> [round(float(v), 4) for v in y[:, 0]], round(float(bn.moving_mean.value[0]), 4)
        ([-0.9995, 0.9995], 0.01)
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"{_validate.describe(self)}: argument `axis` must be an integer. "
                            f"Received: axis={axis!r}")
        self.axis = int(axis)
        self.momentum = _validate.number(momentum, "momentum", self, low=0.0, high=1.0)
        self.epsilon = _validate.number(epsilon, "epsilon", self, low=0.0, low_open=True)
        self.center = _validate.boolean(center, "center", self)
        self.scale = _validate.boolean(scale, "scale", self)
        self.synchronized = _validate.boolean(synchronized, "synchronized", self)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape):
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim or self.axis % ndim == 0:
            raise ValueError(f"{_validate.describe(self)}: axis must name a non-batch axis of an "
                             f"input of shape {tuple(input_shape)}. Received: axis={self.axis}")
        ax = self.axis % ndim
        c = input_shape[ax]
        if c is None:
            raise ValueError(f"{_validate.describe(self)}: the feature axis {self.axis} of input "
                             f"shape {tuple(input_shape)} must be known to build the layer.")
        shape = (int(c),)
        self.gamma = (self.add_weight("gamma", shape, self.gamma_initializer,
                                      regularizer=self.gamma_regularizer,
                                      constraint=self.gamma_constraint) if self.scale else None)
        self.beta = (self.add_weight("beta", shape, self.beta_initializer,
                                     regularizer=self.beta_regularizer,
                                     constraint=self.beta_constraint) if self.center else None)
        self.moving_mean = self.add_weight("moving_mean", shape, self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape,
                                               self.moving_variance_initializer, trainable=False)
        # Feature axis last (the common case) -> work on a free (m, c) view of the input.
        self._last = ax == ndim - 1
        self._axes = tuple(a for a in range(ndim) if a != ax)
        self._bshape = tuple(c if a == ax else 1 for a in range(ndim))

    # Parameters shaped to broadcast against the input (a view, no copy).
    def _b(self, v):
        return v if self._last else v.reshape(self._bshape)

    def _view(self, a):
        return a.reshape(-1, a.shape[-1]) if self._last else a

    # Per-feature reductions. On the (m, c) view a BLAS matrix-vector product and einsum are
    # several times faster than `sum(axis=0)` (and the product accumulates more accurately).
    def _sum(self, a):                                                  # Σ a
        if self._last:
            return np.ones(a.shape[0], dtype=a.dtype) @ a
        return a.sum(axis=self._axes)

    def _dot(self, a, b):                                               # Σ a·b
        return np.einsum("ij,ij->j", a, b) if self._last else (a * b).sum(axis=self._axes)

    def forward(self, x, training=False):
        self._shape = x.shape
        self._training = bool(training) and self.trainable      # Keras 3: frozen => inference
        dt = x.dtype.type
        x2 = self._view(x)
        gamma = self.gamma.value if self.scale else None
        if not self._training:
            self._x = x2
            self._inv = inv = 1.0 / np.sqrt(self.moving_variance.value + dt(self.epsilon))
            self._k = k = inv if gamma is None else gamma * inv             # γ/σ_moving
            shift = -self.moving_mean.value * k
            if self.center:
                shift += self.beta.value
            y = x2 * self._b(k)                                             # y = x·γ/σ + β - μ·γ/σ
            y += self._b(shift)
            return y.reshape(x.shape)
        m = dt(x2.size // self.moving_mean.value.size)
        mean = self._sum(x2) / m                                            # μ_B
        xc = x2 - self._b(mean)
        var = self._dot(xc, xc) / m                                         # σ²_B (biased)
        inv = 1.0 / np.sqrt(var + dt(self.epsilon))
        self._xhat = xhat = np.multiply(xc, self._b(inv), out=xc)           # x̂ = (x - μ_B)/σ_B
        self._k = inv if gamma is None else gamma * inv                     # γ/σ_B
        mo = dt(self.momentum)
        self.moving_mean.value[...] = self.moving_mean.value * mo + mean * (1 - mo)
        self.moving_variance.value[...] = self.moving_variance.value * mo + var * (1 - mo)
        y = xhat * self._b(gamma) if gamma is not None else xhat.copy()     # y = γ·x̂ + β
        if self.center:
            y += self._b(self.beta.value)
        return y.reshape(x.shape)

    def backward(self, dy):
        dy2 = self._view(dy)
        train, need_dx = self._training, self._needs_dx
        grads = self.trainable                  # frozen: no weight gradients are ever applied
        if (self.scale and grads) or (train and need_dx):
            xhat = (self._xhat if train else                                # x̂ from moving stats
                    (self._x - self._b(self.moving_mean.value)) * self._b(self._inv))
            s_dyx = self._dot(dy2, xhat)                                    # dγ = Σ dy·x̂
            if self.scale and grads:
                self.gamma.grad += s_dyx
        if (self.center and grads) or (train and need_dx):
            s_dy = self._sum(dy2)                                           # dβ = Σ dy
            if self.center and grads:
                self.beta.grad += s_dy
        if not need_dx:
            return None
        k = self._b(self._k)
        if not train:
            return (dy2 * k).reshape(self._shape)                           # dx = dy·γ/σ
        m = dy2.dtype.type(dy2.size // s_dy.size)
        # dx = γ/σ · (dy - Σdy/m - x̂·Σ(dy·x̂)/m), in place on one new array
        dx = np.multiply(xhat, self._b(-s_dyx / m))
        dx += dy2
        dx -= self._b(s_dy / m)
        dx *= k
        return dx.reshape(self._shape)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(axis=self.axis, momentum=self.momentum, epsilon=self.epsilon,
                   center=self.center, scale=self.scale,
                   beta_initializer=_serialize(self.beta_initializer),
                   gamma_initializer=_serialize(self.gamma_initializer),
                   moving_mean_initializer=_serialize(self.moving_mean_initializer),
                   moving_variance_initializer=_serialize(self.moving_variance_initializer),
                   beta_regularizer=_serialize(self.beta_regularizer),
                   gamma_regularizer=_serialize(self.gamma_regularizer),
                   beta_constraint=_serialize(self.beta_constraint),
                   gamma_constraint=_serialize(self.gamma_constraint),
                   synchronized=self.synchronized)
        return cfg
