"""Built-in layers on the Keras `call()` contract: one tape node per call, no per-call state on
`self`, the input gradient skipped when nothing upstream needs it, a layer called several times in
one step, and torch parity (float64) of the gradients taken on the tape."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L
from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import Tensor, unwrap

from _tape_check import tape_gradients

# id -> (factory, sample shape, call kwargs, recorded nodes per call)
NODES = {
    "dense_linear": (lambda: L.Dense(4), (5,), {}, 1),
    "dense_relu": (lambda: L.Dense(4, activation="relu"), (5,), {}, 1),
    "dense_nobias": (lambda: L.Dense(4, use_bias=False), (2, 5), {}, 1),
    "dense_softmax": (lambda: L.Dense(3, activation="softmax"), (5,), {}, 2),
    "activation": (lambda: L.Activation("tanh"), (5,), {}, 1),
    "relu": (lambda: L.ReLU(max_value=6.0), (5,), {}, 1),
    "leaky_relu": (lambda: L.LeakyReLU(), (5,), {}, 1),
    "elu": (lambda: L.ELU(), (5,), {}, 1),
    "softmax": (lambda: L.Softmax(axis=1), (3, 4), {}, 1),
    "prelu": (lambda: L.PReLU(shared_axes=[1]), (3, 4), {}, 1),
    "flatten": (lambda: L.Flatten(), (2, 3), {}, 1),
    "reshape": (lambda: L.Reshape((-1, 2)), (2, 3), {}, 1),
    "dropout": (lambda: L.Dropout(0.5, noise_shape=(None, 1, 3)), (2, 3), {"training": True}, 1),
    "dropout_inference": (lambda: L.Dropout(0.5), (4,), {"training": False}, 0),
    "add": (lambda: L.Add(), [(4,)] * 3, {}, 1),
    "subtract": (lambda: L.Subtract(), [(4,)] * 2, {}, 1),
    "multiply": (lambda: L.Multiply(), [(2, 4)] * 3, {}, 1),
    "average": (lambda: L.Average(), [(4,)] * 2, {}, 1),
    "maximum": (lambda: L.Maximum(), [(4,)] * 3, {}, 1),
    "minimum": (lambda: L.Minimum(), [(4,)] * 2, {}, 1),
    "concatenate": (lambda: L.Concatenate(axis=1), [(2, 3), (4, 3)], {}, 1),
    "dot": (lambda: L.Dot(axes=2, normalize=True), [(2, 3), (4, 3)], {}, 1),
    "permute": (lambda: L.Permute((2, 1)), (2, 3), {}, 1),
    "repeat_vector": (lambda: L.RepeatVector(3), (4,), {}, 1),
    "identity": (lambda: L.Identity(), (4,), {}, 0),
    "gaussian_noise": (lambda: L.GaussianNoise(0.1), (4,), {"training": True}, 1),
    "layer_norm": (lambda: L.LayerNormalization(), (2, 4), {}, 1),
    "zero_padding": (lambda: L.ZeroPadding2D(1), (3, 3, 2), {}, 1),
    "cropping": (lambda: L.Cropping2D(1), (3, 3, 2), {}, 1),
    "upsampling": (lambda: L.UpSampling2D(), (3, 3, 2), {}, 1),
    "rescaling": (lambda: L.Rescaling(0.5, offset=1.0), (3,), {}, 1),
    "normalization": (lambda: L.Normalization(mean=1.0, variance=4.0), (3,), {}, 1),
    "random_flip": (lambda: L.RandomFlip(seed=1), (3, 4, 2), {"training": True}, 1),
    "random_flip_inference": (lambda: L.RandomFlip(), (3, 4, 2), {"training": False}, 0),
    "random_translation": (lambda: L.RandomTranslation(0.2, 0.2), (4, 4, 1),
                           {"training": True}, 1),
    "random_rotation": (lambda: L.RandomRotation(0.2), (4, 4, 1), {"training": True}, 1),
    "lambda_backward": (lambda: L.Lambda(np.tanh, backward=lambda dy, x, y: dy * (1 - y * y)),
                        (4,), {}, 1),
}


def _x(shape, batch=3, seed=0, dtype="float64"):
    if isinstance(shape, list):
        return [_x(s, batch, seed + k, dtype) for k, s in enumerate(shape)]
    return np.random.default_rng(seed).standard_normal((batch,) + shape).astype(dtype)


@pytest.mark.parametrize("case", sorted(NODES))
def test_one_node_per_call_and_no_state_on_self(case):
    make, shape, kwargs, nodes = NODES[case]
    layer = make()
    x = _x(shape)
    layer(x)                                          # build outside the tape
    before = dict(layer.__dict__)
    with GradientTape() as tape:
        tape.watch(x)
        y = layer(x, **kwargs)
    assert len(tape._nodes) == nodes
    assert type(y) is (Tensor if nodes else np.ndarray)
    after = {k: v for k, v in layer.__dict__.items() if k != "_last_losses"}
    assert set(after) == set(before) - {"_last_losses"}, "a call added attributes to the layer"
    for k, v in after.items():
        assert v is before[k], f"a call replaced layer.{k}"


def test_dense_skips_the_input_gradient_of_an_untracked_input():
    layer = L.Dense(3)
    x = _x((4,))
    with GradientTape() as tape:                      # x is not watched: a model's first layer
        y = layer(x)
    (node,) = tape._nodes
    dx, dw, db = node.vjp(np.ones_like(unwrap(y)))
    assert dx is None and dw.shape == (4, 3) and db.shape == (3,)


@pytest.mark.parametrize("make, shapes", [
    (L.Add, [(4,)] * 3), (L.Subtract, [(4,)] * 2), (L.Multiply, [(4,)] * 3),
    (L.Average, [(4,)] * 2), (L.Maximum, [(4,)] * 3), (L.Minimum, [(4,)] * 2),
    (lambda: L.Concatenate(axis=1), [(2, 3), (4, 3)]), (lambda: L.Dot(axes=1), [(4,), (4,)]),
    (lambda: L.Dot(axes=(1, 2), normalize=True), [(3, 2), (4, 3)]),
], ids=["add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot",
        "dot_3d_normalize"])
def test_merge_layers_give_no_gradient_to_an_untracked_input(make, shapes):
    layer = make()
    xs = _x(shapes)
    layer(xs)
    with GradientTape() as tape:
        tape.watch(xs[1])                             # only the second input carries a gradient
        y = layer(xs)
    grads = tape._nodes[0].vjp(np.ones_like(unwrap(y)))
    assert grads[0] is None and all(g is None for g in grads[2:])
    assert grads[1].shape == xs[1].shape


def test_prelu_skips_the_input_gradient_of_an_untracked_input():
    layer = L.PReLU()
    x = _x((4,))
    with GradientTape() as tape:
        y = layer(x)
    dx, dalpha = tape._nodes[0].vjp(np.ones_like(unwrap(y)))
    assert dx is None and dalpha.shape == (4,)


def test_a_layer_called_twice_in_one_step_gets_both_gradients(float64):
    """The Siamese pattern: the closures, not the layer, hold each call's input."""
    layer = L.Dense(3, activation="tanh")
    a, b = _x((4,), seed=1), _x((4,), seed=2)
    layer(a)
    with GradientTape() as tape:
        ya, yb = layer(a), layer(b)
    # d(Σ ya·yb): each output's upstream gradient is the other output
    grads = tape.gradient([ya, yb], layer.trainable_weights,
                          output_gradients=[unwrap(yb), unwrap(ya)])
    w, bias = layer.kernel.value, layer.bias.value
    ta, tb = np.tanh(a @ w + bias), np.tanh(b @ w + bias)
    dza, dzb = tb * (1 - ta ** 2), ta * (1 - tb ** 2)  # d(Σ ta·tb)/dz for each call
    np.testing.assert_allclose(grads[0], a.T @ dza + b.T @ dzb, rtol=1e-12)
    np.testing.assert_allclose(grads[1], dza.sum(0) + dzb.sum(0), rtol=1e-12)


