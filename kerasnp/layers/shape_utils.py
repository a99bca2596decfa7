"""Layers that move data around without weights: Permute, RepeatVector, Identity, and Lambda (a
user function of ops, differentiated by the tape, or with a user-supplied backward)."""
import numbers

import numpy as np

from .. import _validate, config
from ..autodiff.tape import Tensor, is_tracked, record, unwrap
from ..ops._dispatch import value
from .base import Layer, register, shape_str


@register
class Permute(Layer):
    """Permutes the non-batch axes of each sample (`dims` counts them from 1, as in Keras).

    Args:
        dims: tuple of ints, a permutation of `1..rank`; `(2, 1)` swaps the two axes of a
            `(batch, a, b)` input.

    Input shape: `(batch, d1, ..., dk)` with `k == len(dims)`.
    Output shape: `(batch, d[dims[0]], ..., d[dims[k-1]])`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.Permute((2, 1))(np.zeros((4, 10, 64))).shape
        (4, 64, 10)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            items = tuple(dims)
        except TypeError:
            items = None
        if items is None or not items or any(
                isinstance(d, bool) or not isinstance(d, numbers.Integral) for d in items) \
                or sorted(items) != list(range(1, len(items) + 1)):
            raise ValueError(f"{_validate.describe(self)}: dims must be a permutation of "
                             f"1..rank of the non-batch axes, e.g. (2, 1). Received: dims={dims!r}")
        self.dims = tuple(int(d) for d in items)
        self._perm = (0,) + self.dims
        self._inverse = tuple(np.argsort(self._perm))

    def build(self, input_shape):
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(f"{_validate.describe(self)} expected input with {len(self.dims)} "
                             f"non-batch axes (one per entry of dims), received shape "
                             f"{shape_str(input_shape)}. Received: dims={self.dims}")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[i] for i in self._perm)

    def call(self, inputs):
        inverse = self._inverse
        y = value(inputs).transpose(self._perm)          # a view: no copy
        return record(y, lambda dy: dy.transpose(inverse), inputs)   # dx = permute⁻¹(dy)

    def get_config(self):
        cfg = super().get_config()
        cfg["dims"] = list(self.dims)
        return cfg


@register
class RepeatVector(Layer):
    """Repeats each input vector `n` times: `(batch, features)` -> `(batch, n, features)`.

    Args:
        n: positive int, the number of repetitions.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.RepeatVector(3)(np.zeros((2, 32))).shape
        (2, 3, 32)
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = _validate.positive_int(n, "n", self)

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"{_validate.describe(self)} expected 2-D input (batch, features), "
                             f"received shape {shape_str(input_shape)}.")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs):
        y = np.repeat(value(inputs)[:, None, :], self.n, axis=1)
        return record(y, lambda dy: dy.sum(axis=1), inputs)     # each copy adds its gradient

    def get_config(self):
        cfg = super().get_config()
        cfg["n"] = self.n
        return cfg


@register
class Identity(Layer):
    """Returns its input unchanged (a placeholder layer)."""

    supports_masking = True        # passes the mask on (Keras)

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, inputs):
        return inputs


