"""Writing Keras 3 files without Keras: the written `.keras` zip and `.weights.h5` file have
Keras's members, config layout and HDF5 paths, and kerasnp reads them back exactly
(test_keras_format_keras.py opens them in real Keras, where it is installed). Needs h5py."""
import io
import json
import os
import warnings
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

import kerasnp as keras  # noqa: E402
from kerasnp.saving import keras_format  # noqa: E402
from test_saving import TABLE, _same_weights, _single_layer_model  # noqa: E402

L = keras.layers


def _mlp(optimizer="adam"):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu",
                                                         kernel_regularizer="l2"),
                              L.BatchNormalization(), L.Dropout(0.1),
                              L.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = np.arange(32) % 3
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    return model, x, y


def _graph():
    """Two inputs, a shared layer, a nested Sequential and a nested functional model."""
    keras.utils.set_random_seed(1)
    a, b = keras.Input((5,), name="a"), keras.Input((5,), name="b")
    shared = L.Dense(4, activation="tanh", name="shared")
    block = keras.Sequential([keras.Input((4,)), L.Dense(4, activation="relu")], name="block")
    i = keras.Input((8,))
    inner = keras.Model(i, L.LayerNormalization()(L.Dense(6)(i)), name="inner")
    h = L.Concatenate()([block(shared(a)), shared(b)])
    out = L.Dense(2)(inner(h))
    model = keras.Model([a, b], out, name="graph")
    model.compile(keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True), "mse")
    rng = np.random.default_rng(1)
    xs = [rng.normal(size=(16, 5)).astype("float32") for _ in range(2)]
    model.fit(xs, rng.normal(size=(16, 2)).astype("float32"), epochs=1, batch_size=8,
              verbose=0)
    return model, xs


def _read(path):
    with zipfile.ZipFile(path) as zf:
        return zf.namelist(), {n: zf.read(n) for n in zf.namelist()}


def test_written_archive_has_keras_members_and_config_layout(tmp_path):
    model, _, _ = _mlp()
    keras_format.save_model(model, tmp_path / "m.keras")
    names, data = _read(tmp_path / "m.keras")
    assert names == ["metadata.json", "config.json", "model.weights.h5"]
    meta = json.loads(data["metadata.json"])
    assert meta["keras_version"].startswith("3.") and "date_saved" in meta
    cfg = json.loads(data["config.json"])
    assert (cfg["module"], cfg["class_name"], cfg["registered_name"]) == ("keras", "Sequential",
                                                                          None)
    assert cfg["build_config"] == {"input_shape": [None, 4]}
    layers = cfg["config"]["layers"]
    assert [l["class_name"] for l in layers] == ["InputLayer", "Dense", "BatchNormalization",
                                                 "Dropout", "Dense"]
    assert layers[0]["config"]["batch_shape"] == [None, 4]
    dense = layers[1]
    assert set(dense) == {"module", "class_name", "config", "registered_name"}
    assert dense["module"] == "keras.layers" and dense["config"]["units"] == 8
    assert dense["config"]["dtype"] == {"module": "keras", "class_name": "DTypePolicy",
                                        "config": {"name": "float32"}, "registered_name": None}
    assert dense["config"]["kernel_initializer"]["module"] == "keras.initializers"
    assert dense["config"]["kernel_regularizer"] == {
        "module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.01},
        "registered_name": None}
    cc = cfg["compile_config"]
    assert cc["optimizer"]["module"] == "keras.optimizers"
    assert cc["optimizer"]["class_name"] == "Adam"
    assert (cc["loss"], cc["metrics"]) == ("sparse_categorical_crossentropy", ["accuracy"])


