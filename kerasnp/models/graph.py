"""Symbolic tensors and graph tracing: the structure functional and Sequential models run on.

Calling a layer on a `KerasTensor` builds the layer from the symbolic shapes and returns new
`KerasTensor`s that remember the call (layer, input tensors, and where they sit among the call's
arguments). Operators and `kerasnp.ops` on symbolic tensors (`x + y`, `x[:, 0]`,
`ops.mean(x, axis=1)`) become calls of an `OpLayer`, as in Keras. `trace(inputs, outputs)` turns
that history into nodes in topological order; a model runs them by calling each layer eagerly.
"""
import numpy as np

from .._operators import ArrayOperators
from ..autodiff.tape import Tensor
from ..ops._dispatch import SymbolicTensor


_CONCRETE = (np.ndarray, Tensor)


class SymbolicOpError(TypeError):
    """A symbolic tensor used where a value is needed (NumPy conversion, Python `if`)."""


class KerasTensor(ArrayOperators, SymbolicTensor):
    """A symbolic tensor: a shape (batch axis `None`), a dtype and the layer call that made it."""

    def __init__(self, shape, layer, inputs, dtype=None, call=None, index=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self._layer = layer
        self._inputs = list(inputs)
        self._call = call          # the _Call that produced it (shared by a call's outputs)
        self._index = index        # position among the call's outputs (None: single output)
        self._keras_mask = None

    @property
    def name(self):
        return self._layer.name

    @property
    def ndim(self):
        return len(self.shape)

    def __array__(self, dtype=None, copy=None):
        raise SymbolicOpError(
            f"The symbolic tensor from layer '{self.name}' (shape {self.shape}) has no values "
            "yet: it describes a model being built. Use kerasnp.ops (or layers) on it, and "
            "NumPy only inside a layer's call() or on the model's outputs.")

    def __bool__(self):
        raise SymbolicOpError(
            f"The symbolic tensor from layer '{self.name}' cannot be used in a Python `if` or "
            "`while`: its value is not known while the model is built. Use ops.where / "
            "ops.cond, or write a subclassed model, whose call() runs on real arrays.")

    def __len__(self):
        if self.shape and self.shape[0] is not None:
            return self.shape[0]
        raise SymbolicOpError(f"len() of the symbolic tensor from layer '{self.name}': its "
                              "batch size is not known while the model is built.")

    def __iter__(self):
        raise SymbolicOpError(f"Cannot iterate over the symbolic tensor from layer "
                              f"'{self.name}'; index it (x[:, 0]) or use ops.split/unstack.")

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


class _Ref:
    """Placeholder for the k-th tensor argument inside a call's argument template."""

    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k

    def __repr__(self):
        return f"_Ref({self.k})"


class _Call:
    """One symbolic call: the layer, its tensor arguments (flat) and the argument template."""

    __slots__ = ("layer", "tensors", "args", "kwargs", "shapes")

    def __init__(self, layer, tensors, args, kwargs):
        self.layer, self.tensors, self.args, self.kwargs = layer, tensors, args, kwargs
        self.shapes = None         # every output's shape, for a layer with several


def template(args, kwargs):
    """(flat list of KerasTensors, args and kwargs with each replaced by a `_Ref`)."""
    flat = []

    def sub(x):
        if isinstance(x, KerasTensor):
            flat.append(x)
            return _Ref(len(flat) - 1)
        if isinstance(x, list):
            return [sub(v) for v in x]
        if isinstance(x, tuple):
            return tuple(sub(v) for v in x)
        if isinstance(x, dict):
            return {k: sub(v) for k, v in x.items()}
        return x
    return flat, sub(tuple(args)), sub(dict(kwargs))


def fill(tpl, values):
    """Inverse of `template`: put `values[k]` where `_Ref(k)` stands."""
    if isinstance(tpl, _Ref):
        return values[tpl.k]
    if isinstance(tpl, list):
        return [fill(v, values) for v in tpl]
    if isinstance(tpl, tuple):
        return tuple(fill(v, values) for v in tpl)
    if isinstance(tpl, dict):
        return {k: fill(v, values) for k, v in tpl.items()}
    return tpl


def _shapes(x):
    if isinstance(x, KerasTensor):
        return x.shape
    if isinstance(x, (list, tuple)):
        return [_shapes(v) for v in x]
    if isinstance(x, dict):
        return [_shapes(v) for v in x.values()]
    return None


def call_symbolic(layer, args, kwargs=None):
    """Record `layer(*args, **kwargs)` on symbolic tensors; build the layer from their shapes."""
    if not isinstance(args, tuple):          # the first contract: call_symbolic(layer, inputs)
        args = (args,)
    kwargs = dict(kwargs or {})
    kwargs.pop("training", None)             # decided when the model runs
    tensors, targs, tkwargs = template(args, kwargs)
    first = args[0]
    if isinstance(first, (list, tuple)) and any(isinstance(t, KerasTensor) for t in first) \
            and not all(isinstance(t, KerasTensor) for t in first):
        raise TypeError(f"Layer '{layer.name}' ({type(layer).__name__}) was called on a mix of "
                        f"symbolic and concrete inputs. Received: {first!r}")
    tensor_args = [a for a in args if isinstance(a, KerasTensor) or (
        isinstance(a, (list, tuple)) and a and all(isinstance(t, KerasTensor) for t in a))]
    if len(tensor_args) > 1:
        shape = [_shapes(a) for a in tensor_args]
    else:
        shape = _shapes(tensor_args[0] if tensor_args else first)
    layer._inbound_layer_names = [t.name for t in tensors]   # for error messages at merges
    named = _named_shapes(layer, kwargs)
    if named:
        layer._build_once(shape, named)
    else:
        layer._build_once(shape)
    if kwargs or len(args) != 1 or _needs_inference(layer):
        out_shape, dtypes = _infer(layer, targs, tkwargs, tensors)
    else:
        out_shape, dtypes = layer.compute_output_shape(shape), None
    call = _Call(layer, tensors, targs, tkwargs)
    if _is_multi(out_shape):
        call.shapes = [tuple(s) for s in out_shape]
        out = [KerasTensor(s, layer, tensors, dtype=None if dtypes is None else dtypes[k],
                           call=call, index=k) for k, s in enumerate(out_shape)]
    else:
        out = KerasTensor(out_shape, layer, tensors, dtype=dtypes, call=call)
    _remember_call(layer, tensors, out)
    return out


def _roots(t):
    """The InputLayers a symbolic tensor descends from (ids), cached on the tensors."""
    return getattr(t, "_roots", None) or frozenset((id(t._layer),))


def _remember_call(layer, tensors, out):
    """Keras's `layer.input` / `layer.output`: the tensors of the layer's first call. A call on
    the same model inputs replaces them (Sequential rebuilds its graph at every `add`, and the
    model's `inputs` are the last build's); a model's own `input`/`output` properties take
    precedence over these instance entries."""
    roots = frozenset().union(*(_roots(t) for t in tensors)) if tensors else frozenset()
    for t in out if isinstance(out, list) else [out]:
        t._roots = roots
    known = layer.__dict__.get("_first_call_roots")
    if known is None or known == roots or "input" not in layer.__dict__:
        d = layer.__dict__
        d["_first_call_roots"] = roots
        d["input"] = tensors[0] if len(tensors) == 1 else list(tensors)
        d["output"] = out


def _named_shapes(layer, kwargs):
    """`{"key_shape": shape}` for tensors passed by name whose `<name>_shape` `build` takes."""
    if not kwargs or layer.built:
        return None
    import inspect
    try:
        params = inspect.signature(type(layer).build).parameters
    except (TypeError, ValueError):
        return None
    return {f"{k}_shape": v.shape for k, v in kwargs.items()
            if isinstance(v, KerasTensor) and f"{k}_shape" in params} or None


def _is_multi(shape):
    return isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple))


