"""EarlyStopping: stop training when a monitored quantity has stopped improving."""
from .. import _validate
from . import _state
from ._common import is_chief, monitor_name, monitored_value, resolve_mode, say, verbose_arg
from .base import Callback

_OWNER = "EarlyStopping"


class EarlyStopping(Callback):
    """Stop training when `monitor` has not improved for `patience` epochs.

    An epoch improves when its value beats the best so far by more than `min_delta` (lower is
    better in mode "min", higher in mode "max").

    Args:
        monitor: the logged quantity to watch, e.g. "val_loss" or "val_accuracy".
        min_delta: the smallest change that counts as an improvement (its absolute value is used).
        patience: epochs without improvement after which training stops.
        verbose: 0 silent, 1 prints when it stops and when it restores weights.
        mode: "min", "max" or "auto" (max for accuracy-like names such as acc, auc, precision,
            recall, f1; min otherwise, losses and errors included).
        baseline: a value the monitored quantity must beat; until it does, improvements do
            not reset the patience counter, so training stops at the first epoch without
            improvement once `patience` epochs have passed.
        restore_best_weights: at the end of training, set the weights back to those of the best
            epoch (of the epochs from `start_from_epoch` on). When no epoch improved on the
            first, those of the first monitored epoch.
        start_from_epoch: epochs to wait before monitoring starts (a warm-up).

    Attributes:
        stopped_epoch: 0-based epoch at which training was stopped (0 when it was not).
        best, best_epoch: the best value seen and its 0-based epoch.

    Example:
        >>> import kerasnp as keras
        >>> stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3,
        ...                                      restore_best_weights=True)
        >>> stop.patience
        3
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor_name(monitor, _OWNER)
        self.min_delta = abs(_validate.number(min_delta, "min_delta", _OWNER))
        self.patience = _validate.non_negative_int(patience, "patience", _OWNER)
        self.verbose = verbose_arg(verbose, _OWNER)
        self.mode = mode
        self._direction = resolve_mode(mode, self.monitor, _OWNER)
        self.baseline = None if baseline is None else _validate.number(baseline, "baseline",
                                                                        _OWNER)
        self.restore_best_weights = _validate.boolean(restore_best_weights,
                                                      "restore_best_weights", _OWNER)
        self.start_from_epoch = _validate.non_negative_int(start_from_epoch, "start_from_epoch",
                                                           _OWNER)
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_epoch = 0
        self.best_weights = None

    def _improves(self, value, reference):
        if reference is None:
            return True
        if self._direction == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_train_begin(self, logs=None):
        self._reset()

    def get_state(self):
        """Counters, best value and best weights, for BackupAndRestore: a resumed run stops at
        the epoch, and restores the weights, that an uninterrupted run would."""
        return {"wait": self.wait, "stopped_epoch": self.stopped_epoch, "best": self.best,
                "best_epoch": self.best_epoch, "best_weights": self.best_weights}

    def set_state(self, state):
        """Take back a state from `get_state` (checked before anything is set)."""
        values = (_state.count(state, "wait", _OWNER),
                  _state.count(state, "stopped_epoch", _OWNER),
                  _state.number(state, "best", _OWNER, allow_none=True),
                  _state.count(state, "best_epoch", _OWNER),
                  _state.arrays_or_none(state, "best_weights", _OWNER))
        self.wait, self.stopped_epoch, self.best, self.best_epoch, self.best_weights = values

    def on_epoch_end(self, epoch, logs=None):
        current = monitored_value(logs, self.monitor, _OWNER, "early stopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()     # something to restore, always
        self.wait += 1
        if self._improves(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improves(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose and is_chief():
            say(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose and is_chief():
                say("Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
