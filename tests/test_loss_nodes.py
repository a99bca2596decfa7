"""Built-in losses on the gradient tape: `loss_node` is one node with the hand-written gradient,
fused with a final softmax/sigmoid when the prediction remembers its logits; per-sample loss
functions record too (the VAE pattern). Float64 central differences throughout."""
import numpy as np
import pytest

from kerasnp import losses as L
from kerasnp import ops
from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import Tensor
from kerasnp.ops._fused import apply_activation

from test_losses import CASES, REDUCTIONS, _case, _numeric_grad, _rng, _scalar, _weights


def _tape(fn, x):
    """(value, d sum(fn(x)) / dx, number of recorded nodes) for a watched float64 array x."""
    x = np.array(x, dtype=np.float64)
    with GradientTape() as tape:
        tape.watch(x)
        out = fn(x)
        nodes = len(tape._nodes)
    return out, tape.gradient(out, x), nodes


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_node_is_one_node_matching_finite_differences(name, reduction, weighted):
    loss, y_true, y_pred = _case(name, reduction)
    n = np.shape(loss.call(y_true, y_pred))[0] if np.ndim(loss.call(y_true, y_pred)) else 1
    w = _weights(_rng(1), n) if weighted else None
    out, grad, nodes = _tape(lambda p: L.loss_node(loss, y_true, p, w), y_pred)
    assert type(out) is Tensor and nodes == 1
    expected = loss(y_true, y_pred, sample_weight=w)
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad, _numeric_grad(_scalar(loss, y_true, w), y_pred),
                               rtol=1e-5, atol=1e-7)


def test_none_reduction_node_takes_a_per_sample_upstream_gradient():
    loss, y_true, y_pred = _case("cce", "none")
    r = _rng(3).normal(size=len(y_pred))
    w = _weights(_rng(2), len(y_pred))
    out, grad, _ = _tape(lambda p: ops.sum(L.loss_node(loss, y_true, p, w) * r), y_pred)
    expected = _numeric_grad(lambda p: float(np.sum(loss(y_true, p, sample_weight=w) * r)),
                             y_pred)
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)


FUSED = [
    ("softmax_cce", "softmax", L.CategoricalCrossentropy(),
     lambda r: np.eye(4)[r.integers(0, 4, 6)]),
    ("softmax_cce_smooth", "softmax", L.CategoricalCrossentropy(label_smoothing=0.1),
     lambda r: np.eye(4)[r.integers(0, 4, 6)]),
    ("softmax_scce", "softmax", L.SparseCategoricalCrossentropy(), lambda r: r.integers(0, 4, 6)),
    ("softmax_scce_ignore", "softmax", L.SparseCategoricalCrossentropy(ignore_class=1),
     lambda r: r.integers(0, 4, 6)),
    ("sigmoid_bce", "sigmoid", L.BinaryCrossentropy(),
     lambda r: r.integers(0, 2, (6, 4)).astype(float)),
    ("sigmoid_mse_unfused", "sigmoid", L.MeanSquaredError(), lambda r: r.uniform(size=(6, 4))),
]


def _through_activation(act, loss, y_true, w, fuse):
    def fn(z):
        zt = ops.add(z, 0.0)                      # a tracked Tensor, as a layer's output is
        p = apply_activation(act, zt)
        if not fuse:
            p._keras_logits = None                # force the unfused path: through softmax
        return L.loss_node(loss, y_true, p, w)
    return fn


