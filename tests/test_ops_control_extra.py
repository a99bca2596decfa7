"""map, scan, associative_scan, vectorized_map, vectorize and custom_gradient: values against
NumPy loops, gradients through the tape against central differences, custom VJPs, errors."""
import numpy as np
import pytest

from kerasnp import ops
from kerasnp.autodiff import GradientTape
from tests._ops_check import check_grad

rng = np.random.default_rng(0)
X = rng.standard_normal((4, 3))


def test_map_and_vectorized_map():
    np.testing.assert_allclose(ops.map(lambda r: ops.sum(r * r), X), (X * X).sum(1))
    out = ops.map(lambda d: {"s": d["a"] + d["b"], "p": d["a"] * d["b"]}, {"a": X, "b": 2 * X})
    np.testing.assert_allclose(out["s"], 3 * X)
    np.testing.assert_allclose(out["p"], 2 * X * X)
    np.testing.assert_allclose(ops.vectorized_map(lambda r: ops.max(r), X), X.max(1))
    check_grad(lambda x: ops.map(lambda r: ops.sum(ops.sin(r)) * r, x), X)
    check_grad(lambda x, y: ops.vectorized_map(lambda t: t[0] * ops.exp(t[1]), (x, y)), X, X)


def test_scan_values_and_gradient():
    def step(c, x):
        c = ops.add(ops.multiply(c, 0.5), x)        # ops: `init` may be a plain watched array
        return c, ops.tanh(c)
    carry, ys = ops.scan(step, np.zeros(3), X)
    c, want = np.zeros(3), []
    for x in X:
        c = c * 0.5 + x
        want.append(np.tanh(c))
    np.testing.assert_allclose(carry, c)
    np.testing.assert_allclose(ys, np.stack(want))
    carry_r, ys_r = ops.scan(step, np.zeros(3), X, reverse=True)
    c, want = np.zeros(3), [None] * 4
    for i in range(3, -1, -1):
        c = c * 0.5 + X[i]
        want[i] = np.tanh(c)
    np.testing.assert_allclose(ys_r, np.stack(want))         # ys stay in input order
    np.testing.assert_allclose(carry_r, c)
    check_grad(lambda i, x: ops.scan(step, i, x), np.ones(3), X)
    carry, ys = ops.scan(lambda c, _: (c + 1.0, None), 0.0, length=3)
    assert float(carry) == 3.0 and ys is None


def test_associative_scan():
    np.testing.assert_allclose(ops.associative_scan(ops.add, X), np.cumsum(X, 0))
    np.testing.assert_allclose(ops.associative_scan(ops.add, X, axis=1), np.cumsum(X, 1))
    np.testing.assert_allclose(ops.associative_scan(ops.maximum, X, reverse=True),
                               np.maximum.accumulate(X[::-1], 0)[::-1])
    a, b = ops.associative_scan(lambda p, q: (p[0] + q[0], p[1] * q[1]),
                                (np.arange(3.0), np.arange(1.0, 4.0)))
    np.testing.assert_allclose(a, [0, 1, 3])
    np.testing.assert_allclose(b, [1, 2, 6])
    check_grad(lambda x: ops.associative_scan(ops.multiply, x, axis=1), X)


def test_vectorize():
    dot = ops.vectorize(lambda a, b: ops.sum(a * b), signature="(n),(n)->()")
    np.testing.assert_allclose(dot(X, X[0]), X @ X[0])
    mv = ops.vectorize(lambda m, v: ops.matmul(m, v), signature="(m,n),(n)->(m)")
    m = rng.standard_normal((2, 3, 3))
    np.testing.assert_allclose(mv(m, X[:1]), np.einsum("bij,kj->bi", m, X[:1]))
    add = ops.vectorize(lambda a, b: a + b)                     # scalars, broadcast loop dims
    np.testing.assert_allclose(add(np.ones((2, 1)), np.arange(3.0)), 1 + np.arange(3.0)[None]
                               * np.ones((2, 1)))
    scaled = ops.vectorize(lambda a, k: a * k, excluded={1})
    np.testing.assert_allclose(scaled(X, 3.0), 3 * X)
    check_grad(lambda x, y: dot(x, y), X, X[1])
    with pytest.raises(ValueError, match="vectorize: signature must look like"):
        ops.vectorize(lambda a: a, signature="n->m")


def test_custom_gradient_is_one_node_with_the_users_vjp():
    @ops.custom_gradient
    def clipped_identity(x):
        return ops.multiply(x, 1.0), lambda upstream: ops.clip(upstream, -1.0, 1.0)

    x = np.array([1.0, 2.0])
    with GradientTape() as tape:
        tape.watch(x)
        y = clipped_identity(x)
        assert len(tape._nodes) == 1                            # the inner ops are not recorded
    np.testing.assert_allclose(tape.gradient(y, x, output_gradients=np.array([3.0, -0.5])),
                               [1.0, -0.5])

    @ops.custom_gradient
    def log1pexp(x):                              # Keras's docstring example (torch style)
        e = ops.exp(x)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))
        return ops.log(1 + e), grad
    np.testing.assert_allclose(log1pexp(np.array([0.0])), [np.log(2.0)])
    check_grad(log1pexp, X)

    @ops.custom_gradient
    def two_in(a, b):
        return ops.multiply(a, b), lambda g: (g * b, g * a)
    check_grad(two_in, X, X + 1)

    @ops.custom_gradient
    def wrong(a, b):
        return a * b, lambda g: g
    with GradientTape() as tape:
        tape.watch(X)
        y = wrong(X, X)
    with pytest.raises(ValueError, match="custom_gradient: grad_fn returned 1 gradient"):
        tape.gradient(y, X)


def test_errors():
    with pytest.raises(ValueError, match="map: every input must have the same size"):
        ops.map(lambda t: t[0], (X, X[:2]))
    with pytest.raises(ValueError, match="scan: pass xs or length"):
        ops.scan(lambda c, x: (c, x), 0.0)
    with pytest.raises(ValueError, match=r"scan: f must return a pair \(carry, y\)"):
        ops.scan(lambda c, x: c, 0.0, X)
