"""kerasnp models to Keras 3's `config.json` layout: the writing direction of `.keras`.

Each object becomes `{"module", "class_name", "config", "registered_name"}` as Keras's
`serialize_keras_object` writes it, so that `keras.models.load_model` finds Keras's own class
for every built-in (the module names Keras's public namespace; custom classes keep their
registered name, which Keras resolves through its own `custom_objects`). Layer configs are
kerasnp's `get_config` with the dtype as a Keras `DTypePolicy` and nested initializers,
regularizers and constraints wrapped the same way; `InputLayer` gets `batch_shape`. A functional
model lists its layers in Keras's order with their `inbound_nodes`; layers that Keras has no
counterpart for are refused with an error naming them. Ops applied between layers (`OpLayer`
nodes) are written as Keras's op entries by keras_format_ops, the common ones only.
"""
from .._serializable import get_registered_name
from .compile_config import serialize_compile
from .keras_format_layout import Unsupported, is_graph_model, model_layers

_KINDS = (("_initializer", "keras.initializers"), ("_regularizer", "keras.regularizers"),
          ("_constraint", "keras.constraints"))
# Layers Keras 3 files cannot describe (yet), and why.
_NO_KERAS = {
    "MinPooling1D": "a kerasnp layer that Keras does not have",
    "MinPooling2D": "a kerasnp layer that Keras does not have",
    "Wrapper": "a bare Wrapper, which Keras cannot call",
    "IntegerLookup": "a lookup layer, whose vocabulary layout in Keras's files is not checked "
                     "yet (Keras's lookup layers need TensorFlow)",
    "StringLookup": "a lookup layer, whose vocabulary layout in Keras's files is not checked "
                    "yet (Keras's lookup layers need TensorFlow)",
    "TextVectorization": "a lookup layer, whose vocabulary layout in Keras's files is not "
                         "checked yet (Keras's lookup layers need TensorFlow)",
}
# Arguments of kerasnp's config that Keras's class does not take.
_NOT_IN_KERAS = {"SpatialDropout1D": ("trainable",), "SpatialDropout2D": ("trainable",),
                 "SpatialDropout3D": ("trainable",), "Pipeline": ("trainable", "dtype"),
                 "Discretization": ("trainable",)}
_FUNCTIONAL_MODULE = "keras.src.models.functional"


def wrap(obj, module, registered=None):
    """`{"module", "class_name", "config", "registered_name"}` from kerasnp's
    `{"class_name", "config"(, "registered_name")}`."""
    return {"module": module, "class_name": obj["class_name"], "config": obj.get("config"),
            "registered_name": obj.get("registered_name", registered)}


def policy(dtype):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype},
            "registered_name": None}