def test_dropout_two_calls_two_masks_each_in_its_closure():
    layer = L.Dropout(0.5, seed=3)
    x = np.ones((40, 10))
    with GradientTape() as tape:
        tape.watch(x)
        y1, y2 = layer(x, training=True), layer(x, training=True)
    m1, m2 = unwrap(y1), unwrap(y2)
    assert not np.array_equal(m1, m2)
    assert set(np.unique(m1)) == {0.0, 2.0}
    dy1, dy2 = np.full(x.shape, 3.0), np.full(x.shape, 5.0)
    dx = tape.gradient([y1, y2], x, output_gradients=[dy1, dy2])
    np.testing.assert_array_equal(dx, m1 * 3.0 + m2 * 5.0)


def test_dropout_noise_shape_shares_the_mask_and_inference_is_the_input():
    layer = L.Dropout(0.5, noise_shape=(None, 1, 4), seed=0)
    x = np.ones((3, 5, 4), "float32")
    y = layer(x, training=True)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, np.broadcast_to(y[:, :1], y.shape))
    assert layer(x) is x and layer(x, training=False) is x


@pytest.mark.parametrize("noise_shape, match", [
    ((None, 1), "must have the input's rank \\(3\\)"),         # too short: was silently cut
    ((None, 2, 4), "each entry None, 1 or the input's size"),    # 2 neither 1 nor 5
])
def test_dropout_rejects_a_noise_shape_that_does_not_fit_the_input(noise_shape, match):
    layer = L.Dropout(0.5, noise_shape=noise_shape, seed=0, name="drop")
    with pytest.raises(ValueError, match=match) as err:
        layer(np.ones((3, 5, 4), "float32"), training=True)
    assert "drop" in str(err.value) and "(3, 5, 4)" in str(err.value)
    with pytest.raises(ValueError, match="noise_shape entries"):
        L.Dropout(0.5, noise_shape=(None, 0, 4))
    with pytest.raises(TypeError, match="list or tuple"):
        L.Dropout(0.5, noise_shape=4)


