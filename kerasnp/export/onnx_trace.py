"""Custom layers in the exported graph: a layer without a converter whose `call` is written
with `kerasnp.ops` and layers is traced on symbolic tensors, as a subclassed model's `call` is,
and its graph (ops become `OpLayer` nodes, sublayers their own nodes) is converted in its place.

`call` then runs once with `KerasTensor`s of the inputs' shapes: what it computes from the
tensors becomes graph nodes; what it computes without them (a position table from
`ops.arange(ops.shape(x)[-1])`, a sublayer called on that) becomes constants, as `predict`
would compute them for inputs of that shape.
"""
from ..layers import _context
from ..layers.base import Layer
from ..layers.core import Input
from ..models.graph import KerasTensor, trace
from .onnx_builder import TensorName
from .onnx_registry import ExportError


class _Traced:
    """The three attributes of a model that `convert_model` reads."""

    def __init__(self, nodes, input_ids, output_refs):
        self._nodes, self._input_ids, self._output_refs = nodes, input_ids, output_refs


def traceable(layer):
    """Whether `layer` is a layer with a `call` of its own (something to trace)."""
    return isinstance(layer, Layer) and type(layer).call is not Layer.call


def trace_layer(b, layer, args, kwargs):
    """`(graph, input names, several outputs?)` of `layer.call` on the tensors in `args` and
    `kwargs` (ONNX tensor names), or an ExportError saying why it cannot be traced."""
    if kwargs.get("mask") is not None:
        raise ExportError("it is called with a mask, which a traced call() cannot take.")
    symbolic, names = {}, []

    def sym(v):
        if isinstance(v, TensorName):
            if v not in symbolic:
                shape = b.shape(v)
                if shape is None:
                    raise ExportError(f"the shape of its input {v!r} is unknown.")
                symbolic[v] = Input(tuple(shape[1:]))
                names.append(v)
            return symbolic[v]
        if isinstance(v, (list, tuple)):
            return type(v)(sym(t) for t in v)
        if isinstance(v, dict):
            return {k: sym(t) for k, t in v.items()}
        return v

    s_args = [sym(a) for a in args]
    s_kwargs = {k: sym(v) for k, v in kwargs.items() if k != "mask"}
    try:
        with _context.isolated():
            out = type(layer).call(layer, *s_args, **s_kwargs)
    except Exception as err:            # whatever stops the trace is the reason to report
        raise ExportError(f"kerasnp has no converter for {type(layer).__name__} and its "
                          f"call() could not be traced on symbolic tensors ({err}).") from None
    many = isinstance(out, (list, tuple))
    outs = list(out) if many else [out]
    if not outs or not all(isinstance(t, KerasTensor) for t in outs):
        raise ExportError(f"kerasnp has no converter for {type(layer).__name__} and its call() "
                          "returned values that do not depend on its inputs.")
    try:
        nodes, input_ids, output_refs = trace([symbolic[n] for n in names], outs)
    except ValueError as err:
        raise ExportError(f"the graph of its call() could not be traced ({err}).") from None
    return _Traced(nodes, input_ids, output_refs), names, many
