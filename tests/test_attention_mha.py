"""MultiHeadAttention: float64 central-difference gradient checks through masks, dropout and
attention_axes, attention_axes semantics, Keras's masking rules, weight layout and parameter
counts, errors, config and saving (torch parity: test_attention_torch.py)."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import ops
from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import unwrap
from kerasnp.utils.gradient_check import _numeric
from kerasnp.variables import Variable

MHA = keras.layers.MultiHeadAttention


def fd_errors(loss_fn, sources, eps=1e-6, max_checks=40, seed=0):
    """Max relative error, per source, of the tape gradient of the scalar `loss_fn()` against
    float64 central differences (sources: ndarrays, watched, or Variables)."""
    rng = np.random.default_rng(seed)
    with GradientTape() as tape:
        for s in sources:
            if not isinstance(s, Variable):
                tape.watch(s)
        loss = loss_fn()
    grads = tape.gradient(loss, list(sources))

    def f():
        return float(unwrap(loss_fn()))
    errors = []
    for s, g in zip(sources, grads):
        arr = s.value if isinstance(s, Variable) else s
        g = np.zeros_like(arr) if g is None else np.asarray(g)
        assert g.shape == arr.shape
        idx, num = _numeric(f, arr, eps, max_checks, rng)
        # (a floor of 1e-3 on the scale: some gradients are exactly 0 in theory, e.g. the key
        # bias's, since softmax ignores a shift of a whole row, and their differences are noise)
        errors.append(np.max(np.abs(g.reshape(-1)[idx] - num), initial=0.0)
                      / max(np.max(np.abs(num), initial=0.0), 1e-3))
    return errors


def weighted(y, rng):
    """`sum(y * r)` with a fixed random `r` (a generic scalar of the output)."""
    return ops.sum(y * rng.standard_normal(np.shape(unwrap(y))))


# -- central differences ----------------------------------------------------------------------
def test_gradients_through_every_mask(float64):
    keras.set_random_seed(3)
    rng = np.random.default_rng(4)
    q, v, k = rng.normal(size=(2, 4, 6)), rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 7))
    qm = np.array([[1, 1, 1, 0], [1, 0, 1, 1]], bool)
    vm = np.array([[1, 1, 0, 1, 1], [1, 1, 1, 1, 0]], bool)
    am = (rng.random((2, 4, 5)) > 0.2) | np.eye(4, 5, dtype=bool)
    mha = MHA(num_heads=2, key_dim=3, value_dim=2, output_shape=5,
              bias_initializer="random_normal")
    mha(q, v, key=k)
    # A fully masked row (a masked query step) is softmax(logits - 1e9): rounding at 1e9 makes
    # its finite differences noise, so the objective leaves those rows out.
    ry = np.random.default_rng(5).normal(size=(2, 4, 5)) * qm[..., None]
    rs = np.random.default_rng(6).normal(size=(2, 2, 4, 5)) * qm[:, None, :, None]

    def loss():
        y, s = mha(q, v, key=k, query_mask=qm, value_mask=vm, key_mask=vm, attention_mask=am,
                   use_causal_mask=True, return_attention_scores=True)
        return ops.sum(y * ry) + ops.sum(s * rs)
    errors = fd_errors(loss, [q, v, k] + mha.trainable_weights)
    assert max(errors) < 1e-6, errors


def test_gradients_with_dropout_in_training(float64):
    keras.set_random_seed(4)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2, 5, 4))
    mha = MHA(num_heads=2, key_dim=2, dropout=0.3, seed=3)
    mha(x, x)

    def loss():
        mha._rng = np.random.default_rng(11)            # the same dropout draw every call
        return weighted(mha(x, x, training=True), np.random.default_rng(8))
    errors = fd_errors(loss, [x] + mha.trainable_weights)
    assert max(errors) < 1e-6, errors


@pytest.mark.parametrize("axes", [None, (1,), (2,), (-2,)])
def test_gradients_over_attention_axes(float64, axes):
    keras.set_random_seed(5)
    rng = np.random.default_rng(9)
    x = rng.normal(size=(2, 3, 4, 5))
    mha = MHA(num_heads=2, key_dim=3, attention_axes=axes, bias_initializer="random_normal")
    mha(x, x)

    def loss():
        y, s = mha(x, x, return_attention_scores=True)
        return weighted(y, np.random.default_rng(10)) + weighted(s, np.random.default_rng(12))
    errors = fd_errors(loss, [x] + mha.trainable_weights)
    assert max(errors) < 1e-6, errors


# -- attention_axes semantics -----------------------------------------------------------------
def test_attention_axes_equal_slice_by_slice_attention(float64):
    """Attention over axis 2 of `(B, A, C, dim)` is ordinary attention on each `x[:, a]`; over
    axis 1 it is attention on each `x[:, :, c]`; the default attends over A·C positions."""
    keras.set_random_seed(6)
    rng = np.random.default_rng(13)
    x = rng.normal(size=(2, 3, 4, 6))
    flat = MHA(num_heads=2, key_dim=3, bias_initializer="random_normal")
    flat(x[:, 0], x[:, 0])
    cases = {(2,): [(slice(None), a) for a in range(3)],
             (1,): [(slice(None), slice(None), c) for c in range(4)]}
    for axes, slices in cases.items():
        layer = MHA(num_heads=2, key_dim=3, attention_axes=axes)
        layer(x, x)
        layer.set_weights(flat.get_weights())
        y, s = layer(x, x, return_attention_scores=True)
        for idx in slices:
            ys, ss = flat(x[idx], x[idx], return_attention_scores=True)
            np.testing.assert_allclose(unwrap(y)[idx], unwrap(ys), atol=1e-12)
            j = idx[-1]
            np.testing.assert_allclose(unwrap(s)[:, j], unwrap(ss), atol=1e-12)
    both = MHA(num_heads=2, key_dim=3)
    both(x, x)
    both.set_weights(flat.get_weights())
    y, s = both(x, x, return_attention_scores=True)
    xf = x.reshape(2, 12, 6)
    yf, sf = flat(xf, xf, return_attention_scores=True)
    assert unwrap(s).shape == (2, 2, 3, 4, 3, 4)
    np.testing.assert_allclose(unwrap(y), unwrap(yf).reshape(y.shape), atol=1e-12)
    np.testing.assert_allclose(unwrap(s).reshape(2, 2, 12, 12), unwrap(sf), atol=1e-12)


# -- masks --------------------------------------------------------------------------------------
def _reference(mha, q, v, mask):
    """NumPy MHA with Keras's additive -1e9 on masked logits (mask (B, T, S) or None)."""
    qk, qb, kk, kb, vk, vb, ok, ob = mha.get_weights()
    pq = np.einsum("btd,dnh->bnth", q, qk) + qb[None, :, None]
    pk = np.einsum("bsd,dnh->bnsh", v, kk) + kb[None, :, None]
    pv = np.einsum("bsd,dnh->bnsh", v, vk) + vb[None, :, None]
    logits = pq @ pk.transpose(0, 1, 3, 2) / np.sqrt(qk.shape[-1])
    if mask is not None:
        logits = logits + (1.0 - mask[:, None]) * -1e9
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return np.einsum("bnts,bnsh,nhe->bte", p, pv, ok) + ob, p


