"""RandAugment and AugMix: the policies replayed by hand with the same draws and the same op
layers, seeding, inference identity, value ranges, Keras's config keys and errors."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L

RNG = np.random.default_rng(5)

# Keras 3.15.1's op order (rand_augment.py and aug_mix.py).
RAND_AUGMENT_OPS = ["RandomShear", "RandomTranslation", "RandomRotation", "RandomBrightness",
                    "RandomColorDegeneration", "RandomContrast", "RandomSharpness",
                    "RandomPosterization", "Solarization", "AutoContrast", "Equalization"]
AUGMIX_OPS = ["RandomShear", "RandomTranslation", "RandomRotation", "RandomPosterization",
              "Solarization", "AutoContrast", "Equalization", "RandomBrightness",
              "RandomColorDegeneration", "RandomContrast", "RandomSharpness"]


def test_op_lists_and_their_factors_follow_keras():
    ra = L.RandAugment(factor=0.4)
    assert [type(op).__name__ for op in ra._ops] == RAND_AUGMENT_OPS
    am = L.AugMix(all_ops=False)
    assert [type(op).__name__ for op in am._ops] == AUGMIX_OPS[:7]
    ops = {type(op).__name__: op for op in ra._ops}
    assert ops["RandomShear"].x_factor == [0.0, 0.4]
    assert ops["RandomPosterization"].factor == [1, 3]            # max(1, int(8 * 0.4)) = 3
    assert ops["Solarization"].threshold_factor == [0.0, 0.4]


def _replay_rand_augment(layer, x, seed):
    gen = np.random.default_rng(seed)
    t = x
    for i in gen.integers(0, len(layer._ops), size=layer.num_ops):
        op = layer._ops[i]
        op._rng = gen
        t = op.call(t, training=True)
    return t


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_rand_augment_is_its_ops_in_sequence(seed):
    x = RNG.uniform(0, 255, (3, 6, 6, 3))
    y = L.RandAugment(num_ops=3, factor=0.6, seed=seed)(x, training=True)
    ref = _replay_rand_augment(L.RandAugment(num_ops=3, factor=0.6), x, seed)
    np.testing.assert_allclose(y, ref, rtol=1e-12)


def test_rand_augment_zero_ops_is_identity():
    x = RNG.uniform(0, 255, (2, 4, 4, 3))
    np.testing.assert_array_equal(L.RandAugment(num_ops=0)(x, training=True), x)


@pytest.mark.parametrize("seed", [0, 4])
def test_augmix_mixes_its_chains(seed):
    x = RNG.uniform(0, 255, (2, 6, 6, 3))
    y = L.AugMix(num_chains=2, chain_depth=2, alpha=0.7, seed=seed)(x, training=True)
    layer = L.AugMix(num_chains=2, chain_depth=2, alpha=0.7)
    gen = np.random.default_rng(seed)
    weights = gen.dirichlet([0.7, 0.7])
    blend = gen.beta(0.7, 0.7)
    mixed = 0.0
    for w in weights:
        chain = x
        for pick in gen.integers(0, len(layer._ops) + 1, size=2):
            if pick < len(layer._ops):
                layer._ops[pick]._rng = gen
                chain = layer._ops[pick].call(chain, training=True)
        mixed = mixed + w * chain
    np.testing.assert_allclose(y, np.clip(blend * x + (1 - blend) * mixed, 0, 255), rtol=1e-12)


@pytest.mark.parametrize("make", [lambda: L.RandAugment(seed=3, value_range=(0, 1)),
                                  lambda: L.AugMix(seed=3, value_range=(0, 1))])
def test_seeded_reproducible_identity_at_inference_in_range(make):
    x = RNG.uniform(0, 1, (4, 8, 8, 3)).astype("float32")
    a, b = make()(x, training=True), make()(x, training=True)
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and a.dtype == np.float32 and not np.allclose(a, x)
    assert a.min() >= -1e-6 and a.max() <= 1 + 1e-6
    np.testing.assert_array_equal(make()(x), x)


def test_augmix_without_color_ops_takes_one_channel():
    x = RNG.uniform(0, 255, (2, 6, 6, 1))
    assert L.AugMix(all_ops=False, seed=0)(x, training=True).shape == x.shape
    with pytest.raises(ValueError, match=r"AugMix.*3 channels"):
        L.AugMix(seed=0)(x, training=True)


# Verified with Keras 3.15.1 (get_config minus name/trainable/dtype).
@pytest.mark.parametrize("layer, expected", [
    (L.RandAugment(), {"data_format": "channels_last", "value_range": [0, 255], "num_ops": 2,
                       "factor": [0, 0.5], "interpolation": "bilinear", "seed": None}),
    (L.AugMix(), {"data_format": "channels_last", "value_range": [0, 255], "num_chains": 3,
                  "chain_depth": 3, "factor": [0, 0.3], "alpha": 1.0, "all_ops": True,
                  "interpolation": "bilinear", "seed": None}),
])
def test_config_matches_keras(layer, expected):
    cfg = layer.get_config()
    assert {k: v for k, v in cfg.items() if k not in ("name", "trainable", "dtype")} == expected
    assert type(layer).from_config(cfg).get_config() == cfg


@pytest.mark.parametrize("make, match", [
    (lambda: L.RandAugment(num_ops=-1), r"RandAugment.*num_ops=-1"),
    (lambda: L.RandAugment(factor=1.5), r"RandAugment.*factor=1\.5"),
    (lambda: L.RandAugment(interpolation="cubic"), r"interpolation"),
    (lambda: L.AugMix(num_chains=0), r"AugMix.*num_chains=0"),
    (lambda: L.AugMix(alpha=-1.0), r"AugMix.*alpha=-1\.0"),
    (lambda: L.AugMix(all_ops="yes"), r"all_ops"),
])
def test_bad_arguments(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_in_a_model():
    model = keras.Sequential([keras.Input((8, 8, 3)), L.RandAugment(seed=0), L.AugMix(seed=0)])
    x = RNG.uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    assert model.count_params() == 0
