"""Volumetric convolution layers (channels-last `(batch, depth, rows, cols, channels)`): Conv3D
and Conv3DTranspose, each one fused op per call (`kerasnp.ops._conv3d`: im2col over volumes and
one GEMM, bias and ReLU in the same tape node)."""
from ..ops._conv3d import conv3d_bias_act, conv3d_transpose_bias_act, pads_3d
from .base import register
from .conv import Conv2D, _Conv
from .conv_transpose import Conv2DTranspose


@register
class Conv3D(_Conv):
    """3-D convolution over volumes `(batch, depth, rows, cols, channels)`.

    Args:
        filters: number of output channels.
        kernel_size: int or (kd, kh, kw).
        strides: int or (sd, sh, sw).
        padding: "valid" (none) or "same" (output size ceil(input / stride); the extra plane,
            row or column goes at the end, as in TensorFlow).
        dilation_rate: int or (dd, dh, dw).
        groups: split input and output channels into this many independent groups.
        activation, use_bias, *_initializer, *_regularizer, *_constraint: as for Conv2D.

    The kernel has shape `(kd, kh, kw, in_channels // groups, filters)`, as in Keras.

    Input shape: `(batch, d, h, w, c)`.  Output shape: `(batch, od, oh, ow, filters)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.Conv3D(4, 3, padding="same")(np.ones((2, 5, 6, 7, 1), "float32")).shape
        (2, 5, 6, 7, 4)
    """

    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1, 1), groups=1, activation=None,
                 use_bias=True, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, **kwargs)

    build = Conv2D.build

    def call(self, inputs, training=None):
        pads = pads_3d(inputs.shape[1:4], self.kernel_size, self.strides, self.padding,
                       self.dilation_rate)
        return conv3d_bias_act(inputs, self.kernel, self.bias, self.activation, self.strides,
                               pads, self.dilation_rate, self.groups)           # one node


@register
class Conv3DTranspose(Conv2DTranspose):
    """Transposed 3-D convolution: maps each input voxel to a kernel-sized block of the output,
    spaced `strides` apart (the adjoint of Conv3D; learned upsampling of volumes).

    Args:
        filters: output channels.
        kernel_size, strides, dilation_rate: int or 3-tuple.
        padding: "valid" (output `in·stride + max(k - stride, 0)`) or "same" (`in·stride`).
        output_padding: optional int or 3-tuple (< strides); with it each axis has
            `(in - 1)·stride + k - 2·pad + output_padding`, `pad = k // 2` for "same" and 0 for
            "valid" (Keras's rule).
        activation, use_bias, *_initializer, *_regularizer, *_constraint: as for Conv3D.

    The kernel has shape `(kd, kh, kw, filters, in_channels)`, as in Keras.

    Input shape: `(batch, d, h, w, c)`.  Output shape: `(batch, od, oh, ow, filters)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> layer = keras.layers.Conv3DTranspose(2, 3, strides=2, padding="same")
        >>> layer(np.ones((1, 2, 3, 4, 5), "float32")).shape
        (1, 4, 6, 8, 2)
    """

    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, output_padding=None, dilation_rate=(1, 1, 1),
                 activation=None, use_bias=True, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, **kwargs)

    def call(self, inputs, training=None):
        out = tuple(self._length(n, axis) for axis, n in enumerate(inputs.shape[1:4]))
        # the convolution from the output space back to the input space, whose adjoint this is
        pads = pads_3d(out, self.kernel_size, self.strides, self.padding, self.dilation_rate)
        return conv3d_transpose_bias_act(inputs, self.kernel, self.bias, self.activation, out,
                                         self.strides, pads, self.dilation_rate)  # one node


# Keras's long aliases.
Convolution3D, Convolution3DTranspose = Conv3D, Conv3DTranspose
