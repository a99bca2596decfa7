"""Tone augmentations: posterize bits, solarize thresholds, auto-contrast and equalization
against NumPy references; seeding, inference behaviour, Keras's config keys, errors, gradients."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L

from _tape_check import tape_gradient_errors

RNG = np.random.default_rng(1)


def test_posterization_keeps_top_bits():
    x = RNG.integers(0, 256, (3, 4, 4, 3)).astype("float32")
    for bits in range(1, 9):
        y = L.RandomPosterization((bits, bits))(x, training=True)
        mask = (0xFF << (8 - bits)) & 0xFF
        np.testing.assert_array_equal(y, (x.astype(np.uint8) & mask).astype("float32"))


def test_posterization_value_range_and_random_bits():
    x = RNG.uniform(0, 1, (50, 2, 2, 1))
    y = L.RandomPosterization(4, value_range=(0, 1), seed=0)(x, training=True)
    levels = np.round(y * 255).astype(int)
    assert np.all(levels % 32 == 0)                     # bits drawn in [1, 4): shift >= 5
    per_image = [len(np.unique(levels[i] & 0x1F)) for i in range(50)]
    assert set(per_image) == {1}
    shifts = {int(np.log2(np.gcd.reduce(np.r_[levels[i].ravel(), 256]))) for i in range(50)}
    assert shifts <= {5, 6, 7, 8} and len(shifts) > 1


def test_solarization_threshold_and_addition():
    x = np.array([10.0, 100.0, 200.0, 250.0]).reshape(1, 1, 4, 1)
    np.testing.assert_array_equal(L.Solarization()(x, training=True), 255 - x)
    # Keras draws the threshold in [threshold_factor[0], 255 * threshold_factor[1]].
    layer = L.Solarization(addition_factor=(0.1, 0.1), threshold_factor=(1.0, 1.0), seed=3)
    y = layer(x, training=True)
    layer2 = L.Solarization(addition_factor=(0.1, 0.1), threshold_factor=(1.0, 1.0), seed=3)
    gen = np.random.default_rng(3)
    add = gen.uniform(0.1, 25.5)
    thr = gen.uniform(1.0, 255.0)
    z = np.clip(x + add, 0, 255)
    np.testing.assert_allclose(y, np.where(z < thr, z, 255 - z))
    np.testing.assert_array_equal(layer2(x, training=True), y)
    np.testing.assert_array_equal(layer(x), x)


def test_autocontrast_stretches_each_channel_always():
    x = RNG.uniform(0.2, 0.7, (2, 3, 3, 2))
    x[1, ..., 1] = 0.5                                          # a flat channel is kept
    y = L.AutoContrast(value_range=(0, 1))(x)                  # applied in inference too
    lo, hi = x.min(axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True)
    ref = np.where(hi > lo, (x - lo) / np.where(hi > lo, hi - lo, 1), x)
    np.testing.assert_allclose(y, ref, rtol=1e-12)


def test_equalization_of_a_known_histogram():
    # 8 pixels: levels 0 (x4), 100 (x2), 200 (x1), 255 (x1) -> cdf 4, 6, 7, 8; cdf_min 4.
    x = np.array([0, 0, 0, 0, 100, 100, 200, 255], float).reshape(1, 2, 4, 1)
    y = L.Equalization()(x, training=True)
    lut = {0: 0, 100: round(2 * 255 / 4), 200: round(3 * 255 / 4), 255: 255}
    np.testing.assert_array_equal(y.ravel(), [lut[v] for v in x.ravel()])
    np.testing.assert_array_equal(L.Equalization()(x), x)       # training only, as Keras


def _equalize_reference(ch, bins):
    idx = np.clip(ch * (bins - 1) / 255.0, 0, bins - 1).astype(int)
    hist = np.bincount(idx.ravel(), minlength=bins)
    if np.count_nonzero(hist) <= 1:
        return ch
    cdf = np.cumsum(hist)
    first = cdf[cdf > 0][0]
    lut = np.clip(np.round((cdf - first) * 255 / max(cdf[-1] - first, 1)), 0, 255)
    return lut[idx]


@pytest.mark.parametrize("bins", [256, 16])
def test_equalization_per_image_and_channel(bins):
    x = RNG.integers(0, 256, (3, 5, 5, 2)).astype("float64")
    x[2, ..., 0] = 7.0
    y = L.Equalization(bins=bins)(x, training=True)
    for i, c in np.ndindex(3, 2):
        np.testing.assert_array_equal(y[i, ..., c], _equalize_reference(x[i, ..., c], bins))


def test_equalization_value_range():
    x = RNG.uniform(-1, 1, (1, 4, 4, 1))
    y = L.Equalization(value_range=(-1, 1))(x, training=True)
    np.testing.assert_allclose([y.min(), y.max()], [-1, 1])


@pytest.mark.parametrize("make", [lambda: L.RandomPosterization(6, seed=2),
                                  lambda: L.Solarization((0, 0.3), (0.3, 0.9), seed=2)])
def test_seeded_reproducible_and_identity_at_inference(make):
    x = RNG.uniform(0, 255, (6, 4, 4, 3)).astype("float32")
    a, b = make()(x, training=True), make()(x, training=True)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and a.shape == x.shape and not np.allclose(a, x)
    assert a.min() >= 0 and a.max() <= 255
    np.testing.assert_array_equal(make()(x), x)


@pytest.mark.parametrize("layer", [L.Solarization(threshold_factor=(0.9, 0.9)),
                                   L.AutoContrast()])
def test_gradients_match_central_differences(layer):
    x = RNG.uniform(60, 200, (2, 3, 3, 2))
    errors = tape_gradient_errors(layer, x, training=True)
    assert max(errors.values()) < 1e-6, errors


def test_posterization_and_equalization_carry_no_gradient():
    from kerasnp.autodiff import GradientTape
    x = RNG.uniform(0, 255, (1, 3, 3, 1))
    for layer in (L.RandomPosterization(4), L.Equalization()):
        with GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
        assert tape.gradient(y, x) is None


# Verified with Keras 3.15.1 (get_config minus name/trainable/dtype).
@pytest.mark.parametrize("layer, expected", [
    (L.RandomPosterization(4), {"data_format": "channels_last", "factor": [1, 4],
                                "value_range": [0, 255], "seed": None}),
    (L.Solarization(), {"data_format": "channels_last", "value_range": [0, 255],
                        "addition_factor": [0, 0.0], "threshold_factor": [0, 0.0],
                        "seed": None}),
    (L.AutoContrast(), {"data_format": "channels_last", "value_range": [0, 255]}),
    (L.Equalization(), {"data_format": "channels_last", "bins": 256, "value_range": [0, 255]}),
])
def test_config_matches_keras(layer, expected):
    cfg = layer.get_config()
    assert {k: v for k, v in cfg.items() if k not in ("name", "trainable", "dtype")} == expected
    assert type(layer).from_config(cfg).get_config() == cfg


@pytest.mark.parametrize("make, match", [
    (lambda: L.RandomPosterization(9), r"RandomPosterization.*\[1, 8\].*factor=9"),
    (lambda: L.RandomPosterization(0), r"factor=0"),
    (lambda: L.Solarization(addition_factor=1.5), r"Solarization.*addition_factor=1\.5"),
    (lambda: L.Solarization(threshold_factor=(0.1, -0.2)), r"threshold_factor=\(0\.1, -0\.2\)"),
    (lambda: L.Equalization(bins=1), r"Equalization.*bins=1"),
    (lambda: L.AutoContrast(value_range=5), r"AutoContrast.*value_range=5"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_in_a_model_autocontrast_applies_at_predict():
    model = keras.Sequential([keras.Input((3, 3, 1)), L.AutoContrast(value_range=(0, 1)),
                              L.Equalization(value_range=(0, 1))])
    x = RNG.uniform(0.3, 0.6, (2, 3, 3, 1)).astype("float32")
    y = model.predict(x, verbose=0)
    np.testing.assert_allclose(y.min(axis=(1, 2, 3)), 0, atol=1e-6)
    np.testing.assert_allclose(y.max(axis=(1, 2, 3)), 1, atol=1e-6)
