"""Probabilistic losses: binary and categorical cross-entropy, KL divergence, Poisson.

Cross-entropies also offer `logit_gradient`, the fused derivative through the final softmax or
sigmoid, `(p - t) / N`, which never divides by a probability.
"""
import numpy as np

from .. import config
from .. import _validate as validate
from .base import _axis, _Builtin, _expand, _out_dtype, registry


def _inside(x, low, high):
    """1 where `clip(x, low, high)` passes x through, else 0: the derivative of the clip."""
    return (x > low) & (x < high)


def _logsumexp(z, axis):
    m = z.max(axis=axis, keepdims=True)
    return m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def _softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _sigmoid(z):
    return 0.5 * np.tanh(0.5 * z) + 0.5  # stable for any z, one ufunc pass


def _activation_name(activation):
    if activation is None or isinstance(activation, str):
        return activation
    return getattr(activation, "name", None) or getattr(activation, "__name__", None)


@registry.register("BinaryCrossentropy", "binary_crossentropy")
class BinaryCrossentropy(_Builtin):
    """`mean(-(t log p + (1 - t) log(1 - p)), axis)` with `p` clipped to `[eps, 1 - eps]`.

    Args:
        from_logits: whether `y_pred` holds logits (computed stably in softplus form).
        label_smoothing: float in [0, 1]; labels become `t (1 - s) + 0.5 s`.
        axis: the axis the mean runs over.

    Example:
        >>> round(BinaryCrossentropy()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]), 3)
        0.815
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = validate.boolean(from_logits, "from_logits", self)
        self.label_smoothing = validate.number(label_smoothing, "label_smoothing", self, 0.0, 1.0)
        self.axis = _axis(axis, self)

    def _smooth(self, t):
        s = self.label_smoothing
        return t * (1.0 - s) + 0.5 * s if s else t

    def _forward(self, t, p):
        t = self._smooth(t)
        if self.from_logits:  # max(z, 0) - z t + log(1 + exp(-|z|))
            per = np.maximum(p, 0.0) - p * t + np.log1p(np.exp(-np.abs(p)))
        else:
            eps = config.epsilon()
            pc = np.clip(p, eps, 1.0 - eps)
            per = -(t * np.log(pc) + (1.0 - t) * np.log(1.0 - pc))
        return np.mean(per, axis=self.axis)

    def _backward(self, t, p, g):
        t = self._smooth(t)
        g = _expand(g, self.axis, p.ndim) / p.shape[self.axis]
        if self.from_logits:
            return (_sigmoid(p) - t) * g  # d/dz = sigmoid(z) - t
        eps = config.epsilon()
        pc = np.clip(p, eps, 1.0 - eps)
        return (pc - t) / (pc * (1.0 - pc)) * _inside(p, eps, 1.0 - eps) * g

    def logit_gradient(self, y_true, y_pred, activation_name, sample_weight=None):
        """`(sigmoid(z) - t) / N` when `y_pred` is the output of a sigmoid."""
        if self.from_logits or _activation_name(activation_name) != "sigmoid":
            return None
        t, p = self._prepare(y_true, y_pred)
        g = self._grad_values(t, p, sample_weight)
        g = _expand(g, self.axis, p.ndim) / p.shape[self.axis]
        return ((p - self._smooth(t)) * g).astype(_out_dtype(y_pred, p), copy=False)

    def check_targets(self, y_true, output_shape):
        y = super().check_targets(y_true, output_shape)
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError(
                f"{self._who()} expects labels in [0, 1] (0/1 classes or probabilities); found "
                f"min={y.min():g}, max={y.max():g}. For {{-1, 1}} labels use 'hinge'; for "
                f"class indices use 'sparse_categorical_crossentropy'. "
                f"Received: y_true.shape={np.shape(y_true)}")
        return y

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


@registry.register("CategoricalCrossentropy", "categorical_crossentropy")
class CategoricalCrossentropy(_Builtin):
    """`-sum(t * log(p), axis)` for one-hot (or probability) labels.

    Without logits, `y_pred` is first divided by its sum over `axis`, then clipped to
    `[eps, 1 - eps]`; with logits, `log_softmax` is used.

    Args:
        from_logits: whether `y_pred` holds logits.
        label_smoothing: float in [0, 1]; labels become `t (1 - s) + s / classes`.
        axis: the class axis.

    Example:
        >>> cce = CategoricalCrossentropy(reduction="none")
        >>> cce([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]).round(4)
        array([0.0513, 2.3026])
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = validate.boolean(from_logits, "from_logits", self)
        self.label_smoothing = validate.number(label_smoothing, "label_smoothing", self, 0.0, 1.0)
        self.axis = _axis(axis, self)

    def _smooth(self, t):
        s = self.label_smoothing
        return t * (1.0 - s) + s / t.shape[self.axis] if s else t

    def _forward(self, t, p):
        t, ax = self._smooth(t), self.axis
        if self.from_logits:  # -Σ t (z - lse(z))
            return -np.sum(t * (p - _logsumexp(p, ax)), axis=ax)
        eps = config.epsilon()
        q = np.clip(p / p.sum(axis=ax, keepdims=True), eps, 1.0 - eps)
        return -np.sum(t * np.log(q), axis=ax)

    def _backward(self, t, p, g):
        t, ax = self._smooth(t), self.axis
        g = _expand(g, ax, p.ndim)
        if self.from_logits:  # d/dz = softmax(z) Σt - t
            return (_softmax(p, ax) * t.sum(axis=ax, keepdims=True) - t) * g
        eps = config.epsilon()
        s = p.sum(axis=ax, keepdims=True)
        q = p / s
        a = -t / np.clip(q, eps, 1.0 - eps) * _inside(q, eps, 1.0 - eps)  # dL/dq
        return (a - np.sum(a * q, axis=ax, keepdims=True)) / s * g  # through q = p / Σp

    def logit_gradient(self, y_true, y_pred, activation_name, sample_weight=None):
        """`(p Σt - t) / N` (= `(p - t) / N` for labels summing to one) after a softmax."""
        if (self.from_logits or _activation_name(activation_name) != "softmax"
                or self.axis % max(np.ndim(y_pred), 1) != np.ndim(y_pred) - 1):
            return None
        t, p = self._prepare(y_true, y_pred)
        g = self._grad_values(t, p, sample_weight)[..., None]
        t = self._smooth(t)
        return ((p * t.sum(axis=-1, keepdims=True) - t) * g).astype(_out_dtype(y_pred, p),
                                                                    copy=False)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


@registry.register("KLDivergence", "kl_divergence", "kld", "kullback_leibler_divergence")
class KLDivergence(_Builtin):
    """`sum(t * log(t / p), axis=-1)` with both clipped to `[eps, 1]`."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        eps = config.epsilon()
        t = np.clip(t, eps, 1.0)
        return np.sum(t * np.log(t / np.clip(p, eps, 1.0)), axis=-1)

    def _backward(self, t, p, g):
        eps = config.epsilon()
        return -np.clip(t, eps, 1.0) / np.clip(p, eps, 1.0) * _inside(p, eps, 1.0) * g[..., None]


@registry.register("Poisson", "poisson")
class Poisson(_Builtin):
    """`mean(y_pred - y_true * log(y_pred + eps), axis=-1)`."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        return np.mean(p - t * np.log(p + config.epsilon()), axis=-1)

    def _backward(self, t, p, g):
        return (1.0 - t / (p + config.epsilon())) * (g[..., None] / p.shape[-1])


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample binary cross-entropy (mean over `axis`)."""
    return BinaryCrossentropy(from_logits, label_smoothing, axis).call(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample categorical cross-entropy over `axis`."""
    return CategoricalCrossentropy(from_logits, label_smoothing, axis).call(y_true, y_pred)


def kl_divergence(y_true, y_pred):
    """Per-sample Kullback-Leibler divergence."""
    return KLDivergence().call(y_true, y_pred)


def poisson(y_true, y_pred):
    """Per-sample Poisson loss."""
    return Poisson().call(y_true, y_pred)


kld = kullback_leibler_divergence = kl_divergence
