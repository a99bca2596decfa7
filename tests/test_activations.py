"""Tests for kerasnp.activations: gradients, dtype, stability, torch parity, get/serialize."""
import warnings

import numpy as np
import pytest

from kerasnp import activations as A
from kerasnp import ops
from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import Tensor
from kerasnp.variables import Variable
from _numeric import central_grad

# glu halves an axis (the shape-preserving checks below do not apply): tested on its own.
NAMES = [n for n in A.names() if n != "glu"]
# Configured variants that exercise the other branches (name, params).
VARIANTS = [
    ("relu", {"max_value": 5.0}),
    ("relu", {"negative_slope": 0.1, "max_value": 5.0, "threshold": 1.0}),
    ("relu", {"negative_slope": 0.3, "threshold": -1.0}),        # uses_input
    ("relu", {"negative_slope": -0.5}),                          # uses_input
    ("relu", {"threshold": 2.0, "max_value": 1.5}),
    ("leaky_relu", {"negative_slope": 0.0}),
    ("leaky_relu", {"negative_slope": -0.4}),                     # uses_input
    ("elu", {"alpha": 0.5}),
    ("elu", {"alpha": -0.7}),                                     # uses_input
    ("celu", {"alpha": 2.0}),
    ("celu", {"alpha": -1.5}),
    ("gelu", {"approximate": True}),
    ("softmax", {"axis": 0}),
    ("softmax", {"axis": (0, 2)}),
    ("log_softmax", {"axis": 1}),
    ("squareplus", {"b": 0.0}),
    ("squareplus", {"b": 1.0}),
    ("soft_shrink", {"threshold": 1.0}),
    ("hard_shrink", {"threshold": 0.0}),
]
KINKS = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 1.5, 2.0, 3.0, -3.0, 5.0, 6.0])
CASES = [(n, {}) for n in NAMES] + VARIANTS


def _ids(case):
    name, params = case
    return name + "".join(f"-{k}={v}" for k, v in params.items())


def _fn(name, params):
    fn = A.get(name)
    return fn.with_params(**params) if params else fn


