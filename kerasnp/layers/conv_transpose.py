"""Conv2DTranspose: the adjoint of a convolution (learned upsampling), one fused op per call."""
from .. import _validate
from ..ops._conv_fused import conv_transpose_bias_act
from ._padding import pads_2d, transpose_length
from .base import register
from .conv import _Conv


@register
class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution ("deconvolution"): maps each input pixel to a kernel-sized
    patch of the output, spaced `strides` apart.

    Args:
        filters: output channels.
        kernel_size, strides, dilation_rate: int or pair.
        padding: "valid" (output `in·stride + max(k - stride, 0)`) or "same" (`in·stride`).
        output_padding: optional int or pair (< stride), extra rows/columns at the bottom/right.
        activation, use_bias, *_initializer, *_regularizer, *_constraint: as for Conv2D.

    The kernel has shape `(kh, kw, filters, in_channels)`, as in Keras.

    Input shape: `(batch, h, w, c)`.  Output shape: `(batch, oh, ow, filters)`.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1,
                         activation, use_bias, **kwargs)
        if output_padding is not None:
            output_padding = _validate.int_tuple(output_padding, 2, "output_padding", self,
                                                 allow_zero=True)
            if any(p >= s for p, s in zip(output_padding, self.strides)):
                raise ValueError(f"{_validate.describe(self)}: output_padding must be smaller "
                                 f"than strides {self.strides}. "
                                 f"Received: output_padding={output_padding}")
        self.output_padding = output_padding

    def _length(self, length, axis):
        return transpose_length(length, self.kernel_size[axis], self.strides[axis], self.padding,
                                None if self.output_padding is None
                                else self.output_padding[axis], self.dilation_rate[axis])

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self._length(input_shape[1], 0), self._length(input_shape[2], 1),
                self.filters)

    def build(self, input_shape):
        cin = self._check_channels(input_shape)
        self.kernel = self.add_weight(shape=(*self.kernel_size, self.filters, cin),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.bias = (self.add_weight(shape=(self.filters,), initializer=self.bias_initializer,
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint, name="bias")
                     if self.use_bias else None)

    def call(self, inputs, training=None):
        out_hw = (self._length(inputs.shape[1], 0), self._length(inputs.shape[2], 1))
        # the convolution from the output space back to the input space, whose adjoint this is
        pads = pads_2d(*out_hw, self.kernel_size, self.strides, self.padding, self.dilation_rate)
        return conv_transpose_bias_act(inputs, self.kernel, self.bias, self.activation, out_hw,
                                       self.strides, pads, self.dilation_rate)   # one node

    def get_config(self):
        cfg = super().get_config()
        cfg.pop("groups")
        cfg["output_padding"] = list(self.output_padding) if self.output_padding else None
        return cfg
