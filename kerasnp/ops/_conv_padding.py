"""Keras/TensorFlow padding arithmetic shared by the convolution and pooling ops and layers.

"valid": no padding, `out = floor((in - k_eff) / stride) + 1`.
"same":  `out = ceil(in / stride)`; the total padding `max((out - 1)·stride + k_eff - in, 0)` is
split with the extra row/column at the bottom/right, exactly as TensorFlow places it.
"causal" (1-D convolutions): `k_eff - 1` zeros before, none after.
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


def transpose_length(length, k, stride, padding, output_padding=None, dilation=1):
    """Output size of a transposed convolution along one axis (Keras's rule; None stays None).

    Without `output_padding`: `in·stride + max(k_eff - stride, 0)` ("valid") or `in·stride`
    ("same"); with it: `(in - 1)·stride + k_eff - 2·pad + output_padding`, `pad = k_eff // 2` for
    "same" and 0 for "valid".
    """
    if length is None:
        return None
    k_eff = (k - 1) * dilation + 1
    if output_padding is None:
        return length * stride + (max(k_eff - stride, 0) if padding == "valid" else 0)
    pad = k_eff // 2 if padding == "same" else 0
    return (length - 1) * stride + k_eff - 2 * pad + output_padding
