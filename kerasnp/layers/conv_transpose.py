"""Conv2DTranspose: the adjoint of a convolution (learned upsampling)."""
from .. import _validate, kernels
from ._padding import pads_2d
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
        if length is None:
            return None
        k = (self.kernel_size[axis] - 1) * self.dilation_rate[axis] + 1
        s = self.strides[axis]
        if self.output_padding is None:
            return length * s + (max(k - s, 0) if self.padding == "valid" else 0)
        pad = k // 2 if self.padding == "same" else 0
        return (length - 1) * s + k - 2 * pad + self.output_padding[axis]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self._length(input_shape[1], 0), self._length(input_shape[2], 1),
                self.filters)

    def build(self, input_shape):
        cin = self._check_channels(input_shape)
        self.kernel = self.add_weight("kernel", (*self.kernel_size, self.filters, cin),
                                      self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = (self.add_weight("bias", (self.filters,), self.bias_initializer,
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint) if self.use_bias else None)

    def _geometry(self, out_shape):
        pads = pads_2d(out_shape[1], out_shape[2], self.kernel_size, self.strides, self.padding,
                       self.dilation_rate)
        return self.strides, pads, self.dilation_rate, 1

    def forward(self, x, training=False):
        self._x = x
        out = (x.shape[0], self._length(x.shape[1], 0), self._length(x.shape[2], 1), self.filters)
        self._out_shape = out
        # Y = Cᵀ·X, where C is the convolution from the output space back to the input space
        z = kernels.conv2d_backward_input(x, self.kernel.value, out, *self._geometry(out))
        return self._finish(z)

    def backward(self, dy):
        dz = self._start_backward(dy)
        geom = self._geometry(self._out_shape)
        dx, cols = kernels.conv2d_forward(dz, self.kernel.value, *geom, keep_cols=True)
        _, dw = kernels.conv2d_backward(dz, self.kernel.value, self._x, *geom, cols=cols,
                                        need_dx=False)
        self.kernel.grad += dw                        # dW from <C(dZ; W), X>
        return dx if self._needs_dx else None         # dX = C·dZ

    def get_config(self):
        cfg = super().get_config()
        cfg.pop("groups")
        cfg["output_padding"] = list(self.output_padding) if self.output_padding else None
        return cfg
