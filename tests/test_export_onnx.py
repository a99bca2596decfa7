"""ONNX export: Dense and activations, merges, reshaping, functional/nested/subclassed models,
Model.export's formats and the errors. Each exported file passes onnx's full checker and
onnxruntime's predictions equal kerasnp's `predict` (1e-5 in float32)."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers, ops
from kerasnp.export import ExportError, export_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def run_onnx(model, xs, tmp_path, tol=1e-5, opset=None, name="model.onnx"):
    """Export `model`, check the file, run it with onnxruntime on `xs` (an array or a list, one
    per input) and compare with `predict`. Returns onnxruntime's outputs."""
    path = tmp_path / name
    if opset is None:
        model.export(path, format="onnx")
    else:
        export_onnx(model, path, opset=opset)
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    xs = xs if isinstance(xs, list) else [xs]
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {i.name: np.asarray(x, dtype=model._dtype()) for i, x in zip(sess.get_inputs(), xs)}
    got = sess.run(None, feed)
    want = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    if isinstance(want, dict):                        # Model(inputs, outputs=dict): by name
        want = [want[o.name] for o in sess.get_outputs()]
    want = want if isinstance(want, list) else [want]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)
    return got


def rand(*shape, scale=1.0, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype("float32")


def test_mlp_end_to_end_with_a_dynamic_batch(tmp_path):
    model = keras.Sequential([keras.Input((12,)), layers.Dense(16, activation="relu"),
                              layers.Dropout(0.5), layers.Dense(8, activation="tanh"),
                              layers.Dense(3, activation="softmax")])
    run_onnx(model, rand(7, 12), tmp_path)
    sess = ort.InferenceSession(str(tmp_path / "model.onnx"))
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    assert inp.name == model.input_names[0] and out.name == model.output_names[0]
    assert inp.shape == ["batch", 12] and out.shape == ["batch", 3]
    for n in (1, 33):                                 # any batch size runs
        x = rand(n, 12, seed=n)
        np.testing.assert_allclose(sess.run(None, {inp.name: x})[0],
                                   model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)


ACTIVATIONS = [
    "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "sigmoid",
    "hard_sigmoid", "hard_silu", "tanh", "hard_tanh", "tanh_shrink", "softmax", "log_softmax",
    "softplus", "log_sigmoid", "softsign", "silu", "swish", "mish", "exponential", "squareplus",
    "soft_shrink", "hard_shrink",
    {"class_name": "relu", "config": {"max_value": 2.0, "negative_slope": 0.1,
                                      "threshold": 0.5}},
    {"class_name": "relu", "config": {"threshold": -0.5}},
    {"class_name": "leaky_relu", "config": {"negative_slope": 0.05}},
    {"class_name": "elu", "config": {"alpha": 0.5}},
    {"class_name": "gelu", "config": {"approximate": True}},
    {"class_name": "softmax", "config": {"axis": [1, 2]}},
    {"class_name": "log_softmax", "config": {"axis": 1}},
    {"class_name": "squareplus", "config": {"b": 1.0}},
]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: a if isinstance(a, str) else
                         f"{a['class_name']}-{a['config']}")
def test_each_activation(act, tmp_path):
    fn = keras.activations.get(act)
    model = keras.Sequential([keras.Input((3, 5)), layers.Activation(fn)])
    x = rand(4, 3, 5, scale=4.0)                      # tails too: exp/softplus stay stable
    x[0, 0, :] = [-30.0, -3.0, 0.0, 3.0, 30.0]
    if fn.name == "exponential":
        x = np.clip(x, -10, 10)
    run_onnx(model, x, tmp_path)


def test_dense_activations_and_rank_3_inputs(tmp_path):
    x = keras.Input((6, 4))
    h = layers.Dense(5, activation="gelu")(x)
    h = layers.Dense(5, activation="swish", use_bias=False)(h)
    y = layers.Dense(2, activation="softmax")(h)
    run_onnx(keras.Model(x, y), rand(3, 6, 4), tmp_path)


