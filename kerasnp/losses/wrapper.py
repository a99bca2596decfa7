"""`LossFunctionWrapper`: a `Loss` around a plain per-sample loss function."""
import numpy as np

from .base import Loss, _match_rank


class LossFunctionWrapper(Loss):
    """A `Loss` around a plain function `fn(y_true, y_pred, **kwargs)` of per-sample losses.

    Write `fn` with `kerasnp.ops` and the gradient tape differentiates it (this is what
    `compile(loss=fn)` makes). Labels of shape `(n,)` meet predictions `(n, 1)` (and the
    reverse) as in Keras. A function may instead carry a `gradient(y_true, y_pred)` attribute
    returning d(sum of its per-sample losses)/d y_pred (same shape as `y_pred`); it is then
    computed with NumPy and recorded as one node.

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
        if isinstance(y_true, np.ndarray):
            y_true = _match_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def _hand_written(self):
        return callable(getattr(self.fn, "gradient", None))

    def _forward(self, t, p):
        return np.asarray(self.fn(t, p, **self._fn_kwargs), dtype=p.dtype)

    def _backward(self, t, p, g):                  # only with a `fn.gradient` (_hand_written)
        dp = np.asarray(self.fn.gradient(t, p), dtype=p.dtype)
        return dp * g.reshape(g.shape + (1,) * (p.ndim - g.ndim))

    def get_config(self):
        """The function is saved by name only; no code or import path goes into a config."""
        return {**super().get_config(), "fn": getattr(self.fn, "__name__", repr(self.fn)),
                **self._fn_kwargs}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild from a config. A function name is resolved only among kerasnp's own loss
        functions or `custom_objects`: nothing is ever imported from what a config says."""
        config = dict(config)
        name = config.get("fn")
        if isinstance(name, str):
            from . import _FUNCTIONS
            found = (custom_objects or {}).get(name) or {
                f.__name__: f for f in _FUNCTIONS}.get(name)
            if found is None:
                raise ValueError(f"Cannot rebuild the wrapped loss function '{name}': it is not a "
                                 "kerasnp loss function. Pass it as custom_objects={"
                                 f"'{name}': {name}}}. Received: fn={name!r}")
            config["fn"] = found
        return cls(**config)
