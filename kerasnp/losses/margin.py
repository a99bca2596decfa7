"""Margin and angle losses: the hinge family and cosine similarity."""
import numpy as np

from .. import config
from .base import _axis, _Builtin, _expand, registry


def _hinge_labels(t):
    """Keras converts {0, 1} labels to {-1, 1}; any other labels pass unchanged."""
    return 2.0 * t - 1.0 if np.all((t == 0) | (t == 1)) else t


@registry.register("Hinge", "hinge")
class Hinge(_Builtin):
    """`mean(max(1 - t * y_pred, 0), axis=-1)`; labels in {-1, 1} ({0, 1} are converted)."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        return np.mean(np.maximum(1.0 - _hinge_labels(t) * p, 0.0), axis=-1)

    def _backward(self, t, p, g):
        t = _hinge_labels(t)
        return -t * (1.0 - t * p > 0) * (g[..., None] / p.shape[-1])


@registry.register("SquaredHinge", "squared_hinge")
class SquaredHinge(_Builtin):
    """`mean(max(1 - t * y_pred, 0)**2, axis=-1)`; labels in {-1, 1} ({0, 1} are converted)."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        m = np.maximum(1.0 - _hinge_labels(t) * p, 0.0)
        return np.mean(m * m, axis=-1)

    def _backward(self, t, p, g):
        t = _hinge_labels(t)
        return -2.0 * np.maximum(1.0 - t * p, 0.0) * t * (g[..., None] / p.shape[-1])


@registry.register("CategoricalHinge", "categorical_hinge")
class CategoricalHinge(_Builtin):
    """`max(neg - pos + 1, 0)` with `pos = sum(t * y_pred)`, `neg = max((1 - t) * y_pred)`."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        pos = np.sum(t * p, axis=-1)
        neg = np.max((1.0 - t) * p, axis=-1)
        return np.maximum(neg - pos + 1.0, 0.0)

    def _backward(self, t, p, g):
        neg_all = (1.0 - t) * p
        j = neg_all.argmax(axis=-1)[..., None]
        active = (np.take_along_axis(neg_all, j, -1)[..., 0] - np.sum(t * p, -1) + 1.0 > 0) * g
        dp = -t * active[..., None]  # d(-pos)
        np.put_along_axis(dp, j, np.take_along_axis(dp, j, -1)  # d(neg) at the arg-max
                          + np.take_along_axis(1.0 - t, j, -1) * active[..., None], -1)
        return dp


def _l2_normalize(x, axis):
    """`x / sqrt(max(sum(x²), eps))` and the inverse norm used."""
    inv = 1.0 / np.sqrt(np.maximum(np.sum(x * x, axis=axis, keepdims=True), config.epsilon()))
    return x * inv, inv


@registry.register("CosineSimilarity", "cosine_similarity")
class CosineSimilarity(_Builtin):
    """`-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`: -1 when aligned.

    Args:
        axis: the feature axis the similarity runs over.
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.axis = _axis(axis, self)

    def _forward(self, t, p):
        return -np.sum(_l2_normalize(t, self.axis)[0] * _l2_normalize(p, self.axis)[0],
                       axis=self.axis)

    def _backward(self, t, p, g):
        ax, eps = self.axis, config.epsilon()
        u = _l2_normalize(t, ax)[0]
        v, inv = _l2_normalize(p, ax)
        # d(-u·v)/dp = -(u - v (u·v)) / |p| above the eps floor, -u / sqrt(eps) below it
        above = np.sum(p * p, axis=ax, keepdims=True) > eps
        return -(u - v * np.sum(u * v, axis=ax, keepdims=True) * above) * inv \
            * _expand(g, ax, p.ndim)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def hinge(y_true, y_pred):
    """Per-sample hinge loss."""
    return Hinge().call(y_true, y_pred)


def squared_hinge(y_true, y_pred):
    """Per-sample squared hinge loss."""
    return SquaredHinge().call(y_true, y_pred)


def categorical_hinge(y_true, y_pred):
    """Per-sample categorical hinge loss."""
    return CategoricalHinge().call(y_true, y_pred)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Per-sample negative cosine similarity."""
    return CosineSimilarity(axis=axis).call(y_true, y_pred)
