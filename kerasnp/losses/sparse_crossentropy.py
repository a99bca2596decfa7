"""Sparse categorical cross-entropy: integer class labels, optional `ignore_class` masking."""
import numbers

import numpy as np

from .. import config
from ..autodiff.tape import record
from .. import _validate as validate
from .base import _Builtin, _compute_dtype, _is_integral, _out_dtype, registry
from .probabilistic import _activation_name, _inside, _logsumexp, _softmax


@registry.register("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy")
class SparseCategoricalCrossentropy(_Builtin):
    """Categorical cross-entropy with integer class labels `(n,)` (or `(n, 1)`).

    Args:
        from_logits: whether `y_pred` holds logits.
        ignore_class: optional int label whose samples count neither in the loss nor in the
            `"sum_over_batch_size"` denominator (e.g. a padding class).

    Example:
        >>> SparseCategoricalCrossentropy(reduction="none")([1, 2], [[0.05, 0.95, 0],
        ...                                                          [0.1, 0.8, 0.1]]).round(4)
        array([0.0513, 2.3026])
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = validate.boolean(from_logits, "from_logits", self)
        if ignore_class is not None and (isinstance(ignore_class, bool)
                                         or not isinstance(ignore_class, numbers.Integral)):
            raise TypeError(f"{self._who()}: argument `ignore_class` must be an integer or None. "
                            f"Received: ignore_class={ignore_class!r}")
        self.ignore_class = None if ignore_class is None else int(ignore_class)

    def _prepare(self, y_true, y_pred):
        p = np.asarray(y_pred)
        p = p.astype(_compute_dtype(p, self.dtype), copy=False)
        t = np.asarray(y_true)
        if t.ndim == p.ndim and t.shape[-1] == 1:
            t = t[..., 0]
        return t.astype(np.intp, copy=False), p

    def _mask(self, t):
        return None if self.ignore_class is None else t != self.ignore_class

    def _labels(self, t):
        """Labels as a gather index `(..., 1)`; ignored ones point at class 0."""
        if self.ignore_class is not None:
            t = np.where(t != self.ignore_class, t, 0)
        return t[..., None]

    def _forward(self, t, p):
        idx = self._labels(t)
        if self.from_logits:  # lse(z) - z_y
            per = (_logsumexp(p, -1) - _take(p, idx))[..., 0]
        else:
            eps = config.epsilon()
            q = _take(p, idx) / np.add.reduce(p, axis=-1, keepdims=True)
            per = -np.log(np.minimum(np.maximum(q, eps), 1.0 - eps))[..., 0]   # clip
        mask = self._mask(t)
        return per if mask is None else np.where(mask, per, per.dtype.type(0))

    def _backward(self, t, p, g):
        idx, g = self._labels(t), g[..., None]
        if self.from_logits:  # d/dz = softmax(z) - onehot(y)
            dz = _softmax(p, -1)
            _put(dz, idx, _take(dz, idx) - 1.0)
            return dz * g
        eps = config.epsilon()
        s = p.sum(axis=-1, keepdims=True)
        qy = _take(p, idx) / s
        ay = -1.0 / np.clip(qy, eps, 1.0 - eps) * _inside(qy, eps, 1.0 - eps) * g  # dL/dq_y
        dp = np.broadcast_to(-ay * qy / s, p.shape).copy()  # through q = p / Σp
        _put(dp, idx, _take(dp, idx) + ay / s)
        return dp

    def logit_gradient(self, y_true, y_pred, activation_name, sample_weight=None):
        """`(p - onehot(y)) / N` when `y_pred` is the output of a softmax."""
        if self.from_logits or _activation_name(activation_name) != "softmax":
            return None
        t, p = self._prepare(y_true, y_pred)
        shape = self._values_shape(t, p)
        c = self._coefficients(shape, p.dtype, t, sample_weight)
        # d loss / d per-sample loss: one number for an unweighted mean (no broadcast array)
        g = p.dtype.type(c) if isinstance(c, float) else \
            np.broadcast_to(np.asarray(c, dtype=p.dtype), shape)[..., None]
        idx = self._labels(t)
        dz = p * g
        _put(dz, idx, _take(dz, idx) - g)
        return dz.astype(_out_dtype(y_pred, p), copy=False)

    def check_targets(self, y_true, output_shape):
        """Return the labels as an integer array `(n, ...)` after checking shape and range."""
        y, out = np.asarray(y_true), tuple(output_shape)
        units, ndim = out[-1], len(out) - 1
        if y.ndim == ndim + 1 and units is not None and units > 1 and y.shape[-1] == units:
            raise ValueError(
                f"{self._who()}: labels of shape {y.shape} look one-hot encoded, but this loss "
                f"expects integer class indices of shape {y.shape[:-1]}; use "
                f"'categorical_crossentropy' or y.argmax(-1). Received: y_true.shape={y.shape}")
        if y.ndim == ndim + 1 and y.shape[-1] == 1:
            y = y[..., 0]
        if y.ndim != ndim or any(o is not None and o != s for s, o in zip(y.shape[1:], out[1:-1])):
            want = "(n" + "".join(f", {'?' if o is None else o}" for o in out[1:-1]) + ")"
            raise ValueError(
                f"{self._who()}: label shape {np.shape(y_true)} is incompatible with the model "
                f"output shape {out}; expected integer labels of shape {want}. "
                f"Received: y_true.shape={np.shape(y_true)}, output_shape={out}")
        if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool) or not _is_integral(y):
            bad = y.ravel()[np.flatnonzero(np.mod(y.ravel(), 1) != 0)[:3]] \
                if np.issubdtype(y.dtype, np.floating) else y.dtype
            raise ValueError(
                f"{self._who()}: sparse labels must be integer class indices; found non-integer "
                f"values such as {bad}. Received: y_true.dtype={y.dtype}")
        y = y.astype(np.intp, copy=False)
        valid = y if self.ignore_class is None else y[y != self.ignore_class]
        if valid.size and units is not None:
            lo, hi = int(valid.min()), int(valid.max())
            if lo < 0 or hi >= units:
                raise ValueError(
                    f"{self._who()}: labels must be in [0, {units}) for a model with {units} "
                    f"output units; found min={lo}, max={hi}. Received: "
                    f"y_true.shape={np.shape(y_true)}, output_shape={out}")
        return y

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "ignore_class": self.ignore_class}


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Per-sample sparse categorical cross-entropy (ignored labels give 0); class `axis`."""
    if axis % max(np.ndim(y_pred), 1) != np.ndim(y_pred) - 1:
        a = np.asarray(y_pred)
        y_pred = record(np.moveaxis(a, axis, -1), lambda g: np.moveaxis(g, -1, axis), y_pred)
    return SparseCategoricalCrossentropy(from_logits, ignore_class).call(y_true, y_pred)


_ROWS = {}


def _rows(n):
    """`arange(n)[:, None]`, cached: the row index of a gather over (n, classes)."""
    rows = _ROWS.get(n)
    if rows is None:
        if len(_ROWS) > 64:
            _ROWS.clear()
        rows = _ROWS[n] = np.arange(n)[:, None]
    return rows


def _take(a, idx):
    """`take_along_axis(a, idx, -1)` (idx `(..., 1)`); plain fancy indexing for 2-D, which
    skips NumPy's Python-level index building (a few µs per call, twice per training step)."""
    if a.ndim == 2:
        return a[_rows(a.shape[0]), idx]
    return np.take_along_axis(a, idx, -1)


def _put(a, idx, values):
    """`put_along_axis(a, idx, values, -1)`, with the same 2-D shortcut as `_take`."""
    if a.ndim == 2:
        a[_rows(a.shape[0]), idx] = values
    else:
        np.put_along_axis(a, idx, values, -1)
