"""Tests for kerasnp.losses: values, exact gradients, fused logit gradients, targets, registry."""
import numpy as np
import pytest

from kerasnp import config
from kerasnp import losses as L
from _numeric import central_grad

REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"]


def _rng(seed=0):
    return np.random.default_rng(seed)


def _away(rng, shape, low=0.1, high=1.5):
    """Values with magnitude in [low, high] and random sign: clear of kinks at 0."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def _simplex(rng, shape, scale=1.0):
    x = rng.uniform(0.1, 1.0, size=shape)
    return scale * x / x.sum(-1, keepdims=True)


def _onehot(labels, k):
    return np.eye(k)[labels]


# Every case: id -> (loss factory, data(rng) -> (y_true, y_pred)). Data sits clear of kinks
# and clip boundaries so central differences are exact up to O(h²).
CASES = {
    "mse": (L.MeanSquaredError, lambda r: (r.normal(size=(5, 3)), r.normal(size=(5, 3)))),
    "mse_rank1_labels": (L.MeanSquaredError, lambda r: (r.normal(size=5), r.normal(size=(5, 1)))),
    "mse_3d": (L.MeanSquaredError, lambda r: (r.normal(size=(2, 3, 4)), r.normal(size=(2, 3, 4)))),
    "mae": (L.MeanAbsoluteError, lambda r: (lambda t: (t, t + _away(r, t.shape)))(
        r.normal(size=(5, 3)))),
    "mape": (L.MeanAbsolutePercentageError, lambda r: (lambda t: (t, t + _away(r, t.shape)))(
        _away(r, (5, 3), 0.5, 2.0))),
    "msle": (L.MeanSquaredLogarithmicError, lambda r: (r.uniform(0.1, 3, (5, 3)),
                                                        r.uniform(0.1, 3, (5, 3)))),
    "huber": (L.Huber, lambda r: (lambda t: (t, t + _away(r, t.shape, 0.1, 0.9)
                                             * r.choice([1, 2.5], size=t.shape)))(
        r.normal(size=(5, 3)))),
    "huber_delta": (lambda: L.Huber(delta=0.3), lambda r: (r.normal(size=(5, 3)),
                                                           r.normal(size=(5, 3)))),
    "log_cosh": (L.LogCosh, lambda r: (r.normal(size=(5, 3)), 3 * r.normal(size=(5, 3)))),
    "bce": (L.BinaryCrossentropy, lambda r: (r.integers(0, 2, (5, 3)).astype(float),
                                              r.uniform(0.05, 0.95, (5, 3)))),
    "bce_one_col": (L.BinaryCrossentropy, lambda r: (r.integers(0, 2, 6).astype(float),
                                                      r.uniform(0.05, 0.95, (6, 1)))),
    "bce_smooth_soft": (lambda: L.BinaryCrossentropy(label_smoothing=0.2),
                        lambda r: (r.uniform(0, 1, (5, 3)), r.uniform(0.05, 0.95, (5, 3)))),
    "bce_logits": (lambda: L.BinaryCrossentropy(from_logits=True),
                   lambda r: (r.integers(0, 2, (5, 3)).astype(float), 4 * r.normal(size=(5, 3)))),
    "bce_logits_smooth": (lambda: L.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
                          lambda r: (r.integers(0, 2, (5, 3)).astype(float),
                                     3 * r.normal(size=(5, 3)))),
    "bce_axis0": (lambda: L.BinaryCrossentropy(axis=0),
                  lambda r: (r.integers(0, 2, (4, 3)).astype(float),
                             r.uniform(0.05, 0.95, (4, 3)))),
    "cce": (L.CategoricalCrossentropy, lambda r: (_onehot(r.integers(0, 4, 5), 4),
                                                   _simplex(r, (5, 4)))),
    "cce_unnormalised": (L.CategoricalCrossentropy, lambda r: (_onehot(r.integers(0, 4, 5), 4),
                                                                r.uniform(0.1, 2, (5, 4)))),
    "cce_smooth_soft": (lambda: L.CategoricalCrossentropy(label_smoothing=0.2),
                        lambda r: (_simplex(r, (5, 4)), _simplex(r, (5, 4)))),
    "cce_logits": (lambda: L.CategoricalCrossentropy(from_logits=True),
                   lambda r: (_onehot(r.integers(0, 4, 5), 4), 2 * r.normal(size=(5, 4)))),
    "cce_logits_smooth": (lambda: L.CategoricalCrossentropy(from_logits=True,
                                                            label_smoothing=0.1),
                          lambda r: (_onehot(r.integers(0, 4, 5), 4), 2 * r.normal(size=(5, 4)))),
    "cce_3d": (L.CategoricalCrossentropy, lambda r: (_onehot(r.integers(0, 4, (2, 3)), 4),
                                                      _simplex(r, (2, 3, 4)))),
    "cce_axis0": (lambda: L.CategoricalCrossentropy(axis=0),
                  lambda r: (_onehot(r.integers(0, 3, 4), 3).T, _simplex(r, (4, 3)).T)),
    "scce": (L.SparseCategoricalCrossentropy, lambda r: (r.integers(0, 4, 5),
                                                          r.uniform(0.1, 2, (5, 4)))),
    "scce_col": (L.SparseCategoricalCrossentropy, lambda r: (r.integers(0, 4, (5, 1)),
                                                              _simplex(r, (5, 4)))),
    "scce_logits": (lambda: L.SparseCategoricalCrossentropy(from_logits=True),
                    lambda r: (r.integers(0, 4, 5), 2 * r.normal(size=(5, 4)))),
    "scce_ignore": (lambda: L.SparseCategoricalCrossentropy(ignore_class=-1),
                    lambda r: (np.array([0, -1, 3, 2, -1, 1]), _simplex(r, (6, 4)))),
    "scce_logits_ignore": (lambda: L.SparseCategoricalCrossentropy(from_logits=True,
                                                                   ignore_class=2),
                           lambda r: (np.array([0, 2, 3, 2, 1]), r.normal(size=(5, 4)))),
    "scce_3d": (L.SparseCategoricalCrossentropy, lambda r: (r.integers(0, 4, (2, 3)),
                                                             _simplex(r, (2, 3, 4)))),
    "kld": (L.KLDivergence, lambda r: (_simplex(r, (5, 4)), _simplex(r, (5, 4)))),
    "poisson": (L.Poisson, lambda r: (r.integers(0, 5, (5, 3)).astype(float),
                                      r.uniform(0.2, 3, (5, 3)))),
    "hinge_01": (L.Hinge, lambda r: (r.integers(0, 2, (5, 3)).astype(float),
                                     r.normal(size=(5, 3)))),
    "hinge_pm1": (L.Hinge, lambda r: (r.choice([-1.0, 1.0], (5, 3)), r.normal(size=(5, 3)))),
    "squared_hinge": (L.SquaredHinge, lambda r: (r.integers(0, 2, (5, 3)).astype(float),
                                                 r.normal(size=(5, 3)))),
    "categorical_hinge": (L.CategoricalHinge, lambda r: (_onehot(r.integers(0, 4, 6), 4),
                                                         0.5 * r.normal(size=(6, 4)))),
    "cosine": (L.CosineSimilarity, lambda r: (r.normal(size=(5, 3)), r.normal(size=(5, 3)))),
    "cosine_axis0": (lambda: L.CosineSimilarity(axis=0),
                     lambda r: (r.normal(size=(4, 3)), r.normal(size=(4, 3)))),
}


_numeric_grad = central_grad


def _weights(rng, n):
    """Sample weights of shape (n,), including a zero."""
    w = rng.uniform(0.2, 2.0, n)
    w[0] = 0.0
    return w


def _case(name, reduction="sum_over_batch_size"):
    factory, data = CASES[name]
    loss = factory()
    loss.reduction = reduction
    y_true, y_pred = data(_rng(sum(map(ord, name))))
    return loss, y_true, y_pred


def _scalar(loss, y_true, sample_weight):
    """The loss as a scalar function of y_pred (sum of the array for reduction 'none')."""
    return lambda p: float(np.sum(loss(y_true, p, sample_weight=sample_weight)))


# ---------------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name, reduction, weighted):
    loss, y_true, y_pred = _case(name, reduction)
    w = _weights(_rng(1), loss.call(y_true, y_pred).shape[0]) if weighted else None
    got = loss.gradient(y_true, y_pred, sample_weight=w)
    want = _numeric_grad(_scalar(loss, y_true, w), y_pred)
    assert got.shape == y_pred.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert np.abs(got).max() > 0  # a zero gradient would pass vacuously


FUSED = [
    ("cce", lambda: L.CategoricalCrossentropy(), "softmax"),
    ("cce_smooth", lambda: L.CategoricalCrossentropy(label_smoothing=0.1), "softmax"),
    ("scce", lambda: L.SparseCategoricalCrossentropy(), "softmax"),
    ("scce_ignore", lambda: L.SparseCategoricalCrossentropy(ignore_class=-1), "softmax"),
    ("bce", lambda: L.BinaryCrossentropy(), "sigmoid"),
    ("bce_smooth", lambda: L.BinaryCrossentropy(label_smoothing=0.2), "sigmoid"),
]


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _fused_data(name, rng):
    z = 2 * rng.normal(size=(6, 4))
    if name.startswith("scce"):
        t = rng.integers(0, 4, 6)
        if "ignore" in name:
            t[[1, 4]] = -1
        return t, z, _softmax
    if name.startswith("cce"):
        return _onehot(rng.integers(0, 4, 6), 4), z, _softmax
    return rng.integers(0, 2, (6, 4)).astype(float), z, _sigmoid


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
@pytest.mark.parametrize("name,factory,act", FUSED, ids=[f[0] for f in FUSED])
def test_logit_gradient_matches_finite_differences_through_activation(name, factory, act,
                                                                       reduction, weighted):
    loss = factory()
    loss.reduction = reduction
    rng = _rng(3)
    t, z, f = _fused_data(name, rng)
    w = rng.uniform(0.2, 2.0, len(z)) if weighted else None
    got = loss.logit_gradient(t, f(z), act, sample_weight=w)
    want = _numeric_grad(lambda zz: loss(t, f(zz), sample_weight=w), z)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8)
    # and equals the chain rule through the activation applied to `gradient`
    p, dp = f(z), loss.gradient(t, f(z), sample_weight=w)
    chain = p * (dp - (dp * p).sum(-1, keepdims=True)) if act == "softmax" else dp * p * (1 - p)
    np.testing.assert_allclose(got, chain, rtol=1e-6, atol=1e-9)


def test_logit_gradient_is_p_minus_t_over_n():
    t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    p = _softmax(np.array([[1.0, 2.0, 0.5], [0.1, -1.0, 0.3]]))
    got = L.CategoricalCrossentropy().logit_gradient(t, p, "softmax")
    np.testing.assert_allclose(got, (p - t) / 2)
    got = L.SparseCategoricalCrossentropy().logit_gradient(np.array([1, 0]), p, "softmax")
    np.testing.assert_allclose(got, (p - t) / 2)
    q = np.array([[0.2], [0.9], [0.6]])
    got = L.BinaryCrossentropy().logit_gradient(np.array([1.0, 0.0, 1.0]), q, "sigmoid")
    np.testing.assert_allclose(got, (q - [[1.0], [0.0], [1.0]]) / 3)


def test_logit_gradient_exact_for_saturated_softmax():
    """The fused form needs no division by p, so a saturated softmax gives p - t exactly."""
    p = np.array([[1.0, 0.0, 0.0]], dtype=np.float32)
    t = np.array([[0.0, 0.0, 1.0]], dtype=np.float32)
    got = L.CategoricalCrossentropy().logit_gradient(t, p, "softmax")
    np.testing.assert_array_equal(got, p - t)
    assert got.dtype == np.float32


@pytest.mark.parametrize("loss,act", [
    (L.CategoricalCrossentropy(from_logits=True), "softmax"),
    (L.CategoricalCrossentropy(), "sigmoid"),
    (L.CategoricalCrossentropy(), "relu"),
    (L.SparseCategoricalCrossentropy(from_logits=True), "softmax"),
    (L.BinaryCrossentropy(from_logits=True), "sigmoid"),
    (L.BinaryCrossentropy(), "softmax"),
    (L.MeanSquaredError(), "linear"),
    (L.KLDivergence(), "softmax"),
    (L.CategoricalCrossentropy(axis=0), "softmax"),
])
def test_logit_gradient_none_without_fused_form(loss, act):
    t = np.array([[0.0, 1.0], [1.0, 0.0]])
    p = np.array([[0.3, 0.7], [0.6, 0.4]])
    if isinstance(loss, L.SparseCategoricalCrossentropy):
        t = np.array([1, 0])
    assert loss.logit_gradient(t, p, act) is None


def test_logit_gradient_accepts_activation_objects():
    class Softmax:
        name = "softmax"
    t, p = np.array([[0.0, 1.0]]), np.array([[0.3, 0.7]])
    np.testing.assert_allclose(L.CategoricalCrossentropy().logit_gradient(t, p, Softmax()),
                               p - t)


# -------------------------------------------------------------------------------------- values
def test_values_match_keras_documented_examples():
    cce = L.categorical_crossentropy([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    np.testing.assert_allclose(cce, [-np.log(0.95), -np.log(0.1)], rtol=1e-6)
    scce = L.sparse_categorical_crossentropy([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    np.testing.assert_allclose(scce, cce, rtol=1e-12)
    bce = L.binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
    np.testing.assert_allclose(bce, [0.916, 0.714], atol=1e-3)
    yt, yp = np.array([[0, 1], [0, 0]]), np.array([[-18.6, 0.51], [2.94, -12.8]])
    assert L.BinaryCrossentropy(from_logits=True)(yt, yp) == pytest.approx(0.8654, abs=1e-4)
    assert L.BinaryCrossentropy(from_logits=True)(yt, yp, sample_weight=[0.8, 0.2]) \
        == pytest.approx(0.243, abs=1e-3)
    assert L.BinaryCrossentropy(from_logits=True, reduction="sum")(yt, yp) \
        == pytest.approx(1.730, abs=1e-3)
    np.testing.assert_allclose(L.BinaryCrossentropy(from_logits=True, reduction=None)(yt, yp),
                               [0.235, 1.496], atol=1e-3)
    assert L.huber([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).mean() == pytest.approx(0.155)
    assert L.log_cosh([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]]).mean() \
        == pytest.approx(np.log(np.cosh(1.0)) / 4)
    np.testing.assert_allclose(
        L.cosine_similarity([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]],
                            [[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]), [0.0, -1.0, 1.0], atol=1e-7)


def test_values_hand_computed():
    t, p = np.array([[1.0, 2.0], [0.0, -1.0]]), np.array([[1.5, 2.0], [2.0, -1.0]])
    np.testing.assert_allclose(L.mse(t, p), [0.125, 2.0])
    np.testing.assert_allclose(L.mae(t, p), [0.25, 1.0])
    np.testing.assert_allclose(L.mape([[2.0, 4.0]], [[1.0, 5.0]]), [100 * (0.5 + 0.25) / 2])
    np.testing.assert_allclose(L.msle([[1.0]], [[3.0]]), [(np.log(4) - np.log(2)) ** 2])
    np.testing.assert_allclose(L.huber([[0.0]], [[3.0]], delta=2.0), [2 * 3 - 0.5 * 4])
    np.testing.assert_allclose(L.poisson([[2.0]], [[3.0]]), [3 - 2 * np.log(3 + 1e-7)])
    np.testing.assert_allclose(L.kld([[0.25, 0.75]], [[0.5, 0.5]]),
                               [0.25 * np.log(0.5) + 0.75 * np.log(1.5)])
    # {0, 1} labels become {-1, 1}: margins 1 - (-1)(0.5) = 1.5 and 1 - 1(2) < 0
    np.testing.assert_allclose(L.hinge([[0.0, 1.0]], [[0.5, 2.0]]), [0.75])
    np.testing.assert_allclose(L.squared_hinge([[0.0, 1.0]], [[0.5, 2.0]]), [1.125])
    np.testing.assert_allclose(L.hinge([[-1.0, 2.0]], [[0.5, 0.25]]), [(1.5 + 0.5) / 2])
    # pos = 0.3, neg = max(0.5, 0, 0.1) = 0.5
    np.testing.assert_allclose(L.categorical_hinge([[0, 1, 0, 0]], [[0.5, 0.3, 0.0, 0.1]]),
                               [1.2])
    # smoothing 0.3 with 3 classes: target 0.8, others 0.1
    got = L.categorical_crossentropy([[0, 1, 0]], [[0.2, 0.5, 0.3]], label_smoothing=0.3)
    np.testing.assert_allclose(got, [-(0.1 * np.log(0.2) + 0.8 * np.log(0.5)
                                       + 0.1 * np.log(0.3))])
    got = L.binary_crossentropy([[1.0]], [[0.7]], label_smoothing=0.2)
    np.testing.assert_allclose(got, [-(0.9 * np.log(0.7) + 0.1 * np.log(0.3))])


def test_probabilities_are_clipped_and_normalised():
    eps = config.epsilon()
    got = L.binary_crossentropy([[1.0, 0.0]], [[0.0, 1.0]])
    np.testing.assert_allclose(got, [-np.log(eps)], rtol=1e-6)
    # CCE divides by the row sum before taking the log
    np.testing.assert_allclose(L.categorical_crossentropy([[0, 1]], [[2.0, 6.0]]),
                               [-np.log(0.75)])
    np.testing.assert_allclose(L.categorical_crossentropy([[0, 1]], [[1.0, 0.0]]),
                               [-np.log(eps)], rtol=1e-6)
    assert np.all(np.isfinite(L.kld([[0.0, 1.0]], [[1.0, 0.0]])))


@pytest.mark.parametrize("from_logits_loss", [
    L.BinaryCrossentropy(from_logits=True), L.CategoricalCrossentropy(from_logits=True),
    L.SparseCategoricalCrossentropy(from_logits=True)])
def test_from_logits_is_stable_for_huge_logits(from_logits_loss):
    z = np.array([[800.0, -800.0], [-900.0, 900.0]], dtype=np.float32)
    t = np.array([[1.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    if isinstance(from_logits_loss, L.SparseCategoricalCrossentropy):
        t = np.array([0, 0])
    values = from_logits_loss.call(t, z)
    grad = from_logits_loss.gradient(t, z)
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(grad))
    # BCE averages two elements of 900 each; the softmax losses pay lse - z_0 = 1800
    big = 900.0 if isinstance(from_logits_loss, L.BinaryCrossentropy) else 1800.0
    np.testing.assert_allclose(values, [0.0, big], rtol=1e-6, atol=1e-6)
    assert np.abs(grad).max() <= 0.5 + 1e-6  # (p - t) / 2 is bounded


def test_from_logits_matches_probabilities():
    rng = _rng(5)
    z = rng.normal(size=(6, 4))
    t = _onehot(rng.integers(0, 4, 6), 4)
    np.testing.assert_allclose(L.categorical_crossentropy(t, z, from_logits=True),
                               L.categorical_crossentropy(t, _softmax(z)), rtol=1e-6)
    np.testing.assert_allclose(L.binary_crossentropy(t, z, from_logits=True),
                               L.binary_crossentropy(t, _sigmoid(z)), rtol=1e-6)
    labels = t.argmax(-1)
    np.testing.assert_allclose(L.sparse_categorical_crossentropy(labels, z, from_logits=True),
                               L.categorical_crossentropy(t, z, from_logits=True), rtol=1e-12)


def test_ignore_class_averages_over_valid_samples_only():
    p = _simplex(_rng(2), (5, 3))
    t = np.array([0, 9, 2, 1, 9])
    per = L.SparseCategoricalCrossentropy(ignore_class=9, reduction="none")(t, p)
    valid = t != 9
    assert np.all(per[~valid] == 0)
    full = L.sparse_categorical_crossentropy(t[valid], p[valid])
    np.testing.assert_allclose(per[valid], full)
    got = L.SparseCategoricalCrossentropy(ignore_class=9)(t, p)
    assert got == pytest.approx(full.mean())
    grad = L.SparseCategoricalCrossentropy(ignore_class=9).gradient(t, p)
    assert np.all(grad[~valid] == 0)


# ----------------------------------------------------------------------------------- reductions
def test_reductions_and_sample_weights():
    t, p = np.array([[0.0], [1.0], [2.0], [4.0]]), np.zeros((4, 1))
    w = np.array([1.0, 0.0, 2.0, 0.5])
    per = np.array([0.0, 1.0, 4.0, 16.0])
    assert L.MeanSquaredError()(t, p) == pytest.approx(per.mean())
    assert L.MeanSquaredError(reduction="sum")(t, p) == pytest.approx(per.sum())
    assert L.MeanSquaredError(reduction="mean")(t, p) == pytest.approx(per.mean())
    assert L.MeanSquaredError()(t, p, sample_weight=w) == pytest.approx((per * w).sum() / 4)
    assert L.MeanSquaredError()(t, p, sample_weight=w[:, None]) == pytest.approx(
        (per * w).sum() / 4)
    assert L.MeanSquaredError(reduction="mean_with_sample_weight")(t, p, sample_weight=w) \
        == pytest.approx((per * w).sum() / w.sum())
    np.testing.assert_allclose(L.MeanSquaredError(reduction="none")(t, p, sample_weight=w),
                               per * w)
    assert isinstance(L.MeanSquaredError()(t, p), float)


def test_sample_weight_broadcasts_over_extra_axes():
    rng = _rng(4)
    t, p = rng.normal(size=(3, 2, 4)), rng.normal(size=(3, 2, 4))
    w = np.array([1.0, 0.0, 3.0])
    per = L.mse(t, p)
    assert per.shape == (3, 2)
    assert L.MeanSquaredError()(t, p, sample_weight=w) == pytest.approx(
        (per * w[:, None]).sum() / per.size)


def test_bad_sample_weight_shape_is_explained():
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\).*\(4,\)"):
        L.MeanSquaredError()(np.zeros((4, 2)), np.ones((4, 2)), sample_weight=np.ones(3))


def test_invalid_reduction_lists_valid_names():
    with pytest.raises(ValueError, match="sum_over_batch_size.*Received: reduction='average'"):
        L.MeanSquaredError(reduction="average")


@pytest.mark.parametrize("bad", [
    lambda: L.BinaryCrossentropy(label_smoothing=1.5),
    lambda: L.CategoricalCrossentropy(label_smoothing=-0.1),
    lambda: L.Huber(delta=0.0),
    lambda: L.CategoricalCrossentropy(from_logits="yes"),
    lambda: L.CosineSimilarity(axis=1.5),
    lambda: L.SparseCategoricalCrossentropy(ignore_class="void"),
])
def test_invalid_hyper_parameters_raise(bad):
    with pytest.raises((ValueError, TypeError), match="Received"):
        bad()


# ------------------------------------------------------------------------------------ dtypes
@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_stays_float32(name):
    loss, y_true, y_pred = _case(name)
    p32 = y_pred.astype(np.float32)
    t32 = y_true.astype(np.float32) if y_true.dtype.kind == "f" else y_true
    values = loss.call(t32, p32)
    assert values.dtype == np.float32
    np.testing.assert_allclose(values, loss.call(y_true, y_pred), rtol=2e-4, atol=1e-5)
    grad = loss.gradient(t32, p32)
    assert grad.dtype == np.float32 and grad.shape == p32.shape
    np.testing.assert_allclose(grad, loss.gradient(y_true, y_pred), rtol=2e-3, atol=1e-5)
    # float64 labels must not promote the float32 computation
    assert loss.gradient(y_true, p32, sample_weight=np.ones(values.shape)).dtype == np.float32
    assert isinstance(loss(t32, p32), float)


@pytest.mark.parametrize("name,factory,act", FUSED, ids=[f[0] for f in FUSED])
def test_fused_gradient_float32(name, factory, act):
    t, z, f = _fused_data(name, _rng(6))
    got = factory().logit_gradient(t, f(z).astype(np.float32), act,
                                   sample_weight=np.ones(len(z)))
    assert got.dtype == np.float32


def test_explicit_dtype_computes_in_that_dtype_and_returns_y_pred_dtype():
    loss = L.MeanSquaredError(dtype="float64")
    assert loss.call(np.zeros((2, 2)), np.ones((2, 2), np.float32)).dtype == np.float64
    assert loss.gradient(np.zeros((2, 2)), np.ones((2, 2), np.float32)).dtype == np.float32


# --------------------------------------------------------------------------------- check_targets
def test_check_targets_integer_labels_given_to_categorical():
    cce = L.CategoricalCrossentropy()
    for y in (np.array([0, 3, 9]), np.array([[0], [3], [9]]), np.array([0.0, 3.0, 9.0])):
        with pytest.raises(ValueError, match="integer class labels") as err:
            cce.check_targets(y, (None, 10))
        assert "sparse_categorical_crossentropy" in str(err.value)
        assert "to_categorical" in str(err.value)


def test_check_targets_one_hot_given_to_sparse():
    with pytest.raises(ValueError, match="one-hot") as err:
        L.SparseCategoricalCrossentropy().check_targets(np.eye(10)[[1, 2, 3]], (None, 10))
    assert "'categorical_crossentropy'" in str(err.value) and "argmax(-1)" in str(err.value)


def test_check_targets_sparse_labels_out_of_range():
    with pytest.raises(ValueError, match=r"min=-1, max=12.*") as err:
        L.SparseCategoricalCrossentropy().check_targets(np.array([0, 12, -1, 3]), (None, 10))
    assert "10 output units" in str(err.value)
    with pytest.raises(ValueError, match="max=10"):
        L.SparseCategoricalCrossentropy().check_targets(np.array([10]), (None, 10))


def test_check_targets_sparse_ignore_class_is_exempt_from_range():
    y = L.SparseCategoricalCrossentropy(ignore_class=255).check_targets(
        np.array([[0], [255], [3]]), (None, 4))
    np.testing.assert_array_equal(y, [0, 255, 3])


def test_check_targets_sparse_non_integer_labels():
    with pytest.raises(ValueError, match="non-integer"):
        L.SparseCategoricalCrossentropy().check_targets(np.array([0.0, 1.5, 2.0]), (None, 3))
    with pytest.raises(ValueError, match="integer"):
        L.SparseCategoricalCrossentropy().check_targets(np.array(["a", "b"]), (None, 3))


def test_check_targets_sparse_converts_to_integer_vector():
    y = L.SparseCategoricalCrossentropy().check_targets(np.array([[1.0], [0.0], [2.0]]),
                                                        (None, 3))
    assert y.shape == (3,) and np.issubdtype(y.dtype, np.integer)
    np.testing.assert_array_equal(y, [1, 0, 2])
    y = L.SparseCategoricalCrossentropy().check_targets(np.zeros((4, 5), int), (None, 5, 3))
    assert y.shape == (4, 5)


@pytest.mark.parametrize("loss", [L.MeanSquaredError(), L.CategoricalCrossentropy(),
                                  L.BinaryCrossentropy(), L.SparseCategoricalCrossentropy()])
def test_check_targets_incompatible_shape_names_both(loss):
    y = np.zeros((8, 3, 2))
    with pytest.raises(ValueError, match="incompatible") as err:
        loss.check_targets(y, (None, 10))
    assert "(8, 3, 2)" in str(err.value) and "(None, 10)" in str(err.value)


def test_check_targets_wrong_width_names_both():
    with pytest.raises(ValueError, match=r"\(5, 4\).*\(None, 10\)"):
        L.CategoricalCrossentropy().check_targets(np.full((5, 4), 0.25), (None, 10))


def test_check_targets_regression_and_binary_shapes():
    y = L.MeanSquaredError().check_targets(np.arange(6), (None, 1))
    assert y.shape == (6, 1) and y.dtype == np.dtype(config.floatx())
    y = L.BinaryCrossentropy().check_targets(np.array([0, 1, 1]), (None, 1))
    assert y.shape == (3, 1)
    y = L.MeanSquaredError().check_targets(np.zeros((6, 3), np.float32), (None, 3))
    assert y.dtype == np.float32
    with pytest.raises(ValueError, match=r"\[0, 1\].*min=-1"):
        L.BinaryCrossentropy().check_targets(np.array([-1, 1, 1]), (None, 1))
    with pytest.raises(ValueError, match="NaN"):
        L.MeanSquaredError().check_targets(np.array([0.0, np.nan]), (None, 1))


def test_check_targets_categorical_accepts_one_hot():
    y = L.CategoricalCrossentropy().check_targets(np.eye(3, dtype=int), (None, 3))
    assert y.dtype == np.dtype(config.floatx()) and y.shape == (3, 3)


# ------------------------------------------------------------------------- registry and config
ALL_CLASSES = [L.MeanSquaredError, L.MeanAbsoluteError, L.MeanAbsolutePercentageError,
               L.MeanSquaredLogarithmicError, L.Huber, L.LogCosh, L.BinaryCrossentropy,
               L.CategoricalCrossentropy, L.SparseCategoricalCrossentropy, L.KLDivergence,
               L.Poisson, L.Hinge, L.SquaredHinge, L.CategoricalHinge, L.CosineSimilarity]

KERAS_NAMES = {
    "mean_squared_error": L.MeanSquaredError, "mse": L.MeanSquaredError,
    "mean_absolute_error": L.MeanAbsoluteError, "mae": L.MeanAbsoluteError,
    "mean_absolute_percentage_error": L.MeanAbsolutePercentageError,
    "mape": L.MeanAbsolutePercentageError, "msle": L.MeanSquaredLogarithmicError,
    "mean_squared_logarithmic_error": L.MeanSquaredLogarithmicError, "huber": L.Huber,
    "log_cosh": L.LogCosh, "logcosh": L.LogCosh, "binary_crossentropy": L.BinaryCrossentropy,
    "categorical_crossentropy": L.CategoricalCrossentropy,
    "sparse_categorical_crossentropy": L.SparseCategoricalCrossentropy,
    "kl_divergence": L.KLDivergence, "kld": L.KLDivergence,
    "kullback_leibler_divergence": L.KLDivergence, "poisson": L.Poisson, "hinge": L.Hinge,
    "squared_hinge": L.SquaredHinge, "categorical_hinge": L.CategoricalHinge,
    "cosine_similarity": L.CosineSimilarity, "MSE": L.MeanSquaredError,
}


@pytest.mark.parametrize("name,cls", sorted(KERAS_NAMES.items()))
def test_get_by_name(name, cls):
    assert type(L.get(name)) is cls
    assert type(L.get(cls.__name__)) is cls


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_config_round_trip(cls):
    loss = cls(reduction="sum", name="custom")
    clone = cls.from_config(loss.get_config())
    assert clone.get_config() == loss.get_config() and clone.name == "custom"
    again = L.get(L.serialize(loss))
    assert type(again) is cls and again.get_config() == loss.get_config()


def test_config_keeps_hyper_parameters():
    loss = L.get({"class_name": "CategoricalCrossentropy",
                  "config": {"from_logits": True, "label_smoothing": 0.1}})
    assert loss.from_logits and loss.label_smoothing == 0.1
    assert L.Huber.from_config(L.Huber(delta=2.5).get_config()).delta == 2.5
    assert L.SparseCategoricalCrossentropy.from_config(
        L.SparseCategoricalCrossentropy(ignore_class=3).get_config()).ignore_class == 3


def test_default_names_follow_keras():
    assert L.CategoricalCrossentropy().name == "categorical_crossentropy"
    assert L.KLDivergence().name == "kl_divergence"
    assert L.Huber().name == "huber_loss"
    assert L.LogCosh().name == "log_cosh"

    class FocalThing(L.Loss):
        def call(self, y_true, y_pred):
            return np.mean(np.abs(y_pred - y_true), axis=-1)
    assert FocalThing().name == "focal_thing"
    assert FocalThing()(np.zeros((2, 2)), np.ones((2, 2))) == 1.0
    with pytest.raises(NotImplementedError, match="gradient"):
        FocalThing().gradient(np.zeros((2, 2)), np.ones((2, 2)))


def test_get_passes_instances_and_none():
    loss = L.MeanSquaredError()
    assert L.get(loss) is loss and L.get(None) is None
    assert type(L.get(L.Hinge)) is L.Hinge


@pytest.mark.parametrize("fn", [L.mse, L.mean_squared_error, L.categorical_crossentropy,
                                L.kld, L.logcosh, L.cosine_similarity])
def test_get_maps_module_functions_to_differentiable_classes(fn):
    loss = L.get(fn)
    assert type(loss) is L._FUNCTIONS[fn]
    t, p = np.array([[0.2, 0.8]]), np.array([[0.4, 0.6]])
    np.testing.assert_allclose(loss.call(t, p), fn(t, p))
    assert loss.gradient(t, p).shape == p.shape


def test_get_wraps_plain_callable():
    def my_loss(y_true, y_pred):          # NumPy, not ops: the tape cannot see through it
        return np.mean((np.asarray(y_pred) - y_true) ** 4, axis=-1)
    loss = L.get(my_loss)
    assert isinstance(loss, L.LossFunctionWrapper) and loss.name == "my_loss"
    t, p = np.zeros((3, 2)), np.full((3, 2), 2.0)
    assert loss(t, p) == pytest.approx(16.0)
    with pytest.raises(NotImplementedError, match="my_loss.*gradient"):
        loss.gradient(t, p)
    my_loss.gradient = lambda y_true, y_pred: 4 * (y_pred - y_true) ** 3 / y_pred.shape[-1]
    rng = _rng(7)
    t, p = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    w = rng.uniform(0.5, 1.5, 4)
    np.testing.assert_allclose(loss.gradient(t, p, sample_weight=w),
                               _numeric_grad(lambda q: loss(t, q, sample_weight=w), p),
                               rtol=1e-5, atol=1e-8)


def test_get_errors():
    with pytest.raises(ValueError, match="Unknown loss 'categorical_crossentropi'.*Did you mean"):
        L.get("categorical_crossentropi")
    with pytest.raises(TypeError, match="Received: identifier=42"):
        L.get(42)


@pytest.mark.parametrize("fn,cls,kwargs", [
    (L.mean_squared_error, L.MeanSquaredError, {}),
    (L.huber, L.Huber, {"delta": 0.5}),
    (L.binary_crossentropy, L.BinaryCrossentropy, {"label_smoothing": 0.1}),
    (L.categorical_crossentropy, L.CategoricalCrossentropy, {"from_logits": True}),
    (L.cosine_similarity, L.CosineSimilarity, {"axis": 0}),
])
def test_module_functions_equal_class_call(fn, cls, kwargs):
    rng = _rng(8)
    t, p = _simplex(rng, (4, 3)), _simplex(rng, (4, 3))
    np.testing.assert_allclose(fn(t, p, **kwargs), cls(**kwargs).call(t, p))


def test_sparse_function_axis():
    rng = _rng(9)
    p, t = _simplex(rng, (4, 3)), rng.integers(0, 3, 4)
    np.testing.assert_allclose(L.sparse_categorical_crossentropy(t, p.T, axis=0),
                               L.sparse_categorical_crossentropy(t, p))


# -------------------------------------------------------------------------------- torch parity
def _torch():
    return pytest.importorskip("torch")


def _parity(ours_loss, t_np, p_np, torch_fn, rtol=1e-7):
    """Values and gradients of our loss equal torch's (float64, autograd)."""
    torch = _torch()
    p = torch.tensor(p_np, dtype=torch.float64, requires_grad=True)
    ref = torch_fn(p)
    ref.backward()
    assert ours_loss(t_np, p_np) == pytest.approx(ref.item(), rel=rtol, abs=1e-12)
    np.testing.assert_allclose(ours_loss.gradient(t_np, p_np), p.grad.numpy(),
                               rtol=1e-6, atol=1e-10)


