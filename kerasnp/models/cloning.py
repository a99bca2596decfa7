"""`clone_model`: the same architecture with new layers (and so new, freshly initialised weights).

A Sequential model is rebuilt from clones of its layers; a functional model is re-traced node by
node on new inputs, each layer replaced by its clone (a layer shared by several calls stays
shared: one clone), called as the original was; any other model is rebuilt with
`from_config(get_config())`. As in Keras, a compiled model's clone is compiled the same way with a
fresh optimizer and fresh metric states.
"""
from . import graph
from .model import Model
from .sequential import Sequential


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False):
    """Clone a Sequential, functional or subclassed model: same architecture, new weights.

    Args:
        model: a `Model` (Sequential, functional, or a subclass with `get_config`).
        input_tensors: optional `Input` tensor(s) to build the clone on (one per model input,
            in the structure of `model.input`); new `Input`s of the same shapes by default.
        clone_function: `fn(layer) -> layer` making each layer's replacement (the `Input`s
            excepted); defaults to `type(layer).from_config(layer.get_config())`. Return the
            layer itself to share it, or a different layer to change the model.
        call_function: `fn(layer, *args, **kwargs)` calling each cloned layer of a functional
            model (default: `layer(*args, **kwargs)`), e.g. to insert layers after some.
        recursive: clone nested Sequential/functional models with `clone_model` (passing these
            arguments on) instead of `clone_function`.

    Returns:
        A new model of the same class (functional and Sequential) computing what `model`
        computes, with newly made weights (copy them with `set_weights` if needed).

    Raises:
        ValueError: `input_tensors`, `clone_function` or `call_function` for a subclassed model,
            `call_function` for a Sequential model, or input tensors that do not fit.

    Example:
        >>> import kerasnp as keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        >>> twin = keras.models.clone_model(model)
        >>> twin.count_params() == model.count_params(), twin.layers[0] is model.layers[0]
        (True, False)
    """
    if not isinstance(model, Model):
        raise TypeError(f"clone_model expects a kerasnp Model. Received: model={model!r}")
    clone = _cloner(clone_function, call_function, recursive, {})
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError(f"clone_model: `call_function` is not supported for the "
                             f"Sequential model '{model.name}' (its layers are listed, not "
                             f"called); use it with functional models. Received: "
                             f"call_function={call_function!r}")
        new = _clone_sequential(model, clone, input_tensors)
    elif type(model).call is Model.call and model._nodes:
        new = _clone_functional(model, clone, call_function, input_tensors)
    else:
        new = _clone_subclassed(model, input_tensors, clone_function, call_function)
    if getattr(model, "compiled", False) and model._spec is not None:
        _compile_like(new, model)
    return new


def _cloner(clone_function, call_function, recursive, cache):
    """`clone_function` with a cache (shared layers stay shared) and `recursive` nesting."""
    if clone_function is not None and not callable(clone_function):
        raise ValueError(f"clone_model: `clone_function` must be a callable fn(layer). "
                         f"Received: clone_function={clone_function!r}")

    def clone(layer):
        if id(layer) not in cache:
            if recursive and isinstance(layer, Model) and (
                    isinstance(layer, Sequential) or type(layer).call is Model.call):
                made = clone_model(layer, clone_function=clone_function,
                                   call_function=None if isinstance(layer, Sequential)
                                   else call_function, recursive=True)
            elif clone_function is not None:
                made = clone_function(layer)
            else:
                made = type(layer).from_config(layer.get_config())
            cache[id(layer)] = made
        return cache[id(layer)]
    return clone


def _new_input(input_layer, shape):
    from ..layers.core import Input
    return Input(batch_shape=tuple(shape), dtype=input_layer.dtype, name=input_layer.name)


def _check_tensor(t, where):
    if not isinstance(t, graph.KerasTensor):
        raise ValueError(f"clone_model: `input_tensors` must hold kerasnp.Input tensors "
                         f"({where}). Received: {t!r}")
    return t


