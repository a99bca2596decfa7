"""Exact resume: a run interrupted mid-way and resumed with BackupAndRestore ends with weights
bitwise identical to an uninterrupted run with the same seed, and with a continuous History.

The models have a Dropout layer and the data is shuffled every epoch, so the resumed run can only
match if the shuffling and dropout generators are restored along with the weights and the
optimizer state (which Keras does not do). Checked in float32 and float64, in-process and with a
real crash (`os._exit`) in a subprocess.
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import kerasnp as keras
from kerasnp import callbacks

ROOT = Path(__file__).resolve().parents[1]
SEED, EPOCHS, N, BATCH = 7, 5, 120, 16


def make_data(dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 6)).astype(dtype)
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype("int64") + (x[:, 3] > 1)
    return x, y


def build(seed, dtype):
    """The same model for every run: Dropout makes the run depend on the dropout generator."""
    keras.config.set_floatx(dtype)
    keras.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, dtype, epochs, cbs):
    x, y = make_data(dtype)
    return model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=True, verbose=0,
                     validation_split=0.2, callbacks=cbs)


class Crash(callbacks.Callback):
    """Raises at the end (or the start) of epoch `epoch`, like a crash of the training job."""

    def __init__(self, epoch, hook="on_epoch_end"):
        super().__init__()
        self.epoch = epoch
        setattr(self, hook, self._maybe_crash)

    def _maybe_crash(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError(f"simulated crash at epoch {epoch}")


class EpochsRun(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def reference_run(dtype):
    model = build(SEED, dtype)
    history = train(model, dtype, EPOCHS, [])
    return model.get_weights(), history


def assert_bitwise_equal(weights, expected):
    assert len(weights) == len(expected)
    for w, e in zip(weights, expected):
        assert w.dtype == e.dtype and np.array_equal(w, e)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hook, resumes_at", [("on_epoch_end", 2), ("on_epoch_begin", 3)])
def test_interrupted_run_resumes_bitwise_identically(tmp_path, dtype, hook, resumes_at):
    ref_weights, ref_history = reference_run(dtype)
    backup_dir = tmp_path / "backup"
    # A crash at the end of epoch 2 comes before that epoch's backup (BackupAndRestore runs
    # last), so the run resumes at epoch 2; a crash at the start of epoch 3 resumes at 3.
    crashed = build(SEED, dtype)
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(crashed, dtype, EPOCHS, [Crash(resumes_at, hook),
                                       callbacks.BackupAndRestore(backup_dir)])
    assert (backup_dir / "latest.kerasnp").exists()

    fresh = build(SEED, dtype)                 # a new model object, as in a new process
    seen = EpochsRun()
    history = train(fresh, dtype, EPOCHS, [seen, callbacks.BackupAndRestore(backup_dir)])
    assert seen.epochs == list(range(resumes_at, EPOCHS))
    assert_bitwise_equal(fresh.get_weights(), ref_weights)
    assert history.epoch == list(range(EPOCHS))
    assert history.history == ref_history.history          # same keys, same values, 5 epochs
    assert not backup_dir.exists()                         # deleted after a finished run


class HalveLR(callbacks.Callback):
    """Halves the learning rate at every epoch end (stateless, unlike ReduceLROnPlateau whose
    counters are not part of a backup)."""

    def on_epoch_end(self, epoch, logs=None):
        self.model.optimizer.learning_rate = self.model.optimizer.learning_rate * 0.5


def test_backup_runs_after_other_callbacks_so_it_holds_their_changes(tmp_path):
    """BackupAndRestore is listed first, yet its backup is taken after HalveLR changed the rate
    at the end of the epoch, so the resumed run uses the right rate and matches exactly."""
    dtype = "float32"
    ref = build(SEED, dtype)
    ref_history = train(ref, dtype, EPOCHS, [HalveLR()])
    assert ref.optimizer.learning_rate == 0.01 * 0.5 ** EPOCHS
    crashed = build(SEED, dtype)
    with pytest.raises(RuntimeError):
        train(crashed, dtype, EPOCHS, [callbacks.BackupAndRestore(tmp_path), HalveLR(),
                                       Crash(3, "on_epoch_begin")])
    fresh = build(SEED, dtype)
    history = train(fresh, dtype, EPOCHS, [callbacks.BackupAndRestore(tmp_path), HalveLR()])
    assert fresh.optimizer.learning_rate == ref.optimizer.learning_rate
    assert_bitwise_equal(fresh.get_weights(), ref.get_weights())
    assert history.history == ref_history.history


def test_backup_kept_when_interrupted_or_asked_and_deleted_when_finished(tmp_path):
    model = build(SEED, "float32")
    with pytest.raises(RuntimeError):
        train(model, "float32", EPOCHS, [Crash(1), callbacks.BackupAndRestore(tmp_path / "a")])
    assert (tmp_path / "a" / "latest.kerasnp").exists()
    train(build(SEED, "float32"), "float32", 2,
          [callbacks.BackupAndRestore(tmp_path / "b", delete_checkpoint=False)])
    assert (tmp_path / "b" / "latest.kerasnp").exists()
    train(build(SEED, "float32"), "float32", 2, [callbacks.BackupAndRestore(tmp_path / "c")])
    assert not (tmp_path / "c").exists()
    stop = callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=100.0)
    history = train(build(SEED, "float32"), "float32", EPOCHS,
                    [stop, callbacks.BackupAndRestore(tmp_path / "d")])
    assert len(history.epoch) == 2 and not (tmp_path / "d").exists()   # stopped = finished


def test_backup_every_n_batches_resumes_at_the_interrupted_epoch(tmp_path):
    """With save_freq in batches the last backup is mid-epoch: fit restarts that epoch from its
    first batch with the backed-up weights (as Keras does; not bitwise exact)."""
    model = build(SEED, "float32")
    with pytest.raises(RuntimeError):
        train(model, "float32", EPOCHS, [Crash(2), callbacks.BackupAndRestore(tmp_path, 4)])
    fresh = build(SEED, "float32")
    seen = EpochsRun()
    history = train(fresh, "float32", EPOCHS, [seen, callbacks.BackupAndRestore(tmp_path, 4)])
    # 96 training samples / 16 = 6 batches per epoch: the last backup was at batch 4 of epoch 2
    # (the 16th batch); the run resumes at epoch 2 with the two earlier epochs in its History.
    assert seen.epochs == [2, 3, 4]
    assert history.epoch == list(range(EPOCHS)) and len(history.history["loss"]) == EPOCHS


def test_backup_and_restore_argument_errors():
    with pytest.raises(ValueError, match="backup_dir"):
        callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match=r"save_freq.*'epoch'.*save_freq='batch'"):
        callbacks.BackupAndRestore("b", save_freq="batch")
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.BackupAndRestore("b", save_freq=0)
    with pytest.raises(TypeError, match="delete_checkpoint"):
        callbacks.BackupAndRestore("b", delete_checkpoint="no")


def test_load_model_then_initial_epoch_continues_identically(tmp_path):
    """A full checkpoint written by ModelCheckpoint at the end of epoch 2, loaded with
    load_model and trained with fit(initial_epoch=2), ends where the uninterrupted run ends."""
    ref_weights, _ = reference_run("float64")
    model = build(SEED, "float64")
    train(model, "float64", EPOCHS, [callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}.kerasnp"))])
    loaded = keras.models.load_model(tmp_path / "e2.kerasnp")
    x, y = make_data("float64")
    loaded.fit(x, y, batch_size=BATCH, epochs=EPOCHS, initial_epoch=2, shuffle=True, verbose=0,
               validation_split=0.2)
    assert_bitwise_equal(loaded.get_weights(), ref_weights)


# ------------------------------------------------------------------ a real crash, in subprocesses
SCRIPT = textwrap.dedent("""
    import os, sys
    import numpy as np
    import kerasnp as keras
    sys.path.insert(0, sys.argv[5])
    from test_resume import EPOCHS, SEED, build, train
    mode, dtype, backup, out = sys.argv[1:5]

    class Die(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 3 and batch == 1:
                os._exit(17)                      # no cleanup, no finally, no on_train_end

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    cbs = {"crash": [Die()], "resume": [], "reference": []}[mode]
    if mode != "reference":
        cbs.append(keras.callbacks.BackupAndRestore(backup))
    model = build(SEED, dtype)
    history = train(model, dtype, EPOCHS, cbs)
    np.savez(out, *model.get_weights(), loss=np.array(history.history["loss"]))
""")


def run_script(script, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    argv = [sys.executable, str(script), *map(str, args), str(ROOT / "tests")]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_true_crash_in_a_subprocess_then_resume(tmp_path, dtype):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    backup = tmp_path / "backup"
    crashed = run_script(script, "crash", dtype, backup, tmp_path / "crashed.npz")
    assert crashed.returncode == 17, crashed.stderr
    assert not (tmp_path / "crashed.npz").exists() and (backup / "latest.kerasnp").exists()
    resumed = run_script(script, "resume", dtype, backup, tmp_path / "resumed.npz")
    assert resumed.returncode == 0, resumed.stderr
    reference = run_script(script, "reference", dtype, backup, tmp_path / "reference.npz")
    assert reference.returncode == 0, reference.stderr
    with np.load(tmp_path / "resumed.npz") as a, np.load(tmp_path / "reference.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for name in a.files:
            assert a[name].dtype == b[name].dtype and np.array_equal(a[name], b[name]), name
    assert not backup.exists()


def test_backup_folder_removed_despite_temp_files_of_a_killed_save(tmp_path):
    """A save killed mid-write leaves its temporary file (`.latest.kerasnp.<random>.tmp`);
    BackupAndRestore removes such leftovers with its backup, so the folder goes too."""
    backup_dir = tmp_path / "backup"
    backup_dir.mkdir()
    for name in (".latest.kerasnp.x1y2z3_k.tmp", ".previous.kerasnp.a_b0c9de.tmp"):
        (backup_dir / name).write_bytes(b"PK\x03\x04 half a zip")
    (tmp_path / ".latest.kerasnp.elsewhere.tmp").write_bytes(b"not in the backup folder")
    train(build(SEED, "float32"), "float32", 2,
          [callbacks.BackupAndRestore(backup_dir, double_checkpoint=True)])
    assert not backup_dir.exists()
    assert (tmp_path / ".latest.kerasnp.elsewhere.tmp").exists()


def test_backup_folder_kept_when_it_holds_other_files(tmp_path):
    backup_dir = tmp_path / "backup"
    backup_dir.mkdir()
    (backup_dir / "notes.txt").write_text("mine")
    train(build(SEED, "float32"), "float32", 2, [callbacks.BackupAndRestore(backup_dir)])
    assert os.listdir(backup_dir) == ["notes.txt"]


# ------------------------------------------------------------- stateful callbacks across a resume
class Script(callbacks.Callback):
    """Overwrites logs['val_loss'] with a scripted value per epoch (placed before the callback
    under test), so the epochs at which it acts are known exactly."""

    def __init__(self, values):
        super().__init__()
        self.values = list(values)

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]


def reference_and_resumed(tmp_path, make_callbacks, crash_at):
    """Runs `make_callbacks()` uninterrupted, then crashed at the start of epoch `crash_at` and
    resumed with fresh callbacks (as in a new process). Returns, for both runs,
    `(model, callbacks, history)`."""
    ref_cbs = make_callbacks()
    ref = build(SEED, "float32")
    ref_history = train(ref, "float32", EPOCHS, ref_cbs)
    backup = tmp_path / "backup"
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(build(SEED, "float32"), "float32", EPOCHS,
              make_callbacks() + [Crash(crash_at, "on_epoch_begin"),
                                  callbacks.BackupAndRestore(backup)])
    cbs = make_callbacks()
    fresh = build(SEED, "float32")
    seen = EpochsRun()
    history = train(fresh, "float32", EPOCHS, cbs + [seen, callbacks.BackupAndRestore(backup)])
    assert seen.epochs[0] == crash_at                     # it did resume
    return (ref, ref_cbs, ref_history), (fresh, cbs, history)


def test_reduce_lr_on_plateau_counters_survive_a_resume(tmp_path):
    """val_loss 5, 4, 4, 4, 4 with patience 2: the rate halves at the end of epoch 3. The crash
    comes after epoch 2 (best 4, one epoch waited); with the counters reset the resumed run
    would see 4 as an improvement and keep the rate."""
    def make():
        return [Script([5, 4, 4, 4, 4]),
                callbacks.ReduceLROnPlateau("val_loss", factor=0.5, patience=2, cooldown=1,
                                            min_delta=0)]
    (ref, ref_cbs, ref_history), (fresh, cbs, history) = reference_and_resumed(
        tmp_path, make, crash_at=3)
    assert ref_history.history["learning_rate"][-1] == pytest.approx(0.005)
    assert history.history == ref_history.history
    assert fresh.optimizer.learning_rate == ref.optimizer.learning_rate
    assert_bitwise_equal(fresh.get_weights(), ref.get_weights())
    assert (cbs[1].best, cbs[1].wait, cbs[1].cooldown_counter) == \
        (ref_cbs[1].best, ref_cbs[1].wait, ref_cbs[1].cooldown_counter)


def test_early_stopping_state_and_best_weights_survive_a_resume(tmp_path):
    """val_loss 5, 6, 6, 6, 6 with patience 3: training stops at epoch 3 and restores the weights
    of epoch 0, which only the backup still holds after a crash at the start of epoch 2."""
    def make():
        return [Script([5, 6, 6, 6, 6]),
                callbacks.EarlyStopping("val_loss", patience=3, restore_best_weights=True)]
    (ref, ref_cbs, ref_history), (fresh, cbs, history) = reference_and_resumed(
        tmp_path, make, crash_at=2)
    assert ref_cbs[1].stopped_epoch == 3 and ref_history.epoch == [0, 1, 2, 3]
    assert cbs[1].stopped_epoch == 3 and history.epoch == ref_history.epoch
    assert (cbs[1].best, cbs[1].best_epoch, cbs[1].wait) == (5, 0, 3)
    assert_bitwise_equal(fresh.get_weights(), ref.get_weights())
    assert history.history == ref_history.history


def test_model_checkpoint_best_value_survives_a_resume(tmp_path):
    """save_best_only with val_loss 1, 3, 2, 2.5, 4: only epoch 0 is ever the best. A resumed
    checkpoint that forgot its best value would overwrite the file at epoch 2."""
    paths = iter([tmp_path / "ref.kerasnp"] + [tmp_path / "run.kerasnp"] * 2)

    def make():
        return [Script([1, 3, 2, 2.5, 4]),
                callbacks.ModelCheckpoint(str(next(paths)), save_best_only=True)]
    (_, ref_cbs, _), (fresh, cbs, _) = reference_and_resumed(tmp_path, make, crash_at=2)
    assert cbs[1].best == ref_cbs[1].best == 1
    saved = keras.models.load_model(tmp_path / "run.kerasnp").get_weights()
    assert_bitwise_equal(saved, keras.models.load_model(tmp_path / "ref.kerasnp").get_weights())


def test_learning_rate_scheduler_resumes_exactly(tmp_path):
    """The scheduler keeps no counters of its own: the rate it set is restored with the
    optimizer, so a schedule of (epoch, lr) continues exactly."""
    def make():
        return [callbacks.LearningRateScheduler(lambda epoch, lr: lr * (0.5 if epoch % 2 else 1))]
    (ref, _, ref_history), (fresh, _, history) = reference_and_resumed(
        tmp_path, make, crash_at=3)
    assert history.history == ref_history.history
    assert_bitwise_equal(fresh.get_weights(), ref.get_weights())


class CountEpochs(callbacks.Callback):
    """A user callback with state of its own: a count and a NumPy array."""

    def __init__(self):
        super().__init__()
        self.count, self.seen, self.restored = 0, np.zeros(0), None

    def on_epoch_end(self, epoch, logs=None):
        self.count += 1
        self.seen = np.append(self.seen, logs["loss"])

    def get_state(self):
        return {"count": self.count, "seen": self.seen}

    def set_state(self, state):
        self.restored = state
        self.count, self.seen = state["count"], state["seen"]


def test_user_callback_state_is_saved_and_restored(tmp_path):
    (_, ref_cbs, ref_history), (_, cbs, _) = reference_and_resumed(
        tmp_path, lambda: [CountEpochs(), CountEpochs()], crash_at=3)
    for cb, ref_cb in zip(cbs, ref_cbs):
        assert cb.restored["count"] == 3 and cb.count == ref_cb.count == EPOCHS
        assert cb.seen.dtype == ref_cb.seen.dtype and np.array_equal(cb.seen, ref_cb.seen)
        assert np.array_equal(cb.seen, ref_history.history["loss"])


def test_callbacks_without_a_saved_state_start_fresh(tmp_path):
    """A resumed run may add or drop callbacks: states are matched by class and position among
    callbacks of that class; one without a saved state keeps its fresh state."""
    backup = tmp_path / "backup"
    with pytest.raises(RuntimeError):
        train(build(SEED, "float32"), "float32", EPOCHS,
              [CountEpochs(), Crash(3, "on_epoch_begin"), callbacks.BackupAndRestore(backup)])
    first, second = CountEpochs(), CountEpochs()
    train(build(SEED, "float32"), "float32", EPOCHS,
          [callbacks.EarlyStopping(patience=99), first, second,
           callbacks.BackupAndRestore(backup)])
    assert first.restored["count"] == 3 and first.count == EPOCHS
    assert second.restored is None and second.count == EPOCHS - 3


def test_backup_with_a_dangling_array_reference_is_refused(tmp_path):
    """A callback state pointing at an array the backup does not hold is a ModelFileError."""
    backup = tmp_path / "backup"
    with pytest.raises(RuntimeError):
        train(build(SEED, "float32"), "float32", EPOCHS,
              [CountEpochs(), Crash(2, "on_epoch_begin"), callbacks.BackupAndRestore(backup)])
    path = backup / "latest.kerasnp"
    model = build(SEED, "float32")
    state = keras.saving.load_into(model, path)
    assert state["extra"]["callbacks"]["CountEpochs:0"]["seen"] == {"__ndarray__": 0}
    extra = dict(state["extra"])
    extra["callbacks"] = {"CountEpochs:0": {"count": 2, "seen": {"__ndarray__": 5}}}
    keras.saving.save_model(model, path, extra_metadata=extra, extra_arrays=state["arrays"])
    with pytest.raises(keras.saving.ModelFileError, match=r"refers to array .* holds 1 arrays"):
        train(build(SEED, "float32"), "float32", EPOCHS,
              [CountEpochs(), callbacks.BackupAndRestore(backup)])
