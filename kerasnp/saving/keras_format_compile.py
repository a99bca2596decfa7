"""Keras 3's compile config and optimizer variables, to kerasnp and back.

Keras stores the optimizer's variables under `optimizer/vars` as `iterations`, the learning rate
(absent when it is a schedule), then the slots of the model's trainable variables group by group,
as each optimizer's `build` creates them: Adam's `momentum` and `velocity` interleaved per
variable, then `velocity_hat` for every variable when `amsgrad`; RMSprop's `velocity` for every
variable, then `momentum`, then `average_gradient`; Nadam appends its `u_product` scalar. With
`use_ema=True` the moving averages (`average`) of every variable come first. Adafactor's `r`
and `c` are factored (scalar placeholders for weights of rank < 2); Muon keeps `velocity` only
for the variables it updates with AdamW. `slot_layout` gives that order for a kerasnp optimizer
and `slot_entries` the `(variable, slot)` pairs in file order.
"""
import inspect

import numpy as np

from .._serializable import ConfigError, call_from_config, lookup
from .compile_config import _deserialize
from .keras_format_config import plain
from .keras_format_layout import Unsupported

# Keras's slot groups per optimizer class: each group is created for every variable in turn.
_GROUPS = {
    "SGD": lambda o: [["momentum"]] if o.momentum else [],
    "RMSprop": lambda o: [["velocity"]] + ([["momentum"]] if o.momentum else [])
    + ([["average_gradient"]] if o.centered else []),
    "Adam": lambda o: [["momentum", "velocity"]] + ([["velocity_hat"]] if o.amsgrad else []),
    "AdamW": lambda o: [["momentum", "velocity"]] + ([["velocity_hat"]] if o.amsgrad else []),
    "Nadam": lambda o: [["momentum", "velocity"]],
    "Adamax": lambda o: [["momentum", "norm"]],
    "Adagrad": lambda o: [["accumulator"]],
    "Adadelta": lambda o: [["accumulated_grad", "accumulated_delta_var"]],
    "Lion": lambda o: [["momentum"]],
    "Lamb": lambda o: [["momentum", "velocity"]],
    "Ftrl": lambda o: [["accumulator", "linear"]],
    "ScheduleFreeAdamW": lambda o: [["momentum", "velocity"]],
    "Adafactor": lambda o: [["r", "c", "velocity"]],
    "Muon": lambda o: [["momentum", "velocity"]],
}


def slot_layout(opt):
    """`(prefix, groups, tail)`: the names before the slots (`iterations`, `learning_rate`),
    the slot groups, and the scalars after them (Nadam's `u_product`)."""
    from ..optimizers import LearningRateSchedule
    name = type(opt).__name__
    groups = _GROUPS.get(name)
    if groups is None:
        raise Unsupported(f"optimizer {name}: its variables have no known Keras layout.")
    groups = groups(opt)
    if getattr(opt, "use_ema", False):
        groups = [["average"]] + groups                # Keras builds the averages first
    if sorted(s for g in groups for s in g) != sorted(opt._slot_names()):
        raise Unsupported(f"optimizer {name}: Keras's slots {groups} do not match kerasnp's "
                          f"{list(opt._slot_names())}.")
    prefix = ["iterations"] + ([] if isinstance(opt._learning_rate, LearningRateSchedule)
                               else ["learning_rate"])
    return prefix, groups, (["u_product"] if name == "Nadam" else [])


def _in_file(opt, var, slot):
    """Whether Keras stores `slot` of `var` (Muon creates `velocity` only for the variables it
    updates with AdamW; kerasnp keeps a zero one for the others)."""
    if type(opt).__name__ == "Muon" and slot == "velocity":
        return bool(opt._should_use_adamw(var))
    return True


def _placeholder(opt, var, slot):
    """Whether Keras stores `slot` of `var` as an int32 scalar placeholder (Adafactor's `r` and
    `c` of weights of rank < 2, which the update does not use)."""
    return type(opt).__name__ == "Adafactor" and slot in ("r", "c") and len(var.shape) < 2


def slot_entries(opt, groups, train_vars):
    """The `(variable, slot)` pairs of `optimizer/vars` after the prefix, in Keras's order."""
    return [(var, slot) for group in groups for var in train_vars for slot in group
            if _in_file(opt, var, slot)]


def f32_value(x):
    """A float that Keras stored in float32 (0.0010000000474974513) as the decimal the user
    wrote (0.001): the shortest decimal that rounds to the same float32."""
    return float(str(np.float32(x))) if isinstance(x, float) and np.isfinite(x) else x


# ----------------------------------------------------------------------------- reading
def compile_from_keras(model, cc, custom_objects, where="compile_config"):
    """Compile `model` as a Keras `compile_config` describes."""
    from .. import optimizers
    if not isinstance(cc, dict):
        raise ConfigError(f"{where} must be an object.")
    entry = cc.get("optimizer")
    try:
        opt = _optimizer(entry, custom_objects, optimizers)
        loss = _deserialize(plain(cc.get("loss"), where), "loss", custom_objects)
        metrics = _deserialize(plain(cc.get("metrics"), where), "metric", custom_objects)
        weighted = _deserialize(plain(cc.get("weighted_metrics"), where), "metric",
                                custom_objects)
        model.compile(optimizer=opt, loss=loss, loss_weights=cc.get("loss_weights"),
                      metrics=metrics, weighted_metrics=weighted)
    except Exception as err:
        raise ConfigError(f"{where} cannot be restored ({type(err).__name__}: {err}). Pass "
                          "custom losses/metrics in custom_objects, or load with compile=False "
                          "and compile the model yourself.") from None


