"""`MultiOptimizer`: each variable updated by its own optimizer (Keras 3).

The selector (an `OptimizerMap` or a callable `selector(variable) -> Optimizer`) is asked once
per variable; each step splits the gradients by optimizer and every sub-optimizer applies its
share with its own learning rate, schedule, slots and `iterations`. A step is all or nothing: if
a later sub-optimizer refuses its update (`NonFiniteUpdateError`), the sub-optimizers that
already stepped are taken back too.

Saved state (`variables_for`): `iterations`, then each sub-optimizer's `iterations` (and its
learning rate when it is a number, so `ReduceLROnPlateau` changes survive a resume), then every
variable's slots in the variable order, named `<path>/<slot>` as for a plain optimizer.
"""
import numpy as np

from kerasnp._registry import SerializationError
from kerasnp.optimizers.base import Optimizer, registry
from kerasnp.optimizers.optimizer_map import OptimizerMap, deserialize_optimizer


@registry.register("MultiOptimizer")
class MultiOptimizer(Optimizer):
    """Delegates each variable to the optimizer its selector names.

    Args:
        optimizer_map: an `OptimizerMap`, or a callable taking a variable and returning the
            `Optimizer` for it (a callable cannot be saved in a model config).
        loss_scale_factor: None (kerasnp has no loss scaling; accepted for Keras configs).
        name: the optimizer's name (default `"multi_optimizer"`).

    The sub-optimizers are listed by `.optimizers`; a `MultiOptimizer` has no learning rate of
    its own (reading or setting `learning_rate` raises `AttributeError`, as in Keras).

    Example:
        >>> from kerasnp import layers, models, optimizers
        >>> model = models.Sequential([layers.Dense(4, name="body"), layers.Dense(1, name="head")])
        >>> opt = optimizers.MultiOptimizer(optimizers.OptimizerMap(optimizers.SGD(0.1)))
        >>> opt["head/.*"] = optimizers.Adam(1e-3)
        >>> model.compile(optimizer=opt, loss="mse")
        >>> ", ".join(o.name for o in opt.optimizers)
        'adam, SGD'
    """

    _default_name = "multi_optimizer"

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        if isinstance(optimizer_map, Optimizer) or not callable(optimizer_map):
            raise TypeError(f"MultiOptimizer: optimizer_map must be an OptimizerMap or a "
                            f"callable `selector(variable) -> Optimizer`. "
                            f"Received: optimizer_map={optimizer_map!r}")
        self._optimizer_map = optimizer_map
        self._extra = []                        # optimizers a callable selector returned
        self._route = {}                        # id(variable) -> (variable, sub-optimizer)

    @property
    def _inner_optimizers(self):
        # One fixed order that a map rebuilt from its config gives again (saved state relies
        # on it): the map's values in key order, its default, then the selector's.
        found = []
        if isinstance(self._optimizer_map, OptimizerMap):
            found = list(self._optimizer_map.values()) + [self._optimizer_map.default_optimizer]
        out = []
        for opt in found + self._extra:
            if not any(o is opt for o in out):
                out.append(opt)
        return out

    def _add(self, opt):
        if not any(o is opt for o in self._inner_optimizers):
            self._extra.append(opt)

    # ----------------------------------------------------------------- the map
    @property
    def optimizers(self):
        """The sub-optimizers: the map's values, its default, then any a selector returned."""
        return self._inner_optimizers

    def __setitem__(self, key, optimizer):
        if not isinstance(self._optimizer_map, OptimizerMap):
            raise TypeError("MultiOptimizer: item assignment needs an OptimizerMap; this one "
                            f"was built with a callable selector. Received: key={key!r}")
        self._optimizer_map[key] = optimizer

    def __getitem__(self, key):
        if not isinstance(self._optimizer_map, OptimizerMap):
            raise TypeError("MultiOptimizer: lookup by path needs an OptimizerMap; this one "
                            f"was built with a callable selector. Received: key={key!r}")
        return self._optimizer_map[key]

    def _optimizer_for(self, var):
        hit = self._route.get(id(var))
        if hit is not None and hit[0] is var:
            return hit[1]
        opt = self._optimizer_map(var)
        if not isinstance(opt, Optimizer):
            raise ValueError(f"MultiOptimizer: the optimizer for variable '{var.path}' is not an "
                             f"Optimizer instance. Received: {opt!r}")
        if isinstance(opt, MultiOptimizer):
            raise ValueError(f"MultiOptimizer: the optimizer for variable '{var.path}' is a "
                             "MultiOptimizer; MultiOptimizers cannot be nested.")
        self._add(opt)
        self._route[id(var)] = (var, opt)
        return opt

    def _split(self, pairs):
        """`[(sub-optimizer, grads, vars)]` in `optimizers` order, for the sub-optimizers that
        have at least one variable in `pairs`."""
        groups = {}
        for g, var in pairs:
            opt = self._optimizer_for(var)
            grads, variables = groups.setdefault(id(opt), ([], []))
            grads.append(g)
            variables.append(var)
        return [(o, *groups[id(o)]) for o in self._inner_optimizers if id(o) in groups]

    # ----------------------------------------------------------------- learning rate
    @property
    def learning_rate(self):
        raise AttributeError("A MultiOptimizer has no learning rate of its own; read it on the "
                             "sub-optimizers (`for opt in multi.optimizers: opt.learning_rate`).")

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError("A MultiOptimizer has no learning rate of its own; set it on the "
                             "sub-optimizers (`for opt in multi.optimizers: opt.learning_rate = "
                             f"...`). Received: learning_rate={value!r}")

    # ----------------------------------------------------------------- the step
    def build(self, var_list):
        """Assign every variable of `var_list` to its optimizer and create its slots there."""
        for opt, _, variables in self._split([(None, v) for v in var_list]):
            opt.build(variables)

    def apply(self, grads, trainable_variables=None):
        """One step: each sub-optimizer applies the gradients of its variables (None gradients
        are skipped). `iterations` advances once per call with a non-empty list."""
        if trainable_variables is None:
            items = list(grads)
            if items and all(hasattr(v, "path") and hasattr(v, "grad") for v in items):
                grads, trainable_variables = [v.grad for v in items], items
            else:
                raise ValueError("MultiOptimizer.apply(grads, trainable_variables) needs the "
                                 "variables the gradients belong to. Received: "
                                 "trainable_variables=None")
        grads, variables = list(grads), list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"MultiOptimizer.apply: {len(grads)} gradients for "
                             f"{len(variables)} variables; give one gradient per variable.")
        if not grads:
            return
        done = []
        try:
            for opt, sub_grads, sub_vars in self._split(list(zip(grads, variables))):
                before = opt.iterations
                opt.apply(sub_grads, sub_vars)
                if opt.iterations != before:
                    done.append((opt, [v for g, v in zip(sub_grads, sub_vars)
                                       if g is not None]))
        except BaseException:
            for opt, stepped in reversed(done):
                _take_back(opt, stepped)
            raise
        self.iterations += 1

    def apply_gradients(self, grads_and_vars):
        """Apply one step from `(gradient, variable)` pairs (Keras API)."""
        pairs = [tuple(p) for p in grads_and_vars]
        if not pairs or all(g is None for g, _ in pairs):
            raise ValueError("MultiOptimizer.apply_gradients: no gradients provided for any "
                             "variable.")
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def finalize_variable_values(self, var_list):
        """End of training: each sub-optimizer finalizes its own variables (EMA swap-in)."""
        for opt, _, variables in self._split([(None, v) for v in var_list]):
            opt.finalize_variable_values(variables)

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempt variables from the weight decay of every sub-optimizer."""
        for opt in self._inner_optimizers:
            opt.exclude_from_weight_decay(var_list, var_names)

    # ----------------------------------------------------------------- state
    def get_slots(self, var):
        """`var`'s slots in its own optimizer (`{slot_name: array}`, copies)."""
        return self._optimizer_for(var).get_slots(var)

    def set_slots(self, var, slots):
        """Set `var`'s slots in its own optimizer."""
        self._optimizer_for(var).set_slots(var, slots)

    def _state_layout(self, var_list):
        """`[(name, shape, dtype, variable or None)]` of `variables_for(var_list)`, in order:
        the counters (and numeric learning rates) first, then each variable's slots."""
        for var in var_list:
            self._optimizer_for(var)
        out = [("iterations", (), np.dtype(np.int64), None)]
        for i, opt in enumerate(self._inner_optimizers):
            out.append((f"optimizer_{i}/iterations", (), np.dtype(np.int64), None))
            if isinstance(opt._learning_rate, float):
                out.append((f"optimizer_{i}/learning_rate", (), np.dtype(np.float64), None))
        for var in var_list:
            opt = self._optimizer_for(var)
            for slot in opt._slot_names():
                out.append((f"{var.path}/{slot}", tuple(opt._slot_shape(slot, tuple(var.shape))),
                            np.dtype(var.dtype), var))
        return out

    def variables_for(self, var_list):
        """The state for `var_list` as `(name, array)` pairs (copies), in `_state_layout`
        order."""
        out = [("iterations", np.array(self.iterations, dtype=np.int64))]
        for i, opt in enumerate(self._inner_optimizers):
            out.append((f"optimizer_{i}/iterations", np.array(opt.iterations, dtype=np.int64)))
            if isinstance(opt._learning_rate, float):
                out.append((f"optimizer_{i}/learning_rate",
                            np.array(opt._learning_rate, dtype=np.float64)))
        for var in var_list:
            for slot, a in self.get_slots(var).items():
                out.append((f"{var.path}/{slot}", a))
        return out

    def set_variables_for(self, var_list, items):
        """Restore state saved by `variables_for(var_list)` (same variables, same order)."""
        arrays = [a[1] if isinstance(a, tuple) else a for a in items]
        layout = self._state_layout(var_list)
        if len(arrays) != len(layout):
            raise ValueError(f"MultiOptimizer.set_variables_for expected {len(layout)} arrays "
                             f"({', '.join(n for n, *_ in layout[:4])}, ...), received "
                             f"{len(arrays)}.")
        for (name, shape, _, _), a in zip(layout, arrays):
            if np.shape(a) != shape:
                raise ValueError(f"MultiOptimizer.set_variables_for: '{name}' must have shape "
                                 f"{shape}, received shape {np.shape(a)}.")
        self.iterations = int(np.asarray(arrays[0]))
        k = 1
        for opt in self._inner_optimizers:
            opt.iterations = int(np.asarray(arrays[k]))
            k += 1
            if isinstance(opt._learning_rate, float):
                opt.learning_rate = float(np.asarray(arrays[k]))
                k += 1
        for var in var_list:
            names = self._optimizer_for(var)._slot_names()
            self.set_slots(var, dict(zip(names, arrays[k:k + len(names)])))
            k += len(names)

    # ----------------------------------------------------------------- config
    def get_config(self):
        """`{"optimizer_map": ..., "loss_scale_factor": None, "name": ...}` (Keras's keys)."""
        if not isinstance(self._optimizer_map, OptimizerMap):
            raise SerializationError(
                f"MultiOptimizer '{self.name}' was built with a callable selector "
                f"({getattr(self._optimizer_map, '__name__', self._optimizer_map)!r}), which "
                "cannot be serialized; use an OptimizerMap of path regexes to save the model "
                "(`save_weights` needs no config).")
        return {"optimizer_map": {"class_name": "OptimizerMap",
                                  "config": self._optimizer_map.get_config()},
                "loss_scale_factor": None, "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Build a MultiOptimizer from `get_config()` output (also Keras 3's)."""
        config = dict(config)
        entry = config.get("optimizer_map")
        if isinstance(entry, dict) and entry.get("class_name") == "OptimizerMap":
            config["optimizer_map"] = OptimizerMap.from_config(entry.get("config") or {},
                                                               custom_objects)
        elif isinstance(entry, dict) and "default_optimizer" in entry:
            config["optimizer_map"] = OptimizerMap.from_config(entry, custom_objects)
        else:
            raise ValueError(f"MultiOptimizer.from_config: 'optimizer_map' must be a serialized "
                             f"OptimizerMap. Received: optimizer_map={entry!r}")
        return cls(**config)

    def __repr__(self):
        return (f"<MultiOptimizer name='{self.name}' optimizers="
                f"{[o.name for o in self._inner_optimizers]} iterations={self.iterations}>")


def _take_back(opt, variables):
    """Undo a sub-optimizer's completed step: weights from the step's backups, the previous slots
    swapped back in, one iteration less."""
    for var in variables:
        st = opt._states[id(var)]
        st.flat[...] = st.backup
        st.arrays, st.spare = st.spare, st.arrays
        st.flats, st.spare_flats = st.spare_flats, st.flats
    opt.iterations -= 1


__all__ = ["MultiOptimizer", "OptimizerMap", "deserialize_optimizer"]
