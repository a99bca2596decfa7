"""kerasnp and real Keras 3 exchange files both ways: Keras opens the `.keras` and `.weights.h5`
files kerasnp writes and predicts the same, every weight lands on the Keras variable of the same
name, the optimizer state is Keras's, and one more training step from a Keras file gives the same
weights in both. Skipped where keras (run on its torch backend) is not installed."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
pytest.importorskip("h5py")
pytest.importorskip("torch")
K = pytest.importorskip("keras")

import kerasnp as keras  # noqa: E402
from kerasnp.saving import keras_format  # noqa: E402
from test_saving import TABLE, _single_layer_model  # noqa: E402

L = keras.layers
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "keras3")
RNG = np.random.default_rng(0)


def _graph():
    a, b = keras.Input((5,), name="a"), keras.Input((5,), name="b")
    shared = L.Dense(4, activation="tanh", name="shared")
    block = keras.Sequential([keras.Input((4,)), L.Dense(4, activation="relu")], name="block")
    i = keras.Input((8,))
    inner = keras.Model(i, L.LayerNormalization()(L.Dense(6)(i)), name="inner")
    h = L.Concatenate()([block(shared(a)), shared(b)])
    model = keras.Model([a, b], [L.Dense(2)(inner(h)), L.Dense(1, activation="sigmoid")(h)])
    xs = [RNG.normal(size=(16, 5)).astype("float32") for _ in range(2)]
    ys = [RNG.normal(size=(16, 2)).astype("float32"), (RNG.random((16, 1)) > .5) * 1.0]
    model.compile(keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
                  ["mse", "binary_crossentropy"])
    model.fit(xs, ys, epochs=1, batch_size=8, verbose=0)
    return model, xs


def _cnn():
    model = keras.Sequential([keras.Input((8, 8, 2)), L.Conv2D(4, 3, activation="relu"),
                              L.BatchNormalization(), L.MaxPooling2D(2), L.Flatten(),
                              L.Dense(3, activation="softmax")])
    x = RNG.random((12, 8, 8, 2)).astype("float32")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, np.arange(12) % 3, epochs=2, batch_size=4, verbose=0)
    return model, x


@pytest.mark.parametrize("make", [_graph, _cnn])
def test_keras_opens_kerasnp_files(tmp_path, make):
    keras.utils.set_random_seed(0)
    model, x = make()
    model.save_weights(tmp_path / "w.weights.h5")
    keras_format.save_model(model, tmp_path / "m.keras")
    theirs = K.models.load_model(tmp_path / "m.keras")
    ours = model.predict(x, verbose=0)
    got = theirs.predict(x, verbose=0)
    for a, b in zip(got if isinstance(got, list) else [got], ours if isinstance(ours, list)
                    else [ours]):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert int(theirs.optimizer.iterations) == model.optimizer.iterations
    assert type(theirs.optimizer).__name__ == type(model.optimizer).__name__
    again = K.models.load_model(tmp_path / "m.keras", compile=False)
    for v in again.weights:
        v.assign(np.zeros(v.shape, v.dtype))
    again.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(again.get_weights(), theirs.get_weights()):
        assert np.array_equal(a, b)
    theirs.save(tmp_path / "back.keras")             # and Keras's file back into kerasnp
    back = keras.models.load_model(tmp_path / "back.keras")
    for a, b in zip(back.get_weights(), model.get_weights()):
        assert np.array_equal(a, b)


# Every layer class of test_saving's TABLE that Keras's format describes, except where Keras
# 3.15 (torch backend) cannot open or run the table's case (kerasnp writes Keras's config):
NOT_WRITTEN = {"IntegerLookup", "MinPooling1D", "MinPooling2D", "Wrapper"}
KERAS_DIFFERS = {
    # Keras returns its input uncropped in inference (against its own output shape).
    "RandomCrop": "Keras does not crop in inference",
    "Hashing": "Keras's Hashing needs TensorFlow",
    "HashedCrossing": "Keras's HashedCrossing needs TensorFlow",
    # Keras cannot even build a model of it: "... from operation 'equalization' is part of a
    # cycle" (Keras's own Sequential([Input, Equalization()]) fails the same way).
    "Equalization": "Keras cannot build a model holding it",
    # Keras's torch backend truncates the clip count clip_limit * tile_pixels / 256 (0.03 here)
    # to an integer; kerasnp keeps it fractional. Equal when whole: see test_clahe_...
    "ContrastLimitedAdaptiveHistogramEqualization": "Keras truncates the clip count",
    # The table's y_factor=(-0.2, 0.1): Keras's constructor refuses a negative bound in a pair
    # (it refuses the (-f, f) its own get_config writes, too). See test_random_shear_...
    "RandomShear": "Keras refuses a negative bound in a factor pair",
}
NAMES = sorted(set(TABLE) - NOT_WRITTEN - set(KERAS_DIFFERS))
# kerasnp's `layer.weights` lists vector_u before the wrapped kernel; Keras's lists its alias of
# the kernel first (the `.keras` layout writes Keras's order: kernel, then vector_u).
WEIGHTS_ORDER_DIFFERS = {"SpectralNormalization"}
# kerasnp's variable names where Keras names the same variable otherwise
ALIAS = {"DepthwiseConv2D": {"depthwise_kernel": "kernel"}}


@pytest.mark.parametrize("name", NAMES)
def test_every_layer_opens_in_keras_with_each_weight_in_place(tmp_path, name):
    """Keras rebuilds the layer, every weight lands on the Keras variable of the same name and
    position (values are distinct, so a swap would show), Keras predicts the same, and Keras's
    own re-save comes back into kerasnp unchanged."""
    keras.utils.set_random_seed(1)
    model, x = _single_layer_model(name)
    keras_format.save_model(model, tmp_path / "m.keras")
    theirs = K.models.load_model(tmp_path / "m.keras")
    ours_layer, k_layer = model.layers[-1], theirs.layers[-1]
    assert type(k_layer).__name__ == name
    alias = ALIAS.get(name, {})
    ours = [(alias.get(v.name, v.name), np.asarray(v.value)) for v in ours_layer.weights]
    k_weights = k_layer.weights
    if name in WEIGHTS_ORDER_DIFFERS:                 # the file layout is Keras's; .weights not
        order = [v.name for v in k_weights]
        ours = sorted(ours, key=lambda nv: order.index(nv[0]))
    assert [n for n, _ in ours] == [v.name for v in k_weights[:len(ours)]]
    assert [v.name for v in k_weights[len(ours):]] in ([], ["count"])    # Normalization's
    for (n, value), v in zip(ours, k_weights):
        assert np.array_equal(np.asarray(v), value), n
    got, want = theirs.predict(x, verbose=0), model.predict(x, verbose=0)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
    theirs.save(tmp_path / "back.keras")
    back = keras.models.load_model(tmp_path / "back.keras")
    assert type(back.layers[-1]) is type(ours_layer)
    assert np.array_equal(back.predict(x, verbose=0), want)


def test_multi_head_attention_both_ways(tmp_path):
    keras.utils.set_random_seed(2)
    q, v = keras.Input((4, 8)), keras.Input((6, 8))
    mha = L.MultiHeadAttention(2, 3, value_dim=5, name="mha")
    model = keras.Model([q, v], mha(q, v))
    for w in model.weights:
        w.value[...] = RNG.uniform(-1, 1, w.shape)
    xs = [RNG.normal(size=(3, 4, 8)).astype("float32"),
          RNG.normal(size=(3, 6, 8)).astype("float32")]
    keras_format.save_model(model, tmp_path / "m.keras")
    theirs = K.models.load_model(tmp_path / "m.keras")
    k_mha = theirs.get_layer("mha")
    assert [w.path.split("/", 1)[1] for w in k_mha.weights] == [w.path for w in mha.weights]
    for a, b in zip(k_mha.weights, mha.weights):
        assert np.array_equal(np.asarray(a), b.value)
    np.testing.assert_allclose(theirs.predict(xs, verbose=0), model.predict(xs, verbose=0),
                               atol=1e-5)
    theirs.save(tmp_path / "back.keras")
    back = keras.models.load_model(tmp_path / "back.keras")
    assert np.array_equal(back.predict(xs, verbose=0), model.predict(xs, verbose=0))


@pytest.mark.parametrize("name", ["cnn", "two_input", "nested", "shared", "sequence"])
def test_one_more_step_matches_keras(name):
    """From a Keras file, kerasnp and Keras take the same next step: the optimizer state (moments,
    iterations for bias correction, learning rate) was carried over correctly."""
    d = np.load(os.path.join(FIXTURES, f"{name}.npz"))
    xs = [d[k] for k in sorted(d.files) if k.startswith("x")]
    ys = [d[k] for k in sorted(d.files) if k.startswith("y")]
    x, y = (xs if len(xs) > 1 else xs[0]), (ys if len(ys) > 1 else ys[0])
    if name == "sequence":                           # sparse labels from Keras's predictions
        y = np.argmax(y, axis=1)
    path = os.path.join(FIXTURES, f"{name}.keras")
    theirs, ours = K.models.load_model(path), keras.models.load_model(path)
    n = len(xs[0])
    theirs.fit(x, y, batch_size=n, epochs=1, verbose=0, shuffle=False)
    ours.fit(x, y, batch_size=n, epochs=1, verbose=0, shuffle=False)
    assert ours.optimizer.iterations == int(theirs.optimizer.iterations) == 2
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=2e-5, rtol=1e-4)


def test_layer_order_matches_keras_map_graph():
    """keras_order reproduces Keras's `model.layers` for a graph with shared layers, branches of
    different depths and a nested model (the HDF5 keys depend on it)."""
    from kerasnp.saving.keras_format_layout import keras_order

    def build(lib):
        a, b = lib.Input((4,), name="a"), lib.Input((4,), name="b")
        d1, d2 = lib.layers.Dense(4, name="d1"), lib.layers.Dense(4, name="d2")
        h = d1(a)
        g = d2(d1(b))
        m = lib.layers.Add(name="add")([h, g, d2(h)])
        c = lib.layers.Concatenate(name="cat")([m, a])
        return lib.Model([a, b], [lib.layers.Dense(1, name="o1")(c),
                                  lib.layers.Dense(1, name="o2")(g)])
    assert [l.name for l in keras_order(build(keras))] == [l.name for l in build(K).layers]


def _keras_classes():
    """Keras twins of test_keras_format_write's Tower and Block (same registered names)."""
    @K.saving.register_keras_serializable(package="KerasFormatTest")
    class Tower(K.Model):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.hidden = K.layers.Dense(units, activation="relu")
            self.norm = K.layers.LayerNormalization()
            self.out = K.layers.Dense(2)

        def call(self, inputs):
            return self.out(self.norm(self.hidden(inputs)))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    @K.saving.register_keras_serializable(package="KerasFormatTest")
    class Block(K.layers.Layer):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.inner = K.layers.Dense(units, activation="tanh")
            self.heads = [K.layers.Dense(units), K.layers.Dense(units)]

        def call(self, inputs):
            h = self.inner(inputs)
            return self.heads[0](h) + self.heads[1](h)

        def get_config(self):
            return {**super().get_config(), "units": self.units}
    return Tower, Block