def _points(shape, seed=0):
    """float64 points in [-4, 7] at least 0.01 away from every kink of every activation."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-4, 7, size=shape)
    near = np.abs(x[..., None] - KINKS).min(axis=-1) < 0.01
    x[near] += 0.05
    return x


def _backward(fn, dy, x, y):
    return fn.backward(dy, x if fn.uses_input else None, y)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_gradient_matches_central_differences(case):
    fn = _fn(*case)
    x = _points((3, 4, 5))
    dy = np.random.default_rng(1).normal(size=x.shape)
    dx = _backward(fn, dy, x, fn(x))
    h, num = 1e-6, np.empty_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        num[i] = np.sum(dy * (fn(xp) - fn(xm))) / (2 * h)   # exact zeros off the point
    np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_float32_stays_float32_and_matches_float64(case):
    fn = _fn(*case)
    x = _points((3, 4, 5), seed=2)
    dy = np.random.default_rng(3).normal(size=x.shape)
    x32, dy32 = x.astype(np.float32), dy.astype(np.float32)
    y32 = fn(x32)
    dx32 = _backward(fn, dy32, x32, y32)
    assert y32.dtype == np.float32 and dx32.dtype == np.float32
    assert y32.shape == x.shape and dx32.shape == x.shape
    y64 = fn(x)
    np.testing.assert_allclose(y32, y64, rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(dx32, _backward(fn, dy, x, y64), rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_stable_at_large_inputs(name, dtype):
    fn = A.get(name)
    big = [-1e4, -1e3, -100.0, -30.0, 0.0] + ([] if name == "exponential" else [30.0, 100.0, 1e3, 1e4])
    x = np.array(big, dtype=dtype).reshape(1, -1)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = fn(x)
        dx = _backward(fn, np.ones_like(x), x, y)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx)), (y, dx)


def test_large_input_limits():
    x = np.array([-1e4, 1e4], dtype=np.float32)
    np.testing.assert_array_equal(A.sigmoid(x), [0.0, 1.0])
    np.testing.assert_allclose(A.softplus(x), [0.0, 1e4])
    np.testing.assert_allclose(A.log_sigmoid(x), [-1e4, 0.0])
    np.testing.assert_allclose(A.softmax(x), [0.0, 1.0])
    np.testing.assert_allclose(A.log_softmax(x), [-2e4, 0.0])
    np.testing.assert_allclose(A.silu(x), [0.0, 1e4])
    np.testing.assert_allclose(A.mish(x), [0.0, 1e4])
    np.testing.assert_allclose(A.gelu(x), [0.0, 1e4])
    np.testing.assert_allclose(A.squareplus(x), [1e-4, 1e4], rtol=1e-5)   # no cancellation
    assert A.sigmoid(np.array([-80.0]))[0] == pytest.approx(np.exp(-80.0), rel=1e-12)


def test_softmax_sums_to_one_along_axis():
    x = np.random.default_rng(0).normal(scale=30, size=(4, 3, 5)).astype(np.float32)
    np.testing.assert_allclose(A.softmax(x).sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(A.softmax(x, axis=1).sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(A.softmax(x, axis=(0, 2)).sum(axis=(0, 2)), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.exp(A.log_softmax(x)), A.softmax(x), rtol=1e-5, atol=1e-30)
    assert A.softmax.axis == -1                            # override did not change the object


def test_softmax_over_size_one_axis_warns():
    with pytest.warns(UserWarning, match="size 1"):
        A.softmax(np.zeros((4, 1)))


def test_keras_relu_semantics_and_overrides():
    x = np.array([-2.0, 0.5, 1.5, 3.0, 8.0])
    np.testing.assert_array_equal(A.relu(x, max_value=6.0), A.relu6(x))
    np.testing.assert_array_equal(A.relu(x, threshold=1.0), [0.0, 0.0, 1.5, 3.0, 8.0])
    np.testing.assert_allclose(A.relu(x, negative_slope=0.1, threshold=1.0),
                               [-0.3, -0.05, 1.5, 3.0, 8.0])
    np.testing.assert_array_equal(A.relu(x, 0.0, 2.0), [0.0, 0.5, 1.5, 2.0, 2.0])  # positional
    assert A.relu.max_value is None
    np.testing.assert_allclose(A.leaky_relu(x), np.where(x >= 0, x, 0.2 * x))
    np.testing.assert_allclose(A.hard_sigmoid(x), np.clip(x + 3, 0, 6) / 6)
    np.testing.assert_allclose(A.selu(np.array([1.0])), [1.0507009873554805])
    np.testing.assert_array_equal(A.relu(np.array([-1, 2])), [0.0, 2.0])  # ints -> floatx
    assert A.relu(np.array([1, 2])).dtype == np.float32


def test_outputs_are_new_arrays():
    x = np.array([1.0, -2.0])
    y = A.linear(x)
    assert y is not x and not np.shares_memory(y, x)
    dy = np.ones(2)
    assert not np.shares_memory(A.linear.backward(dy, None, y), dy)


def test_default_relu_backward_from_output_only():
    assert not any(A.get(n).uses_input for n in
                   ["linear", "relu", "relu6", "leaky_relu", "elu", "selu", "sigmoid", "tanh",
                    "softmax", "log_softmax", "softplus", "softsign", "exponential",
                    "hard_sigmoid"])
    assert A.relu.with_params(threshold=-1.0).uses_input


# ---- torch parity ---------------------------------------------------------------------------

def _torch_fns():
    F = pytest.importorskip("torch.nn.functional")
    return {
        ("relu", ()): F.relu, ("relu6", ()): F.relu6,
        ("leaky_relu", ()): lambda t: F.leaky_relu(t, 0.2),
        ("elu", ()): F.elu, ("selu", ()): F.selu, ("celu", ()): F.celu,
        ("gelu", ()): lambda t: F.gelu(t, approximate="none"),
        ("gelu", (("approximate", True),)): lambda t: F.gelu(t, approximate="tanh"),
        ("sigmoid", ()): lambda t: t.sigmoid(), ("hard_sigmoid", ()): F.hardsigmoid,
        ("hard_silu", ()): F.hardswish, ("tanh", ()): lambda t: t.tanh(),
        ("hard_tanh", ()): F.hardtanh, ("tanh_shrink", ()): F.tanhshrink,
        ("softmax", ()): lambda t: F.softmax(t, dim=-1),
        ("log_softmax", ()): lambda t: F.log_softmax(t, dim=-1),
        ("softplus", ()): F.softplus, ("log_sigmoid", ()): F.logsigmoid,
        ("softsign", ()): F.softsign, ("silu", ()): F.silu, ("mish", ()): F.mish,
        ("soft_shrink", ()): lambda t: F.softshrink(t, 0.5),
        ("hard_shrink", ()): lambda t: F.hardshrink(t, 0.5),
        ("exponential", ()): lambda t: t.exp(),
    }


TORCH_CASES = ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "gelu-approx",
               "sigmoid", "hard_sigmoid", "hard_silu", "tanh", "hard_tanh", "tanh_shrink",
               "softmax", "log_softmax", "softplus", "log_sigmoid", "softsign", "silu", "mish",
               "soft_shrink", "hard_shrink", "exponential"]


@pytest.mark.parametrize("case", TORCH_CASES)
def test_torch_parity_float64(case):
    torch = pytest.importorskip("torch")
    name, params = (case, ()) if case != "gelu-approx" else ("gelu", (("approximate", True),))
    ref = _torch_fns()[(name, params)]
    fn = _fn(name, dict(params))
    x = _points((6, 7), seed=4)
    dy = np.random.default_rng(5).normal(size=x.shape)
    xt = torch.tensor(x, requires_grad=True)
    yt = ref(xt)
    (yt * torch.tensor(dy)).sum().backward()
    y = fn(x)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    # torch's hardsigmoid/hardswish backward uses a float32 1/6 even for float64 tensors
    rtol = 1e-7 if name in ("hard_sigmoid", "hard_silu") else 1e-9
    np.testing.assert_allclose(_backward(fn, dy, x, y), xt.grad.numpy(), rtol=rtol, atol=1e-11)


# ---- get / serialize / with_params ----------------------------------------------------------

def test_get_resolves_every_identifier_kind():
    assert A.get(None) is A.linear
    assert A.get("relu") is A.relu and A.get("ReLU") is A.relu
    assert A.get("swish") is A.get("silu") is A.swish
    assert A.get(A.elu) is A.elu
    fn = A.get({"class_name": "relu", "config": {"max_value": 6.0}})
    assert fn.max_value == 6.0 and fn.name == "relu"
    assert A.get({"class_name": "function", "config": "tanh"}) is A.tanh

    class Custom:
        def __call__(self, x):
            return x

        def backward(self, dy, x, y):
            return dy
    custom = Custom()
    assert A.get(custom) is custom


def test_get_unknown_name_suggests():
    with pytest.raises(ValueError, match="Unknown activation 'rleu'.*Did you mean 'relu'"):
        A.get("rleu")
    with pytest.raises(ValueError, match="class_name"):
        A.get({"config": {}})


def test_get_wraps_plain_callable_differentiated_by_the_tape():
    def myfn(x):
        return ops.tanh(x) * 2
    fn = A.get(myfn)
    assert isinstance(fn, A.UserActivation) and fn.name == "myfn"
    x = _points((3, 4))
    np.testing.assert_allclose(fn(x), 2 * np.tanh(x))
    dy = np.random.default_rng(2).normal(size=x.shape)
    np.testing.assert_allclose(fn.backward(dy, x, None), dy * 2 * (1 - np.tanh(x) ** 2),
                               rtol=1e-12)
    assert A.serialize(myfn) == "myfn"

    def ufunc_fn(x):                       # NumPy ufuncs on tensors run the ops: recorded
        return np.tanh(x) * 2
    np.testing.assert_allclose(A.get(ufunc_fn).backward(dy, x, None),
                               dy * 2 * (1 - np.tanh(x) ** 2), rtol=1e-12)

    def numpy_fn(x):
        return np.tanh(np.asarray(x)) * 2   # values taken off the tape
    with pytest.raises(NotImplementedError,
                       match="activation 'numpy_fn' cannot be differentiated.*kerasnp.ops"):
        A.get(numpy_fn).backward(dy, x, None)


def test_get_rejects_other_types():
    with pytest.raises(TypeError, match="Received: identifier=42"):
        A.get(42)


def test_with_params_validates():
    with pytest.raises(TypeError, match=r"'relu'.*alpah.*Valid: negative_slope, max_value, "
                                        r"threshold.*Received: alpah=0.3"):
        A.relu.with_params(alpah=0.3)
    with pytest.raises(TypeError, match=r"Valid: \(none\)"):
        A.tanh(np.zeros(2), alpha=1.0)
    with pytest.raises(ValueError, match="max_value"):
        A.relu.with_params(max_value=-1.0)
    with pytest.raises(TypeError, match="axis"):
        A.softmax.with_params(axis=1.5)
    with pytest.raises(TypeError, match="approximate"):
        A.gelu.with_params(approximate="yes")
    with pytest.raises(ValueError, match="non-zero"):
        A.celu.with_params(alpha=0.0)
    with pytest.raises(AttributeError, match="immutable"):
        A.relu.max_value = 6.0


def test_serialize_round_trip_and_repr():
    assert A.serialize(A.relu) == "relu" and A.serialize(None) == "linear"
    assert A.serialize(A.swish) == "silu"
    cfg = A.serialize(A.leaky_relu.with_params(negative_slope=0.1))
    assert cfg == {"class_name": "leaky_relu", "config": {"negative_slope": 0.1}}
    assert A.deserialize(cfg) == A.leaky_relu.with_params(negative_slope=0.1)
    assert A.deserialize(cfg) != A.leaky_relu
    for name in NAMES:
        assert A.deserialize(A.serialize(name)) is A.get(name)
    r = repr(A.relu.with_params(max_value=6.0))
    assert "relu" in r and "max_value=6.0" in r
    assert A.elu.get_config() == {"alpha": 1.0}


def test_names_sorted_and_complete():
    n = A.names()
    assert n == sorted(n)
    for required in ["linear", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "sigmoid",
                     "hard_sigmoid", "tanh", "softmax", "log_softmax", "softplus", "softsign",
                     "swish", "silu", "mish", "exponential"]:
        assert required in n


# -- on the gradient tape ---------------------------------------------------------------------
_central = central_grad


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_public_activation_on_a_tape_tensor_is_one_node(case):
    """`keras.activations.relu(x)` inside a custom layer's call(): recorded, with backward."""
    fn = _fn(*case)
    x = _points((3, 4, 5))
    dy = np.random.default_rng(1).normal(size=x.shape)
    with GradientTape() as tape:
        tape.watch(x)
        xt = ops.multiply(x, 1.0)
        before = len(tape._nodes)
        y = fn(xt)
        # One node (none for linear, which hands back its input).
        nodes = 0 if getattr(fn, "name", None) == "linear" else 1
        assert type(y) is Tensor and len(tape._nodes) == before + nodes
        loss = ops.sum(y * dy)
    np.testing.assert_allclose(y.value, fn(x), rtol=1e-15)
    np.testing.assert_allclose(tape.gradient(loss, x), _backward(fn, dy, x, fn(x)), rtol=1e-12)


