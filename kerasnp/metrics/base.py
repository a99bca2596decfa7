"""Shape helpers shared by the metrics, and the weighted mean every "mean of something" metric
shares (`Mean`, `MeanMetricWrapper`). The `Metric` contract itself lives in `metric.py`.

Built-in metrics keep their state in plain Python floats or small float64 arrays, so
accumulation over many batches does not lose precision, while the batch arrays themselves keep
their own dtype (float32 stays float32).
"""
import numpy as np

from .metric import Metric, plain_result as _float_result  # noqa: F401  (re-exported)


def same_rank(a, b):
    """Align two arrays whose ranks differ by one unit trailing axis (Keras's rule).

    A rank-1 array facing an `(n, 1)` array gains the unit axis; otherwise the unit axis of the
    higher-rank array is dropped. Other shapes are returned unchanged (numpy broadcasting decides).
    """
    if a.ndim == b.ndim + 1 and a.shape[-1] == 1:
        return (a, b[..., None]) if b.ndim == 1 else (a[..., 0], b)
    if b.ndim == a.ndim + 1 and b.shape[-1] == 1:
        return (a[..., None], b) if a.ndim == 1 else (a, b[..., 0])
    return a, b


def sample_weights_like(sample_weight, shape):
    """Broadcast per-sample (or per-element) weights to `shape` without copying."""
    w = np.asarray(sample_weight)
    if w.ndim > len(shape) and w.shape[-1] == 1:
        w = w[..., 0]
    if w.ndim < len(shape) and w.ndim > 0:
        w = w.reshape(w.shape + (1,) * (len(shape) - w.ndim))
    return np.broadcast_to(w, shape)


def safe_div(a, b):
    """`a / b` with 0 where `b == 0` (Keras's `divide_no_nan`), for small state arrays."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = np.zeros(np.broadcast(a, b).shape)
    np.divide(a, b, out=out, where=b != 0)
    return out


class Mean(Metric):
    """The weighted mean of the values seen since the last reset.

    Values of rank > 1 are first averaged over their non-batch axes, so each sample counts once.
    The engine tracks the loss with `update_state(loss, sample_weight=batch_size)`, which makes the
    epoch value the per-sample mean even when the last batch is short.

    Args:
        name: string, defaults to `"mean"`.
        dtype: float type of the result.

    Example:
        >>> m = Mean()
        >>> m.update_state([1.0, 3.0]); m.update_state(5.0, sample_weight=2)
        >>> m.result()
        3.5
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        if sample_weight is None:
            if (values.ndim if type(values) is np.ndarray else np.ndim(values)) == 0:
                self.total += float(values)
                self.count += 1.0
                return
            v = np.asarray(values)
            n = v.shape[0]
            if v.size:
                self.total += float(np.add.reduce(v.reshape(-1))) * n / v.size   # Σ sample means
                self.count += n
            return
        if type(values) is float and type(sample_weight) is int or \
                np.ndim(values) == 0 and np.ndim(sample_weight) == 0:   # the engine's loss tracking
            w = float(sample_weight)
            self.total += float(values) * w
            self.count += w
            return
        v = np.asarray(values)
        w = np.asarray(sample_weight)
        if w.dtype != v.dtype and v.dtype.kind == "f":
            w = w.astype(v.dtype)
        v, w = same_rank(v, w)
        if v.ndim > w.ndim:   # weights name samples (or leading axes): average the rest first
            v = v.mean(axis=tuple(range(w.ndim, v.ndim)))
        v, w = np.broadcast_arrays(v, w)
        if v.size == 0:
            return
        inner = v.size / v.shape[0] if v.ndim else 1.0   # per-sample means of both sums
        self.total += float(np.vdot(v, w)) / inner
        self.count += float(w.sum()) / inner

    def result(self):
        return self.total / self.count if self.count else 0.0

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0


class MeanMetricWrapper(Mean):
    """Turn a per-sample function `fn(y_true, y_pred, **kwargs)` into a stateful mean metric.

    Args:
        fn: callable returning one value per sample (or per element).
        name: string; defaults to `"mean_metric_wrapper"` (`metrics.get` names it after `fn`).
        dtype: float type of the result.
        **kwargs: extra keyword arguments passed to `fn` on every call.

    Example:
        >>> m = MeanMetricWrapper(lambda t, p: abs(t - p), name="l1")
        >>> m.update_state(np.array([1.0, 2.0]), np.array([1.5, 2.0]))
        >>> m.result()
        0.25
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper: argument `fn` must be callable. "
                            f"Received: fn={fn!r}")
        super().__init__(name=name or "mean_metric_wrapper", dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        if type(self) is MeanMetricWrapper:   # subclasses fix their own fn
            config["fn"] = getattr(self._fn, "__name__", repr(self._fn))
            config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        if cls is MeanMetricWrapper and isinstance(config.get("fn"), str):
            from . import FUNCTIONS   # the named per-sample functions
            config = dict(config)
            name = config["fn"]
            if name not in FUNCTIONS:
                raise ValueError(f"Unknown metric function '{name}'. "
                                 f"Valid: {', '.join(sorted(FUNCTIONS))}. Received: fn={name!r}")
            config["fn"] = FUNCTIONS[name]
        return cls(**config)
