"""Models that take raw strings: Input(dtype="string") -> TextVectorization -> ... fits,
predicts, evaluates, saves and loads; strings given to a numeric input get a clear error."""
import numpy as np
import pytest

import kerasnp as keras

TEXTS = np.array(["good movie", "bad film", "great movie fun", "awful bad", "good fun",
                  "bad bad"] * 10)
LABELS = np.array([1, 0, 1, 0, 1, 0] * 10)


def _model():
    keras.utils.set_random_seed(0)
    tv = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    tv.adapt(TEXTS)
    inp = keras.Input((1,), dtype="string")
    h = keras.layers.Embedding(20, 4, mask_zero=True)(tv(inp))
    out = keras.layers.Dense(1, activation="sigmoid")(keras.layers.GlobalAveragePooling1D()(h))
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def test_a_model_fits_and_predicts_on_raw_strings(tmp_path):
    model = _model()
    hist = model.fit(TEXTS, LABELS, epochs=15, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    assert model.evaluate(TEXTS, LABELS, verbose=0)[1] == 1.0
    flat = model.predict(TEXTS[:6], verbose=0)              # (n,) strings
    column = model.predict(TEXTS[:6, None], verbose=0)      # (n, 1) strings
    np.testing.assert_array_equal(flat, column)
    assert (flat[[0, 2, 4]] > 0.5).all() and (flat[[1, 3, 5]] < 0.5).all()
    path = tmp_path / "text.kerasnp"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(TEXTS[:6], verbose=0), flat)
    assert loaded.get_config() == model.get_config()


def test_string_input_dtype_round_trips_in_the_config():
    inp = keras.Input((1,), dtype="string")
    assert inp._layer.dtype == "string"
    assert inp._layer.get_config()["dtype"] == "string"


def test_strings_for_a_numeric_input_get_a_clear_error():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(TypeError, match=r"received strings in x .*Input\(shape=\(1,\), "
                                        r"dtype='string'\)"):
        model.predict(np.array([["a", "b"]]), verbose=0)
