"""kerasnp.applications: ResNet architectures (counts, names, shapes, errors, training, torch)."""
import numpy as np
import pytest

import kerasnp as keras
import kerasnp.applications as apps
from kerasnp.applications.resnet import basic_block, bottleneck_block, preprocess_input
from _tape_utils import backward


def _trainable_count(model):
    return sum(v.value.size for v in model.trainable_weights)


# -- architecture ---------------------------------------------------------------------------
@pytest.mark.parametrize("fn, layers, params", [
    (apps.ResNet50, 177, 25_636_712),      # Keras's published totals (ImageNet head)
    (apps.ResNet101, 347, 44_707_176),
    (apps.ResNet152, 517, 60_419_944),
])
def test_keras_resnet_counts(fn, layers, params):
    model = fn(include_top=True, classes=1000, input_shape=(224, 224, 3))
    assert model.count_params() == params
    assert len(model.layers) == layers
    assert model.output_shape == (None, 1000)
    assert model.name == fn.__name__.lower()


def test_resnet50_small_input_count_and_forward():
    model = apps.ResNet50(input_shape=(32, 32, 3), classes=10)
    assert model.count_params() == 23_608_202
    x = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    y = model.predict(x, verbose=0)
    assert y.shape == (2, 10) and y.dtype == np.float32
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("fn, trainable, total", [
    (apps.ResNet18, 11_689_512, 11_699_112),    # torchvision's counts + BN moving statistics
    (apps.ResNet34, 21_797_672, 21_814_696),
])
def test_basic_resnet_counts(fn, trainable, total):
    model = fn(input_shape=(224, 224, 3), classes=1000)
    assert _trainable_count(model) == trainable
    assert model.count_params() == total
    assert not any(layer.use_bias for layer in model.layers
                   if isinstance(layer, keras.layers.Conv2D))


def test_resnet50_layer_names_and_hyperparameters():
    model = apps.ResNet50(input_shape=(64, 64, 3), classes=10)
    names = [layer.name for layer in model.layers]
    assert names[:7] == ["input_layer", "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu",
                         "pool1_pad", "pool1_pool"]
    assert set(names[7:19]) == {f"conv2_block1_{s}" for s in (
        "0_conv", "0_bn", "1_conv", "1_bn", "1_relu", "2_conv", "2_bn", "2_relu", "3_conv",
        "3_bn", "add", "out")}
    assert names[-3:] == ["conv5_block3_out", "avg_pool", "predictions"]
    shortcuts = [n for n in names if n.endswith("_0_conv")]
    assert shortcuts == ["conv2_block1_0_conv", "conv3_block1_0_conv", "conv4_block1_0_conv",
                         "conv5_block1_0_conv"]
    get = model.get_layer
    assert get("conv1_conv").kernel_size == (7, 7) and get("conv1_conv").strides == (2, 2)
    assert get("conv1_conv").use_bias and get("conv2_block1_1_conv").use_bias
    assert get("pool1_pool").pool_size == (3, 3) and get("pool1_pool").strides == (2, 2)
    assert get("conv2_block1_1_conv").strides == (1, 1)          # first stack: stride 1
    assert get("conv3_block1_1_conv").strides == (2, 2)          # stride on the first 1x1
    assert get("conv3_block1_0_conv").strides == (2, 2)
    assert get("conv3_block1_2_conv").strides == (1, 1)
    assert get("conv3_block1_2_conv").padding == "same"
    assert get("conv4_block6_3_conv").filters == 1024
    assert all(layer.epsilon == 1.001e-5 for layer in model.layers
               if isinstance(layer, keras.layers.BatchNormalization))
    assert get("predictions").activation.name == "softmax"


@pytest.mark.parametrize("pooling, shape", [(None, (None, 2, 2, 2048)), ("avg", (None, 2048)),
                                            ("max", (None, 2048))])
def test_resnet50_headless_shapes(pooling, shape):
    model = apps.ResNet50(include_top=False, input_shape=(64, 64, 3), pooling=pooling)
    assert model.output_shape == shape
    assert model.count_params() == 23_587_712
    assert model.layers[-1].name == {None: "conv5_block3_out", "avg": "avg_pool",
                                     "max": "max_pool"}[pooling]


def test_headless_default_shape_takes_any_size():
    model = apps.ResNet18(include_top=False)              # (None, None, 3), as in Keras
    assert model.input_shape == (None, None, None, 3)
    x = np.random.default_rng(1).random((2, 64, 96, 3), dtype=np.float32)
    assert model.predict(x, verbose=0).shape == (2, 2, 3, 512)


def test_pooling_matches_the_4d_output():
    keras.set_random_seed(3)
    feats = apps.ResNet18(include_top=False, input_shape=(64, 64, 3))
    x = np.random.default_rng(2).random((2, 64, 64, 3), dtype=np.float32)
    f = feats.predict(x, verbose=0)
    for pooling, reduce in (("avg", np.mean), ("max", np.max)):
        model = apps.ResNet18(include_top=False, input_shape=(64, 64, 3), pooling=pooling)
        model.set_weights(feats.get_weights())
        np.testing.assert_allclose(model.predict(x, verbose=0), reduce(f, axis=(1, 2)),
                                   rtol=1e-5, atol=1e-6)


