"""Losses: per-sample values, Keras's reductions, and their exact gradients.

A loss maps `(y_true, y_pred)` to one value per sample (`call`), reduces them with optional sample
weights (`__call__`), and differentiates that reduced value with respect to `y_pred` (`gradient`).
Cross-entropies also offer `logit_gradient`, the fused derivative through the final softmax or
sigmoid, `(p - t) / N`, which never divides by a probability.

Each class computes in the float dtype of `y_pred` (or in `dtype` when given), so float32 stays
float32. Backward sits right under forward: `_backward(t, p, g)` receives `g`, the derivative of the
reduced loss with respect to each per-sample value, and returns d loss / d y_pred.
"""
import importlib
import math
import numbers

import numpy as np

from kerasnp import config
from kerasnp import _validate as validate
from kerasnp._registry import Registry, resolve, snake_case

registry = Registry("loss")
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)
_LOG2 = math.log(2.0)


def _compute_dtype(p, dtype):
    if dtype is not None:
        return np.dtype(dtype)
    return p.dtype if np.issubdtype(p.dtype, np.floating) else np.dtype(config.floatx())


def _match_rank(t, p):
    """Keras's rule: labels `(n,)` meet predictions `(n, 1)` (and the reverse) by a trailing 1."""
    if t.ndim == p.ndim - 1 and p.shape[-1] == 1:
        return t[..., None]
    if t.ndim == p.ndim + 1 and t.shape[-1] == 1:
        return t[..., 0]
    return t


def _inside(x, low, high):
    """1 where `clip(x, low, high)` passes x through, else 0: the derivative of the clip."""
    return (x > low) & (x < high)


def _logsumexp(z, axis):
    m = z.max(axis=axis, keepdims=True)
    return m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def _softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _sigmoid(z):
    return 0.5 * np.tanh(0.5 * z) + 0.5  # stable for any z, one ufunc pass


def _activation_name(activation):
    if activation is None or isinstance(activation, str):
        return activation
    return getattr(activation, "name", None) or getattr(activation, "__name__", None)


def _is_integral(y):
    if np.issubdtype(y.dtype, np.integer) or y.dtype == bool:
        return True
    return np.issubdtype(y.dtype, np.floating) and bool(np.all(np.mod(y, 1) == 0))


