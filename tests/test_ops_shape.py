"""Shape, indexing and creation ops: float64 central-difference gradients and values against
NumPy."""
import numpy as np
import pytest

from kerasnp import ops
from kerasnp.autodiff import GradientTape
from kerasnp.variables import Variable

from _ops_check import check_grad

rng = np.random.default_rng(2)
X = rng.standard_normal((3, 4))
X3 = rng.standard_normal((2, 3, 4))


def _weighted(parts):
    """One tensor from a list of pieces of different shapes: Σ (k+1)·Σpiece_k."""
    return ops.stack([ops.sum(p) * (k + 1) for k, p in enumerate(parts)])


SHAPE_OPS = [  # id, f, input, NumPy reference (None: gradient only)
    ("reshape", lambda x: ops.reshape(x, (2, -1)), X, lambda x: np.reshape(x, (2, -1))),
    ("ravel", ops.ravel, X, np.ravel),
    ("expand_dims", lambda x: ops.expand_dims(x, 1), X, lambda x: np.expand_dims(x, 1)),
    ("expand_dims tuple", lambda x: ops.expand_dims(x, (0, 3)), X,
     lambda x: np.expand_dims(x, (0, 3))),
    ("squeeze", ops.squeeze, X.reshape(3, 1, 4), np.squeeze),
    ("squeeze axis", lambda x: ops.squeeze(x, axis=1), X.reshape(3, 1, 4),
     lambda x: np.squeeze(x, 1)),
    ("transpose", ops.transpose, X, np.transpose),
    ("transpose axes", lambda x: ops.transpose(x, (2, 0, 1)), X3,
     lambda x: np.transpose(x, (2, 0, 1))),
    ("transpose negative", lambda x: ops.transpose(x, (-1, 0, 1)), X3,
     lambda x: np.transpose(x, (2, 0, 1))),
    ("swapaxes", lambda x: ops.swapaxes(x, 0, 2), X3, lambda x: np.swapaxes(x, 0, 2)),
    ("moveaxis", lambda x: ops.moveaxis(x, 0, -1), X3, lambda x: np.moveaxis(x, 0, -1)),
    ("moveaxis seq", lambda x: ops.moveaxis(x, [0, 1], [2, 0]), X3,
     lambda x: np.moveaxis(x, [0, 1], [2, 0])),
    ("flip", lambda x: ops.flip(x, 1), X, lambda x: np.flip(x, 1)),
    ("flip all", ops.flip, X, np.flip),
    ("roll", lambda x: ops.roll(x, 2, axis=1), X, lambda x: np.roll(x, 2, axis=1)),
    ("roll flat", lambda x: ops.roll(x, 5), X, lambda x: np.roll(x, 5)),
    ("roll tuple", lambda x: ops.roll(x, (1, -2), axis=(0, 1)), X,
     lambda x: np.roll(x, (1, -2), axis=(0, 1))),
    ("broadcast_to", lambda x: ops.broadcast_to(x, (2, 3, 4)), X[:, :1],
     lambda x: np.broadcast_to(x, (2, 3, 4))),
    ("tile", lambda x: ops.tile(x, (2, 1, 3)), X, lambda x: np.tile(x, (2, 1, 3))),
    ("tile short", lambda x: ops.tile(x, 2), X3, lambda x: np.tile(x, 2)),
    ("repeat", lambda x: ops.repeat(x, 2, axis=1), X, lambda x: np.repeat(x, 2, axis=1)),
    ("repeat counts", lambda x: ops.repeat(x, [1, 0, 2, 3], axis=1), X,
     lambda x: np.repeat(x, [1, 0, 2, 3], axis=1)),
    ("repeat flat", lambda x: ops.repeat(x, 2), X, lambda x: np.repeat(x, 2)),
    ("tril", lambda x: ops.tril(x, -1), X, lambda x: np.tril(x, -1)),
    ("triu", ops.triu, X3, np.triu),
    ("pad constant", lambda x: ops.pad(x, ((1, 2), (2, 1))), X,
     lambda x: np.pad(x, ((1, 2), (2, 1)))),
    ("pad int", lambda x: ops.pad(x, 1, constant_values=3.0), X,
     lambda x: np.pad(x, 1, constant_values=3.0)),
    ("take", lambda x: ops.take(x, np.array([[0, 2], [2, 2]]), axis=1), X,
     lambda x: np.take(x, [[0, 2], [2, 2]], axis=1)),
    ("take flat", lambda x: ops.take(x, np.array([0, 5, 5, -1])), X,
     lambda x: np.take(x, [0, 5, 5, -1])),
    ("take axis0", lambda x: ops.take(x, np.array([1, 0, 1]), axis=0), X3,
     lambda x: np.take(x, [1, 0, 1], axis=0)),
    ("take_along_axis", lambda x: ops.take_along_axis(
        x, np.array([[0, 2, 2], [1, 1, 0], [3, 3, 3]]), axis=1), X,
     lambda x: np.take_along_axis(x, np.array([[0, 2, 2], [1, 1, 0], [3, 3, 3]]), axis=1)),
    ("take_along_axis bcast", lambda x: ops.take_along_axis(x, np.array([[0], [1]]), axis=0),
     X[:, :1], None),
    ("take_along_axis flat", lambda x: ops.take_along_axis(x, np.array([1, 1, 7]), axis=None),
     X, lambda x: np.take_along_axis(x.ravel(), np.array([1, 1, 7]), axis=0)),
    ("get_item slices", lambda x: ops.get_item(x, np.s_[1:, ::2]), X,
     lambda x: x[1:, ::2]),
    ("get_item int", lambda x: ops.get_item(x, 1), X, lambda x: x[1]),
    ("get_item newaxis", lambda x: ops.get_item(x, np.s_[None, ..., 1]), X3,
     lambda x: x[None, ..., 1]),
    ("get_item repeated", lambda x: ops.get_item(x, np.array([0, 0, 2])), X,
     lambda x: x[[0, 0, 2]]),
    ("get_item mask", lambda x: ops.get_item(x, X > 0), X, lambda x: x[X > 0]),
    ("get_item mixed", lambda x: ops.get_item(x, (np.array([0, 0]), np.s_[1:3])), X,
     lambda x: x[[0, 0], 1:3]),
    ("slice", lambda x: ops.slice(x, (1, 1), (2, -1)), X, lambda x: x[1:3, 1:]),
]