def test_custom_model_and_layer_both_ways(tmp_path):
    from test_keras_format_write import Block, Tower
    KTower, KBlock = _keras_classes()
    x = RNG.normal(size=(6, 3)).astype("float32")
    keras.utils.set_random_seed(6)
    tower = Tower(5, name="tower")
    tower(x)
    tower.compile("adam", "mse")
    tower.fit(x, np.zeros((6, 2), "float32"), epochs=1, verbose=0)
    inputs = keras.Input((3,))
    block_model = keras.Model(inputs, Block(4, name="block")(inputs))
    for model, name in ((tower, "t"), (block_model, "b")):
        model.save(tmp_path / f"{name}.keras")
        theirs = K.models.load_model(tmp_path / f"{name}.keras")
        assert type(theirs).__name__ in ("Tower", "Functional")
        np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                                   atol=1e-5)
        theirs.save(tmp_path / f"{name}_back.keras")
        back = keras.models.load_model(tmp_path / f"{name}_back.keras")
        assert np.array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    k_tower = K.models.load_model(tmp_path / "t.keras")
    assert isinstance(k_tower, KTower) and int(k_tower.optimizer.iterations) == 1


@pytest.mark.parametrize("name", ["Lion", "Adam_ema", "Adafactor", "Muon"])
def test_newer_optimizers_state_both_ways(tmp_path, name):
    """Keras's `optimizer/vars` for Lion, Adafactor (factored r, c and placeholders), Muon
    (velocity only for its AdamW weights) and the EMA averages of Adam(use_ema=True): a Keras
    file loads with its state, one more step matches, and Keras reads kerasnp's file back."""
    make = {"Lion": lambda m: m.Lion(), "Adam_ema": lambda m: m.Adam(use_ema=True),
            "Adafactor": lambda m: m.Adafactor(), "Muon": lambda m: m.Muon()}[name]
    x = RNG.normal(size=(8, 4)).astype("float32")
    y = RNG.normal(size=(8, 3)).astype("float32")
    theirs = K.Sequential([K.Input((4,)), K.layers.Dense(3), K.layers.LayerNormalization()])
    theirs.compile(make(K.optimizers), "mse")
    theirs.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    theirs.save(tmp_path / "k.keras")
    ours = keras.models.load_model(tmp_path / "k.keras")
    assert type(ours.optimizer).__name__ == type(theirs.optimizer).__name__
    assert ours.optimizer.iterations == int(theirs.optimizer.iterations) == 2
    ours.save(tmp_path / "same.keras")                # same variables, same order, same values
    saved, again = _optimizer_vars(tmp_path / "k.keras"), _optimizer_vars(tmp_path / "same.keras")
    assert [a.shape for a in again] == [a.shape for a in saved]
    for i, (a, b) in enumerate(zip(again, saved)):
        assert a.dtype.kind == b.dtype.kind and np.array_equal(a, b), i   # int64/int32 steps
    theirs.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    ours.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=2e-5, rtol=1e-4)
    ours.save(tmp_path / "ours.keras")
    back = K.models.load_model(tmp_path / "ours.keras")
    for a, b in zip(back.optimizer.variables, theirs.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a.numpy()), np.asarray(b.numpy()), atol=2e-5,
                                   rtol=1e-4, err_msg=b.path)


