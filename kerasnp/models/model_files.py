"""`Model.save`, `save_weights`, `load_weights`, `to_json` and `kerasnp.models.load_model`.

Keras puts these on the model, but the file format lives in `kerasnp.saving`, which depends on
the engine; the engine must not import it back. So the engine names what it needs, a "model
file service" with the six functions of `_SERVICE_FUNCTIONS`, and `kerasnp.saving` registers
itself as that service when it is imported (`register_model_files`). `import kerasnp` always
imports `kerasnp.saving`, so the service is there whenever a model exists.
"""
_SERVICE_FUNCTIONS = ("save_model", "save_weights", "load_weights", "to_json", "load_model",
                      "model_from_json")
_service = None


def register_model_files(service):
    """Make `service` (an object or module with the functions of `_SERVICE_FUNCTIONS`, taking
    the model first where there is one) what the model file methods call. Called by
    `kerasnp.saving` on import; the last registration wins."""
    global _service
    missing = [f for f in _SERVICE_FUNCTIONS if not callable(getattr(service, f, None))]
    if missing:
        raise TypeError(f"A model file service must define {', '.join(_SERVICE_FUNCTIONS)}. "
                        f"Received: {service!r}, without {', '.join(missing)}")
    _service = service


def _files(what):
    if _service is None:
        raise RuntimeError(f"{what} needs kerasnp.saving, which registers itself as the model "
                           "file service when imported: `import kerasnp` (or kerasnp.saving) "
                           "first.")
    return _service


class ModelFileMethods:
    """`save`, `save_weights`, `load_weights` and `to_json` for `Model` (Keras names)."""

    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Save the whole model to one file, atomically: `.keras` writes Keras 3's format
        (real Keras opens it), `.kerasnp` kerasnp's own (no HDF5; also the History and random
        generator states, for a bit-identical resume).

        Both hold the architecture, weights, compile config and optimizer state. See
        `kerasnp.saving.save_model`; reload with `kerasnp.models.load_model(filepath)`.
        """
        _files("Model.save").save_model(self, filepath, overwrite=overwrite,
                                        include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        """Save the weights, atomically: to `.weights.h5` in Keras 3's HDF5 layout (Keras's
        `load_weights` reads it) or to `.weights.npz` (NumPy arrays, no HDF5, no pickle)."""
        _files("Model.save_weights").save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Load weights from a `.weights.h5` or `.keras` file (Keras's layout: by layer class
        and position, as Keras does) or a `.weights.npz` / `.kerasnp` file (the i-th saved
        array into the i-th weight); shapes checked. Raises `kerasnp.saving.ModelFileError`
        without changing anything when the file does not fit."""
        _files("Model.load_weights").load_weights(self, filepath)

    def to_json(self, **kwargs):
        """The architecture as a JSON string; `kerasnp.models.model_from_json` rebuilds it.
        `kwargs` are passed to `json.dumps` (e.g. `indent=2`)."""
        return _files("Model.to_json").to_json(self, **kwargs)

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None,
               **kwargs):
        """Export the model for inference: `model.export("model.onnx", format="onnx")` writes an
        ONNX file that onnxruntime serves (`opset_version=` picks the opset; needs the optional
        `onnx` package). Keras's other formats need TensorFlow or OpenVINO and raise a
        ValueError that says so. See `kerasnp.export.export_onnx`."""
        from ..export import export_model       # late: the exporters sit above the engine
        return export_model(self, filepath, format=format, verbose=verbose,
                            input_signature=input_signature, **kwargs)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model saved by `model.save` (or by Keras 3); the same as
    `kerasnp.saving.load_model`.

    Args:
        filepath: path of a `.kerasnp` or `.keras` file (told apart by content).
        custom_objects: dict `{name: class or function}` for custom layers, losses, metrics,
            activations and Lambda functions used by the model.
        compile: compile the model as it was saved and restore the optimizer state.
        safe_mode: True refuses the `Lambda` layers of Keras files; kerasnp never runs code
            from a file.

    Returns:
        The model, predicting bit-identically to the saved one. Any problem with the file
        raises `kerasnp.saving.ModelFileError`.
    """
    return _files("load_model").load_model(filepath, custom_objects=custom_objects,
                                           compile=compile, safe_mode=safe_mode)


def model_from_json(json_string, custom_objects=None):
    """Build a model (freshly initialised weights) from `model.to_json()` output; the same as
    `kerasnp.saving.model_from_json`."""
    return _files("model_from_json").model_from_json(json_string,
                                                     custom_objects=custom_objects)
