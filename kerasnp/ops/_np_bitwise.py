"""Integer ops (Keras 3 names): bitwise logic and shifts, gcd and lcm. Floating inputs raise a
TypeError naming the op, as Keras's backends refuse them. No gradients (integer results)."""
import numpy as np

from ._dispatch import op, value
from ._np_common import int_only


def _binary(ufunc, name, doc):
    def f(x, y):
        a, b = value(x), value(y)
        int_only(name, a, b)
        return ufunc(a, b)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return op(f, name=name)


def _unary(ufunc, name, doc):
    def f(x):
        a = value(x)
        int_only(name, a)
        return ufunc(a)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return op(f, name=name)


bitwise_and = _binary(np.bitwise_and, "bitwise_and", "Element-wise bitwise AND of integers.")
bitwise_or = _binary(np.bitwise_or, "bitwise_or", "Element-wise bitwise OR of integers.")
bitwise_xor = _binary(np.bitwise_xor, "bitwise_xor", "Element-wise bitwise XOR of integers.")
bitwise_left_shift = _binary(np.left_shift, "bitwise_left_shift",
                             "Element-wise `x << y` for integers.")
bitwise_right_shift = _binary(np.right_shift, "bitwise_right_shift",
                              "Element-wise `x >> y` for integers (arithmetic for signed).")
left_shift = _binary(np.left_shift, "left_shift", "Element-wise `x << y` for integers.")
right_shift = _binary(np.right_shift, "right_shift", "Element-wise `x >> y` for integers.")
bitwise_invert = _unary(np.invert, "bitwise_invert",
                        "Element-wise bitwise NOT of integers (`~x`; logical NOT for booleans).")
bitwise_not = _unary(np.invert, "bitwise_not",
                     "Element-wise bitwise NOT of integers (`~x`; logical NOT for booleans).")
gcd = _binary(np.gcd, "gcd", "Element-wise greatest common divisor of integers.")
lcm = _binary(np.lcm, "lcm", "Element-wise least common multiple of integers.")

__all__ = ["bitwise_and", "bitwise_invert", "bitwise_left_shift", "bitwise_not", "bitwise_or",
           "bitwise_right_shift", "bitwise_xor", "gcd", "left_shift", "lcm", "right_shift"]
