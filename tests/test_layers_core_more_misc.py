"""InputSpec and Pipeline: Keras 3's checks and messages, config keys (checked with Keras 3.15),
chaining, training default, masks and saving."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L


# -- InputSpec ------------------------------------------------------------------------------
def test_input_spec_repr_and_config_match_keras():
    assert repr(L.InputSpec(ndim=3, axes={-1: 4})) == "InputSpec(ndim=3, axes={-1: 4})"
    assert repr(L.InputSpec(shape=(None, 4), dtype="float32")) == \
        "InputSpec(dtype=float32, shape=(None, 4), ndim=2)"
    # Keras 3.15: InputSpec(shape=(None, 4)).get_config()
    assert L.InputSpec(shape=(None, 4)).get_config() == {
        "dtype": None, "shape": (None, 4), "ndim": 2, "max_ndim": None, "min_ndim": None,
        "axes": {}, "optional": False}
    spec = L.InputSpec.from_config(L.InputSpec(min_ndim=2, axes={-1: 4}).get_config())
    assert spec.min_ndim == 2 and spec.axes == {-1: 4}


def test_input_spec_checks_with_keras_messages():
    L.InputSpec(ndim=2, axes={-1: 4}).check(np.ones((3, 4)))
    L.InputSpec(shape=(None, 4)).check((None, 4))
    with pytest.raises(ValueError, match=r"layer 'd'.*expected ndim=2, found ndim=3. Full shape "
                                         r"received: \(2, 3, 4\)"):
        L.InputSpec(ndim=2).check(np.ones((2, 3, 4)), "d")
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 4, but "
                                         r"received input with shape \(2, 3\)"):
        L.InputSpec(min_ndim=2, axes={-1: 4}).check(np.ones((2, 3)), "d")
    with pytest.raises(ValueError, match="expected min_ndim=3"):
        L.InputSpec(min_ndim=3).check(np.ones((2, 3)))
    with pytest.raises(ValueError, match="expected max_ndim=2"):
        L.InputSpec(max_ndim=2).check(np.ones((2, 3, 1)))
    with pytest.raises(ValueError, match="expected dtype=int32"):
        L.InputSpec(dtype="int32").check(np.ones((2, 3)))
    with pytest.raises(ValueError, match="expected shape"):
        L.InputSpec(shape=(None, 4)).check(np.ones((2, 5)))
    L.InputSpec(ndim=2, allow_last_axis_squeeze=True).check(np.ones((2, 3, 1)))
    L.InputSpec(optional=True).check(None)
    with pytest.raises(ValueError, match="not optional"):
        L.InputSpec().check(None)
    with pytest.raises(ValueError, match="InputSpec.*axis 3"):
        L.InputSpec(ndim=2, axes={3: 1})


def test_assert_input_compatibility_over_several_inputs():
    from kerasnp.layers.input_spec import assert_input_compatibility
    specs = [L.InputSpec(ndim=2), L.InputSpec(ndim=3)]
    assert_input_compatibility(specs, [np.ones((1, 2)), np.ones((1, 2, 3))], "merge")
    with pytest.raises(ValueError, match=r"Input 1 .* layer 'merge'.*ndim=3, found ndim=2"):
        assert_input_compatibility(specs, [np.ones((1, 2)), np.ones((1, 2))], "merge")
    with pytest.raises(ValueError, match="expects 2 input"):
        assert_input_compatibility(specs, [np.ones((1, 2))], "merge")


# -- Pipeline -------------------------------------------------------------------------------
def test_pipeline_chains_layers_and_config_keys():
    dense = L.Dense(3, dtype="float64")
    pipe = L.Pipeline([L.Rescaling(2.0), dense])
    x = np.random.default_rng(0).standard_normal((2, 4))
    y = np.asarray(pipe(x))
    np.testing.assert_allclose(y, (2.0 * x) @ dense.kernel.numpy() + dense.bias.numpy())
    assert [w.name for w in pipe.weights] == ["kernel", "bias"]
    cfg = pipe.get_config()
    assert sorted(cfg) == ["layers", "name"]                       # Keras 3.15's keys
    clone = L.Pipeline.from_config(cfg)
    assert [type(x).__name__ for x in clone.layers] == ["Rescaling", "Dense"]
    assert pipe.compute_output_shape((None, 4)) == (None, 3)
    with pytest.raises(ValueError, match="Pipeline.*layers"):
        L.Pipeline([L.Dense(2), "dense"])


def test_pipeline_training_defaults_to_true_when_called_directly():
    pipe = L.Pipeline([L.GaussianNoise(1.0, seed=0)])
    x = np.zeros((3, 4))
    assert np.any(np.asarray(pipe(x)) != 0)                       # Keras: training=True
    np.testing.assert_array_equal(pipe(x, training=False), x)
    model = keras.Sequential([keras.Input((4,)), L.Pipeline([L.GaussianNoise(1.0)])])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)  # the model's mode applies


def test_pipeline_passes_masks_and_saves(tmp_path):
    inner = L.Pipeline([L.Embedding(10, 3, mask_zero=True), L.Dense(2)])
    model = keras.Sequential([keras.Input((5,)), inner, L.LSTM(2)])
    padded = np.array([[1, 2, 0, 0, 0]])
    short = keras.Sequential([keras.Input((2,)), inner, model.layers[-1]])
    np.testing.assert_allclose(model.predict(padded, verbose=0),
                               short.predict(padded[:, :2], verbose=0), rtol=1e-6)
    mask = inner.compute_mask(padded)
    np.testing.assert_array_equal(mask, [[True, True, False, False, False]])
    model.compile("adam", "mse")
    model.fit(padded, np.zeros((1, 2)), epochs=1, verbose=0)
    model.save(tmp_path / "m.kerasnp")
    loaded = keras.models.load_model(tmp_path / "m.kerasnp")
    np.testing.assert_array_equal(loaded.predict(padded, verbose=0),
                                  model.predict(padded, verbose=0))