def _optimizer(entry, custom_objects, optimizers):
    if isinstance(entry, str):
        return optimizers.get(entry)
    if not isinstance(entry, dict):
        raise ConfigError("the optimizer must be a name or an object.")
    cfg = plain(entry, "optimizer")
    config = dict(cfg.get("config") or {})
    if isinstance(config.get("learning_rate"), float):
        config["learning_rate"] = f32_value(config["learning_rate"])
    cls = lookup((cfg.get("registered_name"), cfg["class_name"]), custom_objects)
    if inspect.isclass(cls) and not issubclass(cls, optimizers.Optimizer):
        raise ConfigError(f"{cfg['class_name']!r} is not an optimizer.")
    if inspect.isclass(cls):
        return call_from_config(cls, config, custom_objects)
    return optimizers.deserialize({"class_name": cfg["class_name"], "config": config})


def optimizer_plan(h5, model, opt, train_vars, where):
    """Read `optimizer/vars` for `opt` over `train_vars` (Keras's order): `(iterations, lr,
    [(var, {slot: array})])`, or None when the file has no optimizer group. Nothing is set."""
    group = h5.group("optimizer/vars")
    if group is None:
        return None
    prefix, groups, tail = slot_layout(opt)
    keys = h5.keys(group, "optimizer/vars")
    entries = slot_entries(opt, groups, train_vars)
    built = len(prefix) + len(entries) + len(tail)
    if len(keys) not in (len(prefix), built) or sorted(keys) != sorted(map(str,
                                                                           range(len(keys)))):
        h5.error(f"the file holds {len(keys)} optimizer variables; {type(opt).__name__} over "
                 f"the model's {len(train_vars)} trainable weights has {built} in Keras "
                 f"({', '.join(prefix)}, slots {groups}{', ' + tail[0] if tail else ''}) or "
                 f"{len(prefix)} before its first step. Was it saved with another optimizer?",
                 "optimizer/vars")
    path = "optimizer/vars"
    iters = h5.read(group, "0", f"{path}/0", (), "i", np.int64, "optimizer 'iterations'")
    if int(iters) < 0:
        h5.error("optimizer iterations must be >= 0.", f"{path}/0")
    lr = None
    if "learning_rate" in prefix:
        lr = h5.read(group, "1", f"{path}/1", (), "f", np.float64, "optimizer 'learning_rate'")
        lr = f32_value(float(lr)) if np.isfinite(lr) and lr >= 0 else None
    slots = [(v, {}) for v in train_vars]
    if len(keys) == built:
        found = {id(v): d for v, d in slots}
        k = len(prefix)
        for var, slot in entries:
            what = f"optimizer slot '{slot}' of weight '{var.path}'"
            shape = tuple(opt._slot_shape(slot, tuple(var.shape)))
            if _placeholder(opt, var, slot):
                h5.read(group, str(k), f"{path}/{k}", (), "i", np.int64, what)
            else:
                found[id(var)][slot] = h5.read(group, str(k), f"{path}/{k}", shape, "f",
                                               var.dtype, what)
            k += 1
        for var, d in slots:                   # slots Keras does not keep start at zero
            for slot in opt._slot_names():
                if slot not in d:
                    d[slot] = np.zeros(opt._slot_shape(slot, tuple(var.shape)), var.dtype)
        for name in tail:
            h5.read(group, str(k), f"{path}/{k}", (), "f", np.float64, f"optimizer '{name}'")
            k += 1
    return int(iters), lr, [s for s in slots if s[1]]


def apply_optimizer(opt, plan):
    iterations, lr, slots = plan
    for var, found in slots:
        opt.set_slots(var, found)
    opt.iterations = iterations
    if lr is not None and isinstance(opt._learning_rate, float):
        opt.learning_rate = lr


# ----------------------------------------------------------------------------- writing
def optimizer_arrays(opt, train_vars):
    """The arrays of Keras's `optimizer/vars` for `opt` over `train_vars` (Keras's order)."""
    prefix, groups, tail = slot_layout(opt)
    out = [np.array(opt.iterations, dtype=np.int64)]
    if "learning_rate" in prefix:
        out.append(np.array(opt.learning_rate, dtype=np.float32))
    slots = {id(v): opt.get_slots(v) for v in train_vars}
    out.extend(np.array(0, np.int32) if _placeholder(opt, var, slot) else slots[id(var)][slot]
               for var, slot in slot_entries(opt, groups, train_vars))
    if tail:                                            # Nadam's product of the u_t
        out.append(np.array(opt._u_product(opt.iterations), dtype=np.float32))
    return out