def test_keras_style_overrides_and_variables_on_the_tape():
    x = _points((4, 3), seed=3)
    v = Variable(x.copy(), "v")
    with GradientTape() as tape:
        loss = ops.sum(A.relu(v, max_value=2.0) + A.elu(v * 1.0, 0.5))
    g = tape.gradient(loss, v)
    f = lambda q: float(np.sum(A.relu(q, max_value=2.0) + A.elu(q, alpha=0.5)))  # noqa: E731
    np.testing.assert_allclose(g, _central(f, x), rtol=1e-6, atol=1e-8)


def test_softmax_and_sigmoid_tensors_remember_their_logits():
    x = _points((2, 3), seed=4)
    with GradientTape() as tape:
        tape.watch(x)
        z = ops.multiply(x, 1.0)
        assert A.softmax(z)._keras_logits == ("softmax", z)
        assert A.sigmoid(z)._keras_logits[1] is z
        assert A.softmax(z)._keras_logits.axis == -1
        assert A.softmax(z, axis=0)._keras_logits.axis == 0    # the loss fuses only the last axis
        assert A.tanh(z)._keras_logits is None


def test_python_function_activation_in_dense_is_differentiated_by_the_tape(float64):
    from kerasnp import layers

    def my_act(x):
        return ops.tanh(x) * 2 + ops.square(x) * 0.1

    x = np.random.default_rng(5).normal(size=(3, 4))
    dense = layers.Dense(2, activation=my_act)
    dense.build((None, 4))
    r = np.random.default_rng(6).normal(size=(3, 2))
    with GradientTape() as tape:
        tape.watch(x)
        loss = ops.sum(dense(x) * r)
    dx, dk, db = tape.gradient(loss, [x, dense.kernel, dense.bias])
    k, b = dense.kernel.value.copy(), dense.bias.value.copy()

    def f(x_, k_, b_):
        z = x_ @ k_ + b_
        return float(np.sum((2 * np.tanh(z) + 0.1 * z * z) * r))
    np.testing.assert_allclose(dx, _central(lambda q: f(q, k, b), x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dk, _central(lambda q: f(x, q, b), k), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(db, _central(lambda q: f(x, k, q), b), rtol=1e-6, atol=1e-8)


def test_activations_on_symbolic_tensors_build_functional_models():
    import kerasnp as keras
    inp = keras.Input((3,))
    hidden = A.relu(keras.layers.Dense(4)(inp))
    model = keras.Model(inp, A.softmax(A.get(lambda t: ops.tanh(t) * 2)(hidden), axis=-1))
    x = np.random.default_rng(7).normal(size=(5, 3)).astype("float32")
    out = model.predict(x, verbose=0)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(TypeError, match="relu.*max_value.*layers.Activation.*Received"):
        A.relu(inp, max_value=2.0)


def test_glu_is_registered_halves_the_axis_and_differentiates():
    fn = A.get("glu")
    assert A.serialize(fn) == "glu" and "glu" in A.names()
    x = _points((3, 8))
    a, b = x[:, :4], x[:, 4:]
    y = fn(x)
    np.testing.assert_allclose(y, a / (1 + np.exp(-b)), rtol=1e-12)
    dy = np.random.default_rng(1).normal(size=y.shape)
    with GradientTape() as tape:
        tape.watch(x)
        loss = ops.sum(fn(ops.multiply(x, 1.0)) * dy)
    grad = tape.gradient(loss, x)
    num = central_grad(lambda v: float(np.sum(fn(v) * dy)), x)
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8)

