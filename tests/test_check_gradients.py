"""layer.check_gradients / model.check_gradients: float64 central differences, reports, restore."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L
from kerasnp.utils.gradient_check import layer_gradient_report, model_gradient_report


def quiet():
    lines = []
    return lines, lines.append


class WrongScale(L.Layer):
    """y = x * w with a deliberately wrong weight gradient (an extra factor 2)."""

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), "ones")

    def forward(self, x, training=False):
        self._x = x
        return x * self.w.value

    def backward(self, dy):
        self.w.grad += 2 * (dy * self._x).sum(axis=0)    # wrong: dW = Σ dy·x
        return dy * self.w.value                           # right


def snapshot(layer_or_model):
    return [(v.value, v.value.dtype, v.value.copy(), v.grad) for v in layer_or_model.weights]


def assert_unchanged(layer_or_model, snap):
    for v, (arr, dtype, copy, grad) in zip(layer_or_model.weights, snap):
        assert v.value is arr and v.grad is grad          # the very same arrays are back
        assert v.value.dtype == dtype == np.float32
        np.testing.assert_array_equal(v.value, copy)


@pytest.mark.parametrize("make, shape", [
    (lambda: L.Dense(4, activation="tanh"), (3, 5)),
    (lambda: L.Conv2D(3, 3, padding="same", activation="sigmoid"), (2, 5, 5, 2)),
])
def test_layer_check_gradients_float32_layer(make, shape):
    layer = make()
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    layer(x)                                               # float32 weights
    snap = snapshot(layer)
    lines, fn = quiet()
    errors = layer.check_gradients(x, print_fn=fn)
    assert set(errors) == {"input", "kernel", "bias"}
    assert max(errors.values()) < 1e-6
    assert_unchanged(layer, snap)
    assert lines[0].startswith(f'Gradient check: layer "{layer.name}"')
    assert "Max rel. error" in lines[2] and lines[-1].startswith(" OK: all 3 gradients match")
    assert sum("│ ok │" in t for t in lines) == 3


def test_layer_report_flags_a_wrong_backward_and_builds_unbuilt_layers():
    layer = WrongScale(name="wrong")
    x = np.random.default_rng(1).standard_normal((4, 3))
    lines, fn = quiet()
    errors = layer_gradient_report(layer, x, print_fn=fn)
    assert layer.built and errors["w"] > 1e-2 and errors["input"] < 1e-6
    row = next(t for t in lines if "│ w " in t)
    assert row.rstrip().endswith("FAIL │")
    assert lines[-1].startswith(" FAIL: 1 of 2 gradients exceed tol=1e-05: wrong/w")


def blobs(n=12, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype("float32"), rng.integers(0, k, n)


def test_model_check_gradients_mlp_with_regularizer_dropout_and_fused_softmax():
    model = keras.Sequential([
        keras.Input((5,)), L.Dense(8, activation="tanh", kernel_regularizer="l2"),
        L.Dropout(0.5), L.Dense(6, activation="sigmoid", activity_regularizer="l2"),
        L.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = blobs()
    lines, fn = quiet()
    errors = model.check_gradients(x, y, print_fn=fn)
    assert set(errors) == {(l.name, w) for l in model.layers if l.weights
                           for w in ("kernel", "bias")}
    assert max(errors.values()) < 1e-6, errors
    assert lines[-1].startswith(" OK: all 6 gradients match")
    assert "FAIL" not in "\n".join(lines)


def test_model_check_gradients_small_cnn_with_batch_norm():
    keras.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((6, 6, 2)), L.Conv2D(3, 3, activation="tanh"), L.BatchNormalization(),
        L.MaxPooling2D(2), L.Flatten(), L.Dense(4, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    rng = np.random.default_rng(3)
    bn = model.layers[1]
    bn.moving_mean.value[:] = rng.normal(0, 0.2, 3)        # non-trivial inference statistics
    bn.moving_variance.value[:] = rng.uniform(0.5, 2, 3)
    bn.gamma.value[:] = rng.uniform(0.5, 2, 3)
    x = rng.standard_normal((5, 6, 6, 2))
    y = keras.utils.to_categorical(rng.integers(0, 4, 5), 4)
    snap = snapshot(model)
    lines, fn = quiet()
    errors = model.check_gradients(x, y, print_fn=fn)
    assert set(errors) == {("conv2d", "kernel"), ("conv2d", "bias"),
                           ("batch_normalization", "gamma"), ("batch_normalization", "beta"),
                           ("dense", "kernel"), ("dense", "bias")}
    assert max(errors.values()) < 1e-6, errors
    assert_unchanged(model, snap)                          # moving statistics untouched too


def test_model_report_flags_the_wrong_layer_only():
    model = keras.Sequential([keras.Input((5,)), L.Dense(4, activation="tanh"),
                              WrongScale(name="wrong"), L.Dense(1)])
    model.compile("adam", "mse")
    x = np.random.default_rng(0).standard_normal((8, 5))
    y = np.random.default_rng(1).standard_normal((8, 1))
    lines, fn = quiet()
    errors = model_gradient_report(model, x, y, print_fn=fn)
    assert errors[("wrong", "w")] > 1e-2
    # Layers below still get the right gradient: WrongScale's dx is correct.
    assert max(e for k, e in errors.items() if k[0] != "wrong") < 1e-6
    fails = [t for t in lines if "FAIL" in t]
    assert len(fails) == 2 and "│ wrong " in fails[0]      # the row and the summary line
    assert fails[1].startswith(" FAIL: 1 of 5 gradients exceed")


def test_float32_model_is_left_unchanged_and_still_trains():
    model = keras.Sequential([keras.Input((5,)), L.Dense(4, activation="relu"),
                              L.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    x, y = blobs()
    snap = snapshot(model)
    model.check_gradients(x, y, print_fn=lambda line: None)
    assert_unchanged(model, snap)
    assert all(l._needs_dx for l in model.layers)          # training flags restored
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=3, batch_size=12, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
    assert model.predict(x, verbose=0).dtype == np.float32


def test_functional_two_inputs_nested_and_frozen_layers():
    inner_in = keras.Input((4,))
    inner = keras.Model(inner_in, L.Dense(3, activation="tanh", name="inner_dense")(inner_in))
    a, b = keras.Input((4,)), keras.Input((2,))
    frozen = L.Dense(4, name="frozen", trainable=False)
    h = L.Concatenate()([inner(a), frozen(b)])
    model = keras.Model([a, b], L.Dense(2, name="head")(h))
    model.compile("adam", "mse")
    rng = np.random.default_rng(0)
    xa, xb = rng.standard_normal((6, 4)), rng.standard_normal((6, 2))
    y = rng.standard_normal((6, 2))
    errors = model.check_gradients([xa, xb], y, print_fn=lambda line: None)
    assert set(errors) == {("inner_dense", "kernel"), ("inner_dense", "bias"),
                           ("head", "kernel"), ("head", "bias")}   # frozen weights skipped
    assert max(errors.values()) < 1e-6


def test_model_check_needs_compile():
    model = keras.Sequential([keras.Input((3,)), L.Dense(1)])
    with pytest.raises(RuntimeError, match="compile"):
        model.check_gradients(np.ones((2, 3)), np.ones((2, 1)))
