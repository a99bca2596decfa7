"""Keras/TensorFlow padding arithmetic shared by convolution and pooling layers.

"valid": no padding, `out = floor((in - k_eff) / stride) + 1`.
"same":  `out = ceil(in / stride)`; the total padding `max((out - 1)·stride + k_eff - in, 0)` is
split with the extra row/column at the bottom/right, exactly as TensorFlow places it.
`k_eff = (k - 1)·dilation + 1`.
"""
import math

PADDINGS = ("valid", "same")


def output_length(length, k, stride, padding, dilation=1):
    """Output size along one axis (None stays None)."""
    if length is None:
        return None
    k_eff = (k - 1) * dilation + 1
    if padding == "same":
        return math.ceil(length / stride)
    if padding == "causal":
        return (length - 1) // stride + 1
    return max((length - k_eff) // stride + 1, 0)


def pad_amounts(length, k, stride, padding, dilation=1):
    """(before, after) zero padding along one axis."""
    k_eff = (k - 1) * dilation + 1
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return k_eff - 1, 0
    out = math.ceil(length / stride)
    total = max((out - 1) * stride + k_eff - length, 0)
    return total // 2, total - total // 2


def pads_2d(h, w, kernel, strides, padding, dilation=(1, 1)):
    """`(top, bottom, left, right)` for an NHWC input of height h and width w."""
    top, bottom = pad_amounts(h, kernel[0], strides[0], padding, dilation[0])
    left, right = pad_amounts(w, kernel[1], strides[1], padding, dilation[1])
    return top, bottom, left, right
