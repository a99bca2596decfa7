"""Merging layers (Add ... Concatenate, Dot) and Lambda: forward values against NumPy, float64
finite-difference gradients for every input, ties, shapes, configs, errors naming both inbound
layers, torch parity, and a two-input functional model trained with fit."""
import inspect
import json

import numpy as np
import pytest

import kerasnp as keras
from kerasnp.layers import shape_utils
from kerasnp.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,
                                    Subtract)
from kerasnp.autodiff import GradientTape
from kerasnp.layers.shape_utils import Identity, Lambda, Permute, RepeatVector

from _tape_check import tape_gradient_errors as layer_gradient_errors
from _tape_check import tape_gradients


def _cos(a, b, axis):
    na = np.maximum(np.linalg.norm(a, axis=axis, keepdims=True), 1e-7)
    nb = np.maximum(np.linalg.norm(b, axis=axis, keepdims=True), 1e-7)
    return a / na, b / nb


def _cos2d(a, b):
    u, v = _cos(a, b, 1)
    return np.sum(u * v, axis=1, keepdims=True)


# id -> (factory, per-sample input shapes, NumPy reference of the list of inputs)
MERGES = {
    "add2": (Add, [(3, 2), (3, 2)], lambda x: x[0] + x[1]),
    "add3": (Add, [(4,)] * 3, lambda x: x[0] + x[1] + x[2]),
    "subtract": (Subtract, [(5,), (5,)], lambda x: x[0] - x[1]),
    "multiply2": (Multiply, [(5,), (5,)], lambda x: x[0] * x[1]),
    "multiply3": (Multiply, [(2, 3)] * 3, lambda x: x[0] * x[1] * x[2]),
    "average2": (Average, [(5,), (5,)], lambda x: (x[0] + x[1]) / 2),
    "average3": (Average, [(4,)] * 3, lambda x: (x[0] + x[1] + x[2]) / 3),
    "maximum2": (Maximum, [(6,), (6,)], lambda x: np.maximum(x[0], x[1])),
    "maximum3": (Maximum, [(2, 3)] * 3, lambda x: np.maximum.reduce(x)),
    "minimum2": (Minimum, [(6,), (6,)], lambda x: np.minimum(x[0], x[1])),
    "minimum3": (Minimum, [(4,)] * 3, lambda x: np.minimum.reduce(x)),
    "concat_last": (Concatenate, [(2,), (3,), (5,)], lambda x: np.concatenate(x, axis=-1)),
    "concat_axis1": (lambda: Concatenate(axis=1), [(2, 3), (4, 3)],
                     lambda x: np.concatenate(x, axis=1)),
    "concat_axis2_3d": (lambda: Concatenate(axis=2), [(2, 1, 3), (2, 4, 3)],
                        lambda x: np.concatenate(x, axis=2)),
    "dot_2d": (lambda: Dot(axes=1), [(5,), (5,)],
               lambda x: np.sum(x[0] * x[1], axis=1, keepdims=True)),
    "dot_2d_neg": (lambda: Dot(axes=-1), [(4,), (4,)],
                   lambda x: np.sum(x[0] * x[1], axis=1, keepdims=True)),
    "dot_3d_last": (lambda: Dot(axes=2), [(3, 4), (5, 4)],
                    lambda x: np.einsum("bnd,bmd->bnm", x[0], x[1])),
    "dot_3d_first": (lambda: Dot(axes=(1, 1)), [(3, 4), (3, 2)],
                     lambda x: np.einsum("bnd,bne->bde", x[0], x[1])),
    "dot_3d_cross": (lambda: Dot(axes=(1, 2)), [(5, 2), (2, 5)],
                     lambda x: np.einsum("bki,bjk->bij", x[0], x[1])),
    "dot_mixed_rank": (lambda: Dot(axes=1), [(4,), (4, 3)],
                       lambda x: np.einsum("bd,bdm->bm", x[0], x[1])),
    "dot_2d_normalize": (lambda: Dot(axes=1, normalize=True), [(5,), (5,)],
                         lambda x: _cos2d(x[0], x[1])),
    "dot_3d_normalize": (lambda: Dot(axes=2, normalize=True), [(3, 4), (2, 4)],
                         lambda x: np.einsum("bnd,bmd->bnm", *_cos(x[0], x[1], 2))),
}
IDS = sorted(MERGES)


