"""The epoch iterator: what one `fit` does around each `train_step`.

`fit` reads as Keras's loop::

    with EpochIterator(model, train, callbacks, ...) as loop:
        for epoch in loop.epochs():
            for step, data in loop.batches():
                loop.batch_end(step, loop.train_step(data))
            ...validation, on_epoch_end

The iterator owns the rest: metric resets and the epoch/batch hooks, the stop conditions
(`model.stop_training`, Ctrl-C, a non-finite loss), resuming from a backup, closing the data.
"""
import math
import warnings

from ..distribution import _state as _distributed
from ..errors import NonFiniteLossError
from ..optimizers.base import NonFiniteUpdateError
from ._loop_utils import _SigintFlag
from .steps import _number, pack_x_y_sample_weight as _pack


class EpochIterator:
    """Epochs and batches of one `fit` (see the module docstring)."""

    def __init__(self, model, source, callbacks, history, initial_epoch, epochs, quiet_nan):
        self.model, self.source, self.cbl, self.history = model, source, callbacks, history
        self.initial_epoch, self.last_epoch = initial_epoch, epochs
        self.quiet_nan = quiet_nan
        self.logs = {}                  # the latest batch's logs
        self._interrupted = _SigintFlag()
        self._bad_loss = None
        self._refused = None            # the NonFiniteUpdateError of a refused update
        self._epoch = self._step = self._ran = 0

    def __enter__(self):
        model = self.model
        model.stop_training = False
        model._resume_state = None
        self._interrupted.__enter__()
        try:
            self.cbl.on_train_begin({})
        except BaseException as exc:
            # `with` calls no __exit__ when __enter__ fails: give Ctrl-C back, close the data
            self._interrupted.__exit__(type(exc), exc, exc.__traceback__)
            self.source.close()
            raise
        if model._resume_state is not None:
            # A callback (BackupAndRestore) restored a checkpoint in on_train_begin: continue
            # from its epoch with its history, so the History reads as one uninterrupted run.
            epoch0, past = model._resume_state
            self.initial_epoch = max(self.initial_epoch, epoch0)
            self.history.history = {k: list(v) for k, v in past.items()}
            self.history.epoch = list(range(self.initial_epoch))
            model._resume_state = None
        return self

    def __exit__(self, *exc):
        self._interrupted.__exit__(*exc)
        try:
            self.source.close()
        finally:
            self.cbl.on_train_end(self.logs)
        return False

    def epochs(self):
        """Epoch indices from `initial_epoch`, stopping when training should stop."""
        for epoch in range(self.initial_epoch, self.last_epoch):
            self._epoch = epoch
            self.model._reset_metrics()
            self.cbl.on_epoch_begin(epoch, {})
            yield epoch
            if self.model.stop_training or self._bad_loss is not None or \
                    self._interrupted.flag:
                break

    def batches(self):
        """`(step, data)` for each batch of the epoch, `data` as `train_step` takes it."""
        model = self.model
        self._ran = 0
        for step, (xb, yb, swb) in enumerate(self.source.batches()):
            self._step = step
            self._ran += 1
            self.cbl.on_train_batch_begin(step, {})
            yield step, _pack(model._arg(xb), model._yarg(yb), swb)
            if self._bad_loss is not None or self._interrupted.flag or model.stop_training:
                break
        self.source.end_epoch()
        if getattr(self.source, "exhausted", False):
            model.stop_training = True          # a generator ran out (it warned): as Keras
        if self._interrupted.flag:
            warnings.warn(f"Training interrupted (Ctrl-C) at epoch {self._epoch + 1}, batch "
                          f"{self._step + 1}; the weights trained so far are kept.",
                          RuntimeWarning, stacklevel=3)

    def train_step(self, data):
        """`model.train_step(data)`. An update the optimizer refused because it would have made
        the weights non-finite (it has undone it) stops training as a non-finite loss does:
        such weights would give NaN losses from the next batch on."""
        try:
            return self.model.train_step(data)
        except NonFiniteUpdateError as err:
            self._refused = err
            return {"loss": math.nan}

    def batch_end(self, step, logs):
        """After `train_step`: stop on a non-finite loss or a refused update (before either
        changed any weight), else hand the batch's logs to the callbacks."""
        logs = float_logs(logs)
        self.logs = logs
        loss = logs.get("loss", 0.0)
        if isinstance(loss, float) and not math.isfinite(loss):
            self._stop(step, loss)
            return
        self.cbl.on_train_batch_end(step, logs)

    def _stop(self, step, loss):
        self._bad_loss = loss
        self.model.stop_training = True
        where = f"epoch {self._epoch + 1}, batch {step + 1}"
        if self._refused is not None:
            what = f"the update of {where} (of {self.source.steps}) made the weights non-finite"
        else:
            what = f"the loss became {loss} at {where} (of {self.source.steps})"
        if not self.quiet_nan:
            if self._refused is not None:
                raise NonFiniteUpdateError(
                    f"Model '{self.model.name}': {what}; training stopped with the weights "
                    f"from before that batch. {self._refused}") from None
            raise NonFiniteLossError(
                f"Model '{self.model.name}': {what}; training stopped before that batch "
                "changed the weights. Try a lower learning rate, clipnorm=1.0, or check the "
                "data for extreme values.")
        if _distributed.active is None or _distributed.active.is_chief:   # printed once
            print(f"Epoch {self._epoch + 1}, batch {step + 1}: "
                  + ("the update made the weights non-finite" if self._refused is not None
                     else f"invalid loss {loss}")
                  + ", terminating training (weights from before this batch kept).")

    @property
    def epoch_ends(self):
        """Whether the epoch gets its end (validation, `on_epoch_end`, a History record): not
        after Ctrl-C, nor when it had no batch (a generator that ran out). An epoch stopped
        quietly by a non-finite loss does, as in Keras (see `epoch_logs`)."""
        return not self._interrupted.flag and self._ran > 0

    def epoch_logs(self, logs):
        """The epoch's logs as floats; after a quiet stop on a non-finite loss its `loss` is
        that loss (NaN for a refused update), as Keras's mean over the batches would be."""
        logs = float_logs(logs)
        if self._bad_loss is not None:
            logs = dict(logs, loss=self._bad_loss)
        return logs


_FLOAT_ONLY = frozenset((float,))


def float_logs(logs):
    """A logs dict whose values are Python floats where they are numbers (never None)."""
    if not isinstance(logs, dict):
        return {}
    if _FLOAT_ONLY.issuperset(map(type, logs.values())):
        return logs
    return {k: _number(v) for k, v in logs.items()}
