"""Padding arithmetic for the convolution and pooling layers (it lives with the ops, which need
it too; see `kerasnp.ops._conv_padding`)."""
from ..ops._conv_padding import (PADDINGS, output_length, pad_amounts, pads_2d,  # noqa: F401
                                 transpose_length)
