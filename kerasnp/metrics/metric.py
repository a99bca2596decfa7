"""`Metric`: the stateful metric contract, as in Keras.

A metric accumulates over the batches seen since `reset_state()`: `update_state(y_true, y_pred,
sample_weight=None)` adds one batch, `result()` gives the value. User metrics keep their state in
variables made by `add_variable` and update them with ops and `assign` / `assign_add`:

    class CategoricalTruePositives(keras.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), initializer="zeros", name="ctp")

        def update_state(self, y_true, y_pred, sample_weight=None):
            hits = ops.cast(ops.argmax(y_pred, axis=1) == ops.reshape(y_true, (-1,)), "float32")
            if sample_weight is not None:
                hits = hits * sample_weight
            self.true_positives.assign_add(ops.sum(hits))

        def result(self):
            return self.true_positives

Metrics are never differentiated: `update_state` runs with the gradient tape paused (tracked
tensors arrive as NumPy arrays), and `result()` always returns plain values (a Python float for
a scalar, a NumPy array copy otherwise, a dict of those), whatever the subclass returns.
"""
import functools

import numpy as np

from .. import _validate as validate

from .. import config
from .._registry import snake_case
from ..autodiff.tape import Tensor, recording, stop_recording, unwrap

_AGGREGATIONS = ("none", "mean", "sum", "only_first_replica")


def plain_result(value):
    """A result as logs hold it: a Python float for a scalar, an array copy, or a dict of them."""
    if type(value) is float:
        return value
    if isinstance(value, dict):
        return {k: plain_result(v) for k, v in value.items()}
    value = np.array(unwrap(value))
    return float(value) if value.ndim == 0 else value


def _plain_result(result):
    @functools.wraps(result)
    def wrapper(self):
        return plain_result(result(self))
    return wrapper


def _unrecorded(update_state):
    @functools.wraps(update_state)
    def wrapper(self, *args, **kwargs):
        if not recording():          # the engine's path: arrays, no tape to pause
            for a in args:
                if type(a) is Tensor:
                    break
            else:
                for v in kwargs.values():
                    if type(v) is Tensor:
                        break
                else:
                    return update_state(self, *args, **kwargs)
        args = [a.value if type(a) is Tensor else a for a in args]
        kwargs = {k: (v.value if type(v) is Tensor else v) for k, v in kwargs.items()}
        with stop_recording():
            return update_state(self, *args, **kwargs)
    return wrapper


class Metric:
    """Base class of stateful metrics.

    Subclasses implement `update_state(y_true, y_pred, sample_weight=None)` and `result()`;
    state made with `add_variable` is reset by the default `reset_state()`. Calling a metric
    updates it with one batch and returns the running result.

    Args:
        name: string, the key the metric has in training logs; defaults to the snake-cased class
            name (`BinaryAccuracy` -> `binary_accuracy`).
        dtype: float type of the metric's computations and variables; defaults to
            `kerasnp.config.floatx()`.
    """

    def __init__(self, name=None, dtype=None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: argument `name` must be a string. "
                            f"Received: name={name!r}")
        self.name = name or snake_case(type(self).__name__)
        self.dtype = np.dtype(dtype or config.floatx()).name
        self._variable_state = []    # (variable, initial value, aggregation), creation order

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "update_state" in cls.__dict__:
            cls.update_state = _unrecorded(cls.__dict__["update_state"])
        if "result" in cls.__dict__:
            cls.result = _plain_result(cls.__dict__["result"])

    # -- state -------------------------------------------------------------------------------
    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum",
                     name=None):
        """Create a non-trainable state variable of this metric (reset by `reset_state`).

        Args:
            shape: tuple of ints (`()` for a scalar); an int means `(int,)`.
            initializer: an initializer name, object or callable `f(shape, dtype)`.
            dtype: defaults to the metric's dtype; integer types are allowed for counts.
            aggregation: how replicas would combine it: `"sum"`, `"mean"`, `"none"` or
                `"only_first_replica"` (kept for Keras compatibility).
            name: the variable's name within the metric; defaults to `variable_<i>`.

        Returns:
            A `kerasnp.variables.Variable`; update it with `assign`, `assign_add`, `assign_sub`.
        """
        from .. import initializers
        from ..variables import Variable
        shape = validate.shape(shape, "shape", self._who())
        if aggregation not in _AGGREGATIONS:
            raise ValueError(f"{self._who()}: argument `aggregation` must be one of "
                             f"{', '.join(map(repr, _AGGREGATIONS))}. "
                             f"Received: aggregation={aggregation!r}")
        state = self.__dict__.setdefault("_variable_state", [])
        if name is None:
            name = f"variable_{len(state)}" if state else "variable"
        if not isinstance(name, str):
            raise TypeError(f"{self._who()}: argument `name` must be a string. "
                            f"Received: name={name!r}")
        dt = np.dtype(dtype or self.dtype)
        init = initializers.get("zeros" if initializer is None else initializer)
        value = np.array(init(shape, dtype=dt), dtype=dt)
        if value.shape != shape:
            raise ValueError(f"{self._who()}: initializer {initializer!r} gave shape "
                             f"{value.shape} for variable '{name}' of shape {shape}. "
                             f"Received: initializer={initializer!r}")
        var = Variable(value, name, trainable=False,
                       path=f"{getattr(self, 'name', type(self).__name__)}/{name}")
        if var.value.shape != shape:   # np.ascontiguousarray makes a 0-d value 1-d: undo
            var.value, var.grad = value, np.zeros_like(value)
        state.append((var, value.copy(), aggregation))
        return var

    def add_weight(self, *args, **kwargs):
        """Alias of `add_variable(shape=(), initializer="zeros", dtype=None, aggregation="sum",
        name=None)`. tf.keras's spelling with the name first, `add_weight("tp", ...)`, works too."""
        if args and isinstance(args[0], str):
            if "name" in kwargs:
                raise TypeError(f"{self._who()}.add_weight got the name twice. "
                                f"Received: {args[0]!r} and name={kwargs['name']!r}")
            kwargs["name"], args = args[0], args[1:]
        return self.add_variable(*args, **kwargs)

    @property
    def variables(self):
        """The state variables made by `add_variable`, in creation order."""
        return [v for v, _, _ in self.__dict__.get("_variable_state", ())]

    # -- the contract ------------------------------------------------------------------------
    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{self._who()} must implement update_state(y_true, y_pred, "
                                  f"sample_weight=None).")

    def result(self):
        raise NotImplementedError(f"{self._who()} must implement result().")

    def reset_state(self):
        """Put every variable made by `add_variable` back to its initial value."""
        state = self.__dict__.get("_variable_state", ())
        if not state:
            raise NotImplementedError(f"{self._who()} keeps no variables from add_variable(), "
                                      f"so it must implement reset_state().")
        for var, initial, _ in state:
            var.assign(initial)

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        """The constructor arguments, as a JSON-friendly dict."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _who(self):
        return f"Metric '{getattr(self, 'name', '?')}' ({type(self).__name__})"

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
