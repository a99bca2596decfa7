"""ReLU-like and piecewise activations: linear, relu, relu6, leaky_relu, elu, selu, celu,
hard_sigmoid, hard_silu, hard_tanh, soft_shrink, hard_shrink.
"""
import numpy as np

from .base import ActivationFunction, _max_value, _non_negative, _non_zero, _real


class _Linear(ActivationFunction):
    """`linear(x) = x` (returns a copy)."""
    name = "linear"

    def forward(self, x):
        return x.copy()

    def backward(self, dy, x, y):
        return np.array(dy, copy=True)


class _Relu(ActivationFunction):
    """`relu(x) = x if x > threshold else 0`, clipped to `[0, max_value]`, minus
    `negative_slope * max(threshold - x, 0)` (Keras 3's definition)."""
    name = "relu"
    _params = {"negative_slope": (0.0, _real), "max_value": (None, _max_value),
               "threshold": (0.0, _real)}

    @property
    def uses_input(self):
        # With threshold >= 0 and slope >= 0 the sign of y tells the regions apart.
        return self.threshold < 0 or self.negative_slope < 0

    def forward(self, x):
        s, m, t = self.negative_slope, self.max_value, self.threshold
        y = np.maximum(x, 0) if t == 0 else x * (x > t)
        if m is not None:
            np.clip(y, 0, m, out=y)
        if s != 0:
            y -= s * np.maximum(t - x, 0)
        return y

    def backward(self, dy, x, y):
        s, m, t = self.negative_slope, self.max_value, self.threshold
        if self.uses_input:
            g = x > t                            # passes x (then clipped) above the threshold
            if m is not None:
                g &= (x > 0) & (x < m)
        else:
            g = y > 0 if m is None else (y > 0) & (y < m)
        dx = dy * g
        if s != 0:                               # the -s * (t - x) part, below the threshold
            dx += s * (dy * (x < t if self.uses_input else y < 0))
        return dx


class _Relu6(ActivationFunction):
    """`relu6(x) = min(max(x, 0), 6)`."""
    name = "relu6"

    def forward(self, x):
        return np.clip(x, 0, 6)

    def backward(self, dy, x, y):
        return dy * ((y > 0) & (y < 6))


class _LeakyRelu(ActivationFunction):
    """`leaky_relu(x) = x if x >= 0 else negative_slope * x`."""
    name = "leaky_relu"
    _params = {"negative_slope": (0.2, _real)}

    @property
    def uses_input(self):
        return self.negative_slope < 0

    def forward(self, x):
        y = np.minimum(x, 0)
        y *= self.negative_slope
        y += np.maximum(x, 0)
        return y

    def backward(self, dy, x, y):
        neg = x < 0 if self.uses_input else y <= 0
        dx = dy * neg
        dx *= self.negative_slope - 1
        dx += dy                                 # dy * (1 + (s - 1) * [x < 0])
        return dx


class _Elu(ActivationFunction):
    """`elu(x) = x if x > 0 else alpha * (exp(x) - 1)`."""
    name = "elu"
    _params = {"alpha": (1.0, _real)}

    @property
    def uses_input(self):
        return self.alpha < 0

    def forward(self, x):
        y = np.expm1(np.minimum(x, 0))
        y *= self.alpha
        y += np.maximum(x, 0)
        return y

    def backward(self, dy, x, y):
        a = self.alpha
        if self.uses_input:
            g = np.exp(np.minimum(x, 0))
            g *= a
            pos = x > 0
        else:
            g = np.minimum(y, 0)
            g += a                                # x <= 0: alpha*e^x = y + alpha
            pos = y > 0
        dx = dy * g                               # x > 0 gives alpha here, corrected below
        if a != 1:
            dx += (1 - a) * (dy * pos)
        return dx


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class _Selu(ActivationFunction):
    """`selu(x) = scale * elu(x, alpha)` with `alpha ≈ 1.67326324`, `scale ≈ 1.05070098`."""
    name = "selu"

    def forward(self, x):
        y = np.expm1(np.minimum(x, 0))
        y *= _SELU_ALPHA
        y += np.maximum(x, 0)
        y *= _SELU_SCALE
        return y

    def backward(self, dy, x, y):
        g = np.minimum(y, 0)
        g += _SELU_SCALE * _SELU_ALPHA            # x <= 0: scale*alpha*e^x = y + scale*alpha
        dx = dy * g
        dx += (_SELU_SCALE - _SELU_SCALE * _SELU_ALPHA) * (dy * (y > 0))
        return dx


class _Celu(ActivationFunction):
    """`celu(x) = x if x > 0 else alpha * (exp(x / alpha) - 1)`."""
    name = "celu"
    _params = {"alpha": (1.0, _non_zero)}

    def forward(self, x):
        y = np.expm1(np.minimum(x, 0) / self.alpha)
        y *= self.alpha
        y += np.maximum(x, 0)
        return y

    def backward(self, dy, x, y):
        g = np.minimum(y, 0) / self.alpha         # x <= 0: e^(x/a) = y/a + 1; x > 0: 1
        g += 1
        return dy * g


class _HardSigmoid(ActivationFunction):
    """`hard_sigmoid(x) = relu6(x + 3) / 6` (Keras 3), i.e. `clip(x / 6 + 0.5, 0, 1)`."""
    name = "hard_sigmoid"

    def forward(self, x):
        y = x * (1 / 6)
        y += 0.5
        return np.clip(y, 0, 1, out=y)

    def backward(self, dy, x, y):
        dx = dy * ((y > 0) & (y < 1))
        dx *= 1 / 6
        return dx


class _HardSilu(ActivationFunction):
    """`hard_silu(x) = x * relu6(x + 3) / 6` (also registered as `hard_swish`)."""
    name = "hard_silu"
    uses_input = True

    def forward(self, x):
        return x * np.clip(x * (1 / 6) + 0.5, 0, 1)

    def backward(self, dy, x, y):
        g = np.clip(x * (1 / 6) + 0.5, 0, 1)
        g += (x * (1 / 6)) * ((x > -3) & (x < 3))       # (2x + 3) / 6 inside, 0 / 1 outside
        return dy * g


class _HardTanh(ActivationFunction):
    """`hard_tanh(x) = clip(x, -1, 1)`."""
    name = "hard_tanh"

    def forward(self, x):
        return np.clip(x, -1, 1)

    def backward(self, dy, x, y):
        return dy * ((y > -1) & (y < 1))


class _SoftShrink(ActivationFunction):
    """`soft_shrink(x) = x - clip(x, -threshold, threshold)`."""
    name = "soft_shrink"
    _params = {"threshold": (0.5, _non_negative)}

    def forward(self, x):
        return x - np.clip(x, -self.threshold, self.threshold)

    def backward(self, dy, x, y):
        return dy * (y != 0)


class _HardShrink(ActivationFunction):
    """`hard_shrink(x) = x if |x| > threshold else 0`."""
    name = "hard_shrink"
    _params = {"threshold": (0.5, _non_negative)}

    def forward(self, x):
        return x * (np.abs(x) > self.threshold)

    def backward(self, dy, x, y):
        return dy * (y != 0)
