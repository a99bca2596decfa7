"""`ops.nn` math: activations, softmax family, one_hot, moments, batch_normalization, normalize
and the cross-entropies; float64 central differences, values against NumPy formulas, stability
at extreme inputs."""
import math

import numpy as np
import pytest

from kerasnp import ops
from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import Tensor

from _ops_check import check_grad

rng = np.random.default_rng(3)


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _erf(x):
    return np.vectorize(math.erf)(x)


ACTIVATIONS = {  # name: NumPy reference
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1)),
    "gelu": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),
    "sigmoid": _sig,
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "hard_silu": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hard_swish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "softplus": lambda x: np.log(1 + np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "silu": lambda x: x * _sig(x),
    "swish": lambda x: x * _sig(x),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x),
    "log_sigmoid": lambda x: np.log(_sig(x)),
    "softmax": lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True),
    "log_softmax": lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True)),
}


def _away_from_kinks(shape):
    x = rng.uniform(-7, 7, shape)
    for k in (0.0, 6.0, -3.0, 3.0):
        x[np.abs(x - k) < 1e-2] += 0.1
    return x


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradients_and_values(name):
    x = _away_from_kinks((3, 5))
    fn = getattr(ops.nn, name)
    check_grad(fn, x)
    np.testing.assert_allclose(fn(x), ACTIVATIONS[name](x), rtol=1e-12, atol=1e-14)
    assert getattr(ops, name) is fn                                 # also ops.<name>, as Keras


def test_activation_options():
    x = _away_from_kinks((3, 5))
    check_grad(lambda t: ops.nn.elu(t, alpha=0.5), x)
    np.testing.assert_allclose(ops.nn.elu(x, alpha=0.5), np.where(x > 0, x, 0.5 * np.expm1(x)))
    check_grad(lambda t: ops.nn.leaky_relu(t, negative_slope=0.01), x)
    check_grad(lambda t: ops.nn.gelu(t, approximate=False), x)
    np.testing.assert_allclose(ops.nn.gelu(x, approximate=False),
                               0.5 * x * (1 + _erf(x / np.sqrt(2))), rtol=1e-13, atol=1e-15)
    for axis in (0, (0, 1)):
        check_grad(lambda t: ops.nn.softmax(t, axis=axis), x)
        e = np.exp(x)
        np.testing.assert_allclose(ops.nn.softmax(x, axis=axis), e / e.sum(axis, keepdims=True))
    check_grad(lambda t: ops.nn.log_softmax(t, axis=0), x)


def test_activations_are_stable_at_extreme_inputs():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        s = ops.nn.sigmoid(x)
        np.testing.assert_allclose(s, [0, _sig(-50.0), 0.5, 1, 1])
        assert np.all(np.isfinite(ops.nn.softplus(x)))
        np.testing.assert_allclose(ops.nn.log_sigmoid(x)[[0, 4]], [-1000.0, 0.0])
        np.testing.assert_allclose(ops.nn.softmax(x), [0, 0, 0, 0, 1])
        np.testing.assert_allclose(ops.nn.log_softmax(x)[[3, 4]], [-950.0, 0.0])
        assert np.all(np.isfinite(ops.nn.elu(x))) and np.all(np.isfinite(ops.nn.selu(x)))


def test_float32_stays_float32():
    x = rng.standard_normal((2, 3)).astype(np.float32)
    for name in ACTIVATIONS:
        assert getattr(ops.nn, name)(x).dtype == np.float32, name
    assert ops.nn.gelu(x, approximate=False).dtype == np.float32