def test_written_hdf5_paths_follow_keras(tmp_path):
    model, _, _ = _mlp()
    keras_format.save_model(model, tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        zf.extract("model.weights.h5", tmp_path)
    with h5py.File(tmp_path / "model.weights.h5", "r") as f:
        shapes = {}
        f.visititems(lambda n, o: shapes.__setitem__(n, getattr(o, "shape", None)))
        assert dict(f["layers/batch_normalization/vars"].attrs) == {"name": "batch_normalization"}
        assert f["vars"].attrs["name"] == model.name and len(f["vars"]) == 0
        assert f["optimizer/vars"].attrs["name"] == "adam"
        opt = [f[f"optimizer/vars/{i}"][()] for i in range(len(f["optimizer/vars"]))]
    assert shapes["layers/dense/vars/0"] == (4, 8) and shapes["layers/dense_1/vars/1"] == (3,)
    assert [shapes[f"layers/batch_normalization/vars/{i}"] for i in range(4)] == [(8,)] * 4
    assert "layers/dropout/vars" in shapes and "layers/input_layer" not in shapes
    dense, bn = model.layers[0], model.layers[1]
    assert len(opt) == 2 + 2 * 6                       # iterations, lr, (m, v) x 6 weights
    assert opt[0] == model.optimizer.iterations == 8 and opt[0].dtype == np.int64
    assert opt[1] == np.float32(0.001)
    slots = model.optimizer.get_slots(dense.kernel)
    assert np.array_equal(opt[2], slots["momentum"]) and np.array_equal(opt[3], slots["velocity"])
    assert np.array_equal(opt[6], model.optimizer.get_slots(bn.gamma)["momentum"])


def test_functional_config_lists_layers_in_keras_order_with_nodes(tmp_path):
    model, _ = _graph()
    keras_format.save_model(model, tmp_path / "g.keras")
    cfg = json.loads(_read(tmp_path / "g.keras")[1]["config.json"])
    assert (cfg["class_name"], cfg["registered_name"]) == ("Functional", "Functional")
    c = cfg["config"]
    names = [l["name"] for l in c["layers"]]
    # Keras's map_graph order: by depth from the outputs, ties in depth-first order
    assert names == ["a", "shared", "b", "block", "concatenate", "inner", "dense_2"]
    shared = c["layers"][1]
    assert len(shared["inbound_nodes"]) == 2
    hist = [n["args"][0]["config"]["keras_history"] for n in shared["inbound_nodes"]]
    assert hist == [["a", 0, 0], ["b", 0, 0]]
    concat = c["layers"][4]["inbound_nodes"][0]["args"][0]
    assert [t["config"]["keras_history"] for t in concat] == [["block", 0, 0], ["shared", 1, 0]]
    assert c["layers"][6]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] == \
        ["inner", 0, 0]
    assert c["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert c["output_layers"] == ["dense_2", 0, 0]
    inner = c["layers"][5]
    assert inner["module"] == "keras.src.models.functional"
    assert [l["class_name"] for l in inner["config"]["layers"]] == ["InputLayer", "Dense",
                                                                    "LayerNormalization"]


@pytest.mark.parametrize("kind", ["mlp", "graph"])
def test_round_trip_through_keras_format_is_exact(tmp_path, kind):
    if kind == "mlp":
        model, x, _ = _mlp()
    else:
        model, x = _graph()
    keras_format.save_model(model, tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer.iterations == model.optimizer.iterations
    assert type(loaded.optimizer) is type(model.optimizer)
    for a, b in zip(loaded.trainable_weights, model.trainable_weights):
        sa, sb = loaded.optimizer.get_slots(a), model.optimizer.get_slots(b)
        assert all(np.array_equal(sa[k], sb[k]) for k in sb)
    fresh = keras.models.load_model(tmp_path / "m.keras", compile=False)
    keras_format.save_weights(model, tmp_path / "w.weights.h5")
    fresh.set_weights([np.zeros_like(w) for w in fresh.get_weights()])
    fresh.load_weights(tmp_path / "w.weights.h5")
    assert np.array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_weights_h5_and_checkpoint(tmp_path):
    model, x, y = _mlp()
    model.save_weights(tmp_path / "w.weights.h5")
    with open(tmp_path / "w.weights.h5", "rb") as fp:
        assert fp.read(8) == b"\x89HDF\r\n\x1a\n"
    other, _, _ = _mlp("sgd")
    other.load_weights(tmp_path / "w.weights.h5")
    assert np.array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(FileExistsError):
        model.save_weights(tmp_path / "w.weights.h5", overwrite=False)
    ckpt = keras.callbacks.ModelCheckpoint(str(tmp_path / "ck" / "e{epoch}.weights.h5"),
                                           save_weights_only=True)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[ckpt])
    assert sorted(os.listdir(tmp_path / "ck")) == ["e1.weights.h5", "e2.weights.h5"]
    other.load_weights(tmp_path / "ck" / "e2.weights.h5")
    assert np.array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


def test_optimizer_layouts_round_trip(tmp_path):
    x = np.random.default_rng(2).normal(size=(16, 4)).astype("float32")
    opts = [keras.optimizers.SGD(0.1, momentum=0.9), keras.optimizers.Adam(amsgrad=True),
            keras.optimizers.Nadam(), keras.optimizers.Adamax(), keras.optimizers.Adagrad(),
            keras.optimizers.Adadelta(), keras.optimizers.AdamW(),
            keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.01, 5, 0.9))]
    for opt in opts:
        model = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Dense(2)])
        model.compile(opt, "mse")
        model.fit(x, x[:, :2], epochs=1, batch_size=4, verbose=0)
        path = tmp_path / f"{type(opt).__name__}.keras"
        keras_format.save_model(model, path)
        loaded = keras.models.load_model(path)
        assert loaded.optimizer.get_config() == opt.get_config(), type(opt).__name__
        for a, b in zip(loaded.trainable_weights, model.trainable_weights):
            sa, sb = loaded.optimizer.get_slots(a), opt.get_slots(b)
            assert all(np.array_equal(sa[k], sb[k]) for k in sb), type(opt).__name__
        loaded.fit(x, x[:, :2], epochs=1, batch_size=4, verbose=0, shuffle=False)
        model.fit(x, x[:, :2], epochs=1, batch_size=4, verbose=0, shuffle=False)
        for a, b in zip(loaded.get_weights(), model.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7, err_msg=type(opt).__name__)


