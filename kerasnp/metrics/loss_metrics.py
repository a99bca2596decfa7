"""Metrics that average a loss function per sample (Keras's hinge, probabilistic and regression
metrics), and the cosine similarity.

Each class is a `MeanMetricWrapper` over the loss function of `kerasnp.losses` of the same name
(rank-1 targets count one value per sample, see `reduction.per_sample`), so a metric and its loss
always agree; `sample_weight` weighs samples as in `Mean`.
"""
import numpy as np

from .. import _validate, losses
from .base import MeanMetricWrapper, same_rank
from .reduction import per_sample

hinge = losses.hinge
squared_hinge = losses.squared_hinge
categorical_hinge = losses.categorical_hinge
kl_divergence = losses.kl_divergence
poisson = losses.poisson
log_cosh = losses.log_cosh
huber = losses.huber
mean_absolute_percentage_error = losses.mean_absolute_percentage_error
mean_squared_logarithmic_error = losses.mean_squared_logarithmic_error
binary_crossentropy = losses.binary_crossentropy
categorical_crossentropy = losses.categorical_crossentropy
sparse_categorical_crossentropy = losses.sparse_categorical_crossentropy


class _LossMetric(MeanMetricWrapper):
    """A `MeanMetricWrapper` of a fixed loss function whose config is its own arguments."""

    fn = None           # the loss function, set by each subclass
    _args = ()          # names of the constructor arguments passed on to `fn`

    def __init__(self, name=None, dtype=None, **kwargs):
        super().__init__(per_sample(type(self).fn), name=name, dtype=dtype, **kwargs)

    def get_config(self):
        return {**super().get_config(), **{a: self._fn_kwargs[a] for a in self._args}}


class MeanAbsolutePercentageError(_LossMetric):
    """Mean of `100 * |y_true - y_pred| / max(|y_true|, epsilon)` over all samples seen.

    Example:
        >>> m = MeanAbsolutePercentageError()
        >>> m.update_state([[1.0], [2.0]], [[1.5], [2.0]]); m.result()
        25.0
    """

    fn = staticmethod(mean_absolute_percentage_error)

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class MeanSquaredLogarithmicError(_LossMetric):
    """Mean of `(log(1 + y_pred) - log(1 + y_true))²` (both clipped at 0) over all samples.

    Example:
        >>> m = MeanSquaredLogarithmicError()
        >>> round(m([[0.0]], [[np.e - 1.0]]), 6)
        1.0
    """

    fn = staticmethod(mean_squared_logarithmic_error)

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(name=name, dtype=dtype)


class LogCoshError(_LossMetric):
    """Mean of `log(cosh(y_pred - y_true))` over all samples seen (Keras's name: `"logcosh"`).

    Example:
        >>> m = LogCoshError()
        >>> round(m([[0.0]], [[1.0]]), 6)
        0.433781
    """

    fn = staticmethod(log_cosh)

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(name=name, dtype=dtype)


