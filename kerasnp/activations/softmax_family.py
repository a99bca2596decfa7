"""Activations that normalise along an axis: softmax and log_softmax."""
import warnings

import numpy as np

from .base import ActivationFunction, _axis


class _Softmax(ActivationFunction):
    """`softmax(x)_i = exp(x_i) / Σ_j exp(x_j)` along `axis` (int or tuple, default -1)."""
    name = "softmax"
    _params = {"axis": (-1, _axis)}

    def forward(self, x):
        axis = self.axis
        if isinstance(axis, int) and x.ndim and x.shape[axis] == 1:
            warnings.warn(f"softmax over axis {axis} of a tensor of shape {x.shape}: that axis "
                          f"has size 1, so the output is always 1.", stacklevel=3)
        z = x - np.maximum.reduce(x, axis=axis, keepdims=True)   # shift: exp cannot overflow
        np.exp(z, out=z)
        z /= np.add.reduce(z, axis=axis, keepdims=True)
        return z

    def backward(self, dy, x, y):
        dx = dy - (dy * y).sum(axis=self.axis, keepdims=True)   # dx = y ⊙ (dy - Σ dy⊙y)
        dx *= y
        return dx


class _LogSoftmax(ActivationFunction):
    """`log_softmax(x) = x - log Σ exp(x)` along `axis` (default -1)."""
    name = "log_softmax"
    _params = {"axis": (-1, _axis)}

    def forward(self, x):
        z = x - x.max(axis=self.axis, keepdims=True)
        z -= np.log(np.exp(z).sum(axis=self.axis, keepdims=True))
        return z

    def backward(self, dy, x, y):
        return dy - np.exp(y) * dy.sum(axis=self.axis, keepdims=True)   # dy - softmax·Σdy
