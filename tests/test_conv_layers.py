"""Convolution layers: Keras semantics ("same" placement, shapes, counts), errors, torch parity."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import config
from kerasnp.layers.conv import Conv1D, Conv2D
from kerasnp.layers.conv_depthwise import DepthwiseConv2D, SeparableConv2D

from _cases_conv import CASES, tape_gradients
from _tape_check import tape_gradient_errors


def _rand(*shape, seed=0, dtype="float64"):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("h,w,k,s,d", [(7, 7, 3, 2, 1), (6, 6, 3, 2, 1), (8, 5, 4, 3, 1),
                                       (6, 9, 2, 2, 1), (7, 6, 3, 1, 2), (5, 5, 1, 2, 1)])
def test_same_padding_puts_extra_row_and_column_bottom_right(h, w, k, s, d, float64):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    layer = Conv2D(3, k, strides=s, padding="same", dilation_rate=d)
    x = _rand(2, h, w, 2)
    y = layer(x)
    assert y.shape == (2, -(-h // s), -(-w // s), 3)
    keff = (k - 1) * d + 1
    ph = max((y.shape[1] - 1) * s + keff - h, 0)
    pw = max((y.shape[2] - 1) * s + keff - w, 0)
    xt = F.pad(torch.from_numpy(x).permute(0, 3, 1, 2), (pw // 2, pw - pw // 2,
                                                         ph // 2, ph - ph // 2))
    wt = torch.from_numpy(layer.kernel.value).permute(3, 2, 0, 1)
    ref = F.conv2d(xt, wt, torch.from_numpy(layer.bias.value), stride=s, dilation=d)
    np.testing.assert_allclose(y, ref.permute(0, 2, 3, 1).numpy(), rtol=1e-10, atol=1e-12)


def test_conv2d_forward_and_gradients_equal_torch_with_groups_and_stride(float64):
    torch = pytest.importorskip("torch")
    layer = Conv2D(6, (3, 2), strides=(2, 1), padding="valid", groups=3, dilation_rate=1,
                   activation="relu")
    x = _rand(3, 9, 8, 3, seed=1)
    dy = _rand(*layer.compute_output_shape(x.shape), seed=2)
    y, dx, (dw, db) = tape_gradients(layer, x, dy)
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    wt = torch.tensor(layer.kernel.value.transpose(3, 2, 0, 1), requires_grad=True)
    bt = torch.tensor(layer.bias.value, requires_grad=True)
    yt = torch.relu(torch.nn.functional.conv2d(xt, wt, bt, stride=(2, 1), groups=3))
    (yt * torch.from_numpy(dy.transpose(0, 3, 1, 2))).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 3, 1), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), atol=1e-10)
    np.testing.assert_allclose(dw, wt.grad.numpy().transpose(2, 3, 1, 0), atol=1e-10)
    np.testing.assert_allclose(db, bt.grad.numpy(), atol=1e-10)


def test_conv1d_causal_sees_only_the_past():
    layer = Conv1D(1, 3, padding="causal", use_bias=False, kernel_initializer="ones")
    x = np.zeros((1, 6, 1), "float32")
    x[0, 3, 0] = 1.0
    y = layer(x)[0, :, 0]
    np.testing.assert_array_equal(y, [0, 0, 0, 1, 1, 1])


def test_depthwise_channel_order_matches_keras():
    layer = DepthwiseConv2D(1, depth_multiplier=2, use_bias=False)
    x = np.ones((1, 2, 2, 3), "float32") * np.array([1, 10, 100], "float32")
    layer(x)
    layer.depthwise_kernel.value[...] = np.array([[1, 2], [3, 4], [5, 6]], "float32")
    y = layer(x)[0, 0, 0]
    np.testing.assert_allclose(y, [1, 2, 30, 40, 500, 600])   # channel c*dm + m from input c


def test_keras_parameter_counts_of_the_mnist_convnet():
    model = keras.Sequential([
        keras.Input((28, 28, 1)), Conv2D(32, (3, 3), activation="relu"),
        Conv2D(64, 3, activation="relu"), keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax")])
    assert [l.count_params() for l in model.layers] == [320, 18496, 0, 368650]
    assert model.layers[1].kernel.shape == (3, 3, 32, 64)
    assert model.output_shape == (None, 10)
    sep = SeparableConv2D(16, 3, depth_multiplier=2)
    sep(np.ones((1, 8, 8, 4), "float32"))
    assert sep.count_params() == 3 * 3 * 4 * 2 + 8 * 16 + 16
    dw = DepthwiseConv2D(3, depth_multiplier=3)
    dw(np.ones((1, 8, 8, 4), "float32"))
    assert dw.count_params() == 3 * 3 * 4 * 3 + 12


@pytest.mark.parametrize("kwargs,match", [
    ({"filters": 0, "kernel_size": 3}, r"filters.*positive integer.*Received: filters=0"),
    ({"filters": 4, "kernel_size": (3, 3, 3)}, r"kernel_size.*tuple of 2.*Received"),
    ({"filters": 4, "kernel_size": 3, "padding": "full"},
     r"padding.*'valid', 'same'.*Received: padding='full'"),
    ({"filters": 4, "kernel_size": 3, "data_format": "channels_first"},
     r"channels_last.*Received: data_format='channels_first'"),
    ({"filters": 5, "kernel_size": 3, "groups": 2}, r"divisible by groups.*filters=5"),
    ({"filters": 4, "kernel_size": 3, "strides": 0}, r"strides.*positive integer"),
])
def test_conv2d_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Conv2D(**kwargs)


def test_conv2d_shape_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"Layer 'c' \(Conv2D\).*too small.*kernel_size=\(5, 5\)"):
        keras.Sequential([keras.Input((3, 3, 1)), Conv2D(2, 5, name="c")])
    with pytest.raises(ValueError, match=r"Layer 'c2' \(Conv2D\).*input channels \(3\).*groups \(2\)"):
        keras.Sequential([keras.Input((5, 5, 3)), Conv2D(2, 3, groups=2, name="c2")])
    with pytest.raises(ValueError, match=r"Layer 'c3' \(Conv2D\) expected input of rank 4"):
        keras.Sequential([keras.Input((5, 5)), Conv2D(2, 3, name="c3")])
    with pytest.raises(ValueError, match=r"padding.*'causal'"):
        Conv1D(2, 3, padding="full")


def test_conv_net_trains_on_float32_and_keeps_dtype():
    keras.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8, 8, 1)).astype("float32")
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype("int64")
    model = keras.Sequential([keras.Input((8, 8, 1)), Conv2D(4, 3, activation="relu"),
                              SeparableConv2D(4, 3, padding="same", activation="relu"),
                              Conv2D(4, 3, strides=2), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert hist.history["accuracy"][-1] > 0.8
    assert model.predict(x, verbose=0).dtype == np.float32


@pytest.mark.parametrize("kwargs,hw", [({"kernel_size": 3}, (4, 5)),
                                       ({"kernel_size": 3, "strides": 2, "padding": "same"},
                                        (3, 4)),
                                       ({"kernel_size": 2, "strides": 3}, (3, 3)),
                                       ({"kernel_size": 3, "strides": 2, "padding": "same",
                                         "output_padding": 1}, (3, 3)),
                                       ({"kernel_size": 4, "strides": 2, "padding": "same"},
                                        (5, 4))])
def test_conv2d_transpose_equals_torch(kwargs, hw, float64):
    torch = pytest.importorskip("torch")
    from kerasnp.layers._padding import pads_2d
    from kerasnp.layers.conv_transpose import Conv2DTranspose
    layer = Conv2DTranspose(3, **kwargs)
    x = _rand(2, *hw, 2, seed=3)
    dy = _rand(2, *layer.compute_output_shape((None, *hw, 2))[1:], seed=4)
    y, dx, (dw, _) = tape_gradients(layer, x, dy)
    k, s = layer.kernel_size, layer.strides
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    wt = torch.tensor(layer.kernel.value.transpose(3, 2, 0, 1), requires_grad=True)
    full = torch.nn.functional.conv_transpose2d(xt, wt, stride=s)      # no padding: then crop
    top, bottom, left, right = pads_2d(y.shape[1], y.shape[2], k, s, layer.padding)
    out = full[:, :, top:, left:]
    extra_h, extra_w = y.shape[1] - out.shape[2], y.shape[2] - out.shape[3]
    out = torch.nn.functional.pad(out, (0, max(extra_w, 0), 0, max(extra_h, 0)))
    out = out[:, :, :y.shape[1], :y.shape[2]]
    out = out + torch.from_numpy(layer.bias.value)[None, :, None, None]
    np.testing.assert_allclose(y, out.detach().numpy().transpose(0, 2, 3, 1), atol=1e-12)
    (out * torch.from_numpy(dy.transpose(0, 3, 1, 2))).sum().backward()
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), atol=1e-10)
    np.testing.assert_allclose(dw, wt.grad.numpy().transpose(2, 3, 1, 0), atol=1e-10)


def test_conv2d_transpose_output_sizes_follow_keras():
    from kerasnp.layers.conv_transpose import Conv2DTranspose
    x = np.ones((1, 7, 7, 2), "float32")
    assert Conv2DTranspose(4, 3, strides=2, padding="same")(x).shape == (1, 14, 14, 4)
    assert Conv2DTranspose(4, 3, strides=2)(x).shape == (1, 15, 15, 4)
    assert Conv2DTranspose(4, 1, strides=2)(x).shape == (1, 14, 14, 4)
    assert Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1)(x).shape \
        == (1, 14, 14, 4)
    assert Conv2DTranspose(4, 3, strides=2, output_padding=1)(x).shape == (1, 16, 16, 4)
    with pytest.raises(ValueError, match="output_padding must be smaller than strides"):
        Conv2DTranspose(4, 3, strides=2, output_padding=2)


# ------------------------------------------------------------------ the tape contract (call())
@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_match_central_differences(case, float64):
    make, shape, opts = CASES[case]
    layer = make()
    x = _rand(3, *shape, seed=1)
    layer(x)
    for v in layer.weights:       # move weights off their init values (zeros/ones hide bugs)
        v.value += np.random.default_rng(2).normal(0, 0.1, v.shape)
    errors = tape_gradient_errors(layer, x, training=opts.get("training", False))
    assert set(errors) == {"input"} | {v.name for v in layer.trainable_weights}
    bad = {k: e for k, e in errors.items() if not e < 1e-6}
    assert not bad, f"gradient mismatch for {case}: {bad}"


@pytest.mark.parametrize("case", ["conv2d_same_stride2_odd", "conv2d_groups", "conv1d_valid",
                                  "depthwise_stride2_relu", "separable",
                                  "conv2d_transpose_same_s2"])
def test_one_node_per_call_and_no_state_on_the_layer(case):
    from kerasnp.autodiff import GradientTape
    make, shape, _ = CASES[case]
    layer = make()
    x = _rand(2, *shape, dtype="float32")
    layer(x)
    before = set(vars(layer))
    with GradientTape() as tape:
        tape.watch(x)
        layer(x, training=True)
    relu_or_linear = layer.activation.name in ("relu", "linear")
    assert len(tape._nodes) == (1 if relu_or_linear else 2)    # conv+bias(+relu) [+ activation]
    assert set(vars(layer)) == before                           # nothing per-call on self


def test_shared_conv_called_twice_in_one_tape_sums_both_gradients(float64):
    layer = Conv2D(3, 3, activation="relu", padding="same")
    a, b = _rand(2, 5, 5, 2, seed=1), _rand(2, 5, 5, 2, seed=2)
    dy = _rand(2, 5, 5, 3, seed=3)
    layer(a)
    from kerasnp.autodiff import GradientTape
    with GradientTape() as tape:
        ya, yb = layer(a), layer(b)
    gw, gb = tape.gradient([ya, yb], [layer.kernel, layer.bias], output_gradients=[dy, dy])
    _, _, (wa, ba) = tape_gradients(layer, a, dy)
    _, _, (wb, bb) = tape_gradients(layer, b, dy)
    np.testing.assert_allclose(gw, wa + wb, rtol=1e-12)
    np.testing.assert_allclose(gb, ba + bb, rtol=1e-12)


def test_first_layer_skips_the_input_gradient_and_predict_keeps_no_patches(monkeypatch):
    """col2im runs only for a tracked input; im2col patches are kept only inside a tape."""
    from kerasnp import kernels
    from kerasnp.autodiff import GradientTape
    calls = []
    fwd, bwd = kernels.conv2d_forward, kernels.conv2d_backward

    def forward(*args, keep_cols=False, **kw):
        calls.append(("keep_cols", keep_cols))
        return fwd(*args, keep_cols=keep_cols, **kw)

    def backward(*args, need_dx=True, **kw):
        calls.append(("need_dx", need_dx))
        return bwd(*args, need_dx=need_dx, **kw)
    monkeypatch.setattr(kernels, "conv2d_forward", forward)
    monkeypatch.setattr(kernels, "conv2d_backward", backward)
    layer = Conv2D(4, 3, activation="relu")
    x = _rand(2, 6, 6, 1, dtype="float32")
    layer(x)                                                    # no tape: nothing kept
    assert calls == [("keep_cols", False)]
    calls.clear()
    with GradientTape() as tape:                                # x not watched: a first layer
        y = layer(x, training=True)
    dw, dx = tape.gradient(y, [layer.kernel, x])
    assert dx is None and dw.shape == layer.kernel.shape
    assert calls == [("keep_cols", True), ("need_dx", False)]


def test_frozen_kernel_gets_no_gradient_but_the_input_does(float64):
    """A kernel passed as a plain array (not tracked) skips dW; dX still comes back."""
    from kerasnp.autodiff import GradientTape
    from kerasnp.ops._conv_fused import conv_bias_act
    x, w = _rand(2, 5, 5, 2, seed=1), _rand(3, 3, 2, 4, seed=2)
    dy = _rand(2, 3, 3, 4, seed=3)
    with GradientTape() as tape:
        tape.watch(x)
        y = conv_bias_act(x, w, None, "relu", (1, 1), (0, 0, 0, 0), (1, 1), 1)
    (dx,) = tape.gradient(y, [x], output_gradients=dy)
    layer = Conv2D(4, 3, activation="relu", use_bias=False)
    layer(x)
    layer.kernel.value[...] = w
    _, want, _ = tape_gradients(layer, x, dy)
    np.testing.assert_allclose(dx, want, rtol=1e-12)


def test_conv_layers_build_symbolic_models_and_keep_float32():
    inp = keras.Input((9, 9, 2))
    h = Conv2D(4, 3, activation="relu", padding="same")(inp)
    h = SeparableConv2D(3, 3, activation="tanh")(h)
    h = DepthwiseConv2D(3, strides=2)(h)
    from kerasnp.layers.conv_transpose import Conv2DTranspose
    out = Conv2DTranspose(2, 3, strides=2, padding="same", activation="softmax")(h)
    model = keras.Model(inp, out)
    y = model.predict(np.ones((2, 9, 9, 2), "float32"), verbose=0)
    assert y.shape == (2,) + model.output_shape[1:] and y.dtype == np.float32
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-5)
