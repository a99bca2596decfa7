"""BatchNormalization with Keras 3 semantics.

Training (`training=True` and the layer trainable): normalise with the batch mean and the biased
batch variance over every axis but `axis`, and update
`moving = momentum·moving + (1 - momentum)·batch_statistic` (Keras uses the biased variance here
too, unlike PyTorch's running_var). Inference, or a frozen layer (`trainable=False`, even inside
`fit`, as in Keras 3): normalise with the moving statistics. Either way one fused op (one tape
node) whose VJP is the hand-written backward.
"""
import numpy as np

from .. import _validate, constraints, initializers, regularizers
from .. import distribution as _distribution
from ..ops._conv_norm import batch_norm_infer, batch_norm_train
from .base import Layer, _serialize, register


def set_affine_args(layer, epsilon, center, scale, beta_initializer, gamma_initializer,
                    beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint):
    """Checks and sets a normalization layer's `epsilon`, `center`, `scale` and its beta/gamma
    initializers, regularizers and constraints (BatchNormalization, GroupNormalization)."""
    layer.epsilon = _validate.number(epsilon, "epsilon", layer, low=0.0, low_open=True)
    layer.center = _validate.boolean(center, "center", layer)
    layer.scale = _validate.boolean(scale, "scale", layer)
    layer.beta_initializer = initializers.get(beta_initializer)
    layer.gamma_initializer = initializers.get(gamma_initializer)
    layer.beta_regularizer = regularizers.get(beta_regularizer)
    layer.gamma_regularizer = regularizers.get(gamma_regularizer)
    layer.beta_constraint = constraints.get(beta_constraint)
    layer.gamma_constraint = constraints.get(gamma_constraint)


def add_affine_weights(layer, shape):
    """Creates `gamma` (if `layer.scale`) then `beta` (if `layer.center`), Keras's order; the
    absent one is None."""
    layer.gamma = (layer.add_weight(shape=shape, initializer=layer.gamma_initializer,
                                    regularizer=layer.gamma_regularizer,
                                    constraint=layer.gamma_constraint, name="gamma")
                   if layer.scale else None)
    layer.beta = (layer.add_weight(shape=shape, initializer=layer.beta_initializer,
                                   regularizer=layer.beta_regularizer,
                                   constraint=layer.beta_constraint, name="beta")
                  if layer.center else None)


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
        synchronized: accepted for Keras compatibility. Under a distribution spanning
            several processes (`kerasnp.distribution.distribution().num_processes > 1`) the
            training statistics are always the global batch's (see below), as Keras's JAX
            backend computes them on one global array.

    Several processes: the extension point is the set distribution's public
    `all_reduce(buffer)` (sum over processes, in place). In training, with a distribution of
    `num_processes > 1`, the layer runs `kerasnp.distribution.batch_norm_train_global`, which
    sums the moments (forward) and `Σdy`, `Σdy·x̂` (backward) through it, so every process
    normalises with, and updates its moving statistics from, the whole global batch.

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

    supports_masking = True        # passes the mask on (Keras)

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
        set_affine_args(self, epsilon, center, scale, beta_initializer, gamma_initializer,
                        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint)
        self.synchronized = _validate.boolean(synchronized, "synchronized", self)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

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
        add_affine_weights(self, shape)
        self.moving_mean = self.add_weight(shape=shape, initializer=self.moving_mean_initializer,
                                           trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight(shape=shape,
                                               initializer=self.moving_variance_initializer,
                                               trainable=False, name="moving_variance")

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs, training=None):
        if training and self.trainable:           # Keras 3: a frozen layer runs in inference
            dist = _distribution.distribution()
            if dist is not None and dist.num_processes > 1:
                return _distribution.batch_norm_train_global(
                    inputs, self.gamma, self.beta, self.moving_mean, self.moving_variance,
                    self.axis, self.momentum, self.epsilon, all_reduce=dist.all_reduce)
            return batch_norm_train(inputs, self.gamma, self.beta, self.moving_mean,
                                    self.moving_variance, self.axis, self.momentum,
                                    self.epsilon)                               # one node
        return batch_norm_infer(inputs, self.gamma, self.beta, self.moving_mean,
                                self.moving_variance, self.axis, self.epsilon)  # one node

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
