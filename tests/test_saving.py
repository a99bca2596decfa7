"""Saving and loading: every layer and model type round-trips bit-identically (also in a fresh
process), optimizer state and random generators are restored so a resumed fit is bitwise equal to
an uninterrupted one, and writes are atomic."""
import importlib
import importlib.util
import inspect
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L
from kerasnp.saving import ModelFileError

ROOT = Path(__file__).resolve().parents[1]

# class name -> (factory, sample shapes (one per input), integer input?)
TABLE = {
    "Activation": (lambda: L.Activation("tanh"), [(5,)], False),
    "Add": (lambda: L.Add(), [(4,), (4,)], False),
    "Average": (lambda: L.Average(), [(4,), (4,)], False),
    "AveragePooling1D": (lambda: L.AveragePooling1D(2), [(6, 2)], False),
    "AveragePooling2D": (lambda: L.AveragePooling2D(2, padding="same"), [(5, 4, 2)], False),
    "BatchNormalization": (lambda: L.BatchNormalization(momentum=0.5), [(6,)], False),
    "Concatenate": (lambda: L.Concatenate(), [(3,), (2,)], False),
    "Conv1D": (lambda: L.Conv1D(3, 2, padding="causal"), [(6, 2)], False),
    "Conv2D": (lambda: L.Conv2D(3, 2, strides=2, activation="relu"), [(5, 5, 2)], False),
    "Conv2DTranspose": (lambda: L.Conv2DTranspose(2, 3, strides=2), [(3, 3, 2)], False),
    "Cropping2D": (lambda: L.Cropping2D(((1, 0), (0, 1))), [(4, 4, 2)], False),
    "Dense": (lambda: L.Dense(3, activation="gelu", kernel_regularizer="l2"), [(4,)], False),
    "DepthwiseConv2D": (lambda: L.DepthwiseConv2D(2, depth_multiplier=2), [(4, 4, 2)], False),
    "Dot": (lambda: L.Dot(axes=1, normalize=True), [(4,), (4,)], False),
    "Dropout": (lambda: L.Dropout(0.5), [(8,)], False),
    "ELU": (lambda: L.ELU(alpha=0.5), [(5,)], False),
    "Embedding": (lambda: L.Embedding(10, 3), [(4,)], True),
    "Flatten": (lambda: L.Flatten(), [(2, 3)], False),
    "GaussianNoise": (lambda: L.GaussianNoise(0.3), [(6,)], False),
    "GlobalAveragePooling1D": (lambda: L.GlobalAveragePooling1D(), [(5, 3)], False),
    "GlobalAveragePooling2D": (lambda: L.GlobalAveragePooling2D(), [(3, 3, 2)], False),
    "GlobalMaxPooling1D": (lambda: L.GlobalMaxPooling1D(keepdims=True), [(5, 3)], False),
    "GlobalMaxPooling2D": (lambda: L.GlobalMaxPooling2D(), [(3, 3, 2)], False),
    "Identity": (lambda: L.Identity(), [(3,)], False),
    "LayerNormalization": (lambda: L.LayerNormalization(), [(6,)], False),
    "LeakyReLU": (lambda: L.LeakyReLU(0.2), [(5,)], False),
    "MaxPooling1D": (lambda: L.MaxPooling1D(2), [(6, 2)], False),
    "MaxPooling2D": (lambda: L.MaxPooling2D(2), [(4, 4, 2)], False),
    "Maximum": (lambda: L.Maximum(), [(4,), (4,)], False),
    "MinPooling1D": (lambda: L.MinPooling1D(2), [(6, 2)], False),
    "MinPooling2D": (lambda: L.MinPooling2D(2), [(4, 4, 2)], False),
    "Minimum": (lambda: L.Minimum(), [(4,), (4,)], False),
    "Multiply": (lambda: L.Multiply(), [(4,), (4,)], False),
    "PReLU": (lambda: L.PReLU(shared_axes=[1]), [(3, 4)], False),
    "Permute": (lambda: L.Permute((2, 1)), [(3, 4)], False),
    "ReLU": (lambda: L.ReLU(max_value=1.0), [(5,)], False),
    "RepeatVector": (lambda: L.RepeatVector(3), [(4,)], False),
    "Reshape": (lambda: L.Reshape((2, -1)), [(6,)], False),
    "SeparableConv2D": (lambda: L.SeparableConv2D(3, 2, padding="same"), [(4, 4, 2)], False),
    "Softmax": (lambda: L.Softmax(), [(5,)], False),
    "SpatialDropout1D": (lambda: L.SpatialDropout1D(0.5), [(5, 4)], False),
    "SpatialDropout2D": (lambda: L.SpatialDropout2D(0.5), [(3, 3, 4)], False),
    "Subtract": (lambda: L.Subtract(), [(4,), (4,)], False),
    "UpSampling2D": (lambda: L.UpSampling2D(2), [(2, 3, 2)], False),
    "ZeroPadding2D": (lambda: L.ZeroPadding2D(1), [(2, 3, 2)], False),
}
# Layers of families still landing: included when their module exists (it registers them).
TABLE.update({
    "AdaptiveAveragePooling1D": (lambda: L.AdaptiveAveragePooling1D(3), [(7, 2)], False),
    "AdaptiveMaxPooling1D": (lambda: L.AdaptiveMaxPooling1D(3), [(7, 2)], False),
    "Conv1DTranspose": (lambda: L.Conv1DTranspose(2, 3, strides=2, padding="same"), [(5, 2)],
                        False),
    "Cropping1D": (lambda: L.Cropping1D((1, 2)), [(6, 2)], False),
    "UpSampling1D": (lambda: L.UpSampling1D(3), [(4, 2)], False),
    "ZeroPadding1D": (lambda: L.ZeroPadding1D((2, 1)), [(4, 2)], False),
    "Masking": (lambda: L.Masking(0.5), [(4, 3)], False),
    "TimeDistributed": (lambda: L.TimeDistributed(L.Dense(3, activation="tanh")), [(4, 2)],
                        False),
    "Wrapper": (lambda: L.Wrapper(L.Dense(3)), [(4,)], False),
    "Bidirectional": (lambda: L.Bidirectional(L.LSTM(3, return_sequences=True)), [(4, 2)],
                      False),
    "SimpleRNN": (lambda: L.SimpleRNN(3, return_sequences=True, dropout=0.2), [(5, 2)], False),
    "LSTM": (lambda: L.LSTM(3, recurrent_dropout=0.2), [(5, 2)], False),
    "GRU": (lambda: L.GRU(3, reset_after=False, go_backwards=True), [(5, 2)], False),
    "RNN": (lambda: L.RNN(L.StackedRNNCells([L.LSTMCell(3), L.GRUCell(2)])), [(5, 2)], False),
    "Attention": (lambda: L.Attention(score_mode="concat"), [(4, 3), (5, 3)], False),
    "AdditiveAttention": (lambda: L.AdditiveAttention(), [(4, 3), (5, 3)], False),
    "IntegerLookup": (lambda: L.IntegerLookup(vocabulary=[1, 2, 3], output_mode="multi_hot"),
                      [(4,)], True),
})
# Recurrent cells are saved inside RNN (the RNN row; tests/test_recurrent*.py); string layers
# need text data (tests/test_text_vectorization.py, tests/test_lookup.py); MultiHeadAttention
# takes query and value as separate arguments (tests/test_attention_mha.py).
_NOT_IN_TABLE_SEQUENCES = {"SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells",
                           "StringLookup", "TextVectorization", "MultiHeadAttention"}

