"""scikit-learn wrappers for kerasnp models (`keras.wrappers` in Keras 3).

`SKLearnClassifier`, `SKLearnRegressor` and `SKLearnTransformer` make a model a scikit-learn
estimator: it goes into `Pipeline`, `GridSearchCV`, `cross_val_score` and `clone`.

scikit-learn is optional (`pip install scikit-learn`): this module imports it only when one of the
wrapper classes is first looked up, so `import kerasnp` never pays for it. Without it the classes
still exist and raise an `ImportError` that says what to install when constructed.
"""
from typing import TYPE_CHECKING

if TYPE_CHECKING:         # for static tools (docs, IDEs); at run time __getattr__ loads them
    from ._sklearn import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]


def __getattr__(name):
    # PEP 562: the classes subclass scikit-learn's, so their module loads on first use only.
    if name in __all__:
        from . import _sklearn
        value = getattr(_sklearn, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kerasnp.wrappers' has no attribute '{name}'. "
                         f"Available: {', '.join(__all__)}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
