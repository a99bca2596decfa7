"""Convolution layers (channels-last): Conv2D, Conv1D.

The layers validate Keras arguments, resolve padding to explicit pixel counts and call one fused
op (`conv_bias_act`: convolution + bias + ReLU as one tape node, whose VJP is the hand-written
backward over the Numba kernels in `kerasnp.kernels`).
"""
from .. import _validate, activations
from ..ops._conv_fused import conv_bias_act
from ._padding import PADDINGS, output_length, pads_2d
from .base import Layer, _serialize_attrs, register
from .core import KERNEL_BIAS_ARGS, set_kernel_bias_args


def check_data_format(data_format, owner):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{_validate.describe(owner)}: only data_format='channels_last' (NHWC) "
                         f"is supported. Received: data_format={data_format!r}")


def padding_arg(padding, owner, valid=PADDINGS):
    value = padding.lower() if isinstance(padding, str) else padding
    return _validate.choice(value, "padding", valid, owner)


class _Conv(Layer):
    """Shared argument handling of the convolution family (`rank` spatial axes)."""

    rank = 2
    paddings = PADDINGS

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        check_data_format(data_format, self)
        self.filters = (_validate.positive_int(filters, "filters", self) if filters is not None
                        else None)          # depthwise layers derive it at build
        self.kernel_size = _validate.int_tuple(kernel_size, self.rank, "kernel_size", self)
        self.strides = _validate.int_tuple(strides, self.rank, "strides", self)
        self.padding = padding_arg(padding, self, self.paddings)
        self.dilation_rate = _validate.int_tuple(dilation_rate, self.rank, "dilation_rate", self)
        self.groups = _validate.positive_int(groups, "groups", self)
        if self.filters and self.filters % self.groups:
            raise ValueError(f"{_validate.describe(self)}: filters must be divisible by groups. "
                             f"Received: filters={self.filters}, groups={self.groups}")
        self.activation = activations.get(activation)
        set_kernel_bias_args(self, use_bias, kernel_initializer, bias_initializer,
                             kernel_regularizer, bias_regularizer, kernel_constraint,
                             bias_constraint)

    def _check_channels(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{_validate.describe(self)} expected input of rank "
                             f"{self.rank + 2} (batch, {'spatial, ' * self.rank}channels), "
                             f"received shape {input_shape}.")
        cin = input_shape[-1]
        if cin is None:
            raise ValueError(f"{_validate.describe(self)} needs a known channel axis. "
                             f"Received input shape {input_shape}.")
        if cin % self.groups:
            raise ValueError(f"{_validate.describe(self)}: input channels ({cin}) must be "
                             f"divisible by groups ({self.groups}).")
        return cin

    def compute_output_shape(self, input_shape):
        spatial = []
        for axis, size in enumerate(input_shape[1:-1]):
            out = output_length(size, self.kernel_size[axis], self.strides[axis], self.padding,
                                self.dilation_rate[axis])
            if out is not None and out <= 0:
                raise ValueError(f"{_validate.describe(self)}: input of shape {input_shape} is "
                                 f"too small for kernel_size={self.kernel_size} with "
                                 f"padding='{self.padding}' (output size would be {out}).")
            spatial.append(out)
        return (input_shape[0], *spatial, self.filters)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(filters=self.filters, kernel_size=list(self.kernel_size),
                   strides=list(self.strides), padding=self.padding,
                   data_format="channels_last",         # Keras writes it; the only layout here
                   dilation_rate=list(self.dilation_rate), groups=self.groups,
                   activation=activations.serialize(self.activation), use_bias=self.use_bias,
                   **_serialize_attrs(self, *KERNEL_BIAS_ARGS))
        return cfg


@register
class Conv2D(_Conv):
    """2-D convolution over images `(batch, height, width, channels)`.

    Args:
        filters: number of output channels.
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw).
        padding: "valid" (none) or "same" (output size ceil(input / stride); TensorFlow's
            placement: the extra row/column goes bottom/right).
        dilation_rate: int or (dh, dw).
        groups: split input and output channels into this many independent groups.
        activation, use_bias, *_initializer, *_regularizer, *_constraint: as for Dense.

    The kernel has shape `(kh, kw, in_channels // groups, filters)`, as in Keras.

    Input shape: `(batch, h, w, c)`.  Output shape: `(batch, oh, ow, filters)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.Conv2D(8, 3, padding="same")(np.ones((2, 28, 28, 1), "float32")).shape
        (2, 28, 28, 8)
    """

    #: Its op splits the batch over kerasnp's threads (kernels/threads.py), so a model holding
    #: it trains and predicts with BLAS single-threaded (models/_loop_utils.py `thread_region`).
    computes_on_kerasnp_threads = True

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, **kwargs)

    def build(self, input_shape):
        cin = self._check_channels(input_shape)
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(shape=(*self.kernel_size, cin // self.groups, self.filters),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.bias = (self.add_weight(shape=(self.filters,), initializer=self.bias_initializer,
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint, name="bias")
                     if self.use_bias else None)

    def _geometry(self, shape):
        """Resolved (strides, pads, dilation) of the 2-D kernels for an input of `shape`."""
        return (self.strides, pads_2d(shape[1], shape[2], self.kernel_size, self.strides,
                                      self.padding, self.dilation_rate), self.dilation_rate)

    def call(self, inputs, training=None):
        return conv_bias_act(inputs, self.kernel, self.bias, self.activation,
                             *self._geometry(inputs.shape), self.groups)   # one node


@register
class Conv1D(_Conv):
    """1-D convolution over sequences `(batch, steps, channels)`.

    Args:
        filters, kernel_size, strides, dilation_rate, groups, activation, ...: as for Conv2D,
            with single ints.
        padding: "valid", "same" or "causal" (left padding only: output t sees inputs <= t).

    The kernel has shape `(kernel_size, in_channels // groups, filters)`, as in Keras.
    """

    #: Its op splits the batch over kerasnp's threads (kernels/threads.py), so a model holding
    #: it trains and predicts with BLAS single-threaded (models/_loop_utils.py `thread_region`).
    computes_on_kerasnp_threads = True

    rank = 1
    paddings = ("valid", "same", "causal")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, **kwargs)

    build, call = Conv2D.build, Conv2D.call

    def _geometry(self, shape):
        k, s, d = self.kernel_size[0], self.strides[0], self.dilation_rate[0]
        _, _, left, right = pads_2d(1, shape[1], (1, k), (1, s), self.padding, (1, d))
        return (1, s), (0, 0, left, right), (1, d)        # a 1-row image
