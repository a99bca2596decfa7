"""Walking a model's graph into ONNX nodes: Sequential, functional and nested models, and
subclassed models through the structure traced from their `call`.

The walk mirrors `Model._run_graph`: nodes in topological order, each layer call converted with
its inputs' ONNX tensor names where the run would pass arrays. Tensors stay channels-last
throughout, as kerasnp computes them; only the convolution and pooling converters transpose to
ONNX's channels-first layout around their op (onnxruntime's optimizer cancels the transposes
that meet).
"""
from ..layers.core import InputLayer
from ..models.graph import fill
from ..models.model import Model
from . import onnx_masks, onnx_registry, onnx_trace
from .onnx_builder import TensorName
from .onnx_registry import ExportError, unsupported


def check_exportable(model):
    """Refuse, with the reason, a model whose graph cannot be walked."""
    if not isinstance(model, Model):
        raise ExportError(f"export_onnx takes a kerasnp Model (Sequential, functional or "
                          f"subclassed). Received: model={model!r} (of type "
                          f"{type(model).__name__})")
    if not model.built or not model._nodes:
        raise ExportError(f"Model '{model.name}' is not built, so its structure is unknown: "
                          "call it on data, fit it, or call model.build(input_shape) before "
                          "exporting.")
    if not model._output_refs:
        raise ExportError(f"Model '{model.name}' has no outputs (its train_step does the "
                          "work), so there is nothing to export.")
    for node in model._nodes:
        if isinstance(node.layer, InputLayer) and node.inputs:
            raise ExportError(
                f"Model '{model.name}' ({type(model).__name__}) is subclassed and its call() "
                "could not be traced on symbolic inputs (it uses the values of its data, e.g. "
                "in a Python `if`), so its computation is not a graph ONNX can hold. Export a "
                "functional model instead, or write call() with layers and kerasnp.ops only.")
        if isinstance(node.layer, Model):
            check_exportable(node.layer)


def convert_model(b, model, input_names, input_masks=None):
    """Add the nodes of `model` called on the ONNX tensors `input_names` (one per model input,
    with their masks or None); returns the names of its outputs, in order."""
    nodes = model._nodes
    vals, masks = [None] * len(nodes), [None] * len(nodes)
    for k, (name, i) in enumerate(zip(input_names, model._input_ids)):
        vals[i] = name
        masks[i] = input_masks[k] if input_masks else None
    outer_scope = b.scope
    for i, node in enumerate(nodes):
        if not node.inputs:
            continue
        args = [TensorName(vals[j] if k is None else vals[j][k])
                for j, k in zip(node.inputs, node.indices)]
        arg_masks = [_pick(masks[j], k) for j, k in zip(node.inputs, node.indices)]
        if node.args is None:
            x = args if (node.list_input or len(args) > 1) else args[0]
            call_args, call_kwargs = (x,), {}
        else:
            call_args, call_kwargs = fill(node.args, args), fill(node.kwargs, args)
        call_kwargs.pop("training", None)
        extra, first = onnx_masks.call_masks(node, args, arg_masks)
        b.scope = f"{outer_scope}/{node.layer.name}" if outer_scope else node.layer.name
        vals[i] = convert_layer(b, node.layer, call_args, {**call_kwargs, **extra})
        _record_shapes(b, node, vals[i], args)
        x = call_args[0] if call_args else call_kwargs.get("inputs")
        masks[i] = onnx_masks.output_mask(b, node.layer, x, first)
        _record_mask_shapes(b, masks[i], node, vals[i])
    b.scope = outer_scope
    return [vals[i] if k is None else vals[i][k] for i, k in model._output_refs]


def _pick(item, k):
    """Output `k` of a multi-output node's mask (a single mask covers them all)."""
    return item if k is None or not isinstance(item, (list, tuple)) else item[k]


def _record_mask_shapes(b, mask, node, out):
    """A mask's shape is its tensor's shape without the feature axis (rank known for rules)."""
    ms = mask if isinstance(mask, (list, tuple)) else [mask]
    outs = out if isinstance(out, (list, tuple)) else [out] * len(ms)
    for m, o in zip(ms, outs):
        if isinstance(m, str) and b.shape(m) is None and b.shape(o) is not None:
            b.set_shape(m, b.shape(o)[:-1])


def convert_layer(b, layer, args, kwargs):
    """The ONNX output name(s) of one layer call."""
    if isinstance(layer, Model):
        xs = args[0] if args else kwargs.get("inputs")
        xs = list(xs) if isinstance(xs, (list, tuple)) else [xs]
        if isinstance(xs[0], dict):
            xs = [xs[0][layer._nodes[i].layer.name] for i in layer._input_ids]
        if len(xs) != len(layer._input_ids):
            unsupported(layer, f"it has {len(layer._input_ids)} inputs but is called on "
                        f"{len(xs)} tensors here.")
        masks = kwargs.get("mask")
        masks = list(masks) if isinstance(masks, (list, tuple)) else [masks] * len(xs)
        outs = convert_model(b, layer, xs, masks)
        return outs if layer._multi_output else outs[0]
    fn = onnx_registry.find(layer)
    if fn is not None:
        return fn(b, layer, *args, **kwargs)
    why = "kerasnp has no ONNX converter for it"
    if onnx_trace.traceable(layer):          # a custom layer: its call() on symbolic tensors
        try:
            graph, names, many = onnx_trace.trace_layer(b, layer, args, kwargs)
        except ExportError as err:
            why = str(err).rstrip(".")
        else:
            outs = convert_model(b, graph, names)
            return outs if many else outs[0]
    raise ExportError(
        f"Layer '{layer.name}' ({type(layer).__name__}) cannot be exported to ONNX: {why}. "
        f"Layers that export: {', '.join(onnx_registry.supported_names())}, and custom layers "
        "whose call() is written with kerasnp.ops and these layers.")


def _record_shapes(b, node, out, args):
    """Remember the symbolic shape of each output the node produced (the converters of later
    layers read their inputs' shapes)."""
    if not isinstance(out, (list, tuple)):
        b.set_shape(out, node.shape)
        return
    shapes = node.shape if isinstance(node.shape, list) else None
    if shapes is None or any(s is None for s in shapes):
        in_shapes = [b.shape(a) for a in args]
        try:
            shapes = node.layer.compute_output_shape(in_shapes if len(in_shapes) > 1
                                                     else in_shapes[0])
        except Exception:                   # shape unknown: converters that need it say so
            shapes = None
    if not (isinstance(shapes, list) and len(shapes) == len(out)
            and all(isinstance(s, tuple) for s in shapes)):
        shapes = [None] * len(out)
    for name, shape in zip(out, shapes):
        if isinstance(name, str):
            b.set_shape(name, shape)
