"""Arrays, PyDatasets, DataLoaders and generators feed fit/evaluate/predict the same way."""
import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L
from kerasnp.data import DataLoader
from kerasnp.utils.py_dataset import PyDataset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RNG = np.random.default_rng(0)
X = RNG.normal(size=(96, 5)).astype("float32")
Y = (X[:, 0] + X[:, 1] > 0).astype("int64")


class Batches(PyDataset):
    def __init__(self, x, y, bs=16, fail_at=None, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.bs, self.fail_at = x, y, bs, fail_at

    def __len__(self):
        return -(-len(self.x) // self.bs)

    def __getitem__(self, i):
        if i == self.fail_at:
            raise ValueError(f"corrupt record in batch {i}")
        s = slice(i * self.bs, (i + 1) * self.bs)
        return self.x[s], self.y[s]


class Samples:
    def __len__(self):
        return len(X)

    def __getitem__(self, i):
        return X[i], Y[i]


def _model():
    keras.utils.clear_session()
    keras.set_random_seed(7)
    model = keras.Sequential([keras.Input((5,)), L.Dense(8, activation="relu"), L.Dropout(0.2),
                              L.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _train(data, **kwargs):
    model = _model()
    hist = model.fit(data, epochs=2, verbose=0, shuffle=False, **kwargs)
    return model.get_weights(), hist.history


def _gen(epochs=2, bs=16):
    for _ in range(epochs):
        for i in range(0, len(X), bs):
            yield X[i:i + bs], Y[i:i + bs]


def test_arrays_pydataset_dataloader_and_generator_give_identical_weights():
    ref_w, ref_h = _train(X, y=Y, batch_size=16)
    for data, kwargs in ((Batches(X, Y), {}),
                         (DataLoader(Samples(), batch_size=16, shuffle=False), {}),
                         (_gen(), {"steps_per_epoch": 6}),
                         (Batches(X, Y, workers=3), {}),
                         (Batches(X, Y, workers=2, use_multiprocessing=True), {})):
        w, h = _train(data, **kwargs)
        for a, b in zip(w, ref_w):
            np.testing.assert_array_equal(a, b)
        assert h == ref_h


def test_evaluate_and_predict_take_datasets_and_generators():
    model = _model()
    model.fit(X, Y, epochs=1, verbose=0)
    ref = model.evaluate(X, Y, batch_size=16, verbose=0)
    assert model.evaluate(Batches(X, Y), verbose=0) == pytest.approx(ref)
    assert model.evaluate(_gen(1), steps=6, verbose=0) == pytest.approx(ref)
    p = model.predict(X, verbose=0)
    np.testing.assert_array_equal(model.predict(Batches(X, Y), verbose=0), p)
    np.testing.assert_array_equal(model.predict((b for b, _ in _gen(1)), steps=6, verbose=0), p)


def test_validation_data_as_dataset_and_freq():
    model = _model()
    hist = model.fit(Batches(X, Y), validation_data=Batches(X[:32], Y[:32]), epochs=4,
                     validation_freq=2, verbose=0)
    assert len(hist.history["loss"]) == 4 and len(hist.history["val_loss"]) == 2


def test_dataloader_shuffles_reproducibly_and_collates():
    a = DataLoader(Samples(), batch_size=10, seed=3)
    b = DataLoader(Samples(), batch_size=10, seed=3)
    assert len(a) == 10 and len(DataLoader(Samples(), batch_size=10, drop_last=True)) == 9
    xa, ya = a[0]
    xb, yb = b[0]
    np.testing.assert_array_equal(xa, xb)
    assert xa.shape == (10, 5) and ya.shape == (10,)
    a.on_epoch_end()
    assert not np.array_equal(a[0][0], xa)
    with pytest.raises(TypeError, match="__len__ and __getitem__"):
        DataLoader(42)


def test_worker_exceptions_surface_with_the_original_message():
    for kwargs in ({"workers": 2}, {"workers": 2, "use_multiprocessing": True}, {}):
        model = _model()
        with pytest.raises(ValueError, match="corrupt record in batch 3"):
            model.fit(Batches(X, Y, fail_at=3, **kwargs), epochs=1, verbose=0)


def test_generator_errors_and_warnings():
    model = _model()
    with pytest.raises(ValueError, match="without steps_per_epoch.*infinite.*PyDataset"):
        model.fit(_gen(), epochs=1, verbose=0, shuffle=False)
    with pytest.warns(UserWarning, match="shuffle=True\\) is ignored for generators"):
        model.fit(_gen(1), steps_per_epoch=6, epochs=1, verbose=0)
    with pytest.warns(RuntimeWarning, match="ran out of data"):
        model.fit(_gen(1), steps_per_epoch=6, epochs=2, verbose=0, shuffle=False)
    with pytest.raises(ValueError, match="y must be None"):
        model.fit(Batches(X, Y), Y, verbose=0)
    with pytest.raises(ValueError, match="validation_split needs arrays"):
        model.fit(Batches(X, Y), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch applies to generators"):
        model.fit(X, Y, steps_per_epoch=3, verbose=0)


def _run(code, timeout=120):
    env = dict(os.environ, PYTHONPATH=ROOT, KERASNP_OFFLINE="1")
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_ctrl_c_with_process_workers_leaves_no_processes_behind():
    done = _run("""
        import multiprocessing, os, signal, numpy as np, kerasnp as keras
        from kerasnp.utils.py_dataset import PyDataset
        class DS(PyDataset):
            def __len__(self): return 50
            def __getitem__(self, i):
                return np.ones((8, 3), "float32") * i, np.zeros((8, 1), "float32")
        class Stop(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if batch == 5:
                    os.kill(os.getpid(), signal.SIGINT)
        m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        m.compile("sgd", "mse")
        import warnings; warnings.simplefilter("ignore")
        h = m.fit(DS(workers=2, use_multiprocessing=True), epochs=3, verbose=0,
                  callbacks=[Stop()])
        print("children", len(multiprocessing.active_children()), "epochs", len(h.epoch))
    """)
    assert done.returncode == 0, done.stderr
    assert "children 0 epochs 0" in done.stdout


def test_training_from_a_memory_mapped_array_larger_than_the_memory_limit(tmp_path):
    path = tmp_path / "big.npy"
    rows, cols = 100_000, 1_000                               # 400 MB of float32
    arr = np.lib.format.open_memmap(path, mode="w+", dtype="float32", shape=(rows, cols))
    for i in range(0, rows, 10_000):
        arr[i:i + 10_000] = 0.001 * (np.arange(10_000)[:, None] % 7)
    arr.flush()
    del arr
    done = _run(f"""
        import resource, numpy as np, kerasnp as keras
        x = np.load({str(path)!r}, mmap_mode="r")
        y = np.zeros((len(x), 1), "float32")
        m = keras.Sequential([keras.Input(({cols},)), keras.layers.Dense(1)])
        m.compile("sgd", "mse")
        m.fit(x[:2000], y[:2000], batch_size=500, epochs=1, verbose=0)   # warm up imports
        # Private memory may now grow by at most 150 MB: far less than the 400 MB array.
        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        used = int(open("/proc/self/statm").read().split()[5]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_DATA, (used + 150 * 2**20, hard))
        h = m.fit(x, y, batch_size=1000, epochs=1, verbose=0)
        print("ok", len(h.history["loss"]))
        try:
            np.array(x)                                        # loading it whole must fail
            print("loaded whole")
        except MemoryError:
            print("whole load refused")
    """, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "ok 1" in done.stdout
    assert "whole load refused" in done.stdout


def _gone(pid):
    """True when process `pid` has exited (a zombie nobody reaped counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


def _wait_until_gone(pids, polls=600):
    """Polls every 0.1 s, at most `polls` times (a hang guard, not a speed requirement)."""
    for _ in range(polls):
        if all(_gone(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return False


# A training process with 3 process workers. It prints their pids at batch 3, then: "killed"
# sleeps (the test kills it); "stuck" fails while a worker is stuck in __getitem__;
# "interrupted" gets two SIGINTs (Ctrl-C twice: the second raises KeyboardInterrupt) then.
_WORKERS_SCRIPT = textwrap.dedent("""
    import multiprocessing, os, signal, sys, time, numpy as np, kerasnp as keras
    from kerasnp.utils.py_dataset import PyDataset
    mode = sys.argv[1]
    class DS(PyDataset):
        def __len__(self): return 1000
        def __getitem__(self, i):
            if mode != "killed" and i >= 6:
                time.sleep(3600)                       # a dead network share, a deadlock
            return np.ones((8, 3), "float32") * i, np.zeros((8, 1), "float32")
    class Report(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 3:
                print("workers", *[p.pid for p in multiprocessing.active_children()], flush=True)
                if mode == "killed":
                    time.sleep(3600)                   # the test kills us here
                if mode == "interrupted":
                    os.kill(os.getpid(), signal.SIGINT)
                    os.kill(os.getpid(), signal.SIGINT)
                raise RuntimeError("callback failed")
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    m.compile("sgd", "mse")
    try:
        m.fit(DS(workers=3, use_multiprocessing=True), epochs=1, verbose=0, shuffle=False,
              callbacks=[Report()])
    except (RuntimeError, KeyboardInterrupt) as err:
        print("raised:", repr(err), "children", len(multiprocessing.active_children()),
              flush=True)
""")


@contextlib.contextmanager
def _training_with_workers(mode):
    """Starts `_WORKERS_SCRIPT`; yields (process, worker pids). Never leaves strays behind."""
    env = dict(os.environ, PYTHONPATH=ROOT, KERASNP_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-c", _WORKERS_SCRIPT, mode], env=env,
                            stdout=subprocess.PIPE, text=True)
    workers = []
    try:
        line = proc.stdout.readline().split()
        assert line[:1] == ["workers"], line
        workers = [int(p) for p in line[1:]]
        assert len(workers) == 3
        yield proc, workers
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        for pid in workers:
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads process states from /proc")
def test_process_workers_exit_when_the_parent_is_killed():
    """A SIGKILLed training process cannot stop its workers: they must notice on their own.
    (They waited forever on a task queue whose write end they hold themselves.)"""
    with _training_with_workers("killed") as (proc, workers):
        proc.kill()
        proc.wait()
        assert _wait_until_gone(workers), "workers outlived their killed parent"


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads process states from /proc")
@pytest.mark.parametrize("mode, error", [("stuck", "RuntimeError('callback failed')"),
                                         ("interrupted", "KeyboardInterrupt()")])
def test_stuck_process_worker_never_hangs_fit_or_exit(mode, error):
    """A worker stuck in __getitem__ while fit fails or is interrupted twice: fit still raises,
    the worker is terminated and the interpreter exits. (Shutting the pool down waited for the
    stuck batch forever.)"""
    with _training_with_workers(mode) as (proc, workers):
        for _ in range(600):                 # hang guard, as above
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        assert proc.poll() == 0, "fit or the interpreter exit hangs"
        assert proc.stdout.read().strip() == f"raised: {error} children 0"
        assert all(_gone(pid) for pid in workers)


class _Recorder(keras.Model):
    """A model whose train_step only records the batches fit hands it."""

    def __init__(self):
        super().__init__()
        self.dense = L.Dense(1)
        self.seen = []

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        x, y, sw = data
        self.seen.append((np.array(x), np.array(y), np.array(sw)))
        return {}


def test_shuffled_array_batches_keep_rows_paired_and_cover_every_row_once():
    """fit's shuffled batches (gathered with mode='clip' into reused buffers): each epoch every
    sample appears once, with its own target and weight, the last batch short."""
    model = _Recorder()
    model.compile("sgd", "mse")
    x = np.arange(23 * 5, dtype="float32").reshape(23, 5)
    y = np.arange(23, dtype="float32")[:, None] * 10
    sw = np.arange(23, dtype="float32") + 100
    model.fit(x, y, sample_weight=sw, batch_size=8, epochs=2, shuffle=True, verbose=0)
    assert [len(b[0]) for b in model.seen] == [8, 8, 7] * 2
    for epoch in (model.seen[:3], model.seen[3:]):
        rows = []
        for xb, yb, swb in epoch:
            first = xb[:, 0] / 5
            np.testing.assert_array_equal(xb, x[first.astype(int)])
            np.testing.assert_array_equal(yb[:, 0], first * 10)
            np.testing.assert_array_equal(swb, first + 100)
            rows.extend(first.astype(int).tolist())
        assert sorted(rows) == list(range(23)) and rows != list(range(23))
