"""The losses and metrics Keras users write themselves: `Loss` subclasses and loss functions
written with ops (differentiated by the tape, checked against float64 central differences),
with every reduction and sample weights; `Metric` subclasses with `add_variable`."""
import numpy as np
import pytest

from kerasnp import losses as L
from kerasnp import ops
from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import Tensor
from _numeric import central_grad

REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]


_numeric_grad = central_grad


def _tape(fn, x):
    """(value, d sum(fn(x_tensor)) / dx): x enters as a tracked Tensor, as a model output does."""
    x = np.array(x, dtype=np.float64)
    with GradientTape() as tape:
        tape.watch(x)
        out = fn(ops.add(x, 0.0))
    return out, tape.gradient(out, x)


class QuarticExp(L.Loss):
    """A Keras-style custom loss: `call` written with ops only, one extra hyper-parameter."""

    def __init__(self, scale=0.25, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, y_true, y_pred):
        d = y_pred - y_true
        return ops.sum(d * d * d * d + ops.exp(d * 0.5), axis=-1) * self.scale

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def quartic_exp(y_true, y_pred):
    d = ops.subtract(y_pred, y_true)
    return ops.sum(d * d * d * d + ops.exp(d * 0.5), axis=-1) * 0.25


def _reference(t, p, w=None, reduction="sum_over_batch_size"):
    d = p - t
    per = np.sum(d ** 4 + np.exp(0.5 * d), axis=-1) * 0.25
    if w is not None:
        per = per * w
    if reduction in ("none", None):
        return per
    if reduction == "sum":
        return per.sum()
    if reduction == "mean_with_sample_weight" and w is not None:
        return per.sum() / w.sum()
    return per.sum() / per.size


def _data(seed=0, n=5, d=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, d)), rng.uniform(0.2, 2.0, n)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("make", [lambda r: QuarticExp(reduction=r),
                                  lambda r: L.LossFunctionWrapper(quartic_exp, reduction=r),
                                  lambda r: L.get(quartic_exp) if r == "sum_over_batch_size"
                                  else L.LossFunctionWrapper(quartic_exp, reduction=r)],
                         ids=["subclass", "wrapper", "get"])
def test_user_loss_values_and_tape_gradients(make, reduction, weighted):
    loss = make(reduction)
    t, p, w = _data()
    w = w if weighted else None
    value = loss(t, p, sample_weight=w)
    expected = _reference(t, p, w, reduction)
    if np.ndim(expected):
        np.testing.assert_allclose(value, expected, rtol=1e-12)
    else:
        assert isinstance(value, float) and value == pytest.approx(expected, rel=1e-12)
    out, grad = _tape(lambda q: loss(t, q, sample_weight=w), p)
    assert type(out) is Tensor
    np.testing.assert_allclose(out.value, expected, rtol=1e-12)
    numeric = _numeric_grad(lambda q: float(np.sum(_reference(t, q, w, reduction))), p)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)
    # Loss.gradient differentiates the ops on a private tape (what older engines call)
    np.testing.assert_allclose(loss.gradient(t, p, sample_weight=w), numeric, rtol=1e-6,
                               atol=1e-8)
    # the engine's entry point is the same computation
    out, grad2 = _tape(lambda q: L.loss_node(loss, t, q, w), p)
    np.testing.assert_allclose(grad2, grad, rtol=1e-12)


def test_function_loss_as_compile_gets_it_with_rank_matching():
    def my_mse(y_true, y_pred):
        d = y_pred - y_true
        return ops.sum(d * d, axis=-1)
    loss = L.get(my_mse)
    assert isinstance(loss, L.LossFunctionWrapper) and loss.name == "my_mse"
    t = np.array([1.0, 2.0, 3.0])                # (n,) labels meet (n, 1) predictions
    p = np.array([[1.5], [2.0], [2.0]])
    assert loss(t, p) == pytest.approx((0.25 + 0 + 1) / 3)
    _, grad = _tape(lambda q: L.loss_node(loss, t, q), p)
    np.testing.assert_allclose(grad, 2 * (p - t[:, None]) / 3)


