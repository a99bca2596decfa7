"""Parity with PyTorch (float64): layer forward/backward, whole-model training, fit, L2 penalty.

Each test builds the same computation in kerasnp and in torch from the same numbers and asserts
that outputs, gradients, losses and updated weights agree to near machine precision. Keras stores
a Dense kernel as `(in, out)`, torch a Linear weight as `(out, in)`: the copies transpose.
"""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import kerasnp as keras  # noqa: E402
from kerasnp import config, layers, optimizers, regularizers  # noqa: E402
from _tape_utils import backward  # noqa: E402

F = torch.nn.functional
TOL = 1e-10        # forward values, gradients and per-step losses
W_TOL = 1e-8       # weights after several optimizer steps


@pytest.fixture(autouse=True)
def _float64():
    """float64 in both libraries for the test, float32 / torch's default restored afterwards."""
    old_floatx, old_torch = config.floatx(), torch.get_default_dtype()
    config.set_floatx("float64")
    torch.set_default_dtype(torch.float64)
    yield
    config.set_floatx(old_floatx)
    torch.set_default_dtype(old_torch)


def _rng(seed=0):
    return np.random.default_rng(seed)


def _t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _close(got, want, tol=TOL, what=""):
    want = want.detach().numpy() if isinstance(want, torch.Tensor) else np.asarray(want)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=what)


def _run_layer(layer, x, seed=1):
    """kerasnp forward + backward with a random upstream gradient; returns (y, dy, dx)."""
    y = layer(x)
    assert y.dtype == np.float64
    dy = _rng(seed).normal(size=y.shape)
    _, dx = backward(layer, x, dy, training=False)
    return y, dy, dx


def _torch_backward(y, dy):
    (y * _t(dy)).sum().backward()


# ---------------------------------------------------------------------------------------------
# 1. layers
# ---------------------------------------------------------------------------------------------
_TORCH_ACT = {
    "linear": lambda z: z,
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softmax": lambda z: torch.softmax(z, dim=-1),
    "gelu": lambda z: F.gelu(z),                      # Keras default: exact erf form
    "elu": F.elu,
    "softplus": F.softplus,
    "silu": F.silu,
}


@pytest.mark.parametrize("act", sorted(_TORCH_ACT))
def test_dense_matches_torch_linear(act):
    rng = _rng(2)
    x = rng.normal(size=(7, 5))
    layer = layers.Dense(4, activation=act, bias_initializer="random_normal")
    y, dy, dx = _run_layer(layer, x)
    w = _t(layer.kernel.value.T.copy(), grad=True)            # torch weight = kernelᵀ
    b = _t(layer.bias.value, grad=True)
    xt = _t(x, grad=True)
    yt = _TORCH_ACT[act](F.linear(xt, w, b))
    _torch_backward(yt, dy)
    _close(y, yt, what="forward")
    _close(dx, xt.grad, what="dx")
    _close(layer.kernel.grad, w.grad.T, what="d kernel")
    _close(layer.bias.grad, b.grad, what="d bias")


def test_dense_gelu_tanh_approximation_matches_torch():
    x = _rng(3).normal(size=(6, 3))
    layer = layers.Dense(5, activation=keras.activations.gelu.with_params(approximate=True))
    y, dy, dx = _run_layer(layer, x)
    w, b = _t(layer.kernel.value.T.copy(), grad=True), _t(layer.bias.value, grad=True)
    xt = _t(x, grad=True)
    yt = F.gelu(F.linear(xt, w, b), approximate="tanh")
    _torch_backward(yt, dy)
    _close(y, yt)
    _close(dx, xt.grad)
    _close(layer.kernel.grad, w.grad.T)


@pytest.mark.parametrize("shape", [(6, 7), (3, 4, 5)])
def test_layer_normalization_matches_torch(shape):
    rng = _rng(4)
    x = rng.normal(loc=0.5, scale=2.0, size=shape)
    layer = layers.LayerNormalization(epsilon=1e-3)
    layer(x)
    layer.gamma.value[...] = rng.normal(size=layer.gamma.shape)
    layer.beta.value[...] = rng.normal(size=layer.beta.shape)
    y, dy, dx = _run_layer(layer, x)
    d = shape[-1]
    g, b = _t(layer.gamma.value.reshape(d), grad=True), _t(layer.beta.value.reshape(d), grad=True)
    xt = _t(x, grad=True)
    yt = F.layer_norm(xt, (d,), g, b, eps=1e-3)
    _torch_backward(yt, dy)
    _close(y, yt, what="forward")
    _close(dx, xt.grad, what="dx")
    _close(layer.gamma.grad.reshape(d), g.grad, what="d gamma")
    _close(layer.beta.grad.reshape(d), b.grad, what="d beta")