def test_one_hot():
    y = ops.nn.one_hot(np.array([0, 2, -1, 5]), 3)
    np.testing.assert_array_equal(y, [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    assert y.dtype == np.float32
    assert ops.nn.one_hot(np.array([[1, 0]]), 4, axis=0, dtype="int32").shape == (4, 1, 2)
    with pytest.raises(ValueError, match="sparse"):
        ops.nn.one_hot(np.array([1]), 2, sparse=True)


def test_moments_and_batch_normalization():
    x = rng.standard_normal((5, 3, 2))
    m, v = ops.nn.moments(x, axes=[0, 2])
    np.testing.assert_allclose(m, x.mean((0, 2)))
    np.testing.assert_allclose(v, x.var((0, 2)))
    m2, v2 = ops.nn.moments(x, axes=(0, 2), keepdims=True)
    assert m2.shape == v2.shape == (1, 3, 1)
    check_grad(lambda t: ops.stack(ops.nn.moments(t, axes=[0, 2])), x)
    params = [rng.standard_normal(3), rng.uniform(0.5, 1, 3), rng.standard_normal(3),
              rng.standard_normal(3)]

    def bn(t, mean, var, off, sc):
        return ops.nn.batch_normalization(t, mean, var, axis=1, offset=off, scale=sc)
    check_grad(bn, x, *params)
    mean, var, off, sc = (p.reshape(1, 3, 1) for p in params)
    np.testing.assert_allclose(bn(x, *params), (x - mean) / np.sqrt(var + 1e-3) * sc + off)
    check_grad(lambda t, mean, var: ops.nn.batch_normalization(t, mean, var, axis=-1),
               x, rng.standard_normal(2), rng.uniform(0.5, 1, 2))

    def train_bn(t, off, sc):        # statistics from the batch: gradients flow through them
        mean, var = ops.nn.moments(t, axes=[0])
        return ops.nn.batch_normalization(t, mean, var, axis=1, offset=off, scale=sc)
    check_grad(train_bn, rng.standard_normal((6, 3)), params[2], params[3])


def test_normalize():
    x = rng.standard_normal((3, 4))
    for order in (1, 2, 3):
        check_grad(lambda t: ops.nn.normalize(t, order=order), x)
    np.testing.assert_allclose(ops.nn.normalize(x), x / np.linalg.norm(x, axis=-1, keepdims=True))
    np.testing.assert_allclose(ops.nn.normalize(x, axis=0, order=1),
                               x / np.abs(x).sum(0, keepdims=True))
    np.testing.assert_array_equal(ops.nn.normalize(np.zeros((2, 3))), 0.0)


# -- cross-entropies -----------------------------------------------------------------------------
T = rng.dirichlet(np.ones(4), 3)
P = rng.dirichlet(np.ones(4) * 3, 3)
Z = rng.standard_normal((3, 4))
LABELS = np.array([0, 3, 1])


def _cce(t, p, axis=-1):
    p = np.clip(p / p.sum(axis, keepdims=True), 1e-7, 1 - 1e-7)
    return -np.sum(t * np.log(p), axis=axis)


def test_categorical_crossentropy():
    check_grad(ops.nn.categorical_crossentropy, T, P)
    check_grad(lambda t, z: ops.nn.categorical_crossentropy(t, z, from_logits=True), T, Z)
    check_grad(lambda t, z: ops.nn.categorical_crossentropy(t, z, from_logits=True, axis=0),
               T, Z)
    check_grad(lambda t, p: ops.nn.categorical_crossentropy(t, p, axis=0), T, P)
    np.testing.assert_allclose(ops.nn.categorical_crossentropy(T, P), _cce(T, P))
    logp = Z - np.log(np.exp(Z).sum(-1, keepdims=True))
    np.testing.assert_allclose(ops.nn.categorical_crossentropy(T, Z, from_logits=True),
                               -np.sum(T * logp, -1))
    with pytest.raises(ValueError, match="same shape"):
        ops.nn.categorical_crossentropy(T, P[:, :3])


def test_sparse_categorical_crossentropy():
    check_grad(lambda p: ops.nn.sparse_categorical_crossentropy(LABELS, p), P)
    check_grad(lambda z: ops.nn.sparse_categorical_crossentropy(LABELS, z, from_logits=True), Z)
    check_grad(lambda z: ops.nn.sparse_categorical_crossentropy(
        np.array([0, 2, 1, 2]), z, from_logits=True, axis=0), Z)
    onehot = np.eye(4)[LABELS]
    np.testing.assert_allclose(ops.nn.sparse_categorical_crossentropy(LABELS, P), _cce(onehot, P))
    np.testing.assert_allclose(
        ops.nn.sparse_categorical_crossentropy(LABELS[:, None], Z, from_logits=True),
        ops.nn.categorical_crossentropy(onehot, Z, from_logits=True))
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        ops.nn.sparse_categorical_crossentropy(np.array([0, 4, 1]), P)
    with pytest.raises(ValueError, match="without the class axis"):
        ops.nn.sparse_categorical_crossentropy(np.array([0, 1]), P)


def test_binary_crossentropy():
    t = rng.uniform(0, 1, (3, 4))
    p = rng.uniform(0.05, 0.95, (3, 4))
    check_grad(ops.nn.binary_crossentropy, t, p)
    check_grad(lambda a, z: ops.nn.binary_crossentropy(a, z, from_logits=True), t, Z)
    np.testing.assert_allclose(ops.nn.binary_crossentropy(t, p),
                               -(t * np.log(p) + (1 - t) * np.log(1 - p)))
    np.testing.assert_allclose(ops.nn.binary_crossentropy(t, Z, from_logits=True),
                               -(t * np.log(_sig(Z)) + (1 - t) * np.log(1 - _sig(Z))))
    big = np.array([-800.0, 800.0])
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        np.testing.assert_allclose(ops.nn.binary_crossentropy(np.array([1.0, 0.0]), big,
                                                              from_logits=True), [800.0, 800.0])


@pytest.mark.parametrize("kind", ["categorical", "sparse", "binary"])
def test_probabilities_from_softmax_or_sigmoid_use_their_logits(kind):
    """The output of ops.nn.softmax/sigmoid remembers its logits: the loss then equals the
    logits form (no clipping) and its gradient reaches the logits directly."""
    z = np.array([[30.0, 0.0, -30.0], [1.0, 2.0, 3.0]])
    t = np.array([[0.0, 0.0, 1.0], [0.2, 0.3, 0.5]])
    labels = np.array([2, 0])
    fns = {"categorical": (ops.nn.softmax,
                           lambda p, **k: ops.nn.categorical_crossentropy(t, p, **k)),
           "sparse": (ops.nn.softmax,
                      lambda p, **k: ops.nn.sparse_categorical_crossentropy(labels, p, **k)),
           "binary": (ops.nn.sigmoid, lambda p, **k: ops.nn.binary_crossentropy(t, p, **k))}
    act, loss = fns[kind]
    with GradientTape() as tape:
        tape.watch(z)
        p = act(z)
        assert type(p) is Tensor
        fused = loss(p)
        value = ops.sum(fused)
    g = tape.gradient(value, z)
    np.testing.assert_allclose(np.asarray(fused), loss(z, from_logits=True))
    check = _logit_grad(kind, z, t, labels)
    np.testing.assert_allclose(g, check, rtol=1e-12, atol=1e-12)


def _logit_grad(kind, z, t, labels):
    if kind == "binary":
        return _sig(z) - t
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    onehot = np.eye(3)[labels] if kind == "sparse" else t
    return p * onehot.sum(-1, keepdims=True) - onehot


def test_softmax_over_another_axis_is_not_fused():
    z = rng.standard_normal((3, 4))
    t = rng.dirichlet(np.ones(4), 3)
    with GradientTape() as tape:
        tape.watch(z)
        p = ops.nn.softmax(z, axis=0)
        assert p._keras_logits is None         # built-in losses fuse over the last axis only
        y = ops.sum(ops.nn.categorical_crossentropy(t, p))
    np.testing.assert_allclose(np.asarray(y), np.sum(_cce(t, np.asarray(p))))
    check_grad(lambda a: ops.nn.categorical_crossentropy(t, ops.nn.softmax(a, axis=0)), z)
