"""CSVLogger: stream the epoch logs to a CSV file."""
import csv
import os

import numpy as np

from .. import _validate
from ._common import is_chief, path_arg
from .base import Callback


class CSVLogger(Callback):
    """Write one CSV row per epoch: the 0-based `epoch`, then the logs in sorted key order.

    The columns are fixed by the first epoch's logs. As in Keras, when that epoch has no
    validation values (no validation data, or `validation_freq > 1`) a `val_` column is added
    for each key, filled with `NA` when the value is absent. Each row is flushed as it is written.

    Args:
        filename: path of the CSV file, e.g. "run/log.csv".
        separator: the string between fields.
        append: True to append to an existing file (the header is written only when the file
            is empty), e.g. when resuming training; False to overwrite it.

    Example:
        >>> import kerasnp as keras
        >>> logger = keras.callbacks.CSVLogger("training.csv", append=True)
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = path_arg(filename, "filename", "CSVLogger")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError("CSVLogger: argument `separator` must be a one-character string. "
                             f"Received: separator={separator!r}")
        self.sep = separator
        self.append = _validate.boolean(append, "append", "CSVLogger")
        self.keys = None
        self.writer = None
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if not is_chief():            # several processes: process 0 writes the log
            return
        self._write_header = True
        if self.append and os.path.exists(self.filename):
            self._write_header = os.path.getsize(self.filename) == 0
        folder = os.path.dirname(self.filename)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="",
                             encoding="utf-8")
        self.keys = None
        self.writer = None

    def on_epoch_end(self, epoch, logs=None):
        if self.csv_file is None:      # not process 0 of several
            return
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if not any(k.startswith("val_") for k in self.keys):
                self.keys += ["val_" + k for k in self.keys]
        if self.writer is None:
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         delimiter=self.sep, extrasaction="ignore")
            if self._write_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, _cell(logs.get(k, "NA"))) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None


def _cell(value):
    if isinstance(value, str):
        return value
    if np.ndim(value) > 0:                 # per-class metrics: one quoted list
        return "[" + ", ".join(str(v) for v in np.ravel(value)) + "]"
    return value
