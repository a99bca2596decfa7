"""Convolution and pooling split over kerasnp's threads give the serial results (issue 11).

Each case runs the layer forward and backward (through the tape, as in training) with
KERASNP_NUM_THREADS = 1 (the serial path, BLAS threads), 2 and 3 (the batch split over the pool,
BLAS single-threaded), with the size thresholds lowered so that even small layers take the
threaded path, and blocks made small so that each thread runs several of them. Batch sizes are
odd, below and above the thread counts.
"""
import numpy as np
import pytest

from kerasnp.autodiff import GradientTape
from kerasnp.kernels import HAVE_NUMBA, conv_threads
from kerasnp.layers.conv import Conv2D
from kerasnp.layers.pooling import AveragePooling2D, MaxPooling2D, MinPooling2D

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="threaded kernels need Numba")

TOL = {"float32": 1e-5, "float64": 1e-12}
CONVS = {
    "valid_3x3": dict(filters=5, kernel_size=3),
    "same_stride2": dict(filters=4, kernel_size=3, strides=2, padding="same"),
    "dilated_nonsquare": dict(filters=3, kernel_size=(2, 3), dilation_rate=(2, 1),
                              padding="same"),
    "groups": dict(filters=6, kernel_size=3, groups=2, padding="same"),
    "linear_no_bias": dict(filters=4, kernel_size=(3, 1), use_bias=False, activation=None),
}
POOLS = {
    "max_2x2": lambda: MaxPooling2D(2),
    "max_tiles_same": lambda: MaxPooling2D((2, 3), padding="same"),   # tiles, padded edges
    "max_3x3_s2_same": lambda: MaxPooling2D(3, strides=2, padding="same"),
    "min_overlap": lambda: MinPooling2D((3, 2), strides=1),
    "avg_same": lambda: AveragePooling2D(3, strides=2, padding="same"),
    "avg_overlap": lambda: AveragePooling2D((2, 3), strides=(1, 2)),
}


@pytest.fixture
def everything_threaded(monkeypatch):
    monkeypatch.setattr(conv_threads, "MIN_WORK", 0)
    monkeypatch.setattr(conv_threads, "MIN_POOL_ELEMENTS", 0)
    monkeypatch.setattr(conv_threads, "BLOCK_BYTES", 1)          # one image per block


def _run(layer, x, dy, monkeypatch, threads):
    """(y, dx, gradients of the weights) with the given thread budget."""
    monkeypatch.setenv("KERASNP_NUM_THREADS", str(threads))
    import kerasnp
    xv = kerasnp.Variable(x)
    with GradientTape() as tape:
        tape.watch(xv)
        y = layer(xv, training=True)
    grads = tape.gradient(y, [xv] + list(layer.trainable_weights), output_gradients=dy)
    return [np.asarray(y)] + [np.asarray(g) for g in grads]


def _compare(make, shape, dtype, monkeypatch):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape).astype(dtype)
    layer = make()
    layer(x)                                                      # build once, same weights
    for w in layer.weights:
        w.assign(rng.standard_normal(w.shape).astype(dtype))
    dy = rng.standard_normal(layer.compute_output_shape(shape)).astype(dtype)
    serial = _run(layer, x, dy, monkeypatch, 1)
    for threads in (2, 3):
        threaded = _run(layer, x, dy, monkeypatch, threads)
        for a, b in zip(serial, threaded):
            assert a.dtype == b.dtype == np.dtype(dtype)
            np.testing.assert_allclose(b, a, rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 2, 5])
@pytest.mark.parametrize("case", list(CONVS))
def test_conv2d_same_results_on_1_2_3_threads(case, n, dtype, monkeypatch, everything_threaded):
    kwargs = dict(CONVS[case], dtype=dtype)
    kwargs.setdefault("activation", "relu")
    _compare(lambda: Conv2D(**kwargs), (n, 7, 6, 4), dtype, monkeypatch)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 2, 5])
@pytest.mark.parametrize("case", list(POOLS))
def test_pooling_same_results_on_1_2_3_threads(case, n, dtype, monkeypatch, everything_threaded):
    _compare(POOLS[case], (n, 7, 6, 3), dtype, monkeypatch)