@pytest.mark.parametrize("case", FUSED, ids=[c[0] for c in FUSED])
def test_fused_logits_path_equals_unfused_and_finite_differences(case):
    _, act, loss, labels = case
    rng = _rng(5)
    y_true, z = labels(rng), 2 * rng.normal(size=(6, 4))
    w = _weights(rng, 6)
    fused_out, fused, _ = _tape(_through_activation(act, loss, y_true, w, True), z)
    plain_out, plain, _ = _tape(_through_activation(act, loss, y_true, w, False), z)
    assert float(fused_out) == pytest.approx(float(plain_out), rel=1e-12)
    np.testing.assert_allclose(fused, plain, rtol=1e-9, atol=1e-12)
    f = _through_activation(act, loss, y_true, w, True)
    np.testing.assert_allclose(fused, _numeric_grad(lambda q: float(f(q)), z),
                               rtol=1e-5, atol=1e-8)


def test_fused_loss_skips_the_activation_node():
    calls = []
    act = "softmax"
    y_true = np.eye(3)[[0, 2, 1, 1]]
    z = _rng(6).normal(size=(4, 3))
    with GradientTape() as tape:
        tape.watch(z)
        zt = ops.add(z, 0.0)
        p = apply_activation(act, zt)
        node = tape._nodes[-1]
        vjp = node.vjp
        node.vjp = lambda dy: calls.append(1) or vjp(dy)
        out = L.loss_node(L.CategoricalCrossentropy(), y_true, p)
    tape.gradient(out, z)
    assert calls == []                    # the loss's node went straight to the logits


def test_prediction_used_elsewhere_still_gets_both_gradients():
    """The fused gradient reaches z directly; another use of p flows through softmax."""
    y_true = np.eye(4)[[0, 3, 1, 2, 2]]
    r = _rng(7).normal(size=(5, 4))
    loss = L.CategoricalCrossentropy()

    def f(z):
        p = apply_activation("softmax", ops.add(z, 0.0))
        return ops.add(L.loss_node(loss, y_true, p), ops.sum(ops.multiply(p, r)))
    z = _rng(8).normal(size=(5, 4))
    _, grad, _ = _tape(f, z)
    np.testing.assert_allclose(grad, _numeric_grad(lambda q: float(f(q)), z), rtol=1e-6,
                               atol=1e-9)


def test_loss_node_accepts_identifiers_and_returns_floats_outside_a_tape():
    t, p = np.eye(3)[[0, 1]], np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    value = L.loss_node("categorical_crossentropy", t, p)
    assert isinstance(value, float)
    assert value == pytest.approx(-np.log([0.7, 0.8]).mean())
    assert isinstance(L.loss_node(L.MeanSquaredError(reduction="none"), t, p), np.ndarray)


@pytest.mark.parametrize("fn,kwargs,data", [
    (L.binary_crossentropy, {}, lambda r: (r.integers(0, 2, (4, 3)).astype(float),
                                           r.uniform(0.05, 0.95, (4, 3)))),
    (L.mean_squared_error, {}, lambda r: (r.normal(size=(4, 3)), r.normal(size=(4, 3)))),
    (L.categorical_crossentropy, {"from_logits": True},
     lambda r: (np.eye(3)[r.integers(0, 3, 4)], r.normal(size=(4, 3)))),
    (L.sparse_categorical_crossentropy, {"ignore_class": 0},
     lambda r: (np.array([0, 2, 1, 0]), r.uniform(0.1, 1, (4, 3)))),
    (L.sparse_categorical_crossentropy, {"axis": 0},
     lambda r: (np.array([0, 2, 1]), r.uniform(0.1, 1, (4, 3)))),
    (L.huber, {"delta": 0.5}, lambda r: (r.normal(size=(4, 3)), r.normal(size=(4, 3)))),
])
def test_per_sample_functions_are_differentiable(fn, kwargs, data):
    """`keras.losses.binary_crossentropy(x, x_hat)` inside a VAE's train step."""
    t, p = data(_rng(9))
    r = _rng(10).normal(size=np.shape(fn(t, p, **kwargs)))
    out, grad, nodes = _tape(lambda q: ops.sum(ops.multiply(fn(t, q, **kwargs), r)), p)
    expected = _numeric_grad(lambda q: float(np.sum(fn(t, q, **kwargs) * r)), p)
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)