def _inputs(shapes, dtype="float64", batch=3, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((batch,) + s).astype(dtype) for s in shapes]


def _dx(layer, x, dy):
    """The tape's gradient of `sum(layer(x) * dy)` for each input (a list for a list `x`)."""
    dxs, _ = tape_gradients(layer, x, dy)
    return dxs if isinstance(x, (list, tuple)) else dxs[0]


def _list_gradient_errors(layer, xs, eps=1e-6, seed=0):
    """Max relative error of the tape's gradient for each input vs float64 central differences."""
    xs = [np.array(x, dtype=np.float64) for x in xs]
    y = layer.forward(xs)
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    grads = _dx(layer, xs, dy.copy())
    assert isinstance(grads, list) and len(grads) == len(xs)
    errors = []
    for x, g in zip(xs, grads):
        assert g.shape == x.shape
        flat, num = x.reshape(-1), np.zeros(x.size)
        for i in range(x.size):
            old = flat[i]
            flat[i] = old + eps
            fp = np.sum(layer.forward(xs) * dy)
            flat[i] = old - eps
            fm = np.sum(layer.forward(xs) * dy)
            flat[i] = old
            num[i] = (fp - fm) / (2 * eps)
        scale = max(np.abs(num).max(), np.abs(g).max(), 1e-8)
        errors.append(float(np.abs(g.reshape(-1) - num).max() / scale))
    return errors


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", IDS)
def test_forward_matches_numpy_and_keeps_dtype(case, dtype):
    make, shapes, ref = MERGES[case]
    xs = _inputs(shapes, dtype)
    layer = make()
    y = layer(xs)
    assert y.dtype == np.dtype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(y, ref([x.astype("float64") for x in xs]), rtol=tol, atol=tol)
    assert y.shape[1:] == layer.compute_output_shape([(None,) + s for s in shapes])[1:]


@pytest.mark.parametrize("case", IDS)
def test_gradient_of_each_input_matches_finite_differences(case, float64):
    make, shapes, _ = MERGES[case]
    layer = make()
    xs = _inputs(shapes, seed=1)
    layer(xs)
    errors = _list_gradient_errors(layer, xs)
    assert len(errors) == len(shapes)
    assert max(errors) < 1e-7, errors


@pytest.mark.parametrize("cls", [Maximum, Minimum])
def test_ties_send_the_gradient_to_exactly_one_input(cls):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 5))
    b = np.where(rng.random((4, 5)) < 0.5, a, rng.standard_normal((4, 5)))   # partial ties
    xs = [a, a.copy(), b]
    layer = cls()
    y = layer(xs)
    np.testing.assert_array_equal(y, (np.maximum if cls is Maximum else np.minimum).reduce(xs))
    dy = rng.standard_normal(y.shape) + 5.0                                  # no zero entries
    grads = np.stack(_dx(layer, xs, dy))
    assert np.all(np.count_nonzero(grads, axis=0) == 1)
    np.testing.assert_array_equal(grads.sum(axis=0), dy)
    assert np.all(grads[1] == 0)            # a full tie with input 0 goes to input 0 only
    win = (b > a) if cls is Maximum else (b < a)
    np.testing.assert_array_equal(grads[2] != 0, win)


@pytest.mark.parametrize("scale", [0.0, 1e-9])
def test_dot_normalize_below_epsilon_divides_by_epsilon(scale, float64):
    """`x / max(‖x‖, ε)`: below ε the norm is the constant ε, so dx = du / ε (no projection)."""
    rng = np.random.default_rng(0)
    a, b = scale * rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    v = b / np.linalg.norm(b, axis=1, keepdims=True)
    layer = Dot(axes=1, normalize=True)
    np.testing.assert_allclose(layer([a, b]), np.sum(a / 1e-7 * v, axis=1, keepdims=True))
    dy = rng.standard_normal((2, 1))
    da, db = _dx(layer, [a, b], dy)
    assert np.all(np.isfinite(da)) and np.all(np.isfinite(db))
    np.testing.assert_allclose(da, dy * v / 1e-7, rtol=1e-9)


