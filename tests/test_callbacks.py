"""The Keras callbacks: EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, LearningRateScheduler,
CSVLogger, TerminateOnNaN and BackupAndRestore, each on small fits.

Most tests drive the monitored quantity with a `Script` callback placed before the callback under
test: it overwrites `logs[key]` with a scripted value per epoch, so the expected stopping epoch,
saved epoch or learning-rate change is known exactly.
"""
import csv
import os

import numpy as np
import pytest

import kerasnp as keras
from kerasnp import callbacks
from kerasnp.errors import NonFiniteLossError

N, FEATURES, BATCH = 64, 4, 16          # 4 batches per epoch


def data(seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, FEATURES)).astype(dtype)
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]])).astype(dtype)
    return x, y


def make_model(lr=0.01, seed=0, optimizer=None, metrics=None):
    keras.set_random_seed(seed)
    model = keras.Sequential([keras.Input((FEATURES,)),
                              keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer=optimizer or keras.optimizers.SGD(lr), loss="mse", metrics=metrics)
    return model


class Script(callbacks.Callback):
    """Overwrites `logs[key]` at each epoch end with `values[epoch]`."""

    def __init__(self, values, key="val_loss"):
        super().__init__()
        self.values, self.key = list(values), key

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


class WeightsAtEpochEnd(callbacks.Callback):
    """Records a copy of the weights at the end of every epoch."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def assert_weights_equal(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert np.array_equal(a, e)


def fit(model, cbs, epochs=10, **kwargs):
    x, y = data()
    return model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=cbs, **kwargs)


# --------------------------------------------------------------------------- EarlyStopping
@pytest.mark.parametrize("values, kwargs, stopped", [
    ([5, 4, 3, 3.5, 3.2, 3.1, 3.0, 2.0], dict(patience=2), 4),
    ([5, 4, 3, 3.5, 3.2, 2.9, 3.0, 3.1, 3.2], dict(patience=3), 8),  # 2.9 resets the wait
    ([5, 4.95, 4.9, 4.0, 3, 2, 1, 0], dict(patience=1, min_delta=0.1), 1),
    ([5, 4.95, 4.9, 4.0, 3, 2, 1, 0], dict(patience=1, min_delta=-0.1), 1),  # |min_delta|
    ([5, 6, 4, 3, 2, 1, 0, -1], dict(patience=0), 1),
    ([1, 2, 3, 4, 4, 4, 4, 4], dict(patience=0, start_from_epoch=3), 4),
    ([1.0, 0.9, 0.95, 0.97, 0.1, 0, 0, 0], dict(patience=2), 3),
    ([1.0, 0.9, 0.95, 0.97, 0.1, 0, 0, 0], dict(patience=2, baseline=0.5), 2),
])
def test_early_stopping_stops_at_the_right_epoch(values, kwargs, stopped):
    stop = callbacks.EarlyStopping(**kwargs)
    history = fit(make_model(), [Script(values), stop], epochs=len(values))
    assert stop.stopped_epoch == stopped
    assert history.epoch == list(range(stopped + 1))


def test_early_stopping_mode_max_and_auto():
    values = [0.5, 0.6, 0.7, 0.65, 0.6, 0.9]
    for mode, key in [("max", "val_loss"), ("auto", "val_accuracy"), ("auto", "val_auc")]:
        stop = callbacks.EarlyStopping(monitor=key, patience=2, mode=mode)
        history = fit(make_model(), [Script(values, key), stop], epochs=len(values))
        assert stop.stopped_epoch == 4 and len(history.epoch) == 5, (mode, key)
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=2)      # auto -> min
    fit(make_model(), [Script(values), stop], epochs=len(values))
    assert stop.stopped_epoch == 2


def test_early_stopping_restore_best_weights_exactly():
    record = WeightsAtEpochEnd()
    stop = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    model = make_model()
    fit(model, [Script([3, 2, 1, 1.5, 1.6, 1.7, 0.1]), record, stop], epochs=7)
    assert stop.stopped_epoch == 4 and stop.best_epoch == 2 and stop.best == 1.0
    assert_weights_equal(model.get_weights(), record.weights[2])
    assert not np.array_equal(record.weights[2][0], record.weights[4][0])


def test_early_stopping_restores_best_even_without_stopping():
    record = WeightsAtEpochEnd()
    model = make_model()
    fit(model, [Script([3, 1, 2, 2.5]), record,
                callbacks.EarlyStopping(patience=10, restore_best_weights=True)], epochs=4)
    assert_weights_equal(model.get_weights(), record.weights[1])


def test_early_stopping_without_restore_keeps_last_weights():
    record = WeightsAtEpochEnd()
    model = make_model()
    fit(model, [Script([3, 2, 1, 1.5, 1.6]), record, callbacks.EarlyStopping(patience=2)],
        epochs=5)
    assert_weights_equal(model.get_weights(), record.weights[-1])


def test_early_stopping_on_real_validation_loss_and_state_reset():
    model = make_model(lr=0.0)            # nothing improves: stops after patience epochs
    stop = callbacks.EarlyStopping(patience=3)
    x, y = data()
    history = model.fit(x, y, epochs=20, batch_size=BATCH, validation_split=0.25, verbose=0,
                        callbacks=[stop])
    assert len(history.epoch) == 4 and stop.stopped_epoch == 3
    history = model.fit(x, y, epochs=20, batch_size=BATCH, validation_split=0.25, verbose=0,
                        callbacks=[stop])          # reused: counters reset at train begin
    assert len(history.epoch) == 4


def test_early_stopping_missing_monitor_warns_with_available_keys():
    stop = callbacks.EarlyStopping(monitor="val_acuracy")
    with pytest.warns(UserWarning, match=r"val_acuracy.*Available: loss, mae"):
        history = fit(make_model(metrics=["mae"]), [stop], epochs=2)
    assert len(history.epoch) == 2


@pytest.mark.parametrize("kwargs, match", [
    (dict(mode="maximum"), r"one of 'auto', 'min', 'max'.*mode='maximum'"),
    (dict(patience=-1), r"patience.*non-negative integer"),
    (dict(monitor=3), r"monitor"),
    (dict(restore_best_weights="yes"), r"restore_best_weights"),
    (dict(start_from_epoch=1.5), r"start_from_epoch"),
    (dict(verbose=5), r"verbose"),
])
def test_early_stopping_argument_errors(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        callbacks.EarlyStopping(**kwargs)


# --------------------------------------------------------------------------- ReduceLROnPlateau
def test_reduce_lr_on_plateau_after_patience():
    model = make_model(lr=0.1)
    reduce = callbacks.ReduceLROnPlateau(factor=0.5, patience=2)
    history = fit(model, [Script([1.0] * 6), reduce], epochs=6)
    # epoch 0 sets the best; epochs 1-2 wait -> reduce at 2; epochs 3-4 wait -> reduce at 4
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025])
    assert model.optimizer.learning_rate == pytest.approx(0.025)


def test_reduce_lr_improvement_resets_and_min_delta():
    model = make_model(lr=0.1)
    fit(model, [Script([1.0, 0.9, 0.8, 0.7, 0.6]),
                callbacks.ReduceLROnPlateau(factor=0.5, patience=1)], epochs=5)
    assert model.optimizer.learning_rate == pytest.approx(0.1)
    model = make_model(lr=0.1)           # improvements smaller than min_delta do not count
    fit(model, [Script([1.0, 0.9, 0.85, 0.82, 0.81]),
                callbacks.ReduceLROnPlateau(factor=0.5, patience=1, min_delta=0.2)], epochs=5)
    assert model.optimizer.learning_rate == pytest.approx(0.1 * 0.5 ** 4)


def test_reduce_lr_cooldown_min_lr_and_mode():
    model = make_model(lr=0.1)
    history = fit(model, [Script([1.0] * 7),
                          callbacks.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=2)],
                  epochs=7)
    # reduce at 2; cooldown at 3 (counter 2 -> 1) and 4 (1 -> 0, counting resumes: wait 1);
    # wait 2 at 5 -> reduce. Without cooldown: reductions at 2, 4 and 6.
    assert history.history["learning_rate"] == pytest.approx([0.1] * 3 + [0.05] * 3 + [0.025])
    assert model.optimizer.learning_rate == pytest.approx(0.025)
    model = make_model(lr=0.1)
    fit(model, [Script([1.0] * 7), callbacks.ReduceLROnPlateau(factor=0.5, patience=2)], epochs=7)
    assert model.optimizer.learning_rate == pytest.approx(0.0125)
    model = make_model(lr=0.1)
    fit(model, [Script([1.0] * 6), callbacks.ReduceLROnPlateau(factor=0.1, patience=1,
                                                             min_lr=0.05)], epochs=6)
    assert model.optimizer.learning_rate == pytest.approx(0.05)
    model = make_model(lr=0.1)           # accuracy rising: no plateau in (auto ->) max mode
    fit(model, [Script([0.1, 0.2, 0.3, 0.4], "val_accuracy"),
                callbacks.ReduceLROnPlateau(monitor="val_accuracy", patience=1)], epochs=4)
    assert model.optimizer.learning_rate == pytest.approx(0.1)


def test_reduce_lr_changes_the_updates():
    """The reduced rate is the one the optimizer applies: with factor 0, training stops moving."""
    model = make_model(lr=0.05)
    record = WeightsAtEpochEnd()
    fit(model, [Script([1.0] * 4), callbacks.ReduceLROnPlateau(factor=0.0, patience=1), record],
        epochs=4)
    assert model.optimizer.learning_rate == 0.0
    assert not np.array_equal(record.weights[0][0], record.weights[1][0])
    assert_weights_equal(record.weights[2], record.weights[3])


def test_reduce_lr_argument_errors_and_missing_key():
    with pytest.raises(ValueError, match=r"factor.*\[0.0, 1.0\).*factor=1.5"):
        callbacks.ReduceLROnPlateau(factor=1.5)
    with pytest.raises(ValueError, match=r"mode"):
        callbacks.ReduceLROnPlateau(mode="up")
    with pytest.raises(ValueError, match=r"min_lr"):
        callbacks.ReduceLROnPlateau(min_lr=-1)
    with pytest.warns(UserWarning, match=r"ReduceLROnPlateau.*val_loss.*Available: loss"):
        history = fit(make_model(lr=0.1), [callbacks.ReduceLROnPlateau(patience=0)], epochs=2)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1])


# --------------------------------------------------------------------------- LearningRateScheduler
def test_learning_rate_scheduler_sets_rate_each_epoch():
    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, lr))
        return 0.1 * 0.5 ** epoch

    model = make_model(lr=0.3)
    history = fit(model, [callbacks.LearningRateScheduler(schedule)], epochs=4)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    assert [e for e, _ in seen] == [0, 1, 2, 3]
    assert seen[0][1] == pytest.approx(0.3) and seen[2][1] == pytest.approx(0.05)
    assert model.optimizer.learning_rate == pytest.approx(0.0125)


def test_learning_rate_scheduler_one_argument_and_zero_rate_freezes():
    model = make_model(lr=0.3)
    before = model.get_weights()
    fit(model, [callbacks.LearningRateScheduler(lambda epoch: 0.0)], epochs=2)
    assert_weights_equal(model.get_weights(), before)


def test_learning_rate_scheduler_verbose_and_errors(capsys):
    fit(make_model(), [callbacks.LearningRateScheduler(lambda e, lr: 0.02, verbose=1)], epochs=1)
    out = capsys.readouterr().out
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.02." in out
    with pytest.raises(TypeError, match=r"schedule.*function"):
        callbacks.LearningRateScheduler(0.1)
    with pytest.raises(ValueError, match=r"returned 'fast'"):
        fit(make_model(), [callbacks.LearningRateScheduler(lambda e, lr: "fast")], epochs=1)
    with pytest.raises(ValueError, match=r"returned -1"):
        fit(make_model(), [callbacks.LearningRateScheduler(lambda e, lr: -1)], epochs=1)


def test_learning_rate_scheduler_refuses_schedule_optimizer():
    lr = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    model = make_model(optimizer=keras.optimizers.SGD(lr))
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        fit(model, [callbacks.LearningRateScheduler(lambda e, lr: 0.01)], epochs=1)


# --------------------------------------------------------------------------- CSVLogger
def read_csv(path, sep=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=sep))


def test_csv_logger_content_matches_history(tmp_path):
    path = tmp_path / "logs" / "train.csv"
    model = make_model(metrics=["mae"])
    history = fit(model, [callbacks.CSVLogger(path)], epochs=3, validation_split=0.25)
    rows = read_csv(path)
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    for col, key in enumerate(rows[0][1:], start=1):
        assert [float(r[col]) for r in rows[1:]] == history.history[key]   # full precision


def test_csv_logger_append_and_overwrite(tmp_path):
    path = tmp_path / "train.csv"
    fit(make_model(), [callbacks.CSVLogger(path, separator=";")], epochs=2,
        validation_split=0.25)
    fit(make_model(), [callbacks.CSVLogger(path, separator=";", append=True)], epochs=3,
        validation_split=0.25)
    rows = read_csv(path, ";")
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in rows] == ["epoch", "0", "1", "0", "1", "2"]      # one header
    fit(make_model(), [callbacks.CSVLogger(path, separator=";")], epochs=1,
        validation_split=0.25)
    assert [r[0] for r in read_csv(path, ";")] == ["epoch", "0"]
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    fit(make_model(), [callbacks.CSVLogger(empty, append=True)], epochs=1)
    assert read_csv(empty)[0][0] == "epoch"                   # header written into an empty file


def test_csv_logger_without_validation_fills_na_and_keeps_added_keys(tmp_path):
    path = tmp_path / "train.csv"
    fit(make_model(), [callbacks.LearningRateScheduler(lambda e, lr: 0.01),
                       callbacks.CSVLogger(path)], epochs=2)
    rows = read_csv(path)
    assert rows[0] == ["epoch", "learning_rate", "loss", "val_learning_rate", "val_loss"]
    assert rows[1][1] == "0.01" and rows[1][3:] == ["NA", "NA"]


def test_csv_logger_errors():
    with pytest.raises(ValueError, match="separator"):
        callbacks.CSVLogger("x.csv", separator=";;")
    with pytest.raises(ValueError, match="filename"):
        callbacks.CSVLogger("")


# --------------------------------------------------------------------------- TerminateOnNaN
def diverging_model(lr=1e4):
    return make_model(lr=lr)


def test_without_terminate_on_nan_a_non_finite_loss_raises():
    with pytest.raises(NonFiniteLossError, match="epoch 1"):
        fit(diverging_model(), [], epochs=3)


def test_terminate_on_nan_stops_quietly_with_finite_weights(capsys):
    model = diverging_model()
    history = fit(model, [callbacks.TerminateOnNaN()], epochs=5)
    assert "invalid loss" in capsys.readouterr().out
    assert model.stop_training and len(history.epoch) < 5
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert not getattr(model, "_nan_guard", False)        # guard removed at train end


def test_callback_list_runs_backup_last():
    order = []

    class Tag(callbacks.Callback):
        def __init__(self, tag, last=False):
            super().__init__()
            self.tag = tag
            if last:
                self._runs_last = True

        def on_epoch_end(self, epoch, logs=None):
            order.append(self.tag)

    cbl = callbacks.CallbackList([Tag("a", last=True), Tag("b"), Tag("c")], None, {})
    cbl.on_epoch_end(0, {})
    assert order == ["b", "c", "a"]
    assert callbacks.BackupAndRestore._runs_last


# --------------------------------------------------------------------------- ModelCheckpoint
class WeightsAtBatchEnd(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = {}

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.weights[(self.epoch, batch)] = self.model.get_weights()


def load_weights_of(path):
    model = make_model(seed=123)
    model.load_weights(path)
    return model.get_weights()


def test_model_checkpoint_filenames_from_epoch_and_logs(tmp_path):
    record = WeightsAtEpochEnd()
    pattern = str(tmp_path / "ckpt" / "w-{epoch:02d}-{loss:.3f}.weights.npz")
    history = fit(make_model(), [record, callbacks.ModelCheckpoint(pattern,
                                                                   save_weights_only=True)],
                  epochs=3)
    expected = [f"w-{e + 1:02d}-{loss:.3f}.weights.npz"
                for e, loss in enumerate(history.history["loss"])]
    assert sorted(os.listdir(tmp_path / "ckpt")) == sorted(expected)
    for epoch, name in enumerate(expected):
        assert_weights_equal(load_weights_of(tmp_path / "ckpt" / name), record.weights[epoch])


def test_model_checkpoint_full_model_with_val_loss_in_name(tmp_path):
    record = WeightsAtEpochEnd()
    model = make_model()
    history = fit(model, [record, callbacks.ModelCheckpoint(tmp_path / "m{epoch}-{val_loss:.2f}"
                                                                       ".kerasnp")],
                  epochs=2, validation_split=0.25)
    name = f"m2-{history.history['val_loss'][1]:.2f}.kerasnp"
    loaded = keras.models.load_model(tmp_path / name)
    assert_weights_equal(loaded.get_weights(), record.weights[1])
    assert loaded.optimizer.iterations == model.optimizer.iterations == 2 * 3
    x, _ = data()
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_model_checkpoint_save_best_only(tmp_path, capsys):
    path = tmp_path / "best.weights.npz"
    record = WeightsAtEpochEnd()
    ckpt = callbacks.ModelCheckpoint(path, save_best_only=True, save_weights_only=True,
                                     verbose=1)
    fit(make_model(), [Script([3, 1, 2, 0.5, 0.7]), record, ckpt], epochs=5)
    assert_weights_equal(load_weights_of(path), record.weights[3])
    assert ckpt.best == 0.5
    out = capsys.readouterr().out
    assert "Epoch 2: val_loss improved from 3.00000 to 1.00000, saving model to" in out
    assert "Epoch 3: val_loss did not improve from 1.00000" in out
    record = WeightsAtEpochEnd()                           # mode auto -> max for accuracy
    fit(make_model(), [Script([0.5, 0.9, 0.7], "val_accuracy"), record,
                       callbacks.ModelCheckpoint(path, monitor="val_accuracy",
                                                 save_best_only=True, save_weights_only=True)],
        epochs=3)
    assert_weights_equal(load_weights_of(path), record.weights[1])


def test_model_checkpoint_initial_value_threshold_and_missing_monitor(tmp_path):
    path = tmp_path / "best.weights.npz"
    fit(make_model(), [Script([3, 1, 2]),
                       callbacks.ModelCheckpoint(path, save_best_only=True, save_weights_only=True,
                                                 initial_value_threshold=0.5)], epochs=3)
    assert not path.exists()
    with pytest.warns(UserWarning, match=r"val_loss.*Available: loss"):
        fit(make_model(), [callbacks.ModelCheckpoint(path, save_best_only=True,
                                                     save_weights_only=True)], epochs=1)
    assert not path.exists()


def test_model_checkpoint_save_freq_in_batches(tmp_path):
    record = WeightsAtBatchEnd()
    pattern = str(tmp_path / "b{epoch}-{batch}.weights.npz")
    fit(make_model(), [record, callbacks.ModelCheckpoint(pattern, save_weights_only=True,
                                                         save_freq=3)], epochs=2)
    # 4 batches per epoch, counted across epochs: saves after the 3rd and the 6th batch
    assert sorted(os.listdir(tmp_path)) == ["b1-3.weights.npz", "b2-2.weights.npz"]
    assert_weights_equal(load_weights_of(tmp_path / "b1-3.weights.npz"), record.weights[(0, 2)])
    assert_weights_equal(load_weights_of(tmp_path / "b2-2.weights.npz"), record.weights[(1, 1)])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(filepath="model.h5"), ValueError, r"'\.kerasnp'.*filepath='model.h5'"),
    (dict(filepath="w.npz", save_weights_only=True), ValueError, r"'\.weights\.npz'"),
    (dict(filepath="m.kerasnp", save_freq="batch"), ValueError,
     r"'epoch', a positive int.*save_freq='batch'"),
    (dict(filepath="m.kerasnp", save_freq=0), ValueError, r"save_freq=0"),
    (dict(filepath="m.kerasnp", mode="best"), ValueError, r"'auto', 'min', 'max'"),
    (dict(filepath="m.kerasnp", save_best_only=1), TypeError, r"save_best_only"),
])
def test_model_checkpoint_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        callbacks.ModelCheckpoint(**kwargs)


def test_model_checkpoint_unknown_format_field(tmp_path):
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "{val_los:.2f}.kerasnp"))
    with pytest.raises(KeyError, match=r"val_los.*Available fields: loss, val_loss, epoch"):
        fit(make_model(), [ckpt], epochs=1, validation_split=0.25)


# --------------------------------------------------------------------------- NaN and checkpoints
def test_terminate_on_nan_with_checkpoint_every_batch_writes_only_finite_weights(tmp_path):
    pattern = str(tmp_path / "b{epoch}-{batch}.weights.npz")
    model = diverging_model()            # the loss becomes inf at the 3rd batch
    history = fit(model, [callbacks.TerminateOnNaN(),
                          callbacks.ModelCheckpoint(pattern, save_weights_only=True,
                                                    save_freq=1)], epochs=5)
    files = sorted(os.listdir(tmp_path))
    assert files == ["b1-1.weights.npz", "b1-2.weights.npz"]
    # the stopped epoch is recorded with its non-finite loss, as in Keras
    assert history.epoch == [0] and not np.isfinite(history.history["loss"][0])
    for name in files:
        assert all(np.isfinite(w).all() for w in load_weights_of(tmp_path / name))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_terminate_on_nan_guards_checkpoints_when_an_update_overflows(tmp_path):
    """A step can overflow the weights while the loss that preceded it was finite: the batch's
    checkpoint would hold inf/NaN weights. It is never written, with TerminateOnNaN or not."""
    pattern = str(tmp_path / "b{epoch}-{batch}.weights.npz")
    model = diverging_model(lr=1e300)
    try:
        fit(model, [callbacks.ModelCheckpoint(pattern, save_weights_only=True, save_freq=1)],
            epochs=2)
    except NonFiniteLossError:
        pass
    assert os.listdir(tmp_path) == [] and model.stop_training
    model = diverging_model(lr=1e300)
    fit(model, [callbacks.ModelCheckpoint(pattern, save_weights_only=True, save_freq=1),
                callbacks.TerminateOnNaN(),
                callbacks.BackupAndRestore(tmp_path / "backup")], epochs=2)
    assert os.listdir(tmp_path) == [] and model.stop_training


# --------------------------------------------------------------------------- get_state / set_state
@pytest.mark.parametrize("make", [
    lambda folder: callbacks.EarlyStopping(patience=2, restore_best_weights=True),
    lambda folder: callbacks.ReduceLROnPlateau(patience=1, cooldown=2),
    lambda folder: callbacks.ModelCheckpoint(str(folder / "m.kerasnp"), save_best_only=True),
], ids=["EarlyStopping", "ReduceLROnPlateau", "ModelCheckpoint"])
def test_state_round_trips_into_a_fresh_callback(make, tmp_path):
    trained = make(tmp_path)
    fit(make_model(), [Script([3.0, 2.0, 2.5, 2.6]), trained], epochs=4)
    state = trained.get_state()
    fresh = make(tmp_path)
    fresh.set_state(state)
    again = fresh.get_state()
    assert again.keys() == state.keys()
    for key, value in state.items():
        if isinstance(value, list):
            assert_weights_equal(again[key], value)
        else:
            assert again[key] == value, key
    assert state["best"] == 2.0


@pytest.mark.parametrize("make, state, match", [
    (callbacks.ReduceLROnPlateau, {"best": 1.0, "wait": -1, "cooldown_counter": 0},
     r"ReduceLROnPlateau.set_state: 'wait' must be an int >= 0. Received: wait=-1"),
    (callbacks.ReduceLROnPlateau, {"best": "low", "wait": 0, "cooldown_counter": 0},
     r"'best' must be a number. Received: best='low'"),
    (callbacks.EarlyStopping, {"wait": 0}, r"must be a dict with 'stopped_epoch'. "
                                           r"Received: \['wait'\]"),
    (callbacks.EarlyStopping, {"wait": 0, "stopped_epoch": 0, "best": None, "best_epoch": 0,
                               "best_weights": [[1.0]]}, "'best_weights' must be a list of "
                                                         "NumPy arrays or None"),
    (lambda: callbacks.ModelCheckpoint("m.kerasnp"), [1.0], "must be a dict with 'best'"),
])
def test_set_state_refuses_bad_states_and_changes_nothing(make, state, match):
    cb = make()
    before = cb.get_state()
    with pytest.raises(ValueError, match=match):
        cb.set_state(state)
    assert cb.get_state() == before


def test_backup_names_a_callback_whose_state_cannot_be_saved(tmp_path):
    class Bad(callbacks.Callback):
        def get_state(self):
            return {"when": object()}

        def set_state(self, state):
            pass

    with pytest.raises(TypeError, match=r"Bad.get_state\(\): state\['when'\] has type object"):
        fit(make_model(), [Bad(), callbacks.BackupAndRestore(tmp_path / "b")], epochs=1)
