"""Cross-entropies of `ops.nn` (Keras 3 names and signatures): per-sample values, no reduction.

Each is one tape node with a stable VJP: from logits the gradient is `p - t` (times the upstream
gradient), computed without dividing by a probability. From probabilities they follow Keras
(normalise along the class axis, clip to `[ε, 1-ε]`, log); the clip's gradient is zero where it
binds, as in Keras. A probability output of this package's `ops.nn.softmax` (same axis) or of
any sigmoid remembers its logits, and then the logits form is used, as Keras does for TensorFlow.
"""
import numpy as np

from .. import config
from ._dispatch import Tensor, op, value
from ._fused import Logits
from ._helpers import axes as _axes, need, record


def _from_logits(output, name, axis=None):
    """The logits behind `output` when it is a `name` activation over `axis`, else None."""
    lg = output._keras_logits if type(output) is Tensor else None
    if lg is None or lg[0] != name:
        return None
    if name == "softmax" and not (isinstance(lg, Logits) and _same_axis(lg.axis, axis,
                                                                       np.ndim(lg[1]))):
        return None
    return lg[1]


def _same_axis(a, b, ndim):
    return (a % ndim if ndim else 0) == (b % ndim if ndim else 0)


def _log_softmax(z, axis):
    z = z - np.max(z, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def _check_same(t, o, fn):
    if np.shape(t) != np.shape(o):
        raise ValueError(f"{fn}: target and output must have the same shape. "
                         f"Received: target.shape={np.shape(t)}, output.shape={np.shape(o)}")


@op
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """`-Σ target·log(output)` along `axis`, per sample.

    Args:
        target: class probabilities (one-hot or soft), same shape as `output`.
        output: probabilities, or logits with `from_logits=True`.
        from_logits: whether `output` is unnormalised logits.
        axis: the class axis.
    Returns:
        The per-sample cross-entropy: `output`'s shape without `axis`.
    """
    t, o = np.asarray(value(target)), np.asarray(value(output))
    _check_same(t, o, "categorical_crossentropy")
    ax = _axes(axis, o.ndim)[0]
    if not from_logits:
        z = _from_logits(output, "softmax", ax)
        if z is not None:
            output, o, from_logits = z, np.asarray(value(z)), True
    nt, no = need(target, t), need(output, o)
    if from_logits:
        logp = _log_softmax(o, ax)
        y = -np.sum(t * logp, axis=ax)
        if not (nt or no):
            return y

        def vjp(dy):
            g = np.expand_dims(dy, ax)
            do = g * (np.exp(logp) * np.sum(t, axis=ax, keepdims=True) - t) if no else None
            return (-g * logp if nt else None), do            # dz = (p·Σt - t)·dy
        return record(y, vjp, target, output)
    eps = config.epsilon()
    s = np.sum(o, axis=ax, keepdims=True)
    q = o / s
    lq = np.log(np.clip(q, eps, 1 - eps))
    y = -np.sum(t * lq, axis=ax)
    if not (nt or no):
        return y

    def vjp_p(dy):
        g = np.expand_dims(dy, ax)
        do = None
        if no:
            dq = -g * t / np.exp(lq) * ((q >= eps) & (q <= 1 - eps))   # d(-t·log q)
            do = (dq - np.sum(dq * q, axis=ax, keepdims=True)) / s   # through q = o / Σo
        return (-g * lq if nt else None), do
    return record(y, vjp_p, target, output)


@op
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """`-log(output[target])` along the class `axis`, per sample.

    Args:
        target: integer class indices, `output`'s shape without `axis` (a trailing axis of
            size 1 is accepted).
        output: probabilities, or logits with `from_logits=True`.
        from_logits: whether `output` is unnormalised logits.
        axis: the class axis.
    """
    t, o = np.asarray(value(target)), np.asarray(value(output))
    ax = _axes(axis, o.ndim)[0]
    if t.ndim == o.ndim and t.shape[ax] == 1:
        t = np.squeeze(t, axis=ax)
    rest = o.shape[:ax] + o.shape[ax + 1:]
    if t.shape != rest:
        raise ValueError("sparse_categorical_crossentropy: target must have output's shape "
                         f"without the class axis {axis}, i.e. {rest}. Received: "
                         f"target.shape={np.shape(value(target))}, output.shape={o.shape}")
    n = o.shape[ax]
    idx = t.astype(np.int64) if t.dtype.kind != "i" else t
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"sparse_categorical_crossentropy: class indices must be in [0, {n}). "
                         f"Received: target values from {idx.min()} to {idx.max()}")
    idx = np.expand_dims(idx, ax)
    if not from_logits:
        z = _from_logits(output, "softmax", ax)
        if z is not None:
            output, o, from_logits = z, np.asarray(value(z)), True
    no = need(output, o)
    if from_logits:
        logp = _log_softmax(o, ax)
        y = -np.squeeze(np.take_along_axis(logp, idx, axis=ax), axis=ax)
        if not no:
            return y

        def vjp(dy):                                             # dz = (p - onehot)·dy
            g = np.expand_dims(dy, ax)
            d = np.exp(logp) * g
            np.put_along_axis(d, idx, np.take_along_axis(d, idx, axis=ax) - g, axis=ax)
            return d
        return record(y, vjp, output)
    eps = config.epsilon()
    s = np.sum(o, axis=ax, keepdims=True)
    qt = np.take_along_axis(o, idx, axis=ax) / s
    qc = np.clip(qt, eps, 1 - eps)
    y = -np.squeeze(np.log(qc), axis=ax)
    if not no:
        return y

    def vjp_p(dy):           # only q_t has a gradient: dq_t = -dy/q_t; through q = o / Σo
        dqt = -np.expand_dims(dy, ax) / qc * ((qt >= eps) & (qt <= 1 - eps))
        d = np.broadcast_to(-dqt * qt / s, o.shape).copy()
        np.put_along_axis(d, idx, np.take_along_axis(d, idx, axis=ax) + dqt / s, axis=ax)
        return d
    return record(y, vjp_p, output)


