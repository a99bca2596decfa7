"""3-D (volumetric) `ops.nn.conv`, `conv_transpose`, `max_pool`, `average_pool`: torch parity of
values and gradients (float64, NDHWC permuted to NCDHW), float64 central differences, a NumPy
loop reference for Keras's "same" pools, shapes and errors."""
import itertools

import numpy as np
import pytest

from kerasnp import ops
from kerasnp.autodiff import GradientTape, unwrap


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _tape(fn, arrays, dy):
    with GradientTape() as tape:
        for a in arrays:
            tape.watch(a)
        y = fn(*arrays)
    return np.asarray(unwrap(y)), tape.gradient(y, list(arrays), output_gradients=dy)


def _central_differences(fn, arrays, eps=1e-6, checks=12, seed=0):
    rng = np.random.default_rng(seed)
    y = np.asarray(unwrap(fn(*arrays)))
    dy = rng.standard_normal(y.shape)
    _, grads = _tape(fn, arrays, dy)
    for k, (a, g) in enumerate(zip(arrays, grads)):
        assert g is not None and g.shape == a.shape, f"argument {k}"
        flat = a.reshape(-1)
        for i in rng.choice(flat.size, min(checks, flat.size), replace=False):
            old = flat[i]
            flat[i] = old + eps
            fp = float(np.sum(unwrap(fn(*arrays)) * dy))
            flat[i] = old - eps
            fm = float(np.sum(unwrap(fn(*arrays)) * dy))
            flat[i] = old
            np.testing.assert_allclose(g.reshape(-1)[i], (fp - fm) / (2 * eps), rtol=1e-6,
                                       atol=1e-7, err_msg=f"argument {k}, element {i}")


