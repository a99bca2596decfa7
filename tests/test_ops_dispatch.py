"""How ops behave around the tape and the functional API: plain NumPy outside a tape, Tensors
inside one with a tracked input, KerasTensors on symbolic inputs; Python operators map to ops;
control flow is eager Python whose ops record as usual."""
import numpy as np
import pytest

import kerasnp
from kerasnp import ops
from kerasnp._operators import ArrayOperators
from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import Tensor
from kerasnp.variables import Variable

from _ops_check import check_grad

rng = np.random.default_rng(4)
A = rng.uniform(0.5, 1.5, (3, 4))
B = rng.uniform(0.5, 1.5, (4,))

# One call per differentiable op family: f(a) with `a` an array or variable of shape (3, 4).
CALLS = {
    "add": lambda a: ops.add(a, B), "multiply": lambda a: ops.multiply(a, 2.0),
    "divide": lambda a: ops.divide(B, a), "power": lambda a: ops.power(a, 2),
    "maximum": lambda a: ops.maximum(a, 1.0), "where": lambda a: ops.where(A > 1, a, 0.0),
    "clip": lambda a: ops.clip(a, 0.7, 1.2), "exp": ops.exp, "log": ops.log, "erf": ops.erf,
    "tanh": ops.tanh, "sqrt": ops.sqrt, "matmul": lambda a: ops.matmul(a, A.T),
    "einsum": lambda a: ops.einsum("ij,kj->ik", a, A),
    "tensordot": lambda a: ops.tensordot(a, A, 2),
    "sum": ops.sum, "mean": lambda a: ops.mean(a, axis=0), "max": ops.max, "std": ops.std,
    "logsumexp": lambda a: ops.logsumexp(a, axis=1), "cumsum": lambda a: ops.cumsum(a, 1),
    "reshape": lambda a: ops.reshape(a, (4, 3)), "transpose": ops.transpose,
    "concatenate": lambda a: ops.concatenate([a, A]), "stack": lambda a: ops.stack([a, a]),
    "pad": lambda a: ops.pad(a, 1), "tile": lambda a: ops.tile(a, 2),
    "take": lambda a: ops.take(a, np.array([0, 0]), axis=1),
    "take_along_axis": lambda a: ops.take_along_axis(a, np.zeros((3, 1), int), axis=1),
    "get_item": lambda a: ops.get_item(a, np.s_[1:, 0]),
    "operators": lambda a: (a[1:] * 2 + 1) @ A.T if isinstance(a, (Variable, Tensor)) else a,
    "cast": lambda a: ops.cast(a, "float32"), "relu": ops.nn.relu, "softmax": ops.nn.softmax,
    "gelu": ops.nn.gelu, "log_softmax": ops.nn.log_softmax,
    "cce": lambda a: ops.nn.categorical_crossentropy(np.eye(4)[[0, 1, 2]], a, from_logits=True),
    "bce": lambda a: ops.nn.binary_crossentropy(A / 2, a / 2),
    "batch_normalization": lambda a: ops.nn.batch_normalization(a, B, B, axis=1),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_outside_a_tape_ops_return_plain_numpy(name):
    for arg in (A.copy(), Variable(A.copy(), "w")):
        out = CALLS[name](arg)
        assert type(out) is np.ndarray or isinstance(out, np.generic), type(out)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_inside_a_tape_a_trainable_variable_gives_a_tensor_and_a_gradient(name):
    w = Variable(A.copy(), "w")
    with GradientTape() as tape:
        out = CALLS[name](w)
        assert type(out) is Tensor
        assert isinstance(np.asarray(out), np.ndarray)
        loss = ops.sum(out)
    g = tape.gradient(loss, w)
    assert g is not None and g.shape == A.shape
    with GradientTape():                      # untracked inputs record nothing
        assert type(CALLS[name](A.copy())) is not Tensor


def test_conversions_keep_variables_on_the_tape():
    w = Variable(A.copy(), "w")
    assert type(ops.convert_to_tensor(w)) is np.ndarray
    np.testing.assert_array_equal(ops.convert_to_numpy(w), A)
    with GradientTape() as tape:
        t = ops.convert_to_tensor(w)
        t32 = ops.convert_to_tensor(w, dtype="float32")
        assert type(t) is Tensor and ops.convert_to_tensor(t) is t
        y = ops.sum(t * 2.0) + ops.sum(ops.cast(t32, "float64"))
        z = ops.stop_gradient(w)
        assert type(z) is np.ndarray
    np.testing.assert_allclose(tape.gradient(y, w), 3.0)
    assert ops.convert_to_tensor([1, 2], dtype="float32").dtype == np.float32
    assert ops.is_tensor(A) and not ops.is_tensor([1.0])


def test_untracked_operands_get_no_gradient_work():
    w = Variable(A.copy(), "w")
    x = rng.standard_normal((5, 3))
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.matmul(x, w) * 2.0)
    gx, gw = tape.gradient(y, [x, w])
    np.testing.assert_allclose(gx, 2 * np.ones((5, 4)) @ A.T)
    np.testing.assert_allclose(gw, 2 * x.T @ np.ones((5, 4)))