def test_activation_layers(tmp_path):
    x = keras.Input((4, 6))
    prelu = layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.1, 0.5),
                         shared_axes=[1])
    outs = [layers.ReLU(max_value=1.5, negative_slope=0.2, threshold=0.3)(x),
            layers.LeakyReLU(0.1)(x), layers.ELU(0.7)(x), layers.Softmax(axis=1)(x),
            layers.Activation("sigmoid")(x), prelu(x), layers.PReLU()(x)]
    model = keras.Model(x, outs)
    run_onnx(model, rand(3, 4, 6, scale=2.0), tmp_path)
    assert prelu.alpha.value.shape == (1, 6)


def test_float64_model(tmp_path, float64):
    model = keras.Sequential([keras.Input((5,)), layers.Dense(7, activation="tanh"),
                              layers.Dense(2, activation="sigmoid")])
    got = run_onnx(model, rand(4, 5).astype("float64"), tmp_path, tol=1e-12)
    assert got[0].dtype == np.float64


def test_merges_and_a_two_input_two_output_model(tmp_path):
    a, b = keras.Input((6,), name="left"), keras.Input((6,), name="right")
    ha, hb = layers.Dense(6, activation="relu")(a), layers.Dense(6)(b)
    merged = [layers.Add()([ha, hb, a]), layers.Subtract()([ha, hb]),
              layers.Multiply()([ha, hb, b]), layers.Average()([ha, hb]),
              layers.Maximum()([ha, hb, a]), layers.Minimum()([ha, hb])]
    joined = layers.Concatenate()(merged)
    out1 = layers.Dense(3, activation="softmax", name="label")(joined)
    out2 = layers.Dense(1, name="score")(layers.Concatenate(axis=1)([ha, hb]))
    model = keras.Model([a, b], [out1, out2])
    run_onnx(model, [rand(5, 6, seed=1), rand(5, 6, seed=2)], tmp_path)
    sess = ort.InferenceSession(str(tmp_path / "model.onnx"))
    assert [i.name for i in sess.get_inputs()] == ["left", "right"]
    assert [o.name for o in sess.get_outputs()] == ["label", "score"]


def test_dict_outputs_are_named_by_their_keys(tmp_path):
    x = keras.Input((4,))
    h = layers.Dense(5, activation="relu")(x)
    model = keras.Model(x, {"score": layers.Dense(1)(h),
                            "label": layers.Dense(3, activation="softmax")(h)})
    run_onnx(model, rand(3, 4), tmp_path)
    sess = ort.InferenceSession(str(tmp_path / "model.onnx"))
    assert [o.name for o in sess.get_outputs()] == ["label", "score"]   # Keras's sorted keys


def test_dot_layer(tmp_path):
    a, b, c = keras.Input((5,)), keras.Input((5,)), keras.Input((3, 5))
    d = keras.Input((5, 4))
    outs = [layers.Dot(axes=1)([a, b]), layers.Dot(axes=1, normalize=True)([a, b]),
            layers.Dot(axes=(2, 1))([c, d]), layers.Dot(axes=-1)([c, c]),
            layers.Dot(axes=(2, 1), normalize=True)([c, d])]
    model = keras.Model([a, b, c, d], outs)
    run_onnx(model, [rand(3, 5), rand(3, 5, seed=1), rand(3, 3, 5, seed=2),
                     rand(3, 5, 4, seed=3)], tmp_path)


def test_nested_models(tmp_path):
    block = keras.Sequential([keras.Input((8,)), layers.Dense(8, activation="relu"),
                              layers.Dense(8)], name="block")
    inner_in = keras.Input((8,))
    inner = keras.Model(inner_in, layers.Add()([inner_in, block(inner_in)]), name="residual")
    x = keras.Input((4,))
    h = layers.Dense(8)(x)
    h = inner(h)
    h = inner(h)                                      # the same nested model called twice
    y = layers.Dense(2)(block(h))
    run_onnx(keras.Model(x, y), rand(6, 4), tmp_path)


