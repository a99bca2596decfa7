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
