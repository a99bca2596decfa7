"""Attention (dot and concat scores) and AdditiveAttention: values against Keras's formulas
written in NumPy, float64 central-difference gradients through masks and the learned scales,
parameter counts, masks from a functional model, errors, config and saving."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import ops
from kerasnp.autodiff.tape import unwrap
from test_attention_mha import fd_errors

L = keras.layers


def _softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _reference(layer, q, v, k=None, q_mask=None, v_mask=None, causal=False):
    """Keras 3's Attention/AdditiveAttention computation, in NumPy."""
    k = v if k is None else k
    w = {x.name: x.numpy() for x in layer.weights}
    if isinstance(layer, L.AdditiveAttention):
        t = np.tanh(q[:, :, None] + k[:, None])
        s = (w.get("scale", 1.0) * t).sum(-1)
    elif layer.score_mode == "dot":
        s = q @ k.transpose(0, 2, 1) * w.get("scale", 1.0)
    else:
        t = np.tanh(w.get("scale", 1.0) * (q[:, :, None] + k[:, None]))
        s = w["concat_score_weight"] * t.sum(-1)
    keep = np.ones(s.shape, bool)
    if v_mask is not None:
        keep &= v_mask[:, None, :]
    if causal:
        keep &= np.tril(np.ones(s.shape[1:], bool))[None]
    p = _softmax(s - 1e9 * ~keep)
    out = p @ v
    if q_mask is not None:
        out = out * q_mask[..., None]
    return out, p


CASES = [lambda: L.Attention(), lambda: L.Attention(use_scale=True),
         lambda: L.Attention(score_mode="concat"),
         lambda: L.Attention(use_scale=True, score_mode="concat"),
         lambda: L.AdditiveAttention(), lambda: L.AdditiveAttention(use_scale=False)]
IDS = ["dot", "dot-scale", "concat", "concat-scale", "additive", "additive-noscale"]


def _data(rng, key=False):
    q, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4))
    k = rng.normal(size=(2, 5, 4)) if key else None
    q_mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    v_mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    return q, v, k, q_mask, v_mask


@pytest.mark.parametrize("make", CASES, ids=IDS)
def test_values_match_keras_formulas(float64, make):
    keras.set_random_seed(0)
    rng = np.random.default_rng(0)
    q, v, k, qm, vm = _data(rng, key=True)
    layer = make()
    layer.build([q.shape, v.shape, k.shape])
    for w in layer.weights:                           # non-trivial scales
        w.assign(rng.normal(size=w.shape))
    for causal in (False, True):
        out, p = layer([q, v, k], mask=[qm, vm], use_causal_mask=causal,
                       return_attention_scores=True)
        ref_out, ref_p = _reference(layer, q, v, k, qm, vm, causal)
        np.testing.assert_allclose(unwrap(out), ref_out, atol=1e-12)
        np.testing.assert_allclose(unwrap(p), ref_p, atol=1e-12)
    out = layer([q, v])                               # key defaults to value
    np.testing.assert_allclose(unwrap(out), _reference(layer, q, v)[0], atol=1e-12)


@pytest.mark.parametrize("make", CASES, ids=IDS)
def test_gradients_through_masks(float64, make):
    keras.set_random_seed(1)
    rng = np.random.default_rng(1)
    q, v, k, qm, vm = _data(rng, key=True)
    layer = make()
    layer([q, v, k])
    for w in layer.weights:
        w.assign(rng.normal(size=w.shape) * 0.5 + 1.0)
    r_out, r_p = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 5))

    def loss():
        out, p = layer([q, v, k], mask=[qm, vm], use_causal_mask=True,
                       return_attention_scores=True)
        return ops.sum(out * r_out) + ops.sum(p * r_p)
    errors = fd_errors(loss, [q, v, k] + layer.trainable_weights)
    assert max(errors) < 1e-6, errors


