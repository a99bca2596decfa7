"""Metrics: hand-computed values, scikit-learn parity on uneven weighted batches, `get`."""
import numpy as np
import pytest
from sklearn import metrics as skm

from kerasnp import metrics as M
from kerasnp.metrics.confusion import confusion_counts

SIZES = (7, 32, 1, 19, 41)     # uneven batches: a mean of batch means would be wrong


def batches(*arrays, sizes=SIZES):
    """Split aligned arrays into consecutive uneven batches."""
    start = 0
    for size in sizes:
        yield tuple(a[start:start + size] for a in arrays)
        start += size


def feed(metric, y_true, y_pred, w=None, sizes=SIZES):
    metric.reset_state()
    arrays = (y_true, y_pred) if w is None else (y_true, y_pred, w)
    for batch in batches(*arrays, sizes=sizes):
        metric.update_state(*batch)
    return metric.result()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def weights(rng, n=sum(SIZES)):
    w = rng.uniform(0.0, 2.0, n).astype(np.float32)
    w[::9] = 0.0                                  # zero weights mask samples out
    return w


# ---------------------------------------------------------------------------------------- Mean

def test_mean_weights_samples_not_batches():
    m = M.Mean()
    m.update_state(2.0, sample_weight=10)         # the engine's loss tracking: loss, batch size
    m.update_state(5.0, sample_weight=2)
    assert m.result() == pytest.approx((2.0 * 10 + 5.0 * 2) / 12)
    m.reset_state()
    assert m.result() == 0.0
    m.update_state(np.array([1.0, 2.0, 3.0]))
    m.update_state(7.0)
    assert m.result() == pytest.approx(13.0 / 4)
    assert isinstance(m.result(), float)


def test_mean_reduces_non_batch_axes_and_broadcasts_weights():
    v = np.array([[1.0, 3.0], [10.0, 20.0]], dtype=np.float32)   # per-sample means 2 and 15
    m = M.Mean()
    m.update_state(v)
    assert m.result() == pytest.approx(8.5)
    m.reset_state()
    m.update_state(v, sample_weight=np.array([3.0, 1.0]))
    assert m.result() == pytest.approx((2 * 3 + 15) / 4)
    m.reset_state()
    m.update_state(v, sample_weight=np.array([[3.0], [1.0]]))
    assert m.result() == pytest.approx((2 * 3 + 15) / 4)
    m.reset_state()
    m.update_state(v, sample_weight=np.array([[1.0, 0.0], [1.0, 1.0]]))   # per element
    assert m.result() == pytest.approx((1 + 10 + 20) / 3)


def test_mean_metric_wrapper_passes_kwargs_and_round_trips():
    m = M.MeanMetricWrapper(M.binary_accuracy, name="ba", threshold=0.9)
    m.update_state(np.array([1, 1]), np.array([0.8, 0.95]))
    assert m.result() == pytest.approx(0.5)
    clone = M.get(M.serialize(m))
    clone.update_state(np.array([1, 1]), np.array([0.8, 0.95]))
    assert (type(clone), clone.name, clone.result()) == (M.MeanMetricWrapper, "ba", 0.5)
    assert M.MeanMetricWrapper(M.accuracy).name == "mean_metric_wrapper"
    with pytest.raises(TypeError, match="callable"):
        M.MeanMetricWrapper(3)


# ---------------------------------------------------------------------------------- accuracy

def test_accuracy_functions_by_hand():
    assert M.binary_accuracy(np.array([1, 0, 1]), np.array([0.6, 0.5, 0.4])).tolist() == [1, 1, 0]
    y = np.array([[0, 1, 0], [1, 0, 0]])
    p = np.array([[0.2, 0.5, 0.3], [0.1, 0.3, 0.6]], dtype=np.float32)
    assert M.categorical_accuracy(y, p).tolist() == [1, 0]
    assert M.sparse_categorical_accuracy(np.array([1, 2]), p).tolist() == [1, 1]
    assert M.sparse_categorical_accuracy(np.array([[1], [0]]), p).ravel().tolist() == [1, 0]
    assert M.top_k_categorical_accuracy(y, p, k=2).tolist() == [1, 0]
    assert M.sparse_top_k_categorical_accuracy(np.array([0, 1]), p, k=2).tolist() == [0, 1]
    ids = np.array([[1, 2, 0], [2, 1, 0]])
    assert M.sparse_top_k_categorical_accuracy(np.array([2, 0]), ids, k=2,
                                               from_sorted_ids=True).tolist() == [1, 0]
    assert M.categorical_accuracy(y, p).dtype == np.float32