def test_input_tensor_uses_its_source_inputs():
    inp = keras.Input((32, 32, 3))
    x = keras.layers.Activation("linear", name="pre")(inp)
    base = apps.ResNet18(include_top=False, input_tensor=x, pooling="avg")
    assert base.layers[0] is inp._layer                   # the Input behind the tensor
    assert base.get_layer("pre") is not None
    assert base.output_shape == (None, 512)
    # transfer-learning style: the headless model as a layer under a new classifier
    new_in = keras.Input((32, 32, 3))
    model = keras.Model(new_in, keras.layers.Dense(5, name="head")(base(new_in)))
    assert model.predict(np.zeros((2, 32, 32, 3), "float32"), verbose=0).shape == (2, 5)


# -- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(weights="imagenet"), ValueError, "pretrained weights are not available in kerasnp; "
                                           "use weights=None"),
    (dict(input_shape=(31, 64, 3), include_top=False), ValueError, "at least 32x32"),
    (dict(input_shape=(64, 16, 3)), ValueError, r"Received: input_shape=\(64, 16, 3\)"),
    (dict(input_shape=(64, 64)), ValueError, "three positive integers"),
    (dict(input_shape=(None, None, 3)), ValueError, "include_top=True"),
    (dict(include_top=False, pooling="mean"), ValueError, "None, 'avg', 'max'.*pooling='mean'"),
    (dict(classes=0), ValueError, "classes"),
    (dict(include_top="yes"), TypeError, "include_top"),
    (dict(input_tensor=np.zeros((1, 32, 32, 3))), TypeError, "symbolic tensor"),
])
def test_argument_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        apps.ResNet50(**kwargs)


def test_unusual_channel_count_warns():
    with pytest.warns(UserWarning, match="1 or 3 input channels"):
        apps.ResNet18(include_top=False, input_shape=(32, 32, 5))


def test_preprocess_input_is_caffe_mode():
    x = np.array([[[[10.0, 20.0, 30.0]]]], dtype=np.float32)
    y = preprocess_input(x)
    np.testing.assert_allclose(y[0, 0, 0], [30 - 103.939, 20 - 116.779, 10 - 123.68], rtol=1e-6)
    assert y.dtype == np.float32 and x[0, 0, 0, 0] == 10.0


# -- training -------------------------------------------------------------------------------
def test_resnet18_fit_step_changes_every_weight():
    keras.set_random_seed(0)
    model = apps.ResNet18(input_shape=(32, 32, 3), classes=10)
    rng = np.random.default_rng(0)
    x = rng.random((4, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, 4)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    before = [v.value.copy() for v in model.weights]
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    unchanged = [v.path for v, b in zip(model.weights, before) if np.array_equal(v.value, b)]
    assert unchanged == []                       # kernels, gamma/beta and moving statistics
    assert model.predict(x, verbose=0).dtype == np.float32


def _block_model(kind, shape, filters, stride):
    inp = keras.Input(shape)
    if kind == "bottleneck":
        out = bottleneck_block(inp, filters, stride=stride, conv_shortcut=True, name="b")
    else:
        out = basic_block(inp, filters, stride=stride, name="b")
    return keras.Model(inp, out)


@pytest.mark.parametrize("kind", ["bottleneck", "basic"])
def test_block_gradients_match_finite_differences(float64, kind):
    keras.set_random_seed(5)
    model = _block_model(kind, (4, 4, 3), 2, 2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 4, 3))
    dy = rng.standard_normal((2, 2, 2, 8 if kind == "bottleneck" else 2))
    _, dx = backward(model, x, dy)
    f = lambda: float(np.sum(model.forward(x, training=True) * dy))      # noqa: E731
    checks = [(x, dx)] + [(v.value, v.grad.copy()) for v in model.trainable_weights]
    for arr, grad in checks:
        flat, g = arr.reshape(-1), grad.reshape(-1)
        for i in rng.choice(flat.size, min(flat.size, 6), replace=False):
            old = flat[i]
            flat[i] = old + 1e-6
            fp = f()
            flat[i] = old - 1e-6
            fm = f()
            flat[i] = old
            assert g[i] == pytest.approx((fp - fm) / 2e-6, rel=1e-5, abs=1e-7)


# -- PyTorch parity (float64, one SGD step on MSE) --------------------------------------------
def _torch_params(model, torch):
    params = {}
    for layer in model.layers:
        if not layer.weights:
            continue
        entry = {}
        for v in layer.weights:
            t = torch.tensor(v.value)
            if v.name == "kernel":
                t = t.permute(3, 2, 0, 1) if t.ndim == 4 else t.T       # HWIO -> OIHW, (i,o)->(o,i)
            entry[v.name] = t.contiguous().requires_grad_(v.trainable)
        params[layer.name] = entry
    return params


