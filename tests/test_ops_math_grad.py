"""Float64 central-difference checks of the arithmetic, element-wise, product and reduction ops,
broadcast cases included; values against NumPy."""
import math

import numpy as np
import pytest

from kerasnp import ops
from kerasnp.autodiff import GradientTape

from _ops_check import check_grad

rng = np.random.default_rng(1)
BROADCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((), (2, 3)), ((2, 3), ())]
BINARY = ["add", "subtract", "multiply", "divide", "true_divide", "power", "mod", "maximum",
          "minimum", "arctan2"]


def _pos(shape):
    return rng.uniform(0.5, 1.5, shape)


@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_gradients_under_broadcasting(name, shapes):
    a, b = _pos(shapes[0]), _pos(shapes[1])
    if name == "mod":
        b = b + 2.0                      # a % b = a: away from the jumps
    check_grad(getattr(ops, name), a, b)


@pytest.mark.parametrize("name", BINARY)
def test_binary_values_match_numpy(name):
    a, b = _pos((3, 4)), _pos((4,))
    ref = {"true_divide": np.true_divide}.get(name, getattr(np, name, None))
    np.testing.assert_allclose(getattr(ops, name)(a, b), ref(a, b))


def test_power_gradient_for_the_exponent_is_zero_where_base_is_not_positive():
    a, b = np.array([0.0, -2.0, 2.0]), np.array([2.0, 2.0, 3.0])
    with GradientTape() as tape:
        tape.watch([a, b])
        y = ops.sum(ops.power(a, b))
    da, db = tape.gradient(y, [a, b])
    np.testing.assert_allclose(da, b * a ** (b - 1))
    np.testing.assert_allclose(db, [0.0, 0.0, 8 * math.log(2)])


def test_maximum_and_minimum_share_the_gradient_at_ties():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 4.0])
    for fn, da_want in ((ops.maximum, [0.5, 1, 0]), (ops.minimum, [0.5, 0, 1])):
        with GradientTape() as tape:
            tape.watch([a, b])
            y = ops.sum(fn(a, b))
        da, db = tape.gradient(y, [a, b])
        np.testing.assert_allclose(da, da_want)
        np.testing.assert_allclose(da + db, 1.0)


def test_where_and_clip_gradients():
    c = rng.uniform(size=(3, 4)) > 0.5
    check_grad(lambda a, b: ops.where(c, a, b), _pos((3, 4)), _pos((4,)))
    x = rng.uniform(0, 1, (4, 5))
    x[np.abs(x - 0.3) < 1e-3] = 0.5
    x[np.abs(x - 0.7) < 1e-3] = 0.5
    check_grad(lambda t: ops.clip(t, 0.3, 0.7), x)
    check_grad(lambda t, lo, hi: ops.clip(t, lo, hi), x, np.full(5, 0.3), np.full((4, 1), 0.7))
    np.testing.assert_allclose(ops.clip(x, 0.3, 0.7), np.clip(x, 0.3, 0.7))


UNARY = [  # name, low, high
    ("negative", -2, 2), ("abs", 0.2, 2), ("square", -2, 2), ("sqrt", 0.2, 2),
    ("rsqrt", 0.2, 2), ("reciprocal", 0.2, 2), ("exp", -2, 2), ("expm1", -2, 2),
    ("log", 0.2, 2), ("log1p", -0.5, 2), ("log2", 0.2, 2), ("log10", 0.2, 2),
    ("sin", -3, 3), ("cos", -3, 3), ("tan", -1.2, 1.2), ("arcsin", -0.9, 0.9),
    ("arccos", -0.9, 0.9), ("arctan", -3, 3), ("sinh", -2, 2), ("cosh", -2, 2),
    ("tanh", -2, 2), ("arcsinh", -2, 2), ("arccosh", 1.2, 3), ("arctanh", -0.9, 0.9),
    ("erf", -3, 3), ("absolute", -2, -0.2)]


@pytest.mark.parametrize("name,low,high", UNARY, ids=[u[0] for u in UNARY])
def test_unary_gradients_and_values(name, low, high):
    x = rng.uniform(low, high, (3, 4))
    check_grad(getattr(ops, name), x)
    ref = {"rsqrt": lambda v: 1 / np.sqrt(v), "erf": np.vectorize(math.erf)}.get(
        name, getattr(np, name, None))
    np.testing.assert_allclose(getattr(ops, name)(x), ref(x), rtol=1e-14, atol=1e-15)


def test_erf_is_double_precision():
    x = np.concatenate([np.linspace(-7, 7, 4001), [0.0, 1.0, -1.0, 6.0, 1e-300]])
    ref = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(ops.erf(x), ref, rtol=1e-13, atol=1e-15)
    assert ops.erf(np.float32([0.5])).dtype == np.float32
    assert np.isnan(ops.erf(np.array([np.nan])))[0]
    np.testing.assert_array_equal(ops.erf(np.array([np.inf, -np.inf])), [1.0, -1.0])