_OPTIONAL = {
    "kerasnp.layers.preprocessing_image_resize": {
        "Resizing": (lambda m: m.Resizing(3, 3), [(5, 5, 1)], False),
        "CenterCrop": (lambda m: m.CenterCrop(3, 3), [(5, 5, 1)], False),
        "RandomCrop": (lambda m: m.RandomCrop(3, 3), [(5, 5, 1)], False)},
    "kerasnp.layers.preprocessing_image_more": {
        "RandomZoom": (lambda m: m.RandomZoom(0.2), [(5, 5, 1)], False),
        "RandomContrast": (lambda m: m.RandomContrast(0.2), [(5, 5, 1)], False),
        "RandomBrightness": (lambda m: m.RandomBrightness(0.2), [(5, 5, 1)], False)},
    "kerasnp.layers.preprocessing": {
        "Rescaling": (lambda m: m.Rescaling(0.5, offset=1.0), [(4,)], False),
        "Normalization": (lambda m: m.Normalization(), [(4,)], False)},
    "kerasnp.layers.preprocessing_image": {
        "RandomFlip": (lambda m: m.RandomFlip(), [(4, 4, 2)], False),
        "RandomTranslation": (lambda m: m.RandomTranslation(0.2, 0.2), [(5, 5, 1)], False),
        "RandomRotation": (lambda m: m.RandomRotation(0.1), [(5, 5, 1)], False)},
}
for _module, _cases in _OPTIONAL.items():
    try:
        _mod = importlib.import_module(_module)
    except ModuleNotFoundError:
        continue
    for _name, (_make, _shapes, _int) in _cases.items():
        TABLE[_name] = ((lambda make=_make, mod=_mod: make(mod)), _shapes, _int)
