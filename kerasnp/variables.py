"""Variables: a weight array with its gradient buffer and training flags.

Inside a `GradientTape`, ops on a trainable variable are recorded and `tape.gradient` returns its
gradient; `optimizer.apply(grads, variables)` writes the gradients into `.grad` and updates
`.value` in place. A variable behaves like an array in ops and operators (`x @ kernel + bias`),
and `np.asarray(variable)` gives its values.

`undo_log()` records the old value of every variable assigned while it is open, so that a step
can be taken back (the default `train_step` undoes a batch whose loss is not finite).
"""
import threading

import numpy as np

from ._operators import ArrayOperators


class Variable(ArrayOperators):
    """A named, mutable weight.

    Attributes:
        value: the weight array (updated in place by optimizers).
        grad: gradient buffer, same shape and dtype as `value`; zeroed before each backward.
        trainable: whether optimizers update it.
        name: short name within its layer (`kernel`, `bias`); `path` is `layer_name/name`.
        regularizer: optional penalty added to the loss (and its gradient to `grad`).
        constraint: optional projection applied after each optimizer step.
    """

    __slots__ = ("value", "grad", "trainable", "name", "path", "regularizer", "constraint",
                 "__weakref__")

    def __init__(self, initializer=None, shape=None, dtype=None, trainable=True, name=None,
                 regularizer=None, constraint=None, path=None, **kwargs):
        """`Variable(initializer, shape=None, dtype=None, trainable=True, name=None)` as in
        Keras 3: `initializer` is an array (or anything `np.asarray` takes), or an initializer
        (name or callable) used with `shape`. kerasnp's first order `Variable(value, name)` is
        still accepted. Keras's `autocast`, `aggregation` and `synchronization` are accepted and
        have no effect on the CPU."""
        unknown = sorted(set(kwargs) - {"autocast", "aggregation", "synchronization"})
        if unknown:
            raise TypeError(f"Variable() got unexpected keyword argument(s) {unknown}. Valid: "
                            "initializer, shape, dtype, trainable, name, autocast, aggregation, "
                            "synchronization")
        if isinstance(shape, str) and name is None:     # Variable(value, "name")
            shape, name = None, shape
        if isinstance(initializer, str) or (callable(initializer) and
                                            not isinstance(initializer, np.ndarray)):
            if shape is None:
                raise ValueError("Variable: an initializer needs a shape. Received: "
                                 f"initializer={initializer!r}, shape=None")
            from . import config, initializers
            dt = np.dtype(dtype or config.floatx())
            value = initializers.get(initializer)(tuple(shape), dtype=dt)
        else:
            if initializer is None:
                raise ValueError("Variable needs an initial value or an initializer with a "
                                 "shape. Received: initializer=None")
            value = np.asarray(initializer, dtype=dtype)
            if shape is not None and tuple(shape) != value.shape:
                raise ValueError(f"Variable: the value has shape {value.shape}, not the "
                                 f"given shape {tuple(shape)}.")
        name = "variable" if name is None else name
        value = np.asarray(value)
        self.value = value if value.flags.c_contiguous else value.copy(order="C")
        self.grad = np.zeros_like(self.value)
        self.trainable = bool(trainable)
        self.name = name
        self.path = path or name
        self.regularizer = regularizer
        self.constraint = constraint

    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def ndim(self):
        return self.value.ndim

    @property
    def size(self):
        return self.value.size

    def numpy(self):
        """Return a copy of the value."""
        return self.value.copy()

    def __array__(self, dtype=None, copy=None):
        return self.value if dtype is None else self.value.astype(dtype, copy=False)

    def __len__(self):
        return len(self.value)

    def __float__(self):
        return float(self.value)

    def assign_add(self, value):
        """Add `value` to this variable in place."""
        if getattr(_open, "logs", None):
            _record(self)
        self.value += np.asarray(_value(value), dtype=self.value.dtype)
        return self

    def assign_sub(self, value):
        """Subtract `value` from this variable in place."""
        if getattr(_open, "logs", None):
            _record(self)
        self.value -= np.asarray(_value(value), dtype=self.value.dtype)
        return self

    def assign(self, value):
        """Copy `value` into this variable in place (shape must match)."""
        value = np.asarray(_value(value))
        if value.shape != self.value.shape and value.ndim != 0:
            raise ValueError(f"Variable '{self.path}' expected a value of shape {self.value.shape}, "
                             f"received shape {value.shape}.")
        if getattr(_open, "logs", None):
            _record(self)
        self.value[...] = value
        return self

    def cast(self, dtype):
        """Change the dtype of value and grad (used when floatx changes before a fit)."""
        if self.value.dtype != dtype:
            self.value = self.value.astype(dtype)
            self.grad = np.zeros_like(self.value)

    def __repr__(self):
        return (f"<Variable '{self.path}' shape={self.value.shape} dtype={self.value.dtype} "
                f"trainable={self.trainable}>")


_open = threading.local()      # .logs: the undo logs open in this thread, outermost first


def _record(var):
    for log in _open.logs:
        log._save(var)


class UndoLog:
    """The value each variable had before its first `assign`/`assign_add`/`assign_sub` while
    the log was open (see `undo_log`)."""

    __slots__ = ("_saved",)

    def __init__(self):
        self._saved = {}

    def __enter__(self):
        logs = getattr(_open, "logs", None)
        if logs is None:
            logs = _open.logs = []
        logs.append(self)
        return self

    def __exit__(self, *exc):
        _open.logs.remove(self)
        return False

    def _save(self, var):
        if id(var) not in self._saved:
            self._saved[id(var)] = (var, var.value.copy())

    @property
    def variables(self):
        """The variables recorded, in the order of their first assignment."""
        return [var for var, _ in self._saved.values()]

    def undo(self):
        """Give every recorded variable back its old value (written into its array, so views
        of it stay valid), then forget them. Callable after the log has closed."""
        for var, old in self._saved.values():
            if var.value.shape == old.shape:
                var.value[...] = old
            else:
                var.value = old
        self._saved.clear()


def undo_log():
    """A context manager that records the old value of every variable assigned inside it
    (`assign`, `assign_add`, `assign_sub`, in this thread), so the changes can be undone.

    Writes that bypass these methods (an optimizer's in-place update, `var.value[...] = ...`)
    are not recorded. Logs nest; each records what happened while it was open.

    Example:
        >>> import numpy as np
        >>> from kerasnp.variables import Variable, undo_log
        >>> v = Variable(np.zeros(2))
        >>> with undo_log() as log:
        ...     _ = v.assign([1.0, 2.0])
        >>> log.undo()
        >>> v.value
        array([0., 0.])
    """
    return UndoLog()


def _value(x):
    return x.value if hasattr(x, "value") and not isinstance(x, np.ndarray) else x