def test_gradients_with_dropout(float64):
    rng = np.random.default_rng(2)
    q, v, _, _, _ = _data(rng)
    layer = L.Attention(use_scale=True, dropout=0.4, seed=0)
    layer([q, v])
    r = rng.normal(size=(2, 3, 4))

    def loss():
        layer._rng = np.random.default_rng(3)
        return ops.sum(layer([q, v], training=True) * r)
    errors = fd_errors(loss, [q, v] + layer.trainable_weights)
    assert max(errors) < 1e-6, errors
    assert not np.allclose(unwrap(layer([q, v], training=True)), unwrap(layer([q, v])))


def test_parameter_counts():
    q, v = np.zeros((1, 3, 4), "float32"), np.zeros((1, 5, 4), "float32")
    counts = []
    for layer in (L.Attention(), L.Attention(use_scale=True), L.Attention(score_mode="concat"),
                  L.Attention(use_scale=True, score_mode="concat"), L.AdditiveAttention(),
                  L.AdditiveAttention(use_scale=False)):
        layer([q, v])
        counts.append(layer.count_params())
    # Keras: scale () and concat_score_weight () scalars; AdditiveAttention's scale is (dim,)
    assert counts == [0, 1, 1, 2, 4, 0]


def test_masks_from_a_functional_model():
    keras.set_random_seed(2)
    tokens = keras.Input((5,), dtype="int64")
    emb = L.Embedding(10, 4, mask_zero=True)
    x = emb(tokens)
    att = L.Attention()
    y = att([x, x])
    pooled = L.GlobalAveragePooling1D()(y)        # takes the query mask passed on by Attention
    model = keras.Model(tokens, [y, pooled])
    ids = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]])
    e = unwrap(emb(ids))
    m = ids != 0
    expect = unwrap(att([e, e], mask=[m, m]))
    got, got_pooled = model.predict(ids, verbose=0)
    np.testing.assert_allclose(got, expect, rtol=1e-5, atol=1e-6)
    assert np.all(got[0, 3:] == 0)                    # masked query steps are zero
    np.testing.assert_allclose(got_pooled[0], expect[0, :3].mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(att.compute_mask([e, e], [m, None]), m)
    assert att.compute_mask([e, e], None) is None


def test_errors_name_the_layer():
    q, v = np.zeros((2, 3, 4), "float32"), np.zeros((2, 5, 4), "float32")
    with pytest.raises(ValueError, match=r"score_mode.*'dot'.*'concat'.*Received.*'sum'"):
        L.Attention(score_mode="sum")
    att = L.Attention(name="att")
    with pytest.raises(ValueError, match=r"Layer 'att' \(Attention\) must be called on a list "
                                         r"\[query, value\].*Received"):
        att(q)
    with pytest.raises(ValueError, match=r"Layer 'att'.*list.*Received: inputs=list of 4"):
        att([q, v, v, v])
    with pytest.raises(ValueError, match=r"Layer 'att'.*value_mask.*\(2, 5\).*"
                                         r"value_mask.shape=\(2, 4\)"):
        att([q, v], mask=[None, np.ones((2, 4), bool)])
    with pytest.raises(ValueError, match=r"Layer 'att'.*mask must be a list"):
        att([q, v], mask=np.ones((2, 5), bool))


def test_config_round_trip_and_save_load(tmp_path):
    for layer in (L.Attention(use_scale=True, score_mode="concat", dropout=0.2, seed=4),
                  L.AdditiveAttention(use_scale=False, dropout=0.1, seed=1)):
        cfg = layer.get_config()
        assert type(layer).from_config(cfg).get_config() == cfg
    assert "score_mode" not in L.AdditiveAttention().get_config()

    keras.set_random_seed(3)
    q_in, v_in = keras.Input((3, 4)), keras.Input((5, 4))
    a = L.Attention(use_scale=True)([q_in, v_in])
    b = L.AdditiveAttention()([q_in, v_in])
    model = keras.Model([q_in, v_in], L.Concatenate()([a, b]))
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(2, 3, 4)).astype("float32"),
          rng.normal(size=(2, 5, 4)).astype("float32")]
    path = tmp_path / "att.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(xs, verbose=0), model.predict(xs, verbose=0),
                               rtol=1e-6)
    assert model.count_params() == loaded.count_params() == 1 + 4