def test_torch_mse_l1_huber():
    torch = _torch()
    F = torch.nn.functional
    rng = _rng(10)
    t, p = rng.normal(size=(6, 3)), 2 * rng.normal(size=(6, 3))
    tt = torch.tensor(t)
    _parity(L.MeanSquaredError(), t, p, lambda q: F.mse_loss(q, tt))
    _parity(L.MeanAbsoluteError(), t, p, lambda q: F.l1_loss(q, tt))
    _parity(L.Huber(), t, p, lambda q: F.huber_loss(q, tt, delta=1.0))
    _parity(L.Huber(delta=0.4), t, p, lambda q: F.huber_loss(q, tt, delta=0.4))


def test_torch_binary_cross_entropy():
    torch = _torch()
    F = torch.nn.functional
    rng = _rng(11)
    t = rng.integers(0, 2, (6, 3)).astype(float)
    tt = torch.tensor(t)
    _parity(L.BinaryCrossentropy(), t, rng.uniform(0.05, 0.95, (6, 3)),
            lambda q: F.binary_cross_entropy(q, tt))
    _parity(L.BinaryCrossentropy(from_logits=True), t, 3 * rng.normal(size=(6, 3)),
            lambda q: F.binary_cross_entropy_with_logits(q, tt))
    ts = torch.tensor(t * 0.8 + 0.1)  # smoothing 0.2 moves labels toward 0.5
    _parity(L.BinaryCrossentropy(from_logits=True, label_smoothing=0.2), t,
            rng.normal(size=(6, 3)), lambda q: F.binary_cross_entropy_with_logits(q, ts))
    w = rng.uniform(0.5, 2, 6)
    z = rng.normal(size=(6, 3))
    ref = F.binary_cross_entropy_with_logits(torch.tensor(z), tt,
                                             weight=torch.tensor(w)[:, None]).item()
    assert L.BinaryCrossentropy(from_logits=True)(t, z, sample_weight=w) == pytest.approx(ref)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_torch_cross_entropy(smoothing):
    torch = _torch()
    F = torch.nn.functional
    rng = _rng(12)
    labels = rng.integers(0, 5, 7)
    z = 2 * rng.normal(size=(7, 5))
    lt = torch.tensor(labels)
    ref = lambda q: F.cross_entropy(q, lt, label_smoothing=smoothing)  # noqa: E731
    _parity(L.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing),
            _onehot(labels, 5), z, ref)
    if smoothing == 0.0:
        _parity(L.SparseCategoricalCrossentropy(from_logits=True), labels, z, ref)
    # probabilities + fused softmax gradient equal torch's logits gradient
    zt = torch.tensor(z, requires_grad=True)
    ref(zt).backward()
    cce = L.CategoricalCrossentropy(label_smoothing=smoothing)
    np.testing.assert_allclose(cce.logit_gradient(_onehot(labels, 5), _softmax(z), "softmax"),
                               zt.grad.numpy(), rtol=1e-6, atol=1e-12)
    assert cce(_onehot(labels, 5), _softmax(z)) == pytest.approx(ref(zt).item(), rel=1e-6)
    if smoothing == 0.0:
        np.testing.assert_allclose(
            L.SparseCategoricalCrossentropy().logit_gradient(labels, _softmax(z), "softmax"),
            zt.grad.numpy(), rtol=1e-6, atol=1e-12)
    # soft (probability) targets
    soft = _simplex(rng, (7, 5))
    _parity(L.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing), soft, z,
            lambda q: F.cross_entropy(q, torch.tensor(soft), label_smoothing=smoothing))


