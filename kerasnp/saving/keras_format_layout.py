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

from .._serializable import ConfigError


class Unsupported(ConfigError):
    """A model that Keras 3's files cannot describe (yet): its `.keras` file would not open in
    Keras."""


class Entry:
    """One object's variables: `path` of its group ('' for the root), `name` (the `vars`
    group's `name` attribute), `layer` and `variables` in Keras's order."""

    __slots__ = ("path", "name", "layer", "variables")

    def __init__(self, path, name, layer, variables):
        self.path, self.name, self.layer, self.variables = path, name, layer, variables

    @property
    def vars_path(self):
        return f"{self.path}/vars" if self.path else "vars"


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
    return cls.__name__


def own_variables(layer):
    """A layer's own variables as Keras saves them: created trainable first, then the others."""
    made = layer.__dict__.get("_made_trainable", set())
    own = list(layer.__dict__.get("_weights", ()))
    return [v for v in own if id(v) in made] + [v for v in own if id(v) not in made]


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
        used = {}
        for sub in model_layers(layer, orders.get(id(layer))):
            key = _unique(to_snake_case(keras_class_name(sub)), used)
            _walk(sub, _join(path, "layers", key), out, seen, orders)
        return
    subs = layer.__dict__.get("_sublayers", ())
    if subs:
        raise Unsupported(
            f"layer '{layer.name}' ({type(layer).__name__}) holds sublayers; writing and reading "
            "its weights in Keras's HDF5 layout is not supported yet. Use the '.kerasnp' format "
            "for this model.")


def train_variables(layout):
    """The trainable variables in Keras's order (`model.trainable_variables` there)."""
    seen, out = set(), []
    for entry in layout:
        for v in entry.variables:
            if v.trainable and id(v) not in seen:
                seen.add(id(v))
                out.append(v)
    return out


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
