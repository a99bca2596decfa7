"""Smooth activations: gelu, sigmoid, tanh, tanh_shrink, softplus, log_sigmoid, softsign,
silu (swish), mish, exponential, squareplus.
"""
import math

import numpy as np

from .base import ActivationFunction, _boolean, _non_negative, _sigmoid, _softplus


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715
_UFUNCS = {}


def _gelu_scalar(v):
    return 0.5 * v * (1.0 + math.erf(v * _SQRT_HALF))


def _gelu_grad_scalar(v):                       # Φ(x) + x·φ(x)
    return 0.5 * (1.0 + math.erf(v * _SQRT_HALF)) + v * _INV_SQRT_2PI * math.exp(-0.5 * v * v)


def _ufunc(fn, x):
    """Apply `fn` as a Numba ufunc (NumPy has no erf), compiled on first use and cached."""
    if fn not in _UFUNCS:
        import numba
        _UFUNCS[fn] = numba.vectorize(["float32(float32)", "float64(float64)"], cache=True)(fn)
    return _UFUNCS[fn](x).astype(x.dtype, copy=False)


class _Gelu(ActivationFunction):
    """`gelu(x) = x * Φ(x)` (exact, erf form); with `approximate=True`
    `0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))`."""
    name = "gelu"
    uses_input = True
    _params = {"approximate": (False, _boolean)}

    def forward(self, x):
        if not self.approximate:
            return _ufunc(_gelu_scalar, x)
        t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_C * x * x * x))
        t += 1
        t *= 0.5 * x
        return t

    def backward(self, dy, x, y):
        if not self.approximate:
            return dy * _ufunc(_gelu_grad_scalar, x)
        x2 = x * x
        t = np.tanh(_SQRT_2_OVER_PI * x * (1 + _GELU_C * x2))
        du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_C * x2)            # du/dx
        return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)


class _Sigmoid(ActivationFunction):
    """`sigmoid(x) = 1 / (1 + exp(-x))`."""
    name = "sigmoid"

    def forward(self, x):
        return _sigmoid(x)

    def backward(self, dy, x, y):
        return dy * (y * (1 - y))


class _Tanh(ActivationFunction):
    """`tanh(x)`."""
    name = "tanh"

    def forward(self, x):
        return np.tanh(x)

    def backward(self, dy, x, y):
        return dy * (1 - y * y)


class _TanhShrink(ActivationFunction):
    """`tanh_shrink(x) = x - tanh(x)`."""
    name = "tanh_shrink"
    uses_input = True

    def forward(self, x):
        return x - np.tanh(x)

    def backward(self, dy, x, y):
        t = np.tanh(x)
        return dy * (t * t)


class _Softplus(ActivationFunction):
    """`softplus(x) = log(1 + exp(x))`."""
    name = "softplus"

    def forward(self, x):
        return _softplus(x)

    def backward(self, dy, x, y):
        return dy * -np.expm1(-y)               # sigmoid(x) = 1 - exp(-y)


class _LogSigmoid(ActivationFunction):
    """`log_sigmoid(x) = -softplus(-x)`."""
    name = "log_sigmoid"

    def forward(self, x):
        y = _softplus(-x)
        return np.negative(y, out=y)

    def backward(self, dy, x, y):
        return dy * -np.expm1(y)                # 1 - sigmoid(x) = 1 - exp(y)


class _Softsign(ActivationFunction):
    """`softsign(x) = x / (1 + |x|)`."""
    name = "softsign"

    def forward(self, x):
        return x / (np.abs(x) + 1)

    def backward(self, dy, x, y):
        d = 1 - np.abs(y)                       # 1 / (1 + |x|) = 1 - |y|
        d *= d
        return dy * d


class _Silu(ActivationFunction):
    """`silu(x) = swish(x) = x * sigmoid(x)`."""
    name = "silu"
    uses_input = True

    def forward(self, x):
        return x * _sigmoid(x)

    def backward(self, dy, x, y):
        s = _sigmoid(x)
        return dy * (s * (1 + x * (1 - s)))


class _Mish(ActivationFunction):
    """`mish(x) = x * tanh(softplus(x))`."""
    name = "mish"
    uses_input = True

    def forward(self, x):
        return x * np.tanh(_softplus(x))

    def backward(self, dy, x, y):
        t = np.tanh(_softplus(x))
        return dy * (t + x * (1 - t * t) * _sigmoid(x))


class _Exponential(ActivationFunction):
    """`exponential(x) = exp(x)`."""
    name = "exponential"

    def forward(self, x):
        return np.exp(x)

    def backward(self, dy, x, y):
        return dy * y


class _Squareplus(ActivationFunction):
    """`squareplus(x) = (x + sqrt(x² + b)) / 2`, `b >= 0` (default 4)."""
    name = "squareplus"
    _params = {"b": (4.0, _non_negative)}

    def forward(self, x):
        if self.b == 0:
            return np.maximum(x, 0)
        q = np.sqrt(x * x + self.b)
        q += np.abs(x)                          # q = sqrt(x² + b) + |x|, no cancellation
        neg = (0.5 * self.b) / q                # x < 0: (x + s) / 2 = b / (2 (s - x))
        y = 0.5 * q
        y -= neg
        y *= x >= 0
        y += neg
        return y

    def backward(self, dy, x, y):
        if self.b == 0:
            return dy * (y > 0)
        y2 = y * y
        return dy * (y2 / (y2 + 0.25 * self.b))   # f' = y / sqrt(x² + b) = y² / (y² + b/4)
