"""Exporting models for serving: `export_onnx` writes a model as an ONNX file.

`model.export("model.onnx", format="onnx")` (Keras 3's method) calls `export_onnx`. The `onnx`
package is an optional dependency (`pip install "kerasnp[onnx]"`), imported only when a model
is exported; onnxruntime then runs the file without kerasnp.

Example:
    >>> from kerasnp import export
    >>> "Dense" in export.supported_layers()
    True
"""
from .onnx_export import build_onnx_model, export_onnx
from .onnx_registry import ExportError, supported_names


def supported_layers():
    """The names of the layer classes that export to ONNX (sorted)."""
    return supported_names()


__all__ = ["ExportError", "build_onnx_model", "export_model", "export_onnx",
           "supported_layers"]


_KERAS_FORMATS = {
    "tf_saved_model": "a TensorFlow SavedModel needs TensorFlow, which kerasnp does not use",
    "litert": "a LiteRT (TFLite) model needs TensorFlow, which kerasnp does not use",
    "openvino": "kerasnp does not write OpenVINO IR; OpenVINO reads ONNX files, so export "
                "format='onnx' and give OpenVINO the .onnx file",
}


def export_model(model, filepath, format="tf_saved_model", verbose=None, input_signature=None,
                 **kwargs):
    """`Model.export`: write `model` for inference in `format` ("onnx" is the one kerasnp
    writes; `opset_version=` picks the ONNX opset, as in Keras). See `export_onnx`."""
    if format == "onnx":
        opset = kwargs.pop("opset_version", None)
        if kwargs:
            raise TypeError(f"Model.export(format='onnx') got unexpected keyword arguments "
                            f"{', '.join(sorted(kwargs))}. Valid: opset_version. "
                            f"Received: {kwargs!r}")
        return export_onnx(model, filepath, opset=opset, verbose=verbose,
                           input_signature=input_signature)
    if format in _KERAS_FORMATS:
        raise ValueError(f"Model.export: format={format!r} is not available in kerasnp: "
                         f"{_KERAS_FORMATS[format]}. Use format='onnx' (serve the file with "
                         f"onnxruntime). Received: format={format!r}")
    raise ValueError(f"Model.export: unknown format {format!r}. Valid: 'onnx' (Keras also "
                     f"names {', '.join(repr(f) for f in _KERAS_FORMATS)}, which need "
                     f"TensorFlow or OpenVINO). Received: format={format!r}")