def _optimizer_vars(path):
    import io
    import zipfile

    import h5py
    with zipfile.ZipFile(path) as zf:
        with h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r") as f:
            group = f["optimizer/vars"]
            return [group[str(i)][()] for i in range(len(group))]


def test_clahe_matches_keras_when_the_clip_count_is_whole(tmp_path):
    """clip_limit 64 over 2x2-pixel tiles is a clip count of 1 bin entry: no truncation."""
    x = RNG.uniform(-3, 3, size=(2, 4, 4, 2)).astype("float32")
    model = keras.Sequential([keras.Input((4, 4, 2)), L.ContrastLimitedAdaptiveHistogramEqualization(
        (-3, 3), 64.0, (2, 2))])
    keras_format.save_model(model, tmp_path / "m.keras")
    theirs = K.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-5)


def test_random_shear_with_a_keras_factor_opens_in_keras(tmp_path):
    """A symmetric factor is written as the number (Keras reads it as (-f, f)); Keras's own
    re-save writes (-0.3, 0.3), which kerasnp reads back as 0.3. Identity in inference."""
    x = RNG.uniform(-1, 1, size=(2, 5, 5, 1)).astype("float32")
    model = keras.Sequential([keras.Input((5, 5, 1)),
                              L.RandomShear(0.3, (0.1, 0.2), fill_mode="wrap")])
    keras_format.save_model(model, tmp_path / "m.keras")
    theirs = K.models.load_model(tmp_path / "m.keras")
    layer = theirs.layers[-1]
    assert tuple(layer.x_factor) == (-0.3, 0.3) and tuple(layer.y_factor) == (0.1, 0.2)
    assert np.array_equal(theirs.predict(x, verbose=0), model.predict(x, verbose=0))
    theirs.save(tmp_path / "back.keras")
    back = keras.models.load_model(tmp_path / "back.keras").layers[-1].get_config()
    assert back["x_factor"] == 0.3 and list(back["y_factor"]) == [0.1, 0.2]