def _same_pads(size, k, s, d=1):
    keff = (k - 1) * d + 1
    total = max((-(-size // s) - 1) * s + keff - size, 0)
    return total // 2, total - total // 2


def _ncdhw(a):
    return np.moveaxis(a, -1, 1).copy()


def _ndhwc(t):
    return np.moveaxis(t.detach().numpy(), 1, -1)


cases = {
    "valid": (lambda x, w: ops.nn.conv(x, w, (2, 1, 2)), (2, 5, 4, 5, 2), (2, 3, 2, 2, 3)),
    "same_dilated": (lambda x, w: ops.nn.conv(x, w, 1, "same", dilation_rate=(2, 1, 1)),
                     (1, 5, 4, 3, 2), (2, 2, 3, 2, 2)),
    "same_strided_groups": (lambda x, w: ops.nn.conv(x, w, 2, "same"), (1, 5, 4, 4, 4),
                            (3, 2, 2, 2, 4)),
    "transpose_same": (lambda x, w: ops.nn.conv_transpose(x, w, 2, "same"), (1, 3, 2, 3, 3),
                       (3, 2, 3, 2, 3)),
    "transpose_outpad": (lambda x, w: ops.nn.conv_transpose(x, w, (2, 3, 2), "valid", 1),
                         (1, 2, 3, 2, 2), (3, 3, 2, 2, 2)),
    "transpose_dilated": (lambda x, w: ops.nn.conv_transpose(x, w, 1, dilation_rate=2),
                          (1, 3, 2, 2, 2), (2, 2, 2, 3, 2)),
}


@pytest.mark.parametrize("case", sorted(cases))
def test_conv_gradients_match_central_differences(case):
    fn, xs, ws = cases[case]
    _central_differences(fn, [_rand(*xs, seed=1), _rand(*ws, seed=2)])


@pytest.mark.parametrize("mode, padding, strides", [("max", "valid", None), ("max", "same", 2),
                                                    ("avg", "valid", 1), ("avg", "same", 2)])
def test_pool_gradients_match_central_differences(mode, padding, strides):
    fn = ops.nn.max_pool if mode == "max" else ops.nn.average_pool
    _central_differences(lambda x: fn(x, (2, 3, 2), strides, padding),
                         [_rand(2, 5, 4, 5, 2, seed=3)])


@pytest.mark.parametrize("xs, ws, strides, padding, dilation", [
    ((2, 6, 7, 5, 4), (3, 2, 3, 2, 6), (2, 1, 2), "valid", 1),      # 2 groups
    ((2, 5, 6, 7, 3), (3, 3, 3, 3, 4), 2, "same", 1),               # asymmetric "same"
    ((1, 7, 6, 5, 2), (3, 2, 2, 2, 3), 1, "same", (2, 1, 2)),       # dilation
])
def test_conv_matches_torch(xs, ws, strides, padding, dilation):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, w = _rand(*xs, seed=1), _rand(*ws, seed=2)

    def fn(a, b):
        return ops.nn.conv(a, b, strides, padding, dilation_rate=dilation)
    y = fn(x, w)
    dy = _rand(*y.shape, seed=3)
    _, (dx, dw) = _tape(fn, [x, w], dy)
    s = (strides,) * 3 if isinstance(strides, int) else strides
    d = (dilation,) * 3 if isinstance(dilation, int) else dilation
    pads = [0] * 6
    if padding == "same":                       # F.pad lists the last axis first
        for axis in range(3):
            pads[4 - 2 * axis:6 - 2 * axis] = _same_pads(xs[1 + axis], ws[axis], s[axis],
                                                         d[axis])
    xt = torch.tensor(_ncdhw(x), requires_grad=True)
    wt = torch.tensor(w.transpose(4, 3, 0, 1, 2).copy(), requires_grad=True)
    yt = F.conv3d(F.pad(xt, pads), wt, stride=s, dilation=d, groups=xs[-1] // ws[-2])
    (yt * torch.tensor(_ncdhw(dy))).sum().backward()
    np.testing.assert_allclose(y, _ndhwc(yt), atol=1e-10)
    np.testing.assert_allclose(dx, _ndhwc(xt.grad), atol=1e-10)
    np.testing.assert_allclose(dw, wt.grad.numpy().transpose(2, 3, 4, 1, 0), atol=1e-10)


@pytest.mark.parametrize("dhw, k, s, padding, outpad", [((3, 4, 2), 3, 2, "same", None),
                                                        ((2, 3, 3), 2, 3, "valid", None),
                                                        ((3, 2, 3), 3, 2, "valid", 1),
                                                        ((2, 4, 2), 3, 1, "same", None)])
def test_conv_transpose_matches_torch(dhw, k, s, padding, outpad):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, w = _rand(2, *dhw, 3, seed=1), _rand(k, k, k, 2, 3, seed=2)

    def fn(a, b):
        return ops.nn.conv_transpose(a, b, s, padding, outpad)
    y = fn(x, w)
    dy = _rand(*y.shape, seed=3)
    _, (dx, dw) = _tape(fn, [x, w], dy)
    xt = torch.tensor(_ncdhw(x), requires_grad=True)
    wt = torch.tensor(w.transpose(4, 3, 0, 1, 2).copy(), requires_grad=True)
    full = F.conv_transpose3d(xt, wt, stride=s)                 # no padding, then crop
    front = [_same_pads(y.shape[1 + a], k, s)[0] if padding == "same" else 0 for a in range(3)]
    out = F.pad(full[:, :, front[0]:, front[1]:, front[2]:], (0, 4) * 3)
    out = out[:, :, :y.shape[1], :y.shape[2], :y.shape[3]]
    (out * torch.tensor(_ncdhw(dy))).sum().backward()
    np.testing.assert_allclose(y, _ndhwc(out), atol=1e-10)
    np.testing.assert_allclose(dx, _ndhwc(xt.grad), atol=1e-10)
    np.testing.assert_allclose(dw, wt.grad.numpy().transpose(2, 3, 4, 1, 0), atol=1e-10)


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("pool, strides", [((2, 3, 2), None), (2, 1), ((3, 2, 2), (1, 2, 1))])
def test_valid_pools_match_torch(mode, pool, strides):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = _rand(2, 6, 5, 7, 3, seed=4)
    fn = ops.nn.max_pool if mode == "max" else ops.nn.average_pool
    y = fn(x, pool, strides)
    dy = _rand(*y.shape, seed=5)
    _, (dx,) = _tape(lambda a: fn(a, pool, strides), [x], dy)
    xt = torch.tensor(_ncdhw(x), requires_grad=True)
    tfn = F.max_pool3d if mode == "max" else F.avg_pool3d
    yt = tfn(xt, pool, strides)
    (yt * torch.tensor(_ncdhw(dy))).sum().backward()
    np.testing.assert_allclose(y, _ndhwc(yt), atol=1e-12)
    np.testing.assert_allclose(dx, _ndhwc(xt.grad), atol=1e-12)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_same_pools_match_a_loop_over_in_bounds_windows(mode):
    x = _rand(2, 5, 4, 7, 2, seed=6)
    pool, strides = (3, 2, 4), (2, 3, 2)
    fn = ops.nn.max_pool if mode == "max" else ops.nn.average_pool
    y = fn(x, pool, strides, "same")
    out = [-(-n // s) for n, s in zip(x.shape[1:4], strides)]
    front = [_same_pads(n, k, s)[0] for n, k, s in zip(x.shape[1:4], pool, strides)]
    ref = np.empty((2, *out, 2))
    for o in itertools.product(*map(range, out)):
        lo = [max(i * s - f, 0) for i, s, f in zip(o, strides, front)]
        hi = [i * s - f + k for i, s, f, k in zip(o, strides, front, pool)]
        win = x[:, lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
        ref[(slice(None), *o)] = win.max(axis=(1, 2, 3)) if mode == "max" else \
            win.mean(axis=(1, 2, 3))
    np.testing.assert_allclose(y, ref, atol=1e-12)


def test_float32_stays_float32_and_outside_a_tape_is_plain():
    x, w = _rand(1, 4, 4, 4, 2).astype("float32"), _rand(2, 2, 2, 2, 3).astype("float32")
    for y in (ops.nn.conv(x, w), ops.nn.conv_transpose(x, w[..., :2]),
              ops.nn.max_pool(x, 2), ops.nn.average_pool(x, 2, padding="same")):
        assert type(y) is np.ndarray and y.dtype == np.float32


@pytest.mark.parametrize("call, match", [
    (lambda: ops.nn.conv(np.ones((1, 2, 3, 4, 5, 6)), np.ones((1, 1, 1, 6, 2))),
     r"ops.conv: inputs must have rank 3 .* or 5 .*Received: inputs.shape=\(1, 2, 3, 4, 5, 6\)"),
    (lambda: ops.nn.conv(np.ones((1, 3, 3, 3, 2)), np.ones((2, 2, 2, 3))),
     r"kernel must have rank 5 .*Received: kernel.shape=\(2, 2, 2, 3\)"),
    (lambda: ops.nn.max_pool(np.ones((1, 3, 3, 3, 2)), (2, 4, 2)), r"does not fit"),
    (lambda: ops.nn.depthwise_conv(np.ones((1, 3, 3, 3, 2)), np.ones((1, 1, 1, 2, 1))),
     r"3-D inputs are not supported by this op"),
])
def test_errors_say_what_was_received(call, match):
    with pytest.raises(ValueError, match=match):
        call()
