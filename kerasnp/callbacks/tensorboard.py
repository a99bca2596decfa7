"""TensorBoard: write the training curves as TensorBoard event files, no TensorFlow needed."""
import numbers
import os
import time
import warnings

import numpy as np

from .. import _validate
from ._common import is_chief, path_arg
from ._event_file import EventFileWriter
from .base import Callback

_OWNER = "TensorBoard"


class TensorBoard(Callback):
    """Log metrics (and weight histograms) for TensorBoard: `tensorboard --logdir logs`.

    Writes what Keras writes, in the same places: under `log_dir/train` the tags `epoch_loss`,
    `epoch_<metric>` and `epoch_learning_rate` (step = epoch), under `log_dir/validation` the
    `val_*` values without their prefix (`epoch_loss`, ...) and `evaluation_<name>_vs_iterations`
    (step = optimizer iterations) after each validation; with `update_freq` a number of
    batches, `batch_<name>` every that many batches (step = batches so far); with
    `histogram_freq=n`, a histogram `<weight path>/histogram` of every weight each n-th epoch.
    The files are standard event files (TFRecord-framed `Event` protobufs, encoded by kerasnp).

    Args:
        log_dir: folder of the logs.
        histogram_freq: epochs between weight histograms; 0 for none.
        write_graph: accepted for Keras compatibility; Keras 3 writes no graph either (it has
            no TensorFlow graph to write), so this changes nothing.
        write_images, profile_batch, embeddings_freq, embeddings_metadata: not supported (they
            need TensorFlow's image summaries, profiler and projector); the defaults are
            accepted, any other value warns and is ignored.
        write_steps_per_second: also log `epoch_steps_per_second` (and `batch_steps_per_second`
            with `update_freq` batches).
        update_freq: "epoch", "batch" (every batch) or a positive int (every that many batches).

    Example:
        >>> import kerasnp as keras
        >>> tb = keras.callbacks.TensorBoard(log_dir="logs/run1")
        >>> # model.fit(x, y, epochs=5, validation_split=0.2, callbacks=[tb])
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self.log_dir = path_arg(log_dir, "log_dir", _OWNER)
        self.histogram_freq = _validate.non_negative_int(histogram_freq, "histogram_freq",
                                                         _OWNER)
        self.write_graph = _validate.boolean(write_graph, "write_graph", _OWNER)
        self.write_images = write_images
        self.write_steps_per_second = _validate.boolean(
            write_steps_per_second, "write_steps_per_second", _OWNER)
        self.update_freq = _update_freq(update_freq)
        self.profile_batch = profile_batch
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        for name, value, default in (("write_images", write_images, False),
                                     ("profile_batch", profile_batch, 0),
                                     ("embeddings_freq", embeddings_freq, 0),
                                     ("embeddings_metadata", embeddings_metadata, None)):
            if not (value is default or value == default):
                warnings.warn(f"{_OWNER}: `{name}` is not supported by kerasnp (it needs "
                              "TensorFlow's image summaries, profiler or projector) and is "
                              f"ignored. Received: {name}={value!r}", UserWarning, stacklevel=2)
        self._writers = {}
        self._global_train_batch = 0
        self._active = True            # False on the processes other than 0 of several
        self._epoch_start, self._epoch_batches, self._batch_start = None, 0, 0.0

    def _writer(self, which):
        writer = self._writers.get(which)
        if writer is None:        # created on first use: no empty validation folder
            writer = EventFileWriter(os.path.join(self.log_dir, which))
            self._writers[which] = writer
        return writer

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._active = is_chief()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._epoch_batches = 0

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._epoch_batches += 1
        freq = self.update_freq
        if not self._active or freq == "epoch" or self._global_train_batch % freq:
            return
        values = {f"batch_{k}": v for k, v in _scalars(logs).items()}
        if self.write_steps_per_second:
            seconds = max(time.perf_counter() - self._batch_start, 1e-9)
            values["batch_steps_per_second"] = 1.0 / seconds
        self._writer("train").scalars(self._global_train_batch, values)

    def on_epoch_end(self, epoch, logs=None):
        if not self._active:
            return
        logs = _scalars(logs)
        train = {f"epoch_{k}": v for k, v in logs.items() if not k.startswith("val_")}
        lr = getattr(getattr(self.model, "optimizer", None), "learning_rate", None)
        if isinstance(lr, numbers.Real):
            train["epoch_learning_rate"] = float(lr)
        if self.write_steps_per_second and self._epoch_start is not None:
            seconds = max(time.perf_counter() - self._epoch_start, 1e-9)
            train["epoch_steps_per_second"] = self._epoch_batches / seconds
        val = {f"epoch_{k[4:]}": v for k, v in logs.items() if k.startswith("val_")}
        self._writer("train").scalars(epoch, train)
        if val:
            self._writer("validation").scalars(epoch, val)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._writer("train").histograms(epoch, {
                f"{w.path.replace(':', '_')}/histogram": np.asarray(w.value)
                for layer in self.model.layers for w in layer.weights})
        for writer in self._writers.values():
            writer.flush()

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if not is_chief() or optimizer is None or not hasattr(optimizer, "iterations"):
            return
        values = {f"evaluation_{k}_vs_iterations": v for k, v in _scalars(logs).items()}
        writer = self._writer("validation")
        writer.scalars(int(optimizer.iterations), values)
        writer.flush()
        if self.params.get("mode") != "fit":      # evaluate(callbacks=[tb]): no train end
            self.on_train_end()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


def _scalars(logs):
    """The single-number entries of `logs` as floats (per-class arrays have no scalar curve)."""
    out = {}
    for key, value in (logs or {}).items():
        if np.size(value) == 1 and np.issubdtype(np.asarray(value).dtype, np.number):
            out[key] = float(np.asarray(value).reshape(()))
    return out


def _update_freq(value):
    if value == "epoch":
        return "epoch"
    if value == "batch":
        return 1
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0:
        return int(value)
    raise ValueError(f"{_OWNER}: argument `update_freq` must be 'epoch', 'batch' or a positive "
                     f"int (a number of batches). Received: update_freq={value!r}")
