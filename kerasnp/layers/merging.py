"""Merging layers: combine a list of tensors (Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate). Each takes a list of inputs and returns one output; backward returns a list of
gradients, one per input."""
import numpy as np

from .. import _validate
from .base import Layer, register, shape_str


class _Merge(Layer):
    """Base: validates that it gets a list of compatible shapes (broadcasting the batch axis)."""

    min_inputs = 2

    def _check_inputs(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < self.min_inputs:
            raise ValueError(f"{_validate.describe(self)} expects a list of at least "
                             f"{self.min_inputs} inputs. Received: input_shape={input_shape}")

    def build(self, input_shape):
        self._check_inputs(input_shape)
        first = tuple(input_shape[0][1:])
        for other, shape in zip(self._inbound_names(), input_shape[1:]):
            if tuple(shape[1:]) != first:
                raise ValueError(
                    f"{_validate.describe(self)} needs inputs of the same shape; got "
                    f"{shape_str(input_shape[0])} and {shape_str(shape)}"
                    f"{other}. Received: input_shape={[shape_str(s) for s in input_shape]}")

    def _inbound_names(self):
        names = getattr(self, "_inbound_layer_names", None)
        if not names:
            return [""] * 64
        return [f" (from '{names[0]}' and '{n}')" for n in names[1:]]

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        return tuple(input_shape[0])


@register
class Add(_Merge):
    """Element-wise sum of its inputs: `Add()([x1, x2])` (residual connections)."""

    def forward(self, x, training=False):
        self._n = len(x)
        y = x[0] + x[1]
        for t in x[2:]:
            y += t
        return y

    def backward(self, dy):
        return [dy] * self._n                        # ∂(Σxᵢ)/∂xᵢ = 1


@register
class Subtract(_Merge):
    """`x1 - x2` for exactly two inputs."""

    def build(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError(f"{_validate.describe(self)} expects exactly 2 inputs. "
                             f"Received: input_shape={input_shape}")
        super().build(input_shape)

    def forward(self, x, training=False):
        return x[0] - x[1]

    def backward(self, dy):
        return [dy, -dy]


@register
class Multiply(_Merge):
    """Element-wise product of its inputs."""

    def forward(self, x, training=False):
        self._x = x
        y = x[0] * x[1]
        for t in x[2:]:
            y = y * t
        return y

    def backward(self, dy):
        grads = []
        for i in range(len(self._x)):                # ∂(Πxⱼ)/∂xᵢ = Πⱼ≠ᵢ xⱼ
            g = dy
            for j, t in enumerate(self._x):
                if j != i:
                    g = g * t
            grads.append(g)
        return grads


@register
class Average(_Merge):
    """Element-wise mean of its inputs."""

    def forward(self, x, training=False):
        self._n = len(x)
        y = x[0] + x[1]
        for t in x[2:]:
            y += t
        return y * y.dtype.type(1.0 / self._n)

    def backward(self, dy):
        g = dy * dy.dtype.type(1.0 / self._n)
        return [g] * self._n


class _Extremum(_Merge):
    pick = None

    def forward(self, x, training=False):
        stack = np.stack(x)
        self._arg = self.pick(stack, axis=0)         # the one input that wins each element
        self._n = len(x)
        return np.take_along_axis(stack, self._arg[None], axis=0)[0]

    def backward(self, dy):
        return [np.where(self._arg == i, dy, 0).astype(dy.dtype) for i in range(self._n)]


@register
class Maximum(_Extremum):
    """Element-wise maximum (the gradient goes to the input that holds it; first on ties)."""

    pick = staticmethod(np.argmax)


@register
class Minimum(_Extremum):
    """Element-wise minimum (the gradient goes to the input that holds it; first on ties)."""

    pick = staticmethod(np.argmin)


@register
class Concatenate(_Merge):
    """Concatenates its inputs along `axis` (default the last).

    Args:
        axis: the axis to join along; all other axes must match.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"{_validate.describe(self)}: axis must be an int. "
                            f"Received: axis={axis!r}")
        self.axis = int(axis)

    def _axis(self, ndim):
        axis = self.axis % ndim
        if axis == 0:
            raise ValueError(f"{_validate.describe(self)} cannot concatenate along the batch "
                             f"axis. Received: axis={self.axis}")
        return axis

    def build(self, input_shape):
        self._check_inputs(input_shape)
        ndim = len(input_shape[0])
        axis = self._axis(ndim)
        ref = [d for i, d in enumerate(input_shape[0]) if i != axis]
        for shape in input_shape[1:]:
            if len(shape) != ndim or [d for i, d in enumerate(shape) if i != axis] != ref:
                raise ValueError(
                    f"{_validate.describe(self)} needs inputs whose shapes match except on axis "
                    f"{self.axis}. Received: input_shape={[shape_str(s) for s in input_shape]}")

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        axis = self._axis(len(input_shape[0]))
        sizes = [s[axis] for s in input_shape]
        out = list(input_shape[0])
        out[axis] = None if any(d is None for d in sizes) else sum(sizes)
        return tuple(out)

    def forward(self, x, training=False):
        axis = self._axis(x[0].ndim)
        self._splits = np.cumsum([t.shape[axis] for t in x])[:-1]
        self._ax = axis
        return np.concatenate(x, axis=axis)

    def backward(self, dy):
        return np.split(dy, self._splits, axis=self._ax)    # each input gets its own slice

    def get_config(self):
        cfg = super().get_config()
        cfg["axis"] = self.axis
        return cfg
