"""Normalization layers: LayerNormalization."""
import numpy as np

from .. import _validate, config, initializers
from ..autodiff.tape import is_tracked, record
from ..ops._dispatch import value
from .base import Layer, _serialize, register


@register
class LayerNormalization(Layer):
    """Normalizes each sample over `axis` to zero mean and unit variance, then scales and shifts.

    Args:
        axis: int or list of ints, the axes normalized (default the last).
        epsilon: small float added to the variance.
        center, scale: whether to learn `beta` (shift) and `gamma` (scale).
    """

    supports_masking = True        # passes the mask on (Keras)

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
        self.gamma = (self.add_weight(shape=shape, initializer=self.gamma_initializer,
                                      regularizer=gr, constraint=gc, name="gamma")
                      if self.scale else None)
        self.beta = (self.add_weight(shape=shape, initializer=self.beta_initializer,
                                     regularizer=br, constraint=bc, name="beta")
                     if self.center else None)
        self._param_axes = tuple(a for a in range(ndim) if a not in norm)

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        return _layer_norm(inputs, self.gamma, self.beta, self._axes, self._bshape,
                           self._param_axes, self.epsilon)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(axis=self.axis, epsilon=self.epsilon, center=self.center, scale=self.scale,
                   beta_initializer=_serialize(self.beta_initializer),
                   gamma_initializer=_serialize(self.gamma_initializer))
        return cfg


def _layer_norm(x, gamma, beta, axes, bshape, param_axes, epsilon):
    """`γ·(x - μ)/σ + β` over `axes` as one node (γ, β optional, shaped `bshape` to broadcast)."""
    a = value(x)
    if a.dtype.kind != "f":
        a = a.astype(config.floatx())
    mu = a.mean(axis=axes, keepdims=True)
    xhat = a - mu
    var = np.mean(xhat * xhat, axis=axes, keepdims=True)
    inv = 1.0 / np.sqrt(var + a.dtype.type(epsilon))           # 1/σ
    xhat *= inv                                                 # x̂ = (x - μ)/σ
    g = None if gamma is None else value(gamma).reshape(bshape)
    y = xhat * g if g is not None else xhat.copy()
    if beta is not None:
        y += value(beta).reshape(bshape)
    need_dx = is_tracked(x)

    def vjp(dy):
        grads = []
        if need_dx:
            gh = dy * g if g is not None else dy                # dx̂ = dy·γ
            m1 = gh.mean(axis=axes, keepdims=True)
            m2 = (gh * xhat).mean(axis=axes, keepdims=True)
            # dx = (dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂)) / σ
            grads.append((gh - m1 - xhat * m2) * inv)
        else:
            grads.append(None)
        if gamma is not None:
            grads.append((dy * xhat).sum(axis=param_axes).reshape(gamma.shape))   # dγ = Σ dy·x̂
        if beta is not None:
            grads.append(dy.sum(axis=param_axes).reshape(beta.shape))            # dβ = Σ dy
        return tuple(grads)
    return record(y, vjp, x, *(p for p in (gamma, beta) if p is not None))
