"""The rest of Keras 3's metrics: each against a hand formula, scikit-learn or torch, fed in uneven
weighted batches, reset, rebuilt from its config, and used in `compile(metrics=...)`.

Values quoted "(Keras)" are the outputs printed in Keras 3's own docstrings for the same inputs.
"""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import metrics as M

SIZES = (7, 13, 1, 19)      # uneven batches: a mean of batch means would be wrong
N = sum(SIZES)


def feed(metric, y_true, y_pred, w=None):
    """Reset `metric`, update it batch by batch, return its result."""
    metric.reset_state()
    start = 0
    for size in SIZES:
        s = slice(start, start + size)
        metric.update_state(y_true[s], y_pred[s], None if w is None else w[s])
        start += size
    return metric.result()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def data(rng):
    """Binary, one-hot, positive and real-valued targets with predictions, and weights."""
    yb = (rng.uniform(size=(N, 3)) > 0.5).astype(np.float32)
    pb = rng.uniform(size=(N, 3)).astype(np.float32)
    yc = np.eye(4, dtype=np.float32)[rng.integers(0, 4, N)]
    pc = rng.dirichlet(np.ones(4), N).astype(np.float32)
    yr = rng.normal(size=(N, 3)).astype(np.float32)
    pr = (yr + rng.normal(size=(N, 3))).astype(np.float32)
    w = rng.uniform(0.0, 2.0, N).astype(np.float32)
    w[::7] = 0.0
    return yb, pb, yc, pc, yr, pr, w


def weighted_mean(per_sample, w=None):
    per_sample = np.asarray(per_sample, np.float64)
    return per_sample.mean() if w is None else np.sum(per_sample * w) / np.sum(w)


# ------------------------------------------------------------- means of per-sample formulas

def _hand_formulas(yb, pb, yc, pc, yr, pr):
    eps = 1e-7
    ypos, ppos = np.abs(yr) + 0.1, np.abs(pr) + 0.1
    t = 2 * yb - 1
    return {
        "MeanAbsolutePercentageError": (
            yr, pr, 100 * np.mean(np.abs((yr - pr) / np.maximum(np.abs(yr), eps)), -1)),
        "MeanSquaredLogarithmicError": (
            ypos, ppos, np.mean((np.log1p(ppos) - np.log1p(ypos)) ** 2, -1)),
        "LogCoshError": (yr, pr, np.mean(np.log(np.cosh(pr - yr)), -1)),
        "Hinge": (yb, pb, np.mean(np.maximum(1 - t * pb, 0), -1)),
        "SquaredHinge": (yb, pb, np.mean(np.maximum(1 - t * pb, 0) ** 2, -1)),
        "CategoricalHinge": (yc, pc, np.maximum(
            np.max((1 - yc) * pc, -1) - np.sum(yc * pc, -1) + 1, 0)),
        "KLDivergence": (yc, pc, np.sum(np.clip(yc, eps, 1) * np.log(
            np.clip(yc, eps, 1) / np.clip(pc, eps, 1)), -1)),
        "Poisson": (ypos, ppos, np.mean(ppos - ypos * np.log(ppos + eps), -1)),
        "CosineSimilarity": (yr, pr, np.sum(yr * pr, -1) / np.linalg.norm(yr, axis=-1)
                             / np.linalg.norm(pr, axis=-1)),
    }


@pytest.mark.parametrize("name", ["MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
                                  "LogCoshError", "Hinge", "SquaredHinge", "CategoricalHinge",
                                  "KLDivergence", "Poisson", "CosineSimilarity"])
@pytest.mark.parametrize("weighted", [False, True])
def test_mean_of_per_sample_formula(rng, name, weighted):
    yb, pb, yc, pc, yr, pr, w = data(rng)
    y, p, per_sample = _hand_formulas(yb, pb, yc, pc, yr, pr)[name]
    w = w if weighted else None
    metric = getattr(M, name)()
    assert feed(metric, y, p, w) == pytest.approx(weighted_mean(per_sample, w), rel=2e-5)


