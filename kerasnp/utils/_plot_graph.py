"""What `plot_model` draws: one item per layer, its label lines, and the edges between layers.

A model level is read from its graph nodes (`model._nodes`): a layer called several times is one
item with an edge per call, as in Keras. A Sequential model's InputLayer is not drawn (Keras draws
`model.layers`); a subclassed model is one box. With `expand_nested`, a nested functional or
Sequential model becomes a sub-level (drawn in a frame) instead of a box.
"""
from .. import config
from ..layers.base import shape_str

_WRAP = 44          # a list of shapes longer than this is written one shape per line


class Item:
    """A box (`sub` is None) or an expanded nested model (`sub` is its `Level`)."""

    __slots__ = ("layer", "lines", "sub", "calls")

    def __init__(self, layer):
        self.layer, self.lines, self.sub, self.calls = layer, [], None, []


class Level:
    """One model's items, edges `(u, v, output index of u, input position of v)`, the items
    that take the model's inputs (in order) and the `(item, output index)` of its outputs."""

    def __init__(self, model, items, edges, inputs, outputs):
        self.model, self.items, self.edges = model, items, edges
        self.inputs, self.outputs = inputs, outputs


def is_graph_model(layer):
    """A functional or Sequential model with a graph to draw (not a subclassed one)."""
    from ..models import Model
    return isinstance(layer, Model) and type(layer).call is Model.call and bool(layer._nodes)


def _is_sequential(model):
    from ..models import Sequential
    return isinstance(model, Sequential)


def read_level(model, opts, expand_nested):
    """The `Level` of `model` (see the module docstring); `opts` are the label switches."""
    from ..layers.core import InputLayer
    if not is_graph_model(model):                   # subclassed: one box, as Keras draws it
        item = Item(model)
        item.lines = label_lines(model, [], opts)
        return Level(model, [item], [], [0], [(0, 0)])
    nodes, sequential = model._nodes, _is_sequential(model)
    items, item_of, node_item = [], {}, []
    for node in nodes:
        layer = node.layer
        if sequential and isinstance(layer, InputLayer):
            node_item.append(None)
            continue
        k = item_of.get(id(layer))
        if k is None:
            k = item_of[id(layer)] = len(items)
            items.append(Item(layer))
        node_item.append(k)
        ins = [_output_shape(nodes, j, idx) for j, idx in zip(node.inputs, node.indices)]
        items[k].calls.append((ins or None, _output_shape(nodes, len(node_item) - 1, None)))
    edges, seen = [], set()
    for i, node in enumerate(nodes):
        v = node_item[i]
        for pos, (j, idx) in enumerate(zip(node.inputs, node.indices)):
            u = node_item[j]
            edge = (u, v, idx or 0, pos)
            if v is not None and u is not None and edge not in seen:
                seen.add(edge)
                edges.append(edge)
    for item in items:
        if expand_nested and is_graph_model(item.layer):
            item.sub = read_level(item.layer, opts, expand_nested)
        else:
            item.lines = label_lines(item.layer, item.calls, opts)
    if sequential:
        inputs = [0] if items else []
    else:
        inputs = [node_item[i] for i in model._input_ids]
    outputs = [(node_item[i], k or 0) for i, k in model._output_refs if node_item[i] is not None]
    return Level(model, items, edges, inputs, outputs)


def _output_shape(nodes, j, idx):
    """Output `idx` (None: all) of node j. The graph keeps the shapes of a multi-output layer
    only where they are model outputs; the others are asked of the layer."""
    shape = nodes[j].shape
    if isinstance(shape, list) and (None in shape or not shape) or \
            (shape is None and nodes[j].inputs):
        node = nodes[j]
        try:
            if is_graph_model(node.layer):
                shape = list(node.layer.output_shapes)
            else:
                ins = [_output_shape(nodes, i, k) for i, k in zip(node.inputs, node.indices)]
                shape = list(node.layer.compute_output_shape(ins if len(ins) > 1 else ins[0]))
        except Exception:       # unknown: the label says '?'
            return None
    if idx is None or not isinstance(shape, list):
        return shape
    return tuple(shape[idx]) if idx < len(shape) and shape[idx] is not None else None


def _one(values):
    """The value all calls agree on, else 'multiple' (a shared layer on different shapes)."""
    distinct = list(dict.fromkeys(values))
    return distinct[0] if len(distinct) == 1 else "multiple"


def _shapes_lines(title, shapes):
    """`Input shape: (None, 4)`, or one shape per line for a long list of shapes."""
    if shapes == "multiple" or not isinstance(shapes, list):
        return [f"{title}: {shapes}"]
    text = f"{title}: [{', '.join(shapes)}]"
    if len(text) <= _WRAP:
        return [text]
    out = [f"{title}: [{shapes[0]},"]
    out += [f"  {s}," for s in shapes[1:-1]] + [f"  {shapes[-1]}]"]
    return out


def _shape_text(shape):
    if isinstance(shape, list):
        return [shape_str(s) for s in shape]
    return shape_str(shape)


def activation_name(layer):
    act = getattr(layer, "activation", None)
    if act is None:
        return None
    return getattr(act, "name", None) or getattr(act, "__name__", None) or str(act)


def label_lines(layer, calls, opts):
    """The box's text: `[(text, style)]`, style one of header/body/trainable/frozen."""
    from ..layers.core import InputLayer
    cls = type(layer).__name__
    lines = [(f"{layer.name} ({cls})" if opts["show_layer_names"] else cls, "header")]
    if opts["show_layer_activations"]:
        name = activation_name(layer)
        if name is not None:
            lines.append((f"Activation: {name}", "body"))
    if opts["show_shapes"]:
        if calls:
            if not isinstance(layer, InputLayer) and calls[0][0] is not None:
                ins = _one(tuple(_freeze(_shape_text(c[0] if len(c[0]) > 1 else c[0][0]))
                                 for c in calls))
                lines += [(t, "body") for t in _shapes_lines("Input shape", _thaw(ins))]
            outs = _one(tuple(_freeze(_shape_text(c[1])) for c in calls))
            lines += [(t, "body") for t in _shapes_lines("Output shape", _thaw(outs))]
        else:
            lines.append(("Output shape: ?", "body"))
    if opts["show_dtype"]:
        lines.append((f"Output dtype: {layer.dtype or config.floatx()}", "body"))
    if opts["show_trainable"] and layer.weights:
        lines.append(("Trainable", "trainable") if layer.trainable else
                     ("Non-trainable", "frozen"))
    return lines


def _freeze(text):
    return tuple(text) if isinstance(text, list) else text


def _thaw(text):
    return list(text) if isinstance(text, tuple) else text