def test_reshaping_layers_and_embedding(tmp_path):
    tokens = keras.Input((5,))
    e = layers.Embedding(11, 4)(tokens)                              # (5, 4)
    p = layers.Permute((2, 1))(e)                                    # (4, 5)
    r = layers.Reshape((2, -1))(p)                                   # (2, 10)
    f = layers.Flatten()(r)
    v = layers.RepeatVector(3)(layers.Dense(2)(f))                   # (3, 2)
    model = keras.Model(tokens, [f, layers.Flatten()(v)])
    idx = np.random.default_rng(0).integers(0, 11, size=(4, 5)).astype("float32")
    run_onnx(model, idx, tmp_path)


def test_identity_layers_at_inference(tmp_path):
    model = keras.Sequential([keras.Input((4, 4, 2)), layers.GaussianNoise(1.0),
                              layers.SpatialDropout2D(0.5), layers.RandomFlip(),
                              layers.Identity(), layers.Flatten(), layers.Dropout(0.9),
                              layers.Dense(3)])
    run_onnx(model, rand(2, 4, 4, 2), tmp_path)


class _Twice(keras.Model):
    def __init__(self):
        super().__init__()
        self.d1, self.d2 = layers.Dense(5, activation="tanh"), layers.Dense(2)

    def call(self, x, training=None):
        return self.d2(self.d1(x) + self.d1(x * 0.5))


def test_subclassed_model_through_its_traced_structure(tmp_path):
    model = _Twice()
    x = rand(3, 4)
    model.predict(x, verbose=0)
    ops_used = sorted(n.layer.op for n in model._nodes if hasattr(n.layer, "op"))
    assert ops_used == ["add", "multiply"]             # x * 0.5 and the sum: OpLayer nodes
    run_onnx(model, x, tmp_path)
    proto = onnx.load(tmp_path / "model.onnx")
    assert len(proto.graph.initializer) == 2 + 2 + 1   # d1 stored once though called twice


class _DataDependent(keras.Model):
    def __init__(self):
        super().__init__()
        self.d = layers.Dense(2)

    def call(self, x, training=None):
        if float(np.asarray(x).sum()) > 0:              # needs the values: not traceable
            return self.d(x)
        return -self.d(x)


def test_untraceable_subclassed_model_is_refused(tmp_path):
    model = _DataDependent()
    model.predict(rand(2, 3), verbose=0)
    with pytest.raises(ExportError, match="could not be traced"):
        model.export(tmp_path / "m.onnx", format="onnx")


class _Sorter(layers.Layer):
    def call(self, x):
        return np.sort(x, axis=-1)                      # NumPy on the tensor: no graph


def test_unsupported_layer_names_the_layer_and_lists_the_supported(tmp_path):
    x = keras.Input((3,))
    model = keras.Model(x, layers.Dense(2)(_Sorter(name="sorter")(x)))
    with pytest.raises(ExportError) as info:
        model.export(tmp_path / "m.onnx", format="onnx")
    msg = str(info.value)
    assert "'sorter' (_Sorter)" in msg and "could not be traced" in msg
    assert "Dense" in msg and "Conv2D" in msg and "BatchNormalization" in msg
    assert "MaxPooling2D" in msg and "Softmax" in msg and "GlobalAveragePooling1D" in msg
    assert not (tmp_path / "m.onnx").exists()


class _Scale(layers.Layer):
    """A custom layer with its own weight, written with ops."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], 3), initializer="random_normal")

    def call(self, x, training=None):
        h = ops.tanh(ops.matmul(x, self.w)) * 2.0
        return h if not training else h * 0.0           # the inference branch is traced


class _PositionEmbedding(layers.Layer):
    """The Keras guide's TokenAndPositionEmbedding: positions from the input's length."""

    def __init__(self, maxlen, vocab, dim, **kwargs):
        super().__init__(**kwargs)
        self.token_emb = layers.Embedding(vocab, dim)
        self.pos_emb = layers.Embedding(maxlen, dim)

    def call(self, x):
        positions = self.pos_emb(ops.arange(0, ops.shape(x)[-1], 1))
        return self.token_emb(x) + positions


class _Block(layers.Layer):
    """Sublayers and ops inside one custom layer."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.att = layers.MultiHeadAttention(num_heads=2, key_dim=4)
        self.ffn = keras.Sequential([layers.Dense(8, activation="relu"), layers.Dense(6)])
        self.norm = layers.LayerNormalization()

    def call(self, x, training=None):
        h = self.norm(x + self.att(x, x))
        return h + self.ffn(h)


