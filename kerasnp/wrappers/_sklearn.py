"""`SKLearnClassifier`, `SKLearnRegressor` and `SKLearnTransformer` (Keras 3's `keras.wrappers`).

Arguments, attributes and behaviour follow Keras 3. Where kerasnp goes further it says so: an
uncompiled model is compiled with Adam and a loss fitting the targets (Keras raises), the
classifier also fits a one-unit sigmoid output or a sparse loss, and inputs may have more than
two axes (images, sequences).
"""
import numpy as np

from . import _sklearn_model
from ._sklearn_base import ClassifierMixin, RegressorMixin, SKLBase, TransformerMixin

_ARGS_DOC = """
    Args:
        model: a kerasnp `Model`, or a callable `model(X, y, **model_kwargs)` that returns one
            (called with keywords `X` and `y` at each fit; {y}). A model instance is copied
            from its config before each fit (new weights, a fresh optimizer) unless
            `warm_start=True`. An uncompiled model is compiled with Adam and
            {loss} (Keras raises instead).
        warm_start: bool, whether to keep training the same model: `fit` then trains the given
            model instance itself (no copy) and later fits continue from its weights.
        model_kwargs: dict, keyword arguments for a callable `model`.
        fit_kwargs: dict, keyword arguments for `model.fit` (`epochs`, `batch_size`,
            `verbose`, ...); those given to `fit` take precedence.

    Attributes:
        model_: the fitted `Model`.
        history_: dict of per-epoch logs from `model.fit` (`{{"loss": [...], ...}}`).
        n_features_in_: number of features (second axis of `X`) seen at fit."""


def _doc(cls, loss, y):
    cls.__doc__ = cls.__doc__.replace("{args}", _ARGS_DOC.format(loss=loss, y=y).strip("\n"))
    return cls


class SKLearnClassifier(ClassifierMixin, SKLBase):
    """scikit-learn classifier wrapping a kerasnp model.

    Class labels (numbers or strings) are one-hot encoded for the model, as Keras does; a model
    compiled with a sparse loss (`sparse_categorical_crossentropy`) gets class indices, and a
    binary model with one sigmoid unit gets 0/1. `predict` returns labels, `predict_proba` the
    model's probabilities (one column per class), `score` the accuracy.

{args}
        classes_: the sorted class labels.

    Example:
        >>> import numpy as np
        >>> import kerasnp as keras
        >>> from kerasnp.wrappers import SKLearnClassifier
        >>> def build(X, y, hidden=16):
        ...     model = keras.Sequential([keras.Input(X.shape[1:]),
        ...                               keras.layers.Dense(hidden, activation="relu"),
        ...                               keras.layers.Dense(y.shape[1], activation="softmax")])
        ...     model.compile(optimizer="adam", loss="categorical_crossentropy")
        ...     return model
        >>> X = np.random.default_rng(0).normal(size=(60, 4))
        >>> y = np.where(X[:, 0] > 0, "pos", "neg")
        >>> clf = SKLearnClassifier(build, model_kwargs={"hidden": 8},
        ...                         fit_kwargs={"epochs": 3, "verbose": 0}).fit(X, y)
        >>> clf.classes_.tolist()
        ['neg', 'pos']
    """

    _multi_output = False

    def fit(self, X, y=None, **kwargs):
        shape = np.asarray(y).shape if y is not None else ()
        if len(shape) == 2 and shape[1] > 1:
            raise ValueError(f"{type(self).__name__} takes class labels of shape (n_samples,) "
                             "and one-hot encodes them itself; for one-hot targets pass "
                             f"y.argmax(axis=1). Received: y of shape {shape}")
        weights = kwargs.get("sample_weight", (self.fit_kwargs or {}).get("sample_weight"))
        if weights is not None and y is not None:
            w, labels = np.ravel(weights), np.ravel(np.asarray(y, dtype=object))
            if w.shape == labels.shape and len(set(labels[w > 0])) < 2:
                raise ValueError(f"{type(self).__name__} can't train when only one class is "
                                 "present: the samples of positive sample_weight all have the "
                                 f"label {labels[w > 0][:1].tolist()}.")
        return super().fit(X, y, **kwargs)

    fit.__doc__ = SKLBase.fit.__doc__

    def _process_target(self, y, reset):
        from sklearn.utils.multiclass import type_of_target
        kind = type_of_target(y, input_name="y")
        if kind == "unknown":
            raise ValueError(f"{type(self).__name__}: Unknown label type for y: labels must be "
                             f"numbers or strings. Received: y of dtype {np.asarray(y).dtype}")
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"{type(self).__name__} takes class labels (binary or multiclass "
                             f"targets), such as y = onehot.argmax(axis=1). Received: y of "
                             f"target type '{kind}'")
        if reset:
            self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise ValueError(f"{type(self).__name__} can't train when only one class is "
                                 f"present. Received: y with the single class "
                                 f"{self.classes_[0]!r}")
        index = np.searchsorted(self.classes_, y)
        index[index == len(self.classes_)] = 0
        unseen = self.classes_[index] != y
        if np.any(unseen):
            raise ValueError(f"{type(self).__name__}: y has labels not seen at the first fit "
                             f"{np.unique(np.asarray(y)[unseen]).tolist()}; known classes: "
                             f"{self.classes_.tolist()}")
        onehot = np.zeros((len(y), len(self.classes_)), dtype="float32")
        onehot[np.arange(len(y)), index] = 1.0
        return onehot

    def _default_loss_for(self, model):
        return "binary_crossentropy" if _sklearn_model.output_width(model) == 1 \
            else "categorical_crossentropy"

    def _adapt_target(self, model, onehot):
        """The one-hot targets in the form the model's output and loss take."""
        n_classes = onehot.shape[1]
        if "sparse" in _sklearn_model.loss_name(model):
            return onehot.argmax(axis=1)
        width = _sklearn_model.output_width(model)
        if width == 1 and n_classes == 2:
            return onehot[:, 1:]
        if width is not None and width != n_classes:
            raise ValueError(f"{type(self).__name__}: model '{model.name}' outputs {width} "
                             f"values per sample but y has {n_classes} classes "
                             f"{self.classes_.tolist()}: give the last layer {n_classes} units "
                             "(softmax), or 1 sigmoid unit for two classes.")
        return onehot

    def predict_proba(self, X):
        """Class probabilities: the model's outputs, one column per class of `classes_`.

        Args:
            X: array-like of shape `(n_samples, n_features)`.

        Returns:
            Array of shape `(n_samples, n_classes)`.
        """
        out = self._raw_predict(X)
        if out.ndim == 2 and out.shape[1] == 1 and len(self.classes_) == 2:
            out = np.concatenate([1.0 - out, out], axis=1)     # one sigmoid unit: P(class 1)
        return out

    def predict(self, X):
        """Predicted class labels (the class of highest probability).

        Args:
            X: array-like of shape `(n_samples, n_features)`.

        Returns:
            Array of shape `(n_samples,)` with labels from `classes_`.
        """
        proba = self.predict_proba(X)          # first: it raises NotFittedError before fit
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True     # a few epochs on sklearn's check data
        return tags

    def _more_tags(self):
        return {**super()._more_tags(), "poor_score": True}


