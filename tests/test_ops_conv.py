"""`kerasnp.ops.nn` convolution and pooling ops: float64 central differences of every argument,
torch parity (float64, NHWC permuted to NCHW), Keras output shapes, errors and symbolic use."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import ops
from kerasnp.autodiff import GradientTape, unwrap


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _tape(fn, arrays, dy):
    """`(y, [gradient of Σ fn(*arrays)·dy for each array])` through GradientTape."""
    with GradientTape() as tape:
        for a in arrays:
            tape.watch(a)
        y = fn(*arrays)
    return np.asarray(unwrap(y)), tape.gradient(y, list(arrays), output_gradients=dy)


def _check_central_differences(fn, arrays, eps=1e-6, checks=30, seed=0):
    rng = np.random.default_rng(seed)
    y = np.asarray(unwrap(fn(*arrays)))
    dy = rng.standard_normal(y.shape)
    _, grads = _tape(fn, arrays, dy)
    for k, (a, g) in enumerate(zip(arrays, grads)):
        assert g is not None and g.shape == a.shape, f"argument {k}"
        flat = a.reshape(-1)
        idx = rng.choice(flat.size, min(checks, flat.size), replace=False)
        num = []
        for i in idx:
            old = flat[i]
            flat[i] = old + eps
            fp = float(np.sum(unwrap(fn(*arrays)) * dy))
            flat[i] = old - eps
            fm = float(np.sum(unwrap(fn(*arrays)) * dy))
            flat[i] = old
            num.append((fp - fm) / (2 * eps))
        got = g.reshape(-1)[idx]
        scale = max(np.abs(got).max(), np.abs(num).max(), 1e-8)
        assert np.abs(got - num).max() / scale < 1e-7, f"argument {k}"


GRAD_CASES = {
    "conv2d_same_s2": (lambda x, w: ops.nn.conv(x, w, 2, "same"), [(2, 7, 6, 3), (3, 3, 3, 4)]),
    "conv2d_groups_dil": (lambda x, w: ops.nn.conv(x, w, 1, "valid", dilation_rate=(2, 1)),
                          [(2, 7, 6, 4), (2, 3, 2, 6)]),
    "conv1d_same": (lambda x, w: ops.nn.conv(x, w, 1, "SAME"), [(2, 9, 3), (4, 3, 2)]),
    "conv1d_s3": (lambda x, w: ops.nn.conv(x, w, 3), [(2, 11, 2), (2, 2, 3)]),
    "depthwise2d": (lambda x, w: ops.nn.depthwise_conv(x, w, (2, 1), "same"),
                    [(2, 6, 5, 3), (3, 2, 3, 2)]),
    "depthwise1d": (lambda x, w: ops.nn.depthwise_conv(x, w, 1, "valid", dilation_rate=2),
                    [(2, 9, 2), (3, 2, 3)]),
    "separable2d": (lambda x, d, p: ops.nn.separable_conv(x, d, p, 1, "same"),
                    [(2, 5, 5, 2), (3, 3, 2, 2), (1, 1, 4, 3)]),
    "separable1d": (lambda x, d, p: ops.nn.separable_conv(x, d, p, 2),
                    [(2, 9, 3), (3, 3, 1), (1, 3, 2)]),
    "transpose2d_same_s2": (lambda x, w: ops.nn.conv_transpose(x, w, 2, "same"),
                            [(2, 3, 4, 3), (3, 3, 2, 3)]),
    "transpose2d_outpad": (lambda x, w: ops.nn.conv_transpose(x, w, 2, "valid", 1),
                           [(2, 3, 3, 2), (3, 2, 2, 2)]),
    "transpose1d": (lambda x, w: ops.nn.conv_transpose(x, w, 3, dilation_rate=1),
                    [(2, 4, 2), (2, 3, 2)]),
    "max_pool2d_same": (lambda x: ops.nn.max_pool(x, 3, 2, "same"), [(2, 7, 6, 2)]),
    "max_pool1d": (lambda x: ops.nn.max_pool(x, 2), [(2, 9, 3)]),
    "average_pool2d_same": (lambda x: ops.nn.average_pool(x, (2, 3), (1, 2), "same"),
                            [(2, 5, 6, 2)]),
    "average_pool1d": (lambda x: ops.nn.average_pool(x, 3, 1), [(2, 7, 2)]),
}


@pytest.mark.parametrize("case", sorted(GRAD_CASES))
def test_gradients_match_central_differences(case):
    fn, shapes = GRAD_CASES[case]
    arrays = [_rand(*s, seed=i + 1) for i, s in enumerate(shapes)]
    _check_central_differences(fn, arrays)


def test_outside_a_tape_ops_return_plain_arrays_and_keep_float32():
    x = _rand(2, 6, 6, 3).astype("float32")
    w = _rand(3, 3, 3, 4).astype("float32")
    for y in (ops.nn.conv(x, w), ops.nn.max_pool(x, 2), ops.nn.average_pool(x, 2),
              ops.nn.depthwise_conv(x, w[..., :1]), ops.nn.conv_transpose(x, w[:, :, :2, :3])):
        assert type(y) is np.ndarray and y.dtype == np.float32


def test_each_op_records_one_node():
    x, w = _rand(2, 6, 6, 3), _rand(3, 3, 3, 4)
    for fn in (lambda: ops.nn.conv(x, w), lambda: ops.nn.max_pool(x, 2),
               lambda: ops.nn.separable_conv(x, w[..., :2], _rand(1, 1, 6, 2))):
        with GradientTape() as tape:
            tape.watch(x)
            fn()
        assert len(tape._nodes) == 1


# ------------------------------------------------------------------------------ torch parity
torch_cases = [((2, 8, 7, 4), (3, 3, 2, 6), 2, "same", 1),     # groups 2, asymmetric "same"
               ((2, 9, 9, 3), (3, 2, 3, 4), (1, 2), "valid", (2, 1)),
               ((3, 10, 2), (3, 2, 5), 2, "same", 1),          # 1-D
               ((2, 12, 4), (2, 1, 4), 1, "valid", 3)]         # 1-D depthwise-like groups 4


def _same_pads(size, k, s, d):
    k = (k - 1) * d + 1
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


@pytest.mark.parametrize("xs, ws, strides, padding, dilation", torch_cases)
def test_conv_matches_torch(xs, ws, strides, padding, dilation):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, w = _rand(*xs, seed=1), _rand(*ws, seed=2)
    rank = len(xs) - 2
    st = (strides,) * rank if isinstance(strides, int) else strides
    dl = (dilation,) * rank if isinstance(dilation, int) else dilation
    y = ops.nn.conv(x, w, strides, padding, dilation_rate=dilation)
    dy = _rand(*y.shape, seed=3)
    _, (dx, dw) = _tape(lambda a, b: ops.nn.conv(a, b, strides, padding, dilation_rate=dilation),
                        [x, w], dy)
    xt = torch.tensor(np.moveaxis(x, -1, 1).copy(), requires_grad=True)
    wt = torch.tensor(np.moveaxis(np.moveaxis(w, -1, 0), -1, 1).copy(), requires_grad=True)
    pads = []
    if padding == "same":
        for axis in reversed(range(rank)):                     # F.pad: last axis first
            pads += _same_pads(xs[1 + axis], ws[axis], st[axis], dl[axis])
    xp = F.pad(xt, pads) if pads else xt
    conv = F.conv2d if rank == 2 else F.conv1d
    yt = conv(xp, wt, stride=st, dilation=dl, groups=xs[-1] // ws[-2])
    (yt * torch.tensor(np.moveaxis(dy, -1, 1).copy())).sum().backward()
    np.testing.assert_allclose(y, np.moveaxis(yt.detach().numpy(), 1, -1), atol=1e-10)
    np.testing.assert_allclose(dx, np.moveaxis(xt.grad.numpy(), 1, -1), atol=1e-10)
    want_dw = np.moveaxis(np.moveaxis(wt.grad.numpy(), 1, -1), 0, -1)
    np.testing.assert_allclose(dw, want_dw, atol=1e-10)


def test_depthwise_and_separable_match_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, wd, pw = _rand(2, 7, 6, 3, seed=1), _rand(3, 2, 3, 2, seed=2), _rand(1, 1, 6, 4, seed=3)

    def fn(a, b, c):
        return ops.nn.separable_conv(a, b, c, (2, 1), "valid")
    y = fn(x, wd, pw)
    dy = _rand(*y.shape, seed=4)
    _, (dx, dwd, dpw) = _tape(fn, [x, wd, pw], dy)
    xt = torch.tensor(np.moveaxis(x, -1, 1).copy(), requires_grad=True)
    # torch's depthwise weight (c·dm, 1, kh, kw): output channel c·dm + m from input c, as Keras
    wdt = torch.tensor(wd.reshape(3, 2, 6).transpose(2, 0, 1)[:, None].copy(), requires_grad=True)
    pwt = torch.tensor(pw[0, 0].T[:, :, None, None].copy(), requires_grad=True)
    yt = F.conv2d(F.conv2d(xt, wdt, stride=(2, 1), groups=3), pwt)
    (yt * torch.tensor(np.moveaxis(dy, -1, 1).copy())).sum().backward()
    np.testing.assert_allclose(y, np.moveaxis(yt.detach().numpy(), 1, -1), atol=1e-10)
    np.testing.assert_allclose(dx, np.moveaxis(xt.grad.numpy(), 1, -1), atol=1e-10)
    np.testing.assert_allclose(dwd, wdt.grad.numpy()[:, 0].transpose(1, 2, 0).reshape(wd.shape),
                               atol=1e-10)
    np.testing.assert_allclose(dpw, pwt.grad.numpy()[:, :, 0, 0].T[None, None], atol=1e-10)
    np.testing.assert_allclose(ops.nn.depthwise_conv(x, wd, (2, 1)),
                               np.moveaxis(F.conv2d(xt, wdt, stride=(2, 1), groups=3)
                                           .detach().numpy(), 1, -1), atol=1e-10)


@pytest.mark.parametrize("hw, k, s, padding, outpad", [((3, 4), 3, 2, "same", None),
                                                       ((3, 3), 2, 3, "valid", None),
                                                       ((3, 3), 3, 2, "valid", 1),
                                                       ((4, 2), 3, 1, "same", None)])
def test_conv_transpose_matches_torch(hw, k, s, padding, outpad):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, w = _rand(2, *hw, 3, seed=1), _rand(k, k, 2, 3, seed=2)

    def fn(a, b):
        return ops.nn.conv_transpose(a, b, s, padding, outpad)
    y = fn(x, w)
    dy = _rand(*y.shape, seed=3)
    _, (dx, dw) = _tape(fn, [x, w], dy)
    xt = torch.tensor(np.moveaxis(x, -1, 1).copy(), requires_grad=True)
    wt = torch.tensor(w.transpose(3, 2, 0, 1).copy(), requires_grad=True)
    full = F.conv_transpose2d(xt, wt, stride=s)                 # no padding, then crop
    top = _same_pads(y.shape[1], k, s, 1)[0] if padding == "same" else 0
    left = _same_pads(y.shape[2], k, s, 1)[0] if padding == "same" else 0
    out = F.pad(full[:, :, top:, left:], (0, 4, 0, 4))[:, :, :y.shape[1], :y.shape[2]]
    (out * torch.tensor(np.moveaxis(dy, -1, 1).copy())).sum().backward()
    np.testing.assert_allclose(y, np.moveaxis(out.detach().numpy(), 1, -1), atol=1e-10)
    np.testing.assert_allclose(dx, np.moveaxis(xt.grad.numpy(), 1, -1), atol=1e-10)
    np.testing.assert_allclose(dw, wt.grad.numpy().transpose(2, 3, 1, 0), atol=1e-10)


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("shape, pool, strides", [((2, 6, 7, 3), (2, 3), None),
                                                  ((2, 7, 7, 2), 3, 2), ((3, 11, 2), 3, 2)])
def test_valid_pools_match_torch(mode, shape, pool, strides):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = _rand(*shape, seed=1)
    fn = ((lambda a: ops.nn.max_pool(a, pool, strides)) if mode == "max"
          else (lambda a: ops.nn.average_pool(a, pool, strides)))
    y = fn(x)
    dy = _rand(*y.shape, seed=2)
    _, (dx,) = _tape(fn, [x], dy)
    xt = torch.tensor(np.moveaxis(x, -1, 1).copy(), requires_grad=True)
    tfn = {("max", 4): F.max_pool2d, ("avg", 4): F.avg_pool2d, ("max", 3): F.max_pool1d,
           ("avg", 3): F.avg_pool1d}[mode, len(shape)]
    yt = tfn(xt, pool, strides if strides is not None else pool)
    (yt * torch.tensor(np.moveaxis(dy, -1, 1).copy())).sum().backward()
    np.testing.assert_allclose(y, np.moveaxis(yt.detach().numpy(), 1, -1), atol=1e-12)
    np.testing.assert_allclose(dx, np.moveaxis(xt.grad.numpy(), 1, -1), atol=1e-12)


def test_ops_equal_the_layers():
    from kerasnp import layers as L
    x = _rand(2, 7, 6, 3)
    conv = L.Conv2D(4, 3, strides=2, padding="same", use_bias=False)
    want = conv(x)
    np.testing.assert_allclose(ops.nn.conv(x, conv.kernel.value, 2, "same"), want, rtol=1e-6)
    pool = L.MaxPooling2D(3, strides=2, padding="same")
    np.testing.assert_array_equal(ops.nn.max_pool(x, 3, 2, "same"), pool(x))
    avg = L.AveragePooling1D(3, padding="same")
    np.testing.assert_allclose(ops.nn.average_pool(x[:, 0], 3, padding="same"), avg(x[:, 0]))
    tr = L.Conv2DTranspose(2, 3, strides=2, output_padding=1, use_bias=False)
    want = tr(x)
    np.testing.assert_allclose(ops.nn.conv_transpose(x, tr.kernel.value, 2, output_padding=1),
                               want, rtol=1e-6)


# ------------------------------------------------------------------------------ errors, graph
@pytest.mark.parametrize("call, match", [
    (lambda x, w: ops.nn.conv(x[0, 0], w), r"rank 3.*or 4.*Received: inputs.shape=\(5, 2\)"),
    (lambda x, w: ops.nn.conv(x, w[0]), r"kernel must have rank 4.*Received: kernel.shape"),
    (lambda x, w: ops.nn.conv(x, w[:, :, :, :3][:, :, :1].repeat(3, 2)),
     r"multiple of kernel.shape\[-2\]"),
    (lambda x, w: ops.nn.conv(x, w, padding="full"),
     r"padding.*'valid', 'same'.*Received: padding='full'"),
    (lambda x, w: ops.nn.conv(x, w, data_format="channels_first"),
     r"channels_last.*Received: data_format='channels_first'"),
    (lambda x, w: ops.nn.conv(x, w, strides=0), r"strides.*positive integer.*Received"),
    (lambda x, w: ops.nn.conv(x[:, :2, :2], w), r"does not fit.*Received: inputs.shape"),
    (lambda x, w: ops.nn.depthwise_conv(x, w[:, :, :1]), r"kernel.shape\[-2\] must equal the input"),
    (lambda x, w: ops.nn.conv_transpose(x, w[:, :, :, :2], 2, output_padding=2),
     r"output_padding must be smaller than strides"),
    (lambda x, w: ops.nn.max_pool(x, (2, 2, 2)), r"pool_size.*tuple of 2.*Received"),
    (lambda x, w: ops.nn.average_pool(x, 6), r"does not fit"),
])
def test_argument_errors_say_what_was_received(call, match):
    x, w = np.ones((3, 5, 5, 2)), np.ones((3, 3, 2, 4))
    with pytest.raises(ValueError, match=match):
        call(x, w)


def test_ops_on_symbolic_inputs_build_a_functional_model():
    inp = keras.Input((8, 8, 2))
    w = _rand(3, 3, 2, 4).astype("float32")
    h = ops.nn.conv(inp, w, padding="same")
    out = ops.nn.max_pool(h, 2)
    model = keras.Model(inp, out)
    x = _rand(2, 8, 8, 2).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               ops.nn.max_pool(ops.nn.conv(x, w, padding="same"), 2), rtol=1e-6)
    assert model.output_shape == (None, 4, 4, 4)
