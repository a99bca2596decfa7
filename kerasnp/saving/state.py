"""Training state inside a model file: weights, optimizer slots, random generators, History.

Reading validates everything first and returns a plan; `apply` then changes the model, so a file
that does not fit (a different architecture, another optimizer, a damaged member) leaves the
model exactly as it was.
"""
import numpy as np

from .checks import fail


def history_state(model):
    """`model.history` as JSON (`{"history": {...}, "epoch": [...]}`), or None."""
    hist = getattr(model, "history", None)
    if hist is None or not isinstance(getattr(hist, "history", None), dict):
        return None
    return {"history": {str(k): list(v) for k, v in hist.history.items()},
            "epoch": [int(e) for e in getattr(hist, "epoch", [])]}


def rng_states(model):
    """`[[layer name, bit-generator state], ...]` for every layer of `walk_layers(model)`."""
    return [[layer.name, _generator(layer).bit_generator.state if _generator(layer) else None]
            for layer in walk_layers(model)]


def _generator(layer):
    gen = layer.__dict__.get("_rng")
    return gen if isinstance(gen, np.random.Generator) else None


def walk_layers(model):
    """The model and every layer inside it (nested models and sublayers), each once, in a fixed
    order (preorder over `layers`)."""
    out, seen, stack = [], set(), [model]
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        out.append(layer)
        children = list(layer.__dict__.get("_all_layers", ())) + list(
            layer.__dict__.get("_sublayers", ()))
        stack.extend(reversed(children))
    return out


def members(ar, key, prefix):
    """Member names for the manifest list `key` of metadata.json (None when an optional list
    is absent), checked against the members the zip really holds."""
    names = ar.meta.get(key)
    if names is None:
        if key == "weights":
            fail(ar.source, f"metadata.json has no '{key}' list.", "metadata.json")
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        fail(ar.source, f"'{key}' must be a list of names.", "metadata.json")
    out = [f"{prefix}/{i:05d}.npy" for i in range(len(names))]
    stored = {n for n in ar.infos if n.startswith(prefix + "/")}
    if stored != set(out):
        fail(ar.source, f"metadata.json lists {len(names)} {key} but the archive stores "
                        f"{len(stored)} '{prefix}/' members.", "metadata.json")
    return out


def _label(path):
    layer, _, name = path.rpartition("/")
    return f"layer '{layer}' weight '{name}'" if layer else f"weight '{path}'"


def read_weights(ar, variables, cast=False):
    """`[(variable, array)]` for `variables` (by position), every array validated; with
    `cast`, a saved dtype other than the variable's is accepted (converted on assignment)."""
    names = members(ar, "weights", "weights")
    saved = ar.meta["weights"]
    if len(saved) != len(variables):
        fail(ar.source, f"the file stores {len(saved)} weights but the model has "
                        f"{len(variables)}; the architectures differ. File: "
                        f"{_short(saved)}; model: {_short([v.path for v in variables])}.")
    out = []
    for var, member, path in zip(variables, names, saved):
        what = _label(var.path) + (f" (saved as '{path}')" if path != var.path else "")
        out.append((var, ar.read_array(member, var.shape, None if cast else var.dtype, what)))
    return out


def _short(paths, n=6):
    return ", ".join(paths[:n]) + (f", ... ({len(paths)} in all)" if len(paths) > n else "")


def read_state(ar, model, cfg, cast=False):
    """Read and validate everything to restore; nothing is changed on the model yet.

    `cfg` (config.json) enables restoring the optimizer; `cast` accepts weights saved in another
    dtype (an existing model trained in float64, resumed in float32)."""
    plan = {"weights": read_weights(ar, model.weights, cast), "optimizer": None, "lr": None}
    opt = getattr(model, "optimizer", None)
    if cfg is not None and opt is not None:
        names = members(ar, "optimizer_variables", "optimizer")
        if names is not None:
            plan["optimizer"] = _read_optimizer(ar, model, opt, names, cast)
            plan["lr"] = _saved_lr(cfg, opt)
    state = ar.read_json("state.json") if ar.has("state.json") else {}
    if not isinstance(state, dict):
        fail(ar.source, "state.json must be an object.", "state.json")
    plan["rng"] = _read_rng(ar, model, state.get("rng"))
    plan["history"] = _read_history(ar, state.get("history"))
    epoch = ar.extra.get("epoch")
    if epoch is None:
        epochs = plan["history"][1] if plan["history"] else []
        epoch = max(epochs) + 1 if epochs else 0
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        fail(ar.source, f"extra 'epoch' must be an int >= 0. Received: {epoch!r}",
             "metadata.json")
    plan["epoch"] = epoch
    return plan


def read_extra_arrays(ar):
    """The arrays saved as `extra_arrays` (members `extra/NNNNN.npy`), validated, in order."""
    names = members(ar, "extra_arrays", "extra")
    out = []
    for i, member in enumerate(names or ()):
        shape, dtype = ar.array_header(member)
        out.append(ar.read_array(member, shape, dtype, f"extra array {i}"))
    return out


