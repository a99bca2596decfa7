"""The layer-class -> ONNX converter registry, and the error raised for what cannot be exported.

A converter is `fn(b, layer, *args, **kwargs) -> tensor name(s)`: it receives the builder and the
layer, then the layer call's arguments with every tensor replaced by its ONNX tensor name (a
merge layer gets a list of names, as its `call` gets a list of arrays), and returns the name of
the output (a list of names for a layer with several outputs).
"""

CONVERTERS = {}


class ExportError(ValueError):
    """A model (or one of its layers) that cannot be written in the requested format."""


def converts(*classes):
    """Register the decorated function as the ONNX converter of `classes`."""
    def decorate(fn):
        for cls in classes:
            CONVERTERS[cls] = fn
        return fn
    return decorate


def find(layer):
    """The converter of `layer`'s class, or of a registered base class whose computation the
    layer inherits unchanged (a subclass that overrides `call` computes something else)."""
    return find_class(type(layer))


def find_class(cls):
    """`find` for a layer class."""
    fn = CONVERTERS.get(cls)
    if fn is not None:
        return fn
    for base in cls.__mro__[1:]:
        if base in CONVERTERS and getattr(cls, "call", None) is getattr(base, "call", None):
            return CONVERTERS[base]
    return None


def supported_names():
    """Sorted names of the public layer classes (`kerasnp.layers`) that have a converter."""
    from .. import layers
    classes = [getattr(layers, n) for n in layers.__all__]
    names = {c.__name__ for c in classes if isinstance(c, type) and find_class(c)}
    return sorted(names | {c.__name__ for c in CONVERTERS if not c.__name__.startswith("_")})


def unsupported(layer, why):
    """Raise the ExportError for `layer` (its name and class first), saying `why`."""
    raise ExportError(f"Layer '{layer.name}' ({type(layer).__name__}) cannot be exported to "
                      f"ONNX: {why}")
