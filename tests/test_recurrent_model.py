"""Recurrent layers in models: fit, config and save/load round trips, masks from Embedding in
functional, Sequential and subclassed models (Keras's masking guide)."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers
from kerasnp.autodiff.tape import unwrap

from test_recurrent_grad import MinimalRNNCell


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def test_lstm_classifier_trains_with_fit():
    keras.utils.set_random_seed(0)
    x = _x((256, 50, 32))
    y = (x[:, :, 0].mean(axis=1) > 0).astype("int64") + 2 * (x[:, -5:, 1].mean(1) > 0)
    model = keras.Sequential([keras.Input((50, 32)), layers.LSTM(64),
                              layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(5e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=5, batch_size=64, verbose=0)
    loss = hist.history["loss"]
    assert all(b < a for a, b in zip(loss, loss[1:])) and loss[-1] < 0.7 * loss[0], loss


CONFIGS = [
    lambda: layers.LSTM(5, activation="relu", recurrent_activation="hard_sigmoid",
                        use_bias=False, kernel_initializer="he_normal",
                        recurrent_initializer="glorot_uniform", bias_initializer="ones",
                        unit_forget_bias=False, kernel_regularizer="l2",
                        recurrent_regularizer="l1", bias_regularizer="l1_l2",
                        activity_regularizer="l2", kernel_constraint="non_neg",
                        recurrent_constraint="unit_norm", bias_constraint="max_norm",
                        dropout=0.1, recurrent_dropout=0.2, seed=4, return_sequences=True,
                        return_state=True, go_backwards=True, stateful=True, unroll=True,
                        zero_output_for_mask=True, name="enc", dtype="float64"),
    lambda: layers.GRU(3, reset_after=False, dropout=0.25, go_backwards=True),
    lambda: layers.SimpleRNN(4, activation="relu", return_sequences=True, trainable=False),
    lambda: layers.RNN(layers.LSTMCell(3, unit_forget_bias=False), return_state=True),
    lambda: layers.RNN([layers.GRUCell(3), layers.SimpleRNNCell(2, dropout=0.5)],
                       zero_output_for_mask=True),
    lambda: layers.RNN(MinimalRNNCell(4), go_backwards=True),
]


@pytest.mark.parametrize("make", CONFIGS)
def test_config_round_trip(make):
    layer = make()
    cfg = layer.get_config()
    again = type(layer).from_config(cfg)
    assert again.get_config() == cfg
    if isinstance(layer, layers.RNN) and type(layer) is not layers.RNN:
        assert "cell" not in cfg and cfg["units"] == layer.units


def test_lstm_config_holds_every_keras_argument():
    cfg = layers.LSTM(3).get_config()
    for key in ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                "recurrent_initializer", "bias_initializer", "unit_forget_bias",
                "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                "bias_constraint", "dropout", "recurrent_dropout", "seed", "return_sequences",
                "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask"):
        assert key in cfg or key == "activity_regularizer", key
    assert cfg["recurrent_initializer"]["class_name"] == "Orthogonal"


def test_save_and_load_a_model_with_lstm_and_gru(tmp_path):
    keras.utils.set_random_seed(0)
    inp = keras.Input((None,), dtype="int32")
    h = layers.Embedding(40, 8, mask_zero=True)(inp)
    h = layers.LSTM(6, return_sequences=True, go_backwards=True)(h)
    h = layers.GRU(5, dropout=0.2)(h)
    model = keras.Model(inp, layers.Dense(3, activation="softmax")(h))
    tokens = np.random.default_rng(0).integers(0, 40, (32, 9))
    y = tokens[:, 0] % 3
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(tokens, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "rnn.keras")
    loaded = keras.models.load_model(tmp_path / "rnn.keras")
    np.testing.assert_array_equal(loaded.predict(tokens, verbose=0),
                                  model.predict(tokens, verbose=0))
    assert [w.path for w in loaded.weights] == [w.path for w in model.weights]


def test_save_and_load_rnn_with_a_user_cell(tmp_path):
    model = keras.Sequential([keras.Input((5, 3)), layers.RNN(MinimalRNNCell(4)),
                              layers.Dense(2)])
    model.save(tmp_path / "cell.keras")
    loaded = keras.models.load_model(tmp_path / "cell.keras")
    x = _x((4, 5, 3))
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_functional_mask_from_embedding_equals_unpadded_rows():
    keras.utils.set_random_seed(0)
    inp = keras.Input((None,), dtype="int32")
    emb = layers.Embedding(20, 6, mask_zero=True)(inp)
    seq = layers.GRU(4, return_sequences=True)(emb)
    out = layers.SimpleRNN(3)(layers.LSTM(5, return_sequences=True)(seq))
    model = keras.Model(inp, out)
    tokens = np.array([[4, 7, 1, 0, 0], [3, 0, 0, 0, 0], [9, 2, 5, 6, 8]])
    padded = unwrap(model(tokens))
    for i, k in enumerate((tokens != 0).sum(1)):
        np.testing.assert_allclose(padded[i], unwrap(model(tokens[i:i + 1, :k]))[0],
                                   rtol=1e-5, atol=1e-6)


def test_sequential_mask_and_subclassed_model_as_in_the_masking_guide():
    keras.utils.set_random_seed(0)
    tokens = np.array([[5, 3, 0, 0], [2, 8, 9, 1]])
    seq = keras.Sequential([keras.Input((None,), dtype="int32"),
                            layers.Embedding(12, 4, mask_zero=True), layers.LSTM(3)])

    class MyModel(keras.Model):
        def __init__(self):
            super().__init__()
            self.embedding = layers.Embedding(12, 4, mask_zero=True)
            self.lstm = layers.LSTM(3)

        def call(self, inputs):
            x = self.embedding(inputs)
            mask = self.embedding.compute_mask(inputs)
            return self.lstm(x, mask=mask)

    sub = MyModel()
    sub(tokens)
    sub.set_weights(seq.get_weights())
    want = unwrap(seq(tokens))
    np.testing.assert_allclose(unwrap(sub(tokens)), want, rtol=1e-6)
    np.testing.assert_allclose(want[0], unwrap(seq(tokens[:1, :2]))[0], rtol=1e-5, atol=1e-6)


def test_stateful_layer_in_a_model_and_reset_states():
    model = keras.Sequential([keras.Input((3, 2), batch_size=4),
                              layers.SimpleRNN(3, stateful=True)])
    x = _x((4, 3, 2))
    a = model.predict(x, verbose=0, batch_size=4)
    b = model.predict(x, verbose=0, batch_size=4)
    assert not np.allclose(a, b)                        # the second call starts where it ended
    model.layers[0].reset_states()
    np.testing.assert_allclose(model.predict(x, verbose=0, batch_size=4), a, rtol=1e-6)
