"""Stacks, splits, flips, rearrange and the difference/product/distance ops of `ops`: values
against NumPy, float64 central-difference gradients, integer dtypes and errors."""
import numpy as np
import pytest

from kerasnp import ops

from _ops_check import check_grad

rng = np.random.default_rng(5)
A34, B34, A2 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal(2)

# name: (kerasnp call, NumPy reference, inputs)
MOVES = {
    "hstack": (lambda a, b: ops.hstack([a, b]), lambda a, b: np.hstack([a, b]), (A34, B34)),
    "vstack": (lambda a, b: ops.vstack([a, b]), lambda a, b: np.vstack([a, b]), (A34, B34[0])),
    "dstack": (lambda a, b: ops.dstack([a, b]), lambda a, b: np.dstack([a, b]), (A34, B34)),
    "append": (ops.append, np.append, (A34, B34[:1])),
    "append_axis": (lambda a, b: ops.append(a, b, axis=0), lambda a, b: np.append(a, b, 0),
                    (A34, B34[:1])),
    "fliplr": (ops.fliplr, np.fliplr, (A34,)),
    "flipud": (ops.flipud, np.flipud, (A34,)),
    "rot90": (lambda a: ops.rot90(a, k=3), lambda a: np.rot90(a, 3), (A34,)),
    "diagflat": (lambda a: ops.diagflat(a, 1), lambda a: np.diagflat(a, 1), (A34[:2, :2],)),
    "extract_sequences": (lambda a: ops.extract_sequences(a, 2, 1),
                          lambda a: np.stack([a[:, i:i + 2] for i in range(3)], 1), (A34,)),
    "rearrange": (lambda a: ops.rearrange(a, "b (h w) -> w (b h)", w=2),
                  lambda a: a.reshape(3, 2, 2).transpose(2, 0, 1).reshape(2, 6), (A34,)),
    "diff": (lambda a: ops.diff(a, 2, axis=1), lambda a: np.diff(a, 2, axis=1), (A34,)),
    "kron": (ops.kron, np.kron, (A34[:2, :3], B34[:3, :2])),
    "kron_ranks": (ops.kron, np.kron, (A2, B34[:2, :3])),
    "cross": (ops.cross, np.cross, (A34[:, :3], B34[:, :3])),
    "cross_2_3": (ops.cross, np.cross, (A34[:, :2], B34[0, :3])),
    "cross_2_2": (ops.cross, np.cross, (A34[:, :2], B34[:, :2])),
    "cross_axis": (lambda a, b: ops.cross(a, b, axis=0), lambda a, b: np.cross(a, b, axis=0),
                   (A34[:, :2], B34[:, :2])),
    "vander": (lambda a: ops.vander(a, 4), lambda a: np.vander(a, 4), (A34[0],)),
    "vander_inc": (lambda a: ops.vander(a, 3, increasing=True),
                   lambda a: np.vander(a, 3, increasing=True), (A34[0],)),
    "trapezoid": (ops.trapezoid, np.trapezoid, (A34,)),
    "trapezoid_x": (lambda y, x: ops.trapezoid(y, x, axis=0),
                    lambda y, x: np.trapezoid(y, x, axis=0), (A34, np.cumsum(B34[:, 0] ** 2))),
    "trapezoid_xnd": (ops.trapezoid, np.trapezoid, (A34, np.cumsum(B34 ** 2, axis=1))),
    "correlate_valid": (ops.correlate, np.correlate, (A34.ravel()[:7], B34[0, :3])),
    "correlate_same": (lambda a, b: ops.correlate(a, b, "same"),
                       lambda a, b: np.correlate(a, b, "same"), (A34[0, :2], B34.ravel()[:5])),
    "correlate_full": (lambda a, b: ops.correlate(a, b, "full"),
                       lambda a, b: np.correlate(a, b, "full"), (A34[0], B34[0, :3])),
    "corrcoef": (ops.corrcoef, np.corrcoef, (A34,)),
    "corrcoef_1d": (ops.corrcoef, np.corrcoef, (A34[0],)),
}


def _cdist_ref(a, b):
    return np.sqrt(((a[..., :, None, :] - b[..., None, :, :]) ** 2).sum(-1))


