"""Model: an ordered graph of layer calls that is itself a layer, and that trains.

Forward runs the nodes in order; backward runs them in reverse, summing gradients where a tensor
fans out. Sequential is the chain case of the same structure, so summary, weights and training have
one code path (`training.TrainingMixin`).
"""
import numpy as np

from ..layers import _context
from ..layers.base import Layer, register
from ..layers.base import structure_version as base_structure_version
from ..layers.core import InputLayer
from . import graph, model_config
from .dict_outputs import DictOutputsMixin, check_keys, split_outputs
from .model_files import ModelFileMethods
from .training import TrainingMixin


@register
class Model(ModelFileMethods, DictOutputsMixin, TrainingMixin, Layer):
    """A model built from inputs and outputs (the functional API), or subclassed with `call`.

    Args:
        inputs: a `KerasTensor` from `kerasnp.Input`, or a list of them.
        outputs: the tensor(s) produced by calling layers on `inputs`: one, a list, or a dict
            (outputs named by its keys; the model then returns a dict, see `dict_outputs.py`).
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
            outputs, self._output_keys = split_outputs(outputs, self.name)
            self._multi_output = isinstance(outputs, (list, tuple))
            ins = list(inputs) if self._multi_input else [inputs]
            outs = list(outputs) if self._multi_output else [outputs]
            self._set_graph(*graph.trace(ins, outs))
            self._tensors = (ins, outs)

    # -- subclassing --------------------------------------------------------------------------
    def call(self, inputs, training=None, mask=None):
        """The model's computation. A functional model runs its graph; a subclass overrides
        `call` and composes layers created in `__init__` with any Python code: it runs on real
        arrays at every step (`if training:`, loops over data, prints and breakpoints work)."""
        if not self._functional:
            raise NotImplementedError(
                f"Model '{self.name}' has no graph: build it as Model(inputs, outputs), or "
                "subclass Model and implement call(self, inputs, training=None).")
        return self._run_graph(inputs, training, mask)

    @property
    def _functional(self):
        return type(self).call is Model.call and bool(self._nodes)

    def build(self, input_shape=None):
        """Build the model for inputs of `input_shape` (with the batch axis, e.g. `(None, 784)`,
        or a list of shapes for several inputs). A subclassed model is traced on symbolic
        inputs for its summary and structure (if its `call` allows; else it is run once on
        zeros): either way `call` itself runs on real arrays when the model is used."""
        if self._nodes:
            return
        if type(self).call is Model.call:
            raise ValueError(f"Model '{self.name}' has no layers graph: create it as "
                             "Model(inputs, outputs) or subclass Model and define call().")
        if input_shape is None:
            raise ValueError(f"Model '{self.name}' (subclassed) needs an input shape to build: "
                             "call model.build((None, features)) or fit/predict on data.")
        self._trace_structure(input_shape)

    def _trace_structure(self, input_shape):
        """The summary/structure graph of a subclassed model (see `build`)."""
        from ..layers.core import Input
        multi = isinstance(input_shape, list)
        shapes = input_shape if multi else [input_shape]
        inputs = [Input(tuple(s)[1:]) for s in shapes]
        try:
            with _context.isolated():
                outputs = self.call(inputs if multi else inputs[0])
            outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
            if not all(isinstance(t, graph.KerasTensor) for t in outs):
                raise TypeError("call() returned non-symbolic values")
            traced = graph.trace(inputs, outs)
        except Exception:       # data-dependent Python: run it once on zeros instead
            traced, outputs = self._build_eagerly(shapes, multi)
            outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        self._multi_input = multi
        self._multi_output = isinstance(outputs, (list, tuple))
        self._set_graph(*traced)
        self._tensors = (inputs, outs)

    def _has_call(self):
        return type(self).call is not Model.call or bool(self._nodes)

    def _set_input_structure(self, shapes):
        """Inputs only, no outputs: a model with no call() whose train_step does the work (as
        the Keras GAN guide's model). fit and evaluate pass it the batches as they are."""
        from ..layers.core import Input
        inputs = [Input(tuple(s)[1:]) for s in shapes]
        self._multi_input = len(shapes) > 1
        self._set_graph([graph.Node(t._layer, [], t.shape) for t in inputs],
                        list(range(len(inputs))), [])
        self._tensors = (inputs, [])

    def _build_eagerly(self, shapes, multi):
        """Structure of a subclassed model whose call() cannot be traced symbolically: run it
        on zeros (this builds its layers) and record one node per input and per output."""
        import numpy as np
        from .. import config
        from ..autodiff.tape import stop_recording, unwrap
        from ..layers.core import Input
        arrays = [np.zeros(tuple(2 if d is None else d for d in s), config.floatx())
                  for s in shapes]
        self.built = True              # the call below must not come back to build()
        try:
            with stop_recording(), _context.isolated():
                out = Layer.__call__(self, arrays if multi else arrays[0], training=False)
        except Exception:
            self.built = False
            raise
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        inputs = [Input(tuple(s)[1:]) for s in shapes]
        nodes = [graph.Node(t._layer, [], t.shape) for t in inputs]
        refs = []
        for k, o in enumerate(outs):
            shape = (None,) + np.shape(unwrap(o))[1:]
            marker = InputLayer(shape=shape[1:] or (1,), name=f"output_{k + 1}")
            nodes.append(graph.Node(marker, list(range(len(inputs))), shape))
            refs.append((len(nodes) - 1, None))
        return (nodes, list(range(len(inputs))), refs), \
            [graph.KerasTensor(nodes[i].shape, nodes[i].layer, inputs) for i, _ in refs] \
            if len(outs) > 1 else graph.KerasTensor(nodes[refs[0][0]].shape,
                                                    nodes[refs[0][0]].layer, inputs)

    def _build_once(self, input_shape):
        """Build once (the class's own `build` if it has one), then, for a subclassed model
        whose `build` only made weights, trace its structure."""
        if not self.built:
            self.build(input_shape)
            self.built = True
        if not self._nodes and type(self).call is not Model.call:
            self._trace_structure(input_shape)

    # -- graph ------------------------------------------------------------------------------
    def _set_graph(self, nodes, input_ids, output_refs):
        self._nodes, self._input_ids = nodes, input_ids
        self._output_refs = [tuple(r) for r in output_refs]
        self._output_ids = [i for i, _ in self._output_refs]
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
        self._all_layers = layers
        if type(self).call is Model.call:
            self._sublayers = [l for l in layers if not isinstance(l, InputLayer)]
        self.input_spec_shape = (nodes[input_ids[0]].shape if len(input_ids) == 1
                                 else [nodes[i].shape for i in input_ids])
        self.built = True

    def _run_graph(self, inputs, training, mask=None):
        """Call every layer of the graph in order on real values (kept in a local list, so one
        model may run in several threads at once). Masks travel beside the values when a layer
        of the graph makes one (`Embedding(mask_zero=True)`, `Masking`) or the caller gives one."""
        nodes = self._nodes
        xs = inputs if self._multi_input else (inputs,)
        if isinstance(inputs, dict):
            xs = [inputs[nodes[i].layer.name] for i in self._input_ids]
        vals = [None] * len(nodes)
        for k, i in enumerate(self._input_ids):
            vals[i] = xs[k]
        if self._mask_makers or mask is not None:
            self._run_masked(vals, training, mask)
        else:
            run = graph.run_node
            for i, node in enumerate(nodes):
                if node.inputs:
                    vals[i] = run(node, vals, training)
        outs = [vals[i] if k is None else vals[i][k] for i, k in self._output_refs]
        return self._output_struct(outs) if self._multi_output else outs[0]
    def _run_masked(self, vals, training, mask):
        """`_run_graph`'s loop with a mask beside each value (see `graph.run_node_masked`)."""
        masks = [None] * len(vals)
        if mask is not None:
            given = mask if self._multi_input else [mask]
            for k, i in enumerate(self._input_ids):
                masks[i] = given[k] if k < len(given) else None
        run = graph.run_node_masked
        for i, node in enumerate(self._nodes):
            if node.inputs:
                vals[i], masks[i] = run(node, vals, masks, training)

    @property
    def _mask_makers(self):
        """Whether some layer of the graph makes masks (a supporting layer with its own
        `compute_mask`): only then does a run carry masks."""
        cached = self.__dict__.get("_mask_makers_cache")
        version = base_structure_version()
        if cached is None or cached[0] != version:
            makers = any(l.supports_masking and type(l).compute_mask is not Layer.compute_mask
                         for l in self._all_layers)
            cached = self.__dict__["_mask_makers_cache"] = (version, makers)
        return cached[1]

    @property
    def layers(self):
        """The model's layers in call order (a functional model lists its InputLayers too)."""
        if type(self).call is not Model.call:       # subclassed: its tracked sublayers, as Keras
            return list(self._sublayers)
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
        if self._output_keys is not None:
            return dict(zip(self._output_keys, self.outputs))
        return self.outputs if self._multi_output else self.outputs[0]

    @property
    def output_shape(self):
        shapes = self.output_shapes
        return shapes if self._multi_output else shapes[0]

    @property
    def input_shape(self):
        return self.input_spec_shape

    def compute_output_shape(self, input_shape):
        if not self._nodes:
            self._build_once(input_shape)
        return self.output_shape

    def __call__(self, *args, **kwargs):
        """Symbolic call (nest the model in a functional graph) or eager call on data: arrays
        are validated and cast to the model's float type; tape tensors pass as they are."""
        inputs = args[0] if args else kwargs.get("inputs")
        if type(inputs) is np.ndarray and not self._multi_input and \
                inputs.dtype == self.__dict__.get("_input_dtype") and self._nodes and \
                inputs.ndim == len(self._nodes[self._input_ids[0]].shape) and \
                inputs.flags.c_contiguous:
            # fit's batches: already checked
            if len(args) == 1 and (not kwargs or (len(kwargs) == 1 and "training" in kwargs)):
                return self._call_fast(inputs, kwargs.get("training"))
            return Layer.__call__(self, *args, **kwargs)
        if args and _plain_arrays(inputs) and not self._ready(inputs):
            if (self._multi_input and isinstance(inputs, (list, tuple)) and len(inputs) == 1
                    and len(self._input_ids) == 1):
                inputs = inputs[0]                 # Model([x], ...) called on [array]
            inputs = self._cast_inputs(inputs, "__call__")
            self.__dict__["_input_dtype"] = inputs[0].dtype
            args = (self._arg(inputs),) + args[1:]
        return Layer.__call__(self, *args, **kwargs)

    def _ready(self, inputs):
        """Inputs that need no casting: arrays of the model's dtype, as many and of the rank its
        inputs expect (what fit's batches are; they were validated once, up front)."""
        if not self._nodes or type(inputs) is dict:
            return False
        items = inputs if self._multi_input else (inputs,)
        if not isinstance(items, (list, tuple)) or len(items) != len(self._input_ids):
            return False
        dtype = self.__dict__.get("_input_dtype")
        for a, i in zip(items, self._input_ids):
            if type(a) is not np.ndarray or a.ndim != len(self._nodes[i].shape) or \
                    (dtype is not None and a.dtype != dtype) or not a.flags.c_contiguous:
                return False
        return dtype is not None

    def forward(self, x, training=False):
        """The outputs for `x` as NumPy arrays (one eager call, nothing recorded)."""
        from ..autodiff.tape import stop_recording, unwrap
        with stop_recording():
            out = self(x, training=training)
        return [unwrap(o) for o in out] if isinstance(out, (list, tuple)) else unwrap(out)

    def get_config(self):
        """The graph: one entry per layer call (`class_name`, `config`, `inbound` node ids)."""
        config = model_config.functional_config(self)
        if self._output_keys is not None:
            config["output_keys"] = list(self._output_keys)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild a model from `get_config()` (a subclass's own config goes to its `__init__`).

        Layer classes are resolved from kerasnp's registry, `custom_objects` and classes
        registered with `kerasnp.saving.register_serializable`, never imported by name.
        """
        if all(k in config for k in ("layers", "input_ids", "output_ids")):
            model = model_config.functional_from_config(cls, config, custom_objects)
            if config.get("output_keys") is not None:     # outputs were a dict
                model._output_keys = check_keys(config["output_keys"], len(model.outputs))
            return model
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


def _plain_arrays(inputs):
    """NumPy data from a user (not tape tensors or variables): the model casts and checks it."""
    import numpy as np
    items = inputs.values() if isinstance(inputs, dict) else (
        inputs if isinstance(inputs, (list, tuple)) else [inputs])
    return all(isinstance(a, (np.ndarray, list, tuple, int, float)) and
               not isinstance(a, np.memmap) for a in items)
