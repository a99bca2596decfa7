"""Confusion counts as metrics (`TruePositives`, ...) and the "best X where Y >= value" metrics
(`PrecisionAtRecall`, `RecallAtPrecision`, `SensitivityAtSpecificity`,
`SpecificityAtSensitivity`), with Keras 3's thresholds and semantics.

A prediction is positive at a threshold when it is strictly above it; labels are positive when
non-zero. The "at" metrics count at `num_thresholds` evenly spaced thresholds in [0, 1]
(predictions clipped to [0, 1] first, as Keras does) and return the best value of one rate over
the thresholds where the other rate reaches the target, or 0 when none does.
"""
import numpy as np

from .. import _validate
from .base import Metric, _float_result, safe_div, same_rank, sample_weights_like
from .confusion import _parse_thresholds, confusion_counts


class _ConditionCount(Metric):
    """One weighted confusion count at one or several thresholds (`_index` picks tp/fp/tn/fn)."""

    _index = 0

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.thresholds, _ = _parse_thresholds(thresholds, 0.5, self)
        self.init_thresholds = thresholds if not isinstance(thresholds, tuple) \
            else list(thresholds)
        self._order = np.argsort(self.thresholds, kind="stable")
        self._sorted = np.asarray(self.thresholds, dtype=np.float64)[self._order]
        self._unsort = np.argsort(self._order)
        self.reset_state()

    def reset_state(self):
        self.accumulator = np.zeros(len(self.thresholds))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = same_rank(np.asarray(y_true), np.asarray(y_pred))
        w = None if sample_weight is None else sample_weights_like(sample_weight, y_pred.shape)
        counts = confusion_counts(y_true != 0, y_pred, self._sorted, w)
        self.accumulator += counts[self._index][self._unsort]

    def result(self):
        # As Keras: a scalar for one threshold (even given as a one-item list).
        if len(self.thresholds) == 1:
            return _float_result(self.accumulator[0])
        return self.accumulator.copy()

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """The weighted number of true positives: positive labels predicted above the threshold.

    Args:
        thresholds: float or list of floats in [0, 1]; default 0.5. A list gives one count per
            threshold (an array).
        name: string, defaults to `"true_positives"`.
        dtype: float type of the result.

    Example:
        >>> m = TruePositives()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()
        2.0
    """

    _index = 0


class FalsePositives(_ConditionCount):
    """The weighted number of false positives: negative labels predicted above the threshold.

    Args: as `TruePositives`; `name` defaults to `"false_positives"`.

    Example:
        >>> m = FalsePositives()
        >>> m.update_state([0, 1, 0, 0], [0, 0, 1, 1]); m.result()
        2.0
    """

    _index = 1


class TrueNegatives(_ConditionCount):
    """The weighted number of true negatives: negative labels predicted at or below the threshold.

    Args: as `TruePositives`; `name` defaults to `"true_negatives"`.

    Example:
        >>> m = TrueNegatives()
        >>> m.update_state([0, 1, 0, 0], [1, 1, 0, 0]); m.result()
        2.0
    """

    _index = 2


class FalseNegatives(_ConditionCount):
    """The weighted number of false negatives: positive labels predicted at or below the
    threshold.

    Args: as `TruePositives`; `name` defaults to `"false_negatives"`.

    Example:
        >>> m = FalseNegatives()
        >>> m.update_state([0, 1, 1, 1], [0, 1, 0, 0]); m.result()
        2.0
    """

    _index = 3


def _even_counts(y_true, y_pred, n, weights):
    """tp, fp, tn, fn at the `n` thresholds `[0, 1/(n-1), ..., 1]`, as Keras buckets them:
    a prediction `p` (clipped to [0, 1]) is above threshold `j` when `ceil(p·(n-1)) - 1 >= j`,
    so the counts match Keras's even where `p` equals a threshold up to rounding."""
    p = np.clip(y_pred.astype(np.float64, copy=False), 0.0, 1.0)
    bucket = (np.ceil(p * (n - 1)) - 1).astype(np.intp) + 1     # 0 .. n-1: above 'bucket' ones
    w = None if weights is None else np.broadcast_to(weights, p.shape).ravel()
    hist = np.bincount((bucket + n * y_true).ravel(), weights=w, minlength=2 * n)
    neg, pos = hist.reshape(2, n).astype(np.float64, copy=False)
    # above[j] = weight of predictions above threshold j = buckets j+1 .. n-1
    fp = np.cumsum(neg[::-1])[::-1][1:]
    tp = np.cumsum(pos[::-1])[::-1][1:]
    fp, tp = np.append(fp, 0.0), np.append(tp, 0.0)             # nothing is above 1.0
    return tp, fp, neg.sum() - fp, pos.sum() - tp


