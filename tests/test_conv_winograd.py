"""The Winograd F(2x2, 3x3) convolution (kernels/conv_winograd.py) against the direct one.

3x3 stride-1 convolutions with 16+ input and output channels take this path in training and
predict. Its forward, input gradient, kernel gradient and fused bias/ReLU must be the reference
convolution's to float rounding for every padding and output size (odd sizes leave half tiles
past the edge), give the same results on 1, 2 and 3 threads, and match finite differences.
"""
import numpy as np
import pytest

from kerasnp import kernels
from kerasnp.kernels import HAVE_NUMBA, conv_threads, reference

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="the Winograd kernels need Numba")

if HAVE_NUMBA:
    from kerasnp.kernels import conv_winograd

TOL = {"float32": 2e-5, "float64": 1e-12}
# (n, h, w, cin, cout, padding (top, bottom, left, right))
GEOMETRIES = [
    (3, 7, 6, 16, 16, (0, 0, 0, 0)),        # odd output rows: half tiles at the bottom
    (2, 8, 9, 16, 24, (1, 1, 1, 1)),        # 'same'
    (1, 5, 5, 17, 16, (1, 0, 0, 1)),        # asymmetric padding
    (2, 3, 3, 16, 16, (0, 0, 0, 0)),        # a single output pixel
    (0, 6, 6, 16, 16, (1, 1, 1, 1)),        # an empty batch
]


def _data(n, h, w, cin, cout, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, cin)).astype(dtype)
    k = rng.standard_normal((3, 3, cin, cout)).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype)
    return rng, x, k, b


def _close(got, want, dtype):
    scale = max(1.0, float(np.abs(want).max())) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype] * scale)


@pytest.fixture(autouse=True)
def _every_size(request, monkeypatch):
    """The kernels' tests run small batches through the Winograd path (which by default takes
    only convolutions with enough output pixels per weight)."""
    if "applies" not in request.node.name:
        monkeypatch.setattr(conv_winograd, "MIN_SAVING", -10 ** 9)


def test_applies_to_3x3_stride_1_with_enough_channels_and_pixels_only():
    def ok(w_shape, strides=(1, 1), dilation=(1, 1), groups=1, n=64, oh=11, ow=11):
        return conv_winograd.applies(n, oh, ow, w_shape, strides, dilation, groups)
    assert ok((3, 3, 32, 64))                                   # the reference CNN's second
    assert ok((3, 3, 16, 16)) and ok((3, 3, 64, 64))
    assert not ok((3, 3, 8, 16))                                # few input channels: im2col
    assert not ok((3, 3, 16, 8))
    assert not ok((3, 3, 128, 64)) and not ok((3, 3, 64, 128))  # many: the weights dominate
    assert not ok((3, 3, 16, 16), strides=(2, 2))
    assert not ok((3, 3, 16, 16), dilation=(2, 2))
    assert not ok((3, 3, 16, 32), groups=2)
    assert not ok((5, 5, 16, 16))
    saving = 32 * (9 * 4 * 4 - 16 * 2 * 2)                      # 2,560 per weight
    assert saving >= conv_winograd.MIN_SAVING
    assert ok((3, 3, 64, 64), n=32, oh=4, ow=4)
    assert not ok((3, 3, 64, 64), n=16, oh=4, ow=4)             # 1,280: too few pixels
    assert not ok((3, 3, 64, 64), n=32, oh=1, ow=1)             # one pixel: 16 > 9 products


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_forward_and_gradients_match_the_reference(geometry, dtype):
    n, h, w, cin, cout, pad = geometry
    rng, x, k, b = _data(n, h, w, cin, cout, dtype)
    args = ((1, 1), pad, (1, 1), 1)
    y_ref = reference.conv2d_forward(x, k, *args)
    y, cols = kernels.conv2d_forward(x, k, *args, keep_cols=True)
    assert cols is None                                 # the Winograd path ran
    assert y.dtype == np.dtype(dtype) and y.shape == y_ref.shape
    _close(y, y_ref, dtype)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx_ref, dw_ref = reference.conv2d_backward(x, k, dy, *args)
    dx, dw = kernels.conv2d_backward(x, k, dy, *args)
    _close(dx, dx_ref, dtype)
    _close(dw, dw_ref, dtype)
    # the fused bias + ReLU, and its backward (the mask, the bias gradient)
    z_ref = np.maximum(y_ref + b, 0)
    z = kernels.conv2d_forward(x, k, *args, bias=b, relu=True)
    _close(z, z_ref, dtype)
    dz = dy * (z_ref > 0)
    dx_ref, dw_ref = reference.conv2d_backward(x, k, dz, *args)
    dx, dw, db = kernels.conv2d_backward(x, k, dy, *args, relu_output=z, need_db=True)
    _close(dx, dx_ref, dtype)
    _close(dw, dw_ref, dtype)
    _close(db, dz.sum(axis=(0, 1, 2)), dtype)
    none_dx, dw2 = kernels.conv2d_backward(x, k, dy, *args, need_dx=False)
    assert none_dx is None
    _close(dw2, reference.conv2d_backward(x, k, dy, *args)[1], dtype)


