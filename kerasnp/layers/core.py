"""Core layers: Input, Dense, Activation, Flatten, Reshape, Dropout."""
import math

import numpy as np

from .. import _validate, activations, constraints, initializers, regularizers
from ..ops import _fused
from ..ops._dispatch import value
from . import _fused_basic
from .activation import _FnLayer
from .base import Layer, _serialize_attrs, register


def set_kernel_bias_args(layer, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, kernel_constraint, bias_constraint):
    """Validate and resolve the kernel/bias arguments Dense and the convolutions share."""
    layer.use_bias = _validate.boolean(use_bias, "use_bias", layer)
    layer.kernel_initializer = initializers.get(kernel_initializer)
    layer.bias_initializer = initializers.get(bias_initializer)
    layer.kernel_regularizer = regularizers.get(kernel_regularizer)
    layer.bias_regularizer = regularizers.get(bias_regularizer)
    layer.kernel_constraint = constraints.get(kernel_constraint)
    layer.bias_constraint = constraints.get(bias_constraint)


KERNEL_BIAS_ARGS = ("kernel_initializer", "bias_initializer", "kernel_regularizer",
                    "bias_regularizer", "kernel_constraint", "bias_constraint")


@register
class InputLayer(Layer):
    """The entry point of a model: holds the shape of one sample.

    Args:
        shape: shape of one sample, without the batch axis, e.g. `(784,)` or `(28, 28, 1)`.
        batch_size: optional fixed batch size (informational).
        dtype: dtype of the input (default floatx).
        batch_shape: the full shape with the batch axis first, e.g. `(None, 784)`, instead of
            `shape` and `batch_size` (Keras's `batch_input_shape=` is read the same way).
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None,
                 **kwargs):
        if shape is None and "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        if batch_shape is None and "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        if batch_shape is not None:
            shape, batch_size = _split_batch_shape(shape, batch_size, batch_shape)
        super().__init__(name=name, dtype=dtype, **kwargs)
        if shape is None:
            raise ValueError("InputLayer needs the shape of one sample, e.g. shape=(784,). "
                             "Received: shape=None")
        if isinstance(shape, int):
            shape = (shape,)
        try:
            shape = tuple(None if d is None else int(d) for d in shape)
        except (TypeError, ValueError):
            raise ValueError(f"Input shape must be a tuple of positive ints (or None). "
                             f"Received: shape={shape!r}") from None
        if any(d is not None and d <= 0 for d in shape):
            raise ValueError(f"Input shape must be a tuple of positive ints (or None). "
                             f"Received: shape={shape!r}")
        self.shape = shape
        self.batch_size = batch_size
        self.input_spec_shape = (None,) + shape
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        return inputs

    def get_config(self):
        cfg = super().get_config()
        cfg.update(shape=list(self.shape), batch_size=self.batch_size)
        return cfg


def _split_batch_shape(shape, batch_size, batch_shape):
    """`batch_shape=(batch, *shape)` -> `(shape, batch_size)`, refusing a second way to say it."""
    if shape is not None or batch_size is not None:
        raise ValueError("Input: pass either `shape` (and `batch_size`) or `batch_shape`, not "
                         f"both. Received: shape={shape!r}, batch_size={batch_size!r}, "
                         f"batch_shape={batch_shape!r}")
    if isinstance(batch_shape, int) or not hasattr(batch_shape, "__len__") or \
            len(batch_shape) < 1:
        raise ValueError("Input: `batch_shape` must be a tuple with the batch axis first, e.g. "
                         f"(None, 784). Received: batch_shape={batch_shape!r}")
    batch_shape = tuple(batch_shape)
    return batch_shape[1:], batch_shape[0]


def Input(shape=None, batch_size=None, dtype=None, batch_shape=None, name=None):
    """A symbolic input tensor: `Sequential([Input((784,)), Dense(10)])` or the functional API.

    Args:
        shape: shape of one sample, without the batch axis.
        batch_size: optional fixed batch size.
        dtype: input dtype (default floatx).
        batch_shape: the full shape, batch axis first (`(None, 784)` or `(32, 784)`), instead
            of `shape` and `batch_size`.
        name: optional name of the input.
    Returns:
        A `KerasTensor` with `.shape == (batch_size, *shape)`.

    Example:
        >>> import kerasnp as keras
        >>> keras.Input(batch_shape=(None, 28, 28, 1)).shape
        (None, 28, 28, 1)
    """
    from ..models.graph import KerasTensor
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                       name=name)
    return KerasTensor((layer.batch_size,) + layer.shape, layer, [], dtype=dtype)


@register
class Dense(Layer):
    """Fully connected layer: `y = activation(x @ kernel + bias)`.

    Args:
        units: positive int, size of the output.
        activation: name, callable or None (linear).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializer names or objects.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape: `(batch, ..., features)`.  Output shape: `(batch, ..., units)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.Dense(3, activation="relu")(np.ones((2, 4), "float32")).shape
        (2, 3)
    """

    supports_masking = True        # passes the mask on (Keras)

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = _validate.positive_int(units, "units", self)
        self.activation = activations.get(activation)
        set_kernel_bias_args(self, use_bias, kernel_initializer, bias_initializer,
                             kernel_regularizer, bias_regularizer, kernel_constraint,
                             bias_constraint)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.bias = (self.add_weight(shape=(self.units,), initializer=self.bias_initializer,
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint, name="bias")
                     if self.use_bias else None)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def call(self, inputs):
        # One node: x·W + b with ReLU in place; the VJP (dW = Xᵀ·dZ, db = Σₙ dZ, dX = dZ·Wᵀ)
        # skips dX when the input carries no gradient (the first layer of a model).
        # `.raw`: the op itself, without the symbolic-dispatch check (call() only ever sees
        # concrete inputs: Layer.__call__ routes symbolic ones to the graph).
        return _fused.dense.raw(inputs, self.kernel, self.bias, self.activation)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(units=self.units, activation=activations.serialize(self.activation),
                   use_bias=self.use_bias, **_serialize_attrs(self, *KERNEL_BIAS_ARGS))
        return cfg


@register
class Activation(_FnLayer):
    """Applies an activation function: `Activation("relu")`.

    Args:
        activation: name or callable (see `kerasnp.activations`).
    Input shape: any.  Output shape: same as input.
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self._set_fn(activations.get(activation))

    def get_config(self):
        cfg = super().get_config()
        cfg["activation"] = activations.serialize(self.activation)
        return cfg


@register
class Flatten(Layer):
    """Flattens each sample: `(batch, d1, d2, ...)` -> `(batch, d1*d2*...)`."""

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest, dtype=np.int64))
        return (input_shape[0], size)

    def call(self, inputs):
        return _fused_basic.reshape(inputs, (np.shape(value(inputs))[0], -1))


@register
class Reshape(Layer):
    """Reshapes each sample to `target_shape` (one entry may be -1).

    Args:
        target_shape: tuple of ints, the shape of one output sample.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            self.target_shape = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            raise ValueError(f"Layer '{self.name}' (Reshape): target_shape must be a tuple of "
                             f"ints. Received: target_shape={target_shape!r}") from None
        if sum(d == -1 for d in self.target_shape) > 1 or any(
                d == 0 or d < -1 for d in self.target_shape):
            raise ValueError(f"Layer '{self.name}' (Reshape): target_shape must hold positive "
                             f"ints and at most one -1. Received: target_shape={target_shape!r}")

    def compute_output_shape(self, input_shape):
        if any(d is None for d in input_shape[1:]):          # sizes known only at call time
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        size = math.prod(input_shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if size % known:
                self._shape_error(input_shape)
            out = tuple(size // known if d == -1 else d for d in self.target_shape)
        else:
            out = self.target_shape
        if math.prod(out) != size:
            self._shape_error(input_shape)
        return (input_shape[0],) + out

    def _shape_error(self, input_shape):
        raise ValueError(f"Layer '{self.name}' (Reshape) cannot reshape input of shape "
                         f"{input_shape} to target_shape {self.target_shape}: the sizes differ.")

    def build(self, input_shape):
        self.compute_output_shape(input_shape)            # the size check, once

    def call(self, inputs):
        shape = np.shape(value(inputs))
        try:
            return _fused_basic.reshape(inputs, (shape[0],) + self.target_shape)
        except ValueError:
            self._shape_error(shape)

    def get_config(self):
        cfg = super().get_config()
        cfg["target_shape"] = list(self.target_shape)
        return cfg


@register
class Dropout(Layer):
    """Sets a fraction `rate` of inputs to 0 in training and scales the rest by `1/(1-rate)`.

    Args:
        rate: float in [0, 1), the fraction of inputs to drop.
        noise_shape: optional shape of the binary mask (1 where the mask is shared).
        seed: optional int seed for this layer's mask generator.
    """

    supports_masking = True        # passes the mask on (Keras)

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _validate.rate(rate, "rate", self)
        self.noise_shape = None
        if noise_shape is not None:
            if not isinstance(noise_shape, (list, tuple)):
                raise TypeError(f"{_validate.describe(self)}: noise_shape must be a list or "
                                f"tuple of ints or None. Received: noise_shape={noise_shape!r}")
            self.noise_shape = tuple(None if d is None else
                                     _validate.positive_int(d, "noise_shape entries", self)
                                     for d in noise_shape)
        self.seed = seed
        if seed is not None:
            self._rng = np.random.default_rng(_validate.non_negative_int(seed, "seed", self))

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        x = value(inputs)
        shape = x.shape
        if self.noise_shape is not None:
            shape = self._mask_shape(x.shape)
        keep = self._rng.random(shape, dtype=np.float32) >= self.rate
        mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.rate))
        return _fused_basic.scale(inputs, mask)                  # y = x·m/(1-rate)

    def _mask_shape(self, input_shape):
        """noise_shape with its None entries filled from the input; each entry must be the
        input's size on that axis or 1 (the mask is shared along that axis)."""
        shape = tuple(s if n is None else n for s, n in zip(input_shape, self.noise_shape))
        if len(self.noise_shape) != len(input_shape) or any(
                m not in (1, s) for m, s in zip(shape, input_shape)):
            raise ValueError(f"{_validate.describe(self)}: noise_shape must have the input's "
                             f"rank ({len(input_shape)}), each entry None, 1 or the input's "
                             f"size on that axis. Received: noise_shape="
                             f"{self.noise_shape} for an input of shape {input_shape}")
        return shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(rate=self.rate, seed=self.seed,
                   noise_shape=list(self.noise_shape) if self.noise_shape else None)
        return cfg