def test_prelu_per_feature_alpha_matches_torch():
    rng = _rng(5)
    x = rng.normal(size=(8, 6))
    layer = layers.PReLU()
    layer(x)
    layer.alpha.value[...] = rng.uniform(0.05, 0.9, size=6)
    y, dy, dx = _run_layer(layer, x)
    tp = torch.nn.PReLU(num_parameters=6)
    tp.weight.data = _t(layer.alpha.value)
    xt = _t(x, grad=True)
    yt = tp(xt)
    _torch_backward(yt, dy)
    _close(y, yt)
    _close(dx, xt.grad)
    _close(layer.alpha.grad, tp.weight.grad)


def test_prelu_shared_spatial_axes_match_torch_channels():
    """NHWC PReLU with shared_axes=[1, 2] is torch's per-channel PReLU on NCHW."""
    rng = _rng(6)
    x = rng.normal(size=(2, 4, 3, 5))
    layer = layers.PReLU(shared_axes=[1, 2])
    layer(x)
    assert layer.alpha.shape == (1, 1, 5)
    layer.alpha.value[...] = rng.uniform(0.05, 0.9, size=(1, 1, 5))
    y, dy, dx = _run_layer(layer, x)
    tp = torch.nn.PReLU(num_parameters=5)
    tp.weight.data = _t(layer.alpha.value.reshape(5))
    xt = _t(x.transpose(0, 3, 1, 2), grad=True)
    yt = tp(xt)
    _torch_backward(yt, dy.transpose(0, 3, 1, 2))
    _close(y.transpose(0, 3, 1, 2), yt)
    _close(dx.transpose(0, 3, 1, 2), xt.grad)
    _close(layer.alpha.grad.reshape(5), tp.weight.grad)


_ACT_LAYERS = [
    ("elu_default", lambda: layers.ELU(), lambda z: F.elu(z, alpha=1.0)),
    ("elu_alpha", lambda: layers.ELU(alpha=0.5), lambda z: F.elu(z, alpha=0.5)),
    ("leaky_default", lambda: layers.LeakyReLU(), lambda z: F.leaky_relu(z, 0.3)),  # Keras: 0.3
    ("leaky_0.1", lambda: layers.LeakyReLU(negative_slope=0.1), lambda z: F.leaky_relu(z, 0.1)),
    ("softmax_last", lambda: layers.Softmax(), lambda z: torch.softmax(z, dim=-1)),
    ("softmax_axis1", lambda: layers.Softmax(axis=1), lambda z: torch.softmax(z, dim=1)),
]


@pytest.mark.parametrize("make,torch_fn", [c[1:] for c in _ACT_LAYERS],
                         ids=[c[0] for c in _ACT_LAYERS])
def test_activation_layers_match_torch(make, torch_fn):
    x = _rng(7).normal(scale=2.0, size=(4, 5, 3))
    y, dy, dx = _run_layer(make(), x)
    xt = _t(x, grad=True)
    yt = torch_fn(xt)
    _torch_backward(yt, dy)
    _close(y, yt, what="forward")
    _close(dx, xt.grad, what="dx")


def test_embedding_matches_torch():
    rng = _rng(8)
    idx = rng.integers(0, 10, size=(5, 7))
    idx[0, :3] = 4                                          # repeated rows must accumulate
    layer = layers.Embedding(10, 4)
    y, dy, dx = _run_layer(layer, idx)
    assert dx is None
    w = _t(layer.embeddings.value, grad=True)
    yt = F.embedding(torch.tensor(idx), w)
    _torch_backward(yt, dy)
    _close(y, yt)
    _close(layer.embeddings.grad, w.grad)
    assert np.all(layer.embeddings.grad[np.setdiff1d(np.arange(10), idx)] == 0)


# ---------------------------------------------------------------------------------------------
# 2-4. whole models
# ---------------------------------------------------------------------------------------------
N_IN, HIDDEN = 20, (16, 8)


def _models(out_units, out_act, kernel_regularizer=None):
    """The same MLP in kerasnp and torch (torch ends in logits), with copied initial weights."""
    dense = [layers.Dense(h, activation="relu", bias_initializer="random_normal")
             for h in HIDDEN]
    dense.append(layers.Dense(out_units, activation=out_act, bias_initializer="random_normal",
                              kernel_regularizer=kernel_regularizer))
    model = keras.Sequential([keras.Input((N_IN,))] + dense)
    sizes = (N_IN,) + HIDDEN + (out_units,)
    mods = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        mods.append(torch.nn.Linear(a, b))
        if i < len(HIDDEN):
            mods.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*mods)
    _copy_to_torch(model, net)
    return model, net