def test_conv_configs_carry_keras_data_format():
    for layer in (L.Conv1D(2, 3), L.Conv2D(2, 3), L.Conv3D(2, 3), L.DepthwiseConv2D(3),
                  L.SeparableConv2D(2, 3), L.Conv2DTranspose(2, 3)):
        cfg = layer.get_config()
        assert cfg["data_format"] == "channels_last"
        assert type(layer).from_config(cfg).get_config() == cfg


def test_reshape_with_unknown_sizes_and_a_clear_error():
    assert L.Reshape((-1, 2)).compute_output_shape((None, None, 4)) == (None, None, 2)
    layer = L.Reshape((3, 2))
    layer(np.zeros((2, 6)))
    with pytest.raises(ValueError, match=r"cannot reshape input of shape \(2, 5\)"):
        layer(np.zeros((2, 5)))


def test_input_layer_is_the_identity():
    x = np.ones((2, 3))
    assert L.InputLayer(shape=(3,))(x) is x


# -- torch parity (float64) -----------------------------------------------------------------------
def _parity(layer, x, torch_fn, weights_to_torch, seed=1):
    """Tape gradients of `sum(layer(x) * dy)` against torch's, for the input and every weight."""
    torch = pytest.importorskip("torch")
    y = unwrap(layer(x))
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    (dx,), dws = tape_gradients(layer, x, dy)
    xt = torch.tensor(x, requires_grad=True)
    params = [torch.tensor(np.ascontiguousarray(p), requires_grad=True)
              for p in weights_to_torch(layer)]
    yt = torch_fn(torch, xt, *params)
    (yt * torch.tensor(dy)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-6, atol=1e-10)
    return dws, [p.grad.numpy() for p in params]


