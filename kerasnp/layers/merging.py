"""Merging layers: combine a list of tensors (Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate, Dot). Each takes a list of inputs and returns one output, recorded as one tape node
whose VJP gives each input its gradient (reduced to the input's shape where inputs broadcast;
skipped for inputs that carry no gradient)."""
import numbers

import numpy as np

from .. import _validate
from ..autodiff.tape import is_tracked, record
from ..ops._dispatch import unbroadcast, value
from .base import Layer, register, shape_str


def _values(inputs):
    """NumPy values, shapes and "needs a gradient" flags of a merge layer's inputs."""
    vals = [value(x) for x in inputs]
    return vals, [np.shape(v) for v in vals], [is_tracked(x) for x in inputs]


def _sum(inputs, scale=None):
    """`Σ xᵢ` (times `scale`) as one node: ∂/∂xᵢ = 1 (or `scale`)."""
    vals, shapes, need = _values(inputs)
    y = vals[0] + vals[1]
    for t in vals[2:]:
        y = y + t if np.shape(t) != y.shape else np.add(y, t, out=y)
    if scale is not None:
        y *= y.dtype.type(scale)

    def vjp(dy):
        g = dy if scale is None else dy * dy.dtype.type(scale)
        return tuple(unbroadcast(g, s) if n else None for s, n in zip(shapes, need))
    return record(y, vjp, *inputs)


class _Merge(Layer):
    """Base: validates that it gets a list of inputs whose shapes agree (None matches any size)."""

    min_inputs = 2
    max_inputs = None
    supports_masking = True

    def compute_mask(self, inputs, previous_mask=None):
        """Keras's rule for element-wise merges: the OR of the input masks, None when any input
        has none (a step is real if it is real in some input)."""
        if not isinstance(previous_mask, (list, tuple)) or any(m is None for m in previous_mask):
            return None
        return np.logical_or.reduce([np.asarray(m, bool) for m in previous_mask])

    def _check_inputs(self, input_shape):
        lo, hi = self.min_inputs, self.max_inputs
        count = f"exactly {lo}" if lo == hi else f"at least {lo}"
        if not isinstance(input_shape, list):
            raise ValueError(f"{_validate.describe(self)} must be called on a list of {count} "
                             "inputs, as in `layer([x1, x2])`; it received a single tensor. "
                             f"Received: input_shape={shape_str(input_shape)}")
        if len(input_shape) < lo or (hi is not None and len(input_shape) > hi):
            raise ValueError(f"{_validate.describe(self)} expects {count} inputs, received "
                             f"{len(input_shape)}. Received: input_shape={shape_str(input_shape)}")

    def _pair(self, k):
        """` (from 'dense' and 'dense_1')` naming the layers that feed inputs 0 and k, if known."""
        names = getattr(self, "_inbound_layer_names", None)
        return f" (from '{names[0]}' and '{names[k]}')" if names and len(names) > k else ""

    def build(self, input_shape):
        self._check_inputs(input_shape)
        first = input_shape[0]
        for k, shape in enumerate(input_shape[1:], 1):
            if len(shape) != len(first) or not all(
                    a is None or b is None or a == b for a, b in zip(first[1:], shape[1:])):
                raise ValueError(
                    f"{_validate.describe(self)} needs inputs of the same shape; got "
                    f"{shape_str(first)} and {shape_str(shape)}{self._pair(k)}. "
                    f"Received: input_shape={shape_str(input_shape)}")

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        dims = zip(*(s[1:] for s in input_shape))
        return (input_shape[0][0],) + tuple(next((d for d in ds if d is not None), None)
                                             for ds in dims)


@register
class Add(_Merge):
    """Element-wise sum of its inputs: `Add()([x1, x2])` (residual connections)."""

    def call(self, inputs):
        return _sum(inputs)                          # ∂(Σxᵢ)/∂xᵢ = 1


@register
class Subtract(_Merge):
    """`x1 - x2` for exactly two inputs."""

    max_inputs = 2

    def call(self, inputs):
        (a, b), (sa, sb), (na, nb) = _values(inputs)
        return record(a - b, lambda dy: (unbroadcast(dy, sa) if na else None,
                                         unbroadcast(-dy, sb) if nb else None), *inputs)


@register
class Multiply(_Merge):
    """Element-wise product of its inputs."""

    def call(self, inputs):
        vals, shapes, need = _values(inputs)
        y = vals[0] * vals[1]
        for t in vals[2:]:
            y = y * t

        def vjp(dy):
            grads = []
            for i, (s, n) in enumerate(zip(shapes, need)):  # ∂(Πxⱼ)/∂xᵢ = Πⱼ≠ᵢ xⱼ
                if not n:
                    grads.append(None)
                    continue
                g = dy
                for j, t in enumerate(vals):
                    if j != i:
                        g = g * t
                grads.append(unbroadcast(g, s))
            return tuple(grads)
        return record(y, vjp, *inputs)


