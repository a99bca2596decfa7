"""AdaptiveAveragePooling2D, AdaptiveMaxPooling2D, DepthwiseConv1D and SeparableConv1D: values
against torch in float64 with copied weights, float64 gradients against finite differences,
Keras 3 configs, weight shapes and parameter counts (checked with Keras 3.15)."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L
from kerasnp.utils.gradient_check import layer_gradient_errors

RNG = np.random.default_rng(1)


def _cfg(layer):
    cfg = layer.get_config()
    for key in ("name", "trainable", "dtype"):
        cfg.pop(key, None)
    return cfg


# -- adaptive pooling -----------------------------------------------------------------------
@pytest.mark.parametrize("size", [(3, 2), (4, 4), (7, 5), 1])
def test_adaptive_pools_match_torch(size):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 7, 5, 3))
    tx = torch.tensor(x).permute(0, 3, 1, 2)
    ref_avg = torch.nn.functional.adaptive_avg_pool2d(tx, size).permute(0, 2, 3, 1).numpy()
    ref_max = torch.nn.functional.adaptive_max_pool2d(tx, size).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(L.AdaptiveAveragePooling2D(size)(x), ref_avg, atol=1e-12)
    np.testing.assert_array_equal(L.AdaptiveMaxPooling2D(size)(x), ref_max)


@pytest.mark.parametrize("cls", [L.AdaptiveAveragePooling2D, L.AdaptiveMaxPooling2D])
def test_adaptive_pools_gradients_and_config(cls):
    x = RNG.standard_normal((2, 7, 5, 3))
    errors = layer_gradient_errors(cls((3, 2), dtype="float64"), x)
    assert errors["input"] < 1e-6, errors
    layer = cls(3)
    assert _cfg(layer) == {"output_size": [3, 3], "data_format": "channels_last"}
    assert layer.compute_output_shape((None, 7, 7, 2)) == (None, 3, 3, 2)
    assert cls.from_config(layer.get_config()).output_size == (3, 3)
    with pytest.raises(TypeError, match=f"{cls.__name__}.*output_size"):
        cls((2, 2, 2))
    with pytest.raises(ValueError, match=f"{cls.__name__}.*output_size"):
        cls((2, 0))


def test_adaptive_max_gradient_goes_to_the_bin_maximum():
    x = np.zeros((1, 4, 4, 1))
    x[0, 1, 2, 0] = 5.0
    from kerasnp.autodiff import GradientTape
    from kerasnp import ops
    with GradientTape() as tape:
        tape.watch(x)
        loss = ops.sum(L.AdaptiveMaxPooling2D(1)(x))
    dx = np.asarray(tape.gradient(loss, x))
    expected = np.zeros_like(x)
    expected[0, 1, 2, 0] = 1.0
    np.testing.assert_array_equal(dx, expected)


# -- depthwise / separable 1-D --------------------------------------------------------------
def _torch_depthwise(torch, x, kernel, bias, stride, padding, dilation):
    k, cin, dm = kernel.shape
    w = torch.tensor(kernel).permute(1, 2, 0).reshape(cin * dm, 1, k)   # out c·dm+m <- in c
    y = torch.nn.functional.conv1d(torch.tensor(x).permute(0, 2, 1), w,
                                   None if bias is None else torch.tensor(bias), stride=stride,
                                   padding=padding, dilation=dilation, groups=cin)
    return y


@pytest.mark.parametrize("kwargs,pad", [(dict(), 0), (dict(padding="same"), 1),
                                        (dict(strides=2, depth_multiplier=2), 0),
                                        (dict(dilation_rate=2, depth_multiplier=3), 0)])
def test_depthwise_conv1d_matches_torch(kwargs, pad):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 9, 3))
    layer = L.DepthwiseConv1D(3, dtype="float64", bias_initializer="random_normal", **kwargs)
    y = np.asarray(layer(x))
    ref = _torch_depthwise(torch, x, layer.kernel.numpy(), layer.bias.numpy(),
                           layer.strides[0], pad, layer.dilation_rate[0])
    np.testing.assert_allclose(y, ref.permute(0, 2, 1).numpy(), atol=1e-12)
    errors = layer_gradient_errors(layer, x)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("kwargs,pad", [(dict(), 0), (dict(padding="same", depth_multiplier=2), 1)])
def test_separable_conv1d_matches_torch(kwargs, pad):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 8, 3))
    layer = L.SeparableConv1D(4, 3, dtype="float64", bias_initializer="random_normal",
                              activation="tanh", **kwargs)
    y = np.asarray(layer(x))
    d = _torch_depthwise(torch, x, layer.depthwise_kernel.numpy(), None, 1, pad, 1)
    pw = torch.tensor(layer.pointwise_kernel.numpy()[0]).T[:, :, None]     # (cout, cin·dm, 1)
    ref = torch.tanh(torch.nn.functional.conv1d(d, pw, torch.tensor(layer.bias.numpy())))
    np.testing.assert_allclose(y, ref.permute(0, 2, 1).numpy(), atol=1e-12)
    errors = layer_gradient_errors(layer, x)
    assert max(errors.values()) < 1e-6, errors


def test_depthwise_separable_1d_weights_config_and_params():
    dw = L.DepthwiseConv1D(3)
    dw.build((None, 7, 2))
    assert [(w.name, w.shape) for w in dw.weights] == [("kernel", (3, 2, 1)), ("bias", (2,))]
    cfg = _cfg(dw)
    assert {k: cfg[k] for k in ("kernel_size", "strides", "padding", "dilation_rate",
                                "depth_multiplier", "activation", "use_bias")} == {
        "kernel_size": [3], "strides": [1], "padding": "valid", "dilation_rate": [1],
        "depth_multiplier": 1, "activation": "linear", "use_bias": True}
    assert "filters" not in cfg and "depthwise_initializer" in cfg
    sep = L.SeparableConv1D(4, 3)
    sep.build((None, 7, 2))
    assert [(w.name, w.shape) for w in sep.weights] == [
        ("depthwise_kernel", (3, 2, 1)), ("pointwise_kernel", (1, 2, 4)), ("bias", (4,))]
    assert _cfg(sep)["filters"] == 4 and "pointwise_initializer" in _cfg(sep)
    assert L.SeparableConvolution1D is L.SeparableConv1D
    model = keras.Sequential([keras.Input((10, 3)), L.DepthwiseConv1D(3, depth_multiplier=2),
                              L.SeparableConv1D(5, 3, depth_multiplier=2)])
    # Keras 3.15: DepthwiseConv1D 3*3*2 + 6 = 24; SeparableConv1D 3*6*2 + 12*5 + 5 = 101
    assert [lay.count_params() for lay in model.layers[:2]] == [24, 101]
    clone = L.SeparableConv1D.from_config(sep.get_config())
    assert _cfg(clone) == _cfg(sep)
    with pytest.raises(ValueError, match="DepthwiseConv1D.*padding"):
        L.DepthwiseConv1D(3, padding="causal")


def test_conv1d_family_model_trains_and_saves(tmp_path):
    model = keras.Sequential([keras.Input((9, 3)), L.DepthwiseConv1D(3, padding="same"),
                              L.SeparableConv1D(4, 3), L.Reshape((7, 4, 1)),
                              L.AdaptiveMaxPooling2D((3, 2)), L.AdaptiveAveragePooling2D(1)])
    x = RNG.standard_normal((4, 9, 3)).astype("float32")
    model.compile("adam", "mse")
    model.fit(x, np.zeros((4, 1, 1, 1)), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