@register
class Lambda(Layer):
    """Wraps a function of the input as a layer: `Lambda(lambda x: ops.square(x))`.

    A function written with `kerasnp.ops` and tensor operators (`2 * x`, `x[:, :3]`, `x @ w`) is
    differentiated by the tape, op by op, so the layer trains with no more code. A function
    written with NumPy predicts and evaluates; to train through it, give `backward`, which is then
    used as its gradient (the function runs on NumPy values). The config keeps the functions'
    names only (code is never saved), so a saved model with a Lambda layer must get them back
    through `custom_objects`.

    Args:
        function: callable mapping the input (or list of inputs) to the output.
        output_shape: optional output shape without the batch axis (tuple), or a callable mapping
            the full input shape to the full output shape. When omitted it is found by running
            `function` on a small array of zeros.
        backward: optional callable `backward(dy, x, y)` returning dL/dx (a list for a list
            input) from the output gradient `dy`, the input `x` and the output `y` (NumPy
            arrays).

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> double = keras.layers.Lambda(lambda x: 2 * x)
        >>> double(np.ones((1, 2)))
        array([[2., 2.]])
    """

    def __init__(self, function, output_shape=None, backward=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"{_validate.describe(self)}: function must be callable. "
                            f"Received: function={function!r}")
        if backward is not None and not callable(backward):
            raise TypeError(f"{_validate.describe(self)}: backward must be None or a callable "
                            f"backward(dy, x, y). Received: backward={backward!r}")
        if output_shape is not None and not callable(output_shape):
            try:
                output_shape = tuple(None if d is None else int(d) for d in output_shape)
            except (TypeError, ValueError):
                raise TypeError(f"{_validate.describe(self)}: output_shape must be None, a tuple "
                                f"of ints or a callable. Received: output_shape={output_shape!r}"
                                ) from None
        self.function = function
        self.output_shape = output_shape
        self._backward_fn = backward

    def compute_output_shape(self, input_shape):
        if callable(self.output_shape):
            return tuple(self.output_shape(input_shape))
        if self.output_shape is not None:
            batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
            return (batch,) + self.output_shape
        return self._infer_shape(input_shape)

    def _infer_shape(self, input_shape):
        many = isinstance(input_shape, list)
        shapes = input_shape if many else [input_shape]
        if any(d is None for s in shapes for d in s[1:]):
            raise ValueError(f"{_validate.describe(self)} cannot infer its output shape from an "
                             f"input with unknown sizes; pass output_shape=. "
                             f"Received: input_shape={shape_str(input_shape)}")
        dtype = np.dtype(self.dtype or config.floatx())
        probe = [np.zeros((2,) + tuple(s[1:]), dtype) for s in shapes]
        try:
            out = np.shape(self.function(probe if many else probe[0]))
        except Exception as err:
            raise ValueError(f"{_validate.describe(self)} could not infer its output shape by "
                             f"calling the function on zeros ({type(err).__name__}: {err}); pass "
                             f"output_shape=. Received: input_shape={shape_str(input_shape)}"
                             ) from err
        return (None,) + tuple(out[1:])

    def call(self, inputs):
        if self._backward_fn is not None:
            return _numpy_call(self, inputs)
        many = isinstance(inputs, (list, tuple))
        items = list(inputs) if many else [inputs]
        tracked = [is_tracked(a) for a in items]
        # A watched NumPy array has no recording operators: give the function a Tensor instead.
        items = [record(a, _identity, a) if t and type(a) is np.ndarray else a
                 for a, t in zip(items, tracked)]
        try:
            y = self.function(items if many else items[0])
        except TypeError as err:
            if not any(tracked):
                raise
            raise self._inference_only(f"its function failed on tensors "
                                       f"({type(err).__name__}: {err})") from err
        outs = y if isinstance(y, (list, tuple)) else [y]
        if any(tracked) and not any(type(o) is Tensor for o in outs):
            raise self._inference_only("its function returned plain arrays for tensors that "
                                       "need a gradient (NumPy took the values off the tape)")
        return y if isinstance(y, (np.ndarray, Tensor, list, tuple)) else np.asarray(y)

    def _inference_only(self, why):
        return NotImplementedError(
            f"{_validate.describe(self)} cannot be differentiated: {why}. NumPy functions "
            "other than ufuncs (np.sin, np.exp, ... which run the ops of the same name) make a "
            "Lambda layer inference-only (predict/evaluate). To train through it, write the "
            "function with kerasnp.ops (e.g. ops.sum(x, axis=1) for x.sum(axis=1)), or pass "
            "backward=fn with fn(dy, x, y) returning dL/dx, e.g. "
            "Lambda(f, backward=lambda dy, x, y: ...).")

    def get_config(self):
        """The function is saved by name only: no code, pickle or import path goes into a config."""
        cfg = super().get_config()
        cfg["function"] = _fn_name(self.function)
        cfg["output_shape"] = (_fn_name(self.output_shape) if callable(self.output_shape) else
                               None if self.output_shape is None else list(self.output_shape))
        cfg["backward"] = None if self._backward_fn is None else _fn_name(self._backward_fn)
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild from a config; every function name must be found in `custom_objects`.

        Nothing is ever imported, unpickled or evaluated from what a config says.
        """
        config = dict(config)
        objects = custom_objects or {}
        for key in ("function", "backward", "output_shape"):
            name = config.get(key)
            if key != "function" and not isinstance(name, str):
                continue                              # None, or an output shape list
            if name not in objects:
                raise ValueError(
                    f"Cannot rebuild Lambda layer '{config.get('name')}': its {key} "
                    f"'{name}' is Python code, and kerasnp never saves code. Lambda functions "
                    f"must be passed again via custom objects: custom_objects={{'{name}': "
                    f"{name}}}{_LAMBDA_HINT if name == '<lambda>' else ''}. "
                    f"Received: {key}={name!r}")
            config[key] = objects[name]
        return cls(**config)


def _identity(dy):
    return dy


def _numpy_call(layer, inputs):
    """`layer.function` on NumPy values as one node whose VJP is the user's `backward`."""
    many = isinstance(inputs, (list, tuple))
    xs = [np.asarray(unwrap(a)) for a in inputs] if many else np.asarray(unwrap(inputs))
    y = np.asarray(layer.function(xs))
    fn = layer._backward_fn

    def vjp(dy):
        dx = fn(dy, xs, y)
        grads = [np.asarray(d) for d in dx] if many else [np.asarray(dx)]
        for x, g in zip(xs if many else [xs], grads):
            if g.shape != x.shape:
                raise ValueError(f"{_validate.describe(layer)}: backward must return a gradient "
                                 f"of the input's shape {x.shape}, it returned shape {g.shape}.")
        return tuple(grads) if many else grads[0]
    return record(y, vjp, *(inputs if many else [inputs]))


_LAMBDA_HINT = " (an anonymous lambda has no usable name: define it with def)"


def _fn_name(fn):
    return getattr(fn, "__name__", type(fn).__name__)
