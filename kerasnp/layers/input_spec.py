"""InputSpec: what a layer accepts (rank, sizes of some axes, dtype), and the check of inputs."""
import numpy as np

from ..autodiff.tape import unwrap


class InputSpec:
    """Specifies the rank, dtype and axis sizes a layer accepts (Keras's `InputSpec`).

    Args:
        dtype: expected dtype name, or None.
        shape: expected shape (None entries match any size), or None.
        ndim, max_ndim, min_ndim: expected exact / largest / smallest rank.
        axes: dict `{axis: size}` of axes with a fixed size (negative axes count from the end).
        allow_last_axis_squeeze: accept one more or one fewer trailing axis of size 1.
        name: the input's name (a call argument name).
        optional: whether the input may be None.

    A layer (a subclass of yours) keeps its spec in `self.input_spec`; `check(inputs, layer)`
    (or `assert_input_compatibility`) raises Keras's error when an input does not match.
    kerasnp's `Layer.__call__` does not run the check by itself.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> spec = keras.layers.InputSpec(ndim=2, axes={-1: 4})
        >>> spec.check(np.ones((3, 4)))
        >>> spec
        InputSpec(ndim=2, axes={-1: 4})
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = None if dtype is None else np.dtype(dtype).name
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        self.name, self.optional = name, bool(optional)
        self.allow_last_axis_squeeze = bool(allow_last_axis_squeeze)
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            top = (self.ndim if self.ndim is not None else self.max_ndim) - 1
            if max(self.axes) > top:
                raise ValueError(f"InputSpec: axis {max(self.axes)} of `axes` is not below the "
                                 f"rank {top + 1}. Received: axes={self.axes}, ndim={self.ndim}"
                                 f", max_ndim={self.max_ndim}")

    def __repr__(self):
        parts = [f"dtype={self.dtype}" if self.dtype else "",
                 f"shape={self.shape}" if self.shape else "",
                 f"ndim={self.ndim}" if self.ndim is not None else "",
                 f"max_ndim={self.max_ndim}" if self.max_ndim is not None else "",
                 f"min_ndim={self.min_ndim}" if self.min_ndim is not None else "",
                 f"axes={self.axes}" if self.axes else ""]
        return f"InputSpec({', '.join(p for p in parts if p)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes,
                "optional": self.optional}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def check(self, inputs, layer=None, index=0):
        """Raise ValueError (Keras's wording) when `inputs` (an array or a shape) does not
        match this spec."""
        if inputs is None:
            if self.optional:
                return
            raise ValueError(f"Input {index} of layer '{_name(layer)}' is None, and the "
                             "layer's InputSpec is not optional.")
        shape = (tuple(inputs) if isinstance(inputs, (tuple, list)) else
                 tuple(getattr(inputs, "shape", np.shape(unwrap(inputs)))))
        where = f"Input {index} with name '{self.name}' of layer '{_name(layer)}' is " \
                "incompatible with the layer"
        rank = len(shape)
        if self.ndim is not None and rank != self.ndim and not (
                self.allow_last_axis_squeeze and abs(rank - self.ndim) == 1):
            raise ValueError(f"{where}: expected ndim={self.ndim}, found ndim={rank}. Full "
                             f"shape received: {shape}")
        if self.max_ndim is not None and rank > self.max_ndim:
            raise ValueError(f"{where}: expected max_ndim={self.max_ndim}, found ndim={rank}")
        if self.min_ndim is not None and rank < self.min_ndim:
            raise ValueError(f"{where}: expected min_ndim={self.min_ndim}, found ndim={rank}. "
                             f"Full shape received: {shape}")
        dtype = getattr(inputs, "dtype", None)
        if self.dtype is not None and dtype is not None and np.dtype(dtype).name != self.dtype:
            raise ValueError(f"{where}: expected dtype={self.dtype}, found dtype={dtype}")
        for axis, size in self.axes.items():
            if size is None or not -rank <= axis < rank:
                continue
            if shape[axis] is not None and shape[axis] != size:
                raise ValueError(f"{where}: expected axis {axis} of input shape to have value "
                                 f"{size}, but received input with shape {shape}")
        if self.shape is not None and rank == len(self.shape):
            for got, want in zip(shape, self.shape):
                if want is not None and got is not None and got != want:
                    raise ValueError(f"{where}: expected shape={self.shape}, found shape="
                                     f"{shape}")


def assert_input_compatibility(input_spec, inputs, layer_name):
    """Check `inputs` (one or a list) against `input_spec` (one or a list), as Keras does."""
    if input_spec is None:
        return
    specs = input_spec if isinstance(input_spec, (list, tuple)) else [input_spec]
    items = inputs if isinstance(inputs, (list, tuple)) and len(specs) > 1 else [inputs]
    if len(items) != len(specs):
        raise ValueError(f"Layer '{layer_name}' expects {len(specs)} input(s), but it received "
                         f"{len(items)} input tensors.")
    for i, (spec, x) in enumerate(zip(specs, items)):
        if spec is not None:
            spec.check(x, layer_name, i)


def _name(layer):
    return layer if isinstance(layer, str) or layer is None else getattr(layer, "name", layer)
