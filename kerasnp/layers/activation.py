"""Activation layers with parameters: ReLU, LeakyReLU, ELU, PReLU, Softmax."""
import numpy as np

from .. import _validate, activations, initializers
from ..autodiff.tape import is_tracked, record
from ..ops import _fused
from ..ops._dispatch import unbroadcast, value
from .base import Layer, _serialize, register


class _FnLayer(Layer):
    """A layer that applies one configured activation function (shared code of the family)."""

    supports_masking = True        # passes the mask on (Keras)

    def _set_fn(self, fn):
        self.activation = fn

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        # One node whose VJP is the activation's own backward (from the saved output where it
        # can); softmax/sigmoid outputs remember their logits so a cross-entropy loss can fuse.
        return _fused.apply_activation(self.activation, inputs)


@register
class ReLU(_FnLayer):
    """Rectified linear unit: `max(x, 0)`, optionally capped and leaky.

    Args:
        max_value: optional cap of the output (`ReLU(6.0)` is relu6).
        negative_slope: slope for `x < threshold` (default 0).
        threshold: values below it are damped (default 0).
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None:
            max_value = _validate.number(max_value, "max_value", self, low=0.0)
        self.max_value = max_value
        self.negative_slope = _validate.number(negative_slope, "negative_slope", self, low=0.0)
        self.threshold = _validate.number(threshold, "threshold", self)
        self._set_fn(activations.relu.with_params(max_value=max_value,
                                                  negative_slope=self.negative_slope,
                                                  threshold=self.threshold))

    def get_config(self):
        cfg = super().get_config()
        cfg.update(max_value=self.max_value, negative_slope=self.negative_slope,
                   threshold=self.threshold)
        return cfg


@register
class LeakyReLU(_FnLayer):
    """Leaky ReLU: `x` for `x >= 0`, `negative_slope * x` otherwise (Keras default 0.3)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = _validate.number(negative_slope, "negative_slope", self, low=0.0)
        self._set_fn(activations.leaky_relu.with_params(negative_slope=self.negative_slope))

    def get_config(self):
        cfg = super().get_config()
        cfg["negative_slope"] = self.negative_slope
        return cfg


@register
class ELU(_FnLayer):
    """Exponential linear unit: `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _validate.number(alpha, "alpha", self)
        self._set_fn(activations.elu.with_params(alpha=self.alpha))

    def get_config(self):
        cfg = super().get_config()
        cfg["alpha"] = self.alpha
        return cfg


@register
class Softmax(_FnLayer):
    """Softmax over `axis` (default the last)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"Layer '{self.name}' (Softmax): axis must be an int. "
                            f"Received: axis={axis!r}")
        self.axis = int(axis)
        self._set_fn(activations.softmax.with_params(axis=self.axis))

    def get_config(self):
        cfg = super().get_config()
        cfg["axis"] = self.axis
        return cfg


@register
class PReLU(Layer):
    """Parametric ReLU: `max(x, 0) + alpha * min(x, 0)` with a learned `alpha`.

    Args:
        alpha_initializer: initializer of `alpha` (default zeros).
        alpha_regularizer, alpha_constraint: optional.
        shared_axes: axes (1-based, batch excluded) along which one alpha is shared, e.g. `[1, 2]`
            for one alpha per channel of an image.
    """

    supports_masking = True        # passes the mask on (Keras)

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer, self.alpha_constraint = alpha_regularizer, alpha_constraint
        if shared_axes is not None and not isinstance(shared_axes, (list, tuple)):
            shared_axes = [shared_axes]
        self.shared_axes = [int(a) for a in shared_axes] if shared_axes is not None else None

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for a in self.shared_axes or []:
            if not 1 <= a <= len(shape):
                raise ValueError(f"Layer '{self.name}' (PReLU): shared_axes must be in "
                                 f"[1, {len(shape)}] for input shape {input_shape}. "
                                 f"Received: shared_axes={self.shared_axes}")
            shape[a - 1] = 1
        self.alpha = self.add_weight(shape=tuple(shape), initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint, name="alpha")

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        return _prelu(inputs, self.alpha)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(alpha_initializer=_serialize(self.alpha_initializer),
                   shared_axes=self.shared_axes)
        return cfg


def _prelu(x, alpha):
    """`relu(x) + α·min(x, 0)` as one node (α broadcast over the batch and shared axes)."""
    a, al = value(x), value(alpha)
    neg = np.minimum(a, 0)
    y = np.maximum(a, 0)
    y += al * neg                                        # y = relu(x) + α·min(x, 0)
    need_dx = is_tracked(x)

    def vjp(dy):
        dal = unbroadcast(dy * neg, al.shape)            # dα = Σ dy·min(x, 0)
        dx = np.where(a > 0, dy, dy * al) if need_dx else None   # dx = dy·(1 or α)
        return dx, dal
    return record(y, vjp, x, alpha)
