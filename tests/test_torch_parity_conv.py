"""Parity with PyTorch (float64) for the convolution-family layers.

Layouts differ: kerasnp is NHWC (channels last), torch NCHW, so inputs and gradients are permuted
on the way in and out. Keras "same" padding can be asymmetric (the extra row/column goes to the
bottom/right); torch pooling pads symmetrically, so asymmetric cases pad explicitly with `F.pad`.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kerasnp import config  # noqa: E402

from _cases_conv import tape_gradients  # noqa: E402

F = torch.nn.functional
TOL = 1e-10


@pytest.fixture(autouse=True)
def _float64():
    """float64 in both libraries for the test, float32 / torch's default restored afterwards."""
    old_floatx, old_torch = config.floatx(), torch.get_default_dtype()
    config.set_floatx("float64")
    torch.set_default_dtype(torch.float64)
    yield
    config.set_floatx(old_floatx)
    torch.set_default_dtype(old_torch)


def _close(got, want, tol=TOL, what=""):
    want = want.detach().numpy() if isinstance(want, torch.Tensor) else np.asarray(want)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=what)


def _nchw(a, grad=False):
    """NHWC (or NSC) NumPy array -> NCHW (or NCS) torch leaf tensor."""
    a = np.asarray(a, dtype=np.float64)
    t = torch.tensor(np.moveaxis(a, -1, 1).copy(), requires_grad=grad)
    return t


def _nhwc(t):
    return np.moveaxis(t.detach().numpy(), 1, -1)


def _run(layer, x, seed=1, training=False):
    """kerasnp forward + tape gradients with a random upstream gradient:
    `(y, dy, dx, {weight name: gradient})`."""
    dy = np.random.default_rng(seed).normal(size=layer.compute_output_shape(x.shape))
    y, dx, dws = tape_gradients(layer, x, dy, training)
    return y, dy, dx, {v.name: g for v, g in zip(layer.trainable_weights, dws)}


# ---------------------------------------------------------------------------------------------
# Pooling, global pooling and batch normalization
# ---------------------------------------------------------------------------------------------
from kerasnp.layers.batch_norm import BatchNormalization  # noqa: E402
from kerasnp.layers.global_pooling import (GlobalAveragePooling1D,  # noqa: E402
                                           GlobalAveragePooling2D, GlobalMaxPooling2D)
from kerasnp.layers.pooling import (AveragePooling1D, AveragePooling2D,  # noqa: E402
                                    MaxPooling1D, MaxPooling2D)