def test_top_k_counts_boundary_ties_as_hits():
    p = np.array([[0.4, 0.4, 0.2]])
    assert M.sparse_top_k_categorical_accuracy(np.array([1]), p, k=1).tolist() == [1.0]
    assert M.sparse_top_k_categorical_accuracy(np.array([2]), p, k=2).tolist() == [0.0]


def test_accuracy_classes_by_hand():
    m = M.BinaryAccuracy()
    m.update_state(np.array([[1], [1], [0], [0]]), np.array([[0.98], [1.0], [0.0], [0.6]]))
    assert m.result() == pytest.approx(0.75)
    m.update_state(np.array([1.0, 0.0]), np.array([[0.2], [0.1]]), sample_weight=np.array([2, 2]))
    assert m.result() == pytest.approx((3 + 2) / 8)
    m = M.BinaryAccuracy(threshold=0.7)
    m.update_state(np.array([1, 1]), np.array([0.6, 0.8]))
    assert m.result() == 0.5
    m = M.Accuracy()
    m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]], sample_weight=[1, 1, 0, 0])
    assert m.result() == 0.5
    m = M.SparseCategoricalAccuracy()
    m.update_state(np.array([[2], [1]]), np.array([[0.1, 0.6, 0.3], [0.05, 0.95, 0]]))
    assert m.result() == 0.5


def _probs(rng, n, c):
    x = rng.random((n, c)).astype(np.float32)
    return x / x.sum(1, keepdims=True)


def test_accuracies_match_sklearn_over_weighted_batches(rng):
    n, c = sum(SIZES), 5
    labels = rng.integers(0, c, n)
    onehot = np.eye(c, dtype=np.float32)[labels]
    p = _probs(rng, n, c)
    w = weights(rng)
    pred = p.argmax(1)
    expected = skm.accuracy_score(labels, pred, sample_weight=w)
    assert feed(M.CategoricalAccuracy(), onehot, p, w) == pytest.approx(expected, abs=1e-6)
    assert feed(M.SparseCategoricalAccuracy(), labels, p, w) == pytest.approx(expected, abs=1e-6)
    assert feed(M.SparseCategoricalAccuracy(), labels[:, None], p, w) == pytest.approx(expected,
                                                                                     abs=1e-6)
    # Unweighted: the epoch value counts samples, not batches.
    assert feed(M.CategoricalAccuracy(), onehot, p) == pytest.approx(np.mean(labels == pred))
    yb = rng.integers(0, 2, (n, 1)).astype(np.float32)
    pb = rng.random((n, 1)).astype(np.float32)
    expected = skm.accuracy_score(yb[:, 0], pb[:, 0] > 0.3, sample_weight=w)
    assert feed(M.BinaryAccuracy(threshold=0.3), yb, pb, w) == pytest.approx(expected, abs=1e-6)
    assert feed(M.Accuracy(), labels, pred, w) == pytest.approx(
        skm.accuracy_score(labels, pred, sample_weight=w), abs=1e-6)
    for k in (1, 3):
        expected = skm.top_k_accuracy_score(labels, p, k=k, labels=range(c), sample_weight=w)
        assert feed(M.TopKCategoricalAccuracy(k=k), onehot, p, w) == pytest.approx(expected,
                                                                                  abs=1e-6)
        assert feed(M.SparseTopKCategoricalAccuracy(k=k), labels, p, w) == pytest.approx(
            expected, abs=1e-6)


# -------------------------------------------------------------------------------- regression

@pytest.mark.parametrize("shape", [(100,), (100, 1), (100, 3)])
def test_regression_metrics_match_sklearn(rng, shape):
    y = rng.normal(size=shape).astype(np.float32)
    p = (y + rng.normal(scale=0.5, size=shape)).astype(np.float32)
    w = weights(rng)
    mse = skm.mean_squared_error(y, p, sample_weight=w)
    mae = skm.mean_absolute_error(y, p, sample_weight=w)
    assert feed(M.MeanSquaredError(), y, p, w) == pytest.approx(mse, rel=1e-5)
    assert feed(M.MeanAbsoluteError(), y, p, w) == pytest.approx(mae, rel=1e-5)
    assert feed(M.RootMeanSquaredError(), y, p, w) == pytest.approx(np.sqrt(mse), rel=1e-5)
    assert feed(M.MeanSquaredError(), y, p) == pytest.approx(np.mean((y - p) ** 2), rel=1e-5)