def _read_optimizer(ar, model, opt, member_names, cast):
    members, names = member_names, ar.meta["optimizer_variables"]
    var_list = model.trainable_weights
    if hasattr(opt, "_state_layout"):          # MultiOptimizer: counters, then mixed slots
        return _read_layout(ar, opt, var_list, members, names, cast)
    slots = list(opt._slot_names())
    expected = 1 + len(slots) * len(var_list)
    if len(names) != expected or (names and names[0] != "iterations"):
        fail(ar.source, f"the file holds {len(names)} optimizer variables, but the model's "
                        f"{type(opt).__name__} needs {expected} (iterations + slots "
                        f"{slots} for {len(var_list)} trainable weights); was it saved with "
                        "another optimizer?", "metadata.json")
    arrays = [ar.read_array(members[0], (), np.int64, "optimizer 'iterations'")]
    if int(arrays[0]) < 0:
        fail(ar.source, "optimizer iterations must be >= 0.", members[0])
    k = 1
    for var in var_list:
        for slot in slots:
            saved = names[k]
            if saved.rpartition("/")[2] != slot:
                fail(ar.source, f"optimizer variable '{saved}' is not slot '{slot}' of "
                                f"'{var.path}' as {type(opt).__name__} expects.", members[k])
            # Adafactor's factored moments have their own shape; the header is checked
            # against it before any data is read.
            shape = tuple(opt._slot_shape(slot, tuple(var.shape)))
            arrays.append(ar.read_array(members[k], shape, None if cast else var.dtype,
                                        f"optimizer slot '{slot}' of {_label(var.path)}"))
            k += 1
    return opt, var_list, arrays


def _read_layout(ar, opt, var_list, members, names, cast):
    """Read the state of an optimizer that lists its arrays itself (`_state_layout`:
    `[(name, shape, dtype, variable or None)]`)."""
    layout = opt._state_layout(var_list)
    if len(names) != len(layout):
        fail(ar.source, f"the file holds {len(names)} optimizer variables, but the model's "
                        f"{type(opt).__name__} needs {len(layout)} for {len(var_list)} trainable "
                        "weights; was it saved with another optimizer?", "metadata.json")
    arrays = []
    for (name, shape, dtype, var), member, saved in zip(layout, members, names):
        if saved.rpartition("/")[2] != name.rpartition("/")[2] or (
                var is None and saved != name):
            fail(ar.source, f"optimizer variable '{saved}' is not '{name}' as "
                            f"{type(opt).__name__} expects.", member)
        what = (f"optimizer slot '{name.rpartition('/')[2]}' of {_label(var.path)}"
                if var is not None else f"optimizer '{name}'")
        arrays.append(ar.read_array(member, shape, None if cast and var is not None else dtype,
                                    what))
        if var is None and not (np.isfinite(arrays[-1]) and arrays[-1] >= 0):
            fail(ar.source, f"optimizer '{name}' must be finite and >= 0.", member)
    return opt, var_list, arrays


def _saved_lr(cfg, opt):
    cc = cfg.get("compile_config")
    lr = None
    if isinstance(cc, dict) and isinstance(cc.get("optimizer"), dict):
        lr = (cc["optimizer"].get("config") or {}).get("learning_rate")
    if isinstance(lr, float) and isinstance(opt._learning_rate, float) and lr >= 0:
        return lr
    return None


def _read_rng(ar, model, saved):
    if saved is None:
        return []
    layers = walk_layers(model)
    if not isinstance(saved, list) or len(saved) != len(layers):
        fail(ar.source, f"random states for {len(saved) if isinstance(saved, list) else '?'} "
                        f"layers, but the model has {len(layers)}.", "state.json")
    out = []
    for layer, item in zip(layers, saved):
        gen = _generator(layer)
        if not (isinstance(item, list) and len(item) == 2):
            fail(ar.source, "each random state must be [layer_name, state].", "state.json")
        if item[1] is None or gen is None:
            continue
        kind = type(gen.bit_generator)
        try:
            if not isinstance(item[1], dict) or item[1].get("bit_generator") != kind.__name__:
                raise ValueError(f"expected a {kind.__name__} state")
            kind().state = item[1]                 # validates on a throw-away generator
        except Exception as err:
            fail(ar.source, f"invalid random state for layer '{layer.name}': {err}.",
                 "state.json")
        out.append((gen, item[1]))
    return out


def _read_history(ar, saved):
    if saved is None:
        return None
    hist, epochs = (saved.get("history"), saved.get("epoch")) if isinstance(saved, dict) else \
        (None, None)
    if not isinstance(hist, dict) or not all(isinstance(v, list) for v in hist.values()) or \
            not isinstance(epochs, list) or not all(
                isinstance(e, int) and not isinstance(e, bool) and e >= 0 for e in epochs):
        fail(ar.source, "the History must be {'history': {name: [values]}, 'epoch': [ints]}.",
             "state.json")
    return hist, epochs


def apply(model, plan, set_history):
    """Change the model as `read_state` planned (this step cannot fail on file contents)."""
    for var, value in plan["weights"]:
        var.value[...] = value
    if plan["optimizer"] is not None:
        opt, var_list, arrays = plan["optimizer"]
        opt.set_variables_for(var_list, arrays)
        if plan["lr"] is not None:
            opt.learning_rate = plan["lr"]
    for gen, state in plan["rng"]:
        gen.bit_generator.state = state
    if set_history and plan["history"] is not None:
        from ..callbacks import History
        history = History()
        history.history = {k: list(v) for k, v in plan["history"][0].items()}
        history.epoch = list(plan["history"][1])
        history.set_model(model)


