"""Where Keras 3 keeps each variable in its HDF5 weights: the layout both directions share.

Keras saves a model by walking it: an object's own variables go to `<path>/vars/0`, `1`, ...
(trainable ones first, then the others, each in creation order) and the `vars` group carries the
object's name; a Sequential or functional model's layers follow under `<path>/layers/<key>`,
where `<key>` is the snake_case class name, made unique by `_1`, `_2`, ... in the order of
`model.layers` (a functional model lists its InputLayers too, a Sequential does not); the
optimizer's variables are under `optimizer/vars`. Layer names never appear in paths, so a model
rebuilt with other auto-names still fits. A functional model's layer order is Keras's
(`map_graph`: by depth from the outputs, ties in the order a depth-first walk from the outputs
meets them), which `keras_order` recomputes for kerasnp's graphs.
"""
import re

import numpy as np

from .._serializable import ConfigError


class Unsupported(ConfigError):
    """A model that Keras 3's files cannot describe (yet): its `.keras` file would not open in
    Keras."""


class Entry:
    """One object's variables: `path` of its group ('' for the root), `name` (the `vars`
    group's `name` attribute), `layer`, `variables` in Keras's order and `extra`: the
    `(name, array)` of variables Keras keeps after those and kerasnp does not (written with
    these values, checked and ignored when read)."""

    __slots__ = ("path", "name", "layer", "variables", "extra")

    def __init__(self, path, name, layer, variables):
        self.path, self.name, self.layer, self.variables = path, name, layer, variables
        self.extra = _extra(layer, variables)

    @property
    def vars_path(self):
        return f"{self.path}/vars" if self.path else "vars"


def _extra(layer, variables):
    """Keras's `Normalization` also keeps the `count` of samples adapt() saw (an int scalar that
    inference does not use)."""
    from ..layers.base import LAYERS
    cn = type(layer).__name__
    if cn == "Normalization" and LAYERS.get(cn) is type(layer) and variables:
        return [("count", np.zeros((), np.int64))]
    return []


def to_snake_case(name):
    """Keras's `naming.to_snake_case` (differs from kerasnp's auto-names for e.g. 'ReLU2')."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def keras_class_name(layer):
    """The Keras class name of a kerasnp layer or model (a functional model is 'Functional')."""
    from ..models.model import Model
    cls = type(layer)
    if cls is Model:
        return "Functional"
    return _KERAS_CLASS.get(cls.__name__, cls.__name__)


# kerasnp classes whose Keras class has another name (Keras exports ours as an alias of it);
# the HDF5 group of a layer is named after Keras's class.
_KERAS_CLASS = {"GroupQueryAttention": "GroupedQueryAttention"}


def own_variables(layer):
    """A layer's own variables as Keras saves them: created trainable first, then the others."""
    made = layer.__dict__.get("_made_trainable", set())
    own = list(layer.__dict__.get("_weights", ()))
    out = [v for v in own if id(v) in made] + [v for v in own if id(v) not in made]
    return _aliases(layer) + out


def _aliases(layer):
    """Variables of a sublayer that Keras also tracks (and saves) as the layer's own, first:
    Keras's `SpectralNormalization` keeps the wrapped layer's kernel as `self.kernel`, so its
    `vars` are `kernel` (the same values as `layer/vars/0`), then `vector_u`."""
    from ..layers.base import LAYERS
    cn = type(layer).__name__
    if cn == "SpectralNormalization" and LAYERS.get(cn) is type(layer) and \
            getattr(layer, "kernel", None) is not None:
        return [layer.kernel]
    return []


def is_graph_model(layer):
    from ..models.model import Model
    return isinstance(layer, Model) and type(layer).call is Model.call


def model_layers(model, order=None):
    """The layers Keras lists for `model`: a Sequential's without its InputLayer, a functional
    model's in Keras's order (or in `order`, a list of layer names read from a Keras file)."""
    from ..models.sequential import Sequential
    if isinstance(model, Sequential):
        return model.layers
    layers = keras_order(model)
    if order is not None:
        by_name = {l.name: l for l in layers}
        if sorted(order) != sorted(by_name):
            raise ConfigError(f"model '{model.name}': the layers of its config do not match the "
                              "rebuilt graph.")
        layers = [by_name[n] for n in order]
    return layers


def entries(model, orders=None):
    """`Entry`s for every object under `model` that owns a `vars` group, in Keras's walk order.

    `orders` maps `id(functional model)` to its layer names in the order of a Keras config.
    """
    out, seen = [], set()
    _walk(model, "", out, seen, orders or {})
    return out


def _walk(layer, path, out, seen, orders):
    if id(layer) in seen:
        return
    seen.add(id(layer))
    out.append(Entry(path, layer.name, layer, own_variables(layer)))
    if is_graph_model(layer):
        _container(model_layers(layer, orders.get(id(layer))), _join(path, "layers"), out, seen,
                   orders)
        return
    for key, value in children(layer):
        if isinstance(value, (list, tuple, dict)):
            _container(value, _join(path, key), out, seen, orders)
        else:
            _walk(value, _join(path, key), out, seen, orders)


def _container(items, path, out, seen, orders):
    """Keras's `_save_container_state`: items keyed by snake_case class name, made unique."""
    from ..layers.base import Layer
    used = {}
    for item in (items.values() if isinstance(items, dict) else items):
        if isinstance(item, Layer):
            key = _unique(to_snake_case(keras_class_name(item)), used)
            _walk(item, _join(path, key), out, seen, orders)
        elif isinstance(item, (list, tuple, dict)):
            _container(item, _join(path, _unique("container", used)), out, seen, orders)


