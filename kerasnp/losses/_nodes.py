"""How a loss meets the gradient tape.

Two ways, chosen per class (`Loss._hand_written`):
- Losses that differentiate themselves (every built-in, and user classes that override
  `gradient` or `_backward`) compute with NumPy and record ONE tape node whose VJP is their
  hand-written gradient. When `y_pred` is the output of a softmax/sigmoid that remembered its
  logits (`Tensor._keras_logits`, set by `ops.nn` activations), the node also reaches the logits
  and its VJP takes the stable fused gradient `logit_gradient` (`p - t`) straight to them,
  never dividing by a probability; the activation's own node is then skipped.
- Losses written with ops (a `Loss` subclass's `call`, a plain function) are simply called;
  sample weights and the reduction are applied with ops, so the tape differentiates everything.

Outside a tape both return what losses always returned: a Python float (an array for
reduction `"none"`). Inside a tape, with `y_pred` tracked, they return a `Tensor`.
"""
import numpy as np

from .. import config
from ..autodiff.tape import GradientTape, Tensor, is_tracked, record, recording
from ..variables import Variable


def loss_node(loss, y_true, y_pred, sample_weight=None):
    """The reduced loss of one output, differentiable on the active tape (the engine's entry).

    Args:
        loss: a `Loss`, or anything `kerasnp.losses.get` accepts (a name, a function of ops).
        y_true: the labels (arrays; they get no gradient from built-in losses).
        y_pred: the prediction (usually a `Tensor` produced under the tape).
        sample_weight: optional per-sample (or per-element) weights.

    Returns:
        A 0-d `Tensor` inside a tape (one node for a built-in loss, fused with the final
        softmax/sigmoid when possible), else a Python float; for reduction `"none"` the
        weighted per-sample values.
    """
    if not isinstance(loss, _loss_class()):
        from . import get
        loss = get(loss)
    return loss(y_true, y_pred, sample_weight=sample_weight)


_LOSS = []


def _loss_class():
    """`Loss` (looked up once: `base` imports this module)."""
    if not _LOSS:
        from .base import Loss
        _LOSS.append(Loss)
    return _LOSS[0]


def _finish(out):
    """A Tensor stays a Tensor; otherwise a Python float for a scalar, the array otherwise."""
    if type(out) is Tensor:
        return out
    out = np.asarray(out)
    return out if out.ndim else float(out)


def _out_dtype(y_pred, p):
    dt = getattr(y_pred, "dtype", None)
    if dt is None:
        return p.dtype
    return dt if np.dtype(dt).kind == "f" else p.dtype


def _per_sample(loss, ndim):
    return loss.reduction in (None, "none") or ndim == 0


# ----------------------------------------------------------------- hand-written: one node
def builtin_call(loss, y_true, y_pred, sample_weight):
    """`loss(y_true, y_pred, sample_weight)` for a loss with its own gradient: NumPy + one node."""
    t, p = loss._prepare(y_true, y_pred)
    values = loss._forward(t, p)
    shape, dt = values.shape, values.dtype
    c = loss._coefficients(shape, dt, t, sample_weight)      # reduced = Σ c·values
    per = _per_sample(loss, values.ndim)
    if per:
        out = values if isinstance(c, float) else values * c
    else:
        # (ufunc reduce directly: ndarray.sum goes through a Python-level wrapper)
        out = _add_all(values) * c if isinstance(c, float) else _add_all(values * c)
    out = np.asarray(out, dtype=dt)
    if not recording():
        return _finish(out)
    own_gradient = type(loss).gradient is not _loss_gradient()

    def dp(g):
        if own_gradient:         # a user class's gradient(): d reduced / d y_pred, times g
            d = np.asarray(loss.gradient(y_true, p, sample_weight))
            return d * np.reshape(g, np.shape(g) + (1,) * (d.ndim - np.ndim(g)))
        big_g = np.broadcast_to(np.asarray(c, dtype=dt) * g, shape)   # d out / d values
        return loss._backward(t, p, big_g).astype(_out_dtype(y_pred, p), copy=False)

    logits = y_pred._keras_logits if type(y_pred) is Tensor and not per else None
    if logits is not None and logits[0] == "softmax" and \
            getattr(logits, "axis", -1) % max(p.ndim, 1) != max(p.ndim, 1) - 1:
        logits = None                    # a softmax over another axis: no fused form
    if logits is None:
        return _finish(record(out, dp, y_pred))
    name, z = logits

    def fused(g):
        dz = loss.logit_gradient(y_true, p, name, sample_weight)
        if dz is None:                      # no fused form: through the activation's node
            return None, dp(g)
        return (dz if g == 1 else dz * g), None    # dL/dz = (p - t)·c, the activation skipped
    return _finish(record(out, fused, z, y_pred))


