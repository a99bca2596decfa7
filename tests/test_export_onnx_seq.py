"""ONNX export of the sequence layers (LSTM, GRU, SimpleRNN, RNN over their cells,
Bidirectional, TimeDistributed), MultiHeadAttention and ops on symbolic tensors: onnxruntime
equals kerasnp's `predict` to 1e-5."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers, ops
from kerasnp.export import ExportError
from test_export_onnx import rand, run_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _spread_weights(model, scale=0.5, seed=0):
    """Weights far from their initial values (biases non-zero, gates far from 0.5)."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(rng.normal(0, scale, w.value.shape).astype(w.value.dtype))


RNNS = [lambda **k: layers.LSTM(6, **k), lambda **k: layers.GRU(5, **k),
        lambda **k: layers.GRU(4, reset_after=False, **k), lambda **k: layers.SimpleRNN(3, **k)]


@pytest.mark.parametrize("make", RNNS, ids=["lstm", "gru", "gru_reset_before", "simple_rnn"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_recurrent_layers(make, return_sequences, go_backwards, tmp_path):
    x = keras.Input((7, 5))
    rnn = make(return_sequences=return_sequences, go_backwards=go_backwards, return_state=True)
    outs = rnn(x)
    model = keras.Model(x, outs)
    _spread_weights(model)
    got = run_onnx(model, rand(3, 7, 5), tmp_path)
    assert len(got) == (3 if isinstance(rnn, layers.LSTM) else 2)


def test_recurrent_options_initial_states_and_stacks(tmp_path):
    x = keras.Input((6, 4))
    h0, c0 = keras.Input((5,)), keras.Input((5,))
    y1 = layers.LSTM(5, return_sequences=True)(x, initial_state=[h0, c0])
    y2 = layers.SimpleRNN(3, activation="relu", use_bias=False)(y1)
    y3 = layers.LSTM(4, recurrent_activation="hard_sigmoid", activation="softsign")(x)
    y4 = layers.GRU(3, activation="linear", return_sequences=True)(x)
    y5 = layers.RNN(layers.LSTMCell(4), return_sequences=True)(y4)
    y6 = layers.RNN(layers.GRUCell(2))(y5)
    model = keras.Model([x, h0, c0], [y2, y3, y4, y6])
    _spread_weights(model)
    run_onnx(model, [rand(2, 6, 4), rand(2, 5, seed=1), rand(2, 5, seed=2)], tmp_path)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul", None])
def test_bidirectional(merge_mode, tmp_path):
    x = keras.Input((6, 3))
    seq = layers.Bidirectional(layers.LSTM(4, return_sequences=True), merge_mode=merge_mode)(x)
    seq = seq if merge_mode is not None else layers.Concatenate()(seq)
    last = layers.Bidirectional(layers.GRU(3, return_state=True), merge_mode=merge_mode)(seq)
    model = keras.Model(x, last if isinstance(last, list) else [last])
    _spread_weights(model)
    run_onnx(model, rand(2, 6, 3), tmp_path)


def test_text_classifier_with_embedding_and_time_distributed(tmp_path):
    tokens = keras.Input((9,))
    h = layers.Embedding(30, 8)(tokens)
    h = layers.TimeDistributed(layers.Dense(6, activation="relu"))(h)
    h = layers.Bidirectional(layers.LSTM(5))(h)
    model = keras.Model(tokens, layers.Dense(1, activation="sigmoid")(h))
    _spread_weights(model)
    idx = np.random.default_rng(0).integers(0, 30, (4, 9)).astype("float32")
    run_onnx(model, idx, tmp_path)


def test_time_distributed_conv_with_unknown_steps(tmp_path):
    x = keras.Input((None, 6, 6, 2))
    y = layers.TimeDistributed(layers.Conv2D(3, 3, activation="relu"))(x)
    y = layers.TimeDistributed(layers.Flatten())(y)
    model = keras.Model(x, layers.GRU(4)(y))
    run_onnx(model, rand(2, 5, 6, 6, 2), tmp_path)


@pytest.mark.parametrize("make", RNNS, ids=["lstm", "gru", "gru_reset_before", "simple_rnn"])
def test_recurrent_activations_outside_onnx_ops_run_as_a_scan(make, tmp_path):
    x = keras.Input((6, 4))
    rnn = make(activation="gelu", return_sequences=True, go_backwards=True, return_state=True)
    y = rnn(x)
    y2 = layers.LSTM(3, recurrent_activation="silu",
                     activation=keras.activations.relu.with_params(max_value=1.0))(y[0])
    model = keras.Model(x, y + [y2])
    _spread_weights(model)
    run_onnx(model, rand(3, 6, 4), tmp_path)
    ops_used = {n.op_type for n in onnx.load(tmp_path / "model.onnx").graph.node}
    assert "Scan" in ops_used and not ops_used & {"LSTM", "GRU", "RNN"}


def test_stateful_recurrent_layers_cannot_export(tmp_path):
    model = keras.Sequential([keras.Input((4, 3), batch_size=2),
                              layers.GRU(2, stateful=True, name="carry")])
    with pytest.raises(ExportError, match="'carry' \\(GRU\\).*stateful"):
        model.export(tmp_path / "m.onnx", format="onnx")


def test_self_attention_transformer_block(tmp_path):
    x = keras.Input((10, 16))
    att = layers.MultiHeadAttention(num_heads=4, key_dim=8)(x, x)
    h = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, att]))
    ff = layers.Dense(16)(layers.Dense(32, activation="gelu")(h))
    y = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([h, ff]))
    y = layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling1D()(y))
    model = keras.Model(x, y)
    _spread_weights(model, scale=0.3)
    run_onnx(model, rand(3, 10, 16), tmp_path)


