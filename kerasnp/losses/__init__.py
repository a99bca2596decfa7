"""Losses: per-sample values, Keras's reductions, and their exact gradients.

User losses are written with `kerasnp.ops`, as in Keras: a function `f(y_true, y_pred)` of
per-sample values (`compile(loss=f)`) or a `Loss` subclass with `call(y_true, y_pred)`; the
gradient tape differentiates them. Built-in losses record one tape node with their hand-written
gradient; `loss_node(loss, y_true, y_pred, sample_weight)` is the engine's entry point.

A loss maps `(y_true, y_pred)` to one value per sample (`call`), reduces them with optional sample
weights (`__call__`), and differentiates that reduced value with respect to `y_pred` (`gradient`).
Cross-entropies also offer `logit_gradient`, the fused derivative through the final softmax or
sigmoid, `(p - t) / N`, which never divides by a probability.

Each class computes in the float dtype of `y_pred` (or in `dtype` when given), so float32 stays
float32. Backward sits right under forward: `_backward(t, p, g)` receives `g`, the derivative of the
reduced loss with respect to each per-sample value, and returns d loss / d y_pred.
"""
from .._registry import resolve
from ._nodes import loss_node
from .base import Loss, registry
from .ctc import CTC, ctc
from .focal import (BinaryFocalCrossentropy, CategoricalFocalCrossentropy,
                    CategoricalGeneralizedCrossEntropy, binary_focal_crossentropy,
                    categorical_focal_crossentropy, categorical_generalized_cross_entropy)
from .margin import (CategoricalHinge, CosineSimilarity, Hinge, SquaredHinge,
                     categorical_hinge, cosine_similarity, hinge, squared_hinge)
from .overlap import Circle, Dice, Tversky, circle, dice, tversky
from .probabilistic import (BinaryCrossentropy, CategoricalCrossentropy, KLDivergence, Poisson,
                            binary_crossentropy, categorical_crossentropy, kl_divergence, kld,
                            kullback_leibler_divergence, poisson)
from .regression import (Huber, LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError,
                         MeanSquaredError, MeanSquaredLogarithmicError, huber, log_cosh, logcosh,
                         mae, mape, mean_absolute_error, mean_absolute_percentage_error,
                         mean_squared_error, mean_squared_logarithmic_error, mse, msle)
from .sparse_crossentropy import SparseCategoricalCrossentropy, sparse_categorical_crossentropy
from .wrapper import LossFunctionWrapper

__all__ = [
    "Loss", "LossFunctionWrapper", "registry", "get", "serialize", "deserialize", "loss_node",
    "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "Huber", "LogCosh", "BinaryCrossentropy",
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "KLDivergence", "Poisson", "Hinge",
    "SquaredHinge", "CategoricalHinge", "CosineSimilarity",
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "huber", "log_cosh", "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence", "poisson",
    "hinge", "squared_hinge", "categorical_hinge", "cosine_similarity",
    "mse", "mae", "mape", "msle", "logcosh", "kld", "kullback_leibler_divergence",
    "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy",
    "CategoricalGeneralizedCrossEntropy", "Circle", "Dice", "Tversky",
    "binary_focal_crossentropy", "categorical_focal_crossentropy",
    "categorical_generalized_cross_entropy", "circle", "dice", "tversky", "CTC", "ctc",
]

_FUNCTIONS = {fn: registry.lookup(fn.__name__) for fn in (
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, huber, log_cosh, binary_crossentropy,
    categorical_crossentropy, sparse_categorical_crossentropy, kl_divergence, poisson, hinge,
    squared_hinge, categorical_hinge, cosine_similarity, binary_focal_crossentropy,
    categorical_focal_crossentropy, categorical_generalized_cross_entropy, circle, dice, tversky, ctc)}

# Saved `LossFunctionWrapper` configs name a function by its import path; keep that path the public
# one, `kerasnp.losses.<name>`, whichever file of this package defines the function.
for _fn in _FUNCTIONS:
    _fn.__module__ = __name__
del _fn


# ----------------------------------------------------------------------------- resolution
def get(identifier):
    """Resolve a loss identifier to a `Loss` instance.

    Args:
        identifier: None, a name (`"mse"`, `"CategoricalCrossentropy"`), a `Loss` instance or
            class, a config dict `{"class_name": ..., "config": {...}}`, or a callable
            `f(y_true, y_pred)` returning per-sample losses (wrapped in `LossFunctionWrapper`).

    Example:
        >>> get("categorical_crossentropy").name
        'categorical_crossentropy'
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, (str, dict)):
        return resolve(identifier, registry)
    if callable(identifier):
        cls = _FUNCTIONS.get(identifier)
        return cls() if cls is not None else LossFunctionWrapper(identifier)
    raise TypeError("Could not interpret loss identifier: expected None, a name, a Loss, a config "
                    f"dict or a callable. Received: identifier={identifier!r}")


def serialize(loss):
    """`{"class_name": ..., "config": ...}` for a built-in loss (the inverse of `deserialize`)."""
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config):
    """Rebuild a loss from `serialize`'s output."""
    return get(config)
