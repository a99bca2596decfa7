"""Area under the ROC or precision-recall curve, from confusion counts at fixed thresholds.

Predictions are bucketed once per batch (see `confusion.confusion_counts`), so the cost per batch is
one `searchsorted` and one `bincount`, whatever the number of thresholds. The area is a Riemann sum
over the curve points; for PR curves the default "interpolation" integrates precision exactly
along the straight line in (tp, tp + fp) space between neighbouring thresholds (Davis & Goadrich,
2006), which avoids the optimism of interpolating precision linearly.
"""
import numpy as np

from .. import _validate, config
from .base import Metric, safe_div, same_rank, sample_weights_like
from .confusion import confusion_counts

_CURVES = ("ROC", "PR")
_SUMMATIONS = ("interpolation", "minoring", "majoring")


class AUC(Metric):
    """Approximate area under the ROC or PR curve.

    Args:
        num_thresholds: int > 1; thresholds are evenly spaced in [0, 1], plus one just below 0
            and one just above 1 so that predictions of exactly 0 or 1 are counted.
        curve: `"ROC"` or `"PR"` (case-insensitive).
        summation_method: `"interpolation"` (trapezoids; the exact PR interpolation for PR),
            `"minoring"` (left lower sums) or `"majoring"` (upper sums).
        name: string, defaults to `"auc"`.
        dtype: float type of the result.
        thresholds: optional list of floats in [0, 1] used instead of `num_thresholds`.
        multi_label: treat the last axis as independent labels, compute one AUC per label and
            average them; otherwise all entries are pooled into one curve.
        num_labels: number of labels when `multi_label` (otherwise read from the first batch).
        label_weights: per-label weights: of the average when `multi_label`, otherwise of the
            counts.
        from_logits: apply a sigmoid to `y_pred` first.

    Example:
        >>> m = AUC(num_thresholds=3)
        >>> m.update_state([0, 0, 1, 1], [0.0, 0.5, 0.3, 0.9]); m.result()
        0.75
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        super().__init__(name=name, dtype=dtype)
        self.curve = _validate.choice(str(curve).upper(), "curve", _CURVES, self)
        self.summation_method = _validate.choice(str(summation_method).lower(),
                                                 "summation_method", _SUMMATIONS, self)
        self.multi_label = _validate.boolean(multi_label, "multi_label", self)
        self.from_logits = _validate.boolean(from_logits, "from_logits", self)
        if thresholds is not None:
            values = sorted(_validate.number(v, "thresholds", self, 0.0, 1.0) for v in thresholds)
            num_thresholds = len(values) + 2
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) \
                    or num_thresholds <= 1:
                raise ValueError(f"AUC: argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds!r}")
            values = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.num_thresholds = num_thresholds
        self._init_from_thresholds = thresholds is not None
        eps = config.epsilon()
        self.thresholds = np.array([0.0 - eps] + values + [1.0 + eps])
        self.label_weights = None if label_weights is None else np.asarray(label_weights, float)
        self.num_labels = (None if num_labels is None
                           else _validate.positive_int(num_labels, "num_labels", self))
        self.reset_state()

    def reset_state(self):
        shape = (self.num_thresholds,)
        if self.multi_label:
            shape = shape + (self.num_labels or 0,)
        self.true_positives = np.zeros(shape)
        self.false_positives = np.zeros(shape)
        self.true_negatives = np.zeros(shape)
        self.false_negatives = np.zeros(shape)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = same_rank(np.asarray(y_true), np.asarray(y_pred))
        if self.from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-y_pred))
        if self.multi_label:
            if y_pred.ndim != 2:
                raise ValueError(f"AUC(multi_label=True) expects y_pred of shape (batch, labels). "
                                 f"Received: y_pred.shape={y_pred.shape}")
            if self.num_labels is None or self.true_positives.shape[1] == 0:
                self.num_labels = y_pred.shape[1]
                self.reset_state()
        w = None if sample_weight is None else sample_weights_like(sample_weight, y_pred.shape)
        if self.label_weights is not None and not self.multi_label:
            w = self.label_weights if w is None else w * self.label_weights
        tp, fp, tn, fn = confusion_counts(y_true != 0, y_pred, self.thresholds, w,
                                          per_label=self.multi_label)
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += tn
        self.false_negatives += fn

    def _pr_interpolation(self):
        # Between thresholds i+1 and i, tp grows linearly with p = tp + fp (slope s, intercept c),
        # so precision = s + c / p and d(recall) = s dp / P: integrate analytically.
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        p = tp + fp
        dtp = tp[:-1] - tp[1:]
        dp = p[:-1] - p[1:]
        slope = safe_div(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, safe_div(p[:-1], np.maximum(p[1:], 0)), 1.0)
        log_ratio = np.log(np.where(ratio > 0, ratio, 1.0))
        area = safe_div(slope * (dtp + intercept * log_ratio), np.maximum(tp[1:] + fn[1:], 0))
        return area.sum(axis=0)

    def result(self):
        tp, fp, tn, fn = (self.true_positives, self.false_positives, self.true_negatives,
                          self.false_negatives)
        if self.curve == "PR" and self.summation_method == "interpolation":
            areas = self._pr_interpolation()
        else:
            recall = safe_div(tp, tp + fn)
            if self.curve == "ROC":
                x, y = safe_div(fp, fp + tn), recall
            else:
                x, y = recall, safe_div(tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[:-1] + y[1:]) / 2.0
            elif self.summation_method == "minoring":
                heights = np.minimum(y[:-1], y[1:])
            else:
                heights = np.maximum(y[:-1], y[1:])
            areas = ((x[:-1] - x[1:]) * heights).sum(axis=0)   # thresholds ascend: x descends
        if not self.multi_label:
            return float(areas)
        if areas.size == 0:
            return 0.0
        if self.label_weights is None:
            return float(areas.mean())
        return float(safe_div((areas * self.label_weights).sum(), self.label_weights.sum()))

    def get_config(self):
        return {"num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, **super().get_config(),
                "thresholds": (self.thresholds[1:-1].tolist() if self._init_from_thresholds
                               else None),
                "multi_label": self.multi_label, "num_labels": self.num_labels,
                "label_weights": (None if self.label_weights is None
                                  else self.label_weights.tolist()),
                "from_logits": self.from_logits}
