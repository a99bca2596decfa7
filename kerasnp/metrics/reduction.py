"""`Sum`, and the helper that turns a Keras loss function into a per-sample metric function.

Keras's metric classes over losses (`Hinge`, `KLDivergence`, `Poisson`, the cross-entropies, ...)
are `MeanMetricWrapper`s of the loss functions themselves, so each metric here wraps the function of
`kerasnp.losses` with the same name: the two always agree.
"""
import functools

import numpy as np

from .base import Metric, same_rank


def per_sample(loss_fn):
    """`loss_fn` with rank-1 targets read as one value per sample.

    A Keras loss function averages over the last axis, so a rank-1 batch `(n,)` would give one
    number per batch and short batches would weigh as much as full ones. Rank-1 `y_pred` gains a
    unit axis first (as `MeanSquaredError` does here), so each sample counts once.
    """
    @functools.wraps(loss_fn)
    def fn(y_true, y_pred, **kwargs):
        y_pred = np.asarray(y_pred)
        if y_pred.ndim == 1:
            y_true = np.asarray(y_true)
            y_true, y_pred = (y_true[:, None] if y_true.ndim == 1 else y_true), y_pred[:, None]
        return loss_fn(y_true, y_pred, **kwargs)
    return fn


class Sum(Metric):
    """The (weighted) sum of all the values seen since the last reset.

    Args:
        name: string, defaults to `"sum"`.
        dtype: float type of the result.

    Example:
        >>> m = Sum()
        >>> m.update_state([1.0, 3.0, 5.0, 7.0])
        >>> m.result()
        16.0
        >>> m.update_state([1.0, 2.0], sample_weight=[3.0, 0.0])
        >>> m.result()
        19.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        v = np.asarray(values, dtype=np.float64)
        if sample_weight is None:
            self.total += float(v.sum())
            return
        w = np.asarray(sample_weight, dtype=np.float64)
        v, w = same_rank(v, w)
        if w.ndim < v.ndim and w.ndim > 0:      # weights name samples: weigh whole rows
            w = w.reshape(w.shape + (1,) * (v.ndim - w.ndim))
        self.total += float((v * w).sum())

    def result(self):
        return self.total

    def reset_state(self):
        self.total = 0.0
