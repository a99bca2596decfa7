"""Creation, dtype, search/count/select, segment and scatter ops of `ops`: values against NumPy
references, Keras's dtypes (written here as verified with Keras 3.15), float64
central-difference gradients for select, bincount weights, segments and scatters, and errors."""
import numpy as np
import pytest

from kerasnp import ops
from kerasnp.autodiff import GradientTape

from _ops_check import check_grad

rng = np.random.default_rng(11)


def test_creation_and_dtypes():
    assert ops.array([1, 2]).dtype == np.int32 and ops.array([1.0, 2]).dtype == np.float32
    assert ops.array(np.arange(3.0), dtype="float16").dtype == np.float16
    assert ops.empty((2, 3)).shape == (2, 3) and ops.empty(2).dtype == np.float32
    assert ops.empty_like(np.zeros(2, "int32")).dtype == np.int32
    np.testing.assert_allclose(ops.geomspace(1, 100, 3), [1, 10, 100], rtol=1e-6)
    np.testing.assert_allclose(ops.logspace(0, 2, 3, base=2), [1, 2, 4])
    assert ops.logspace(0, 2, 3).dtype == np.float32 and ops.geomspace(1, 8, 4).dtype == np.float32
    assert ops.dtype(np.zeros(2, "int32")) == "int32" and ops.dtype([1.5]) == "float64"
    np.testing.assert_array_equal(ops.view(np.array([1.0, 2.0], "float32"), "int32"),
                                  [1065353216, 1073741824])


def test_copy_is_new_and_passes_the_gradient():
    x = rng.standard_normal(3)
    y = ops.copy(x)
    assert y is not x and np.shares_memory(y, x) is False
    check_grad(ops.copy, x)
    check_grad(ops.array, x)


def test_saturate_cast_clips_to_the_target_range():
    np.testing.assert_array_equal(ops.saturate_cast(np.array([-5.0, 300.7, 3.5]), "uint8"),
                                  [0, 255, 3])
    np.testing.assert_array_equal(ops.saturate_cast(np.array([70000, -5]), "int16"),
                                  [32767, -5])
    big = ops.saturate_cast(np.array([1e30, -1e30], "float32"), "int64")
    assert big[0] > 2 ** 62 and big[1] == np.iinfo("int64").min
    y = ops.saturate_cast(np.array([1e40, -3.0]), "float32")
    assert y.dtype == np.float32 and y[0] == np.finfo("float32").max
    x = np.array([1e40, -3.0, 2.0])
    with GradientTape() as tape:
        tape.watch(x)
        s = ops.sum(ops.saturate_cast(x, "float64"))
    np.testing.assert_array_equal(tape.gradient(s, x), [1, 1, 1])


def test_search_and_count():
    x = np.array([[0, 3], [1, 0]])
    got = ops.nonzero(x)
    assert isinstance(got, tuple) and all(g.dtype == np.int32 for g in got)
    for g, w in zip(got, np.nonzero(x)):
        np.testing.assert_array_equal(g, w)
    rows, cols = ops.unravel_index(np.array([5, 7]), (3, 4))
    np.testing.assert_array_equal(rows, [1, 1]) and np.testing.assert_array_equal(cols, [1, 3])
    a = rng.standard_normal(9)
    p = ops.argpartition(a, 3)
    assert p.dtype == np.int32 and np.all(a[p[:3]] <= a[p[3]]) and np.all(a[p[4:]] >= a[p[3]])
    seq, v = np.array([1.0, 2, 3]), np.array([2.0, 2.5, 0.1])
    for side in ("left", "right"):
        np.testing.assert_array_equal(ops.searchsorted(seq, v, side=side),
                                      np.searchsorted(seq, v, side=side))
    np.testing.assert_array_equal(ops.digitize(np.array([0.5, 1.0, 2.5, 9]), seq),
                                  np.digitize([0.5, 1.0, 2.5, 9], seq))
    counts, edges = ops.histogram(np.array([1.0, 2, 2, 3, 7]), bins=3)
    np.testing.assert_array_equal(counts, [3, 1, 1])
    np.testing.assert_array_equal(edges, [1, 3, 5, 7])
    np.testing.assert_array_equal(ops.histogram(np.arange(10.0), 4, (0, 8))[0],
                                  np.histogram(np.arange(10.0), 4, (0, 8))[0])
    np.testing.assert_array_equal(ops.isin(np.array([1, 2, 3]), np.array([2, 5]), invert=True),
                                  [True, False, True])


def test_bincount_counts_weights_rows_and_gradient():
    x = np.array([0, 1, 1, 3])
    c = ops.bincount(x)
    assert c.dtype == np.int32 and c.tolist() == [1, 2, 0, 1]
    np.testing.assert_array_equal(ops.bincount(x, weights=np.array([1.0, 2, 3, 4]), minlength=6),
                                  [1, 5, 0, 4, 0, 0])
    np.testing.assert_array_equal(ops.bincount(np.array([[0, 1], [1, 1]])), [[1, 1], [0, 2]])
    check_grad(lambda w: ops.bincount(x, weights=w, minlength=5), rng.standard_normal(4))
    with pytest.raises(ValueError, match="bincount expects non-negative integers"):
        ops.bincount(np.array([0, -1]))


