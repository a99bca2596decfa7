"""Random color augmentations: values against NumPy references, seeding, inference identity,
Keras's config keys, errors, and tape gradients against central differences."""
import colorsys

import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L

from _tape_check import tape_gradient_errors

RNG = np.random.default_rng(0)
GRAY = np.array([0.2989, 0.5870, 0.1140])


def _images(n=4, h=5, w=6, c=3, high=255.0, dtype="float32"):
    return RNG.uniform(0, high, (n, h, w, c)).astype(dtype)


def test_grayscale_always_and_never():
    x = _images()
    y = L.RandomGrayscale(factor=1.0)(x, training=True)
    ref = (x.astype(np.float64) @ GRAY)[..., None]
    np.testing.assert_allclose(y, np.broadcast_to(ref, x.shape), rtol=1e-5)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_array_equal(L.RandomGrayscale(factor=0.0)(x, training=True), x)


def test_grayscale_applies_per_image_with_the_given_probability():
    x = _images(n=400, h=1, w=1)
    y = L.RandomGrayscale(factor=0.3, seed=1)(x, training=True)
    gray = np.all(np.isclose(y, y[..., :1]), axis=(1, 2, 3))
    assert 0.2 < gray.mean() < 0.4


def test_invert_formula_and_value_range():
    x = _images(c=1)
    np.testing.assert_allclose(L.RandomInvert(factor=(1.0, 1.0))(x, training=True), 255 - x)
    x1 = RNG.uniform(-1, 1, (2, 3, 3, 2))
    inv = L.RandomInvert(factor=(1.0, 1.0), value_range=(-1, 1))
    np.testing.assert_allclose(inv(x1, training=True), -x1)
    np.testing.assert_array_equal(L.RandomInvert(factor=0.0)(x, training=True), x)


def _hue_reference(x, shift):
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape[:-1]):
        h, s, v = colorsys.rgb_to_hsv(*x[idx])
        out[idx] = colorsys.hsv_to_rgb((h + shift[idx[0]]) % 1.0, s, v)
    return out


def test_hue_shift_of_pure_colors():
    red = np.array([[[[255.0, 0.0, 0.0]]]])
    outs = {tuple(L.RandomHue((2 / 3, 2 / 3), seed=s)(red, training=True).round(6).ravel())
            for s in range(8)}
    assert outs == {(0.0, 255.0, 0.0), (0.0, 0.0, 255.0)}       # +1/3 or -1/3 of a turn


def test_hue_matches_colorsys_for_the_drawn_shift():
    x = RNG.uniform(0, 1, (3, 4, 4, 3))
    layer = L.RandomHue((0.4, 0.4), value_range=(0, 1), seed=5)
    y = layer(x, training=True)
    # The shift has magnitude 0.2 (half the factor); find each image's sign from the output.
    for i in range(3):
        cands = [_hue_reference(x[i:i + 1], [s]) for s in (0.2, -0.2)]
        assert min(np.abs(c - y[i:i + 1]).max() for c in cands) < 1e-9


@pytest.mark.parametrize("factor, scale", [((0.5, 0.5), 1.0), ((0.0, 0.0), 0.0),
                                           ((0.2, 0.2), 0.25)])
def test_saturation_scales_hsv_saturation(factor, scale):
    x = RNG.uniform(0, 255, (2, 3, 3, 3))
    y = L.RandomSaturation(factor)(x, training=True)
    ref = np.empty_like(x)
    for idx in np.ndindex(x.shape[:-1]):
        h, s, v = colorsys.rgb_to_hsv(*x[idx])
        ref[idx] = colorsys.hsv_to_rgb(h, min(s * scale, 1.0), v)
    np.testing.assert_allclose(y, ref, atol=1e-4)


def test_color_degeneration_blends_toward_gray():
    x = RNG.uniform(0, 1, (2, 3, 3, 3))
    y = L.RandomColorDegeneration((0.25, 0.25), value_range=(0, 1))(x, training=True)
    gray = (x @ GRAY)[..., None]
    np.testing.assert_allclose(y, np.clip(x + 0.25 * (gray - x), 0, 1), rtol=1e-12)


def _smooth(img):
    pad = np.pad(img, ((1, 1), (1, 1), (0, 0)))
    h, w = img.shape[:2]
    out = sum(pad[i:i + h, j:j + w] for i in range(3) for j in range(3)) / 13.0
    return out + img * (4.0 / 13.0)                     # center weight 5/13 = 1/13 + 4/13


