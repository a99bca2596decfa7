"""Activation functions with their derivatives, a name registry and `get(identifier)`.

Each activation is a small immutable object: calling it computes `y = f(x)`; `backward(dy, x, y)`
returns `dx`. When `uses_input` is False the derivative is taken from the saved output `y` alone
(pass `x=None`), so a layer only needs to keep `y`. Outputs keep the input's float dtype.

Example:
    >>> import numpy as np
    >>> from kerasnp import activations
    >>> relu = activations.get("relu")
    >>> y = relu(np.array([-1.0, 2.0]))
    >>> relu.backward(np.ones(2), None, y)
    array([0., 1.])
"""
import math
import warnings

import numpy as np

from . import _validate as validate
from . import config
from ._registry import Registry

_REGISTRY = Registry("activation")


def _as_float(x):
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(config.floatx())


def _real(value, arg, owner):
    return validate.number(value, arg, owner)


def _non_negative(value, arg, owner):
    return validate.number(value, arg, owner, low=0.0)


def _non_zero(value, arg, owner):
    if validate.number(value, arg, owner) == 0:
        raise ValueError(f"{owner}: argument `{arg}` must be a non-zero number. "
                         f"Received: {arg}={value!r}")
    return float(value)


def _max_value(value, arg, owner):
    return None if value is None else validate.number(value, arg, owner, low=0.0)


def _boolean(value, arg, owner):
    return validate.boolean(value, arg, owner)


def _axis(value, arg, owner):
    items = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if not items or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                            for v in items):
        raise TypeError(f"{owner}: argument `{arg}` must be an integer or a non-empty tuple of "
                        f"integers. Received: {arg}={value!r}")
    return tuple(int(v) for v in items) if isinstance(value, (list, tuple)) else int(value)


class ActivationFunction:
    """Base class: an activation `y = f(x)` with its derivative.

    Subclasses set `name`, `uses_input`, `_params` (`{param: (default, validator)}`) and write
    `forward(x)` with `backward(dy, x, y)` right under it. Instances are immutable; configured
    variants come from `with_params(**kwargs)`.

    Attributes:
        name: registry name, e.g. `"relu"`.
        uses_input: True when `backward` needs the pre-activation input `x`; when False,
            callers may pass `x=None` and only keep the output `y`.
    """

    name = "activation"
    uses_input = False
    _params = {}

    def __init__(self, **kwargs):
        self._check_names(kwargs)
        for key, (default, check) in self._params.items():
            owner = f"Activation '{self.name}'"
            value = check(kwargs[key], key, owner) if key in kwargs else default
            object.__setattr__(self, key, value)

    def __call__(self, x, *args, **overrides):
        """Compute `f(x)` (a new array, same float dtype as `x`).

        Extra positional or keyword arguments override parameters for this call only, as in
        Keras's functional use: `relu(x, max_value=6.0)`, `softmax(x, axis=1)`.
        """
        if args or overrides:
            if len(args) > len(self._params):
                raise TypeError(f"Activation '{self.name}' takes at most {len(self._params)} "
                                f"parameter(s) after x. Received: args={args!r}")
            overrides.update(zip(self._params, args))
            return self.with_params(**overrides).forward(_as_float(x))
        return self.forward(_as_float(x))

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, dy, x, y):
        """Return `dx = dy * f'(x)`; `x` is None (unread) when `uses_input` is False."""
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def with_params(self, **kwargs):
        """Return a new instance with the given parameters changed, e.g. `alpha=0.5`."""
        self._check_names(kwargs)
        return type(self)(**{**self.get_config(), **kwargs})

    def get_config(self):
        """Return the parameters as a dict (empty for parameter-free activations)."""
        return {key: getattr(self, key) for key in self._params}

    def _check_names(self, kwargs):
        unknown = [k for k in kwargs if k not in self._params]
        if unknown:
            valid = ", ".join(self._params) or "(none)"
            got = ", ".join(f"{k}={kwargs[k]!r}" for k in unknown)
            raise TypeError(f"Activation '{self.name}' got unexpected argument(s) "
                            f"{', '.join(unknown)}. Valid: {valid}. Received: {got}")

    def __setattr__(self, key, value):
        raise AttributeError(f"Activation '{self.name}' is immutable; use "
                             f"with_params({key}=...) for a configured copy.")

    def __eq__(self, other):
        return (type(self) is type(other) and self.name == other.name
                and self.get_config() == other.get_config())

    def __hash__(self):
        return hash((type(self), self.name))

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"<activation {self.name}({params})>"


class UserActivation(ActivationFunction):
    """Wraps a plain callable `fn(x)`: forward works, backward explains what is missing."""

    uses_input = True

    def __init__(self, fn):
        object.__setattr__(self, "fn", fn)
        object.__setattr__(self, "name", getattr(fn, "__name__", type(fn).__name__))

    def __call__(self, x, *args, **overrides):
        return self.fn(_as_float(x), *args, **overrides)

    def forward(self, x):
        return self.fn(x)

    def backward(self, dy, x, y):
        raise NotImplementedError(f"activation '{self.name}' has no backward(dy, x, y); use a "
                                  f"built-in name or give it one")

    def with_params(self, **kwargs):
        self._check_names(kwargs)
        return self

    def __eq__(self, other):
        return type(other) is UserActivation and self.fn == other.fn

    def __hash__(self):
        return hash(self.fn)


# np.where with a data-dependent mask is ~10x slower than arithmetic (branch mispredictions),
# so the hot paths below blend with maximum/minimum and boolean products instead.

