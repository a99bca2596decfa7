"""The `Loss` base class: reductions, sample weights and target checks, shared by every loss.

Every built-in loss in this package subclasses `_Builtin`, a `Loss` written as `_forward` /
`_backward` on prepared arrays. `registry` holds them all by name; the family modules fill it.
"""
import math
import numbers

import numpy as np

from .. import config
from .. import _validate as validate
from .._registry import Registry, snake_case
from ..autodiff.tape import record
from . import _nodes

registry = Registry("loss")
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)
_HAND_WRITTEN = {}   # class -> whether it differentiates itself (see Loss._hand_written)


def _compute_dtype(p, dtype):
    if dtype is not None:
        return np.dtype(dtype)
    return p.dtype if p.dtype.kind == "f" else np.dtype(config.floatx())


def _match_rank(t, p):
    """Keras's rule: labels `(n,)` meet predictions `(n, 1)` (and the reverse) by a trailing 1."""
    if t.ndim == p.ndim - 1 and p.shape[-1] == 1:
        return t[..., None]
    if t.ndim == p.ndim + 1 and t.shape[-1] == 1:
        return t[..., 0]
    return t


def _is_integral(y):
    if np.issubdtype(y.dtype, np.integer) or y.dtype == bool:
        return True
    return np.issubdtype(y.dtype, np.floating) and bool(np.all(np.mod(y, 1) == 0))


class Loss:
    """Base class of every loss.

    Subclass it and implement `call(y_true, y_pred)` with `kerasnp.ops`, returning one value per
    sample (as in Keras): `__call__` applies sample weights and the reduction with ops, so the
    gradient tape differentiates the loss. (A class may instead override
    `gradient(y_true, y_pred, sample_weight=None)` to give its own derivative.)

    Example:
        >>> from kerasnp import ops
        >>> class MeanQuartic(Loss):
        ...     def call(self, y_true, y_pred):
        ...         d = ops.square(y_pred - y_true)
        ...         return ops.mean(d * d, axis=-1)

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
        """Return the reduced loss, with sample weights applied.

        Outside a gradient tape: a Python float (for reduction `"none"`, the weighted
        per-sample array). Inside a tape, when `y_pred` is tracked: a `Tensor` on the tape. A
        loss written with ops (`call`) is differentiated op by op; a built-in loss records one
        node with its hand-written gradient (fused with a final softmax/sigmoid when `y_pred`
        comes from one).
        """
        if self._hand_written():
            return _nodes.builtin_call(self, y_true, y_pred, sample_weight)
        return _nodes.ops_call(self, y_true, y_pred, sample_weight)

    def gradient(self, y_true, y_pred, sample_weight=None):
        """Return d `__call__` / d `y_pred`, same shape and dtype as `y_pred`.

        For reduction `"none"` it is the gradient of the sum of the weighted per-sample losses.
        A loss written with ops is differentiated on a private gradient tape.
        """
        if not self._hand_written():
            return _nodes.tape_gradient(self, y_true, y_pred, sample_weight)
        t, p = self._prepare(y_true, y_pred)
        g = self._grad_values(t, p, sample_weight)
        return self._backward(t, p, g).astype(_out_dtype(y_pred, p), copy=False)

    def _hand_written(self):
        """Whether this loss differentiates itself (`_backward` or `gradient` defined at or
        below the class that defines `call`) instead of being differentiated by the tape."""
        cls = type(self)
        found = _HAND_WRITTEN.get(cls)
        if found is None:
            mro = cls.__mro__

            def depth(attr):
                return next(i for i, k in enumerate(mro) if attr in k.__dict__)
            call = depth("call")
            found = _HAND_WRITTEN[cls] = any(
                mro[depth(a)] is not Loss and depth(a) <= call for a in ("_backward", "gradient"))
        return found

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
    if dt is None:
        return p.dtype
    return dt if np.dtype(dt).kind == "f" else p.dtype


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


def _axis(axis, owner):
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{validate.describe(owner)}: argument `axis` must be an integer. "
                        f"Received: axis={axis!r}")
    return int(axis)


class _Builtin(Loss):
    """A loss written as `_forward` / `_backward` on prepared arrays, reducing over `axis`."""

    axis = -1

    def _values_shape(self, t, p):
        return p.shape[:self.axis % p.ndim] + p.shape[self.axis % p.ndim + 1:] if p.ndim else ()

    def call(self, y_true, y_pred):
        """Per-sample losses; on a tape, one node whose VJP is the hand-written `_backward`."""
        t, p = self._prepare(y_true, y_pred)
        values = self._forward(t, p)

        def vjp(g):                                   # d Σ g·values / d y_pred
            mask = self._mask(t)
            g = np.broadcast_to(g if mask is None else g * mask, values.shape)
            return self._backward(t, p, g).astype(_out_dtype(y_pred, p), copy=False)
        return record(values, vjp, y_pred)