class Hinge(_LossMetric):
    """Mean hinge loss `mean(max(1 - y_true * y_pred, 0))`; labels -1/1 (0/1 are converted).

    Example:
        >>> m = Hinge()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]]); m.result()
        1.3
    """

    fn = staticmethod(hinge)

    def __init__(self, name="hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class SquaredHinge(_LossMetric):
    """Mean squared hinge loss `mean(max(1 - y_true * y_pred, 0)²)`.

    Example:
        >>> m = SquaredHinge()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]]); round(m.result(), 6)
        1.86
    """

    fn = staticmethod(squared_hinge)

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class CategoricalHinge(_LossMetric):
    """Mean of `max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)` (one-hot labels).

    Example:
        >>> m = CategoricalHinge()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]]); m.result()
        1.4
    """

    fn = staticmethod(categorical_hinge)

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class KLDivergence(_LossMetric):
    """Mean Kullback-Leibler divergence `sum(y_true * log(y_true / y_pred))` (both clipped to
    [epsilon, 1]).

    Example:
        >>> m = KLDivergence()
        >>> round(m([[0.5, 0.5]], [[0.25, 0.75]]), 6)
        0.143841
    """

    fn = staticmethod(kl_divergence)

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(name=name, dtype=dtype)


class Poisson(_LossMetric):
    """Mean Poisson loss `mean(y_pred - y_true * log(y_pred + epsilon))`.

    Example:
        >>> m = Poisson()
        >>> round(m([[1.0]], [[np.e]]), 6)
        1.718282
    """

    fn = staticmethod(poisson)

    def __init__(self, name="poisson", dtype=None):
        super().__init__(name=name, dtype=dtype)


class BinaryCrossentropy(_LossMetric):
    """Mean binary cross-entropy of 0/1 labels and probabilities (or logits).

    Args:
        name: string, defaults to `"binary_crossentropy"`.
        dtype: float type of the result.
        from_logits: whether `y_pred` holds logits rather than probabilities.
        label_smoothing: float in [0, 1]; labels become `y * (1 - s) + 0.5 * s`.

    Example:
        >>> m = BinaryCrossentropy()
        >>> round(m([[1.0], [0.0]], [[0.8], [0.4]]), 6)
        0.366985
    """

    fn = staticmethod(binary_crossentropy)
    _args = ("from_logits", "label_smoothing")

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        self.from_logits = _validate.boolean(from_logits, "from_logits", self)
        self.label_smoothing = _validate.number(label_smoothing, "label_smoothing", self,
                                                0.0, 1.0)
        super().__init__(name=name, dtype=dtype, from_logits=self.from_logits,
                         label_smoothing=self.label_smoothing)


class CategoricalCrossentropy(_LossMetric):
    """Mean categorical cross-entropy of one-hot labels and probabilities (or logits).

    Args:
        name: string, defaults to `"categorical_crossentropy"`.
        dtype: float type of the result.
        from_logits: whether `y_pred` holds logits.
        label_smoothing: float in [0, 1].
        axis: the class axis. Defaults to -1.

    Example:
        >>> m = CategoricalCrossentropy()
        >>> round(m([[0.0, 1.0]], [[0.5, 0.5]]), 6)
        0.693147
    """

    fn = staticmethod(categorical_crossentropy)
    _args = ("from_logits", "label_smoothing", "axis")

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        self.from_logits = _validate.boolean(from_logits, "from_logits", self)
        self.label_smoothing = _validate.number(label_smoothing, "label_smoothing", self,
                                                0.0, 1.0)
        self.axis = _axis(axis, self)
        super().__init__(name=name, dtype=dtype, from_logits=self.from_logits,
                         label_smoothing=self.label_smoothing, axis=self.axis)


class SparseCategoricalCrossentropy(_LossMetric):
    """Mean categorical cross-entropy of integer labels and probabilities (or logits).

    Args:
        name: string, defaults to `"sparse_categorical_crossentropy"`.
        dtype: float type of the result.
        from_logits: whether `y_pred` holds logits.
        ignore_class: optional label whose samples give 0 (segmentation's "void" class).
        axis: the class axis. Defaults to -1.

    Example:
        >>> m = SparseCategoricalCrossentropy()
        >>> round(m([1], [[0.5, 0.5]]), 6)
        0.693147
    """

    fn = staticmethod(sparse_categorical_crossentropy)
    _args = ("from_logits", "ignore_class", "axis")

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        self.from_logits = _validate.boolean(from_logits, "from_logits", self)
        self.ignore_class = None if ignore_class is None else _int(ignore_class,
                                                                   "ignore_class", self)
        self.axis = _axis(axis, self)
        super().__init__(name=name, dtype=dtype, from_logits=self.from_logits,
                         ignore_class=self.ignore_class, axis=self.axis)


def _int(value, arg, owner):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{type(owner).__name__}: argument `{arg}` must be an int. "
                        f"Received: {arg}={value!r}")
    return int(value)


def _axis(axis, owner):
    return _int(axis, "axis", owner)


def _l2_normalize(x, axis):
    norm = np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
    return x / np.where(norm == 0, 1.0, norm)     # zero vectors stay zero (similarity 0)


def _cosine_similarity(y_true, y_pred, axis=-1):
    """Per sample, the cosine of the angle between `y_true` and `y_pred` along `axis`."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true, dtype=y_pred.dtype if y_pred.dtype.kind == "f" else None)
    y_true, y_pred = same_rank(y_true, y_pred)
    return np.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between labels and predictions along `axis` (1: same direction,
    0: orthogonal, -1: opposite). Unlike the loss of the same name, it is not negated.

    Args:
        name: string, defaults to `"cosine_similarity"`.
        dtype: float type of the result.
        axis: the axis the vectors lie along. Defaults to -1.

    Example:
        >>> m = CosineSimilarity()
        >>> m.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]); round(m.result(), 6)
        0.5
    """

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        self.axis = _axis(axis, self)
        super().__init__(_cosine_similarity, name=name, dtype=dtype, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
