"""Keras's keras.utils spellings of the saving helpers (custom objects, (de)serialize_keras_object,
registered names) and `Config`. The saving names are the objects of `kerasnp.saving`."""
from ..saving.keras_objects import deserialize_keras_object, serialize_keras_object
from ..saving.object_registration import CustomObjectScope, custom_object_scope, \
    get_custom_objects, get_registered_name, get_registered_object, register_keras_serializable
from .config_object import Config

__all__ = ["Config", "CustomObjectScope", "custom_object_scope", "deserialize_keras_object",
           "get_custom_objects", "get_registered_name", "get_registered_object",
           "register_keras_serializable", "serialize_keras_object"]
