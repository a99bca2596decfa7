"""Callbacks that set the optimizer's learning rate: ReduceLROnPlateau, LearningRateScheduler."""
import inspect
import math
import numbers

from .. import _validate
from . import _state
from ._common import is_chief, monitor_name, monitored_value, resolve_mode, say, verbose_arg
from .base import Callback


def _optimizer(model, owner):
    opt = getattr(model, "optimizer", None)
    if opt is None:
        raise ValueError(f"{owner} needs a compiled model whose optimizer has a "
                         "`learning_rate`; call model.compile(optimizer=...) first.")
    try:
        opt.learning_rate
    except AttributeError:
        raise ValueError(f"{owner} sets the optimizer's `learning_rate`, and "
                         f"{type(opt).__name__} has none (a MultiOptimizer's sub-optimizers "
                         "each have their own: give them learning-rate schedules instead). "
                         f"Received: optimizer={type(opt).__name__}") from None
    return opt


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by `factor` when `monitor` has stopped improving.

    After `patience` epochs without an improvement larger than `min_delta`, the learning rate
    becomes `max(lr * factor, min_lr)`; then `cooldown` epochs pass before counting starts
    again. The learning rate of each epoch is added to the logs as `learning_rate` (so it appears
    in the History), as Keras does.

    Args:
        monitor: the logged quantity to watch.
        factor: number in [0, 1), the multiplier of the learning rate.
        patience: epochs without improvement before the rate is reduced.
        verbose: 0 silent, 1 prints each reduction.
        mode: "min", "max" or "auto" (max for accuracy-like names, min otherwise).
        min_delta: threshold for measuring a new optimum.
        cooldown: epochs to wait after a reduction before resuming normal operation.
        min_lr: lower bound on the learning rate.

    Example:
        >>> import kerasnp as keras
        >>> reduce_lr = keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=2, min_lr=1e-5)
        >>> reduce_lr.factor
        0.5
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        super().__init__()
        owner = "ReduceLROnPlateau"
        self.monitor = monitor_name(monitor, owner)
        self.factor = _validate.number(factor, "factor", owner, low=0.0, high=1.0,
                                       high_open=True)
        self.patience = _validate.non_negative_int(patience, "patience", owner)
        self.verbose = verbose_arg(verbose, owner)
        self.mode = mode
        self._direction = resolve_mode(mode, self.monitor, owner)
        self.min_delta = abs(_validate.number(min_delta, "min_delta", owner))
        self.cooldown = _validate.non_negative_int(cooldown, "cooldown", owner)
        self.min_lr = _validate.number(min_lr, "min_lr", owner, low=0.0)
        self._reset()

    def _reset(self):
        self.best = math.inf if self._direction == "min" else -math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def _improves(self, value):
        if self._direction == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, logs=None):
        self._reset()

    def get_state(self):
        """Best value and counters, for BackupAndRestore: a resumed run changes the rate at
        the epochs an uninterrupted run would."""
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def set_state(self, state):
        """Take back a state from `get_state` (checked before anything is set)."""
        owner = "ReduceLROnPlateau"
        values = (_state.number(state, "best", owner), _state.count(state, "wait", owner),
                  _state.count(state, "cooldown_counter", owner))
        self.best, self.wait, self.cooldown_counter = values

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        opt = _optimizer(self.model, "ReduceLROnPlateau")
        logs["learning_rate"] = opt.learning_rate
        current = monitored_value(logs, self.monitor, "ReduceLROnPlateau",
                                  "learning-rate reduction")
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improves(current):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = opt.learning_rate
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    opt.learning_rate = new
                    if self.verbose and is_chief():
                        say(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                            f"to {new}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from `schedule(epoch, lr)`.

    Args:
        schedule: a function of the 0-based epoch index and the current learning rate (a float)
            returning the new learning rate; a function of the epoch alone is accepted too.
        verbose: 0 silent, 1 prints the rate set at each epoch.

    The learning rate of each epoch is added to the logs as `learning_rate`.

    Example:
        >>> import kerasnp as keras
        >>> def schedule(epoch, lr):
        ...     return lr if epoch < 10 else lr * 0.9
        >>> callback = keras.callbacks.LearningRateScheduler(schedule)
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError("LearningRateScheduler: argument `schedule` must be a function "
                            f"(epoch, lr) -> lr. Received: schedule={schedule!r}")
        self.schedule = schedule
        self.verbose = verbose_arg(verbose, "LearningRateScheduler")
        self._two_args = _takes_two_args(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        opt = _optimizer(self.model, "LearningRateScheduler")
        lr = opt.learning_rate
        new = self.schedule(epoch, lr) if self._two_args else self.schedule(epoch)
        if isinstance(new, bool) or not isinstance(new, numbers.Real) \
                or not math.isfinite(new) or new < 0:
            raise ValueError("LearningRateScheduler: the schedule must return a finite float "
                             f">= 0. Received: schedule(epoch={epoch}, lr={lr}) returned "
                             f"{new!r}")
        opt.learning_rate = float(new)
        if self.verbose and is_chief():
            say(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                f"{float(new)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _optimizer(self.model, "LearningRateScheduler").learning_rate


def _takes_two_args(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):          # builtins without a signature
        return True
    kinds = [p.kind for p in params]
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        return True
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(k in positional for k in kinds) >= 2