def test_regression_by_hand_and_rank_alignment():
    m = M.MeanSquaredError()
    m.update_state(np.array([0.0, 1.0]), np.array([[1.0], [1.0]]))   # (n,) against (n, 1)
    assert m.result() == 0.5
    m = M.RootMeanSquaredError()
    m.update_state([[0.0], [0.0]], [[3.0], [4.0]])
    m.update_state([[0.0]], [[0.0]])
    assert m.result() == pytest.approx(np.sqrt(25 / 3))               # not a mean of batch roots
    m = M.MeanAbsoluteError()
    m.update_state(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]]))
    assert m.result() == 1.5
    assert M.mean_squared_error(np.zeros((2, 3), np.float32),
                                np.ones((2, 3), np.float32)).dtype == np.float32


# -------------------------------------------------------------------------- confusion metrics

def _loop_counts(y, p, thresholds, w):
    """Slow reference: one threshold at a time."""
    out = np.zeros((4, len(thresholds)))
    for j, t in enumerate(thresholds):
        pos = p > t
        out[:, j] = [(w * (pos & y)).sum(), (w * (pos & ~y)).sum(), (w * (~pos & ~y)).sum(),
                     (w * (~pos & y)).sum()]
    return out


def test_confusion_counts_match_loop_reference(rng):
    y = rng.random(300) < 0.4
    p = np.round(rng.random(300), 1).astype(np.float32)   # many predictions sit on thresholds
    thresholds = np.array([-1e-7, 0.0, 0.2, 0.2, 0.5, 0.7, 1.0])
    w = rng.random(300)
    got = np.array(confusion_counts(y, p, thresholds, w))
    np.testing.assert_allclose(got, _loop_counts(y, p, thresholds, w))
    got = np.array(confusion_counts(y, p, thresholds))
    np.testing.assert_allclose(got, _loop_counts(y, p, thresholds, np.ones(300)))
    y2, p2 = y.reshape(100, 3), p.reshape(100, 3)
    tp, fp, tn, fn = confusion_counts(y2, p2, thresholds, w[:100, None], per_label=True)
    for lab in range(3):
        ref = _loop_counts(y2[:, lab], p2[:, lab], thresholds, w[:100])
        np.testing.assert_allclose(np.array([tp, fp, tn, fn])[:, :, lab], ref)


def test_precision_recall_by_hand():
    p = M.Precision()
    p.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert p.result() == pytest.approx(2 / 3)
    p.reset_state()
    p.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    assert p.result() == 1.0
    r = M.Recall()
    r.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    assert r.result() == 1.0
    assert M.Precision().result() == 0.0                  # nothing seen: 0, not nan
    # top_k: only the 2 largest of each row are positives.
    p = M.Precision(top_k=2)
    p.update_state([[0, 0, 1, 1]], [[0.9, 0.2, 0.8, 0.1]])
    assert p.result() == 0.5
    p = M.Precision(top_k=2, class_id=3)
    p.update_state([[0, 0, 1, 1]], [[0.9, 0.8, 0.1, 0.85]])
    assert p.result() == 1.0
    r = M.Recall(class_id=2)
    r.update_state([[0, 0, 1], [0, 0, 1]], [[0.1, 0.1, 0.9], [0.6, 0.1, 0.3]])
    assert r.result() == 0.5
    p = M.Precision(thresholds=[0.7, 0.3])                 # one result per threshold, in order
    p.update_state([1, 0, 1], [0.8, 0.5, 0.4])
    np.testing.assert_allclose(p.result(), [1.0, 2 / 3])


@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_precision_recall_match_sklearn(rng, threshold):
    n = sum(SIZES)
    y = rng.integers(0, 2, (n, 1))
    p = rng.random((n, 1)).astype(np.float32)
    w = weights(rng)
    hard = (p[:, 0] > threshold).astype(int)
    prec = skm.precision_score(y[:, 0], hard, sample_weight=w)
    rec = skm.recall_score(y[:, 0], hard, sample_weight=w)
    assert feed(M.Precision(thresholds=threshold), y, p, w) == pytest.approx(prec, abs=1e-6)
    assert feed(M.Recall(thresholds=threshold), y, p, w) == pytest.approx(rec, abs=1e-6)
    # class_id on a multi-label batch equals the same metric on that column.
    y3 = rng.integers(0, 2, (n, 3))
    p3 = rng.random((n, 3))
    expected = skm.recall_score(y3[:, 1], p3[:, 1] > threshold, sample_weight=w)
    assert feed(M.Recall(thresholds=threshold, class_id=1), y3, p3, w) == pytest.approx(expected)


