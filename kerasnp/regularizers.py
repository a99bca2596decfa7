"""Weight regularizers: a penalty added to the loss and its gradient, with Keras 3's formulas.

`reg(w)` returns the penalty as a Python float; `reg.gradient(w)` returns d(penalty)/dw with the
shape and dtype of `w` (float32 weights give a float32 gradient).
"""
import numpy as np

from . import _validate, config
from ._registry import Registry, get_object, serialize_object

_REGISTRY = Registry("regularizer")
# Keras documents that the string "l1_l2" means l1=0.01, l2=0.01 (the class defaults are 0.0).
_STRING_DEFAULTS = {"l1_l2": {"l1": 0.01, "l2": 0.01}}


def _factor(value, arg, owner):
    return _validate.number(value, arg, owner, low=0.0)


def _sq_sum(w):
    w = w.reshape(-1)
    return float(np.dot(w, w))  # BLAS dot: Σw² without a temporary


class Regularizer:
    """Base class: subclasses implement `__call__(w) -> float` and `gradient(w) -> array`."""

    def __call__(self, w):
        return 0.0

    def gradient(self, w):
        """d(penalty)/dw, same shape and dtype as `w`."""
        return np.zeros_like(w)

    def get_config(self):
        """Return the constructor arguments as a JSON-friendly dict."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config().")

    @classmethod
    def from_config(cls, config):
        """Rebuild a regularizer from `get_config()`'s output."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@_REGISTRY.register("l1_l2")
class L1L2(Regularizer):
    """Both penalties: `l1 * Σ|w| + l2 * Σw²`.

    Args:
        l1: non-negative L1 factor. Defaults to 0.0.
        l2: non-negative L2 factor. Defaults to 0.0.

    Example:
        >>> L1L2(l1=0.1, l2=0.5)(np.array([1.0, -2.0]))
        2.8
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(0.0 if l1 is None else l1, "l1", self)
        self.l2 = _factor(0.0 if l2 is None else l2, "l2", self)

    def __call__(self, w):
        w = np.asarray(w)
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.abs(w).sum())
        if self.l2:
            penalty += self.l2 * _sq_sum(w)
        return penalty

    def gradient(self, w):
        w = np.asarray(w)
        if self.l2:
            g = w * (2.0 * self.l2)                       # d(l2·Σw²)/dw = 2·l2·w
            if self.l1:
                g += self.l1 * np.sign(w)                 # d(l1·Σ|w|)/dw = l1·sign(w)
            return g
        if self.l1:
            g = np.sign(w)
            g *= self.l1
            return g
        return np.zeros_like(w)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


@_REGISTRY.register("l1")
class L1(L1L2):
    """L1 penalty `l1 * Σ|w|`; gradient `l1 * sign(w)` (0 at w = 0).

    Args:
        l1: non-negative factor. Defaults to 0.01.
    """

    def __init__(self, l1=0.01):
        super().__init__(l1=0.01 if l1 is None else l1, l2=0.0)

    def get_config(self):
        return {"l1": self.l1}


@_REGISTRY.register("l2")
class L2(L1L2):
    """L2 penalty `l2 * Σw²` (no 1/2 factor, as in Keras); gradient `2 * l2 * w`.

    Args:
        l2: non-negative factor. Defaults to 0.01.
    """

    def __init__(self, l2=0.01):
        super().__init__(l1=0.0, l2=0.01 if l2 is None else l2)

    def get_config(self):
        return {"l2": self.l2}


@_REGISTRY.register("orthogonal_regularizer")
class OrthogonalRegularizer(Regularizer):
    """Penalises non-orthogonal rows (or columns) of a 2-D weight.

    With `u_i` the L2-normalised rows (`w_i / max(|w_i|, epsilon)`), the penalty is
    `factor * 0.5 * Σ_{i≠j} |u_i·u_j| / (k(k-1)/2)` over the `k` rows, i.e. `factor` times the mean
    absolute cosine between distinct rows. `mode="columns"` does the same on the columns.

    Args:
        factor: non-negative factor. Defaults to 0.01.
        mode: `"rows"` or `"columns"`. Defaults to `"rows"`.
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _factor(factor, "factor", self)
        self.mode = _validate.choice(mode, "mode", ("rows", "columns"), self)

    def _rows(self, w):
        w = np.asarray(w)
        if w.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer needs a 2-D weight. Received: shape={w.shape}")
        return w if self.mode == "rows" else w.T

    def _forward(self, v):
        norms = np.sqrt(np.einsum("ij,ij->i", v, v))[:, None]
        d = np.maximum(norms, config.epsilon())
        u = v / d
        g = u @ u.T
        np.fill_diagonal(g, 0.0)
        k = v.shape[0]
        c = self.factor * 0.5 / (k * (k - 1) / 2.0)
        return u, g, norms, d, c

    def __call__(self, w):
        v = self._rows(w)
        if v.shape[0] < 2:
            return 0.0  # no pairs (Keras divides 0 by 0 here)
        _, g, _, _, c = self._forward(v)
        return c * float(np.abs(g).sum())

    def gradient(self, w):
        v = self._rows(w)
        if v.shape[0] < 2:
            return np.zeros_like(w)
        u, g, norms, d, c = self._forward(v)
        du = (2.0 * c) * (np.sign(g) @ u)                 # dP/dU = c·(S + Sᵀ)·U, S symmetric
        radial = np.einsum("ij,ij->i", u, du)[:, None]
        dv = np.where(norms > config.epsilon(), du - u * radial, du) / d  # through u = v / |v|
        dv = dv.astype(v.dtype, copy=False)
        return dv if self.mode == "rows" else np.ascontiguousarray(dv.T)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras 3's lowercase names are the classes themselves (`keras.regularizers.l2(0.01)`), so
# `l1_l2()` keeps the class defaults (0.0) unlike the string "l1_l2" (0.01 each).
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer


def get(identifier):
    """Resolve a regularizer: `None`, a name, a config dict, a class, an instance or a callable.

    Names: `"l1"`, `"l2"`, `"l1_l2"`, `"orthogonal_regularizer"` or the class names. Plain callables
    `f(w) -> penalty` pass through unchanged.
    """
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if isinstance(identifier, str):
        cls = _REGISTRY.lookup(identifier)
        key = next((k for k, v in _STRING_DEFAULTS.items() if _REGISTRY[k] is cls), None)
        return cls(**_STRING_DEFAULTS[key]) if key else cls()
    return get_object(identifier, _REGISTRY, Regularizer, "regularizer")


def serialize(regularizer):
    """Return `{"class_name": ..., "config": ...}` for a `Regularizer` instance."""
    return serialize_object(regularizer, Regularizer, "regularizer")


def deserialize(config):
    """Inverse of `serialize`."""
    return get(config)
