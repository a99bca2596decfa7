"""RandomGaussianBlur, RandomErasing, RandomColorJitter: NumPy references, seeding, inference
identity, Keras's config keys, errors and tape gradients."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L

from _tape_check import tape_gradient_errors

RNG = np.random.default_rng(3)


def _gauss(size, sigma):
    t = np.arange(size) - (size - 1) / 2
    k = np.exp(-t ** 2 / (2 * sigma ** 2))
    return k / k.sum()


def test_gaussian_blur_against_numpy_convolution():
    x = RNG.uniform(0, 255, (2, 6, 7, 2))
    layer = L.RandomGaussianBlur(factor=(1.0, 1.0), kernel_size=(3, 5), sigma=(0.7, 0.7))
    y = layer(x, training=True)
    s = 0.7 + 1e-6
    k = np.outer(_gauss(5, s), _gauss(3, s))               # Keras: (ky rows, kx cols)
    p = np.pad(x, ((0, 0), (2, 2), (1, 1), (0, 0)))
    ref = sum(k[i, j] * p[:, i:i + 6, j:j + 7] for i in range(5) for j in range(3))
    np.testing.assert_allclose(y, np.clip(ref, 0, 255), rtol=1e-6)


def test_gaussian_blur_probability_zero_keeps_images():
    x = RNG.uniform(0, 255, (3, 4, 4, 1))
    np.testing.assert_array_equal(L.RandomGaussianBlur(factor=0.0)(x, training=True), x)


def test_erasing_box_and_fill():
    x = np.ones((6, 8, 10, 3))
    y = L.RandomErasing((1.0, 1.0), scale=(0.25, 0.25), fill_value=[5.0, 6.0, 7.0], seed=0)(
        x, training=True)
    for img in y:
        erased = np.all(img == [5.0, 6.0, 7.0], axis=-1)
        assert np.all(img[~erased] == 1.0)
        rows, cols = np.nonzero(erased)
        # Sides are sqrt(0.25) = half of each side: 4 rows (or 5 across a boundary) by 5 cols.
        assert rows.max() - rows.min() + 1 in (4, 5) and cols.max() - cols.min() + 1 in (5, 6)
        assert erased.sum() == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)


def test_erasing_noise_fill_is_clipped_to_value_range():
    x = np.full((4, 6, 6, 1), 0.5)
    y = L.RandomErasing((1.0, 1.0), scale=(0.5, 0.5), value_range=(0, 1), seed=1)(
        x, training=True)
    assert (y != 0.5).any() and y.min() >= 0 and y.max() <= 1


def test_color_jitter_equals_its_steps_with_the_same_draws():
    x = RNG.uniform(0, 255, (3, 4, 4, 3))
    jitter = L.RandomColorJitter(brightness_factor=0.2, contrast_factor=0.3,
                                 saturation_factor=(0.4, 0.6), hue_factor=0.2, seed=5)
    y = jitter(x, training=True)
    steps = [L.RandomBrightness(0.2), L.RandomContrast(0.3), L.RandomSaturation((0.4, 0.6)),
             L.RandomHue(0.2)]
    gen = np.random.default_rng(5)
    ref = x
    for step in steps:
        step._rng = gen
        ref = step(ref, training=True)
    np.testing.assert_allclose(y, ref, rtol=1e-10)
    np.testing.assert_array_equal(L.RandomColorJitter()(x, training=True), x)


LAYERS = {
    "RandomGaussianBlur": lambda s: L.RandomGaussianBlur(0.9, kernel_size=5, seed=s),
    "RandomErasing": lambda s: L.RandomErasing(0.9, seed=s),
    "RandomColorJitter": lambda s: L.RandomColorJitter(brightness_factor=0.1,
                                                       contrast_factor=0.2,
                                                       saturation_factor=0.5, hue_factor=0.1,
                                                       seed=s),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_seeded_reproducible_and_identity_at_inference(name):
    x = RNG.uniform(0, 255, (6, 8, 8, 3)).astype("float32")
    a, b = LAYERS[name](4)(x, training=True), LAYERS[name](4)(x, training=True)
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and a.dtype == np.float32 and not np.allclose(a, x)
    assert a.min() >= 0 and a.max() <= 255
    np.testing.assert_array_equal(LAYERS[name](4)(x), x)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_gradients_match_central_differences(name):
    x = RNG.uniform(80, 180, (2, 4, 4, 3))
    errors = tape_gradient_errors(LAYERS[name](2), x, training=True)
    assert max(errors.values()) < 1e-6, errors


# Verified with Keras 3.15.1 (get_config minus name/trainable/dtype).
@pytest.mark.parametrize("layer, expected", [
    (L.RandomGaussianBlur(), {"data_format": "channels_last", "factor": [0, 1.0],
                              "kernel_size": [3, 3], "sigma": [0, 1.0],
                              "value_range": [0, 255], "seed": None}),
    (L.RandomErasing(scale=0.5, fill_value=[1, 2, 3]),
     {"data_format": "channels_last", "factor": [0, 1.0], "scale": [0, 0.5],
      "fill_value": [1, 2, 3], "value_range": [0, 255], "seed": None}),
    (L.RandomColorJitter(brightness_factor=0.2, hue_factor=(0.1, 0.3)),
     {"data_format": "channels_last", "value_range": [0, 255], "brightness_factor": 0.2,
      "contrast_factor": None, "saturation_factor": None, "hue_factor": [0.1, 0.3],
      "seed": None}),
])
def test_config_matches_keras(layer, expected):
    cfg = layer.get_config()
    assert {k: v for k, v in cfg.items() if k not in ("name", "trainable", "dtype")} == expected
    assert type(layer).from_config(cfg).get_config() == cfg


@pytest.mark.parametrize("make, match", [
    (lambda: L.RandomGaussianBlur(kernel_size=4), r"RandomGaussianBlur.*kernel_size=4"),
    (lambda: L.RandomGaussianBlur(sigma=2.0), r"sigma=2\.0"),
    (lambda: L.RandomErasing(factor=1.2), r"RandomErasing.*factor=1\.2"),
    (lambda: L.RandomErasing(fill_value="x"), r"fill_value='x'"),
    (lambda: L.RandomColorJitter(hue_factor=2.0), r"RandomHue.*factor=2\.0"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_in_a_model():
    model = keras.Sequential([keras.Input((8, 8, 3)), L.RandomGaussianBlur(seed=0),
                              L.RandomErasing(seed=0), L.RandomColorJitter(hue_factor=0.1)])
    x = RNG.uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