# ----------------------------------------------------------------------------------------- AUC

def test_auc_by_hand():
    m = M.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0.0, 0.5, 0.3, 0.9])
    assert m.result() == pytest.approx(0.75)
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0.0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1])
    assert m.result() == pytest.approx(1.0)
    m = M.AUC(from_logits=True, num_thresholds=3)
    m.update_state([0, 0, 1, 1], [-10.0, 0.0, -0.8, 2.2])       # sigmoid: ~0, .5, .31, .9
    assert m.result() == pytest.approx(0.75)


def test_auc_roc_matches_sklearn(rng):
    n = sum(SIZES)
    y = rng.integers(0, 2, (n, 1))
    p = np.clip(0.3 * y + 0.7 * rng.random((n, 1)), 0, 1).astype(np.float32)
    w = weights(rng)
    expected = skm.roc_auc_score(y[:, 0], p[:, 0], sample_weight=w)
    got = feed(M.AUC(), y, p, w)
    assert got == pytest.approx(expected, abs=1e-2)
    lo = feed(M.AUC(summation_method="minoring"), y, p, w)
    hi = feed(M.AUC(summation_method="majoring"), y, p, w)
    assert lo <= got <= hi and hi - lo > 0
    # Exact thresholds at every prediction make the trapezoid sum exact.
    exact = M.AUC(thresholds=np.unique(p).tolist())
    assert feed(exact, y, p, w) == pytest.approx(expected, abs=1e-6)


def test_auc_pr_matches_sklearn_average_precision(rng):
    n = 2000
    y = rng.integers(0, 2, n)
    p = np.clip(0.25 * y + 0.75 * rng.random(n), 0, 1)
    expected = skm.average_precision_score(y, p)
    got = feed(M.AUC(curve="pr"), y, p, sizes=(500, 700, 800))
    assert got == pytest.approx(expected, abs=1e-2)


def test_auc_multi_label_is_mean_of_label_aucs(rng):
    n = sum(SIZES)
    y = rng.integers(0, 2, (n, 3))
    p = np.clip(0.2 * y + 0.8 * rng.random((n, 3)), 0, 1)
    w = weights(rng)
    per_label = [skm.roc_auc_score(y[:, j], p[:, j], sample_weight=w) for j in range(3)]
    assert feed(M.AUC(multi_label=True), y, p, w) == pytest.approx(np.mean(per_label), abs=1e-2)
    lw = np.array([1.0, 0.0, 3.0])
    got = feed(M.AUC(multi_label=True, label_weights=lw), y, p, w)
    assert got == pytest.approx(np.dot(per_label, lw) / 4, abs=1e-2)
    pooled = skm.roc_auc_score(y.ravel(), p.ravel(), sample_weight=np.repeat(w, 3))
    assert feed(M.AUC(), y, p, w) == pytest.approx(pooled, abs=1e-2)
    m = M.AUC(multi_label=True)
    feed(m, y, p, w)
    m.reset_state()
    assert m.true_positives.shape == (200, 3) and not m.true_positives.any()


# ------------------------------------------------------------------------------------------ F1