# -- Concatenate sizes and shapes -----------------------------------------------------------------
@pytest.mark.parametrize("axis", [1, -1])
def test_concatenate_different_sizes_2d(axis):
    xs = _inputs([(2,), (3,), (1,)], "float32")
    layer = Concatenate(axis=axis)
    y = layer(xs)
    assert y.shape == (3, 6)
    np.testing.assert_array_equal(y[:, 2:5], xs[1])
    grads = _dx(layer, xs, np.arange(18, dtype="float32").reshape(3, 6))
    assert [g.shape for g in grads] == [(3, 2), (3, 3), (3, 1)]
    np.testing.assert_array_equal(grads[2][:, 0], [5, 11, 17])


@pytest.mark.parametrize("axis, expected", [(1, (None, 7, 3)), (-1, (None, 2, 8))])
def test_concatenate_3d_axis_1_and_last_symbolic(axis, expected):
    a, b = keras.Input((2, 3)), keras.Input((5, 3) if axis == 1 else (2, 5))
    out = Concatenate(axis=axis)([a, b])
    assert out.shape == expected
    model = keras.Model([a, b], out)
    xs = _inputs([(2, 3), (5, 3) if axis == 1 else (2, 5)], "float32")
    np.testing.assert_array_equal(model(xs), np.concatenate(xs, axis=axis))


def test_concatenate_unknown_size_gives_none():
    a, b = keras.Input((None, 3)), keras.Input((4, 3))
    assert Concatenate(axis=1)([a, b]).shape == (None, None, 3)
    assert Add()([a, b]).shape == (None, 4, 3)


# -- config -----------------------------------------------------------------------------------
@pytest.mark.parametrize("case", IDS)
def test_config_round_trip(case):
    make, shapes, _ = MERGES[case]
    layer = make()
    xs = _inputs(shapes, "float32")
    y = layer(xs)
    cfg = layer.get_config()
    json.dumps(cfg)
    clone = type(layer).from_config(cfg)
    assert clone.get_config() == cfg
    np.testing.assert_array_equal(clone(xs), y)


def test_dot_config_keeps_axes_and_normalize():
    cfg = Dot(axes=(1, 2), normalize=True, name="sim").get_config()
    assert cfg["axes"] == [1, 2] and cfg["normalize"] is True and cfg["name"] == "sim"
    assert Dot.from_config(cfg).axes == (1, 2)
    assert Concatenate(axis=1).get_config()["axis"] == 1


# -- errors ------------------------------------------------------------------------------------
def test_mismatched_shapes_name_both_layers_and_shapes():
    inp = keras.Input((5,))
    left = keras.layers.Dense(3, name="left_branch")(inp)
    right = keras.layers.Dense(4, name="right_branch")(inp)
    with pytest.raises(ValueError) as err:
        keras.Model(inp, Add(name="join")([left, right]))
    msg = str(err.value)
    for part in ("left_branch", "right_branch", "(None, 3)", "(None, 4)", "'join' (Add)"):
        assert part in msg, msg


def test_dot_mismatched_axes_name_both_layers():
    inp = keras.Input((5,))
    a = keras.layers.Dense(3, name="query")(inp)
    b = keras.layers.Dense(6, name="key")(inp)
    with pytest.raises(ValueError, match=r"query.*key|same size") as err:
        Dot(axes=1)([a, b])
    assert "query" in str(err.value) and "key" in str(err.value)
    assert "(None, 3)" in str(err.value) and "(None, 6)" in str(err.value)


def test_concatenate_mismatch_names_both_shapes():
    a, b = keras.Input((2, 3)), keras.Input((2, 4))
    with pytest.raises(ValueError, match=r"except on axis 1.*\(None, 2, 3\) and \(None, 2, 4\)"):
        Concatenate(axis=1)([a, b])


def test_subtract_and_dot_need_exactly_two_inputs():
    xs = [keras.Input((3,)) for _ in range(3)]
    with pytest.raises(ValueError, match="exactly 2 inputs, received 3"):
        Subtract()(xs)
    with pytest.raises(ValueError, match="exactly 2 inputs, received 3"):
        Subtract()(_inputs([(3,)] * 3))
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        Dot(axes=1)(xs)


@pytest.mark.parametrize("axis", [0, -3, 2, 7])
def test_concatenate_bad_axis(axis):
    with pytest.raises(ValueError, match=f"axis={axis}"):
        Concatenate(axis=axis)(_inputs([(2,), (3,)]))


def test_concatenate_axis_must_be_int():
    with pytest.raises(TypeError, match="axis"):
        Concatenate(axis=1.0)


