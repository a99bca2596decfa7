"""The focal, generalized, overlap and circle losses: values against NumPy references written
here, gradients against float64 central differences, Keras's config keys, string lookups and a
training step through `compile(loss=...)`."""
import numpy as np
import pytest

import kerasnp
from kerasnp import losses as L

EPS = 1e-7
rng = np.random.default_rng(0)
Y01 = (rng.random((4, 3)) > 0.5).astype(np.float64)
P01 = rng.uniform(0.05, 0.95, (4, 3))
ONE_HOT = np.eye(3)[rng.integers(0, 3, 4)]
LABELS = np.array([0, 1, 0, 1, 2, 1])
EMB = rng.normal(size=(6, 5))
EMB /= np.linalg.norm(EMB, axis=1, keepdims=True)


def ref_bfce(t, p, balance=False, alpha=0.25, gamma=2.0, logits=False, s=0.0):
    t = t * (1 - s) + 0.5 * s
    p = 1 / (1 + np.exp(-p)) if logits else p
    pc = np.clip(p, EPS, 1 - EPS)
    bce = -(t * np.log(pc) + (1 - t) * np.log(1 - pc))
    f = (1 - (t * p + (1 - t) * (1 - p))) ** gamma * bce
    if balance:
        f = (t * alpha + (1 - t) * (1 - alpha)) * f
    return f.mean(-1)


def ref_cfce(t, p, alpha=0.25, gamma=2.0, logits=False, s=0.0):
    t = t * (1 - s) + s / t.shape[-1]
    if logits:
        p = np.exp(p - p.max(-1, keepdims=True))
    q = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return (-alpha * (1 - q) ** gamma * t * np.log(q)).sum(-1)


def ref_circle(labels, x, gamma=80.0, m=0.4, diag=True):
    d = np.maximum(1 - x @ x.T, 0)
    out = []
    for i in range(len(labels)):
        pos = [j for j in range(len(labels)) if labels[j] == labels[i] and (j != i or not diag)]
        neg = [j for j in range(len(labels)) if labels[j] != labels[i]]
        if not pos or not neg:
            out.append(0.0)
            continue
        lp = np.log(sum(np.exp(-gamma * max(m + d[i, j], 0) * (m - d[i, j])) for j in pos))
        ln = np.log(sum(np.exp(gamma * max(1 + m - d[i, j], 0) * (1 - m - d[i, j]))
                        for j in neg))
        out.append(np.log1p(np.exp(lp + ln)))
    return np.array(out)


CASES = [   # (loss, y_true, y_pred, NumPy per-sample reference)
    (L.BinaryFocalCrossentropy(), Y01, P01, ref_bfce(Y01, P01)),
    (L.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.5,
                               label_smoothing=0.1), Y01, P01,
     ref_bfce(Y01, P01, True, 0.4, 1.5, s=0.1)),
    (L.BinaryFocalCrossentropy(from_logits=True), Y01, 4 * P01 - 2,
     ref_bfce(Y01, 4 * P01 - 2, logits=True)),
    (L.CategoricalFocalCrossentropy(label_smoothing=0.1), ONE_HOT, P01,
     ref_cfce(ONE_HOT, P01, s=0.1)),
    (L.CategoricalFocalCrossentropy(alpha=0.5, gamma=3.0, from_logits=True), ONE_HOT, 3 * P01,
     ref_cfce(ONE_HOT, 3 * P01, 0.5, 3.0, logits=True)),
    (L.CategoricalGeneralizedCrossEntropy(q=0.7), np.array([0, 2, 1, 1]),
     P01 / P01.sum(1, keepdims=True),
     (1 - (P01 / P01.sum(1, keepdims=True))[np.arange(4), [0, 2, 1, 1]] ** 0.7) / 0.7),
    (L.Dice(), Y01, P01, 1 - 2 * (Y01 * P01).sum() / (Y01.sum() + P01.sum() + EPS)),
    (L.Dice(axis=1), Y01, P01,
     1 - 2 * (Y01 * P01).sum(1) / (Y01.sum(1) + P01.sum(1) + EPS)),
    (L.Tversky(alpha=0.3, beta=0.7, axis=-1), Y01, P01,
     1 - (Y01 * P01).sum(1) / ((Y01 * P01).sum(1) + 0.3 * ((1 - P01) * Y01).sum(1)
                               + 0.7 * (P01 * (1 - Y01)).sum(1) + EPS)),
    (L.Circle(), LABELS, EMB, ref_circle(LABELS, EMB)),
    (L.Circle(gamma=10.0, margin=0.2, remove_diagonal=False), LABELS, EMB,
     ref_circle(LABELS, EMB, 10.0, 0.2, False)),
]