@pytest.mark.parametrize("act", ["linear", "relu", "tanh", "softmax", "sigmoid"])
def test_dense_matches_torch(act, float64):
    layer = L.Dense(4, activation=act, bias_initializer="random_normal")
    x = _x((2, 5), seed=2)
    fns = {"linear": lambda t, z: z, "relu": lambda t, z: t.relu(z), "tanh": lambda t, z: t.tanh(z),
           "softmax": lambda t, z: t.softmax(z, dim=-1), "sigmoid": lambda t, z: t.sigmoid(z)}
    layer(x)
    dws, tgrads = _parity(layer, x, lambda t, xt, w, b: fns[act](t, xt @ w + b),
                          lambda l: [l.kernel.value, l.bias.value])
    np.testing.assert_allclose(dws["kernel"], tgrads[0], rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(dws["bias"], tgrads[1], rtol=1e-6, atol=1e-10)


def test_prelu_shared_axes_matches_torch(float64):
    layer = L.PReLU(alpha_initializer="random_uniform", shared_axes=[1, 2])
    x = _x((4, 3, 5), seed=3)
    layer(x)
    dws, tgrads = _parity(layer, x, lambda t, xt, al: t.relu(xt) + al * t.clamp(xt, max=0),
                          lambda l: [l.alpha.value])
    np.testing.assert_allclose(dws["alpha"], tgrads[0], rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("make, fn", [
    (lambda: L.ELU(alpha=0.5), lambda t, z: t.nn.functional.elu(z, alpha=0.5)),
    (lambda: L.LeakyReLU(), lambda t, z: t.nn.functional.leaky_relu(z, 0.3)),
    (lambda: L.ReLU(max_value=0.8), lambda t, z: t.clamp(z, 0, 0.8)),
    (lambda: L.Softmax(axis=1), lambda t, z: t.softmax(z, dim=1)),
    (lambda: L.Activation("gelu"), lambda t, z: t.nn.functional.gelu(z)),
], ids=["elu", "leaky_relu", "relu6ish", "softmax_axis1", "gelu"])
def test_activation_layers_match_torch(make, fn, float64):
    _parity(make(), _x((4, 3), seed=4) * 2.0, fn, lambda l: [])


# -- Embedding, GaussianNoise, LayerNormalization ---------------------------------------------------
def test_embedding_is_one_node_on_the_table_and_accumulates_repeated_rows():
    layer = L.Embedding(6, 3)
    idx = np.array([[1, 1, 4], [0, 1, 5]])
    with GradientTape() as tape:
        y = layer(idx)
    assert len(tape._nodes) == 1
    dy = np.random.default_rng(0).standard_normal((2, 3, 3)).astype("float32")
    (dw,) = tape.gradient(y, layer.trainable_weights, output_gradients=dy)
    expected = np.zeros((6, 3), "float32")
    np.add.at(expected, idx.ravel(), dy.reshape(-1, 3))
    np.testing.assert_allclose(dw, expected, rtol=1e-6)
    assert np.all(dw[[2, 3]] == 0)
    with pytest.raises(ValueError, match=r"expected indices in \[0, 6\), received values from 0 "
                                         "to 7"):
        layer(np.array([[0, 7]]))


def test_embedding_matches_torch(float64):
    torch = pytest.importorskip("torch")
    layer = L.Embedding(10, 4)
    idx = np.random.default_rng(8).integers(0, 10, size=(5, 7))
    idx[0, :3] = 4                                   # repeated rows must accumulate
    y = unwrap(layer(idx))
    dy = np.random.default_rng(1).standard_normal(y.shape)
    _, dws = tape_gradients(layer, idx, dy, check_input=False)
    w = torch.tensor(layer.embeddings.value.copy(), requires_grad=True)
    yt = torch.nn.functional.embedding(torch.tensor(idx), w)
    (yt * torch.tensor(dy)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(dws["embeddings"], w.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_gaussian_noise_two_calls_add_two_draws_and_pass_dy_through():
    layer = L.GaussianNoise(0.5, seed=1)
    x = np.zeros((4, 6))
    with GradientTape() as tape:
        tape.watch(x)
        y1, y2 = layer(x, training=True), layer(x, training=True)
    assert len(tape._nodes) == 2 and not np.array_equal(unwrap(y1), unwrap(y2))
    dx = tape.gradient([y1, y2], x, output_gradients=[np.ones_like(x), 2 * np.ones_like(x)])
    np.testing.assert_array_equal(dx, np.full_like(x, 3.0))
    assert layer(x) is x


@pytest.mark.parametrize("kwargs, shape", [
    ({}, (3, 5)), ({"axis": [1, 2]}, (3, 5)), ({"center": False}, (6,)),
    ({"scale": False}, (6,)), ({"scale": False, "center": False}, (2, 4)),
])
def test_layer_normalization_one_node_and_float64_gradients(kwargs, shape, float64):
    from _tape_check import tape_gradient_errors
    layer = L.LayerNormalization(**kwargs)
    x = _x(shape, seed=5) * 3.0 + 1.0
    layer(x)
    for v in layer.weights:
        v.value += np.random.default_rng(2).normal(0, 0.3, v.shape)
    with GradientTape() as tape:
        tape.watch(x)
        layer(x)
    assert len(tape._nodes) == 1
    errors = tape_gradient_errors(layer, x)
    assert set(errors) == {"input"} | {v.name for v in layer.weights}
    assert max(errors.values()) < 1e-6, errors


def test_layer_normalization_matches_torch(float64):
    layer = L.LayerNormalization(epsilon=1e-3)
    x = _x((4, 5), seed=6) * 2.0 + 0.5
    layer(x)
    rng = np.random.default_rng(7)
    layer.gamma.value[...] = rng.standard_normal(5)
    layer.beta.value[...] = rng.standard_normal(5)
    dws, tgrads = _parity(layer, x, lambda t, xt, g, b: t.nn.functional.layer_norm(
        xt, (5,), g, b, eps=1e-3), lambda l: [l.gamma.value, l.beta.value])
    np.testing.assert_allclose(dws["gamma"], tgrads[0], rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(dws["beta"], tgrads[1], rtol=1e-6, atol=1e-10)


# -- shapes without calling ------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    L.Identity, lambda: L.Activation("relu"), L.ReLU, L.Softmax, L.PReLU, lambda: L.Dropout(0.2),
    lambda: L.GaussianNoise(0.1), L.LayerNormalization, lambda: L.Rescaling(2.0),
    L.Normalization, L.RandomFlip, lambda: L.RandomRotation(0.1),
    lambda: L.RandomTranslation(0.1, 0.1)])
def test_shape_preserving_layers_give_their_shape_without_running_call(make):
    layer = make()
    assert layer.compute_output_shape((None, 5, 6, 3)) == (None, 5, 6, 3)


def test_unadapted_normalization_builds_in_a_model_and_adapts_later():
    norm = L.Normalization()
    model = keras.Sequential([keras.Input((3,)), norm, L.Dense(2)])
    assert model.output_shape == (None, 2)
    norm.adapt(np.array([[0.0, 1.0, 2.0], [2.0, 3.0, 6.0]]))
    np.testing.assert_allclose(norm(np.array([[1.0, 2.0, 4.0]])), [[0.0, 0.0, 0.0]], atol=1e-6)


@pytest.mark.parametrize("make", [lambda: L.Softmax(axis=1), lambda: L.Softmax(),
                                  lambda: L.Activation(keras.activations.softmax.with_params(
                                      axis=1))], ids=["axis1", "last", "activation_axis1"])
def test_softmax_layer_with_a_crossentropy_loss_has_the_right_gradient(make, float64):
    """The loss may fuse its gradient with a softmax over the class axis; never over another."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4))
    t = np.eye(4)[rng.integers(0, 4, (2, 3))]
    layer, loss = make(), keras.losses.CategoricalCrossentropy()
    with GradientTape() as tape:
        tape.watch(x)
        value = loss(t, layer(x))
    g = tape.gradient(value, x)
    num = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += 1e-6
        xm[i] -= 1e-6
        num[i] = (float(unwrap(loss(t, layer(xp)))) - float(unwrap(loss(t, layer(xm))))) / 2e-6
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)



class Named(L.Layer):
    def call(self, x, scale=1.0):
        return x * scale


def test_the_first_call_argument_may_be_given_by_name():
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(Named()(x=x, scale=2.0), 2 * x)
    inp = keras.Input((3,))
    model = keras.Model(inp, Named()(x=inp, scale=3.0))
    np.testing.assert_allclose(model(x), 3 * x)
    with pytest.raises(TypeError, match=r"without inputs: pass them first or as `x=`"):
        Named()(scale=2.0)