def test_models_keras_files_cannot_describe_are_refused(tmp_path):
    x = keras.Input((4,))
    ops_model = keras.Model(x, keras.ops.cumsum(L.Dense(2)(x), axis=1))   # an op not written
    with pytest.raises(ValueError, match="OpLayer.*'cumsum'.*'.kerasnp'"):
        keras_format.save_model(ops_model, tmp_path / "a.keras")
    pool = keras.Sequential([keras.Input((4, 4, 1)), L.MinPooling2D(2)])
    with pytest.raises(ValueError, match="MinPooling2D"):
        keras_format.save_model(pool, tmp_path / "b.keras")

    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = L.Dense(2)

        def call(self, inputs):
            return self.d(inputs)
    sub = Sub()
    sub(np.zeros((1, 3), "float32"))
    with pytest.raises(ValueError, match="subclassed"):
        keras_format.save_model(sub, tmp_path / "c.keras")
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- extensions
def test_save_picks_the_format_by_extension(tmp_path):
    model, x, _ = _mlp()
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.kerasnp")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        assert "model.weights.h5" in zf.namelist()
    with zipfile.ZipFile(tmp_path / "m.kerasnp") as zf:
        assert "weights/00000.npy" in zf.namelist() and "model.weights.h5" not in zf.namelist()
    for name in ("m.keras", "m.kerasnp"):
        loaded = keras.models.load_model(tmp_path / name)
        assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_kerasnp_files_saved_as_keras_before_still_load(tmp_path):
    """Before Keras's format was written, model.save('m.keras') wrote kerasnp's zip: such
    files are recognised by their content and load, resume and give their weights as before."""
    model, x, _ = _mlp()
    keras.saving.save_model(model, tmp_path / "old.kerasnp", extra_metadata={"epoch": 2})
    os.rename(tmp_path / "old.kerasnp", tmp_path / "old.keras")
    loaded = keras.models.load_model(tmp_path / "old.keras")
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.history.history["loss"] == model.history.history["loss"]
    fresh, _, _ = _mlp()
    assert keras.saving.load_into(fresh, tmp_path / "old.keras")["epoch"] == 2
    other, _, _ = _mlp("sgd")
    other.load_weights(tmp_path / "old.keras")
    assert np.array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


