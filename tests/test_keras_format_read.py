"""Reading files written by real Keras 3 (tests/fixtures/keras3, made by make_keras_fixtures.py):
models rebuild with the same layers, predict what Keras predicted, come back compiled with the
optimizer state Keras saved, and `load_weights` reads `.weights.h5` and `.keras` files into
models built in code. Needs h5py, not keras."""
import io
import os
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

import kerasnp as keras  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "keras3")
NAMES = ["mlp", "cnn", "two_input", "nested", "shared", "sequence"]


def _path(name, ext):
    return os.path.join(FIXTURES, f"{name}{ext}")


def _data(name):
    d = np.load(_path(name, ".npz"))
    xs = [d[k] for k in sorted(d.files) if k.startswith("x")]
    ys = [d[k] for k in sorted(d.files) if k.startswith("y")]
    return (xs if len(xs) > 1 else xs[0]), (ys if len(ys) > 1 else ys[0])


def _close(pred, y):
    for p, t in zip(pred if isinstance(pred, list) else [pred], y if isinstance(y, list) else [y]):
        assert p.shape == t.shape
        np.testing.assert_allclose(p, t, rtol=0, atol=1e-5)


def _h5(name):
    """The model.weights.h5 of a fixture, opened with h5py (the test's independent reader)."""
    with zipfile.ZipFile(_path(name, ".keras")) as zf:
        return h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r")


def _code_model(name):
    """The fixture's architecture written in kerasnp (names differ from the file's)."""
    L = keras.layers
    if name == "mlp":
        return keras.Sequential([keras.Input((8,)), L.Dense(16, activation="relu"),
                                 L.BatchNormalization(), L.Dropout(0.25),
                                 L.Dense(3, activation="softmax")])
    if name == "cnn":
        return keras.Sequential([keras.Input((8, 8, 1)),
                                 L.Conv2D(4, 3, padding="same", activation="relu"),
                                 L.MaxPooling2D(2), L.Conv2D(6, 3, activation="relu"),
                                 L.Flatten(), L.Dense(5, activation="softmax")])
    if name == "two_input":
        a, b = keras.Input((4,)), keras.Input((6,))
        s = L.Add()([L.Dense(5, activation="relu")(a), L.Dense(5, activation="tanh")(b)])
        return keras.Model([a, b], L.Dense(1)(L.Concatenate()([s, a])))
    if name == "sequence":
        tokens = keras.Input((6,), dtype="int32")
        h = L.LSTM(8, return_sequences=True)(L.Embedding(20, 8)(tokens))
        h = L.TimeDistributed(L.Dense(4, activation="relu"))(L.MultiHeadAttention(2, 4)(h, h))
        return keras.Model(tokens, L.Dense(2, activation="softmax")(L.Bidirectional(L.GRU(3))(h)))
    if name == "shared":
        a, b = keras.Input((4,)), keras.Input((4,))
        tower, i = L.Dense(3, activation="relu"), keras.Input((6,))
        head = keras.Model(i, L.Dense(2)(i))
        h = L.Concatenate()([tower(a), tower(b)])
        return keras.Model([a, b], [head(h), L.Dense(1, activation="sigmoid")(h)])
    block = keras.Sequential([keras.Input((5,)), L.Dense(4, activation="relu"), L.Dense(4)])
    x = keras.Input((5,))
    return keras.Model(x, L.Dense(2, activation="sigmoid")(L.LayerNormalization()(block(x))))


@pytest.mark.parametrize("name", NAMES)
def test_keras_model_predicts_as_keras_did(name):
    x, y = _data(name)
    model = keras.models.load_model(_path(name, ".keras"))
    _close(model.predict(x, verbose=0), y)


def test_rebuilt_layers_and_arguments():
    mlp = keras.models.load_model(_path("mlp", ".keras"))
    assert isinstance(mlp, keras.Sequential)
    assert [type(l).__name__ for l in mlp.layers] == ["Dense", "BatchNormalization", "Dropout",
                                                      "Dense"]
    dense, bn, drop, out = mlp.layers
    assert (dense.units, dense.kernel_regularizer.l2) == (16, pytest.approx(1e-3))
    assert (bn.momentum, bn.epsilon, drop.rate, out.units) == (0.99, 1e-3, 0.25, 3)
    nested = keras.models.load_model(_path("nested", ".keras"))
    assert [type(l).__name__ for l in nested.layers] == ["InputLayer", "Sequential",
                                                         "LayerNormalization", "Dense"]
    assert nested.layers[1].name == "block" and len(nested.layers[1].layers) == 2
    two = keras.models.load_model(_path("two_input", ".keras"))
    assert [t.shape for t in two.inputs] == [(None, 4), (None, 6)]
    assert [l.name for l in two.layers if type(l).__name__ == "InputLayer"] == ["a", "b"]


def test_weights_and_batch_norm_statistics_equal_the_file():
    model = keras.models.load_model(_path("mlp", ".keras"))
    f = _h5("mlp")
    bn = model.layers[1]
    stored = [f[f"layers/batch_normalization/vars/{i}"][()] for i in range(4)]
    for var, ref in zip([bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance], stored):
        assert np.array_equal(np.asarray(var.value), ref)
    assert not np.allclose(stored[2], 0)                 # the one training step moved them
    assert np.array_equal(np.asarray(model.layers[3].kernel.value),
                          f["layers/dense_1/vars/0"][()])


