"""ops.image: values against torch (interpolate, unfold, conv2d, grid arithmetic) and NumPy
references in float64, Keras's layouts (checked with Keras 3.15, torch backend), gradients
against central differences, errors."""
import numpy as np
import pytest

from kerasnp import ops
from tests._ops_check import check_grad

torch = pytest.importorskip("torch")
F = torch.nn.functional
I = ops.image
rng = np.random.default_rng(0)
X = rng.random((2, 7, 9, 3))


def _nchw(a):
    return torch.tensor(np.moveaxis(a, -1, 1))


def _nhwc(t):
    return np.moveaxis(t.numpy(), 1, -1)


def test_namespace():
    assert set(I.__all__) == {"affine_transform", "crop_images", "extract_patches",
                              "gaussian_blur", "hsv_to_rgb", "map_coordinates", "pad_images",
                              "resize", "rgb_to_grayscale", "rgb_to_hsv", "sobel_edges", "ssim",
                              "extract_patches_3d", "scale_and_translate",
                              "perspective_transform", "elastic_transform"}
    assert not hasattr(ops, "resize")                     # as Keras: only under ops.image


def test_colour_conversions():
    gray = I.rgb_to_grayscale(X)
    np.testing.assert_allclose(gray[..., 0], X @ np.array([0.2989, 0.5870, 0.1140]))
    assert I.rgb_to_grayscale(np.moveaxis(X, -1, 1), data_format="channels_first").shape == \
        (2, 1, 7, 9)
    hsv = I.rgb_to_hsv(X)
    import colorsys
    for idx in [(0, 0, 0), (1, 3, 4), (0, 6, 8)]:
        np.testing.assert_allclose(hsv[idx], colorsys.rgb_to_hsv(*X[idx]), atol=1e-12)
    np.testing.assert_allclose(I.hsv_to_rgb(hsv), X, atol=1e-12)
    check_grad(I.rgb_to_grayscale, X[0, :2, :2])
    check_grad(I.rgb_to_hsv, X[0, :2, :2])
    check_grad(I.hsv_to_rgb, X[0, :2, :2])
    with pytest.raises(ValueError, match="rgb_to_grayscale: expected 3 channels"):
        I.rgb_to_grayscale(X[..., :2])


def test_pad_and_crop():
    y = I.pad_images(X, 1, 2, target_height=10, right_padding=0)
    np.testing.assert_array_equal(y, np.pad(X, [(0, 0), (1, 2), (2, 0), (0, 0)]))
    y = I.crop_images(X, 1, 2, target_height=4, right_cropping=1)
    np.testing.assert_array_equal(y, X[:, 1:5, 2:8])
    check_grad(lambda x: I.pad_images(x, 1, 1, 1, 1), X[0, :3, :3])
    check_grad(lambda x: I.crop_images(x, 1, 0, 1, 1), X[0, :4, :4])
    with pytest.raises(ValueError, match="pad_images: give exactly two of the padding"):
        I.pad_images(X, 1, 1, 1, 1, target_height=12)
    with pytest.raises(ValueError, match="crop_images: the cropping must be >= 0"):
        I.crop_images(X, 5, 0, 5, 0)