def _needs_inference(layer):
    """A call()-style layer without its own compute_output_shape: run it on zeros."""
    from ..layers.base import Layer
    cls = type(layer)
    return (cls.compute_output_shape is Layer.compute_output_shape
            and cls.call is not Layer.call)


def _infer(layer, targs, tkwargs, tensors):
    from ..layers.op_layer import infer_call
    return infer_call(lambda *a, **k: layer(*a, **k), targs, tkwargs, tensors)


class Node:
    """One layer call inside a model: the layer, its input node ids (`inputs`) with the output
    index taken from each (`indices`, None for single-output nodes), the argument template (None
    for the plain `layer(x)` / `layer([x1, x2])` call) and the output shape (a list of shapes for
    a layer that returns several tensors)."""

    __slots__ = ("layer", "inputs", "indices", "shape", "args", "kwargs", "list_input")

    def __init__(self, layer, inputs, shape, args=None, kwargs=None, list_input=False,
                 indices=None):
        self.layer, self.inputs, self.shape = layer, list(inputs), shape
        self.indices = list(indices) if indices is not None else [None] * len(self.inputs)
        self.args, self.kwargs, self.list_input = args, kwargs, list_input


def _plain(call):
    """Whether a call is `layer(x)` or `layer([x1, ...])` with nothing else."""
    if call is None or call.kwargs:
        return True if call is None else False
    if len(call.args) != 1:
        return False
    a = call.args[0]
    if isinstance(a, _Ref):
        return True
    return isinstance(a, list) and all(isinstance(r, _Ref) for r in a) and \
        [r.k for r in a] == list(range(len(a)))


