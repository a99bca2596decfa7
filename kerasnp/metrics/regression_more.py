"""`R2Score` and the correlation metrics (`PearsonCorrelation`, `ConcordanceCorrelation`).

R² accumulates per-output sums over all batches (so it is the R² of everything seen, not a mean of
batch R²s); the correlations are computed per sample along `axis` and averaged, as in Keras.
"""
import warnings

import numpy as np

from .. import _validate, config
from .base import Metric, MeanMetricWrapper, _float_result, same_rank

_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


class R2Score(Metric):
    """Coefficient of determination `1 - SS_res / SS_tot` per output, then aggregated.

    Args:
        class_aggregation: how the per-output scores combine: `"uniform_average"` (mean),
            `"variance_weighted_average"` (weighted by each output's total sum of squares) or
            `None` (an array, one score per output).
        num_regressors: int >= 0; when > 0 the adjusted R², `1 - (1 - R²)(n - 1)/(n - p - 1)`,
            with `n` the number of values seen (Keras counts every element of `y_true`).
        name: string, defaults to `"r2_score"`.
        dtype: float type of the result.

    Input shape: `y_true` and `y_pred` of shape `(batch, outputs)` (or `(batch,)`).
    An output whose targets never vary (`SS_tot = 0`) scores 0, as in Keras.

    Example:
        >>> m = R2Score()
        >>> m.update_state([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]]); round(m.result(), 6)
        0.571429
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.class_aggregation = _validate.choice(class_aggregation, "class_aggregation",
                                                  _AGGREGATIONS, self)
        self.num_regressors = _validate.non_negative_int(num_regressors, "num_regressors", self)
        self.reset_state()

    def reset_state(self):
        self.num_samples = 0.0
        self.sum = self.squared_sum = self.total_mse = self.count = None   # per output

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred, dtype=np.float64)
        y_true, y_pred = same_rank(np.asarray(y_true, dtype=np.float64), y_pred)
        if y_pred.ndim == 1:
            y_true, y_pred = y_true[:, None], y_pred[:, None]
        if y_pred.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"R2Score expects y_true and y_pred of the same shape (batch, "
                             f"outputs). Received: y_true.shape={y_true.shape}, "
                             f"y_pred.shape={y_pred.shape}")
        k = y_pred.shape[1]
        if self.sum is None:
            self.sum, self.squared_sum = np.zeros(k), np.zeros(k)
            self.total_mse, self.count = np.zeros(k), np.zeros(k)
        elif self.sum.shape[0] != k:
            raise ValueError(f"R2Score was updated with {self.sum.shape[0]} outputs before; "
                             f"this batch has {k}. Received: y_pred.shape={y_pred.shape}")
        w = np.ones(1) if sample_weight is None else np.asarray(sample_weight, np.float64)
        if w.ndim == 1:
            w = w[:, None]                             # one weight per sample, every output
        w = np.broadcast_to(w, y_true.shape)
        wt = y_true * w
        self.sum += wt.sum(axis=0)
        self.squared_sum += (y_true * wt).sum(axis=0)
        self.total_mse += ((y_true - y_pred) ** 2 * w).sum(axis=0)
        self.count += w.sum(axis=0)
        self.num_samples += y_true.size

    def result(self):
        if self.sum is None:
            return 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum / self.count
            total = self.squared_sum - self.sum * mean
            raw = 1.0 - self.total_mse / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * raw) / np.sum(total)
        else:
            score = raw
        p, n = self.num_regressors, self.num_samples
        if p:
            if p >= n - 1:
                warnings.warn("R2Score: adjusted R² needs more samples than num_regressors + 1 "
                              f"(n={int(n)}, num_regressors={p}); giving the plain R².",
                              stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return _float_result(score) if np.ndim(score) == 0 else np.asarray(score)

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


def _pair(y_true, y_pred):
    y_pred = np.asarray(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(config.floatx())
    return same_rank(np.asarray(y_true, dtype=y_pred.dtype), y_pred)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson's correlation between `y_true` and `y_pred` along `axis`, per sample.

    Example:
        >>> float(pearson_correlation([1.0, 2.0, 3.0], [2.0, 4.0, 7.0]).round(6))
        0.993399
    """
    t, p = _pair(y_true, y_pred)
    t = t - t.mean(axis=axis, keepdims=True)
    p = p - p.mean(axis=axis, keepdims=True)
    t = t / t.std(axis=axis, keepdims=True)
    p = p / p.std(axis=axis, keepdims=True)
    return (t * p).mean(axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation `2·cov / (var_t + var_p + (mean_t - mean_p)²)` along `axis`,
    per sample (population moments; `epsilon` added to the denominator, as in Keras).

    Example:
        >>> float(concordance_correlation([0.0, 1.0, 0.5], [0.1, 0.9, 0.5]).round(5))
        0.97561
    """
    t, p = _pair(y_true, y_pred)
    mt, mp = t.mean(axis=axis, keepdims=True), p.mean(axis=axis, keepdims=True)
    norm = t.var(axis=axis, keepdims=True) + p.var(axis=axis, keepdims=True) + (mt - mp) ** 2
    return (2.0 * (t - mt) * (p - mp) / (norm + config.epsilon())).mean(axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """Mean over samples of Pearson's correlation along `axis`.

    Args:
        name: string, defaults to `"pearson_correlation"`.
        dtype: float type of the result.
        axis: the axis the correlation runs over. Defaults to -1.

    Example:
        >>> m = PearsonCorrelation()
        >>> m.update_state([[1.0, 2.0, 3.0]], [[2.0, 4.0, 7.0]]); round(m.result(), 6)
        0.993399
    """

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        self.axis = _check_axis(axis, self)
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """Mean over samples of Lin's concordance correlation along `axis`.

    Args:
        name: string, defaults to `"concordance_correlation"`.
        dtype: float type of the result.
        axis: the axis the correlation runs over. Defaults to -1.

    Example:
        >>> m = ConcordanceCorrelation()
        >>> m.update_state([[0.0, 1.0, 0.5]], [[0.1, 0.9, 0.5]]); round(m.result(), 5)
        0.97561
    """

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        self.axis = _check_axis(axis, self)
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _check_axis(axis, owner):
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{type(owner).__name__}: argument `axis` must be an int. "
                        f"Received: axis={axis!r}")
    return int(axis)
