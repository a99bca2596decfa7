"""2-process `mpiexec` runs: files written once by process 0, callbacks and a non-finite loss
deciding alike on both processes, a stuck process making the other stop with a clear error."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import kerasnp as keras

SCRIPT = os.path.join(os.path.dirname(__file__), "_mpi_scripts", "agree.py")


def _mpirun(mode, out, timeout=120):
    pytest.importorskip("mpi4py")
    exe = shutil.which("mpiexec")
    if exe is None:
        pytest.skip("mpiexec not found (pip install mpich)")
    res = subprocess.run([exe, "-n", "2", sys.executable, SCRIPT, mode, str(out)],
                         capture_output=True, text=True, timeout=timeout)
    seen = []
    for r in (0, 1):
        path = out / f"{mode}{r}.json"
        seen.append(json.loads(path.read_text()) if path.exists() else None)
    return res, seen


def test_files_written_once_and_early_stopping_agrees(tmp_path):
    res, (r0, r1) = _mpirun("checkpoint", tmp_path)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert r0["saves"] == 3 and r1["saves"] == 0          # only process 0 writes
    assert r0["stopped"] == r1["stopped"] == 2            # the same epoch on both
    assert r0["epochs"] == r1["epochs"] == 3 and r0["loss"] == r1["loss"]
    model = keras.saving.load_model(str(tmp_path / "best.kerasnp"))
    assert model.predict(np.zeros((2, 4)), verbose=0).shape == (2, 1)
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,loss") and len(rows) == 4    # one header, 3 epochs
    assert (tmp_path / "backup" / "latest.kerasnp").exists()


def test_non_finite_loss_on_one_shard_stops_both(tmp_path):
    res, (r0, r1) = _mpirun("nan", tmp_path)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    for r in (r0, r1):
        assert "the loss became inf at epoch 1, batch 1" in r["error"]
        assert r["unchanged"]


def test_a_stuck_process_makes_the_other_stop_with_a_clear_error(tmp_path):
    res, (r0, _) = _mpirun("stuck", tmp_path, timeout=60)
    assert res.returncode != 0                            # mpiexec ends the job
    assert "Process 0 of 2 waited more than 3 s in an all-reduce" in r0["error"]


def test_backup_and_restore_resumes_a_stopped_two_process_run_bitwise(tmp_path):
    for mode in ("backup-full", "backup-crash"):
        res, _ = _mpirun(mode, tmp_path)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    crashed = json.loads((tmp_path / "backup-crash0.json").read_text())
    assert crashed["loss"] is None and crashed["weights"] != []      # stopped in epoch 3
    res, (r0, r1) = _mpirun("backup-resume", tmp_path)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    full = json.loads((tmp_path / "backup-full0.json").read_text())
    assert r0["loss"] == full["loss"] and len(r0["loss"]) == 4      # History as one run
    assert r0["weights"] == r1["weights"] == full["weights"]         # bitwise


def test_processes_seeded_differently_train_process_0s_model(tmp_path):
    pytest.importorskip("mpi4py")
    exe = shutil.which("mpiexec")
    if exe is None:
        pytest.skip("mpiexec not found (pip install mpich)")
    script = os.path.join(os.path.dirname(__file__), "_mpi_scripts", "unseeded.py")
    res = subprocess.run([exe, "-n", "2", sys.executable, script, str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    np.testing.assert_array_equal(np.load(tmp_path / "unseeded0.npy"),
                                  np.load(tmp_path / "unseeded1.npy"))


def test_a_killed_process_does_not_hang_the_other(tmp_path):
    res, _ = _mpirun("killed", tmp_path, timeout=60)     # TimeoutExpired would fail here
    assert res.returncode != 0