# Families added later keep their rows in tests/saving_table_<family>.py: `CASES` (rows as in TABLE)
# and optionally `NOT_IN_TABLE` (names tested elsewhere, with the reason in that file).
_NOT_IN_TABLE_FAMILIES = set()
for _path in sorted(Path(__file__).parent.glob("saving_table_*.py")):
    _spec = importlib.util.spec_from_file_location(_path.stem, _path)
    _family = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_family)
    TABLE.update(_family.CASES)
    _NOT_IN_TABLE_FAMILIES |= set(getattr(_family, "NOT_IN_TABLE", ()))
# Lambda keeps only its function's name (never code): tested separately with custom_objects.
# OpLayer (ops on symbolic tensors) round-trips in tests/test_guides.py.
_NOT_IN_TABLE = ({"Layer", "InputLayer", "Lambda", "OpLayer"} | _NOT_IN_TABLE_SEQUENCES
                 | _NOT_IN_TABLE_FAMILIES)


def _layer_classes():
    found = {getattr(L, n) for n in L.__all__ if inspect.isclass(getattr(L, n))}
    found |= {c for c in L.LAYERS.values() if not issubclass(c, keras.Model)}
    return {c.__name__ for c in found} - _NOT_IN_TABLE


def test_table_covers_every_layer_class():
    missing = sorted(_layer_classes() - set(TABLE))
    assert not missing, f"add a small config for {missing} to TABLE in tests/test_saving.py"


def _data(shapes, integer, n=6, seed=0):
    rng = np.random.default_rng(seed)
    xs = [rng.integers(0, 10, (n,) + s).astype("float32") if integer
          else rng.standard_normal((n,) + s).astype("float32") for s in shapes]
    return xs if len(xs) > 1 else xs[0]


