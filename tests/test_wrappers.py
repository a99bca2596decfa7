"""TimeDistributed and the Wrapper base: values equal the layer applied step by step, float64
gradient checks, masks, shapes, config nesting, save/load and errors."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers, ops

from _tape_check import tape_gradient_errors


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def test_time_distributed_dense_equals_each_step():
    inner = layers.Dense(5, activation="relu")
    td = layers.TimeDistributed(inner)
    x = _x((3, 4, 6)).astype("float32")
    y = td(x)
    assert y.shape == (3, 4, 5)
    for t in range(4):
        np.testing.assert_allclose(y[:, t], inner(x[:, t]), rtol=1e-6)
    assert td.weights == inner.weights and td.count_params() == 6 * 5 + 5 == 35
    assert td.trainable_weights == inner.trainable_weights


def test_time_distributed_conv2d_video():
    conv = layers.Conv2D(4, 3)
    td = layers.TimeDistributed(conv)
    x = _x((2, 3, 8, 8, 2)).astype("float32")
    y = td(x)
    assert y.shape == (2, 3, 6, 6, 4) == td.compute_output_shape((2, 3, 8, 8, 2))
    np.testing.assert_allclose(y[:, 1], conv(x[:, 1]), rtol=1e-5, atol=1e-6)
    assert layers.TimeDistributed(layers.Conv2D(4, 3)).compute_output_shape(
        (None, None, 8, 8, 2)) == (None, None, 6, 6, 4)


def test_time_distributed_gradients(float64):
    td = layers.TimeDistributed(layers.Dense(3, activation="tanh"))
    errors = tape_gradient_errors(td, _x((2, 4, 5)))
    assert max(errors.values()) < 1e-6, errors
    conv = layers.TimeDistributed(layers.Conv1D(2, 2, padding="same"))
    errors = tape_gradient_errors(conv, _x((2, 3, 4, 2)))
    assert max(errors.values()) < 1e-6, errors


class _MaskSpy(layers.Layer):
    """Records the mask it is given (a layer whose call takes a mask)."""

    seen = []

    def call(self, inputs, mask=None):
        _MaskSpy.seen.append(None if mask is None else np.array(mask))
        return inputs * 2.0

    def compute_output_shape(self, input_shape):
        return input_shape


def test_time_distributed_masks():
    x = _x((2, 3, 4))
    mask = np.array([[True, True, False], [True, False, False]])
    td = layers.TimeDistributed(_MaskSpy())
    _MaskSpy.seen.clear()
    np.testing.assert_allclose(td(x, mask=mask), 2 * x)
    np.testing.assert_array_equal(_MaskSpy.seen[-1], mask.reshape(6))      # folded like x
    assert td.compute_mask(x, mask) is mask                                 # passed on
    plain = layers.TimeDistributed(layers.Dense(2))                         # takes no mask
    assert plain(x, mask=mask).shape == (2, 3, 2)
    with pytest.raises(ValueError, match=r"TimeDistributed.*mask of shape \(2, 3, \.\.\.\).*"
                                         r"received shape \(2, 4\)"):
        td(x, mask=np.ones((2, 4), bool))


def test_time_distributed_in_models_trains_and_saves(tmp_path):
    keras.utils.set_random_seed(0)
    x = _x((64, 5, 3)).astype("float32")
    y = x.sum(axis=-1, keepdims=True) * 0.5
    model = keras.Sequential([keras.Input((5, 3)),
                              layers.TimeDistributed(layers.Dense(8, activation="tanh")),
                              layers.TimeDistributed(layers.Dense(1))])
    assert model.output_shape == (None, 5, 1)
    assert model.count_params() == (3 * 8 + 8) + (8 + 1) == 41
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    model.save(tmp_path / "td.keras")
    loaded = keras.models.load_model(tmp_path / "td.keras")
    assert isinstance(loaded.layers[0], layers.TimeDistributed)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_time_distributed_config_nests_the_layer():
    td = layers.TimeDistributed(layers.Dense(4, activation="relu", name="inner"), name="td")
    cfg = td.get_config()
    assert cfg["name"] == "td"
    assert cfg["layer"]["class_name"] == "Dense" and cfg["layer"]["config"]["units"] == 4
    copy = layers.TimeDistributed.from_config(cfg)
    assert isinstance(copy.layer, layers.Dense) and copy.layer.name == "inner"
    assert copy.get_config() == cfg
    # a user layer comes back through custom_objects
    model = keras.Sequential([keras.Input((3, 2)), layers.TimeDistributed(_MaskSpy())])
    restored = keras.models.model_from_json(model.to_json(),
                                            custom_objects={"_MaskSpy": _MaskSpy})
    assert isinstance(restored.layers[0].layer, _MaskSpy)


def test_time_distributed_inside_a_subclassed_model_with_ops():
    class Tagger(keras.Model):
        def __init__(self):
            super().__init__()
            self.td = layers.TimeDistributed(layers.Dense(2))

        def call(self, x):
            return ops.mean(self.td(x), axis=1)

    model = Tagger()
    assert model(_x((4, 3, 5)).astype("float32")).shape == (4, 2)
    assert len(model.trainable_weights) == 2


def test_wrapper_errors():
    with pytest.raises(ValueError, match=r"TimeDistributed: argument `layer` must be a kerasnp"
                                         r".*instance, e.g. Dense\(8\).*Received: layer="):
        layers.TimeDistributed(layers.Dense)
    with pytest.raises(ValueError, match=r"TimeDistributed.*Received: layer='dense'"):
        layers.TimeDistributed("dense")
    with pytest.raises(ValueError, match=r"TimeDistributed.*rank >= 3.*\(None, 4\)"):
        layers.TimeDistributed(layers.Dense(2))(np.zeros((2, 4)))


def test_wrapper_base_calls_the_wrapped_layer(tmp_path):
    dense = layers.Dense(3)
    wrapper = layers.Wrapper(dense)
    x = _x((2, 4)).astype("float32")
    np.testing.assert_allclose(wrapper(x), dense(x))
    assert wrapper.compute_output_shape((None, 4)) == (None, 3)
    model = keras.Sequential([keras.Input((4,)), layers.Wrapper(layers.Dense(3))])
    model.save(tmp_path / "w.keras")
    loaded = keras.models.load_model(tmp_path / "w.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
