"""One harness runs every layer through the same checks: shapes, dtypes, config round trip,
float64 gradient check of input and weights, and a training step that changes trainable weights
only."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import config, layers as L
from _tape_check import tape_gradient_errors as layer_gradient_errors

# id -> (factory, sample shape, options). Options: training (gradient check in training mode),
# integer_input (indices: no input gradient), updates_in_training (non-trainable weights such as
# moving statistics may change in a training step), atol_scale (looser check for piecewise layers).
CASES = {
    "dense": (lambda: L.Dense(4), (5,), {}),
    "dense_relu": (lambda: L.Dense(3, activation="relu"), (6,), {}),
    "dense_tanh_3d": (lambda: L.Dense(3, activation="tanh"), (2, 5), {}),
    "dense_nobias_softmax": (lambda: L.Dense(3, use_bias=False, activation="softmax"), (4,), {}),
    "dense_gelu_l2": (lambda: L.Dense(3, activation="gelu", kernel_regularizer="l2"), (4,), {}),
    "activation_sigmoid": (lambda: L.Activation("sigmoid"), (7,), {}),
    "activation_swish": (lambda: L.Activation("swish"), (3, 2), {}),
    "relu_capped": (lambda: L.ReLU(max_value=0.8, negative_slope=0.1), (8,), {}),
    "leaky_relu": (lambda: L.LeakyReLU(), (8,), {}),
    "elu": (lambda: L.ELU(alpha=0.5), (8,), {}),
    "prelu": (lambda: L.PReLU(alpha_initializer=keras.initializers.Constant(0.25)), (6,), {}),
    "prelu_shared": (lambda: L.PReLU(alpha_initializer="random_uniform", shared_axes=[1]),
                     (3, 4), {}),
    "softmax": (lambda: L.Softmax(), (5,), {}),
    "softmax_axis1": (lambda: L.Softmax(axis=1), (3, 4), {}),
    "flatten": (lambda: L.Flatten(), (2, 3, 2), {}),
    "reshape": (lambda: L.Reshape((3, -1)), (6, 2), {}),
    "dropout": (lambda: L.Dropout(0.3), (10,), {"training": True}),
    "gaussian_noise": (lambda: L.GaussianNoise(0.2), (10,), {"training": True}),
    "layer_norm": (lambda: L.LayerNormalization(), (6,), {}),
    "layer_norm_2axes": (lambda: L.LayerNormalization(axis=[1, 2],
                                                      gamma_initializer="random_normal"),
                         (3, 4), {}),
    "embedding": (lambda: L.Embedding(10, 4), (3,), {"integer_input": True}),
}
# Layer families add their cases from their own tables (one harness for every layer).
for _module in ("_cases_conv", "_cases_pooling", "_cases_shape", "_cases_preprocessing"):
    try:
        CASES.update(__import__(_module).CASES)
    except ModuleNotFoundError as err:
        if err.name != _module:
            raise
IDS = sorted(CASES)


def _input(shape, opts, dtype="float32", batch=4, seed=0):
    rng = np.random.default_rng(seed)
    if opts.get("integer_input"):
        return rng.integers(0, 10, size=(batch,) + shape).astype(dtype)
    return rng.standard_normal((batch,) + shape).astype(dtype)


@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("case", IDS)
def test_output_shape_matches_compute_output_shape(case, batch):
    make, shape, opts = CASES[case]
    layer = make()
    x = _input(shape, opts, batch=batch)
    y = layer(x, training=opts.get("training", False))
    assert y.shape[1:] == tuple(layer.compute_output_shape((None,) + shape)[1:])
    assert y.shape[0] == x.shape[0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", IDS)
def test_dtype_is_kept(case, dtype):
    config.set_floatx(dtype)
    make, shape, opts = CASES[case]
    layer = make()
    y = layer(_input(shape, opts, dtype), training=opts.get("training", False))
    assert y.dtype == np.dtype(dtype)
    assert all(v.dtype == np.dtype(dtype) for v in layer.weights)


@pytest.mark.parametrize("case", IDS)
def test_config_round_trip(case):
    make, shape, opts = CASES[case]
    layer = make()
    x = _input(shape, opts)
    layer(x)
    cfg = layer.get_config()
    clone = type(layer).from_config(cfg)
    assert clone.get_config() == cfg
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x), layer(x))


@pytest.mark.parametrize("case", IDS)
def test_gradients_match_finite_differences(case, float64):
    make, shape, opts = CASES[case]
    layer = make()
    x = _input(shape, opts, "float64", batch=3, seed=1)
    layer(x)
    for v in layer.weights:       # move weights off their init values (zeros/ones hide bugs)
        v.value += np.random.default_rng(2).normal(0, 0.1, v.shape)
    errors = layer_gradient_errors(layer, x, training=opts.get("training", False),
                                   check_input=not opts.get("integer_input"))
    assert errors, "nothing was checked"
    bad = {k: e for k, e in errors.items() if not e < 1e-6}
    assert not bad, f"gradient mismatch for {case}: {bad}"
    expected = {v.name for v in layer.weights if v.trainable}
    if not opts.get("integer_input"):
        expected.add("input")
    assert set(errors) == expected


@pytest.mark.parametrize("case", IDS)
def test_training_step_changes_trainable_weights_only(case):
    make, shape, opts = CASES[case]
    layer = make()
    model = keras.Sequential([keras.Input(shape), layer, L.Flatten(), L.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = _input(shape, opts, batch=8)
    y = np.random.default_rng(3).standard_normal((8, 1)).astype("float32")
    before = [w.copy() for w in layer.get_weights()]
    head = model.layers[-1].get_weights()
    model.train_on_batch(x, y)
    for var, old in zip(layer.weights, before):
        changed = not np.array_equal(var.value, old)
        if var.trainable or not opts.get("updates_in_training"):
            assert changed == var.trainable, var.path
    assert not np.array_equal(model.layers[-1].get_weights()[0], head[0])

    layer.trainable = False                # a frozen layer keeps its weights
    frozen = [w.copy() for w in layer.get_weights()]
    model.train_on_batch(x, y)
    for var, old in zip(layer.weights, frozen):
        if var.trainable or not opts.get("updates_in_training"):
            np.testing.assert_array_equal(var.value, old)


@pytest.mark.parametrize("case", [c for c in IDS if not CASES[c][2].get("updates_in_training")])
def test_gradients_with_a_batch_of_one(case, float64):
    make, shape, opts = CASES[case]
    layer = make()
    x = _input(shape, opts, "float64", batch=1, seed=4)
    layer(x)
    errors = layer_gradient_errors(layer, x, training=opts.get("training", False),
                                   check_input=not opts.get("integer_input"), max_checks=20)
    bad = {k: e for k, e in errors.items() if not e < 1e-6}
    assert not bad, f"gradient mismatch for {case} at batch 1: {bad}"
