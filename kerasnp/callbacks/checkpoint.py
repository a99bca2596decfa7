"""ModelCheckpoint: save the model or its weights during training."""
import math
import os

from .. import _validate
from . import _state
from ._common import (is_chief, monitor_name, monitored_value, path_arg, resolve_mode,
                      safe_to_write, save_freq_arg, say, verbose_arg, write_once)
from .base import Callback

_OWNER = "ModelCheckpoint"
_MODEL_EXTS = (".kerasnp", ".keras")
_WEIGHTS_EXTS = (".weights.h5", ".weights.npz")


class ModelCheckpoint(Callback):
    """Save the model (or only its weights) at the end of every epoch or every few batches.

    `filepath` may hold format fields filled at save time: `{epoch}` (1-based, e.g.
    `{epoch:02d}`), `{batch}` (1-based, when saving every `save_freq` batches) and any key of the
    logs, e.g. `"ckpt/model-{epoch:02d}-{val_loss:.2f}.kerasnp"`. Writes are atomic: a crash
    during a save leaves the previous file in place.

    Args:
        filepath: where to save; must end in `.kerasnp` (kerasnp's format) or `.keras`
            (Keras 3's, see `Model.save`) for a full model, in
            `.weights.h5` (Keras's HDF5 layout) or `.weights.npz` (kerasnp's, no HDF5) with
            `save_weights_only=True`. Missing directories are created.
        monitor: the logged quantity compared when `save_best_only=True`.
        verbose: 0 silent, 1 prints a line at each save (or skipped save).
        save_best_only: only save when `monitor` beats the best value seen so far, so with a
            fixed `filepath` the file always holds the best model.
        save_weights_only: save only the weights (`model.save_weights`) instead of the full
            model with its optimizer state (`model.save`).
        mode: "min", "max" or "auto" (max for accuracy-like names, min otherwise).
        save_freq: "epoch", or an int: save every `save_freq` training batches (counted across
            epochs; the logs are then the running averages of the current epoch).
        initial_value_threshold: with `save_best_only`, the value the first save must beat.

    Example:
        >>> import kerasnp as keras
        >>> ckpt = keras.callbacks.ModelCheckpoint("ckpt/model-{epoch:02d}.kerasnp")
        >>> ckpt.save_freq
        'epoch'
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        self.filepath = path_arg(filepath, "filepath", _OWNER)
        self.monitor = monitor_name(monitor, _OWNER)
        self.verbose = verbose_arg(verbose, _OWNER)
        self.save_best_only = _validate.boolean(save_best_only, "save_best_only", _OWNER)
        self.save_weights_only = _validate.boolean(save_weights_only, "save_weights_only", _OWNER)
        self.mode = mode
        self._direction = resolve_mode(mode, self.monitor, _OWNER)
        self.save_freq = save_freq_arg(save_freq, _OWNER)
        self.initial_value_threshold = (
            None if initial_value_threshold is None
            else _validate.number(initial_value_threshold, "initial_value_threshold", _OWNER))
        if self.save_weights_only and not self.filepath.endswith(_WEIGHTS_EXTS):
            raise ValueError(f"{_OWNER}: with save_weights_only=True the filepath must end in "
                             "'.weights.h5' (Keras's HDF5 layout) or '.weights.npz' (kerasnp's). "
                             f"Received: filepath={self.filepath!r}")
        if not self.save_weights_only and not self.filepath.endswith(_MODEL_EXTS):
            raise ValueError(f"{_OWNER}: the filepath of a full model must end in '.kerasnp' "
                             "(or '.keras'); to save only the weights, pass "
                             "save_weights_only=True and a '.weights.h5' path. "
                             f"Received: filepath={self.filepath!r}")
        if self.initial_value_threshold is not None:
            self.best = self.initial_value_threshold
        else:
            self.best = math.inf if self._direction == "min" else -math.inf
        self._epoch = 0
        self._batches_since_save = 0

    def get_state(self):
        """The best value so far and the batches since the last save, for BackupAndRestore:
        a resumed run saves at the epochs (and batches) an uninterrupted run would."""
        return {"best": self.best, "batches_since_save": self._batches_since_save}

    def set_state(self, state):
        """Take back a state from `get_state` (checked before anything is set)."""
        values = (_state.number(state, "best", _OWNER),
                  _state.count(state, "batches_since_save", _OWNER))
        self.best, self._batches_since_save = values

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _better(self, value):
        return value < self.best if self._direction == "min" else value > self.best

    def _save(self, epoch, batch, logs):
        logs = logs or {}
        path = self._format(epoch, batch, logs)
        if self.save_best_only:
            current = monitored_value(logs, self.monitor, _OWNER, "saving the best model")
            if current is None:
                return
            if not self._better(current):
                if self.verbose and is_chief():
                    say(f"Epoch {epoch + 1}: {self.monitor} did not improve from "
                        f"{self.best:.5f}")
                return
            if not safe_to_write(self.model, _OWNER):
                return
            if self.verbose and is_chief():
                say(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                    f"{current:.5f}, saving model to {path}")
            self.best = current
        else:
            if not safe_to_write(self.model, _OWNER):
                return
            if self.verbose and is_chief():
                say(f"Epoch {epoch + 1}: saving model to {path}")
        write_once(lambda: self._write(path), path)     # process 0 only, the others wait

    def _write(self, path):
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path, overwrite=True)

    def _format(self, epoch, batch, logs):
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None:
            fields.setdefault("batch", batch + 1)
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError, ValueError) as err:
            raise KeyError(f"{_OWNER}: could not fill the filepath {self.filepath!r} ({err!r}). "
                           f"Available fields: {', '.join(fields)}.") from None