@pytest.mark.parametrize("method", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("antialias", [False, True])
def test_resize_against_torch_interpolate(method, antialias):
    mode = "nearest-exact" if method == "nearest" else method
    for size in [(3, 4), (11, 13), (7, 5)]:
        aa = antialias and method != "nearest"
        want = F.interpolate(_nchw(X), size=size, mode=mode, antialias=aa,
                             **({} if method == "nearest" else {"align_corners": False}))
        np.testing.assert_allclose(I.resize(X, size, interpolation=method, antialias=antialias),
                                   _nhwc(want), atol=1e-12)
    check_grad(lambda x: I.resize(x, (3, 5), interpolation=method, antialias=antialias),
               X[:1, :5, :4, :2])


def test_resize_aspect_ratio_and_errors():
    y = I.resize(X, (4, 4), crop_to_aspect_ratio=True)      # centre 7x7 crop, then resize
    np.testing.assert_allclose(y, I.resize(X[:, :, 1:8], (4, 4)), atol=1e-12)
    y = I.resize(X, (4, 4), pad_to_aspect_ratio=True, fill_value=0.5)
    padded = np.pad(X, [(0, 0), (1, 1), (0, 0), (0, 0)], constant_values=0.5)
    np.testing.assert_allclose(y, I.resize(padded, (4, 4)), atol=1e-12)
    with pytest.raises(ValueError, match="resize: interpolation must be one of"):
        I.resize(X, (2, 2), interpolation="lanczos3")
    with pytest.raises(ValueError, match="only one of crop_to_aspect_ratio"):
        I.resize(X, (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="expected rank 3 .* or rank 4"):
        I.resize(X[0, 0], (2, 2))


def test_extract_patches():
    # Keras's layout: (patch_row, patch_col, channel) flattened into the last axis.
    x = np.arange(2 * 4 * 4 * 2, dtype=float).reshape(2, 4, 4, 2)
    np.testing.assert_array_equal(I.extract_patches(x, 2)[0, 0, 0], [0, 1, 2, 3, 8, 9, 10, 11])
    for kw in [dict(size=2), dict(size=(2, 3), strides=(1, 2)), dict(size=2, dilation_rate=2,
                                                                        strides=1)]:
        k = (kw["size"],) * 2 if np.isscalar(kw["size"]) else kw["size"]
        s = kw.get("strides", k)
        s = (s,) * 2 if np.isscalar(s) else s
        cols = F.unfold(_nchw(X), k, dilation=kw.get("dilation_rate", 1), stride=s)
        p = I.extract_patches(X, **kw)
        want = cols.reshape(2, 3, k[0], k[1], p.shape[1], p.shape[2]).permute(0, 4, 5, 2, 3, 1)
        np.testing.assert_allclose(p, want.reshape(p.shape).numpy())
    same = I.extract_patches(X, 3, strides=2, padding="same")  # TF split: (0, 1) rows here
    assert same.shape == (2, 4, 5, 27)
    np.testing.assert_allclose(same[0, 0, 0].reshape(3, 3, 3)[1:, 1:], X[0, :2, :2])
    check_grad(lambda x: I.extract_patches(x, 3, strides=2, padding="same"), X[:1, :5, :4, :2])
    check_grad(lambda x: I.extract_patches(x, 2, strides=1), X[0, :4, :4, :2])


def test_gaussian_blur_against_conv2d():
    def kern(n, s):
        t = np.arange(n) - (n - 1) / 2
        k = np.exp(-0.5 * (t / s) ** 2)
        return k / k.sum()
    # Keras's reference: kernel_size[0]/sigma[0] along the width, [1] along the height.
    k2 = np.outer(kern(5, 2.0), kern(3, 1.0))
    w = torch.tensor(np.tile(k2, (3, 1, 1, 1)))
    want = F.conv2d(_nchw(X), w, padding=(2, 1), groups=3)
    np.testing.assert_allclose(I.gaussian_blur(X, (3, 5), (1.0, 2.0)), _nhwc(want), atol=1e-12)
    check_grad(lambda x: I.gaussian_blur(x, (3, 5), (1.0, 2.0)), X[0, :5, :4, :1])


M = np.arange(12.0).reshape(3, 4)
CO = np.array([[-0.6, 2.7, 3.5, -1.5], [0.5, 3.4, 1.0, 4.2]])


def test_map_coordinates_fill_modes():
    # Values computed with Keras 3.15 (torch backend), fill_value=-1.
    want = {"constant": [-0.4, 1.16, -1.0, -1.0], "nearest": [0.5, 11.0, 9.0, 3.0],
            "wrap": [5.3, 4.2, 3.0, 6.2], "mirror": [2.9, 7.8, 3.0, 7.8],
            "reflect": [0.5, 11.0, 7.0, 4.8]}
    for mode, w in want.items():
        np.testing.assert_allclose(I.map_coordinates(M, CO, 1, fill_mode=mode, fill_value=-1),
                                   w, atol=1e-12)
    np.testing.assert_allclose(I.map_coordinates(M, np.array([[0.5, 1.5], [0.5, 2.5]]), 0),
                               [0.0, 10.0])                   # halves round to even
    co = np.array([[0.3, 1.7, 0.2], [0.6, 2.2, 2.9]])
    check_grad(lambda m, c: I.map_coordinates(m, c, 1, fill_mode="nearest"), M, co)
    check_grad(lambda m: I.map_coordinates(m, co, 0), M)
    with pytest.raises(ValueError, match="map_coordinates: order must be 0 or 1"):
        I.map_coordinates(M, CO, 3)
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        I.map_coordinates(M, CO, 1, fill_mode="edge")
    with pytest.raises(ValueError, match=r"coordinates must have shape \(2, \.\.\.\)"):
        I.map_coordinates(M, CO[:1], 1)


def test_affine_transform():
    img = rng.random((2, 5, 6, 2))
    shift = np.array([1, 0, 0.5, 0, 1, -0.7, 0, 0.0])
    y = I.affine_transform(img, shift)
    xx, yy = np.meshgrid(np.arange(6), np.arange(5))
    for c in range(2):
        want = I.map_coordinates(img[0, :, :, c], np.stack([yy - 0.7, xx + 0.5]), 1)
        np.testing.assert_allclose(y[0, :, :, c], want, atol=1e-12)
    np.testing.assert_allclose(I.affine_transform(img, np.array([1, 0, 0, 0, 1, 0, 0, 0.0])),
                               img, atol=1e-12)
    zoom = np.array([2.0, 0, 0, 0, 2.0, 0, 0, 0])           # output (x, y) reads input (2x, 2y)
    np.testing.assert_allclose(I.affine_transform(img, zoom, interpolation="nearest")[:, :3, :3],
                               img[:, ::2, ::2], atol=1e-12)
    tr = np.array([[1, 0.1, 0.5, 0, 1, -0.7, 0, 0], [0.9, -0.2, 1.3, 0.1, 1.1, -0.2, 0, 0]])
    check_grad(lambda x: I.affine_transform(x, tr, fill_mode="reflect"), img[:, :3, :4, :1])
    with pytest.raises(ValueError, match=r"transform must have shape \(8,\) or \(batch, 8\)"):
        I.affine_transform(img, np.ones(6))


def test_sobel_edges_against_conv2d():
    kx = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    t = _nchw(X)
    gx = F.conv2d(t, torch.tensor(np.tile(kx, (3, 1, 1, 1))), padding=1, groups=3)
    gy = F.conv2d(t, torch.tensor(np.tile(kx.T, (3, 1, 1, 1))), padding=1, groups=3)
    want = np.stack([_nhwc(gy), _nhwc(gx)], axis=-1)           # Keras's order: [d/dy, d/dx]
    np.testing.assert_allclose(I.sobel_edges(X), want, atol=1e-12)
    cf = I.sobel_edges(np.moveaxis(X, -1, 1), data_format="channels_first")
    np.testing.assert_allclose(cf, np.moveaxis(want, 3, 1), atol=1e-12)
    check_grad(I.sobel_edges, X[:1, :4, :5, :2])


def _ssim_ref(a, b, max_val=1.0, size=11, sigma=1.5):
    t = np.arange(size) - (size - 1) / 2
    g = np.exp(-t * t / (2 * sigma * sigma))
    g /= g.sum()
    k = torch.tensor(np.tile(np.outer(g, g), (a.shape[-1], 1, 1, 1)))

    def filt(v):
        return F.conv2d(_nchw(v), k, groups=a.shape[-1]).numpy()
    c1, c2 = (0.01 * max_val) ** 2, (0.03 * max_val) ** 2
    m1, m2 = filt(a), filt(b)
    s11, s22, s12 = filt(a * a) - m1 ** 2, filt(b * b) - m2 ** 2, filt(a * b) - m1 * m2
    ssim_map = (2 * m1 * m2 + c1) * (2 * s12 + c2) / ((m1 ** 2 + m2 ** 2 + c1) * (s11 + s22 + c2))
    return ssim_map.mean(axis=(1, 2, 3))


def test_ssim():
    a = rng.random((2, 13, 14, 3))
    b = np.clip(a + 0.1 * rng.standard_normal(a.shape), 0, 1)
    np.testing.assert_allclose(I.ssim(a, b), _ssim_ref(a, b), rtol=1e-10)
    np.testing.assert_allclose(I.ssim(a, a), [1.0, 1.0])
    single = I.ssim(a[0], b[0], max_val=2.0, filter_size=7)
    assert np.ndim(single) == 0
    np.testing.assert_allclose(single, _ssim_ref(a[:1], b[:1], 2.0, 7)[0], rtol=1e-10)
    check_grad(lambda p, q: I.ssim(p, q, filter_size=3), a[:1, :4, :5, :2], b[:1, :4, :5, :2])
    with pytest.raises(ValueError, match="ssim: the images .* must be at least filter_size=11"):
        I.ssim(a[:, :5], b[:, :5])


def _patches_3d_ref(v, k, s, d):
    """Loop reference: (depth, row, column, channel) order, valid padding."""
    n, dd, hh, ww, c = v.shape
    outs = [(size - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i, size in enumerate((dd, hh, ww))]
    out = np.zeros((n, *outs, k[0] * k[1] * k[2] * c))
    for o in np.ndindex(*outs):
        patch = [v[:, o[0] * s[0] + i * d[0], o[1] * s[1] + j * d[1], o[2] * s[2] + m * d[2]]
                 for i in range(k[0]) for j in range(k[1]) for m in range(k[2])]
        out[(slice(None),) + o] = np.concatenate(patch, axis=-1)
    return out


def test_extract_patches_3d():
    v = rng.random((2, 5, 6, 7, 2))
    np.testing.assert_array_equal(I.extract_patches_3d(v, 2), _patches_3d_ref(v, (2,) * 3,
                                                                              (2,) * 3, (1,) * 3))
    got = I.extract_patches_3d(v, (2, 3, 2), strides=(1, 2, 3), dilation_rate=1)
    np.testing.assert_array_equal(got, _patches_3d_ref(v, (2, 3, 2), (1, 2, 3), (1, 1, 1)))
    got = I.extract_patches_3d(v, 2, strides=1, dilation_rate=2)
    np.testing.assert_array_equal(got, _patches_3d_ref(v, (2,) * 3, (1,) * 3, (2,) * 3))
    assert I.extract_patches_3d(v, 3, strides=2, padding="same").shape == (2, 3, 3, 4, 54)
    check_grad(lambda x: I.extract_patches_3d(x, 2, strides=1, padding="same"),
               v[:1, :3, :3, :2, :1])
    with pytest.raises(ValueError, match="extract_patches_3d: expected rank 4"):
        I.extract_patches_3d(v[0, 0], 2)


def test_scale_and_translate():
    x = rng.random((2, 7, 9, 3))
    same = I.scale_and_translate(x, x.shape, np.ones(2), np.zeros(2), (1, 2), "linear")
    np.testing.assert_allclose(same, x, atol=1e-12)
    # Upscaling with the triangle kernel is half-pixel bilinear resizing.
    up = I.scale_and_translate(x, (2, 11, 13, 3), np.array([11 / 7, 13 / 9]), np.zeros(2),
                               (1, 2), "bilinear", antialias=False)
    np.testing.assert_allclose(up, I.resize(x, (11, 13)), atol=1e-12)
    # A loop reference of the definition (triangle kernel widened by 1/scale, normalised).
    out = I.scale_and_translate(x[0, :, 0, 0], (4,), np.array([0.5]), np.array([0.3]), (0,),
                                "linear")
    want = []
    for o in range(4):
        pos = (o + 0.5) / 0.5 - 0.3 / 0.5 - 0.5
        w = np.maximum(0, 1 - np.abs(pos - np.arange(7)) / 2.0)
        want.append((w / w.sum()) @ x[0, :, 0, 0] if -0.5 <= pos <= 6.5 else 0.0)
    np.testing.assert_allclose(out, want, atol=1e-12)
    for method in ("linear", "cubic", "lanczos3"):
        check_grad(lambda v: I.scale_and_translate(v, (1, 3, 5, 1), np.array([0.6, 1.4]),
                                                   np.array([0.2, -0.4]), (1, 2), method),
                   x[:1, :4, :4, :1])
    with pytest.raises(ValueError, match="scale_and_translate: method must be one of"):
        I.scale_and_translate(x, x.shape, np.ones(2), np.zeros(2), (1, 2), "nearest")


def test_perspective_transform():
    from kerasnp.ops._image_warp_extra import homography
    img = rng.random((2, 5, 7, 2))
    pts = np.array([[0, 0], [6, 0], [0, 4], [6, 4.0]])
    np.testing.assert_allclose(I.perspective_transform(img, pts, pts), img, atol=1e-12)
    shifted = I.perspective_transform(img, pts, pts + [1.0, 0.0], fill_value=0.5)
    np.testing.assert_allclose(shifted[:, :, 1:], img[:, :, :-1], atol=1e-12)
    np.testing.assert_allclose(shifted[:, :, 0], 0.5)
    end = pts + np.array([[0.5, 0.2], [-0.3, 0.1], [0.2, -0.4], [0.1, 0.3]])
    t = homography(pts[None], end[None])[0]                     # end points map onto start
    k = t[6] * end[:, 0] + t[7] * end[:, 1] + 1
    np.testing.assert_allclose((t[0] * end[:, 0] + t[1] * end[:, 1] + t[2]) / k, pts[:, 0],
                               atol=1e-12)
    np.testing.assert_allclose((t[3] * end[:, 0] + t[4] * end[:, 1] + t[5]) / k, pts[:, 1],
                               atol=1e-12)
    np.testing.assert_allclose(I.perspective_transform(img, pts, end),
                               I.affine_transform(img, t), atol=1e-12)
    check_grad(lambda x: I.perspective_transform(x, pts / 2, end / 2), img[:1, :3, :4, :1])
    with pytest.raises(ValueError, match="three of them are collinear"):
        I.perspective_transform(img, np.array([[0, 0], [1, 1], [2, 2], [3, 3.0]]), pts)
    with pytest.raises(ValueError, match=r"start_points must have shape \(4, 2\)"):
        I.perspective_transform(img, pts[:3], pts[:3])


def test_elastic_transform():
    img = rng.random((2, 8, 9, 2))
    a = I.elastic_transform(img, alpha=3.0, sigma=1.0, seed=1)
    np.testing.assert_array_equal(a, I.elastic_transform(img, alpha=3.0, sigma=1.0, seed=1))
    np.testing.assert_allclose(I.elastic_transform(img, alpha=0.0, seed=2), img, atol=1e-12)
    # Reference: the same draws (N(0, 1)·sigma, x then y), a 'same' zero-padded Gaussian blur
    # with int(6·sigma) | 1 taps, then map_coordinates with reflect filling.
    gen = np.random.default_rng(1)
    for b in range(2):
        dx = I.gaussian_blur(gen.standard_normal((8, 9, 1)), (7, 7), (1.0, 1.0))[..., 0]
        dy = I.gaussian_blur(gen.standard_normal((8, 9, 1)), (7, 7), (1.0, 1.0))[..., 0]
        yy, xx = np.meshgrid(np.arange(8), np.arange(9), indexing="ij")
        for c in range(2):
            want = I.map_coordinates(img[b, ..., c], np.stack([yy + 3 * dy, xx + 3 * dx]), 1,
                                     fill_mode="reflect")
            np.testing.assert_allclose(a[b, ..., c], want, atol=1e-12)
    check_grad(lambda x: I.elastic_transform(x, alpha=2.0, sigma=1.0, seed=3),
               img[:1, :4, :5, :1])
    with pytest.raises(ValueError, match="elastic_transform: sigma must be > 0"):
        I.elastic_transform(img, sigma=0.0)


def test_on_symbolic_tensors_in_a_functional_model():
    import kerasnp
    inp = kerasnp.Input((7, 9, 3))
    y = I.resize(inp, (4, 5))
    assert tuple(y.shape) == (None, 4, 5, 3)
    model = kerasnp.Model(inp, [y, I.rgb_to_grayscale(inp)])
    out = model(X)
    np.testing.assert_allclose(out[0], I.resize(X, (4, 5)))
    assert out[1].shape == (2, 7, 9, 1)
