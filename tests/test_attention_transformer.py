"""A transformer encoder block built with the functional API (MultiHeadAttention, feed-forward
Dense layers, LayerNormalization, residual Adds) trains with fit; padding masks flow through it
from Embedding(mask_zero=True), so trailing padding leaves its predictions unchanged."""
import numpy as np

import kerasnp as keras

L = keras.layers


def encoder_block(x, heads, key_dim, ff_dim, dropout=0.1):
    dim = x.shape[-1]
    att = L.MultiHeadAttention(num_heads=heads, key_dim=key_dim, dropout=dropout)(x, x)
    x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, L.Dropout(dropout)(att)]))
    ff = L.Dense(dim)(L.Dense(ff_dim, activation="relu")(x))
    return L.LayerNormalization(epsilon=1e-6)(L.Add()([x, L.Dropout(dropout)(ff)]))


def _order_task(n, steps, vocab, rng):
    """Label 1 when token 1 comes before token 2 (filler tokens 3..vocab-1): needs positions."""
    x = rng.integers(3, vocab, size=(n, steps))
    pos = np.array([rng.choice(steps, 2, replace=False) for _ in range(n)])
    x[np.arange(n), pos[:, 0]] = 1
    x[np.arange(n), pos[:, 1]] = 2
    return x, (pos[:, 0] < pos[:, 1]).astype("int64")


def test_encoder_block_trains_with_fit(tmp_path):
    keras.set_random_seed(0)
    rng = np.random.default_rng(0)
    steps, dim = 8, 16
    x, y = _order_task(1024, steps, 12, rng)
    positions = np.broadcast_to(np.arange(steps), x.shape)
    tokens, where = keras.Input((steps,), dtype="int64"), keras.Input((steps,), dtype="int64")
    h = L.Add()([L.Embedding(12, dim)(tokens), L.Embedding(steps, dim)(where)])
    h = encoder_block(h, heads=2, key_dim=8, ff_dim=32)
    out = L.Dense(2, activation="softmax")(L.GlobalAveragePooling1D()(h))
    model = keras.Model([tokens, where], out)
    # embeddings 12·16 + 8·16; MHA 3·(16·2·8 + 2·8) + 2·8·16 + 16 = 1,088;
    # two LayerNorms 2·32; Dense 16·32+32 and 32·16+16; head 16·2+2
    assert model.count_params() == 192 + 128 + 1088 + 64 + 544 + 528 + 34 == 2578
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit([x, positions], y, batch_size=32, epochs=6, verbose=0)
    losses = hist.history["loss"]
    assert losses[-1] < 0.6 * losses[0], losses
    assert hist.history["accuracy"][-1] > 0.75, hist.history
    path = tmp_path / "encoder.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict([x[:16], positions[:16]], verbose=0),
                               model.predict([x[:16], positions[:16]], verbose=0), rtol=1e-5,
                               atol=1e-6)


def test_padding_masks_flow_through_the_block():
    keras.set_random_seed(1)
    tokens = keras.Input((None,), dtype="int64")
    h = L.Embedding(20, 8, mask_zero=True)(tokens)
    h = encoder_block(h, heads=2, key_dim=4, ff_dim=16, dropout=0.0)
    model = keras.Model(tokens, L.GlobalAveragePooling1D()(h))
    ids = np.array([[5, 3, 9, 0, 0], [7, 1, 2, 4, 6]])
    padded = np.pad(ids, ((0, 0), (0, 4)))
    np.testing.assert_allclose(model.predict(padded, verbose=0), model.predict(ids, verbose=0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(ids[:1, :3], verbose=0),
                               model.predict(ids[:1], verbose=0), rtol=1e-5, atol=1e-6)