def test_operators_map_to_ops():
    names = ["add", "subtract", "multiply", "divide", "floor_divide", "mod", "power", "matmul",
             "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
             "negative", "abs", "logical_not", "get_item", "transpose"]
    for name in names:
        assert callable(getattr(ops, name)) and name in ops.OPS, name
    w = Variable(A.copy(), "w")
    check = [(w + 1, A + 1), (1 - w, 1 - A), (w * w, A * A), (w / 2, A / 2), (2 ** w, 2 ** A),
             (w ** 2, A ** 2), (w // 0.5, A // 0.5), (w % 0.5, A % 0.5), (w @ A.T, A @ A.T),
             (-w, -A), (abs(-w), A), (w.T, A.T), (w[0], A[0]), (w > 1, A > 1),
             ((w > 1) & (w < 1.2), (A > 1) & (A < 1.2))]
    for got, want in check:
        np.testing.assert_allclose(got, want)
    assert issubclass(Variable, ArrayOperators)


def test_every_public_op_is_registered():
    helpers = {"OPS", "nn", "image", "linalg", "numpy", "convert_to_numpy", "is_tensor"}  # + namespaces
    missing = [n for n in ops.__all__ if n not in helpers and n not in ops.OPS]
    assert not missing
    for name in ("true_divide", "absolute", "amax", "swish", "hard_swish"):
        assert name in ops.OPS
    for name in ("relu", "softmax", "one_hot", "conv", "max_pool"):   # ops.nn at top level too
        assert getattr(ops, name) is getattr(ops.nn, name)


# -- symbolic tensors ---------------------------------------------------------------------------
def test_ops_on_symbolic_inputs_build_graph_nodes():
    x, y = kerasnp.Input((4,)), kerasnp.Input((4,))
    assert ops.mean(x, axis=1).shape == (None,)
    assert (x + y).shape == (None, 4)
    assert ops.concatenate([x, y], axis=1).shape == (None, 8)
    assert ops.nn.softmax(x).shape == (None, 4)
    assert ops.matmul(x, np.ones((4, 3), "float32")).shape == (None, 3)
    parts = ops.split(x, 2, axis=1)
    assert [p.shape for p in parts] == [(None, 2), (None, 2)]
    assert ops.shape(x) == (None, 4) and ops.ndim(x) == 2
    assert ops.einsum("bi,bi->b", x, y).shape == (None,)
    assert ops.where(np.ones(4, bool), x, 0.0).shape == (None, 4)
    assert (2.0 - x).shape == (None, 4)
    out = ops.sum(ops.concatenate([ops.nn.softmax(parts[0]), ops.exp(parts[1])], axis=1), axis=1)
    model = kerasnp.Model(x, out)
    d = rng.uniform(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(model.predict(d, verbose=0), 1 + np.exp(d[:, 2:]).sum(1),
                               rtol=1e-6)


# -- control flow --------------------------------------------------------------------------------
def test_cond_takes_the_branch_and_its_gradient():
    w = Variable(A.copy(), "w")
    for pred, want in ((True, 2 * A), (np.array(False), np.cos(A))):
        with GradientTape() as tape:
            y = ops.sum(ops.cond(pred, lambda: w * w, lambda: ops.sin(w)))
        np.testing.assert_allclose(tape.gradient(y, w), want)


def test_fori_loop_and_while_loop():
    assert ops.fori_loop(0, 5, lambda i, v: v + i, 0) == 10
    i, s = ops.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s * 2), (0, 1))
    assert (i, s) == (4, 16)
    assert ops.while_loop(lambda v: v < 100, lambda v: v * 3, 1) == 243
    assert ops.while_loop(lambda v: True, lambda v: v + 1, 0, maximum_iterations=7) == 7
    out = ops.while_loop(lambda i, s: i < 2, lambda i, s: [i + 1, s], [0, 5])
    assert isinstance(out, tuple) and out == (2, 5)
    check_grad(lambda x: ops.fori_loop(0, 3, lambda i, v: ops.sin(v) * x + i, x), A)
    check_grad(lambda x: ops.while_loop(lambda k, v: k < 3,
                                        lambda k, v: (k + 1, ops.tanh(v) * x), (0, x))[1], A)


def test_switch_clamps_the_index():
    branches = [lambda v: v + 1, lambda v: v * 10]
    assert ops.switch(0, branches, 2) == 3 and ops.switch(5, branches, 2) == 20
    assert ops.switch(-1, branches, 2) == 3
