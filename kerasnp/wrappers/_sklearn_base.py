"""The shared part of the scikit-learn wrappers: parameters, fit/predict, data validation.

scikit-learn is imported here, at module level, because the wrapper classes subclass its
`BaseEstimator` and mixins; `kerasnp.wrappers` loads this module only when a wrapper class is
first looked up. Without scikit-learn, stand-in base classes let the module import and the
constructors raise an `ImportError` that names what to install (as Keras does).
"""
import numpy as np

from . import _sklearn_model

try:
    import sklearn
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
except ImportError:          # optional dependency: the classes exist, constructing one explains
    sklearn = None

    class BaseEstimator:
        pass

    class ClassifierMixin:
        pass

    class RegressorMixin:
        pass

    class TransformerMixin:
        pass


def require_sklearn(who):
    """Raise a clear ImportError when scikit-learn is missing."""
    if sklearn is None:
        raise ImportError(f"{who} requires scikit-learn, which is not installed. Install it with "
                          "`pip install scikit-learn` (or `pip install kerasnp[sklearn]`).")


def validate_data(estimator, *args, **kwargs):
    """scikit-learn's `validate_data` (1.6+), or the estimator method older versions have."""
    try:
        from sklearn.utils.validation import validate_data as validate
    except ImportError:
        return estimator._validate_data(*args, **kwargs)
    return validate(estimator, *args, **kwargs)


def check_is_fitted(estimator):
    from sklearn.utils.validation import check_is_fitted as check
    check(estimator)


class SKLBase(BaseEstimator):
    """What the three wrappers share (see `SKLearnClassifier` for the arguments).

    Subclasses define how targets are encoded for the model (`_process_target`), read back from
    its outputs (`_reverse_process_target`) and which loss an uncompiled model gets.
    """

    _default_loss = "mean_squared_error"
    _multi_output = True        # whether y may have several columns (regression targets)

    def __init__(self, model, warm_start=False, model_kwargs=None, fit_kwargs=None):
        require_sklearn(type(self).__name__)
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    # -- scikit-learn tags: training is random (weights, shuffling), so sklearn skips the checks
    # that compare two fits of the same data.
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        tags.target_tags.required = True
        tags.target_tags.multi_output = self._multi_output
        return tags

    def _more_tags(self):                 # the same for scikit-learn < 1.6
        return {"non_deterministic": True, "requires_y": True,
                "multioutput": self._multi_output}

    @property
    def epoch_(self):
        """Number of epochs the fitted model has trained (0 before `fit`)."""
        history = getattr(self, "history_", None) or {}
        return len(next(iter(history.values()), []))

    # -- data ----------------------------------------------------------------------------------
    def _validate(self, X, y=None, reset=True):
        # allow_nd: a network takes images and sequences, not only (samples, features) tables.
        if y is None:
            return validate_data(self, X, reset=reset, allow_nd=True)
        return validate_data(self, X, y, reset=reset, allow_nd=True,
                             multi_output=self._multi_output,
                             y_numeric=not isinstance(self, ClassifierMixin))

    def _process_target(self, y, reset):
        """Targets as the model is fitted on them; `reset` on a fresh (not warm) fit."""
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            raise ValueError(f"{type(self).__name__} fits numeric targets; for class labels use "
                             f"SKLearnClassifier. Received: y of dtype {y.dtype}")
        if reset:
            self._y_ndim = y.ndim
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _reverse_process_target(self, output):
        if self._y_ndim == 1 and output.ndim == 2 and output.shape[1] == 1:
            return output[:, 0]
        return output

    def _default_loss_for(self, model):
        return self._default_loss

    def _adapt_target(self, model, y):
        """Hook for the classifier: the encoding that fits the model's output and loss."""
        return y

    # -- fit / predict --------------------------------------------------------------------------
    def fit(self, X, y=None, **kwargs):
        """Fit the model (a fresh copy of it, unless `warm_start`) on `X` and `y`.

        Args:
            X: array-like of shape `(n_samples, n_features)` (or `(n_samples, ...)` for a
                model that takes images or sequences).
            y: array-like of shape `(n_samples,)` or `(n_samples, n_outputs)` (required: None
                raises a ValueError saying so).
            **kwargs: passed to `model.fit`, over those in `fit_kwargs` (e.g. `epochs=5`,
                `sample_weight=w`).

        Returns:
            The fitted estimator (`self`).
        """
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None: the model is trained with model.fit(X, y) (for an "
                             "autoencoder, pass y=X).")
        continuing = bool(self.warm_start) and hasattr(self, "model_")
        X, y = self._validate(X, y, reset=not continuing)
        y = self._process_target(y, reset=not continuing)
        if continuing:
            model = self.model_
        else:
            model = _sklearn_model.make_model(self, X, y)
        y = self._adapt_target(model, y)
        fit_kwargs = {**(self.fit_kwargs or {}), **kwargs}
        history = model.fit(X, y, **fit_kwargs)
        previous = self.history_ if continuing else {}
        self.history_ = {k: list(previous.get(k, [])) + list(v)
                         for k, v in history.history.items()}
        self.model_ = model
        return self

    def _raw_predict(self, X):
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        # verbose=0: a progress bar per call would flood cross-validation and grid searches.
        return np.asarray(self.model_.predict(X, verbose=0))

    def predict(self, X):
        """Predict with the fitted model.

        Args:
            X: array-like of shape `(n_samples, n_features)`.

        Returns:
            Predictions of shape `(n_samples,)` when `y` was 1-D at `fit`, else
            `(n_samples, n_outputs)`.
        """
        return self._reverse_process_target(self._raw_predict(X))
