"""`export_onnx(model, filepath, opset)`: a kerasnp model as an ONNX file for onnxruntime.

The graph computes what `model.predict` computes (inference mode: dropout and noise are
identities, BatchNormalization uses its moving statistics), with the batch axis dynamic. Inputs
and outputs are named after the model's input and output layers and have the model's float
dtype, as `predict` casts its inputs to it.
"""
import os
import tempfile

from .. import __version__
from . import (onnx_activations, onnx_layers_attention, onnx_layers_conv,  # noqa: F401
               onnx_layers_core, onnx_layers_norm, onnx_layers_pool, onnx_layers_rnn,
               onnx_ops)                                           # (register the converters)
from .onnx_builder import DEFAULT_OPSET, MIN_OPSET, OnnxBuilder, import_onnx
from .onnx_graph import check_exportable, convert_model
from .onnx_registry import ExportError


def export_onnx(model, filepath, opset=None, verbose=None, input_signature=None):
    """Write `model` as an ONNX file that onnxruntime runs with the predictions of `predict`.

    Args:
        model: a built kerasnp `Model` (Sequential, functional, nested models; a subclassed
            model when its `call` could be traced on symbolic inputs).
        filepath: path of the `.onnx` file to write (replaced atomically if it exists).
        opset: ONNX opset version, from 17 (the default) to the newest the installed `onnx`
            knows.
        verbose: print where the file was written.
        input_signature: accepted for Keras compatibility; only None (the model's own input
            shapes, batch axis dynamic) is supported.

    Raises:
        ImportError: the optional `onnx` package is missing (`pip install "kerasnp[onnx]"`).
        kerasnp.export.ExportError: a layer of the model has no ONNX form; the message names
            it and lists the layers that export.

    Example:
        >>> import os, tempfile, kerasnp as keras
        >>> from kerasnp.export import export_onnx
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, "softmax")])
        >>> export_onnx(model, os.path.join(tempfile.mkdtemp(), "model.onnx"))  # needs onnx
    """
    if input_signature is not None:
        raise ValueError("export_onnx: kerasnp exports the model's own input shapes (batch axis "
                         "dynamic); input_signature is not supported. "
                         f"Received: input_signature={input_signature!r}")
    onnx = import_onnx()
    proto = build_onnx_model(model, opset, onnx)
    _write(proto.SerializeToString(), os.fspath(filepath))
    if verbose:
        print(f"Saved ONNX model (opset {proto.opset_import[0].version}) at '{filepath}'.")


def build_onnx_model(model, opset=None, onnx=None):
    """The checked `onnx.ModelProto` of `model` (what `export_onnx` writes)."""
    onnx = onnx or import_onnx()
    opset = _check_opset(opset, onnx)
    check_exportable(model)
    b = OnnxBuilder(onnx, opset, model._dtype())
    helper = onnx.helper
    inputs = []
    for i in model._input_ids:
        layer = model._nodes[i].layer
        if getattr(layer, "dtype", None) == "string":
            raise ExportError(f"Input '{layer.name}' of model '{model.name}' holds strings; ONNX "
                              "export takes numeric inputs only (vectorize text before the "
                              "exported model).")
        b.reserve(layer.name)
        b.set_shape(layer.name, model._nodes[i].shape)
        inputs.append(helper.make_tensor_value_info(layer.name, b.elem_type,
                                                    _dims(model._nodes[i].shape)))
    outs = convert_model(b, model, [v.name for v in inputs])
    outputs = []
    for name, shape, out in zip(_output_names(model, b), model.output_shapes, outs):
        b.nodes.append(helper.make_node("Identity", [out], [name], name=b.name(f"{name}_out")))
        outputs.append(helper.make_tensor_value_info(name, b.elem_type, _dims(shape)))
    graph = helper.make_graph(b.nodes, model.name, inputs, outputs, b.initializers)
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(graph, opset_imports=opsets, producer_name="kerasnp",
                              producer_version=__version__,
                              ir_version=helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _check_opset(opset, onnx):
    newest = onnx.defs.onnx_opset_version()
    if opset is None:
        return DEFAULT_OPSET
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"export_onnx: opset must be an int from {MIN_OPSET} to {newest} (the "
                         f"newest the installed onnx {onnx.__version__} knows). "
                         f"Received: opset={opset!r}")
    return opset


def _dims(shape):
    """ONNX dims of a symbolic shape: the batch axis named `batch` (dynamic), other unknown
    sizes left unnamed."""
    return ["batch"] + [None if d is None else int(d) for d in shape[1:]]


def _output_names(model, b):
    """The output layers' names, made unique (one layer may give several outputs)."""
    names = []
    for (i, k), base in zip(model._output_refs, model.output_names):
        base = base if k is None else f"{base}_{k}"
        name, n = base, 1
        while not b.reserve(name):
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def _write(data, filepath):
    folder = os.path.dirname(os.path.abspath(filepath))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"export_onnx: the folder of filepath does not exist. "
                                f"Received: filepath={filepath!r}")
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".onnx.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