@pytest.mark.parametrize("loss,t,p,ref", CASES, ids=lambda c: getattr(c, "name", ""))
def test_values_against_numpy(loss, t, p, ref):
    cfg = loss.get_config()
    per = type(loss).from_config({**cfg, "reduction": "none"})(t, p)
    np.testing.assert_allclose(per, ref, rtol=1e-9, atol=1e-12)
    expect = np.mean(ref)
    if isinstance(loss, L.Circle):      # as Keras: rows without a pair left out of the mean
        expect = ref[ref > 0].mean()
    np.testing.assert_allclose(loss(t, p), expect, rtol=1e-9)


@pytest.mark.parametrize("loss,t,p,ref", CASES, ids=lambda c: getattr(c, "name", ""))
def test_gradients_against_finite_differences(loss, t, p, ref):
    w = rng.random(len(t)) + 0.5
    if isinstance(loss, L.Dice) and loss.axis is None:
        w = None                                # one value for the whole batch
    g = loss.gradient(t, p, sample_weight=w)
    num = np.zeros_like(p)
    h = 1e-6
    for i in np.ndindex(p.shape):
        a, b = p.copy(), p.copy()
        a[i] += h
        b[i] -= h
        num[i] = (loss(t, a, sample_weight=w) - loss(t, b, sample_weight=w)) / (2 * h)
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8)


def test_functions_and_float32():
    np.testing.assert_allclose(L.binary_focal_crossentropy(Y01, P01, gamma=1.0),
                               ref_bfce(Y01, P01, gamma=1.0), rtol=1e-10)
    np.testing.assert_allclose(L.categorical_focal_crossentropy(ONE_HOT, P01),
                               ref_cfce(ONE_HOT, P01), rtol=1e-10)
    np.testing.assert_allclose(L.circle(LABELS, EMB), ref_circle(LABELS, EMB), rtol=1e-9)
    out = L.tversky(Y01, P01.astype(np.float32))
    assert out.dtype == np.float32
    assert L.Dice()(Y01, P01.astype(np.float32)) == pytest.approx(
        1 - 2 * (Y01 * P01).sum() / (Y01.sum() + P01.sum()), rel=1e-5)
    from kerasnp import metrics
    assert metrics.binary_focal_crossentropy is L.binary_focal_crossentropy
    assert metrics.categorical_focal_crossentropy is L.categorical_focal_crossentropy


KERAS_CONFIGS = {   # verified with Keras 3.15 (without kerasnp's extra "dtype" key)
    "BinaryFocalCrossentropy": {"name": "binary_focal_crossentropy",
                                "reduction": "sum_over_batch_size", "from_logits": False,
                                "label_smoothing": 0.0, "axis": -1,
                                "apply_class_balancing": False, "alpha": 0.25, "gamma": 2.0},
    "CategoricalFocalCrossentropy": {"name": "categorical_focal_crossentropy",
                                     "reduction": "sum_over_batch_size", "from_logits": False,
                                     "label_smoothing": 0.0, "axis": -1, "alpha": 0.25,
                                     "gamma": 2.0},
    "CategoricalGeneralizedCrossEntropy": {"name": "categorical_generalized_cross_entropy",
                                           "reduction": "sum_over_batch_size", "q": 0.5},
    "Circle": {"name": "circle", "reduction": "sum_over_batch_size", "gamma": 80.0,
               "margin": 0.4, "remove_diagonal": True},
    "Dice": {"name": "dice", "reduction": "sum_over_batch_size", "axis": None},
    "Tversky": {"name": "tversky", "reduction": "sum_over_batch_size", "alpha": 0.5,
                "beta": 0.5, "axis": None},
}


@pytest.mark.parametrize("name", sorted(KERAS_CONFIGS))
def test_keras_config_and_lookup(name):
    cls = getattr(L, name)
    cfg = cls().get_config()
    assert {k: v for k, v in cfg.items() if k != "dtype"} == KERAS_CONFIGS[name]
    made = L.deserialize({"class_name": name, "config": KERAS_CONFIGS[name]})
    assert type(made) is cls
    assert type(L.get(KERAS_CONFIGS[name]["name"])) is cls
    fn = getattr(L, KERAS_CONFIGS[name]["name"])
    assert type(L.get(fn)) is cls


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="alpha"):
        L.BinaryFocalCrossentropy(alpha=2.0)
    with pytest.raises(ValueError, match="q"):
        L.CategoricalGeneralizedCrossEntropy(q=0.0)
    with pytest.raises(TypeError, match="axis"):
        L.Dice(axis="x")


@pytest.mark.parametrize("loss,y", [("dice", Y01), ("binary_focal_crossentropy", Y01),
                                    ("categorical_focal_crossentropy", ONE_HOT),
                                    ("categorical_generalized_cross_entropy", [0, 2, 1, 1])])
def test_compile_with_string_trains(loss, y):
    x = rng.normal(size=(4, 5)).astype(np.float32)
    act = "softmax" if "categorical" in loss else "sigmoid"
    model = kerasnp.Sequential([kerasnp.layers.Input((5,)), kerasnp.layers.Dense(3, act)])
    model.compile(optimizer=kerasnp.optimizers.SGD(0.5), loss=loss)
    y = np.asarray(y, dtype=np.float32)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=5, batch_size=4, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
