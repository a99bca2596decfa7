"""Weight constraints: projections applied to a weight after each optimizer step (Keras 3 formulas).

`c(w)` returns the projected array with the dtype of `w`. Norm constraints work on the norm taken
over `axis` (default 0: each column of a Dense kernel `(in, out)`, i.e. the weights into one unit;
use `axis=(0, 1, 2)` for a Conv2D kernel `(kh, kw, in, out)`).
"""
import numbers

import numpy as np

from . import _validate, config
from ._registry import Registry, get_object, serialize_object

_REGISTRY = Registry("constraint")


def _axis(axis, owner):
    def ok(a):
        return isinstance(a, numbers.Integral) and not isinstance(a, bool)
    if ok(axis):
        return int(axis)
    if isinstance(axis, (list, tuple)) and axis and all(ok(a) for a in axis):
        return tuple(int(a) for a in axis)
    raise ValueError(f"{type(owner).__name__}: argument `axis` must be an integer or a non-empty "
                     f"tuple of integers. Received: axis={axis!r}")


def _norms(w, axis):
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


class Constraint:
    """Base class: subclasses implement `__call__(w) -> projected w`."""

    def __call__(self, w):
        return w

    def get_config(self):
        """Return the constructor arguments as a JSON-friendly dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Rebuild a constraint from `get_config()`'s output."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _NormConstraint(Constraint):
    def _config_axis(self):
        return list(self.axis) if isinstance(self.axis, tuple) else self.axis


@_REGISTRY.register("max_norm")
class MaxNorm(_NormConstraint):
    """Rescales each weight vector whose norm exceeds `max_value` down to `max_value`.

    `w * clip(|w|, 0, max_value) / (epsilon + |w|)`.

    Args:
        max_value: non-negative maximum norm. Defaults to 2.
        axis: int or tuple of ints, the axes the norm is taken over. Defaults to 0.

    Example:
        >>> w = MaxNorm(1.0)(np.array([[3.0], [4.0]]))
        >>> round(float(np.linalg.norm(w)), 5)
        1.0
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = _validate.number(max_value, "max_value", self, low=0.0)
        self.axis = _axis(axis, self)

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = np.clip(norms, 0.0, self.max_value)
        return w * (desired / (config.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self._config_axis()}


@_REGISTRY.register("non_neg")
class NonNeg(Constraint):
    """Sets negative weights to 0: `max(w, 0)`."""

    def __call__(self, w):
        return np.maximum(w, 0)


@_REGISTRY.register("unit_norm")
class UnitNorm(_NormConstraint):
    """Scales each weight vector to unit norm: `w / (epsilon + |w|)`.

    Args:
        axis: int or tuple of ints, the axes the norm is taken over. Defaults to 0.
    """

    def __init__(self, axis=0):
        self.axis = _axis(axis, self)

    def __call__(self, w):
        return w / (config.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self._config_axis()}


@_REGISTRY.register("min_max_norm")
class MinMaxNorm(_NormConstraint):
    """Moves each weight vector's norm into `[min_value, max_value]` at speed `rate`.

    The new norm is `rate * clip(|w|, min_value, max_value) + (1 - rate) * |w|`, so `rate=1`
    enforces the bounds strictly and smaller rates approach them gradually.

    Args:
        min_value: non-negative minimum norm. Defaults to 0.0.
        max_value: maximum norm, `>= min_value`. Defaults to 1.0.
        rate: in [0, 1]. Defaults to 1.0.
        axis: int or tuple of ints, the axes the norm is taken over. Defaults to 0.
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _validate.number(min_value, "min_value", self, low=0.0)
        self.max_value = _validate.number(max_value, "max_value", self, low=self.min_value)
        self.rate = _validate.number(rate, "rate", self, low=0.0, high=1.0)
        self.axis = _axis(axis, self)

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * np.clip(norms, self.min_value, self.max_value)
        desired += (1.0 - self.rate) * norms
        return w * (desired / (config.epsilon() + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self._config_axis()}


def get(identifier):
    """Resolve a constraint: `None`, a name, a config dict, a class, an instance or a callable.

    Names: `"max_norm"`, `"non_neg"`, `"unit_norm"`, `"min_max_norm"` or the class names.
    """
    return get_object(identifier, _REGISTRY, Constraint, "constraint")


def serialize(constraint):
    """Return `{"class_name": ..., "config": ...}` for a `Constraint` instance."""
    return serialize_object(constraint, Constraint, "constraint")


def deserialize(config):
    """Inverse of `serialize`."""
    return get(config)


# Keras 3's lowercase spellings are the classes themselves (`max_norm(2.0)` is a MaxNorm).
max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm
