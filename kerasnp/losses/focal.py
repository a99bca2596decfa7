"""Focal and noise-robust cross-entropies: binary and categorical focal cross-entropy, and the
generalized cross-entropy.

They are written with `kerasnp.ops`, so the gradient tape differentiates them op by op (they are
not on the hot path of the common models, unlike the plain cross-entropies).
"""
import numpy as np

from .. import config, ops
from ..autodiff.tape import unwrap
from .. import _validate as validate
from .base import Loss, _axis, registry


def _prepare(y_true, y_pred):
    """`y_pred` as it is (an array or a tape Tensor; lists become floatx arrays) and the labels
    as an array of its dtype."""
    if not hasattr(y_pred, "dtype"):
        y_pred = np.asarray(y_pred, dtype=config.floatx())
    dt = np.dtype(y_pred.dtype)
    if dt.kind != "f":
        y_pred, dt = y_pred.astype(config.floatx()), np.dtype(config.floatx())
    return np.asarray(unwrap(y_true), dtype=dt), y_pred


def _smooth(t, s, classes):
    return t * (1.0 - s) + s / classes if s else t


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample binary focal cross-entropy: `mean((1 - p_t)^gamma * bce, axis)`.

    `p_t = t * p + (1 - t) * (1 - p)` is the probability given to the true class; with
    `apply_class_balancing` each term is also weighted by `alpha` (positives) or `1 - alpha`.

    Example:
        >>> binary_focal_crossentropy([[0.0, 1.0]], [[0.4, 0.6]]).round(4)
        array([0.0817])
    """
    t, y_pred = _prepare(y_true, y_pred)
    t = _smooth(t, label_smoothing, 2.0)
    p = ops.sigmoid(y_pred) if from_logits else y_pred
    eps = config.epsilon()
    pc = ops.clip(p, eps, 1.0 - eps)
    bce = -(t * ops.log(pc) + (1.0 - t) * ops.log(1.0 - pc))
    p_t = t * p + (1.0 - t) * (1.0 - p)
    focal = ops.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (t * alpha + (1.0 - t) * (1.0 - alpha)) * focal
    return ops.mean(focal, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Per-sample categorical focal cross-entropy:
    `sum(-alpha * (1 - q)^gamma * t * log(q), axis)` with `q = y_pred / sum(y_pred)` clipped to
    `[eps, 1 - eps]` (after a softmax when `from_logits`).

    Example:
        >>> categorical_focal_crossentropy([[0, 1, 0]], [[0.05, 0.9, 0.05]]).round(5)
        array([0.00026])
    """
    t, y_pred = _prepare(y_true, y_pred)
    t = _smooth(t, label_smoothing, float(y_pred.shape[-1]))
    p = ops.softmax(y_pred, axis=axis) if from_logits else y_pred
    eps = config.epsilon()
    q = ops.clip(p / ops.sum(p, axis=axis, keepdims=True), eps, 1.0 - eps)
    return ops.sum(alpha * ops.power(1.0 - q, gamma) * (-t * ops.log(q)), axis=axis)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Per-sample generalized cross-entropy (Zhang & Sabuncu, 2018): `(1 - p_y^q) / q`, where
    `p_y` is the predicted probability of the integer class `y_true`.

    Example:
        >>> categorical_generalized_cross_entropy([1], [[0.2, 0.8]], q=0.5).round(4)
        array([0.2111])
    """
    t, y_pred = _prepare(y_true, y_pred)
    if t.ndim == y_pred.ndim and t.shape[-1] == 1:       # labels (n, 1) for outputs (n, classes)
        t = t[..., 0]
    one_hot = np.eye(y_pred.shape[-1], dtype=t.dtype)[t.astype(np.int64)]
    p = ops.sum(y_pred * one_hot, axis=-1)
    return (1.0 - ops.power(p, q)) / q


@registry.register("BinaryFocalCrossentropy", "binary_focal_crossentropy")
class BinaryFocalCrossentropy(Loss):
    """Binary cross-entropy down-weighting easy examples (Lin et al., 2017): each term is
    multiplied by `(1 - p_t)^gamma`, and by `alpha`/`1 - alpha` with `apply_class_balancing`.

    Args:
        apply_class_balancing: weight positives by `alpha` and negatives by `1 - alpha`.
        alpha: float in [0, 1], the class-balancing weight of positives.
        gamma: float >= 0, the focusing exponent (0 gives binary cross-entropy).
        from_logits: whether `y_pred` holds logits.
        label_smoothing: float in [0, 1]; labels become `t (1 - s) + 0.5 s`.
        axis: the axis the mean runs over.

    Example:
        >>> round(BinaryFocalCrossentropy(gamma=2.0)([[0, 1]], [[0.4, 0.6]]), 4)
        0.0817
    """

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.apply_class_balancing = validate.boolean(apply_class_balancing,
                                                      "apply_class_balancing", self)
        self.alpha = validate.number(alpha, "alpha", self, 0.0, 1.0)
        self.gamma = validate.number(gamma, "gamma", self, low=0.0)
        self.from_logits = validate.boolean(from_logits, "from_logits", self)
        self.label_smoothing = validate.number(label_smoothing, "label_smoothing", self, 0.0, 1.0)
        self.axis = _axis(axis, self)

    def call(self, y_true, y_pred):
        return binary_focal_crossentropy(y_true, y_pred, self.apply_class_balancing, self.alpha,
                                         self.gamma, self.from_logits, self.label_smoothing,
                                         self.axis)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis,
                "apply_class_balancing": self.apply_class_balancing, "alpha": self.alpha,
                "gamma": self.gamma}


@registry.register("CategoricalFocalCrossentropy", "categorical_focal_crossentropy")
class CategoricalFocalCrossentropy(Loss):
    """Categorical cross-entropy down-weighting easy examples: each class term is multiplied by
    `alpha * (1 - q)^gamma` (Lin et al., 2017).

    Args:
        alpha: float >= 0, the weight of every term.
        gamma: float >= 0, the focusing exponent.
        from_logits: whether `y_pred` holds logits.
        label_smoothing: float in [0, 1]; labels become `t (1 - s) + s / classes`.
        axis: the class axis.

    Example:
        >>> round(CategoricalFocalCrossentropy()([[0, 1, 0]], [[0.05, 0.9, 0.05]]), 5)
        0.00026
    """

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.alpha = validate.number(alpha, "alpha", self, low=0.0)
        self.gamma = validate.number(gamma, "gamma", self, low=0.0)
        self.from_logits = validate.boolean(from_logits, "from_logits", self)
        self.label_smoothing = validate.number(label_smoothing, "label_smoothing", self, 0.0, 1.0)
        self.axis = _axis(axis, self)

    def call(self, y_true, y_pred):
        return categorical_focal_crossentropy(y_true, y_pred, self.alpha, self.gamma,
                                              self.from_logits, self.label_smoothing, self.axis)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis, "alpha": self.alpha,
                "gamma": self.gamma}


@registry.register("CategoricalGeneralizedCrossEntropy", "categorical_generalized_cross_entropy")
class CategoricalGeneralizedCrossEntropy(Loss):
    """Generalized cross-entropy for noisy labels: `(1 - p_y^q) / q` for integer labels `y`;
    `q -> 0` approaches cross-entropy, `q = 1` is the mean absolute error.

    Args:
        q: float in (0, 1].

    Example:
        >>> round(CategoricalGeneralizedCrossEntropy(q=0.5)([1], [[0.2, 0.8]]), 4)
        0.2111
    """

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.q = validate.number(q, "q", self, low=0.0, high=1.0, low_open=True)

    def call(self, y_true, y_pred):
        return categorical_generalized_cross_entropy(y_true, y_pred, self.q)

    def check_targets(self, y_true, output_shape):
        return _integer_labels(self, y_true, output_shape)

    def get_config(self):
        return {**super().get_config(), "q": self.q}


def _integer_labels(loss, y_true, output_shape):
    """Integer class labels `(n,)` (or `(n, 1)`) for a model output `(n, classes)`."""
    y = np.asarray(y_true)
    if y.ndim == len(output_shape) and y.shape[-1] == 1:
        y = y[..., 0]
    if y.ndim != len(output_shape) - 1:
        raise ValueError(f"{loss._who()} expects integer class labels of shape (n,) for a model "
                         f"output {tuple(output_shape)}. Received: y_true.shape={np.shape(y_true)}")
    return y.astype(loss.dtype or config.floatx(), copy=False)
