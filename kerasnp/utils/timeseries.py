"""`timeseries_dataset_from_array`: sliding windows over a series, served as a kerasnp dataset."""
import numbers

import numpy as np

from .. import _validate
from .py_dataset import PyDataset

_WHO = "timeseries_dataset_from_array"


class TimeseriesDataset(PyDataset):
    """The batches of windows that `timeseries_dataset_from_array` returns (a `PyDataset`, so
    `fit`, `evaluate` and `predict` take it). Windows are gathered per batch with one fancy
    index, never materialized all at once. Iterating yields `(windows, targets)` batches, or
    windows alone without targets (single samples when `batch_size` is None)."""

    def __init__(self, data, targets, starts, sequence_length, sampling_rate, batch_size,
                 shuffle, seed):
        super().__init__()
        self.data, self.targets = data, targets
        self.starts = starts                     # absolute start row of each window, in order
        self.batch_size = batch_size
        self.shuffle = shuffle
        self._offsets = np.arange(sequence_length, dtype=np.int64) * sampling_rate
        self._rng = np.random.RandomState(seed) if shuffle else None
        self._order = starts

    def __len__(self):
        if self.batch_size is None:
            return len(self.starts)
        return -(-len(self.starts) // self.batch_size)

    def __getitem__(self, index):
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, numbers.Integral) or \
                not 0 <= index < len(self):
            raise IndexError(f"The time-series dataset has {len(self)} batches; index {index!r} "
                             "is out of range.")
        one = self.batch_size is None
        size = 1 if one else self.batch_size
        starts = self._order[index * size:(index + 1) * size]
        windows = self.data[starts[:, None] + self._offsets]           # (batch, length, ...)
        if one:
            windows = windows[0]
        if self.targets is None:
            return windows
        return windows, self.targets[starts[0] if one else starts]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def on_epoch_end(self):
        """Reshuffle the windows between epochs (Keras's dataset reshuffles per iteration)."""
        if self.shuffle:
            order = self.starts.copy()
            self._rng.shuffle(order)
            self._order = order


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None):
    """Sliding windows over a time series, batched, as `keras.utils.timeseries_dataset_from_array`.

    Window `i` holds the rows `s, s + sampling_rate, ..., s + (sequence_length - 1) *
    sampling_rate` of `data` with `s = start_index + i * sequence_stride`, and its target is
    `targets[s]` (so to predict the value after a window, pass `targets=data[sequence_length:]`).

    Args:
        data: array of consecutive time steps (axis 0 is time).
        targets: array with `targets[s]` the target of the window starting at row `s`, or None.
        sequence_length: number of time steps in each window.
        sequence_stride: steps between the starts of consecutive windows.
        sampling_rate: steps between the rows inside a window.
        batch_size: windows per batch (the last may be smaller); None yields single windows.
        shuffle: shuffle the windows (a seeded permutation, reshuffled after each epoch).
        seed: seed of the shuffling.
        start_index, end_index: only rows `[start_index, end_index)` of `data` are used.

    Returns:
        A `TimeseriesDataset` (a `PyDataset`): `model.fit(ds)` and `model.evaluate(ds)` take it
        directly; iterating gives `(windows, targets)` batches (windows `(batch,
        sequence_length, ...)`), or windows alone when `targets` is None.

    Example:
        >>> import numpy as np
        >>> ds = timeseries_dataset_from_array(np.arange(10), np.arange(10) * 2,
        ...                                    sequence_length=3, batch_size=4)
        >>> x, y = ds[0]
        >>> x.tolist(), y.tolist()
        ([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], [0, 2, 4, 6])
    """
    data = np.asarray(data)
    if data.ndim == 0:
        raise ValueError(f"{_WHO}: `data` must be an array with time on axis 0. "
                         f"Received: data={data!r}")
    n = len(data)
    if targets is not None:
        targets = np.asarray(targets)
        if targets.ndim == 0:
            raise ValueError(f"{_WHO}: `targets` must be an array (one target per start row) or "
                             f"None. Received: targets={targets!r}")
    sequence_length = _validate.positive_int(sequence_length, "sequence_length", _WHO)
    for arg, value in (("sequence_stride", sequence_stride), ("sampling_rate", sampling_rate)):
        _validate.positive_int(value, arg, _WHO)
        if value >= n:
            raise ValueError(f"{_WHO}: `{arg}` must be lower than the length of the data "
                             f"({n}). Received: {arg}={value}")
    if batch_size is not None:
        batch_size = _validate.positive_int(batch_size, "batch_size", _WHO)
    shuffle = _validate.boolean(shuffle, "shuffle", _WHO)
    if seed is not None:
        seed = _validate.non_negative_int(seed, "seed", _WHO)
    start = _index(start_index, "start_index", 0, n - 1, n)
    end = _index(end_index, "end_index", 1, n - 1, n)
    start = 0 if start is None else start
    end = n if end is None else end
    if end <= start:
        raise ValueError(f"{_WHO}: `end_index` must be higher than `start_index`. Received: "
                         f"start_index={start_index}, end_index={end_index}")
    num = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num = min(num, len(targets) - start)
    if num <= 0:
        span = (sequence_length - 1) * sampling_rate + 1
        raise ValueError(f"{_WHO}: no window fits: a window spans {span} rows but rows [{start}, {end}) of the data"
                         f"{' (and the targets)' if targets is not None else ''} leave none. "
                         f"Received: sequence_length={sequence_length}, "
                         f"sampling_rate={sampling_rate}, data of length {n}")
    starts = np.arange(0, num, sequence_stride, dtype=np.int64)
    if shuffle:
        if seed is None:
            seed = int(np.random.randint(1_000_000))
        np.random.RandomState(seed).shuffle(starts)          # Keras's permutation of starts
    return TimeseriesDataset(data, targets, starts + start, sequence_length, sampling_rate,
                             batch_size, shuffle, seed)


def _index(value, arg, low, high, n):
    """A start/end index: None, or an int in [low, high] (Keras's bounds)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or \
            not low <= value <= high:
        raise ValueError(f"{_WHO}: `{arg}` must be an integer in [{low}, {high}] (the data has "
                         f"{n} rows). Received: {arg}={value!r}")
    return int(value)