def test_keras_docstring_values():
    yt, yp = [[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]]
    assert M.Hinge()(yt, yp) == pytest.approx(1.3)                        # (Keras)
    assert M.SquaredHinge()(yt, yp) == pytest.approx(1.86)                # (Keras)
    assert M.CategoricalHinge()(yt, yp) == pytest.approx(1.4)             # (Keras)
    assert M.BinaryCrossentropy()([[0, 1], [0, 0]], yp) == pytest.approx(0.81492424, rel=1e-5)
    assert M.CategoricalCrossentropy()([[0, 1, 0], [0, 0, 1]],
                                       [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]) \
        == pytest.approx(1.1769392, rel=1e-5)                             # (Keras)
    assert M.KLDivergence()([[0, 1], [0, 0]], yp) == pytest.approx(0.45814306, rel=1e-5)
    assert M.Poisson()([[0, 1], [0, 0]], [[1, 1], [0, 0]]) == pytest.approx(0.49999997, rel=1e-5)
    assert M.LogCoshError()([[0, 1], [0, 0]], [[1, 1], [0, 0]]) \
        == pytest.approx(0.10844523, rel=1e-5)                            # (Keras)
    assert M.MeanSquaredLogarithmicError()([[0, 1], [0, 0]], [[1, 1], [0, 0]]) \
        == pytest.approx(0.12011322, rel=1e-5)                            # (Keras)
    assert M.CosineSimilarity(axis=1)([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]) \
        == pytest.approx(0.5)                                             # (Keras)


def test_crossentropies_match_torch(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    yb, pb, yc, pc, yr, pr, w = data(rng)
    pb64 = np.clip(pb.astype(np.float64), 1e-7, 1 - 1e-7)
    bce = F.binary_cross_entropy(torch.tensor(pb64), torch.tensor(yb, dtype=torch.float64),
                                 reduction="none").numpy().mean(-1)
    assert feed(M.BinaryCrossentropy(), yb, pb, w) == pytest.approx(weighted_mean(bce, w),
                                                                      rel=1e-5)
    logits = torch.tensor(yr, dtype=torch.float64)
    bce_l = F.binary_cross_entropy_with_logits(logits, torch.tensor(yb, dtype=torch.float64),
                                               reduction="none").numpy().mean(-1)
    assert feed(M.BinaryCrossentropy(from_logits=True), yb, yr, w) == pytest.approx(
        weighted_mean(bce_l, w), rel=1e-5)
    z = torch.tensor(np.concatenate([yr, yr[:, :1]], 1), dtype=torch.float64)   # 4 classes
    labels = yc.argmax(-1)
    ce = F.cross_entropy(z, torch.tensor(labels), reduction="none",
                         label_smoothing=0.2).numpy()
    got = feed(M.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2), yc,
               z.numpy().astype(np.float32), w)
    assert got == pytest.approx(weighted_mean(ce, w), rel=1e-5)
    sce = F.cross_entropy(z, torch.tensor(labels), reduction="none").numpy()
    assert feed(M.SparseCategoricalCrossentropy(from_logits=True), labels,
                z.numpy().astype(np.float32), w) == pytest.approx(weighted_mean(sce, w), rel=1e-5)
    kld = F.kl_div(torch.log(torch.tensor(pc, dtype=torch.float64)),
                   torch.tensor(pc[::-1].copy(), dtype=torch.float64),
                   reduction="none").numpy().sum(-1)
    assert feed(M.KLDivergence(), pc[::-1].copy(), pc) == pytest.approx(kld.mean(), rel=1e-4)


def test_rank1_targets_count_one_value_per_sample():
    m = M.Hinge()
    m.update_state(np.array([1.0, 1.0, 1.0]), np.array([0.0, 0.0, 0.0]))    # 3 samples of 1
    m.update_state(np.array([1.0]), np.array([1.0]))                         # 1 sample of 0
    assert m.result() == pytest.approx(0.75)


def test_sparse_crossentropy_ignore_class():
    m = M.SparseCategoricalCrossentropy(ignore_class=0)
    r = m([0, 1], [[0.5, 0.5], [0.25, 0.75]])
    assert r == pytest.approx(-np.log(0.75) / 2)     # the ignored sample counts as 0


# ------------------------------------------------------------------------ confusion counts

