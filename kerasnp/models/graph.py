"""Symbolic tensors and graph tracing: the structure every model runs on.

Calling a layer on a `KerasTensor` builds the layer from the symbolic shape and returns a new
`KerasTensor` that remembers (layer, input tensors). `trace(inputs, outputs)` turns that history into
nodes in topological order: `[(layer, [input node ids])]`, with model inputs as `InputLayer` nodes.
Sequential models produce the same structure as a chain.
"""


class SymbolicOpError(TypeError):
    """Arithmetic on a symbolic tensor: kerasnp graphs are made of layer calls only."""


def _no_ops(name):
    def op(self, *args, **kwargs):
        raise SymbolicOpError(
            f"Cannot apply '{name}' to the symbolic tensor from layer '{self.name}': kerasnp "
            "records layer calls only (that is how it knows the backward). Use a layer instead: "
            "keras.layers.Add/Subtract/Multiply/Concatenate, Activation, Reshape, or a Lambda "
            "with a backward=.")
    return op


class KerasTensor:
    """A symbolic tensor: a shape (batch axis `None`) and the layer call that produced it."""

    __add__ = __radd__ = _no_ops("+")
    __sub__ = __rsub__ = _no_ops("-")
    __mul__ = __rmul__ = _no_ops("*")
    __truediv__ = __rtruediv__ = _no_ops("/")
    __matmul__ = __rmatmul__ = _no_ops("@")
    __neg__ = _no_ops("unary -")
    __pow__ = _no_ops("**")
    __getitem__ = _no_ops("indexing")
    __array__ = _no_ops("numpy conversion")

    def __init__(self, shape, layer, inputs, dtype=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self._layer = layer
        self._inputs = list(inputs)

    @property
    def name(self):
        return self._layer.name

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, name={self.name}>"


def call_symbolic(layer, inputs):
    """Record `layer(inputs)` on symbolic tensors; build the layer from their shapes."""
    tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if not all(isinstance(t, KerasTensor) for t in tensors):
        raise TypeError(f"Layer '{layer.name}' ({type(layer).__name__}) was called on a mix of "
                        f"symbolic and concrete inputs. Received: {inputs!r}")
    shapes = [t.shape for t in tensors]
    arg = shapes if isinstance(inputs, (list, tuple)) else shapes[0]
    layer._inbound_layer_names = [t.name for t in tensors]    # for error messages at merges
    layer._build_once(arg)
    return KerasTensor(layer.compute_output_shape(arg), layer, tensors)


class Node:
    """One layer call inside a model: the layer, its input node ids and its output shape."""

    __slots__ = ("layer", "inputs", "shape")

    def __init__(self, layer, inputs, shape):
        self.layer, self.inputs, self.shape = layer, list(inputs), shape


def trace(inputs, outputs):
    """Nodes in topological order plus the ids of the input and output nodes."""
    ids, nodes = {}, []
    input_ids = []
    for t in inputs:
        if not isinstance(t, KerasTensor) or t._inputs:
            raise ValueError("Model inputs must be tensors made by kerasnp.Input(shape). "
                             f"Received: {t!r}")
        ids[id(t)] = len(nodes)
        input_ids.append(len(nodes))
        nodes.append(Node(t._layer, [], t.shape))
    visiting = set()

    def visit(t):
        if id(t) in ids:
            return ids[id(t)]
        if not isinstance(t, KerasTensor):
            raise TypeError(f"Model outputs must be symbolic tensors. Received: {t!r}")
        if not t._inputs:
            raise ValueError(f"Graph disconnected: an output depends on the input '{t.name}', "
                             "which is not among the inputs passed to Model(inputs=...).")
        if id(t) in visiting:
            raise ValueError(f"The graph has a cycle through layer '{t.name}'.")
        visiting.add(id(t))
        in_ids = [visit(s) for s in t._inputs]
        visiting.discard(id(t))
        ids[id(t)] = len(nodes)
        nodes.append(Node(t._layer, in_ids, t.shape))
        return ids[id(t)]

    output_ids = [visit(t) for t in outputs]
    return nodes, input_ids, output_ids
