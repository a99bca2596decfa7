"""The newer `ops.nn` ops: values against torch.nn.functional / NumPy references in float64,
gradients against central differences, Keras's layouts and defaults, errors."""
import numpy as np
import pytest

from kerasnp import ops
from tests._ops_check import check_grad

torch = pytest.importorskip("torch")
F = torch.nn.functional
rng = np.random.default_rng(0)
# Away from the kinks (±0.5, ±1), so central differences are valid.
X = np.array([[-2.3, -1.4, -0.8, -0.3, 0.2, 0.7], [0.9, 1.2, 2.5, -0.1, 0.35, -0.65]])


def _t(a):
    return torch.tensor(a, dtype=torch.float64)


def test_in_ops_nn():
    for name in ["celu", "glu", "hard_shrink", "hard_tanh", "soft_shrink", "sparse_plus",
                 "sparse_sigmoid", "sparsemax", "squareplus", "tanh_shrink", "threshold",
                 "layer_normalization", "rms_normalization", "psnr", "multi_hot",
                 "depth_to_space", "space_to_depth", "adaptive_average_pool",
                 "adaptive_max_pool", "fold", "unfold"]:
        assert getattr(ops.nn, name) is getattr(ops, name)


def test_activations_against_torch_and_numpy():
    t = _t(X)
    cases = [
        (ops.celu(X, alpha=0.7), F.celu(t, alpha=0.7)),
        (ops.glu(X), F.glu(t, dim=-1)),
        (ops.glu(X.T, axis=0), F.glu(t.T, dim=0)),
        (ops.hard_shrink(X), F.hardshrink(t, 0.5)),
        (ops.hard_shrink(X, threshold=1.0), F.hardshrink(t, 1.0)),
        (ops.hard_tanh(X), F.hardtanh(t)),
        (ops.soft_shrink(X), F.softshrink(t, 0.5)),
        (ops.tanh_shrink(X), F.tanhshrink(t)),
        (ops.threshold(X, 0.25, -3.0), F.threshold(t, 0.25, -3.0)),
    ]
    for got, want in cases:
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ops.squareplus(X), (X + np.sqrt(X * X + 4)) / 2)
    np.testing.assert_allclose(ops.squareplus(X, b=1), (X + np.sqrt(X * X + 1)) / 2)
    sp = np.where(X <= -1, 0, np.where(X < 1, (X + 1) ** 2 / 4, X))
    np.testing.assert_allclose(ops.sparse_plus(X), sp)
    np.testing.assert_allclose(ops.sparse_sigmoid(X), np.clip((X + 1) / 2, 0, 1))


def _sparsemax_ref(z):
    """Sort-based projection onto the simplex, row by row."""
    out = np.zeros_like(z)
    for i, row in enumerate(z):
        s = np.sort(row)[::-1]
        k = np.arange(1, len(s) + 1)
        kk = k[1 + k * s > np.cumsum(s)].max()
        tau = (s[:kk].sum() - 1) / kk
        out[i] = np.maximum(row - tau, 0)
    return out


def test_sparsemax():
    z = rng.standard_normal((4, 5))
    y = ops.sparsemax(z)
    np.testing.assert_allclose(y, _sparsemax_ref(z), atol=1e-12)
    np.testing.assert_allclose(y.sum(-1), 1.0)
    np.testing.assert_allclose(ops.sparsemax(z.T, axis=0), _sparsemax_ref(z).T, atol=1e-12)
    np.testing.assert_allclose(ops.sparsemax(np.array([[1.0, 2.0, 3.0]])), [[0, 0, 1]])


def test_activation_gradients():
    for f in [lambda x: ops.celu(x, alpha=0.7), ops.glu, lambda x: ops.glu(x, axis=0),
              ops.hard_shrink, ops.hard_tanh, ops.soft_shrink, ops.tanh_shrink,
              lambda x: ops.squareplus(x, b=2), ops.sparse_plus, ops.sparse_sigmoid,
              lambda x: ops.threshold(x, 0.25, -3.0), ops.sparsemax,
              lambda x: ops.sparsemax(x, axis=0)]:
        check_grad(f, X)


