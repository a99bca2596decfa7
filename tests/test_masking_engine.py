"""Mask propagation in functional and Sequential models (Keras 3's rules), with user layers:
a mask maker (`supports_masking` + its own `compute_mask`), pass-through layers, a layer that
ends the mask, masks handed to `call(mask=)` and to `<arg>_mask=` parameters."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import ops
from kerasnp.layers import Layer


class ZeroMask(Layer):
    """Marks a step as padding when its first feature is 0 (like Embedding(mask_zero=True))."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_mask(self, inputs, previous_mask=None):
        return np.asarray(inputs)[..., 0] != 0


class PassThrough(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs * 2.0


class Plain(Layer):
    """Does not support masking: the mask ends here."""

    def call(self, inputs):
        return inputs + 0.0


class MaskedMean(Layer):
    """Mean over the unmasked steps; records the mask it received."""

    seen = []

    def call(self, inputs, mask=None):
        MaskedMean.seen.append(None if mask is None else np.array(mask))
        if mask is None:
            return ops.mean(inputs, axis=1)
        w = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        return ops.sum(inputs * w, axis=1) / ops.maximum(ops.sum(w, axis=1), 1.0)


def _data():
    x = np.random.default_rng(0).normal(size=(3, 5, 2)).astype("float32")
    x[0, 3:, 0] = 0.0
    x[2, 1:, 0] = 0.0
    return x


def _masked_mean(x, scale=1.0):
    m = (x[..., 0] != 0).astype("float32")[..., None]
    return (x * scale * m).sum(1) / np.maximum(m.sum(1), 1)


def test_functional_model_hands_the_mask_through_supporting_layers():
    MaskedMean.seen.clear()
    inp = keras.Input((5, 2))
    out = MaskedMean()(PassThrough()(ZeroMask()(inp)))
    model = keras.Model(inp, out)
    x = _data()
    np.testing.assert_allclose(model.predict(x, verbose=0), _masked_mean(x, 2.0), rtol=1e-5)
    np.testing.assert_array_equal(MaskedMean.seen[-1], x[..., 0] != 0)


def test_sequential_propagates_masks_too():
    MaskedMean.seen.clear()
    model = keras.Sequential([keras.Input((5, 2)), ZeroMask(), MaskedMean()])
    x = _data()
    np.testing.assert_allclose(model(x), _masked_mean(x), rtol=1e-5)


def test_a_layer_without_masking_support_ends_the_mask():
    MaskedMean.seen.clear()
    inp = keras.Input((5, 2))
    model = keras.Model(inp, MaskedMean()(Plain()(ZeroMask()(inp))))
    x = _data()
    np.testing.assert_allclose(model(x), x.mean(1), rtol=1e-5)
    assert MaskedMean.seen[-1] is None


def test_models_without_mask_makers_take_the_plain_path():
    inp = keras.Input((5, 2))
    model = keras.Model(inp, MaskedMean()(PassThrough()(inp)))
    assert not model._mask_makers
    inp = keras.Input((5, 2))
    assert keras.Model(inp, MaskedMean()(ZeroMask()(inp)))._mask_makers


class TwoInputs(Layer):
    """A call with two tensor arguments: the engine fills `query_mask` and `value_mask`."""

    seen = {}

    def call(self, query, value, query_mask=None, value_mask=None):
        TwoInputs.seen = {"query_mask": query_mask, "value_mask": value_mask}
        return query + ops.mean(value, axis=1, keepdims=True)


def test_named_mask_parameters_get_the_mask_of_their_argument():
    q_in, v_in = keras.Input((5, 2)), keras.Input((4, 2))
    q = ZeroMask()(q_in)
    out = TwoInputs()(q, v_in)
    model = keras.Model([q_in, v_in], out)
    x = _data()
    v = np.ones((3, 4, 2), "float32")
    model([x, v])
    np.testing.assert_array_equal(TwoInputs.seen["query_mask"], x[..., 0] != 0)
    assert TwoInputs.seen["value_mask"] is None
    # both masked; value passed by keyword
    q_in, v_in = keras.Input((5, 2)), keras.Input((4, 2))
    out = TwoInputs()(ZeroMask()(q_in), value=ZeroMask()(v_in))
    model = keras.Model([q_in, v_in], out)
    v[1, 2:, 0] = 0.0
    model([x, v])
    np.testing.assert_array_equal(TwoInputs.seen["query_mask"], x[..., 0] != 0)
    np.testing.assert_array_equal(TwoInputs.seen["value_mask"], v[..., 0] != 0)


def test_an_explicit_mask_is_not_replaced():
    q_in, v_in = keras.Input((5, 2)), keras.Input((4, 2))
    fixed = np.ones((3, 4), bool)
    out = TwoInputs()(q_in, ZeroMask()(v_in), value_mask=fixed)
    model = keras.Model([q_in, v_in], out)
    v = np.ones((3, 4, 2), "float32")
    v[:, 0, 0] = 0
    model([_data(), v])
    np.testing.assert_array_equal(TwoInputs.seen["value_mask"], fixed)


class Split(Layer):
    """Two outputs with one mask each (as an RNN with return_state)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        return [inputs, inputs * 3.0]

    def compute_output_shape(self, input_shape):
        return [input_shape, input_shape]

    def compute_mask(self, inputs, previous_mask=None):
        return [previous_mask, None]


def test_each_output_of_a_multi_output_layer_has_its_own_mask():
    MaskedMean.seen.clear()
    inp = keras.Input((5, 2))
    a, b = Split()(ZeroMask()(inp))
    model = keras.Model(inp, [MaskedMean()(a), MaskedMean()(b)])
    x = _data()
    ya, yb = model(x)
    np.testing.assert_allclose(ya, _masked_mean(x), rtol=1e-5)
    np.testing.assert_allclose(yb, 3 * x.mean(1), rtol=1e-5)


def test_a_nested_model_receives_the_outer_mask():
    MaskedMean.seen.clear()
    inner_in = keras.Input((5, 2))
    inner = keras.Model(inner_in, MaskedMean()(PassThrough()(inner_in)))
    inp = keras.Input((5, 2))
    model = keras.Model(inp, inner(ZeroMask()(inp)))
    x = _data()
    np.testing.assert_allclose(model(x), _masked_mean(x, 2.0), rtol=1e-5)


def test_masked_model_trains_and_its_gradient_is_exact():
    keras.utils.set_random_seed(0)
    inp = keras.Input((5, 2))
    out = keras.layers.Dense(1)(MaskedMean()(ZeroMask()(inp)))
    model = keras.Model(inp, out)
    x = _data()
    y = np.ones((3, 1), "float32")
    with keras.GradientTape() as tape:
        pred = model(x, training=True)
        loss = ops.mean(ops.square(pred - y))
    grads = tape.gradient(loss, model.trainable_variables)
    kernel = model.trainable_variables[0].numpy()
    m = (x[..., 0] != 0)[..., None]
    pooled = (x * m).sum(1) / m.sum(1)
    resid = pooled @ kernel + model.trainable_variables[1].numpy() - y
    np.testing.assert_allclose(grads[0], pooled.T @ (2 * resid / 3), rtol=1e-4)
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit(x, y, epochs=20, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]


def test_default_compute_mask_passes_the_mask_on():
    layer = PassThrough()
    m = np.array([[True, False]])
    assert layer.compute_mask(np.zeros((1, 2, 1)), m) is m
    assert keras.layers.Layer.supports_masking is False

