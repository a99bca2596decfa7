"""Kernels vs their NumPy reference twins, finite differences and PyTorch; compile-once checks."""
import os
import subprocess
import sys

import numpy as np
import pytest

from kerasnp import kernels
from kerasnp.kernels import _jit, conv, pool
from kerasnp.kernels import reference as ref

DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 1e-5, np.float64: 1e-12}

# name: (x_shape, w_shape, strides, padding (t, b, l, r), dilation, groups)
CONV_CASES = {
    "basic": ((1, 5, 5, 2), (3, 3, 2, 3), (1, 1), (0, 0, 0, 0), (1, 1), 1),
    "batch3": ((3, 5, 4, 2), (3, 3, 2, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    "kernel_is_input": ((2, 3, 4, 2), (3, 4, 2, 2), (1, 1), (0, 0, 0, 0), (1, 1), 1),
    "stride2": ((2, 7, 6, 2), (3, 3, 2, 3), (2, 2), (0, 0, 0, 0), (1, 1), 1),
    "stride3": ((1, 8, 7, 1), (2, 2, 1, 2), (3, 3), (0, 0, 0, 0), (1, 1), 1),
    "asym_pad": ((2, 5, 5, 2), (3, 3, 2, 2), (1, 1), (0, 1, 0, 1), (1, 1), 1),
    "dilation2": ((2, 7, 7, 2), (3, 3, 2, 2), (1, 1), (0, 0, 0, 0), (2, 2), 1),
    "groups2": ((2, 5, 5, 4), (3, 3, 2, 6), (1, 1), (0, 0, 0, 0), (1, 1), 2),
    "1x1": ((2, 4, 5, 3), (1, 1, 3, 4), (1, 1), (0, 0, 0, 0), (1, 1), 1),
    "nonsquare": ((2, 6, 5, 2), (2, 3, 2, 3), (1, 2), (1, 0, 2, 1), (1, 1), 1),
    "everything": ((3, 7, 8, 4), (2, 3, 2, 4), (2, 1), (1, 2, 0, 1), (1, 2), 2),
}

# name: (x_shape, pool, strides, padding)
POOL_CASES = {
    "2x2": ((1, 4, 4, 2), (2, 2), (2, 2), (0, 0, 0, 0)),
    "batch3_overlap": ((3, 5, 5, 2), (3, 3), (1, 1), (0, 0, 0, 0)),
    "pool_is_input": ((2, 3, 4, 2), (3, 4), (1, 1), (0, 0, 0, 0)),
    "stride3": ((2, 7, 8, 1), (2, 2), (3, 3), (0, 0, 0, 0)),
    "same_pad": ((2, 5, 5, 3), (3, 3), (2, 2), (1, 1, 1, 1)),
    "asym_pad": ((2, 5, 5, 2), (2, 2), (2, 2), (0, 1, 0, 1)),
    "nonsquare": ((2, 6, 5, 2), (2, 3), (1, 2), (1, 0, 2, 1)),
    "empty_window": ((1, 3, 3, 2), (2, 2), (2, 2), (2, 0, 0, 0)),
}


def _rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def _close(actual, expected, dtype):
    assert actual.dtype == dtype and actual.shape == expected.shape
    scale = max(float(np.abs(expected).max(initial=0.0)), 1.0)
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], atol=RTOL[dtype] * scale)


# -------------------------------------------------------------------------------- convolution
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(CONV_CASES))
def test_conv_matches_reference(case, dtype):
    x_shape, w_shape, strides, padding, dilation, groups = CONV_CASES[case]
    rng = np.random.default_rng(len(case))
    x, w = _rand(rng, x_shape, dtype), _rand(rng, w_shape, dtype)
    y = kernels.conv2d_forward(x, w, strides, padding, dilation, groups)
    _close(y, ref.conv2d_forward(x, w, strides, padding, dilation, groups), dtype)
    dy = _rand(rng, y.shape, dtype)
    dx, dw = kernels.conv2d_backward(x, w, dy, strides, padding, dilation, groups)
    dx_ref, dw_ref = ref.conv2d_backward(x, w, dy, strides, padding, dilation, groups)
    _close(dx, dx_ref, dtype)
    _close(dw, dw_ref, dtype)


def test_conv_output_geometry():
    y = kernels.conv2d_forward(np.ones((2, 5, 5, 1)), np.ones((3, 3, 1, 4)), (1, 1), (0, 0, 0, 0),
                               (1, 1), 1)
    assert y.shape == (2, 3, 3, 4) and np.all(y == 9.0)
    assert kernels.output_size(28, 3, 1, 0, 0) == 26
    assert kernels.output_size(13, 2, 2, 0, 0) == 6
    assert kernels.output_size(7, 3, 2, 1, 1, dilation=2) == 3
    assert kernels.output_size(2, 3, 1, 0, 0) == 0