def _linears(net):
    return [m for m in net if isinstance(m, torch.nn.Linear)]


def _copy_to_torch(model, net):
    ws = model.get_weights()
    with torch.no_grad():
        for lin, k, b in zip(_linears(net), ws[0::2], ws[1::2]):
            lin.weight.copy_(_t(k.T))
            lin.bias.copy_(_t(b))


def _assert_same_weights(model, net, tol=W_TOL):
    ws = model.get_weights()
    for i, (lin, k, b) in enumerate(zip(_linears(net), ws[0::2], ws[1::2])):
        _close(k, lin.weight.T, tol, f"kernel {i}")
        _close(b, lin.bias, tol, f"bias {i}")


def _sparse_case(rng, n):
    return rng.integers(0, 4, size=n), lambda t: torch.tensor(t)


def _onehot_case(rng, n):
    return np.eye(4)[rng.integers(0, 4, size=n)], _t


def _binary_case(rng, n):
    return rng.integers(0, 2, size=(n, 1)).astype(np.float64), _t


def _regression_case(rng, n):
    return rng.normal(size=(n, 3)), _t


# name: (output units, output activation, kerasnp loss, torch loss on the last Linear's output,
#        targets maker)
_TASKS = {
    "sparse_ce": (4, "softmax", "sparse_categorical_crossentropy",
                  torch.nn.CrossEntropyLoss(), _sparse_case),
    "categorical_ce": (4, "softmax", "categorical_crossentropy",
                       torch.nn.CrossEntropyLoss(), _onehot_case),
    "binary_ce": (1, "sigmoid", "binary_crossentropy", torch.nn.BCEWithLogitsLoss(),
                  _binary_case),
    "mse": (3, None, "mse", torch.nn.MSELoss(), _regression_case),
}



class _KerasEpsilonAdam(torch.optim.Adam):
    """torch Adam with Keras's epsilon placement, so any epsilon (here Keras's default 1e-7) can
    be compared exactly. Keras: `w -= lr·√(1-b2ᵗ)/(1-b1ᵗ) · m / (√v + ε)`; torch:
    `w -= lr/(1-b1ᵗ) · m / (√v/√(1-b2ᵗ) + ε')`; they are equal when `ε' = ε/√(1-b2ᵗ)`."""

    def __init__(self, params, lr, eps):
        super().__init__(params, lr=lr, eps=eps)
        self._keras_eps, self._t = eps, 0

    def step(self, closure=None):
        self._t += 1
        for group in self.param_groups:
            group["eps"] = self._keras_eps / math.sqrt(1.0 - group["betas"][1] ** self._t)
        return super().step(closure)


# name: (kerasnp optimizer, torch optimizer on params). Stock torch Adam is compared with a
# negligible epsilon (1e-16; 1e-12 already moves weights by ~6e-9 here because of the placement).
# RMSprop cannot be matched exactly for a finite epsilon (Keras: lr·g/√(v + ε), torch:
# lr·g/(√v + ε)), so both use a negligible one: √(1e-32) = 1e-16 in Keras, 1e-16 in torch
# (1e-12 in both acts like 1e-6 outside the sqrt in Keras and moves the weights by ~1e-5).
_OPTIMIZERS = {
    "sgd_nesterov": (lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
                     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    "sgd_momentum": (lambda: optimizers.SGD(learning_rate=0.05, momentum=0.8),
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8)),
    "adam": (lambda: optimizers.Adam(learning_rate=1e-2, epsilon=1e-16),
             lambda p: torch.optim.Adam(p, lr=1e-2, eps=1e-16)),
    "adam_keras_eps": (lambda: optimizers.Adam(learning_rate=1e-2),   # default epsilon 1e-7
                       lambda p: _KerasEpsilonAdam(p, lr=1e-2, eps=1e-7)),
    "rmsprop": (lambda: optimizers.RMSprop(learning_rate=1e-2, rho=0.9, epsilon=1e-32),
                lambda p: torch.optim.RMSprop(p, lr=1e-2, alpha=0.9, eps=1e-16)),
}

_PAIRS = ([("sparse_ce", opt) for opt in _OPTIMIZERS]
          + [("categorical_ce", "adam_keras_eps"), ("binary_ce", "adam"),
             ("binary_ce", "sgd_nesterov"),
             ("mse", "sgd_momentum"), ("mse", "rmsprop")])


