"""Layer-harness cases for the convolution family (imported by tests/test_layers.py), and a
tape helper shared by the convolution-family tests."""
import numpy as np

from kerasnp.autodiff import GradientTape, unwrap
from kerasnp.layers.conv import Conv1D, Conv2D
from kerasnp.layers.conv_transpose import Conv2DTranspose
from kerasnp.layers.conv_depthwise import DepthwiseConv2D, SeparableConv2D

CASES = {
    "conv2d_valid": (lambda: Conv2D(3, 3), (5, 6, 2), {}),
    "conv2d_same_stride2_odd": (lambda: Conv2D(2, 3, strides=2, padding="same",
                                               activation="relu"), (7, 5, 3), {}),
    "conv2d_same_stride2_even": (lambda: Conv2D(2, (2, 3), strides=(2, 1), padding="same"),
                                 (6, 4, 1), {}),
    "conv2d_same_stride3": (lambda: Conv2D(2, 4, strides=3, padding="same",
                                           activation="tanh"), (8, 7, 2), {}),
    "conv2d_dilation": (lambda: Conv2D(2, 3, dilation_rate=2, padding="same"), (7, 7, 2), {}),
    "conv2d_groups": (lambda: Conv2D(6, 3, groups=2, activation="sigmoid"), (5, 5, 4), {}),
    "conv2d_1x1": (lambda: Conv2D(4, 1, use_bias=False), (3, 3, 5), {}),
    # 3x3 stride 1 with 16+ channels in and out: the Winograd F(2x2, 3x3) kernels
    # (batch 4: enough output pixels per weight for that path, `conv_winograd.MIN_SAVING`)
    "conv2d_winograd_same_relu": (lambda: Conv2D(16, 3, padding="same", activation="relu"),
                                  (12, 12, 16), {}),
    "conv2d_winograd_valid_linear": (lambda: Conv2D(17, 3, use_bias=False), (14, 13, 16), {}),
    "conv2d_kernel_eq_input": (lambda: Conv2D(3, (4, 5)), (4, 5, 2), {}),
    "conv2d_softmax_l2": (lambda: Conv2D(3, 2, activation="softmax", kernel_regularizer="l2"),
                          (4, 4, 2), {}),
    "conv1d_valid": (lambda: Conv1D(3, 3), (8, 2), {}),
    "conv1d_causal_dilated": (lambda: Conv1D(2, 3, padding="causal", dilation_rate=2,
                                             activation="elu"), (9, 3), {}),
    "conv1d_same_stride2_groups": (lambda: Conv1D(4, 2, strides=2, padding="same", groups=2),
                                   (7, 4), {}),
    "depthwise": (lambda: DepthwiseConv2D(3, depth_multiplier=2, padding="same"), (5, 4, 3), {}),
    "depthwise_stride2_relu": (lambda: DepthwiseConv2D((2, 3), strides=2, activation="relu"),
                               (6, 7, 2), {}),
    "separable": (lambda: SeparableConv2D(4, 3, padding="same", depth_multiplier=2), (5, 5, 3),
                  {}),
    "separable_dilated_tanh": (lambda: SeparableConv2D(3, 2, dilation_rate=2, activation="tanh"),
                               (6, 6, 2), {}),
    "conv2d_transpose_valid": (lambda: Conv2DTranspose(3, 3), (4, 5, 2), {}),
    "conv2d_transpose_same_s2": (lambda: Conv2DTranspose(2, 3, strides=2, padding="same",
                                                         activation="relu"), (3, 4, 3), {}),
    "conv2d_transpose_k_lt_s": (lambda: Conv2DTranspose(2, 2, strides=3), (3, 3, 2), {}),
    "conv2d_transpose_outpad": (lambda: Conv2DTranspose(2, 3, strides=2, padding="same",
                                                        output_padding=1), (3, 3, 2), {}),
    "conv2d_transpose_dilated": (lambda: Conv2DTranspose(2, 2, dilation_rate=2,
                                                         padding="valid"), (4, 4, 1), {}),
}


# ------------------------------------------------------------------ helpers shared by the tests
# of the convolution family (tests/test_conv_layers.py, test_pooling_bn.py, test_ops_conv.py)
def tape_gradients(layer, x, dy, training=False):
    """`(y, dx, [dW for each trainable weight])` of `Σ layer(x)·dy`, through `GradientTape`."""
    with GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=training)
    grads = tape.gradient(y, [x] + layer.trainable_weights, output_gradients=dy)
    return np.asarray(unwrap(y)), grads[0], list(grads[1:])