class SKLearnRegressor(RegressorMixin, SKLBase):
    """scikit-learn regressor wrapping a kerasnp model.

    A 1-D `y` is fitted as one column and `predict` returns 1-D predictions again; 2-D `y`
    fits a model with several outputs. `score` is R².

{args}

    Example:
        >>> import numpy as np
        >>> import kerasnp as keras
        >>> from kerasnp.wrappers import SKLearnRegressor
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> X = np.random.default_rng(0).normal(size=(40, 3))
        >>> reg = SKLearnRegressor(model, fit_kwargs={"epochs": 2, "verbose": 0})
        >>> reg.fit(X, X.sum(axis=1)).predict(X).shape
        (40,)
    """

    def predict(self, X):
        """Predict with the fitted model, in float64 as scikit-learn's regressors do.

        Args:
            X: array-like of shape `(n_samples, n_features)`.

        Returns:
            Predictions of shape `(n_samples,)` when `y` was 1-D at `fit`, else
            `(n_samples, n_outputs)`.
        """
        return super().predict(X).astype(np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags

    def _more_tags(self):
        return {**super()._more_tags(), "poor_score": True}


class SKLearnTransformer(TransformerMixin, SKLBase):
    """scikit-learn transformer wrapping a kerasnp model: `transform(X)` is the model's output.

    A transformer in scikit-learn's sense (a pipeline step), not the attention architecture: fit
    the model on `(X, y)`, then use its outputs, an embedding say, as features downstream.

{args}

    Example:
        >>> import numpy as np
        >>> import kerasnp as keras
        >>> from kerasnp.wrappers import SKLearnTransformer
        >>> model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2)])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> X = np.random.default_rng(0).normal(size=(30, 6))
        >>> step = SKLearnTransformer(model, fit_kwargs={"epochs": 1, "verbose": 0})
        >>> step.fit_transform(X, X[:, :2]).shape
        (30, 2)
    """

    def transform(self, X):
        """The fitted model's output for `X`.

        Args:
            X: array-like of shape `(n_samples, n_features)`.

        Returns:
            Array of shape `(n_samples, ...)`: the model's output, as `model.predict` gives it.
        """
        return self._raw_predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []    # float32 out, whatever came in
        return tags

    def _more_tags(self):
        return {**super()._more_tags(), "preserves_dtype": []}


_doc(SKLearnClassifier, "categorical cross-entropy (binary for one output unit)",
     "y one-hot encoded")
_doc(SKLearnRegressor, "mean squared error", "y as 2-D columns")
_doc(SKLearnTransformer, "mean squared error", "y as 2-D columns")
