"""Metrics: stateful objects that average a quality measure over all batches of an epoch.

User metrics subclass `Metric` as in Keras (`add_variable`, `update_state` with ops and
`assign_add`, `result`, `reset_state`), or are plain functions `f(y_true, y_pred)` of ops giving
per-sample values (wrapped in a `MeanMetricWrapper` by `get`).

`get(identifier, loss=None, output_shape=None)` resolves what `compile(metrics=[...])` receives:
a name, a `Metric` (class or instance), a config dict, or a plain `f(y_true, y_pred)` callable.
`"accuracy"` / `"acc"` pick the accuracy that fits the loss (or, failing that, the output shape).
"""
import inspect

from .._registry import Registry, resolve, snake_case
from .accuracy import (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                       SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, accuracy,
                       binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                       sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from .auc import AUC
from .base import Mean, MeanMetricWrapper, Metric
from .confusion import Precision, Recall
from .f_score import F1Score, FBetaScore
from .regression import (MeanAbsoluteError, MeanSquaredError, RootMeanSquaredError,
                         mean_absolute_error, mean_squared_error)
from .confusion_more import (FalseNegatives, FalsePositives, PrecisionAtRecall,
                             RecallAtPrecision, SensitivityAtSpecificity,
                             SpecificityAtSensitivity, TrueNegatives, TruePositives)
from .iou import IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from .loss_metrics import (BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge,
                           CosineSimilarity, Hinge, KLDivergence, LogCoshError,
                           MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Poisson,
                           SparseCategoricalCrossentropy, SquaredHinge, binary_crossentropy,
                           categorical_crossentropy, categorical_hinge, hinge, huber,
                           kl_divergence, log_cosh, mean_absolute_percentage_error,
                           mean_squared_logarithmic_error, poisson,
                           sparse_categorical_crossentropy, squared_hinge)
from .reduction import Sum
from ..losses import binary_focal_crossentropy, categorical_focal_crossentropy
from .regression_more import (ConcordanceCorrelation, PearsonCorrelation, R2Score,
                              concordance_correlation, pearson_correlation)

__all__ = [
    "Metric", "Mean", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
    "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
    "MeanSquaredError", "MeanAbsoluteError", "RootMeanSquaredError", "Precision", "Recall", "AUC",
    "FBetaScore", "F1Score", "binary_accuracy", "categorical_accuracy",
    "sparse_categorical_accuracy", "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy", "mean_squared_error", "mean_absolute_error", "get",
    "serialize", "deserialize",
    "Sum", "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives",
    "PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity",
    "SpecificityAtSensitivity", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
    "LogCoshError", "CosineSimilarity", "R2Score", "PearsonCorrelation",
    "ConcordanceCorrelation", "Hinge", "SquaredHinge", "CategoricalHinge", "KLDivergence",
    "Poisson", "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "IoU", "BinaryIoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU",
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "hinge", "squared_hinge", "categorical_hinge", "kl_divergence", "poisson", "log_cosh",
    "huber", "mean_absolute_percentage_error", "mean_squared_logarithmic_error",
    "pearson_correlation", "concordance_correlation",
    "binary_focal_crossentropy", "categorical_focal_crossentropy",
]

METRICS = Registry("metric")
for _cls in (Mean, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
             SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
             MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError, Precision, Recall, AUC,
             F1Score, Sum, TruePositives, FalsePositives, TrueNegatives, FalseNegatives,
             PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity,
             SpecificityAtSensitivity, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
             LogCoshError, CosineSimilarity, R2Score, PearsonCorrelation, ConcordanceCorrelation,
             Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson, BinaryCrossentropy,
             CategoricalCrossentropy, SparseCategoricalCrossentropy, IoU, BinaryIoU, MeanIoU,
             OneHotIoU, OneHotMeanIoU):
    METRICS[snake_case(_cls.__name__)] = _cls
# Keras's extra string names (lookups also try the lower-cased name, so "MAPE" works too).
METRICS.update({"fbeta_score": FBetaScore, "FBetaScore": FBetaScore, "mse": MeanSquaredError,
                "mae": MeanAbsoluteError, "rmse": RootMeanSquaredError,
                "mape": MeanAbsolutePercentageError, "msle": MeanSquaredLogarithmicError,
                "bce": BinaryCrossentropy})

# Per-sample functions by name, for `MeanMetricWrapper` configs.
FUNCTIONS = {f.__name__: f for f in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, mean_squared_error,
    mean_absolute_error, binary_crossentropy, categorical_crossentropy,
    sparse_categorical_crossentropy, hinge, squared_hinge, categorical_hinge, kl_divergence,
    poisson, log_cosh, huber, mean_absolute_percentage_error, mean_squared_logarithmic_error,
    pearson_correlation, concordance_correlation, binary_focal_crossentropy,
    categorical_focal_crossentropy)}