def trace(inputs, outputs):
    """Nodes in topological order plus the (node id, index) refs of the inputs and outputs."""
    ids, nodes = {}, []          # id(_Call or input tensor) -> node id
    input_ids = []
    for t in inputs:
        if not isinstance(t, KerasTensor) or t._inputs:
            raise ValueError("Model inputs must be tensors made by kerasnp.Input(shape). "
                             f"Received: {t!r}")
        ids[id(t)] = len(nodes)
        input_ids.append(len(nodes))
        t._layer.__dict__["output"] = t      # Keras: an InputLayer's output is its tensor
        nodes.append(Node(t._layer, [], t.shape))
    visiting = set()

    def key(t):
        return id(t._call) if t._call is not None else id(t)

    def visit(t):
        if not isinstance(t, KerasTensor):
            raise TypeError(f"Model outputs must be symbolic tensors. Received: {t!r}")
        k = key(t)
        if k in ids:
            _record_output_shape(nodes[ids[k]], t)
            return ids[k], t._index
        if not t._inputs:
            raise ValueError(f"Graph disconnected: an output depends on the input '{t.name}', "
                             "which is not among the inputs passed to Model(inputs=...).")
        if k in visiting:
            raise ValueError(f"The graph has a cycle through layer '{t.name}'.")
        visiting.add(k)
        refs = [visit(s) for s in t._inputs]
        visiting.discard(k)
        ids[k] = len(nodes)
        call = t._call
        plain = _plain(call)
        list_input = bool(call is not None and isinstance(call.args[0], list))
        shape = t.shape if t._index is None else None
        nodes.append(Node(t._layer, [r[0] for r in refs], shape,
                          None if plain else call.args, None if plain else call.kwargs,
                          list_input, [r[1] for r in refs]))
        _record_output_shape(nodes[-1], t)
        return ids[k], t._index

    output_refs = [visit(t) for t in outputs]
    return nodes, input_ids, output_refs


def _record_output_shape(node, t):
    """A multi-output node's shape is the list of its outputs' shapes (those the graph uses;
    the others come from the layer's call, when it recorded them)."""
    i = t._index
    if i is None:
        return
    if not isinstance(node.shape, list):
        shapes = t._call.shapes if t._call is not None else None
        node.shape = list(shapes) if shapes else []
    while len(node.shape) <= i:
        node.shape.append(None)
    node.shape[i] = t.shape


