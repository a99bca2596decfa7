"""Normalization layers: LayerNormalization."""
import numpy as np

from .. import _validate, initializers
from .base import Layer, _serialize, register


@register
class LayerNormalization(Layer):
    """Normalizes each sample over `axis` to zero mean and unit variance, then scales and shifts.

    Args:
        axis: int or list of ints, the axes normalized (default the last).
        epsilon: small float added to the variance.
        center, scale: whether to learn `beta` (shift) and `gamma` (scale).
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = [int(a) for a in axis] if isinstance(axis, (list, tuple)) else int(axis)
        self.epsilon = _validate.number(epsilon, "epsilon", self, low=0.0, low_open=True)
        self.center = _validate.boolean(center, "center", self)
        self.scale = _validate.boolean(scale, "scale", self)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self._regs = (beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint)

    def build(self, input_shape):
        ndim = len(input_shape)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        norm = sorted(a % ndim for a in axes)
        if any(not 1 <= a < ndim for a in norm):
            raise ValueError(f"Layer '{self.name}' (LayerNormalization): axis must name non-batch "
                             f"axes of an input of shape {input_shape}. Received: axis={self.axis}")
        self._axes = tuple(norm)
        shape = tuple(input_shape[a] for a in norm)           # Keras: params span norm axes
        self._bshape = tuple(input_shape[a] if a in norm else 1 for a in range(1, ndim))
        br, gr, bc, gc = self._regs
        self.gamma = (self.add_weight("gamma", shape, self.gamma_initializer, regularizer=gr,
                                      constraint=gc) if self.scale else None)
        self.beta = (self.add_weight("beta", shape, self.beta_initializer, regularizer=br,
                                     constraint=bc) if self.center else None)
        self._param_axes = tuple(a for a in range(ndim) if a not in norm)

    def forward(self, x, training=False):
        mu = x.mean(axis=self._axes, keepdims=True)
        xc = x - mu
        var = (xc * xc).mean(axis=self._axes, keepdims=True)
        self._inv = 1.0 / np.sqrt(var + x.dtype.type(self.epsilon))   # 1/σ
        self._xhat = xc * self._inv                                     # x̂ = (x - μ)/σ
        y = (self._xhat * self.gamma.value.reshape(self._bshape) if self.scale
             else self._xhat.copy())
        if self.center:
            y += self.beta.value.reshape(self._bshape)
        return y

    def backward(self, dy):
        xhat = self._xhat
        if self.scale:
            self.gamma.grad += (dy * xhat).sum(axis=self._param_axes).reshape(self.gamma.shape)
            g = dy * self.gamma.value.reshape(self._bshape)             # dx̂ = dy·γ
        else:
            g = dy
        if self.center:
            self.beta.grad += dy.sum(axis=self._param_axes).reshape(self.beta.shape)
        # dx = (dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂)) / σ
        m1 = g.mean(axis=self._axes, keepdims=True)
        m2 = (g * xhat).mean(axis=self._axes, keepdims=True)
        return (g - m1 - xhat * m2) * self._inv

    def get_config(self):
        cfg = super().get_config()
        cfg.update(axis=self.axis, epsilon=self.epsilon, center=self.center, scale=self.scale,
                   beta_initializer=_serialize(self.beta_initializer),
                   gamma_initializer=_serialize(self.gamma_initializer))
        return cfg