class Loss:
    """Base class of every loss.

    Subclass it and implement `call(y_true, y_pred)` returning one value per sample (as in Keras);
    to train with such a loss, also override `gradient`.

    Args:
        name: name of the instance; defaults to the snake_case class name.
        reduction: `"sum_over_batch_size"` (weighted sum divided by the number of per-sample
            values; `"mean"` is the same), `"sum"`, `"mean_with_sample_weight"` (weighted sum
            divided by the sum of the weights), or `"none"`/`None` (the weighted per-sample array).
        dtype: dtype of the computation; `None` computes in the float dtype of `y_pred`.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name if name is not None else snake_case(type(self).__name__)
        if not isinstance(self.name, str):
            raise TypeError(f"{type(self).__name__}: argument `name` must be a string. "
                            f"Received: name={name!r}")
        self.reduction = validate.choice(reduction, "reduction", _REDUCTIONS, self)
        self.dtype = None if dtype is None else np.dtype(dtype).name

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"

    def _who(self):
        return f"Loss '{self.name}' ({type(self).__name__})"

    def call(self, y_true, y_pred):
        """Return the per-sample losses, shape `y_pred.shape[:-1]`."""
        raise NotImplementedError(f"{self._who()} must implement `call(y_true, y_pred)`.")

    # -- plumbing shared by every loss -------------------------------------------------------
    def _prepare(self, y_true, y_pred):
        p = np.asarray(y_pred)
        p = p.astype(_compute_dtype(p, self.dtype), copy=False)
        return _match_rank(np.asarray(y_true, dtype=p.dtype), p), p

    def _forward(self, t, p):
        return np.asarray(self.call(t, p), dtype=p.dtype)

    def _backward(self, t, p, g):
        raise NotImplementedError(
            f"{self._who()} has no gradient: override `gradient(y_true, y_pred, "
            f"sample_weight=None)` to train with it.")

    def _mask(self, t):
        """Per-sample validity mask (bool) or None; only `ignore_class` uses it."""
        return None

    def _values_shape(self, t, p):
        """Shape of the per-sample losses (subclasses know it without running forward)."""
        return self._forward(t, p).shape

    def _coefficients(self, shape, dt, t, sample_weight):
        """`c` with reduced loss = sum(c * values) (for "none": the array c * values)."""
        ndim, w = len(shape), None
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=dt)
            while w.ndim > ndim and w.shape[-1] == 1:
                w = w[..., 0]
            if w.ndim < ndim:
                w = w.reshape(w.shape + (1,) * (ndim - w.ndim))
            try:
                np.broadcast_shapes(w.shape, shape)
            except ValueError:
                raise ValueError(
                    f"{self._who()}: sample_weight of shape {np.shape(sample_weight)} does not "
                    f"broadcast to the per-sample loss shape {shape}. "
                    f"Received: sample_weight.shape={np.shape(sample_weight)}") from None
        mask = self._mask(t)
        if mask is not None:
            m = mask.astype(dt)
            if self.reduction in ("sum_over_batch_size", "mean"):
                valid = int(mask.sum())  # masked mean = sum over valid entries / their count
                m *= (mask.size / valid) if valid else 0.0
            w = m if w is None else w * m
        if self.reduction in (None, "none", "sum") or ndim == 0:
            return 1.0 if w is None else w
        if self.reduction == "mean_with_sample_weight" and w is not None:
            total = float(w.sum())
            return w * (1.0 / total) if total else w * 0.0
        scale = 1.0 / max(math.prod(shape), 1)
        return scale if w is None else w * scale

    def _grad_values(self, t, p, sample_weight):
        """d reduced loss / d per-sample loss, broadcast to the per-sample shape."""
        shape = self._values_shape(t, p)
        c = self._coefficients(shape, p.dtype, t, sample_weight)
        return np.broadcast_to(np.asarray(c, dtype=p.dtype), shape)

    # -- public API --------------------------------------------------------------------------
    def __call__(self, y_true, y_pred, sample_weight=None):
        """Return the reduced loss as a Python float (the weighted array for `"none"`)."""
        t, p = self._prepare(y_true, y_pred)
        values = self._forward(t, p)
        c = self._coefficients(values.shape, values.dtype, t, sample_weight)
        if self.reduction in (None, "none") or values.ndim == 0:
            out = values * c if not isinstance(c, float) else values
            return out if out.ndim else float(out)
        if isinstance(c, float):
            return float(values.sum()) * c
        return float(np.sum(values * c))

    def gradient(self, y_true, y_pred, sample_weight=None):
        """Return d `__call__` / d `y_pred`, same shape and dtype as `y_pred`.

        For reduction `"none"` it is the gradient of the sum of the weighted per-sample losses.
        """
        t, p = self._prepare(y_true, y_pred)
        g = self._grad_values(t, p, sample_weight)
        return self._backward(t, p, g).astype(_out_dtype(y_pred, p), copy=False)

    def logit_gradient(self, y_true, y_pred, activation_name, sample_weight=None):
        """d loss / d z where `y_pred = activation(z)`, or None when no fused form exists."""
        return None

    def check_targets(self, y_true, output_shape):
        """Validate and convert the whole label array once per `fit`.

        Args:
            y_true: labels for every sample.
            output_shape: model output shape with batch dim None, e.g. `(None, 10)`.

        Returns:
            The labels as a float array shaped like the model output.
        """
        y = np.asarray(y_true)
        out = tuple(output_shape)
        if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
            raise ValueError(f"{self._who()}: labels must be numeric. "
                             f"Received: y_true.dtype={y.dtype}")
        if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y)):
            raise ValueError(f"{self._who()}: labels contain NaN or inf values. "
                             f"Received: y_true.shape={y.shape}")
        units = out[-1] if out else None
        looks_sparse = y.ndim == len(out) - 1 or (y.ndim == len(out) and y.shape[-1] == 1)
        if units is not None and units > 1 and looks_sparse and _is_integral(y):
            raise ValueError(
                f"{self._who()}: labels of shape {y.shape} look like integer class labels but the "
                f"model has {units} output units; use loss='sparse_categorical_crossentropy' or "
                f"kerasnp.utils.to_categorical(y). Received: y_true.shape={y.shape}, "
                f"output_shape={out}")
        if len(out) >= 1 and y.ndim == len(out) - 1 and units == 1:
            y = y[..., None]
        elif y.ndim == len(out) + 1 and y.shape[-1] == 1:
            y = y[..., 0]
        _check_shape(self, y, y_true, out)
        return y.astype(self.dtype or config.floatx(), copy=False)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _out_dtype(y_pred, p):
    dt = getattr(y_pred, "dtype", None)
    return dt if dt is not None and np.issubdtype(dt, np.floating) else p.dtype


def _check_shape(loss, y, y_true, out):
    ok = y.ndim == len(out) and all(o is None or o == s for s, o in zip(y.shape[1:], out[1:]))
    if not ok:
        want = "(n" + "".join(f", {'?' if o is None else o}" for o in out[1:]) + ")"
        raise ValueError(f"{loss._who()}: label shape {np.shape(y_true)} is incompatible with the "
                         f"model output shape {out}; expected labels of shape {want}. "
                         f"Received: y_true.shape={np.shape(y_true)}, output_shape={out}")


def _expand(g, axis, ndim):
    """Put the reduced axis back into `g` so it broadcasts against `y_pred`."""
    return np.expand_dims(g, axis % ndim) if ndim else g


class _Builtin(Loss):
    """A loss written as `_forward` / `_backward` on prepared arrays, reducing over `axis`."""

    axis = -1

    def _values_shape(self, t, p):
        return p.shape[:self.axis % p.ndim] + p.shape[self.axis % p.ndim + 1:] if p.ndim else ()

    def call(self, y_true, y_pred):
        return self._forward(*self._prepare(y_true, y_pred))


# ---------------------------------------------------------------------------------- regression
@registry.register("MeanSquaredError", "mean_squared_error", "mse")
class MeanSquaredError(_Builtin):
    """`mean((y_pred - y_true)**2, axis=-1)`.

    Example:
        >>> MeanSquaredError()([[0., 1.]], [[1., 1.]])
        0.5
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        d = p - t
        return np.mean(d * d, axis=-1)

    def _backward(self, t, p, g):
        return (p - t) * (2.0 / p.shape[-1]) * g[..., None]  # d mean(d²) = 2d/D