def test_integer_inputs_compute_in_floatx_and_get_no_gradient():
    i = np.array([1, 4, 9])
    assert ops.sqrt(i).dtype == np.float32
    assert ops.divide(i, 2).dtype == np.float32
    assert ops.square(i).dtype == i.dtype
    with GradientTape() as tape:
        tape.watch(i)
        y = ops.sqrt(i)
        z = ops.multiply(i, 2.0)
    assert type(y) is np.ndarray and type(z) is np.ndarray
    assert tape.gradient(ops.sum(y), i) is None


NON_DIFF = ["floor", "ceil", "round", "sign", "isnan", "isinf", "isfinite", "equal",
            "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
            "logical_or", "logical_xor", "floor_divide"]


@pytest.mark.parametrize("name", NON_DIFF)
def test_value_only_ops_match_numpy(name):
    a = np.array([[-1.5, 0.0, 2.5, np.inf], [np.nan, 3.0, -0.5, 1.0]])
    b = np.array([1.0, 0.0, 2.5, 2.0])
    ref = getattr(np, name)
    if name in ("floor", "ceil", "round", "sign", "isnan", "isinf", "isfinite"):
        np.testing.assert_array_equal(getattr(ops, name)(a), ref(a))
    else:
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(getattr(ops, name)(a, b), ref(a, b))
    np.testing.assert_array_equal(ops.logical_not(a > 0), ~(a > 0))
    np.testing.assert_array_equal(ops.round(np.array([1.234, 5.678]), 1), [1.2, 5.7])


# -- products -----------------------------------------------------------------------------------
PRODUCTS = [
    ("matmul 2d", lambda a, b: ops.matmul(a, b), (2, 3), (3, 4)),
    ("matmul batched bcast", lambda a, b: ops.matmul(a, b), (2, 3, 4), (4, 5)),
    ("matmul 1d-nd", lambda a, b: ops.matmul(a, b), (4,), (2, 4, 5)),
    ("matmul nd-1d", lambda a, b: ops.matmul(a, b), (2, 3, 4), (4,)),
    ("matmul 1d-1d", lambda a, b: ops.matmul(a, b), (4,), (4,)),
    ("dot nd", lambda a, b: ops.dot(a, b), (2, 3, 4), (5, 4, 2)),
    ("dot 1d", lambda a, b: ops.dot(a, b), (2, 3, 4), (4,)),
    ("dot scalar", lambda a, b: ops.dot(a, b), (), (2, 3)),
    ("tensordot pairs", lambda a, b: ops.tensordot(a, b, axes=([0, 2], [2, 0])), (2, 3, 4),
     (4, 5, 2)),
    ("tensordot 1", lambda a, b: ops.tensordot(a, b, axes=1), (2, 3), (3, 4)),
    ("tensordot 0", lambda a, b: ops.tensordot(a, b, axes=0), (2, 3), (4,)),
    ("tensordot all", lambda a, b: ops.tensordot(a, b, axes=2), (2, 3), (2, 3)),
    ("inner", lambda a, b: ops.inner(a, b), (2, 3), (4, 3)),
    ("outer", lambda a, b: ops.outer(a, b), (2, 3), (4,)),
    ("vdot", lambda a, b: ops.vdot(a, b), (2, 3), (6,)),
    ("einsum explicit", lambda a, b: ops.einsum("ij,jk->ik", a, b), (2, 3), (3, 4)),
    ("einsum implicit", lambda a, b: ops.einsum("ij,jk", a, b), (2, 3), (3, 4)),
    ("einsum transpose out", lambda a, b: ops.einsum("ij,jk->ki", a, b), (2, 3), (3, 4)),
    ("einsum attention", lambda q, k: ops.einsum("bqhd,bkhd->bhqk", q, k), (2, 3, 2, 4),
     (2, 5, 2, 4)),
    ("einsum ellipsis", lambda a, b: ops.einsum("...ij,...jk->...ik", a, b), (2, 2, 3), (3, 4)),
    ("einsum ellipsis bcast", lambda a, b: ops.einsum("...ij,...jk->...ik", a, b), (1, 2, 3),
     (5, 3, 4)),
    ("einsum size-1 label", lambda a, b: ops.einsum("ij,ij->ij", a, b), (3, 1), (3, 4)),
    ("einsum private index", lambda a, b: ops.einsum("ij,k->ik", a, b), (2, 3), (4,)),
]


