"""Intersection-over-union metrics for segmentation and classification: `IoU`, `MeanIoU`,
`BinaryIoU`, `OneHotIoU`, `OneHotMeanIoU`.

All accumulate one weighted confusion matrix (rows: true class, columns: predicted class) over the
batches with a single `bincount`; per class, `IoU = tp / (tp + fp + fn)`, averaged over the target
classes that occurred (classes never seen nor predicted are left out of the mean), as in Keras.
Unlike Keras, whose IoU state defaults to integers, weights are summed as floats, so fractional
`sample_weight`s are not truncated.
"""
import numbers

import numpy as np

from .. import _validate, config
from .base import Metric, _float_result, sample_weights_like


class IoU(Metric):
    """Mean IoU over the classes in `target_class_ids`.

    Args:
        num_classes: positive int, the number of classes (labels are 0 to `num_classes - 1`;
            others are ignored).
        target_class_ids: list of class ids whose IoUs are averaged.
        name: string, defaults to `"io_u"`.
        dtype: float type of the result.
        ignore_class: optional class id whose samples are left out.
        sparse_y_true: whether `y_true` holds class ids (else one-hot/scores: arg-max on `axis`).
        sparse_y_pred: whether `y_pred` holds class ids (else scores: arg-max on `axis`).
        axis: the class axis of non-sparse inputs. Defaults to -1.

    Example:
        >>> m = IoU(num_classes=2, target_class_ids=[0])
        >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1]); round(m.result(), 6)
        0.333333
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype)
        self.num_classes = _validate.positive_int(num_classes, "num_classes", self)
        ids = list(target_class_ids) if isinstance(target_class_ids, (list, tuple, range)) \
            else [target_class_ids]
        if not ids or any(isinstance(i, bool) or not isinstance(i, numbers.Integral)
                          or not 0 <= i < self.num_classes for i in ids):
            raise ValueError(f"{type(self).__name__}: argument `target_class_ids` must be a "
                             f"non-empty list of class ids in [0, {self.num_classes}). "
                             f"Received: target_class_ids={target_class_ids!r}")
        self.target_class_ids = [int(i) for i in ids]
        if ignore_class is not None and (isinstance(ignore_class, bool)
                                         or not isinstance(ignore_class, numbers.Integral)):
            raise TypeError(f"{type(self).__name__}: argument `ignore_class` must be an int or "
                            f"None. Received: ignore_class={ignore_class!r}")
        self.ignore_class = None if ignore_class is None else int(ignore_class)
        self.sparse_y_true = _validate.boolean(sparse_y_true, "sparse_y_true", self)
        self.sparse_y_pred = _validate.boolean(sparse_y_pred, "sparse_y_pred", self)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"{type(self).__name__}: argument `axis` must be an int. "
                            f"Received: axis={axis!r}")
        self.axis = int(axis)
        self.reset_state()

    def reset_state(self):
        self.total_cm = np.zeros((self.num_classes, self.num_classes))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if not self.sparse_y_true:
            y_true = np.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(y_pred, axis=self.axis)
        t = y_true.reshape(-1).astype(np.int64)         # Keras casts labels to ints (truncates)
        p = y_pred.reshape(-1).astype(np.int64)
        if t.shape != p.shape:
            raise ValueError(f"{type(self).__name__}: y_true and y_pred must hold as many class "
                             f"ids. Received: {t.size} and {p.size}")
        # Per-sample weights (or one per element) spread over each sample's elements.
        w = np.ones(t.shape) if sample_weight is None else sample_weights_like(
            np.asarray(sample_weight, dtype=np.float64), y_true.shape).reshape(-1)
        n = self.num_classes
        keep = (t >= 0) & (t < n) & (p >= 0) & (p < n)
        if self.ignore_class is not None:
            keep &= t != self.ignore_class
        cm = np.bincount(t[keep] * n + p[keep], weights=w[keep], minlength=n * n)
        self.total_cm += cm.reshape(n, n)

    def result(self):
        cm = self.total_cm
        tp = np.diag(cm)
        denominator = (cm.sum(axis=0) + cm.sum(axis=1) - tp)[self.target_class_ids]
        tp = tp[self.target_class_ids]
        valid = denominator > 1e-9
        eps = config.epsilon()
        iou = np.where(valid, tp / (denominator + eps), 0.0)
        return _float_result(iou.sum() / (valid.sum() + eps))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of a binary task: predictions `>= threshold` are class 1, others class 0.

    Args:
        target_class_ids: which of the classes 0 and 1 to average. Defaults to `(0, 1)`.
        threshold: float; a prediction at or above it is class 1. Defaults to 0.5.
        name: string, defaults to `"binary_io_u"`.
        dtype: float type of the result.

    Example:
        >>> m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
        >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7]); round(m.result(), 6)
        0.333333
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name,
                         dtype=dtype)
        self.threshold = _validate.number(threshold, "threshold", self)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = (np.asarray(y_pred) >= self.threshold).astype(np.int64)
        super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """IoU averaged over all `num_classes` classes (Keras's semantic-segmentation metric).

    Args: as `IoU`, without `target_class_ids`; `name` defaults to `"mean_io_u"`.

    Example:
        >>> m = MeanIoU(num_classes=2)
        >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1]); round(m.result(), 6)
        0.333333
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        n = _validate.positive_int(num_classes, "num_classes", self)
        super().__init__(num_classes=n, target_class_ids=list(range(n)), name=name,
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """`IoU` for one-hot `y_true` (and scores in `y_pred` unless `sparse_y_pred=True`).

    Args: as `IoU`, without `sparse_y_true`; `sparse_y_pred` defaults to False.

    Example:
        >>> m = OneHotIoU(num_classes=3, target_class_ids=[0, 2])
        >>> m.update_state([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]],
        ...                [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1],
        ...                 [0.1, 0.4, 0.5]], sample_weight=[0.1, 0.2, 0.3, 0.4])
        >>> round(m.result(), 4)    # class 0: 0 / 0.9, class 2: 0.1 / 0.7
        0.0714
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, target_class_ids=target_class_ids, name=name,
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """`MeanIoU` for one-hot `y_true` (and scores in `y_pred` unless `sparse_y_pred=True`).

    Args: as `MeanIoU`, without `sparse_y_true`; `sparse_y_pred` defaults to False.

    Example:
        >>> m = OneHotMeanIoU(num_classes=2)
        >>> m.update_state([[1, 0], [0, 1]], [[0.8, 0.2], [0.4, 0.6]]); round(m.result(), 6)
        1.0
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config
