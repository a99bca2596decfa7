"""ContrastLimitedAdaptiveHistogramEqualization against a per-pixel loop reference, config keys,
errors and behaviour in a model."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L

RNG = np.random.default_rng(6)
CLAHE = L.ContrastLimitedAdaptiveHistogramEqualization


def _reference(img, clip_limit, grid):
    """One (h, w) channel in 0-255, pixel by pixel."""
    h, w = img.shape
    gh, gw = grid
    th, tw = -(-h // gh), -(-w // gw)
    p = np.pad(img, ((0, th * gh - h), (0, tw * gw - w)), mode="symmetric")
    lv = np.clip(p, 0, 255).astype(int)
    luts = np.zeros((gh, gw, 256))
    for i in range(gh):
        for j in range(gw):
            hist = np.bincount(lv[i * th:(i + 1) * th, j * tw:(j + 1) * tw].ravel(),
                               minlength=256).astype(float)
            if clip_limit > 0:
                lim = clip_limit * th * tw / 256
                excess = np.maximum(hist - lim, 0).sum()
                hist = np.minimum(hist, lim) + excess / 256
            cdf = np.cumsum(hist)
            den = th * tw - cdf.min() or 1.0
            luts[i, j] = np.clip((cdf - cdf.min()) * 255 / den, 0, 255)
    out = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            gy, gx = (y - th / 2) / th, (x - tw / 2) / tw         # in tile units
            y0, x0 = int(np.floor(gy)), int(np.floor(gx))
            wy, wx = gy - y0, gx - x0
            val = 0.0
            for yy, ay in ((y0, 1 - wy), (y0 + 1, wy)):
                for xx, ax in ((x0, 1 - wx), (x0 + 1, wx)):
                    lut = luts[min(max(yy, 0), gh - 1), min(max(xx, 0), gw - 1)]
                    val += ay * ax * lut[lv[y, x]]
            out[y, x] = val
    return out


@pytest.mark.parametrize("clip_limit, grid", [(0.0, (1, 1)), (0.0, (2, 3)), (4.0, (8, 8)),
                                              (2.0, (3, 4)), (40.0, (2, 2))])
def test_against_loop_reference(clip_limit, grid):
    x = RNG.integers(0, 256, (2, 17, 23, 2)).astype("float64")
    x[1] = (x[1] / 255) ** 3 * 255                              # a skewed histogram
    y = CLAHE(clip_limit=clip_limit, tile_grid_size=grid)(x)
    for i, c in np.ndindex(2, 2):
        np.testing.assert_allclose(y[i, ..., c], _reference(x[i, ..., c], clip_limit, grid),
                                   atol=1e-9)


def test_value_range_and_dtype_and_inference():
    x = RNG.uniform(0, 1, (1, 16, 16, 3)).astype("float32")
    layer = CLAHE(value_range=(0, 1), tile_grid_size=(4, 4))
    y = layer(x)                                           # applied without training too
    ref = CLAHE(tile_grid_size=(4, 4))(x.astype("float64") * 255) / 255
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y, ref, atol=1e-5)
    assert not np.allclose(y, x)


def test_config_matches_keras():
    # keras.layers.ContrastLimitedAdaptiveHistogramEqualization().get_config(), Keras 3.15.1
    cfg = CLAHE().get_config()
    assert {k: v for k, v in cfg.items() if k not in ("name", "trainable", "dtype")} == {
        "value_range": [0, 255], "clip_limit": 4.0, "tile_grid_size": [8, 8],
        "data_format": "channels_last"}
    assert CLAHE.from_config(cfg).get_config() == cfg


@pytest.mark.parametrize("kwargs, match", [({"tile_grid_size": (0, 2)}, "tile_grid_size"),
                                           ({"tile_grid_size": 8}, "tile_grid_size=8"),
                                           ({"clip_limit": "a"}, "clip_limit")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=f"ContrastLimitedAdaptiveHistogramEqualization.*{match}"):
        CLAHE(**kwargs)


def test_in_a_model():
    model = keras.Sequential([keras.Input((8, 8, 1)), CLAHE(tile_grid_size=(2, 2))])
    x = RNG.uniform(0, 255, (2, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               CLAHE(tile_grid_size=(2, 2))(x), rtol=1e-6)