@pytest.mark.parametrize("cls,index", [("TruePositives", (1, 1)), ("FalsePositives", (0, 1)),
                                       ("TrueNegatives", (0, 0)), ("FalseNegatives", (1, 0))])
def test_confusion_counts_match_sklearn(rng, cls, index):
    from sklearn.metrics import confusion_matrix
    yb, pb, *_, w = data(rng)
    w3 = np.repeat(w[:, None], 3, axis=1)
    for threshold in (0.5, 0.2):
        cm = confusion_matrix(yb.ravel(), (pb > threshold).ravel(), sample_weight=w3.ravel(),
                              labels=[0, 1])
        metric = getattr(M, cls)(thresholds=threshold)
        assert feed(metric, yb, pb, w) == pytest.approx(cm[index], rel=1e-5)
    metric = getattr(M, cls)(thresholds=[0.7, 0.2])
    each = [getattr(M, cls)(thresholds=t) for t in (0.7, 0.2)]
    np.testing.assert_allclose(feed(metric, yb, pb), [feed(e, yb, pb) for e in each])


def test_confusion_counts_keras_values_reset_and_config():
    m = M.TruePositives()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert m.result() == 2.0                                              # (Keras)
    m.reset_state()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    assert m.result() == 1.0                                              # (Keras)
    assert M.FalsePositives()([0, 1, 0, 0], [0, 0, 1, 1]) == 2.0             # (Keras)
    assert M.TrueNegatives()([0, 1, 0, 0], [1, 1, 0, 0]) == 2.0              # (Keras)
    assert M.FalseNegatives()([0, 1, 1, 1], [0, 1, 0, 0]) == 2.0             # (Keras)
    m = M.FalseNegatives(thresholds=[0.3, 0.8], name="fn")
    clone = M.FalseNegatives.from_config(m.get_config())
    assert clone.name == "fn" and clone.get_config() == m.get_config()
    assert clone.get_config()["thresholds"] == [0.3, 0.8]
    assert isinstance(M.TruePositives(thresholds=[0.4])([1], [0.9]), float)   # one: a scalar
    with pytest.raises(ValueError, match="thresholds"):
        M.TruePositives(thresholds=1.5)


# -------------------------------------------------- best rate where the other reaches a value

def _brute_force(y, p, w, n, constrained, dependent, value):
    """The best `dependent` rate over thresholds where `constrained >= value`, by loops."""
    best = 0.0
    for j in range(n):
        thr = j / (n - 1)
        pred = p > thr
        tp = np.sum(w * (pred & (y == 1)))
        fp = np.sum(w * (pred & (y == 0)))
        tn = np.sum(w * (~pred & (y == 0)))
        fn = np.sum(w * (~pred & (y == 1)))
        rates = {"recall": tp / (tp + fn) if tp + fn else 0.0,
                 "precision": tp / (tp + fp) if tp + fp else 0.0,
                 "specificity": tn / (tn + fp) if tn + fp else 0.0}
        if rates[constrained] >= value:
            best = max(best, rates[dependent])
    return best


@pytest.mark.parametrize("cls,arg,constrained,dependent", [
    ("PrecisionAtRecall", "recall", "recall", "precision"),
    ("RecallAtPrecision", "precision", "precision", "recall"),
    ("SensitivityAtSpecificity", "specificity", "specificity", "recall"),
    ("SpecificityAtSensitivity", "sensitivity", "recall", "specificity")])
@pytest.mark.parametrize("value", [0.3, 0.6, 0.9])
def test_at_metrics_match_brute_force(rng, cls, arg, constrained, dependent, value):
    n = 11
    y = (rng.uniform(size=N) > 0.5).astype(np.int64)
    p = np.round(rng.uniform(size=N), 3)             # off the threshold grid
    w = rng.uniform(0, 2, N)
    metric = getattr(M, cls)(value, num_thresholds=n)
    expected = _brute_force(y, p, w, n, constrained, dependent, value)
    assert feed(metric, y, p, w) == pytest.approx(expected)
    metric = getattr(M, cls)(**{arg: value}, num_thresholds=n, class_id=1)
    y2 = np.stack([1 - y, y], 1)
    p2 = np.stack([1 - p, p], 1)
    assert feed(metric, y2, p2, w) == pytest.approx(expected)


