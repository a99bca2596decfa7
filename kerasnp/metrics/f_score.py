"""F-beta and F1 scores over one-hot / multi-label targets of shape `(batch, classes)`."""
import numbers

import numpy as np

from .. import _validate, config
from .base import Metric

_AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """F-beta score, `(1 + beta²)·P·R / (beta²·P + R)`, per class or averaged.

    Args:
        average: `None` (one score per class, as an array), `"micro"` (pool all classes' counts),
            `"macro"` (plain mean of class scores) or `"weighted"` (mean weighted by each
            class's weighted number of true labels).
        beta: positive float, how much more recall counts than precision.
        threshold: float in (0, 1]; predictions above it are positives. `None`: the largest
            prediction of each sample is the positive one (ties all count).
        name: string, defaults to `"fbeta_score"`.
        dtype: float type of the result.

    Input shape: `y_true` and `y_pred` of shape `(batch, classes)`.

    Example:
        >>> m = FBetaScore(beta=2.0, threshold=0.5)
        >>> m.update_state(np.array([[1, 0], [1, 0]]), np.array([[0.9, 0.1], [0.2, 0.8]]))
        >>> m.result().round(4)
        array([0.5556, 0.    ])
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.average = _validate.choice(average, "average", _AVERAGES, self)
        self.beta = _validate.number(beta, "beta", self, low=0.0, low_open=True)
        if threshold is not None:
            if not isinstance(threshold, numbers.Real) or isinstance(threshold, bool):
                raise TypeError(f"{type(self).__name__}: argument `threshold` must be a float "
                                f"in (0, 1] or None. Received: threshold={threshold!r}")
            threshold = _validate.number(threshold, "threshold", self, 0.0, 1.0, low_open=True)
        self.threshold = threshold
        self.num_classes = None
        self.reset_state()

    def reset_state(self):
        n = self.num_classes or 0
        self.true_positives = np.zeros(n)
        self.false_positives = np.zeros(n)
        self.false_negatives = np.zeros(n)
        self.intermediate_weights = np.zeros(n)   # weighted count of true labels per class

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true)
        y_pred = np.asarray(y_pred)
        if y_pred.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"{type(self).__name__} expects y_true and y_pred of the same shape "
                             f"(batch, classes). Received: y_true.shape={y_true.shape}, "
                             f"y_pred.shape={y_pred.shape}")
        if self.num_classes is None:
            self.num_classes = y_pred.shape[1]
            self.reset_state()
        elif y_pred.shape[1] != self.num_classes:
            raise ValueError(f"{type(self).__name__} was built for {self.num_classes} classes. "
                             f"Received: y_pred.shape={y_pred.shape}")
        if self.threshold is None:
            pred = y_pred >= y_pred.max(axis=-1, keepdims=True)
        else:
            pred = y_pred > self.threshold
        if y_true.dtype.kind != "f":
            y_true = y_true.astype(config.floatx())
        hits = y_true * pred                            # soft labels count fractionally
        if sample_weight is None:
            tp, pos, true = hits.sum(0), pred.sum(0), y_true.sum(0)
        else:
            w = np.asarray(sample_weight, dtype=y_true.dtype).reshape(-1)
            w = np.broadcast_to(w, y_pred.shape[:1])
            tp, pos, true = w @ hits, w @ pred.astype(y_true.dtype), w @ y_true
        self.true_positives += tp
        self.false_positives += pos - tp                # pred·(1 - y) = pred - pred·y
        self.false_negatives += true - tp               # (1 - pred)·y = y - pred·y
        self.intermediate_weights += true

    def result(self):
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        if self.average == "micro":
            tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
        eps = config.epsilon()
        precision = tp / (tp + fp + eps)
        recall = tp / (tp + fn + eps)
        b2 = self.beta ** 2
        score = (1 + b2) * precision * recall / (b2 * precision + recall + eps)
        if self.average is None:
            return score
        if np.size(score) == 0:
            return 0.0
        if self.average == "weighted":
            weights = self.intermediate_weights
            return float((score * weights).sum() / (weights.sum() + eps))
        return float(np.mean(score))

    def get_config(self):
        return {"average": self.average, "beta": self.beta, "threshold": self.threshold,
                **super().get_config()}


class F1Score(FBetaScore):
    """F1 score, the harmonic mean of precision and recall (`FBetaScore` with `beta=1`).

    Args:
        average: `None`, `"micro"`, `"macro"` or `"weighted"` (see `FBetaScore`).
        threshold: float in (0, 1] or `None` (the arg-max is the positive class).
        name: string, defaults to `"f1_score"`.
        dtype: float type of the result.

    Example:
        >>> m = F1Score(average="micro")
        >>> m.update_state(np.eye(3), np.eye(3)[[0, 1, 1]]); round(m.result(), 4)
        0.6667
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
