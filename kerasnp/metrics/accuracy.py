"""Accuracy metrics: per-sample functions (Keras names) and the stateful classes that average them.

Each function returns float values of the current float type, one per sample (or per element for
`accuracy` and `binary_accuracy`); the classes are `MeanMetricWrapper`s over them.
"""
import numpy as np

from .. import _validate, config
from .base import MeanMetricWrapper, same_rank


def _floats(mask):
    return mask.astype(config.floatx(), copy=False)


def accuracy(y_true, y_pred):
    """Elementwise `y_true == y_pred`, as floats."""
    y_true, y_pred = same_rank(np.asarray(y_true), np.asarray(y_pred))
    return _floats(y_true == y_pred)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Elementwise `y_true == (y_pred > threshold)`, as floats.

    Example:
        >>> binary_accuracy(np.array([[1], [0]]), np.array([[0.7], [0.6]]))[:, 0]
        array([1., 0.], dtype=float32)
    """
    y_true, y_pred = same_rank(np.asarray(y_true), np.asarray(y_pred))
    return _floats(y_true == (y_pred > threshold))


def categorical_accuracy(y_true, y_pred):
    """Per sample, whether the largest prediction is at the one-hot label's position."""
    return _floats(np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1))


def _sparse_labels(y_true, y_pred):
    """Integer labels of shape `(n,)` or `(n, 1)` -> `(n,)` (one rank below `y_pred`)."""
    y_true = np.asarray(y_true)
    if y_true.ndim == (y_pred.ndim if type(y_pred) is np.ndarray else np.ndim(y_pred)) and \
            y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true


def sparse_categorical_accuracy(y_true, y_pred):
    """Per sample, whether the largest prediction is at the integer label."""
    y_true = _sparse_labels(y_true, y_pred)
    return _floats(y_true == np.asarray(y_pred).argmax(axis=-1))


def _in_top_k(labels, y_pred, k):
    # A label is in the top k when fewer than k classes score strictly higher, so ties at the
    # boundary count as hits (TensorFlow's `in_top_k`).
    y_pred = np.asarray(y_pred)
    labels = np.asarray(labels).astype(np.intp, copy=False)
    score = np.take_along_axis(y_pred, labels[..., None], axis=-1)
    higher = np.count_nonzero(y_pred > score, axis=-1)
    return _floats((higher < k) & np.isfinite(score[..., 0]))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Per sample, whether the one-hot label is among the `k` largest predictions."""
    return _in_top_k(np.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """Per sample, whether the integer label is among the `k` largest predictions.

    With `from_sorted_ids=True`, `y_pred` holds class ids sorted by decreasing score.
    """
    y_true = _sparse_labels(y_true, y_pred)
    if from_sorted_ids:
        return _floats(np.any(np.asarray(y_pred)[..., :k] == y_true[..., None], axis=-1))
    return _in_top_k(y_true, y_pred, k)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly (elementwise).

    Example:
        >>> m = Accuracy(); m.update_state([1, 2, 3, 4], [0, 2, 3, 4]); m.result()
        0.75
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often `y_pred > threshold` matches binary labels.

    Args:
        name: string, defaults to `"binary_accuracy"`.
        dtype: float type of the result.
        threshold: float, predictions above it count as 1.

    Example:
        >>> m = BinaryAccuracy(); m.update_state([[1], [0]], [[0.9], [0.8]]); m.result()
        0.5
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        self.threshold = _validate.number(threshold, "threshold", self)
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=self.threshold)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of `y_pred` matches the arg-max of one-hot `y_true`.

    Example:
        >>> m = CategoricalAccuracy()
        >>> m.update_state([[0, 1], [1, 0]], [[0.3, 0.7], [0.1, 0.9]]); m.result()
        0.5
    """

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of `y_pred` equals the integer label (`y_true` of shape `(n,)` or
    `(n, 1)`).

    Example:
        >>> m = SparseCategoricalAccuracy()
        >>> m.update_state([1, 0], [[0.3, 0.7], [0.1, 0.9]]); m.result()
        0.5
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the `k` largest predictions.

    Args:
        k: positive int, how many top predictions count as hits.
        name: string, defaults to `"top_k_categorical_accuracy"`.
        dtype: float type of the result.
    """

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        self.k = _validate.positive_int(k, "k", self)
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=self.k)

    def get_config(self):
        return {**super().get_config(), "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the `k` largest predictions.

    Args:
        k: positive int, how many top predictions count as hits.
        name: string, defaults to `"sparse_top_k_categorical_accuracy"`.
        dtype: float type of the result.
        from_sorted_ids: whether `y_pred` already holds class ids sorted by score.
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        self.k = _validate.positive_int(k, "k", self)
        self.from_sorted_ids = _validate.boolean(from_sorted_ids, "from_sorted_ids", self)
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=self.k,
                         from_sorted_ids=self.from_sorted_ids)

    def get_config(self):
        return {**super().get_config(), "k": self.k, "from_sorted_ids": self.from_sorted_ids}
