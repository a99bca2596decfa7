"""GroupNormalization, RMSNormalization, UnitNormalization, GaussianDropout, AlphaDropout and
ActivityRegularization: values against torch / NumPy, float64 gradients against finite
differences, Keras 3 configs, weights and parameter counts (checked with Keras 3.15)."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L
from kerasnp.utils.gradient_check import layer_gradient_errors

RNG = np.random.default_rng(0)


def _cfg(layer):
    cfg = layer.get_config()
    for key in ("name", "trainable", "dtype"):
        cfg.pop(key, None)
    return cfg


def _randomize(layer):
    for w in layer.weights:
        w.assign(RNG.uniform(0.5, 1.5, w.shape))


# -- GroupNormalization ---------------------------------------------------------------------
def test_group_norm_matches_torch_float64():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((3, 5, 4, 6))
    layer = L.GroupNormalization(groups=3, epsilon=1e-5, dtype="float64")
    layer.build(x.shape)
    _randomize(layer)
    ref = torch.nn.functional.group_norm(
        torch.tensor(x).permute(0, 3, 1, 2), 3, torch.tensor(layer.gamma.numpy()),
        torch.tensor(layer.beta.numpy()), eps=1e-5).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(layer(x), ref, atol=1e-12)


def test_group_norm_channel_axis_1_and_instance_norm():
    x = RNG.standard_normal((2, 4, 3, 5))
    y = L.GroupNormalization(groups=-1, axis=1, dtype="float64")(x)
    mu = x.mean(axis=(2, 3), keepdims=True)
    ref = (x - mu) / np.sqrt(x.var(axis=(2, 3), keepdims=True) + 1e-3)
    np.testing.assert_allclose(y, ref, atol=1e-12)


@pytest.mark.parametrize("kwargs", [dict(groups=2), dict(groups=3, axis=1),
                                    dict(groups=1, center=False)])
def test_group_norm_gradients(kwargs):
    layer = L.GroupNormalization(dtype="float64", **kwargs)
    x = RNG.standard_normal((2, 6, 4, 6))
    layer.build(x.shape)
    _randomize(layer)
    errors = layer_gradient_errors(layer, x)
    assert max(errors.values()) < 1e-6, errors


def test_group_norm_config_weights_and_params():
    layer = L.GroupNormalization(groups=2)
    layer.build((None, 4, 4, 6))
    assert [(w.name, w.shape) for w in layer.weights] == [("gamma", (6,)), ("beta", (6,))]
    cfg = _cfg(layer)
    assert {k: cfg[k] for k in ("groups", "axis", "epsilon", "center", "scale")} == {
        "groups": 2, "axis": -1, "epsilon": 0.001, "center": True, "scale": True}
    assert set(cfg) == {"groups", "axis", "epsilon", "center", "scale", "beta_initializer",
                        "gamma_initializer", "beta_regularizer", "gamma_regularizer",
                        "beta_constraint", "gamma_constraint"}
    assert L.GroupNormalization().groups == 32
    model = keras.Sequential([keras.Input((4, 4, 6)), L.GroupNormalization(groups=3)])
    assert model.count_params() == 12                       # Keras 3.15: 12
    clone = L.GroupNormalization.from_config(layer.get_config())
    assert _cfg(clone) == cfg


def test_group_norm_errors_name_layer_and_numbers():
    with pytest.raises(ValueError, match=r"GroupNormalization.*channels \(6\).*groups \(4\)"):
        L.GroupNormalization(groups=4).build((None, 6))
    with pytest.raises(ValueError, match="groups=0"):
        L.GroupNormalization(groups=0)


# -- RMSNormalization -----------------------------------------------------------------------
def test_rms_norm_matches_torch_and_keras_value():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((3, 4, 5))
    layer = L.RMSNormalization(axis=[1, 2], epsilon=1e-4, dtype="float64")
    layer.build(x.shape)
    _randomize(layer)
    ref = torch.nn.functional.rms_norm(torch.tensor(x), (4, 5), torch.tensor(layer.scale.numpy()),
                                       eps=1e-4).numpy()
    np.testing.assert_allclose(layer(x), ref, atol=1e-12)
    # Keras 3.15: RMSNormalization()(arange(24).reshape(1,2,2,6)/10)[0,0,0]
    x = np.arange(24.0).reshape(1, 2, 2, 6) / 10
    np.testing.assert_allclose(L.RMSNormalization()(x)[0, 0, 0],
                               [0.0, 0.3303, 0.6606, 0.9909, 1.3211, 1.6514], atol=1e-4)


def test_rms_norm_gradients_config_and_params():
    layer = L.RMSNormalization(dtype="float64")
    x = RNG.standard_normal((3, 4, 5))
    layer.build(x.shape)
    _randomize(layer)
    errors = layer_gradient_errors(layer, x)
    assert max(errors.values()) < 1e-6, errors
    assert _cfg(layer) == {"axis": [-1], "epsilon": 1e-06}
    assert [(w.name, w.shape) for w in layer.weights] == [("scale", (5,))]
    two = L.RMSNormalization(axis=[1, 2])
    two.build((None, 3, 4, 5))
    assert two.scale.shape == (3, 4)                       # Keras 3.15: (3, 4)
    with pytest.raises(ValueError, match="RMSNormalization.*axis"):
        L.RMSNormalization(axis=0).build((None, 4))


# -- UnitNormalization ----------------------------------------------------------------------
def test_unit_norm_values_gradients_and_floor():
    x = RNG.standard_normal((3, 4, 5))
    layer = L.UnitNormalization(axis=[1, 2], dtype="float64")
    np.testing.assert_allclose(layer(x), x / np.sqrt((x ** 2).sum(axis=(1, 2), keepdims=True)),
                               atol=1e-12)
    errors = layer_gradient_errors(layer, x)
    assert max(errors.values()) < 1e-6, errors
    # Keras 3.15: [[1e-7, 0]] -> [[1, 0]]; [[1e-13, 0]] -> [[0.1, 0]] (x / max(‖x‖, 1e-12))
    np.testing.assert_allclose(L.UnitNormalization()(np.array([[1e-7, 0.0]])), [[1.0, 0.0]])
    np.testing.assert_allclose(L.UnitNormalization()(np.array([[1e-13, 0.0]])), [[0.1, 0.0]])
    assert _cfg(L.UnitNormalization()) == {"axis": -1}


# -- dropouts -------------------------------------------------------------------------------
def test_gaussian_dropout_statistics_gradient_and_inference():
    layer = L.GaussianDropout(0.2, seed=3)
    x = np.ones((400, 500))
    assert layer(x) is x or np.array_equal(layer(x), x)
    y = np.asarray(layer(x, training=True))
    assert abs(y.mean() - 1.0) < 0.01 and abs(y.std() - np.sqrt(0.2 / 0.8)) < 0.01
    errors = layer_gradient_errors(L.GaussianDropout(0.4, seed=1), RNG.standard_normal((3, 4)),
                                   training=True)
    assert errors["input"] < 1e-6
    assert _cfg(layer) == {"rate": 0.2, "seed": 3}


def test_alpha_dropout_keeps_moments_and_uses_noise_shape():
    layer = L.AlphaDropout(0.3, seed=0)
    x = RNG.standard_normal((400, 500))
    y = np.asarray(layer(x, training=True))
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1.0) < 0.01
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - 0.3) * (1 + 0.3 * alpha_p ** 2)) ** -0.5
    dropped = ~np.isclose(y, a * x - a * alpha_p * 0.3)
    np.testing.assert_allclose(y[dropped], a * alpha_p - a * alpha_p * 0.3)
    assert abs(dropped.mean() - 0.3) < 0.01
    shared = np.asarray(L.AlphaDropout(0.5, noise_shape=(None, 1, 4), seed=1)(
        np.zeros((3, 5, 4)), training=True))
    assert np.all(shared == shared[:, :1])                  # one mask for every step
    errors = layer_gradient_errors(L.AlphaDropout(0.4, seed=2), RNG.standard_normal((3, 4)),
                                   training=True)
    assert errors["input"] < 1e-6
    assert _cfg(L.AlphaDropout(0.3)) == {"rate": 0.3, "seed": None, "noise_shape": None}
    with pytest.raises(ValueError, match="AlphaDropout.*rate"):
        L.AlphaDropout(1.5)


def test_activity_regularization_loss_is_keras_batch_mean():
    layer = L.ActivityRegularization(l1=1.0, l2=0.5)
    x = np.array([[1.0, -2.0, 0.0], [3.0, 0.0, 0.0]])
    np.testing.assert_array_equal(layer(x), x)
    # (Σ|x| + 0.5·Σx²) / batch = (6 + 7) / 2; Keras 3.15 (l1=1 on ones((2, 3))): 3.0
    assert float(layer.losses[-1]) == pytest.approx(6.5)
    assert _cfg(L.ActivityRegularization()) == {"l1": 0.0, "l2": 0.0}
    model = keras.Sequential([keras.Input((3,)), L.Dense(2),
                              L.ActivityRegularization(l2=0.1)])
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((2, 2)), epochs=1, verbose=0)


def test_models_train_and_save(tmp_path):
    model = keras.Sequential([keras.Input((4, 6)), L.GroupNormalization(groups=2),
                              L.RMSNormalization(), L.UnitNormalization(),
                              L.GaussianDropout(0.3), L.AlphaDropout(0.2)])
    assert model.count_params() == 18                       # Keras 3.15: 12 + 6
    x = RNG.standard_normal((3, 4, 6)).astype("float32")
    model.compile("adam", "mse")
    model.fit(x, x, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