@pytest.mark.parametrize("cls", [Add, Subtract, Multiply, Average, Maximum, Minimum,
                                 Concatenate, lambda: Dot(1)])
def test_merge_given_a_single_tensor(cls):
    with pytest.raises(ValueError, match="list of .*single tensor.*Received: input_shape="
                                         r"\(None, 4\)"):
        cls()(keras.Input((4,)))
    with pytest.raises(ValueError, match="single tensor"):
        cls()(np.ones((2, 4)))
    with pytest.raises(ValueError, match="at least 2|exactly 2"):
        cls()([keras.Input((4,))])


@pytest.mark.parametrize("axes", [0, (0, 1), (1, 2, 1), "1", 1.5, True])
def test_dot_bad_axes(axes):
    with pytest.raises((ValueError, TypeError), match="axes"):
        Dot(axes=axes)


def test_dot_axis_out_of_range():
    with pytest.raises(ValueError, match="axis 3 of input 0"):
        Dot(axes=3)(_inputs([(2,), (2,)]))


def test_merge_layers_drop_dx_for_model_inputs_but_model_gradient_is_right(float64):
    """The tape's gradient through Dot, Concatenate, Multiply and a fan-out (Add of one tensor
    twice) against central differences of the whole model's output: for the model's inputs when
    they are watched, and for the weights when they are not (the merge layers then skip dx)."""
    a, b = keras.Input((3, 4)), keras.Input((2, 4))
    d = Dot(axes=2)([a, b])                                   # (3, 2)
    m = Multiply()([d, d])
    c = Concatenate(axis=1)([m, Add()([d, d])])               # (3, 4)
    out = keras.layers.Dense(2)(keras.layers.Flatten()(Maximum()([c, Subtract()([c, c])])))
    model = keras.Model([a, b], out)
    xs = _inputs([(3, 4), (2, 4)], seed=4)
    y = model(xs)
    dy = np.random.default_rng(5).standard_normal(y.shape)
    with GradientTape() as tape:
        tape.watch(xs)
        y = model(xs)
    grads = tape.gradient(y, xs, output_gradients=dy)
    with GradientTape() as tape:                      # inputs not watched: no dx for them
        y = model(xs)
    kernel = model.layers[-1].kernel
    dk = tape.gradient(y, kernel, output_gradients=dy)
    for x, g in zip(xs + [kernel.value], grads + [dk]):
        flat, num = x.reshape(-1), np.zeros(x.size)
        for i in range(x.size):
            old = flat[i]
            flat[i] = old + 1e-6
            fp = np.sum(model(xs) * dy)
            flat[i] = old - 1e-6
            fm = np.sum(model(xs) * dy)
            flat[i] = old
            num[i] = (fp - fm) / 2e-6
        np.testing.assert_allclose(g.reshape(-1), num, rtol=1e-6, atol=1e-7)


# -- torch parity -------------------------------------------------------------------------------
TORCH = {
    "add3": (Add, [(4,)] * 3, lambda t, x: x[0] + x[1] + x[2]),
    "multiply3": (Multiply, [(2, 3)] * 3, lambda t, x: x[0] * x[1] * x[2]),
    "concat_axis1": (lambda: Concatenate(axis=1), [(2, 3), (4, 3)],
                     lambda t, x: t.cat(x, dim=1)),
    "dot_2d": (lambda: Dot(axes=1), [(5,), (5,)],
               lambda t, x: (x[0] * x[1]).sum(dim=1, keepdim=True)),
    "dot_3d": (lambda: Dot(axes=2), [(3, 4), (5, 4)],
               lambda t, x: t.bmm(x[0], x[1].transpose(1, 2))),
    "dot_3d_cross": (lambda: Dot(axes=(1, 2)), [(5, 2), (2, 5)],
                     lambda t, x: t.bmm(x[0].transpose(1, 2), x[1].transpose(1, 2))),
    "dot_normalize": (lambda: Dot(axes=2, normalize=True), [(3, 4), (2, 4)],
                      lambda t, x: t.bmm(t.nn.functional.normalize(x[0], dim=2, eps=1e-7),
                                         t.nn.functional.normalize(x[1], dim=2, eps=1e-7)
                                         .transpose(1, 2))),
}