def test_normalizations():
    x = rng.standard_normal((2, 3, 4))
    g, b = rng.standard_normal(4), rng.standard_normal(4)
    want = F.layer_norm(_t(x), (4,), _t(g), _t(b), eps=1e-7)
    np.testing.assert_allclose(ops.layer_normalization(x, g, b), want, rtol=1e-10)
    want = F.layer_norm(_t(x), (3, 4), eps=1e-3)
    np.testing.assert_allclose(ops.layer_normalization(x, axis=(1, 2), epsilon=1e-3), want,
                               rtol=1e-10)
    want = F.rms_norm(_t(x), (4,), _t(g), eps=1e-7)
    np.testing.assert_allclose(ops.rms_normalization(x, g), want, rtol=1e-10)
    g1 = rng.standard_normal(3)          # a 1-D parameter for a middle axis broadcasts there
    ref = x / np.sqrt((x * x).mean(1, keepdims=True) + 1e-7) * g1[:, None]
    np.testing.assert_allclose(ops.rms_normalization(x, g1, axis=1), ref, rtol=1e-10)
    check_grad(lambda x, g, b: ops.layer_normalization(x, g, b), x, g, b)
    check_grad(lambda x: ops.layer_normalization(x, axis=(1, 2), epsilon=1e-3), x)
    check_grad(lambda x, g: ops.rms_normalization(x, g), x, g)
    check_grad(lambda x, g: ops.rms_normalization(x, g, axis=1), x, g1)


def test_psnr_and_multi_hot():
    a, b = rng.random((2, 4, 4, 3)), rng.random((2, 4, 4, 3))
    want = 20 * np.log10(1.0) - 10 * np.log10(np.mean((a - b) ** 2))
    np.testing.assert_allclose(ops.psnr(a, b, 1.0), want)
    np.testing.assert_allclose(ops.psnr(a, a + 1, 255.0), 20 * np.log10(255.0))
    check_grad(lambda a, b: ops.psnr(a, b, 2.0), a[0, :2], b[0, :2])
    mh = ops.multi_hot(np.array([[0, 2], [1, 1]]), 4)
    np.testing.assert_array_equal(mh, [[1, 0, 1, 0], [0, 1, 0, 0]])
    assert mh.dtype == np.float32
    np.testing.assert_array_equal(ops.multi_hot(np.array([0, 2]), 4), [1, 0, 1, 0])
    with pytest.raises(ValueError, match="psnr: x1 and x2 must have the same shape"):
        ops.psnr(a, b[0], 1.0)


def test_depth_space_layouts():
    # Keras's layouts (checked with Keras 3.15, torch backend): channels-last splits the
    # channels as (block_row, block_col, c); channels-first as (c, block_row, block_col).
    d = np.arange(16.0).reshape(1, 1, 1, 16)
    np.testing.assert_array_equal(ops.depth_to_space(d, 2)[0, :, :, 0], [[0, 4], [8, 12]])
    x = rng.standard_normal((2, 8, 3, 4))
    want = F.pixel_shuffle(_t(x), 2).numpy()
    np.testing.assert_allclose(ops.depth_to_space(x, 2, data_format="channels_first"), want)
    np.testing.assert_allclose(ops.space_to_depth(want, 2, data_format="channels_first"), x)
    xl = rng.standard_normal((2, 4, 6, 3))
    np.testing.assert_allclose(ops.depth_to_space(ops.space_to_depth(xl, 2), 2), xl)
    assert ops.space_to_depth(xl, 2).shape == (2, 2, 3, 12)
    np.testing.assert_array_equal(
        ops.space_to_depth(np.arange(8.0).reshape(1, 2, 2, 2), 2)[0, 0, 0], np.arange(8.0))
    check_grad(lambda x: ops.space_to_depth(x, 2), xl[:1, :, :4])
    check_grad(lambda x: ops.depth_to_space(x, 2, data_format="channels_first"), x[:1])
    with pytest.raises(ValueError, match="depth_to_space: the channels must be divisible by 4"):
        ops.depth_to_space(np.ones((1, 2, 2, 3)), 2)


