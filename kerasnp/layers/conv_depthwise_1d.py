"""Depthwise and separable convolutions over sequences: DepthwiseConv1D, SeparableConv1D.

They run the 2-D layers' fused ops on a one-row image (the ops take `(k, cin, dm)` kernels), so
each call is one tape node.
"""
from ..ops._conv_fused import depthwise_conv_bias_act
from .base import register
from .conv import Conv1D
from .conv_depthwise import DepthwiseConv2D, SeparableConv2D


@register
class DepthwiseConv1D(DepthwiseConv2D):
    """Convolves each channel of a sequence with its own `depth_multiplier` filters.

    Args:
        kernel_size, strides, dilation_rate: ints (or 1-tuples).
        padding: "valid" or "same".
        depth_multiplier: output channels per input channel.
        activation, use_bias, depthwise_*, bias_*: as for DepthwiseConv2D.

    The kernel has shape `(kernel_size, in_channels, depth_multiplier)` (Keras names it
    `kernel`); output channel `c * depth_multiplier + m` comes from input channel `c`.

    Input shape: `(batch, steps, c)`.  Output shape: `(batch, new_steps, c * depth_multiplier)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.DepthwiseConv1D(3, depth_multiplier=2)(np.ones((1, 8, 4))).shape
        (1, 6, 8)
    """

    rank = 1
    paddings = ("valid", "same")

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, **kwargs)

    _geometry = Conv1D._geometry

    def build(self, input_shape):
        cin = self._check_channels(input_shape)
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, cin, self.depth_multiplier),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint, name="kernel")
        self._build_bias(self.filters)
        self.built = True

    @property
    def depthwise_kernel(self):
        return self.kernel

    def call(self, inputs, training=None):
        return depthwise_conv_bias_act(inputs, self.kernel, self.bias, self.activation,
                                       *self._geometry(inputs.shape))        # one node


@register
class SeparableConv1D(SeparableConv2D):
    """A depthwise convolution over a sequence followed by a pointwise projection to `filters`.

    Args:
        filters: output channels.
        kernel_size, strides, dilation_rate: ints (or 1-tuples).
        padding: "valid" or "same".
        depth_multiplier, activation, use_bias, depthwise_*, pointwise_*, bias_*: as for
            SeparableConv2D.

    Weights: `depthwise_kernel (k, in, depth_multiplier)`, `pointwise_kernel
    (1, in * depth_multiplier, filters)`, `bias (filters,)`, as in Keras.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.SeparableConv1D(5, 3, padding="same")(np.ones((1, 8, 4))).shape
        (1, 8, 5)
    """

    rank = 1
    paddings = ("valid", "same")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, **kwargs)

    _geometry = Conv1D._geometry

    def build(self, input_shape):
        cin = self._build_depthwise(input_shape)
        self.pointwise_kernel = self.add_weight(
            shape=(1, cin * self.depth_multiplier, self.out_filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint, name="pointwise_kernel")
        self._build_bias(self.out_filters)
        self.built = True


SeparableConvolution1D = SeparableConv1D
