"""`LossFunctionWrapper`: a `Loss` around a plain per-sample loss function."""
import importlib

import numpy as np

from .base import Loss


class LossFunctionWrapper(Loss):
    """A `Loss` around a plain function `fn(y_true, y_pred, **kwargs)` of per-sample losses.

    To train with it, give `fn` a `gradient(y_true, y_pred)` attribute returning the derivative
    of the sum of the per-sample losses with respect to `y_pred` (same shape as `y_pred`).

    Args:
        fn: the per-sample loss function.
        reduction, name, dtype: as in `Loss`; `name` defaults to `fn.__name__`.
        **kwargs: extra keyword arguments passed to `fn`.
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper: argument `fn` must be callable. "
                            f"Received: fn={fn!r}")
        fn_name = getattr(fn, "__name__", "")
        if name is None and fn_name.isidentifier():
            name = fn_name
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self._forward(*self._prepare(y_true, y_pred))

    def _forward(self, t, p):
        return np.asarray(self.fn(t, p, **self._fn_kwargs), dtype=p.dtype)

    def _backward(self, t, p, g):
        grad_fn = getattr(self.fn, "gradient", None)
        if grad_fn is None:
            raise NotImplementedError(
                f"{self._who()} wraps a plain function, which kerasnp cannot differentiate. "
                f"Give it a `gradient(y_true, y_pred)` attribute returning d(sum of per-sample "
                f"losses)/d y_pred, or subclass kerasnp.losses.Loss. Received: fn={self.fn!r}")
        dp = np.asarray(grad_fn(t, p), dtype=p.dtype)
        return dp * g.reshape(g.shape + (1,) * (p.ndim - g.ndim))

    def get_config(self):
        """The function is saved by its import path, `"module.qualname"`."""
        fn = f"{getattr(self.fn, '__module__', '')}.{getattr(self.fn, '__qualname__', '')}"
        return {**super().get_config(), "fn": fn, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("fn"), str):
            config["fn"] = _import_function(config["fn"])
        return cls(**config)


def _import_function(path):
    """Import `"package.module.function"` (the form `LossFunctionWrapper.get_config` writes)."""
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name, None)
        if callable(obj):
            return obj
        break
    raise ValueError(f"Cannot rebuild the wrapped loss function {path!r}: it is not an importable "
                     f"module-level function; pass the function itself. Received: fn={path!r}")
