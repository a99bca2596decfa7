"""`get_registered_object(name, custom_objects=None, module_objects=None)`, Keras's signature:
`module_objects` (a library's own names) is searched after the caller's and the registered
objects."""
import inspect

import kerasnp as keras
from kerasnp import _serializable, saving


def test_signature_is_keras():
    params = inspect.signature(saving.get_registered_object).parameters
    assert list(params) == ["name", "custom_objects", "module_objects"]
    assert params["custom_objects"].default is None and params["module_objects"].default is None
    assert saving.get_registered_object is _serializable.get_registered_object


def test_module_objects_are_searched_last():
    @keras.saving.register_keras_serializable(package="ModObj")
    def mine(x):
        return x

    try:
        def other(x):
            return x
        assert saving.get_registered_object("nowhere", module_objects={"nowhere": other}) \
            is other
        assert saving.get_registered_object("nowhere", None, {"nowhere": other}) is other
        # the caller's custom_objects, then the registered objects, win over module_objects
        assert saving.get_registered_object("k", {"k": 1}, {"k": 2}) == 1
        assert saving.get_registered_object("ModObj>mine", module_objects={"ModObj>mine": other}
                                            ) is mine
        assert saving.get_registered_object("nowhere", module_objects=None) is None
        assert saving.get_registered_object("nowhere", module_objects={}) is None
    finally:
        del saving.get_custom_objects()["ModObj>mine"]