@registry.register("MeanAbsoluteError", "mean_absolute_error", "mae")
class MeanAbsoluteError(_Builtin):
    """`mean(abs(y_pred - y_true), axis=-1)`."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        return np.mean(np.abs(p - t), axis=-1)

    def _backward(self, t, p, g):
        return np.sign(p - t) * (g[..., None] / p.shape[-1])


@registry.register("MeanAbsolutePercentageError", "mean_absolute_percentage_error", "mape")
class MeanAbsolutePercentageError(_Builtin):
    """`100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)`."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        return 100.0 * np.mean(np.abs(p - t) / np.maximum(np.abs(t), config.epsilon()), axis=-1)

    def _backward(self, t, p, g):
        den = np.maximum(np.abs(t), config.epsilon())
        return np.sign(p - t) / den * (g[..., None] * (100.0 / p.shape[-1]))


@registry.register("MeanSquaredLogarithmicError", "mean_squared_logarithmic_error", "msle")
class MeanSquaredLogarithmicError(_Builtin):
    """`mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2, axis=-1)`."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        eps = config.epsilon()
        d = np.log1p(np.maximum(p, eps)) - np.log1p(np.maximum(t, eps))
        return np.mean(d * d, axis=-1)

    def _backward(self, t, p, g):
        eps = config.epsilon()
        pc = np.maximum(p, eps)
        d = np.log1p(pc) - np.log1p(np.maximum(t, eps))
        return (2.0 / p.shape[-1]) * d / (pc + 1.0) * (p > eps) * g[..., None]


@registry.register("Huber", "huber")
class Huber(_Builtin):
    """`mean(0.5 e² if |e| <= delta else delta |e| - 0.5 delta², axis=-1)`, `e = y_pred - y_true`.

    Args:
        delta: positive float, where the quadratic part turns linear.
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.delta = validate.number(delta, "delta", self, low=0.0, low_open=True)

    def _forward(self, t, p):
        e = np.abs(p - t)
        dl = self.delta
        return np.mean(np.where(e <= dl, 0.5 * e * e, dl * e - 0.5 * dl * dl), axis=-1)

    def _backward(self, t, p, g):
        return np.clip(p - t, -self.delta, self.delta) * (g[..., None] / p.shape[-1])

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