@pytest.mark.parametrize("name,fn,x,ref", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_op_gradients_and_values(name, fn, x, ref):
    check_grad(fn, x)
    if ref is not None:
        np.testing.assert_array_equal(fn(x), ref(x))


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric", "wrap", "empty"])
def test_pad_modes(mode):
    check_grad(lambda x: ops.pad(x, ((1, 2), (2, 1)), mode=mode), X)
    if mode != "empty":
        np.testing.assert_array_equal(ops.pad(X, ((1, 2), (2, 1)), mode=mode),
                                      np.pad(X, ((1, 2), (2, 1)), mode=mode))


def test_pad_errors():
    with pytest.raises(ValueError, match="Valid: constant"):
        ops.pad(X, 1, mode="mirror")
    with pytest.raises(ValueError, match="constant_values"):
        ops.pad(X, 1, mode="edge", constant_values=1.0)
    v = Variable(X.copy(), "v")
    with GradientTape():
        with pytest.raises(NotImplementedError, match="no gradient"):
            ops.pad(v, 1, mode="mean")
    np.testing.assert_array_equal(ops.pad(X, 1, mode="mean"), np.pad(X, 1, mode="mean"))


def test_joining_and_splitting():
    b = rng.standard_normal((3, 2))
    check_grad(lambda x, y: ops.concatenate([x, y], axis=1), X, b)
    check_grad(lambda x, y: ops.concatenate([x, y], axis=None), X, b)
    check_grad(lambda x, y: ops.stack([x, y], axis=1), X, X + 1)
    check_grad(lambda x, y: ops.stack([x, y], axis=-1), X, X + 1)
    check_grad(lambda x: _weighted(ops.split(x, [1, 3], axis=1)), X)
    check_grad(lambda x: _weighted(ops.split(x, 3, axis=0)), X)
    check_grad(lambda x: _weighted(ops.unstack(x, axis=1)), X)
    np.testing.assert_array_equal(ops.concatenate([X, b], axis=1), np.concatenate([X, b], 1))
    np.testing.assert_array_equal(ops.stack([X, X], axis=1), np.stack([X, X], 1))
    for got, want in zip(ops.split(X, [1, 3], axis=1), np.split(X, [1, 3], axis=1)):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(ops.unstack(X3, axis=-1), np.moveaxis(X3, -1, 0)):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="equal"):
        ops.split(X, 3, axis=1)
    with pytest.raises(ValueError, match="num=2"):
        ops.unstack(X, num=2)


def test_slice_update():
    u = rng.standard_normal((2, 2))
    check_grad(lambda x, v: ops.slice_update(x, (1, 1), v), X, u)
    want = X.copy()
    want[1:3, 1:3] = u
    np.testing.assert_array_equal(ops.slice_update(X, [1, 1], u), want)
    assert not np.shares_memory(ops.slice_update(X, [1, 1], u), X)


def test_indices_may_be_tensors_or_variables():
    v = Variable(X.copy(), "v")
    idx = Variable(np.array([2, 0]), "idx", trainable=False)
    with GradientTape() as tape:
        y = ops.sum(ops.get_item(v, idx)) + ops.sum(v[(idx, 1)])
    g = tape.gradient(y, v)
    want = np.zeros_like(X)
    want[[2, 0]] += 1
    want[[2, 0], 1] += 1
    np.testing.assert_array_equal(g, want)
    np.testing.assert_array_equal(ops.take(X, np.array([1.0, 2.0]), axis=1), X[:, [1, 2]])


def test_creation_ops_follow_keras_dtypes():
    assert ops.zeros((2, 3)).dtype == np.float32 and ops.zeros((2, 3)).shape == (2, 3)
    assert ops.ones(4, dtype="int32").dtype == np.int32
    np.testing.assert_array_equal(ops.full((2,), 7.0), [7.0, 7.0])
    i = np.arange(3)
    assert ops.zeros_like(i).dtype == i.dtype
    assert ops.ones_like(X, dtype="float32").dtype == np.float32
    np.testing.assert_array_equal(ops.full_like(X, 2.0), np.full_like(X, 2.0))
    np.testing.assert_array_equal(ops.eye(3, 4, k=1), np.eye(3, 4, 1))
    assert ops.eye(2).dtype == np.float32 and ops.identity(3).shape == (3, 3)
    assert ops.arange(3).dtype == np.int32
    np.testing.assert_array_equal(ops.arange(3), [0, 1, 2])
    np.testing.assert_array_equal(ops.arange(1, 7, 2), [1, 3, 5])
    assert ops.arange(3.0).dtype == np.float32
    np.testing.assert_allclose(ops.linspace(0, 1, 5), np.linspace(0, 1, 5))
    assert ops.linspace(0, 1, 5).dtype == np.float32


def test_shape_queries():
    assert ops.shape(X) == (3, 4) and isinstance(ops.shape(X)[0], int)
    assert ops.ndim(X3) == 3 and ops.size(X3) == 24
    assert ops.shape(Variable(X, "v")) == (3, 4)
    assert ops.shape(2.0) == ()