def test_masks_combine_as_in_keras(float64):
    keras.set_random_seed(7)
    rng = np.random.default_rng(14)
    q, v = rng.normal(size=(2, 4, 6)), rng.normal(size=(2, 5, 6))
    qm = np.array([[1, 1, 0, 1], [1, 1, 1, 0]], bool)
    vm = np.array([[1, 0, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    am = np.ones((4, 5), bool)
    am[0, 0] = False
    mha = MHA(num_heads=2, key_dim=3, bias_initializer="random_normal")
    y, s = mha(q, v, query_mask=qm, value_mask=vm, attention_mask=am, use_causal_mask=True,
               return_attention_scores=True)
    full = qm[:, :, None] & vm[:, None, :] & am[None] & np.tril(np.ones((4, 5), bool))[None]
    ry, rs = _reference(mha, q, v, full)
    np.testing.assert_allclose(unwrap(y), ry, atol=1e-10)
    np.testing.assert_allclose(unwrap(s), rs, atol=1e-10)
    assert np.all(unwrap(s)[:, :, :, ~vm.any(0)] == 0)         # masked keys get no weight
    # masked value steps do not change the output
    v2 = v.copy()
    v2[~vm] += 100.0
    np.testing.assert_allclose(unwrap(mha(q, v2, value_mask=vm)), unwrap(mha(q, v, value_mask=vm)),
                               atol=1e-10)


def test_functional_model_passes_embedding_masks():
    keras.set_random_seed(8)
    tokens = keras.Input((6,), dtype="int64")
    emb = keras.layers.Embedding(20, 8, mask_zero=True)
    x = emb(tokens)
    mha = MHA(num_heads=2, key_dim=4)
    y = mha(x, x)
    model = keras.Model(tokens, y)
    ids = np.array([[3, 4, 5, 0, 0, 0], [1, 2, 3, 4, 5, 6]])
    e = unwrap(emb(ids))
    expect = unwrap(mha(e, e, query_mask=ids != 0, value_mask=ids != 0))
    np.testing.assert_allclose(model.predict(ids, verbose=0), expect, rtol=1e-5, atol=1e-6)
    assert not np.allclose(expect, unwrap(mha(e, e)))
    assert mha.supports_masking
    np.testing.assert_array_equal(mha.compute_mask(e, ids != 0), ids != 0)


# -- layout, counts, errors, config -------------------------------------------------------------
def test_weight_layout_and_parameter_counts():
    # Keras: 3·(dim·heads·key_dim + heads·key_dim) + heads·value_dim·out + out
    mha = MHA(num_heads=2, key_dim=16)
    x = np.zeros((1, 3, 32), "float32")
    mha(x, x)
    assert mha.count_params() == 3 * (32 * 2 * 16 + 2 * 16) + 2 * 16 * 32 + 32 == 4224
    assert [w.path for w in mha.weights] == [
        "query/kernel", "query/bias", "key/kernel", "key/bias", "value/kernel", "value/bias",
        "attention_output/kernel", "attention_output/bias"]
    assert [w.shape for w in mha.weights] == [(32, 2, 16), (2, 16)] * 3 + [(2, 16, 32), (32,)]
    other = MHA(num_heads=4, key_dim=8, value_dim=6, output_shape=20, use_bias=True)
    other(np.zeros((1, 3, 12), "float32"), np.zeros((1, 5, 10), "float32"))
    # query 12·32+32, key 10·32+32, value 10·24+24, output 24·20+20
    assert other.count_params() == 416 + 352 + 264 + 500 == 1532
    no_bias = MHA(num_heads=2, key_dim=16, use_bias=False)
    no_bias(x, x)
    assert no_bias.count_params() == 4224 - 3 * 32 - 32 == 4096


def test_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"MultiHeadAttention.*key_dim.*required.*"
                                         r"Received: key_dim=None"):
        MHA(num_heads=2)
    mha = MHA(num_heads=2, key_dim=4, name="att")
    q, v = np.zeros((2, 3, 8), "float32"), np.zeros((2, 5, 8), "float32")
    with pytest.raises(ValueError, match=r"Layer 'att' \(MultiHeadAttention\).*\(2, 5\).*"
                                         r"value_mask.shape=\(2, 3\)"):
        mha(q, v, value_mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match=r"Layer 'att'.*query_mask.*\(2, 3\).*\(3, 2\)"):
        mha(q, v, query_mask=np.ones((3, 2), bool))
    with pytest.raises(ValueError, match=r"Layer 'att'.*\(2, 3, 5\).*attention_mask.shape="
                                         r"\(2, 3, 4\)"):
        mha(q, v, attention_mask=np.ones((2, 3, 4), bool))
    with pytest.raises(ValueError, match=r"attention_axes.*Received: attention_axes=\(3,\)"):
        MHA(num_heads=2, key_dim=4, attention_axes=3)(q, q)
    with pytest.raises(ValueError, match=r"value.*key.*Received"):
        MHA(num_heads=2, key_dim=4)(q, v, key=np.zeros((2, 4, 8), "float32"))
    with pytest.raises(ValueError, match=r"num_heads"):
        MHA(num_heads=0, key_dim=4)


def test_dropout_only_in_training_and_scores_before_dropout():
    x = np.random.default_rng(0).normal(size=(2, 6, 8)).astype("float32")
    mha = MHA(num_heads=2, key_dim=4, dropout=0.5, seed=1)
    y0 = unwrap(mha(x, x))
    np.testing.assert_array_equal(y0, unwrap(mha(x, x, training=False)))
    y1, s1 = mha(x, x, training=True, return_attention_scores=True)
    assert not np.allclose(unwrap(y1), y0)
    np.testing.assert_allclose(unwrap(s1).sum(-1), 1.0, rtol=1e-5)


def test_config_round_trip_and_save_load(tmp_path):
    mha = MHA(num_heads=3, key_dim=4, value_dim=5, dropout=0.1, use_bias=False, output_shape=7,
              attention_axes=(1,), kernel_initializer="he_normal", kernel_regularizer="l2",
              seed=2, name="att")
    cfg = mha.get_config()
    clone = MHA.from_config(cfg)
    assert clone.get_config() == cfg
    assert cfg["output_shape"] == [7] and cfg["attention_axes"] == [1] and cfg["seed"] == 2

    keras.set_random_seed(9)
    inp = keras.Input((5, 8))
    y = MHA(num_heads=2, key_dim=4)(inp, inp, use_causal_mask=True)
    model = keras.Model(inp, keras.layers.GlobalAveragePooling1D()(y))
    x = np.random.default_rng(1).normal(size=(3, 5, 8)).astype("float32")
    path = tmp_path / "mha.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    assert loaded.count_params() == model.count_params()


def test_symbolic_call_with_scores_and_cross_attention():
    q_in, v_in = keras.Input((4, 6)), keras.Input((7, 5))
    out, scores = MHA(num_heads=3, key_dim=2)(q_in, v_in, return_attention_scores=True)
    assert tuple(out.shape) == (None, 4, 6) and tuple(scores.shape) == (None, 3, 4, 7)
    model = keras.Model([q_in, v_in], [out, scores])
    y, s = model.predict([np.ones((2, 4, 6), "float32"), np.ones((2, 7, 5), "float32")],
                         verbose=0)
    assert y.shape == (2, 4, 6) and s.shape == (2, 3, 4, 7)


def test_tensors_by_keyword_eager_symbolic_and_saved(tmp_path):
    """`mha(query=x, value=x, key=x)`, as Keras code often writes it."""
    keras.set_random_seed(10)
    x = np.random.default_rng(2).normal(size=(2, 3, 8)).astype("float32")
    mha = MHA(num_heads=2, key_dim=4)
    np.testing.assert_array_equal(unwrap(mha(query=x, value=x, key=x)), unwrap(mha(x, x)))
    inp = keras.Input((3, 8))
    model = keras.Model(inp, MHA(num_heads=2, key_dim=4)(query=inp, value=inp,
                                                          use_causal_mask=True))
    path = tmp_path / "kw.keras"
    model.save(path)
    np.testing.assert_allclose(keras.models.load_model(path).predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)


def test_a_key_of_its_own_width_passed_by_name_builds_the_key_projection():
    q, v, k = keras.Input((4, 6)), keras.Input((5, 8)), keras.Input((5, 3))
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    model = keras.Model([q, v, k], mha(q, v, key=k))
    assert mha._key_dense.kernel.shape == (3, 2, 4)
    assert mha._value_dense.kernel.shape == (8, 2, 4)
    out = model([np.ones((2, 4, 6), "float32"), np.ones((2, 5, 8), "float32"),
                 np.ones((2, 5, 3), "float32")])
    assert out.shape == (2, 4, 6)