@pytest.mark.parametrize("name,fn,sa,sb", PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_product_gradients(name, fn, sa, sb):
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    check_grad(fn, a, b)


def test_product_values_match_numpy():
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4, 2))
    np.testing.assert_allclose(ops.dot(a, b), np.dot(a, b))
    np.testing.assert_allclose(ops.tensordot(a, b, ([2], [1])), np.tensordot(a, b, ([2], [1])))
    np.testing.assert_allclose(ops.einsum("ijk,lkm->ijlm", a, b), np.einsum("ijk,lkm->ijlm", a, b))
    np.testing.assert_allclose(ops.einsum("...k,...k", a, a), np.einsum("...k,...k", a, a))
    np.testing.assert_allclose(ops.einsum("ba,ab", a[0], a[0].T), np.einsum("ba,ab", a[0], a[0].T))
    np.testing.assert_allclose(ops.inner(a, a), np.inner(a, a))
    np.testing.assert_allclose(ops.outer(a, b), np.outer(a, b))


def test_einsum_single_operand_forms():
    m = rng.standard_normal((3, 3))
    check_grad(lambda x: ops.einsum("ii", x), m)                  # trace
    check_grad(lambda x: ops.einsum("ii->i", x), m)               # diagonal
    check_grad(lambda x: ops.einsum("ij->", x), m)
    check_grad(lambda x: ops.einsum("ij->ji", x), m)
    check_grad(lambda x, v: ops.einsum("ij,jk,k->i", x, m, v), m, rng.standard_normal(3))
    np.testing.assert_allclose(ops.einsum("ii", m), np.trace(m))
    with pytest.raises(ValueError, match="operands"):
        ops.einsum("ij,jk->ik", m)


# -- reductions ---------------------------------------------------------------------------------
REDUCE = ["sum", "mean", "max", "min", "prod", "var", "std", "logsumexp", "amax", "amin"]
AXES = [dict(), dict(axis=1), dict(axis=0, keepdims=True), dict(axis=(0, 2)),
        dict(axis=-1, keepdims=True)]


@pytest.mark.parametrize("kw", AXES, ids=str)
@pytest.mark.parametrize("name", REDUCE)
def test_reduction_gradients_and_values(name, kw):
    x = rng.standard_normal((2, 3, 4))
    fn = getattr(ops, name)
    check_grad(lambda t: fn(t, **kw), x)
    if name == "logsumexp":
        def ref(v, axis=None, keepdims=False):
            return np.log(np.sum(np.exp(v), axis=axis, keepdims=keepdims))
    else:
        ref = getattr(np, name)
    np.testing.assert_allclose(fn(x, **kw), ref(x, **kw), rtol=1e-12)


def test_reduction_edge_cases():
    check_grad(lambda t: ops.prod(t, axis=1), np.array([[0.0, 2, 3], [0, 0, 1], [1, 2, 3]]))
    tie = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]])
    with GradientTape() as tape:
        tape.watch(tie)
        y = ops.sum(ops.max(tie, axis=1))
    np.testing.assert_allclose(tape.gradient(y, tie), [[0, 0.5, 0.5], [1, 0, 0]])
    big = np.array([1000.0, 1000.0, -np.inf])
    np.testing.assert_allclose(ops.logsumexp(big), 1000 + math.log(2))
    const = np.ones((2, 3))
    with GradientTape() as tape:
        tape.watch(const)
        y = ops.sum(ops.std(const, axis=1))
    np.testing.assert_array_equal(tape.gradient(y, const), 0.0)     # not NaN
    assert ops.mean(np.array([1, 2])).dtype == np.float32


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_scan_gradients(name):
    fn = getattr(ops, name)
    x = rng.uniform(0.5, 1.5, (3, 4))
    check_grad(lambda t: fn(t, axis=1), x)
    check_grad(lambda t: fn(t, axis=0), x)
    check_grad(fn, x)
    np.testing.assert_allclose(fn(x, axis=1), getattr(np, name)(x, axis=1))
    check_grad(lambda t: fn(t, axis=1), np.array([[1.0, 0.0, 3.0, 2.0], [2.0, 3.0, 0.0, 0.5]]))


def test_value_only_reductions():
    x = np.array([[1.0, 5.0, 0.0], [7.0, -1.0, 0.0]])
    np.testing.assert_array_equal(ops.argmax(x, axis=1), [1, 0])
    np.testing.assert_array_equal(ops.argmin(x, axis=0, keepdims=True), [[0, 1, 0]])
    assert ops.argmax(x) == 3
    np.testing.assert_array_equal(ops.all(x, axis=1), [False, False])
    np.testing.assert_array_equal(ops.any(x, axis=0), [True, True, False])
    np.testing.assert_array_equal(ops.count_nonzero(x, axis=1), [2, 2])
