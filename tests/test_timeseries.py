"""timeseries_dataset_from_array: windows equal a hand-built window table; fit/evaluate/predict
take the dataset; Keras's argument checks."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp.utils import PyDataset, timeseries_dataset_from_array


def _table(data, targets, length, stride=1, rate=1, start=0, end=None):
    """Every window by the definition, one Python loop: rows s, s + rate, ... and targets[s]."""
    end = len(data) if end is None else end
    xs, ys, s = [], [], start
    while s + (length - 1) * rate < end and (targets is None or s < len(targets)):
        xs.append(np.stack([data[s + k * rate] for k in range(length)]))
        ys.append(None if targets is None else targets[s])
        s += stride
    return np.array(xs), (None if targets is None else np.array(ys))


def _collect(ds):
    xs, ys = [], []
    for batch in ds:
        x, y = batch if isinstance(batch, tuple) else (batch, None)
        xs.append(x)
        ys.append(y)
    return np.concatenate(xs), (None if ys[0] is None else np.concatenate(ys))


@pytest.mark.parametrize("length, stride, rate, start, end, batch", [
    (3, 1, 1, None, None, 4),
    (5, 2, 1, None, None, 3),
    (4, 1, 3, None, None, 128),
    (3, 3, 2, 5, 40, 2),
    (6, 4, 2, 7, None, 5),
    (1, 1, 1, None, 10, 1),
])
def test_windows_equal_the_hand_built_table(length, stride, rate, start, end, batch):
    data = np.arange(60 * 2, dtype="float32").reshape(60, 2)
    targets = np.arange(60) * 10
    ds = timeseries_dataset_from_array(data, targets, length, sequence_stride=stride,
                                       sampling_rate=rate, batch_size=batch,
                                       start_index=start, end_index=end)
    want_x, want_y = _table(data, targets, length, stride, rate, start or 0, end)
    got_x, got_y = _collect(ds)
    np.testing.assert_array_equal(got_x, want_x)
    np.testing.assert_array_equal(got_y, want_y)
    assert len(ds) == -(-len(want_x) // batch)
    assert all(len(ds[i][0]) == batch for i in range(len(ds) - 1))
    assert got_x.dtype == data.dtype


def test_without_targets_yields_windows_only_and_short_targets_limit_windows():
    data = np.arange(20)
    ds = timeseries_dataset_from_array(data, None, 4, batch_size=100)
    x = ds[0]
    assert isinstance(x, np.ndarray) and x.shape == (17, 4)
    np.testing.assert_array_equal(x, _table(data, None, 4)[0])
    short = timeseries_dataset_from_array(data, np.arange(5), 4, batch_size=100)
    assert short[0][0].shape == (5, 4)


def test_forecasting_pattern_targets_offset_by_the_window():
    series = np.arange(50) * 3
    ds = timeseries_dataset_from_array(series[:-5], series[5:], 5, batch_size=8)
    x, y = _collect(ds)
    np.testing.assert_array_equal(y, x[:, -1] + 3)            # the value after each window
    assert len(x) == 41


def test_shuffle_with_seed_is_a_permutation_of_the_same_windows():
    data = np.arange(100, dtype="float32")[:, None]
    targets = np.arange(100)
    plain = _collect(timeseries_dataset_from_array(data, targets, 7, batch_size=9))
    ds = timeseries_dataset_from_array(data, targets, 7, batch_size=9, shuffle=True, seed=3)
    x, y = _collect(ds)
    assert not np.array_equal(y, plain[1])
    order = np.argsort(y)
    np.testing.assert_array_equal(x[order], plain[0])
    np.testing.assert_array_equal(y[order], plain[1])
    again = _collect(timeseries_dataset_from_array(data, targets, 7, batch_size=9,
                                                   shuffle=True, seed=3))
    np.testing.assert_array_equal(again[1], y)               # the seed fixes the order
    perm = np.arange(94)                                      # Keras's RandomState permutation
    np.random.RandomState(3).shuffle(perm)
    np.testing.assert_array_equal(y, perm)
    ds.on_epoch_end()                                         # a new epoch reshuffles
    x2, y2 = _collect(ds)
    assert not np.array_equal(y2, y) and np.array_equal(np.sort(y2), np.sort(y))
    np.testing.assert_array_equal(x2[np.argsort(y2)], plain[0])


def test_batch_size_none_yields_single_windows():
    ds = timeseries_dataset_from_array(np.arange(6), np.arange(6), 3, batch_size=None)
    assert len(ds) == 4
    x, y = ds[1]
    assert x.tolist() == [1, 2, 3] and int(y) == 1


def test_fit_evaluate_predict_take_the_dataset():
    rng = np.random.default_rng(0)
    t = np.arange(400)
    series = np.stack([np.sin(t / 8), np.cos(t / 8)], axis=1).astype("float32")
    series += 0.01 * rng.standard_normal(series.shape).astype("float32")
    length = 10
    ds = timeseries_dataset_from_array(series[:-length], series[length:, 0], length,
                                       batch_size=32, shuffle=True, seed=0)
    assert isinstance(ds, PyDataset)
    model = keras.Sequential([keras.Input(shape=(length, 2)), keras.layers.Flatten(),
                              keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), "mse")
    history = model.fit(ds, epochs=15, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    assert model.evaluate(ds, verbose=0) < 0.05
    windows = timeseries_dataset_from_array(series[:-length], None, length, batch_size=32)
    assert model.predict(windows, verbose=0).shape == (len(series) - 2 * length + 1, 1)


@pytest.mark.parametrize("kwargs, match", [
    (dict(sequence_length=0), "sequence_length"),
    (dict(sequence_stride=0), "sequence_stride"),
    (dict(sequence_stride=20), "lower than the length"),
    (dict(sampling_rate=0), "sampling_rate"),
    (dict(sampling_rate=20), "lower than the length"),
    (dict(start_index=-1), "start_index"),
    (dict(start_index=20), "start_index"),
    (dict(end_index=20), "end_index"),
    (dict(end_index=0), "end_index"),
    (dict(start_index=8, end_index=8), "higher than `start_index`"),
    (dict(batch_size=0), "batch_size"),
    (dict(sequence_length=30), "no window fits"),
    (dict(shuffle="yes"), "shuffle"),
])
def test_errors_name_the_argument(kwargs, match):
    args = dict(data=np.arange(20), targets=None, sequence_length=3)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        timeseries_dataset_from_array(**args)