def _sigmoid(x):
    e = np.abs(x)
    np.negative(e, out=e)
    np.exp(e, out=e)                            # e = exp(-|x|) <= 1 never overflows
    e += 1
    np.reciprocal(e, out=e)                     # 1 / (1 + exp(-|x|)) = sigmoid(|x|)
    e *= np.exp(np.minimum(x, 0))               # x<0: e^x / (1 + e^x), accurate in the tail
    return e


def _softplus(x):
    e = np.abs(x)                               # (np.logaddexp is ~15x slower)
    np.negative(e, out=e)
    np.exp(e, out=e)
    np.log1p(e, out=e)
    e += np.maximum(x, 0)                       # max(x, 0) + log(1 + exp(-|x|))
    return e


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


class _Tanh(ActivationFunction):
    """`tanh(x)`."""
    name = "tanh"

    def forward(self, x):
        return np.tanh(x)

    def backward(self, dy, x, y):
        return dy * (1 - y * y)


class _HardTanh(ActivationFunction):
    """`hard_tanh(x) = clip(x, -1, 1)`."""
    name = "hard_tanh"

    def forward(self, x):
        return np.clip(x, -1, 1)

    def backward(self, dy, x, y):
        return dy * ((y > -1) & (y < 1))


class _TanhShrink(ActivationFunction):
    """`tanh_shrink(x) = x - tanh(x)`."""
    name = "tanh_shrink"
    uses_input = True

    def forward(self, x):
        return x - np.tanh(x)

    def backward(self, dy, x, y):
        t = np.tanh(x)
        return dy * (t * t)


class _Softmax(ActivationFunction):
    """`softmax(x)_i = exp(x_i) / Σ_j exp(x_j)` along `axis` (int or tuple, default -1)."""
    name = "softmax"
    _params = {"axis": (-1, _axis)}

    def forward(self, x):
        axis = self.axis
        if isinstance(axis, int) and x.ndim and x.shape[axis] == 1:
            warnings.warn(f"softmax over axis {axis} of a tensor of shape {x.shape}: that axis "
                          f"has size 1, so the output is always 1.", stacklevel=3)
        z = x - x.max(axis=axis, keepdims=True)   # shift so exp cannot overflow
        np.exp(z, out=z)
        z /= z.sum(axis=axis, keepdims=True)
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


def _register(cls, *aliases):
    fn = cls()
    _REGISTRY.register(fn.name, *aliases)(fn)
    return fn


linear = _register(_Linear)
relu = _register(_Relu)
relu6 = _register(_Relu6)
leaky_relu = _register(_LeakyRelu)
elu = _register(_Elu)
selu = _register(_Selu)
celu = _register(_Celu)
gelu = _register(_Gelu)
sigmoid = _register(_Sigmoid)
hard_sigmoid = _register(_HardSigmoid)
hard_silu = hard_swish = _register(_HardSilu, "hard_swish")
tanh = _register(_Tanh)
hard_tanh = _register(_HardTanh)
tanh_shrink = _register(_TanhShrink)
softmax = _register(_Softmax)
log_softmax = _register(_LogSoftmax)
softplus = _register(_Softplus)
log_sigmoid = _register(_LogSigmoid)
softsign = _register(_Softsign)
silu = swish = _register(_Silu, "swish")
mish = _register(_Mish)
exponential = _register(_Exponential)
squareplus = _register(_Squareplus)
soft_shrink = _register(_SoftShrink)
hard_shrink = _register(_HardShrink)


def names():
    """Return the sorted list of registered activation names (aliases included)."""
    return sorted(_REGISTRY)


def get(identifier):
    """Return the activation for `identifier`.

    Args:
        identifier: None (linear), a name such as `"relu"`, an `ActivationFunction`, a config
            dict `{"class_name": "relu", "config": {"max_value": 6.0}}`, a callable with a
            `backward(dy, x, y)` attribute (returned as is), or a plain callable (wrapped in a
            `UserActivation`, whose backward raises).

    Raises:
        ValueError: unknown name (the message lists valid names and the closest match).
        TypeError: anything else.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, ActivationFunction):
        return identifier
    if isinstance(identifier, str):
        return _REGISTRY.lookup(identifier)
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(f"An activation config dict needs a 'class_name' key. "
                             f"Received: identifier={identifier!r}")
        params = identifier.get("config") or {}
        if isinstance(params, str):               # Keras's {"class_name": "function", "config": "relu"}
            return _REGISTRY.lookup(params)
        base = _REGISTRY.lookup(identifier["class_name"])
        return base.with_params(**params) if params else base
    if isinstance(identifier, type) and issubclass(identifier, ActivationFunction):
        return identifier()
    if callable(identifier):
        return identifier if hasattr(identifier, "backward") else UserActivation(identifier)
    raise TypeError(f"Could not interpret activation identifier: expected None, a name, a config "
                    f"dict or a callable. Received: identifier={identifier!r} "
                    f"(of type {type(identifier).__name__})")


def serialize(activation):
    """Return `"relu"` for a default built-in, else `{"class_name": name, "config": params}`.

    User functions serialise to their name, which `deserialize` finds only if registered.
    """
    fn = get(activation)
    if isinstance(fn, ActivationFunction) and not isinstance(fn, UserActivation):
        if _REGISTRY.get(fn.name) == fn:
            return fn.name
        return {"class_name": fn.name, "config": fn.get_config()}
    return getattr(fn, "name", None) or getattr(fn, "__name__", None) or type(fn).__name__


def deserialize(config):
    """Inverse of `serialize`; the same as `get`."""
    return get(config)