@pytest.mark.parametrize("kind", ["average", "max"])
def test_adaptive_pools_against_torch(kind):
    op = ops.adaptive_average_pool if kind == "average" else ops.adaptive_max_pool
    tf = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d} \
        if kind == "average" else \
        {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}
    for shape, out in [((2, 7, 3), 3), ((2, 7, 5, 2), (3, 2)), ((1, 5, 4, 3, 2), (2, 3, 2))]:
        x = rng.standard_normal(shape)
        want = tf[len(shape) - 2](_t(np.moveaxis(x, -1, 1)), out).numpy()
        np.testing.assert_allclose(op(x, out), np.moveaxis(want, 1, -1), rtol=1e-12)
        np.testing.assert_allclose(op(np.moveaxis(x, -1, 1), out, data_format="channels_first"),
                                   want, rtol=1e-12)
    check_grad(lambda x: op(x, (3, 2)), rng.standard_normal((2, 7, 5, 2)))
    with pytest.raises(ValueError, match="output_size must be a positive int or 2"):
        op(np.ones((1, 4, 4, 1)), (2, 2, 2))


def test_unfold_fold_against_torch():
    x = rng.standard_normal((2, 3, 6, 7))
    for kw in [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=(1, 2), padding=1,
                                          stride=(2, 1))]:
        cols = ops.unfold(x, **kw)
        want = F.unfold(_t(x), **kw).numpy()
        np.testing.assert_allclose(cols, want)
        np.testing.assert_allclose(ops.fold(want, (6, 7), **kw),
                                   F.fold(_t(want), (6, 7), **kw).numpy())
        check_grad(lambda x: ops.unfold(x, **kw), x[:1, :2])
        check_grad(lambda c: ops.fold(c, (6, 7), **kw), want[:1])
    with pytest.raises(ValueError, match=r"unfold: expected a 4-D \(N, C, H, W\) input"):
        ops.unfold(np.ones((3, 4, 4)), 2)
    with pytest.raises(ValueError, match="fold: expected input"):
        ops.fold(np.ones((1, 4, 3)), (4, 4), 2)


def test_errors():
    with pytest.raises(ValueError, match="glu: the size of axis -1 must be even"):
        ops.glu(np.ones((2, 3)))
    with pytest.raises(ValueError, match="data_format must be 'channels_last' or"):
        ops.adaptive_max_pool(np.ones((1, 4, 4, 1)), 2, data_format="nhwc")
    with pytest.raises(ValueError, match="multi_hot: num_classes is required"):
        ops.multi_hot(np.array([0, 1]))
    np.testing.assert_array_equal(ops.multi_hot(np.array([0, 1]), num_tokens=3), [1, 1, 0])
    with pytest.raises(ValueError, match="use ops.rms_normalization"):
        ops.layer_normalization(X, rms_scaling=True)
    with pytest.raises(TypeError, match="layer_normalization: unexpected arguments"):
        ops.layer_normalization(X, center=False)


def test_on_symbolic_tensors_in_a_functional_model():
    import kerasnp
    inp = kerasnp.Input((6,))
    model = kerasnp.Model(inp, [ops.sparsemax(inp), ops.glu(inp), ops.layer_normalization(inp)])
    out = model(X)
    np.testing.assert_allclose(out[0], ops.sparsemax(X))
    assert out[1].shape == (2, 3)
    np.testing.assert_allclose(out[2], ops.layer_normalization(X))