def test_at_metrics_keras_values_and_config():
    y, p = [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]
    m = M.SensitivityAtSpecificity(0.5)
    assert m(y, p) == pytest.approx(0.5)                                   # (Keras)
    m.reset_state()
    m.update_state(y, p, sample_weight=[1, 1, 2, 2, 1])
    assert m.result() == pytest.approx(1 / 3)                             # (Keras)
    m = M.SpecificityAtSensitivity(0.5)
    assert m(y, p) == pytest.approx(2 / 3)                                # (Keras)
    m.reset_state()
    m.update_state(y, p, sample_weight=[1, 1, 2, 2, 2])
    assert m.result() == pytest.approx(0.5)                               # (Keras)
    m = M.PrecisionAtRecall(0.5)
    assert m(y, p) == pytest.approx(0.5)                                  # (Keras)
    m.reset_state()
    m.update_state(y, p, sample_weight=[2, 2, 2, 1, 1])
    assert m.result() == pytest.approx(1 / 3)                             # (Keras)
    m = M.RecallAtPrecision(0.8)
    assert m([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]) == pytest.approx(0.5)       # (Keras)
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1])
    assert m.result() == pytest.approx(1.0)                               # (Keras)
    m = M.RecallAtPrecision(precision=0.7, num_thresholds=50, class_id=2, name="rp")
    config = m.get_config()
    assert config == {"name": "rp", "dtype": "float32", "class_id": 2, "num_thresholds": 50,
                      "precision": 0.7}
    assert M.RecallAtPrecision.from_config(config).get_config() == config
    assert M.RecallAtPrecision(0.99)([0, 1], [0.9, 0.1]) == 0.0      # unreachable precision
    with pytest.raises(ValueError, match="recall"):
        M.PrecisionAtRecall(1.5)
    with pytest.raises(ValueError, match="num_thresholds"):
        M.PrecisionAtRecall(0.5, num_thresholds=0)


# ------------------------------------------------------------------ R², correlations, IoU, Sum

@pytest.mark.parametrize("aggregation,sk", [("uniform_average", "uniform_average"),
                                            ("variance_weighted_average", "variance_weighted"),
                                            (None, "raw_values")])
def test_r2_score_matches_sklearn(rng, aggregation, sk):
    from sklearn.metrics import r2_score
    *_, yr, pr, w = data(rng)
    got = feed(M.R2Score(class_aggregation=aggregation), yr, pr, w)
    np.testing.assert_allclose(got, r2_score(yr, pr, sample_weight=w, multioutput=sk),
                               rtol=1e-5)


def test_r2_score_adjusted_single_output_and_config(rng):
    from sklearn.metrics import r2_score
    y = rng.normal(size=N)
    p = y + rng.normal(size=N) * 0.5
    r2 = r2_score(y, p)
    m = M.R2Score(num_regressors=3)
    assert feed(m, y, p) == pytest.approx(1 - (1 - r2) * (N - 1) / (N - 3 - 1))
    with pytest.warns(UserWarning, match="num_regressors"):
        assert feed(M.R2Score(num_regressors=N), y, p) == pytest.approx(r2)
    config = M.R2Score(class_aggregation=None, num_regressors=2).get_config()
    assert M.R2Score.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="class_aggregation"):
        M.R2Score(class_aggregation="mean")
    m = M.R2Score()
    m.update_state(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="3 outputs"):
        m.update_state(np.ones((2, 2)), np.ones((2, 2)))


def test_correlations(rng):
    *_, yr, pr, w = data(rng)
    pearson = [np.corrcoef(a, b)[0, 1] for a, b in zip(yr, pr)]
    assert feed(M.PearsonCorrelation(), yr, pr, w) == pytest.approx(weighted_mean(pearson, w),
                                                                     rel=1e-5)
    ccc = [2 * np.cov(a, b, bias=True)[0, 1] / (a.var() + b.var() + (a.mean() - b.mean()) ** 2)
           for a, b in zip(yr.astype(np.float64), pr.astype(np.float64))]
    assert feed(M.ConcordanceCorrelation(), yr, pr) == pytest.approx(np.mean(ccc), rel=1e-4)
    assert M.ConcordanceCorrelation(axis=0).get_config()["axis"] == 0
    np.testing.assert_allclose(M.pearson_correlation(yr.T, pr.T, axis=0),
                               [np.corrcoef(a, b)[0, 1] for a, b in zip(yr, pr)], rtol=1e-5)


