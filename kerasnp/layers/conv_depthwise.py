"""Depthwise and separable convolutions: grouped convolutions with one group per input channel.

Each layer's call is one fused op (`depthwise_conv_bias_act`, `separable_conv_bias_act`) that
records one tape node.
"""
from .. import _validate, constraints, initializers, regularizers
from ..ops._conv_fused import depthwise_conv_bias_act, separable_conv_bias_act
from .base import _serialize, register
from .conv import Conv2D, _Conv


@register
class DepthwiseConv2D(_Conv):
    """Convolves each input channel with its own `depth_multiplier` filters.

    Args:
        kernel_size, strides, padding, dilation_rate, activation, use_bias: as for Conv2D.
        depth_multiplier: output channels per input channel.
        depthwise_initializer, depthwise_regularizer, depthwise_constraint: for the kernel.

    The kernel `depthwise_kernel` has shape `(kh, kw, in_channels, depth_multiplier)`; output
    channel `c * depth_multiplier + m` comes from input channel `c`, as in Keras.

    Input shape: `(batch, h, w, c)`.  Output shape: `(batch, oh, ow, c * depth_multiplier)`.
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(None, kernel_size, strides, padding, data_format, dilation_rate, 1,
                         activation, use_bias, depthwise_initializer, bias_initializer,
                         depthwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)
        self.depth_multiplier = _validate.positive_int(depth_multiplier, "depth_multiplier", self)

    def compute_output_shape(self, input_shape):
        self.filters = input_shape[-1] * self.depth_multiplier
        return super().compute_output_shape(input_shape)

    def _build_depthwise(self, input_shape):
        cin = self._check_channels(input_shape)
        self.compute_output_shape(input_shape)
        self.depthwise_kernel = self.add_weight(
            shape=(*self.kernel_size, cin, self.depth_multiplier),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint, name="depthwise_kernel")
        return cin

    def _build_bias(self, units):
        self.bias = (self.add_weight(shape=(units,), initializer=self.bias_initializer,
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint, name="bias")
                     if self.use_bias else None)

    def build(self, input_shape):
        self._build_depthwise(input_shape)
        self._build_bias(self.filters)

    _geometry = Conv2D._geometry

    def call(self, inputs, training=None):
        return depthwise_conv_bias_act(inputs, self.depthwise_kernel, self.bias, self.activation,
                                       *self._geometry(inputs.shape))        # one node

    def get_config(self):
        cfg = super().get_config()
        for key in ("filters", "groups", "kernel_initializer", "kernel_regularizer",
                    "kernel_constraint"):
            cfg.pop(key)
        cfg.update(depth_multiplier=self.depth_multiplier,
                   depthwise_initializer=_serialize(self.kernel_initializer),
                   depthwise_regularizer=_serialize(self.kernel_regularizer),
                   depthwise_constraint=_serialize(self.kernel_constraint))
        return cfg


@register
class SeparableConv2D(DepthwiseConv2D):
    """A depthwise convolution followed by a 1x1 (pointwise) convolution to `filters` channels.

    Args:
        filters: output channels.
        kernel_size, strides, padding, dilation_rate, depth_multiplier, activation, use_bias:
            as for DepthwiseConv2D.
        pointwise_initializer, pointwise_regularizer, pointwise_constraint: for the 1x1 kernel.

    Weights: `depthwise_kernel (kh, kw, in, depth_multiplier)`, `pointwise_kernel
    (1, 1, in * depth_multiplier, filters)`, `bias (filters,)`.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
        self.out_filters = _validate.positive_int(filters, "filters", self)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def compute_output_shape(self, input_shape):
        shape = super().compute_output_shape(input_shape)
        return shape[:-1] + (self.out_filters,)

    def build(self, input_shape):
        cin = self._build_depthwise(input_shape)
        self.pointwise_kernel = self.add_weight(
            shape=(1, 1, cin * self.depth_multiplier, self.out_filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint, name="pointwise_kernel")
        self._build_bias(self.out_filters)

    def call(self, inputs, training=None):
        return separable_conv_bias_act(inputs, self.depthwise_kernel, self.pointwise_kernel,
                                       self.bias, self.activation,
                                       *self._geometry(inputs.shape))        # one node

    def get_config(self):
        cfg = super().get_config()
        cfg.update(filters=self.out_filters,
                   pointwise_initializer=_serialize(self.pointwise_initializer),
                   pointwise_regularizer=_serialize(self.pointwise_regularizer),
                   pointwise_constraint=_serialize(self.pointwise_constraint))
        return cfg