@registry.register("LogCosh", "log_cosh", "logcosh")
class LogCosh(_Builtin):
    """`mean(log(cosh(y_pred - y_true)), axis=-1)`, computed as `x + softplus(-2x) - log 2`."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        x = p - t
        return np.mean(x + np.logaddexp(0.0, -2.0 * x) - _LOG2, axis=-1)

    def _backward(self, t, p, g):
        return np.tanh(p - t) * (g[..., None] / p.shape[-1])  # d log cosh x = tanh x


# ------------------------------------------------------------------------------ probabilistic
@registry.register("BinaryCrossentropy", "binary_crossentropy")
class BinaryCrossentropy(_Builtin):
    """`mean(-(t log p + (1 - t) log(1 - p)), axis)` with `p` clipped to `[eps, 1 - eps]`.

    Args:
        from_logits: whether `y_pred` holds logits (computed stably in softplus form).
        label_smoothing: float in [0, 1]; labels become `t (1 - s) + 0.5 s`.
        axis: the axis the mean runs over.

    Example:
        >>> round(BinaryCrossentropy()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]), 3)
        0.815
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = validate.boolean(from_logits, "from_logits", self)
        self.label_smoothing = validate.number(label_smoothing, "label_smoothing", self, 0.0, 1.0)
        self.axis = _axis(axis, self)

    def _smooth(self, t):
        s = self.label_smoothing
        return t * (1.0 - s) + 0.5 * s if s else t

    def _forward(self, t, p):
        t = self._smooth(t)
        if self.from_logits:  # max(z, 0) - z t + log(1 + exp(-|z|))
            per = np.maximum(p, 0.0) - p * t + np.log1p(np.exp(-np.abs(p)))
        else:
            eps = config.epsilon()
            pc = np.clip(p, eps, 1.0 - eps)
            per = -(t * np.log(pc) + (1.0 - t) * np.log(1.0 - pc))
        return np.mean(per, axis=self.axis)

    def _backward(self, t, p, g):
        t = self._smooth(t)
        g = _expand(g, self.axis, p.ndim) / p.shape[self.axis]
        if self.from_logits:
            return (_sigmoid(p) - t) * g  # d/dz = sigmoid(z) - t
        eps = config.epsilon()
        pc = np.clip(p, eps, 1.0 - eps)
        return (pc - t) / (pc * (1.0 - pc)) * _inside(p, eps, 1.0 - eps) * g

    def logit_gradient(self, y_true, y_pred, activation_name, sample_weight=None):
        """`(sigmoid(z) - t) / N` when `y_pred` is the output of a sigmoid."""
        if self.from_logits or _activation_name(activation_name) != "sigmoid":
            return None
        t, p = self._prepare(y_true, y_pred)
        g = self._grad_values(t, p, sample_weight)
        g = _expand(g, self.axis, p.ndim) / p.shape[self.axis]
        return ((p - self._smooth(t)) * g).astype(_out_dtype(y_pred, p), copy=False)

    def check_targets(self, y_true, output_shape):
        y = super().check_targets(y_true, output_shape)
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError(
                f"{self._who()} expects labels in [0, 1] (0/1 classes or probabilities); found "
                f"min={y.min():g}, max={y.max():g}. For {{-1, 1}} labels use 'hinge'; for "
                f"class indices use 'sparse_categorical_crossentropy'. "
                f"Received: y_true.shape={np.shape(y_true)}")
        return y

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


def _axis(axis, owner):
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{validate.describe(owner)}: argument `axis` must be an integer. "
                        f"Received: axis={axis!r}")
    return int(axis)


