"""Arithmetic, comparison and logical ops (Keras 3 names), with their VJPs.

Binary ops follow NumPy broadcasting; each input's gradient is summed back to its shape. An
input gets a gradient only when it is tracked and floating (`need`, decided in the forward so
the VJP skips work for data and constants).
"""
import numpy as np

from ._dispatch import op, value
from ..autodiff.tape import recording
from ._helpers import floatx, is_floating, need, record, ub


def _record2(y, x1, x2, a, b, da, db):
    """Record a binary op whose input gradients are `da(dy)` and `db(dy)` (before unbroadcast)."""
    if not recording():                          # one check outside a tape
        return y
    n1, n2 = need(x1, a), need(x2, b)
    if not (n1 or n2):
        return y
    return record(y, lambda dy: (ub(da(dy), a) if n1 else None,
                                 ub(db(dy), b) if n2 else None), x1, x2)


@op
def add(x1, x2):
    """Element-wise `x1 + x2` (broadcasting)."""
    a, b = value(x1), value(x2)
    return _record2(a + b, x1, x2, a, b, lambda dy: dy, lambda dy: dy)


@op
def subtract(x1, x2):
    """Element-wise `x1 - x2` (broadcasting)."""
    a, b = value(x1), value(x2)
    return _record2(a - b, x1, x2, a, b, lambda dy: dy, lambda dy: -dy)


@op
def multiply(x1, x2):
    """Element-wise `x1 * x2` (broadcasting)."""
    a, b = value(x1), value(x2)
    # d(ab) = b·da + a·db
    return _record2(a * b, x1, x2, a, b, lambda dy: dy * b, lambda dy: dy * a)


@op
def divide(x1, x2):
    """Element-wise true division `x1 / x2`; integer inputs give floatx, as in Keras."""
    a, b = value(x1), value(x2)
    y = np.true_divide(a, b)
    if not (is_floating(a) or is_floating(b)):
        return np.asarray(y, dtype=floatx())
    return _record2(y, x1, x2, a, b, lambda dy: dy / b,              # d(a/b)/da = 1/b
                    lambda dy: -dy * y / b)                           # d(a/b)/db = -a/b² = -y/b


true_divide = op(divide.raw, name="true_divide")


@op
def floor_divide(x1, x2):
    """Element-wise `x1 // x2`. Piecewise constant: no gradient (as in TensorFlow)."""
    return np.floor_divide(value(x1), value(x2))


@op
def mod(x1, x2):
    """Element-wise remainder `x1 % x2` (sign of `x2`, as NumPy)."""
    a, b = value(x1), value(x2)
    y = np.mod(a, b)
    return _record2(y, x1, x2, a, b, lambda dy: dy,                  # a % b = a - ⌊a/b⌋·b
                    lambda dy: -dy * np.floor_divide(a, b))


@op
def power(x1, x2):
    """Element-wise `x1 ** x2`."""
    a, b = value(x1), value(x2)
    y = np.power(a, b)

    def db(dy):                                                       # d aᵇ/db = aᵇ·ln a (a > 0)
        pos = a > 0
        return dy * y * np.log(np.where(pos, a, 1)) * pos
    return _record2(y, x1, x2, a, b, lambda dy: dy * b * np.power(a, b - 1), db)   # b·aᵇ⁻¹


@op
def maximum(x1, x2):
    """Element-wise maximum; at ties each input gets half the gradient (as torch and JAX)."""
    a, b = value(x1), value(x2)
    y = np.maximum(a, b)

    def share(dy):
        return dy * ((a > b) + 0.5 * (a == b))
    return _record2(y, x1, x2, a, b, share, lambda dy: dy - share(dy))


@op
def minimum(x1, x2):
    """Element-wise minimum; at ties each input gets half the gradient."""
    a, b = value(x1), value(x2)
    y = np.minimum(a, b)

    def share(dy):
        return dy * ((a < b) + 0.5 * (a == b))
    return _record2(y, x1, x2, a, b, share, lambda dy: dy - share(dy))