def _central_differences(f, a, eps=1e-6):
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        keep = a[i]
        a[i] = keep + eps
        up = f()
        a[i] = keep - eps
        down = f()
        a[i] = keep
        g[i] = (up - down) / (2 * eps)
    return g


def test_conv_backward_matches_finite_differences():
    strides, padding, dilation, groups = (2, 1), (1, 0, 0, 1), (1, 2), 2
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 4, 5, 4)), rng.standard_normal((2, 2, 2, 4))
    r = rng.standard_normal(kernels.conv2d_forward(x, w, strides, padding, dilation, groups).shape)

    def loss():                                            # L = Σ y·r, so dL/dy = r
        return float(np.sum(kernels.conv2d_forward(x, w, strides, padding, dilation, groups) * r))

    dx, dw = kernels.conv2d_backward(x, w, r, strides, padding, dilation, groups)
    np.testing.assert_allclose(dx, _central_differences(loss, x), rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(dw, _central_differences(loss, w), rtol=1e-7, atol=1e-8)


def test_conv_accepts_non_contiguous_and_float16():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 6, 4)).astype(np.float32)[:, ::2, :, ::2]   # (2, 3, 6, 2)
    w = rng.standard_normal((2, 2, 2, 3)).astype(np.float32)
    args = ((1, 1), (0, 0, 0, 0), (1, 1), 1)
    _close(kernels.conv2d_forward(x, w, *args), ref.conv2d_forward(x, w, *args), np.float32)
    y16 = kernels.conv2d_forward(x.astype(np.float16), w.astype(np.float16), *args)
    assert y16.dtype == np.float16
    np.testing.assert_allclose(y16, ref.conv2d_forward(x, w, *args), rtol=1e-2, atol=1e-2)


def test_integer_input_is_rejected_with_valid_dtypes():
    with pytest.raises(TypeError, match=r"Valid dtypes: float32, float64.*Received: dtype=int64"):
        kernels.conv2d_forward(np.ones((1, 3, 3, 1), np.int64), np.ones((1, 1, 1, 1)),
                               (1, 1), (0, 0, 0, 0), (1, 1), 1)


# ------------------------------------------------------------------------------------ pooling
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["max", "min"])
@pytest.mark.parametrize("case", list(POOL_CASES))
def test_extremum_pool_matches_reference(case, mode, dtype):
    x_shape, size, strides, padding = POOL_CASES[case]
    rng = np.random.default_rng(len(case))
    x = _rand(rng, x_shape, dtype)
    y, idx = kernels.pool2d_forward(x, size, strides, padding, mode)
    y_ref, idx_ref = ref.pool2d_forward(x, size, strides, padding, mode)
    np.testing.assert_array_equal(idx, idx_ref)
    np.testing.assert_array_equal(y, y_ref)
    assert y.dtype == dtype and idx.dtype == np.int64
    dy = _rand(rng, y.shape, dtype)
    _close(kernels.pool2d_backward(dy, idx, x.shape), ref.pool2d_backward(dy, idx_ref, x.shape),
           dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(POOL_CASES))
def test_avg_pool_matches_reference(case, dtype):
    x_shape, size, strides, padding = POOL_CASES[case]
    rng = np.random.default_rng(len(case))
    x = _rand(rng, x_shape, dtype)
    y = kernels.avgpool2d_forward(x, size, strides, padding)
    _close(y, ref.avgpool2d_forward(x, size, strides, padding), dtype)
    dy = _rand(rng, y.shape, dtype)
    _close(kernels.avgpool2d_backward(dy, x.shape, size, strides, padding),
           ref.avgpool2d_backward(dy, x.shape, size, strides, padding), dtype)


def test_avg_pool_does_not_count_padding():
    x = np.ones((1, 3, 3, 1), np.float32)
    y = kernels.avgpool2d_forward(x, (2, 2), (2, 2), (0, 1, 0, 1))          # Keras "same"
    np.testing.assert_array_equal(y, np.ones((1, 2, 2, 1)))
    dx = kernels.avgpool2d_backward(np.ones_like(y), x.shape, (2, 2), (2, 2), (0, 1, 0, 1))
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0.25, 0.25, 0.5], [0.25, 0.25, 0.5],
                                                   [0.5, 0.5, 1.0]])


