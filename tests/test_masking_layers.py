"""Layers that make, pass on and consume masks (Keras 3 rules): Embedding(mask_zero=True),
Masking, the masked 1-D global poolings, the pass-through layers and the merge rules; float64
central-difference gradient checks and functional/Sequential models built on the masks."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers, ops
from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import unwrap


def _numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f()
        x[i] = old - eps
        down = f()
        x[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def _check_input_grad(fn, x, seed=1, where=None):
    """Tape gradient of `sum(fn(x)·dy)` w.r.t. x against central differences (float64), at
    the entries `where` (default all); returns the tape gradient."""
    x = np.array(x, dtype=np.float64)
    dy = np.random.default_rng(seed).normal(size=np.shape(unwrap(fn(x))))
    with GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    got = tape.gradient(y, x, output_gradients=dy)
    want = _numeric_grad(lambda: float(np.sum(unwrap(fn(x)) * dy)), x)
    where = np.ones(x.shape, bool) if where is None else where
    np.testing.assert_allclose(got[where], want[where], rtol=1e-6, atol=1e-8)
    return got


def _seqs(seed=0):
    x = np.random.default_rng(seed).normal(size=(3, 5, 4))
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], bool)
    return x, mask


# -- Embedding(mask_zero=True) ----------------------------------------------------------------
def test_embedding_mask_zero_makes_the_mask():
    tokens = np.array([[3, 1, 0, 0], [5, 0, 2, 0]])
    emb = layers.Embedding(10, 4, mask_zero=True)
    assert emb.supports_masking
    np.testing.assert_array_equal(emb.compute_mask(tokens), tokens != 0)
    y = emb(tokens)
    np.testing.assert_array_equal(y, emb.embeddings.numpy()[tokens])   # row 0 is still a row
    plain = layers.Embedding(10, 4)
    assert not plain.supports_masking and plain.compute_mask(tokens) is None
    cfg = emb.get_config()
    assert cfg["mask_zero"] is True
    assert layers.Embedding.from_config(cfg).compute_mask(tokens).dtype == bool
    reg = layers.Embedding(10, 4, embeddings_regularizer="l2", embeddings_constraint="non_neg")
    cfg = reg.get_config()                               # every constructor argument is saved
    assert cfg["embeddings_regularizer"]["class_name"] == "L2"
    assert layers.Embedding.from_config(cfg).get_config() == cfg
    with pytest.raises(TypeError, match=r"Embedding.*mask_zero.*Received: mask_zero='yes'"):
        layers.Embedding(10, 4, mask_zero="yes")


def test_embedding_gradient_reaches_row_zero_too():
    emb = layers.Embedding(4, 2, mask_zero=True)
    tokens = np.array([[1, 0, 0]])
    with GradientTape() as tape:
        y = emb(tokens)
    g = tape.gradient(y, emb.embeddings, output_gradients=np.ones((1, 3, 2)))
    np.testing.assert_array_equal(g, [[2, 2], [1, 1], [0, 0], [0, 0]])


# -- Masking ----------------------------------------------------------------------------------
def test_masking_output_and_mask():
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]], [[-1.0, -1.0], [2.0, -1.0], [0, 0]]])
    layer = layers.Masking()
    np.testing.assert_array_equal(layer.compute_mask(x), [[True, False, True],
                                                          [True, True, False]])
    np.testing.assert_array_equal(layer(x), x)                        # masked steps are 0 here
    layer = layers.Masking(mask_value=-1.0)
    np.testing.assert_array_equal(layer.compute_mask(x), [[True, True, True],
                                                          [False, True, True]])
    want = x.copy()
    want[1, 0] = 0.0
    np.testing.assert_array_equal(layer(x), want)                     # set to 0 (Keras)
    assert layers.Masking.from_config(layer.get_config()).mask_value == -1.0


def test_masking_gradient(float64):
    x, mask = _seqs()
    x[~mask] = 0.5
    layer = layers.Masking(mask_value=0.5)
    # a padded step's features sit exactly on the mask's jump (moving one unmasks the step), so
    # differences are checked on the real steps; the padded ones get no gradient, as in Keras
    got = _check_input_grad(lambda a: layer(a), x, where=np.broadcast_to(mask[..., None],
                                                                         x.shape))
    assert not got[~mask].any()


def test_masking_errors():
    with pytest.raises(ValueError, match=r"Masking.*mask_value.*Received: mask_value='x'"):
        layers.Masking(mask_value="x")


# -- masked global pooling --------------------------------------------------------------------
def test_masked_global_average_and_max_values():
    x, mask = _seqs()
    m = mask[..., None]
    avg = layers.GlobalAveragePooling1D()(x, mask=mask)
    np.testing.assert_allclose(avg, (x * m).sum(1) / m.sum(1), rtol=1e-12)
    mx = layers.GlobalMaxPooling1D()(x, mask=mask)
    np.testing.assert_allclose(mx, np.where(m, x, -np.inf).max(1), rtol=1e-12)
    keep = layers.GlobalAveragePooling1D(keepdims=True)(x, mask=mask)
    assert keep.shape == (3, 1, 4)
    # no mask: the plain fused op, unchanged
    np.testing.assert_allclose(layers.GlobalAveragePooling1D()(x), x.mean(1), rtol=1e-12)


def test_masked_pooling_of_an_empty_sequence_is_zero():
    x, _ = _seqs()
    mask = np.zeros((3, 5), bool)
    for cls in (layers.GlobalAveragePooling1D, layers.GlobalMaxPooling1D):
        np.testing.assert_array_equal(cls()(x, mask=mask), np.zeros((3, 4)))


@pytest.mark.parametrize("cls", [layers.GlobalAveragePooling1D, layers.GlobalMaxPooling1D])
def test_masked_global_pooling_gradients(cls, float64):
    x, mask = _seqs()
    mask[2] = False                                       # an empty row: zero gradient
    layer = cls()
    _check_input_grad(lambda a: layer(a, mask=mask), x)


def test_global_pooling_consumes_the_mask_and_checks_its_shape():
    x, mask = _seqs()
    layer = layers.GlobalAveragePooling1D()
    assert layer.supports_masking and layer.compute_mask(x, mask) is None
    with pytest.raises(ValueError, match=r"GlobalAveragePooling1D.*mask of shape.*\(3, 5\).*"
                                         r"received shape \(3, 4\)"):
        layer(x, mask=mask[:, :4])


# -- pass-through layers and the merge rules --------------------------------------------------
def test_pass_through_layers_support_masking():
    supporting = [layers.Dense(2), layers.Activation("relu"), layers.Dropout(0.1),
                  layers.ReLU(), layers.LeakyReLU(), layers.ELU(), layers.PReLU(),
                  layers.Softmax(), layers.LayerNormalization(), layers.BatchNormalization(),
                  layers.GaussianNoise(0.1), layers.SpatialDropout1D(0.1),
                  layers.Rescaling(2.0), layers.Identity(), layers.Add(), layers.Concatenate(),
                  layers.TimeDistributed(layers.Dense(2))]
    for layer in supporting:
        assert layer.supports_masking, type(layer).__name__
    for layer in (layers.RepeatVector(2), layers.Flatten(), layers.Dot(axes=1),
                  layers.Conv1D(2, 3)):
        assert not layer.supports_masking, type(layer).__name__


def test_merge_masks_follow_keras():
    x, mask = _seqs()
    other = np.roll(mask, 1, axis=1)
    add = layers.Add()
    np.testing.assert_array_equal(add.compute_mask([x, x], [mask, other]), mask | other)
    assert add.compute_mask([x, x], [mask, None]) is None
    assert add.compute_mask([x, x], None) is None
    cat = layers.Concatenate()                              # features: OR, a missing mask = all
    np.testing.assert_array_equal(cat.compute_mask([x, x], [mask, other]), mask | other)
    assert cat.compute_mask([x, x], [mask, None]).all()
    assert cat.compute_mask([x, x], [None, None]) is None
    time_cat = layers.Concatenate(axis=1)                   # time: the masks side by side
    np.testing.assert_array_equal(time_cat.compute_mask([x, x], [mask, None]),
                                  np.concatenate([mask, np.ones_like(mask)], axis=1))


# -- models -----------------------------------------------------------------------------------
def _tokens():
    return np.array([[4, 2, 7, 0, 0], [1, 1, 1, 1, 3], [9, 0, 0, 0, 0]])


def test_embedding_time_distributed_dense_average_model():
    inp = keras.Input((5,), dtype="int32")
    emb = layers.Embedding(10, 4, mask_zero=True)
    dense = layers.Dense(3, activation="tanh")
    out = layers.GlobalAveragePooling1D()(layers.TimeDistributed(dense)(emb(inp)))
    model = keras.Model(inp, out)
    tokens = _tokens()
    h = np.tanh(emb.embeddings.numpy()[tokens] @ dense.kernel.numpy() + dense.bias.numpy())
    m = (tokens != 0)[..., None]
    want = (h * m).sum(1) / m.sum(1)
    np.testing.assert_allclose(model.predict(tokens, verbose=0), want, rtol=1e-5)
    # Sequential, with Masking in place of the embedding's mask
    seq = keras.Sequential([keras.Input((5, 4)), layers.Masking(), layers.Dense(2),
                            layers.GlobalMaxPooling1D()])
    x = emb.embeddings.numpy()[tokens] * m
    d = seq.layers[1]
    full = x @ d.kernel.numpy() + d.bias.numpy()
    np.testing.assert_allclose(seq(x), np.where(m, full, -np.inf).max(1), rtol=1e-5)


def test_masked_model_gradient_is_exact(float64):
    keras.utils.set_random_seed(0)
    inp = keras.Input((5,), dtype="int32")
    h = layers.Dense(3, activation="tanh")(layers.Embedding(10, 4, mask_zero=True)(inp))
    out = layers.Dense(1)(layers.GlobalAveragePooling1D()(layers.Dropout(0.0)(h)))
    model = keras.Model(inp, out)
    tokens = _tokens()
    y = np.array([[1.0], [-1.0], [0.5]])

    def loss():
        return float(np.mean((unwrap(model(tokens)) - y) ** 2))

    with GradientTape() as tape:
        total = ops.mean(ops.square(model(tokens, training=True) - y))
    grads = tape.gradient(total, model.trainable_variables)
    for var, g in zip(model.trainable_variables, grads):
        np.testing.assert_allclose(g, _numeric_grad(loss, var.value), rtol=1e-5, atol=1e-9)
    # padding rows of the table get no gradient through the average except from real steps
    emb_grad = grads[0]
    assert np.abs(emb_grad[0]).sum() == 0.0


def test_masked_model_trains_and_saves(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 20, (64, 8))
    for row, n in zip(tokens, rng.integers(1, 8, 64)):
        row[n:] = 0
    y = (tokens[:, 0] > 10).astype("float32")[:, None]
    model = keras.Sequential([keras.Input((None,), dtype="int32"),
                              layers.Embedding(20, 8, mask_zero=True),
                              layers.TimeDistributed(layers.Dense(8, activation="relu")),
                              layers.GlobalAveragePooling1D(),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    hist = model.fit(tokens, y, epochs=15, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    model.save(tmp_path / "masked.keras")
    loaded = keras.models.load_model(tmp_path / "masked.keras")
    assert loaded.layers[0].mask_zero
    np.testing.assert_allclose(loaded.predict(tokens, verbose=0),
                               model.predict(tokens, verbose=0), rtol=1e-6)
    # padding beyond the real steps does not change the output
    longer = np.concatenate([tokens, np.zeros((64, 3), int)], axis=1)
    np.testing.assert_allclose(model.predict(longer, verbose=0),
                               model.predict(tokens, verbose=0), rtol=1e-6)
