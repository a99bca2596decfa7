"""Variables: a weight array with its gradient buffer and training flags.

Optimizers receive lists of variables and update `.value` in place; layers write `.grad` in
`backward` (accumulating, so a layer used twice sums its gradients).
"""
import numpy as np


class Variable:
    """A named, mutable weight.

    Attributes:
        value: the weight array (updated in place by optimizers).
        grad: gradient buffer, same shape and dtype as `value`; zeroed before each backward.
        trainable: whether optimizers update it.
        name: short name within its layer (`kernel`, `bias`); `path` is `layer_name/name`.
        regularizer: optional penalty added to the loss (and its gradient to `grad`).
        constraint: optional projection applied after each optimizer step.
    """

    __slots__ = ("value", "grad", "trainable", "name", "path", "regularizer", "constraint")

    def __init__(self, value, name, trainable=True, regularizer=None, constraint=None, path=None):
        self.value = np.ascontiguousarray(value)
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

    def numpy(self):
        """Return a copy of the value."""
        return self.value.copy()

    def assign(self, value):
        """Copy `value` into this variable in place (shape must match)."""
        value = np.asarray(value)
        if value.shape != self.value.shape:
            raise ValueError(f"Variable '{self.path}' expected a value of shape {self.value.shape}, "
                             f"received shape {value.shape}.")
        self.value[...] = value

    def cast(self, dtype):
        """Change the dtype of value and grad (used when floatx changes before a fit)."""
        if self.value.dtype != dtype:
            self.value = self.value.astype(dtype)
            self.grad = np.zeros_like(self.value)

    def __repr__(self):
        return (f"<Variable '{self.path}' shape={self.value.shape} dtype={self.value.dtype} "
                f"trainable={self.trainable}>")
