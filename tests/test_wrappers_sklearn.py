"""kerasnp.wrappers: scikit-learn's estimator checks, pipelines, searches, cloning, targets."""
import subprocess
import sys

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", minversion="1.6")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_blobs, make_regression  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import kerasnp as keras  # noqa: E402
from kerasnp.wrappers import (SKLearnClassifier, SKLearnRegressor,  # noqa: E402
                              SKLearnTransformer)


def build_classifier(X, y, hidden=8, lr=0.01):
    """Keras's docs pattern: the shapes come from X and the one-hot y."""
    model = keras.Sequential([keras.Input(X.shape[1:]),
                              keras.layers.Dense(hidden, activation="relu"),
                              keras.layers.Dense(y.shape[1], activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="categorical_crossentropy")
    return model


def build_regressor(X, y, hidden=16):
    model = keras.Sequential([keras.Input(X.shape[1:]),
                              keras.layers.Dense(hidden, activation="relu"),
                              keras.layers.Dense(y.shape[1])])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    return model


QUIET = {"verbose": 0}


def _estimators(classes):
    clf, reg, trs = classes
    return [clf(build_classifier, fit_kwargs={"epochs": 10, **QUIET}),
            reg(build_regressor, fit_kwargs={"epochs": 10, **QUIET}),
            trs(build_regressor, fit_kwargs={"epochs": 2, **QUIET})]


# Checks that fit twice and compare the predictions: training starts from random weights and
# shuffles, and Keras's signature has no random_state. The same checks pass below when the seed
# is fixed before each fit (the Seeded* classes), so only the randomness is excused here.
_TWO_FITS = "compares two fits; training is random (passes with a fixed seed, see Seeded*)"
EXPECTED_FAILURES = {
    "SKLearnClassifier": ["check_fit_idempotent", "check_classifier_data_not_an_array",
                          "check_supervised_y_2d"],
    "SKLearnRegressor": ["check_fit_idempotent", "check_regressor_data_not_an_array",
                         "check_regressors_int", "check_supervised_y_2d"],
    "SKLearnTransformer": ["check_fit_idempotent"],
}


@parametrize_with_checks(
    _estimators((SKLearnClassifier, SKLearnRegressor, SKLearnTransformer)),
    expected_failed_checks=lambda est: {name: _TWO_FITS
                                        for name in EXPECTED_FAILURES[type(est).__name__]})
def test_sklearn_estimator_checks(estimator, check):
    keras.utils.set_random_seed(0)        # the first fit's weights: same run every time
    check(estimator)


class _SeededFit:
    """Seeds kerasnp before each fit and declares itself deterministic, so scikit-learn also
    runs the checks that compare fits (idempotence, lists vs arrays, pipelines)."""

    def fit(self, X, y, **kwargs):
        keras.utils.set_random_seed(0)
        return super().fit(X, y, **kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class SeededClassifier(_SeededFit, SKLearnClassifier):
    pass


class SeededRegressor(_SeededFit, SKLearnRegressor):
    pass


class SeededTransformer(_SeededFit, SKLearnTransformer):
    pass


@parametrize_with_checks(_estimators((SeededClassifier, SeededRegressor, SeededTransformer)))
def test_sklearn_estimator_checks_seeded(estimator, check):
    check(estimator)


# -- data ------------------------------------------------------------------------------------
@pytest.fixture
def blobs():
    keras.utils.set_random_seed(0)
    X, y = make_blobs(n_samples=240, centers=3, n_features=4, cluster_std=1.5, random_state=0)
    return X[:180], y[:180], X[180:], y[180:]


def test_classifier_learns_a_toy_problem(blobs):
    X, y, Xt, yt = blobs
    clf = SKLearnClassifier(build_classifier, fit_kwargs={"epochs": 40, **QUIET}).fit(X, y)
    assert clf.score(Xt, yt) > 0.85                    # chance: 1/3
    proba = clf.predict_proba(Xt)
    assert proba.shape == (60, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(clf.predict(Xt), clf.classes_[proba.argmax(axis=1)])
    assert clf.n_features_in_ == 4 and clf.epoch_ == 40
    assert set(clf.history_) == {"loss"} and len(clf.history_["loss"]) == 40


def test_string_labels_round_trip(blobs):
    X, y, Xt, yt = blobs
    names = np.array(["cat", "dog", "eel"])
    clf = SKLearnClassifier(build_classifier, fit_kwargs={"epochs": 30, **QUIET})
    clf.fit(X, names[y])
    assert clf.classes_.tolist() == ["cat", "dog", "eel"]
    pred = clf.predict(Xt)
    assert pred.dtype == names.dtype and set(pred) <= set(names)
    assert clf.score(Xt, names[yt]) > 0.85


def test_pipeline_with_standard_scaler(blobs):
    X, y, Xt, yt = blobs
    pipe = Pipeline([("scale", StandardScaler()),
                     ("net", SKLearnClassifier(build_classifier,
                                               fit_kwargs={"epochs": 30, **QUIET}))])
    pipe.fit(X * 100.0 + 50.0, y)
    assert pipe.score(Xt * 100.0 + 50.0, yt) > 0.85
    assert pipe.named_steps["net"].n_features_in_ == 4


def test_grid_search_2x2(blobs):
    X, y, _, _ = blobs
    search = GridSearchCV(
        SKLearnClassifier(build_classifier, fit_kwargs={"epochs": 30, **QUIET}),
        {"model_kwargs": [{"hidden": 4}, {"hidden": 16}],
         "fit_kwargs": [{"epochs": 1, **QUIET}, {"epochs": 30, **QUIET}]}, cv=2)
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    # one epoch (3 Adam steps) cannot match thirty on the same data
    assert search.best_params_["fit_kwargs"]["epochs"] == 30
    assert search.best_estimator_.epoch_ == 30 and search.best_score_ > 0.8


def test_cross_val_score(blobs):
    X, y, _, _ = blobs
    scores = cross_val_score(SKLearnClassifier(build_classifier,
                                               fit_kwargs={"epochs": 30, **QUIET}), X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8


def test_clone_is_unfitted_with_equal_params(blobs):
    X, y, _, _ = blobs
    est = SKLearnClassifier(build_classifier, model_kwargs={"hidden": 4},
                            fit_kwargs={"epochs": 2, **QUIET}).fit(X, y)
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    assert twin.model_kwargs is not est.model_kwargs      # parameters are copied
    assert not hasattr(twin, "model_") and not hasattr(twin, "classes_")
    twin.set_params(model_kwargs={"hidden": 6})
    twin.fit(X, y)
    assert twin.model_.layers[0].units == 6 and est.model_.layers[0].units == 4


def _mlp(units_out, activation, loss, n_in=4):
    model = keras.Sequential([keras.Input((n_in,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(units_out, activation=activation)])
    if loss is not None:
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss, metrics=["accuracy"])
    return model


def test_model_instance_is_copied_per_fit(blobs):
    X, y, Xt, yt = blobs
    model = _mlp(3, "softmax", "categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    est = SKLearnClassifier(model, fit_kwargs={"epochs": 30, **QUIET}).fit(X, y)
    assert est.model_ is not model and est.model_.optimizer is not model.optimizer
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)                # the given model is untouched
    assert est.model_.loss.name == "categorical_crossentropy"
    assert set(est.history_) == {"loss", "accuracy"}     # compiled like the original
    assert est.score(Xt, yt) > 0.85
    first = est.model_
    est.fit(X, y)
    assert est.model_ is not first                         # every fit starts afresh


def test_warm_start_trains_the_given_model_and_continues(blobs):
    X, y, _, _ = blobs
    model = _mlp(3, "softmax", "categorical_crossentropy")
    est = SKLearnClassifier(model, warm_start=True, fit_kwargs={"epochs": 5, **QUIET})
    est.fit(X, y)
    assert est.model_ is model
    first_losses = list(est.history_["loss"])
    est.fit(X, y)
    assert est.model_ is model and est.epoch_ == 10
    assert est.history_["loss"][:5] == first_losses
    assert est.history_["loss"][5] < first_losses[0]       # continued from trained weights
    with pytest.raises(ValueError, match="not seen at the first fit"):
        est.fit(X, np.where(y == 2, 7, y))


def test_uncompiled_model_gets_a_matching_loss(blobs):
    X, y, _, _ = blobs
    est = SKLearnClassifier(_mlp(3, "softmax", None), fit_kwargs={"epochs": 1, **QUIET})
    assert est.fit(X, y).model_.loss.name == "categorical_crossentropy"
    yb = (y == 0).astype(int)
    est = SKLearnClassifier(_mlp(1, "sigmoid", None), fit_kwargs={"epochs": 1, **QUIET})
    assert est.fit(X, yb).model_.loss.name == "binary_crossentropy"
    reg = SKLearnRegressor(_mlp(1, None, None), fit_kwargs={"epochs": 1, **QUIET})
    assert reg.fit(X, X[:, 0]).model_.loss.name == "mean_squared_error"


def test_binary_sigmoid_model_and_sparse_loss(blobs):
    X, y, Xt, yt = blobs
    labels = np.array(["no", "yes"])
    yb, ybt = labels[(y == 1).astype(int)], labels[(yt == 1).astype(int)]
    clf = SKLearnClassifier(_mlp(1, "sigmoid", "binary_crossentropy"),
                            fit_kwargs={"epochs": 40, **QUIET}).fit(X, yb)
    proba = clf.predict_proba(Xt)
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(proba[:, 1], clf.model_.predict(Xt, verbose=0)[:, 0])
    assert clf.score(Xt, ybt) > 0.85
    sparse = SKLearnClassifier(_mlp(3, "softmax", "sparse_categorical_crossentropy"),
                               fit_kwargs={"epochs": 30, **QUIET}).fit(X, y)
    assert sparse.score(Xt, yt) > 0.85


def test_classifier_target_errors(blobs):
    X, y, _, _ = blobs
    with pytest.raises(ValueError, match="outputs 2 values per sample but y has 3 classes"):
        SKLearnClassifier(_mlp(2, "softmax", "categorical_crossentropy"),
                          fit_kwargs=QUIET).fit(X, y)
    with pytest.raises(ValueError, match="argmax"):
        SKLearnClassifier(build_classifier, fit_kwargs=QUIET).fit(X, np.eye(3)[y])
    with pytest.raises(ValueError, match="only one class"):
        SKLearnClassifier(build_classifier, fit_kwargs=QUIET).fit(X, np.zeros(len(X)))


def test_regressor_targets_and_score():
    keras.utils.set_random_seed(0)
    X, y = make_regression(n_samples=200, n_features=5, n_targets=2, noise=1.0,
                           random_state=0)
    X, y = X.astype("float32"), (y / y.std(axis=0)).astype("float32")
    one = SKLearnRegressor(build_regressor, fit_kwargs={"epochs": 60, **QUIET}).fit(X, y[:, 0])
    pred = one.predict(X)
    assert pred.shape == (200,) and pred.dtype == np.float64
    assert one.score(X, y[:, 0]) > 0.9
    two = SKLearnRegressor(build_regressor, fit_kwargs={"epochs": 60, **QUIET}).fit(X, y)
    assert two.predict(X).shape == (200, 2) and two.model_.output_shape == (None, 2)
    assert two.score(X, y) > 0.9


def test_transformer_output_feeds_a_pipeline(blobs):
    X, y, Xt, yt = blobs

    def embedder(X, y):               # a 2-unit bottleneck trained to reproduce X
        inputs = keras.Input(X.shape[1:])
        code = keras.layers.Dense(2, name="code")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(y.shape[1])(code))
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        return model

    step = SKLearnTransformer(embedder, fit_kwargs={"epochs": 3, **QUIET})
    out = step.fit_transform(X, X)
    np.testing.assert_allclose(out, step.model_.predict(X, verbose=0))
    assert out.shape == (180, 4)
    pipe = make_pipeline(StandardScaler(), SKLearnTransformer(
        build_regressor, fit_kwargs={"epochs": 5, **QUIET}), LogisticRegression())
    pipe.fit(X, y)
    assert pipe.predict(Xt).shape == (60,)


def test_inputs_with_more_than_two_axes():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3, 4)).astype("float32")
    y = (X[:, 0, 0] > 0).astype(int)

    def build(X, y):
        model = keras.Sequential([keras.Input(X.shape[1:]), keras.layers.Flatten(),
                                  keras.layers.Dense(y.shape[1], activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        return model

    clf = SKLearnClassifier(build, fit_kwargs={"epochs": 2, **QUIET}).fit(X, y)
    assert clf.n_features_in_ == 3 and clf.predict(X).shape == (64,)


def test_fit_arguments_override_fit_kwargs_without_changing_them(blobs):
    X, y, _, _ = blobs
    kwargs = {"epochs": 5, **QUIET}
    est = SKLearnClassifier(build_classifier, fit_kwargs=kwargs).fit(X, y, epochs=2)
    assert est.epoch_ == 2 and kwargs == {"epochs": 5, **QUIET}
    assert est.fit_kwargs is kwargs


def test_bad_models_raise_clear_errors(blobs):
    X, y, _, _ = blobs
    with pytest.raises(TypeError, match="must be a kerasnp Model or a callable"):
        SKLearnClassifier("mlp").fit(X, y)
    with pytest.raises(TypeError, match="must return a kerasnp Model"):
        SKLearnClassifier(lambda X, y: "not a model").fit(X, y)
    with pytest.raises(ValueError, match="model_kwargs are passed to a callable"):
        SKLearnClassifier(_mlp(3, "softmax", "categorical_crossentropy"),
                          model_kwargs={"hidden": 3}).fit(X, y)
    with pytest.raises(ValueError, match="requires y to be passed"):
        SKLearnTransformer(build_regressor).fit_transform(X)
    with pytest.raises(ValueError, match="numeric targets; for class labels use SKLearnC"):
        SKLearnTransformer(build_regressor).fit(X, np.array(["a", "b"])[y % 2])


def test_missing_sklearn_is_explained(monkeypatch):
    from kerasnp.wrappers import _sklearn_base
    monkeypatch.setattr(_sklearn_base, "sklearn", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        SKLearnRegressor(build_regressor)


def test_import_kerasnp_does_not_import_sklearn():
    code = ("import sys, kerasnp; assert 'sklearn' not in sys.modules; "
            "kerasnp.wrappers.SKLearnClassifier; assert 'sklearn' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert keras.wrappers.SKLearnRegressor is SKLearnRegressor
    with pytest.raises(AttributeError, match="Available: SKLearnClassifier"):
        keras.wrappers.KerasClassifier