class Exporter:
    """Serializes one model; `dtype` is the float type of its weights."""

    def __init__(self, dtype):
        self.dtype = dtype

    def layer(self, layer):
        cn = type(layer).__name__
        if cn in _NO_KERAS:
            raise Unsupported(f"layer '{layer.name}' ({cn}) is {_NO_KERAS[cn]}; save the model "
                              "as '.kerasnp'.")
        if is_graph_model(layer):
            return self.model(layer)
        return self._entry(type(layer), layer.get_config(), layer.dtype)

    def _entry(self, cls, config, dtype):
        """A layer's `{"module", "class_name", "config", "registered_name"}` from its kerasnp
        config (nested layer configs, e.g. Bidirectional's `layer`, converted too)."""
        from ..layers.base import LAYERS
        cn = cls.__name__
        builtin = LAYERS.get(cn) is cls
        return {"module": "keras.layers" if builtin else cls.__module__, "class_name": cn,
                "config": self._config(cn, config, dtype),
                "registered_name": None if builtin else get_registered_name(cls)}

    def _config(self, cn, config, dtype):
        cfg = {k: v for k, v in config.items() if k not in _NOT_IN_KERAS.get(cn, ())}
        for key, value in list(cfg.items()):
            for suffix, module in _KINDS:
                if key.endswith(suffix) and isinstance(value, dict) and "class_name" in value:
                    cfg[key] = wrap(value, module)
            cfg[key] = self._nested_layers(cfg[key])
        if cfg.get("activity_regularizer") is not None:
            cfg["activity_regularizer"] = wrap(cfg["activity_regularizer"], "keras.regularizers")
        if cn == "InputLayer":
            shape, batch = cfg.pop("shape"), cfg.pop("batch_size", None)
            cfg.pop("batch_shape", None)
            cfg["batch_shape"] = [batch] + list(shape)
            cfg["dtype"] = dtype or self.dtype
            return cfg
        if "dtype" not in _NOT_IN_KERAS.get(cn, ()):
            cfg["dtype"] = policy(dtype or self.dtype)
        return cfg

    def _nested_layers(self, value):
        """Layer configs inside a config (`{"class_name", "config"}` of a kerasnp layer class,
        or lists of them) in Keras's layout; other values unchanged."""
        from ..layers.base import LAYERS
        from .._serializable import lookup
        if isinstance(value, list):
            return [self._nested_layers(v) for v in value]
        if not (isinstance(value, dict) and isinstance(value.get("class_name"), str)
                and isinstance(value.get("config"), dict) and "module" not in value):
            return value
        cls = lookup((value.get("registered_name"), value["class_name"]), None) or \
            LAYERS.get(value["class_name"])
        if not isinstance(cls, type) or not hasattr(cls, "get_config") or \
                not hasattr(cls, "compute_output_shape"):
            return value
        config = value["config"]
        return self._entry(cls, config, config.get("dtype"))

    # -- models -------------------------------------------------------------------------------
    def model(self, model):
        from ..models.sequential import Sequential
        if isinstance(model, Sequential):
            layers = [self.layer(l) for l in model.layers]
            shape = list(model.input_spec_shape) if model.built else None
            if model._input_layer is not None:
                layers.insert(0, self.layer(model._input_layer))
            cfg = {"name": model.name, "trainable": model.trainable,
                   "dtype": policy(self.dtype), "layers": layers}
            if shape is not None:
                cfg["build_input_shape"] = shape
            return {"module": "keras", "class_name": "Sequential", "config": cfg,
                    "registered_name": None, "build_config": {"input_shape": shape}}
        return {"module": _FUNCTIONAL_MODULE, "class_name": "Functional",
                "config": self._functional(model), "registered_name": "Functional",
                "build_config": {"input_shape": None}}

    def _functional(self, model):
        nodes = model._nodes
        call_index, counts = {}, {}
        for i, node in enumerate(nodes):            # the k-th call of each layer
            if node.inputs:
                k = counts.get(id(node.layer), 0)
                counts[id(node.layer)] = k + 1
                call_index[i] = k
            else:
                call_index[i] = 0

        def tensor(i, k):
            shape = nodes[i].shape if k is None else nodes[i].shape[k]
            return {"class_name": "__keras_tensor__", "config": {
                "shape": list(shape) if shape is not None else None, "dtype": self.dtype,
                "keras_history": [nodes[i].layer.name, call_index[i], k or 0]}}

        layers = []
        for layer in model_layers(model):
            if type(layer).__name__ == "OpLayer":
                entry = self._op(model, layer, tensor)
            else:
                entry = self.layer(layer)
                entry["inbound_nodes"] = [self._node(model, i, tensor)
                                          for i, n in enumerate(nodes)
                                          if n.layer is layer and n.inputs]
            entry["name"] = layer.name
            layers.append(entry)

        def endpoints(refs, multi):
            # Keras numbers a nested functional model's calls from 1 here (not in node args)
            out = [[nodes[i].layer.name, call_index[i] + nested_functional(nodes[i].layer),
                    k or 0] for i, k in refs]
            return out if multi else out[0]
        return {"name": model.name, "trainable": model.trainable, "layers": layers,
                "input_layers": endpoints([(i, None) for i in model._input_ids],
                                          model._multi_input),
                "output_layers": endpoints(model._output_refs, model._multi_output)}

    def _op(self, model, layer, tensor):
        """An op between layers as Keras writes it (see keras_format_ops)."""
        from .keras_format_ops import write_op
        calls = [n for n in model._nodes if n.layer is layer]
        if len(calls) != 1:
            raise Unsupported(f"layer '{layer.name}' (OpLayer) is called {len(calls)} times; "
                              "Keras writes one node per op. Save the model as '.kerasnp'.")
        node = calls[0]
        refs = [tensor(j, k) for j, k in zip(node.inputs, node.indices)]
        entry, call = write_op(layer, node, lambda t: self._fill(t, refs, layer))
        entry["inbound_nodes"] = [call]
        return entry

    def _node(self, model, i, tensor):
        node = model._nodes[i]
        refs = [tensor(j, k) for j, k in zip(node.inputs, node.indices)]
        if node.args is None:
            x = refs if (node.list_input or len(refs) > 1) else refs[0]
            return {"args": [x], "kwargs": {}}
        return {"args": self._fill(list(node.args), refs, node.layer),
                "kwargs": self._fill(dict(node.kwargs), refs, node.layer)}

    def _fill(self, t, refs, layer):
        """A call template with its tensors (`_Ref`s) replaced by `refs`."""
        from ..models.graph import _Ref
        if isinstance(t, _Ref):
            return refs[t.k]
        if isinstance(t, (list, tuple)):
            return [self._fill(v, refs, layer) for v in t]
        if isinstance(t, dict):
            return {k: self._fill(v, refs, layer) for k, v in t.items()}
        if t is None or isinstance(t, (bool, int, float, str)):
            return t
        raise Unsupported(f"layer '{layer.name}' is called with an argument of type "
                          f"{type(t).__name__}, which Keras 3 files cannot describe; save "
                          "the model as '.kerasnp'.")