def _tf_same_pads(size, pool, stride):
    """TensorFlow's (before, after) "same" padding, written out independently of the layers."""
    out = -(-size // stride)
    total = max((out - 1) * stride + pool - size, 0)
    return total // 2, total - total // 2


def _torch_pool2d(xt, mode, pool, strides, padding):
    """Keras-semantics pooling in torch: padded cells never win a max, never count in a mean."""
    h, w = xt.shape[2:]
    if padding == "valid":
        pads = (0, 0, 0, 0)
    else:
        (t, b), (l, r) = _tf_same_pads(h, pool[0], strides[0]), _tf_same_pads(w, pool[1],
                                                                             strides[1])
        pads = (l, r, t, b)                                    # F.pad order: last axis first
    if mode == "max":
        return F.max_pool2d(F.pad(xt, pads, value=-np.inf), pool, strides)
    if pads[0] == pads[1] and pads[2] == pads[3] and 2 * pads[0] <= pool[1] \
            and 2 * pads[2] <= pool[0]:                        # symmetric: torch pads itself
        return F.avg_pool2d(xt, pool, strides, padding=(pads[2], pads[0]),
                            count_include_pad=False)
    ones = torch.ones_like(xt)                                 # asymmetric: sum / in-bounds count
    total = F.avg_pool2d(F.pad(xt, pads), pool, strides, divisor_override=1)
    count = F.avg_pool2d(F.pad(ones, pads), pool, strides, divisor_override=1)
    return total / count


POOL_PARITY = [
    ("max", (2, 2), (2, 2), "valid", (6, 6)),
    ("max", (3, 3), (2, 2), "same", (7, 6)),                   # pads (1, 1) rows, (0, 1) cols
    ("max", (2, 3), (3, 2), "same", (8, 7)),
    ("max", (3, 2), (1, 1), "valid", (5, 6)),                  # overlapping windows
    ("avg", (2, 2), (2, 2), "valid", (5, 7)),
    ("avg", (3, 3), (1, 1), "same", (5, 5)),                   # symmetric (1, 1): torch padding
    ("avg", (3, 3), (2, 2), "same", (6, 5)),                   # asymmetric
    ("avg", (2, 4), (3, 3), "same", (7, 8)),
]


@pytest.mark.parametrize("mode, pool, strides, padding, hw", POOL_PARITY)
def test_pool2d_matches_torch(mode, pool, strides, padding, hw):
    cls = MaxPooling2D if mode == "max" else AveragePooling2D
    x = np.random.default_rng(0).normal(size=(2,) + hw + (3,))
    y, dy, dx, _ = _run(cls(pool, strides=strides, padding=padding), x)
    xt = _nchw(x, grad=True)
    yt = _torch_pool2d(xt, mode, pool, strides, padding)
    (yt * _nchw(dy)).sum().backward()
    _close(y, _nhwc(yt), what="forward")
    _close(dx, _nhwc(xt.grad), what="input gradient")


@pytest.mark.parametrize("cls, fn", [(MaxPooling1D, F.max_pool1d),
                                     (AveragePooling1D, F.avg_pool1d)])
def test_pool1d_valid_matches_torch(cls, fn):
    x = np.random.default_rng(1).normal(size=(3, 11, 2))
    y, dy, dx, _ = _run(cls(3, strides=2), x)
    xt = _nchw(x, grad=True)
    yt = fn(xt, 3, 2)
    (yt * _nchw(dy)).sum().backward()
    _close(y, _nhwc(yt))
    _close(dx, _nhwc(xt.grad))


@pytest.mark.parametrize("cls, fn", [
    (GlobalAveragePooling2D, lambda t: t.mean(dim=(2, 3))),
    (GlobalMaxPooling2D, lambda t: t.amax(dim=(2, 3))),
    (GlobalAveragePooling1D, lambda t: t.mean(dim=2)),
])
def test_global_pooling_matches_torch(cls, fn):
    shape = (3, 4, 5, 6) if cls is not GlobalAveragePooling1D else (3, 7, 6)
    x = np.random.default_rng(2).normal(size=shape)
    y, dy, dx, _ = _run(cls(), x)
    xt = _nchw(x, grad=True)
    yt = fn(xt)
    (yt * torch.tensor(dy)).sum().backward()
    _close(y, yt)
    _close(dx, _nhwc(xt.grad))


@pytest.mark.parametrize("shape", [(6, 5), (4, 5, 3, 3)])
def test_batch_norm_training_matches_torch(shape):
    """Forward, gradients and moving statistics over three training steps.

    Keras updates `moving = momentum·moving + (1 - momentum)·batch` with the BIASED batch
    variance; torch uses `momentum_t = 1 - momentum` and the UNBIASED variance for running_var.
    The means match directly; for the variance the test recovers torch's unbiased batch variance
    from its running_var and applies Keras's rule to the biased one, `var_b = var_u·(m - 1)/m`.
    """
    rng = np.random.default_rng(3)
    c, momentum, eps = shape[-1], 0.9, 1e-3
    m = int(np.prod(shape[:-1]))
    bn = BatchNormalization(momentum=momentum, epsilon=eps)
    bn.build((None,) + shape[1:])
    bn.built = True
    gamma, beta = rng.normal(1, 0.2, c), rng.normal(0, 0.2, c)
    bn.set_weights([gamma, beta, np.zeros(c), np.ones(c)])
    run_mean, run_var = torch.zeros(c), torch.ones(c)
    want_var = np.ones(c)
    for step in range(3):
        x = rng.normal(step, 1 + step, shape)
        y, dy, dx, grads = _run(bn, x, seed=step, training=True)
        xt, g, b = _nchw(x, grad=True), torch.tensor(gamma, requires_grad=True), \
            torch.tensor(beta, requires_grad=True)
        old_var = run_var.clone()
        yt = F.batch_norm(xt, run_mean, run_var, g, b, training=True, momentum=1 - momentum,
                          eps=eps)
        (yt * _nchw(dy)).sum().backward()
        _close(y, _nhwc(yt), what="forward")
        _close(dx, _nhwc(xt.grad), tol=1e-9, what="input gradient")
        _close(grads["gamma"], g.grad, what="gamma gradient")
        _close(grads["beta"], b.grad, what="beta gradient")
        _close(bn.moving_mean.value, run_mean, what="moving mean")
        var_unbiased = ((run_var - momentum * old_var) / (1 - momentum)).numpy()
        want_var = momentum * want_var + (1 - momentum) * var_unbiased * (m - 1) / m
        _close(bn.moving_variance.value, want_var, what="moving variance")
        assert not np.allclose(bn.moving_variance.value, run_var.numpy())   # they do differ

    x = rng.normal(size=shape)                                 # inference: moving statistics
    y, dy, dx, _ = _run(bn, x, training=False)
    xt = _nchw(x, grad=True)
    moving = [torch.tensor(v.value) for v in (bn.moving_mean, bn.moving_variance)]
    yt = F.batch_norm(xt, *moving, torch.tensor(gamma), torch.tensor(beta), training=False,
                      eps=eps)
    (yt * _nchw(dy)).sum().backward()
    _close(y, _nhwc(yt))
    _close(dx, _nhwc(xt.grad))


# ---------------------------------------------------------------------------------------------
# A small CNN trained for 3 Adam steps in both libraries ends with the same weights
# ---------------------------------------------------------------------------------------------
def test_small_cnn_three_adam_steps_match_torch():
    import kerasnp as keras
    from kerasnp import layers as L
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 9, 9, 2))
    y = rng.integers(0, 3, 8)
    model = keras.Sequential([
        keras.Input((9, 9, 2)), L.Conv2D(4, 3, padding="same", activation="relu"),
        L.MaxPooling2D(2), L.BatchNormalization(), L.Conv2D(5, 2, strides=2, activation="tanh"),
        L.Flatten(), L.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-2, epsilon=1e-16), "sparse_categorical_crossentropy")
    c1, bn, c2, d = (model.layers[i] for i in (0, 2, 3, 5))

    nn = torch.nn
    t_c1, t_bn = nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4, eps=1e-3, momentum=0.01)
    t_c2, t_d = nn.Conv2d(4, 5, 2, stride=2), nn.Linear(5 * 2 * 2, 3)
    with torch.no_grad():
        for t, k in ((t_c1, c1), (t_c2, c2)):
            t.weight.copy_(torch.from_numpy(k.kernel.value.transpose(3, 2, 0, 1)))
            t.bias.copy_(torch.from_numpy(k.bias.value))
        t_d.weight.copy_(torch.from_numpy(d.kernel.value.T.copy()))   # torch flattens NHWC too
        t_d.bias.copy_(torch.from_numpy(d.bias.value))
    params = [p for m in (t_c1, t_bn, t_c2, t_d) for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=1e-2, eps=1e-16)
    tx, ty = _nchw(x), torch.from_numpy(y)

    for step in range(3):
        loss = model.train_on_batch(x, y)
        opt.zero_grad()
        h = F.max_pool2d(torch.relu(t_c1(tx)), 2)
        h = torch.tanh(t_c2(t_bn(h)))
        logits = t_d(_flatten_nhwc(h))
        t_loss = F.cross_entropy(logits, ty)
        t_loss.backward()
        opt.step()
        assert loss == pytest.approx(t_loss.item(), rel=1e-9, abs=1e-12), f"step {step}"

    _close(c1.kernel.value, t_c1.weight.detach().numpy().transpose(2, 3, 1, 0), 1e-8, "conv1")
    _close(c2.kernel.value, t_c2.weight.detach().numpy().transpose(2, 3, 1, 0), 1e-8, "conv2")
    _close(bn.gamma.value, t_bn.weight, 1e-8, "gamma")
    _close(bn.beta.value, t_bn.bias, 1e-8, "beta")
    _close(bn.moving_mean.value, t_bn.running_mean, 1e-8, "moving mean")
    _close(d.kernel.value, t_d.weight.detach().numpy().T, 1e-8, "dense")


def _flatten_nhwc(h):
    """Flatten an NCHW tensor in NHWC order, as kerasnp's Flatten sees it."""
    return h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)
