"""Regression losses: squared, absolute, percentage, logarithmic, Huber and log-cosh errors."""
import math

import numpy as np

from .. import config
from .. import _validate as validate
from .base import _Builtin, registry

_LOG2 = math.log(2.0)


@registry.register("MeanSquaredError", "mean_squared_error", "mse")
class MeanSquaredError(_Builtin):
    """`mean((y_pred - y_true)**2, axis=-1)`.

    Example:
        >>> MeanSquaredError()([[0., 1.]], [[1., 1.]])
        0.5
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        d = p - t
        return np.mean(d * d, axis=-1)

    def _backward(self, t, p, g):
        return (p - t) * (2.0 / p.shape[-1]) * g[..., None]  # d mean(d²) = 2d/D


@registry.register("MeanAbsoluteError", "mean_absolute_error", "mae")
class MeanAbsoluteError(_Builtin):
    """`mean(abs(y_pred - y_true), axis=-1)`."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        return np.mean(np.abs(p - t), axis=-1)

    def _backward(self, t, p, g):
        return np.sign(p - t) * (g[..., None] / p.shape[-1])


@registry.register("MeanAbsolutePercentageError", "mean_absolute_percentage_error", "mape")
class MeanAbsolutePercentageError(_Builtin):
    """`100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)`."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        return 100.0 * np.mean(np.abs(p - t) / np.maximum(np.abs(t), config.epsilon()), axis=-1)

    def _backward(self, t, p, g):
        den = np.maximum(np.abs(t), config.epsilon())
        return np.sign(p - t) / den * (g[..., None] * (100.0 / p.shape[-1]))


@registry.register("MeanSquaredLogarithmicError", "mean_squared_logarithmic_error", "msle")
class MeanSquaredLogarithmicError(_Builtin):
    """`mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2, axis=-1)`."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        eps = config.epsilon()
        d = np.log1p(np.maximum(p, eps)) - np.log1p(np.maximum(t, eps))
        return np.mean(d * d, axis=-1)

    def _backward(self, t, p, g):
        eps = config.epsilon()
        pc = np.maximum(p, eps)
        d = np.log1p(pc) - np.log1p(np.maximum(t, eps))
        return (2.0 / p.shape[-1]) * d / (pc + 1.0) * (p > eps) * g[..., None]


@registry.register("Huber", "huber")
class Huber(_Builtin):
    """`mean(0.5 e² if |e| <= delta else delta |e| - 0.5 delta², axis=-1)`, `e = y_pred - y_true`.

    Args:
        delta: positive float, where the quadratic part turns linear.
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.delta = validate.number(delta, "delta", self, low=0.0, low_open=True)

    def _forward(self, t, p):
        e = np.abs(p - t)
        dl = self.delta
        return np.mean(np.where(e <= dl, 0.5 * e * e, dl * e - 0.5 * dl * dl), axis=-1)

    def _backward(self, t, p, g):
        return np.clip(p - t, -self.delta, self.delta) * (g[..., None] / p.shape[-1])

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


@registry.register("LogCosh", "log_cosh", "logcosh")
class LogCosh(_Builtin):
    """`mean(log(cosh(y_pred - y_true)), axis=-1)`, computed as `x + softplus(-2x) - log 2`."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        x = p - t
        return np.mean(x + np.logaddexp(0.0, -2.0 * x) - _LOG2, axis=-1)

    def _backward(self, t, p, g):
        return np.tanh(p - t) * (g[..., None] / p.shape[-1])  # d log cosh x = tanh x


def mean_squared_error(y_true, y_pred):
    """Per-sample mean squared error, shape `y_pred.shape[:-1]`."""
    return MeanSquaredError().call(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """Per-sample mean absolute error."""
    return MeanAbsoluteError().call(y_true, y_pred)


def mean_absolute_percentage_error(y_true, y_pred):
    """Per-sample mean absolute percentage error."""
    return MeanAbsolutePercentageError().call(y_true, y_pred)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Per-sample mean squared logarithmic error."""
    return MeanSquaredLogarithmicError().call(y_true, y_pred)


def huber(y_true, y_pred, delta=1.0):
    """Per-sample Huber loss."""
    return Huber(delta=delta).call(y_true, y_pred)


def log_cosh(y_true, y_pred):
    """Per-sample log-cosh loss."""
    return LogCosh().call(y_true, y_pred)


mse, mae, mape, msle = (mean_squared_error, mean_absolute_error,
                        mean_absolute_percentage_error, mean_squared_logarithmic_error)
logcosh = log_cosh