@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_f1_argmax_matches_sklearn(rng, average):
    n, c = sum(SIZES), 4
    labels = rng.integers(0, c, n)
    p = _probs(rng, n, c)
    w = weights(rng)
    expected = skm.f1_score(labels, p.argmax(1), labels=range(c), average=average,
                            sample_weight=w, zero_division=0)
    got = feed(M.F1Score(average=average), np.eye(c)[labels], p, w)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    if average is None:
        assert isinstance(got, np.ndarray) and got.shape == (c,)
    else:
        assert isinstance(got, float)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_fbeta_threshold_multilabel_matches_sklearn(rng, average):
    n, c = sum(SIZES), 3
    y = rng.integers(0, 2, (n, c))
    p = rng.random((n, c))
    w = weights(rng)
    expected = skm.fbeta_score(y, (p > 0.4).astype(int), beta=2.0, average=average,
                               sample_weight=w, zero_division=0)
    got = feed(M.FBetaScore(average=average, beta=2.0, threshold=0.4), y, p, w)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_f1_by_hand_and_errors():
    m = M.F1Score(average="micro")
    m.update_state(np.eye(3), np.eye(3)[[0, 1, 1]])
    assert m.result() == pytest.approx(2 / 3, abs=1e-6)
    m = M.F1Score()
    m.update_state(np.eye(3), np.eye(3)[[0, 1, 1]])
    np.testing.assert_allclose(m.result(), [1.0, 2 / 3, 0.0], atol=1e-6)
    with pytest.raises(ValueError, match="3 classes"):
        m.update_state(np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="same shape"):
        m.update_state(np.array([0, 1]), np.eye(2))
    m.reset_state()
    np.testing.assert_array_equal(m.result(), [0.0, 0.0, 0.0])


# ------------------------------------------------------------------------------ reset & config

ALL = [M.Accuracy(), M.BinaryAccuracy(threshold=0.2), M.CategoricalAccuracy(),
       M.SparseCategoricalAccuracy(), M.TopKCategoricalAccuracy(k=2),
       M.SparseTopKCategoricalAccuracy(k=2), M.MeanSquaredError(), M.MeanAbsoluteError(),
       M.RootMeanSquaredError(), M.Precision(thresholds=0.3), M.Recall(top_k=1),
       M.AUC(num_thresholds=50, curve="PR"), M.F1Score(average="macro"),
       M.FBetaScore(beta=0.5)]


@pytest.mark.parametrize("metric", ALL, ids=lambda m: type(m).__name__)
def test_config_round_trip_and_reset(metric, rng):
    clone = M.deserialize(M.serialize(metric))
    assert type(clone) is type(metric) and clone.get_config() == metric.get_config()
    y = np.eye(3)[rng.integers(0, 3, 20)]
    if isinstance(metric, (M.SparseCategoricalAccuracy, M.SparseTopKCategoricalAccuracy)):
        y = y.argmax(1)
    p = _probs(rng, 20, 3)
    first = metric(y[:10], p[:10])
    metric.update_state(y[10:], p[10:])
    metric.reset_state()
    np.testing.assert_allclose(metric(y[:10], p[:10]), first)        # nothing survives reset


# ------------------------------------------------------------------------------------------ get

class _FakeLoss:
    def __init__(self, name):
        self.name = name


class BinaryCrossentropy:         # a loss object whose class name, not instance name, tells
    name = "my_loss"


def binary_crossentropy(y_true, y_pred):
    return y_pred


@pytest.mark.parametrize("loss, shape, cls", [
    ("binary_crossentropy", (None, 1), M.BinaryAccuracy),
    ("binary_crossentropy", (None, 5), M.BinaryAccuracy),          # multi-label sigmoid outputs
    (_FakeLoss("binary_crossentropy"), None, M.BinaryAccuracy),
    (BinaryCrossentropy(), (None, 3), M.BinaryAccuracy),
    (binary_crossentropy, (None, 3), M.BinaryAccuracy),
    ("categorical_crossentropy", (None, 10), M.CategoricalAccuracy),
    (_FakeLoss("categorical_crossentropy"), (None, 1), M.CategoricalAccuracy),
    ("sparse_categorical_crossentropy", (None, 10), M.SparseCategoricalAccuracy),
    ("SparseCategoricalCrossentropy", None, M.SparseCategoricalAccuracy),
    ("mse", (None, 1), M.BinaryAccuracy),
    ("mse", (None, 4), M.CategoricalAccuracy),
    (None, (None, 1), M.BinaryAccuracy),
    (None, (32, 10), M.CategoricalAccuracy),
    (None, None, M.CategoricalAccuracy),
])
@pytest.mark.parametrize("ident", ["accuracy", "acc"])
def test_accuracy_resolution(loss, shape, cls, ident):
    metric = M.get(ident, loss=loss, output_shape=shape)
    assert type(metric) is cls and metric.name == ident


