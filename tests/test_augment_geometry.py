"""Random warps: shear and perspective coordinates against NumPy references (the homography
maps the moved corners back onto the image corners), elastic fields, seeding, inference
identity, Keras's config keys, errors and tape gradients (the resampling adjoint)."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L
from kerasnp.layers.augment_geometry import blur_planes, gaussian_kernel, homography

from _tape_check import tape_gradient_errors

RNG = np.random.default_rng(2)


def _bilinear_constant(img, rows, cols, fill):
    """Reference bilinear sampling of one (h, w, c) image, taps outside reading `fill`."""
    h, w, _ = img.shape
    out = np.zeros(rows.shape + img.shape[-1:])
    for (i, j), r in np.ndenumerate(rows):
        c = cols[i, j]
        r0, c0 = int(np.floor(r)), int(np.floor(c))
        for rr, wr in ((r0, 1 - (r - r0)), (r0 + 1, r - r0)):
            for cc, wc in ((c0, 1 - (c - c0)), (c0 + 1, c - c0)):
                inside = 0 <= rr < h and 0 <= cc < w
                out[i, j] += wr * wc * (img[rr, cc] if inside else fill)
    return out


def test_shear_reads_sheared_coordinates():
    x = RNG.uniform(0, 1, (3, 5, 6, 2))
    layer = L.RandomShear(x_factor=(0.3, 0.3), y_factor=(0.2, 0.2), fill_mode="constant",
                          fill_value=0.25, seed=4)
    y = layer(x, training=True)
    r, c = np.meshgrid(np.arange(5.0), np.arange(6.0), indexing="ij")
    for i in range(3):
        cands = [_bilinear_constant(x[i], r + s * 0.2 * c, c + s * 0.3 * r, 0.25)
                 for s in (1, -1)]
        assert min(np.abs(ref - y[i]).max() for ref in cands) < 1e-12


def test_shear_number_factor_is_symmetric_range():
    layer = L.RandomShear(0.2, (-0.1, 0.3))
    assert layer.x_factor == [-0.2, 0.2] and layer.y_factor == [-0.1, 0.3]
    # Keras 3.15.1 writes (-0.2, 0.2), which its own constructor refuses: the number loads in
    # both.
    assert layer.get_config()["x_factor"] == 0.2 and layer.get_config()["y_factor"] == [-0.1, 0.3]


def test_homography_maps_end_corners_to_start_corners():
    start = np.tile(np.array([[0.0, 0.0], [6, 0], [0, 4], [6, 4]]), (2, 1, 1))
    end = start + start * RNG.uniform(-0.3, 0.3, (2, 4, 2))
    a = homography(start, end)
    for k in range(4):
        ex, ey = end[:, k].T
        den = a[:, 6] * ex + a[:, 7] * ey + 1
        np.testing.assert_allclose((a[:, 0] * ex + a[:, 1] * ey + a[:, 2]) / den, start[:, k, 0],
                                   atol=1e-10)
        np.testing.assert_allclose((a[:, 3] * ex + a[:, 4] * ey + a[:, 5]) / den, start[:, k, 1],
                                   atol=1e-10)


def test_perspective_identity_without_warp_and_probability_zero():
    x = RNG.uniform(0, 255, (2, 4, 5, 3))
    np.testing.assert_allclose(L.RandomPerspective(scale=0.0)(x, training=True), x, atol=1e-9)
    np.testing.assert_array_equal(L.RandomPerspective(factor=0.0)(x, training=True), x)


def test_perspective_warps_corners_and_fills_constant():
    x = RNG.uniform(0, 1, (4, 8, 8, 1))
    y = L.RandomPerspective(factor=(1.0, 1.0), scale=1.0, fill_value=-5.0, seed=0)(
        x, training=True)
    assert not np.allclose(y, x)
    assert (y == -5.0).any() or (y < 0).any()            # some pixels read the fill


def test_gaussian_kernel_and_blur():
    k = gaussian_kernel(5, 1.2)
    t = np.arange(5) - 2
    np.testing.assert_allclose(k, np.exp(-t ** 2 / (2 * 1.44)) / np.exp(-t ** 2 / 2.88).sum())
    a = RNG.standard_normal((1, 6, 7))
    ref = np.zeros_like(a)
    p = np.pad(a, ((0, 0), (2, 2), (2, 2)))
    for i in range(5):
        for j in range(5):
            ref += k[i] * k[j] * p[:, i:i + 6, j:j + 7]
    np.testing.assert_allclose(blur_planes(a, k, k), ref, atol=1e-12)


def test_elastic_transform_moves_pixels_smoothly_and_clips():
    x = RNG.uniform(0, 255, (2, 24, 24, 1))
    y = L.RandomElasticTransform(factor=(1.0, 1.0), scale=(1.0, 1.0), seed=1)(x, training=True)
    assert not np.allclose(y, x) and y.min() >= 0 and y.max() <= 255
    np.testing.assert_array_equal(L.RandomElasticTransform(scale=0.0)(x, training=True), x)
    np.testing.assert_array_equal(L.RandomElasticTransform(factor=0.0)(x, training=True), x)


LAYERS = {
    "RandomShear": lambda s: L.RandomShear(0.3, 0.3, seed=s),
    "RandomPerspective": lambda s: L.RandomPerspective(0.9, 0.5, seed=s),
    "RandomElasticTransform": lambda s: L.RandomElasticTransform(1.0, 1.0, seed=s),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_seeded_reproducible_and_identity_at_inference(name):
    x = RNG.uniform(0, 255, (4, 12, 12, 3)).astype("float32")
    a, b = LAYERS[name](7)(x, training=True), LAYERS[name](7)(x, training=True)
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and a.dtype == np.float32 and not np.allclose(a, x)
    np.testing.assert_array_equal(LAYERS[name](7)(x), x)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_gradients_match_central_differences(name):
    x = RNG.uniform(50, 200, (2, 6, 6, 1))
    errors = tape_gradient_errors(LAYERS[name](3), x, training=True)
    assert max(errors.values()) < 1e-6, errors


# Verified with Keras 3.15.1 (get_config minus name/trainable/dtype).
@pytest.mark.parametrize("layer, expected", [
    (L.RandomShear(0.2, 0.1), {"data_format": "channels_last", "x_factor": 0.2,
                               "y_factor": 0.1, "fill_mode": "reflect",
                               "interpolation": "bilinear", "seed": None, "fill_value": 0.0}),
    (L.RandomPerspective(), {"data_format": "channels_last", "factor": [0, 1.0], "scale": 1.0,
                             "interpolation": "bilinear", "fill_value": 0.0, "seed": None}),
    (L.RandomElasticTransform(), {"data_format": "channels_last", "factor": [0, 1.0],
                                  "scale": [0, 1.0], "interpolation": "bilinear",
                                  "fill_mode": "reflect", "fill_value": 0.0,
                                  "value_range": [0, 255], "seed": None}),
])
def test_config_matches_keras(layer, expected):
    cfg = layer.get_config()
    assert {k: v for k, v in cfg.items() if k not in ("name", "trainable", "dtype")} == expected
    assert type(layer).from_config(cfg).get_config() == cfg


@pytest.mark.parametrize("make, match", [
    (lambda: L.RandomShear(x_factor=1.5), r"RandomShear.*x_factor=1\.5"),
    (lambda: L.RandomShear(y_factor=(0.1, -1.3)), r"y_factor=\(0\.1, -1\.3\)"),
    (lambda: L.RandomShear(fill_mode="mirror"), r"fill_mode"),
    (lambda: L.RandomPerspective(scale=2.0), r"RandomPerspective.*scale"),
    (lambda: L.RandomPerspective(factor=-1), r"factor=-1"),
    (lambda: L.RandomElasticTransform(scale=(0, 3)), r"RandomElasticTransform.*scale"),
    (lambda: L.RandomElasticTransform(interpolation="bicubic"), r"interpolation"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_in_a_model():
    model = keras.Sequential([keras.Input((8, 8, 3)), L.RandomShear(0.2, seed=0),
                              L.RandomPerspective(seed=0), L.RandomElasticTransform(seed=0)])
    x = RNG.uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
