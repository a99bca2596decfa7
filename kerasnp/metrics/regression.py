"""Regression metrics: mean squared / absolute error and their root.

Per-sample errors average over the last axis. Rank-1 targets are one value per sample (Keras would
average a rank-1 batch into a single number, which weights short batches wrongly).
"""
import numpy as np

from .base import Mean, MeanMetricWrapper, same_rank


def _diff(y_true, y_pred):
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    if y_true.dtype != y_pred.dtype and y_pred.dtype.kind == "f":
        y_true = y_true.astype(y_pred.dtype)
    y_true, y_pred = same_rank(y_true, y_pred)
    return y_pred - y_true


def mean_squared_error(y_true, y_pred):
    """Per sample, `mean((y_true - y_pred) ** 2)` over the last axis."""
    d = _diff(y_true, y_pred)
    d = np.square(d, out=d)
    return d.mean(axis=-1) if d.ndim > 1 else d


def mean_absolute_error(y_true, y_pred):
    """Per sample, `mean(|y_true - y_pred|)` over the last axis."""
    d = _diff(y_true, y_pred)
    d = np.abs(d, out=d)
    return d.mean(axis=-1) if d.ndim > 1 else d


class MeanSquaredError(MeanMetricWrapper):
    """Mean of the squared errors over all samples seen.

    Example:
        >>> m = MeanSquaredError(); m.update_state([[0.0], [1.0]], [[1.0], [1.0]]); m.result()
        0.5
    """

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of the absolute errors over all samples seen.

    Example:
        >>> m = MeanAbsoluteError(); m.update_state([[0.0], [1.0]], [[2.0], [1.0]]); m.result()
        1.0
    """

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """Square root of the mean squared error over all samples seen (not a mean of batch roots).

    Example:
        >>> m = RootMeanSquaredError(); m.update_state([[0.0], [0.0]], [[3.0], [4.0]]); m.result()
        3.5355339059327378
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        d = _diff(y_true, y_pred)
        super().update_state(np.square(d, out=d), sample_weight=sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))
