"""The saving methods of `Model` (Keras names): save, save_weights, load_weights, to_json."""
from . import model_io


class SavingMixin:
    """`save`, `save_weights`, `load_weights` and `to_json` for `Model`."""

    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Save the whole model to one `.kerasnp` (or `.keras`) zip file, atomically.

        Holds the architecture, weights, compile config, optimizer state, History and random
        generator states. See `kerasnp.saving.save_model`; reload with
        `kerasnp.models.load_model(filepath)`.
        """
        model_io.save_model(self, filepath, overwrite=overwrite,
                            include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        """Save the weights to a `.weights.npz` file (NumPy arrays, no pickle), atomically."""
        model_io.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Load weights from a `.weights.npz` file (or a full `.kerasnp` model file) by
        structure: the i-th saved array into the i-th weight, shapes checked. Raises
        `kerasnp.saving.ModelFileError` without changing anything when the file does not fit."""
        model_io.load_weights(self, filepath)

    def to_json(self, **kwargs):
        """The architecture as a JSON string; `kerasnp.models.model_from_json` rebuilds it.
        `kwargs` are passed to `json.dumps` (e.g. `indent=2`)."""
        return model_io.to_json(self, **kwargs)
