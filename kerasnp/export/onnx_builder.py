"""`OnnxBuilder`: collects ONNX nodes and initializers while a model is walked.

Converters call `b.op("Relu", [x])` and `b.const(array)` and get tensor names back; the builder
keeps names unique, stores constants in the model's float dtype, remembers the symbolic shape
(batch axis None) of each tensor a layer produced, and hides the opset differences of the few ops
whose signature changed (the Reduce* ops take `axes` as an input from opset 18).
"""
import contextlib

import numpy as np

MIN_OPSET = 17          # LayerNormalization is an ONNX op from opset 17
DEFAULT_OPSET = 17      # what onnxruntime releases of the last years all run


def import_onnx():
    """The `onnx` package, or an ImportError that says how to install it."""
    try:
        import onnx
    except ImportError as err:
        raise ImportError("ONNX export needs the `onnx` package, an optional dependency of "
                          "kerasnp: pip install \"kerasnp[onnx]\" (or pip install onnx). "
                          f"Received: {err}") from None
    return onnx


class TensorName(str):
    """The name of a graph tensor where a layer call had a tensor (the walker marks them, so an
    op's converter tells `x * 2` from `x * y`: a plain string or number is a constant)."""

    __slots__ = ()


class OnnxBuilder:
    """The graph being written: nodes, initializers, unique names and known shapes.

    Args:
        onnx: the imported `onnx` module.
        opset: the ONNX opset the nodes target.
        dtype: the model's float dtype (NumPy), used for every float constant.
    """

    def __init__(self, onnx, opset, dtype):
        self.onnx, self.helper = onnx, onnx.helper
        self.opset = opset
        self.dtype = np.dtype(dtype)
        self.elem_type = self.helper.np_dtype_to_tensor_dtype(self.dtype)
        self.nodes, self.initializers = [], []
        self._used = set()
        self._shapes = {}
        self._weights = {}              # (id(variable), name) -> initializer: shared layers
        self.scope = ""                 # the layer being converted: prefix of its tensor names

    # -- names and shapes -----------------------------------------------------------------
    def name(self, base):
        """A tensor or node name not used before, from `base` (prefixed by the current layer)."""
        base = f"{self.scope}/{base}" if self.scope else base
        name, k = base, 1
        while name in self._used:
            name, k = f"{base}_{k}", k + 1
        self._used.add(name)
        return name

    def reserve(self, name):
        """Claim `name` exactly (graph inputs and outputs); False when it is taken."""
        if name in self._used:
            return False
        self._used.add(name)
        return True

    def set_shape(self, name, shape):
        self._shapes[name] = None if shape is None else tuple(shape)

    def shape(self, name):
        """The symbolic shape (batch axis None) of a tensor a layer produced or the model took."""
        return self._shapes.get(name)

    def rank(self, name):
        return len(self._shapes[name])

    # -- nodes and constants --------------------------------------------------------------
    def const(self, value, name="const", dtype=None):
        """An initializer holding `value` (floats in the model's dtype unless `dtype` is given)."""
        arr = np.asarray(value)
        if dtype is not None:
            arr = arr.astype(dtype)
        elif arr.dtype.kind == "f" or arr.dtype.kind == "b":
            arr = arr.astype(self.dtype)
        tname = self.name(name)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.array(arr, order="C"),
                                                                   tname))
        return tname

    def ints(self, values, name="ints"):
        """An int64 initializer (shapes, axes, pads, slice bounds)."""
        return self.const(np.asarray(values, dtype=np.int64), name, np.int64)

    def op(self, op_type, inputs, outputs=1, name=None, **attrs):
        """Append a node; returns its output name (or a list of `outputs` names when > 1).
        An input of None is an omitted optional input (written as the empty name)."""
        outs = [self.name(name or op_type.lower()) for _ in range(outputs)]
        ins = ["" if i is None else i for i in inputs]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self.helper.make_node(op_type, ins, outs,
                                                name=self.name(f"{op_type}_node"), **attrs))
        return outs[0] if outputs == 1 else outs

    @contextlib.contextmanager
    def subgraph(self):
        """Collect the nodes added inside the block in a fresh list (a Scan body); constants
        still go to the main graph's initializers, which a subgraph may read."""
        outer, self.nodes = self.nodes, []
        try:
            yield self
        finally:
            self.body_nodes, self.nodes = self.nodes, outer

    def value_info(self, name, shape, elem_type=None):
        """A typed graph input/output (None for an unknown size)."""
        return self.helper.make_tensor_value_info(
            name, self.elem_type if elem_type is None else elem_type, shape)

    def zeros(self, like, width):
        """Zeros `(batch of like, width)` in the model's dtype (batch known at run time)."""
        batch = self.slice(self.op("Shape", [like]), [0], [1], [0])
        dims = self.op("Concat", [batch, self.ints([width], "width")], axis=0)
        zero = self.onnx.numpy_helper.from_array(np.zeros(1, self.dtype), "zero")
        return self.op("ConstantOfShape", [dims], value=zero)

    # -- helpers for ops whose form depends on the opset ------------------------------------
    def reduce(self, op_type, x, axes, keepdims=True):
        """`ReduceMean`/`ReduceMax`/`ReduceSum`/... over `axes` (axes as an input from opset 18,
        and always for ReduceSum)."""
        axes = [int(a) for a in axes]
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.op(op_type, [x, self.ints(axes, "axes")], keepdims=int(keepdims))
        return self.op(op_type, [x], axes=axes, keepdims=int(keepdims))

    def transpose(self, x, perm):
        return self.op("Transpose", [x], perm=[int(p) for p in perm])

    def reshape(self, x, shape):
        """Reshape to `shape` (ONNX rules: 0 copies the input's size, -1 is inferred)."""
        return self.op("Reshape", [x, self.ints(shape, "shape")])

    def unsqueeze(self, x, axes):
        return self.op("Unsqueeze", [x, self.ints(axes, "axes")])

    def squeeze(self, x, axes):
        return self.op("Squeeze", [x, self.ints(axes, "axes")])

    def slice(self, x, starts, ends, axes, steps=None):
        ins = [x, self.ints(starts, "starts"), self.ints(ends, "ends"), self.ints(axes, "axes")]
        if steps is not None:
            ins.append(self.ints(steps, "steps"))
        return self.op("Slice", ins)

    def mul(self, x, y):
        return self.op("Mul", [x, y])

    def add(self, x, y):
        return self.op("Add", [x, y])

    def scalar(self, v, name="scalar"):
        return self.const(np.asarray(v, dtype=self.dtype), name)

    def weight(self, variable, name, transform=None):
        """An initializer from a layer weight, optionally transformed (a transpose...). A layer
        called several times (a shared layer, a nested model used twice) stores it once: `name`
        stands for the transform, which is the same at every call of one converter."""
        key = (id(variable), name) if hasattr(variable, "value") else None
        if key in self._weights:
            return self._weights[key][1]
        arr = np.asarray(variable.value if hasattr(variable, "value") else variable)
        if transform is not None:
            arr = transform(arr)
        tname = self.const(arr.astype(self.dtype), name)
        if key is not None:                 # the variable is kept alive so its id stays its own
            self._weights[key] = (variable, tname)
        return tname
