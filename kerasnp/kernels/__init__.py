"""Numeric kernels for convolution and pooling: arrays and ints in, arrays out.

NHWC layout, kernels `(kh, kw, cin // groups, cout)` as in Keras, padding given explicitly as
`(top, bottom, left, right)`. Layers validate and resolve Keras arguments; these functions trust
their inputs. Each kernel is compiled once per dtype (float32 for training, float64 for gradient
checks): the wrappers pass C-contiguous writable arrays and Python ints only, so fresh arrays of
a known dtype never trigger a new compilation. `warmup()` compiles (or loads from the on-disk
cache) both specialisations up front so the first epoch's timing is honest.

Without Numba the same names serve the NumPy reference implementations from `reference.py`.
"""
import time

import numpy as np

from ._jit import HAVE_NUMBA, JIT_ENABLED
from .reference import output_size

if HAVE_NUMBA:
    from .activation import relu_bias_backward
    from .conv import conv2d_backward, conv2d_backward_input, conv2d_forward
    from .pool import avgpool2d_backward, avgpool2d_forward, pool2d_backward, pool2d_forward
else:  # pragma: no cover - exercised only on machines without numba
    from .reference import (avgpool2d_backward, avgpool2d_forward, conv2d_backward,
                            conv2d_backward_input, conv2d_forward, pool2d_backward,
                            pool2d_forward, relu_bias_backward)

WARMUP_DTYPES = (np.float32, np.float64)


def warmup(dtypes=WARMUP_DTYPES):
    """Compile every kernel for each dtype on tiny arrays (one specialisation per dtype).

    With `cache=True` a later process loads the machine code from disk, so this then takes
    milliseconds instead of seconds.

    Args:
        dtypes: float dtypes to prepare (default float32 and float64).

    Returns:
        Seconds it took.

    Example:
        >>> seconds = warmup()
    """
    start = time.perf_counter()
    one, pad = (1, 1), (0, 1, 1, 0)
    for dtype in dtypes:
        x = np.ones((2, 4, 4, 2), dtype=dtype)
        w = np.ones((2, 2, 1, 2), dtype=dtype)
        y = conv2d_forward(x, w, one, pad, one, 2)
        conv2d_backward(x, w, y, one, pad, one, 2)
        if HAVE_NUMBA:              # the fused bias + ReLU epilogue and its backward
            b = np.ones(2, dtype=dtype)
            y = conv2d_forward(x, w, one, pad, one, 2, bias=b, relu=True)
            conv2d_backward(x, w, y, one, pad, one, 2, relu_output=y, need_db=True)
            from . import conv_winograd     # called directly: too small for `applies`
            xw, ww = np.ones((1, 4, 4, 16), dtype=dtype), np.ones((3, 3, 16, 16), dtype=dtype)
            y = conv_winograd.forward(xw, ww, (1, 1), 4, 4, ww[0, 0, 0], True)
            conv_winograd.backward(xw, ww, y, (1, 1), y, True, True)
        for mode in ("max", "min"):
            p, idx = pool2d_forward(x, (2, 2), (2, 2), pad, mode)
            pool2d_backward(p, idx, x.shape)
            if HAVE_NUMBA:          # what the pooling layers run: winners as window offsets
                from .conv_pooling import pool2d_backward_arg, pool2d_forward_arg
                p, arg = pool2d_forward_arg(x, (2, 2), (2, 2), pad, mode)
                pool2d_backward_arg(p, arg, x.shape, (2, 2), (2, 2), pad)     # windows tile
                p, arg = pool2d_forward_arg(x, (2, 2), one, pad, mode)
                pool2d_backward_arg(p, arg, x.shape, (2, 2), one, pad)        # windows overlap
        p = avgpool2d_forward(x, (2, 2), (2, 2), pad)
        avgpool2d_backward(p, x.shape, (2, 2), (2, 2), pad)
        relu_bias_backward(x.reshape(-1, 2), x.reshape(-1, 2))
    return time.perf_counter() - start


__all__ = ["HAVE_NUMBA", "JIT_ENABLED", "avgpool2d_backward", "avgpool2d_forward",
           "conv2d_backward", "conv2d_backward_input", "conv2d_forward", "output_size", "pool2d_backward",
           "pool2d_forward", "relu_bias_backward", "warmup"]