def _torch_step(net, opt, loss_fn, x, t):
    opt.zero_grad()
    loss = loss_fn(net(_t(x)), t)
    loss.backward()
    opt.step()
    return loss.item()


@pytest.mark.parametrize("task,opt", _PAIRS, ids=[f"{t}-{o}" for t, o in _PAIRS])
def test_train_on_batch_matches_torch(task, opt):
    units, act, kloss, tloss, make_targets = _TASKS[task]
    make_kopt, make_topt = _OPTIMIZERS[opt]
    keras.set_random_seed(11)
    model, net = _models(units, act)
    model.compile(optimizer=make_kopt(), loss=kloss)
    topt = make_topt(net.parameters())
    rng = _rng(12)
    for step in range(5):
        x = rng.normal(size=(32, N_IN))
        y, to_torch = make_targets(rng, 32)
        got = model.train_on_batch(x, y)
        want = _torch_step(net, topt, tloss, x, to_torch(y))
        assert abs(got - want) <= TOL * max(1.0, abs(want)), (step, got, want)
    _assert_same_weights(model, net)
    # and the weights did move: parity is not trivially "nothing changed"
    fresh, _ = _models(units, act)
    assert not np.allclose(model.get_weights()[0], fresh.get_weights()[0])


def test_fit_full_batch_equals_torch_steps():
    keras.set_random_seed(21)
    model, net = _models(4, "softmax")
    model.compile(optimizer=optimizers.Adam(learning_rate=1e-2),
                  loss="sparse_categorical_crossentropy")
    topt = _KerasEpsilonAdam(net.parameters(), lr=1e-2, eps=1e-7)
    rng = _rng(22)
    n = 40
    x, y = rng.normal(size=(n, N_IN)), rng.integers(0, 4, size=n)
    hist = model.fit(x, y, batch_size=n, epochs=3, shuffle=False, verbose=0)
    want = [_torch_step(net, topt, torch.nn.CrossEntropyLoss(), x, torch.tensor(y))
            for _ in range(3)]
    _close(hist.history["loss"], want)
    _assert_same_weights(model, net)


def test_fit_minibatches_without_shuffle_equal_torch_slices():
    """batch_size 8 over 20 samples: batches [0:8], [8:16], [16:20] in order, every epoch; the
    epoch loss is the sample-weighted mean of the batch losses."""
    keras.set_random_seed(31)
    model, net = _models(4, "softmax")
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
                  loss="sparse_categorical_crossentropy")
    topt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    rng = _rng(32)
    x, y = rng.normal(size=(20, N_IN)), rng.integers(0, 4, size=20)
    hist = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    want = []
    for _ in range(2):
        losses = [_torch_step(net, topt, torch.nn.CrossEntropyLoss(), x[lo:lo + 8],
                              torch.tensor(y[lo:lo + 8])) for lo in (0, 8, 16)]
        want.append(np.dot(losses, [8, 8, 4]) / 20)
    _close(hist.history["loss"], want)
    _assert_same_weights(model, net)


@pytest.mark.parametrize("reg", [regularizers.L2(0.01), "l2"], ids=["L2(0.01)", "string"])
def test_l2_kernel_regularizer_matches_explicit_torch_penalty(reg):
    """Keras's L2 is `0.01 * Σw²` (no 1/2): loss, gradient, updated weights and evaluate()."""
    keras.set_random_seed(41)
    model, net = _models(3, None, kernel_regularizer=reg)
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="mse")
    topt = torch.optim.SGD(net.parameters(), lr=0.1)
    last = _linears(net)[-1]
    rng = _rng(42)

    def torch_loss(x, t):
        return F.mse_loss(net(_t(x)), _t(t)) + 0.01 * (last.weight ** 2).sum()

    for step in range(3):
        x, t = rng.normal(size=(16, N_IN)), rng.normal(size=(16, 3))
        got = model.train_on_batch(x, t)
        topt.zero_grad()
        loss = torch_loss(x, t)
        loss.backward()
        _close(model.layers[-1].kernel.grad, last.weight.grad.T, what=f"d kernel step {step}")
        topt.step()
        assert abs(got - loss.item()) <= TOL, (step, got, loss.item())
    _assert_same_weights(model, net)
    x, t = rng.normal(size=(16, N_IN)), rng.normal(size=(16, 3))
    with torch.no_grad():
        want = torch_loss(x, t).item()
    assert abs(model.evaluate(x, t, batch_size=16, verbose=0) - want) <= TOL