@pytest.mark.parametrize("case", sorted(TORCH))
def test_torch_parity(case, float64):
    torch = pytest.importorskip("torch")
    make, shapes, ref = TORCH[case]
    xs = _inputs(shapes, seed=7)
    layer = make()
    y = layer(xs)
    dy = np.random.default_rng(8).standard_normal(y.shape)
    grads = _dx(layer, xs, dy)
    tx = [torch.tensor(x, requires_grad=True) for x in xs]
    ty = ref(torch, tx)
    (ty * torch.tensor(dy)).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=0, atol=1e-10)
    for g, t in zip(grads, tx):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=0, atol=1e-10)


# -- end to end -------------------------------------------------------------------------------
def test_two_input_functional_model_trains_with_fit():
    keras.utils.set_random_seed(0)
    in1, in2 = keras.Input((4,), name="x1"), keras.Input((3,), name="x2")
    h1 = keras.layers.Dense(8, activation="tanh")(in1)
    h2 = keras.layers.Dense(8, activation="tanh")(in2)
    merged = Concatenate()([Add()([h1, h2]), in2])
    out = keras.layers.Dense(1)(merged)
    model = keras.Model([in1, in2], out)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    rng = np.random.default_rng(0)
    x1 = rng.standard_normal((128, 4)).astype("float32")
    x2 = rng.standard_normal((128, 3)).astype("float32")
    y = (x1[:, :1] * x2[:, 1:2] + x1[:, 2:3] - x2[:, :1]).astype("float32")
    history = model.fit([x1, x2], y, epochs=8, batch_size=16, verbose=0)
    loss = history.history["loss"]
    assert len(loss) == 8 and loss[-1] < 0.7 * loss[0], loss
    assert model.predict([x1, x2], verbose=0).shape == (128, 1)


# -- shape utils: Permute / RepeatVector errors, Lambda -------------------------------------------
@pytest.mark.parametrize("dims", [(1, 1), (0, 1), (2, 3), (), "12", (1, 2.0), None])
def test_permute_bad_dims(dims):
    with pytest.raises(ValueError, match="permutation"):
        Permute(dims)


def test_permute_values_and_rank_check():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(Permute((2, 1))(x), x.transpose(0, 2, 1))
    with pytest.raises(ValueError, match="2 non-batch axes"):
        Permute((2, 1))(keras.Input((3, 4, 5)))


def test_repeat_vector_values_and_errors():
    x = np.arange(6.0).reshape(2, 3)
    layer = RepeatVector(2)
    np.testing.assert_array_equal(layer(x), np.stack([x, x], axis=1))
    np.testing.assert_array_equal(_dx(layer, x, np.ones((2, 2, 3))), np.full((2, 3), 2.0))
    with pytest.raises(ValueError, match="positive integer"):
        RepeatVector(0)
    with pytest.raises(ValueError, match="2-D input"):
        RepeatVector(2)(keras.Input((3, 4)))


def double(x):
    return 2.0 * x


def double_grad(dy, x, y):
    return 2.0 * dy


def test_identity_passes_through():
    x = np.ones((2, 3), "float32")
    assert Identity()(x) is x


def test_lambda_forward_and_user_backward_gradient(float64):
    layer = Lambda(lambda x: np.sin(x) * x, backward=lambda dy, x, y: dy * (np.cos(x) * x +
                                                                            np.sin(x)))
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_allclose(layer(x), np.sin(x) * x)
    errors = layer_gradient_errors(layer, x)
    assert set(errors) == {"input"} and errors["input"] < 1e-7


def test_lambda_on_a_list_of_inputs_with_backward(float64):
    layer = Lambda(lambda x: x[0] * x[1], output_shape=(3,),
                   backward=lambda dy, x, y: [dy * x[1], dy * x[0]])
    a, b = keras.Input((3,)), keras.Input((3,))
    assert layer([a, b]).shape == (None, 3)
    assert max(_list_gradient_errors(layer, _inputs([(3,), (3,)]))) < 1e-7


def test_lambda_of_ops_is_differentiated_by_the_tape(float64):
    from kerasnp import ops
    layer = Lambda(lambda x: ops.exp(x) * x + 2.0 * x[:, :1])
    x = np.random.default_rng(1).standard_normal((3, 4))
    np.testing.assert_allclose(layer(x), np.exp(x) * x + 2.0 * x[:, :1])
    errors = layer_gradient_errors(layer, x)
    assert set(errors) == {"input"} and errors["input"] < 1e-7
    a, b = _inputs([(3,), (3,)])                      # a list input, written with operators
    assert max(_list_gradient_errors(Lambda(lambda x: x[0] * x[1] - x[1]), [a, b])) < 1e-7


