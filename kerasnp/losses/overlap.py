"""Overlap and metric-learning losses: Dice, Tversky (segmentation) and Circle (embeddings).

Written with `kerasnp.ops`, so the gradient tape differentiates them.
"""
import numpy as np

from .. import config, ops
from .. import _validate as validate
from .base import Loss, registry
from .focal import _prepare


def _axis_or_none(axis, owner):
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)) and all(isinstance(a, int) and not isinstance(a, bool)
                                               for a in axis):
        return tuple(axis)
    if isinstance(axis, int) and not isinstance(axis, bool):
        return axis
    raise TypeError(f"{owner._who() if isinstance(owner, Loss) else owner}: argument `axis` must "
                    f"be None, an int or a tuple of ints. Received: axis={axis!r}")


def dice(y_true, y_pred, axis=None):
    """Dice loss `1 - 2 sum(t p) / (sum(t) + sum(p) + eps)`, summed over `axis` (None: all
    axes, one value for the whole batch).

    Example:
        >>> round(float(dice([[1.0, 0.0]], [[0.8, 0.2]])), 4)
        0.2
    """
    t, p = _prepare(y_true, y_pred)
    inter = ops.sum(t * p, axis=axis)
    return 1.0 - 2.0 * inter / (np.sum(t, axis=axis) + ops.sum(p, axis=axis) + config.epsilon())


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """Tversky loss `1 - TP / (TP + alpha FP + beta FN + eps)` with soft counts
    `TP = sum(t p)`, `FP = sum((1 - p) t)`, `FN = sum(p (1 - t))` over `axis` (Keras's
    definitions; `alpha = beta = 0.5` gives the Dice loss).

    Example:
        >>> round(float(tversky([[1.0, 0.0]], [[0.8, 0.2]])), 4)
        0.2
    """
    t, p = _prepare(y_true, y_pred)
    tp = ops.sum(t * p, axis=axis)
    fp = ops.sum((1.0 - p) * t, axis=axis)
    fn = ops.sum(p * (1.0 - t), axis=axis)
    return 1.0 - tp / (tp + fp * alpha + fn * beta + config.epsilon())


def _pair_masks(labels, ref_labels, remove_diagonal):
    pos = labels.reshape(-1, 1) == ref_labels.reshape(1, -1)
    neg = ~pos
    if remove_diagonal:
        pos &= ~np.eye(pos.shape[0], pos.shape[1], dtype=bool)
    return pos, neg


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80,
           margin=0.4):
    """Circle loss (Sun et al., 2020) of each embedding in `y_pred` (`(n, d)`, expected
    L2-normalised) against `ref_embeddings` (default: `y_pred` itself), with integer labels.

    With cosine distances `d = max(1 - y_pred @ ref.T, 0)`, positives pairs (same label, minus
    the diagonal when `remove_diagonal`) and negatives (other labels):
    `softplus(logsumexp_pos(-gamma a_p (m - d)) + logsumexp_neg(gamma a_n (1 - m - d)))`,
    `a_p = max(m + d, 0)`, `a_n = max(1 + m - d, 0)`. A row with no positive pair gives 0.

    Example:
        >>> e = np.array([[1.0, 0.0], [0.6, 0.8], [0.8, 0.6]])
        >>> circle([0, 0, 1], e).round(3)
        array([38.4  , 60.928,  0.   ])
    """
    t, p = _prepare(y_true, y_pred)
    labels = t.reshape(-1).astype(np.int64)
    ref = p if ref_embeddings is None else np.asarray(ref_embeddings, dtype=t.dtype)
    ref_labels = labels if ref_labels is None else np.asarray(ref_labels).reshape(-1).astype(
        np.int64)
    pos, neg = _pair_masks(labels, ref_labels, remove_diagonal)
    dist = ops.maximum(1.0 - ops.matmul(p, ops.transpose(ref)), 0.0)
    w_pos = ops.maximum((margin + dist) * pos, 0.0)
    w_neg = ops.maximum((1.0 + margin - dist) * neg, 0.0)
    pos_logits = -gamma * w_pos * (margin - dist)
    neg_logits = gamma * w_neg * (1.0 - margin - dist)
    # Masked entries get a large finite negative (not -inf): their exp is exactly 0, and the
    # logsumexp gradient stays finite. A row without any pair gets -inf below instead.
    low = np.asarray(np.finfo(t.dtype).min / 4, dtype=t.dtype)
    lp = ops.logsumexp(ops.where(pos, pos_logits, low), axis=1)
    ln = ops.logsumexp(ops.where(neg, neg_logits, low), axis=1)
    has = (pos.any(axis=1) & neg.any(axis=1)).astype(t.dtype)
    return ops.softplus(lp + ln) * has