@registry.register("CategoricalCrossentropy", "categorical_crossentropy")
class CategoricalCrossentropy(_Builtin):
    """`-sum(t * log(p), axis)` for one-hot (or probability) labels.

    Without logits, `y_pred` is first divided by its sum over `axis`, then clipped to
    `[eps, 1 - eps]`; with logits, `log_softmax` is used.

    Args:
        from_logits: whether `y_pred` holds logits.
        label_smoothing: float in [0, 1]; labels become `t (1 - s) + s / classes`.
        axis: the class axis.

    Example:
        >>> cce = CategoricalCrossentropy(reduction="none")
        >>> cce([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]).round(4)
        array([0.0513, 2.3026])
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = validate.boolean(from_logits, "from_logits", self)
        self.label_smoothing = validate.number(label_smoothing, "label_smoothing", self, 0.0, 1.0)
        self.axis = _axis(axis, self)

    def _smooth(self, t):
        s = self.label_smoothing
        return t * (1.0 - s) + s / t.shape[self.axis] if s else t

    def _forward(self, t, p):
        t, ax = self._smooth(t), self.axis
        if self.from_logits:  # -Σ t (z - lse(z))
            return -np.sum(t * (p - _logsumexp(p, ax)), axis=ax)
        eps = config.epsilon()
        q = np.clip(p / p.sum(axis=ax, keepdims=True), eps, 1.0 - eps)
        return -np.sum(t * np.log(q), axis=ax)

    def _backward(self, t, p, g):
        t, ax = self._smooth(t), self.axis
        g = _expand(g, ax, p.ndim)
        if self.from_logits:  # d/dz = softmax(z) Σt - t
            return (_softmax(p, ax) * t.sum(axis=ax, keepdims=True) - t) * g
        eps = config.epsilon()
        s = p.sum(axis=ax, keepdims=True)
        q = p / s
        a = -t / np.clip(q, eps, 1.0 - eps) * _inside(q, eps, 1.0 - eps)  # dL/dq
        return (a - np.sum(a * q, axis=ax, keepdims=True)) / s * g  # through q = p / Σp

    def logit_gradient(self, y_true, y_pred, activation_name, sample_weight=None):
        """`(p Σt - t) / N` (= `(p - t) / N` for labels summing to one) after a softmax."""
        if (self.from_logits or _activation_name(activation_name) != "softmax"
                or self.axis % max(np.ndim(y_pred), 1) != np.ndim(y_pred) - 1):
            return None
        t, p = self._prepare(y_true, y_pred)
        g = self._grad_values(t, p, sample_weight)[..., None]
        t = self._smooth(t)
        return ((p * t.sum(axis=-1, keepdims=True) - t) * g).astype(_out_dtype(y_pred, p),
                                                                    copy=False)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


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
            per = (_logsumexp(p, -1) - np.take_along_axis(p, idx, -1))[..., 0]
        else:
            eps = config.epsilon()
            q = np.take_along_axis(p, idx, -1) / p.sum(axis=-1, keepdims=True)
            per = -np.log(np.clip(q, eps, 1.0 - eps))[..., 0]
        mask = self._mask(t)
        return per if mask is None else np.where(mask, per, per.dtype.type(0))

    def _backward(self, t, p, g):
        idx, g = self._labels(t), g[..., None]
        if self.from_logits:  # d/dz = softmax(z) - onehot(y)
            dz = _softmax(p, -1)
            np.put_along_axis(dz, idx, np.take_along_axis(dz, idx, -1) - 1.0, -1)
            return dz * g
        eps = config.epsilon()
        s = p.sum(axis=-1, keepdims=True)
        qy = np.take_along_axis(p, idx, -1) / s
        ay = -1.0 / np.clip(qy, eps, 1.0 - eps) * _inside(qy, eps, 1.0 - eps) * g  # dL/dq_y
        dp = np.broadcast_to(-ay * qy / s, p.shape).copy()  # through q = p / Σp
        np.put_along_axis(dp, idx, np.take_along_axis(dp, idx, -1) + ay / s, -1)
        return dp

    def logit_gradient(self, y_true, y_pred, activation_name, sample_weight=None):
        """`(p - onehot(y)) / N` when `y_pred` is the output of a softmax."""
        if self.from_logits or _activation_name(activation_name) != "softmax":
            return None
        t, p = self._prepare(y_true, y_pred)
        g = self._grad_values(t, p, sample_weight)[..., None]
        idx = self._labels(t)
        dz = p * g
        np.put_along_axis(dz, idx, np.take_along_axis(dz, idx, -1) - g, -1)
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


@registry.register("KLDivergence", "kl_divergence", "kld", "kullback_leibler_divergence")
class KLDivergence(_Builtin):
    """`sum(t * log(t / p), axis=-1)` with both clipped to `[eps, 1]`."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        eps = config.epsilon()
        t = np.clip(t, eps, 1.0)
        return np.sum(t * np.log(t / np.clip(p, eps, 1.0)), axis=-1)

    def _backward(self, t, p, g):
        eps = config.epsilon()
        return -np.clip(t, eps, 1.0) / np.clip(p, eps, 1.0) * _inside(p, eps, 1.0) * g[..., None]