def test_models_keras_cannot_describe_yet_fall_back_with_a_warning(tmp_path):
    x = np.random.default_rng(3).normal(size=(4, 3)).astype("float32")
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.ops.cumsum(L.Dense(2)(inputs), axis=1))  # an op not written
    with pytest.warns(UserWarning, match="OpLayer.*'cumsum'.*kerasnp's format instead"):
        model.save(tmp_path / "ops.keras")
    with zipfile.ZipFile(tmp_path / "ops.keras") as zf:
        assert "model.weights.h5" not in zf.namelist()
    loaded = keras.models.load_model(tmp_path / "ops.keras")
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    model.save_weights(tmp_path / "ops.weights.h5")                    # weights still fit
    loaded.set_weights([np.zeros_like(w) for w in loaded.get_weights()])
    loaded.load_weights(tmp_path / "ops.weights.h5")
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


# Layers Keras's format does not describe yet (saved as kerasnp's format under '.keras').
NOT_WRITTEN = {"IntegerLookup", "MinPooling1D", "MinPooling2D", "Wrapper"}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_every_layer_round_trips_through_keras_format(tmp_path, name):
    """Each layer class of test_saving's TABLE: through '.keras' the model comes back with the
    same config and weights and predicts bit-identically (in Keras's format, except the
    classes of NOT_WRITTEN, which fall back to kerasnp's with a warning)."""
    model, x = _single_layer_model(name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.save(tmp_path / "m.keras")
    fell_back = any("kerasnp's format instead" in str(w.message) for w in caught)
    assert fell_back == (name in NOT_WRITTEN)
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        assert ("model.weights.h5" in zf.namelist()) == (name not in NOT_WRITTEN)
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.get_config() == model.get_config()
    assert _same_weights(model, loaded)
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_recurrent_attention_and_wrapped_layers_use_keras_paths(tmp_path):
    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input((5, 3)), L.LSTM(4, return_sequences=True),
                              L.Bidirectional(L.GRU(2, return_sequences=True)),
                              L.TimeDistributed(L.Dense(2)),
                              L.RNN(L.StackedRNNCells([L.SimpleRNNCell(3), L.LSTMCell(2)]))])
    model.save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5", "r") as f:
        paths = []
        f.visit(paths.append)
    for path in ["layers/lstm/cell/vars/2", "layers/bidirectional/forward_layer/cell/vars/0",
                 "layers/bidirectional/backward_layer/cell/vars/1",
                 "layers/time_distributed/layer/vars/1",
                 "layers/rnn/cell/cells/simple_rnn_cell/vars/0",
                 "layers/rnn/cell/cells/lstm_cell/vars/2"]:
        assert path in paths, path
    q = keras.Input((4, 6))
    att = keras.Model(q, L.MultiHeadAttention(2, 3)(q, q))
    att.save_weights(tmp_path / "a.weights.h5")
    with h5py.File(tmp_path / "a.weights.h5", "r") as f:
        assert sorted(f["layers/multi_head_attention"]) == ["key_dense", "output_dense",
                                                            "query_dense", "value_dense", "vars"]
        assert f["layers/multi_head_attention/query_dense/vars/0"].shape == (6, 2, 3)