def _clone_sequential(model, clone, input_tensors):
    layers = [clone(layer) for layer in model.layers]
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError(f"clone_model: Sequential model '{model.name}' has one input; "
                                 f"`input_tensors` must hold one tensor. Received: "
                                 f"{len(input_tensors)} tensors")
            input_tensors = input_tensors[0]
        layers.insert(0, _check_tensor(input_tensors, "Sequential"))
    elif model._input_layer is not None:
        ref = model._input_layer
        layers.insert(0, _new_input(ref, (ref.batch_size,) + ref.shape))
    return Sequential(layers, name=model.name, trainable=model.trainable)


def _clone_functional(model, clone, call_function, input_tensors):
    nodes, refs = model._nodes, model._output_refs
    if input_tensors is None:
        ins = [_new_input(nodes[i].layer, nodes[i].shape) for i in model._input_ids]
    else:
        given = list(input_tensors) if isinstance(input_tensors, (list, tuple)) \
            else [input_tensors]
        if len(given) != len(model._input_ids):
            raise ValueError(f"clone_model: model '{model.name}' has {len(model._input_ids)} "
                             f"inputs; `input_tensors` holds {len(given)}.")
        ins = [_check_tensor(t, f"input {k}") for k, t in enumerate(given)]
    call = call_function or (lambda layer, *args, **kwargs: layer(*args, **kwargs))
    vals = [None] * len(nodes)
    for k, i in enumerate(model._input_ids):
        vals[i] = ins[k]
    for i, node in enumerate(nodes):
        if not node.inputs:
            continue
        args = [vals[j] if k is None else vals[j][k] for j, k in zip(node.inputs, node.indices)]
        layer = clone(node.layer)
        if node.args is None:        # the plain call layer(x) / layer([x1, ...])
            vals[i] = call(layer, args if (node.list_input or len(args) > 1) else args[0])
        else:
            vals[i] = call(layer, *graph.fill(node.args, args), **graph.fill(node.kwargs, args))
    outs = [vals[i] if k is None else vals[i][k] for i, k in refs]
    if model._output_keys is not None:
        outs = dict(zip(model._output_keys, outs))
    elif not model._multi_output:
        outs = outs[0]
    cls = type(model) if type(model).__init__ is Model.__init__ else Model
    return cls(ins if model._multi_input else ins[0], outs, name=model.name,
               trainable=model.trainable)


def _clone_subclassed(model, input_tensors, clone_function, call_function):
    if input_tensors is not None or clone_function is not None or call_function is not None:
        raise ValueError(f"clone_model: `input_tensors`, `clone_function` and `call_function` "
                         f"apply to Sequential and functional models only; model "
                         f"'{model.name}' is a subclassed {type(model).__name__}.")
    try:
        return type(model).from_config(model.get_config())
    except Exception as err:
        raise ValueError(f"clone_model: the subclassed model '{model.name}' "
                         f"({type(model).__name__}) could not be rebuilt with "
                         f"from_config(get_config()): {type(err).__name__}: {err}. Implement "
                         "get_config() returning its constructor arguments.") from None


def _fresh(item):
    """A compile argument with new state: Loss/Metric/classes copied from their config."""
    if isinstance(item, (list, tuple)):
        return [_fresh(i) for i in item]
    if isinstance(item, dict):
        return {k: _fresh(v) for k, v in item.items()}
    if not isinstance(item, type) and hasattr(item, "get_config") and \
            hasattr(type(item), "from_config"):
        return type(item).from_config(item.get_config())
    return item


def _compile_like(new, model):
    loss, loss_weights, metrics = model._spec.raw
    opt = model.optimizer
    new.compile(optimizer=type(opt).from_config(opt.get_config()), loss=_fresh(loss),
                loss_weights=_fresh(loss_weights), metrics=_fresh(metrics))

