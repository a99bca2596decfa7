"""Optimizers (Keras 3 names, defaults and formulas) and learning-rate schedules.

`get(identifier)` accepts a name (`"adam"`, `"Adam"`), an `Optimizer` instance, an `Optimizer`
subclass, a config dict `{"class_name": ..., "config": ...}` or None.

Example:
    >>> from kerasnp import optimizers
    >>> opt = optimizers.get("adam")
    >>> opt.learning_rate
    0.001
"""
from kerasnp._registry import resolve, serialize_object
from kerasnp.optimizers import schedules
from kerasnp.optimizers.adafactor import Adafactor
from kerasnp.optimizers.adagrad import Adadelta, Adagrad
from kerasnp.optimizers.adam import Adam, Adamax, AdamW, Nadam
from kerasnp.optimizers.base import NonFiniteUpdateError, Optimizer, registry
from kerasnp.optimizers.ftrl import Ftrl
from kerasnp.optimizers.lion import Lamb, Lion
from kerasnp.optimizers.multi import MultiOptimizer
from kerasnp.optimizers.muon import Muon
from kerasnp.optimizers.optimizer_map import OptimizerMap
from kerasnp.optimizers.rmsprop import RMSprop
from kerasnp.optimizers.schedule_free import ScheduleFreeAdamW
from kerasnp.optimizers.schedules import LearningRateSchedule
from kerasnp.optimizers.sgd import SGD

__all__ = ["Optimizer", "NonFiniteUpdateError", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad",
           "Adadelta", "Adamax", "Nadam", "Lion", "Lamb", "Ftrl", "Adafactor",
           "ScheduleFreeAdamW", "Muon", "MultiOptimizer", "OptimizerMap", "LearningRateSchedule",
           "schedules", "registry", "get", "serialize", "deserialize"]


def serialize(optimizer):
    """Return `{"class_name": ..., "config": ...}` for an optimizer."""
    return serialize_object(optimizer, Optimizer, "optimizer")


def deserialize(config):
    """Build an optimizer from `{"class_name": ..., "config": ...}`."""
    if not isinstance(config, dict):
        raise TypeError(f"deserialize() expects a config dict with 'class_name' and 'config'. "
                        f"Received: config={config!r}")
    return resolve(config, registry)


def get(identifier):
    """Return an optimizer: a new instance with defaults for a name, the instance itself, a new
    instance of a class or from a config dict; None gives None."""
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if identifier is None or isinstance(identifier, (str, dict, Optimizer)):
        return resolve(identifier, registry)
    raise TypeError(f"Could not interpret optimizer identifier: expected a name "
                    f"({', '.join(sorted(k for k in registry if k.islower()))}), an Optimizer "
                    f"instance or a config dict. Received: identifier={identifier!r}")