# Which accuracy a loss implies (loss names as Keras spells them, and their short aliases).
_ACCURACY_BY_LOSS = {
    "binary_crossentropy": BinaryAccuracy, "bce": BinaryAccuracy,
    "binary_focal_crossentropy": BinaryAccuracy,
    "categorical_crossentropy": CategoricalAccuracy, "cce": CategoricalAccuracy,
    "categorical_focal_crossentropy": CategoricalAccuracy,
    "sparse_categorical_crossentropy": SparseCategoricalAccuracy,
}


def _accuracy_for_loss(loss):
    names = [loss] if isinstance(loss, str) else [getattr(loss, "name", None),
                                                  getattr(loss, "__name__", None),
                                                  type(loss).__name__]
    for name in names:
        if isinstance(name, str):
            for key in (name, name.lower(), snake_case(name)):
                if key in _ACCURACY_BY_LOSS:
                    return _ACCURACY_BY_LOSS[key]
    return None


def _resolve_accuracy(loss, output_shape):
    cls = None if loss is None else _accuracy_for_loss(loss)
    if cls is None:
        last = output_shape[-1] if output_shape else None
        cls = BinaryAccuracy if last == 1 else CategoricalAccuracy
    return cls


def get(identifier, loss=None, output_shape=None):
    """Resolve a metric identifier into a `Metric` instance.

    Args:
        identifier: `None`; a name (`"accuracy"`, `"mae"`, `"auc"`, `"F1Score"`, ...); a
            `Metric` instance (returned as is) or class (instantiated); a config dict
            `{"class_name": ..., "config": {...}}`; or a callable `f(y_true, y_pred)` returning
            per-sample values (wrapped in a `MeanMetricWrapper` named after it).
        loss: the compiled loss (name, instance or function). `"accuracy"`/`"acc"` become
            BinaryAccuracy for binary cross-entropy, CategoricalAccuracy for categorical
            cross-entropy, SparseCategoricalAccuracy for sparse categorical cross-entropy.
        output_shape: the model output's shape; with no telling loss, a last axis of 1 means
            BinaryAccuracy, anything else CategoricalAccuracy.

    Returns:
        A `Metric`, or None for None. A metric made from a string is named by that exact string
        (`"acc"` logs as `acc`, `"mse"` as `mse`), as in Keras.

    Raises:
        ValueError: unknown name (listing the valid ones). TypeError: uninterpretable object.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        return _resolve_accuracy(loss, output_shape)(name=identifier)
    if isinstance(identifier, (str, dict)):
        metric = resolve(identifier, METRICS)
        if isinstance(identifier, str):
            metric.name = identifier
        return metric
    if isinstance(identifier, Metric):
        return identifier
    if inspect.isclass(identifier) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        name = getattr(identifier, "name", None)
        if not isinstance(name, str):
            name = snake_case(getattr(identifier, "__name__", None) or type(identifier).__name__)
        return MeanMetricWrapper(identifier, name=name)
    raise TypeError(f"Could not interpret metric identifier: expected a name, a Metric, a config "
                    f"dict or a callable. Received: identifier={identifier!r}")


def serialize(metric):
    """A metric as a config dict `{"class_name": ..., "config": {...}}`."""
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config):
    """The inverse of `serialize`."""
    return get(config)