def test_float16_is_computed_in_float32_and_returned_as_float16():
    _, x, k, b = _data(2, 6, 6, 16, 16, "float32")
    y = kernels.conv2d_forward(x.astype("float16"), k.astype("float16"), (1, 1), (1, 1, 1, 1),
                               (1, 1), 1, bias=b.astype("float16"), relu=True)
    assert y.dtype == np.float16
    want = np.maximum(reference.conv2d_forward(x.astype("float16").astype("float32"),
                                               k.astype("float16").astype("float32"), (1, 1),
                                               (1, 1, 1, 1), (1, 1), 1)
                      + b.astype("float16").astype("float32"), 0)
    np.testing.assert_allclose(y.astype("float32"), want, rtol=2e-3, atol=2e-2)


def test_relu_epilogue_keeps_nan():
    _, x, k, b = _data(1, 4, 4, 16, 16, "float32")
    x[0, 1, 1, 0] = np.nan
    y = kernels.conv2d_forward(x, k, (1, 1), (0, 0, 0, 0), (1, 1), 1, bias=b, relu=True)
    assert np.isnan(y).all()              # every 2x2 output of the 4x4 input reads the NaN


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 2, 5])
def test_same_results_on_1_2_3_threads(n, dtype, monkeypatch):
    monkeypatch.setattr(conv_threads, "MIN_WORK", 0)
    monkeypatch.setattr(conv_threads, "BLOCK_BYTES", 1)        # one image per block
    rng, x, k, b = _data(n, 7, 8, 16, 20, dtype, seed=n)
    args = ((1, 1), (1, 1, 1, 1), (1, 1), 1)
    dy = rng.standard_normal((n, 7, 8, 20)).astype(dtype)
    results = {}
    for threads in (1, 2, 3):
        monkeypatch.setenv("KERASNP_NUM_THREADS", str(threads))
        if threads > 1:
            assert len(conv_winograd.plan(n, 7, 8, 16, 20, x.itemsize)) == min(threads, n)
        y = kernels.conv2d_forward(x, k, *args, bias=b, relu=True)
        results[threads] = (y, *kernels.conv2d_backward(x, k, dy, *args, relu_output=y,
                                                        need_db=True))
    for threads in (2, 3):
        for a, c in zip(results[1], results[threads]):
            np.testing.assert_allclose(c, a, rtol=TOL[dtype], atol=TOL[dtype])


def test_gradients_match_finite_differences_float64():
    rng, x, k, b = _data(2, 5, 6, 16, 16, "float64", seed=3)
    args = ((1, 1), (1, 1, 0, 1), (1, 1), 1)
    dy = rng.standard_normal(kernels.conv2d_forward(x, k, *args).shape)

    def loss(xv, kv):
        return float(np.sum(kernels.conv2d_forward(xv, kv, *args) * dy))
    dx, dw = kernels.conv2d_backward(x, k, dy, *args)
    eps = 1e-6
    for grad, arr, which in ((dx, x, 0), (dw, k, 1)):
        for flat in rng.choice(arr.size, 25, replace=False):
            idx = np.unravel_index(flat, arr.shape)
            plus, minus = arr.copy(), arr.copy()
            plus[idx] += eps
            minus[idx] -= eps
            pair = ((plus, k), (minus, k)) if which == 0 else ((x, plus), (x, minus))
            numeric = (loss(*pair[0]) - loss(*pair[1])) / (2 * eps)
            assert grad[idx] == pytest.approx(numeric, rel=1e-6, abs=1e-7)


def test_matches_torch_float64():
    torch = pytest.importorskip("torch")
    rng, x, k, b = _data(3, 9, 8, 16, 24, "float64", seed=5)
    dy = rng.standard_normal((3, 9, 8, 24))
    y = kernels.conv2d_forward(x, k, (1, 1), (1, 1, 1, 1), (1, 1), 1, bias=b, relu=True)
    dx, dw, db = kernels.conv2d_backward(x, k, dy, (1, 1), (1, 1, 1, 1), (1, 1), 1,
                                         relu_output=y, need_db=True)
    xt = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)
    kt = torch.tensor(k.transpose(3, 2, 0, 1).copy(), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    yt = torch.relu(torch.nn.functional.conv2d(xt, kt, bt, padding=1))
    yt.backward(torch.tensor(dy.transpose(0, 3, 1, 2).copy()))
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 3, 1), atol=1e-11)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), atol=1e-11)
    np.testing.assert_allclose(dw, kt.grad.numpy().transpose(2, 3, 1, 0), atol=1e-10)
    np.testing.assert_allclose(db, bt.grad.numpy(), atol=1e-10)
