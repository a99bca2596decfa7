"""3-D (volumetric) layers: torch parity with copied weights (float64), NumPy references for the
reshaping layers, Keras's defaults, config keys and parameter counts (literals checked with
Keras 3.15), models, and errors that name the layer."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L
from kerasnp.autodiff import GradientTape, unwrap


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _ncdhw(a):
    return np.moveaxis(a, -1, 1).copy()


def _ndhwc(t):
    return np.moveaxis(t.detach().numpy(), 1, -1)


def _grads(layer, x, dy):
    with GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
    return np.asarray(unwrap(y)), tape.gradient(y, [x] + layer.trainable_weights,
                                                output_gradients=dy)


@pytest.mark.parametrize("kwargs", [dict(strides=(2, 1, 1), activation="relu"),
                                    dict(padding="valid", dilation_rate=(1, 2, 1), groups=2),
                                    dict(padding="same", strides=2, activation="tanh")])
def test_conv3d_matches_torch_with_copied_weights(kwargs):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    layer = L.Conv3D(4, (3, 2, 3), dtype="float64", **kwargs)
    x = _rand(2, 5, 6, 5, 2, seed=1)
    layer(x)                                             # builds
    rng = np.random.default_rng(2)
    layer.set_weights([rng.standard_normal(w.shape) for w in layer.get_weights()])
    w, b = layer.get_weights()
    y0 = layer(x)
    dy = _rand(*y0.shape, seed=3)
    y, (dx, dw, db) = _grads(layer, x, dy)
    xt = torch.tensor(_ncdhw(x), requires_grad=True)
    wt = torch.tensor(w.transpose(4, 3, 0, 1, 2).copy(), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    pads = (0,) * 6
    if kwargs.get("padding") == "same":         # (1, 2) depth, (0, 1) rows, (1, 1) cols
        pads = (1, 1, 0, 1, 1, 1)
    z = F.conv3d(F.pad(xt, pads), wt, bt, stride=layer.strides, dilation=layer.dilation_rate,
                 groups=layer.groups)
    yt = {"relu": torch.relu, "tanh": torch.tanh}.get(kwargs.get("activation"), lambda v: v)(z)
    (yt * torch.tensor(_ncdhw(dy))).sum().backward()
    np.testing.assert_allclose(y, _ndhwc(yt), atol=1e-10)
    np.testing.assert_allclose(dx, _ndhwc(xt.grad), atol=1e-10)
    np.testing.assert_allclose(dw, wt.grad.numpy().transpose(2, 3, 4, 1, 0), atol=1e-10)
    np.testing.assert_allclose(db, bt.grad.numpy(), atol=1e-10)


def test_conv3d_transpose_matches_torch_with_copied_weights():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    layer = L.Conv3DTranspose(3, (3, 2, 3), strides=(2, 1, 3), output_padding=(1, 0, 2),
                              dtype="float64")
    x = _rand(2, 3, 4, 2, 2, seed=1)
    layer(x)                                             # builds
    rng = np.random.default_rng(2)
    layer.set_weights([rng.standard_normal(w.shape) for w in layer.get_weights()])
    w, b = layer.get_weights()
    assert w.shape == (3, 2, 3, 3, 2)                    # (kd, kh, kw, filters, in), as Keras
    dy = _rand(*layer(x).shape, seed=3)
    y, (dx, dw, db) = _grads(layer, x, dy)
    xt = torch.tensor(_ncdhw(x), requires_grad=True)
    wt = torch.tensor(w.transpose(4, 3, 0, 1, 2).copy(), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    yt = F.conv_transpose3d(xt, wt, bt, stride=(2, 1, 3), output_padding=(1, 0, 2))
    (yt * torch.tensor(_ncdhw(dy))).sum().backward()
    assert y.shape == (2, 8, 5, 8, 3)                    # Keras 3.15: (2, 8, 5, 8, 3)
    np.testing.assert_allclose(y, _ndhwc(yt), atol=1e-10)
    np.testing.assert_allclose(dx, _ndhwc(xt.grad), atol=1e-10)
    np.testing.assert_allclose(dw, wt.grad.numpy().transpose(2, 3, 4, 1, 0), atol=1e-10)
    np.testing.assert_allclose(db, bt.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("name, fn", [("AdaptiveAveragePooling3D", "adaptive_avg_pool3d"),
                                      ("AdaptiveMaxPooling3D", "adaptive_max_pool3d")])
def test_adaptive_pools_match_torch(name, fn):
    torch = pytest.importorskip("torch")
    x = _rand(2, 5, 7, 4, 3, seed=4)
    layer = getattr(L, name)((3, 2, 3))
    dy = _rand(2, 3, 2, 3, 3, seed=5)
    y, (dx,) = _grads(layer, x, dy)
    xt = torch.tensor(_ncdhw(x), requires_grad=True)
    yt = getattr(torch.nn.functional, fn)(xt, (3, 2, 3))
    (yt * torch.tensor(_ncdhw(dy))).sum().backward()
    np.testing.assert_allclose(y, _ndhwc(yt), atol=1e-12)
    np.testing.assert_allclose(dx, _ndhwc(xt.grad), atol=1e-12)


def test_pooling_layers_match_torch_and_global_pools_reduce_every_position():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = _rand(2, 4, 6, 5, 3, seed=6)
    xt = torch.tensor(_ncdhw(x))
    np.testing.assert_allclose(L.MaxPooling3D()(x), _ndhwc(F.max_pool3d(xt, 2)))
    np.testing.assert_allclose(L.AvgPool3D((2, 3, 1), strides=1)(x),
                               _ndhwc(F.avg_pool3d(xt, (2, 3, 1), 1)), atol=1e-12)
    np.testing.assert_allclose(L.GlobalMaxPool3D()(x), x.max(axis=(1, 2, 3)))
    np.testing.assert_allclose(L.GlobalAveragePooling3D(keepdims=True)(x),
                               x.mean(axis=(1, 2, 3), keepdims=True), atol=1e-12)
    # same padding: padded positions do not count (Keras): a corner window of ones averages 1
    assert np.allclose(L.AveragePooling3D(3, strides=2, padding="same")(np.ones((1, 4, 4, 4, 1))),
                       1.0)


def test_reshaping_layers_equal_numpy_and_their_gradients_are_the_adjoints():
    x = _rand(2, 2, 3, 4, 2, seed=7)
    cases = [(L.ZeroPadding3D(((1, 0), 2, (0, 3))),
              np.pad(x, ((0, 0), (1, 0), (2, 2), (0, 3), (0, 0)))),
             (L.Cropping3D(((1, 0), (0, 1), 1)), x[:, 1:, :2, 1:3]),
             (L.UpSampling3D((2, 1, 3)), x.repeat(2, 1).repeat(3, 3))]
    for layer, ref in cases:
        dy = _rand(*ref.shape, seed=8)
        y, (dx,) = _grads(layer, x, dy)
        np.testing.assert_array_equal(y, ref)
        v = _rand(*x.shape, seed=9)                    # <f(v), dy> = <v, fᵀ(dy)> (f is linear)
        np.testing.assert_allclose(np.sum(unwrap(layer(v)) * dy), np.sum(v * dx))


def test_spatial_dropout3d_drops_whole_channels_and_is_identity_in_inference():
    layer = L.SpatialDropout3D(0.5, seed=1)
    x = np.ones((4, 2, 3, 2, 16), "float32")
    y = np.asarray(layer(x, training=True))
    per_channel = y.reshape(4, -1, 16)
    assert np.all(per_channel.min(axis=1) == per_channel.max(axis=1))   # one draw per channel
    assert set(np.unique(y)) <= {0.0, 2.0} and 0 < (y == 0).mean() < 1
    np.testing.assert_array_equal(layer(x), x)


def test_keras_defaults_and_config_keys():
    assert L.MaxPooling3D().pool_size == (2, 2, 2) and L.MaxPooling3D().strides == (2, 2, 2)
    with pytest.raises(TypeError):
        L.AveragePooling3D()                             # pool_size is required, as in Keras
    assert L.ZeroPadding3D().padding == ((1, 1),) * 3
    assert L.Cropping3D().cropping == ((1, 1),) * 3
    assert L.ZeroPadding3D((1, 2, 3)).padding == ((1, 1), (2, 2), (3, 3))
    assert L.UpSampling3D().size == (2, 2, 2)
    assert L.Conv3D(4, 3).strides == (1, 1, 1) and L.Conv3D(4, 3).kernel_size == (3, 3, 3)
    assert L.AdaptiveMaxPooling3D(2).output_size == (2, 2, 2)
    assert L.Convolution3D is L.Conv3D and L.Convolution3DTranspose is L.Conv3DTranspose
    assert L.GlobalAvgPool3D is L.GlobalAveragePooling3D and L.MaxPool3D is L.MaxPooling3D
    keys = {"Conv3DTranspose": {"filters", "kernel_size", "strides", "padding", "output_padding",
                                "dilation_rate", "activation", "use_bias"},
            "ZeroPadding3D": {"padding", "data_format"}, "Cropping3D": {"cropping", "data_format"},
            "UpSampling3D": {"size", "data_format"},
            "SpatialDropout3D": {"rate", "seed", "data_format"},
            "AdaptiveAveragePooling3D": {"output_size", "data_format"},
            "MaxPooling3D": {"pool_size", "strides", "padding", "data_format"},
            "GlobalMaxPooling3D": {"data_format", "keepdims"}}
    for name, expected in keys.items():
        cls = getattr(L, name)
        layer = cls(2, 3) if "Conv" in name else cls(0.5) if "Dropout" in name else \
            cls(2) if "Adaptive" in name else cls()
        cfg = layer.get_config()
        assert expected <= set(cfg), name
        assert cls.from_config(cfg).get_config() == cfg


def test_parameter_counts_equal_keras():
    model = keras.Sequential([keras.Input((6, 6, 6, 2)), L.Conv3D(4, 3),
                              L.Conv3DTranspose(3, (2, 3, 2), strides=2), L.MaxPooling3D(),
                              L.GlobalAveragePooling3D()])
    # Keras 3.15: 220 and 147 parameters, output (None, 3, 4, 3, 3) before the global pool
    assert [layer.count_params() for layer in model.layers] == [220, 147, 0, 0]
    assert model.count_params() == 367 and model.output_shape == (None, 3)
    assert [w.shape for w in model.weights] == [(3, 3, 3, 2, 4), (4,), (2, 3, 2, 3, 4), (3,)]
    grouped = L.Conv3D(6, 2, groups=2, use_bias=False)
    grouped.build((None, 3, 3, 3, 4))
    assert grouped.kernel.shape == (2, 2, 2, 2, 6)


def test_functional_model_trains_and_round_trips(tmp_path):
    inputs = keras.Input((4, 4, 4, 1))
    h = L.Conv3D(3, 3, padding="same", activation="relu")(inputs)
    h = L.UpSampling3D((1, 1, 2))(L.MaxPooling3D(2)(h))
    out = L.Dense(1)(L.GlobalMaxPooling3D()(L.ZeroPadding3D(1)(h)))
    model = keras.Model(inputs, out)
    model.compile("adam", "mse")
    x, t = _rand(8, 4, 4, 4, 1).astype("float32"), _rand(8, 1).astype("float32")
    before = model.get_weights()[0].copy()
    model.fit(x, t, epochs=1, batch_size=4, verbose=0)
    assert not np.array_equal(before, model.get_weights()[0])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("make, shape, match", [
    (lambda: L.Conv3D(4, 3), (1, 4, 4, 4),
     r"'conv3d.*' \(Conv3D\) expected input of rank 5 .*received shape \(None, 4, 4, 4\)"),
    (lambda: L.MaxPooling3D(), (1, 4, 4, 4), r"MaxPooling3D\) expected input of rank 5"),
    (lambda: L.UpSampling3D(), (1, 4, 4), r"UpSampling3D\) expected input of rank 5"),
    (lambda: L.Cropping3D(2), (1, 4, 5, 5, 1), r"leaves nothing"),
    (lambda: L.MaxPooling3D(3), (1, 2, 4, 4, 1), r"does not fit"),
])
def test_bad_inputs_name_the_layer(make, shape, match):
    with pytest.raises(ValueError, match=match):
        make()(np.ones(shape, "float32"))


@pytest.mark.parametrize("make, match", [
    (lambda: L.ZeroPadding3D((1, 2)), r"ZeroPadding3D.*padding.*Received: padding=\(1, 2\)"),
    (lambda: L.AdaptiveMaxPooling3D((2, 2)), r"output_size.*Received: output_size=\(2, 2\)"),
    (lambda: L.Conv3D(4, (3, 3)), r"kernel_size"),
    (lambda: L.MaxPooling3D(data_format="channels_first"), r"channels_first"),
])
def test_bad_arguments_say_what_was_received(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()