@pytest.mark.parametrize("mode", ["max", "min"])
def test_pool_ties_send_gradient_to_first_element_only(mode):
    x = np.full((2, 4, 5, 3), 7.0, np.float32)
    y, idx = kernels.pool2d_forward(x, (2, 2), (1, 1), (1, 0, 0, 1), mode)
    dy = np.ones_like(y)
    dx = kernels.pool2d_backward(dy, idx, x.shape)
    n, oy, ox, c = np.unravel_index(idx, x.shape)
    # First in-bounds element in scan order: top row is padding for oy == 0, so row 0 then.
    np.testing.assert_array_equal(oy, np.maximum(np.arange(4)[:, None] - 1, 0)[None, :, :, None]
                                  + np.zeros_like(oy))
    np.testing.assert_array_equal(ox, np.minimum(np.arange(5), 4)[None, None, :, None]
                                  + np.zeros_like(ox))
    assert np.count_nonzero(dx) <= y.size and dx.sum() == dy.sum()   # one element per output


def test_pool_single_window_of_ties_has_one_nonzero_gradient():
    x = np.zeros((1, 2, 2, 1), np.float64)
    y, idx = kernels.pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0), "max")
    dx = kernels.pool2d_backward(np.full_like(y, 5.0), idx, x.shape)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[5.0, 0.0], [0.0, 0.0]])