def test_custom_layers_written_with_ops_export_through_their_traced_call(tmp_path):
    tokens = keras.Input((7,))
    h = _PositionEmbedding(7, 15, 6)(tokens)
    h = _Block()(h)
    y = _Scale()(layers.GlobalAveragePooling1D()(h))
    model = keras.Model(tokens, y)
    idx = np.random.default_rng(0).integers(0, 15, (4, 7)).astype("float32")
    run_onnx(model, idx, tmp_path)
    ops_used = {n.op_type for n in onnx.load(tmp_path / "model.onnx").graph.node}
    assert {"Gather", "Softmax", "LayerNormalization", "Tanh"} <= ops_used


def test_user_activation_is_refused(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, activation=lambda t: t * 2,
                                                              name="scaled")])
    with pytest.raises(ExportError, match="'scaled' \\(Dense\\).*user function.*relu"):
        model.export(tmp_path / "m.onnx", format="onnx")


def test_model_export_formats_and_arguments(tmp_path, capsys):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="TensorFlow.*format='onnx'"):
        model.export(tmp_path / "m")                      # Keras's default format
    with pytest.raises(ValueError, match="OpenVINO reads ONNX"):
        model.export(tmp_path / "m", format="openvino")
    with pytest.raises(ValueError, match="unknown format 'onx'.*Valid: 'onnx'"):
        model.export(tmp_path / "m", format="onx")
    with pytest.raises(TypeError, match="Valid: opset_version"):
        model.export(tmp_path / "m.onnx", format="onnx", opset=17)
    with pytest.raises(ValueError, match="opset must be an int from 17"):
        model.export(tmp_path / "m.onnx", format="onnx", opset_version=9)
    with pytest.raises(ValueError, match="input_signature is not supported"):
        model.export(tmp_path / "m.onnx", format="onnx", input_signature=[(None, 3)])
    model.export(tmp_path / "m.onnx", format="onnx", opset_version=18, verbose=True)
    assert "opset 18" in capsys.readouterr().out
    assert onnx.load(tmp_path / "m.onnx").opset_import[0].version == 18
    run_onnx(model, rand(2, 3), tmp_path, opset=min(21, onnx.defs.onnx_opset_version()),
             name="newer.onnx")                       # Reduce* take axes as inputs from 18


def test_unbuilt_model_is_refused(tmp_path):
    model = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ExportError, match="not built"):
        export_onnx(model, tmp_path / "m.onnx")
    with pytest.raises(ExportError, match="takes a kerasnp Model"):
        export_onnx(layers.Dense(2), tmp_path / "m.onnx")


def test_missing_onnx_package_says_how_to_install(tmp_path, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "onnx", None)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    with pytest.raises(ImportError, match='pip install "kerasnp\\[onnx\\]"'):
        model.export(tmp_path / "m.onnx", format="onnx")


@pytest.mark.parametrize("opset", [17, 18, 21])
def test_reductions_across_opsets(opset, tmp_path):
    """Reduce* ops take `axes` as an attribute up to opset 17, as an input from 18."""
    if opset > onnx.defs.onnx_opset_version():
        pytest.skip(f"onnx {onnx.__version__} knows opsets up to "
                    f"{onnx.defs.onnx_opset_version()}")
    x = keras.Input((4, 5, 3))
    seq = layers.Reshape((20, 3))(x)
    outs = [layers.GlobalAveragePooling2D()(x), layers.GlobalMaxPooling2D()(x),
            layers.LayerNormalization(axis=1)(x), layers.Activation(
                keras.activations.softmax.with_params(axis=(1, 2)))(x),
            layers.GlobalAveragePooling1D()(layers.Masking()(seq))]
    got = run_onnx(keras.Model(x, outs), rand(2, 4, 5, 3), tmp_path, opset=opset)
    assert len(got) == 5
    assert onnx.load(tmp_path / "model.onnx").opset_import[0].version == opset
