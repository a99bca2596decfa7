"""Callbacks: hooks into fit/evaluate/predict. History and the progress bar are callbacks too."""
import sys
import time

import numpy as np


class Callback:
    """Base class: override any hook. `self.model` and `self.params` are set before training.

    `params` holds `verbose`, `epochs` and `steps` (batches per epoch).
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


_HOOKS = [name for name in vars(Callback) if name.startswith("on_")]


class LambdaCallback(Callback):
    """A callback from plain functions: `LambdaCallback(on_epoch_end=lambda epoch, logs: ...)`.

    Accepts any hook name as a keyword argument (`on_epoch_begin`, `on_train_batch_end`,
    `on_batch_end` as an alias of `on_train_batch_end`, ...).
    """

    def __init__(self, **hooks):
        super().__init__()
        aliases = {"on_batch_begin": "on_train_batch_begin", "on_batch_end": "on_train_batch_end"}
        for key, fn in hooks.items():
            name = aliases.get(key, key)
            if name not in _HOOKS:
                raise ValueError(f"LambdaCallback: unknown hook '{key}'. "
                                 f"Valid: {', '.join(sorted(_HOOKS + list(aliases)))}.")
            if not callable(fn):
                raise TypeError(f"LambdaCallback: {key} must be callable. Received: {key}={fn!r}")
            setattr(self, name, fn)


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
        from .utils import plot_history
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


class CallbackList:
    """Dispatches each hook to a list of callbacks."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError("callbacks must be kerasnp.callbacks.Callback instances. "
                                f"Received: {cb!r}")
            cb.set_params(params)
            cb.set_model(model)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)
        fns = [getattr(cb, hook) for cb in self.callbacks
               if getattr(type(cb), hook, None) is not getattr(Callback, hook)
               or hook in vars(cb)]

        def call(*args):
            for fn in fns:
                fn(*args)
        self.__dict__[hook] = call       # resolve each hook once
        return call