@register
class Average(_Merge):
    """Element-wise mean of its inputs."""

    def call(self, inputs):
        return _sum(inputs, 1.0 / len(inputs))        # ∂(Σxᵢ/n)/∂xᵢ = 1/n


class _Extremum(_Merge):
    better = None   # np.greater or np.less: strict, so the first input wins a tie

    def call(self, inputs):
        vals, shapes, need = _values(inputs)
        y = vals[0]
        arg = np.zeros(np.broadcast_shapes(*shapes), np.intp if len(vals) > 127 else np.int8)
        for i, t in enumerate(vals[1:], 1):          # the one input that wins each element
            win = self.better(t, y)
            y = np.where(win, t, y)
            arg[np.broadcast_to(win, arg.shape)] = i

        def vjp(dy):
            zero = dy.dtype.type(0)                  # dxᵢ = dy where input i won, else 0
            return tuple(unbroadcast(np.where(arg == i, dy, zero), s) if n else None
                         for i, (s, n) in enumerate(zip(shapes, need)))
        return record(y, vjp, *inputs)


@register
class Maximum(_Extremum):
    """Element-wise maximum (the gradient goes to the input that holds it; first on ties)."""

    better = staticmethod(np.greater)


@register
class Minimum(_Extremum):
    """Element-wise minimum (the gradient goes to the input that holds it; first on ties)."""

    better = staticmethod(np.less)


def _int_arg(value, arg, owner):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{_validate.describe(owner)}: {arg} must be an int. "
                        f"Received: {arg}={value!r}")
    return int(value)


@register
class Concatenate(_Merge):
    """Concatenates its inputs along `axis` (default the last).

    Args:
        axis: the axis to join along; all other axes must match.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = _int_arg(axis, "axis", self)

    def _axis(self, ndim):
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"{_validate.describe(self)}: axis {self.axis} is out of range for "
                             f"inputs of rank {ndim} (valid: 1..{ndim - 1} or -{ndim - 1}..-1). "
                             f"Received: axis={self.axis}")
        axis = self.axis % ndim
        if axis == 0:
            raise ValueError(f"{_validate.describe(self)} cannot concatenate along the batch "
                             f"axis. Received: axis={self.axis}")
        return axis

    def build(self, input_shape):
        self._check_inputs(input_shape)
        ndim = len(input_shape[0])
        axis = self._axis(ndim)
        ref = input_shape[0]
        for k, shape in enumerate(input_shape[1:], 1):
            if len(shape) != ndim or not all(a is None or b is None or a == b for i, (a, b) in
                                             enumerate(zip(ref, shape)) if i != axis):
                raise ValueError(
                    f"{_validate.describe(self)} needs inputs whose shapes match except on axis "
                    f"{self.axis}; got {shape_str(ref)} and {shape_str(shape)}{self._pair(k)}. "
                    f"Received: input_shape={shape_str(input_shape)}")

    def compute_output_shape(self, input_shape):
        axis = self._axis(len(input_shape[0]))
        out = list(_Merge.compute_output_shape(self, input_shape))
        sizes = [s[axis] for s in input_shape]
        out[axis] = None if any(d is None for d in sizes) else sum(sizes)
        return tuple(out)

    def call(self, inputs):
        vals, _, need = _values(inputs)
        axis = self._axis(vals[0].ndim)
        splits = np.cumsum([t.shape[axis] for t in vals])[:-1]

        def vjp(dy):                                 # each input gets its own slice of dy
            return tuple(g if n else None for g, n in zip(np.split(dy, splits, axis=axis), need))
        return record(np.concatenate(vals, axis=axis), vjp, *inputs)

    def compute_mask(self, inputs, previous_mask=None):
        """Keras's rule: each mask broadcast to its input (all True where an input has none),
        joined along `axis`, then any() over the last axis."""
        if not isinstance(previous_mask, (list, tuple)) or all(m is None for m in previous_mask):
            return None
        vals = [value(x) for x in inputs]
        masks = [np.ones(v.shape, bool) if m is None else
                 np.broadcast_to(np.asarray(m, bool).reshape(np.shape(m) + (1,) * (
                     v.ndim - np.ndim(m))), v.shape) for v, m in zip(vals, previous_mask)]
        return np.concatenate(masks, axis=self._axis(vals[0].ndim)).any(axis=-1)

    def get_config(self):
        cfg = super().get_config()
        cfg["axis"] = self.axis
        return cfg


# Dot (batch_dot, cosine similarity) lives in its own file; it is exported from here as well.
from .merging_dot import Dot  # noqa: E402,F401