def _add_all(a):
    """Sum of every element of an array (a 0-d result)."""
    return np.add.reduce(a.reshape(-1)) if a.ndim else a


_LOSS_GRADIENT = []


def _loss_gradient():
    """`Loss.gradient` (looked up once: `base` imports this module)."""
    if not _LOSS_GRADIENT:
        from .base import Loss
        _LOSS_GRADIENT.append(Loss.gradient)
    return _LOSS_GRADIENT[0]


# ------------------------------------------------------------------ written with ops
def _float_dtype(dtype, given):
    if given is not None:
        return np.dtype(given)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(config.floatx())


def _prediction(y_pred, dtype):
    """`y_pred` in the loss's float dtype; Tensors and Variables stay on the tape."""
    from .. import ops
    if type(y_pred) is Tensor or isinstance(y_pred, Variable):
        want = _float_dtype(y_pred.dtype, dtype)
        return y_pred if y_pred.dtype == want else ops.cast(y_pred, want)
    a = np.asarray(y_pred)
    return a.astype(_float_dtype(a.dtype, dtype), copy=False)


def _labels(y_true, dt):
    """Labels in the loss's dtype (as Keras converts them); tracked labels keep their node."""
    from .. import ops
    if type(y_true) is Tensor or isinstance(y_true, Variable):
        return y_true if y_true.dtype == dt else ops.cast(y_true, dt)
    return np.asarray(y_true, dtype=dt)


def not_differentiable(loss):
    """The error for a loss whose `call` left the tape (NumPy functions instead of ops)."""
    return NotImplementedError(
        f"{loss._who()}: call() returned values that do not depend on y_pred on the gradient "
        f"tape, so this loss has no gradient. Write call() with kerasnp.ops (ops.mean, "
        f"ops.square, or operators on y_pred) instead of NumPy functions, or override "
        f"gradient(y_true, y_pred, sample_weight=None). Received: NumPy values for a "
        f"tracked y_pred")


def ops_call(loss, y_true, y_pred, sample_weight):
    """`loss(y_true, y_pred, sample_weight)` for a loss written with ops: weights and reduction
    applied with ops, so the tape differentiates the user's `call` and all that follows."""
    from .. import ops
    p = _prediction(y_pred, loss.dtype)
    dt = np.dtype(p.dtype)
    t = _labels(y_true, dt)
    try:
        values = loss.call(t, p)
    except TypeError as err:    # a NumPy ufunc met a Tensor: the call is not written with ops
        if "does not support ufuncs" in str(err):
            raise not_differentiable(loss) from err
        raise
    if not (type(values) is Tensor or isinstance(values, (np.ndarray, Variable))):
        values = np.asarray(values, dtype=dt)
    if values.dtype != dt:
        values = ops.cast(values, dt)
    if type(values) is not Tensor and is_tracked(y_pred):
        raise not_differentiable(loss)
    c = loss._coefficients(values.shape, dt, t, sample_weight)   # reduced = Σ c·values
    if _per_sample(loss, values.ndim):
        out = values if isinstance(c, float) else ops.multiply(values, c)
    elif isinstance(c, float):
        out = ops.multiply(ops.sum(values), c)
    else:
        out = ops.sum(ops.multiply(values, c))
    return _finish(out)


def tape_gradient(loss, y_true, y_pred, sample_weight):
    """d `loss(y_true, y_pred, sample_weight)` / d y_pred for a loss written with ops, taken
    on a private tape (what `Loss.gradient` returns for such a loss)."""
    p = np.array(y_pred, dtype=_float_dtype(np.asarray(y_pred).dtype, loss.dtype))
    with GradientTape() as tape:
        tape.watch(p)
        pt = record(p, lambda g: g, p)      # a Tensor, so operators on y_pred record too
        out = ops_call(loss, y_true, pt, sample_weight)
    if type(out) is not Tensor:
        raise not_differentiable(loss)
    return tape.gradient(out, p).astype(_out_dtype(y_pred, p), copy=False)