def _randomize(model, seed=1):
    """Weights away from their initial values (positive, so variances stay valid)."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype)
                       for w in model.get_weights()])


def _same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(x.dtype == y.dtype and np.array_equal(x, y)
                                      for x, y in zip(wa, wb))


def _single_layer_model(name):
    make, shapes, integer = TABLE[name]
    inputs = [keras.Input(s) for s in shapes]
    out = make()(inputs if len(inputs) > 1 else inputs[0])
    model = keras.Model(inputs if len(inputs) > 1 else inputs[0], out)
    _randomize(model)
    return model, _data(shapes, integer)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_every_layer_round_trips_bit_identically(name, tmp_path):
    model, x = _single_layer_model(name)
    path = tmp_path / "m.kerasnp"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.layers[-1]).__name__ == name
    assert loaded.get_config() == model.get_config()
    assert _same_weights(model, loaded)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # The random generators were saved: training-mode calls (dropout, noise) agree too.
    np.testing.assert_array_equal(loaded(x, training=True), model(x, training=True))


@pytest.mark.parametrize("name", ["Dense", "Conv2D", "BatchNormalization", "Concatenate"])
def test_layer_round_trips_through_json(name):
    model, x = _single_layer_model(name)
    clone = keras.models.model_from_json(model.to_json())
    assert clone.get_config() == model.get_config()
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


# ----------------------------------------------------------------------------- model types
def _mlp(dropout=0.3, seed=0):
    keras.set_random_seed(seed)
    model = keras.Sequential([keras.Input((6,)), L.Dense(16, activation="relu"),
                              L.Dropout(dropout), L.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _multi_io():
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    shared = L.Dense(5, activation="tanh", name="shared")
    h = L.Concatenate()([shared(a), L.Dense(5, name="proj")(b)])
    h2 = shared(L.Dense(4, name="back")(h))
    reg = L.Dense(1, name="reg")(h2)
    cls = L.Dense(3, activation="softmax", name="cls")(h)
    model = keras.Model([a, b], [reg, cls])
    model.compile(optimizer="rmsprop", loss={"reg": "mse", "cls": "categorical_crossentropy"},
                  loss_weights={"reg": 0.5, "cls": 1.0}, metrics={"cls": ["accuracy"]})
    return model


def _nested():
    inner = keras.Sequential([keras.Input((4,)), L.Dense(6, activation="relu"),
                              L.BatchNormalization()], name="inner")
    x = keras.Input((4,))
    branch = keras.Model(x, L.Dense(6, name="bd")(x), name="branch")
    y = keras.Input((4,))
    out = L.Dense(2)(L.Add()([inner(y), branch(y)]))
    model = keras.Sequential([keras.Model(y, out, name="mid"), L.Dense(1)], name="outer")
    model.build((None, 4))
    model.compile("sgd", "mse")
    return model


def _cnn():
    model = keras.Sequential([keras.Input((6, 6, 1)), L.Conv2D(3, 3, activation="relu"),
                              L.MaxPooling2D(), L.Flatten(), L.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9), "categorical_crossentropy")
    return model


MODELS = {"mlp": (_mlp, [(6,)]), "multi_io": (_multi_io, [(4,), (3,)]),
          "nested": (_nested, [(4,)]), "cnn": (_cnn, [(6, 6, 1)])}


@pytest.mark.parametrize("ext", [".kerasnp", ".keras"])
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_model_types_round_trip(kind, ext, tmp_path):
    """Both formats: kerasnp's own (.kerasnp) and Keras 3's (.keras, HDF5 weights)."""
    make, shapes = MODELS[kind]
    model = make()
    _randomize(model)
    x = _data(shapes, False)
    path = tmp_path / f"{kind}{ext}"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        assert ("model.weights.h5" in zf.namelist()) == (ext == ".keras")
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model) and loaded.name == model.name
    assert loaded.get_config() == model.get_config()
    assert [v.path for v in loaded.weights] == [v.path for v in model.weights]
    assert _same_weights(model, loaded)
    got, want = loaded.predict(x, verbose=0), model.predict(x, verbose=0)
    for g, w in zip(got if isinstance(got, list) else [got], want if isinstance(want, list)
                    else [want]):
        np.testing.assert_array_equal(g, w)
    assert loaded.compiled and type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()


def test_multi_io_compile_config_restored(tmp_path):
    model = _multi_io()
    x = _data([(4,), (3,)], False, n=8)
    y = [np.ones((8, 1), "float32"), np.eye(3, dtype="float32")[np.arange(8) % 3]]
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    model.save(tmp_path / "m.kerasnp")
    loaded = keras.models.load_model(tmp_path / "m.kerasnp")
    want = model.evaluate(x, y, verbose=0, return_dict=True)
    got = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert got == want and "cls_accuracy" in got
    assert loaded._spec.raw[1] == {"reg": 0.5, "cls": 1.0}


def test_shared_layer_stays_one_object(tmp_path):
    model = _multi_io()
    model.save(tmp_path / "m.kerasnp")
    loaded = keras.models.load_model(tmp_path / "m.kerasnp")
    shared = [n.layer for n in loaded._nodes if n.layer.name == "shared"]
    assert len(shared) == 2 and shared[0] is shared[1]


def test_compile_false_gives_uncompiled_model(tmp_path):
    model = _mlp()
    model.save(tmp_path / "m.kerasnp")
    loaded = keras.models.load_model(tmp_path / "m.kerasnp", compile=False)
    assert not loaded.compiled and loaded.optimizer is None
    assert _same_weights(model, loaded)


def test_optimizer_slots_equal_after_load(tmp_path):
    x, y = _data([(6,)], False, n=32), np.arange(32) % 3
    for opt in (keras.optimizers.Adam(0.01, amsgrad=True),
                keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
                keras.optimizers.RMSprop(0.01, momentum=0.5)):
        model = _mlp()
        model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        model.save(tmp_path / "m.kerasnp")
        loaded = keras.models.load_model(tmp_path / "m.kerasnp")
        want = model.optimizer.variables_for(model.trainable_weights)
        got = loaded.optimizer.variables_for(loaded.trainable_weights)
        assert loaded.optimizer.iterations == model.optimizer.iterations == 8
        assert [n for n, _ in got] == [n for n, _ in want]
        for (_, a), (_, b) in zip(got, want):
            assert a.dtype == b.dtype and np.array_equal(a, b)


def test_include_optimizer_false_keeps_compile_but_fresh_state(tmp_path):
    model = _mlp()
    model.fit(_data([(6,)], False, n=16), np.arange(16) % 3, epochs=1, verbose=0)
    model.save(tmp_path / "m.kerasnp", include_optimizer=False)
    with zipfile.ZipFile(tmp_path / "m.kerasnp") as zf:
        assert not any(n.startswith("optimizer/") for n in zf.namelist())
    loaded = keras.models.load_model(tmp_path / "m.kerasnp")
    assert loaded.compiled and loaded.optimizer.iterations == 0


# ----------------------------------------------------------------------------- exact resume
def _resume_case(tmp_path, dtype, use_load_into):
    keras.config.set_floatx(dtype)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 6)).astype(dtype)
    y = rng.integers(0, 3, 40)
    straight = _mlp(seed=11)
    hist = straight.fit(x, y, epochs=4, batch_size=8, verbose=0, validation_split=0.2)

    first = _mlp(seed=11)
    first.fit(x, y, epochs=2, batch_size=8, verbose=0, validation_split=0.2)
    path = tmp_path / "ckpt.kerasnp"
    first.save(path)
    del first
    if use_load_into:
        resumed = _mlp(seed=99)                     # another init, other generator states
        state = keras.saving.load_into(resumed, path)
        assert state["epoch"] == 2
        assert state["history"]["loss"] == hist.history["loss"][:2]
    else:
        resumed = keras.models.load_model(path)
        assert resumed.history.history["loss"] == hist.history["loss"][:2]
    again = resumed.fit(x, y, epochs=4, initial_epoch=2, batch_size=8, verbose=0,
                        validation_split=0.2)
    assert all(w.dtype == np.dtype(dtype) for w in resumed.get_weights())
    assert _same_weights(resumed, straight)
    assert again.history["loss"] == hist.history["loss"][2:]
    assert again.history["val_loss"] == hist.history["val_loss"][2:]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_load_model_then_fit_initial_epoch_is_bitwise_identical(dtype, tmp_path):
    _resume_case(tmp_path, dtype, use_load_into=False)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_load_into_then_fit_is_bitwise_identical(dtype, tmp_path):
    _resume_case(tmp_path, dtype, use_load_into=True)


def test_load_into_epoch_from_extra_metadata_and_learning_rate(tmp_path):
    model = _mlp()
    model.fit(_data([(6,)], False, n=16), np.arange(16) % 3, epochs=1, verbose=0)
    model.optimizer.learning_rate = 0.0005            # e.g. ReduceLROnPlateau lowered it
    keras.saving.save_model(model, tmp_path / "b.kerasnp", extra_metadata={"epoch": 7})
    other = _mlp(seed=5)
    assert keras.saving.load_into(other, tmp_path / "b.kerasnp")["epoch"] == 7
    assert other.optimizer.learning_rate == 0.0005
    assert other.optimizer.iterations == model.optimizer.iterations


def test_load_into_a_different_model_changes_nothing(tmp_path):
    _mlp().save(tmp_path / "m.kerasnp")
    other = keras.Sequential([keras.Input((6,)), L.Dense(4), L.Dense(3)])
    other.compile("adam", "mse")
    before = other.get_weights()
    state = other._rng.bit_generator.state
    with pytest.raises(ModelFileError, match="layer 'dense.*' weight 'kernel'.*shape"):
        keras.saving.load_into(other, tmp_path / "m.kerasnp")
    assert all(np.array_equal(a, b) for a, b in zip(before, other.get_weights()))
    assert other._rng.bit_generator.state == state and other.optimizer.iterations == 0


def test_load_into_with_another_optimizer_is_refused(tmp_path):
    _mlp().save(tmp_path / "m.kerasnp")
    other = _mlp()
    other.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ModelFileError, match="SGD needs 1"):
        keras.saving.load_into(other, tmp_path / "m.kerasnp")


# ----------------------------------------------------------------------------- weights files
def test_save_weights_load_weights(tmp_path):
    model = _nested()
    _randomize(model)
    path = tmp_path / "w.weights.npz"
    model.save_weights(path)
    other = _nested()
    other.load_weights(path)
    assert _same_weights(model, other)
    with np.load(path, allow_pickle=False) as npz:     # a plain NumPy archive too
        assert np.array_equal(npz["weights/00000"], model.weights[0].value)
    model.save(tmp_path / "m.kerasnp")                 # weights of a full model file
    third = _nested()
    third.load_weights(tmp_path / "m.kerasnp")
    assert _same_weights(model, third)


def test_load_weights_mismatch_names_layer_and_weight(tmp_path):
    keras.Sequential([keras.Input((6,)), L.Dense(4, name="a"), L.Dense(3, name="b")]) \
        .save_weights(tmp_path / "w.weights.npz")
    other = keras.Sequential([keras.Input((6,)), L.Dense(5, name="a"), L.Dense(3, name="b")])
    before = other.get_weights()
    with pytest.raises(ModelFileError) as err:
        other.load_weights(tmp_path / "w.weights.npz")
    msg = str(err.value)
    assert "w.weights.npz" in msg and "weights/00000.npy" in msg
    assert "layer 'a' weight 'kernel'" in msg and "(4, 5)" not in msg and "(6, 5)" in msg
    assert all(np.array_equal(a, b) for a, b in zip(before, other.get_weights()))
    fewer = keras.Sequential([keras.Input((6,)), L.Dense(3)])
    with pytest.raises(ModelFileError, match="stores 4 weights but the model has 2"):
        fewer.load_weights(tmp_path / "w.weights.npz")


def test_load_weights_casts_between_float_dtypes(tmp_path):
    keras.config.set_floatx("float64")
    wide = keras.Sequential([keras.Input((3,)), L.Dense(2)])
    _randomize(wide)
    wide.save_weights(tmp_path / "w.weights.npz")
    keras.config.set_floatx("float32")
    narrow = keras.Sequential([keras.Input((3,)), L.Dense(2)])
    narrow.load_weights(tmp_path / "w.weights.npz")
    for a, b in zip(narrow.get_weights(), wide.get_weights()):
        assert a.dtype == np.float32 and np.array_equal(a, b.astype(np.float32))


def test_path_and_argument_errors(tmp_path):
    model = _mlp()
    with pytest.raises(ValueError, match="legacy HDF5 model files"):
        model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match=r"'\.kerasnp' or '\.keras'"):
        model.save(tmp_path / "m.zip")
    with pytest.raises(ValueError, match=r"'\.weights\.npz' or '\.weights\.h5'"):
        model.save_weights(tmp_path / "m.h5")           # .weights.h5 is Keras's weights file
    with pytest.raises(ValueError, match=r"save_weights for '\.weights\.h5'"):
        model.save(tmp_path / "m.weights.h5")
    model.save(tmp_path / "m.kerasnp")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        model.save(tmp_path / "m.kerasnp", overwrite=False)
    with pytest.raises(TypeError, match="extra_metadata"):
        keras.saving.save_model(model, tmp_path / "x.kerasnp", extra_metadata={"f": object()})
    assert sorted(os.listdir(tmp_path)) == ["m.kerasnp"]
    unbuilt = keras.Sequential([L.Dense(2)])
    with pytest.raises(ValueError, match="not built"):
        unbuilt.save(tmp_path / "u.kerasnp")


# ----------------------------------------------------------------------------- custom objects
class Scale(L.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), "ones")

    def forward(self, x, training=False):
        return x * self.w.value * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_serializable(package="TestSaving")
class Registered(Scale):
    pass


def test_custom_layer_needs_custom_objects(tmp_path):
    model = keras.Sequential([keras.Input((3,)), Scale(3.0), L.Dense(2)])
    _randomize(model)
    model.save(tmp_path / "m.kerasnp")
    with pytest.raises(ModelFileError, match=r"unknown layer class 'Scale'.*custom_objects"):
        keras.models.load_model(tmp_path / "m.kerasnp")
    loaded = keras.models.load_model(tmp_path / "m.kerasnp", custom_objects={"Scale": Scale})
    x = _data([(3,)], False)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_registered_layer_loads_without_custom_objects(tmp_path):
    model = keras.Sequential([keras.Input((3,)), Registered(0.5)])
    _randomize(model)
    assert model.get_config()["layers"][1]["registered_name"] == "TestSaving>Registered"
    model.save(tmp_path / "m.kerasnp")
    loaded = keras.models.load_model(tmp_path / "m.kerasnp")
    assert type(loaded.layers[0]) is Registered and loaded.layers[0].factor == 0.5
    assert _same_weights(model, loaded)


@keras.saving.register_serializable(package="TestSaving")
def cube(x):
    return x ** 3


def test_registered_activation_function_round_trips(tmp_path):
    model = keras.Sequential([keras.Input((3,)), L.Dense(2, activation=cube)])
    model.save(tmp_path / "m.kerasnp")
    loaded = keras.models.load_model(tmp_path / "m.kerasnp")
    x = _data([(3,)], False)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[0].activation.fn is cube


def test_list_of_one_input_and_unbuilt_json_round_trip(tmp_path):
    x = keras.Input((3,))
    model = keras.Model([x], [L.Dense(2)(x)])
    model.save(tmp_path / "m.kerasnp")
    loaded = keras.models.load_model(tmp_path / "m.kerasnp")
    assert loaded._multi_input and loaded._multi_output
    data = _data([(3,)], False)
    got, want = loaded.forward([data]), model.forward([data])    # lists in, lists out
    assert isinstance(got, list) and np.array_equal(got[0], want[0])
    unbuilt = keras.Sequential([L.Dense(4), L.Dense(1)], name="later")
    clone = keras.models.model_from_json(unbuilt.to_json(indent=2))
    assert not clone.built and [type(l) for l in clone.layers] == [L.Dense, L.Dense]
    assert clone.get_config() == unbuilt.get_config()


def _quartic(y_true, y_pred):
    return np.mean((y_pred - y_true) ** 4, axis=-1)


def test_custom_loss_function_through_custom_objects(tmp_path):
    model = keras.Sequential([keras.Input((3,)), L.Dense(1)])
    model.compile("sgd", loss=_quartic, metrics=["mae"])
    model.save(tmp_path / "m.kerasnp")
    with pytest.raises(ModelFileError, match="custom_objects.*compile=False"):
        keras.models.load_model(tmp_path / "m.kerasnp")
    loaded = keras.models.load_model(tmp_path / "m.kerasnp", custom_objects={"_quartic": _quartic})
    assert loaded.loss.fn is _quartic
    assert keras.models.load_model(tmp_path / "m.kerasnp", compile=False).optimizer is None


def double(x):
    return 2 * x


def double_backward(dy, x, y):
    return 2 * dy


def test_lambda_layer_requires_custom_objects(tmp_path):
    x = keras.Input((3,))
    model = keras.Model(x, L.Dense(2)(L.Lambda(double, backward=double_backward)(x)))
    model.save(tmp_path / "m.kerasnp")
    with pytest.raises(ModelFileError, match="Lambda.*never saves code.*custom_objects"):
        keras.models.load_model(tmp_path / "m.kerasnp")
    loaded = keras.models.load_model(
        tmp_path / "m.kerasnp",
        custom_objects={"double": double, "double_backward": double_backward})
    data = _data([(3,)], False)
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), model.predict(data, verbose=0))


@keras.saving.register_serializable(package="TestSaving")
class Tower(keras.Model):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = L.Dense(units, activation="relu")
        self.head = L.Dense(2)

    def call(self, inputs, training=False):
        return self.head(self.hidden(inputs))

    def get_config(self):
        return {"units": self.units, "name": self.name}


class Plain(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.d = L.Dense(2)

    def call(self, inputs, training=False):
        return self.d(inputs)


def test_subclassed_models(tmp_path):
    model = Tower(units=5)
    model.build((None, 3))
    _randomize(model)
    model.save(tmp_path / "t.kerasnp")
    loaded = keras.models.load_model(tmp_path / "t.kerasnp")
    assert type(loaded) is Tower and loaded.units == 5
    x = _data([(3,)], False)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))

    plain = Plain()
    plain.build((None, 3))
    with pytest.raises(NotImplementedError, match="save_weights"):
        plain.save(tmp_path / "p.kerasnp")
    assert not (tmp_path / "p.kerasnp").exists()
    plain.save_weights(tmp_path / "p.weights.npz")
    again = Plain()
    again.build((None, 3))
    again.load_weights(tmp_path / "p.weights.npz")
    assert _same_weights(plain, again)


# ----------------------------------------------------------------------------- fresh process
def test_predictions_bit_identical_in_a_fresh_process(tmp_path):
    want = {}
    for kind, (make, shapes) in MODELS.items():
        model = make()
        _randomize(model)
        x = _data(shapes, False, seed=4)
        xs = x if isinstance(x, list) else [x]
        for i, a in enumerate(xs):
            np.save(tmp_path / f"{kind}_x{i}.npy", a)
        out = model.predict(x, verbose=0)
        want[kind] = out if isinstance(out, list) else [out]
        model.save(tmp_path / f"{kind}.kerasnp")
    script = textwrap.dedent("""
        import sys, glob, numpy as np, kerasnp as keras
        d = sys.argv[1]
        for kind in sys.argv[2:]:
            model = keras.models.load_model(f"{d}/{kind}.kerasnp")
            xs = [np.load(p) for p in sorted(glob.glob(f"{d}/{kind}_x*.npy"))]
            out = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
            for i, o in enumerate(out if isinstance(out, list) else [out]):
                np.save(f"{d}/{kind}_y{i}.npy", o)
    """)
    subprocess.run([sys.executable, "-c", script, str(tmp_path), *MODELS], check=True,
                   cwd=ROOT, timeout=120)
    for kind, outs in want.items():
        for i, o in enumerate(outs):
            got = np.load(tmp_path / f"{kind}_y{i}.npy")
            assert got.dtype == o.dtype and np.array_equal(got, o), kind


# ----------------------------------------------------------------------------- atomic writes
def test_failed_write_keeps_previous_file_and_leaves_no_temp(tmp_path, monkeypatch):
    model = _mlp()
    path = tmp_path / "m.kerasnp"
    model.save(path)
    before = path.read_bytes()
    real = np.lib.format.write_array
    calls = {"n": 0}

    def disk_full(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", disk_full)
    _randomize(model)
    with pytest.raises(OSError, match="No space"):
        model.save(path)
    monkeypatch.setattr(np.lib.format, "write_array", real)

    def interrupted(fd):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.save(path)
    with pytest.raises(KeyboardInterrupt):
        model.save_weights(tmp_path / "w.weights.npz")
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.kerasnp"]


_SAVER = textwrap.dedent("""
    import sys, numpy as np, kerasnp as keras
    path = sys.argv[1]
    model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(256), keras.layers.Dense(8)])
    k = 0
    while True:
        model.set_weights([np.full(w.shape, k, w.dtype) for w in model.get_weights()])
        model.save(path)
        k += 1
        if k == 1:
            print("ready", flush=True)
