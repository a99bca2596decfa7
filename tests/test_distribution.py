"""kerasnp.distribution: the API in one process, and data-parallel fit over 2 MPI processes
(mpiexec launched from here) equal to one process with the same global batch."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import kerasnp as keras
import kerasnp.distribution as dist

SCRIPTS = os.path.join(os.path.dirname(__file__), "_mpi_scripts")


@pytest.fixture(autouse=True)
def _no_distribution():
    yield
    dist.set_distribution(None)


def test_api_in_one_process():
    assert dist.distribution() is None
    assert dist.list_devices() == ["cpu:0"]
    d = dist.DataParallel()
    assert (d.num_processes, d.process_id, d.is_chief) == (1, 0, True)
    dist.set_distribution(d)
    assert dist.distribution() is d
    buf = np.arange(3.0)
    assert d.all_reduce(buf) is buf and d.any(True) and not d.any(False)
    with pytest.raises(TypeError, match="DataParallel or None"):
        dist.set_distribution("data_parallel")
    with pytest.raises(ValueError, match="timeout"):
        dist.DataParallel(timeout=0)
    with pytest.raises(ValueError, match="num_processes"):
        dist.initialize(num_processes=3)
    with pytest.raises(ValueError, match="device_type"):
        dist.list_devices("gpu")


def _fit(seed_model):
    keras.utils.set_random_seed(seed_model)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(70, 5)).astype("float32")
    y = (x.sum(1) > 0).astype("float32")
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.BatchNormalization(),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, batch_size=16, epochs=2, validation_split=0.2, verbose=0)
    return [w.value.copy() for w in model.weights], h.history, model.predict(x, verbose=0)


def test_one_process_data_parallel_is_plain_fit_bitwise():
    w0, h0, p0 = _fit(3)
    dist.set_distribution(dist.DataParallel())
    w1, h1, p1 = _fit(3)
    assert h0 == h1
    assert all(np.array_equal(a, b) for a, b in zip(w0, w1))
    assert np.array_equal(p0, p1)


def test_global_batch_norm_with_one_process_is_batch_norm():
    from kerasnp.ops._conv_norm import batch_norm_train
    from kerasnp.variables import Variable
    x = np.random.default_rng(1).normal(size=(6, 4, 3))
    outs = []
    for fn, extra in ((batch_norm_train, {}),
                      (dist.batch_norm_train_global, {"all_reduce": lambda b: b})):
        mm, mv = Variable(np.zeros(3)), Variable(np.ones(3))
        outs.append((fn(x, None, None, mm, mv, -1, 0.9, 1e-3, **extra), mm.value, mv.value))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)


def _mpiexec():
    pytest.importorskip("mpi4py")
    exe = shutil.which("mpiexec")
    if exe is None:
        pytest.skip("mpiexec not found (pip install mpich)")
    return exe


def _run(args, timeout=240):
    res = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res


def test_two_processes_equal_one_process(tmp_path):
    exe = _mpiexec()
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    script = os.path.join(SCRIPTS, "fit_equal.py")
    _run([sys.executable, script, str(one)])
    res = _run([exe, "-n", "2", sys.executable, script, str(two)])
    # only process 0 prints the progress lines
    assert res.stdout.count("Epoch 1/4") == 1
    ref = np.load(one / "rank0.npz")
    r0, r1 = np.load(two / "rank0.npz"), np.load(two / "rank1.npz")
    assert int(ref["size"]) == 1 and int(r0["size"]) == 2
    keys = [k for k in ref.files if k != "size"]
    assert {"h_loss", "h_val_loss", "h_accuracy", "h_val_auc", "ev_loss", "pred",
            "tob_loss", "tob_w"} <= set(keys)
    for k in keys:
        np.testing.assert_allclose(r0[k], ref[k], rtol=0, atol=1e-10, err_msg=k)
        np.testing.assert_array_equal(r0[k], r1[k], err_msg=k)   # the ranks agree exactly
    assert r0["pred"].shape == (203, 1)


def test_one_process_does_not_initialise_mpi():
    code = ("import os, sys\n"
            "for v in ('PMI_SIZE', 'OMPI_COMM_WORLD_SIZE', 'PMIX_RANK', 'SLURM_NTASKS',"
            " 'MPI_LOCALNRANKS'):\n    os.environ.pop(v, None)\n"
            "import kerasnp.distribution as d\n"
            "d.set_distribution(d.DataParallel())\n"
            "print('mpi4py' in sys.modules, d.distribution().num_processes)")
    res = _run([sys.executable, "-c", code])
    assert res.stdout.split() == ["False", "1"]