@registry.register("Poisson", "poisson")
class Poisson(_Builtin):
    """`mean(y_pred - y_true * log(y_pred + eps), axis=-1)`."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        return np.mean(p - t * np.log(p + config.epsilon()), axis=-1)

    def _backward(self, t, p, g):
        return (1.0 - t / (p + config.epsilon())) * (g[..., None] / p.shape[-1])


# ------------------------------------------------------------------------------ margin, angle
def _hinge_labels(t):
    """Keras converts {0, 1} labels to {-1, 1}; any other labels pass unchanged."""
    return 2.0 * t - 1.0 if np.all((t == 0) | (t == 1)) else t


@registry.register("Hinge", "hinge")
class Hinge(_Builtin):
    """`mean(max(1 - t * y_pred, 0), axis=-1)`; labels in {-1, 1} ({0, 1} are converted)."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        return np.mean(np.maximum(1.0 - _hinge_labels(t) * p, 0.0), axis=-1)

    def _backward(self, t, p, g):
        t = _hinge_labels(t)
        return -t * (1.0 - t * p > 0) * (g[..., None] / p.shape[-1])


@registry.register("SquaredHinge", "squared_hinge")
class SquaredHinge(_Builtin):
    """`mean(max(1 - t * y_pred, 0)**2, axis=-1)`; labels in {-1, 1} ({0, 1} are converted)."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        m = np.maximum(1.0 - _hinge_labels(t) * p, 0.0)
        return np.mean(m * m, axis=-1)

    def _backward(self, t, p, g):
        t = _hinge_labels(t)
        return -2.0 * np.maximum(1.0 - t * p, 0.0) * t * (g[..., None] / p.shape[-1])


@registry.register("CategoricalHinge", "categorical_hinge")
class CategoricalHinge(_Builtin):
    """`max(neg - pos + 1, 0)` with `pos = sum(t * y_pred)`, `neg = max((1 - t) * y_pred)`."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _forward(self, t, p):
        pos = np.sum(t * p, axis=-1)
        neg = np.max((1.0 - t) * p, axis=-1)
        return np.maximum(neg - pos + 1.0, 0.0)

    def _backward(self, t, p, g):
        neg_all = (1.0 - t) * p
        j = neg_all.argmax(axis=-1)[..., None]
        active = (np.take_along_axis(neg_all, j, -1)[..., 0] - np.sum(t * p, -1) + 1.0 > 0) * g
        dp = -t * active[..., None]  # d(-pos)
        np.put_along_axis(dp, j, np.take_along_axis(dp, j, -1)  # d(neg) at the arg-max
                          + np.take_along_axis(1.0 - t, j, -1) * active[..., None], -1)
        return dp


def _l2_normalize(x, axis):
    """`x / sqrt(max(sum(x²), eps))` and the inverse norm used."""
    inv = 1.0 / np.sqrt(np.maximum(np.sum(x * x, axis=axis, keepdims=True), config.epsilon()))
    return x * inv, inv


