"""Thresholded confusion counts, and Precision / Recall built on them.

`confusion_counts` is the one vectorised routine behind Precision, Recall and AUC: each prediction
is dropped into the bucket of thresholds it exceeds (`searchsorted`), one weighted `bincount`
histograms the buckets separately for positive and negative labels, and a reversed cumulative sum
turns bucket counts into "prediction > threshold" counts for every threshold at once.
"""
import numbers

import numpy as np

from .. import _validate
from .base import Metric, _float_result, safe_div, same_rank, sample_weights_like


def confusion_counts(y_true, y_pred, thresholds, weights=None, per_label=False):
    """Weighted true/false positives/negatives at each threshold.

    Args:
        y_true: bool array, the labels.
        y_pred: float array of the same shape; `y_pred > threshold` is a positive prediction.
        thresholds: 1-D float array, sorted ascending, length `t`.
        weights: None or an array broadcastable to `y_pred.shape`.
        per_label: count each slice of the last axis separately.

    Returns:
        `(tp, fp, tn, fn)`, float64 arrays of shape `(t,)`, or `(t, labels)` with `per_label`.
    """
    t = len(thresholds)
    nb = t + 1                                        # bucket b: exactly b thresholds below
    nl = y_pred.shape[-1] if per_label and y_pred.ndim else 1
    bucket = np.searchsorted(thresholds, y_pred)     # thresholds strictly below each prediction
    if per_label:
        bucket = bucket + nb * np.arange(nl)
    bucket = bucket + (nb * nl) * y_true            # positives histogram in the upper half
    if weights is not None:
        weights = np.broadcast_to(weights, y_pred.shape).ravel()
    hist = np.bincount(bucket.ravel(), weights=weights, minlength=2 * nl * nb)
    hist = hist.reshape(2, nl, nb).astype(np.float64, copy=False)
    # above[..., j] = weight of predictions in buckets > j, i.e. predictions > thresholds[j]
    above = np.cumsum(hist[..., ::-1], axis=-1)[..., ::-1][..., 1:]
    below = np.cumsum(hist, axis=-1)[..., :-1]        # two sums: no cancellation in tn/fn
    (fp, tp), (tn, fn) = above, below
    if not per_label:
        return tp[0], fp[0], tn[0], fn[0]
    return tp.T, fp.T, tn.T, fn.T


def _filter_top_k(x, k):
    """Keep the `k` largest entries along the last axis (first ones on ties); the rest -> -inf."""
    if k >= x.shape[-1]:
        return x
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    out = np.full_like(x, -np.inf)
    np.put_along_axis(out, idx, np.take_along_axis(x, idx, axis=-1), axis=-1)
    return out


def _parse_thresholds(thresholds, default, owner):
    if thresholds is None:
        return [default], False
    single = isinstance(thresholds, numbers.Real)
    values = [thresholds] if single else list(thresholds)
    if not values or any(not isinstance(v, numbers.Real) or not 0 <= v <= 1 for v in values):
        raise ValueError(f"{type(owner).__name__}: threshold values must be numbers in [0, 1]. "
                         f"Received: thresholds={thresholds!r}")
    return [float(v) for v in values], not single


class _ThresholdCounts(Metric):
    """Shared state of Precision and Recall: tp/fp/fn at each threshold."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.thresholds, self._as_array = _parse_thresholds(
            thresholds, 0.5 if top_k is None else -1e10, self)   # top_k only: kept = positive
        self.init_thresholds = (None if thresholds is None
                                else self.thresholds if self._as_array else self.thresholds[0])
        self.top_k = None if top_k is None else _validate.positive_int(top_k, "top_k", self)
        self.class_id = (None if class_id is None
                         else _validate.non_negative_int(class_id, "class_id", self))
        self._order = np.argsort(self.thresholds, kind="stable")
        self._sorted = np.asarray(self.thresholds, dtype=np.float64)[self._order]
        self._unsort = np.argsort(self._order)
        self.reset_state()

    def reset_state(self):
        n = len(self.thresholds)
        self.true_positives = np.zeros(n)
        self.false_positives = np.zeros(n)
        self.false_negatives = np.zeros(n)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = same_rank(np.asarray(y_true), np.asarray(y_pred))
        w = None if sample_weight is None else np.asarray(sample_weight)
        if w is not None and self.class_id is not None and w.ndim == y_pred.ndim \
                and w.shape[-1] == y_pred.shape[-1] > 1:
            w = w[..., self.class_id]                   # per-class weights: keep the chosen class
        if self.top_k is not None:
            y_pred = _filter_top_k(y_pred, self.top_k)
        if self.class_id is not None:
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
        if w is not None:
            w = sample_weights_like(w, y_pred.shape)
        tp, fp, _, fn = confusion_counts(y_true != 0, y_pred, self._sorted, w)
        self.true_positives += tp[self._unsort]
        self.false_positives += fp[self._unsort]
        self.false_negatives += fn[self._unsort]

    def _result(self, value):
        return value if self._as_array else _float_result(value[0])

    def get_config(self):
        return {"thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id, **super().get_config()}


class Precision(_ThresholdCounts):
    """Weighted `tp / (tp + fp)`: how many predicted positives are real positives.

    Args:
        thresholds: float or list of floats in [0, 1]; a prediction above a threshold is
            positive. Default 0.5 (or "in the top k" when `top_k` is set). A list gives one
            result per threshold.
        top_k: int, count only the `k` largest predictions of each sample as positives.
        class_id: int, restrict the metric to one class (column of the last axis).
        name: string, defaults to `"precision"`.
        dtype: float type of the result.

    Example:
        >>> m = Precision(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()
        0.6666666666666666
    """

    def result(self):
        return self._result(safe_div(self.true_positives,
                                     self.true_positives + self.false_positives))


class Recall(_ThresholdCounts):
    """Weighted `tp / (tp + fn)`: how many real positives are predicted positive.

    Args: as `Precision`; `name` defaults to `"recall"`.

    Example:
        >>> m = Recall(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()
        0.6666666666666666
    """

    def result(self):
        return self._result(safe_div(self.true_positives,
                                     self.true_positives + self.false_negatives))
