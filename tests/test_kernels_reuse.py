"""Kernel entry points used by the layers: conv column reuse, skipped dx, dx-only (transpose),
fused ReLU/bias backward, pooling backward, and the Dense VJP's products side by side."""
import numpy as np
import pytest

from kerasnp import kernels
from kerasnp.kernels import reference

GEOMS = [((1, 1), (0, 0, 0, 0), (1, 1), 1), ((2, 1), (1, 0, 0, 1), (1, 2), 1),
         ((1, 2), (1, 1, 1, 1), (1, 1), 2)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("geom", GEOMS)
def test_backward_with_kept_columns_equals_fresh_and_reference(geom, dtype):
    strides, pad, dil, groups = geom
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 7, 6, 4)).astype(dtype)
    w = rng.standard_normal((3, 2, 4 // groups, 6)).astype(dtype)
    y, cols = kernels.conv2d_forward(x, w, strides, pad, dil, groups, keep_cols=True)
    np.testing.assert_array_equal(y, kernels.conv2d_forward(x, w, strides, pad, dil, groups))
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx, dw = kernels.conv2d_backward(x, w, dy, strides, pad, dil, groups, cols=cols)
    dx0, dw0 = kernels.conv2d_backward(x, w, dy, strides, pad, dil, groups)
    np.testing.assert_array_equal(dx, dx0)
    np.testing.assert_array_equal(dw, dw0)
    rdx, rdw = reference.conv2d_backward(x, w, dy, strides, pad, dil, groups)
    tol = 1e-4 if dtype == "float32" else 1e-11
    np.testing.assert_allclose(dx, rdx, rtol=tol, atol=tol)
    np.testing.assert_allclose(dw, rdw, rtol=tol, atol=tol)
    none, dw2 = kernels.conv2d_backward(x, w, dy, strides, pad, dil, groups, need_dx=False)
    assert none is None
    np.testing.assert_array_equal(dw2, dw)
    dxi = kernels.conv2d_backward_input(dy, w, x.shape, strides, pad, dil, groups)
    np.testing.assert_array_equal(dxi, dx)
    np.testing.assert_allclose(reference.conv2d_backward_input(dy, w, x.shape, strides, pad, dil,
                                                               groups), rdx)


def test_backward_input_rejects_mismatched_shapes():
    w = np.ones((3, 3, 1, 2), "float32")
    with pytest.raises(ValueError, match="does not match"):
        kernels.conv2d_backward_input(np.ones((1, 4, 4, 2), "float32"), w, (1, 5, 5, 1),
                                      (1, 1), (0, 0, 0, 0), (1, 1), 1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_relu_bias_backward_equals_reference(dtype):
    rng = np.random.default_rng(1)
    dy = rng.standard_normal((300, 7)).astype(dtype)
    y = np.maximum(rng.standard_normal((300, 7)), 0).astype(dtype)
    dz, db = kernels.relu_bias_backward(dy, y)
    rdz, rdb = reference.relu_bias_backward(dy, y)
    np.testing.assert_array_equal(dz, rdz)
    np.testing.assert_allclose(db, rdb, rtol=1e-5 if dtype == "float32" else 1e-12)
    assert dz.dtype == db.dtype == np.dtype(dtype)
    assert (dz[y == 0] == 0).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("geom", GEOMS)
def test_backward_with_fused_relu_and_bias_equals_separate_passes(geom, relu, threads, dtype,
                                                                  monkeypatch):
    """conv2d_backward(relu_output=y, need_db=True) masks dY and sums the bias gradient inside
    the backward (block by block on the threaded path) with the separate passes' results."""
    from kerasnp.kernels import HAVE_NUMBA, conv_threads
    if HAVE_NUMBA:                                   # small layers take the threaded path too
        monkeypatch.setattr(conv_threads, "MIN_WORK", 0)
        monkeypatch.setattr(conv_threads, "BLOCK_BYTES", 1)
    monkeypatch.setenv("KERASNP_NUM_THREADS", str(threads))
    strides, pad, dil, groups = geom
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 7, 6, 4)).astype(dtype)
    w = rng.standard_normal((3, 2, 4 // groups, 6)).astype(dtype)
    y = kernels.conv2d_forward(x, w, strides, pad, dil, groups, relu=relu)
    assert (y >= 0).all() if relu else (y < 0).any()
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx, dw, db = kernels.conv2d_backward(x, w, dy, strides, pad, dil, groups,
                                         relu_output=y if relu else None, need_db=True)
    dz = dy * (y > 0) if relu else dy
    rdx, rdw = reference.conv2d_backward(x, w, dz, strides, pad, dil, groups)
    tol = 1e-4 if dtype == "float32" else 1e-11
    np.testing.assert_allclose(dx, rdx, rtol=tol, atol=tol)
    np.testing.assert_allclose(dw, rdw, rtol=tol, atol=tol)
    np.testing.assert_allclose(db, dz.sum(axis=(0, 1, 2)), rtol=tol, atol=tol)
    assert dx.dtype == dw.dtype == db.dtype == np.dtype(dtype)
    none, dw1, db1 = kernels.conv2d_backward(x, w, dy, strides, pad, dil, groups, need_dx=False,
                                             relu_output=y if relu else None, need_db=True)
    assert none is None
    np.testing.assert_allclose(dw1, dw, rtol=tol, atol=tol)
    np.testing.assert_allclose(db1, db, rtol=tol, atol=tol)
    rtuple = reference.conv2d_backward(x, w, dy, strides, pad, dil, groups,
                                       relu_output=y if relu else None, need_db=True)
    for got, want in zip(rtuple, (dx, dw, db)):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape, pool, strides, pad", [
    ((3, 8, 8, 4), (2, 2), (2, 2), (0, 0, 0, 0)),       # windows tile x exactly
    ((3, 7, 9, 4), (2, 2), (2, 2), (0, 0, 0, 0)),       # last row and column in no window
    ((2, 7, 8, 3), (2, 3), (2, 3), (1, 0, 1, 0)),       # tiles with padded edges ('same')
    ((2, 7, 8, 3), (3, 3), (2, 2), (1, 1, 1, 1)),       # overlapping windows: the += scatter
])
def test_max_pool_backward_matches_reference_on_tiles_and_overlaps(shape, pool, strides, pad,
                                                                   dtype):
    from kerasnp.kernels import HAVE_NUMBA
    if not HAVE_NUMBA:
        pytest.skip("the compact-offset pooling kernels need Numba")
    from kerasnp.kernels.conv_pooling import pool2d_backward_arg, pool2d_forward_arg
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(dtype)
    y, arg = pool2d_forward_arg(x, pool, strides, pad, "max")
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = pool2d_backward_arg(dy, arg, x.shape, pool, strides, pad)
    y_ref, idx = reference.pool2d_forward(x, pool, strides, pad, "max")
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(dx, reference.pool2d_backward(dy, idx, x.shape))


def test_dense_vjp_products_side_by_side_equal_one_after_the_other(monkeypatch):
    """Above PARALLEL_PRODUCTS_WORK the Dense VJP computes dW and dX on two threads; the
    gradients are the ones computed one after the other."""
    import kerasnp
    from kerasnp.autodiff import GradientTape
    from kerasnp.ops import _fused
    rng = np.random.default_rng(0)
    x = kerasnp.Variable(rng.standard_normal((16, 40)).astype("float32"))
    w = kerasnp.Variable(rng.standard_normal((40, 24)).astype("float32"))
    b = kerasnp.Variable(rng.standard_normal(24).astype("float32"))
    dy = rng.standard_normal((16, 24)).astype("float32")
    grads = {}
    calls = []
    real = _fused.run_parallel
    monkeypatch.setattr(_fused, "run_parallel", lambda fs: calls.append(len(fs)) or real(fs))
    monkeypatch.setenv("KERASNP_NUM_THREADS", "2")
    for work in (1 << 40, 0):
        monkeypatch.setattr(_fused, "PARALLEL_PRODUCTS_WORK", work)
        with GradientTape() as tape:
            y = _fused.dense(x, w, b, "relu")
        grads[work] = tape.gradient(y, [x, w, b], output_gradients=dy)
    assert calls == [2]                                  # only the low threshold split them
    for a, c in zip(grads[1 << 40], grads[0]):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(c))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("has_bias, relu", [(True, True), (True, False), (False, True)])
def test_bias_relu_epilogue_equals_numpy(has_bias, relu, dtype):
    from kerasnp.kernels.epilogue import bias_relu
    rng = np.random.default_rng(4)
    z = rng.standard_normal((5, 3, 7)).astype(dtype)
    z[0, 0, 0] = np.nan                                    # propagates, as with np.maximum
    b = rng.standard_normal(7).astype(dtype) if has_bias else None
    want = z + b if has_bias else z.copy()
    if relu:
        want = np.maximum(want, 0)
    got = bias_relu(z, b, relu)
    assert got is z and got.dtype == np.dtype(dtype)       # in place
    np.testing.assert_array_equal(got, want)