def test_attention_options(tmp_path):
    q, v = keras.Input((5, 6)), keras.Input((7, 4))
    k, mask = keras.Input((7, 4)), keras.Input((5, 7))
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5, output_shape=(2, 3),
                                    use_bias=False)
    out, scores = mha(q, v, key=k, attention_mask=mask, return_attention_scores=True)
    causal = layers.MultiHeadAttention(num_heads=3, key_dim=2)(q, q, use_causal_mask=True)
    cross = layers.MultiHeadAttention(num_heads=1, key_dim=4)(query=q, value=v)
    model = keras.Model([q, v, k, mask], [out, scores, causal, cross])
    _spread_weights(model)
    m = (np.random.default_rng(3).random((2, 5, 7)) > 0.3).astype("float32")
    m[0, 1] = 0                                          # a row with nothing to attend to
    run_onnx(model, [rand(2, 5, 6), rand(2, 7, 4, seed=1), rand(2, 7, 4, seed=2), m],
             tmp_path)


def test_causal_attention_with_unknown_length(tmp_path):
    x = keras.Input((None, 8))
    y = layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x, use_causal_mask=True)
    model = keras.Model(x, y)
    _spread_weights(model)
    run_onnx(model, rand(2, 6, 8), tmp_path)
    sess = ort.InferenceSession(str(tmp_path / "model.onnx"))
    longer = rand(1, 11, 8, seed=4)
    np.testing.assert_allclose(sess.run(None, {"input_layer": longer})[0],
                               model.predict(longer, verbose=0), rtol=1e-5, atol=1e-5)


def test_ops_on_symbolic_tensors(tmp_path):
    x, y = keras.Input((4, 6)), keras.Input((4, 6))
    outs = [x + 1.0, 2.0 - y, x * y, x / (ops.abs(y) + 1.0), ops.maximum(x, y),
            x[:, 1:3], x[:, -1], x[..., ::2], x[:, None, 0, 1:],
            ops.mean(x, axis=1), ops.sum(x, axis=(1, 2), keepdims=True), ops.max(x, axis=-1),
            ops.var(x, axis=1), ops.std(y, axis=-1, keepdims=True), ops.logsumexp(x, axis=2),
            ops.reshape(x, (-1, 24)), ops.transpose(x, (0, 2, 1)), ops.swapaxes(x, 1, 2),
            ops.concatenate([x, y], axis=-1), ops.stack([x, y], axis=1),
            ops.expand_dims(x, 1), ops.squeeze(ops.expand_dims(x, -1), axis=-1),
            ops.where(x > 0, x, 0.1 * x), ops.clip(x, -0.5, 0.5), ops.flip(x, axis=1),
            ops.einsum("bij,bkj->bik", x, y), ops.matmul(x, ops.transpose(y, (0, 2, 1))),
            ops.softmax(x, axis=1), ops.relu(x), ops.gelu(x), ops.tanh(x), ops.sigmoid(y),
            ops.sqrt(ops.square(x) + 1.0), ops.exp(-ops.square(x)), ops.log1p(ops.abs(x)),
            ops.rsqrt(ops.abs(x) + 1.0), ops.tile(x, (1, 2, 1)),
            ops.pad(x, ((0, 0), (1, 2), (0, 1)))]
    model = keras.Model([x, y], outs)
    run_onnx(model, [rand(3, 4, 6), rand(3, 4, 6, seed=1)], tmp_path)


def test_an_op_without_a_converter_is_named(tmp_path):
    x = keras.Input((5,))
    model = keras.Model(x, ops.cumsum(x, axis=1))
    with pytest.raises(ExportError, match="OpLayer.*ops.cumsum.*Ops that export: .*einsum"):
        model.export(tmp_path / "m.onnx", format="onnx")


@pytest.mark.parametrize("make", [lambda: layers.Attention(),
                                  lambda: layers.Attention(use_scale=True),
                                  lambda: layers.Attention(use_scale=True, score_mode="concat"),
                                  lambda: layers.AdditiveAttention(),
                                  lambda: layers.AdditiveAttention(use_scale=False)],
                         ids=["dot", "dot_scaled", "concat", "additive", "additive_unscaled"])
def test_dot_and_additive_attention(make, tmp_path):
    q, v, k = keras.Input((None, 4)), keras.Input((6, 4)), keras.Input((6, 4))
    att = make()
    out, scores = att([q, v, k], return_attention_scores=True)
    causal = make()([q, v], use_causal_mask=True)
    model = keras.Model([q, v, k], [out, scores, causal])
    _spread_weights(model, scale=0.8)
    run_onnx(model, [rand(2, 5, 4), rand(2, 6, 4, seed=1), rand(2, 6, 4, seed=2)], tmp_path)


def test_the_transformer_example_exports(tmp_path):
    """examples/transformer_classifier.py's model: two custom layers written with ops (the
    Keras guide's TokenAndPositionEmbedding and TransformerBlock), traced into the graph."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "transformer_classifier.py"
    spec = importlib.util.spec_from_file_location("transformer_classifier", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    model = example.build_model(maxlen=12, vocab_size=40)
    _spread_weights(model, scale=0.3)
    tokens = np.random.default_rng(0).integers(0, 40, (5, 12)).astype("float32")
    run_onnx(model, tokens, tmp_path)