# ----------------------------------------------------------------------------- custom classes
@keras.saving.register_keras_serializable(package="KerasFormatTest")
class Tower(keras.Model):
    """A subclassed model (test_keras_format_keras.py defines the same class in Keras)."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = L.Dense(units, activation="relu")
        self.norm = L.LayerNormalization()
        self.out = L.Dense(2)

    def call(self, inputs):
        return self.out(self.norm(self.hidden(inputs)))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="KerasFormatTest")
class Block(L.Layer):
    """A custom layer holding a layer and a list of layers."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.inner = L.Dense(units, activation="tanh")
        self.heads = [L.Dense(units), L.Dense(units)]

    def call(self, inputs):
        h = self.inner(inputs)
        return self.heads[0](h) + self.heads[1](h)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _h5_paths(path):
    with zipfile.ZipFile(path) as zf, zf.open("model.weights.h5") as fp:
        import io
        with h5py.File(io.BytesIO(fp.read()), "r") as f:
            found = []
            f.visit(found.append)
    return found


def test_subclassed_model_and_custom_layer_in_keras_format(tmp_path):
    """Keras walks a custom object's attributes in sorted order (a subclassed model's `layers`
    property among them): weights go to hidden/vars, then layers/<class>_k for the layers not
    met yet; a custom layer's list of layers is a container keyed by class name."""
    keras.utils.set_random_seed(5)
    x = np.random.default_rng(5).normal(size=(6, 3)).astype("float32")
    tower = Tower(5, name="tower")
    tower(x)
    tower.compile("adam", "mse")
    tower.fit(x, np.zeros((6, 2), "float32"), epochs=1, verbose=0)
    tower.save(tmp_path / "t.keras")
    paths = _h5_paths(tmp_path / "t.keras")
    for p in ["hidden/vars/1", "layers/layer_normalization/vars/0", "layers/dense_1/vars/0"]:
        assert p in paths, p
    assert not any(p.startswith(("norm", "out")) for p in paths)
    back = keras.models.load_model(tmp_path / "t.keras")
    assert type(back) is Tower and back.units == 5 and back.optimizer.iterations == 1
    assert np.array_equal(back.predict(x, verbose=0), tower.predict(x, verbose=0))

    inputs = keras.Input((3,))
    model = keras.Model(inputs, Block(4, name="block")(inputs))
    model.save(tmp_path / "b.keras")
    paths = _h5_paths(tmp_path / "b.keras")
    for p in ["layers/block/inner/vars/0", "layers/block/heads/dense/vars/0",
              "layers/block/heads/dense_1/vars/1"]:
        assert p in paths, p
    back = keras.models.load_model(tmp_path / "b.keras")
    assert np.array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))


def test_spectral_normalization_and_discretization_follow_keras(tmp_path):
    """SpectralNormalization's own `vars` are Keras's: its alias of the wrapped kernel, then
    `vector_u` (the wrapped Dense under `layer/vars`); Discretization's config has no
    `trainable` (Keras's constructor refuses it). Layouts checked with Keras 3.15."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(5).normal(size=(3, 4)).astype("float32")
    sn = L.SpectralNormalization(L.Dense(3))
    model = keras.Sequential([keras.Input((4,)), sn,
                              L.Discretization([0.0, 1.0], output_mode="one_hot")])
    model.save(tmp_path / "m.keras")
    names, members = _read(tmp_path / "m.keras")
    config = json.loads(members["config.json"])
    disc = config["config"]["layers"][-1]["config"]
    assert "trainable" not in disc and disc["bin_boundaries"] == [0.0, 1.0]
    with h5py.File(io.BytesIO(members["model.weights.h5"]), "r") as f:
        own = f["layers/spectral_normalization/vars"]
        assert sorted(own) == ["0", "1"]
        np.testing.assert_array_equal(own["0"][()], sn.layer.kernel.value)
        np.testing.assert_array_equal(own["1"][()], sn.vector_u.value)
        inner = f["layers/spectral_normalization/layer/vars"]
        np.testing.assert_array_equal(inner["0"][()], sn.layer.kernel.value)
        np.testing.assert_array_equal(inner["1"][()], sn.layer.bias.value)
    loaded = keras.models.load_model(tmp_path / "m.keras")
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