def test_max_pool_propagates_nan():
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    x[0, 1, 0, 0] = np.nan
    y, idx = kernels.pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0), "max")
    assert np.isnan(y[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 4
    assert y[0, 0, 1, 0] == 7 and y[0, 1, 1, 0] == 15


def test_pool_backward_matches_finite_differences():
    rng = np.random.default_rng(2)
    x = rng.permutation(3 * 5 * 4).reshape(1, 5, 4, 3) / 10.0             # no ties
    size, strides, padding = (3, 2), (2, 1), (1, 1, 0, 1)
    y, idx = kernels.pool2d_forward(x, size, strides, padding, "max")
    r = rng.standard_normal(y.shape)
    fd = _central_differences(
        lambda: float(np.sum(kernels.pool2d_forward(x, size, strides, padding, "max")[0] * r)), x)
    np.testing.assert_allclose(kernels.pool2d_backward(r, idx, x.shape), fd, atol=1e-8)
    fd = _central_differences(
        lambda: float(np.sum(kernels.avgpool2d_forward(x, size, strides, padding) * r)), x)
    np.testing.assert_allclose(kernels.avgpool2d_backward(r, x.shape, size, strides, padding), fd,
                               atol=1e-7)


def test_unknown_pool_mode_lists_valid_modes():
    with pytest.raises(ValueError, match=r"Valid: max, min. Received: mode='mean'"):
        kernels.pool2d_forward(np.ones((1, 2, 2, 1)), (2, 2), (2, 2), (0, 0, 0, 0), "mean")


# ------------------------------------------------------------------------------------ PyTorch
def _nchw(a):
    return a.transpose(0, 3, 1, 2)


def _nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


@pytest.mark.parametrize("case", ["asym_pad", "stride2", "dilation2", "groups2", "everything"])
def test_conv_matches_torch(case):
    torch = pytest.importorskip("torch")
    x_shape, w_shape, strides, padding, dilation, groups = CONV_CASES[case]
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    tx = torch.tensor(_nchw(x).copy(), requires_grad=True)
    tw = torch.tensor(w.transpose(3, 2, 0, 1).copy(), requires_grad=True)   # (out, in/g, kh, kw)
    pt, pb, pl, pr = padding
    ty = torch.nn.functional.conv2d(torch.nn.functional.pad(tx, (pl, pr, pt, pb)), tw,
                                    stride=strides, dilation=dilation, groups=groups)
    y = kernels.conv2d_forward(x, w, strides, padding, dilation, groups)
    np.testing.assert_allclose(y, _nhwc(ty), rtol=1e-10, atol=1e-10)
    dy = rng.standard_normal(y.shape)
    ty.backward(torch.tensor(_nchw(dy).copy()))
    dx, dw = kernels.conv2d_backward(x, w, dy, strides, padding, dilation, groups)
    np.testing.assert_allclose(dx, _nhwc(tx.grad), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dw, tw.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("case", ["2x2", "batch3_overlap", "same_pad", "asym_pad", "nonsquare"])
def test_pool_matches_torch(case, mode):
    torch = pytest.importorskip("torch")
    f = torch.nn.functional
    x_shape, size, strides, (pt, pb, pl, pr) = POOL_CASES[case]
    rng = np.random.default_rng(4)
    x = rng.standard_normal(x_shape)
    tx = torch.tensor(_nchw(x).copy(), requires_grad=True)
    if mode == "max":   # pad with -inf so padded positions never win, like ours
        ty = f.max_pool2d(f.pad(tx, (pl, pr, pt, pb), value=-np.inf), size, strides)
        y, idx = kernels.pool2d_forward(x, size, strides, (pt, pb, pl, pr), "max")
    else:   # mean over in-bounds elements only = pooled sum of x / pooled count of real cells
        pads = (pl, pr, pt, pb)
        ones = torch.ones_like(tx)
        ty = (f.avg_pool2d(f.pad(tx, pads), size, strides)
              / f.avg_pool2d(f.pad(ones, pads), size, strides))
        y = kernels.avgpool2d_forward(x, size, strides, (pt, pb, pl, pr))
    np.testing.assert_allclose(y, _nhwc(ty), rtol=1e-10, atol=1e-10)
    dy = rng.standard_normal(y.shape)
    ty.backward(torch.tensor(_nchw(dy).copy()))
    if mode == "max":
        dx = kernels.pool2d_backward(dy, idx, x.shape)
    else:
        dx = kernels.avgpool2d_backward(dy, x.shape, size, strides, (pt, pb, pl, pr))
    np.testing.assert_allclose(dx, _nhwc(tx.grad), rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------- compilation and jit
def _dispatchers():
    from kerasnp.kernels import activation, conv_winograd
    mods = (conv, pool, activation, conv_winograd)
    return {f"{m.__name__}.{k}": v for m in mods for k, v in vars(m).items()
            if hasattr(v, "signatures") and hasattr(v, "py_func")}


@pytest.mark.skipif(not _jit.JIT_ENABLED, reason="needs compiled Numba kernels")
def test_warmup_compiles_one_specialisation_per_dtype_and_no_more():
    assert kernels.warmup() >= 0.0
    before = {k: len(d.signatures) for k, d in _dispatchers().items()}
    # the Winograd kernel too (its warm-up input is below `applies`'s size: called directly)
    assert before["kerasnp.kernels.conv_winograd._tiles"] == len(kernels.WARMUP_DTYPES)
    # One specialisation per dtype; integer helpers called only from other kernels (`_span`)
    # list one when compiled in this process and none when loaded from the cache.
    assert all(n <= len(kernels.WARMUP_DTYPES) for n in before.values())
    assert sum(n == len(kernels.WARMUP_DTYPES) for n in before.values()) >= 6
    rng = np.random.default_rng(5)
    for dtype in DTYPES:
        x = _rand(rng, (3, 9, 8, 6), dtype)[:, ::2]                          # non-contiguous
        w = _rand(rng, (3, 2, 3, 4), dtype)
        two = np.int64(2)                                                     # numpy ints too
        y = kernels.conv2d_forward(x, w, (two, 1), (1, 0, 2, 1), (1, two), two)
        kernels.conv2d_backward(x, w, y, (two, 1), (1, 0, 2, 1), (1, two), two)
        p, idx = kernels.pool2d_forward(x, (3, 2), (1, two), (1, 1, 0, 0), "min")
        kernels.pool2d_backward(p, idx, x.shape)
        a = kernels.avgpool2d_forward(x, (two, 3), (2, 1), (0, 1, 1, 1))
        kernels.avgpool2d_backward(a, x.shape, (two, 3), (2, 1), (0, 1, 1, 1))
        kernels.relu_bias_backward(x.reshape(-1, 6)[:, ::2], x.reshape(-1, 6)[:, 1::2])
    after = {k: len(d.signatures) for k, d in _dispatchers().items()}
    assert after == before


def test_cache_dir_falls_back_to_user_dir_only_when_needed():
    env = {}
    path = _jit.configure_cache_dir(env, writable=False)
    assert path == env["NUMBA_CACHE_DIR"] and path.endswith(os.path.join("kerasnp", "numba"))
    assert _jit.configure_cache_dir({}, writable=True) is None
    env = {"NUMBA_CACHE_DIR": "/mine"}
    assert _jit.configure_cache_dir(env, writable=False) is None and env["NUMBA_CACHE_DIR"] == "/mine"


def test_kernels_run_with_jit_disabled():
    code = ("import numpy as np\n"
            "from kerasnp import kernels\nfrom kerasnp.kernels import reference as r\n"
            "x = np.random.default_rng(0).standard_normal((2, 4, 4, 2))\n"
            "w = np.ones((2, 2, 1, 2))\na = ((1, 1), (0, 1, 1, 0), (1, 1), 2)\n"
            "assert np.allclose(kernels.conv2d_forward(x, w, *a), r.conv2d_forward(x, w, *a))\n"
            "y, i = kernels.pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0), 'max')\n"
            "assert np.array_equal(kernels.pool2d_backward(y, i, x.shape),\n"
            "                      r.pool2d_backward(y, i, x.shape))\n"
            "assert not kernels.JIT_ENABLED\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONPATH=root)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
