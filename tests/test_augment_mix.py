"""MixUp and CutMix: the mixing formulas with the layer's own draws, label mixing, seeding,
inference identity, Keras's config keys, errors and tape gradients."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L

from _tape_check import tape_gradient_errors

RNG = np.random.default_rng(4)


def test_mixup_formula_with_the_layers_draws():
    x = RNG.uniform(0, 255, (5, 3, 3, 2))
    labels = np.eye(5)
    out = L.MixUp(alpha=0.4, seed=9)({"images": x, "labels": labels}, training=True)
    gen = np.random.default_rng(9)
    perm = gen.permutation(5)
    lam = gen.beta(0.4, 0.4, size=5)
    w = lam[:, None, None, None]
    np.testing.assert_allclose(out["images"], w * x + (1 - w) * x[perm], rtol=1e-12)
    np.testing.assert_allclose(out["labels"], lam[:, None] * labels
                               + (1 - lam[:, None]) * labels[perm], rtol=1e-12)


def test_cutmix_pastes_a_box_and_mixes_labels_by_area():
    x = np.arange(6, dtype=float)[:, None, None, None] * np.ones((6, 10, 12, 1))
    out = L.CutMix(factor=(1.0, 1.0), seed=2)({"images": x, "labels": np.eye(6)},
                                              training=True)
    for i, (img, lab) in enumerate(zip(out["images"], out["labels"])):
        other = img != i
        src = np.unique(img[other])
        assert len(src) <= 1                                      # one partner image
        rows, cols = np.nonzero(other[..., 0])
        if len(rows):
            box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
            assert box == other.sum()                              # a filled rectangle
            # Keras weighs labels by the continuous box: within one pixel row/column of it.
            assert lab[int(src[0])] == pytest.approx(other.mean(), abs=0.2)
        assert lab.sum() == pytest.approx(1.0)


def test_plain_images_integer_labels_and_inference():
    x = RNG.uniform(0, 1, (4, 4, 4, 3)).astype("float32")
    for layer in (L.MixUp(seed=0), L.CutMix(seed=0)):
        y = layer(x, training=True)
        assert y.shape == x.shape and y.dtype == np.float32
        np.testing.assert_array_equal(layer(x), x)
        out = layer({"images": x, "labels": np.array([[1], [0], [1], [0]])}, training=True)
        assert out["labels"].dtype == np.float32
        assert 0 <= out["labels"].min() and out["labels"].max() <= 1
        same = layer({"images": x, "labels": np.eye(4)})
        np.testing.assert_array_equal(same["images"], x)


@pytest.mark.parametrize("make", [lambda: L.MixUp(0.5, seed=3), lambda: L.CutMix(seed=3)])
def test_seeded_reproducible(make):
    x = RNG.uniform(0, 255, (6, 5, 5, 3))
    np.testing.assert_array_equal(make()(x, training=True), make()(x, training=True))


@pytest.mark.parametrize("make", [lambda: L.MixUp(0.5, seed=1), lambda: L.CutMix(seed=1)])
def test_gradients_match_central_differences(make):
    errors = tape_gradient_errors(make(), RNG.standard_normal((3, 4, 4, 2)), training=True)
    assert max(errors.values()) < 1e-6, errors


# Verified with Keras 3.15.1 (get_config minus name/trainable/dtype).
@pytest.mark.parametrize("layer, expected", [
    (L.MixUp(), {"data_format": "channels_last", "alpha": 0.2, "seed": None}),
    (L.CutMix(), {"data_format": "channels_last", "factor": [0, 1.0], "seed": None}),
])
def test_config_matches_keras(layer, expected):
    cfg = layer.get_config()
    assert {k: v for k, v in cfg.items() if k not in ("name", "trainable", "dtype")} == expected
    assert type(layer).from_config(cfg).get_config() == cfg


@pytest.mark.parametrize("make, match", [
    (lambda: L.MixUp(alpha=0), r"MixUp.*alpha=0"),
    (lambda: L.CutMix(factor=1.5), r"CutMix.*factor=1\.5"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_dict_without_images():
    with pytest.raises(ValueError, match=r"MixUp.*'images'.*\['labels'\]"):
        L.MixUp()({"labels": np.eye(2)}, training=True)


def test_in_a_model():
    model = keras.Sequential([keras.Input((4, 4, 3)), L.MixUp(seed=0), L.CutMix(seed=0)])
    x = RNG.uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
