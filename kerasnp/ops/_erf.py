"""The error function, vectorised, to double precision, without SciPy.

Two Chebyshev interpolants, fitted once at import from `math.erf`/`math.erfc` (about 40 scalar
calls), so there are no magic constants to trust:
- |x| < 1:  erf(x) = x·A(x²), A smooth on [0, 1] (degree 14);
- 1 ≤ |x| < 6: erf(x) = 1 - e^(-x²)·B(1/x), B(u) = erfc(1/u)·e^(1/u²) is the scaled
  complementary error function, smooth in u = 1/x (degree 24);
- |x| ≥ 6: erfc(x) < 2.2e-17, so erf(x) = ±1 in double precision.
Measured against `math.erf` the error is below 3e-15 everywhere (tests check 1e-13).
"""
import math

import numpy as np

_cheb = np.polynomial.chebyshev
_U_LO = 1.0 / 6.0


def _fit(f, lo, hi, deg):
    """Chebyshev coefficients of `f` on [lo, hi] (interpolation at Chebyshev points)."""
    def g(t):
        return np.array([f(lo + (v + 1.0) * (hi - lo) / 2.0) for v in t])
    return _cheb.chebinterpolate(g, deg)


_A = _fit(lambda t: math.erf(math.sqrt(t)) / math.sqrt(t), 0.0, 1.0, 14)
_B = _fit(lambda u: math.erfc(1.0 / u) * math.exp(1.0 / (u * u)), _U_LO, 1.0, 24)


def erf_values(a):
    """erf of a float array (computed in float64, returned in `a`'s dtype)."""
    a = np.asarray(a)
    x = a.astype(np.float64).reshape(-1)
    ax = np.abs(x)
    out = np.sign(x)                               # |x| ≥ 6 (and NaN stays NaN)
    small = ax < 1.0
    if small.any():
        xs = x[small]
        out[small] = xs * _cheb.chebval(2.0 * xs * xs - 1.0, _A)
    mid = (ax >= 1.0) & (ax < 6.0)
    if mid.any():
        xm = ax[mid]
        u = 1.0 / xm
        scaled = _cheb.chebval((2.0 * u - (_U_LO + 1.0)) / (1.0 - _U_LO), _B)
        out[mid] = np.sign(x[mid]) * (1.0 - np.exp(-xm * xm) * scaled)
    out = out.reshape(a.shape)
    return out.astype(a.dtype, copy=False) if a.dtype.kind == "f" else out
