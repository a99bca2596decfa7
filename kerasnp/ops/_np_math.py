"""Element-wise math beyond the first set (Keras 3 names), with their VJPs: cbrt, exp2, sinc,
erfc, erfinv, i0, hypot, fmod, logaddexp2... Integer inputs compute in floatx as in Keras;
piecewise-constant ops (trunc, heaviside, nextafter) and tests (signbit, isclose) carry no
gradient."""
import math

import numpy as np

from ._dispatch import is_tracked, op, value
from ._helpers import floating, is_floating, record
from ._np_common import fpair, record2
from ._np_special import erfc_values, erfinv_values, i1_values

_LN2 = math.log(2.0)
_SQRT_PI = math.sqrt(math.pi)


def _unary(x, f, vjp_of):
    a, diff = floating(x)
    y = f(a)
    if not (diff and is_tracked(x)):
        return y
    return record(y, vjp_of(a, y), x)


@op
def cbrt(x):
    """Element-wise cube root (negative inputs give negative roots)."""
    return _unary(x, np.cbrt, lambda a, y: lambda dy: dy / (3 * y * y))       # d∛a = 1/(3∛a²)


@op
def exp2(x):
    """Element-wise `2 ** x`."""
    return _unary(x, np.exp2, lambda a, y: lambda dy: dy * y * _LN2)


@op
def deg2rad(x):
    """Degrees to radians."""
    return _unary(x, np.deg2rad, lambda a, y: lambda dy: dy * (math.pi / 180))


@op
def rad2deg(x):
    """Radians to degrees."""
    return _unary(x, np.rad2deg, lambda a, y: lambda dy: dy * (180 / math.pi))


@op
def fabs(x):
    """Element-wise absolute value, always floating (integers give floatx)."""
    return _unary(x, np.abs, lambda a, y: lambda dy: dy * np.sign(a))


@op
def sinc(x):
    """Normalised sinc, `sin(πx) / (πx)` (1 at 0)."""
    def vjp(a, y):
        def back(dy):                            # (cos(πa) - sinc(a)) / a, 0 at a = 0
            safe = np.where(a == 0, 1, a)
            return dy * np.where(a == 0, 0, (np.cos(math.pi * a) - y) / safe)
        return back
    return _unary(x, np.sinc, vjp)


@op
def erfc(x):
    """Complementary error function `1 - erf(x)`, precise in the tail."""
    return _unary(x, erfc_values,
                  lambda a, y: lambda dy: -dy * (2 / _SQRT_PI) * np.exp(-a * a))


@op
def erfinv(x):
    """Inverse error function on (-1, 1) (±inf at ±1, NaN outside)."""
    return _unary(x, erfinv_values,                          # d erfinv = √π/2 · e^(y²)
                  lambda a, y: lambda dy: dy * (_SQRT_PI / 2) * np.exp(y * y))


@op
def i0(x):
    """Modified Bessel function of the first kind, order 0. Its derivative is I1."""
    return _unary(x, lambda a: np.i0(a).astype(a.dtype, copy=False),
                  lambda a, y: lambda dy: dy * i1_values(a))


