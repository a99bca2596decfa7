"""Piecewise-polynomial, gated and projection activations: sparse_plus, sparse_sigmoid,
sparsemax, threshold, glu."""
import numpy as np

from .base import ActivationFunction, _real, _sigmoid


def _int_axis(value, arg, owner):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{owner}: argument `{arg}` must be an integer. "
                        f"Received: {arg}={value!r}")
    return int(value)


class _SparsePlus(ActivationFunction):
    """`sparse_plus(x) = 0` for `x <= -1`, `(x + 1)²/4` for `-1 < x < 1`, `x` for `x >= 1`."""
    name = "sparse_plus"

    def forward(self, x):
        y = 0.25 * (x + 1) ** 2
        y *= x > -1
        return np.where(x >= 1, x, y).astype(x.dtype, copy=False)

    def backward(self, dy, x, y):
        # f' = (x + 1)/2 = sqrt(y) inside, 1 above, 0 below: read from y alone.
        return dy * np.minimum(np.sqrt(np.maximum(y, 0)), 1)


class _SparseSigmoid(ActivationFunction):
    """`sparse_sigmoid(x) = clip((x + 1)/2, 0, 1)`."""
    name = "sparse_sigmoid"

    def forward(self, x):
        return np.clip(0.5 * (x + 1), 0, 1).astype(x.dtype, copy=False)

    def backward(self, dy, x, y):
        return dy * ((y > 0) & (y < 1)) * 0.5


class _Sparsemax(ActivationFunction):
    """`sparsemax(x)`: the Euclidean projection onto the probability simplex along `axis`
    (default -1); exactly zero outside a support."""
    name = "sparsemax"
    _params = {"axis": (-1, _int_axis)}

    def forward(self, x):
        z = np.moveaxis(x, self.axis, -1)
        zs = -np.sort(-z, axis=-1)
        k = np.arange(1, z.shape[-1] + 1, dtype=x.dtype)
        cums = np.cumsum(zs, axis=-1)
        n = (1 + k * zs > cums).sum(axis=-1, keepdims=True)
        tau = (np.take_along_axis(cums, n - 1, axis=-1) - 1) / n
        return np.moveaxis(np.maximum(z - tau, 0), -1, self.axis).astype(x.dtype, copy=False)

    def backward(self, dy, x, y):
        s = y > 0                                   # dx = s·(dy - mean of dy over the support)
        n = s.sum(axis=self.axis, keepdims=True).astype(dy.dtype)
        return s * (dy - (dy * s).sum(axis=self.axis, keepdims=True) / n)


class _Threshold(ActivationFunction):
    """`threshold(x) = x if x > threshold else default_value`. Keras requires both arguments
    (`activations.threshold(x, 0.5, 0.0)`); the registered default is `threshold=0,
    default_value=0`."""
    name = "threshold"
    uses_input = True
    _params = {"threshold": (0.0, _real), "default_value": (0.0, _real)}

    def forward(self, x):
        return np.where(x > self.threshold, x, self.default_value).astype(x.dtype, copy=False)

    def backward(self, dy, x, y):
        return dy * (x > self.threshold)


class _Glu(ActivationFunction):
    """`glu(x) = a · sigmoid(b)`, with `a, b` the two halves of `x` along `axis` (default -1);
    the output has half the size along `axis`."""
    name = "glu"
    uses_input = True
    _params = {"axis": (-1, _int_axis)}

    def forward(self, x):
        if x.shape[self.axis] % 2:
            raise ValueError(f"Activation 'glu': the size of axis {self.axis} must be even. "
                             f"Received: x.shape={x.shape}")
        a, b = np.split(x, 2, axis=self.axis)
        return a * _sigmoid(b)

    def backward(self, dy, x, y):
        a, b = np.split(x, 2, axis=self.axis)
        s = _sigmoid(b)
        return np.concatenate([dy * s, dy * a * s * (1 - s)], axis=self.axis)
