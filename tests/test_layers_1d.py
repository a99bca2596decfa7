"""The 1-D family: Conv1DTranspose (torch parity in float64, outputs and gradients), UpSampling1D,
ZeroPadding1D, Cropping1D, AdaptiveAverage/MaxPooling1D; float64 central-difference gradient
checks, Keras parameter counts, config and save/load round trips, errors."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers

from _cases_conv import tape_gradients
from _tape_check import tape_gradient_errors

TOL = 1e-7


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


# -- Conv1DTranspose --------------------------------------------------------------------------
def _keras_crop(k, s, d, padding, output_padding):
    """Keras's transposed-convolution padding (its JAX backend's rule, written out): how many
    steps of the full transposed convolution `(L - 1)·s + k_eff` are dropped at the start, and
    the padding `(left, right)` of the stride-dilated input that fixes the output length."""
    k_eff = (k - 1) * d + 1
    if padding == "valid":
        op = max(k_eff, s) - k_eff if output_padding is None else output_padding
        left, right = k_eff - 1, k_eff - 1 + op
    else:
        pad = s + k_eff - 2 if output_padding is None else k_eff + k_eff % 2 - 2 + output_padding
        left = min(pad // 2 + pad % 2, k_eff - 1)
        right = pad - left
    return k_eff - 1 - left, left, right


CASES = [  # kernel, strides, dilation, padding, output_padding
    (3, 1, 1, "valid", None), (3, 2, 1, "valid", None), (2, 3, 1, "valid", None),
    (4, 2, 1, "same", None), (3, 2, 1, "same", None), (5, 1, 1, "same", None),
    (3, 2, 2, "valid", None), (3, 1, 2, "same", None), (3, 2, 1, "same", 1),
    (4, 3, 1, "valid", 2), (3, 3, 2, "same", 2),
]


@pytest.mark.parametrize("k,s,d,padding,op", CASES)
def test_conv1d_transpose_matches_torch(k, s, d, padding, op, float64):
    torch = pytest.importorskip("torch")
    x = _x((2, 6, 3))
    layer = layers.Conv1DTranspose(4, k, strides=s, padding=padding, output_padding=op,
                                   dilation_rate=d, bias_initializer="random_normal")
    layer(x)                                            # builds it
    dy = _x(layer.compute_output_shape(x.shape), 1)
    y, dx, (dw, db) = tape_gradients(layer, x, dy)
    assert y.shape == layer.compute_output_shape((2, 6, 3))

    xt = torch.tensor(np.moveaxis(x, -1, 1).copy(), requires_grad=True)
    wt = torch.tensor(layer.kernel.numpy().transpose(2, 1, 0).copy(), requires_grad=True)
    bt = torch.tensor(layer.bias.numpy(), requires_grad=True)
    full = torch.nn.functional.conv_transpose1d(xt, wt, stride=s, dilation=d)   # (n, c, L')
    start, _, _ = _keras_crop(k, s, d, padding, op)
    length = y.shape[1]
    extra = max(start + length - full.shape[2], 0)      # zeros a short full output is padded with
    full = torch.nn.functional.pad(full, (0, extra))
    yt = full[:, :, start:start + length] + bt[None, :, None]
    yt.backward(torch.tensor(np.moveaxis(dy, -1, 1).copy()))
    np.testing.assert_allclose(y, np.moveaxis(yt.detach().numpy(), 1, -1), atol=TOL)
    np.testing.assert_allclose(dx, np.moveaxis(xt.grad.numpy(), 1, -1), atol=TOL)
    np.testing.assert_allclose(dw, wt.grad.numpy().transpose(2, 1, 0), atol=TOL)
    np.testing.assert_allclose(db, bt.grad.numpy(), atol=TOL)


def test_conv1d_transpose_output_lengths_follow_keras():
    # Keras 3 values: length 10, kernel 3
    assert layers.Conv1DTranspose(8, 3, strides=2).compute_output_shape((None, 10, 4)) == \
        (None, 21, 8)
    assert layers.Conv1DTranspose(8, 3, strides=2, padding="same").compute_output_shape(
        (None, 10, 4)) == (None, 20, 8)
    assert layers.Conv1DTranspose(8, 3, strides=2, padding="same", output_padding=1) \
        .compute_output_shape((None, 10, 4)) == (None, 20, 8)
    assert layers.Conv1DTranspose(8, 3, dilation_rate=2).compute_output_shape(
        (None, 10, 4)) == (None, 14, 8)


def test_conv1d_transpose_gradients_with_activation(float64):
    layer = layers.Conv1DTranspose(3, 3, strides=2, padding="same", activation="tanh")
    errors = tape_gradient_errors(layer, _x((2, 5, 2)))
    assert max(errors.values()) < 1e-6, errors


def test_conv1d_transpose_params_config_and_save(tmp_path):
    layer = layers.Conv1DTranspose(16, 5, strides=2, padding="same", output_padding=1)
    model = keras.Sequential([keras.Input((10, 8)), layer])
    assert layer.kernel.shape == (5, 16, 8)          # Keras's layout (k, filters, in_channels)
    assert model.count_params() == 5 * 16 * 8 + 16 == 656
    cfg = layer.get_config()
    assert cfg["output_padding"] == [1] and cfg["kernel_size"] == [5]
    assert layers.Conv1DTranspose.from_config(cfg).get_config() == cfg
    x = _x((3, 10, 8)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_conv1d_transpose_errors():
    with pytest.raises(ValueError, match=r"Conv1DTranspose.*output_padding.*Received"):
        layers.Conv1DTranspose(4, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match=r"Conv1DTranspose.*rank 3.*\(None, 5\)"):
        layers.Conv1DTranspose(4, 3)(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"padding.*Received: padding='causal'"):
        layers.Conv1DTranspose(4, 3, padding="causal")


# -- UpSampling1D, ZeroPadding1D, Cropping1D --------------------------------------------------
def test_reshaping_1d_values():
    x = np.arange(6.0).reshape(1, 3, 2)
    up = layers.UpSampling1D(3)(x)
    np.testing.assert_array_equal(up, np.repeat(x, 3, axis=1))
    pad = layers.ZeroPadding1D((1, 2))(x)
    np.testing.assert_array_equal(pad, np.pad(x, ((0, 0), (1, 2), (0, 0))))
    assert layers.ZeroPadding1D()(x).shape == (1, 5, 2)              # default 1 on both sides
    crop = layers.Cropping1D((1, 0))(x)
    np.testing.assert_array_equal(crop, x[:, 1:])
    assert layers.Cropping1D()(np.zeros((2, 5, 1))).shape == (2, 3, 1)   # default (1, 1)


@pytest.mark.parametrize("make", [lambda: layers.UpSampling1D(2),
                                  lambda: layers.ZeroPadding1D((2, 1)),
                                  lambda: layers.Cropping1D((1, 2))])
def test_reshaping_1d_gradients(make, float64):
    errors = tape_gradient_errors(make(), _x((2, 5, 3)))
    assert errors["input"] < 1e-7, errors


@pytest.mark.parametrize("make,shape", [
    (lambda: layers.UpSampling1D(3), (None, 4, 2)),
    (lambda: layers.ZeroPadding1D(2, name="zp"), (None, None, 2)),
    (lambda: layers.Cropping1D(1), (None, 4, 2))])
def test_reshaping_1d_shapes_and_config(make, shape):
    layer = make()
    out = layer.compute_output_shape(shape)
    y = layer(np.zeros((2, 4, 2)))
    assert y.shape == layer.compute_output_shape((2, 4, 2))
    copy = type(layer).from_config(layer.get_config())
    assert copy.get_config() == layer.get_config()
    inp = keras.Input(shape[1:])
    assert layer(inp).shape == out


def test_reshaping_1d_errors():
    with pytest.raises(ValueError, match=r"Cropping1D.*leaves nothing.*Received: cropping"):
        layers.Cropping1D((2, 2))(np.zeros((1, 4, 1)))
    with pytest.raises(ValueError, match=r"UpSampling1D.*size.*Received: size=0"):
        layers.UpSampling1D(0)
    with pytest.raises(ValueError, match=r"ZeroPadding1D.*padding.*Received: padding=\(1, 2, 3\)"):
        layers.ZeroPadding1D((1, 2, 3))
    with pytest.raises(ValueError, match=r"ZeroPadding1D.*rank 3.*\(None, 4\)"):
        layers.ZeroPadding1D()(np.zeros((2, 4)))


# -- Adaptive pooling -------------------------------------------------------------------------
@pytest.mark.parametrize("length,out", [(6, 2), (7, 3), (5, 5), (10, 4), (3, 5)])
@pytest.mark.parametrize("mode", ["avg", "max"])
def test_adaptive_pooling_matches_torch(length, out, mode, float64):
    torch = pytest.importorskip("torch")
    cls = layers.AdaptiveAveragePooling1D if mode == "avg" else layers.AdaptiveMaxPooling1D
    layer = cls(out)
    x = _x((2, length, 3))
    dy = _x((2, out, 3), 1)
    y, dx, _ = tape_gradients(layer, x, dy)
    xt = torch.tensor(np.moveaxis(x, -1, 1).copy(), requires_grad=True)
    fn = (torch.nn.functional.adaptive_avg_pool1d if mode == "avg"
          else torch.nn.functional.adaptive_max_pool1d)
    yt = fn(xt, out)
    yt.backward(torch.tensor(np.moveaxis(dy, -1, 1).copy()))
    np.testing.assert_allclose(y, np.moveaxis(yt.detach().numpy(), 1, -1), atol=1e-12)
    np.testing.assert_allclose(dx, np.moveaxis(xt.grad.numpy(), 1, -1), atol=1e-12)


def test_adaptive_pooling_keras_values_config_and_errors():
    x = np.arange(1.0, 7.0).reshape(1, 6, 1)
    np.testing.assert_allclose(layers.AdaptiveAveragePooling1D(2)(x)[0, :, 0], [2.0, 5.0])
    np.testing.assert_allclose(layers.AdaptiveMaxPooling1D(2)(x)[0, :, 0], [3.0, 6.0])
    layer = layers.AdaptiveMaxPooling1D((4,))
    assert layer.get_config()["output_size"] == [4]
    assert layer.compute_output_shape((None, None, 3)) == (None, 4, 3)
    assert layers.AdaptiveMaxPooling1D.from_config(layer.get_config()).output_size == (4,)
    with pytest.raises(TypeError, match=r"AdaptiveAveragePooling1D.*output_size.*Received"):
        layers.AdaptiveAveragePooling1D(2.5)
    with pytest.raises(ValueError, match=r"channels_first.*Received: data_format"):
        layers.AdaptiveAveragePooling1D(2, data_format="channels_first")


def test_adaptive_pooling_gradients(float64):
    for layer in (layers.AdaptiveAveragePooling1D(3), layers.AdaptiveMaxPooling1D(3)):
        errors = tape_gradient_errors(layer, _x((2, 7, 2)))
        assert errors["input"] < 1e-7, errors


def test_local_1d_pooling_has_every_keras_argument():
    for cls in (layers.MaxPooling1D, layers.AveragePooling1D):
        layer = cls(pool_size=3, strides=2, padding="same", data_format="channels_last")
        cfg = layer.get_config()
        assert (cfg["pool_size"], cfg["strides"], cfg["padding"]) == (3, 2, "same")
        assert layer(np.zeros((1, 7, 2))).shape == (1, 4, 2)
        assert cls().get_config()["pool_size"] == 2                  # Keras default
    assert layers.MaxPool1D is layers.MaxPooling1D and layers.AvgPool1D is layers.AveragePooling1D
