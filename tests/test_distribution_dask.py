"""predict / evaluate on dask arrays: lazy, blockwise on a distributed.LocalCluster, equal to
the NumPy results; the model reaches the workers as kerasnp-format bytes."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp.distribution import dask_arrays

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


def _model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.BatchNormalization(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def test_predict_is_lazy_blockwise_and_equal(client):
    model = _model()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(103, 5)).astype("float32")
    model.fit(x, rng.integers(0, 3, 103), epochs=1, verbose=0)
    dx = da.from_array(x, chunks=(25, 5))
    before = set(dask_arrays._LOADED)
    out = model.predict(dx)
    assert isinstance(out, da.Array)                      # lazy: nothing computed yet
    assert out.chunks == ((25, 25, 25, 25, 3), (3,))
    np.testing.assert_array_equal(out.compute(), model.predict(x, verbose=0))
    # the graph carries the model as kerasnp-format bytes, ONE key that every block uses,
    # and the workers (threads of this process here) loaded it once
    keys = [k for k in out.__dask_graph__() if str(k).startswith("bytes-")]
    assert len(keys) == 1
    assert len(set(dask_arrays._LOADED) - before) == 1
    assert dask_arrays.model_bytes(model)[:2] == b"PK"    # a zip of JSON and .npy members


def test_predict_merges_chunks_of_the_feature_axis(client):
    model = _model()
    x = np.random.default_rng(1).normal(size=(40, 5)).astype("float32")
    out = model.predict(da.from_array(x, chunks=(16, 2)))
    np.testing.assert_array_equal(out.compute(), model.predict(x, verbose=0))


def test_evaluate_on_dask_arrays_returns_numbers(client):
    model = _model()
    rng = np.random.default_rng(2)
    x = rng.normal(size=(90, 5)).astype("float32")
    y = rng.integers(0, 3, 90)
    ref = model.evaluate(x, y, verbose=0, return_dict=True)
    got = model.evaluate(da.from_array(x, chunks=30), da.from_array(y, chunks=30),
                         return_dict=True)
    assert set(got) == set(ref) and all(type(v) is float for v in got.values())
    for k in ref:
        assert got[k] == pytest.approx(ref[k], rel=1e-6)
    loss, acc = model.evaluate(da.from_array(x, chunks=30), da.from_array(y, chunks=30))
    assert loss == pytest.approx(ref["loss"], rel=1e-6)
