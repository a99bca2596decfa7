"""Saving and loading models safely: one zip file of JSON and `.npy` arrays, never pickle.

- `save_model(model, path)` / `model.save(path)`: architecture, weights, compile config,
  optimizer state, History and random-generator states in one `.kerasnp` file, written
  atomically.
- `load_model(path, custom_objects=None, compile=True)`: the model back, predicting
  bit-identically and resuming training exactly.
- `load_into(model, path)`: restore a checkpoint into an existing model (used by callbacks).
- `register_serializable()` (Keras's `register_keras_serializable`), `get_custom_objects()` and
  `custom_object_scope(...)`: make custom layers and functions loadable by name.
- `serialize_keras_object` / `deserialize_keras_object`: any object to Keras 3's dict layout
  and back, through registries only.

Files from strangers are safe to open: classes come only from kerasnp's registries or the
caller's `custom_objects`, every limit is checked before allocating, and every problem raises
`ModelFileError`.

Keras 3's own files (`.keras` zips and `.weights.h5`, recognised by their content) are read by
`keras_format` with the same rules; their weights are HDF5, parsed by h5py, which is why
`.kerasnp` (no HDF5 parser) is the format to use for files you do not trust.
"""
from .._serializable import get_registered_name, register_serializable
from ..layers.serialization import register_keras_objects
from ..models.model_files import register_model_files
from . import keras_objects, model_io
from .checks import ModelFileError
from .file_editor import KerasFileEditor
from .keras_objects import deserialize_keras_object, serialize_keras_object
from .model_io import load_into, load_model, load_weights, model_from_json, save_model, \
    save_weights
from .object_registration import CustomObjectScope, custom_object_scope, get_custom_objects, \
    get_registered_object, register_keras_serializable

# The engine must not import saving, so `Model.save` & co. and `kerasnp.models.load_model` call
# whichever module registered itself as the model file service: this one, once imported.
register_model_files(model_io)
register_keras_objects(keras_objects)       # layers.serialize / deserialize

__all__ = ["CustomObjectScope", "KerasFileEditor", "ModelFileError", "custom_object_scope",
           "deserialize_keras_object", "get_custom_objects", "get_registered_name",
           "get_registered_object", "load_into", "load_model", "load_weights",
           "model_from_json", "register_keras_serializable", "register_serializable",
           "save_model", "save_weights", "serialize_keras_object"]
