"""Element-wise math (Keras 3 names) with their VJPs.

Integer and boolean inputs are computed in floatx, as in Keras, and get no gradient. Where the
derivative is a function of the output (exp, sqrt, tanh...) the VJP reads the saved output.
"""
import math

import numpy as np

from ._dispatch import is_tracked, op, value
from ._erf import erf_values
from ._helpers import floating, is_floating, record

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _unary(x, f, vjp_of):
    """`f(a)` recorded with `vjp_of(a, y)(dy)`; ints to floatx, no gradient for them."""
    a, diff = floating(x)
    y = f(a)
    if not (diff and is_tracked(x)):            # no closure built outside a tape
        return y
    return record(y, vjp_of(a, y), x)


@op
def negative(x):
    """Element-wise `-x`."""
    a = value(x)
    return record(np.negative(a), np.negative, x) if is_floating(a) else -a


@op
def abs(x):
    """Element-wise absolute value (integers stay integers)."""
    a = value(x)
    y = np.abs(a)
    if not is_floating(a):
        return y
    return record(y, lambda dy: dy * np.sign(a), x)                 # d|a| = sign(a)


absolute = op(abs.raw, name="absolute")


@op
def square(x):
    """Element-wise `x ** 2` (integers stay integers)."""
    a = value(x)
    y = np.square(a)
    if not is_floating(a):
        return y
    return record(y, lambda dy: 2 * dy * a, x)                      # d a² = 2a


@op
def sqrt(x):
    """Element-wise square root."""
    return _unary(x, np.sqrt, lambda a, y: lambda dy: dy / (2 * y))           # d√a = 1/(2√a)


@op
def rsqrt(x):
    """Element-wise `1 / sqrt(x)`."""
    def vjp(a, y):
        return lambda dy: -0.5 * dy * y / a                          # d a^-½ = -½·a^-3/2
    return _unary(x, lambda a: 1 / np.sqrt(a), vjp)


@op
def reciprocal(x):
    """Element-wise `1 / x`."""
    return _unary(x, lambda a: 1 / a, lambda a, y: lambda dy: -dy * y * y)   # d(1/a) = -1/a²


@op
def exp(x):
    """Element-wise exponential."""
    return _unary(x, np.exp, lambda a, y: lambda dy: dy * y)        # d eᵃ = eᵃ


@op
def expm1(x):
    """Element-wise `exp(x) - 1`, precise near 0."""
    return _unary(x, np.expm1, lambda a, y: lambda dy: dy * (y + 1))


@op
def log(x):
    """Element-wise natural logarithm."""
    return _unary(x, np.log, lambda a, y: lambda dy: dy / a)        # d ln a = 1/a


@op
def log1p(x):
    """Element-wise `log(1 + x)`, precise near 0."""
    return _unary(x, np.log1p, lambda a, y: lambda dy: dy / (1 + a))


@op
def log2(x):
    """Element-wise base-2 logarithm."""
    return _unary(x, np.log2, lambda a, y: lambda dy: dy / (a * _LN2))


@op
def log10(x):
    """Element-wise base-10 logarithm."""
    return _unary(x, np.log10, lambda a, y: lambda dy: dy / (a * _LN10))


@op
def sin(x):
    """Element-wise sine."""
    return _unary(x, np.sin, lambda a, y: lambda dy: dy * np.cos(a))


@op
def cos(x):
    """Element-wise cosine."""
    return _unary(x, np.cos, lambda a, y: lambda dy: -dy * np.sin(a))


@op
def tan(x):
    """Element-wise tangent."""
    return _unary(x, np.tan, lambda a, y: lambda dy: dy * (1 + y * y))   # d tan = 1 + tan²


@op
def arcsin(x):
    """Element-wise inverse sine."""
    return _unary(x, np.arcsin, lambda a, y: lambda dy: dy / np.sqrt(1 - a * a))


@op
def arccos(x):
    """Element-wise inverse cosine."""
    return _unary(x, np.arccos, lambda a, y: lambda dy: -dy / np.sqrt(1 - a * a))


@op
def arctan(x):
    """Element-wise inverse tangent."""
    return _unary(x, np.arctan, lambda a, y: lambda dy: dy / (1 + a * a))


@op
def sinh(x):
    """Element-wise hyperbolic sine."""
    return _unary(x, np.sinh, lambda a, y: lambda dy: dy * np.cosh(a))


@op
def cosh(x):
    """Element-wise hyperbolic cosine."""
    return _unary(x, np.cosh, lambda a, y: lambda dy: dy * np.sinh(a))


@op
def tanh(x):
    """Element-wise hyperbolic tangent."""
    return _unary(x, np.tanh, lambda a, y: lambda dy: dy * (1 - y * y))  # d tanh = 1 - tanh²


@op
def arcsinh(x):
    """Element-wise inverse hyperbolic sine."""
    return _unary(x, np.arcsinh, lambda a, y: lambda dy: dy / np.sqrt(a * a + 1))


@op
def arccosh(x):
    """Element-wise inverse hyperbolic cosine."""
    return _unary(x, np.arccosh, lambda a, y: lambda dy: dy / np.sqrt(a * a - 1))


@op
def arctanh(x):
    """Element-wise inverse hyperbolic tangent."""
    return _unary(x, np.arctanh, lambda a, y: lambda dy: dy / (1 - a * a))


@op
def erf(x):
    """Element-wise error function, `2/√π ∫₀ˣ e^(-t²) dt` (double precision, see `_erf`)."""
    return _unary(x, erf_values,
                  lambda a, y: lambda dy: dy * _TWO_OVER_SQRT_PI * np.exp(-a * a))


# -- piecewise constant: values only ----------------------------------------------------------
def _no_grad(ufunc, name, doc):
    def fn(x):
        return ufunc(value(x))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return op(fn)


sign = _no_grad(np.sign, "sign", "Element-wise sign (-1, 0 or 1). No gradient.")
floor = _no_grad(np.floor, "floor", "Element-wise floor. No gradient (piecewise constant).")
ceil = _no_grad(np.ceil, "ceil", "Element-wise ceiling. No gradient (piecewise constant).")
isnan = _no_grad(np.isnan, "isnan", "Element-wise test for NaN (booleans).")
isinf = _no_grad(np.isinf, "isinf", "Element-wise test for ±inf (booleans).")
isfinite = _no_grad(np.isfinite, "isfinite", "Element-wise test for finite values (booleans).")


@op
def round(x, decimals=0):
    """Element-wise rounding to `decimals` places (half to even). No gradient."""
    return np.round(value(x), decimals)


__all__ = ["abs", "absolute", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh",
           "ceil", "cos", "cosh", "erf", "exp", "expm1", "floor", "isfinite", "isinf", "isnan",
           "log", "log10", "log1p", "log2", "negative", "reciprocal", "round", "rsqrt", "sign",
           "sin", "sinh", "sqrt", "square", "tan", "tanh"]