def test_iou_family_matches_sklearn_jaccard(rng):
    from sklearn.metrics import jaccard_score
    yc = rng.integers(0, 4, N)
    pc = rng.integers(0, 4, N)
    w = rng.uniform(0, 2, N)
    per_class = jaccard_score(yc, pc, labels=[0, 1, 2, 3], average=None, sample_weight=w)
    assert feed(M.IoU(4, target_class_ids=[0, 2]), yc, pc, w) == pytest.approx(
        per_class[[0, 2]].mean(), rel=1e-5)
    assert feed(M.MeanIoU(4), yc, pc, w) == pytest.approx(per_class.mean(), rel=1e-5)
    onehot, scores = np.eye(4)[yc], np.eye(4)[pc] * 0.7 + 0.05
    assert feed(M.OneHotMeanIoU(4), onehot, scores, w) == pytest.approx(per_class.mean(),
                                                                          rel=1e-5)
    assert feed(M.OneHotIoU(4, [1, 3]), onehot, scores, w) == pytest.approx(
        per_class[[1, 3]].mean(), rel=1e-5)
    yb, pb = rng.integers(0, 2, N), rng.uniform(size=N)
    per_bin = jaccard_score(yb, pb >= 0.3, labels=[0, 1], average=None)
    assert feed(M.BinaryIoU(threshold=0.3), yb, pb) == pytest.approx(per_bin.mean(), rel=1e-5)


def test_iou_ignore_class_out_of_range_and_config():
    m = M.MeanIoU(num_classes=3, ignore_class=2)
    m.update_state([0, 1, 2, 5], [0, 0, 1, 1])        # class 2 ignored, label 5 out of range
    # class 0: tp 1, fp 1 -> 1/2; class 1: tp 0, fn 1 -> 0; class 2 never seen: left out
    assert m.result() == pytest.approx(0.25, rel=1e-5)
    assert M.IoU(num_classes=2, target_class_ids=[0])([0, 0, 1, 1], [0, 1, 0, 1]) == \
        pytest.approx(1 / 3, rel=1e-5)                                     # (Keras)
    for metric in (M.IoU(3, [1], ignore_class=0), M.MeanIoU(3), M.BinaryIoU([1], 0.4),
                   M.OneHotIoU(3, [0, 2]), M.OneHotMeanIoU(2, sparse_y_pred=True)):
        config = metric.get_config()
        assert type(metric).from_config(config).get_config() == config
    with pytest.raises(ValueError, match="target_class_ids"):
        M.IoU(2, target_class_ids=[2])


def test_sum():
    m = M.Sum()
    m.update_state([1.0, 3.0, 5.0, 7.0])
    assert m.result() == 16.0                                              # (Keras)
    m.update_state(np.ones((2, 3)), sample_weight=[2.0, 0.5])
    assert m.result() == pytest.approx(16.0 + 6 + 1.5)
    m.reset_state()
    assert m.result() == 0.0


# ---------------------------------------------------------------- config, registry, compile

ALL_NEW = ["Sum", "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives",
           "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "LogCoshError",
           "CosineSimilarity", "R2Score", "PearsonCorrelation", "ConcordanceCorrelation", "Hinge",
           "SquaredHinge", "CategoricalHinge", "KLDivergence", "Poisson", "BinaryCrossentropy",
           "CategoricalCrossentropy", "SparseCategoricalCrossentropy"]


@pytest.mark.parametrize("name", ALL_NEW)
def test_config_round_trip_through_serialize(name):
    metric = getattr(M, name)(name="custom")
    again = M.deserialize(M.serialize(metric))
    assert type(again) is type(metric) and again.get_config() == metric.get_config()


