"""Keras's custom-object registry: `get_custom_objects`, `custom_object_scope`,
`get_registered_object`, `register_keras_serializable`.

kerasnp keeps one dict of custom objects (`kerasnp._serializable`), searched by every loader
after the caller's `custom_objects`: `load_model`, `model_from_json`, `layers.deserialize`,
`deserialize_keras_object` and the names inside layer configs (activations, initializers, ...).
`get_custom_objects()` returns that dict itself, so adding to it makes a name loadable, as in
Keras. A `custom_object_scope` adds its objects to it on entry and puts back exactly what was
there on exit, so scopes nest and an exception inside one leaves nothing behind. Unlike Keras's,
the scope is process-wide, not per thread. `get_registered_object(name, custom_objects=None,
module_objects=None)` is `kerasnp._serializable`'s; `module_objects` is searched last, as in Keras.
"""
from .. import _serializable
from .._serializable import check_custom_objects, get_registered_name, get_registered_object, \
    register_serializable

__all__ = ["CustomObjectScope", "custom_object_scope", "get_custom_objects",
           "get_registered_name", "get_registered_object", "register_keras_serializable"]

_MISSING = object()

register_keras_serializable = register_serializable   # Keras's spelling (package="Custom", name=None)


def get_custom_objects():
    """The global dict of custom objects: `{"Package>Name" or name: class or function}`.

    Objects registered with `register_keras_serializable` are in it under their registered
    name; anything added to it is found by name by every loader.

    Example:
        >>> import kerasnp as keras
        >>> def scaled_relu(x):
        ...     return 2.0 * keras.ops.relu(x)
        >>> keras.saving.get_custom_objects()["scaled_relu"] = scaled_relu
        >>> keras.saving.get_registered_object("scaled_relu") is scaled_relu
        True
        >>> del keras.saving.get_custom_objects()["scaled_relu"]
    """
    return _serializable._REGISTERED


class CustomObjectScope:
    """Context manager: the objects of `custom_objects` are found by name by every
    deserialization inside it (`load_model`, `model_from_json`, `layers.deserialize`,
    `deserialize_keras_object`, names in layer configs).

    Args:
        custom_objects: dict `{name: class or function}`.

    Example:
        >>> import kerasnp as keras
        >>> class Twice(keras.layers.Layer):
        ...     def call(self, x):
        ...         return 2.0 * x
        >>> config = keras.layers.serialize(Twice(name="t"))
        >>> with keras.saving.custom_object_scope({"Twice": Twice}):
        ...     layer = keras.layers.deserialize(config)
        >>> type(layer).__name__
        'Twice'
    """

    def __init__(self, custom_objects):
        if custom_objects is None:
            custom_objects = {}
        self.custom_objects = dict(check_custom_objects(custom_objects))
        self._saved = None

    def __enter__(self):
        if self._saved is not None:
            raise RuntimeError("This CustomObjectScope is already active; make a new one to "
                               "nest the same objects.")
        objects = _serializable._REGISTERED
        self._saved = {k: objects.get(k, _MISSING) for k in self.custom_objects}
        objects.update(self.custom_objects)
        return self

    def __exit__(self, *exc):
        objects = _serializable._REGISTERED
        for key, old in self._saved.items():
            if old is _MISSING:
                objects.pop(key, None)
            else:
                objects[key] = old
        self._saved = None
        return False


custom_object_scope = CustomObjectScope