""")


def test_sigkill_during_checkpoint_loop_leaves_a_loadable_file(tmp_path):
    path = tmp_path / "ckpt.kerasnp"
    rng = np.random.default_rng(0)
    for delay in rng.uniform(0.05, 0.4, size=3):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(delay)
            seen = keras.models.load_model(path)        # readers never see a partial file
            assert len({float(w.ravel()[0]) for w in seen.get_weights()}) == 1
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
        model = keras.models.load_model(path)
        values = {float(w.ravel()[0]) for w in model.get_weights()}
        assert len(values) == 1                         # one whole save: old or new, not mixed


def test_file_layout_and_checksums(tmp_path):
    model = _mlp()
    model.fit(_data([(6,)], False, n=16), np.arange(16) % 3, epochs=1, verbose=0)
    keras.saving.save_model(model, tmp_path / "m.kerasnp", extra_metadata={"epoch": 1})
    import hashlib
    with zipfile.ZipFile(tmp_path / "m.kerasnp") as zf:
        meta = json.loads(zf.read("metadata.json"))
        assert meta["format"] == "kerasnp-model" and meta["kerasnp_version"] == keras.__version__
        assert meta["extra"] == {"epoch": 1}
        assert meta["weights"] == [v.path for v in model.weights]
        assert set(meta["members"]) == set(zf.namelist()) - {"metadata.json"}
        for name, digest in meta["members"].items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == digest
        cfg = json.loads(zf.read("config.json"))
        assert cfg["compile_config"]["loss"] == "sparse_categorical_crossentropy"
        assert cfg["compile_config"]["optimizer"]["class_name"] == "Adam"
        state = json.loads(zf.read("state.json"))
        assert len(state["rng"]) == len(keras.saving.state.walk_layers(model))
        assert all(zf.getinfo(n).compress_type == zipfile.ZIP_STORED
                   for n in zf.namelist() if n.endswith(".npy"))


def test_disk_full_save_names_the_target_and_leaves_no_temp(tmp_path, monkeypatch):
    model = _mlp()
    path = tmp_path / "m.kerasnp"

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(np.lib.format, "write_array", disk_full)
    for save, target in ((model.save, path), (model.save_weights, tmp_path / "w.weights.npz")):
        with pytest.raises(OSError) as err:
            save(target)
        assert type(err.value) is OSError and err.value.errno == 28
        assert str(target) in str(err.value) and "No space left on device" in str(err.value)
        assert isinstance(err.value.__cause__, OSError)          # the original, chained
    assert os.listdir(tmp_path) == []


def test_save_errors_keep_their_os_error_type(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OSError) as err:             # the parent of the target is a file
        _mlp().save(blocker / "m.kerasnp")
    assert isinstance(err.value, (FileExistsError, NotADirectoryError))
    assert str(blocker / "m.kerasnp") in str(err.value)


def test_extra_arrays_round_trip_through_load_into(tmp_path):
    model = _mlp()
    arrays = [np.arange(6, dtype="float32").reshape(2, 3), np.array([True, False]),
              np.zeros((0, 4), "int64")]
    keras.saving.save_model(model, tmp_path / "m.kerasnp", extra_metadata={"k": [1, 2]},
                            extra_arrays=arrays)
    restored = keras.saving.load_into(_mlp(), tmp_path / "m.kerasnp")
    assert restored["extra"] == {"k": [1, 2]}
    assert len(restored["arrays"]) == 3
    for got, want in zip(restored["arrays"], arrays):
        assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want)
    keras.models.load_model(tmp_path / "m.kerasnp")          # load_model ignores them
    with pytest.raises(TypeError, match=r"extra_arrays\[1\] must be a NumPy array of a bool, "
                                        r"int or float dtype. Received: array of dtype object"):
        keras.saving.save_model(model, tmp_path / "n.kerasnp",
                                extra_arrays=[arrays[0], np.array([None])])
    with pytest.raises(TypeError, match="extra_arrays must be a list"):
        keras.saving.save_model(model, tmp_path / "n.kerasnp", extra_arrays=arrays[0])
    assert sorted(os.listdir(tmp_path)) == ["m.kerasnp"]