def nested_functional(layer):
    """1 for a functional model (Keras's `Functional`, not `Sequential`), else 0."""
    from ..models.sequential import Sequential
    return int(is_graph_model(layer) and not isinstance(layer, Sequential))


def model_config(model, dtype):
    """The whole `config.json` of a model, `compile_config` included when it is compiled."""
    if is_graph_model(model):
        out = Exporter(dtype).model(model)
    else:
        out = _subclassed(model, dtype)
    cc = serialize_compile(model)
    if cc is not None:
        out["compile_config"] = compile_config(cc)
    return out


_GRAPH_KEYS = {"layers", "input_ids", "output_ids", "output_indices", "multi_input",
               "multi_output", "output_keys"}


def _subclassed(model, dtype):
    """A subclassed model: its class (found again by its registered name, in Keras through
    `register_keras_serializable` with the same package and name), its own `get_config` and
    the input shape it was built for. Its weights sit under its attribute names."""
    from ..models.model import Model
    cls = type(model)
    if cls.get_config is Model.get_config:
        raise Unsupported(f"model '{model.name}' ({cls.__name__}) is a subclassed model without "
                          "its own get_config(), so no file can rebuild it. Save its weights "
                          "with save_weights('w.weights.h5'), or define get_config() and "
                          "register the class.")
    # kerasnp's Model.get_config adds the traced graph, which Keras's Model.get_config does not
    config = {k: v for k, v in model.get_config().items() if k not in _GRAPH_KEYS}
    entry = Exporter(dtype)._entry(cls, config, model.dtype)
    entry["build_config"] = {"input_shape": list(model.input_spec_shape)
                             if model.input_spec_shape is not None else None}
    return entry


def compile_config(cc):
    """kerasnp's compile config (see `compile_config.serialize_compile`) in Keras's layout."""
    opt = dict(cc["optimizer"])
    config = dict(opt.get("config") or {})
    lr = config.get("learning_rate")
    if isinstance(lr, dict):
        config["learning_rate"] = wrap(lr, "keras.optimizers.schedules")
    opt["config"] = config
    return {"optimizer": wrap(opt, "keras.optimizers", None),
            "loss": _objects(cc["loss"], "keras.losses"),
            "loss_weights": cc["loss_weights"],
            "metrics": _objects(cc["metrics"], "keras.metrics"),
            "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
            "jit_compile": False}


def _objects(item, module):
    if isinstance(item, list):
        return [_objects(i, module) for i in item]
    if isinstance(item, dict) and "class_name" not in item:
        return {k: _objects(v, module) for k, v in item.items()}
    if isinstance(item, dict):
        if item["class_name"] == "function":
            return item.get("registered_name") or item["config"]
        return wrap(item, module)
    return item