def run_node(node, vals, training):
    """Call the node's layer on the values of its inputs (`vals[node id]`)."""
    if node.args is None and len(node.inputs) == 1 and not node.list_input and \
            node.indices[0] is None:
        x = vals[node.inputs[0]]
        layer = node.layer
        if layer.built and type(x) in _CONCRETE:
            return layer._call_fast(x, training)          # the common case, every step
        return layer(x, training=training)
    args = [vals[i] if k is None else vals[i][k] for i, k in zip(node.inputs, node.indices)]
    if node.args is None:
        x = args if (node.list_input or len(args) > 1) else args[0]
        return node.layer(x, training=training)
    return node.layer(*fill(node.args, args), training=training, **fill(node.kwargs, args))


def _pick(item, k):
    """Output `k` of a multi-output node's value or mask (a single mask covers them all)."""
    return item if k is None or not isinstance(item, (list, tuple)) else item[k]


def _any_mask(m):
    if isinstance(m, (list, tuple)):
        return any(_any_mask(v) for v in m)
    return m is not None


def mask_arguments(node, args, arg_masks):
    """How a node's layer call receives masks (Keras's rules), given its input values `args` and
    their masks: `(call_args, call_kwargs, first input, its mask, extra)` where `extra` holds
    `mask=` when `call` takes one and `<arg>_mask=` beside each tensor argument of that name
    (`query_mask`), for masks that are not None and not given explicitly. Shared by the model
    run and the ONNX exporter, so both route masks alike."""
    from ..layers._call_utils import _call_signature
    accepts = _call_signature(type(node.layer))
    extra = {}
    if node.args is None:
        many = node.list_input or len(args) > 1
        x, first_mask = (args, arg_masks) if many else (args[0], arg_masks[0])
        call_args, call_kwargs = (x,), {}
    else:
        call_args, call_kwargs = fill(node.args, args), fill(node.kwargs, args)
        x = call_args[0] if call_args else call_kwargs.get("inputs")
        first_mask = fill(node.args[0], arg_masks) if call_args else None
        if accepts.mask_args:
            named = dict(zip(accepts.names, call_args))
            named.update(call_kwargs)
            for name, mask_name in accepts.mask_args:
                if named.get(mask_name) is None and name in named:
                    ref = node.args[accepts.names.index(name)] \
                        if name in accepts.names[:len(call_args)] else node.kwargs.get(name)
                    m = fill(ref, arg_masks) if ref is not None else None
                    if _any_mask(m):
                        extra[mask_name] = m
    if accepts.mask and "mask" not in call_kwargs and _any_mask(first_mask):
        extra["mask"] = first_mask
    return call_args, call_kwargs, x, first_mask, extra


def run_node_masked(node, vals, masks, training):
    """`run_node` for a graph that carries masks (Keras's rules): the masks of the inputs go to
    `call(..., mask=)` (and to `<arg>_mask=` parameters beside tensor arguments, see
    `mask_arguments`); the output's mask is `layer.compute_mask(first input, its mask)` when the
    layer supports masking, else None. Returns `(output, output mask)`."""
    layer = node.layer
    args = [_pick(vals[i], k) for i, k in zip(node.inputs, node.indices)]
    arg_masks = [_pick(masks[i], k) for i, k in zip(node.inputs, node.indices)]
    call_args, call_kwargs, x, first_mask, extra = mask_arguments(node, args, arg_masks)
    if extra:
        out = layer(*call_args, training=training, **call_kwargs, **extra)
    else:
        out = run_node(node, vals, training)
    if not layer.supports_masking:
        return out, None
    if not _any_mask(first_mask) and type(layer).compute_mask is _base_compute_mask():
        return out, None
    return out, layer.compute_mask(x, first_mask)


def _base_compute_mask():
    from ..layers.base import Layer
    return Layer.compute_mask