def test_string_names_resolve_as_in_keras():
    for key, cls in [("mape", M.MeanAbsolutePercentageError), ("MSLE",
                     M.MeanSquaredLogarithmicError), ("bce", M.BinaryCrossentropy),
                     ("log_cosh_error", M.LogCoshError), ("kl_divergence", M.KLDivergence),
                     ("r2_score", M.R2Score), ("true_positives", M.TruePositives),
                     ("categorical_crossentropy", M.CategoricalCrossentropy),
                     ("hinge", M.Hinge), ("poisson", M.Poisson),
                     ("cosine_similarity", M.CosineSimilarity), ("sum", M.Sum)]:
        metric = M.get(key)
        assert type(metric) is cls and metric.name == key
    assert M.binary_crossentropy is keras.losses.binary_crossentropy    # as in Keras


def test_wrapped_metric_function_config_round_trip():
    m = M.MeanMetricWrapper(M.hinge, name="h")
    again = M.MeanMetricWrapper.from_config(m.get_config())
    assert again._fn is M.hinge


def test_new_metrics_in_compile_and_fit(rng):
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy",
                  metrics=[M.TruePositives(), M.PrecisionAtRecall(0.5), M.R2Score(), "bce",
                           "false_negatives", "hinge", M.SensitivityAtSpecificity(0.5)])
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    for key in ("true_positives", "precision_at_recall", "r2_score", "bce", "false_negatives",
                "hinge", "sensitivity_at_specificity"):
        assert len(history.history[key]) == 2
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)
    assert logs["true_positives"] == float(np.sum((p > 0.5) & (y == 1)))
    assert logs["false_negatives"] == float(np.sum((p <= 0.5) & (y == 1)))
    expected_bce = -np.mean(y * np.log(np.clip(p, 1e-7, 1)) + (1 - y) * np.log(
        np.clip(1 - p, 1e-7, 1)))
    assert logs["bce"] == pytest.approx(expected_bce, rel=1e-4)


@pytest.mark.parametrize("task,entries", [
    ("binary", [M.TruePositives, "false_positives", M.TrueNegatives(thresholds=[0.3, 0.7]),
                "false_negatives", M.PrecisionAtRecall(0.5), M.RecallAtPrecision(0.5),
                M.SensitivityAtSpecificity(0.5), M.SpecificityAtSensitivity(0.5),
                M.BinaryCrossentropy, "bce", "hinge", "squared_hinge",
                M.BinaryIoU, "poisson"]),
    ("categorical", [M.CategoricalCrossentropy, "categorical_hinge", "kl_divergence",
                     M.OneHotMeanIoU(3), M.OneHotIoU(3, [0, 2]),
                     M.CategoricalCrossentropy(name="cce")]),
    ("regression", ["mape", "msle", M.LogCoshError, "cosine_similarity", M.R2Score,
                    "pearson_correlation", M.ConcordanceCorrelation,
                    "mean_absolute_percentage_error", "log_cosh_error"]),
])
def test_every_new_metric_runs_in_fit_and_evaluate(rng, task, entries):
    x = rng.normal(size=(48, 4)).astype(np.float32)
    if task == "binary":
        y, units, act, loss = (x[:, :1] > 0).astype(np.float32), 1, "sigmoid", \
            "binary_crossentropy"
    elif task == "categorical":
        y, units, act, loss = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 48)], 3, \
            "softmax", "categorical_crossentropy"
    else:
        y, units, act, loss = np.abs(x[:, :3]) + 0.1, 3, "softplus", "mse"
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation=act)])
    model.compile("adam", loss, metrics=list(entries))
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0).history
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert len(logs) == len(entries) + 1 and set(logs) == set(history)
    for key, value in logs.items():
        assert np.all(np.isfinite(value)), key
    # evaluate's value is the metric over all samples: recompute one per task from predict
    p = model.predict(x, verbose=0)
    check = {"binary": ("hinge", M.Hinge()), "categorical": ("kl_divergence", M.KLDivergence()),
             "regression": ("r2_score", M.R2Score())}[task]
    assert logs[check[0]] == pytest.approx(check[1](y, p), rel=1e-5)