@op
def arctan2(x1, x2):
    """Element-wise angle of the point `(x2, x1)`, in radians."""
    a, b = value(x1), value(x2)
    if not (is_floating(a) or is_floating(b)):
        a = np.asarray(a, dtype=floatx())
    y = np.arctan2(a, b)
    return _record2(y, x1, x2, a, b, lambda dy: dy * b / (a * a + b * b),    # ∂/∂a = b/(a²+b²)
                    lambda dy: -dy * a / (a * a + b * b))                     # ∂/∂b = -a/(a²+b²)


@op
def logaddexp(x1, x2):
    """Element-wise `log(exp(x1) + exp(x2))`, computed stably."""
    a, b = value(x1), value(x2)
    if not (is_floating(a) or is_floating(b)):
        a = np.asarray(a, dtype=floatx())
    y = np.logaddexp(a, b)
    return _record2(y, x1, x2, a, b, lambda dy: dy * np.exp(a - y),     # ∂/∂a = eᵃ / (eᵃ + eᵇ)
                    lambda dy: dy * np.exp(b - y))


@op
def where(condition, x1=None, x2=None):
    """`x1` where `condition` holds, else `x2`; with only `condition`, the indices where it holds
    (a tuple of arrays, as `np.nonzero`)."""
    c = np.asarray(value(condition)).astype(bool, copy=False)
    if x1 is None and x2 is None:
        return np.nonzero(c)
    if x1 is None or x2 is None:
        raise ValueError("where: give both x1 and x2, or neither. "
                         f"Received: x1={'None' if x1 is None else 'a tensor'}, "
                         f"x2={'None' if x2 is None else 'a tensor'}")
    a, b = value(x1), value(x2)
    y = np.where(c, a, b)
    zero = np.zeros((), dtype=y.dtype)
    return _record2(y, x1, x2, a, b, lambda dy: np.where(c, dy, zero),
                    lambda dy: np.where(c, zero, dy))


@op
def clip(x, x_min, x_max):
    """`x` limited to `[x_min, x_max]`; the gradient passes where `x` is inside (bounds included),
    and goes to a tracked bound where `x` is clipped to it."""
    a, lo, hi = value(x), value(x_min), value(x_max)
    y = np.clip(a, lo, hi)
    n = (need(x, a), need(x_min, lo), need(x_max, hi))
    if not any(n):
        return y

    def vjp(dy):
        below, above = a < lo, a > hi
        zero = np.zeros((), dtype=dy.dtype)
        return (ub(np.where(below | above, zero, dy), a) if n[0] else None,
                ub(np.where(below, dy, zero), lo) if n[1] else None,
                ub(np.where(above & ~below, dy, zero), hi) if n[2] else None)
    return record(y, vjp, x, x_min, x_max)


# -- comparison and logic: no gradient --------------------------------------------------------
def _compare(ufunc, name, doc):
    def fn(x1, x2):
        return ufunc(value(x1), value(x2))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return op(fn)


equal = _compare(np.equal, "equal", "Element-wise `x1 == x2` (booleans).")
not_equal = _compare(np.not_equal, "not_equal", "Element-wise `x1 != x2` (booleans).")
less = _compare(np.less, "less", "Element-wise `x1 < x2` (booleans).")
less_equal = _compare(np.less_equal, "less_equal", "Element-wise `x1 <= x2` (booleans).")
greater = _compare(np.greater, "greater", "Element-wise `x1 > x2` (booleans).")
greater_equal = _compare(np.greater_equal, "greater_equal", "Element-wise `x1 >= x2` (booleans).")
logical_and = _compare(np.logical_and, "logical_and", "Element-wise logical AND (booleans).")
logical_or = _compare(np.logical_or, "logical_or", "Element-wise logical OR (booleans).")
logical_xor = _compare(np.logical_xor, "logical_xor", "Element-wise logical XOR (booleans).")


@op
def logical_not(x):
    """Element-wise logical NOT (booleans)."""
    return np.logical_not(value(x))


__all__ = ["add", "arctan2", "clip", "divide", "equal", "floor_divide", "greater",
           "greater_equal", "less", "less_equal", "logical_and", "logical_not", "logical_or",
           "logical_xor", "logaddexp", "maximum", "minimum", "mod", "multiply", "not_equal", "power",
           "subtract", "true_divide", "where"]