def _torch_ops(torch):
    F = torch.nn.functional

    def conv(p, x, stride=1, padding=0):
        return F.conv2d(x, p["kernel"], p.get("bias"), stride, padding)

    def bn(p, x, eps, momentum):                  # Keras momentum m == torch momentum 1 - m
        return F.batch_norm(x, p["moving_mean"], p["moving_variance"], p["gamma"], p["beta"],
                            True, 1 - momentum, eps)
    return F, conv, bn


def _torch_bottleneck(P, x, name, stride, torch):
    F, conv, bn = _torch_ops(torch)
    eps, mom = 1.001e-5, 0.99
    s = bn(P[f"{name}_0_bn"], conv(P[f"{name}_0_conv"], x, stride), eps, mom)
    h = F.relu(bn(P[f"{name}_1_bn"], conv(P[f"{name}_1_conv"], x, stride), eps, mom))
    h = F.relu(bn(P[f"{name}_2_bn"], conv(P[f"{name}_2_conv"], h, 1, 1), eps, mom))
    h = bn(P[f"{name}_3_bn"], conv(P[f"{name}_3_conv"], h), eps, mom)
    return F.relu(s + h)


def _torch_basic(P, x, name, stride, torch):
    """torchvision's BasicBlock: 3x3 convs with padding=1, projection when the shape changes."""
    F, conv, bn = _torch_ops(torch)
    s = x
    if f"{name}_0_conv" in P:
        s = bn(P[f"{name}_0_bn"], conv(P[f"{name}_0_conv"], x, stride), 1e-5, 0.9)
    h = F.relu(bn(P[f"{name}_1_bn"], conv(P[f"{name}_1_conv"], x, stride, 1), 1e-5, 0.9))
    h = bn(P[f"{name}_2_bn"], conv(P[f"{name}_2_conv"], h, 1, 1), 1e-5, 0.9)
    return F.relu(s + h)


def _torch_resnet18(P, x, torch):
    F, conv, bn = _torch_ops(torch)
    h = F.relu(bn(P["conv1_bn"], conv(P["conv1_conv"], x, 2, 3), 1e-5, 0.9))
    h = F.max_pool2d(h, 3, 2, 1)
    for i in range(4):
        for b in (1, 2):
            h = _torch_basic(P, h, f"conv{i + 2}_block{b}", 2 if i and b == 1 else 1, torch)
    p = P["predictions"]
    return F.linear(h.mean(dim=(2, 3)), p["kernel"], p["bias"])


def _compare_one_sgd_step(model, torch_forward, x, y, lr=0.1):
    torch = pytest.importorskip("torch")
    P = _torch_params(model, torch)
    nchw = lambda a: torch.tensor(a.transpose(0, 3, 1, 2) if a.ndim == 4 else a)  # noqa: E731
    back = lambda t: (t.permute(0, 2, 3, 1) if t.ndim == 4 else t).detach().numpy()  # noqa: E731
    ours = model.forward(x, training=True)                    # also updates moving statistics
    theirs = torch_forward(P, nchw(x))
    np.testing.assert_allclose(ours, back(theirs), rtol=1e-6, atol=1e-8)
    model.compile(keras.optimizers.SGD(lr), "mse")
    loss = model.train_on_batch(x, y)
    t_loss = torch.nn.functional.mse_loss(torch_forward(P, nchw(x)), nchw(y))
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-6)
    with torch.no_grad():
        for layer in P.values():
            for t in layer.values():
                if t.requires_grad:
                    t -= lr * t.grad
    for layer in model.layers:
        for v in layer.weights:
            t = P[layer.name][v.name].detach()
            if v.name == "kernel":
                t = t.permute(2, 3, 1, 0) if t.ndim == 4 else t.T
            if v.name == "moving_variance":
                continue                           # torch keeps the unbiased batch variance
            np.testing.assert_allclose(v.value, t.numpy(), rtol=1e-6, atol=1e-8,
                                       err_msg=v.path)


@pytest.mark.parametrize("stride", [1, 2])
def test_bottleneck_block_matches_torch(float64, stride):
    torch = pytest.importorskip("torch")
    keras.set_random_seed(1)
    model = _block_model("bottleneck", (6, 6, 5), 3, stride)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 6, 6, 5))
    y = rng.standard_normal((3, 6 // stride, 6 // stride, 12))
    _compare_one_sgd_step(model, lambda P, t: _torch_bottleneck(P, t, "b", stride, torch), x, y)


def test_basic_block_matches_torch(float64):
    torch = pytest.importorskip("torch")
    keras.set_random_seed(2)
    model = _block_model("basic", (6, 6, 4), 6, 2)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 6, 6, 4))
    y = rng.standard_normal((3, 3, 3, 6))
    _compare_one_sgd_step(model, lambda P, t: _torch_basic(P, t, "b", 2, torch), x, y)


def test_resnet18_matches_torchvision_layout(float64):
    """The whole ResNet18 equals a torchvision-style network (torch padding conventions)."""
    torch = pytest.importorskip("torch")
    keras.set_random_seed(4)
    model = apps.ResNet18(input_shape=(32, 32, 3), classes=7, classifier_activation=None)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 32, 32, 3))
    y = rng.standard_normal((4, 7))
    _compare_one_sgd_step(model, lambda P, t: _torch_resnet18(P, t, torch), x, y, lr=0.05)