@op
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN and ±inf replaced by `nan`, `posinf`, `neginf` (None: the dtype's largest values).
    The gradient passes through the finite entries only."""
    a = value(x)
    y = np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)
    if not is_floating(a):
        return y
    return record(y, lambda dy: dy * np.isfinite(a), x)


def _no_grad(fn, name, doc, floats=False):
    def f(x):
        a = floating(x)[0] if floats else value(x)
        return fn(a)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return op(f, name=name)


trunc = _no_grad(np.trunc, "trunc", "Element-wise truncation toward 0 (integers stay). "
                 "No gradient (piecewise constant).")
signbit = _no_grad(np.signbit, "signbit", "Element-wise test of the sign bit (True for -0.0).")
isneginf = _no_grad(np.isneginf, "isneginf", "Element-wise test for -inf (booleans).")
isposinf = _no_grad(np.isposinf, "isposinf", "Element-wise test for +inf (booleans).")


# -- binary --------------------------------------------------------------------------------
@op
def hypot(x1, x2):
    """Element-wise `sqrt(x1² + x2²)`, without overflow."""
    a, b = fpair(x1, x2)
    y = np.hypot(a, b)
    return record2(y, x1, x2, a, b, lambda dy: dy * a / y, lambda dy: dy * b / y)


def _pick(fn, prefer_a):
    def f(x1, x2):
        a, b = value(x1), value(x2)
        if is_floating(a) or is_floating(b):
            a, b = fpair(x1, x2)
        y = fn(a, b)
        # The gradient goes to the operand chosen (the other is NaN or loses); ties share it.
        wa = np.where(np.isnan(b), 1.0, np.where(a == b, 0.5, prefer_a(a, b) * 1.0))
        return record2(y, x1, x2, a, b, lambda dy: dy * wa, lambda dy: dy * (1 - wa))
    return f


@op
def fmax(x1, x2):
    """Element-wise maximum that ignores NaN (NaN only where both are NaN)."""
    return _pick(np.fmax, np.greater)(x1, x2)


@op
def fmin(x1, x2):
    """Element-wise minimum that ignores NaN (NaN only where both are NaN)."""
    return _pick(np.fmin, np.less)(x1, x2)


@op
def fmod(x1, x2):
    """Element-wise remainder with the sign of `x1` (C's fmod; `mod` takes `x2`'s sign)."""
    a, b = value(x1), value(x2)
    if not (is_floating(a) or is_floating(b)):
        return np.fmod(a, b)
    a, b = fpair(x1, x2)
    y = np.fmod(a, b)                                    # a - trunc(a/b)·b
    return record2(y, x1, x2, a, b, lambda dy: dy, lambda dy: -dy * np.trunc(a / b))


@op
def heaviside(x1, x2):
    """Step function: 0 where `x1 < 0`, 1 where `x1 > 0`, `x2` where `x1 == 0`. No gradient."""
    a, b = fpair(x1, x2)
    return np.heaviside(a, b)


@op
def nextafter(x1, x2):
    """The next float after `x1` toward `x2`, element-wise. No gradient."""
    a, b = fpair(x1, x2)
    return np.nextafter(a, b)


@op
def ldexp(x1, x2):
    """Element-wise `x1 * 2 ** x2`; `x2` must be integers."""
    b = value(x2)
    if np.result_type(b).kind not in "iub":
        raise TypeError(f"ldexp: the exponent x2 must be integers. Received: x2 dtype="
                        f"{np.result_type(b)}")
    a, diff = floating(x1)
    y = np.ldexp(a, b)
    if not (diff and is_tracked(x1)):
        return y
    return record(y, lambda dy: dy * np.ldexp(np.ones_like(a), b), x1)


@op
def logaddexp2(x1, x2):
    """Element-wise `log2(2 ** x1 + 2 ** x2)`, without overflow."""
    a, b = fpair(x1, x2)
    y = np.logaddexp2(a, b)                              # ∂/∂a = 2^(a - y)
    return record2(y, x1, x2, a, b, lambda dy: dy * np.exp2(a - y), lambda dy: dy * np.exp2(b - y))


@op
def divide_no_nan(x1, x2):
    """`x1 / x2`, with 0 (and a 0 gradient) where `x2 == 0`."""
    a, b = fpair(x1, x2)
    zero = b == 0
    safe = np.where(zero, 1, b).astype(b.dtype, copy=False)
    y = np.where(zero, 0, a / safe).astype(np.result_type(a, b), copy=False)
    return record2(y, x1, x2, a, b, lambda dy: np.where(zero, 0, dy / safe),
                   lambda dy: np.where(zero, 0, -dy * y / safe))


@op
def isclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Element-wise `|x1 - x2| <= atol + rtol·|x2|` (booleans)."""
    return np.isclose(value(x1), value(x2), rtol=rtol, atol=atol, equal_nan=equal_nan)


@op
def allclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether `isclose` holds everywhere (a boolean scalar array)."""
    return np.asarray(np.allclose(value(x1), value(x2), rtol=rtol, atol=atol,
                                  equal_nan=equal_nan))


__all__ = ["allclose", "cbrt", "deg2rad", "divide_no_nan", "erfc", "erfinv", "exp2", "fabs",
           "fmax", "fmin", "fmod", "heaviside", "hypot", "i0", "isclose", "isneginf", "isposinf",
           "ldexp", "logaddexp2", "nan_to_num", "nextafter", "rad2deg", "signbit", "sinc", "trunc"]
