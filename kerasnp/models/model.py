"""Model: an ordered graph of layer calls that is itself a layer, and that trains.

Forward runs the nodes in order; backward runs them in reverse, summing gradients where a tensor
fans out. Sequential is the chain case of the same structure, so summary, weights and training have
one code path (`training.TrainingMixin`).
"""
from ..layers.base import Layer, register
from ..layers.core import InputLayer
from ..saving.mixin import SavingMixin
from ..saving.serialization import functional_from_config, serialize_layer
from . import graph
from .training import TrainingMixin


@register
class Model(SavingMixin, TrainingMixin, Layer):
    """A model built from inputs and outputs (the functional API), or subclassed with `call`.

    Args:
        inputs: a `KerasTensor` from `kerasnp.Input`, or a list of them.
        outputs: the tensor(s) produced by calling layers on `inputs`.
        name: model name.

    Example:
        >>> import kerasnp as keras
        >>> x = keras.Input((4,))
        >>> model = keras.Model(x, keras.layers.Dense(2)(x))
        >>> model.count_params()
        10
    """

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        TrainingMixin.__init__(self)
        self._nodes, self._input_ids, self._output_ids = [], [], []
        self._all_layers = []
        self._tensors = ([], [])
        self._multi_input = self._multi_output = False
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("Model(inputs, outputs) needs both inputs and outputs. "
                                 f"Received: inputs={inputs!r}, outputs={outputs!r}")
            self._multi_input = isinstance(inputs, (list, tuple))
            self._multi_output = isinstance(outputs, (list, tuple))
            ins = list(inputs) if self._multi_input else [inputs]
            outs = list(outputs) if self._multi_output else [outputs]
            self._set_graph(*graph.trace(ins, outs))
            self._tensors = (ins, outs)

    # -- subclassing --------------------------------------------------------------------------
    def call(self, inputs, training=False):
        """The model's computation. Subclasses override it, composing layers created in
        `__init__`; kerasnp traces it once on symbolic inputs (at `build`, or at the first call
        on data) into the same layer graph the functional API builds, so backward, summary and
        saving follow the recorded layer calls. Python control flow that depends on `training`
        is not traced: layers such as Dropout receive `training` from fit/predict themselves."""
        if not self._nodes:
            raise NotImplementedError(
                f"Model '{self.name}' has no graph: build it as Model(inputs, outputs), or "
                "subclass Model and implement call(self, inputs, training=False).")
        return self.forward(inputs, training=training)

    def build(self, input_shape=None):
        """Trace `call` on symbolic inputs of `input_shape` (a tuple with the batch axis, e.g.
        `(None, 784)`, or a list of them for several inputs)."""
        if self._nodes:
            return
        if type(self).call is Model.call:
            raise ValueError(f"Model '{self.name}' has no layers graph: create it as "
                             "Model(inputs, outputs) or subclass Model and define call().")
        if input_shape is None:
            raise ValueError(f"Model '{self.name}' (subclassed) needs an input shape to build: "
                             "call model.build((None, features)) or fit/predict on data.")
        from ..layers.core import Input
        multi = isinstance(input_shape, list)
        shapes = input_shape if multi else [input_shape]
        inputs = [Input(tuple(s)[1:]) for s in shapes]
        try:
            outputs = self.call(inputs if multi else inputs[0])
        except graph.SymbolicOpError:
            raise
        self._multi_input = multi
        self._multi_output = isinstance(outputs, (list, tuple))
        outs = list(outputs) if self._multi_output else [outputs]
        self._set_graph(*graph.trace(inputs, outs))
        self._tensors = (inputs, outs)

    def _build_once(self, input_shape):
        if not self.built or not self._nodes:
            self.build(input_shape)
            self.built = True

    # -- graph ------------------------------------------------------------------------------
    def _set_graph(self, nodes, input_ids, output_ids):
        self._nodes, self._input_ids, self._output_ids = nodes, input_ids, output_ids
        layers, seen = [], set()
        for node in nodes:
            if id(node.layer) not in seen:
                seen.add(id(node.layer))
                layers.append(node.layer)
        names = [l.name for l in layers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"Model '{self.name}': layer names must be unique; "
                             f"{', '.join(repr(d) for d in dup)} used more than once.")
        uses = {}
        for node in nodes:
            uses[id(node.layer)] = uses.get(id(node.layer), 0) + 1
        self._shared = {id(n.layer) for n in nodes if uses[id(n.layer)] > 1}
        self._caches = [None] * len(nodes)
        self._vals = [None] * len(nodes)
        self._all_layers = layers
        self._sublayers = [l for l in layers if not isinstance(l, InputLayer)]
        self.input_spec_shape = (nodes[input_ids[0]].shape if len(input_ids) == 1
                                 else [nodes[i].shape for i in input_ids])
        self.built = True

    @property
    def layers(self):
        """The model's layers in call order (a functional model lists its InputLayers too)."""
        return list(self._all_layers) if self._nodes else list(self._sublayers)

    def get_layer(self, name=None, index=None):
        """Return a layer by `name` or by `index` (into `layers`)."""
        layers = self.layers
        if index is not None:
            if not isinstance(index, int) or not -len(layers) <= index < len(layers):
                raise ValueError(f"Model '{self.name}' has {len(layers)} layers; index must be "
                                 f"in [0, {len(layers)}). Received: index={index!r}")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: '{name}'. Model '{self.name}' has layers: "
                         f"{', '.join(l.name for l in layers)}.")

    @property
    def inputs(self):
        """The model's symbolic input tensors (as `keras.Input` made them)."""
        return list(self._tensors[0])

    @property
    def outputs(self):
        """The model's symbolic output tensors: call layers on them to extend the model."""
        return list(self._tensors[1])

    @property
    def input(self):
        return self.inputs if self._multi_input else self.inputs[0]

    @property
    def output(self):
        return self.outputs if self._multi_output else self.outputs[0]

    @property
    def output_shape(self):
        shapes = [self._nodes[i].shape for i in self._output_ids]
        return shapes if self._multi_output else shapes[0]

    @property
    def input_shape(self):
        return self.input_spec_shape

    def compute_output_shape(self, input_shape):
        if not self._nodes:
            self._build_once(input_shape)
        return self.output_shape

    def _input_layers_need_dx(self, flag):
        """Tell layers fed straight from this model's inputs whether their dx is wanted."""
        feeds = set(self._input_ids)
        for node in self._nodes:
            if node.inputs and all(i in feeds for i in node.inputs):
                layer = node.layer
                layer._needs_dx = flag or any(
                    n.layer is layer and not all(i in feeds for i in n.inputs)
                    for n in self._nodes if n.inputs)
                if isinstance(layer, Model):
                    layer._input_layers_need_dx(layer._needs_dx)

    # -- compute ----------------------------------------------------------------------------
    def forward(self, x, training=False):
        nodes, vals, caches, shared = self._nodes, self._vals, self._caches, self._shared
        xs = x if self._multi_input else (x,)
        for k, i in enumerate(self._input_ids):
            vals[i] = xs[k]
        act_loss = 0.0
        for i, node in enumerate(nodes):
            if not node.inputs:
                continue
            layer = node.layer
            arg = vals[node.inputs[0]] if len(node.inputs) == 1 else [vals[j] for j in node.inputs]
            vals[i] = y = layer.forward(arg, training)
            if id(layer) in shared:
                caches[i] = dict(layer.__dict__)     # per-call state of a layer used twice
            if layer.activity_regularizer is not None:
                act_loss += float(layer.activity_regularizer(y))
            if isinstance(layer, Model):
                act_loss += layer._activity_loss
        self._activity_loss = act_loss
        if self._multi_output:
            return [vals[i] for i in self._output_ids]
        return vals[self._output_ids[0]]

    _activity_loss = 0.0

    def backward(self, dy):
        nodes, vals, caches, shared = self._nodes, self._vals, self._caches, self._shared
        grads = [None] * len(nodes)
        for k, i in enumerate(self._output_ids):
            g = dy[k] if self._multi_output else dy
            grads[i] = g if grads[i] is None else grads[i] + g
        for i in range(len(nodes) - 1, -1, -1):
            node, g = nodes[i], grads[i]
            if g is None or not node.inputs:
                continue
            layer = node.layer
            if id(layer) in shared:
                layer.__dict__.update(caches[i])
            if layer.activity_regularizer is not None:
                g = g + layer.activity_regularizer.gradient(vals[i])
            dx = layer.backward(g)
            grads[i] = None
            if dx is None:
                continue
            parts = dx if len(node.inputs) > 1 else (dx,)
            for j, d in zip(node.inputs, parts):
                if d is not None:
                    grads[j] = d if grads[j] is None else grads[j] + d
        outs = [grads[i] for i in self._input_ids]
        return outs if self._multi_input else outs[0]

    def __call__(self, inputs, training=False):
        first = inputs[0] if isinstance(inputs, (list, tuple)) and inputs else inputs
        if isinstance(first, graph.KerasTensor):
            return Layer.__call__(self, inputs, training=training)
        return self.forward(self._arg(self._cast_inputs(inputs)), training=training)

    def get_config(self):
        """The graph: one entry per layer call (`class_name`, `config`, `inbound` node ids)."""
        cfg = {"name": self.name, "trainable": self.trainable, "layers": [
            {**serialize_layer(n.layer), "inbound": list(n.inputs)} for n in self._nodes],
            "input_ids": list(self._input_ids), "output_ids": list(self._output_ids),
            "multi_input": self._multi_input, "multi_output": self._multi_output}
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild a model from `get_config()` (a subclass's own config goes to its `__init__`).

        Layer classes are resolved from kerasnp's registry, `custom_objects` and classes
        registered with `kerasnp.saving.register_serializable`, never imported by name.
        """
        if all(k in config for k in ("layers", "input_ids", "output_ids")):
            return functional_from_config(cls, config, custom_objects)
        return cls(**config)

    def check_gradients(self, x, y, eps=1e-6, print_fn=None, tol=1e-5):
        """Check every layer's backward inside this model against float64 central differences.

        Prints a per-layer, per-weight table of max relative errors (failures flagged) and returns
        it. See `kerasnp.utils.gradient_check.model_gradient_report`.
        """
        from ..utils.gradient_check import model_gradient_report
        return model_gradient_report(self, x, y, eps=eps, print_fn=print_fn, tol=tol)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None, show_flops=False):
        """Print (or pass to `print_fn`, one line per call) Keras's table of layers, output
        shapes and parameters; functional models add `Connected to`. `expand_nested` lists the
        layers of nested models; `show_flops` adds multiply-adds per sample (beyond Keras)."""
        from .summary import print_summary
        return print_summary(self, line_length=line_length, print_fn=print_fn,
                             show_trainable=show_trainable, expand_nested=expand_nested,
                             show_flops=show_flops)