@op
def binary_crossentropy(target, output, from_logits=False):
    """`-(target·log(output) + (1-target)·log(1-output))`, element-wise (no reduction).

    Args:
        target: probabilities of the positive class, same shape as `output`.
        output: probabilities, or logits with `from_logits=True`.
        from_logits: whether `output` is a logit (computed stably, without a sigmoid).
    """
    t, o = np.asarray(value(target)), np.asarray(value(output))
    _check_same(t, o, "binary_crossentropy")
    if not from_logits:
        z = _from_logits(output, "sigmoid")
        if z is not None:
            output, o, from_logits = z, np.asarray(value(z)), True
    nt, no = need(target, t), need(output, o)
    if from_logits:         # max(z, 0) - z·t + log(1 + e^-|z|)
        y = np.maximum(o, 0) - o * t + np.log1p(np.exp(-np.abs(o)))
        if not (nt or no):
            return y

        def vjp(dy):        # dz = (σ(z) - t)·dy
            e = np.exp(-np.abs(o))
            sig = np.where(o >= 0, 1, e) / (1 + e)
            return (-dy * o if nt else None), (dy * (sig - t) if no else None)
        return record(y, vjp, target, output)
    eps = config.epsilon()
    oc = np.clip(o, eps, 1 - eps)
    lp, ln = np.log(oc), np.log(1 - oc)
    y = -(t * lp + (1 - t) * ln)
    if not (nt or no):
        return y

    def vjp_p(dy):
        do = dy * ((1 - t) / (1 - oc) - t / oc) * ((o >= eps) & (o <= 1 - eps)) if no else None
        return (-dy * (lp - ln) if nt else None), do
    return record(y, vjp_p, target, output)


__all__ = ["binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"]
