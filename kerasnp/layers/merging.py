"""Merging layers: combine a list of tensors (Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate, Dot). Each takes a list of inputs and returns one output; backward returns a list of
gradients, one per input."""
import numbers

import numpy as np

from .. import _validate, config
from .base import Layer, register, shape_str


class _Merge(Layer):
    """Base: validates that it gets a list of inputs whose shapes agree (None matches any size)."""

    min_inputs = 2
    max_inputs = None

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

    max_inputs = 2

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
            y *= t
        return y

    def backward(self, dy):
        if not self._needs_dx:                       # fed by model inputs: no dx wanted
            return None
        grads = []
        for i in range(len(self._x)):                # ∂(Πxⱼ)/∂xᵢ = Πⱼ≠ᵢ xⱼ
            others = [t for j, t in enumerate(self._x) if j != i]
            g = dy * others[0]
            for t in others[1:]:
                g *= t
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
        y *= y.dtype.type(1.0 / self._n)
        return y

    def backward(self, dy):
        g = dy * dy.dtype.type(1.0 / self._n)        # ∂(Σxᵢ/n)/∂xᵢ = 1/n
        return [g] * self._n


class _Extremum(_Merge):
    better = None   # np.greater or np.less: strict, so the first input wins a tie

    def forward(self, x, training=False):
        y = x[0]
        self._arg = np.zeros(y.shape, np.intp if len(x) > 127 else np.int8)
        for i, t in enumerate(x[1:], 1):             # the one input that wins each element
            win = self.better(t, y)
            y = np.where(win, t, y)
            self._arg[win] = i
        self._n = len(x)
        return y

    def backward(self, dy):
        if not self._needs_dx:
            return None
        zero = dy.dtype.type(0)
        return [np.where(self._arg == i, dy, zero) for i in range(self._n)]


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


def _l2_normalize(x, axis):
    """`x / max(‖x‖, ε)` along `axis`; also returns what the backward pass needs."""
    norm = np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
    clipped = np.maximum(norm, x.dtype.type(config.epsilon()))
    return x / clipped, (norm, clipped)


def _l2_normalize_backward(du, u, axis, saved):
    norm, clipped = saved                            # dx = (du - u·(u·du)) / ‖x‖, or du / ε
    proj = np.sum(du * u, axis=axis, keepdims=True)
    proj *= norm > clipped.dtype.type(config.epsilon())
    return (du - u * proj) / clipped


@register
class Dot(_Merge):
    """Dot product of two inputs, sample by sample, along `axes` (batch_dot).

    The output holds the first input's remaining axes followed by the second's; when nothing
    remains it is `(batch, 1)`.

    Args:
        axes: int (the same axis of both inputs) or a tuple of two ints (one per input);
            negative values count from the end; the batch axis 0 cannot be used.
        normalize: L2-normalise both inputs along their dot axes first, so the output is the
            cosine similarity of the two samples.

    Input shape: two tensors whose dot axes have the same size, e.g. `(batch, d)` and
        `(batch, d)`, or `(batch, n, d)` and `(batch, m, d)`.
    Output shape: `(batch, 1)` for two `(batch, d)`; `(batch, n, m)` for `(batch, n, d)` and
        `(batch, m, d)` with `axes=2`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.Dot(axes=(1, 2))([np.ones((1, 5, 2)), np.ones((1, 2, 5))]).shape
        (1, 2, 2)
    """

    max_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2:
                raise ValueError(f"{_validate.describe(self)}: axes must be an int or a tuple of "
                                 f"2 ints (one per input). Received: axes={axes!r}")
            axes = tuple(_int_arg(a, "axes", self) for a in axes)
        else:
            axes = _int_arg(axes, "axes", self)
        if 0 in ((axes,) if isinstance(axes, int) else axes):
            raise ValueError(f"{_validate.describe(self)}: axes cannot include the batch axis 0. "
                             f"Received: axes={axes!r}")
        self.axes = axes
        self.normalize = _validate.boolean(normalize, "normalize", self)

    def _resolve(self, shapes):
        """The two dot axes as non-negative ints, checked against the input ranks."""
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        out = []
        for k, (axis, shape) in enumerate(zip(axes, shapes)):
            ndim = len(shape)
            if not -ndim < axis < ndim or axis % ndim == 0:
                raise ValueError(
                    f"{_validate.describe(self)}: axis {axis} of input {k} (shape "
                    f"{shape_str(shape)}) must be a non-batch axis in 1..{ndim - 1} or "
                    f"-{ndim - 1}..-1. Received: axes={self.axes!r}")
            out.append(axis % ndim)
        return out

    def build(self, input_shape):
        self._check_inputs(input_shape)
        (a, b), (ia, ib) = input_shape, self._resolve(input_shape)
        if a[ia] is not None and b[ib] is not None and a[ia] != b[ib]:
            raise ValueError(
                f"{_validate.describe(self)} needs dot axes of the same size; got axis {ia} of "
                f"{shape_str(a)} and axis {ib} of {shape_str(b)}{self._pair(1)}. "
                f"Received: axes={self.axes!r}, input_shape={shape_str(input_shape)}")

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        (a, b), (ia, ib) = input_shape, self._resolve(input_shape)
        rest = tuple(a[1:ia] + a[ia + 1:]) + tuple(b[1:ib] + b[ib + 1:])
        return (a[0],) + (rest or (1,))

    def forward(self, x, training=False):
        a, b = x
        ia, ib = self._ia, self._ib = self._resolve([a.shape, b.shape])
        if self.normalize:
            a, self._sa = _l2_normalize(a, ia)
            b, self._sb = _l2_normalize(b, ib)
        self._a, self._b = a, b
        n, k = a.shape[0], a.shape[ia]
        if a.ndim == 2 and b.ndim == 2:
            return np.einsum("nk,nk->n", a, b)[:, None]          # y = Σₖ aₖ bₖ
        a3 = np.moveaxis(a, ia, -1)                  # (n, ..., k)
        b3 = np.moveaxis(b, ib, 1)                   # (n, k, ...)
        self._ra, self._rb = a3.shape[1:-1], b3.shape[2:]
        self._a3, self._b3 = a3.reshape(n, -1, k), b3.reshape(n, k, -1)
        y = self._a3 @ self._b3                      # batched (p, k)·(k, q)
        return y.reshape((n,) + ((self._ra + self._rb) or (1,)))

    def backward(self, dy):
        if not self._needs_dx:
            return None
        if self._a.ndim == 2 and self._b.ndim == 2:
            da, db = dy * self._b, dy * self._a                    # ∂y/∂a = b, ∂y/∂b = a
        else:
            n, (a3, b3) = dy.shape[0], (self._a3, self._b3)
            dy3 = dy.reshape(n, a3.shape[1], b3.shape[2])
            da = (dy3 @ b3.transpose(0, 2, 1)).reshape((n,) + self._ra + (a3.shape[2],))
            db = (a3.transpose(0, 2, 1) @ dy3).reshape((n, b3.shape[1]) + self._rb)
            da, db = np.moveaxis(da, -1, self._ia), np.moveaxis(db, 1, self._ib)
        if self.normalize:
            da = _l2_normalize_backward(da, self._a, self._ia, self._sa)
            db = _l2_normalize_backward(db, self._b, self._ib, self._sb)
        return [da, db]

    def get_config(self):
        cfg = super().get_config()
        cfg.update(axes=self.axes if isinstance(self.axes, int) else list(self.axes),
                   normalize=self.normalize)
        return cfg
