"""Torch parity (float64) of values and gradients for ops whose VJPs are easy to get subtly
wrong: einsum, logsumexp, softmax, log_softmax, gelu, erf, take_along_axis, std, cross-entropy
from logits, batch normalization."""
import numpy as np
import pytest

from kerasnp import ops
from kerasnp.autodiff import GradientTape

torch = pytest.importorskip("torch")
rng = np.random.default_rng(5)


def _ours(fn, arrays, w):
    arrays = [np.array(a) for a in arrays]
    with GradientTape() as tape:
        tape.watch(arrays)
        y = fn(*arrays)
        loss = ops.sum(ops.multiply(y, w))
    return np.asarray(y), tape.gradient(loss, arrays)


def _torch(fn, arrays, w):
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    y = fn(*ts)
    (y * torch.tensor(w)).sum().backward()
    return y.detach().numpy(), [t.grad.numpy() for t in ts]


def _parity(ours, theirs, *arrays):
    out_shape = np.shape(ours(*[np.array(a) for a in arrays]))
    w = rng.standard_normal(out_shape)
    y1, g1 = _ours(ours, arrays, w)
    y2, g2 = _torch(theirs, arrays, w)
    np.testing.assert_allclose(y1, y2, rtol=1e-12, atol=1e-12)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_einsum():
    q, k = rng.standard_normal((2, 3, 2, 4)), rng.standard_normal((2, 5, 2, 4))
    _parity(lambda a, b: ops.einsum("bqhd,bkhd->bhqk", a, b),
            lambda a, b: torch.einsum("bqhd,bkhd->bhqk", a, b), q, k)
    m, v = rng.standard_normal((3, 3)), rng.standard_normal((2, 3))
    _parity(lambda a, b: ops.einsum("ii,...i->...", a, b),
            lambda a, b: torch.einsum("ii,...i->...", a, b), m, v)


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_logsumexp(axis):
    x = rng.standard_normal((3, 4)) * 20
    dim = tuple(range(2)) if axis is None else axis
    _parity(lambda a: ops.logsumexp(a, axis=axis), lambda a: torch.logsumexp(a, dim=dim), x)


@pytest.mark.parametrize("axis", [0, -1])
def test_softmax_and_log_softmax(axis):
    x = rng.standard_normal((3, 4)) * 5
    _parity(lambda a: ops.nn.softmax(a, axis=axis), lambda a: torch.softmax(a, dim=axis), x)
    _parity(lambda a: ops.nn.log_softmax(a, axis=axis), lambda a: torch.log_softmax(a, dim=axis),
            x)


@pytest.mark.parametrize("approximate", [True, False])
def test_gelu(approximate):
    x = rng.uniform(-5, 5, (4, 5))
    mode = "tanh" if approximate else "none"
    _parity(lambda a: ops.nn.gelu(a, approximate=approximate),
            lambda a: torch.nn.functional.gelu(a, approximate=mode), x)


def test_erf():
    x = rng.uniform(-4, 4, (50,))
    _parity(ops.erf, torch.erf, x)


def test_take_along_axis():
    x = rng.standard_normal((3, 5))
    idx = rng.integers(0, 5, (3, 4))
    _parity(lambda a: ops.take_along_axis(a, idx, axis=1),
            lambda a: torch.take_along_dim(a, torch.tensor(idx), dim=1), x)


@pytest.mark.parametrize("axis", [None, 1, (0, 2)])
def test_std(axis):
    x = rng.standard_normal((2, 3, 4))
    dim = None if axis is None else axis
    _parity(lambda a: ops.std(a, axis=axis),
            lambda a: torch.std(a, dim=dim, correction=0), x)
    _parity(lambda a: ops.var(a, axis=axis),
            lambda a: torch.var(a, dim=dim, correction=0), x)


def test_crossentropy_from_logits():
    z = rng.standard_normal((4, 5)) * 3
    labels = rng.integers(0, 5, 4)
    t = rng.dirichlet(np.ones(5), 4)
    _parity(lambda a: ops.nn.sparse_categorical_crossentropy(labels, a, from_logits=True),
            lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(labels),
                                                        reduction="none"), z)
    _parity(lambda a: ops.nn.categorical_crossentropy(t, a, from_logits=True),
            lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(t), reduction="none"), z)
    tb = rng.uniform(0, 1, (4, 5))
    _parity(lambda a: ops.nn.binary_crossentropy(tb, a, from_logits=True),
            lambda a: torch.nn.functional.binary_cross_entropy_with_logits(
                a, torch.tensor(tb), reduction="none"), z)


def test_batch_normalization_with_batch_statistics():
    x = rng.standard_normal((6, 3, 2))
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)

    def ours(a, g, b):
        mean, var = ops.nn.moments(a, axes=[0, 2])
        return ops.nn.batch_normalization(a, mean, var, axis=1, offset=b, scale=g, epsilon=1e-3)

    def theirs(a, g, b):
        return torch.nn.functional.batch_norm(a, None, None, g, b, training=True, eps=1e-3)
    _parity(ours, theirs, x, gamma, beta)
