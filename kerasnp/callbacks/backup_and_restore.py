"""BackupAndRestore: survive a crash mid-training and continue exactly where the backup left off."""
import os

from .. import _validate
from . import _state
from ._common import path_arg, safe_to_write, save_freq_arg, write_once
from .base import Callback

_OWNER = "BackupAndRestore"
_LATEST = "latest.kerasnp"
_PREVIOUS = "previous.kerasnp"


class BackupAndRestore(Callback):
    """Back up the full training state during `fit`; restore it when `fit` is run again.

    At the end of each epoch (or every `save_freq` batches) the model is written to
    `backup_dir` with its optimizer state, its History and the state of every random generator
    (data shuffling, dropout masks). If training is interrupted (a crash, a killed process,
    Ctrl-C), running the same `fit` again, on the same or a freshly built model, first restores
    that state and continues from the epoch after the backup. With `save_freq="epoch"` the
    resumed run is exact: its final weights are bitwise identical to those of a run that was
    never interrupted, and its History lists every epoch as if it had been one run.

    A backup taken mid-epoch (`save_freq` an int) resumes at the start of that epoch with the
    weights of the backup, as in Keras: the epoch's first batches are trained twice, so that
    resumed run is close to, but not identical to, an uninterrupted one.

    Writes are atomic, so an interruption during a backup leaves the previous backup intact.
    The backup is taken after every other callback has finished the epoch (learning-rate changes
    included), and holds the state of every callback of the `fit` that defines `get_state()`
    and `set_state(state)`: EarlyStopping (its counters, best value and best weights),
    ReduceLROnPlateau (best value, wait and cooldown counters), ModelCheckpoint (best value)
    and any user callback that defines the pair. On resume each gets its state back, matched by
    class and position among callbacks of its class.

    Args:
        backup_dir: directory for the backup file (`latest.kerasnp`), created if needed. Use
            one directory per training run.
        save_freq: "epoch", an int (back up every `save_freq` training batches) or False (never
            back up; only restore).
        double_checkpoint: also keep the previous backup (`previous.kerasnp`) and fall back to
            it if the latest cannot be read.
        delete_checkpoint: delete the backup when `fit` finishes (all epochs run, or stopped by
            a callback such as EarlyStopping). An interrupted run always keeps it.

    Example:
        >>> import kerasnp as keras
        >>> backup = keras.callbacks.BackupAndRestore("backup/run-1")
        >>> backup.save_freq
        'epoch'
    """

    _runs_last = True        # CallbackList dispatches it after every other callback

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        self.backup_dir = path_arg(backup_dir, "backup_dir", _OWNER)
        self.save_freq = save_freq_arg(save_freq, _OWNER, allow_false=True)
        self.double_checkpoint = _validate.boolean(double_checkpoint, "double_checkpoint",
                                                   _OWNER)
        self.delete_checkpoint = _validate.boolean(delete_checkpoint, "delete_checkpoint",
                                                   _OWNER)
        self._path = os.path.join(self.backup_dir, _LATEST)
        self._previous = os.path.join(self.backup_dir, _PREVIOUS)
        self._epoch = 0
        self._done_epochs = 0
        self._batches_since_save = 0
        self._callbacks = []

    def set_callbacks(self, callbacks):
        """The callbacks of this `fit`: those with `get_state`/`set_state` are backed up."""
        self._callbacks = list(callbacks)

    # -- restore ------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._batches_since_save = 0
        self._done_epochs = 0
        state = self._restore()
        if state is not None:
            self._restore_callbacks(state)
            self._done_epochs = int(state["epoch"])
            self.model.resume_training_from(self._done_epochs, state.get("history") or {})

    def _restore(self):
        from .. import saving
        candidates = [self._path] + ([self._previous] if self.double_checkpoint else [])
        errors = []
        for path in candidates:
            if not os.path.exists(path):
                continue
            try:
                return dict(saving.load_into(self.model, path), path=path)
            except saving.ModelFileError as err:
                errors.append(err)
        if errors:
            raise errors[0]
        return None

    def _restore_callbacks(self, state):
        from ..saving.checks import fail
        saved = state["extra"].get("callbacks", {})
        if not isinstance(saved, dict):
            fail(state["path"], "the callback states ('extra' 'callbacks') must be an object. "
                                f"Received: {type(saved).__name__}", "metadata.json")
        for key, cb in _state.stateful(self._callbacks, self):
            if key in saved:            # a callback new in this run keeps its fresh state
                cb.set_state(_state.unpack(saved[key], state["arrays"], state["path"]))

    # -- back up ------------------------------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if isinstance(self.save_freq, bool) or self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save({"epoch": self._epoch, "batch": batch + 1})   # resumes at this epoch

    def on_epoch_end(self, epoch, logs=None):
        self._done_epochs = epoch + 1
        if self.save_freq == "epoch":
            self._save({"epoch": epoch + 1})

    def _save(self, metadata):
        if not safe_to_write(self.model, _OWNER):
            return
        from .. import saving
        arrays = []
        metadata["callbacks"] = {key: _state.pack(cb.get_state(), arrays, type(cb).__name__)
                                 for key, cb in _state.stateful(self._callbacks, self)}
        write_once(lambda: self._write(saving, metadata, arrays), self._path)

    def _write(self, saving, metadata, arrays):
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._path):
            os.replace(self._path, self._previous)
        saving.save_model(self.model, self._path, overwrite=True, include_optimizer=True,
                          extra_metadata=metadata, extra_arrays=arrays)

    # -- clean up -----------------------------------------------------------------------------
    def on_train_end(self, logs=None):
        finished = (self.model.stop_training
                    or self._done_epochs >= self.params.get("epochs", 0))
        if finished and self.delete_checkpoint:
            write_once(self._delete, self.backup_dir)

    def _delete(self):
        from ..saving import archive
        for path in (self._path, self._previous):
            # with temporary files a killed save left behind (this folder has no other
            # writer), so that the folder itself can go
            for leftover in [path] + archive.leftover_temp_files(path):
                if os.path.exists(leftover):
                    os.remove(leftover)
        try:
            os.rmdir(self.backup_dir)           # only when nothing else is in it
        except OSError:
            pass