def test_torch_cross_entropy_ignore_index():
    torch = _torch()
    F = torch.nn.functional
    rng = _rng(13)
    labels = np.array([0, 3, -100, 2, -100, 1])
    z = rng.normal(size=(6, 4))
    _parity(L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100), labels, z,
            lambda q: F.cross_entropy(q, torch.tensor(labels), ignore_index=-100), rtol=1e-6)


def test_torch_kl_div_poisson_cosine():
    torch = _torch()
    F = torch.nn.functional
    rng = _rng(14)
    t, p = _simplex(rng, (5, 4)), _simplex(rng, (5, 4))
    _parity(L.KLDivergence(), t, p,
            lambda q: F.kl_div(torch.log(q), torch.tensor(t), reduction="batchmean"))
    counts = rng.integers(0, 6, (5, 3)).astype(float)
    _parity(L.Poisson(), counts, rng.uniform(0.1, 4, (5, 3)),
            lambda q: F.poisson_nll_loss(q, torch.tensor(counts), log_input=False,
                                         eps=config.epsilon()))
    a, b = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    _parity(L.CosineSimilarity(), a, b,
            lambda q: -F.cosine_similarity(torch.tensor(a), q, dim=-1).mean())


def _quartic(y_true, y_pred):
    return np.mean((y_pred - y_true) ** 4, axis=-1)


def test_wrapper_config_never_imports_code():
    loss = L.LossFunctionWrapper(_quartic, reduction="sum")
    config = loss.get_config()
    assert config["fn"] == "_quartic"                  # a name, never an import path
    clone = L.LossFunctionWrapper.from_config(config, custom_objects={"_quartic": _quartic})
    assert clone.fn is _quartic and clone.reduction == "sum" and clone.name == "_quartic"
    builtin = L.LossFunctionWrapper.from_config({**config, "fn": "mean_squared_error"})
    assert builtin.fn is L.mean_squared_error
    for hostile in ("os.system", "builtins.eval", "_quartic"):
        with pytest.raises(ValueError, match="not a kerasnp loss function.*custom_objects"):
            L.LossFunctionWrapper.from_config({**config, "fn": hostile})