@registry.register("CosineSimilarity", "cosine_similarity")
class CosineSimilarity(_Builtin):
    """`-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`: -1 when aligned.

    Args:
        axis: the feature axis the similarity runs over.
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.axis = _axis(axis, self)

    def _forward(self, t, p):
        return -np.sum(_l2_normalize(t, self.axis)[0] * _l2_normalize(p, self.axis)[0],
                       axis=self.axis)

    def _backward(self, t, p, g):
        ax, eps = self.axis, config.epsilon()
        u = _l2_normalize(t, ax)[0]
        v, inv = _l2_normalize(p, ax)
        # d(-u·v)/dp = -(u - v (u·v)) / |p| above the eps floor, -u / sqrt(eps) below it
        above = np.sum(p * p, axis=ax, keepdims=True) > eps
        return -(u - v * np.sum(u * v, axis=ax, keepdims=True) * above) * inv \
            * _expand(g, ax, p.ndim)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


# ------------------------------------------------------------------------- user functions
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


# ---------------------------------------------------------------- Keras's function interface
def mean_squared_error(y_true, y_pred):
    """Per-sample mean squared error, shape `y_pred.shape[:-1]`."""
    return MeanSquaredError().call(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """Per-sample mean absolute error."""
    return MeanAbsoluteError().call(y_true, y_pred)


def mean_absolute_percentage_error(y_true, y_pred):
    """Per-sample mean absolute percentage error."""
    return MeanAbsolutePercentageError().call(y_true, y_pred)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Per-sample mean squared logarithmic error."""
    return MeanSquaredLogarithmicError().call(y_true, y_pred)


def huber(y_true, y_pred, delta=1.0):
    """Per-sample Huber loss."""
    return Huber(delta=delta).call(y_true, y_pred)


def log_cosh(y_true, y_pred):
    """Per-sample log-cosh loss."""
    return LogCosh().call(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample binary cross-entropy (mean over `axis`)."""
    return BinaryCrossentropy(from_logits, label_smoothing, axis).call(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample categorical cross-entropy over `axis`."""
    return CategoricalCrossentropy(from_logits, label_smoothing, axis).call(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Per-sample sparse categorical cross-entropy (ignored labels give 0)."""
    y_pred = np.moveaxis(np.asarray(y_pred), axis, -1)
    return SparseCategoricalCrossentropy(from_logits, ignore_class).call(y_true, y_pred)


def kl_divergence(y_true, y_pred):
    """Per-sample Kullback-Leibler divergence."""
    return KLDivergence().call(y_true, y_pred)


def poisson(y_true, y_pred):
    """Per-sample Poisson loss."""
    return Poisson().call(y_true, y_pred)


def hinge(y_true, y_pred):
    """Per-sample hinge loss."""
    return Hinge().call(y_true, y_pred)


def squared_hinge(y_true, y_pred):
    """Per-sample squared hinge loss."""
    return SquaredHinge().call(y_true, y_pred)


def categorical_hinge(y_true, y_pred):
    """Per-sample categorical hinge loss."""
    return CategoricalHinge().call(y_true, y_pred)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Per-sample negative cosine similarity."""
    return CosineSimilarity(axis=axis).call(y_true, y_pred)


mse, mae, mape, msle = (mean_squared_error, mean_absolute_error,
                        mean_absolute_percentage_error, mean_squared_logarithmic_error)
logcosh = log_cosh
kld = kullback_leibler_divergence = kl_divergence

_FUNCTIONS = {fn: registry.lookup(fn.__name__) for fn in (
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, huber, log_cosh, binary_crossentropy,
    categorical_crossentropy, sparse_categorical_crossentropy, kl_divergence, poisson, hinge,
    squared_hinge, categorical_hinge, cosine_similarity)}


# ----------------------------------------------------------------------------- resolution
def get(identifier):
    """Resolve a loss identifier to a `Loss` instance.

    Args:
        identifier: None, a name (`"mse"`, `"CategoricalCrossentropy"`), a `Loss` instance or
            class, a config dict `{"class_name": ..., "config": {...}}`, or a callable
            `f(y_true, y_pred)` returning per-sample losses (wrapped in `LossFunctionWrapper`).

    Example:
        >>> get("categorical_crossentropy").name
        'categorical_crossentropy'
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, (str, dict)):
        return resolve(identifier, registry)
    if callable(identifier):
        cls = _FUNCTIONS.get(identifier)
        return cls() if cls is not None else LossFunctionWrapper(identifier)
    raise TypeError("Could not interpret loss identifier: expected None, a name, a Loss, a config "
                    f"dict or a callable. Received: identifier={identifier!r}")


def serialize(loss):
    """`{"class_name": ..., "config": ...}` for a built-in loss (the inverse of `deserialize`)."""
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config):
    """Rebuild a loss from `serialize`'s output."""
    return get(config)