class _AtConstraint(Metric):
    """Shared state of the "best X where Y >= value" metrics: tp/fp/tn/fn at each threshold."""

    _arg = None        # the constructor's name for `value` ("recall", "precision", ...)

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.value = _validate.number(value, self._arg, self, 0.0, 1.0)
        setattr(self, self._arg, self.value)
        self.num_thresholds = _validate.positive_int(num_thresholds, "num_thresholds", self)
        self.class_id = (None if class_id is None
                         else _validate.non_negative_int(class_id, "class_id", self))
        if self.num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            n = self.num_thresholds
            self.thresholds = [0.0] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1.0]
        self.reset_state()

    def reset_state(self):
        n = len(self.thresholds)
        self.true_positives = np.zeros(n)
        self.false_positives = np.zeros(n)
        self.true_negatives = np.zeros(n)
        self.false_negatives = np.zeros(n)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = same_rank(np.asarray(y_true), np.asarray(y_pred))
        w = None if sample_weight is None else np.asarray(sample_weight)
        if self.class_id is not None:
            if w is not None and w.ndim == y_pred.ndim and w.shape[-1] == y_pred.shape[-1] > 1:
                w = w[..., self.class_id]            # per-class weights: keep the chosen class
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
        if w is not None:
            w = sample_weights_like(w, y_pred.shape)
        positive = (y_true != 0).astype(np.intp)
        if self.num_thresholds == 1:
            tp, fp, tn, fn = confusion_counts(positive != 0, y_pred, np.array([0.5]), w)
        else:
            tp, fp, tn, fn = _even_counts(positive, y_pred, self.num_thresholds, w)
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += tn
        self.false_negatives += fn

    def _best(self, constrained, dependent):
        """The largest `dependent` rate where `constrained >= value` (0 if nowhere)."""
        feasible = constrained >= self.value
        return _float_result(np.max(np.where(feasible, dependent, 0.0), initial=0.0))

    def _rates(self):
        tp, fp, tn, fn = (self.true_positives, self.false_positives, self.true_negatives,
                          self.false_negatives)
        return {"recall": safe_div(tp, tp + fn), "precision": safe_div(tp, tp + fp),
                "specificity": safe_div(tn, tn + fp)}

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self._arg: self.value}


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity (recall, `tp / (tp + fn)`) among the thresholds where the
    specificity (`tn / (tn + fp)`) is at least `specificity`.

    Args:
        specificity: float in [0, 1].
        num_thresholds: positive int, how many evenly spaced thresholds in [0, 1] to try
            (1 means the threshold 0.5). Defaults to 200.
        class_id: optional int, restrict the metric to one class (column of the last axis).
        name: string, defaults to `"sensitivity_at_specificity"`.
        dtype: float type of the result.

    Example:
        >>> m = SensitivityAtSpecificity(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]); m.result()
        0.5
    """

    _arg = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def result(self):
        r = self._rates()
        return self._best(r["specificity"], r["recall"])


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity among the thresholds where the sensitivity is at least
    `sensitivity`.

    Args: as `SensitivityAtSpecificity`, with `sensitivity` (float in [0, 1]) first.

    Example:
        >>> m = SpecificityAtSensitivity(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]); round(m.result(), 6)
        0.666667
    """

    _arg = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def result(self):
        r = self._rates()
        return self._best(r["recall"], r["specificity"])


class PrecisionAtRecall(_AtConstraint):
    """The best precision among the thresholds where the recall is at least `recall`.

    Args: as `SensitivityAtSpecificity`, with `recall` (float in [0, 1]) first.

    Example:
        >>> m = PrecisionAtRecall(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]); m.result()
        0.5
    """

    _arg = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def result(self):
        r = self._rates()
        return self._best(r["recall"], r["precision"])


class RecallAtPrecision(_AtConstraint):
    """The best recall among the thresholds where the precision is at least `precision` (0 when
    no threshold reaches it).

    Args: as `SensitivityAtSpecificity`, with `precision` (float in [0, 1]) first.

    Example:
        >>> m = RecallAtPrecision(0.8)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]); m.result()
        0.5
    """

    _arg = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def result(self):
        r = self._rates()
        return self._best(r["precision"], r["recall"])
