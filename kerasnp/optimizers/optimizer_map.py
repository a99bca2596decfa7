"""`OptimizerMap`: which optimizer updates which variable, by variable path (Keras 3).

A key is a variable path or a regular expression over paths. A path that is a key itself takes
that key's optimizer; otherwise the keys that `re.fullmatch` it decide: one match gives its
optimizer, several are an error, none gives the default optimizer (Keras's precedence).
"""
import re
from collections.abc import MutableMapping

from kerasnp.optimizers.base import Optimizer


class OptimizerMap(MutableMapping):
    """A mapping from variable-path patterns to optimizers, with a default for the rest.

    Args:
        default_optimizer: the `Optimizer` for every variable no key matches.
        optimizer_map: None or a dict `{path or regex: Optimizer}`.

    Calling the map on a variable returns the optimizer of `variable.path`, so it can be given
    to `MultiOptimizer` as its selector.

    Example:
        >>> from kerasnp import optimizers
        >>> m = optimizers.OptimizerMap(optimizers.SGD(), {"encoder/.*": optimizers.Adam()})
        >>> m["decoder"] = optimizers.RMSprop()
        >>> m["encoder/dense/kernel"].name, m["decoder"].name, m["head/bias"].name
        ('adam', 'rmsprop', 'SGD')
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(f"OptimizerMap: default_optimizer must be a kerasnp Optimizer "
                            f"instance. Received: default_optimizer={default_optimizer!r}")
        _check_not_multi(default_optimizer, "default_optimizer")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"OptimizerMap: optimizer_map must be None or a dict {{path or "
                            f"regex: Optimizer}}. Received: optimizer_map={optimizer_map!r}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = {}
        for key, opt in (optimizer_map or {}).items():
            self[key] = opt

    @property
    def default_optimizer(self):
        """The optimizer of the variables that no key matches."""
        return self._default_optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matches = [p for p in self._optimizer_map if re.fullmatch(p, key)]
        if len(matches) > 1:
            raise ValueError(f"OptimizerMap: variable '{key}' matches several keys {matches}; "
                             "each variable must match at most one key (or be a key itself).")
        if matches:
            return self._optimizer_map[matches[0]]
        return self._default_optimizer

    def __setitem__(self, key, optimizer):
        if not isinstance(key, str):
            raise ValueError(f"OptimizerMap: a key must be a string (a variable path or a "
                             f"regular expression). Received: key={key!r}")
        if key in self._optimizer_map:
            raise ValueError(f"OptimizerMap: key '{key}' already exists (with optimizer "
                             f"{self._optimizer_map[key]!r}); keys cannot be assigned twice.")
        try:
            re.compile(key)
        except re.error as err:
            raise ValueError(f"OptimizerMap: key '{key}' is not a valid regular expression "
                             f"({err}). Received: key={key!r}") from None
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"OptimizerMap: the value for key '{key}' must be a kerasnp "
                             f"Optimizer instance. Received: optimizer={optimizer!r}")
        _check_not_multi(optimizer, f"the value for key '{key}'")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        return self[variable.path]

    def __repr__(self):
        return (f"<OptimizerMap default={self._default_optimizer!r} "
                f"keys={list(self._optimizer_map)}>")

    def get_config(self):
        """`{"default_optimizer": ..., "optimizer_map": {key: ...}}` with each optimizer as
        `{"class_name": ..., "config": ...}` (Keras's keys)."""
        return {"default_optimizer": _serialize(self._default_optimizer),
                "optimizer_map": {k: _serialize(o) for k, o in self._optimizer_map.items()}}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Build a map from `get_config()` output (also Keras 3's)."""
        if not isinstance(config, dict) or "default_optimizer" not in config:
            raise ValueError(f"OptimizerMap.from_config expects a dict with 'default_optimizer' "
                             f"and 'optimizer_map'. Received: config={config!r}")
        entries = config.get("optimizer_map") or {}
        if isinstance(entries, dict) and "class_name" in entries and "config" in entries:
            entries = entries["config"]       # (a dict serialized as an object)
        if not isinstance(entries, dict):
            raise ValueError(f"OptimizerMap.from_config: 'optimizer_map' must be a dict. "
                             f"Received: {entries!r}")
        return cls(deserialize_optimizer(config["default_optimizer"], custom_objects),
                   {k: deserialize_optimizer(v, custom_objects) for k, v in entries.items()})


def _check_not_multi(opt, what):
    from kerasnp.optimizers.multi import MultiOptimizer
    if isinstance(opt, MultiOptimizer):
        raise ValueError(f"OptimizerMap: {what} cannot be a MultiOptimizer (they do not nest). "
                         f"Received: {opt!r}")


def _serialize(opt):
    from kerasnp._serializable import with_registered_name
    return with_registered_name({"class_name": type(opt).__name__, "config": opt.get_config()},
                                type(opt))


def deserialize_optimizer(entry, custom_objects=None):
    """An optimizer from `{"class_name", "config"[, "registered_name"]}`: a custom object or a
    registered class first, then kerasnp's optimizer names."""
    from kerasnp._serializable import call_from_config, lookup
    from kerasnp.optimizers import deserialize, get
    if isinstance(entry, (str, Optimizer)):
        return get(entry)
    if not isinstance(entry, dict) or "class_name" not in entry:
        raise ValueError(f"An optimizer config must be a dict with 'class_name' and 'config'. "
                         f"Received: {entry!r}")
    cls = lookup((entry.get("registered_name"), entry["class_name"]), custom_objects)
    if isinstance(cls, type):
        return call_from_config(cls, entry.get("config") or {}, custom_objects)
    return deserialize({"class_name": entry["class_name"], "config": entry.get("config") or {}})