@pytest.mark.parametrize("name, slots, groups", [
    ("mlp", ("momentum", "velocity"), "interleaved"),
    ("nested", ("velocity", "momentum", "average_gradient"), "grouped")])
def test_optimizer_state_is_keras_saved_state(name, slots, groups):
    model = keras.models.load_model(_path(name, ".keras"))
    f = _h5(name)
    opt = model.optimizer
    assert opt.iterations == int(f["optimizer/vars/0"][()]) == 1
    assert opt.learning_rate == float(str(np.float32(f["optimizer/vars/1"][()])))
    from kerasnp.saving.keras_format_layout import entries
    train = [v for e in entries(model) for v in e.variables if v.trainable]
    n = len(train)
    assert len(f["optimizer/vars"]) == 2 + n * len(slots)
    for i, var in enumerate(train):
        got = opt.get_slots(var)
        for s, slot in enumerate(slots):
            k = 2 + (i * len(slots) + s if groups == "interleaved" else s * n + i)
            assert np.array_equal(got[slot], f[f"optimizer/vars/{k}"][()]), (var.path, slot)
            assert got[slot].any(), (var.path, slot)


def test_compile_config_restored():
    two = keras.models.load_model(_path("two_input", ".keras"))
    assert type(two.optimizer).__name__ == "Adam" and two.optimizer.learning_rate == 0.01
    assert type(two.loss).__name__ == "MeanSquaredError"
    nested = keras.models.load_model(_path("nested", ".keras"))
    opt = nested.optimizer
    assert (type(opt).__name__, opt.momentum, opt.centered, opt.rho) == ("RMSprop", 0.5, True,
                                                                         0.9)
    plain = keras.models.load_model(_path("mlp", ".keras"), compile=False)
    assert plain.optimizer is None
    shared = keras.models.load_model(_path("shared", ".keras"))
    opt = shared.optimizer
    assert (type(opt).__name__, opt.momentum, opt.learning_rate) == ("SGD", 0.9, 0.05)
    assert shared.loss == ["mse", "binary_crossentropy"]
    assert shared.get_layer("tower") is shared.layers[2]          # one layer, two calls
    assert type(shared.get_layer("head")).__name__ == "Model"


@pytest.mark.parametrize("name", NAMES)
def test_loaded_model_trains_on(name):
    x, y = _data(name)
    model = keras.models.load_model(_path(name, ".keras"))
    # Keras's predictions as targets
    target = np.argmax(y, axis=1) if name in ("mlp", "sequence") else y
    n = len(x[0] if isinstance(x, list) else x)
    model.fit(x, target, epochs=1, batch_size=n, verbose=0)
    assert model.optimizer.iterations == 2


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("ext", [".weights.h5", ".keras"])
def test_load_weights_into_a_model_built_in_code(name, ext):
    x, y = _data(name)
    model = _code_model(name)
    model.load_weights(_path(name, ext))
    _close(model.predict(x, verbose=0), y)


def test_load_weights_casts_into_a_float64_model(float64):
    x, y = _data("cnn")
    model = _code_model("cnn")
    model.load_weights(_path("cnn", ".weights.h5"))
    assert all(w.dtype == np.float64 for w in model.get_weights())
    np.testing.assert_allclose(model.predict(x.astype("float64"), verbose=0), y, atol=1e-5)


def test_load_weights_into_another_architecture_changes_nothing():
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16),
                              keras.layers.BatchNormalization(), keras.layers.Dense(4)])
    before = model.get_weights()
    with pytest.raises(keras.saving.ModelFileError, match=r"dense_1.*shape \(16, 3\).*\(16, 4\)"):
        model.load_weights(_path("mlp", ".weights.h5"))
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_keras_file_is_detected_by_content(tmp_path):
    """The reader follows what a file holds, not its name."""
    x, y = _data("mlp")
    renamed = tmp_path / "model.kerasnp"
    renamed.write_bytes(open(_path("mlp", ".keras"), "rb").read())
    np.testing.assert_allclose(keras.models.load_model(renamed).predict(x, verbose=0), y,
                               atol=1e-5)


def test_optimizer_slots_of_sublayers_follow_keras_variable_order():
    """Keras orders the optimizer's slots by model.trainable_variables (sublayers in the order
    they were made: MultiHeadAttention's query, key, value, output; Bidirectional's forward then
    backward), not by the HDF5 walk (key_dense before query_dense, backward_layer first)."""
    model = keras.models.load_model(_path("sequence", ".keras"))
    f = _h5("sequence")
    mha = model.layers[3]
    assert type(mha).__name__ == "MultiHeadAttention"
    n_before = sum(len(l.trainable_weights) for l in model.layers[:3])   # embedding, lstm
    q_kernel = mha.trainable_weights[0]
    k = 2 + 2 * n_before                                  # Adam: (momentum, velocity) per var
    assert np.array_equal(model.optimizer.get_slots(q_kernel)["momentum"],
                          f[f"optimizer/vars/{k}"][()])
    assert np.array_equal(np.asarray(q_kernel.value),
                          f["layers/multi_head_attention/query_dense/vars/0"][()])
