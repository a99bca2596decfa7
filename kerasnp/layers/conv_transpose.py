"""Conv2DTranspose and Conv1DTranspose: the adjoint of a convolution (learned upsampling), one
fused op per call (a 1-D input runs as a one-row image through the same kernels)."""
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
            output_padding = _validate.int_tuple(output_padding, self.rank, "output_padding",
                                                 self, allow_zero=True)
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
        return (input_shape[0], *(self._length(d, axis) for axis, d in
                                  enumerate(input_shape[1:1 + self.rank])), self.filters)

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

    def _geometry(self, shape):
        """`(out_hw, strides, pads, dilation)` of the 2-D kernels for an input of `shape`."""
        out_hw = (self._length(shape[1], 0), self._length(shape[2], 1))
        # the convolution from the output space back to the input space, whose adjoint this is
        pads = pads_2d(*out_hw, self.kernel_size, self.strides, self.padding, self.dilation_rate)
        return out_hw, self.strides, pads, self.dilation_rate

    def call(self, inputs, training=None):
        return conv_transpose_bias_act(inputs, self.kernel, self.bias, self.activation,
                                       *self._geometry(inputs.shape))           # one node

    def get_config(self):
        cfg = super().get_config()
        cfg.pop("groups")
        cfg["output_padding"] = list(self.output_padding) if self.output_padding else None
        return cfg


@register
class Conv1DTranspose(Conv2DTranspose):
    """Transposed 1-D convolution: maps each input step to a kernel-sized stretch of the
    output, spaced `strides` apart (the adjoint of Conv1D).

    Args:
        filters: output channels.
        kernel_size, strides, dilation_rate: ints (or 1-tuples).
        padding: "valid" (output `steps·stride + max(k_eff - stride, 0)`) or "same"
            (`steps·stride`), with `k_eff = (kernel_size - 1)·dilation_rate + 1`.
        output_padding: optional int (< strides): with it the output has
            `(steps - 1)·stride + k_eff - 2·pad + output_padding` steps, `pad = k_eff // 2` for
            "same" and 0 for "valid" (Keras's rule).
        activation, use_bias, *_initializer, *_regularizer, *_constraint: as for Conv1D.

    The kernel has shape `(kernel_size, filters, in_channels)`, as in Keras.

    Input shape: `(batch, steps, channels)`.  Output shape: `(batch, new_steps, filters)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.Conv1DTranspose(8, 3, strides=2)(np.ones((2, 10, 4), "float32")).shape
        (2, 21, 8)
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, **kwargs)

    def _geometry(self, shape):
        k, s, d = self.kernel_size[0], self.strides[0], self.dilation_rate[0]
        steps = self._length(shape[1], 0)
        _, _, left, right = pads_2d(1, steps, (1, k), (1, s), self.padding, (1, d))
        return (1, steps), (1, s), (0, 0, left, right), (1, d)           # a one-row image