@pytest.mark.parametrize("f", [0.0, 0.25, 0.5, 1.0])
def test_sharpness_against_numpy_filter(f):
    x = RNG.uniform(0, 255, (2, 4, 5, 2))
    y = L.RandomSharpness((f, f))(x, training=True)
    ref = np.stack([np.clip(img + (1 - 2 * f) * (_smooth(img) - img), 0, 255) for img in x])
    np.testing.assert_allclose(y, ref, rtol=1e-10)


LAYERS = {
    "RandomGrayscale": lambda s: L.RandomGrayscale(0.5, seed=s),
    "RandomInvert": lambda s: L.RandomInvert(0.8, seed=s),
    "RandomHue": lambda s: L.RandomHue(0.5, seed=s),
    "RandomSaturation": lambda s: L.RandomSaturation(0.8, seed=s),
    "RandomColorDegeneration": lambda s: L.RandomColorDegeneration(0.7, seed=s),
    "RandomSharpness": lambda s: L.RandomSharpness(0.9, seed=s),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_seeded_reproducible_identity_at_inference_and_in_range(name):
    x = _images(n=8)
    a, b = LAYERS[name](3)(x, training=True), LAYERS[name](3)(x, training=True)
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and a.dtype == np.float32
    assert not np.allclose(a, x)
    assert a.min() >= -1e-3 and a.max() <= 255 + 1e-3
    np.testing.assert_array_equal(LAYERS[name](3)(x), x)
    np.testing.assert_array_equal(LAYERS[name](3)(x, training=False), x)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_uint8_input_gives_floats(name):
    x = _images(n=2).astype("uint8")
    assert LAYERS[name](0)(x, training=True).dtype == np.float32


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_gradients_match_central_differences(name):
    # Away from the kinks (clips, hue sectors), every layer is smooth in its input.
    x = RNG.uniform(60, 200, (2, 3, 3, 3))
    errors = tape_gradient_errors(LAYERS[name](1), x, training=True)
    assert max(errors.values()) < 1e-6, errors


# Config keys and parsed factors, verified with Keras 3.15.1.
KERAS_CONFIGS = {
    "RandomGrayscale": (L.RandomGrayscale, {}, {"factor": 0.5}),
    "RandomInvert": (L.RandomInvert, {}, {"factor": [0, 1.0], "value_range": [0, 255]}),
    "RandomHue": (L.RandomHue, {"factor": 0.5}, {"factor": [0, 0.5], "value_range": [0, 255]}),
    "RandomSaturation": (L.RandomSaturation, {"factor": 0.5},
                         {"factor": [-0.5, 0.5], "value_range": [0, 255]}),
    "RandomColorDegeneration": (L.RandomColorDegeneration, {"factor": 0.5},
                                {"factor": [-0.5, 0.5], "value_range": [0, 255]}),
    "RandomSharpness": (L.RandomSharpness, {"factor": 0.5},
                        {"factor": [0, 0.5], "value_range": [0, 255]}),
}


@pytest.mark.parametrize("name", sorted(KERAS_CONFIGS))
def test_config_matches_keras(name):
    cls, args, expected = KERAS_CONFIGS[name]
    cfg = cls(**args).get_config()
    for key, val in expected.items():
        assert cfg[key] == val, key
    assert cfg["data_format"] == "channels_last" and cfg["seed"] is None
    clone = cls.from_config(cfg)
    assert clone.get_config() == cfg


@pytest.mark.parametrize("make, match", [
    (lambda: L.RandomGrayscale(factor=1.5), r"RandomGrayscale.*factor=1\.5"),
    (lambda: L.RandomInvert(factor=-0.1), r"RandomInvert.*\[0, 1\].*factor=-0\.1"),
    (lambda: L.RandomHue(factor=(0.2, 1.2)), r"RandomHue.*factor=\(0\.2, 1\.2\)"),
    (lambda: L.RandomSharpness(factor="a"), r"RandomSharpness.*factor='a'"),
    (lambda: L.RandomSaturation(0.5, value_range=(0, 1, 2)), r"value_range=\(0, 1, 2\)"),
])
def test_bad_arguments_name_the_layer_and_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_rgb_layers_refuse_other_channel_counts():
    with pytest.raises(ValueError, match=r"RandomHue.*3 channels.*\(None, 4, 4, 1\)"):
        L.RandomHue(0.5)(np.zeros((1, 4, 4, 1)), training=True)


def test_in_a_model():
    model = keras.Sequential([keras.Input((4, 4, 3)), L.RandomHue(0.3, seed=0),
                              L.RandomSharpness(0.3, seed=0)])
    x = _images(n=2, h=4, w=4)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    assert model.count_params() == 0
