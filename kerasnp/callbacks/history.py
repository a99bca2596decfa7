"""History (the record `fit` returns) and ProgbarLogger (the progress output), both callbacks."""
import sys
import time

import numpy as np

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


def _fmt(value):
    if isinstance(value, np.ndarray):
        return "[" + " ".join(f"{v:.4f}" for v in value.ravel()) + "]"
    return f"{value:.4f}"


def format_logs(logs):
    """`loss: 0.1234 - accuracy: 0.9600`, as Keras prints logs."""
    return " - ".join(f"{k}: {_fmt(v)}" for k, v in logs.items())


class ProgbarLogger(Callback):
    """Progress output with tqdm: a bar per epoch (verbose=1) or one line per epoch (verbose=2).

    The bar shows batches done, elapsed time, ETA and the running loss and metrics. When the output
    is not a terminal (a log file, a pipe, CI) verbose=1 prints one finished line per epoch, as
    verbose=2 does, so logs stay small. No colour codes are written.
    """

    def __init__(self, verbose=1, file=None):
        super().__init__()
        self.verbose = verbose
        self.file = file
        self._bar = None

    def _out(self):
        return self.file or sys.stdout

    def _is_tty(self):
        out = self._out()
        return bool(getattr(out, "isatty", lambda: False)())

    def _open_bar(self, total, desc=None):
        from tqdm.auto import tqdm
        tty = self._is_tty()
        encoding = (getattr(self._out(), "encoding", None) or "").lower()
        self._bar = tqdm(total=total, file=self._out(), leave=True, dynamic_ncols=tty,
                         mininterval=0.1 if tty else 10.0, ascii=not encoding.startswith("utf"),
                         unit="step", desc=desc,
                         bar_format="{n_fmt}/{total_fmt} |{bar:20}| {elapsed}<{remaining}, "
                                    "{rate_inv_fmt}{postfix}")
        self._last_refresh = 0.0

    def _print(self, text):
        print(text, file=self._out(), flush=True)

    # training
    def on_train_begin(self, logs=None):
        self.epochs = self.params.get("epochs", 1)
        self.steps = self.params.get("steps")

    def on_epoch_begin(self, epoch, logs=None):
        self._print(f"Epoch {epoch + 1}/{self.epochs}")
        self._t0 = time.perf_counter()
        self._seen = 0
        if self.verbose == 1 and self._is_tty():
            self._open_bar(self.steps)

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self._bar is None:
            return
        self._bar.update(1)
        now = time.perf_counter()
        if logs and now - self._last_refresh > (0.25 if self._is_tty() else 10.0):
            self._last_refresh = now
            self._bar.set_postfix_str(format_logs(logs), refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        self._close(logs)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._close(None)

    def _close(self, logs):
        if self._bar is not None:
            if logs:
                self._bar.set_postfix_str(format_logs(logs), refresh=False)
            self._bar.close()
            self._bar = None
        elif self.verbose in (1, 2) and logs is not None:    # one line per epoch (no tty)
            dt = time.perf_counter() - self._t0
            per = dt / max(self._seen, 1)
            rate = f"{per * 1e3:.0f}ms/step" if per >= 1e-3 else f"{per * 1e6:.0f}us/step"
            self._print(f"{self._seen}/{self.steps} - {dt:.0f}s - {rate} - {format_logs(logs)}")

    # evaluate / predict (only when called directly, with their own verbose)
    def on_test_begin(self, logs=None):
        if self.verbose == 1 and self.params.get("mode") == "test":
            self._open_bar(self.params.get("steps"))

    def on_test_batch_end(self, batch, logs=None):
        if self._bar is not None and self.params.get("mode") != "fit":   # not fit's validation
            self._bar.update(1)

    def on_test_end(self, logs=None):
        if self.params.get("mode") == "test":
            self._t0 = getattr(self, "_t0", time.perf_counter())
            if self._bar is not None:
                self._close(logs)
            elif self.verbose == 2 and logs:
                self._print(format_logs(logs))

    on_predict_begin = on_test_begin
    on_predict_batch_end = on_test_batch_end

    def on_predict_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