@pytest.mark.parametrize("ident, cls, name", [
    ("binary_accuracy", M.BinaryAccuracy, "binary_accuracy"),
    ("categorical_accuracy", M.CategoricalAccuracy, "categorical_accuracy"),
    ("sparse_categorical_accuracy", M.SparseCategoricalAccuracy, "sparse_categorical_accuracy"),
    ("top_k_categorical_accuracy", M.TopKCategoricalAccuracy, "top_k_categorical_accuracy"),
    ("sparse_top_k_categorical_accuracy", M.SparseTopKCategoricalAccuracy,
     "sparse_top_k_categorical_accuracy"),
    ("mse", M.MeanSquaredError, "mse"),
    ("mean_squared_error", M.MeanSquaredError, "mean_squared_error"),
    ("mae", M.MeanAbsoluteError, "mae"),
    ("MAE", M.MeanAbsoluteError, "MAE"),
    ("rmse", M.RootMeanSquaredError, "rmse"),
    ("root_mean_squared_error", M.RootMeanSquaredError, "root_mean_squared_error"),
    ("precision", M.Precision, "precision"),
    ("recall", M.Recall, "recall"),
    ("auc", M.AUC, "auc"),
    ("AUC", M.AUC, "AUC"),
    ("f1_score", M.F1Score, "f1_score"),
    ("F1Score", M.F1Score, "F1Score"),
    ("BinaryAccuracy", M.BinaryAccuracy, "BinaryAccuracy"),
    ("FBetaScore", M.FBetaScore, "FBetaScore"),
])
def test_get_by_name_keeps_the_users_string(ident, cls, name):
    metric = M.get(ident)
    assert type(metric) is cls and metric.name == name
    assert M.get(ident) is not metric                      # a fresh state each time


def test_get_objects_callables_and_configs():
    assert M.get(None) is None
    inst = M.AUC(name="my_auc")
    assert M.get(inst) is inst
    assert type(M.get(M.Recall)) is M.Recall

    def half_error(y_true, y_pred):
        return 0.5 * abs(y_true - y_pred)

    m = M.get(half_error)
    assert isinstance(m, M.MeanMetricWrapper) and m.name == "half_error"
    m.update_state(np.array([0.0, 0.0, 0.0]), np.array([1.0, 2.0, 3.0]))
    assert m.result() == pytest.approx(1.0)
    m = M.get({"class_name": "BinaryAccuracy", "config": {"threshold": 0.8, "name": "b"}})
    assert (type(m), m.threshold, m.name) == (M.BinaryAccuracy, 0.8, "b")


def test_get_errors():
    with pytest.raises(ValueError, match=r"Unknown metric 'presicion'.*Did you mean 'precision'"):
        M.get("presicion")
    with pytest.raises(ValueError, match="class_name"):
        M.get({"config": {}})
    with pytest.raises(TypeError, match="Received: identifier=5"):
        M.get(5)


@pytest.mark.parametrize("make, match", [
    (lambda: M.BinaryAccuracy(threshold="high"), "threshold"),
    (lambda: M.TopKCategoricalAccuracy(k=0), "k"),
    (lambda: M.AUC(curve="XYZ"), "curve"),
    (lambda: M.AUC(summation_method="left"), "summation_method"),
    (lambda: M.AUC(num_thresholds=1), "num_thresholds"),
    (lambda: M.F1Score(average="mean"), "average"),
    (lambda: M.F1Score(threshold=0.0), "threshold"),
    (lambda: M.FBetaScore(beta=0), "beta"),
    (lambda: M.Precision(thresholds=[0.5, 1.5]), "thresholds"),
    (lambda: M.Recall(class_id=-1), "class_id"),
    (lambda: M.Mean(name=3), "name"),
])
def test_constructor_validation(make, match):
    with pytest.raises((ValueError, TypeError), match=f"Received: {match}="):
        make()


@pytest.mark.parametrize("make", [M.CategoricalAccuracy, M.MeanSquaredError, M.AUC,
                                  lambda: M.Precision(thresholds=[0.3, 0.6]), M.F1Score])
def test_builtin_metrics_take_tape_tensors_without_recording(make):
    from kerasnp import ops
    from kerasnp.autodiff import GradientTape
    rng = np.random.default_rng(0)
    y = np.eye(3)[rng.integers(0, 3, 10)]
    p = rng.uniform(size=(10, 3))
    plain, taped = make(), make()
    plain.update_state(y, p)
    with GradientTape() as tape:
        tape.watch(p)
        pt = ops.multiply(p, 1.0)
        n = len(tape._nodes)
        taped.update_state(y, pt, sample_weight=None)
        assert len(tape._nodes) == n
    np.testing.assert_allclose(taped.result(), plain.result())