def test_lambda_of_numpy_without_backward_is_inference_only():
    layer = Lambda(lambda a: np.sin(np.asarray(a)), name="twice")   # values leave the tape
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(layer(x), np.sin(x))
    with GradientTape() as tape:                      # nothing upstream needs a gradient: fine
        np.testing.assert_array_equal(layer(x), np.sin(x))
    with pytest.raises(NotImplementedError, match=r"'twice' \(Lambda\).*inference-only.*backward="):
        _dx(layer, x, np.ones_like(x))
    # A NumPy ufunc applied to a tape tensor runs the op of the same name, so it records.
    np.testing.assert_allclose(_dx(Lambda(np.sin), x, np.ones_like(x)), np.cos(x), rtol=1e-6)


def test_lambda_backward_with_wrong_shape_is_reported():
    layer = Lambda(double, backward=lambda dy, x, y: dy[:, :1])
    layer(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"input's shape \(2, 3\).*\(2, 1\)"):
        _dx(layer, np.ones((2, 3)), np.ones((2, 3)))


def test_lambda_output_shape_inferred_given_or_callable():
    inp = keras.Input((4, 6))
    assert Lambda(lambda x: x.sum(axis=1))(inp).shape == (None, 6)
    assert Lambda(lambda x: x[:, :2], output_shape=(2, 6))(inp).shape == (None, 2, 6)
    assert Lambda(lambda x: x.reshape(len(x), -1),
                  output_shape=lambda s: (s[0], s[1] * s[2]))(inp).shape == (None, 24)
    with pytest.raises(ValueError, match="output_shape="):
        Lambda(lambda x: x.sum(axis=1))(keras.Input((None, 6)))
    with pytest.raises(ValueError, match="could not infer"):
        Lambda(lambda x: x.reshape(5, 5))(inp)


def test_lambda_bad_arguments():
    with pytest.raises(TypeError, match="function must be callable"):
        Lambda("x * 2")
    with pytest.raises(TypeError, match="backward must be None or a callable"):
        Lambda(double, backward="2 * dy")
    with pytest.raises(TypeError, match="output_shape"):
        Lambda(double, output_shape=3)


def test_lambda_config_stores_names_only_and_needs_custom_objects():
    layer = Lambda(double, backward=double_grad, name="twice")
    x = np.ones((2, 3), "float32")
    layer(x)
    cfg = layer.get_config()
    assert cfg["function"] == "double" and cfg["backward"] == "double_grad"
    assert cfg["output_shape"] is None
    assert json.loads(json.dumps(cfg)) == cfg           # plain JSON: names, no code
    with pytest.raises(ValueError, match="custom objects.*'double'"):
        Lambda.from_config(cfg)
    with pytest.raises(ValueError, match="backward 'double_grad'"):
        Lambda.from_config(cfg, custom_objects={"double": double})
    clone = Lambda.from_config(cfg, custom_objects={"double": double, "double_grad": double_grad})
    assert clone.get_config() == cfg
    np.testing.assert_array_equal(clone(x), layer(x))
    anon = Lambda(lambda t: t).get_config()
    with pytest.raises(ValueError, match="define it with def"):
        Lambda.from_config(anon)


def test_lambda_module_never_loads_code():
    src = inspect.getsource(shape_utils)
    for banned in ("import pickle", "marshal", "eval(", "exec(", "importlib", "__import__",
                   "compile("):
        assert banned not in src


def test_lambda_in_models():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype("float32")
    y = rng.standard_normal((32, 1)).astype("float32")
    # first layer without backward: nothing upstream needs its gradient, so it trains
    model = keras.Sequential([keras.Input((4,)), Lambda(double), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    # in the middle, with backward or written with operators: trains; NumPy only: a clear error
    for lam in (Lambda(double, backward=double_grad), Lambda(double)):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), lam,
                                  keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        before = model.layers[0].get_weights()[0].copy()
        model.fit(x, y, epochs=1, verbose=0)
        assert not np.array_equal(model.layers[0].get_weights()[0], before)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                              Lambda(lambda a: np.tanh(np.asarray(a))), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(NotImplementedError, match="inference-only"):
        model.fit(x, y, epochs=1, verbose=0)
