"""ONNX export of models with masks (`Embedding(mask_zero=True)`, `Masking`): the mask travels
through the exported graph as through kerasnp's run, so padded inputs predict as in `predict`
(pre- and post-padding, a row with no real step) for recurrent layers (a Scan that keeps the
states at masked steps), Bidirectional, 1-D global pooling, merges and MultiHeadAttention."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers
from test_export_onnx import rand, run_onnx
from test_export_onnx_seq import _spread_weights

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def _padded_tokens(n=6, steps=8, vocab=20, seed=0):
    """Token ids with post-padding, pre-padding, a full row and an all-padding row."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, vocab, (n, steps)).astype("float32")
    x[0, 5:] = 0                                     # post-padding (pad_sequences' "post")
    x[1, :3] = 0                                     # pre-padding (its default)
    x[2, 2:4] = 0                                    # holes
    x[3, :] = 0                                      # nothing real
    return x


RNNS = {"lstm": lambda **k: layers.LSTM(5, **k), "gru": lambda **k: layers.GRU(4, **k),
        "gru_reset_before": lambda **k: layers.GRU(3, reset_after=False, **k),
        "simple_rnn": lambda **k: layers.SimpleRNN(4, **k)}


@pytest.mark.parametrize("kind", sorted(RNNS))
@pytest.mark.parametrize("return_sequences,go_backwards", [(False, False), (True, False),
                                                           (False, True), (True, True)])
def test_masked_recurrent_layers(kind, return_sequences, go_backwards, tmp_path):
    tokens = keras.Input((8,))
    h = layers.Embedding(20, 6, mask_zero=True)(tokens)
    outs = RNNS[kind](return_sequences=return_sequences, go_backwards=go_backwards,
                      return_state=True)(h)
    model = keras.Model(tokens, outs)
    _spread_weights(model)
    run_onnx(model, _padded_tokens(), tmp_path)


def test_text_classifier_with_a_masked_bidirectional_lstm(tmp_path):
    """The model of examples/text_classification.py."""
    model = keras.Sequential([keras.Input((8,)), layers.Embedding(20, 8, mask_zero=True),
                              layers.Bidirectional(layers.LSTM(6, return_sequences=True)),
                              layers.Bidirectional(layers.GRU(4), merge_mode="ave"),
                              layers.Dense(1, activation="sigmoid")])
    _spread_weights(model)
    run_onnx(model, _padded_tokens(), tmp_path)


def test_masking_layer_and_masked_global_pooling(tmp_path):
    x = keras.Input((7, 3))
    masked = layers.Masking(mask_value=0.0)(x)
    h = layers.Dense(4, activation="tanh")(masked)              # passes the mask on
    outs = [masked, layers.GlobalAveragePooling1D()(h), layers.GlobalMaxPooling1D()(h),
            layers.GlobalAveragePooling1D(keepdims=True)(h),
            layers.LSTM(3, return_sequences=True)(h)]
    model = keras.Model(x, outs)
    _spread_weights(model)
    data = rand(4, 7, 3)
    data[0, 4:] = 0
    data[1, :2] = 0
    data[2] = 0
    run_onnx(model, data, tmp_path)


def test_masks_through_merges_and_a_nested_model(tmp_path):
    a, b = keras.Input((6,)), keras.Input((6,))
    ea = layers.Embedding(20, 4, mask_zero=True)(a)
    eb = layers.Embedding(20, 4, mask_zero=True)(b)
    added = layers.Add()([ea, eb])                              # OR of the masks
    time_joined = layers.Concatenate(axis=1)([ea, eb])          # masks joined along time
    feat_joined = layers.Concatenate()([ea, layers.Dense(4)(eb)])
    inner = keras.Sequential([keras.Input((6, 4)), layers.GRU(3)], name="inner")
    outs = [layers.SimpleRNN(3)(added), layers.LSTM(2)(time_joined),
            layers.GlobalAveragePooling1D()(feat_joined), inner(ea)]
    model = keras.Model([a, b], outs)
    _spread_weights(model)
    run_onnx(model, [_padded_tokens(steps=6), _padded_tokens(steps=6, seed=1)], tmp_path)


def test_masked_self_attention_classifier(tmp_path):
    tokens = keras.Input((8,))
    h = layers.Embedding(20, 8, mask_zero=True)(tokens)
    att = layers.MultiHeadAttention(num_heads=2, key_dim=4)(h, h)
    h = layers.LayerNormalization()(layers.Add()([h, att]))
    causal = layers.MultiHeadAttention(num_heads=2, key_dim=4)(h, h, use_causal_mask=True)
    y = layers.Dense(3, activation="softmax")(layers.GlobalAveragePooling1D()(causal))
    model = keras.Model(tokens, [y, att])
    _spread_weights(model, scale=0.3)
    x = _padded_tokens()
    x[3, 0] = 5                                      # attention needs one real key per row
    run_onnx(model, x, tmp_path)


def test_masked_dot_and_additive_attention(tmp_path):
    qt, vt = keras.Input((8,)), keras.Input((8,))
    q = layers.Embedding(20, 4, mask_zero=True)(qt)
    v = layers.Embedding(20, 4, mask_zero=True)(vt)
    dot = layers.Attention(use_scale=True)([q, v])          # zeros at masked query steps
    add = layers.AdditiveAttention()([q, v, v])
    pooled = layers.GlobalAveragePooling1D()(dot)           # the query's mask goes on
    model = keras.Model([qt, vt], [dot, add, pooled])
    _spread_weights(model)
    vs = _padded_tokens(seed=1)
    vs[3, 0] = 4                                            # one real value step per row
    run_onnx(model, [_padded_tokens(), vs], tmp_path)
