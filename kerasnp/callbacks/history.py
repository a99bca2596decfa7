"""History (the record `fit` returns) and ProgbarLogger (the progress output), both callbacks."""
from .base import Callback


class History(Callback):
    """Records epoch logs: `history.history["loss"]`, `history.epoch`, `history.params`."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def set_model(self, model):
        super().set_model(model)
        model.history = self

    def plot(self, metrics=None, **kwargs):
        """Plot training and validation curves (see `kerasnp.utils.plot_history`)."""
        from ..utils import plot_history
        return plot_history(self, metrics=metrics, **kwargs)


def format_logs(logs):
    """`loss: 0.1234 - accuracy: 0.9600`, as Keras prints logs (scientific below 1e-3)."""
    from ..utils.progbar import format_value
    return " - ".join(f"{k}: {format_value(v)}" for k, v in logs.items())


class ProgbarLogger(Callback):
    """Progress output of fit, evaluate and predict, drawn by `kerasnp.utils.Progbar`.

    verbose=1: a live bar per epoch on a terminal, wrapped at the ` - ` between metrics when the
    terminal is narrower than the line, so every value (`val_*` included) shows; verbose=2: one
    line per epoch, `8/8 - 1s - 12ms/step - loss: ... - val_loss: ...`. When the output is not a
    terminal (a log file, a pipe, CI) verbose=1 prints that same one line per epoch, with no
    carriage-return updates. evaluate and predict show the same bar or line (validation inside
    fit stays silent; its values end the epoch line). No colour codes are written.

    Args:
        verbose: 0, 1 or 2; None (the default, as Keras's `ProgbarLogger()`) takes the
            `verbose` that fit, evaluate or predict was called with.
        file: stream to write to (not in Keras); default `sys.stdout`.

    Example:
        >>> import kerasnp as keras
        >>> logger = keras.callbacks.ProgbarLogger()   # passed to fit: no second bar is added
    """

    def __init__(self, verbose=None, file=None):
        super().__init__()
        if verbose is not None and (isinstance(verbose, bool) or verbose not in (0, 1, 2)):
            raise ValueError("ProgbarLogger: argument `verbose` must be None (from fit), 0, 1 or "
                             f"2. Received: verbose={verbose!r}")
        self.verbose = verbose
        self._level = 1 if verbose is None else verbose
        self.file = file
        self.progbar = None
        self.seen = 0

    def set_params(self, params):
        super().set_params(params)
        level = params.get("verbose", 1) if self.verbose is None else self.verbose
        self._level = 1 if level == "auto" else level

    def _in_fit(self):
        return self.params.get("mode") == "fit"

    def _new_bar(self):
        from ..utils.progbar import Progbar
        self.seen = 0
        # the logs already hold running means: shown as given, never averaged again
        self.progbar = Progbar(self.params.get("steps"), verbose=self._level,
                               stateless_metrics=set(), file=self.file)

    def _update(self, batch, logs):
        self.seen = batch + 1
        if self.progbar is None:
            self._new_bar()
        if self._level == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize(self, logs):
        if self.progbar is None:
            if not self._level:
                return
            self._new_bar()
        if self.progbar.target is None:        # a generator of unknown length: now known
            self.progbar.target = self.seen
        self.progbar.update(self.progbar.target, list((logs or {}).items()), finalize=True)
        self.progbar = None

    # training
    def on_epoch_begin(self, epoch, logs=None):
        if self._level:
            from ..utils.interactive_logging import print_msg
            print_msg(f"Epoch {epoch + 1}/{self.params.get('epochs', 1)}", file=self.file)
        self._new_bar()

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize(logs)

    def on_train_end(self, logs=None):
        # an epoch cut short (stop_training, Ctrl-C, a non-finite loss): end the live bar's row
        if self.progbar is not None:
            from ..utils.interactive_logging import end_live_bar
            end_live_bar()
        self.progbar = None

    # evaluate / predict (validation inside fit is silent)
    def on_test_begin(self, logs=None):
        if not self._in_fit():
            self._new_bar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit():
            self._update(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit():
            self._finalize(logs)

    def on_predict_begin(self, logs=None):
        self._new_bar()

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, None)               # the outputs are no metrics

    def on_predict_end(self, logs=None):
        self._finalize(None)
