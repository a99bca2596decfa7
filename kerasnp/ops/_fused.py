"""Fused ops for the built-in layers (dense + activation, activation nodes that remember their
logits, regularizer penalties): each records one tape node whose VJP is kerasnp's hand-written
backward code, so a built-in layer costs one node per call, not one per NumPy call.
"""
import numpy as np

from ..activations.base import ActivationFunction
from ._dispatch import is_tracked, op, record, value
from ..autodiff.tape import Tensor
from ..kernels.threads import num_threads, run_parallel, single_threaded_blas
from ..variables import Variable
from ._blas import column_sums

_LOGIT_ACTIVATIONS = ("softmax", "sigmoid")


def _activation_object(activation):
    if isinstance(activation, ActivationFunction):       # what layers hold: no lookup
        return activation
    from .. import activations
    return activations.get(activation)


def apply_activation(activation, z):
    """`activation(z)` as one node whose VJP is the activation's own `backward`.

    For softmax and sigmoid the output remembers `z` (`_keras_logits`), so a cross-entropy loss
    can take the fused, stable gradient `p - y` straight to the logits. A plain Python function
    (an activation written with ops) is simply called: the tape differentiates its ops.
    """
    act = _activation_object(activation)
    if getattr(act, "fn", None) is not None:             # a user function of ops
        return act.fn(z)
    if act.name == "linear":
        return z
    a = value(z)
    y = act.forward(a if a.dtype.kind == "f" else a.astype(np.result_type(a, np.float32)))
    x_saved = a if act.uses_input else None
    out = record(y, lambda dy: act.backward(dy, x_saved, y), z)
    if act.name in _LOGIT_ACTIVATIONS:
        axis = getattr(act, "axis", -1)
        mark_logits(out, act.name, z, -1 if axis in (-1, a.ndim - 1) else axis)
    return out


def mark_logits(out, name, z, axis=-1):
    """Let a cross-entropy over `axis` find the logits `z` behind the probabilities `out` (a
    softmax or sigmoid output) and take the stable gradient `p - t` straight to `z`."""
    if type(out) is Tensor:
        lg = Logits((name, z))
        lg.axis = axis
        out._keras_logits = lg
    return out


class Logits(tuple):
    """`(activation name, logits)` kept on a softmax/sigmoid output (`Tensor._keras_logits`),
    with the softmax axis (-1 for the last), so only a loss over that axis fuses."""

    axis = -1


def _plain_relu(act):
    """relu without max_value / negative_slope / threshold (fused in place in dense); the
    answer is kept on the activation object (its config never changes after construction)."""
    d = getattr(act, "__dict__", None)
    plain = d.get("_kerasnp_plain_relu") if d is not None else None
    if plain is None:
        plain = act.name == "relu" and not any(act.get_config().values())
        if d is not None:
            d["_kerasnp_plain_relu"] = plain
    return plain


# Multiply-adds per product from which a Dense VJP computes dW and dX side by side on two of
# kerasnp's threads (BLAS single-threaded) instead of one after the other: the reference CNN's
# Dense(128) after Flatten (64 x 1600 x 128, 13M each) inside a convolutional model, whose
# products run single-threaded anyway. Smaller products (an MLP's hidden layers) keep BLAS's
# own threads, where the hand-off would cost more than it saves.
PARALLEL_PRODUCTS_WORK = 1 << 23


def _weight_and_input_products(a2, dz, w):
    """`(Xᵀ·dZ, dZ·Wᵀ)`, the two computed on two threads when each is large enough."""
    if a2.size * dz.shape[1] < PARALLEL_PRODUCTS_WORK or num_threads() == 1:
        return a2.T @ dz, dz @ w.T
    with single_threaded_blas():
        return tuple(run_parallel([lambda: a2.T @ dz, lambda: dz @ w.T]))


@op
def dense(x, kernel, bias=None, activation=None):
    """`activation(x @ kernel + bias)` over the last axis of `x` (Dense's fused op).

    ReLU is fused into the same node (derivative read from the saved output); other activations
    add one activation node, so softmax/sigmoid can fuse with the loss.
    """
    act = activation if isinstance(activation, ActivationFunction) else \
        _activation_object(activation)
    # (value() inlined for the common types: this runs once per Dense call)
    a = x if type(x) is np.ndarray else value(x)
    w = kernel.value if type(kernel) is Variable else value(kernel)
    b = None if bias is None else (bias.value if type(bias) is Variable else value(bias))
    shape = a.shape
    a2 = a.reshape(-1, shape[-1])
    z = a2 @ w                                           # Z = X·W + b
    if b is not None:
        z += b
    relu = act.name == "relu" and _plain_relu(act)
    if relu:
        np.maximum(z, 0, out=z)                          # in place; relu's backward reads y
    out_shape = shape[:-1] + (w.shape[1],)
    need_dx = is_tracked(x)

    def vjp(dy):
        dz = dy.reshape(-1, w.shape[1])
        if relu:
            dz = dz * (z > 0)
        db = None if b is None else column_sums(np.ascontiguousarray(dz))   # db = Σₙ dZ
        if need_dx:                                      # dW = Xᵀ·dZ, dX = dZ·Wᵀ
            dw, dx = _weight_and_input_products(a2, dz, w)
            return dx.reshape(shape), dw, db
        return None, a2.T @ dz, db
    y = record(z.reshape(out_shape), vjp, x, kernel, bias) if b is not None else \
        record(z.reshape(out_shape), lambda dy: vjp(dy)[:2], x, kernel)
    if relu or act.name == "linear":
        return y
    return apply_activation(act, y)


def regularizer_penalty(regularizer, x):
    """`regularizer(x)` as a scalar node whose VJP is the regularizer's own `gradient`."""
    a = value(x)
    penalty = np.asarray(regularizer(a), dtype=a.dtype if a.dtype.kind == "f" else None)
    return record(penalty, lambda g: g * regularizer.gradient(a), x)