def test_unique_variants():
    x = np.array([3, 1, 3, 2])
    for got, want in zip(ops.unique(x, return_index=True, return_inverse=True,
                                    return_counts=True),
                         np.unique(x, return_index=True, return_inverse=True,
                                   return_counts=True)):
        np.testing.assert_array_equal(got, want)
    vals, inv = ops.unique(x, sorted=False, return_inverse=True)
    np.testing.assert_array_equal(vals, [3, 1, 2])
    np.testing.assert_array_equal(vals[inv], x)
    np.testing.assert_array_equal(ops.unique(x, size=5, fill_value=-1), [1, 2, 3, -1, -1])
    np.testing.assert_array_equal(ops.unique(x, size=2), [1, 2])


def test_select_values_and_gradients():
    c1, c2 = np.array([True, False, False, True]), np.array([True, True, False, False])
    a, b = rng.standard_normal(4), rng.standard_normal(4)
    np.testing.assert_array_equal(ops.select([c1, c2], [a, b], default=9.0),
                                  np.select([c1, c2], [a, b], default=9.0))
    check_grad(lambda u, v, d: ops.select([c1, c2], [u, v], default=d), a, b,
               rng.standard_normal(4))
    with pytest.raises(ValueError, match="same length"):
        ops.select([c1], [a, b])


SEGMENTS = {"segment_sum": (np.add, 0.0), "segment_max": (np.maximum, -np.inf),
            "segment_min": (np.minimum, np.inf), "segment_prod": (np.multiply, 1.0)}


def _segment_ref(name, data, ids, n):
    ufunc, empty = SEGMENTS[name]
    out = np.full((n,) + data.shape[1:], empty)
    for i, s in enumerate(ids):
        out[s] = ufunc(out[s], data[i])
    return out


@pytest.mark.parametrize("name", sorted(SEGMENTS))
def test_segments_values_and_gradients(name):
    data = rng.standard_normal((6, 3))
    ids = np.array([0, 0, 2, 2, 2, 3])
    for n in (None, 5):
        want = _segment_ref(name, data, ids, 4 if n is None else n)
        np.testing.assert_allclose(getattr(ops, name)(data, ids, num_segments=n), want)
    full = np.array([0, 0, 2, 2, 1, 3])                   # no empty segment (inf·0 = NaN)
    check_grad(lambda d: getattr(ops, name)(d, full), data)
    with pytest.raises(ValueError, match=f"{name}: segment_ids must be"):
        getattr(ops, name)(data, ids[:3])


def test_segment_prod_gradient_with_zero():
    data = np.array([[2.0], [0.0], [3.0]])
    with GradientTape() as tape:
        tape.watch(data)
        s = ops.sum(ops.segment_prod(data, np.array([0, 0, 0])))
    np.testing.assert_array_equal(tape.gradient(s, data), [[0], [6], [0]])


def test_scatter_and_gradient():
    idx = np.array([[0, 1], [1, 1], [0, 1]])
    v = rng.standard_normal(3)
    want = np.zeros((2, 3))
    np.add.at(want, (idx[:, 0], idx[:, 1]), v)
    np.testing.assert_allclose(ops.scatter(idx, v, (2, 3)), want)
    check_grad(lambda u: ops.scatter(idx, u, (2, 3)), v)
    rows = ops.scatter(np.array([[1]]), np.array([[1.0, 2.0, 3.0]]), (2, 3))
    np.testing.assert_array_equal(rows, [[0, 0, 0], [1, 2, 3]])


@pytest.mark.parametrize("reduction", [None, "add", "max", "min", "mul"])
def test_scatter_update_reductions(reduction):
    z = np.ones(4)
    want = {None: [5, 1, 2, 1], "add": [9, 1, 3, 1], "max": [5, 1, 2, 1], "min": [1, 1, 1, 1],
            "mul": [15, 1, 2, 1]}[reduction]
    np.testing.assert_array_equal(ops.scatter_update(z, [[0], [2], [0]], np.array([3.0, 2, 5]),
                                                     reduction=reduction), want)


@pytest.mark.parametrize("reduction", [None, "add"])
def test_scatter_update_gradients(reduction):
    idx = np.array([[0, 1], [2, 0], [0, 1]])
    check_grad(lambda x, u: ops.scatter_update(x, idx, u, reduction=reduction),
               rng.standard_normal((3, 2)), rng.standard_normal(3))
    check_grad(lambda x, u: ops.scatter_update(x, np.array([[1]]), u, reduction=reduction),
               rng.standard_normal((3, 2)), rng.standard_normal((1, 2)))
    with pytest.raises(ValueError, match="reduction must be one of"):
        ops.scatter_update(np.ones(2), [[0]], np.ones(1), reduction="mean")
