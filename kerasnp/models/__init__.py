"""Models: `Model` (functional graphs) and `Sequential` (a stack of layers)."""
from .model import Model
from .sequential import Sequential
from .model_files import load_model, model_from_json
from .cloning import clone_model

__all__ = ["Model", "Sequential", "load_model", "model_from_json", "clone_model", "save_model"]


def save_model(model, filepath, overwrite=True, **kwargs):
    """Keras's `models.save_model`: the same as `model.save(filepath, overwrite, **kwargs)`.

    Args:
        model: a kerasnp model.
        filepath: path ending in `.keras` (Keras 3's format) or `.kerasnp` (kerasnp's own).
        overwrite: replace an existing file (else raise `FileExistsError`).
        **kwargs: `include_optimizer=True`; Keras's `zipped` is accepted as None or True
            (both formats are zip files).

    Example:
        >>> import kerasnp as keras, os, tempfile
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
        >>> keras.models.save_model(model, path)
        >>> keras.models.load_model(path).count_params()
        8
    """
    if not isinstance(model, Model):
        raise TypeError(f"save_model expects a kerasnp Model. Received: model={model!r}")
    zipped = kwargs.pop("zipped", None)
    if zipped not in (None, True):
        raise ValueError("kerasnp writes models as zip files only (.keras or .kerasnp). "
                         f"Received: zipped={zipped!r}")
    unknown = sorted(set(kwargs) - {"include_optimizer"})
    if unknown:
        raise TypeError(f"save_model got unexpected arguments {unknown}. Valid: overwrite, "
                        f"include_optimizer, zipped. Received: {kwargs!r}")
    model.save(filepath, overwrite=overwrite, **kwargs)