def _mixed_ops(ops, x, y):
    """Every op kerasnp writes in Keras's format, on two (None, 4, 6) tensors (`ops` is either
    library's namespace)."""
    h = ops.concatenate([x * 2 + 1, 2 - y, 1 / (x * x + 1) / (y * y + 1), -x], axis=-1)
    s = ops.sum(h, axis=1) + ops.mean(h, axis=1) - ops.max(h, axis=1, keepdims=False)
    a = ops.relu(s) + ops.sigmoid(s) * ops.tanh(s) + ops.softmax(s)
    m = ops.matmul(h, ops.transpose(h, (0, 2, 1)))
    return [a, ops.reshape(m, (-1, 16)), h[:, 0], h[:, 1:3, ::2],
            ops.mean(h, axis=(1, 2), keepdims=True)]


def test_ops_between_layers_both_ways(tmp_path):
    import warnings
    keras.utils.set_random_seed(0)
    xs = [RNG.normal(size=(5, 4, 6)).astype("float32") for _ in range(2)]
    a, b = keras.Input((4, 6)), keras.Input((4, 6))
    model = keras.Model([a, b], _mixed_ops(keras.ops, L.Dense(6)(a), L.Dense(6)(b)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # written in Keras's format, no fallback
        model.save(tmp_path / "ours.keras")
    theirs = K.models.load_model(tmp_path / "ours.keras")
    for got, want in zip(theirs.predict(xs, verbose=0), model.predict(xs, verbose=0)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # and a model Keras built and saved opens in kerasnp
    a, b = K.Input((4, 6)), K.Input((4, 6))
    k_model = K.Model([a, b], _mixed_ops(K.ops, K.layers.Dense(6)(a), K.layers.Dense(6)(b)))
    k_model.save(tmp_path / "theirs.keras")
    ours = keras.models.load_model(tmp_path / "theirs.keras")
    for got, want in zip(ours.predict(xs, verbose=0), k_model.predict(xs, verbose=0)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
