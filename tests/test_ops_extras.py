"""Ops beyond the core list: sorting, diagonals, norms, logaddexp, average; float64 central
differences and values against NumPy."""
import numpy as np
import pytest

from kerasnp import ops
from kerasnp.autodiff import GradientTape

from _ops_check import check_grad

rng = np.random.default_rng(6)
X = rng.standard_normal((3, 4))
X3 = rng.standard_normal((2, 3, 4))


def test_sort_argsort_top_k():
    check_grad(lambda x: ops.sort(x, axis=1), X)
    check_grad(lambda x: ops.sort(x, axis=0), X)
    np.testing.assert_array_equal(ops.sort(X), np.sort(X))
    np.testing.assert_array_equal(ops.argsort(X, axis=0), np.argsort(X, axis=0))
    values, idx = ops.top_k(X, 2)
    np.testing.assert_array_equal(values, -np.sort(-X)[:, :2])
    np.testing.assert_array_equal(np.take_along_axis(X, idx, -1), values)
    check_grad(lambda x: ops.top_k(x, 2)[0], X)
    with pytest.raises(ValueError, match="k must be"):
        ops.top_k(X, 5)
    p = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4]])
    np.testing.assert_array_equal(ops.in_top_k(np.array([2, 0]), p, 1), [False, False])
    np.testing.assert_array_equal(ops.in_top_k(np.array([2, 1]), p, 2), [True, True])


def test_diagonals():
    m = rng.standard_normal((4, 4))
    for k in (0, 1, -2):
        check_grad(lambda x: ops.diagonal(x, k), m)
        check_grad(lambda x: ops.diag(x, k), m)
        np.testing.assert_array_equal(ops.diag(m, k), np.diag(m, k))
        check_grad(lambda v: ops.diag(v, k), rng.standard_normal(3))
        np.testing.assert_array_equal(ops.diag(m[0], k), np.diag(m[0], k))
    check_grad(lambda x: ops.diagonal(x, 1, axis1=2, axis2=0), X3)
    np.testing.assert_array_equal(ops.diagonal(X3, 1, 2, 0), np.diagonal(X3, 1, 2, 0))
    check_grad(lambda x: ops.trace(x, axis1=1, axis2=2), X3)
    np.testing.assert_allclose(ops.trace(X3, -1, 1, 2), np.trace(X3, -1, 1, 2))


@pytest.mark.parametrize("ord_,axis", [(None, None), (None, 1), (2, 0), (1, 1), (np.inf, 1),
                                       (-np.inf, 0), (3, 1), ("fro", (0, 1)), (None, (1, 0))])
def test_norm(ord_, axis):
    check_grad(lambda x: ops.norm(x, ord=ord_, axis=axis), X)
    check_grad(lambda x: ops.norm(x, ord=ord_, axis=axis, keepdims=True), X)
    np.testing.assert_allclose(ops.norm(X, ord=ord_, axis=axis), np.linalg.norm(X, ord_, axis))


def test_norm_at_zero_and_errors():
    z = np.zeros((2, 3))
    with GradientTape() as tape:
        tape.watch(z)
        y = ops.sum(ops.norm(z, axis=1))
    np.testing.assert_array_equal(tape.gradient(y, z), 0.0)
    with pytest.raises(NotImplementedError, match="nuc"):
        ops.norm(X, ord="nuc", axis=(0, 1))
    with pytest.raises(ValueError, match="needs axis"):
        ops.norm(X, ord=1)


def test_logaddexp_and_average():
    check_grad(ops.logaddexp, X, X[0])
    np.testing.assert_allclose(ops.logaddexp(X, 800.0), np.logaddexp(X, 800.0))
    w = rng.uniform(0.5, 1.5, 4)
    check_grad(lambda x, v: ops.average(x, axis=1, weights=v), X, w)
    check_grad(lambda x, v: ops.average(x, weights=v), X, rng.uniform(0.5, 1.5, (3, 4)))
    np.testing.assert_allclose(ops.average(X, axis=1, weights=w), np.average(X, 1, w))
    np.testing.assert_allclose(ops.average(X, axis=0), np.average(X, 0))
    with pytest.raises(ValueError, match="weights"):
        ops.average(X, weights=w)