def test_default_thresholds_thread_a_real_layer_and_results_match(monkeypatch):
    """A 5x5 convolution the size of the reference CNN's second one is large enough for the
    threaded im2col path as shipped (which keeps no columns: backward gathers them again), and
    its results are the serial path's to float rounding. (3x3 stride-1 convolutions of that
    size take the Winograd path instead: tests/test_conv_winograd.py.)"""
    from kerasnp import kernels
    monkeypatch.setenv("KERASNP_NUM_THREADS", "2")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, 13, 13, 32)).astype("float32")
    w = rng.standard_normal((5, 5, 32, 64)).astype("float32")
    geom = ((1, 1), (0, 0, 0, 0), (1, 1), 1)
    y, cols = kernels.conv2d_forward(x, w, *geom, keep_cols=True)
    assert cols is None                                           # the threaded path ran
    dy = rng.standard_normal(y.shape).astype("float32")
    dx, dw = kernels.conv2d_backward(x, w, dy, *geom, cols=cols)
    dx0, dw0 = kernels.conv2d_backward(x, w, dy, *geom)
    np.testing.assert_array_equal(dx, dx0)
    np.testing.assert_array_equal(dw, dw0)
    monkeypatch.setenv("KERASNP_NUM_THREADS", "1")
    y1, cols1 = kernels.conv2d_forward(x, w, *geom, keep_cols=True)
    assert isinstance(cols1, np.ndarray)                          # budget 1: today's path
    np.testing.assert_allclose(y, y1, rtol=1e-5, atol=1e-5)
    dx1, dw1 = kernels.conv2d_backward(x, w, dy, *geom, cols=cols1)
    np.testing.assert_allclose(dx, dx1, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(dw, dw1, rtol=1e-5, atol=1e-3)


def test_max_pool_keeps_one_byte_per_output():
    from kerasnp.kernels.conv_pooling import pool2d_backward_arg, pool2d_forward_arg
    from kerasnp.kernels import reference
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 6, 7, 2))
    y, arg = pool2d_forward_arg(x, (2, 3), (2, 2), (0, 1, 1, 1), "max")
    assert arg.dtype == np.uint8
    y_ref, idx_ref = reference.pool2d_forward(x, (2, 3), (2, 2), (0, 1, 1, 1), "max")
    np.testing.assert_array_equal(y, y_ref)
    dy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(pool2d_backward_arg(dy, arg, x.shape, (2, 3), (2, 2), (0, 1, 1, 1)),
                               reference.pool2d_backward(dy, idx_ref, x.shape), atol=1e-12)


def test_blocks_count_output_rows_as_well_as_columns(monkeypatch):
    """A block's columns and its output rows together fit in BLOCK_BYTES: the reference CNN's
    first layer (1 input channel, 9 columns, 32 outputs) gets 9-image blocks, not 43."""
    monkeypatch.setenv("KERASNP_NUM_THREADS", "2")
    blocks = conv_threads.plan(64, 26 * 26, 9, 1, 32, 4)
    sizes = {b1 - b0 for mine in blocks for b0, b1 in mine}
    assert max(sizes) * 26 * 26 * (9 + 32) * 4 <= conv_threads.BLOCK_BYTES
    assert max(sizes) == conv_threads.BLOCK_BYTES // (26 * 26 * (9 + 32) * 4)


def test_products_split_by_columns_equal_one_product(monkeypatch):
    """`products` shares a kernel's columns out over the threads; the result is the plain
    product's (each column is computed whole by one thread, in the same order)."""
    monkeypatch.setattr(conv_threads, "MIN_WORK", 0)
    rng = np.random.default_rng(3)
    for threads in ("1", "2", "3"):
        monkeypatch.setenv("KERASNP_NUM_THREADS", threads)
        for a, b in ((rng.standard_normal((7, 5)), rng.standard_normal((5, 9))),
                     (rng.standard_normal((6, 4)).T, rng.standard_normal((6, 2)))):
            out = conv_threads.products(a, b)
            np.testing.assert_allclose(out, a @ b, rtol=1e-14, atol=1e-14)
            buf = np.empty((a.shape[0], b.shape[1]))
            assert conv_threads.products(a, b, buf) is buf


def test_kernel_heavy_convolutions_keep_whole_batch_columns(monkeypatch):
    """Where the kernel outweighs the columns and outputs (ResNet's late stages: tiny maps,
    many channels) the batch is not split; those products are split by columns instead."""
    monkeypatch.setenv("KERASNP_NUM_THREADS", "2")
    # (32 images of 2x2 outputs, 3x3x256 -> 256): columns + outputs 0.56x the kernel
    assert conv_threads.plan(32, 4, 9 * 256, 1, 256, 4) is None
    # the reference CNN's first convolution: activations thousands of times the kernel
    assert conv_threads.plan(64, 26 * 26, 9, 1, 32, 4) is not None
    from kerasnp import kernels
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 2, 2, 256)).astype("float32")
    w = rng.standard_normal((3, 3, 256, 256)).astype("float32")
    geom = ((1, 1), (1, 1, 1, 1), (1, 1), 1)
    y, cols = kernels.conv2d_forward(x, w, *geom, keep_cols=True)
    assert isinstance(cols, np.ndarray)                       # whole-batch columns
    dy = rng.standard_normal(y.shape).astype("float32")
    dx, dw = kernels.conv2d_backward(x, w, dy, *geom, cols=cols)
    monkeypatch.setenv("KERASNP_NUM_THREADS", "1")
    y1, cols1 = kernels.conv2d_forward(x, w, *geom, keep_cols=True)
    dx1, dw1 = kernels.conv2d_backward(x, w, dy, *geom, cols=cols1)
    for a, b in ((y, y1), (dx, dx1), (dw, dw1)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-3)
