"""Name registries and the one `get(identifier)` resolver every concept shares.

A registry is a plain dict from name to class or instance. `resolve` accepts `None`, a name, an
instance/callable, or a Keras-style config dict `{"class_name": ..., "config": {...}}`, and raises an
error that lists the valid names and the closest match for a typo.
"""
import difflib
import re


def snake_case(name):
    """Keras's auto-naming rule: `'LeakyReLU'` -> `'leaky_re_lu'`, `'Conv2D'` -> `'conv2d'`,
    `'MaxPooling2D'` -> `'max_pooling2d'`, `'Conv2DTranspose'` -> `'conv2d_transpose'`."""
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


class Registry(dict):
    """A dict of name -> object, with lookups that explain themselves when they fail."""

    def __init__(self, kind):
        super().__init__()
        self.kind = kind

    def register(self, *names):
        """Decorator: register a class or instance under `names` (default: its own name)."""
        def deco(obj):
            keys = names or (getattr(obj, "__name__", None) or obj.name,)
            for key in keys:
                self[key] = obj
            return obj
        return deco

    def lookup(self, name):
        for key in (name, name.lower(), snake_case(name)):
            if key in self:
                return self[key]
        valid = sorted(self)
        close = difflib.get_close_matches(name.lower(), valid, n=1, cutoff=0.6)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ValueError(f"Unknown {self.kind} '{name}'. Valid: {', '.join(valid)}.{hint}")


def resolve(identifier, registry, instantiate=True):
    """Resolve `identifier` against `registry`.

    Strings and config dicts that name a class give a new instance when `instantiate` is true
    (config dicts always pass their `config` as keyword arguments through `from_config` when the
    class has one). Anything else that is not a string or dict is returned unchanged, so instances
    and user callables pass straight through.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        obj = registry.lookup(identifier)
        return obj() if instantiate and isinstance(obj, type) else obj
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(f"A {registry.kind} config dict needs a 'class_name' key. "
                             f"Received: {identifier!r}")
        obj = registry.lookup(identifier["class_name"])
        config = identifier.get("config") or {}
        if isinstance(obj, type):
            return obj.from_config(config) if hasattr(obj, "from_config") else obj(**config)
        return obj
    return identifier


def get_object(identifier, registry, base, kind):
    """The shared `get()` of registries whose objects are callables: a class of `base` gives a
    new instance; a name or config dict is resolved; instances and plain callables pass through;
    anything else is an error that lists the valid names."""
    if isinstance(identifier, type) and issubclass(identifier, base):
        return identifier()
    obj = resolve(identifier, registry)
    if obj is not None and not callable(obj):
        article = "an" if base.__name__[0] in "AEIOU" else "a"
        raise ValueError(f"Could not interpret {kind} identifier: expected a name, a config "
                         f"dict, {article} {base.__name__} or a callable. Valid names: "
                         f"{', '.join(sorted(registry))}. Received: identifier={identifier!r}")
    return obj


class SerializationError(TypeError, ValueError):
    """An object that has no config (not an instance of the serializable base class)."""


def serialize_object(obj, base, arg):
    """`{"class_name": ..., "config": ...}` for an instance of `base` (the shared `serialize`)."""
    if not isinstance(obj, base):
        raise SerializationError(f"Only {base.__name__} instances can be serialized; plain "
                                 f"functions have no config. Received: {arg}={obj!r}")
    return {"class_name": type(obj).__name__, "config": obj.get_config()}
