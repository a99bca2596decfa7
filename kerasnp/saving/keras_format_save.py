"""Saving kerasnp models as Keras 3 files: `.keras` zips and `.weights.h5` weights.

`model.save("m.keras")` and `model.save_weights("w.weights.h5")` come here (through
`model_io`). The config is made by `keras_format_write`, the HDF5 layout by
`keras_format_layout`, the optimizer's variables by `keras_format_compile`; the files are
written atomically. A model that Keras's format cannot describe raises `UnsupportedModel`
before anything is written.
"""
import json

from .._serializable import ConfigError
from . import archive
from ._h5write import write_h5, write_keras_zip
from .keras_format_compile import optimizer_arrays
from .keras_format_layout import entries, train_variables
from .keras_format_write import model_config
from .serialization import json_default


class UnsupportedModel(ValueError):
    """Raised by `save_model` / `save_weights` for a model Keras 3's files cannot describe."""


def save_model(model, filepath, include_optimizer=True):
    """Write `model` as a Keras 3 `.keras` file (atomically); see `kerasnp.saving.save_model`.
    Raises `UnsupportedModel` (nothing written) when Keras's format cannot describe it."""
    dtype = model_dtype(model)
    try:
        cfg = model_config(model, dtype)
        groups = weight_groups(model, include_optimizer)
    except ConfigError as err:
        raise UnsupportedModel(f"Cannot save model '{model.name}' in Keras's format: "
                               f"{err}") from None
    if not include_optimizer:
        cfg.pop("compile_config", None)
    data = json.dumps(cfg, default=json_default).encode("utf-8")
    archive.atomic_file(filepath, lambda fp: write_keras_zip(fp, data, groups))


def save_weights(model, filepath):
    """Write the weights (and optimizer variables) as a Keras 3 `.weights.h5` file."""
    try:
        groups = weight_groups(model, include_optimizer=True)
    except ConfigError as err:
        raise UnsupportedModel(f"Cannot save the weights of model '{model.name}' in Keras's "
                               f"layout: {err}. Save them as '.weights.npz'.") from None
    archive.atomic_file(filepath, lambda fp: write_h5(fp, groups))


def model_dtype(model):
    from .. import config
    floats = [v.dtype.name for v in model.weights if v.dtype.kind == "f"]
    return floats[0] if floats else config.floatx()


def weight_groups(model, include_optimizer):
    """`[(vars group path, name, [arrays])]` of the model and, when compiled, its optimizer."""
    layout = entries(model)
    groups = [(e.vars_path, e.name, [v.value for v in e.variables] + [a for _, a in e.extra])
              for e in layout]
    opt = getattr(model, "optimizer", None)
    if include_optimizer and opt is not None and getattr(model, "compiled", False):
        groups.append(("optimizer/vars", opt.name,
                       optimizer_arrays(opt, train_variables(model))))
    return groups