@registry.register("Dice", "dice")
class Dice(Loss):
    """Dice loss for segmentation: `1 - 2 |t ∩ p| / (|t| + |p|)` with soft counts.

    Args:
        axis: None (sum over everything: one value for the batch), an int or a tuple of ints
            (e.g. `(1, 2)` for one value per image).

    Example:
        >>> round(Dice()([[1, 0]], [[0.8, 0.2]]), 4)
        0.2
    """

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.axis = _axis_or_none(axis, self)

    def call(self, y_true, y_pred):
        return dice(y_true, y_pred, self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


@registry.register("Tversky", "tversky")
class Tversky(Loss):
    """Tversky loss: `1 - TP / (TP + alpha FP + beta FN)`, trading false positives against
    false negatives (`alpha = beta = 0.5` is the Dice loss).

    Args:
        alpha, beta: float >= 0, weights of the false positives and false negatives.
        axis: None, an int or a tuple of ints, as in `Dice`.

    Example:
        >>> round(Tversky(alpha=0.7, beta=0.3)([[1, 0, 1]], [[0.6, 0.3, 0.9]]), 4)
        0.2268
    """

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.alpha = validate.number(alpha, "alpha", self, low=0.0)
        self.beta = validate.number(beta, "beta", self, low=0.0)
        self.axis = _axis_or_none(axis, self)

    def call(self, y_true, y_pred):
        return tversky(y_true, y_pred, self.alpha, self.beta, self.axis)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta,
                "axis": self.axis}


@registry.register("Circle", "circle")
class Circle(Loss):
    """Circle loss for metric learning on L2-normalised embeddings `(n, d)` with integer labels
    `(n,)`; pairs within the batch are compared. As in Keras, rows without a positive pair are
    left out of the mean.

    Args:
        gamma: float > 0, the scale.
        margin: float, the relaxation margin.
        remove_diagonal: leave out each sample paired with itself.

    Example:
        >>> import numpy as np
        >>> e = np.array([[1.0, 0.0], [0.6, 0.8], [0.8, 0.6]])
        >>> round(Circle()([0, 0, 1], e), 3)     # the mean of the two rows with pairs
        49.664
    """

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.gamma = validate.number(gamma, "gamma", self, low=0.0, low_open=True)
        self.margin = validate.number(margin, "margin", self)
        self.remove_diagonal = validate.boolean(remove_diagonal, "remove_diagonal", self)

    def call(self, y_true, y_pred):
        return circle(y_true, y_pred, remove_diagonal=self.remove_diagonal, gamma=self.gamma,
                      margin=self.margin)

    def _mask(self, t):
        # Keras masks the zero losses (rows without a positive or a negative pair) out of the
        # reduction: the mean runs over the rows that have both.
        labels = np.asarray(t).reshape(-1)
        pos, neg = _pair_masks(labels, labels, self.remove_diagonal)
        return pos.any(axis=1) & neg.any(axis=1)

    def check_targets(self, y_true, output_shape):
        y = np.asarray(y_true)
        if y.ndim == 2 and y.shape[-1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"{self._who()} expects integer labels of shape (n,). "
                             f"Received: y_true.shape={np.shape(y_true)}")
        return y.astype(self.dtype or config.floatx(), copy=False)

    def get_config(self):
        return {**super().get_config(), "gamma": self.gamma, "margin": self.margin,
                "remove_diagonal": self.remove_diagonal}