MOVES["cdist"] = (ops.cdist, _cdist_ref, (rng.standard_normal((2, 3, 4)),
                                          rng.standard_normal((2, 5, 4))))


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")
@pytest.mark.parametrize("name", sorted(MOVES))
def test_values_match_numpy(name):
    f, ref, inputs = MOVES[name]
    for dtype in ("float32", "float64"):
        args = [np.asarray(a, dtype) for a in inputs]
        y, want = f(*args), ref(*args)
        assert np.shape(y) == np.shape(want)
        np.testing.assert_allclose(y, want, rtol=1e-5 if dtype == "float32" else 1e-12,
                                   atol=1e-6 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("name", sorted(MOVES))
def test_gradients(name):
    f, _, inputs = MOVES[name]
    check_grad(f, *inputs)


@pytest.mark.parametrize("split", ["array_split", "hsplit", "vsplit", "dsplit"])
def test_splits_values_and_gradients(split):
    x = rng.standard_normal((4, 6, 2))
    sections = 3 if split == "array_split" else 2
    parts = getattr(ops, split)(x, sections)
    want = getattr(np, split)(x, sections)
    assert len(parts) == len(want)
    for p, w in zip(parts, want):
        np.testing.assert_array_equal(p, w)
    check_grad(lambda a: getattr(ops, split)(a, [1, 2]), x)


def test_array_split_uneven_and_errors():
    assert [p.tolist() for p in ops.array_split(np.arange(7), 3)] == [[0, 1, 2], [3, 4], [5, 6]]
    with pytest.raises(ValueError, match="hsplit.*equal sections"):
        ops.hsplit(np.zeros((2, 5)), 2)
    with pytest.raises(ValueError, match="array_split: axis 3"):
        ops.array_split(np.zeros((2, 5)), 2, axis=3)


def test_meshgrid_values_and_gradients():
    a, b = rng.standard_normal(3), rng.standard_normal(4)
    for indexing in ("xy", "ij"):
        for got, want in zip(ops.meshgrid(a, b, indexing=indexing),
                             np.meshgrid(a, b, indexing=indexing)):
            np.testing.assert_array_equal(got, want)
    check_grad(lambda u, v: ops.meshgrid(u, v), a, b)
    with pytest.raises(ValueError, match="indexing"):
        ops.meshgrid(a, b, indexing="yx")


def test_integer_inputs():
    i = np.array([1, 2, 3], dtype="int32")
    assert ops.vander(i).dtype == np.int32 and ops.diff(i).dtype == np.int32
    assert ops.kron(i, i).dtype == np.int32
    np.testing.assert_array_equal(ops.hstack([i, i]), np.hstack([i, i]))
    assert ops.correlate(i, i).dtype == np.float32
    np.testing.assert_allclose(ops.corrcoef(np.array([[1, 2, 3], [2, 1, 5]])),
                               np.corrcoef([[1, 2, 3], [2, 1, 5]]), rtol=1e-6)


def test_tri():
    assert ops.tri(3).dtype == np.float32
    np.testing.assert_array_equal(ops.tri(3, 4, 1), np.tri(3, 4, 1))
    assert ops.tri(2, dtype="int32").dtype == np.int32


def test_rearrange_patterns_and_errors():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(ops.rearrange(x, "b h w -> b (w h)"),
                                  x.transpose(0, 2, 1).reshape(2, 12))
    assert ops.rearrange(x, "b (h1 h2) w -> b h1 h2 w", h1=3).shape == (2, 3, 1, 4)
    with pytest.raises(ValueError, match="same axes"):
        ops.rearrange(x, "b h w -> b h")
    with pytest.raises(ValueError, match="rank 3"):
        ops.rearrange(x, "b h -> h b")
    with pytest.raises(ValueError, match="'\\.'"):
        ops.rearrange(x, "b ... -> ... b")
    with pytest.raises(ValueError, match="cannot be split"):
        ops.rearrange(x, "b (h1 h2) w -> b h1 h2 w", h1=2)


def test_shape_errors():
    with pytest.raises(ValueError, match="diff: axis 2"):
        ops.diff(np.zeros((2, 3)), axis=2)
    with pytest.raises(ValueError, match="fliplr"):
        ops.fliplr(np.zeros(3))
    with pytest.raises(ValueError, match="cross.*2 or 3"):
        ops.cross(np.zeros(4), np.zeros(3))
    with pytest.raises(ValueError, match="correlate: mode"):
        ops.correlate(np.zeros(3), np.zeros(2), mode="wide")
    with pytest.raises(ValueError, match="extract_sequences"):
        ops.extract_sequences(np.zeros((2, 3)), 4, 1)
    with pytest.raises(TypeError, match="hstack expects a list"):
        ops.hstack(np.zeros((2, 3)))
