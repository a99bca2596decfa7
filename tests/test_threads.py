"""kerasnp's thread policy (kernels/threads.py): one budget, BLAS single-threaded inside
kerasnp's parallel regions and restored after them, clear errors for bad settings."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kerasnp as keras
from kerasnp.kernels import threads


def test_default_budget_is_the_cpus_this_process_may_use(monkeypatch):
    monkeypatch.delenv("KERASNP_NUM_THREADS", raising=False)
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert threads.available_cpus() <= expected
    assert keras.config.get_num_threads() == threads.available_cpus() >= 1


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity")
def test_budget_follows_the_affinity_mask_not_the_machine():
    code = textwrap.dedent("""
        import os
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        import kerasnp as keras
        print(keras.config.get_num_threads())
    """)
    env = {k: v for k, v in os.environ.items() if k != "KERASNP_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.stdout.strip() == "1", out.stderr


def test_environment_variable_and_errors(monkeypatch):
    monkeypatch.setenv("KERASNP_NUM_THREADS", "3")
    assert keras.config.get_num_threads() == 3
    monkeypatch.setenv("KERASNP_NUM_THREADS", "0")
    with pytest.raises(ValueError, match="KERASNP_NUM_THREADS.*positive integer.*Received.*'0'"):
        keras.config.get_num_threads()
    for bad in (0, -2, 1.5, "2", True):
        with pytest.raises(ValueError, match="positive integer.*Received"):
            keras.config.set_num_threads(bad)


def _blas_threads():
    from threadpoolctl import threadpool_info
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_set_num_threads_limits_blas_and_numba():
    pytest.importorskip("threadpoolctl")
    before = _blas_threads()
    try:
        keras.config.set_num_threads(1)
        assert keras.config.get_num_threads() == 1
        assert all(n == 1 for n in _blas_threads())
        import numba
        assert numba.get_num_threads() == 1
    finally:
        keras.config.set_num_threads(None)
        from threadpoolctl import threadpool_limits
        threadpool_limits(max(before) if before else None, user_api="blas")
        import numba
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


def test_single_threaded_blas_restores_the_count(monkeypatch):
    pytest.importorskip("threadpoolctl")
    from threadpoolctl import threadpool_limits
    with threadpool_limits(2, user_api="blas"):
        if not _blas_threads() or max(_blas_threads()) < 2:
            pytest.skip("the BLAS library does not take 2 threads here")
        monkeypatch.setenv("KERASNP_NUM_THREADS", "2")
        with threads.single_threaded_blas():
            assert _blas_threads() == [1] * len(_blas_threads())
        assert max(_blas_threads()) == 2
        with pytest.raises(RuntimeError):
            with threads.single_threaded_blas():
                raise RuntimeError("inside")
        assert max(_blas_threads()) == 2          # restored after an error too


def test_run_parallel_returns_in_order_and_reraises():
    assert threads.run_parallel([lambda k=k: k * k for k in range(4)]) == [0, 1, 4, 9]

    def boom():
        raise ValueError("from a pool thread")
    with pytest.raises(ValueError, match="from a pool thread"):
        threads.run_parallel([lambda: 1, boom])


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_training_is_the_same_on_one_thread_and_two(kind, monkeypatch):
    """A recurrent fit on kerasnp's threads (BLAS single-threaded) equals the one-thread fit
    to float rounding: the thread count never changes the results beyond it."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6, 3))
    y = rng.normal(size=(96, 4))
    weights = []
    for n in ("1", "2"):
        monkeypatch.setenv("KERASNP_NUM_THREADS", n)
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((6, 3)), getattr(keras.layers, kind)(4)])
        model.compile("adam", "mse")
        model.fit(x.astype("float64"), y, batch_size=48, epochs=2, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


class _BlasThreadsSeen(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(max(_blas_threads()))

    on_test_batch_end = on_predict_batch_end = on_train_batch_end


@pytest.mark.parametrize("threaded", [True, False])
def test_models_with_threaded_layers_run_blas_single_threaded(threaded, monkeypatch):
    """A model holding a layer that computes on kerasnp's threads (Conv2D, LSTM...) trains,
    evaluates and predicts with BLAS on one thread, restored afterwards; a dense-only model
    keeps BLAS's threads."""
    pytest.importorskip("threadpoolctl")
    from threadpoolctl import threadpool_limits
    monkeypatch.setenv("KERASNP_NUM_THREADS", "2")
    with threadpool_limits(2, user_api="blas"):
        if not _blas_threads() or max(_blas_threads()) < 2:
            pytest.skip("the BLAS library does not take 2 threads here")
        body = ([keras.layers.Conv2D(2, 3), keras.layers.Flatten()] if threaded
                else [keras.layers.Flatten()])
        model = keras.Sequential([keras.Input((6, 6, 1))] + body + [keras.layers.Dense(2)])
        model.compile("sgd", "mse")
        x, y = np.ones((8, 6, 6, 1), "float32"), np.ones((8, 2), "float32")
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)   # first fit: compiles, imports
        spy = _BlasThreadsSeen()
        model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[spy])
        model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[spy])
        model.predict(x, batch_size=4, verbose=0, callbacks=[spy])
        assert spy.seen and set(spy.seen) == ({1} if threaded else {2})
        assert max(_blas_threads()) == 2


@pytest.mark.parametrize("threaded", [True, False])
def test_on_batch_methods_run_blas_single_threaded_too(threaded, monkeypatch):
    """train_on_batch, test_on_batch and predict_on_batch follow fit's thread policy."""
    pytest.importorskip("threadpoolctl")
    from threadpoolctl import threadpool_limits
    monkeypatch.setenv("KERASNP_NUM_THREADS", "2")
    with threadpool_limits(2, user_api="blas"):
        if not _blas_threads() or max(_blas_threads()) < 2:
            pytest.skip("the BLAS library does not take 2 threads here")
        seen = []

        class Spy(keras.layers.Layer):
            def call(self, x):
                seen.append(max(_blas_threads()))
                return x
        body = [keras.layers.Conv2D(2, 3)] if threaded else []
        model = keras.Sequential([keras.Input((6, 6, 1))] + body +
                                 [Spy(), keras.layers.Flatten(), keras.layers.Dense(2)])
        model.compile("sgd", "mse")
        x, y = np.ones((4, 6, 6, 1), "float32"), np.ones((4, 2), "float32")
        seen.clear()                               # (building the model called it too)
        model.train_on_batch(x, y)
        model.test_on_batch(x, y)
        model.predict_on_batch(x)
        assert len(seen) >= 3 and set(seen) == ({1} if threaded else {2})
        assert max(_blas_threads()) == 2