def test_float32_predictions_give_a_float32_tensor():
    t, p, w = _data(1)
    p32 = p.astype(np.float32)
    with GradientTape() as tape:
        tape.watch(p32)
        out = QuarticExp()(t, ops.add(p32, 0.0), sample_weight=w)
    assert type(out) is Tensor and out.dtype == np.float32
    g = tape.gradient(out, p32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(out.value, _reference(t, p, w), rtol=1e-5)


def test_numpy_written_loss_explains_in_a_tape():
    class NumpyLoss(L.Loss):
        def call(self, y_true, y_pred):
            return np.mean(np.abs(np.asarray(y_pred) - y_true), axis=-1)
    t, p, _ = _data(2)
    assert NumpyLoss()(t, p) == pytest.approx(np.abs(p - t).mean())   # fine outside a tape
    with pytest.raises(NotImplementedError, match=r"numpy_loss.*kerasnp\.ops.*Received"):
        _tape(lambda q: NumpyLoss()(t, q), p)
    with pytest.raises(NotImplementedError, match="numpy_loss.*gradient"):
        NumpyLoss().gradient(t, p)

    def ufunc_loss(y_true, y_pred):
        return np.abs(y_pred - y_true)      # a NumPy ufunc on a Tensor runs ops.abs: it records
    value, grad = _tape(lambda q: L.get(ufunc_loss)(t, q), p)
    assert float(np.asarray(value)) == pytest.approx(np.abs(p - t).mean())
    np.testing.assert_allclose(grad, np.sign(p - t) / p.size)


def test_subclass_of_builtin_overriding_call_is_differentiated_by_the_tape():
    class ScaledMSE(L.MeanSquaredError):
        def call(self, y_true, y_pred):
            d = y_pred - y_true
            return ops.sum(d * d, axis=-1) * 3.0
    t, p, w = _data(3)
    _, grad = _tape(lambda q: ScaledMSE()(t, q, sample_weight=w), p)
    np.testing.assert_allclose(grad, 6 * (p - t) * w[:, None] / len(p), rtol=1e-12)


def test_user_gradient_override_is_one_node():
    class Cubic(L.Loss):
        def call(self, y_true, y_pred):
            return np.sum((np.asarray(y_pred) - y_true) ** 3, axis=-1)

        def gradient(self, y_true, y_pred, sample_weight=None):
            g = 3 * (np.asarray(y_pred) - y_true) ** 2 / len(y_pred)
            return g if sample_weight is None else g * np.asarray(sample_weight)[:, None]
    t, p, w = _data(4)
    p = np.array(p)
    with GradientTape() as tape:
        tape.watch(p)
        out = Cubic()(t, p, sample_weight=w)
        assert len(tape._nodes) == 1
    np.testing.assert_allclose(tape.gradient(out, p),
                               _numeric_grad(lambda q: Cubic()(t, q, sample_weight=w), p),
                               rtol=1e-6)


def test_subclass_config_round_trip():
    loss = QuarticExp(scale=0.5, reduction="sum", name="q")
    clone = QuarticExp.from_config(loss.get_config())
    assert (clone.scale, clone.reduction, clone.name) == (0.5, "sum", "q")
    t, p, _ = _data(5)
    assert clone(t, p) == pytest.approx(loss(t, p))


# ------------------------------------------------------------------------------------ metrics
from kerasnp import metrics as M  # noqa: E402


class CategoricalTruePositives(M.Metric):
    """The Keras guide's custom metric, as written there (only the import changed)."""

    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        values = ops.cast(values, "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            values = ops.multiply(values, sample_weight)
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives.value

    def reset_state(self):
        self.true_positives.assign(0.0)


class PerClassHits(M.Metric):
    """No reset_state (the default resets to the initial values), the older add_weight
    spelling, a non-zero initializer and a vector result returned as the variable itself."""

    def __init__(self, classes=3, **kwargs):
        super().__init__(**kwargs)
        self.classes = classes
        self.hits = self.add_weight("hits", shape=(classes,), initializer="zeros")
        self.seen = self.add_variable(shape=(classes,), initializer="ones", dtype="int64",
                                      name="seen")

    def update_state(self, y_true, y_pred, sample_weight=None):
        onehot = ops.one_hot(ops.reshape(y_true, (-1,)), self.classes)
        hit = ops.cast(ops.equal(ops.argmax(y_pred, axis=-1), ops.reshape(y_true, (-1,))),
                       self.dtype)
        self.hits.assign_add(ops.sum(onehot * ops.expand_dims(hit, -1), axis=0))
        self.seen.assign_add(ops.cast(ops.sum(onehot, axis=0), "int64"))

    def result(self):
        return self.hits

    def get_config(self):
        return {**super().get_config(), "classes": self.classes}


def _batch(seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 3, (8, 1)), rng.normal(size=(8, 3))


def test_guide_metric_update_result_reset():
    m = CategoricalTruePositives()
    assert m.name == "categorical_true_positives" and m.result() == 0.0
    total = 0.0
    for seed in range(3):
        y, p = _batch(seed)
        m.update_state(y, p)
        total += float(np.sum(y[:, 0] == p.argmax(1)))
    r = m.result()
    assert isinstance(r, float) and r == total
    y, p = _batch(7)
    w = np.linspace(0.0, 1.0, 8)[:, None]
    m.reset_state()
    assert m.result() == 0.0
    assert m(y, p, sample_weight=w) == pytest.approx(float(np.sum((y[:, 0] == p.argmax(1))
                                                                  * w[:, 0])))
    assert [v.name for v in m.variables] == ["ctp"]
    assert not m.variables[0].trainable and m.variables[0].dtype == np.float32


def test_metric_updates_are_not_recorded_on_a_tape():
    m = CategoricalTruePositives()
    y, p = _batch(1)
    p = np.array(p)
    with GradientTape() as tape:
        tape.watch(p)
        pt = ops.multiply(p, 1.0)
        before = len(tape._nodes)
        m.update_state(y, pt)
        assert len(tape._nodes) == before
    assert m.result() == float(np.sum(y[:, 0] == p.argmax(1)))


def test_default_reset_restores_initial_values_and_results_are_copies():
    m = PerClassHits(name="hits_per_class")
    y, p = _batch(2)
    m.update_state(y, p)
    r = m.result()
    assert isinstance(r, np.ndarray) and r.dtype == np.float32
    expected = np.bincount(y[p.argmax(1) == y[:, 0], 0], minlength=3)
    np.testing.assert_array_equal(r, expected)
    np.testing.assert_array_equal(m.seen.value, 1 + np.bincount(y[:, 0], minlength=3))
    m.update_state(y, p)
    np.testing.assert_array_equal(r, expected)         # the earlier result did not move
    m.reset_state()
    np.testing.assert_array_equal(m.hits.value, 0)
    np.testing.assert_array_equal(m.seen.value, 1)      # back to "ones", not zeros
    assert m.seen.dtype == np.int64
    assert [v.path for v in m.variables] == ["hits_per_class/hits", "hits_per_class/seen"]
    clone = PerClassHits.from_config(m.get_config())
    assert clone.classes == 3 and clone.name == "hits_per_class"


def test_add_variable_validates():
    m = CategoricalTruePositives()
    with pytest.raises(ValueError, match="aggregation.*Received: aggregation='avg'"):
        m.add_variable(aggregation="avg")
    with pytest.raises(ValueError, match=r"shape.*Received: shape=\(2, -1\)"):
        m.add_variable(shape=(2, -1))


def test_metric_without_variables_must_implement_reset_state():
    class Stateless(M.Metric):
        def update_state(self, y_true, y_pred, sample_weight=None):
            self.last = float(np.mean(y_pred))

        def result(self):
            return self.last
    m = Stateless()
    m.update_state(None, np.ones(3))
    assert m.result() == 1.0
    with pytest.raises(NotImplementedError, match="stateless.*reset_state"):
        m.reset_state()


def test_metric_function_of_ops_becomes_a_mean_metric_wrapper():
    def mean_abs_gap(y_true, y_pred):
        return ops.mean(ops.abs(y_pred - y_true), axis=-1)
    m = M.get(mean_abs_gap)
    assert isinstance(m, M.MeanMetricWrapper) and m.name == "mean_abs_gap"
    rng = np.random.default_rng(3)
    t, p = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    with GradientTape() as tape:
        tape.watch(p)
        m.update_state(t, ops.add(p, 0.0))
    r = m.result()
    assert isinstance(r, float) and r == pytest.approx(np.abs(p - t).mean())