# Built-in layers whose sublayers Keras keeps under other attribute names than kerasnp's.
_RENAMED = {"MultiHeadAttention": (("key_dense", "_key_dense"), ("output_dense", "_output_dense"),
                                   ("query_dense", "_query_dense"),
                                   ("value_dense", "_value_dense")),
            "GroupQueryAttention": (("_gate_dense", "_gate_dense"), ("_key_dense", "_key_dense"),
                                    ("_output_dense", "_output_dense"),
                                    ("_query_dense", "_query_dense"),
                                    ("_value_dense", "_value_dense"))}
# Built-in layers whose sublayers sit under the same attribute names in both (as Keras saves
# them: `cell`, `forward_layer` / `backward_layer`, `layer`, `cells`).
_SAME_NAMES = {"SimpleRNN", "LSTM", "GRU", "RNN", "Bidirectional", "TimeDistributed", "Wrapper",
               "StackedRNNCells", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "Pipeline",
               "SpectralNormalization"}
_INTERNAL = {"_sublayers", "_all_layers", "_stack", "_input_layer", "_nodes", "_tensors"}


def children(layer):
    """`(Keras attribute name, sublayer or container of sublayers)` of a layer, in Keras's walk
    order (public names sorted, then private ones); [] for a layer without sublayers."""
    from ..layers.base import LAYERS, Layer
    subs = layer.__dict__.get("_sublayers", ())
    if not subs:
        return []
    cn = type(layer).__name__
    builtin = LAYERS.get(cn) is type(layer)
    if builtin and cn in _RENAMED:
        return [(key, getattr(layer, attr)) for key, attr in _RENAMED[cn]
                if getattr(layer, attr) is not None]          # (GroupQueryAttention's gate)
    if builtin and cn not in _SAME_NAMES:
        raise Unsupported(
            f"layer '{layer.name}' ({cn}) holds sublayers whose place in Keras's HDF5 layout is "
            "not known to kerasnp yet. Use the '.kerasnp' format for this model.")
    found = []
    for key, value in vars(layer).items():
        if key in _INTERNAL or key.startswith("__"):
            continue
        if isinstance(value, Layer) or _holds_layers(value):
            found.append((key, value))
    if _is_model(layer):              # Keras also walks a subclassed model's `layers` property
        found.append(("layers", list(layer.layers)))
    reached = {id(l) for _, v in found for l in _layers_of(v)}
    missing = [l.name for l in subs if id(l) not in reached]
    if missing:
        raise Unsupported(f"layer '{layer.name}' ({cn}): sublayer(s) {', '.join(missing)} are "
                          "not held by an attribute, so Keras's layout has no place for them.")
    return sorted(found, key=lambda kv: ("~" + kv[0]) if kv[0].startswith("_") else kv[0])


def _is_model(layer):
    from ..models.model import Model
    return isinstance(layer, Model)


def _holds_layers(value):
    from ..layers.base import Layer
    items = value.values() if isinstance(value, dict) else value
    return isinstance(value, (list, tuple, dict)) and any(
        isinstance(v, Layer) or _holds_layers(v) for v in items)


def _layers_of(value):
    from ..layers.base import Layer
    if isinstance(value, Layer):
        return [value]
    if isinstance(value, (list, tuple, dict)):
        items = value.values() if isinstance(value, dict) else value
        return [l for v in items for l in _layers_of(v)]
    return []


def train_variables(model, orders=None):
    """`model.trainable_variables` in Keras's order: the model's layers in Keras's order, each
    layer's own variables and then its sublayers' in the order they were made (the order of the
    optimizer's slots in Keras's files)."""
    seen, out = set(), []
    _train(model, orders or {}, seen, out)
    return out


def _train(layer, orders, seen, out):
    if is_graph_model(layer):
        variables = [v for v in own_variables(layer) if v.trainable]
        for v in variables:
            _add(v, seen, out)
        for sub in model_layers(layer, orders.get(id(layer))):
            _train(sub, orders, seen, out)
        return
    for v in layer.trainable_weights:
        _add(v, seen, out)


def _add(v, seen, out):
    if id(v) not in seen:
        seen.add(id(v))
        out.append(v)


def _unique(name, used):
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _join(*parts):
    return "/".join(p for p in parts if p)


# ----------------------------------------------------------------------------- map_graph
def keras_order(model):
    """The layers of a kerasnp functional model in the order Keras's `map_graph` gives them."""
    nodes = model._nodes
    finished, index, ordered = set(), {}, []

    def visit(n):                          # Keras's _build_map_helper, iteratively
        stack = [(n, False)]
        while stack:
            i, expanded = stack.pop()
            if expanded:
                finished.add(i)
                ordered.append(i)
                continue
            if i in finished:
                continue
            layer = nodes[i].layer
            if id(layer) not in index:
                index[id(layer)] = len(index)
            stack.append((i, True))
            stack.extend((j, False) for j in reversed(nodes[i].inputs))

    for i, _ in model._output_refs:
        visit(i)
    node_depth, layer_depth = {}, {}
    for i in reversed(ordered):
        depth = node_depth.setdefault(i, 0)
        depth = max(depth, layer_depth.get(id(nodes[i].layer), 0))
        layer_depth[id(nodes[i].layer)] = depth
        node_depth[i] = depth
        for j in nodes[i].inputs:
            node_depth[j] = max(depth + 1, node_depth.get(j, 0))
    for i in model._input_ids:                       # inputs the outputs do not use
        if id(nodes[i].layer) not in layer_depth:
            layer_depth[id(nodes[i].layer)] = 0
            index[id(nodes[i].layer)] = -1
    layers = {id(node.layer): node.layer for node in nodes}
    return sorted((layers[k] for k in layer_depth),
                  key=lambda l: (-layer_depth[id(l)], index[id(l)]))
